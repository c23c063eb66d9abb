/*
 * rules: _headers and _redirects, parsed once per change, matched on every
 * request without allocating (see rules.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecache.h"
#include "limits.h"
#include "log.h"
#include "resolve.h"
#include "rules.h"

/* ---- patterns ---- */

static int
name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	    (!first && c >= '0' && c <= '9');
}

/* Checks a source pattern; sets *dynamic when it has a splat or a
 * placeholder. Returns NULL or why it is refused. */
static const char *
pattern_check(const char *p, size_t len, int *dynamic)
{
	int splat = 0;
	unsigned holders = 0;

	*dynamic = 0;
	if (len == 0 || p[0] != '/')
		return "a path must start with '/'";
	if (len > 1 && p[1] == '/')
		return "a path cannot start with \"//\"";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return "a path may only have printable ASCII bytes, no '\\'";
		if (c == '?' || c == '#')
			return "query or fragment in a source path is not supported";
		if (c == '*') {
			if (splat++)
				return "at most one '*' in a path";
			*dynamic = 1;
		} else if (c == ':' && p[i - 1] == '/' && i + 1 < len && name_char(p[i + 1], 1)) {
			if (splat)
				return "no placeholder after '*'";
			if (++holders > RULES_PLACEHOLDERS_MAX)
				return "too many placeholders in a path";
			*dynamic = 1;
			for (i++; i < len && p[i] != '/'; i++)
				if (!name_char(p[i], 0))
					return "a placeholder is a whole segment: \":name\"";
			i--;
		}
	}
	return NULL;
}

int
rules_pattern_match(const char *p, size_t plen, const char *path, size_t len,
    struct rules_match *m)
{
	size_t i = 0, j = 0;

	m->splat = NULL;
	m->splat_len = 0;
	m->n = 0;
	while (i < plen) {
		char c = p[i];
		if (c == '*') {
			size_t suffix = plen - i - 1;
			if (len - j < suffix || memcmp(path + len - suffix, p + i + 1, suffix) != 0)
				return 0;
			m->splat = path + j;
			m->splat_len = len - j - suffix;
			return 1;
		}
		if (c == ':' && i > 0 && p[i - 1] == '/' && i + 1 < plen && name_char(p[i + 1], 1)) {
			size_t ne = i + 1, ve = j;
			while (ne < plen && p[ne] != '/')
				ne++;
			while (ve < len && path[ve] != '/')
				ve++;
			if (ve == j || m->n >= RULES_PLACEHOLDERS_MAX)
				return 0;
			m->cap[m->n].name = p + i + 1;
			m->cap[m->n].name_len = ne - i - 1;
			m->cap[m->n].value = path + j;
			m->cap[m->n].value_len = ve - j;
			m->n++;
			i = ne;
			j = ve;
			continue;
		}
		if (j == len) {
			/* A trailing "/ *" (no space) also matches without the slash. */
			if (c == '/' && i + 2 == plen && p[i + 1] == '*') {
				m->splat = path + j;
				return 1;
			}
			return 0;
		}
		if (path[j] != c)
			return 0;
		i++;
		j++;
	}
	return j == len;
}

/* ---- lines ---- */

struct lines {
	const char *p, *end;
	unsigned n;
};

/* The next line without its end (LF or CRLF); 0 at the end of the text. */
static int
next_line(struct lines *l, const char **s, size_t *len)
{
	const char *nl;

	if (l->p >= l->end)
		return 0;
	nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (nl == NULL)
		nl = l->end;
	*s = l->p;
	*len = (size_t)(nl - l->p);
	if (*len > 0 && (*s)[*len - 1] == '\r')
		(*len)--;
	l->p = nl + 1;
	l->n++;
	return 1;
}

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
trim(const char **s, size_t *len)
{
	while (*len > 0 && blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && blank((*s)[*len - 1]))
		(*len)--;
}

static int
fail(char *err, size_t errsize, unsigned line, const char *why)
{
	snprintf(err, errsize, "line %u: %s", line, why);
	return -1;
}

static uint32_t
hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

/* A trailing '/' is not part of a pattern ("/a/" is "/a"), as rewritten
 * request paths never end with one. */
static size_t
strip_slash(const char *p, size_t len)
{
	return len > 1 && p[len - 1] == '/' ? len - 1 : len;
}

/* Which of at most 128 dynamic patterns can match a path, by the path's
 * byte after its leading '/' (0 for "/" itself): a path is compared with
 * its few candidates only, not with every pattern. */
