/*
 * request: the HTTP/1.x request-head parser (RFC 9112).
 *
 * request_parse() looks at the bytes at the start of buf. It returns
 *   > 0  the length of a complete, valid request head (through its empty line);
 *        *req is filled with slices of buf, valid while buf is unchanged;
 *     0  REQUEST_INCOMPLETE: no complete head yet, read more bytes;
 *   < 0  a negative HTTP status for a bad head (-400, -431, -501, -505);
 *        the caller answers it and closes the connection.
 * It does no I/O and no allocation, and its answer depends only on the bytes,
 * never on how they arrived. When the caller's buffer is full and the answer
 * is still REQUEST_INCOMPLETE, request_overflow_status() says 414 or 431 (or
 * 400 for a buffer of nothing but empty lines).
 *
 * Policy (strict, for smuggling safety): lines end in CRLF; a bare CR or a
 * bare LF, NUL, obs-fold, whitespace before a colon, invalid token characters
 * in the method or a field name, control characters in a field value, a
 * missing Host in HTTP/1.1, a duplicate Host, Content-Length or
 * Transfer-Encoding, a Content-Length that is not all digits, both
 * Content-Length and Transfer-Encoding, and Transfer-Encoding in HTTP/1.0
 * all give 400. GET and HEAD may not carry a body: a Content-Length other
 * than 0 or any Transfer-Encoding with them is 400. For other methods a body
 * is only noted (req->body): hermit refuses those methods anyway (405/501)
 * and never reads the body, so the caller closes the connection. Up to
 * REQUEST_EMPTY_LINES_MAX empty lines before the request line are ignored
 * (RFC 9112 §2.2), more are 400. The request-target is the origin-form, the
 * absolute-form with http or https, or "*" for OPTIONS only (RFC 9112
 * §3.2.4); anything else is 400. The Host value is not validated here (see
 * resolve_host()). HTTP/1.x with x other than 0 or 1 is treated as 1.1;
 * other major versions give 505.
 */
#ifndef HERMIT_REQUEST_H
#define HERMIT_REQUEST_H

#include <stddef.h>
#include "slice.h"

#define REQUEST_INCOMPLETE 0

/* Empty lines ignored before a request line; one more is 400. */
#define REQUEST_EMPTY_LINES_MAX 8

enum method {
	METHOD_GET,
	METHOD_HEAD,
	METHOD_KNOWN_OTHER,	/* POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH: 405 */
	METHOD_UNKNOWN		/* any other token: 501 */
};

struct request {
	enum method method;
	struct slice method_name;
	struct slice target;	/* the request-target exactly as sent */
	struct slice path;	/* its path part: starts with '/', still percent-encoded, no query
				 * ("/" for the asterisk-form, which names no file) */
	struct slice query;	/* after '?', without it; .p NULL when there is none */
	int minor_version;	/* 0 or 1 (HTTP/1.x with x > 1 is reported as 1) */
	int keep_alive;		/* from the version and every Connection field */
	int asterisk;		/* the target is "*" (only ever with OPTIONS) */
	int body;		/* a body follows (never with GET or HEAD): unread, so close */

	/* Field values with surrounding whitespace removed; .p NULL when absent.
	 * host comes from an absolute-form target when there is one (RFC 9112
	 * §3.2.2), else from the Host field. For the others the first field wins. */
	struct slice host;
	struct slice if_none_match;
	struct slice if_modified_since;
	struct slice range;
	struct slice if_range;
	struct slice accept_encoding;
	struct slice user_agent;
	struct slice referer;

	unsigned nfields;	/* header fields seen */
};

/* max_fields: more header fields than this gives -431. */
int request_parse(const char *buf, size_t len, unsigned max_fields, struct request *req);

/* For a full buffer with no complete head: 414 while still in the request
 * line, else 431; 400 when it holds nothing but empty lines (never 414). */
int request_overflow_status(const char *buf, size_t len);

/* Whether the bytes at buf, after any empty lines, start a HEAD request line
 * ("HEAD" SP), whatever follows: an error answer to them has no body (RFC
 * 9110 §9.3.2). Reads at most len bytes; no allocation. */
int request_is_head(const char *buf, size_t len);

/*
 * HTTP/2 builds the same struct from its fields (http2.c): the framing
 * has delimited them and refused connection-specific ones. After
 * request_begin(): the method, then the target (the origin-form or "*",
 * VCHAR bytes only), then each regular field; host is :authority or,
 * without it, the first Host field. Each returns 0 or -400; the slices
 * point at the caller's bytes. A Content-Length other than 0 with GET or
 * HEAD is -400, as in HTTP/1.1.
 */
void request_begin(struct request *req);
int request_set_method(struct request *req, const char *name, size_t len);
int request_set_target(struct request *req, const char *target, size_t len);
int request_add_field(struct request *req, const char *name, size_t nlen, const char *value,
    size_t vlen);

#endif
