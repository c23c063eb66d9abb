/*
 * httpdate: HTTP and log dates in UTC by hermit's own calendar arithmetic
 * (the proleptic Gregorian calendar, days counted from 1970-01-01). See
 * httpdate.h. Nothing here calls gmtime, timegm or anything else that could
 * want a time zone file.
 */
#include <stdint.h>
#include <string.h>

#include "httpdate.h"

static const char day_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const long_day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"
};
static const char month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* The dates hermit writes and reads: 1970-01-01 to 9999-12-31. */
#define MIN_YEAR 1970
#define MAX_YEAR 9999
#define MAX_SECONDS INT64_C(253402300799)	/* 9999-12-31 23:59:59 */

struct civil {
	int year;
	unsigned month;		/* 1..12 */
	unsigned day;		/* 1..31 */
	unsigned weekday;	/* 0 = Sunday */
	unsigned hour, minute, second;
};

/*
 * Days since 1970-01-01 of a date, and back: the algorithms of Howard
 * Hinnant's "chrono-Compatible Low-Level Date Algorithms", which count in
 * 400-year eras of 146097 days starting on 1 March.
 */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_seconds(int64_t t, struct civil *c)
{
	int64_t z, era;
	unsigned sod, doe, yoe, doy, mp;

	if (t < 0)
		t = 0;
	if (t > MAX_SECONDS)
		t = MAX_SECONDS;
	z = t / 86400;
	sod = (unsigned)(t % 86400);
	c->hour = sod / 3600;
	c->minute = sod / 60 % 60;
	c->second = sod % 60;
	c->weekday = (unsigned)((z + 4) % 7);	/* 1970-01-01 was a Thursday */

	z += 719468;
	era = z / 146097;			/* z >= 0 here */
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->month = mp < 10 ? mp + 3 : mp - 9;
	c->year = (int)(yoe + era * 400 + (c->month <= 2));
}