struct candidates {
	uint64_t m[256][2];
};
_Static_assert(RULES_DYNAMIC_MAX <= 128 && RULES_HEADER_RULES_MAX <= 128,
    "candidates hold 128 bits");

static void
candidates_add(struct candidates *c, unsigned idx, const char *p, size_t len)
{
	uint64_t bit = (uint64_t)1 << (idx % 64);

	if (len > 1 && (p[1] == '*' || (p[1] == ':' && len > 2 && name_char(p[2], 1)))) {
		for (unsigned b = 0; b < 256; b++)
			c->m[b][idx / 64] |= bit;
	} else
		c->m[len > 1 ? (unsigned char)p[1] : 0][idx / 64] |= bit;
}

static const uint64_t *
candidates_of(const struct candidates *c, const char *path, size_t len)
{
	return c->m[len > 1 ? (unsigned char)path[1] : 0];
}

/* The next candidate at or after *from, or -1. */
static int
candidates_next(const uint64_t *m, unsigned *from)
{
	for (unsigned w = *from / 64; w < 2; w++) {
		uint64_t bits = m[w];
		if (w == *from / 64)
			bits &= ~(uint64_t)0 << (*from % 64);
		if (bits != 0) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
			*from = i + 1;
			return (int)i;
		}
	}
	return -1;
}

/* ---- _redirects ---- */

struct redirect {
	struct rules_redirect pub;
	const char *from;
	size_t from_len;
};

struct rules_redirects {
	char *text;
	struct redirect *rules;
	unsigned count;
	unsigned dynamic[RULES_DYNAMIC_MAX];
	unsigned ndynamic;
	uint32_t *table;	/* index + 1 of static rules, open addressing */
	uint32_t mask;
	struct candidates cand;	/* bits: positions in dynamic[] */
};

static int
status_of(const char *s, size_t len, int *force)
{
	int v = 0;

	*force = len > 0 && s[len - 1] == '!';
	if (*force)
		len--;
	if (len != 3)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + s[i] - '0';
	}
	switch (v) {
	case 200: case 301: case 302: case 303: case 307: case 308: case 404:
		return v;
	}
	return -1;
}

static int
prefixed(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && strncasecmp(s, lit, n) == 0;
}

/* A target: a path of the site, or (3xx only) an http(s) URL; printable
 * ASCII without '\', which some clients read as '/'. */
static const char *
target_check(const char *p, size_t len, int status, int *external)
{
	size_t scheme = prefixed(p, len, "https://") ? 8 : prefixed(p, len, "http://") ? 7 : 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return "a target may only have printable ASCII bytes, no '\\'";
	}
	*external = scheme != 0;
	if (scheme) {
		if (status == 200 || status == 404)
			return "a rewrite or 404 target must be a path of the site, not a URL";
		if (len == scheme || p[scheme] == '/' || p[scheme] == '?' || p[scheme] == '#')
			return "a URL target needs a host";
		return NULL;
	}
	if (p[0] != '/')
		return "a target must be a path starting with '/' or an http(s):// URL";
	if (len > 1 && p[1] == '/')
		return "a target cannot start with \"//\"";
	return NULL;
}

static int
table_add(struct rules_redirects *r, unsigned idx)
{
	const struct redirect *rd = &r->rules[idx];
	uint32_t i = hash(rd->from, rd->from_len) & r->mask;

	while (r->table[i] != 0) {
		const struct redirect *o = &r->rules[r->table[i] - 1];
		if (o->from_len == rd->from_len && memcmp(o->from, rd->from, rd->from_len) == 0)
			return 0;	/* the first rule for a source wins */
		i = (i + 1) & r->mask;
	}
	r->table[i] = idx + 1;
	return 0;
}

