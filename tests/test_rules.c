/*
 * Unit tests for _headers and _redirects (src/rules.c): the pattern
 * matcher, both parsers (every error with its line number, the limits),
 * the order of redirects, targets, and how header rules combine.
 */
#include <stdio.h>
#include <stdlib.h>

#include "limits.h"
#include "rules.h"
#include "unit.h"

static char err[256];

static struct rules_redirects *
redirects(const char *text)
{
	err[0] = '\0';
	return rules_redirects_parse(text, strlen(text), err, sizeof(err));
}

static unsigned warnings, warn_line;

static void
count_warn(void *arg, unsigned line, const char *why)
{
	(void)arg;
	(void)why;
	warnings++;
	warn_line = line;
}

static struct rules_headers *
headers(const char *text)
{
	err[0] = '\0';
	warnings = warn_line = 0;
	return rules_headers_parse(text, strlen(text), err, sizeof(err), count_warn, NULL);
}

/* The parse fails, and its error starts with "line N:". */
static int
fails_at(void *parsed, unsigned line)
{
	char want[32];

	snprintf(want, sizeof(want), "line %u:", line);
	if (parsed != NULL)
		return 0;
	return strncmp(err, want, strlen(want)) == 0;
}

static int
matches(const char *pat, const char *path, struct rules_match *m)
{
	return rules_pattern_match(pat, strlen(pat), path, strlen(path), m);
}

static void
test_pattern_literal(void)
{
	struct rules_match m;

	CHECK(matches("/a/b", "/a/b", &m));
	CHECK(!matches("/a/b", "/a/bc", &m));
	CHECK(!matches("/a/b", "/a", &m));
	CHECK(matches("/", "/", &m));
	CHECK(!matches("/", "/x", &m));
}

static void
test_pattern_splat(void)
{
	struct rules_match m;

	CHECK(matches("/news/*", "/news/a/b", &m) && m.splat_len == 3 &&
	    memcmp(m.splat, "a/b", 3) == 0);
	CHECK(matches("/news/*", "/news", &m) && m.splat_len == 0);	/* "/a/ *" matches "/a" */
	CHECK(!matches("/news/*", "/newsy", &m));
	CHECK(matches("/*", "/", &m) && m.splat_len == 0);
	CHECK(matches("/*.jpg", "/x/y.jpg", &m) && m.splat_len == 3);
	CHECK(!matches("/*.jpg", "/x/y.png", &m));
	CHECK(matches("/a*bc", "/abc", &m) && m.splat_len == 0);
	CHECK(!matches("/ab*bc", "/abc", &m));	/* the suffix may not overlap the prefix */
}

static void
test_pattern_placeholders(void)
{
	struct rules_match m;

	CHECK(matches("/blog/:year/:slug", "/blog/2024/hello", &m) && m.n == 2 &&
	    m.cap[0].value_len == 4 && memcmp(m.cap[0].value, "2024", 4) == 0 &&
	    m.cap[1].name_len == 4 && memcmp(m.cap[1].name, "slug", 4) == 0);
	CHECK(!matches("/blog/:year", "/blog/", &m));
	CHECK(!matches("/blog/:year", "/blog/2024/x", &m));
	CHECK(matches("/u/:id/*", "/u/7/a/b", &m) && m.n == 1 && m.splat_len == 3);
}

static void
test_redirects_parse(void)
{
	struct rules_redirects *r = redirects(
	    "# comment\n"
	    "\n"
	    "/a /b\n"
	    "  /c   /d   302  \r\n"
	    "/e https://example.com/e 308!\n"
	    "/f/* /g/:splat 200\n");
	struct rules_match m;
	const struct rules_redirect *rd;

	CHECK(r != NULL && rules_redirects_count(r) == 4);
	rd = rules_redirect_find(r, "/a", 2, &m);
	CHECK(rd != NULL && rd->status == RULES_STATUS_DEFAULT && !rd->force && rd->line == 3);
	rd = rules_redirect_find(r, "/c", 2, &m);
	CHECK(rd != NULL && rd->status == 302 && rd->line == 4);
	rd = rules_redirect_find(r, "/e", 2, &m);
	CHECK(rd != NULL && rd->status == 308 && rd->force && rd->external);
	rd = rules_redirect_find(r, "/f/x", 4, &m);
	CHECK(rd != NULL && rd->status == 200 && m.splat_len == 1);
	CHECK(rules_redirect_find(r, "/z", 2, &m) == NULL);
	rules_redirects_free(r);
}

