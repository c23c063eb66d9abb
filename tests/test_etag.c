/*
 * Unit tests for entity tags (src/etag.c): one test per rule.
 */
#include <stdint.h>
#include <sys/stat.h>

#include "etag.h"
#include "unit.h"

static const char tag[] = "\"1234-5f5e100-1-abc\"";

static int
weak(const char *list)
{
	return etag_list_match_weak(list, strlen(list), tag, strlen(tag));
}

static int
strong(const char *value)
{
	return etag_match_strong(value, strlen(value), tag, strlen(tag));
}

static size_t
format(off_t size, int64_t sec, long nsec, ino_t ino, char *out)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = size;
	st.st_mtim.tv_sec = (time_t)sec;
	st.st_mtim.tv_nsec = nsec;
	st.st_ino = ino;
	return etag_format(&st, out);
}

static void
test_format_lowercase_hex_fields(void)
{
	char out[ETAG_MAX];

	CHECK(format(0x1234, 0x5f5e100, 1, 0xabc, out) == strlen(tag));
	CHECK(strcmp(out, tag) == 0);
	CHECK(format(0xABCDEF, 0xFACE, 0xBEEF, 0xC0FFEE, out) == 25);
	CHECK(strcmp(out, "\"abcdef-face-beef-c0ffee\"") == 0);
}

static void
test_format_zeros(void)
{
	char out[ETAG_MAX];

	CHECK(format(0, 0, 0, 0, out) == 9);
	CHECK(strcmp(out, "\"0-0-0-0\"") == 0);
}

static void
test_format_largest_values_fit(void)
{
	char out[ETAG_MAX + 8];
	size_t n;

	memset(out, 'Z', sizeof(out));
	n = format(INT64_MAX, -1, 999999999, (ino_t)UINT64_MAX, out);
	CHECK(n < ETAG_MAX);
	CHECK(strcmp(out, "\"7fffffffffffffff-ffffffffffffffff-3b9ac9ff-"
	    "ffffffffffffffff\"") == 0);
	CHECK(out[n] == '\0');
	CHECK(out[ETAG_MAX] == 'Z');
}

static void
test_format_files_over_4gib(void)
{
	char a[ETAG_MAX], b[ETAG_MAX];

	format((off_t)5 << 30, 1, 0, 1, a);
	CHECK(strcmp(a, "\"140000000-1-0-1\"") == 0);
	format((off_t)1 << 30, 1, 0, 1, b);
	CHECK(strcmp(a, b) != 0);
}

static void
test_format_changes_with_each_field(void)
{
	char base[ETAG_MAX], other[ETAG_MAX];

	format(100, 1700000000, 5, 42, base);
	format(101, 1700000000, 5, 42, other);
	CHECK(strcmp(base, other) != 0);
	format(100, 1700000001, 5, 42, other);
	CHECK(strcmp(base, other) != 0);
	format(100, 1700000000, 6, 42, other);
	CHECK(strcmp(base, other) != 0);
	format(100, 1700000000, 5, 43, other);
	CHECK(strcmp(base, other) != 0);
	format(100, 1700000000, 5, 42, other);
	CHECK(strcmp(base, other) == 0);
}

static void
test_format_is_a_valid_strong_tag(void)
{
	char out[ETAG_MAX];
	size_t n = format(123456789, 1600000000, 123, 99, out);

	CHECK(etag_match_strong(out, n, out, n) == 1);
	CHECK(etag_list_match_weak(out, n, out, n) == 1);
}

static void
test_weak_exact_tag_matches(void)
{
	CHECK(weak("\"1234-5f5e100-1-abc\"") == 1);
}

static void
test_weak_tag_in_list_matches(void)
{
	CHECK(weak("\"a\", \"1234-5f5e100-1-abc\", \"b\"") == 1);
	CHECK(weak("\"a\",\"1234-5f5e100-1-abc\"") == 1);
	CHECK(weak("\"1234-5f5e100-1-abc\" ,\t\"z\"") == 1);
}

static void
test_weak_comparison_ignores_w_prefix(void)
{
	CHECK(weak("W/\"1234-5f5e100-1-abc\"") == 1);
	CHECK(weak("\"x\", W/\"1234-5f5e100-1-abc\"") == 1);
	CHECK(etag_list_match_weak("\"a\"", 3, "W/\"a\"", 5) == 1);
}

static void
test_weak_no_match(void)
{
	CHECK(weak("\"1234-5f5e100-1-abd\"") == 0);
	CHECK(weak("\"a\", \"b\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-ab\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-abcd\"") == 0);
	CHECK(weak("\"1234-5F5E100-1-ABC\"") == 0);
}

static void
test_weak_star_matches_any(void)
{
	CHECK(weak("*") == 1);
	CHECK(weak(" * ") == 1);
	CHECK(etag_list_match_weak("*", 1, "\"other\"", 7) == 1);
}

static void
test_weak_star_in_list_is_bad_syntax(void)
{
	CHECK(weak("*, \"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-abc\", *") == 0);
	CHECK(weak("**") == 0);
}

