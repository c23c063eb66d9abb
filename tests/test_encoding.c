/*
 * Unit tests for Accept-Encoding (src/encoding.c): one test per rule.
 */
#include "encoding.h"
#include "unit.h"

#define ALL (ENCODING_BR | ENCODING_ZSTD | ENCODING_GZIP)

static unsigned
ae(const char *s)
{
	return encoding_accepted(s, strlen(s));
}

static void
test_empty_header_accepts_nothing(void)
{
	CHECK(ae("") == 0);
	CHECK(ae(" , ,") == 0);
	CHECK(encoding_accepted(NULL, 0) == 0);
}

static void
test_single_codings(void)
{
	CHECK(ae("br") == ENCODING_BR);
	CHECK(ae("zstd") == ENCODING_ZSTD);
	CHECK(ae("gzip") == ENCODING_GZIP);
}

static void
test_x_gzip_is_gzip(void)
{
	CHECK(ae("x-gzip") == ENCODING_GZIP);
	CHECK(ae("X-GZip") == ENCODING_GZIP);
	CHECK(ae("x-gzip;q=0, *") == (ENCODING_BR | ENCODING_ZSTD));
}

static void
test_list_of_codings(void)
{
	CHECK(ae("gzip, deflate, br, zstd") == ALL);
	CHECK(ae("gzip,br") == (ENCODING_GZIP | ENCODING_BR));
	CHECK(ae("  gzip ,\tzstd  ") == (ENCODING_GZIP | ENCODING_ZSTD));
}

static void
test_codings_are_case_insensitive(void)
{
	CHECK(ae("BR, ZSTD, GZIP") == ALL);
	CHECK(ae("Br, zStD, gZiP") == ALL);
}

static void
test_unknown_codings_ignored(void)
{
	CHECK(ae("deflate, compress, identity, bzip2") == 0);
	CHECK(ae("brotli, gzip2, zst, gz") == 0);
}

static void
test_star_accepts_all(void)
{
	CHECK(ae("*") == ALL);
	CHECK(ae("*;q=0.1") == ALL);
}

static void
test_star_q_zero_accepts_nothing(void)
{
	CHECK(ae("*;q=0") == 0);
}

static void
test_explicit_entry_overrides_star(void)
{
	CHECK(ae("*, gzip;q=0") == (ENCODING_BR | ENCODING_ZSTD));
	CHECK(ae("br;q=0, *") == (ENCODING_ZSTD | ENCODING_GZIP));
	CHECK(ae("*;q=0, br") == ENCODING_BR);
	CHECK(ae("gzip, *;q=0") == ENCODING_GZIP);
}

static void
test_q_zero_refuses(void)
{
	CHECK(ae("gzip;q=0") == 0);
	CHECK(ae("gzip;q=0.") == 0);
	CHECK(ae("gzip;q=0.0") == 0);
	CHECK(ae("gzip;q=0.00") == 0);
	CHECK(ae("gzip;q=0.000") == 0);
	CHECK(ae("br;q=0, gzip") == ENCODING_GZIP);
}

static void
test_positive_q_accepts(void)
{
	CHECK(ae("gzip;q=1") == ENCODING_GZIP);
	CHECK(ae("gzip;q=1.") == ENCODING_GZIP);
	CHECK(ae("gzip;q=1.0") == ENCODING_GZIP);
	CHECK(ae("gzip;q=1.000") == ENCODING_GZIP);
	CHECK(ae("gzip;q=0.5") == ENCODING_GZIP);
	CHECK(ae("gzip;q=0.001") == ENCODING_GZIP);
	CHECK(ae("gzip;q=0.01") == ENCODING_GZIP);
}

static void
test_q_name_is_case_insensitive(void)
{
	CHECK(ae("gzip;Q=0.5") == ENCODING_GZIP);
	CHECK(ae("*, gzip;Q=0") == (ENCODING_BR | ENCODING_ZSTD));
}

