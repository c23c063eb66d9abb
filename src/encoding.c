/*
 * encoding: Accept-Encoding (RFC 9110 §12.5.3) to a set of codings hermit
 * can serve precompressed. See encoding.h.
 *
 *   Accept-Encoding = #( codings [ weight ] )
 *   codings         = content-coding / "identity" / "*"
 *   weight          = OWS ";" OWS "q=" qvalue
 *   qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 *
 * An element with any other syntax (another parameter, a bad qvalue) is
 * dropped alone. A coding listed twice counts with its first weight; an
 * explicit entry, even with q=0, overrides "*".
 */
#include <string.h>

#include "encoding.h"

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 §5.6.2 tchar. Setting bit 0x20 maps only letters onto 'a'-'z'. */
static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
lower_is(const char *s, size_t n, const char *lower)
{
	size_t i;

	if (n != strlen(lower))
		return 0;
	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != lower[i])
			return 0;
	return 1;
}

/* qvalue s[0..n) in thousandths, or -1 when it is not a qvalue. */
static int
qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = s[0] == '1' ? 1000 : 0;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++, scale /= 10) {
		if ((unsigned)s[i] - '0' > 9 || (q == 1000 && s[i] != '0'))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q;
}

/* One element s[0..n) (OWS already trimmed): the coding and its weight in
 * thousandths, or -1 for bad syntax. */
static int
element(const char *s, size_t n, const char **coding, size_t *codinglen)
{
	size_t i = 0, j;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == 0)
		return -1;
	*coding = s;
	*codinglen = i;
	while (i < n && is_ows(s[i]))
		i++;
	if (i == n)
		return 1000;
	if (s[i++] != ';')
		return -1;
	while (i < n && is_ows(s[i]))
		i++;
	if (n - i < 2 || (s[i] | 0x20) != 'q' || s[i + 1] != '=')
		return -1;
	i += 2;
	for (j = i; j < n && !is_ows(s[j]); j++)
		;
	if (j != n)
		return -1;
	return qvalue(s + i, n - i);
}

#define NCODINGS 4	/* br, zstd, gzip, "*" */

unsigned
encoding_accepted(const char *s, size_t len)
{
	static const unsigned bit[NCODINGS - 1] = {
		ENCODING_BR, ENCODING_ZSTD, ENCODING_GZIP
	};
	const char *end, *e, *t, *coding;
	size_t codinglen;
	int q[NCODINGS] = { -1, -1, -1, -1 };	/* -1: not listed */
	int w, c;
	unsigned accepted = 0;

	if (s == NULL)
		return 0;	/* no header */
	end = s + len;
	while (s < end) {
		for (e = s; e < end && *e != ','; e++)
			;
		t = e;
		while (s < t && is_ows(*s))
			s++;
		while (t > s && is_ows(t[-1]))
			t--;
		if (s < t && (w = element(s, (size_t)(t - s), &coding, &codinglen)) >= 0) {
			if (lower_is(coding, codinglen, "br"))
				c = 0;
			else if (lower_is(coding, codinglen, "zstd"))
				c = 1;
			else if (lower_is(coding, codinglen, "gzip") ||
			    lower_is(coding, codinglen, "x-gzip"))
				c = 2;
			else if (codinglen == 1 && coding[0] == '*')
				c = 3;
			else
				c = -1;
			if (c >= 0 && q[c] < 0)
				q[c] = w;
		}
		if (e == end)
			break;
		s = e + 1;
	}

	for (c = 0; c < NCODINGS - 1; c++)
		if (q[c] > 0 || (q[c] < 0 && q[NCODINGS - 1] > 0))
			accepted |= bit[c];
	return accepted;
}