static void
test_redirect_statuses(void)
{
	static const char *const ok[] = { "200", "301", "302", "303", "307", "308", "404",
	    "301!", "200!" };
	static const char *const bad[] = { "300", "304", "410", "500", "2000", "30", "!", "abc" };
	char text[64];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct rules_redirects *r;
		snprintf(text, sizeof(text), "/a /b %s\n", ok[i]);
		r = redirects(text);
		CHECK(r != NULL);
		rules_redirects_free(r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "\n/a /b %s\n", bad[i]);
		CHECK(fails_at(redirects(text), 2));
	}
}

static void
test_redirect_errors(void)
{
	CHECK(fails_at(redirects("/a\n"), 1));
	CHECK(fails_at(redirects("/a /b\nb /c\n"), 2));			/* source not a path */
	CHECK(fails_at(redirects("/a /b\n/x //evil\n"), 2));		/* protocol-relative */
	CHECK(fails_at(redirects("/x /a\\b\n"), 1));			/* backslash */
	CHECK(fails_at(redirects("\n\n/x https://a/ 200\n"), 3));	/* URL rewrite */
	CHECK(fails_at(redirects("/x https://a/ 404\n"), 1));
	CHECK(fails_at(redirects("/x https:// 301\n"), 1));		/* no host */
	CHECK(fails_at(redirects("/x relative 301\n"), 1));
	CHECK(fails_at(redirects("/store id=:id /blog/:id 301\n"), 1));	/* query condition */
	CHECK(fails_at(redirects("/ /anz 302 Country=au\n"), 1));
	CHECK(fails_at(redirects("/a /b 301 x y\n"), 1));
	CHECK(fails_at(redirects("https://x.com/* /b 301\n"), 1));	/* domain-level */
	CHECK(fails_at(redirects("/a/*/* /b\n"), 1));			/* two splats */
	CHECK(fails_at(redirects("/a/*/:x /b\n"), 1));			/* placeholder after splat */
	CHECK(fails_at(redirects("/a/:x-y /b\n"), 1));			/* placeholder not a segment */
	CHECK(fails_at(redirects("/a?x=1 /b\n"), 1));
	CHECK(fails_at(redirects("/a\x01 /b\n"), 1));
	CHECK(fails_at(redirects("/a /b\xc3\xa9\n"), 1));
}

static void
test_redirect_line_length(void)
{
	char *text = malloc(RULES_REDIRECT_LINE_MAX + 16);

	memset(text, 'a', RULES_REDIRECT_LINE_MAX + 10);
	memcpy(text, "#\n/a /", 6);
	text[RULES_REDIRECT_LINE_MAX + 2] = '\n';	/* line 2: exactly the limit */
	text[RULES_REDIRECT_LINE_MAX + 3] = '\0';
	{
		struct rules_redirects *r = redirects(text);
		CHECK(r != NULL);
		rules_redirects_free(r);
	}
	text[RULES_REDIRECT_LINE_MAX + 2] = 'a';
	text[RULES_REDIRECT_LINE_MAX + 3] = '\n';
	text[RULES_REDIRECT_LINE_MAX + 4] = '\0';
	CHECK(fails_at(redirects(text), 2));
	free(text);
}

/* n static rules then m dynamic ones; the error (if any) on the last line. */
static struct rules_redirects *
many(unsigned n, unsigned m)
{
	size_t size = (size_t)(n + m) * 40 + 1, len = 0;
	char *text = malloc(size);
	struct rules_redirects *r;

	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, size - len, "/s%u /t%u\n", i, i);
	for (unsigned i = 0; i < m; i++)
		len += (size_t)snprintf(text + len, size - len, "/d%u/* /t/:splat\n", i);
	r = redirects(text);
	free(text);
	return r;
}

