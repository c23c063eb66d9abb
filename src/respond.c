/*
 * respond: one request → status line, headers and (small) body in a buffer
 * (see respond.h). The order of decisions follows RFC 9110: choose the
 * representation, then the preconditions, then Range.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "encoding.h"
#include "errorpage.h"
#include "filecache.h"
#include "etag.h"
#include "httpdate.h"
#include "limits.h"
#include "listing.h"
#include "mime.h"
#include "range.h"
#include "respond.h"
#include "rules.h"

static const char *const reason[600] = {
	[200] = "OK",
	[204] = "No Content",
	[206] = "Partial Content",
	[301] = "Moved Permanently",
	[302] = "Found",
	[303] = "See Other",
	[304] = "Not Modified",
	[307] = "Temporary Redirect",
	[308] = "Permanent Redirect",
	[400] = "Bad Request",
	[404] = "Not Found",
	[405] = "Method Not Allowed",
	[414] = "URI Too Long",
	[416] = "Range Not Satisfiable",
	[431] = "Request Header Fields Too Large",
	[500] = "Internal Server Error",
	[501] = "Not Implemented",
	[503] = "Service Unavailable",
	[505] = "HTTP Version Not Supported",
};

/* A bounded appender: writes past the end are dropped and remembered, so a
 * head that does not fit is detected once, at the end. */
struct head {
	char *p;
	size_t len;
	size_t size;
	int overflow;
};

static void
put(struct head *h, const char *s, size_t len)
{
	if (len > h->size - h->len) {
		h->overflow = 1;
		return;
	}
	memcpy(h->p + h->len, s, len);
	h->len += len;
}

#define PUTS(h, lit) put((h), (lit), sizeof(lit) - 1)

static void
put_str(struct head *h, const char *s)
{
	put(h, s, strlen(s));
}

static void
put_u64(struct head *h, uint64_t v)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(h, digits + sizeof(digits) - n, n);
}

/* The status line (HTTP/1.x only: HTTP/2 carries the status apart) and
 * the fields every response has. Over TLS --hsts applies (RFC 6797 §7.2:
 * never over plain HTTP). */
static void
status_line(struct head *h, const struct respond_env *env, int status)
{
	const struct config *cfg = env->cfg;

	if (!env->http2) {
		PUTS(h, "HTTP/1.1 ");
		put_u64(h, (uint64_t)status);
		PUTS(h, " ");
		put_str(h, reason[status] ? reason[status] : "Unknown");
		PUTS(h, "\r\n");
	}
	if (cfg->hide_version)
		PUTS(h, "Server: hermit\r\nDate: ");
	else
		PUTS(h, "Server: hermit/" HERMIT_VERSION "\r\nDate: ");
	put(h, env->date, HTTPDATE_LEN);
	PUTS(h, "\r\nX-Content-Type-Options: nosniff\r\n");
	if (env->tls)
		put(h, cfg->hsts, cfg->hsts_len);
}

/* HTTP/2 has no Connection field (RFC 9113 §8.2.2). */
static void
connection_header(struct head *h, const struct respond_env *env, int must_close,
    int minor_version)
{
	if (env->http2)
		return;
	if (must_close)
		PUTS(h, "Connection: close\r\n");
	else if (minor_version == 0)
		PUTS(h, "Connection: keep-alive\r\n");
}

static void
response_init(struct response *res, int status, int must_close)
{
	res->status = status;
	res->close = must_close;
	res->body_fd = -1;
	res->body_off = 0;
	res->body_len = 0;
	res->log_bytes = 0;
	res->head_len = 0;
}

/* The end of the head: its length is noted (a body may follow in out). */
static void
end_head(struct head *h, struct response *res)
{
	PUTS(h, "\r\n");
	res->head_len = h->len;
}