/* One rule line; fields f[0..n). */
static int
redirect_line(struct rules_redirects *r, const char *const *f, const size_t *fl, unsigned n,
    unsigned line, unsigned *nstatic, char *err, size_t errsize)
{
	struct redirect *rd;
	const char *why;
	int dynamic, force = 0, status = RULES_STATUS_DEFAULT, external;

	if (n < 2)
		return fail(err, errsize, line, "a rule needs a source and a target");
	if (n > 3) {
		if (memchr(f[2], '=', fl[2]) != NULL || memchr(f[3], '=', fl[3]) != NULL)
			return fail(err, errsize, line,
			    "conditions (query, Country, Language, Role...) are not supported");
		return fail(err, errsize, line, "more than three fields");
	}
	if (prefixed(f[0], fl[0], "http://") || prefixed(f[0], fl[0], "https://"))
		return fail(err, errsize, line, "domain-level (URL) sources are not supported");
	if ((why = pattern_check(f[0], fl[0], &dynamic)) != NULL)
		return fail(err, errsize, line, why);
	if (n == 3 && (status = status_of(f[2], fl[2], &force)) < 0) {
		if (memchr(f[2], '=', fl[2]) != NULL)
			return fail(err, errsize, line,
			    "conditions (query, Country, Language, Role...) are not supported");
		return fail(err, errsize, line,
		    "the status must be 200, 301, 302, 303, 307, 308 or 404, with an optional '!'");
	}
	if ((why = target_check(f[1], fl[1], status, &external)) != NULL)
		return fail(err, errsize, line, why);
	if (dynamic && r->ndynamic == RULES_DYNAMIC_MAX)
		return fail(err, errsize, line, "more than 100 dynamic redirects");
	if (!dynamic && *nstatic == RULES_STATIC_MAX)
		return fail(err, errsize, line, "more than 2000 static redirects");
	rd = &r->rules[r->count];
	rd->from = f[0];
	rd->from_len = strip_slash(f[0], fl[0]);
	rd->pub.status = status;
	rd->pub.force = force;
	rd->pub.external = external;
	rd->pub.to = f[1];
	rd->pub.to_len = fl[1];
	rd->pub.line = line;
	if (dynamic) {
		candidates_add(&r->cand, r->ndynamic, rd->from, rd->from_len);
		r->dynamic[r->ndynamic++] = r->count;
	}
	else
		(*nstatic)++;
	r->count++;
	return 0;
}

static int
redirects_fill(struct rules_redirects *r, char *err, size_t errsize, size_t len)
{
	struct lines l = { r->text, r->text + len, 0 };
	const char *s;
	size_t sl;
	unsigned nstatic = 0;

	while (next_line(&l, &s, &sl)) {
		const char *f[4];
		size_t fl[4];
		unsigned n = 0;
		if (sl > RULES_REDIRECT_LINE_MAX)
			return fail(err, errsize, l.n, "longer than 1000 bytes");
		trim(&s, &sl);
		if (sl == 0 || s[0] == '#')
			continue;
		for (size_t i = 0; i < sl;) {
			size_t b = i;
			while (i < sl && !blank(s[i]))
				i++;
			if (n == 4)
				return fail(err, errsize, l.n, "more than three fields");
			f[n] = s + b;
			fl[n++] = i - b;
			while (i < sl && blank(s[i]))
				i++;
		}
		if (redirect_line(r, f, fl, n, l.n, &nstatic, err, errsize) < 0)
			return -1;
	}
	r->mask = 16;
	while (r->mask < 2 * nstatic)
		r->mask <<= 1;
	if ((r->table = calloc(r->mask, sizeof(*r->table))) == NULL)
		return fail(err, errsize, 0, "out of memory");
	r->mask--;
	for (unsigned i = 0, d = 0; i < r->count; i++) {
		if (d < r->ndynamic && r->dynamic[d] == i)
			d++;
		else
			table_add(r, i);
	}
	return 0;
}

