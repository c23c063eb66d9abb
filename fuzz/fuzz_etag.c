/*
 * fuzz_etag: If-None-Match lists and If-Range values against tags made by
 * etag_format() from arbitrary file metadata.
 *
 * Invariants:
 * - a tag is '"', four lowercase hex numbers joined by '-', '"', shorter
 *   than ETAG_MAX, NUL-terminated;
 * - a tag matches itself weakly and strongly; "W/" + tag matches weakly
 *   only; "*" matches any tag in If-None-Match and none in If-Range;
 * - a list that matches weakly is "*" or contains the tag's text; a value
 *   that matches strongly is the tag itself (around whitespace);
 * - a matching list still matches with the tag appended, and a list that
 *   matches one tag matches another appended to it.
 */
#include <string.h>

#include "etag.h"
#include "fuzz.h"

static void
check_tag(const char *tag, size_t len)
{
	unsigned dashes = 0;

	FUZZ_ASSERT(len >= 9 && len < ETAG_MAX && tag[len] == '\0');
	FUZZ_ASSERT(tag[0] == '"' && tag[len - 1] == '"');
	for (size_t i = 1; i + 1 < len; i++) {
		FUZZ_ASSERT(strchr("0123456789abcdef-", tag[i]) != NULL);
		if (tag[i] == '-') {
			FUZZ_ASSERT(tag[i - 1] != '-' && tag[i - 1] != '"' && tag[i + 1] != '"');
			dashes++;
		}
	}
	FUZZ_ASSERT(dashes == 3);
}

/* s[0..len) + sep + t, in a fresh block. */
static char *
cat(const char *s, size_t len, const char *sep, const char *t, size_t *outlen)
{
	size_t a = strlen(sep), b = strlen(t);
	char *p = malloc(len + a + b + 1);

	if (p == NULL)
		abort();
	memcpy(p, s, len);
	memcpy(p + len, sep, a);
	memcpy(p + len + a, t, b);
	*outlen = len + a + b;
	return p;
}

static int
only_ows(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t')
			return 0;
	return 1;
}

/* "*" (around whitespace): the whole value, not a list element. */
static int
is_star(const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end - p == 1 && *p == '*';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stat st;
	char tag[ETAG_MAX], other[ETAG_MAX], weak[ETAG_MAX + 2];
	size_t taglen, otherlen, len, n;
	uint64_t v[4];
	char *s, *t;
	int m;

	if (size < sizeof(v))
		return 0;
	memcpy(v, data, sizeof(v));
	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)v[0];
	st.st_mtim.tv_sec = (time_t)v[1];
	st.st_mtim.tv_nsec = (long)(v[2] % 1000000000);
	st.st_ino = (ino_t)v[3];
	taglen = etag_format(&st, tag);
	check_tag(tag, taglen);
	st.st_ino ^= 1;
	otherlen = etag_format(&st, other);
	FUZZ_ASSERT(otherlen != taglen || memcmp(tag, other, taglen) != 0);

	FUZZ_ASSERT(etag_list_match_weak(tag, taglen, tag, taglen) == 1);
	FUZZ_ASSERT(etag_match_strong(tag, taglen, tag, taglen) == 1);
	snprintf(weak, sizeof(weak), "W/%s", tag);
	FUZZ_ASSERT(etag_list_match_weak(weak, taglen + 2, tag, taglen) == 1);
	FUZZ_ASSERT(etag_match_strong(weak, taglen + 2, tag, taglen) == 0);
	FUZZ_ASSERT(etag_list_match_weak(" * ", 3, tag, taglen) == 1);
	FUZZ_ASSERT(etag_match_strong("*", 1, tag, taglen) == 0);
	FUZZ_ASSERT(etag_list_match_weak(NULL, 0, tag, taglen) == 0);
	FUZZ_ASSERT(etag_match_strong(NULL, 0, tag, taglen) == 0);

	len = size - sizeof(v);
	s = fuzz_dup(data + sizeof(v), len);
	m = etag_list_match_weak(s, len, tag, taglen);
	FUZZ_ASSERT(m == 0 || m == 1);
	if (m && !is_star(s, len)) {
		FUZZ_ASSERT(memmem(s, len, tag + 1, taglen - 2) != NULL);
		t = cat(s, len, ", ", tag, &n);
		FUZZ_ASSERT(etag_list_match_weak(t, n, tag, taglen) == 1);
		free(t);
	}
	if (etag_list_match_weak(s, len, other, otherlen) == 1 && !is_star(s, len)) {
		t = cat(s, len, ",", tag, &n);
		FUZZ_ASSERT(etag_list_match_weak(t, n, tag, taglen) == 1);
		free(t);
	}
	m = etag_match_strong(s, len, tag, taglen);
	FUZZ_ASSERT(m == 0 || m == 1);
	if (m) {
		const char *at = memmem(s, len, tag, taglen);
		FUZZ_ASSERT(at != NULL && only_ows(s, at) && only_ows(at + taglen, s + len));
	}
	free(s);
	return 0;
}
