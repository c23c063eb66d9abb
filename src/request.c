/*
 * request: the HTTP/1.x request-head parser (RFC 9112). See request.h.
 *
 * One pass over the bytes, left to right, in the manner of picohttpparser:
 * every decision depends only on the bytes already scanned, so a prefix of
 * a head is either REQUEST_INCOMPLETE or already has the answer the whole
 * head would get. Nothing is copied and nothing is allocated: the request
 * is made of slices of buf.
 */
#include <stdint.h>
#include <string.h>

#include "request.h"

/* Byte classes: a token character (RFC 9110 §5.6.2 tchar), a byte allowed
 * in a field value (VCHAR, obs-text, SP, HTAB; RFC 9110 §5.5). */
#define C_TCHAR 1
#define C_VALUE 2

static const unsigned char cls[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,	/* 00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 10 */
	2, 3, 2, 3, 3, 3, 3, 3, 2, 2, 3, 3, 2, 3, 3, 2,	/* 20 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2,	/* 30 */
	2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,	/* 40 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 3, 3,	/* 50 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,	/* 60 */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 3, 2, 3, 0,	/* 70 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* 80 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* 90 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* a0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* b0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* c0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* d0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* e0 */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,	/* f0 */
};

/*
 * Skips field-value bytes eight at a time: returns p advanced to the first
 * control byte (below 0x20, or DEL) or to fewer than eight bytes before
 * end. The classic "has a byte less than n" test flags the first such byte
 * exactly (later flags may be wrong), so on a little-endian machine the
 * lowest flag is its position.
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define HAS_LESS(x, n) (((x) - ONES * (n)) & ~(x) & HIGHS)

static inline const unsigned char *
skip_plain(const unsigned char *p, const unsigned char *end)
{
	uint64_t x, m;

	while (end - p >= 8) {
		memcpy(&x, p, sizeof(x));
		m = HAS_LESS(x, 0x20) | HAS_LESS(x ^ (ONES * 0x7f), 1);
		if (m != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			p += (unsigned)__builtin_ctzll(m) / 8;
#endif
			break;
		}
		p += 8;
	}
	return p;
}

/* A request-target byte: VCHAR, 0x21..0x7E. */
#define TARGET_CHAR(c) ((unsigned)(c) - 0x21u < 0x5eu)

/*
 * Case-insensitive comparison of n bytes of token s with lower, a
 * lowercase string of letters and '-'. Setting bit 0x20 maps only 'A'-'Z'
 * onto 'a'-'z' and only '-' (or CR, never in a token) onto '-', so no other
 * token character can compare equal.
 */
static int
lower_eq(const unsigned char *s, const char *lower, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((s[i] | 0x20) != (unsigned char)lower[i])
			return 0;
	return 1;
}

static enum method
method_of(const unsigned char *m, size_t n)
{
	switch (n) {
	case 3:
		if (memcmp(m, "GET", 3) == 0)
			return METHOD_GET;
		if (memcmp(m, "PUT", 3) == 0)
			return METHOD_KNOWN_OTHER;
		break;
	case 4:
		if (memcmp(m, "HEAD", 4) == 0)
			return METHOD_HEAD;
		if (memcmp(m, "POST", 4) == 0)
			return METHOD_KNOWN_OTHER;
		break;
	case 5:
		if (memcmp(m, "TRACE", 5) == 0 || memcmp(m, "PATCH", 5) == 0)
			return METHOD_KNOWN_OTHER;
		break;
	case 6:
		if (memcmp(m, "DELETE", 6) == 0)
			return METHOD_KNOWN_OTHER;
		break;
	case 7:
		if (memcmp(m, "CONNECT", 7) == 0 || memcmp(m, "OPTIONS", 7) == 0)
			return METHOD_KNOWN_OTHER;
		break;
	}
	return METHOD_UNKNOWN;
}

/* The fields hermit looks at. */
enum field {
	F_OTHER, F_HOST, F_CONNECTION, F_IF_NONE_MATCH, F_IF_MODIFIED_SINCE,
	F_RANGE, F_IF_RANGE, F_ACCEPT_ENCODING, F_USER_AGENT, F_REFERER,
	F_CONTENT_LENGTH, F_TRANSFER_ENCODING
};

