/*
 * Unit tests for Range parsing (src/range.c): one test per rule.
 */
#include <stdint.h>

#include "range.h"
#include "unit.h"

static uint64_t first, last;

static enum range_result
rp(const char *s, uint64_t size)
{
	first = last = 0xdeadbeef;
	return range_parse(s, strlen(s), size, &first, &last);
}

/* RANGE_OK with the given inclusive offsets. */
#define OK(s, size, a, b) CHECK(rp((s), (size)) == RANGE_OK && first == (a) && last == (b))

#define GiB (UINT64_C(1) << 30)

static void
test_closed_range(void)
{
	OK("bytes=0-0", 10, 0, 0);
	OK("bytes=0-9", 10, 0, 9);
	OK("bytes=2-5", 10, 2, 5);
	OK("bytes=9-9", 10, 9, 9);
}

static void
test_open_range_runs_to_end(void)
{
	OK("bytes=3-", 10, 3, 9);
	OK("bytes=0-", 10, 0, 9);
	OK("bytes=9-", 10, 9, 9);
}

static void
test_suffix_range(void)
{
	OK("bytes=-1", 10, 9, 9);
	OK("bytes=-4", 10, 6, 9);
	OK("bytes=-9", 10, 1, 9);
}

static void
test_suffix_as_long_as_file_is_whole_file(void)
{
	OK("bytes=-10", 10, 0, 9);
	OK("bytes=-11", 10, 0, 9);
	OK("bytes=-1000000", 10, 0, 9);
}

static void
test_suffix_zero_is_unsatisfiable(void)
{
	CHECK(rp("bytes=-0", 10) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=-000", 10) == RANGE_UNSATISFIABLE);
}

static void
test_last_clamped_to_size(void)
{
	OK("bytes=5-100", 10, 5, 9);
	OK("bytes=0-10", 10, 0, 9);
}

static void
test_first_at_or_past_end_is_unsatisfiable(void)
{
	CHECK(rp("bytes=10-", 10) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=10-20", 10) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=11-11", 10) == RANGE_UNSATISFIABLE);
}

