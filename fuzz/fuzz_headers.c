/*
 * fuzz_headers: rules_headers_parse() on any _headers text, then the
 * header lines it writes for a path.
 *
 * Invariants:
 * - a refused file says why with "line N:", N at most its number of lines;
 *   every warning has a line number within the file too;
 * - what is written is whole "Name: value\r\n" lines: the name a token,
 *   the value without CR, LF or other control bytes but HTAB, so no rule
 *   can add a line of its own or end the head;
 * - no header hermit owns (Content-Length, Date, ETag...) is ever written;
 * - ":name" and ":splat" in values take the path's bytes, percent-encoded:
 *   the same holds for them, and also when the room is short (a value that
 *   does not fit is left out: what is written is still whole lines).
 *
 * Input: the file's text, a NUL byte, then the path ('/' is put in front).
 */
#include <string.h>

#include "fuzz.h"
#include "rules.h"

static unsigned nlines;

static void
warned(void *arg, unsigned line, const char *why)
{
	(void)arg;
	(void)why;
	FUZZ_ASSERT(line >= 1 && line <= nlines);
}

static void
check_lines(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *colon = memchr(p + i, ':', n - i), *crlf;
		FUZZ_ASSERT(colon != NULL && colon > p + i);
		FUZZ_ASSERT(!rules_header_owned(p + i, (size_t)(colon - p - i)));
		for (const char *c = p + i; c < colon; c++)
			FUZZ_ASSERT(*c > 0x20 && *c < 0x7f);
		FUZZ_ASSERT(colon + 1 < p + n && colon[1] == ' ');
		crlf = memchr(colon, '\r', (size_t)(p + n - colon));
		FUZZ_ASSERT(crlf != NULL && crlf + 1 < p + n && crlf[1] == '\n');
		for (const char *c = colon + 2; c < crlf; c++)
			FUZZ_ASSERT((unsigned char)*c >= 0x20 || *c == '\t');
		i = (size_t)(crlf + 2 - p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size, plen = 1;
	char *text = fuzz_dup(data, tlen), err[256], path[512], out[4096];
	struct rules_headers *h;
	int n;

	nlines = 1;
	for (size_t i = 0; i < tlen; i++)
		nlines += text[i] == '\n';
	h = rules_headers_parse(text, tlen, err, sizeof(err), warned, NULL);
	if (h == NULL) {
		unsigned line;
		FUZZ_ASSERT(sscanf(err, "line %u:", &line) == 1 && line <= nlines);
		free(text);
		return 0;
	}
	path[0] = '/';
	if (nul != NULL) {
		size_t len = size - tlen - 1;
		if (len > sizeof(path) - 1)
			len = sizeof(path) - 1;
		memcpy(path + 1, nul + 1, len);
		plen += len;
	}
	n = rules_headers_write(h, path, plen, out, sizeof(out));
	if (n > 0)
		check_lines(out, (size_t)n);
	if (n > 0) {	/* less room, as a fuller head leaves */
		size_t room = (size_t)n - 1 - (size_t)n * (plen % 7) / 8;
		int m = rules_headers_write(h, path, plen, out, room);
		FUZZ_ASSERT(m <= (int)room);
		if (m > 0)
			check_lines(out, (size_t)m);
	}
	rules_headers_free(h);
	free(text);
	return 0;
}