static enum field
field_of(const unsigned char *n, size_t len)
{
	switch (len) {
	case 4:
		return lower_eq(n, "host", 4) ? F_HOST : F_OTHER;
	case 5:
		return lower_eq(n, "range", 5) ? F_RANGE : F_OTHER;
	case 7:
		return lower_eq(n, "referer", 7) ? F_REFERER : F_OTHER;
	case 8:
		return lower_eq(n, "if-range", 8) ? F_IF_RANGE : F_OTHER;
	case 10:
		if (lower_eq(n, "connection", 10))
			return F_CONNECTION;
		return lower_eq(n, "user-agent", 10) ? F_USER_AGENT : F_OTHER;
	case 13:
		return lower_eq(n, "if-none-match", 13) ? F_IF_NONE_MATCH : F_OTHER;
	case 14:
		return lower_eq(n, "content-length", 14) ? F_CONTENT_LENGTH : F_OTHER;
	case 15:
		return lower_eq(n, "accept-encoding", 15) ? F_ACCEPT_ENCODING : F_OTHER;
	case 17:
		if (lower_eq(n, "if-modified-since", 17))
			return F_IF_MODIFIED_SINCE;
		return lower_eq(n, "transfer-encoding", 17) ?
		    F_TRANSFER_ENCODING : F_OTHER;
	}
	return F_OTHER;
}

#define CONN_CLOSE 1
#define CONN_KEEP_ALIVE 2

/* The options of one Connection field value: comma-separated tokens. */
static unsigned
connection_options(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *s, *e;
	unsigned opts = 0;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		s = p;
		while (p < end && *p != ',')
			p++;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - s == 5 && lower_eq(s, "close", 5))
			opts |= CONN_CLOSE;
		else if (e - s == 10 && lower_eq(s, "keep-alive", 10))
			opts |= CONN_KEEP_ALIVE;
	}
	return opts;
}

/* A Content-Length value: -1 unless one or more digits (a list, a sign or
 * whitespace inside is malformed framing), else whether it is not zero. The
 * number itself is never needed: hermit reads no bodies. */
static int
content_length(const unsigned char *p, const unsigned char *end)
{
	int nonzero = 0;

	if (p == end)
		return -1;
	for (; p < end; p++) {
		if (*p - (unsigned)'0' > 9)
			return -1;
		nonzero |= *p != '0';
	}
	return nonzero;
}

static void
set_value(struct slice *v, const unsigned char *p, const unsigned char *end)
{
	v->p = (const char *)p;
	v->len = (size_t)(end - p);
}

/* For fields hermit does not refuse when repeated, the first one counts. */
static void
first_wins(struct slice *v, const unsigned char *p, const unsigned char *end)
{
	if (v->p == NULL)
		set_value(v, p, end);
}

/* The fields of which hermit only reads the first, repeated or not. */
static void
keep_first(struct request *req, enum field f, const unsigned char *p, const unsigned char *end)
{
	struct slice *v;

	switch (f) {
	case F_IF_NONE_MATCH: v = &req->if_none_match; break;
	case F_IF_MODIFIED_SINCE: v = &req->if_modified_since; break;
	case F_IF_RANGE: v = &req->if_range; break;
	case F_ACCEPT_ENCODING: v = &req->accept_encoding; break;
	case F_USER_AGENT: v = &req->user_agent; break;
	case F_REFERER: v = &req->referer; break;
	default: return;
	}
	first_wins(v, p, end);
}

static const char root_path[] = "/";

/*
 * Splits the target t[0..n) into path and query, and for the absolute-form
 * (RFC 9112 §3.2.2) takes the authority as host. Returns 0 or -400.
 */
static int
parse_target(const unsigned char *t, size_t n, const unsigned char *question,
    int options, struct request *req, struct slice *authority)
{
	const unsigned char *end = t + n, *a, *path;
	size_t skip;

	req->asterisk = 0;
	if (t[0] == '*') {
		/* the asterisk-form belongs to OPTIONS alone (RFC 9112 §3.2.4) */
		if (n != 1 || !options)
			return -400;
		req->asterisk = 1;
		req->query.p = NULL;
		req->query.len = 0;
		req->path.p = root_path;
		req->path.len = 1;
		return 0;
	}
	if (t[0] != '/') {
		/* absolute-form, "http" or "https" only; the authority-form
		 * (CONNECT) is not served */
		if (n > 7 && lower_eq(t, "http://", 7))
			skip = 7;
		else if (n > 8 && lower_eq(t, "https://", 8))
			skip = 8;
		else
			return -400;
		a = t + skip;
		path = a;
		while (path < end && *path != '/' && *path != '?')
			path++;
		/* an empty host is invalid (RFC 9110 §4.2.1), userinfo is
		 * treated as an error (RFC 9110 §4.2.4) */
		if (path == a || memchr(a, '@', (size_t)(path - a)) != NULL)
			return -400;
		authority->p = (const char *)a;
		authority->len = (size_t)(path - a);
	} else
		path = t;

	if (question != NULL) {
		req->query.p = (const char *)question + 1;
		req->query.len = (size_t)(end - question - 1);
		end = question;
	} else {
		req->query.p = NULL;
		req->query.len = 0;
	}
	if (path == end) {
		req->path.p = root_path;
		req->path.len = 1;
	} else {
		req->path.p = (const char *)path;
		req->path.len = (size_t)(end - path);
	}
	return 0;
}

