/*
 * Unit tests for the request-head parser (src/request.c): one test per rule.
 */
#include <stdint.h>
#include <stdlib.h>

#include "request.h"
#include "unit.h"

static struct request req;

/* Parses the C string s with the default field limit. */
static int
parse(const char *s)
{
	memset(&req, 0xa5, sizeof(req));	/* garbage the parser must overwrite */
	return request_parse(s, strlen(s), 100, &req);
}

static int
parse_len(const char *s, size_t len)
{
	memset(&req, 0xa5, sizeof(req));
	return request_parse(s, len, 100, &req);
}

#define ABSENT(s) ((s).p == NULL && (s).len == 0)

static void
test_simple_get(void)
{
	const char *r = "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";

	CHECK(parse(r) == (int)strlen(r));
	CHECK(req.method == METHOD_GET);
	CHECK_SLICE(req.method_name, "GET");
	CHECK_SLICE(req.target, "/index.html");
	CHECK_SLICE(req.path, "/index.html");
	CHECK(ABSENT(req.query));
	CHECK(req.minor_version == 1);
	CHECK(req.keep_alive == 1);
	CHECK_SLICE(req.host, "example.com");
	CHECK(req.nfields == 1);
}

static void
test_slices_point_into_the_buffer(void)
{
	const char *r = "GET /a?b HTTP/1.1\r\nHost: h\r\n\r\n";

	CHECK(parse(r) > 0);
	CHECK(req.method_name.p == r);
	CHECK(req.target.p == r + 4);
	CHECK(req.path.p == r + 4);
	CHECK(req.query.p == r + 7);
	CHECK(req.host.p == r + 25);
}

static void
test_absent_fields_are_null_after_garbage(void)
{
	CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0);
	CHECK(ABSENT(req.host));
	CHECK(ABSENT(req.if_none_match));
	CHECK(ABSENT(req.if_modified_since));
	CHECK(ABSENT(req.range));
	CHECK(ABSENT(req.if_range));
	CHECK(ABSENT(req.accept_encoding));
	CHECK(ABSENT(req.user_agent));
	CHECK(ABSENT(req.referer));
	CHECK(ABSENT(req.query));
	CHECK(req.nfields == 0);
	CHECK(req.keep_alive == 0);
	CHECK(req.minor_version == 0);
}

