/*
 * fuzz_httpdate: httpdate_parse() on arbitrary If-Modified-Since and
 * If-Range values, and the format → parse round trip.
 *
 * Invariants:
 * - a parsed date lies in 1970-01-01 .. 9999-12-31 23:59:59;
 * - formatting a parsed date and parsing that gives the same time, and an
 *   IMF-fixdate input (not a leap second) formats back to itself from the
 *   day of the month on (the weekday name is not checked against the date);
 * - for any time, httpdate_format() writes 29 bytes and a NUL that parse
 *   back to the time (clamped to the range above); clfdate_format() writes
 *   26 bytes and a NUL.
 */
#include <string.h>

#include "fuzz.h"
#include "httpdate.h"

#define MAX_SECONDS INT64_C(253402300799)

static void
round_trip(time_t t)
{
	char out[HTTPDATE_LEN + 2], clf[CLFDATE_LEN + 2];
	int64_t want = (int64_t)t < 0 ? 0 : (int64_t)t > MAX_SECONDS ? MAX_SECONDS : (int64_t)t;
	time_t back = 1;

	memset(out, 'x', sizeof(out));
	memset(clf, 'x', sizeof(clf));
	httpdate_format(t, out);
	clfdate_format(t, clf);
	FUZZ_ASSERT(strlen(out) == HTTPDATE_LEN && out[HTTPDATE_LEN + 1] == 'x');
	FUZZ_ASSERT(strlen(clf) == CLFDATE_LEN && clf[CLFDATE_LEN + 1] == 'x');
	FUZZ_ASSERT(httpdate_parse(out, HTTPDATE_LEN, &back) == 0);
	FUZZ_ASSERT((int64_t)back == want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_dup(data, size), out[HTTPDATE_LEN + 1];
	time_t t = 0, back = 0;
	int64_t raw;

	if (httpdate_parse(s, size, &t) == 0) {
		FUZZ_ASSERT((int64_t)t >= 0 && (int64_t)t <= MAX_SECONDS);
		httpdate_format(t, out);
		FUZZ_ASSERT(httpdate_parse(out, HTTPDATE_LEN, &back) == 0 && back == t);
		if (size == HTTPDATE_LEN && s[3] == ',' && memcmp(s + 23, "60", 2) != 0)
			FUZZ_ASSERT(memcmp(out + 5, s + 5, HTTPDATE_LEN - 5) == 0);
	}
	if (size >= sizeof(raw)) {
		memcpy(&raw, data, sizeof(raw));
		round_trip((time_t)raw);
		round_trip((time_t)(raw % (MAX_SECONDS + 1)));
	}
	free(s);
	return 0;
}