/* The error page; extra is an additional header line (with CRLF) or NULL. */
static size_t
error_page(const struct respond_env *env, int status, int must_close, int minor,
    int head_only, const char *extra, char *out, size_t size, struct response *res)
{
	struct head h = { out, 0, size, 0 };
	const char *why = reason[status] ? reason[status] : "Error";
	size_t whylen = strlen(why);
	/* "<!DOCTYPE html>\n<title>NNN " why "</title>\n<h1>NNN " why "</h1>\n" */
	uint64_t body = 16 + 11 + whylen + 9 + 8 + whylen + 6;

	response_init(res, status, must_close);
	status_line(&h, env, status);
	PUTS(&h, "Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
	put_u64(&h, body);
	PUTS(&h, "\r\n");
	if (extra != NULL)
		put_str(&h, extra);
	connection_header(&h, env, must_close, minor);
	end_head(&h, res);
	if (!head_only) {
		char code[4] = { (char)('0' + status / 100), (char)('0' + status / 10 % 10),
		    (char)('0' + status % 10), ' ' };
		PUTS(&h, "<!DOCTYPE html>\n<title>");
		put(&h, code, 4);
		put(&h, why, whylen);
		PUTS(&h, "</title>\n<h1>");
		put(&h, code, 4);
		put(&h, why, whylen);
		PUTS(&h, "</h1>\n");
		res->log_bytes = body;
	}
	return h.overflow ? 0 : h.len;
}

size_t
respond_error(const struct respond_env *env, int status, int must_close, int head_only,
    char *out, size_t size, struct response *res)
{
	res->vhost[0] = '\0';
	return error_page(env, status, must_close, 1, head_only, NULL, out, size, res);
}

/* "OPTIONS *": what the server as a whole allows. 204 has no Content-Length
 * (RFC 9110 §8.6). */
static size_t
options_server(const struct respond_env *env, int must_close, int minor, char *out, size_t size,
    struct response *res)
{
	struct head h = { out, 0, size, 0 };

	response_init(res, 204, must_close);
	status_line(&h, env, 204);
	PUTS(&h, "Allow: GET, HEAD\r\n");
	connection_header(&h, env, must_close, minor);
	end_head(&h, res);
	return h.overflow ? 0 : h.len;
}

/* The representation chosen for a request: the file, or a precompressed variant. */
struct chosen {
	int fd;
	struct stat st;
	const char *encoding;	/* NULL for the file itself */
};

static int
newer_or_same(const struct stat *variant, const struct stat *file)
{
	if (variant->st_mtim.tv_sec != file->st_mtim.tv_sec)
		return variant->st_mtim.tv_sec > file->st_mtim.tv_sec;
	return variant->st_mtim.tv_nsec >= file->st_mtim.tv_nsec;
}

/* Looks for FILE.br, FILE.zst, FILE.gz (in that order of preference) and
 * switches c to the first one the client accepts, when use is set. Returns
 * whether any usable variant exists: then the response varies with
 * Accept-Encoding, whatever this client sent. rel has room for the suffix. */
static int
choose_variant(struct filecache *fc, int64_t now_ms, int rootfd, char *rel, size_t rellen,
    unsigned accepted, int use, struct chosen *c)
{
	static const struct { unsigned bit; const char *suffix; const char *coding; } v[] = {
		{ ENCODING_BR, ".br", "br" },
		{ ENCODING_ZSTD, ".zst", "zstd" },
		{ ENCODING_GZIP, ".gz", "gzip" },
	};
	const struct stat file = c->st;
	int exists = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct stat st;
		int fd;
		strcpy(rel + rellen, v[i].suffix);
		fd = filecache_open(fc, rootfd, rel, &st, now_ms);
		rel[rellen] = '\0';
		if (fd < 0 || !S_ISREG(st.st_mode) || !newer_or_same(&st, &file))
			continue;
		exists = 1;
		if (use && c->encoding == NULL && (accepted & v[i].bit)) {
			c->fd = fd;
			c->st = st;
			c->encoding = v[i].coding;
		}
	}
	return exists;
}

/* If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2). A date
 * later than now is no evidence about the file: ignored (RFC 9110 §13.1.3). */
