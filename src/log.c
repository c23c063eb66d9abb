/*
 * log: error and access lines on stderr (see log.h for the contract).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "httpdate.h"
#include "log.h"

/* Each client-supplied field is cut to this many bytes after escaping, so a
 * whole line always fits one atomic write. */
#define FIELD_MAX 900

static void
write_all(const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(2, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;	/* stderr gone: nothing better to do */
		}
		p += n;
		len -= (size_t)n;
	}
}

static void __attribute__((format(printf, 2, 0)))
vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = snprintf(line, sizeof(line), "hermit: %s", prefix);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	write_all(line, (size_t)n);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

size_t
log_escape(char *dst, size_t dstsize, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (dstsize == 0)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			if (o + 1 >= dstsize)
				break;
			dst[o++] = (char)ch;
		} else {
			if (o + 4 >= dstsize)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

/* An absent field is "-", as CLF has it. */
static size_t
field(char *dst, size_t size, struct slice s)
{
	if (s.p == NULL || s.len == 0) {
		dst[0] = '-';
		dst[1] = '\0';
		return 1;
	}
	return log_escape(dst, size < FIELD_MAX ? size : FIELD_MAX, s.p, s.len);
}

void
log_access(struct logbuf *lb, const struct access_entry *e)
{
	char vhost[FIELD_MAX], req[FIELD_MAX], ref[FIELD_MAX], ua[FIELD_MAX];
	char bytes[24];
	char line[LOG_BUFFER_BYTES];
	int n;

	if (e->when != lb->date_second) {
		clfdate_format(e->when, lb->date);
		lb->date_second = e->when;
	}
	vhost[0] = '\0';
	if (e->vhost.p != NULL) {
		size_t l = field(vhost, sizeof(vhost) - 1, e->vhost);
		vhost[l] = ' ';
		vhost[l + 1] = '\0';
	}
	field(req, sizeof(req), e->request_line);
	field(ref, sizeof(ref), e->referer);
	field(ua, sizeof(ua), e->user_agent);
	if (e->body_bytes == 0)
		strcpy(bytes, "-");
	else
		snprintf(bytes, sizeof(bytes), "%llu", e->body_bytes);
	n = snprintf(line, sizeof(line), "%s%s - - [%s] \"%s\" %d %s \"%s\" \"%s\"\n",
	    vhost, e->peer, lb->date, req, e->status, bytes, ref, ua);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {	/* cannot happen with FIELD_MAX; stay safe */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (lb->len + (size_t)n > sizeof(lb->buf))
		log_flush(lb);
	memcpy(lb->buf + lb->len, line, (size_t)n);
	lb->len += (size_t)n;
}

void
log_flush(struct logbuf *lb)
{
	if (lb->len > 0)
		write_all(lb->buf, lb->len);
	lb->len = 0;
}
