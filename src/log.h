/*
 * log: everything hermit writes to stderr. Errors and startup messages are
 * "hermit: ..." lines (log_error, log_warn). Access lines are in Combined Log
 * Format, one per request, optionally prefixed with the virtual host; every
 * byte that came from the client is escaped (\xHH for control bytes, quotes,
 * backslashes and non-ASCII) so no client can forge or split a line. Dates
 * are UTC, computed by httpdate (nothing read from /etc after startup).
 * Access lines are gathered in a per-worker buffer and written when it fills
 * or the worker goes idle; each write holds whole lines and stays within
 * PIPE_BUF, so lines from different workers never interleave.
 */
#ifndef HERMIT_LOG_H
#define HERMIT_LOG_H

#include <stddef.h>
#include <time.h>
#include "slice.h"

#define LOG_BUFFER_BYTES 4096	/* PIPE_BUF: one write() is atomic on a pipe */

struct logbuf {
	char buf[LOG_BUFFER_BYTES];
	size_t len;
	time_t date_second;
	char date[32];		/* CLF date of date_second */
};

struct access_entry {
	const char *peer;	/* printable address */
	struct slice vhost;	/* .p NULL: no vhost field */
	struct slice request_line;
	int status;
	unsigned long long body_bytes;
	struct slice referer;
	struct slice user_agent;
	time_t when;
};

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void log_access(struct logbuf *lb, const struct access_entry *e);
void log_flush(struct logbuf *lb);

/* Escapes src into dst (at most dstsize-1 bytes, always terminated);
 * returns the length written. Exposed for the tests. */
size_t log_escape(char *dst, size_t dstsize, const char *src, size_t len);

#endif
