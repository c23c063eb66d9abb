/*
 * fuzz_resolve_path: resolve_path() on arbitrary request paths.
 *
 * Invariants, for every answer that is not -400, -404 or -414:
 * - the output is NUL-terminated at the returned length and holds no NUL,
 *   no backslash, no leading or trailing '/', no empty segment ("//");
 * - no segment starts with '.', except a leading ".well-known": ".", "..",
 *   dot-files and dot-directories cannot be named however they are encoded;
 * - it is no longer than the input (decoding never grows) and fits in size;
 * - the same path with a smaller output buffer gives the same output or
 *   -414, never a truncated path;
 * - it is a fixed point: the output, percent-encoded back into a path,
 *   resolves to itself;
 * - dir_slash says whether the input ended in '/'; mime_type() answers.
 */
#include <string.h>

#include "fuzz.h"
#include "mime.h"
#include "resolve.h"

static void
check_output(const char *out, int n, size_t size, size_t inlen)
{
	size_t len = (size_t)n, seg = 0;

	FUZZ_ASSERT(len < size && len <= inlen);
	FUZZ_ASSERT(out[len] == '\0' && strlen(out) == len);
	FUZZ_ASSERT(memchr(out, '\\', len) == NULL);
	if (len == 0)
		return;
	FUZZ_ASSERT(out[0] != '/' && out[len - 1] != '/');
	FUZZ_ASSERT(strstr(out, "//") == NULL);
	for (size_t i = 0; i <= len; i++) {
		if (i < len && out[i] != '/')
			continue;
		/* segment out[seg..i) */
		FUZZ_ASSERT(i > seg);
		if (out[seg] == '.')
			FUZZ_ASSERT(seg == 0 && i - seg == 11 &&
			    memcmp(out, ".well-known", 11) == 0);
		seg = i + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_dup(data, size);
	char *out = malloc(RESOLVE_PATH_MAX), *again, *small, *enc;
	size_t smallsize = 1 + size % 48, e = 0;
	int n, m, dir_slash, ds;

	if (out == NULL)
		abort();
	n = resolve_path(path, size, out, RESOLVE_PATH_MAX, &dir_slash);
	FUZZ_ASSERT(dir_slash == (size > 0 && path[size - 1] == '/'));
	if (n < 0) {
		FUZZ_ASSERT(n == -400 || n == -404 || n == -414);
		free(out);
		free(path);
		return 0;
	}
	check_output(out, n, RESOLVE_PATH_MAX, size);
	FUZZ_ASSERT(mime_type(out, (size_t)n) != NULL);

	/* a smaller buffer: the same answer or -414, never a cut path */
	if ((small = malloc(smallsize)) == NULL)
		abort();
	m = resolve_path(path, size, small, smallsize, &ds);
	if (m >= 0)
		FUZZ_ASSERT(m == n && memcmp(small, out, (size_t)n + 1) == 0);
	else
		FUZZ_ASSERT(m == -414 && (size_t)n + 1 >= smallsize);
	free(small);

	/* a fixed point: "/" + out with '%' encoded resolves to out */
	if ((enc = malloc(1 + 3 * (size_t)n)) == NULL || (again = malloc(RESOLVE_PATH_MAX)) == NULL)
		abort();
	enc[e++] = '/';
	for (int i = 0; i < n; i++) {
		if (out[i] == '%') {
			memcpy(enc + e, "%25", 3);
			e += 3;
		} else
			enc[e++] = out[i];
	}
	m = resolve_path(enc, e, again, RESOLVE_PATH_MAX, &ds);
	FUZZ_ASSERT(m == n && memcmp(again, out, (size_t)n + 1) == 0);
	free(again);
	free(enc);
	free(out);
	free(path);
	return 0;
}
