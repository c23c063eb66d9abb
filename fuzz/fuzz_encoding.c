/*
 * fuzz_encoding: encoding_accepted() on arbitrary Accept-Encoding values.
 *
 * Invariants:
 * - the answer is a subset of ENCODING_BR | ENCODING_ZSTD | ENCODING_GZIP;
 * - empty list elements change nothing: the value with ", " before it or
 *   "," after it gives the same answer;
 * - a coding the value never names, and that "*" cannot name either (no
 *   '*' in the value), is never accepted;
 * - appending an element for a coding already listed changes nothing
 *   (the first weight counts); for one not listed, ";q=0" refuses it even
 *   under "*", and a plain entry accepts it; "identity" changes nothing.
 */
#include <string.h>
#include <strings.h>

#include "encoding.h"
#include "fuzz.h"

#define ALL (ENCODING_BR | ENCODING_ZSTD | ENCODING_GZIP)

static unsigned
with(const char *pre, const char *s, size_t len, const char *post)
{
	size_t a = strlen(pre), b = strlen(post);
	char *buf = malloc(a + len + b + 1);
	unsigned r;

	if (buf == NULL)
		abort();
	memcpy(buf, pre, a);
	memcpy(buf + a, s, len);
	memcpy(buf + a + len, post, b);
	r = encoding_accepted(buf, a + len + b);
	free(buf);
	return r;
}

/* Whether s[0..len) contains name, case-insensitively. */
static int
names(const char *s, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(s + i, name, n) == 0)
			return 1;
	return 0;
}

/* Appending ",name;q=0" and ",name" for a coding (bit) either changes
 * nothing (the coding was listed: its first weight counts) or refuses,
 * then accepts it (it was not: an explicit entry overrides "*"). The
 * other codings never change. */
static void
check_listed(const char *s, size_t len, unsigned r, const char *name, unsigned bit)
{
	char zero[16], plain[16];
	unsigned r0, r1;

	snprintf(zero, sizeof(zero), ",%s;q=0", name);
	snprintf(plain, sizeof(plain), ",%s", name);
	r0 = with("", s, len, zero);
	r1 = with("", s, len, plain);
	FUZZ_ASSERT((r0 & ~bit) == (r & ~bit) && (r1 & ~bit) == (r & ~bit));
	FUZZ_ASSERT(((r0 & bit) == (r & bit) && (r1 & bit) == (r & bit)) ||
	    (!(r0 & bit) && (r1 & bit)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size);
	unsigned r = encoding_accepted(s, size);

	FUZZ_ASSERT((r & ~(unsigned)ALL) == 0);
	FUZZ_ASSERT(encoding_accepted(NULL, 0) == 0);
	FUZZ_ASSERT(with(", ", s, size, "") == r);
	FUZZ_ASSERT(with("", s, size, ",") == r);
	FUZZ_ASSERT(with("", s, size, ", identity") == r);
	if (memchr(s, '*', size) == NULL) {
		if (!names(s, size, "br"))
			FUZZ_ASSERT(!(r & ENCODING_BR));
		if (!names(s, size, "zstd"))
			FUZZ_ASSERT(!(r & ENCODING_ZSTD));
		if (!names(s, size, "gzip"))
			FUZZ_ASSERT(!(r & ENCODING_GZIP));
	}
	check_listed(s, size, r, "br", ENCODING_BR);
	check_listed(s, size, r, "ZSTD", ENCODING_ZSTD);
	check_listed(s, size, r, "gzip", ENCODING_GZIP);
	check_listed(s, size, r, "x-gzip", ENCODING_GZIP);
	free(s);
	return 0;
}