struct rules_redirects *
rules_redirects_parse(const char *text, size_t len, char *err, size_t errsize)
{
	struct rules_redirects *r = calloc(1, sizeof(*r));

	if (len > RULES_FILE_MAX) {
		snprintf(err, errsize, "line 0: larger than %u bytes", RULES_FILE_MAX);
		free(r);
		return NULL;
	}
	size_t lines = 1;

	/* One rule a line: the rule array need not be larger than that. */
	for (const char *p = text; len <= RULES_FILE_MAX &&
	    (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
		lines++;
	if (lines > RULES_STATIC_MAX + RULES_DYNAMIC_MAX + 1)
		lines = RULES_STATIC_MAX + RULES_DYNAMIC_MAX + 1;
	if (r == NULL || (r->text = malloc(len + 1)) == NULL ||
	    (r->rules = calloc(lines, sizeof(*r->rules))) == NULL) {
		snprintf(err, errsize, "line 0: out of memory");
		rules_redirects_free(r);
		return NULL;
	}
	memcpy(r->text, text, len);
	r->text[len] = '\0';
	if (redirects_fill(r, err, errsize, len) < 0) {
		rules_redirects_free(r);
		return NULL;
	}
	return r;
}

void
rules_redirects_free(struct rules_redirects *r)
{
	if (r == NULL)
		return;
	free(r->text);
	free(r->rules);
	free(r->table);
	free(r);
}

unsigned
rules_redirects_count(const struct rules_redirects *r)
{
	return r == NULL ? 0 : r->count;
}

/* The static rule for path, by exact match, or UINT32_MAX. */
static uint32_t
static_find(const struct rules_redirects *r, const char *path, size_t len)
{
	uint32_t i = hash(path, len) & r->mask;

	while (r->table[i] != 0) {
		const struct redirect *o = &r->rules[r->table[i] - 1];
		if (o->from_len == len && memcmp(o->from, path, len) == 0)
			return r->table[i] - 1;
		i = (i + 1) & r->mask;
	}
	return UINT32_MAX;
}

const struct rules_redirect *
rules_redirect_find(const struct rules_redirects *r, const char *path, size_t len,
    struct rules_match *m)
{
	uint32_t best = static_find(r, path, len);
	const uint64_t *cand = candidates_of(&r->cand, path, len);
	unsigned from = 0;
	int d;

	/* File order decides: only dynamic rules above the static one can win. */
	while ((d = candidates_next(cand, &from)) >= 0 && r->dynamic[d] < best) {
		const struct redirect *rd = &r->rules[r->dynamic[d]];
		if (rules_pattern_match(rd->from, rd->from_len, path, len, m))
			return &rd->pub;
	}
	if (best == UINT32_MAX)
		return NULL;
	m->n = 0;
	m->splat = NULL;
	m->splat_len = 0;
	return &r->rules[best].pub;
}

/* Bytes a path may carry as they are; everything else is %XX. */
static int
path_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

struct out {
	char *p;
	size_t len, size;
	int overflow;
};

static void
out_put(struct out *o, const char *s, size_t len)
{
	if (len > o->size - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
}

static void
out_encoded(struct out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (path_safe(c) && c != '\0')
			out_put(o, (const char *)&c, 1);
		else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			out_put(o, e, 3);
		}
	}
}

/* The end of the ":name" that starts at t[i] in t[0..n), or 0 when none
 * does. */
static size_t
placeholder_end(const char *t, size_t n, size_t i)
{
	size_t e = i + 1;

	if (t[i] != ':' || e == n || !name_char(t[e], 1))
		return 0;
	while (e < n && name_char(t[e], 0))
		e++;
	return e;
}

/* Writes t[0..n) with its placeholders replaced by their captures in m,
 * percent-encoded: ":splat" when the pattern had a '*', ":name" when it had
 * that segment; any other ":name" stays as written. */
static void
out_substituted(struct out *o, const char *t, size_t n, const struct rules_match *m)
{
	for (size_t i = 0; i < n;) {
		size_t e = placeholder_end(t, n, i);
		if (e == 0) {
			out_put(o, t + i, 1);
			i++;
			continue;
		}
		if (e - i - 1 == 5 && memcmp(t + i + 1, "splat", 5) == 0 && m->splat != NULL)
			out_encoded(o, m->splat, m->splat_len);
		else {
			unsigned k;
			for (k = 0; k < m->n; k++)
				if (m->cap[k].name_len == e - i - 1 &&
				    memcmp(m->cap[k].name, t + i + 1, e - i - 1) == 0)
					break;
			if (k == m->n)
				out_put(o, t + i, e - i);	/* not a placeholder of the source */
			else
				out_encoded(o, m->cap[k].value, m->cap[k].value_len);
		}
		i = e;
	}
}

int
rules_target(const struct rules_redirect *rd, const struct rules_match *m,
    const char *query, size_t query_len, char *out, size_t size)
{
	struct out o = { out, 0, size, 0 };
	const char *t = rd->to;
	size_t n = rd->to_len;
	int own_query = memchr(t, '?', n) != NULL;

	out_substituted(&o, t, n, m);
	if (query != NULL && !own_query) {
		out_put(&o, "?", 1);
		out_put(&o, query, query_len);
	}
	/* A splat that starts with '/', or an empty one before a '/', would
	 * make "//host": a protocol-relative URL, another site. */
	if (!rd->external && !o.overflow) {
		size_t k = 0;
		while (k + 1 < o.len && o.p[k + 1] == '/')
			k++;
		memmove(o.p, o.p + k, o.len - k);
		o.len -= k;
	}
	return o.overflow || o.len > INT32_MAX ? -1 : (int)o.len;
}

/* ---- _headers ---- */

struct hentry {
	const char *name, *value;	/* value NULL: "! Name" */
	size_t name_len, value_len;
	unsigned rule, seq, id;
	int holders;		/* the value has placeholders of its rule's path */
};

struct hrule {
	const char *path;
	size_t path_len;
};

struct rules_headers {
	char *text;
	struct hrule rules[RULES_HEADER_RULES_MAX];
	unsigned nrules;
	struct hentry *entries;	/* sorted by name id, then file order */
	unsigned nentries;
	unsigned nnames;
	struct candidates cand;
};

static const char *const owned[] = {
	"Accept-Ranges", "Allow", "Connection", "Content-Encoding", "Content-Length",
	"Content-Range", "Content-Type", "Date", "ETag", "Keep-Alive", "Last-Modified",
	"Location", "Proxy-Connection", "Server", "Strict-Transport-Security", "TE",
	"Trailer", "Transfer-Encoding", "Upgrade", "Vary", "X-Content-Type-Options",
};

int
rules_header_owned(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i]) == len && strncasecmp(owned[i], name, len) == 0)
			return 1;
	return 0;
}

