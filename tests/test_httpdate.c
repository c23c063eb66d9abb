/*
 * Unit tests for HTTP and log dates (src/httpdate.c): one test per rule.
 * The C library's gmtime_r and strftime serve as the reference here; the
 * module itself must not use them.
 */
#include <stdint.h>
#include <time.h>

#include "httpdate.h"
#include "unit.h"

static time_t parsed;

static int
hp(const char *s)
{
	parsed = (time_t)-12345;
	return httpdate_parse(s, strlen(s), &parsed);
}

/* Parses s and checks it gives t. */
#define PARSES(s, t) CHECK(hp(s) == 0 && parsed == (time_t)(t))
#define REFUSED(s) CHECK(hp(s) == -1 && parsed == (time_t)-12345)

static void
test_format_epoch(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format(0, out);
	CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
}

static void
test_format_rfc_example(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format(784111777, out);
	CHECK(strcmp(out, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
	CHECK(strlen(out) == HTTPDATE_LEN);
}

static void
test_format_leap_days(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format(951782400, out);
	CHECK(strcmp(out, "Tue, 29 Feb 2000 00:00:00 GMT") == 0);
	httpdate_format(1709208000, out);
	CHECK(strcmp(out, "Thu, 29 Feb 2024 12:00:00 GMT") == 0);
	httpdate_format(68255999, out);
	CHECK(strcmp(out, "Tue, 29 Feb 1972 23:59:59 GMT") == 0);
	httpdate_format(4107542400, out);	/* 2100 is not a leap year */
	CHECK(strcmp(out, "Mon, 01 Mar 2100 00:00:00 GMT") == 0);
}

static void
test_format_beyond_2038(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format((time_t)INT64_C(2147483648), out);
	CHECK(strcmp(out, "Tue, 19 Jan 2038 03:14:08 GMT") == 0);
}

static void
test_format_clamps_before_1970(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format(-1, out);
	CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
	httpdate_format((time_t)INT64_MIN, out);
	CHECK(strcmp(out, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
}

static void
test_format_clamps_after_9999(void)
{
	char out[HTTPDATE_LEN + 1];

	httpdate_format((time_t)INT64_C(253402300799), out);
	CHECK(strcmp(out, "Fri, 31 Dec 9999 23:59:59 GMT") == 0);
	httpdate_format((time_t)INT64_C(253402300800), out);
	CHECK(strcmp(out, "Fri, 31 Dec 9999 23:59:59 GMT") == 0);
	httpdate_format((time_t)INT64_MAX, out);
	CHECK(strcmp(out, "Fri, 31 Dec 9999 23:59:59 GMT") == 0);
}

static void
test_format_matches_libc_over_range(void)
{
	char out[HTTPDATE_LEN + 1], ref[64];
	struct tm tm;
	int64_t t;
	int bad = 0;

	/* steps that are prime, so every time of day and every date moves */
	for (t = 0; t <= INT64_C(253402300799); t += 86399 * 7 + 13) {
		httpdate_format((time_t)t, out);
		gmtime_r(&(time_t){ (time_t)t }, &tm);
		strftime(ref, sizeof(ref), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		if (strcmp(out, ref) != 0 && bad++ < 5)
			fprintf(stderr, "%lld: %s, want %s\n", (long long)t, out, ref);
	}
	CHECK(bad == 0);
}

static void
test_clf_format(void)
{
	char out[CLFDATE_LEN + 1];

	clfdate_format(784111777, out);
	CHECK(strcmp(out, "06/Nov/1994:08:49:37 +0000") == 0);
	CHECK(strlen(out) == CLFDATE_LEN);
	clfdate_format(0, out);
	CHECK(strcmp(out, "01/Jan/1970:00:00:00 +0000") == 0);
}

static void
test_clf_format_matches_libc_over_range(void)
{
	char out[CLFDATE_LEN + 1], ref[64];
	struct tm tm;
	int64_t t;
	int bad = 0;

	for (t = 0; t <= INT64_C(253402300799); t += 86399 * 11 + 7) {
		clfdate_format((time_t)t, out);
		gmtime_r(&(time_t){ (time_t)t }, &tm);
		strftime(ref, sizeof(ref), "%d/%b/%Y:%H:%M:%S +0000", &tm);
		if (strcmp(out, ref) != 0)
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_format_parse_round_trip(void)
{
	char out[HTTPDATE_LEN + 1];
	int64_t t;
	time_t back;
	int bad = 0;

	for (t = 0; t <= INT64_C(253402300799); t += 86399 * 5 + 3) {
		httpdate_format((time_t)t, out);
		if (httpdate_parse(out, HTTPDATE_LEN, &back) != 0 || back != (time_t)t)
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_parse_imf_fixdate(void)
{
	PARSES("Sun, 06 Nov 1994 08:49:37 GMT", 784111777);
	PARSES("Thu, 01 Jan 1970 00:00:00 GMT", 0);
	PARSES("Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799));
}

static void
test_parse_asctime(void)
{
	PARSES("Sun Nov  6 08:49:37 1994", 784111777);
	PARSES("Sun Nov 06 08:49:37 1994", 784111777);
	PARSES("Tue Feb 29 00:00:00 2000", 951782400);
}

static void
test_parse_rfc850(void)
{
	PARSES("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
	PARSES("Tuesday, 29-Feb-00 00:00:00 GMT", 951782400);
}

static void
test_rfc850_two_digit_year_window(void)
{
	struct tm tm;
	time_t now = time(NULL);
	int year, yy, want, bad = 0;
	char buf[64];

	gmtime_r(&now, &tm);
	year = tm.tm_year + 1900;
	for (yy = 0; yy < 100; yy++) {
		/* the year with these last digits within [year-49, year+50] */
		want = year - year % 100 + yy;
		if (want > year + 50)
			want -= 100;
		if (want < year - 49)
			want += 100;
		/* 1 March exists in every year and needs no weekday check */
		snprintf(buf, sizeof(buf), "Monday, 01-Mar-%02d 00:00:00 GMT", yy);
		if (want < 1970) {
			if (hp(buf) != -1)
				bad++;
			continue;
		}
		struct tm w = { .tm_year = want - 1900, .tm_mon = 2, .tm_mday = 1 };
		if (hp(buf) != 0 || parsed != timegm(&w))
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_rfc850_year_more_than_50_years_ahead_is_past(void)
{
	struct tm tm;
	time_t now = time(NULL);
	char buf[64];
	int yy, year;

	gmtime_r(&now, &tm);
	/* 51 years ahead: a century earlier */
	yy = (tm.tm_year + 1900 + 51) % 100;
	snprintf(buf, sizeof(buf), "Monday, 01-Mar-%02d 00:00:00 GMT", yy);
	CHECK(hp(buf) == 0);
	CHECK(parsed < now);
	year = tm.tm_year + 1900;
	gmtime_r(&parsed, &tm);
	CHECK(tm.tm_year + 1900 == year + 51 - 100);
	/* 50 years ahead: still in the future */
	yy = (year + 50) % 100;
	snprintf(buf, sizeof(buf), "Monday, 01-Mar-%02d 00:00:00 GMT", yy);
	CHECK(hp(buf) == 0);
	gmtime_r(&parsed, &tm);
	CHECK(tm.tm_year + 1900 == year + 50);
}

static void
test_parse_leap_second(void)
{
	PARSES("Sun, 06 Nov 1994 08:49:60 GMT", 784111777 + 23);
	REFUSED("Sun, 06 Nov 1994 08:49:61 GMT");
}

static void
test_parse_feb_29_in_leap_years(void)
{
	PARSES("Tue, 29 Feb 2000 00:00:00 GMT", 951782400);
	PARSES("Thu, 29 Feb 2024 12:00:00 GMT", 1709208000);
	PARSES("Tue, 29 Feb 1972 23:59:59 GMT", 68255999);
}

static void
test_parse_feb_29_in_common_years_refused(void)
{
	REFUSED("Wed, 29 Feb 2023 00:00:00 GMT");
	REFUSED("Mon, 29 Feb 2100 00:00:00 GMT");	/* divisible by 100 */
	REFUSED("Thu, 29 Feb 1900 00:00:00 GMT");
	REFUSED("Sun Feb 29 00:00:00 2023");
	REFUSED("Sunday, 29-Feb-23 00:00:00 GMT");
}

static void
test_parse_day_beyond_month_refused(void)
{
	REFUSED("Sat, 31 Feb 2024 00:00:00 GMT");
	REFUSED("Sat, 30 Feb 2024 00:00:00 GMT");
	REFUSED("Sat, 31 Apr 2024 00:00:00 GMT");
	REFUSED("Sat, 31 Jun 2024 00:00:00 GMT");
	REFUSED("Sat, 31 Sep 2024 00:00:00 GMT");
	REFUSED("Sat, 31 Nov 2024 00:00:00 GMT");
	REFUSED("Sat, 32 Jan 2024 00:00:00 GMT");
	REFUSED("Sat, 00 Jan 2024 00:00:00 GMT");
	REFUSED("Sat Jan  0 00:00:00 2024");
	PARSES("Tue, 30 Apr 2024 00:00:00 GMT", 1714435200);
	PARSES("Tue, 31 Dec 2024 00:00:00 GMT", 1735603200);
}

static void
test_parse_time_fields_checked(void)
{
	REFUSED("Sun, 06 Nov 1994 24:00:00 GMT");
	REFUSED("Sun, 06 Nov 1994 08:60:00 GMT");
	REFUSED("Sun, 06 Nov 1994 8:49:37 GMT ");
	REFUSED("Sun, 06 Nov 1994 08-49-37 GMT");
	REFUSED("Sun, 06 Nov 1994 08:4a:37 GMT");
}

static void
test_parse_year_range(void)
{
	REFUSED("Wed, 31 Dec 1969 23:59:59 GMT");
	REFUSED("Sat, 01 Jan 0000 00:00:00 GMT");
	REFUSED("Sat, 01 Jan 1000 00:00:00 GMT");
	PARSES("Thu, 01 Jan 1970 00:00:00 GMT", 0);
	PARSES("Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799));
	REFUSED("Wed Dec 31 23:59:59 1969");
}

static void
test_parse_day_names_must_be_valid(void)
{
	REFUSED("Sux, 06 Nov 1994 08:49:37 GMT");
	REFUSED("sun, 06 Nov 1994 08:49:37 GMT");
	REFUSED("SUN, 06 Nov 1994 08:49:37 GMT");
	REFUSED("Xyz Nov  6 08:49:37 1994");
	REFUSED("Sonday, 06-Nov-94 08:49:37 GMT");
	REFUSED("sunday, 06-Nov-94 08:49:37 GMT");
}

static void
test_parse_weekday_not_checked_against_date(void)
{
	/* the date decides; a wrong but valid day name is accepted */
	PARSES("Mon, 06 Nov 1994 08:49:37 GMT", 784111777);
	PARSES("Fri Nov  6 08:49:37 1994", 784111777);
	PARSES("Friday, 06-Nov-94 08:49:37 GMT", 784111777);
}

static void
test_parse_form_and_day_name_must_agree(void)
{
	REFUSED("Sunday, 06 Nov 1994 08:49:37 GMT");
	REFUSED("Sun, 06-Nov-94 08:49:37 GMT");
	REFUSED("Sunday Nov  6 08:49:37 1994");
}

static void
test_parse_month_names_checked(void)
{
	REFUSED("Sun, 06 nov 1994 08:49:37 GMT");
	REFUSED("Sun, 06 NOV 1994 08:49:37 GMT");
	REFUSED("Sun, 06 Now 1994 08:49:37 GMT");
	REFUSED("Sun Xxx  6 08:49:37 1994");
	REFUSED("Sunday, 06-Xxx-94 08:49:37 GMT");
}

static void
test_parse_every_month(void)
{
	static const char *m[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char buf[64];
	struct tm tm;
	int i, bad = 0;

	for (i = 0; i < 12; i++) {
		snprintf(buf, sizeof(buf), "Sun, 15 %s 2023 10:00:00 GMT", m[i]);
		if (hp(buf) != 0)
			bad++;
		gmtime_r(&parsed, &tm);
		if (tm.tm_mon != i || tm.tm_mday != 15 || tm.tm_year != 123)
			bad++;
	}
	CHECK(bad == 0);
}

static void
test_parse_needs_gmt(void)
{
	REFUSED("Sun, 06 Nov 1994 08:49:37 UTC");
	REFUSED("Sun, 06 Nov 1994 08:49:37 gmt");
	REFUSED("Sunday, 06-Nov-94 08:49:37 UTC");
	REFUSED("Sun, 06 Nov 1994 08:49:37 +0000");
}

static void
test_parse_exact_layout(void)
{
	REFUSED("");
	CHECK(httpdate_parse(NULL, 0, &parsed) == -1);
	REFUSED("Sun, 6 Nov 1994 08:49:37 GMT");
	REFUSED("Sun,  06 Nov 1994 08:49:37 GMT");
	REFUSED("Sun, 06 Nov 94 08:49:37 GMT");
	REFUSED("Sun, 06 Nov 1994 08:49:37 GMT ");
	REFUSED(" Sun, 06 Nov 1994 08:49:37 GMT");
	REFUSED("Sun, 06 Nov 1994 08:49:37 GMT; length=1");
	REFUSED("Sun, 06-Nov-1994 08:49:37 GMT");
	REFUSED("Sun,x06 Nov 1994 08:49:37 GMT");
	REFUSED("Sun Nov  6 08:49:37 1994 ");
	REFUSED("Sun Nov 6 08:49:37 1994");
	REFUSED("Sun Nov  6  8:49:37 1994");
	REFUSED("Sunday, 06-Nov-94 08:49:37 GMT ");
	REFUSED("Sunday, 6-Nov-94 08:49:37 GMT");
	REFUSED("Sunday,06-Nov-94 08:49:37 GMTx");
	REFUSED("1994-11-06T08:49:37Z");
	REFUSED("784111777");
}

static void
test_parse_non_digits_refused(void)
{
	REFUSED("Sun, 0x Nov 1994 08:49:37 GMT");
	REFUSED("Sun, 06 Nov 19x4 08:49:37 GMT");
	REFUSED("Sun, 06 Nov -994 08:49:37 GMT");
	REFUSED("Sun, +6 Nov 1994 08:49:37 GMT");
	REFUSED("Sun Nov  x 08:49:37 1994");
	REFUSED("Sunday, 06-Nov-9x 08:49:37 GMT");
	REFUSED("Sun, 06 Nov 1994 08:49:3\x80 GMT");
}

static void
test_parse_respects_length(void)
{
	const char *s = "Sun, 06 Nov 1994 08:49:37 GMTxyz";
	time_t t = 0;

	CHECK(httpdate_parse(s, 29, &t) == 0 && t == 784111777);
	CHECK(httpdate_parse(s, 28, &t) == -1);
	CHECK(httpdate_parse(s, 32, &t) == -1);
}

int
main(void)
{
	test_format_epoch();
	test_format_rfc_example();
	test_format_leap_days();
	test_format_beyond_2038();
	test_format_clamps_before_1970();
	test_format_clamps_after_9999();
	test_format_matches_libc_over_range();
	test_clf_format();
	test_clf_format_matches_libc_over_range();
	test_format_parse_round_trip();
	test_parse_imf_fixdate();
	test_parse_asctime();
	test_parse_rfc850();
	test_rfc850_two_digit_year_window();
	test_rfc850_year_more_than_50_years_ahead_is_past();
	test_parse_leap_second();
	test_parse_feb_29_in_leap_years();
	test_parse_feb_29_in_common_years_refused();
	test_parse_day_beyond_month_refused();
	test_parse_time_fields_checked();
	test_parse_year_range();
	test_parse_day_names_must_be_valid();
	test_parse_weekday_not_checked_against_date();
	test_parse_form_and_day_name_must_agree();
	test_parse_month_names_checked();
	test_parse_every_month();
	test_parse_needs_gmt();
	test_parse_exact_layout();
	test_parse_non_digits_refused();
	test_parse_respects_length();
	return unit_done("httpdate");
}
