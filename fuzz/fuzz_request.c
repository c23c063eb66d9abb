/*
 * fuzz_request: request_parse() on whole heads, on pipelined sequences and
 * on every prefix of the same bytes.
 *
 * Invariants:
 * - the answer is a complete head (> 0, at most len bytes, ending in an
 *   empty line), REQUEST_INCOMPLETE, or one of -400, -431, -501, -505;
 * - a complete head's slices lie inside it and hold what the grammar allows
 *   (a token method, a path starting with '/', values without CR, LF, NUL
 *   or surrounding whitespace), HTTP/1.1 has a Host, nfields <= max_fields;
 * - the answer depends only on the bytes, never on how they arrived: every
 *   prefix of the input is REQUEST_INCOMPLETE or has the whole input's
 *   answer (with the same slices), and a shorter prefix never completes;
 * - with max_fields equal to the number of fields the head still parses,
 *   with one less it is -431;
 * - a body is only ever noted for methods other than GET and HEAD, the
 *   asterisk-form only for OPTIONS;
 * - request_overflow_status() says 414 or 431, or 400 for empty lines only;
 * - request_is_head() agrees with the parser on every complete head.
 */
#include <string.h>

#include "fuzz.h"
#include "request.h"
#include "limits.h"

/* Prefixes are checked for inputs up to this size (quadratic cost). */
#define PREFIX_CHECK_MAX 4096
#define PIPELINE_MAX 64

static int
is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
inside(struct slice s, const char *buf, size_t len)
{
	return s.p >= buf && s.p + s.len <= buf + len;
}

/* A field value: present slices lie in the head, have no CR/LF/NUL or
 * other control byte but HTAB, and no surrounding whitespace. */
static void
check_value(struct slice v, const char *buf, size_t len)
{
	if (v.p == NULL) {
		FUZZ_ASSERT(v.len == 0);
		return;
	}
	FUZZ_ASSERT(inside(v, buf, len));
	for (size_t i = 0; i < v.len; i++) {
		unsigned char c = (unsigned char)v.p[i];
		FUZZ_ASSERT(c == '\t' || (c >= 0x20 && c != 0x7f));
	}
	if (v.len > 0) {
		FUZZ_ASSERT(v.p[0] != ' ' && v.p[0] != '\t');
		FUZZ_ASSERT(v.p[v.len - 1] != ' ' && v.p[v.len - 1] != '\t');
	}
}

static void
check_head(const struct request *r, const char *buf, int n, unsigned max_fields)
{
	size_t len = (size_t)n;

	FUZZ_ASSERT(len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0);
	FUZZ_ASSERT(inside(r->method_name, buf, len) && r->method_name.len > 0);
	for (size_t i = 0; i < r->method_name.len; i++)
		FUZZ_ASSERT(is_tchar((unsigned char)r->method_name.p[i]));
	FUZZ_ASSERT((r->method == METHOD_GET) ==
	    (r->method_name.len == 3 && memcmp(r->method_name.p, "GET", 3) == 0));
	FUZZ_ASSERT((r->method == METHOD_HEAD) ==
	    (r->method_name.len == 4 && memcmp(r->method_name.p, "HEAD", 4) == 0));
	FUZZ_ASSERT(inside(r->target, buf, len) && r->target.len > 0);
	for (size_t i = 0; i < r->target.len; i++) {
		unsigned char c = (unsigned char)r->target.p[i];
		FUZZ_ASSERT(c > 0x20 && c < 0x7f);
	}
	/* the path is in the target, or the constant "/" for "http://host" */
	FUZZ_ASSERT(r->path.len >= 1 && r->path.p[0] == '/');
	FUZZ_ASSERT(inside(r->path, buf, len) || r->path.len == 1);
	if (r->query.p != NULL)
		FUZZ_ASSERT(inside(r->query, buf, len) && r->query.p[-1] == '?');
	FUZZ_ASSERT(memchr(r->path.p, '?', r->path.len) == NULL);
	FUZZ_ASSERT(r->minor_version == 0 || r->minor_version == 1);
	FUZZ_ASSERT(r->keep_alive == 0 || r->keep_alive == 1);
	FUZZ_ASSERT(r->minor_version == 0 || r->host.p != NULL);
	FUZZ_ASSERT(r->nfields <= max_fields);
	FUZZ_ASSERT(r->body == 0 || (r->method != METHOD_GET && r->method != METHOD_HEAD));
	FUZZ_ASSERT(r->asterisk == 0 || (r->target.len == 1 && r->target.p[0] == '*' &&
	    r->method_name.len == 7 && memcmp(r->method_name.p, "OPTIONS", 7) == 0));
	FUZZ_ASSERT(request_is_head(buf, len) == (r->method == METHOD_HEAD));
	check_value(r->host, buf, len);
	check_value(r->if_none_match, buf, len);
	check_value(r->if_modified_since, buf, len);
	check_value(r->range, buf, len);
	check_value(r->if_range, buf, len);
	check_value(r->accept_encoding, buf, len);
	check_value(r->user_agent, buf, len);
	check_value(r->referer, buf, len);
}