static void
test_redirect_limits(void)
{
	struct rules_redirects *r = many(RULES_STATIC_MAX, RULES_DYNAMIC_MAX);
	struct rules_match m;
	const struct rules_redirect *rd;

	CHECK(r != NULL && rules_redirects_count(r) == RULES_STATIC_MAX + RULES_DYNAMIC_MAX);
	rd = rules_redirect_find(r, "/s1999", 6, &m);
	CHECK(rd != NULL && rd->line == 2000);
	rd = rules_redirect_find(r, "/d99/x", 6, &m);
	CHECK(rd != NULL && rd->line == 2100);
	rules_redirects_free(r);
	CHECK(fails_at(many(RULES_STATIC_MAX + 1, 0), RULES_STATIC_MAX + 1));
	CHECK(strstr(err, "2000 static") != NULL);
	CHECK(fails_at(many(0, RULES_DYNAMIC_MAX + 1), RULES_DYNAMIC_MAX + 1));
	CHECK(strstr(err, "100 dynamic") != NULL);
}

static void
test_redirect_order(void)
{
	struct rules_redirects *r = redirects(
	    "/a/* /first\n"
	    "/a/x /second\n"
	    "/b/x /third\n"
	    "/b/* /fourth\n"
	    "/b/x /fifth\n"
	    "/c/ /sixth\n");
	struct rules_match m;
	const struct rules_redirect *rd;

	CHECK((rd = rules_redirect_find(r, "/a/x", 4, &m)) != NULL && rd->line == 1);
	CHECK((rd = rules_redirect_find(r, "/b/x", 4, &m)) != NULL && rd->line == 3);
	CHECK((rd = rules_redirect_find(r, "/b/y", 4, &m)) != NULL && rd->line == 4);
	CHECK((rd = rules_redirect_find(r, "/c", 2, &m)) != NULL && rd->line == 6);
	rules_redirects_free(r);
}

static int hwrite(struct rules_headers *h, const char *path, char *out, size_t size);

/* Dynamic rules are tried by the byte after the leading '/': a pattern
 * that starts with '*' or a placeholder is a candidate for every path. */
static void
test_candidates(void)
{
	struct rules_redirects *r = redirects(
	    "/:lang/about /about-:lang 302\n"
	    "/x* /x-any 302\n"
	    "/* /all 302\n");
	struct rules_headers *h = headers("/\n  X-Top: 1\n/:a/b\n  X-B: 1\n/*.css\n  X-Css: 1\n");
	struct rules_match m;
	const struct rules_redirect *rd;
	char out[256];

	CHECK((rd = rules_redirect_find(r, "/en/about", 9, &m)) != NULL && rd->line == 1);
	CHECK((rd = rules_redirect_find(r, "/xy", 3, &m)) != NULL && rd->line == 2);
	CHECK((rd = rules_redirect_find(r, "/x", 2, &m)) != NULL && rd->line == 2);
	CHECK((rd = rules_redirect_find(r, "/", 1, &m)) != NULL && rd->line == 3);
	CHECK((rd = rules_redirect_find(r, "/y/about/z", 10, &m)) != NULL && rd->line == 3);
	CHECK(hwrite(h, "/", out, sizeof(out)) > 0 && strcmp(out, "X-Top: 1\r\n") == 0);
	CHECK(hwrite(h, "/q/b", out, sizeof(out)) > 0 && strcmp(out, "X-B: 1\r\n") == 0);
	CHECK(hwrite(h, "/q/b.css", out, sizeof(out)) > 0 && strcmp(out, "X-Css: 1\r\n") == 0);
	CHECK(hwrite(h, "/q", out, sizeof(out)) == 0);
	rules_redirects_free(r);
	rules_headers_free(h);
}

static int
target(struct rules_redirects *r, const char *path, const char *query, char *out, size_t size)
{
	struct rules_match m;
	const struct rules_redirect *rd = rules_redirect_find(r, path, strlen(path), &m);
	int n;

	if (rd == NULL)
		return -2;
	n = rules_target(rd, &m, query, query ? strlen(query) : 0, out, size - 1);
	if (n >= 0)
		out[n] = '\0';
	return n;
}