static void
test_last_before_first_is_ignored(void)
{
	CHECK(rp("bytes=5-4", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=20-4", 10) == RANGE_IGNORE);
}

static void
test_empty_file_any_valid_range_is_unsatisfiable(void)
{
	CHECK(rp("bytes=0-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=0-", 0) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=-5", 0) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=-0", 0) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=1-0", 0) == RANGE_IGNORE);
	CHECK(rp("bytes=x", 0) == RANGE_IGNORE);
}

static void
test_unit_is_case_insensitive(void)
{
	OK("BYTES=1-2", 10, 1, 2);
	OK("Bytes=1-2", 10, 1, 2);
	OK("bYtEs=-2", 10, 8, 9);
}

static void
test_other_unit_is_ignored(void)
{
	CHECK(rp("items=1-2", 10) == RANGE_IGNORE);
	CHECK(rp("byte=1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bytesx=1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bits=1-2", 10) == RANGE_IGNORE);
	CHECK(rp("", 10) == RANGE_IGNORE);
	CHECK(rp("bytes", 10) == RANGE_IGNORE);
	CHECK(range_parse(NULL, 0, 10, &first, &last) == RANGE_IGNORE);
}

static void
test_whitespace_around_equals_sign_is_ignored(void)
{
	CHECK(rp("bytes =1-2", 10) == RANGE_IGNORE);
	CHECK(rp(" bytes=1-2", 10) == RANGE_IGNORE);
}

static void
test_ows_around_range_spec_is_allowed(void)
{
	OK("bytes= 1-2", 10, 1, 2);
	OK("bytes=1-2 ", 10, 1, 2);
	OK("bytes=\t 1-2 \t", 10, 1, 2);
	OK("bytes= -3 ", 10, 7, 9);
}

static void
test_whitespace_inside_range_spec_is_ignored(void)
{
	CHECK(rp("bytes=1 -2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1- 2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=- 2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1 2", 10) == RANGE_IGNORE);
}

static void
test_empty_list_elements_are_allowed(void)
{
	OK("bytes=1-2,", 10, 1, 2);
	OK("bytes=,1-2", 10, 1, 2);
	OK("bytes= , ,1-2 , ,", 10, 1, 2);
}

static void
test_several_ranges_are_ignored(void)
{
	CHECK(rp("bytes=0-1,2-3", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=0-1, 2-3", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=0-1 ,-3", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=0-0,0-0,0-0", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=50-,0-1", 10) == RANGE_IGNORE);
}

static void
test_syntax_errors_are_ignored(void)
{
	CHECK(rp("bytes=", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=,", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=-", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=--1", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1--2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1-2-", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=-1-", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=-1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=a-b", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1-2x", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=+1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=0x1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1-2;", 10) == RANGE_IGNORE);
	CHECK(rp("bytes==1-2", 10) == RANGE_IGNORE);
	CHECK(rp("bytes=1-2\r\n", 10) == RANGE_IGNORE);
}

static void
test_outputs_untouched_unless_ok(void)
{
	CHECK(rp("bytes=10-", 10) == RANGE_UNSATISFIABLE);
	CHECK(first == 0xdeadbeef && last == 0xdeadbeef);
	CHECK(rp("bytes=x", 10) == RANGE_IGNORE);
	CHECK(first == 0xdeadbeef && last == 0xdeadbeef);
}

static void
test_length_is_respected(void)
{
	const char *s = "bytes=1-23";

	/* only "bytes=1-2" is given: the 3 is beyond len */
	first = last = 0;
	CHECK(range_parse(s, 9, 100, &first, &last) == RANGE_OK);
	CHECK(first == 1 && last == 2);
	CHECK(range_parse(s, 5, 100, &first, &last) == RANGE_IGNORE);
}

static void
test_leading_zeros(void)
{
	OK("bytes=0001-0002", 10, 1, 2);
	OK("bytes=-0003", 10, 7, 9);
}

static void
test_files_over_4gib(void)
{
	uint64_t size = 5 * GiB;

	OK("bytes=4294967296-4294967299", size, 4 * GiB, 4 * GiB + 3);
	OK("bytes=4294967295-", size, 4 * GiB - 1, size - 1);
	OK("bytes=-1", size, size - 1, size - 1);
	OK("bytes=-4294967297", size, size - 4 * GiB - 1, size - 1);
	OK("bytes=0-99999999999", size, 0, size - 1);
	CHECK(rp("bytes=5368709120-", size) == RANGE_UNSATISFIABLE);
	OK("bytes=5368709119-", size, size - 1, size - 1);
}

static void
test_max_uint64_size(void)
{
	OK("bytes=18446744073709551614-", UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 1);
	OK("bytes=-18446744073709551615", UINT64_MAX, 0, UINT64_MAX - 1);
	OK("bytes=0-", UINT64_MAX, 0, UINT64_MAX - 1);
}

static void
test_huge_numbers_saturate(void)
{
	/* 20 and more digits: beyond 2^64, parsed without overflow */
	CHECK(rp("bytes=18446744073709551616-", 10) == RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=99999999999999999999999999999999999999-", 10) == RANGE_UNSATISFIABLE);
	OK("bytes=0-99999999999999999999999999999999999999", 10, 0, 9);
	OK("bytes=-99999999999999999999999999999999999999", 10, 0, 9);
	OK("bytes=3-18446744073709551616", 10, 3, 9);
}

static void
test_huge_numbers_do_not_wrap(void)
{
	/* 2^64 + 5 would wrap to 5 in unchecked arithmetic */
	CHECK(rp("bytes=18446744073709551621-", 100) == RANGE_UNSATISFIABLE);
	OK("bytes=0-18446744073709551621", 100, 0, 99);
	OK("bytes=-18446744073709551621", 100, 0, 99);
	CHECK(rp("bytes=18446744073709551615-18446744073709551614", 100) ==
	    RANGE_IGNORE);
	/* last < first is invalid even when both are beyond 2^64 */
	CHECK(rp("bytes=99999999999999999999-99999999999999999998", 100) ==
	    RANGE_IGNORE);
	CHECK(rp("bytes=100000000000000000000-99999999999999999999", 100) ==
	    RANGE_IGNORE);
	CHECK(rp("bytes=99999999999999999999-000099999999999999999999", 100) ==
	    RANGE_UNSATISFIABLE);
	CHECK(rp("bytes=99999999999999999998-99999999999999999999", 100) ==
	    RANGE_UNSATISFIABLE);
}

static void
test_many_digit_zero(void)
{
	char buf[300];

	memset(buf, '0', sizeof(buf));
	memcpy(buf, "bytes=", 6);
	buf[150] = '-';
	buf[sizeof(buf) - 1] = '\0';
	OK(buf, 10, 0, 0);
}

int
main(void)
{
	test_closed_range();
	test_open_range_runs_to_end();
	test_suffix_range();
	test_suffix_as_long_as_file_is_whole_file();
	test_suffix_zero_is_unsatisfiable();
	test_last_clamped_to_size();
	test_first_at_or_past_end_is_unsatisfiable();
	test_last_before_first_is_ignored();
	test_empty_file_any_valid_range_is_unsatisfiable();
	test_unit_is_case_insensitive();
	test_other_unit_is_ignored();
	test_whitespace_around_equals_sign_is_ignored();
	test_ows_around_range_spec_is_allowed();
	test_whitespace_inside_range_spec_is_ignored();
	test_empty_list_elements_are_allowed();
	test_several_ranges_are_ignored();
	test_syntax_errors_are_ignored();
	test_outputs_untouched_unless_ok();
	test_length_is_respected();
	test_leading_zeros();
	test_files_over_4gib();
	test_max_uint64_size();
	test_huge_numbers_saturate();
	test_huge_numbers_do_not_wrap();
	test_many_digit_zero();
	return unit_done("range");
}
