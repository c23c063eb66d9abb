/*
 * fuzz_rules_match: rules_pattern_match() on any pattern and path.
 *
 * Invariants, when it matches:
 * - every capture and the splat lie inside the path; a placeholder's value
 *   is a non-empty run without '/';
 * - putting the captures and the splat back into the pattern gives the
 *   path again (or the path and a trailing '/', for "/a/ *" matching "/a"):
 *   nothing is matched that the pattern does not say.
 *
 * Input: the pattern, a NUL byte, then the path.
 */
#include <string.h>

#include "fuzz.h"
#include "rules.h"

static int
name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

static int
inside(const char *p, size_t len, const char *path, size_t plen)
{
	return len == 0 || (p >= path && p + len <= path + plen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t patlen, len, o = 0;
	char *pat, *path, *re;
	struct rules_match m;
	unsigned k = 0;

	if (nul == NULL)
		return 0;
	patlen = (size_t)(nul - data);
	len = size - patlen - 1;
	pat = fuzz_dup(data, patlen);
	path = fuzz_dup(nul + 1, len);
	if (!rules_pattern_match(pat, patlen, path, len, &m))
		goto done;
	FUZZ_ASSERT(m.n <= RULES_PLACEHOLDERS_MAX);
	FUZZ_ASSERT(m.splat == NULL || inside(m.splat, m.splat_len, path, len));
	for (unsigned i = 0; i < m.n; i++) {
		FUZZ_ASSERT(m.cap[i].value_len > 0 && inside(m.cap[i].value, m.cap[i].value_len,
		    path, len));
		FUZZ_ASSERT(memchr(m.cap[i].value, '/', m.cap[i].value_len) == NULL);
	}
	re = malloc(patlen + len + 2);
	for (size_t i = 0; i < patlen; i++) {
		if (pat[i] == '*') {
			memcpy(re + o, m.splat, m.splat_len);
			o += m.splat_len;
			memcpy(re + o, pat + i + 1, patlen - i - 1);
			o += patlen - i - 1;
			break;
		}
		if (pat[i] == ':' && i > 0 && pat[i - 1] == '/' && i + 1 < patlen &&
		    name_char(pat[i + 1], 1)) {
			FUZZ_ASSERT(k < m.n);
			memcpy(re + o, m.cap[k].value, m.cap[k].value_len);
			o += m.cap[k++].value_len;
			while (i + 1 < patlen && pat[i + 1] != '/')
				i++;
			continue;
		}
		re[o++] = pat[i];
	}
	FUZZ_ASSERT(k == m.n);
	FUZZ_ASSERT((o == len && memcmp(re, path, len) == 0) ||
	    (m.splat_len == 0 && o == len + 1 && re[len] == '/' && memcmp(re, path, len) == 0));
	free(re);
done:
	free(pat);
	free(path);
	return 0;
}