int
request_parse(const char *buf, size_t len, unsigned max_fields, struct request *req)
{
	static const char version[] = "HTTP/#.#\r\n";
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	const unsigned char *s, *question, *vend;
	struct slice host_field = { NULL, 0 }, authority = { NULL, 0 };
	enum field f;
	unsigned nfields = 0, conn = 0, empty;
	int seen_length = 0, seen_coding = 0, may_have_body, length, status;
	size_t i;

	/* A few empty lines before the request line are ignored (RFC 9112
	 * §2.2); the limit is counted here, not by the buffer size, so that
	 * a flood of them is a 400 whatever --max-header-bytes says. */
	for (empty = 0;; empty++) {
		if (p == end)
			return REQUEST_INCOMPLETE;
		if (*p != '\r')
			break;
		if (empty == REQUEST_EMPTY_LINES_MAX)
			return -400;	/* CRLF or a bare CR: 400 either way */
		if (++p == end)
			return REQUEST_INCOMPLETE;
		if (*p != '\n')
			return -400;
		p++;
	}

	/* method SP */
	s = p;
	while (cls[*p] & C_TCHAR)
		if (++p == end)
			return REQUEST_INCOMPLETE;
	if (*p != ' ' || p == s)
		return -400;
	req->method_name.p = (const char *)s;
	req->method_name.len = (size_t)(p - s);
	req->method = method_of(s, (size_t)(p - s));
	may_have_body = req->method != METHOD_GET && req->method != METHOD_HEAD;
	p++;

	/* request-target SP */
	s = p;
	question = NULL;
	for (;;) {
		if (p == end)
			return REQUEST_INCOMPLETE;
		if (!TARGET_CHAR(*p))
			break;
		if (*p == '?' && question == NULL)
			question = p;
		p++;
	}
	if (*p != ' ' || p == s)
		return -400;
	req->target.p = (const char *)s;
	req->target.len = (size_t)(p - s);
	if ((status = parse_target(s, (size_t)(p - s), question,
	    req->method_name.len == 7 && memcmp(req->method_name.p, "OPTIONS", 7) == 0,
	    req, &authority)) != 0)
		return status;
	p++;

	/* HTTP-version CRLF: exactly "HTTP/" DIGIT "." DIGIT */
	for (i = 0; i < sizeof(version) - 1; i++) {
		if (p + i == end)
			return REQUEST_INCOMPLETE;
		if (version[i] == '#' ? p[i] - (unsigned)'0' > 9 : p[i] != version[i])
			return -400;
	}
	if (p[5] != '1')
		return -505;
	req->minor_version = p[7] != '0';
	p += sizeof(version) - 1;

	req->host.p = NULL;
	req->host.len = 0;
	req->if_none_match = req->if_modified_since = req->range = req->host;
	req->if_range = req->accept_encoding = req->user_agent = req->host;
	req->referer = req->host;
	req->body = 0;

	/* field-line CRLF ... CRLF */
	for (;;) {
		if (p == end)
			return REQUEST_INCOMPLETE;
		if (*p == '\r') {
			if (++p == end)
				return REQUEST_INCOMPLETE;
			if (*p != '\n')
				return -400;
			p++;
			break;
		}

		/* field-name ":"; anything else before the colon (a space,
		 * a line starting with whitespace, a bare LF, NUL) is 400 */
		s = p;
		while (cls[*p] & C_TCHAR)
			if (++p == end)
				return REQUEST_INCOMPLETE;
		if (*p != ':' || p == s)
			return -400;
		if (++nfields > max_fields)
			return -431;
		f = field_of(s, (size_t)(p - s));
		p++;

		/* OWS field-value OWS CRLF */
		for (;;) {
			if (p == end)
				return REQUEST_INCOMPLETE;
			if (*p != ' ' && *p != '\t')
				break;
			p++;
		}
		s = p;
		for (;;) {
			p = skip_plain(p, end);
			if (p == end)
				return REQUEST_INCOMPLETE;
			if (!(cls[*p] & C_VALUE))
				break;
			p++;
		}
		if (*p != '\r')
			return -400;
		vend = p;
		if (++p == end)
			return REQUEST_INCOMPLETE;
		if (*p != '\n')
			return -400;
		p++;
		while (vend > s && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;

		switch (f) {
		case F_OTHER:
			break;
		case F_HOST:
			if (host_field.p != NULL)
				return -400;
			set_value(&host_field, s, vend);
			break;
		case F_RANGE:
			if (req->range.p != NULL)
				return -400;
			set_value(&req->range, s, vend);
			break;
		case F_CONNECTION:
			conn |= connection_options(s, vend);
			break;
		/* Framing that two parties could read differently is refused
		 * whatever the method (RFC 9112 §6.1, §6.3). A body is refused
		 * with GET and HEAD; with other methods it only means the
		 * connection cannot go on, as the body is never read. */
		case F_CONTENT_LENGTH:
			if (seen_length || seen_coding)
				return -400;
			if ((length = content_length(s, vend)) < 0)
				return -400;
			if (length > 0) {
				if (!may_have_body)
					return -400;
				req->body = 1;
			}
			seen_length = 1;
			break;
		case F_TRANSFER_ENCODING:
			if (!may_have_body || seen_coding || seen_length || req->minor_version == 0)
				return -400;
			seen_coding = 1;
			req->body = 1;
			break;
		default:
			keep_first(req, f, s, vend);
			break;
		}
	}

	if (authority.p != NULL)
		req->host = authority;
	else if (host_field.p != NULL)
		req->host = host_field;
	else if (req->minor_version == 1)
		return -400;	/* RFC 9112 §3.2 */

	if (conn & CONN_CLOSE)
		req->keep_alive = 0;
	else
		req->keep_alive = req->minor_version == 1 || (conn & CONN_KEEP_ALIVE);
	req->nfields = nfields;
	return (int)(p - (const unsigned char *)buf);
}

int
request_overflow_status(const char *buf, size_t len)
{
	size_t i = 0, empty = 0;

	while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') {
		i += 2;
		empty++;
	}
	/* only empty lines (or too many of them): no request line to be long */
	if (empty > REQUEST_EMPTY_LINES_MAX || i == len || (i + 1 == len && buf[i] == '\r'))
		return 400;
	return memchr(buf + i, '\n', len - i) != NULL ? 431 : 414;
}