/* RFC 9110 §5.6.2 token. */
static int
token(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", c) != NULL) || c == '\0')
			return 0;
	}
	return 1;
}

/* A field value: no control byte but HTAB (no CR or LF can split it). */
static int
field_value(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

/* Whether pattern p[0..plen) captures name[0..len): "splat" for a '*', or
 * a ":name" segment. */
static int
captures(const char *p, size_t plen, const char *name, size_t len)
{
	if (len == 5 && memcmp(name, "splat", 5) == 0 && memchr(p, '*', plen) != NULL)
		return 1;
	for (size_t i = 1; i + len < plen; i++)
		if (p[i] == ':' && p[i - 1] == '/' && memcmp(p + i + 1, name, len) == 0 &&
		    (i + 1 + len == plen || p[i + 1 + len] == '/'))
			return 1;
	return 0;
}

/* Whether value v[0..len) has a ":name" that pattern p[0..plen) captures:
 * known once, at load, so other values are copied as they are. */
static int
has_holders(const char *p, size_t plen, const char *v, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		size_t e = placeholder_end(v, len, i);
		if (e == 0)
			continue;
		if (captures(p, plen, v + i + 1, e - i - 1))
			return 1;
		i = e - 1;
	}
	return 0;
}

static int
header_entry(struct rules_headers *h, const char *s, size_t sl, unsigned line,
    char *err, size_t errsize, rules_warn_fn *warn, void *arg)
{
	struct hentry e = { 0 };
	const char *colon;

	if (s[0] == '!') {
		e.name = s + 1;
		e.name_len = sl - 1;
		trim(&e.name, &e.name_len);
	} else {
		if ((colon = memchr(s, ':', sl)) == NULL)
			return fail(err, errsize, line, "a header line is \"Name: value\" or \"! Name\"");
		e.name = s;
		e.name_len = (size_t)(colon - s);
		e.value = colon + 1;
		e.value_len = sl - e.name_len - 1;
		trim(&e.value, &e.value_len);
		if (e.value_len == 0)
			return fail(err, errsize, line, "a header needs a value");
		if (!field_value(e.value, e.value_len))
			return fail(err, errsize, line, "control bytes in a header value");
	}
	if (!token(e.name, e.name_len))
		return fail(err, errsize, line, "a header name must be a token (RFC 9110)");
	if (rules_header_owned(e.name, e.name_len)) {
		if (warn != NULL)
			warn(arg, line, "hermit sets this header itself: line ignored");
		return 0;
	}
	if (h->nentries == RULES_HEADER_ENTRIES_MAX)
		return fail(err, errsize, line, "more than 1000 header lines");
	e.rule = h->nrules - 1;
	e.seq = h->nentries;
	if (e.value != NULL)
		e.holders = has_holders(h->rules[e.rule].path, h->rules[e.rule].path_len,
		    e.value, e.value_len);
	for (e.id = 0; e.id < h->nentries; e.id++)
		if (h->entries[e.id].name_len == e.name_len &&
		    strncasecmp(h->entries[e.id].name, e.name, e.name_len) == 0)
			break;
	if (e.id == h->nentries) {	/* a new name: its id is the next one */
		if (h->nnames == RULES_HEADER_NAMES_MAX)
			return fail(err, errsize, line, "more than 128 different header names");
		e.id = h->nnames++;
	} else
		e.id = h->entries[e.id].id;
	h->entries[h->nentries++] = e;
	return 0;
}