static void
check_answer(int n, size_t len)
{
	FUZZ_ASSERT(n == REQUEST_INCOMPLETE || n == -400 || n == -431 || n == -501 ||
	    n == -505 || (n > 0 && (size_t)n <= len));
}

/* Two slices are the same when they sit at the same offset of their
 * buffers (or are both absent, or both the constant "/"). */
static int
same_slice(struct slice a, const char *abuf, size_t alen, struct slice b,
    const char *bbuf, size_t blen)
{
	if (a.len != b.len || (a.p == NULL) != (b.p == NULL))
		return 0;
	if (a.p == NULL)
		return 1;
	if (inside(a, abuf, alen) != inside(b, bbuf, blen))
		return 0;
	if (!inside(a, abuf, alen))
		return memcmp(a.p, b.p, a.len) == 0;
	return a.p - abuf == b.p - bbuf;
}

static void
check_same(const struct request *a, const char *abuf, size_t alen,
    const struct request *b, const char *bbuf, size_t blen)
{
#define SAME(f) FUZZ_ASSERT(same_slice(a->f, abuf, alen, b->f, bbuf, blen))
	FUZZ_ASSERT(a->method == b->method);
	FUZZ_ASSERT(a->minor_version == b->minor_version);
	FUZZ_ASSERT(a->keep_alive == b->keep_alive);
	FUZZ_ASSERT(a->nfields == b->nfields);
	FUZZ_ASSERT(a->asterisk == b->asterisk);
	FUZZ_ASSERT(a->body == b->body);
	SAME(method_name);
	SAME(target);
	SAME(path);
	SAME(query);
	SAME(host);
	SAME(if_none_match);
	SAME(if_modified_since);
	SAME(range);
	SAME(if_range);
	SAME(accept_encoding);
	SAME(user_agent);
	SAME(referer);
#undef SAME
}

/* Every prefix of buf[0..len) placed at the end of a block of len bytes, so
 * any read past the prefix is one past the block. */
static void
check_prefixes(const char *buf, size_t len, int whole, const struct request *wreq)
{
	char *block = malloc(len);
	struct request r;

	if (block == NULL)
		abort();
	for (size_t k = 0; k < len; k++) {
		char *p = block + len - k;
		int n;
		memcpy(p, buf, k);
		n = request_parse(p, k, DEFAULT_MAX_HEADER_FIELDS, &r);
		check_answer(n, k);
		if (n == REQUEST_INCOMPLETE) {
			/* a prefix may lack bytes the whole answer needed,
			 * but one as long as a complete head is complete */
			FUZZ_ASSERT(whole <= 0 || k < (size_t)whole);
			continue;
		}
		FUZZ_ASSERT(n == whole);
		if (n > 0)
			check_same(&r, p, k, wreq, buf, len);
	}
	free(block);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_dup(data, size);
	struct request req, again;
	size_t off = 0;
	int n, s;

	n = request_parse(buf, size, DEFAULT_MAX_HEADER_FIELDS, &req);
	check_answer(n, size);
	if (n > 0) {
		check_head(&req, buf, n, DEFAULT_MAX_HEADER_FIELDS);
		/* the field limit is exact */
		FUZZ_ASSERT(request_parse(buf, size, req.nfields, &again) == n);
		check_same(&again, buf, size, &req, buf, size);
		if (req.nfields > 0)
			FUZZ_ASSERT(request_parse(buf, size, req.nfields - 1, &again) == -431);
	}
	if (size <= PREFIX_CHECK_MAX)
		check_prefixes(buf, size, n, &req);

	/* pipelined: what follows a complete head is parsed as the next one */
	for (int i = 0; i < PIPELINE_MAX && n > 0; i++) {
		off += (size_t)n;
		n = request_parse(buf + off, size - off, DEFAULT_MAX_HEADER_FIELDS, &req);
		check_answer(n, size - off);
		if (n > 0)
			check_head(&req, buf + off, n, DEFAULT_MAX_HEADER_FIELDS);
	}

	s = request_overflow_status(buf, size);
	FUZZ_ASSERT(s == 400 || s == 414 || s == 431);
	free(buf);
	return 0;
}