static void
test_head_method(void)
{
	CHECK(parse("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_HEAD);
	CHECK_SLICE(req.method_name, "HEAD");
}

static void
test_method_is_case_sensitive(void)
{
	CHECK(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
	CHECK(parse("Head / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
}

static void
test_known_other_methods(void)
{
	static const char *m[] = { "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
	    "TRACE", "PATCH" };
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: h\r\n\r\n", m[i]);
		CHECK(parse(buf) == (int)strlen(buf));
		CHECK(req.method == METHOD_KNOWN_OTHER);
		CHECK(req.method_name.len == strlen(m[i]));
	}
}

static void
test_unknown_token_method_parses(void)
{
	CHECK(parse("BREW / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
	CHECK_SLICE(req.method_name, "BREW");
	CHECK(parse("GETS / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
	CHECK(parse("M-SEARCH!#$%&'*+.^_`|~ / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
}

static void
test_invalid_method_token_is_400(void)
{
	CHECK(parse("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET/ / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("G\"T / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("G\x80T / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_empty_method_is_400(void)
{
	CHECK(parse(" / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_query_split_at_first_question_mark(void)
{
	CHECK(parse("GET /a/b?x=1?y=2 HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK_SLICE(req.target, "/a/b?x=1?y=2");
	CHECK_SLICE(req.path, "/a/b");
	CHECK_SLICE(req.query, "x=1?y=2");
}

static void
test_empty_query_is_present(void)
{
	CHECK(parse("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK_SLICE(req.path, "/a");
	CHECK(req.query.p != NULL && req.query.len == 0);
}

static void
test_path_stays_percent_encoded(void)
{
	CHECK(parse("GET /a%20b%2F HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK_SLICE(req.path, "/a%20b%2F");
}

static void
test_absolute_form_gives_host_path_query(void)
{
	CHECK(parse("GET http://Example.COM:8080/x/y?q=1 HTTP/1.1\r\n\r\n") > 0);
	CHECK_SLICE(req.target, "http://Example.COM:8080/x/y?q=1");
	CHECK_SLICE(req.host, "Example.COM:8080");
	CHECK_SLICE(req.path, "/x/y");
	CHECK_SLICE(req.query, "q=1");
}

static void
test_absolute_form_scheme_is_case_insensitive(void)
{
	CHECK(parse("GET HTTPS://h/x HTTP/1.1\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
	CHECK_SLICE(req.path, "/x");
	CHECK(parse("GET hTtP://h/ HTTP/1.1\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
}

static void
test_absolute_form_empty_path_is_root(void)
{
	CHECK(parse("GET http://h HTTP/1.1\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
	CHECK_SLICE(req.path, "/");
	CHECK(ABSENT(req.query));
	CHECK(parse("GET http://h?a=/b HTTP/1.1\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
	CHECK_SLICE(req.path, "/");
	CHECK_SLICE(req.query, "a=/b");
}

static void
test_absolute_form_host_overrides_host_field(void)
{
	CHECK(parse("GET http://a.example/ HTTP/1.1\r\nHost: b.example\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "a.example");
}

static void
test_absolute_form_still_rejects_duplicate_host(void)
{
	CHECK(parse("GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == -400);
}

static void
test_absolute_form_empty_authority_is_400(void)
{
	CHECK(parse("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET http://?x HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET https:// HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_absolute_form_userinfo_is_400(void)
{
	CHECK(parse("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_absolute_form_other_scheme_is_400(void)
{
	CHECK(parse("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET http:/h/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET httpx://h/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_asterisk_form_only_for_options(void)
{
	const char *r = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";

	CHECK(parse(r) == (int)strlen(r));
	CHECK(req.method == METHOD_KNOWN_OTHER);
	CHECK(req.asterisk == 1);
	CHECK_SLICE(req.target, "*");
	CHECK_SLICE(req.path, "/");
	CHECK(ABSENT(req.query));
	CHECK(req.keep_alive == 1);
	CHECK(req.body == 0);
	CHECK(parse("OPTIONS / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.asterisk == 0);
	CHECK(parse("GET * HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("HEAD * HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("POST * HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("options * HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("OPTIONS *?a HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("OPTIONS */ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_authority_form_is_400(void)
{
	CHECK(parse("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n") == -400);
}

static void
test_target_bytes_outside_vchar_are_400(void)
{
	CHECK(parse("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /a\x80 HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_target_all_vchars_are_allowed(void)
{
	char buf[256], *b = buf;
	int c;

	b += sprintf(b, "GET /");
	for (c = 0x21; c <= 0x7e; c++)
		if (c != '?')
			*b++ = (char)c;
	sprintf(b, " HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK(parse(buf) == (int)strlen(buf));
	CHECK(req.path.len == 1 + 0x7e - 0x21);
}

static void
test_double_space_after_method_is_400(void)
{
	CHECK(parse("GET  / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_double_space_before_version_is_400(void)
{
	CHECK(parse("GET /  HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_space_after_version_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1 \r\nHost: h\r\n\r\n") == -400);
}

static void
test_tab_as_separator_is_400(void)
{
	CHECK(parse("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /\tHTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_missing_version_is_400(void)
{
	CHECK(parse("GET /\r\n\r\n") == -400);
	CHECK(parse("GET / \r\n\r\n") == -400);
}

static void
test_leading_space_in_request_line_is_400(void)
{
	CHECK(parse(" GET / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_http10_minor_zero_and_close(void)
{
	CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0);
	CHECK(req.minor_version == 0);
	CHECK(req.keep_alive == 0);
	CHECK(ABSENT(req.host));
}

static void
test_http1x_above_one_is_reported_as_one(void)
{
	CHECK(parse("GET / HTTP/1.2\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.minor_version == 1);
	CHECK(req.keep_alive == 1);
	CHECK(parse("GET / HTTP/1.9\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.minor_version == 1);
}

static void
test_http1x_above_one_needs_host(void)
{
	CHECK(parse("GET / HTTP/1.2\r\n\r\n") == -400);
}

static void
test_other_major_versions_are_505(void)
{
	CHECK(parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n") == -505);
	CHECK(parse("GET / HTTP/3.0\r\nHost: h\r\n\r\n") == -505);
	CHECK(parse("GET / HTTP/0.9\r\nHost: h\r\n\r\n") == -505);
	CHECK(parse("GET / HTTP/9.9\r\n") == -505);
}

static void
test_malformed_versions_are_400(void)
{
	CHECK(parse("GET / HTTP/1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/11.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.10\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / http/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.a\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/a.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1,1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTPS/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/2\r\nHost: h\r\n\r\n") == -400);
}

static void
test_bare_lf_after_request_line_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\nHost: h\r\n\r\n") == -400);
}

static void
test_bare_lf_after_field_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\n\r\n") == -400);
}

static void
test_bare_lf_as_final_line_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\n") == -400);
}

static void
test_bare_lf_in_name_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX\nY: z\r\n\r\n") == -400);
}

static void
test_bare_cr_in_request_line_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\rHost: h\r\n\r\n") == -400);
	CHECK(parse("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("GET\r/ HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_bare_cr_in_value_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n") == -400);
}

static void
test_bare_cr_as_final_line_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\rX") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n") == -400);
}

static void
test_obs_fold_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n") == -400);
}

static void
test_whitespace_before_first_field_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\n Host: h\r\n\r\n") == -400);
}

static void
test_nul_anywhere_is_400(void)
{
	static const char r[] = "GET /x HTTP/1.1\r\nHost: h\r\nX: v\r\n\r\n";
	char buf[sizeof(r)];
	size_t i;
	int bad = 0;

	/* a NUL in place of any byte: the request line, a name, a value,
	 * a line end, the final empty line */
	for (i = 0; i < sizeof(r) - 1; i++) {
		memcpy(buf, r, sizeof(r));
		buf[i] = '\0';
		if (parse_len(buf, sizeof(r) - 1) != -400)
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_nul_in_value_is_400(void)
{
	static const char r[] = "GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n";

	CHECK(parse_len(r, sizeof(r) - 1) == -400);
}

static void
test_space_before_colon_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost : h\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-A\t: b\r\n\r\n") == -400);
}

static void
test_empty_field_name_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n: b\r\n\r\n") == -400);
}

static void
test_invalid_field_name_char_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX(y): b\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX/y: b\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX\x80: b\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-no-colon\r\n\r\n") == -400);
}

static void
test_token_field_name_chars_are_allowed(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n!#$%&'*+-.^_`|~09azAZ: b\r\n\r\n") > 0);
	CHECK(req.nfields == 2);
}

static void
test_value_control_chars_are_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\x1f\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX: \x0b\r\n\r\n") == -400);
}

static void
test_value_obs_text_and_tab_allowed(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n"
	    "User-Agent: a\tb \x80\xff\xc3\xa9\r\n\r\n") > 0);
	CHECK_SLICE(req.user_agent, "a\tb \x80\xff\xc3\xa9");
}

/* Long values are scanned eight bytes at a time: a bad byte is found at
 * any position, and obs-text and HTAB are accepted at any position. */
static void
test_long_value_checked_at_every_position(void)
{
	static const unsigned char bad[] = { 0x00, 0x01, 0x0a, 0x0d, 0x1f, 0x7f };
	static const unsigned char good[] = { 0x09, 0x20, 0x7e, 0x80, 0xa0, 0xff };
	char buf[256];
	size_t pos, i, head, n;
	int wrong = 0;

	head = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	for (pos = 0; pos < 40; pos++) {
		for (i = 0; i < sizeof(bad) + sizeof(good); i++) {
			memset(buf + head, 'v', 40);
			buf[head + pos] = (char)(i < sizeof(bad) ? bad[i] :
			    good[i - sizeof(bad)]);
			n = head + 40 + (size_t)sprintf(buf + head + 40, "v\r\n\r\n");
			if (parse_len(buf, n) != (i < sizeof(bad) ? -400 : (int)n))
				wrong++;
		}
	}
	CHECK(wrong == 0);
}

static void
test_value_whitespace_trimmed(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: \t h.example \t \r\n"
	    "Referer:  a b  \r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h.example");
	CHECK_SLICE(req.referer, "a b");
}

static void
test_value_without_space_after_colon(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost:h\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
}

static void
test_empty_value_of_other_field_allowed(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Blank:  \r\n\r\n") > 0);
	CHECK(req.nfields == 3);
}

static void
test_leading_empty_lines_are_ignored_and_counted(void)
{
	const char *r = "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";

	CHECK(parse(r) == (int)strlen(r));
	CHECK(req.method == METHOD_GET);
	CHECK(req.method_name.p == r + 6);
}

static void
test_leading_bare_lf_is_400(void)
{
	CHECK(parse("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
	CHECK(parse("\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_leading_bare_cr_is_400(void)
{
	CHECK(parse("\rGET / HTTP/1.1\r\nHost: h\r\n\r\n") == -400);
}

static void
test_only_empty_lines_are_incomplete(void)
{
	CHECK(parse("\r\n\r\n\r\n") == REQUEST_INCOMPLETE);
	CHECK(parse("\r") == REQUEST_INCOMPLETE);
	CHECK(parse("") == REQUEST_INCOMPLETE);
}

/* Builds n empty lines followed by tail in buf. */
static const char *
empty_lines_then(char *buf, size_t size, unsigned n, const char *tail)
{
	size_t i;

	for (i = 0; i < n && 2 * i + 2 < size; i++)
		memcpy(buf + 2 * i, "\r\n", 2);
	snprintf(buf + 2 * i, size - 2 * i, "%s", tail);
	return buf;
}

static void
test_empty_lines_beyond_the_limit_are_400(void)
{
	static char buf[12000];
	const char *get = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	const char *r;

	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX, get);
	CHECK(parse(r) == (int)strlen(r));
	CHECK(req.method_name.p == r + 2 * REQUEST_EMPTY_LINES_MAX);
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX + 1, get);
	CHECK(parse(r) == -400);
	r = empty_lines_then(buf, sizeof(buf), 5000, get);
	CHECK(parse(r) == -400);
	/* the answer comes from the parser, without the rest of the input */
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX, "");
	CHECK(parse(r) == REQUEST_INCOMPLETE);
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX, "\r");
	CHECK(parse(r) == -400);
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX + 1, "");
	CHECK(parse(r) == -400);
}

static void
test_overflow_of_empty_lines_is_never_414(void)
{
	static char buf[12000];
	const char *r;

	r = empty_lines_then(buf, sizeof(buf), 5000, "");
	CHECK(request_overflow_status(r, strlen(r)) == 400);
	r = empty_lines_then(buf, sizeof(buf), 5000, "GET /aaaa");
	CHECK(request_overflow_status(r, strlen(r)) == 400);
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX, "");
	CHECK(request_overflow_status(r, strlen(r)) == 400);
	r = empty_lines_then(buf, sizeof(buf), REQUEST_EMPTY_LINES_MAX, "\r");
	CHECK(request_overflow_status(r, strlen(r)) == 400);
	CHECK(request_overflow_status("\r", 1) == 400);
}

static void
test_max_fields_exactly_is_accepted(void)
{
	const char *r = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";

	memset(&req, 0, sizeof(req));
	CHECK(request_parse(r, strlen(r), 3, &req) == (int)strlen(r));
	CHECK(req.nfields == 3);
}

static void
test_more_than_max_fields_is_431(void)
{
	const char *r = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";

	CHECK(request_parse(r, strlen(r), 3, &req) == -431);
	CHECK(request_parse(r, strlen(r), 0, &req) == -431);
}

static void
test_max_fields_zero_allows_no_fields(void)
{
	const char *r = "GET / HTTP/1.0\r\n\r\n";

	CHECK(request_parse(r, strlen(r), 0, &req) == (int)strlen(r));
}

static void
test_hundred_and_one_fields_is_431(void)
{
	char buf[4096], *b = buf;
	int i;

	b += sprintf(b, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 0; i < 99; i++)
		b += sprintf(b, "X-%d: %d\r\n", i, i);
	sprintf(b, "\r\n");
	CHECK(parse(buf) == (int)strlen(buf));
	CHECK(req.nfields == 100);
	sprintf(b, "X-last: 1\r\n\r\n");
	CHECK(parse(buf) == -431);
}

static void
test_missing_host_in_http11_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nX-Host: h\r\n\r\n") == -400);
}

static void
test_missing_host_in_http10_is_allowed(void)
{
	CHECK(parse("GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n") > 0);
	CHECK(ABSENT(req.host));
}

static void
test_empty_host_is_present_with_length_zero(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);
	CHECK(req.host.p != NULL && req.host.len == 0);
	CHECK(parse("GET / HTTP/1.1\r\nHost:   \r\n\r\n") > 0);
	CHECK(req.host.p != NULL && req.host.len == 0);
}

static void
test_duplicate_host_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.0\r\nHost:\r\nHost:\r\n\r\n") == -400);
}

static void
test_field_names_are_case_insensitive(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nhOsT: h\r\nIF-NONE-MATCH: \"a\"\r\n"
	    "if-modified-since: d\r\nrAnGe: bytes=0-1\r\nIF-range: \"b\"\r\n"
	    "ACCEPT-ENCODING: gzip\r\nuser-AGENT: ua\r\nREFERER: r\r\n"
	    "CONNECTION: CLOSE\r\n\r\n") > 0);
	CHECK_SLICE(req.host, "h");
	CHECK_SLICE(req.if_none_match, "\"a\"");
	CHECK_SLICE(req.if_modified_since, "d");
	CHECK_SLICE(req.range, "bytes=0-1");
	CHECK_SLICE(req.if_range, "\"b\"");
	CHECK_SLICE(req.accept_encoding, "gzip");
	CHECK_SLICE(req.user_agent, "ua");
	CHECK_SLICE(req.referer, "r");
	CHECK(req.keep_alive == 0);
	CHECK(req.nfields == 9);
}

static void
test_similar_field_names_are_not_recognised(void)
{
	CHECK(parse("GET / HTTP/1.0\r\nHosts: h\r\nRanges: x\r\nReferrer: r\r\n"
	    "If-Ranges: x\r\nX-Range: y\r\nContent-Lengths: 5\r\n"
	    "Transfer-Encodings: chunked\r\n\r\n") > 0);
	CHECK(ABSENT(req.host));
	CHECK(ABSENT(req.range));
	CHECK(ABSENT(req.referer));
	CHECK(ABSENT(req.if_range));
}

static void
test_duplicate_fields_first_wins(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n"
	    "If-None-Match: \"1\"\r\nIf-None-Match: \"2\"\r\n"
	    "If-Modified-Since: a\r\nIf-Modified-Since: b\r\n"
	    "If-Range: c\r\nIf-Range: d\r\n"
	    "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n"
	    "User-Agent: u1\r\nUser-Agent: u2\r\n"
	    "Referer: r1\r\nReferer: r2\r\n\r\n") > 0);
	CHECK_SLICE(req.if_none_match, "\"1\"");
	CHECK_SLICE(req.if_modified_since, "a");
	CHECK_SLICE(req.if_range, "c");
	CHECK_SLICE(req.accept_encoding, "br");
	CHECK_SLICE(req.user_agent, "u1");
	CHECK_SLICE(req.referer, "r1");
}

static void
test_duplicate_range_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nRange: bytes=0-1\r\n"
	    "Range: bytes=0-1\r\n\r\n") == -400);
}

static void
test_http11_defaults_to_keep_alive(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.keep_alive == 1);
}

static void
test_connection_close_in_http11(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
}

static void
test_connection_keep_alive_in_http10(void)
{
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
	CHECK(req.keep_alive == 1);
}

static void
test_connection_token_list(void)
{
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Upgrade , keep-alive ,\r\n\r\n") > 0);
	CHECK(req.keep_alive == 1);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: te,CLOSE\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: ,,\t close\t,\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
}

static void
test_connection_close_wins_over_keep_alive(void)
{
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: close, keep-alive\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
}

static void
test_connection_every_field_counts(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
	    "Connection: close\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: upgrade\r\n"
	    "Connection: keep-alive\r\n\r\n") > 0);
	CHECK(req.keep_alive == 1);
}

static void
test_connection_partial_tokens_do_not_count(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, xclose\r\n\r\n") > 0);
	CHECK(req.keep_alive == 1);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive2\r\n\r\n") > 0);
	CHECK(req.keep_alive == 0);
}

static void
test_content_length_zero_is_accepted(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") > 0);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\ncontent-length:  00 \r\n\r\n") > 0);
}

static void
test_content_length_nonzero_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	    "99999999999999999999999999\r\n\r\n") == -400);
}

static void
test_content_length_not_digits_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: -0\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +0\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x0\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0 0\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0, 0\r\n\r\n") == -400);
}

static void
test_duplicate_content_length_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
	    "Content-Length: 0\r\n\r\n") == -400);
}

static void
test_transfer_encoding_is_400(void)
{
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: identity\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.0\r\nTransfer-Encoding:\r\n\r\n") == -400);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == -400);
}

static void
test_body_with_other_methods_is_noted_not_400(void)
{
	const char *r = "POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";

	CHECK(parse(r) == (int)strlen(r) - 5);
	CHECK(req.method == METHOD_KNOWN_OTHER);
	CHECK(req.body == 1);
	CHECK(parse("PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
	CHECK(req.body == 1);
	CHECK(parse("DELETE /x HTTP/1.1\r\nHost: h\r\nContent-Length: "
	    "99999999999999999999999999\r\n\r\n") > 0);
	CHECK(req.body == 1);
	CHECK(parse("BREW /pot HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n") > 0);
	CHECK(req.method == METHOD_UNKNOWN);
	CHECK(req.body == 1);
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n") > 0);
	CHECK(req.asterisk == 1 && req.body == 1);
	CHECK(parse("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 00\r\n\r\n") > 0);
	CHECK(req.body == 0);
	CHECK(parse("GET /x HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CHECK(req.body == 0);
}

static void
test_body_framing_errors_are_400_for_every_method(void)
{
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Content-Length: 5\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == -400);
	CHECK(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == -400);
	CHECK(parse("BREW / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n") == -400);
}

static void
test_request_is_head(void)
{
	CHECK(request_is_head("HEAD / HTTP/1.1\r\n", 17));
	CHECK(request_is_head("HEAD ", 5));
	CHECK(request_is_head("\r\n\r\nHEAD /x", 11));
	CHECK(request_is_head("HEAD /" "\x01garbage", 14));
	CHECK(!request_is_head("HEAD", 4));
	CHECK(!request_is_head("HEAD /", 4));	/* only len bytes count */
	CHECK(!request_is_head("HEADS / HTTP/1.1", 16));
	CHECK(!request_is_head("head / HTTP/1.1", 15));
	CHECK(!request_is_head("GET / HTTP/1.1", 14));
	CHECK(!request_is_head(" HEAD / HTTP/1.1", 16));
	CHECK(!request_is_head("\nHEAD / HTTP/1.1", 16));
	CHECK(!request_is_head("\r\n", 2));
	CHECK(!request_is_head("", 0));
}

static void
test_pipelined_request_length_stops_at_head(void)
{
	const char *r = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
	int n, m;

	n = parse(r);
	CHECK(n == (int)strlen(r) / 2);
	CHECK_SLICE(req.path, "/1");
	m = parse(r + n);
	CHECK(m == n);
	CHECK_SLICE(req.path, "/2");
}

/*
 * The answer depends only on the bytes: every proper prefix of a valid head
 * is REQUEST_INCOMPLETE, and every prefix of any input is either incomplete
 * or already has the answer of the whole input.
 */
static const char *const samples[] = {
	"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"\r\n\r\nHEAD /a/b?c=d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET http://example.com:81 HTTP/1.1\r\nUser-Agent: \tx y \t\r\n\r\n",
	("GET /x HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\", W/\"b\"\r\n"
	    "Range: bytes=1-2\r\nContent-Length: 0\r\nX:\r\n\r\n"),
	"BREW /pot HTTP/1.9\r\nHost:\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\n fold\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET /\x7f HTTP/1.1\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
	"GET / HTTP/1.1\nHost: h\r\n\r\n",
	"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n",
	"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
};

static void
test_every_prefix_of_valid_head_is_incomplete(void)
{
	size_t i, n, full;
	int bad = 0;

	for (i = 0; i < 5; i++) {
		full = strlen(samples[i]);
		CHECK(parse(samples[i]) == (int)full);
		for (n = 0; n < full; n++)
			if (parse_len(samples[i], n) != REQUEST_INCOMPLETE)
				bad++;
	}
	CHECK(bad == 0);
}

static void
test_every_prefix_agrees_with_whole_input(void)
{
	size_t i, n, full;
	int whole, r, bad = 0;
	char *copy;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		full = strlen(samples[i]);
		whole = request_parse(samples[i], full, 3, &req);
		CHECK(whole != REQUEST_INCOMPLETE);
		for (n = 0; n <= full; n++) {
			/* an exact-size copy, so that ASan sees any read
			 * beyond the given length */
			copy = malloc(n ? n : 1);
			memcpy(copy, samples[i], n);
			r = request_parse(copy, n, 3, &req);
			free(copy);
			if (r != REQUEST_INCOMPLETE && r != whole) {
				fprintf(stderr, "sample %zu prefix %zu: %d, whole %d\n",
				    i, n, r, whole);
				bad++;
			}
		}
	}
	CHECK(bad == 0);
}

static void
test_split_reads_give_same_result(void)
{
	/* a head arriving in two reads at any split point: parsing after the
	 * first read says incomplete, after the second gives the full answer */
	const char *r = samples[3];
	size_t full = strlen(r), cut;
	int bad = 0;
	struct request a;

	for (cut = 0; cut < full; cut++) {
		if (request_parse(r, cut, 100, &a) != REQUEST_INCOMPLETE)
			bad++;
		if (request_parse(r, full, 100, &a) != (int)full ||
		    a.range.len != 9 || a.path.len != 2)
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_overflow_in_request_line_is_414(void)
{
	const char *r = "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

	CHECK(parse(r) == REQUEST_INCOMPLETE);
	CHECK(request_overflow_status(r, strlen(r)) == 414);
	CHECK(request_overflow_status("\r\n\r\nGET /aaaa", 13) == 414);
	CHECK(request_overflow_status("GET / HTTP/1.1\r", 15) == 414);
	CHECK(request_overflow_status("GET", 3) == 414);
}

static void
test_overflow_in_fields_is_431(void)
{
	const char *r = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: aaaaaaaaaaaaaaaa";

	CHECK(parse(r) == REQUEST_INCOMPLETE);
	CHECK(request_overflow_status(r, strlen(r)) == 431);
	CHECK(request_overflow_status("\r\nGET / HTTP/1.1\r\n", 18) == 431);
}

int
main(void)
{
	test_simple_get();
	test_slices_point_into_the_buffer();
	test_absent_fields_are_null_after_garbage();
	test_head_method();
	test_method_is_case_sensitive();
	test_known_other_methods();
	test_unknown_token_method_parses();
	test_invalid_method_token_is_400();
	test_empty_method_is_400();
	test_query_split_at_first_question_mark();
	test_empty_query_is_present();
	test_path_stays_percent_encoded();
	test_absolute_form_gives_host_path_query();
	test_absolute_form_scheme_is_case_insensitive();
	test_absolute_form_empty_path_is_root();
	test_absolute_form_host_overrides_host_field();
	test_absolute_form_still_rejects_duplicate_host();
	test_absolute_form_empty_authority_is_400();
	test_absolute_form_userinfo_is_400();
	test_absolute_form_other_scheme_is_400();
	test_asterisk_form_only_for_options();
	test_authority_form_is_400();
	test_target_bytes_outside_vchar_are_400();
	test_target_all_vchars_are_allowed();
	test_double_space_after_method_is_400();
	test_double_space_before_version_is_400();
	test_space_after_version_is_400();
	test_tab_as_separator_is_400();
	test_missing_version_is_400();
	test_leading_space_in_request_line_is_400();
	test_http10_minor_zero_and_close();
	test_http1x_above_one_is_reported_as_one();
	test_http1x_above_one_needs_host();
	test_other_major_versions_are_505();
	test_malformed_versions_are_400();
	test_bare_lf_after_request_line_is_400();
	test_bare_lf_after_field_is_400();
	test_bare_lf_as_final_line_is_400();
	test_bare_lf_in_name_is_400();
	test_bare_cr_in_request_line_is_400();
	test_bare_cr_in_value_is_400();
	test_bare_cr_as_final_line_is_400();
	test_obs_fold_is_400();
	test_whitespace_before_first_field_is_400();
	test_nul_anywhere_is_400();
	test_nul_in_value_is_400();
	test_space_before_colon_is_400();
	test_empty_field_name_is_400();
	test_invalid_field_name_char_is_400();
	test_token_field_name_chars_are_allowed();
	test_value_control_chars_are_400();
	test_value_obs_text_and_tab_allowed();
	test_long_value_checked_at_every_position();
	test_value_whitespace_trimmed();
	test_value_without_space_after_colon();
	test_empty_value_of_other_field_allowed();
	test_leading_empty_lines_are_ignored_and_counted();
	test_leading_bare_lf_is_400();
	test_leading_bare_cr_is_400();
	test_only_empty_lines_are_incomplete();
	test_empty_lines_beyond_the_limit_are_400();
	test_overflow_of_empty_lines_is_never_414();
	test_max_fields_exactly_is_accepted();
	test_more_than_max_fields_is_431();
	test_max_fields_zero_allows_no_fields();
	test_hundred_and_one_fields_is_431();
	test_missing_host_in_http11_is_400();
	test_missing_host_in_http10_is_allowed();
	test_empty_host_is_present_with_length_zero();
	test_duplicate_host_is_400();
	test_field_names_are_case_insensitive();
	test_similar_field_names_are_not_recognised();
	test_duplicate_fields_first_wins();
	test_duplicate_range_is_400();
	test_http11_defaults_to_keep_alive();
	test_connection_close_in_http11();
	test_connection_keep_alive_in_http10();
	test_connection_token_list();
	test_connection_close_wins_over_keep_alive();
	test_connection_every_field_counts();
	test_connection_partial_tokens_do_not_count();
	test_content_length_zero_is_accepted();
	test_content_length_nonzero_is_400();
	test_content_length_not_digits_is_400();
	test_duplicate_content_length_is_400();
	test_transfer_encoding_is_400();
	test_body_with_other_methods_is_noted_not_400();
	test_body_framing_errors_are_400_for_every_method();
	test_request_is_head();
	test_pipelined_request_length_stops_at_head();
	test_every_prefix_of_valid_head_is_incomplete();
	test_every_prefix_agrees_with_whole_input();
	test_split_reads_give_same_result();
	test_overflow_in_request_line_is_414();
	test_overflow_in_fields_is_431();
	return unit_done("request");
}