static int
headers_fill(struct rules_headers *h, size_t len, char *err, size_t errsize,
    rules_warn_fn *warn, void *arg)
{
	struct lines l = { h->text, h->text + len, 0 };
	const char *s;
	size_t sl;
	unsigned lines_in_rule = 1, rule_line = 0;

	while (next_line(&l, &s, &sl)) {
		int indented = sl > 0 && blank(s[0]), dynamic;
		const char *why;
		if (sl > RULES_HEADER_LINE_MAX)
			return fail(err, errsize, l.n, "longer than 2000 bytes");
		trim(&s, &sl);
		if (sl == 0 || s[0] == '#')
			continue;
		if (indented) {
			if (h->nrules == 0)
				return fail(err, errsize, l.n, "a header line before any path");
			lines_in_rule++;
			if (header_entry(h, s, sl, l.n, err, errsize, warn, arg) < 0)
				return -1;
			continue;
		}
		if (lines_in_rule == 0)
			return fail(err, errsize, rule_line, "a path without header lines");
		if (prefixed(s, sl, "https://") || prefixed(s, sl, "http://"))
			return fail(err, errsize, l.n, "absolute URLs are not supported");
		if ((why = pattern_check(s, sl, &dynamic)) != NULL)
			return fail(err, errsize, l.n, why);
		if (h->nrules == RULES_HEADER_RULES_MAX)
			return fail(err, errsize, l.n, "more than 100 header rules");
		h->rules[h->nrules].path = s;
		h->rules[h->nrules].path_len = strip_slash(s, sl);
		candidates_add(&h->cand, h->nrules, s, h->rules[h->nrules].path_len);
		h->nrules++;
		lines_in_rule = 0;
		rule_line = l.n;
	}
	if (lines_in_rule == 0)
		return fail(err, errsize, rule_line, "a path without header lines");
	return 0;
}

/* Stable counting sort by name id, so each name's values are together,
 * in file order. */
static int
headers_sort(struct rules_headers *h)
{
	unsigned start[RULES_HEADER_NAMES_MAX + 1] = { 0 };
	struct hentry *sorted = malloc((h->nentries + 1) * sizeof(*sorted));

	if (sorted == NULL)
		return -1;
	for (unsigned i = 0; i < h->nentries; i++)
		start[h->entries[i].id + 1]++;
	for (unsigned i = 1; i <= h->nnames; i++)
		start[i] += start[i - 1];
	for (unsigned i = 0; i < h->nentries; i++)
		sorted[start[h->entries[i].id]++] = h->entries[i];
	free(h->entries);
	h->entries = sorted;
	return 0;
}

struct rules_headers *
rules_headers_parse(const char *text, size_t len, char *err, size_t errsize,
    rules_warn_fn *warn, void *arg)
{
	struct rules_headers *h = calloc(1, sizeof(*h));

	if (len > RULES_FILE_MAX) {
		snprintf(err, errsize, "line 0: larger than %u bytes", RULES_FILE_MAX);
		free(h);
		return NULL;
	}
	if (h == NULL || (h->text = malloc(len + 1)) == NULL ||
	    (h->entries = calloc(RULES_HEADER_ENTRIES_MAX, sizeof(*h->entries))) == NULL) {
		snprintf(err, errsize, "line 0: out of memory");
		rules_headers_free(h);
		return NULL;
	}
	memcpy(h->text, text, len);
	h->text[len] = '\0';
	if (headers_fill(h, len, err, errsize, warn, arg) < 0 || headers_sort(h) < 0) {
		rules_headers_free(h);
		return NULL;
	}
	return h;
}

void
rules_headers_free(struct rules_headers *h)
{
	if (h == NULL)
		return;
	free(h->text);
	free(h->entries);
	free(h);
}

unsigned
rules_headers_count(const struct rules_headers *h)
{
	return h == NULL ? 0 : h->nrules;
}

/* Whether entry e applies: its rule matched, no later "! Name" dropped it. */
static int
live(const struct hentry *e, const unsigned char *matched, const unsigned *cut)
{
	return e->value != NULL && matched[e->rule] && e->seq >= cut[e->id];
}

/* What a value without placeholders adds: its name's line ("Name: " and
 * CRLF) when it is the first of its name, else ", ". */
static size_t
fixed_cost(const struct hentry *e, unsigned *seen)
{
	size_t n = e->value_len + (e->id == *seen ? 2 : e->name_len + 4);

	*seen = e->id;
	return n;
}

/* Appends e's value, or its name's line first when last is another name. */
static void
header_put(struct out *o, const struct hentry *e, unsigned *last,
    const struct rules_match *m)
{
	if (e->id == *last)
		out_put(o, ", ", 2);
	else {
		if (*last != UINT32_MAX)
			out_put(o, "\r\n", 2);
		out_put(o, e->name, e->name_len);
		out_put(o, ": ", 2);
		*last = e->id;
	}
	if (m == NULL)
		out_put(o, e->value, e->value_len);
	else
		out_substituted(o, e->value, e->value_len, m);
}