static void
test_targets(void)
{
	struct rules_redirects *r = redirects(
	    "/blog/:year/:month /posts/:year-:month.html 301\n"
	    "/news/* /n/:splat 302\n"
	    "/q/* /search?q=:splat 302\n"
	    "/ext/* https://example.com:8443/:splat 301\n"
	    "/keep/:x /k/:y/:x 301\n"
	    "/top* /:splat 301\n"
	    "/empty* /:splat/x 301\n");
	char out[256];

	CHECK(target(r, "/blog/2024/05", NULL, out, sizeof(out)) > 0 &&
	    strcmp(out, "/posts/2024-05.html") == 0);
	CHECK(target(r, "/news/a b/%\x01", "x=1", out, sizeof(out)) > 0 &&
	    strcmp(out, "/n/a%20b/%25%01?x=1") == 0);
	CHECK(target(r, "/q/a?b", "x=1", out, sizeof(out)) > 0 &&
	    strcmp(out, "/search?q=a%3Fb") == 0);	/* the target's own query wins */
	CHECK(target(r, "/ext/a", NULL, out, sizeof(out)) > 0 &&
	    strcmp(out, "https://example.com:8443/a") == 0);
	CHECK(target(r, "/keep/v", NULL, out, sizeof(out)) > 0 && strcmp(out, "/k/:y/v") == 0);
	/* A splat starting with '/' cannot make "//host". */
	CHECK(target(r, "/top//evil.com", NULL, out, sizeof(out)) > 0 &&
	    strcmp(out, "/evil.com") == 0);
	CHECK(target(r, "/empty", NULL, out, sizeof(out)) > 0 && strcmp(out, "/x") == 0);
	CHECK(target(r, "/news/abcdefghijkl", NULL, out, 12) == -1);
	rules_redirects_free(r);
}

static int
hwrite(struct rules_headers *h, const char *path, char *out, size_t size)
{
	int n = rules_headers_write(h, path, strlen(path), out, size - 1);

	if (n >= 0)
		out[n] = '\0';
	return n;
}

static void
test_headers_merge(void)
{
	struct rules_headers *h = headers(
	    "# comment\n"
	    "/*\n"
	    "  X-Frame-Options: DENY\n"
	    "  Cache-Control: max-age=60\n"
	    "/static/*\n"
	    "\tCache-Control: immutable\n"
	    "  Access-Control-Allow-Origin: *\n"
	    "/static/private/*\n"
	    "  ! Access-Control-Allow-Origin\n"
	    "  ! X-Frame-Options\n"
	    "  X-Frame-Options: SAMEORIGIN\n"
	    "/u/:id\n"
	    "  X-User: yes\n");
	char out[512];

	CHECK(h != NULL && rules_headers_count(h) == 4 && warnings == 0);
	CHECK(hwrite(h, "/index.html", out, sizeof(out)) > 0 && strcmp(out,
	    "X-Frame-Options: DENY\r\nCache-Control: max-age=60\r\n") == 0);
	CHECK(hwrite(h, "/static/a.css", out, sizeof(out)) > 0 && strcmp(out,
	    "X-Frame-Options: DENY\r\nCache-Control: max-age=60, immutable\r\n"
	    "Access-Control-Allow-Origin: *\r\n") == 0);
	CHECK(hwrite(h, "/static/private/k", out, sizeof(out)) > 0 && strcmp(out,
	    "X-Frame-Options: SAMEORIGIN\r\nCache-Control: max-age=60, immutable\r\n") == 0);
	CHECK(hwrite(h, "/u/7", out, sizeof(out)) > 0 && strstr(out, "X-User: yes\r\n") != NULL);
	CHECK(hwrite(h, "/u/7/8", out, sizeof(out)) > 0 && strstr(out, "X-User") == NULL);
	CHECK(hwrite(h, "/static/a.css", out, 20) == -1);
	rules_headers_free(h);
	h = headers("/only\n  X-A: 1\n");
	CHECK(h != NULL && hwrite(h, "/other", out, sizeof(out)) == 0);
	rules_headers_free(h);
}