static int
not_modified(const struct request *req, const char *tag, size_t taglen, const struct stat *st,
    time_t now)
{
	time_t since;

	if (req->if_none_match.p != NULL)
		return etag_list_match_weak(req->if_none_match.p, req->if_none_match.len,
		    tag, taglen);
	if (req->if_modified_since.p != NULL &&
	    httpdate_parse(req->if_modified_since.p, req->if_modified_since.len, &since) == 0 &&
	    since <= now)
		return st->st_mtim.tv_sec <= since;
	return 0;
}

/* If-Range: an entity tag compares strongly; a date must equal Last-Modified. */
static int
if_range_holds(const struct request *req, const char *tag, size_t taglen, const struct stat *st)
{
	const struct slice v = req->if_range;
	time_t t;

	if (v.p == NULL)
		return 1;
	if (v.len > 0 && (v.p[0] == '"' || (v.len > 1 && v.p[0] == 'W' && v.p[1] == '/')))
		return etag_match_strong(v.p, v.len, tag, taglen);
	return httpdate_parse(v.p, v.len, &t) == 0 && t == st->st_mtim.tv_sec;
}

/* The bytes res->body_off/body_len of fd after the head in h: copied in
 * when small, else left open in res->body_fd for sendfile. */
static size_t
file_body(const struct respond_env *env, const struct request *req, int fd, struct head *h,
    struct response *res)
{
	int head_only = req->method == METHOD_HEAD;

	if (head_only || res->body_len == 0) {
		res->body_len = 0;
		return h->len;
	}
	res->log_bytes = res->body_len;
	if (res->body_len <= SMALL_BODY_BYTES && res->body_len <= h->size - h->len) {
		if (filecache_read(env->fc, fd, h->p + h->len, res->body_off, res->body_len,
		    env->now) == -1)	/* shrank since fstat: never send a wrong length */
			return error_page(env, 500, 1, req->minor_version, head_only, NULL,
			    h->p, h->size, res);
		h->len += res->body_len;
		res->body_len = 0;
		return h->len;
	}
	/* The connection keeps the file for sendfile; the cache keeps its own. */
	if ((res->body_fd = dup(fd)) == -1)
		return error_page(env, 503, 1, req->minor_version, head_only, NULL,
		    h->p, h->size, res);
	return h->len;
}

/* 404: the site's 404.html when it has one (see errorpage.h), with its
 * Content-Type and length but no validators, which would describe that
 * file and not the missing resource; conditionals and Range do not apply.
 * Else, and for every other status, the built-in page. site[0..sitelen)
 * is the site's directory ("" or "HOST/"). */
static size_t
site_error(const struct respond_env *env, const struct request *req, int status,
    int must_close, const char *site, size_t sitelen, char *out, size_t size,
    struct response *res)
{
	struct head h = { out, 0, size, 0 };
	struct stat st;
	int fd;

	if (status != 404 ||
	    (fd = errorpage_open(env->fc, env->cfg->rootfd, site, sitelen, env->now_ms, &st)) < 0)
		return error_page(env, status, must_close, req->minor_version,
		    req->method == METHOD_HEAD, NULL, out, size, res);
	response_init(res, 404, must_close);
	status_line(&h, env, 404);
	PUTS(&h, "Content-Type: ");
	put_str(&h, mime_type("404.html", 8));
	PUTS(&h, "\r\nContent-Length: ");
	res->body_len = (uint64_t)st.st_size;
	put_u64(&h, res->body_len);
	PUTS(&h, "\r\n");
	connection_header(&h, env, must_close, req->minor_version);
	end_head(&h, res);
	if (h.overflow)
		return error_page(env, 500, 1, req->minor_version, req->method == METHOD_HEAD,
		    NULL, out, size, res);
	return file_body(env, req, fd, &h, res);
}

/* Room left for a listing's head: the page is written after it, and moved
 * back once the head, which gives its length, is written. */
#define LISTING_HEAD_ROOM 1024

/* --listing: a directory without index.html. rel[0..len) is its path
 * ("" or ending in '/'), of which the first sitelen bytes name the site. */
