/*
 * respond: the answer to one parsed request, written as bytes. It resolves
 * the path (through the worker's filecache and resolve, the only opener of
 * content), applies the
 * conditional headers (If-None-Match before If-Modified-Since, RFC 9110
 * §13.2.2), Range and If-Range (one range → 206; several → 200 whole),
 * chooses a precompressed variant (FILE.br, FILE.zst, FILE.gz: publishable,
 * not older than FILE, accepted by the client; never for a Range request,
 * which is always served from FILE itself; Vary: Accept-Encoding whenever
 * such a variant exists) and writes the head into out (HTTP/1.x or the
 * fields of an HTTP/2 HEADERS frame). A body of at most SMALL_BODY_BYTES that fits in out is
 * copied in after the head (one write for the whole response); a larger one
 * is left open in res->body_fd for the caller to sendfile. No allocation.
 *
 * Before any of that: methods other than GET and HEAD get 405 with
 * "Allow: GET, HEAD" (501 for unknown ones) and close the connection;
 * an invalid Host is 400 with or without --vhosts, by the rules of
 * resolve_host() (RFC 9112 §3.2); "OPTIONS *" gets 204 with
 * "Allow: GET, HEAD". A request that carries a body is answered and the
 * connection closed. If-Modified-Since with a date after now is ignored
 * (RFC 9110 §13.1.3). No response to HEAD has body bytes, whatever its
 * status (RFC 9110 §9.3.2).
 *
 * tls: the request came over TLS. Every response over TLS carries the
 * --hsts line (cfg->hsts), whatever its status; none over plain HTTP does
 * (RFC 6797 §7.2). With --redirect-https, a plain-HTTP request that passed
 * the checks above gets 301 to https://HOST[:PORT]PATH?QUERY, except when
 * its rewritten path is under /.well-known/acme-challenge/ (ACME HTTP-01,
 * served from the root as usual); without a Host to redirect to, 400.
 */
#ifndef HERMIT_RESPOND_H
#define HERMIT_RESPOND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "request.h"
#include "resolve.h"

/* Room a response head may need in out; the caller guarantees at least this. */
#define RESPONSE_HEAD_MAX 4096

/* What respond needs besides the request: the worker's file cache (see
 * filecache.h) and clocks (now_ms monotonic for the cache, now and date the
 * wall clock the Date field shows), and how the answer travels. tls: over
 * TLS. http2: the head is header fields only, with no status line and no
 * Connection field, for the HTTP/2 framing to encode (res->status carries
 * the status). keep_alive_ok: HTTP/1.x; the caller would keep the
 * connection open (request count, shutdown). */
struct filecache;
struct respond_env {
	const struct config *cfg;
	struct filecache *fc;
	int64_t now_ms;
	time_t now;
	const char *date;
	unsigned char tls;
	unsigned char http2;
	unsigned char keep_alive_ok;
};

/*
 * The answer, as the decision and its bytes. out[0..head_len) is the head:
 * for HTTP/1.x the status line, then one "Name: value\r\n" line per field,
 * then an empty line; for HTTP/2 the same without the status line (and
 * never a Connection field). A small body follows in out[head_len..n),
 * where n is what the call returned; a larger one is a file range.
 */
struct response {
	int status;
	int close;		/* close the connection after this response */
	size_t head_len;	/* bytes of head at the start of out */
	int body_fd;		/* -1, or a file whose bytes [body_off, body_off + body_len) follow */
	uint64_t body_off;
	uint64_t body_len;
	uint64_t log_bytes;	/* body bytes this response announces */
	char vhost[VHOST_MAX + 2];	/* the site, for the access log ("" without --vhosts) */
};

/* Returns the bytes written to out (head, and small body). */
size_t respond_request(const struct respond_env *env, const struct request *req, char *out,
    size_t size, struct response *res);

/* An error answer (status 400, 414, 431, 501, 503, 505...) with a short HTML
 * body, only announced by Content-Length when head_only is set (the request
 * was HEAD); the connection is closed after it when must_close is set. */
size_t respond_error(const struct respond_env *env, int status, int must_close, int head_only,
    char *out, size_t size, struct response *res);

#endif