int
request_is_head(const char *buf, size_t len)
{
	size_t i = 0;

	while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n')
		i += 2;
	return len - i >= 5 && memcmp(buf + i, "HEAD ", 5) == 0;
}

/*
 * The same request from fields one by one (HTTP/2, whose framing has
 * already delimited and validated them, RFC 9113 §8.2.1).
 */
void
request_begin(struct request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = METHOD_UNKNOWN;
	req->minor_version = 1;
	req->keep_alive = 1;
}

int
request_set_method(struct request *req, const char *name, size_t len)
{
	const unsigned char *m = (const unsigned char *)name;

	for (size_t i = 0; i < len; i++)
		if (!(cls[m[i]] & C_TCHAR))
			return -400;
	req->method = len > 0 ? method_of(m, len) : METHOD_UNKNOWN;
	req->method_name.p = name;
	req->method_name.len = len;
	return 0;
}

int
request_set_target(struct request *req, const char *target, size_t len)
{
	const unsigned char *t = (const unsigned char *)target, *question;
	struct slice authority = { NULL, 0 };

	if (len == 0 || (t[0] != '/' && !(len == 1 && t[0] == '*')))
		return -400;	/* origin-form or "*" only (RFC 9113 §8.3.1) */
	for (size_t i = 0; i < len; i++)
		if (!TARGET_CHAR(t[i]))
			return -400;
	question = memchr(t, '?', len);
	req->target.p = target;
	req->target.len = len;
	return parse_target(t, len, question, req->method_name.len == 7 &&
	    memcmp(req->method_name.p, "OPTIONS", 7) == 0, req, &authority);
}

int
request_add_field(struct request *req, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	const unsigned char *s = (const unsigned char *)value, *end = s + vlen;
	enum field f = field_of((const unsigned char *)name, nlen);
	long length;

	req->nfields++;
	switch (f) {
	case F_HOST:
		first_wins(&req->host, s, end);
		break;
	case F_RANGE:
		if (req->range.p != NULL)
			return -400;
		set_value(&req->range, s, end);
		break;
	case F_CONTENT_LENGTH:
		if ((length = content_length(s, end)) < 0)
			return -400;
		if (length > 0) {
			if (req->method == METHOD_GET || req->method == METHOD_HEAD)
				return -400;
			req->body = 1;
		}
		break;
	case F_CONNECTION:
	case F_TRANSFER_ENCODING:	/* the framing refused them */
		break;
	default:
		keep_first(req, f, s, end);
		break;
	}
	return 0;
}