static size_t
list_directory(const struct respond_env *env, const struct request *req, int dirfd,
    const char *rel, size_t len, size_t sitelen, int must_close, char *out, size_t size,
    struct response *res)
{
	struct head h = { out, 0, size, 0 };
	long body = -500;

	if (size > LISTING_HEAD_ROOM)
		body = listing_page(env->cfg->rootfd, dirfd, rel, len, rel + sitelen, len - sitelen,
		    out + LISTING_HEAD_ROOM, size - LISTING_HEAD_ROOM);
	if (body < 0)
		return site_error(env, req, (int)-body, must_close, rel, sitelen, out, size, res);
	response_init(res, 200, must_close);
	status_line(&h, env, 200);
	PUTS(&h, "Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
	put_u64(&h, (uint64_t)body);
	PUTS(&h, "\r\n");
	connection_header(&h, env, must_close, req->minor_version);
	end_head(&h, res);
	if (h.overflow || h.len > LISTING_HEAD_ROOM)
		return error_page(env, 500, 1, req->minor_version, req->method == METHOD_HEAD,
		    NULL, out, size, res);
	if (req->method == METHOD_HEAD)
		return h.len;
	memmove(out + h.len, out + LISTING_HEAD_ROOM, (size_t)body);
	res->log_bytes = (uint64_t)body;
	return h.len + (size_t)body;
}

/* A Location of at most this many bytes; a longer one is 414. */
#define LOCATION_MAX (RESPONSE_HEAD_MAX / 2)

/* 301 with the Location line in l (its buffer has room for a NUL). */
static size_t
moved(const struct respond_env *env, const struct request *req, int must_close,
    struct head *l, char *out, size_t size, struct response *res)
{
	PUTS(l, "\r\n");
	if (l->overflow)
		return error_page(env, 414, must_close, req->minor_version,
		    req->method == METHOD_HEAD, NULL, out, size, res);
	l->p[l->len] = '\0';
	return error_page(env, 301, must_close, req->minor_version,
	    req->method == METHOD_HEAD, l->p, out, size, res);
}

static void
put_query(struct head *l, const struct request *req)
{
	if (req->query.p != NULL) {
		PUTS(l, "?");
		put(l, req->query.p, req->query.len);
	}
}

static size_t
redirect_to_dir(const struct respond_env *env, const struct request *req, int must_close,
    char *out, size_t size, struct response *res)
{
	char location[LOCATION_MAX];
	struct head l = { location, 0, sizeof(location) - 1, 0 };
	const char *p = req->path.p;
	size_t len = req->path.len;

	/* "//host/dir" must not become a protocol-relative redirect. */
	while (len > 1 && p[0] == '/' && p[1] == '/') {
		p++;
		len--;
	}
	PUTS(&l, "Location: ");
	put(&l, p, len);
	PUTS(&l, "/");
	put_query(&l, req);
	return moved(env, req, must_close, &l, out, size, res);
}

/* ACME HTTP-01 answers (RFC 8555 §8.3) come over plain HTTP: rel is the
 * rewritten path, so no encoding or "//" can make another path look like
 * one of them, and none of them can leave the directory. */
#define ACME_CHALLENGE ".well-known/acme-challenge/"

static int
acme_challenge(const char *rel, int len)
{
	return len > (int)sizeof(ACME_CHALLENGE) - 1 &&
	    memcmp(rel, ACME_CHALLENGE, sizeof(ACME_CHALLENGE) - 1) == 0;
}

/* --redirect-https: the same target over HTTPS. Nothing here can end the
 * header line: the host passed resolve_host()'s check (letters, digits,
 * '-', '.', '_', or a bracketed IPv6 literal) and path and query are the
 * request-target's, whose bytes the parser limits to VCHAR. A request
 * without a Host (HTTP/1.0) names no host to send it to: 400, rather than
 * guess one or serve it over plain HTTP. Plain-HTTP requests are never
 * TLS, so no HSTS line goes with these. */
static size_t
redirect_https(const struct respond_env *env, const struct request *req, int must_close,
    char *out, size_t size, struct response *res)
{
	char location[LOCATION_MAX];
	struct head l = { location, 0, sizeof(location) - 1, 0 };
	const char *h = req->host.p, *end;
	size_t hlen = req->host.len;

	if (h == NULL || hlen == 0)
		return error_page(env, 400, must_close, req->minor_version,
		    req->method == METHOD_HEAD, NULL, out, size, res);
	if (h[0] == '[' && (end = memchr(h, ']', hlen)) != NULL)
		hlen = (size_t)(end - h) + 1;
	else if (h[0] != '[' && (end = memchr(h, ':', hlen)) != NULL)
		hlen = (size_t)(end - h);
	PUTS(&l, "Location: https://");
	put(&l, h, hlen);
	if (env->cfg->https_port != 443) {
		PUTS(&l, ":");
		put_u64(&l, env->cfg->https_port);
	}
	put(&l, req->path.p, req->path.len);
	put_query(&l, req);
	return moved(env, req, must_close, &l, out, size, res);
}

/* _redirects: whether the request's path is served from a file (a file
 * not named with a trailing '/', or a directory with index.html), which
 * shadows rules without "!". */
static int
file_matches(struct filecache *fc, int64_t now_ms, int rootfd, char *rel, int r,
    int dir_slash)
{
	struct stat st;
	int fd = filecache_open(fc, rootfd, rel, &st, now_ms);

	if (fd < 0 || !S_ISDIR(st.st_mode))
		return fd >= 0 && !dir_slash;
	if (r > 0 && rel[r - 1] != '/')
		memcpy(rel + r, "/index.html", sizeof("/index.html"));
	else
		memcpy(rel + r, "index.html", sizeof("index.html"));
	fd = filecache_open(fc, rootfd, rel, &st, now_ms);
	rel[r] = '\0';
	return fd >= 0 && !S_ISDIR(st.st_mode);
}

/* The rule rd applies to the request: a 3xx is answered here (returns its
 * length); a 200 or 404 rewrites rel to the target's path, by the same
 * publishing policy as any request path, and returns 0; a target that is
 * no publishable path is -404. */
static long
apply_redirect(const struct respond_env *env, const struct request *req, int closing,
    const struct rules_redirect *rd, const struct rules_match *m, char *rel, size_t prefix,
    int *r, char *out, size_t size, struct response *res)
{
	char location[LOCATION_MAX];
	int n, dir_slash;

	if (rd->status == 200 || rd->status == 404) {
		n = rules_target(rd, m, NULL, 0, location, sizeof(location));
		if (n < 0)
			return -414;
		for (int i = 0; i < n; i++)	/* a rewrite serves a path: no query, no fragment */
			if (location[i] == '?' || location[i] == '#')
				n = i;
		n = resolve_path(location, (size_t)n, rel + prefix, RESOLVE_PATH_MAX, &dir_slash);
		if (n < 0)
			return -404;
		*r = n + (int)prefix;
		rel[*r] = '\0';
		return 0;
	}
	memcpy(location, "Location: ", 10);
	n = rules_target(rd, m, req->query.p, req->query.len, location + 10,
	    sizeof(location) - 10 - 3);
	if (n < 0)
		return -414;
	memcpy(location + 10 + n, "\r\n", 3);
	return (long)error_page(env, rd->status, closing, req->minor_version,
	    req->method == METHOD_HEAD, location, out, size, res);
}

size_t
respond_request(const struct respond_env *env, const struct request *req, char *out,
    size_t size, struct response *res)
{
	const struct config *cfg = env->cfg;
	struct filecache *fc = env->fc;
	int64_t now_ms = env->now_ms;
	char rel[VHOST_MAX + 2 + RESOLVE_PATH_MAX + sizeof("/index.html.zst")];
	char site[sizeof(res->vhost)];
	char tag[ETAG_MAX], lastmod[HTTPDATE_LEN + 1];
	struct head h = { out, 0, size, 0 };
	struct chosen c;
	const char *type;
	size_t prefix = 0, taglen;
	unsigned accepted = 0;
	int vary;
	uint64_t first = 0, last = 0;
	enum range_result rr = RANGE_IGNORE;
	int closing = !env->keep_alive_ok || !req->keep_alive || req->body;
	int head_only = req->method == METHOD_HEAD;
	int dir_slash, r, status;
	const struct rules_headers *hrules;
	const struct rules_redirects *rrules;
	char mpath[RESOLVE_PATH_MAX + 1];	/* "/" + the rewritten path, for the rules */
	size_t mlen = 0;
	int rewritten = 0;

	res->vhost[0] = '\0';
	/* These may carry a body that is never read: the connection closes. */
	if (req->method == METHOD_KNOWN_OTHER && !req->asterisk)
		return error_page(env, 405, 1, req->minor_version, 0,
		    "Allow: GET, HEAD\r\n", out, size, res);
	if (req->method == METHOD_UNKNOWN)
		return error_page(env, 501, 1, req->minor_version, 0, NULL, out, size, res);

	/* An invalid Host is 400 even when it picks no site (RFC 9112 §3.2):
	 * the same rules in both modes. res->vhost gets the name only once it
	 * is checked, so the log never shows a half-checked one. */
	r = cfg->vhosts ? resolve_host(req->host, site, sizeof(site)) : resolve_host_valid(req->host);
	if (r < 0)
		return error_page(env, -r, closing, req->minor_version, head_only,
		    NULL, out, size, res);
	if (cfg->vhosts)
		memcpy(res->vhost, site, (size_t)r + 1);
	if (req->asterisk)
		return options_server(env, closing, req->minor_version, out, size, res);

	if (cfg->vhosts) {
		memcpy(rel, site, (size_t)r);
		rel[r] = '/';
		prefix = (size_t)r + 1;
	}
	filecache_begin(fc);	/* a refused name may look up the site's 404 page */
	r = resolve_path(req->path.p, req->path.len, rel + prefix, RESOLVE_PATH_MAX, &dir_slash);
	if (!env->tls && cfg->redirect_https && !acme_challenge(rel + prefix, r))
		return redirect_https(env, req, closing, out, size, res);
	if (r < 0)
		return site_error(env, req, -r, closing, rel, prefix, out, size, res);
	r += (int)prefix;
	rel[r] = '\0';

	c.encoding = NULL;
	rules_site(cfg->rootfd, rel, prefix > 0 ? prefix - 1 : 0, now_ms, &hrules, &rrules);
	if (hrules != NULL || rrules != NULL) {
		mpath[0] = '/';
		mlen = 1 + (size_t)r - prefix;
		memcpy(mpath + 1, rel + prefix, mlen - 1);
	}
	if (rrules != NULL) {
		struct rules_match m;
		const struct rules_redirect *rd = rules_redirect_find(rrules, mpath, mlen, &m);
		if (rd != NULL && (rd->force || !file_matches(fc, now_ms, cfg->rootfd, rel, r,
		    dir_slash && req->path.len > 1))) {
			long n = apply_redirect(env, req, closing, rd, &m, rel, prefix, &r,
			    out, size, res);
			if (n < 0)
				return error_page(env, (int)-n, closing, req->minor_version,
				    head_only, NULL, out, size, res);
			if (n > 0)
				return (size_t)n;
			rewritten = rd->status;
		}
	}
	if ((c.fd = filecache_open(fc, cfg->rootfd, rel, &c.st, now_ms)) < 0)
		return site_error(env, req, -c.fd, closing, rel, prefix, out, size, res);
	if (S_ISDIR(c.st.st_mode)) {
		int dirfd = c.fd;
		if (!rewritten && !dir_slash && req->path.len > 0 && r > (int)prefix)
			return redirect_to_dir(env, req, closing, out, size, res);
		if (r > 0 && rel[r - 1] != '/')
			rel[r++] = '/';
		memcpy(rel + r, "index.html", sizeof("index.html"));
		r += (int)sizeof("index.html") - 1;
		c.fd = filecache_open(fc, cfg->rootfd, rel, &c.st, now_ms);
		if ((c.fd < 0 || S_ISDIR(c.st.st_mode)) && cfg->listing)
			return list_directory(env, req, dirfd, rel,
			    (size_t)r - sizeof("index.html") + 1, prefix, closing, out, size, res);
		if (c.fd < 0 || S_ISDIR(c.st.st_mode))
			return site_error(env, req, 404, closing, rel, prefix, out, size, res);
	} else if (!rewritten && dir_slash && req->path.len > 1) {	/* "/file/" names no directory */
		return site_error(env, req, 404, closing, rel, prefix, out, size, res);
	}
	type = mime_type(rel, (size_t)r);

	/* The representation first: Range requests always get the file itself. */
	if (req->accept_encoding.p != NULL)
		accepted = encoding_accepted(req->accept_encoding.p, req->accept_encoding.len);
	vary = choose_variant(fc, now_ms, cfg->rootfd, rel, (size_t)r, accepted,
	    req->range.p == NULL, &c);

	taglen = etag_format(&c.st, tag);
	httpdate_format(c.st.st_mtim.tv_sec, lastmod);
	if (rewritten == 404)	/* a custom page: the status is the rule's */
		status = 404;
	else if (not_modified(req, tag, taglen, &c.st, env->now))
		status = 304;
	else {
		status = 200;
		if (req->range.p != NULL && req->method == METHOD_GET &&
		    if_range_holds(req, tag, taglen, &c.st))
			rr = range_parse(req->range.p, req->range.len,
			    (uint64_t)c.st.st_size, &first, &last);
		if (rr == RANGE_OK)
			status = 206;
		else if (rr == RANGE_UNSATISFIABLE) {
			char cr[64];
			struct head x = { cr, 0, sizeof(cr) - 1, 0 };
			PUTS(&x, "Content-Range: bytes */");
			put_u64(&x, (uint64_t)c.st.st_size);
			PUTS(&x, "\r\n");
			cr[x.len] = '\0';
			return error_page(env, 416, closing, req->minor_version, head_only,
			    cr, out, size, res);
		}
	}

	response_init(res, status, closing);
	status_line(&h, env, status);
	if (status != 304) {
		PUTS(&h, "Content-Type: ");
		put_str(&h, type);
		PUTS(&h, "\r\nContent-Length: ");
		if (status == 206) {
			res->body_off = first;
			res->body_len = last - first + 1;
		} else
			res->body_len = (uint64_t)c.st.st_size;
		put_u64(&h, res->body_len);
		PUTS(&h, "\r\nAccept-Ranges: bytes\r\n");
	}
	if (status == 206) {
		PUTS(&h, "Content-Range: bytes ");
		put_u64(&h, first);
		PUTS(&h, "-");
		put_u64(&h, last);
		PUTS(&h, "/");
		put_u64(&h, (uint64_t)c.st.st_size);
		PUTS(&h, "\r\n");
	}
	PUTS(&h, "Last-Modified: ");
	put(&h, lastmod, HTTPDATE_LEN);
	PUTS(&h, "\r\nETag: ");
	put(&h, tag, taglen);
	PUTS(&h, "\r\n");
	if (c.encoding != NULL) {
		PUTS(&h, "Content-Encoding: ");
		put_str(&h, c.encoding);
		PUTS(&h, "\r\n");
	}
	if (vary)
		PUTS(&h, "Vary: Accept-Encoding\r\n");
	if (hrules != NULL) {
		/* The head's end must still fit after what placeholders fill. */
		size_t tail = sizeof("Connection: keep-alive\r\n\r\n") - 1;
		size_t room = h.size - h.len > tail ? h.size - h.len - tail : 0;
		int n = rules_headers_write(hrules, mpath, mlen, h.p + h.len, room);
		if (n < 0)
			h.overflow = 1;
		else
			h.len += (size_t)n;
	}
	connection_header(&h, env, closing, req->minor_version);
	end_head(&h, res);
	if (h.overflow)
		return error_page(env, 500, 1, req->minor_version, head_only, NULL,
		    out, size, res);
	if (status == 304) {
		res->body_len = 0;
		return h.len;
	}
	return file_body(env, req, c.fd, &h, res);
}
