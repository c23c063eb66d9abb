/*
 * fuzz_resolve_host: resolve_host() on arbitrary Host values; its answer
 * becomes a directory name under the root with --vhosts.
 *
 * Invariants, for every answer that is not -400:
 * - the output is NUL-terminated at the returned length, at most VHOST_MAX
 *   bytes (plus brackets), and fits in the buffer;
 * - it is VHOST_DEFAULT for an absent or empty Host, else either a
 *   lowercase DNS name (letters, digits, '-', '.'; no empty label, no label
 *   starting or ending with '-') or a bracketed lowercase IPv6 literal;
 * - so it is never "", ".", "..", and holds no '/', '\\' or NUL;
 * - it is a fixed point: resolving a name again gives the name;
 * - the same value with a smaller buffer gives the same output or -400.
 */
#include <string.h>

#include "fuzz.h"
#include "resolve.h"

#define OUT_SIZE (VHOST_MAX + 2)

static void
check_name(const char *out, size_t len)
{
	FUZZ_ASSERT(len > 0 && out[len] == '\0' && strlen(out) == len);
	FUZZ_ASSERT(strcmp(out, ".") != 0 && strcmp(out, "..") != 0);
	FUZZ_ASSERT(strpbrk(out, "/\\") == NULL);
	if (out[0] == '[') {
		FUZZ_ASSERT(len >= 3 && out[len - 1] == ']');
		for (size_t i = 1; i + 1 < len; i++)
			FUZZ_ASSERT(strchr("0123456789abcdef:.", out[i]) != NULL);
		return;
	}
	if (strcmp(out, VHOST_DEFAULT) == 0)
		return;
	FUZZ_ASSERT(len <= VHOST_MAX);
	FUZZ_ASSERT(out[0] != '.' && out[0] != '-' && out[len - 1] != '.' && out[len - 1] != '-');
	for (size_t i = 0; i < len; i++) {
		FUZZ_ASSERT(strchr("abcdefghijklmnopqrstuvwxyz0123456789-.", out[i]) != NULL);
		if (out[i] == '.')
			FUZZ_ASSERT(out[i - 1] != '.' && out[i - 1] != '-' && out[i + 1] != '-');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *h = fuzz_dup(data, size), *out = malloc(OUT_SIZE), *again = malloc(OUT_SIZE);
	size_t smallsize = 1 + size % 16;
	char *small = malloc(smallsize);
	struct slice host = { size > 0 ? h : NULL, size };
	int n, m;

	if (out == NULL || again == NULL || small == NULL)
		abort();
	n = resolve_host(host, out, OUT_SIZE);
	if (n < 0)
		FUZZ_ASSERT(n == -400);
	else {
		check_name(out, (size_t)n);
		FUZZ_ASSERT(size > 0 || strcmp(out, VHOST_DEFAULT) == 0);
		if (strcmp(out, VHOST_DEFAULT) != 0) {	/* "_" is no DNS character */
			host.p = out;
			host.len = (size_t)n;
			m = resolve_host(host, again, OUT_SIZE);
			FUZZ_ASSERT(m == n && memcmp(again, out, (size_t)n + 1) == 0);
		}
		host.p = size > 0 ? h : NULL;
		host.len = size;
		m = resolve_host(host, small, smallsize);
		FUZZ_ASSERT(m == -400 || (m == n && memcmp(small, out, (size_t)n + 1) == 0));
	}
	free(small);
	free(again);
	free(out);
	free(h);
	return 0;
}
