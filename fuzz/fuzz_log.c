/*
 * fuzz_log: log_escape() and log_access() on client-chosen request lines,
 * Referer, User-Agent and Host values.
 *
 * Invariants:
 * - an escaped field is printable ASCII with no '"', every '\\' starts a
 *   "\xHH" escape, it fits in dstsize with its NUL, and unescaping it gives
 *   back a prefix of the input (whole escapes only, never a cut one);
 * - an access line is one line: printable ASCII ending in a single '\n',
 *   with exactly the six quotes of the format (no client can add one),
 *   no longer than the log buffer.
 */
#include <string.h>

#include "fuzz.h"
#include "log.h"

/* The value of a lowercase hex digit, or -1. */
static int
hexdigit(char c)
{
	static const char hex[] = "0123456789abcdef";
	const char *at = c != '\0' ? strchr(hex, c) : NULL;

	return at != NULL ? (int)(at - hex) : -1;
}

static void
check_escape(const char *src, size_t len, size_t dstsize)
{
	char *dst = malloc(dstsize ? dstsize : 1);
	size_t n, i, o = 0;

	if (dst == NULL)
		abort();
	n = log_escape(dst, dstsize, src, len);
	if (dstsize == 0) {
		FUZZ_ASSERT(n == 0);
		free(dst);
		return;
	}
	FUZZ_ASSERT(n < dstsize && dst[n] == '\0');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dst[i];
		FUZZ_ASSERT(c >= 0x20 && c < 0x7f && c != '"');
		if (c == '\\') {
			int hi, lo;
			FUZZ_ASSERT(i + 3 < n && dst[i + 1] == 'x');
			hi = hexdigit(dst[i + 2]);
			lo = hexdigit(dst[i + 3]);
			FUZZ_ASSERT(hi >= 0 && lo >= 0);
			c = (unsigned char)(hi << 4 | lo);
			i += 3;
		}
		FUZZ_ASSERT(o < len && (unsigned char)src[o] == c);
		o++;
	}
	free(dst);
}

static struct slice
take(const char **p, const char *end, size_t n)
{
	struct slice s;

	if ((size_t)(end - *p) < n)
		n = (size_t)(end - *p);
	s.p = n > 0 ? *p : NULL;
	s.len = n;
	*p += n;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct logbuf lb = { .date_second = -1 };
	char *buf = fuzz_dup(data, size);
	const char *p = buf, *end = buf + size;
	struct access_entry e;
	unsigned quotes = 0;

	if (size < 4) {
		free(buf);
		return 0;
	}
	check_escape(buf + 4, size - 4, (unsigned char)buf[0]);
	check_escape(buf + 4, size - 4, 4096);

	/* four client fields, cut at lengths the first bytes choose (x16) */
	p += 4;
	e.peer = "192.0.2.1";
	e.request_line = take(&p, end, (size_t)(unsigned char)buf[0] * 16);
	e.referer = take(&p, end, (size_t)(unsigned char)buf[1] * 16);
	e.user_agent = take(&p, end, (size_t)(unsigned char)buf[2] * 16);
	e.vhost = take(&p, end, (size_t)(unsigned char)buf[3] * 16);
	if (buf[3] & 1)
		e.vhost.p = NULL;	/* no --vhosts */
	e.status = 200 + (unsigned char)buf[1] % 400;
	e.body_bytes = (unsigned long long)(unsigned char)buf[2] << 40;
	e.when = (time_t)(unsigned char)buf[0] * 86400 * 365;
	lb.len = 0;
	log_access(&lb, &e);
	FUZZ_ASSERT(lb.len > 0 && lb.len <= LOG_BUFFER_BYTES && lb.buf[lb.len - 1] == '\n');
	for (size_t i = 0; i + 1 < lb.len; i++) {
		unsigned char c = (unsigned char)lb.buf[i];
		FUZZ_ASSERT(c >= 0x20 && c < 0x7f);
		quotes += c == '"';
	}
	FUZZ_ASSERT(quotes == 6);
	lb.len = 0;
	free(buf);
	return 0;
}
