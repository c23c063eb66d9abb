/*
 * fuzz_redirects: rules_redirects_parse() on any _redirects text, then the
 * rule it finds for a path and the target it writes.
 *
 * Invariants:
 * - a refused file says why with "line N:", N at most its number of lines;
 * - a target is printable ASCII without spaces (it can never end or split
 *   the Location line), at most the room it was given;
 * - a path target starts with '/' and never with "//" (it cannot leave the
 *   site for another host); a URL target starts with http:// or https://;
 * - a 200 or 404 target, read as a request path by resolve_path(), names
 *   nothing the publishing policy refuses: no dot segment, and not the
 *   rules files themselves.
 *
 * Input: the file's text, a NUL byte, then the request path (rewritten:
 * '/' is put in front) and, after a second NUL, its query.
 */
#include <string.h>

#include "fuzz.h"
#include "resolve.h"
#include "rules.h"

static unsigned
lines_of(const char *p, size_t len)
{
	unsigned n = 1;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static void
check_rewrite(const char *t, size_t n)
{
	char rel[RESOLVE_PATH_MAX];
	int dir_slash, r;

	for (size_t i = 0; i < n; i++)
		if (t[i] == '?' || t[i] == '#')
			n = i;
	r = resolve_path(t, n, rel, sizeof(rel), &dir_slash);
	if (r < 0)
		return;
	FUZZ_ASSERT(rel[0] != '.' || strncmp(rel, ".well-known", 11) == 0);
	FUZZ_ASSERT(strstr(rel, "/.") == NULL);
	FUZZ_ASSERT(strcmp(rel, "_headers") != 0 && strcmp(rel, "_redirects") != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t tlen = nul ? (size_t)(nul - data) : size;
	char *text = fuzz_dup(data, tlen), err[256], path[512], out[2048];
	const char *query = NULL;
	size_t plen = 1, qlen = 0;
	struct rules_redirects *r;
	const struct rules_redirect *rd;
	struct rules_match m;
	int n;

	r = rules_redirects_parse(text, tlen, err, sizeof(err));
	if (r == NULL) {
		unsigned line;
		FUZZ_ASSERT(sscanf(err, "line %u:", &line) == 1);
		FUZZ_ASSERT(line <= lines_of(text, tlen));
		free(text);
		return 0;
	}
	path[0] = '/';
	if (nul != NULL) {
		const uint8_t *p = nul + 1, *end = data + size, *q = memchr(p, 0, (size_t)(end - p));
		size_t len = (size_t)((q ? q : end) - p);
		if (len > sizeof(path) - 1)
			len = sizeof(path) - 1;
		memcpy(path + 1, p, len);
		plen += len;
		if (q != NULL) {
			query = (const char *)q + 1;
			qlen = (size_t)(end - q - 1);
		}
	}
	rd = rules_redirect_find(r, path, plen, &m);
	if (rd != NULL && (n = rules_target(rd, &m, query, qlen, out, sizeof(out))) >= 0) {
		FUZZ_ASSERT((size_t)n <= sizeof(out));
		for (int i = 0; i < n; i++)
			if (query == NULL || i < n - (int)qlen)	/* the query is the client's own */
				FUZZ_ASSERT(out[i] > 0x20 && out[i] < 0x7f);
		if (rd->external)
			FUZZ_ASSERT(strncasecmp(out, "http://", 7) == 0 ||
			    strncasecmp(out, "https://", 8) == 0);
		else {
			FUZZ_ASSERT(n > 0 && out[0] == '/');
			FUZZ_ASSERT(n == 1 || out[1] != '/');
		}
		if (rd->status == 200 || rd->status == 404) {
			FUZZ_ASSERT(!rd->external);
			check_rewrite(out, (size_t)n);
		}
	}
	rules_redirects_free(r);
	free(text);
	return 0;
}
