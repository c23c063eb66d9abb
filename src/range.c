/*
 * range: one byte range from a Range header value (RFC 9110 §14.1.1, §14.2).
 * See range.h. *first and *last are written only for RANGE_OK.
 *
 *   ranges-specifier = "bytes" "=" OWS range-spec OWS
 *   with empty list elements (OWS "," OWS) allowed around it, and
 *   range-spec       = first-pos "-" [ last-pos ] / "-" suffix-length
 */
#include "range.h"

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
	return (unsigned)c - '0' < 10;
}

/* Skips OWS and commas, the empty list elements of RFC 9110 §5.6.1. */
static const char *
skip_empty(const char *p, const char *end)
{
	while (p < end && (is_ows(*p) || *p == ','))
		p++;
	return p;
}

/* Parses 1*DIGIT, saturating at UINT64_MAX; returns NULL when there is no digit. */
static const char *
number(const char *p, const char *end, uint64_t *v)
{
	uint64_t n = 0;
	unsigned d;

	if (p == end || !is_digit(*p))
		return NULL;
	for (; p < end && is_digit(*p); p++) {
		d = (unsigned)(*p - '0');
		if (n > (UINT64_MAX - d) / 10)
			n = UINT64_MAX;
		else
			n = n * 10 + d;
	}
	*v = n;
	return p;
}

/* For two numbers that both saturated: compares the digit strings
 * [a, ae) and [b, be) by value, as strcmp does. */
static int
compare_digits(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae && *a == '0')
		a++;
	while (b < be && *b == '0')
		b++;
	if (ae - a != be - b)
		return ae - a < be - b ? -1 : 1;
	for (; a < ae; a++, b++)
		if (*a != *b)
			return *a < *b ? -1 : 1;
	return 0;
}

enum range_result
range_parse(const char *s, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
	const char *p = s, *end, *as, *bs;
	uint64_t a, b = UINT64_MAX;
	int suffix;

	if (s == NULL || len < 6 || (p[0] | 0x20) != 'b' || (p[1] | 0x20) != 'y' ||
	    (p[2] | 0x20) != 't' || (p[3] | 0x20) != 'e' ||
	    (p[4] | 0x20) != 's' || p[5] != '=')
		return RANGE_IGNORE;
	end = s + len;
	p = skip_empty(p + 6, end);

	if (p < end && *p == '-') {
		suffix = 1;
		if ((p = number(p + 1, end, &a)) == NULL)
			return RANGE_IGNORE;
	} else {
		suffix = 0;
		as = p;
		if ((p = number(p, end, &a)) == NULL || p == end || *p != '-')
			return RANGE_IGNORE;
		if (++p < end && is_digit(*p)) {
			bs = p;
			p = number(p, end, &b);
			/* last < first is invalid, not unsatisfiable */
			if (b < a || (b == UINT64_MAX && a == UINT64_MAX &&
			    compare_digits(bs, p, as, bs - 1) < 0))
				return RANGE_IGNORE;
		}
	}

	/* the rest may only be empty list elements: another range-spec,
	 * or anything else, makes the whole header ignored */
	while (p < end && is_ows(*p))
		p++;
	if (p < end && *p != ',')
		return RANGE_IGNORE;
	if (skip_empty(p, end) != end)
		return RANGE_IGNORE;

	if (suffix) {
		if (a == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = a >= size ? 0 : size - a;
		*last = size - 1;
		return RANGE_OK;
	}
	if (a >= size)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return RANGE_OK;
}