/*
 * Values with placeholders come from the request's path: their length is
 * the client's to choose. Each is written only in the room the values
 * without placeholders still to come leave (counted first, as if no
 * placeholder were written): one that does not fit is left out, so a long
 * path never makes the head overflow. Their captures are matched again,
 * rule by rule, only for them.
 */
int
rules_headers_write(const struct rules_headers *h, const char *path, size_t len,
    char *out, size_t size)
{
	unsigned char matched[RULES_HEADER_RULES_MAX];
	unsigned cut[RULES_HEADER_NAMES_MAX];
	struct out o = { out, 0, size, 0 };
	struct rules_match m;
	const uint64_t *cand = candidates_of(&h->cand, path, len);
	unsigned last = UINT32_MAX, seen = UINT32_MAX, mrule = UINT32_MAX, any = 0, from = 0;
	size_t fixed = 0;
	int i;

	if ((cand[0] | cand[1]) == 0)
		return 0;
	memset(matched, 0, h->nrules);
	while ((i = candidates_next(cand, &from)) >= 0)
		any |= matched[i] = (unsigned char)rules_pattern_match(h->rules[i].path,
		    h->rules[i].path_len, path, len, &m);
	if (!any)
		return 0;
	/* "! Name" drops what the rules before it set. */
	memset(cut, 0, h->nnames * sizeof(cut[0]));
	for (unsigned k = 0; k < h->nentries; k++) {
		const struct hentry *e = &h->entries[k];
		if (e->value == NULL && matched[e->rule])
			cut[e->id] = e->seq + 1;
	}
	for (unsigned k = 0; k < h->nentries; k++)
		if (live(&h->entries[k], matched, cut) && !h->entries[k].holders)
			fixed += fixed_cost(&h->entries[k], &seen);
	if (fixed > size)
		return -1;
	seen = UINT32_MAX;
	for (unsigned k = 0; k < h->nentries; k++) {
		const struct hentry *e = &h->entries[k];
		size_t mark = o.len;
		unsigned was = last;
		if (!live(e, matched, cut))
			continue;
		if (!e->holders) {
			fixed -= fixed_cost(e, &seen);
			header_put(&o, e, &last, NULL);
			continue;
		}
		if (mrule != e->rule) {
			rules_pattern_match(h->rules[e->rule].path, h->rules[e->rule].path_len,
			    path, len, &m);
			mrule = e->rule;
		}
		/* Its line's CRLF, written later, must fit too. */
		o.size = size - fixed >= 2 ? size - fixed - 2 : 0;
		header_put(&o, e, &last, &m);
		o.size = size;
		if (o.overflow) {
			o.len = mark;
			o.overflow = 0;
			last = was;
		}
	}
	if (last != UINT32_MAX)
		out_put(&o, "\r\n", 2);
	return o.overflow ? -1 : (int)o.len;
}

/* ---- per-worker loading ---- */

/* What tells a file changed: the same tests the file cache makes, and
 * ctime, which a rewrite in place within one mtime tick still moves. */
struct ident {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	int present;
};

struct site {
	char name[VHOST_MAX + 1];
	size_t name_len;
	int used;
	int64_t checked_ms;
	struct ident hid, rid;
	struct rules_headers *h;
	struct rules_redirects *r;
};

struct cache {
	struct site sites[RULES_SITES];
};

static __thread struct cache *tls_cache;
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void
site_clear(struct site *s)
{
	rules_headers_free(s->h);
	rules_redirects_free(s->r);
	memset(s, 0, sizeof(*s));
}

static void
cache_free(void *p)
{
	struct cache *c = p;

	for (unsigned i = 0; i < RULES_SITES; i++)
		site_clear(&c->sites[i]);
	free(c);
}

static void
cache_key_init(void)
{
	(void)pthread_key_create(&cache_key, cache_free);
}

static struct cache *
cache_get(void)
{
	if (tls_cache == NULL) {
		pthread_once(&cache_once, cache_key_init);
		if ((tls_cache = calloc(1, sizeof(*tls_cache))) == NULL)
			return NULL;
		(void)pthread_setspecific(cache_key, tls_cache);
	}
	return tls_cache;
}

static int
same(const struct ident *a, const struct ident *b)
{
	return a->present == b->present && (!a->present || (a->dev == b->dev &&
	    a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec));
}

/* Every worker parses the same change; one of them says so. A slot per
 * fingerprint of (site, file, identity): the worker that sets it logs. */
static _Atomic uint64_t logged[64];

