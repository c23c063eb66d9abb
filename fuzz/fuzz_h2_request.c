/*
 * fuzz_h2_request: an HTTP/2 header block mapped to a struct request, as
 * http2.c does it: request_begin(), request_set_method(),
 * request_set_target(), host from :authority, then request_add_field() for
 * each regular field, compared with request_parse() on the HTTP/1.1 head
 * made of the same fields.
 *
 * The input: byte 0 bit 0 says whether there is an :authority; the rest is
 * records split at '\n': the method, the target, the authority if any,
 * then fields "name:value" (split at the first ':'). The method and the
 * target go in as they are (the request functions must refuse what is
 * wrong); a field goes in only when nghttp2 would pass it on (a lowercase
 * token name, a value as RFC 9113 §8.2.1 allows, nothing connection-
 * specific), as checked here.
 *
 * Invariants:
 * - every call returns 0 or -400;
 * - an accepted request's slices lie inside the input (the path of the
 *   asterisk-form aside), its path starts with '/', or the target is "*"
 *   with OPTIONS; the path and query are the target split at its first
 *   '?'; the method is what its name says; a body only with methods other
 *   than GET and HEAD;
 * - a Content-Length that is not all digits, or not 0 with GET or HEAD,
 *   is -400;
 * - the HTTP/1.1 head with the same method, target, Host (the authority)
 *   and fields: whenever request_parse() accepts it, the fields accept it
 *   too, and the two requests agree (method, target, path, query, host,
 *   the conditional, range, encoding and log fields, body, keep-alive, the
 *   number of fields).
 */
#include <string.h>

#include "fuzz.h"
#include "request.h"

#define RECORDS_MAX 64

struct rec {
	const char *p;
	size_t len;
};

static int
inside(struct slice s, const char *buf, size_t len)
{
	return s.p == NULL ? s.len == 0 : s.p >= buf && s.p + s.len <= buf + len;
}

static int
same(struct slice a, struct slice b)
{
	if (a.p == NULL || b.p == NULL)
		return a.p == b.p;
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

static int
named(struct rec n, const char *s)
{
	return n.len == strlen(s) && memcmp(n.p, s, n.len) == 0;
}

/* A field value as RFC 9113 §8.2.1 lets it through: no NUL, CR or LF,
 * no whitespace first or last. (nghttp2's own checks are not called: the
 * target also runs under MemorySanitizer, and libnghttp2 is not built
 * with it.) */
static int
value_ok(struct rec v)
{
	for (size_t i = 0; i < v.len; i++)
		if (v.p[i] == '\0' || v.p[i] == '\r' || v.p[i] == '\n')
			return 0;
	return v.len == 0 || (v.p[0] != ' ' && v.p[0] != '\t' &&
	    v.p[v.len - 1] != ' ' && v.p[v.len - 1] != '\t');
}

/* Whether nghttp2 passes the field on to http2.c as a regular field: a
 * lowercase token name, a value as above, nothing connection-specific. */
static int
passes(struct rec n, struct rec v)
{
	if (n.len == 0 || !value_ok(v))
		return 0;
	for (size_t i = 0; i < n.len; i++) {
		unsigned char c = (unsigned char)n.p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL)))
			return 0;
	}
	return !named(n, "connection") && !named(n, "keep-alive") &&
	    !named(n, "proxy-connection") && !named(n, "transfer-encoding") &&
	    !named(n, "upgrade") && !named(n, "te");
}

/* The Content-Length values that must be refused with this method. */
static int
refused_length(struct rec v, enum method m)
{
	int nonzero = 0;

	if (v.len == 0)
		return 1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 1;
		nonzero |= v.p[i] != '0';
	}
	return nonzero && (m == METHOD_GET || m == METHOD_HEAD);
}

static size_t
append(char *out, size_t at, const char *p, size_t len)
{
	memcpy(out + at, p, len);
	return at + len;
}

