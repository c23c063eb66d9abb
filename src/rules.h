/*
 * rules: a site's _headers and _redirects files, in the format Netlify
 * defined and Cloudflare Pages also reads (see README "Headers and
 * redirects"). Parsing is a pure function of a buffer: strict, every error
 * with its line number, bounded in size and rule count (Cloudflare's limits);
 * it allocates only then. Matching allocates nothing and costs O(path
 * length) for static redirects (a hash table keyed by the exact path) plus
 * one pass over the dynamic redirects or header rules (at most
 * RULES_DYNAMIC_MAX and RULES_HEADER_RULES_MAX) that the path's first byte
 * after '/' leaves as candidates.
 *
 * Paths are matched as resolve_path() rewrote them ("/" + the decoded path,
 * no empty segments, no trailing slash), so no encoding can dodge a rule.
 * A pattern is literal bytes, ":name" (a whole non-empty segment) and at
 * most one "*" (any run of bytes, '/' included) followed by literal bytes
 * only; "/a/ *" (no space) also matches "/a". A trailing '/' of a pattern is ignored.
 *
 * rules_site() is each worker thread's view of a site's two files: looked
 * at through the confined root descriptor (resolve_open) at most once every
 * RULES_RECHECK_MS, re-read when their identity (device, inode, size,
 * mtime, ctime) changed. A file that does not parse is logged once per
 * change (by one worker) and the previous good rules stay in force (none on
 * a first load). The per-thread cache is allocated on first use and freed
 * when the thread exits; a rule set stays valid until the thread's next
 * rules_site() call.
 */
#ifndef HERMIT_RULES_H
#define HERMIT_RULES_H

#include <stddef.h>
#include <stdint.h>

#define RULES_HEADERS_FILE "_headers"
#define RULES_REDIRECTS_FILE "_redirects"

/* Redirect statuses: 200 and 404 serve another path of the site. */
#define RULES_STATUS_DEFAULT 301

struct rules_headers;
struct rules_redirects;

/* A pattern's captures for one path. */
#define RULES_PLACEHOLDERS_MAX 16
struct rules_match {
	const char *splat;
	size_t splat_len;
	unsigned n;
	struct {
		const char *name, *value;
		size_t name_len, value_len;
	} cap[RULES_PLACEHOLDERS_MAX];
};

/* A redirect that applies to a path. */
struct rules_redirect {
	int status;		/* 200, 301, 302, 303, 307, 308 or 404 */
	int force;		/* "!": applies even when a file matches the path */
	int external;		/* the target is an http(s):// URL (3xx only) */
	const char *to;		/* the target as written, with :splat and :name */
	size_t to_len;
	unsigned line;
};

/* Parsing: text[0..len) → a rule set, or NULL with err filled ("line N:
 * why"). Warnings (a header hermit owns, dropped) go to warn, one per call
 * of the callback, each with its line number; warn may be NULL. */
typedef void rules_warn_fn(void *arg, unsigned line, const char *why);
struct rules_headers *rules_headers_parse(const char *text, size_t len, char *err,
    size_t errsize, rules_warn_fn *warn, void *arg);
struct rules_redirects *rules_redirects_parse(const char *text, size_t len, char *err,
    size_t errsize);
void rules_headers_free(struct rules_headers *h);
void rules_redirects_free(struct rules_redirects *r);
unsigned rules_headers_count(const struct rules_headers *h);
unsigned rules_redirects_count(const struct rules_redirects *r);

/* Whether pattern p[0..plen) matches path[0..len); captures go to m. */
int rules_pattern_match(const char *p, size_t plen, const char *path, size_t len,
    struct rules_match *m);

/* The first redirect (in file order) whose source matches path; m gets its
 * captures. NULL when none does. */
const struct rules_redirect *rules_redirect_find(const struct rules_redirects *r,
    const char *path, size_t len, struct rules_match *m);

/* Writes the target of rd for m into out (size bytes): placeholders and
 * splat substituted, percent-encoded where a byte is not safe in a path;
 * a path target never starts with "//". query (NULL if none) is appended
 * when the target has no query of its own. Returns the length, or -1 when
 * it does not fit. */
int rules_target(const struct rules_redirect *rd, const struct rules_match *m,
    const char *query, size_t query_len, char *out, size_t size);

/* Appends the header lines ("Name: value\r\n") that the rules give path
 * to out; values of one name from several rules are joined with ", ", and
 * "! Name" drops what earlier rules set. In a value, ":splat" and the
 * ":name"s of its rule's path are the captures, percent-encoded as in a
 * target (so only printable ASCII, never CR, LF or a control byte); other
 * ":name"s stay as written. Returns the bytes written, or -1 when the
 * values without placeholders do not fit in size; a value with placeholders
 * that does not fit in what they leave is left out. */
int rules_headers_write(const struct rules_headers *h, const char *path, size_t len,
    char *out, size_t size);

/* Whether name[0..len) is a header hermit writes itself (refused in _headers). */
int rules_header_owned(const char *name, size_t len);

/* The rules of the site whose directory is site[0..site_len) under rootfd
 * ("" without --vhosts), for the calling thread. Either pointer may be set
 * to NULL (no file, or none that ever parsed). */
void rules_site(int rootfd, const char *site, size_t site_len, int64_t now_ms,
    const struct rules_headers **h, const struct rules_redirects **r);

#endif