static int
first_to_log(const struct site *s, const char *file, const struct ident *id)
{
	uint64_t f = hash(s->name, s->name_len) ^ ((uint64_t)hash(file, strlen(file)) << 32);
	uint64_t old;

	f ^= (uint64_t)id->ino * 0x9e3779b97f4a7c15u ^ (uint64_t)id->size ^
	    (uint64_t)id->mtime.tv_nsec << 20 ^ (uint64_t)id->ctime.tv_sec;
	old = atomic_exchange(&logged[f % 64], f);
	return old != f;
}

struct warn_ctx {
	const struct site *s;
	int log;
};

static void
load_warn(void *arg, unsigned line, const char *why)
{
	struct warn_ctx *w = arg;

	if (w->log)
		log_warn("%s%s" RULES_HEADERS_FILE ":%u: %s", w->s->name,
		    w->s->name_len ? "/" : "", line, why);
}

/* Reads rel (at most RULES_FILE_MAX bytes) into a new buffer. */
static char *
read_file(int fd, size_t size)
{
	char *buf = malloc(size + 1);

	if (buf != NULL && filecache_read(NULL, fd, buf, 0, size, 0) == -1) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Looks at one file of site s; parses it when its identity changed. */
static void
load(struct site *s, int rootfd, const char *file, struct ident *known, int is_headers)
{
	char rel[VHOST_MAX + 2 + sizeof(RULES_REDIRECTS_FILE)], err[256], *buf;
	struct ident id = { 0 };
	struct stat st;
	int fd, log;

	snprintf(rel, sizeof(rel), "%s%s%s", s->name, s->name_len ? "/" : "", file);
	fd = resolve_open(rootfd, rel, &st);
	if (fd < 0 && fd != -404)
		return;		/* out of descriptors: not evidence of a removal */
	if (fd >= 0 && S_ISREG(st.st_mode)) {
		id.present = 1;
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
		id.ctime = st.st_ctim;
	}
	if (same(&id, known)) {
		if (fd >= 0)
			close(fd);
		return;
	}
	if (!id.present) {	/* removed (or never there): no rules */
		if (fd >= 0)
			close(fd);
		if (is_headers) {
			rules_headers_free(s->h);
			s->h = NULL;
		} else {
			rules_redirects_free(s->r);
			s->r = NULL;
		}
		*known = id;
		return;
	}
	log = first_to_log(s, file, &id);
	if (st.st_size > RULES_FILE_MAX) {
		close(fd);
		if (log)
			log_error("%s: larger than %u bytes; the previous rules stay in force",
			    rel, RULES_FILE_MAX);
		*known = id;
		return;
	}
	buf = read_file(fd, (size_t)st.st_size);
	close(fd);
	if (buf == NULL)
		return;		/* changed under us: looked at again next time */
	err[0] = '\0';
	if (is_headers) {
		struct warn_ctx w = { s, log };
		struct rules_headers *h = rules_headers_parse(buf, (size_t)st.st_size, err,
		    sizeof(err), load_warn, &w);
		if (h != NULL) {
			rules_headers_free(s->h);
			s->h = h;
		}
	} else {
		struct rules_redirects *r = rules_redirects_parse(buf, (size_t)st.st_size, err,
		    sizeof(err));
		if (r != NULL) {
			rules_redirects_free(s->r);
			s->r = r;
		}
	}
	free(buf);
	if (err[0] != '\0' && log)
		log_error("%s: %s; the previous rules stay in force", rel, err);
	*known = id;
}

void
rules_site(int rootfd, const char *site, size_t site_len, int64_t now_ms,
    const struct rules_headers **h, const struct rules_redirects **r)
{
	struct cache *c = cache_get();
	struct site *s;

	*h = NULL;
	*r = NULL;
	if (c == NULL || site_len > VHOST_MAX)
		return;
	s = &c->sites[hash(site, site_len) % RULES_SITES];
	if (!s->used || s->name_len != site_len || memcmp(s->name, site, site_len) != 0) {
		site_clear(s);	/* another site had this slot: it is read again when it comes back */
		memcpy(s->name, site, site_len);
		s->name[site_len] = '\0';
		s->name_len = site_len;
		s->used = 1;
		s->checked_ms = now_ms - RULES_RECHECK_MS;
	}
	if (now_ms - s->checked_ms >= RULES_RECHECK_MS) {
		s->checked_ms = now_ms;
		load(s, rootfd, RULES_HEADERS_FILE, &s->hid, 1);
		load(s, rootfd, RULES_REDIRECTS_FILE, &s->rid, 0);
	}
	*h = s->h;
	*r = s->r;
}