static void
check_accepted(const struct request *r, const char *buf, size_t len, struct rec target)
{
	static const struct { const char *name; enum method m; } methods[] = {
		{ "GET", METHOD_GET }, { "HEAD", METHOD_HEAD }, { "POST", METHOD_KNOWN_OTHER },
		{ "PUT", METHOD_KNOWN_OTHER }, { "DELETE", METHOD_KNOWN_OTHER },
		{ "CONNECT", METHOD_KNOWN_OTHER }, { "OPTIONS", METHOD_KNOWN_OTHER },
		{ "TRACE", METHOD_KNOWN_OTHER }, { "PATCH", METHOD_KNOWN_OTHER },
	};
	enum method m = METHOD_UNKNOWN;

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (r->method_name.len == strlen(methods[i].name) &&
		    memcmp(r->method_name.p, methods[i].name, r->method_name.len) == 0)
			m = methods[i].m;
	FUZZ_ASSERT(r->method == m);
	FUZZ_ASSERT(inside(r->method_name, buf, len) && inside(r->target, buf, len));
	FUZZ_ASSERT(r->target.p == target.p && r->target.len == target.len);
	FUZZ_ASSERT(r->path.len > 0 && r->path.p[0] == '/');
	if (r->asterisk) {
		FUZZ_ASSERT(r->target.len == 1 && r->target.p[0] == '*');
		FUZZ_ASSERT(r->method_name.len == 7 && memcmp(r->method_name.p, "OPTIONS", 7) == 0);
		FUZZ_ASSERT(r->path.len == 1 && r->query.p == NULL);
	} else {
		const char *q = memchr(target.p, '?', target.len);
		size_t plen = q != NULL ? (size_t)(q - target.p) : target.len;
		FUZZ_ASSERT(inside(r->path, buf, len) && inside(r->query, buf, len));
		FUZZ_ASSERT(r->path.p == target.p && r->path.len == plen);
		if (q == NULL)
			FUZZ_ASSERT(r->query.p == NULL);
		else
			FUZZ_ASSERT(r->query.p == q + 1 && r->query.len == target.len - plen - 1);
	}
	FUZZ_ASSERT(inside(r->host, buf, len) && inside(r->if_none_match, buf, len));
	FUZZ_ASSERT(inside(r->if_modified_since, buf, len) && inside(r->range, buf, len));
	FUZZ_ASSERT(inside(r->if_range, buf, len) && inside(r->accept_encoding, buf, len));
	FUZZ_ASSERT(inside(r->user_agent, buf, len) && inside(r->referer, buf, len));
	FUZZ_ASSERT(!r->body || (m != METHOD_GET && m != METHOD_HEAD));
}

/* The same request over HTTP/1.1: accepted there, it is accepted here
 * and is the same. */
