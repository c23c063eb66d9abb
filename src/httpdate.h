/*
 * httpdate: dates for HTTP (RFC 9110 §5.6.7) and for the access log, in UTC,
 * computed by hermit's own arithmetic: nothing here may read /etc/localtime
 * or any other file, because it runs inside the confined process.
 */
#ifndef HERMIT_HTTPDATE_H
#define HERMIT_HTTPDATE_H

#include <stddef.h>
#include <time.h>

#define HTTPDATE_LEN 29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define CLFDATE_LEN 26	/* "06/Nov/1994:08:49:37 +0000" */

/* Writes the IMF-fixdate of t and a NUL: out must hold HTTPDATE_LEN + 1 bytes. */
void httpdate_format(time_t t, char *out);

/* Writes the Common Log Format date of t and a NUL: out holds CLFDATE_LEN + 1. */
void clfdate_format(time_t t, char *out);

/* Parses IMF-fixdate, and the obsolete RFC 850 and asctime forms as RFC 9110
 * requires. Returns 0 and sets *t, or -1 for anything else (a date that is
 * invalid, such as 31 Feb, is -1 too). */
int httpdate_parse(const char *s, size_t len, time_t *t);

#endif