static int
is_leap(int y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned
days_in_month(int y, unsigned m)
{
	static const unsigned char len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static char *
put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

static char *
put4(char *p, unsigned v)
{
	put2(p, v / 100);
	return put2(p + 2, v % 100);
}

static char *
put3(char *p, const char *s)
{
	memcpy(p, s, 3);
	return p + 3;
}

/* "hh:mm:ss" */
static char *
put_time(char *p, const struct civil *c)
{
	p = put2(p, c->hour);
	*p++ = ':';
	p = put2(p, c->minute);
	*p++ = ':';
	return put2(p, c->second);
}

/* Times outside 1970..9999 are written as the nearest end of that range. */
void
httpdate_format(time_t t, char *out)
{
	struct civil c;
	char *p = out;

	civil_from_seconds((int64_t)t, &c);
	p = put3(p, day_names[c.weekday]);
	*p++ = ',';
	*p++ = ' ';
	p = put2(p, c.day);
	*p++ = ' ';
	p = put3(p, month_names[c.month - 1]);
	*p++ = ' ';
	p = put4(p, (unsigned)c.year);
	*p++ = ' ';
	p = put_time(p, &c);
	memcpy(p, " GMT", 5);
}

void
clfdate_format(time_t t, char *out)
{
	struct civil c;
	char *p = out;

	civil_from_seconds((int64_t)t, &c);
	p = put2(p, c.day);
	*p++ = '/';
	p = put3(p, month_names[c.month - 1]);
	*p++ = '/';
	p = put4(p, (unsigned)c.year);
	*p++ = ':';
	p = put_time(p, &c);
	memcpy(p, " +0000", 7);
}

/* n decimal digits at p, or -1. */
static int
digits(const char *p, unsigned n)
{
	int v = 0;

	while (n-- > 0) {
		if ((unsigned)*p - '0' > 9)
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	return v;
}

/* The month named by the three bytes at p (case-sensitive, as RFC 9110's
 * grammar says), 1..12, or 0. */
static unsigned
month_of(const char *p)
{
	unsigned m;

	for (m = 0; m < 12; m++)
		if (memcmp(p, month_names[m], 3) == 0)
			return m + 1;
	return 0;
}

static int
is_day_name(const char *p)
{
	unsigned i;

	for (i = 0; i < 7; i++)
		if (memcmp(p, day_names[i], 3) == 0)
			return 1;
	return 0;
}

/* "hh:mm:ss" with hour 00-23, minute 00-59, second 00-60 (a leap second
 * counts as the first second of the next minute). */
static int
parse_time(const char *p, struct civil *c)
{
	int h, m, s;

	if (p[2] != ':' || p[5] != ':')
		return -1;
	h = digits(p, 2);
	m = digits(p + 3, 2);
	s = digits(p + 6, 2);
	if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60)
		return -1;
	c->hour = (unsigned)h;
	c->minute = (unsigned)m;
	c->second = (unsigned)s;
	return 0;
}

/*
 * RFC 850's two-digit year (RFC 9110 §5.6.7): a year that would be more
 * than 50 years in the future is the most recent past year with the same
 * last two digits. So the year is the one with those digits within
 * [now - 49, now + 50].
 */
static int
expand_year(int yy)
{
	struct civil now;
	int y;

	civil_from_seconds((int64_t)time(NULL), &now);
	y = now.year - now.year % 100 + yy;
	if (y > now.year + 50)
		y -= 100;
	else if (y < now.year - 49)
		y += 100;
	return y;
}

/*
 * The three forms of RFC 9110 §5.6.7:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * The day name must be a valid name of its form, but it is not checked
 * against the date: the date alone decides, as in most servers.
 */
int
httpdate_parse(const char *s, size_t len, time_t *t)
{
	struct civil c;
	const char *p;
	size_t n;
	int v;
	int64_t secs;

	if (s == NULL)
		return -1;	/* no header */
	if (len == 29 && s[3] == ',') {
		if (!is_day_name(s) || s[4] != ' ' || s[7] != ' ' ||
		    s[11] != ' ' || s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
			return -1;
		if ((v = digits(s + 5, 2)) < 0 || (c.month = month_of(s + 8)) == 0)
			return -1;
		c.day = (unsigned)v;
		if ((c.year = digits(s + 12, 4)) < 0 || parse_time(s + 17, &c) != 0)
			return -1;
	} else if (len == 24 && s[3] == ' ') {
		if (!is_day_name(s) || s[7] != ' ' || s[10] != ' ' ||
		    s[19] != ' ' || (c.month = month_of(s + 4)) == 0)
			return -1;
		v = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
		if (v < 0 || parse_time(s + 11, &c) != 0 ||
		    (c.year = digits(s + 20, 4)) < 0)
			return -1;
		c.day = (unsigned)v;
	} else {
		for (v = 0; v < 7; v++) {
			n = strlen(long_day_names[v]);
			if (len == n + 24 && memcmp(s, long_day_names[v], n) == 0)
				break;
		}
		if (v == 7)
			return -1;
		p = s + n;
		if (p[0] != ',' || p[1] != ' ' || p[4] != '-' || p[8] != '-' ||
		    p[11] != ' ' || memcmp(p + 20, " GMT", 4) != 0)
			return -1;
		if ((v = digits(p + 2, 2)) < 0 || (c.month = month_of(p + 5)) == 0)
			return -1;
		c.day = (unsigned)v;
		if ((v = digits(p + 9, 2)) < 0 || parse_time(p + 12, &c) != 0)
			return -1;
		c.year = expand_year(v);
	}

	if (c.year < MIN_YEAR || c.year > MAX_YEAR || c.day < 1 ||
	    c.day > days_in_month(c.year, c.month))
		return -1;
	secs = days_from_civil(c.year, c.month, c.day) * 86400 +
	    c.hour * 3600 + c.minute * 60 + c.second;
	if ((int64_t)(time_t)secs != secs)
		return -1;	/* beyond a 32-bit time_t */
	if (secs > days_from_civil(MAX_YEAR, 12, 31) * 86400 + 86399)
		return -1;	/* a leap second after the last date hermit can write */
	*t = (time_t)secs;
	return 0;
}