static void
test_headers_placeholders(void)
{
	struct rules_headers *h = headers(
	    "/movies/:title\n"
	    "  X-Movie-Name: You are watching \":title\"\n"
	    "  X-Other: :year :titles :title_x 12:30 :\n"
	    "/shows/:show/:season\n"
	    "  X-Show: :season of :show, :season again\n"
	    "/files/*\n"
	    "  X-File: :splat\n"
	    "/files/*.pdf\n"
	    "  X-File: pdf :splat\n"
	    "/*\n"
	    "  X-File: any\n"
	    "  X-Splat: :splat\n"
	    "/plain\n"
	    "  X-Plain: :splat :title\n");
	char out[512];

	CHECK(h != NULL);
	CHECK(hwrite(h, "/movies/Alien", out, sizeof(out)) > 0 &&
	    strstr(out, "X-Movie-Name: You are watching \"Alien\"\r\n") != NULL);
	/* Names the path does not capture stay as written, whole. */
	CHECK(hwrite(h, "/movies/Alien", out, sizeof(out)) > 0 &&
	    strstr(out, "X-Other: :year :titles :title_x 12:30 :\r\n") != NULL);
	CHECK(hwrite(h, "/shows/Lost/S01", out, sizeof(out)) > 0 &&
	    strstr(out, "X-Show: S01 of Lost, S01 again\r\n") != NULL);
	/* Splats, merged with other rules' values in file order. */
	CHECK(hwrite(h, "/files/a/b.txt", out, sizeof(out)) > 0 &&
	    strstr(out, "X-File: a/b.txt, any\r\n") != NULL &&
	    strstr(out, "X-Splat: files/a/b.txt\r\n") != NULL);
	CHECK(hwrite(h, "/files/x/y.pdf", out, sizeof(out)) > 0 &&
	    strstr(out, "X-File: x/y.pdf, pdf x/y, any\r\n") != NULL);
	CHECK(hwrite(h, "/plain", out, sizeof(out)) > 0 &&
	    strstr(out, "X-Plain: :splat :title\r\n") != NULL &&
	    strstr(out, "X-Splat: plain\r\n") != NULL);
	/* What the path brings is percent-encoded: no byte can end the line. */
	CHECK(hwrite(h, "/movies/a\r\nSet-Cookie: x=1", out, sizeof(out)) > 0 &&
	    strstr(out, "X-Movie-Name: You are watching \"a%0D%0ASet-Cookie:%20x=1\"\r\n") != NULL &&
	    strstr(out, "\nSet-Cookie") == NULL);
	CHECK(hwrite(h, "/files/\"%\x01\x7f\xff \t", out, sizeof(out)) > 0 &&
	    strstr(out, "X-File: %22%25%01%7F%FF%20%09, any\r\n") != NULL);
	rules_headers_free(h);
}

/* A value with placeholders takes only the room the others leave: one that
 * does not fit is left out, the rest of the lines stay whole. */
static void
test_headers_placeholder_bounds(void)
{
	struct rules_headers *h = headers(
	    "/*\n"
	    "  X-A: :splat\n"
	    "  X-B: fixed\n"
	    "  X-A: after\n"
	    "/p/*\n"
	    "  X-C: :splat\n");
	char out[512], path[600];
	const char *all = "X-A: p/abc, after\r\nX-B: fixed\r\nX-C: abc\r\n";
	size_t n = strlen(all);

	CHECK(h != NULL && hwrite(h, "/p/abc", out, sizeof(out)) == (int)n &&
	    strcmp(out, all) == 0);
	CHECK(hwrite(h, "/p/abc", out, n + 1) == (int)n);
	/* One byte less: X-C goes; X-A's, written first, stays. */
	CHECK(hwrite(h, "/p/abc", out, n) > 0 &&
	    strcmp(out, "X-A: p/abc, after\r\nX-B: fixed\r\n") == 0);
	CHECK(hwrite(h, "/p/abc", out, 30) > 0 &&
	    strcmp(out, "X-A: after\r\nX-B: fixed\r\n") == 0);
	/* The values without placeholders alone do not fit: an error. */
	CHECK(hwrite(h, "/p/abc", out, 25) == 24 && hwrite(h, "/p/abc", out, 24) == -1);
	/* A long path: its values are left out, never cut. */
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	CHECK(hwrite(h, path, out, sizeof(out)) > 0 &&
	    strcmp(out, "X-A: after\r\nX-B: fixed\r\n") == 0);
	memcpy(path, "/p/", 3);
	CHECK(hwrite(h, path, out, sizeof(out)) > 0 &&
	    strcmp(out, "X-A: after\r\nX-B: fixed\r\n") == 0);
	rules_headers_free(h);
	/* A value that is only a placeholder, alone and too long: no line at all. */
	h = headers("/q/:id\n  X-Id: :id\n");
	CHECK(h != NULL && hwrite(h, "/q/12345", out, 13) == 0);
	CHECK(hwrite(h, "/q/12345", out, 14) == 13 && strcmp(out, "X-Id: 12345\r\n") == 0);
	rules_headers_free(h);
}