static void
compare_http1(const struct request *r2, int r, struct rec method, struct rec target,
    const struct rec *auth, const struct rec *f, unsigned nf)
{
	struct request r1;
	size_t n = 0, cap = method.len + target.len + 64;
	char *head;
	int h1;

	for (unsigned i = 0; i < nf; i++)
		cap += f[2 * i].len + f[2 * i + 1].len + 4;
	if (auth != NULL)
		cap += auth->len;
	if ((head = malloc(cap)) == NULL)
		abort();
	n = append(head, n, method.p, method.len);
	n = append(head, n, " ", 1);
	n = append(head, n, target.p, target.len);
	n = append(head, n, " HTTP/1.1\r\n", 11);
	if (auth != NULL) {
		n = append(head, n, "Host: ", 6);
		n = append(head, n, auth->p, auth->len);
		n = append(head, n, "\r\n", 2);
	}
	for (unsigned i = 0; i < nf; i++) {
		n = append(head, n, f[2 * i].p, f[2 * i].len);
		n = append(head, n, ": ", 2);
		n = append(head, n, f[2 * i + 1].p, f[2 * i + 1].len);
		n = append(head, n, "\r\n", 2);
	}
	n = append(head, n, "\r\n", 2);
	h1 = request_parse(head, n, 1000, &r1);
	/* The absolute-form is HTTP/1.1's alone (RFC 9113 §8.3.1). */
	if (h1 > 0 && target.len > 0 && (target.p[0] == '/' || target.p[0] == '*')) {
		FUZZ_ASSERT((size_t)h1 == n);
		FUZZ_ASSERT(r == 0);
		FUZZ_ASSERT(r1.method == r2->method && same(r1.method_name, r2->method_name));
		FUZZ_ASSERT(same(r1.target, r2->target) && same(r1.path, r2->path));
		FUZZ_ASSERT(same(r1.query, r2->query) && r1.asterisk == r2->asterisk);
		FUZZ_ASSERT(same(r1.host, r2->host));
		FUZZ_ASSERT(same(r1.if_none_match, r2->if_none_match));
		FUZZ_ASSERT(same(r1.if_modified_since, r2->if_modified_since));
		FUZZ_ASSERT(same(r1.range, r2->range) && same(r1.if_range, r2->if_range));
		FUZZ_ASSERT(same(r1.accept_encoding, r2->accept_encoding));
		FUZZ_ASSERT(same(r1.user_agent, r2->user_agent) && same(r1.referer, r2->referer));
		FUZZ_ASSERT(r1.body == r2->body && r1.keep_alive == r2->keep_alive);
		FUZZ_ASSERT(r1.minor_version == r2->minor_version);
		FUZZ_ASSERT(r1.nfields == r2->nfields + (auth != NULL));
	}
	free(head);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec rec[RECORDS_MAX], fields[2 * RECORDS_MAX], *auth = NULL;
	struct request req;
	unsigned nrec = 0, nf = 0, i;
	int has_auth, r, must_refuse = 0, comparable = 1;
	char *buf;
	size_t len;

	if (size < 1)
		return 0;
	has_auth = data[0] & 1;
	len = size - 1;
	buf = fuzz_dup(data + 1, len);
	for (size_t at = 0; nrec < RECORDS_MAX;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len;
		rec[nrec].p = buf + at;
		rec[nrec++].len = end - at;
		if (nl == NULL)
			break;
		at = end + 1;
	}
	if (nrec < 2 + (unsigned)has_auth) {
		free(buf);
		return 0;
	}
	i = 2;
	if (has_auth) {
		auth = &rec[i++];
		/* one Host line in HTTP/1.1, its value as sent */
		comparable = value_ok(*auth);
	}
	for (; i < nrec; i++) {
		const char *colon = memchr(rec[i].p, ':', rec[i].len);
		struct rec n = { rec[i].p, colon != NULL ? (size_t)(colon - rec[i].p) : rec[i].len };
		struct rec v = { colon != NULL ? colon + 1 : rec[i].p + rec[i].len,
		    colon != NULL ? rec[i].len - n.len - 1 : 0 };
		if (!passes(n, v))
			continue;
		fields[2 * nf] = n;
		fields[2 * nf + 1] = v;
		nf++;
	}

	/* As http2.c does: method, target, host, then the fields. */
	request_begin(&req);
	r = request_set_method(&req, rec[0].p, rec[0].len);
	FUZZ_ASSERT(r == 0 || r == -400);
	if (r == 0) {
		r = request_set_target(&req, rec[1].p, rec[1].len);
		FUZZ_ASSERT(r == 0 || r == -400);
	}
	if (r == 0 && auth != NULL) {
		req.host.p = auth->p;
		req.host.len = auth->len;
	}
	for (i = 0; i < nf && r == 0; i++) {
		if (named(fields[2 * i], "content-length") &&
		    refused_length(fields[2 * i + 1], req.method))
			must_refuse = 1;
		r = request_add_field(&req, fields[2 * i].p, fields[2 * i].len,
		    fields[2 * i + 1].p, fields[2 * i + 1].len);
		FUZZ_ASSERT(r == 0 || r == -400);
		FUZZ_ASSERT(!must_refuse || r == -400);
	}
	if (r == 0) {
		check_accepted(&req, buf, len, rec[1]);
		FUZZ_ASSERT(req.nfields == nf);
	}
	if (comparable)
		compare_http1(&req, r, rec[0], rec[1], auth, fields, nf);
	free(buf);
	return 0;
}