static void
test_ows_around_semicolon(void)
{
	CHECK(ae("gzip ; q=0.5") == ENCODING_GZIP);
	CHECK(ae("gzip\t;\tq=0") == 0);
	CHECK(ae("*, gzip ;q=0 ") == (ENCODING_BR | ENCODING_ZSTD));
}

static void
test_whitespace_around_equals_drops_element(void)
{
	CHECK(ae("gzip;q =0.5") == 0);
	CHECK(ae("gzip;q= 0.5") == 0);
	CHECK(ae("*, gzip;q= 0") == ALL);
}

static void
test_invalid_q_drops_element(void)
{
	CHECK(ae("gzip;q=2") == 0);
	CHECK(ae("gzip;q=1.5") == 0);
	CHECK(ae("gzip;q=1.001") == 0);
	CHECK(ae("gzip;q=0.0001") == 0);
	CHECK(ae("gzip;q=0.5000") == 0);
	CHECK(ae("gzip;q=.5") == 0);
	CHECK(ae("gzip;q=-1") == 0);
	CHECK(ae("gzip;q=") == 0);
	CHECK(ae("gzip;q=0.5x") == 0);
	CHECK(ae("gzip;q=0,5") == 0);
	CHECK(ae("gzip;q=00") == 0);
	CHECK(ae("gzip;q=1e0") == 0);
	CHECK(ae("gzip;q=99999999999999999999") == 0);
}

static void
test_invalid_q_zero_does_not_refuse(void)
{
	/* a dropped element is as if absent: "*" decides */
	CHECK(ae("*, gzip;q=0.0000") == ALL);
	CHECK(ae("*, gzip;q=-0") == ALL);
}

static void
test_bad_element_drops_only_itself(void)
{
	CHECK(ae("gzip;q=2, br") == ENCODING_BR);
	CHECK(ae("br, zstd;level=3, gzip") == (ENCODING_BR | ENCODING_GZIP));
	CHECK(ae("g(zip, br") == ENCODING_BR);
	CHECK(ae("gzip br, zstd") == ENCODING_ZSTD);
	CHECK(ae(";q=1, gzip") == ENCODING_GZIP);
}

static void
test_other_parameters_drop_element(void)
{
	CHECK(ae("gzip;level=1") == 0);
	CHECK(ae("gzip;q=0.5;x=1") == 0);
	CHECK(ae("gzip;") == 0);
	CHECK(ae("gzip;;q=1") == 0);
	CHECK(ae("gzip;qq=1") == 0);
}

static void
test_first_listing_of_a_coding_wins(void)
{
	CHECK(ae("gzip;q=0, gzip") == 0);
	CHECK(ae("gzip, gzip;q=0") == ENCODING_GZIP);
	CHECK(ae("x-gzip;q=0, gzip") == 0);
	CHECK(ae("*;q=0, *") == 0);
}

static void
test_empty_elements_skipped(void)
{
	CHECK(ae(",,gzip,, ,br,") == (ENCODING_GZIP | ENCODING_BR));
}

static void
test_respects_length(void)
{
	CHECK(encoding_accepted("gzip, br", 4) == ENCODING_GZIP);
	CHECK(encoding_accepted("gzip;q=0", 4) == ENCODING_GZIP);
	CHECK(encoding_accepted("brx", 2) == ENCODING_BR);
}

int
main(void)
{
	test_empty_header_accepts_nothing();
	test_single_codings();
	test_x_gzip_is_gzip();
	test_list_of_codings();
	test_codings_are_case_insensitive();
	test_unknown_codings_ignored();
	test_star_accepts_all();
	test_star_q_zero_accepts_nothing();
	test_explicit_entry_overrides_star();
	test_q_zero_refuses();
	test_positive_q_accepts();
	test_q_name_is_case_insensitive();
	test_ows_around_semicolon();
	test_whitespace_around_equals_drops_element();
	test_invalid_q_drops_element();
	test_invalid_q_zero_does_not_refuse();
	test_bad_element_drops_only_itself();
	test_other_parameters_drop_element();
	test_first_listing_of_a_coding_wins();
	test_empty_elements_skipped();
	test_respects_length();
	return unit_done("encoding");
}