static void
test_headers_owned(void)
{
	static const char *const names[] = { "Content-Length", "content-range", "DATE", "ETag",
	    "Last-Modified", "Content-Encoding", "Transfer-Encoding", "Connection", "Vary",
	    "Content-Type", "Server", "Location", "Strict-Transport-Security" };
	char text[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct rules_headers *h;
		char out[128];
		snprintf(text, sizeof(text), "/*\n  X-A: 1\n  %s: 5\n  ! %s\n", names[i], names[i]);
		h = headers(text);
		CHECK(h != NULL && warnings == 2 && warn_line == 4);
		CHECK(h != NULL && hwrite(h, "/x", out, sizeof(out)) > 0 &&
		    strcmp(out, "X-A: 1\r\n") == 0);
		rules_headers_free(h);
	}
	CHECK(!rules_header_owned("X-Frame-Options", 15));
}

static void
test_headers_errors(void)
{
	CHECK(fails_at(headers("  X-A: 1\n"), 1));			/* before any path */
	CHECK(fails_at(headers("/a\n  X-A: 1\n/b\n/c\n  X-A: 1\n"), 3));	/* no headers */
	CHECK(fails_at(headers("/a\n  X-A: 1\n/b\n"), 3));
	CHECK(fails_at(headers("/a\n  X-A 1\n"), 2));			/* no colon */
	CHECK(fails_at(headers("/a\n  X A: 1\n"), 2));			/* not a token */
	CHECK(fails_at(headers("/a\n  : 1\n"), 2));
	CHECK(fails_at(headers("/a\n  X-A:\n"), 2));			/* no value */
	CHECK(fails_at(headers("/a\n  X-A: 1\x01\n"), 2));
	CHECK(fails_at(headers("/a\n  X-A: 1\r2\n"), 2));
	CHECK(fails_at(headers("/a\n  !\n"), 2));
	CHECK(fails_at(headers("#\nhttps://x.com/*\n  X-A: 1\n"), 2));
	CHECK(fails_at(headers("a\n  X-A: 1\n"), 1));
	CHECK(fails_at(headers("/a/*/*\n  X-A: 1\n"), 1));
}

static void
test_headers_limits(void)
{
	size_t size = 64 * (RULES_HEADER_RULES_MAX + 2), len = 0;
	char *text = malloc(size);

	for (unsigned i = 0; i < RULES_HEADER_RULES_MAX; i++)
		len += (size_t)snprintf(text + len, size - len, "/p%u\n  X-A: %u\n", i, i);
	{
		struct rules_headers *h = headers(text);
		CHECK(h != NULL && rules_headers_count(h) == RULES_HEADER_RULES_MAX);
		rules_headers_free(h);
	}
	snprintf(text + len, size - len, "/p\n  X-A: 1\n");
	CHECK(fails_at(headers(text), 2 * RULES_HEADER_RULES_MAX + 1));
	free(text);

	text = malloc(RULES_HEADER_LINE_MAX + 32);
	memcpy(text, "/a\n  X-A: ", 10);
	memset(text + 10, 'v', RULES_HEADER_LINE_MAX);
	strcpy(text + RULES_HEADER_LINE_MAX + 10, "\n");
	CHECK(fails_at(headers(text), 2));
	free(text);
}

static void
test_file_size_limit(void)
{
	char *text = calloc(1, RULES_FILE_MAX + 2);

	memset(text, '\n', RULES_FILE_MAX + 1);
	CHECK(rules_redirects_parse(text, RULES_FILE_MAX + 1, err, sizeof(err)) == NULL &&
	    strncmp(err, "line 0:", 7) == 0);
	CHECK(rules_headers_parse(text, RULES_FILE_MAX + 1, err, sizeof(err), NULL, NULL) == NULL);
	free(text);
}

int
main(void)
{
	test_pattern_literal();
	test_pattern_splat();
	test_pattern_placeholders();
	test_redirects_parse();
	test_redirect_statuses();
	test_redirect_errors();
	test_redirect_line_length();
	test_redirect_limits();
	test_redirect_order();
	test_candidates();
	test_targets();
	test_headers_merge();
	test_headers_placeholders();
	test_headers_placeholder_bounds();
	test_headers_owned();
	test_headers_errors();
	test_headers_limits();
	test_file_size_limit();
	return unit_done("rules");
}
