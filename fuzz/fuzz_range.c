/*
 * fuzz_range: range_parse() against a second, deliberately plain reading
 * of the same grammar (RFC 9110 §14.1.1), for any Range value and any
 * representation size.
 *
 * Invariants:
 * - RANGE_OK implies first <= last < size: every accepted range lies
 *   inside the file, and last - first + 1 cannot overflow;
 * - the answer and the range equal the reference's, which splits the
 *   value on commas and compares numbers as digit strings (so numbers of
 *   any length are exact, with no arithmetic to overflow).
 *
 * Input: one mode byte, then 8 bytes of size (mode bit 0 set) or 1 byte of
 * size (small sizes, where off-by-one errors show), then the value.
 */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "range.h"

/* A decimal number as its digit string without leading zeros. */
struct num {
	const char *p;
	size_t len;
};

static int
digits_only(const char *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

static struct num
num_of(const char *p, size_t n)
{
	struct num v;

	while (n > 0 && *p == '0') {
		p++;
		n--;
	}
	v.p = p;
	v.len = n;
	return v;
}

static int
num_cmp(struct num a, struct num b)
{
	int c;

	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	c = memcmp(a.p, b.p, a.len);
	return c < 0 ? -1 : c > 0;
}

/* The decimal string of v, for comparing it with a num. */
static struct num
num_u64(uint64_t v, char *buf)
{
	char *p = buf + 20;
	size_t n = 0;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
		n++;
	} while (v != 0);
	return num_of(p, n);
}

/* v as a uint64_t; the caller knows it is smaller than some uint64_t. */
static uint64_t
num_value(struct num v)
{
	uint64_t x = 0;

	for (size_t i = 0; i < v.len; i++)
		x = x * 10 + (uint64_t)(v.p[i] - '0');
	return x;
}

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

static enum range_result
reference(const char *s, size_t len, uint64_t size, uint64_t *first, uint64_t *last)
{
	char sizebuf[20];
	struct num sz = num_u64(size, sizebuf), a, b;
	const char *elem = NULL, *p, *end = s + len, *dash;
	size_t elen = 0, nonempty = 0;

	if (len < 6 || strncasecmp(s, "bytes", 5) != 0 || s[5] != '=')
		return RANGE_IGNORE;
	for (p = s + 6; p <= end;) {
		const char *e = memchr(p, ',', (size_t)(end - p)), *t;
		if (e == NULL)
			e = end;
		t = e;
		while (p < t && ows(*p))
			p++;
		while (t > p && ows(t[-1]))
			t--;
		if (t > p) {
			nonempty++;
			elem = p;
			elen = (size_t)(t - p);
		}
		p = e + 1;
	}
	if (nonempty != 1)
		return RANGE_IGNORE;

	if (elem[0] == '-') {	/* suffix-length */
		if (!digits_only(elem + 1, elen - 1))
			return RANGE_IGNORE;
		a = num_of(elem + 1, elen - 1);
		if (a.len == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*first = num_cmp(a, sz) >= 0 ? 0 : size - num_value(a);
		*last = size - 1;
		return RANGE_OK;
	}
	dash = memchr(elem, '-', elen);
	if (dash == NULL || !digits_only(elem, (size_t)(dash - elem)))
		return RANGE_IGNORE;
	a = num_of(elem, (size_t)(dash - elem));
	if (dash + 1 < elem + elen) {
		if (!digits_only(dash + 1, (size_t)(elem + elen - dash - 1)))
			return RANGE_IGNORE;
		b = num_of(dash + 1, (size_t)(elem + elen - dash - 1));
		if (num_cmp(b, a) < 0)
			return RANGE_IGNORE;	/* last < first: invalid */
	} else
		b = sz;	/* to the end */
	if (num_cmp(a, sz) >= 0)
		return RANGE_UNSATISFIABLE;
	*first = num_value(a);
	*last = num_cmp(b, sz) >= 0 ? size - 1 : num_value(b);
	return RANGE_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t fsize = 0, first = 7, last = 5, rfirst = 9, rlast = 3;
	size_t skip;
	enum range_result r, ref;
	char *s;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		if (size < 9)
			return 0;
		memcpy(&fsize, data + 1, 8);
		skip = 9;
	} else {
		fsize = data[1];
		skip = 2;
	}
	s = fuzz_dup(data + skip, size - skip);
	r = range_parse(s, size - skip, fsize, &first, &last);
	ref = reference(s, size - skip, fsize, &rfirst, &rlast);
	FUZZ_ASSERT(r == RANGE_IGNORE || r == RANGE_OK || r == RANGE_UNSATISFIABLE);
	if (r == RANGE_OK) {
		FUZZ_ASSERT(first <= last && last < fsize);
		FUZZ_ASSERT(last - first + 1 >= 1);
	}
	FUZZ_ASSERT(r == ref);
	if (r == RANGE_OK)
		FUZZ_ASSERT(first == rfirst && last == rlast);
	free(s);
	return 0;
}