static void
test_weak_quoted_star_is_an_ordinary_tag(void)
{
	CHECK(weak("\"*\"") == 0);
	CHECK(etag_list_match_weak("\"*\"", 3, "\"*\"", 3) == 1);
}

static void
test_weak_empty_list_elements_allowed(void)
{
	CHECK(weak(", ,\"1234-5f5e100-1-abc\",, ") == 1);
	CHECK(weak(",") == 0);
}

static void
test_weak_empty_value_matches_nothing(void)
{
	CHECK(weak("") == 0);
	CHECK(weak("   ") == 0);
	CHECK(etag_list_match_weak(NULL, 0, tag, strlen(tag)) == 0);
	CHECK(etag_match_strong(NULL, 0, tag, strlen(tag)) == 0);
}

static void
test_weak_bad_syntax_matches_nothing(void)
{
	CHECK(weak("1234-5f5e100-1-abc") == 0);
	CHECK(weak("\"1234-5f5e100-1-abc") == 0);
	CHECK(weak("1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("w/\"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("W\"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("W/ \"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("\"a b\"") == 0);
	CHECK(weak("\"a\x7f\"") == 0);
	CHECK(weak("\"a\x01\"") == 0);
}

static void
test_weak_bad_element_spoils_whole_list(void)
{
	CHECK(weak("\"1234-5f5e100-1-abc\", bad") == 0);
	CHECK(weak("bad, \"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-abc\" \"x\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-abc\"x") == 0);
	CHECK(weak("\"x\"\"1234-5f5e100-1-abc\"") == 0);
	CHECK(weak("\"1234-5f5e100-1-abc\", \"unterminated") == 0);
}

static void
test_weak_obs_text_in_tag_allowed(void)
{
	CHECK(etag_list_match_weak("\"\xc3\xa9\"", 4, "\"\xc3\xa9\"", 4) == 1);
	CHECK(etag_list_match_weak("\"!#~\"", 5, "\"!#~\"", 5) == 1);
	CHECK(etag_list_match_weak("\"\"", 2, "\"\"", 2) == 1);
}

static void
test_weak_respects_length(void)
{
	const char *l = "\"1234-5f5e100-1-abc\"";

	CHECK(etag_list_match_weak(l, strlen(l) - 1, tag, strlen(tag)) == 0);
	CHECK(etag_list_match_weak(l, strlen(l), tag, strlen(tag)) == 1);
}

static void
test_strong_exact_tag_matches(void)
{
	CHECK(strong("\"1234-5f5e100-1-abc\"") == 1);
	CHECK(strong(" \"1234-5f5e100-1-abc\"\t") == 1);
}

static void
test_strong_weak_value_never_matches(void)
{
	CHECK(strong("W/\"1234-5f5e100-1-abc\"") == 0);
}

static void
test_strong_weak_tag_never_matches(void)
{
	CHECK(etag_match_strong("\"a\"", 3, "W/\"a\"", 5) == 0);
	CHECK(etag_match_strong("W/\"a\"", 5, "W/\"a\"", 5) == 0);
	CHECK(etag_match_strong("\"a\"", 3, "", 0) == 0);
}

static void
test_strong_different_tag_does_not_match(void)
{
	CHECK(strong("\"1234-5f5e100-1-abd\"") == 0);
	CHECK(strong("\"1234-5f5e100-1-ab\"") == 0);
	CHECK(strong("\"x\"") == 0);
}

static void
test_strong_needs_single_tag(void)
{
	CHECK(strong("\"1234-5f5e100-1-abc\", \"x\"") == 0);
	CHECK(strong("\"x\", \"1234-5f5e100-1-abc\"") == 0);
	CHECK(strong("*") == 0);
	CHECK(strong("") == 0);
	CHECK(strong("Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	CHECK(strong("1234-5f5e100-1-abc") == 0);
	CHECK(strong("\"1234-5f5e100-1-abc") == 0);
}

int
main(void)
{
	test_format_lowercase_hex_fields();
	test_format_zeros();
	test_format_largest_values_fit();
	test_format_files_over_4gib();
	test_format_changes_with_each_field();
	test_format_is_a_valid_strong_tag();
	test_weak_exact_tag_matches();
	test_weak_tag_in_list_matches();
	test_weak_comparison_ignores_w_prefix();
	test_weak_no_match();
	test_weak_star_matches_any();
	test_weak_star_in_list_is_bad_syntax();
	test_weak_quoted_star_is_an_ordinary_tag();
	test_weak_empty_list_elements_allowed();
	test_weak_empty_value_matches_nothing();
	test_weak_bad_syntax_matches_nothing();
	test_weak_bad_element_spoils_whole_list();
	test_weak_obs_text_in_tag_allowed();
	test_weak_respects_length();
	test_strong_exact_tag_matches();
	test_strong_weak_value_never_matches();
	test_strong_weak_tag_never_matches();
	test_strong_different_tag_does_not_match();
	test_strong_needs_single_tag();
	return unit_done("etag");
}
