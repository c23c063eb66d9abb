/*
 * listing: a directory's page (see listing.h). The directory is read with
 * getdents64 on the descriptor the file cache already holds, rewound
 * first: that descriptor is only ever used by this worker, and reading it
 * needs no new open. Kept entries are sorted by insertion into an array of
 * slot numbers, so a directory of LISTING_SCAN_MAX names moves small
 * integers, never the names themselves.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpdate.h"
#include "listing.h"
#include "resolve.h"

/* MemorySanitizer does not see getdents64 fill its buffer (no interceptor
 * for it in clang 14's runtime): told so here, else every name reads as
 * uninitialised. A no-op in every other build. */
#if defined(__has_feature)
#if __has_feature(memory_sanitizer)
#include <sanitizer/msan_interface.h>
#define UNPOISON(p, n) __msan_unpoison((p), (n))
#endif
#endif
#ifndef UNPOISON
#define UNPOISON(p, n) ((void)0)
#endif

/* Room kept for the end of the page ("</table>" and the note on what was
 * left out) while rows are written. */
#define TAIL_ROOM 160

struct entry {
	uint64_t size;
	time_t mtime;
	unsigned char dir;
	unsigned char len;	/* NAME_MAX is 255 */
	char name[255];
};

struct kept {
	unsigned n;
	unsigned short order[LISTING_KEEP_MAX];	/* slots, by name */
	struct entry slot[LISTING_KEEP_MAX];
};

/* A bounded appender: what does not fit is dropped and remembered. */
struct page {
	char *p;
	size_t len;
	size_t limit;
	int full;
};

static void
add(struct page *pg, const char *s, size_t len)
{
	if (pg->full || len > pg->limit - pg->len) {
		pg->full = 1;
		return;
	}
	memcpy(pg->p + pg->len, s, len);
	pg->len += len;
}

#define ADDS(pg, lit) add((pg), (lit), sizeof(lit) - 1)

static void
add_u64(struct page *pg, uint64_t v)
{
	char d[20];
	size_t n = 0;

	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	add(pg, d + sizeof(d) - n, n);
}

/* Writes as much of what an escaper produces as fits. */
static void
add_escaped(struct page *pg, size_t (*escape)(const char *, size_t, char *, size_t),
    const char *s, size_t len)
{
	size_t room = pg->full ? 0 : pg->limit - pg->len;
	size_t need = escape(s, len, pg->p + pg->len, room);

	if (need > room) {
		pg->full = 1;
		return;
	}
	pg->len += need;
}

/* The length of the valid UTF-8 sequence at s (1 to 4) and its code point,
 * or 0 when s does not start one (overlong forms, surrogates and code
 * points past U+10FFFF are not valid). */
static size_t
utf8_seq(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static void
emit(char *out, size_t size, size_t *o, const char *s, size_t len)
{
	if (*o < size && len <= size - *o)
		memcpy(out + *o, s, len);
	*o += len;
}

size_t
listing_html(const char *name, size_t len, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t o = 0, i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(s + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
			emit(out, size, &o, "\xef\xbf\xbd", 3);	/* U+FFFD */
			i += n == 0 ? 1 : n;
			continue;
		}
		switch (cp) {
		case '&': emit(out, size, &o, "&amp;", 5); break;
		case '<': emit(out, size, &o, "&lt;", 4); break;
		case '>': emit(out, size, &o, "&gt;", 4); break;
		case '"': emit(out, size, &o, "&quot;", 6); break;
		case '\'': emit(out, size, &o, "&#39;", 5); break;
		default: emit(out, size, &o, name + i, n); break;
		}
		i += n;
	}
	return o;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

size_t
listing_url(const char *name, size_t len, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		char pct[3] = { '%', hex[c >> 4], hex[c & 15] };
		if (unreserved(c))
			emit(out, size, &o, name + i, 1);
		else
			emit(out, size, &o, pct, 3);
	}
	return o;
}

/* Names hermit reads itself and never serves. */
static int
reserved_name(const char *name, size_t len)
{
	return (len == 8 && memcmp(name, "_headers", 8) == 0) ||
	    (len == 10 && memcmp(name, "_redirects", 10) == 0);
}

/* Whether resolve_open() would hand out dir/name: fstatat for most, and the
 * resolver itself for a symlink, which it follows only beneath the root. */
static int
publishable(int rootfd, int dirfd, const char *rel, size_t rellen, const char *name,
    size_t len, struct stat *st)
{
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (S_ISLNK(st->st_mode)) {
		char path[VHOST_MAX + 2 + RESOLVE_PATH_MAX + 256];
		int fd;
		if (rellen + len + 1 > sizeof(path))
			return 0;
		memcpy(path, rel, rellen);
		memcpy(path + rellen, name, len + 1);
		if ((fd = resolve_open(rootfd, path, st)) < 0)
			return 0;
		close(fd);
	}
	if (S_ISREG(st->st_mode))
		return (st->st_mode & S_IROTH) != 0;
	if (S_ISDIR(st->st_mode))
		return (st->st_mode & S_IXOTH) != 0;
	return 0;
}

static int
name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

/* Keeps the entry if it is among the first LISTING_KEEP_MAX by name. */
static void
keep(struct kept *k, const char *name, size_t len, const struct stat *st)
{
	unsigned lo = 0, hi = k->n, s;
	struct entry *e;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		e = &k->slot[k->order[mid]];
		if (name_cmp(e->name, e->len, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == LISTING_KEEP_MAX)
		return;
	if (k->n < LISTING_KEEP_MAX)
		s = k->n++;
	else
		s = k->order[LISTING_KEEP_MAX - 1];	/* the last one gives up its slot */
	memmove(&k->order[lo + 1], &k->order[lo], (k->n - 1 - lo) * sizeof(k->order[0]));
	k->order[lo] = (unsigned short)s;
	e = &k->slot[s];
	e->len = (unsigned char)len;
	memcpy(e->name, name, len);
	e->dir = S_ISDIR(st->st_mode);
	e->size = (uint64_t)st->st_size;
	e->mtime = st->st_mtim.tv_sec;
}

/* Reads the directory; returns the number of publishable entries seen, or
 * -1. *partial: it had more than LISTING_SCAN_MAX entries. */
static long
scan(int rootfd, int dirfd, const char *rel, size_t rellen, struct kept *k, int *partial)
{
	_Alignas(struct dirent64) char buf[8192];
	long seen = 0, nread = 0;
	ssize_t n;

	*partial = 0;
	if (lseek(dirfd, 0, SEEK_SET) == -1)
		return -1;
	while ((n = getdents64(dirfd, buf, sizeof(buf))) > 0) {
		UNPOISON(buf, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
			size_t len = strlen(d->d_name);
			struct stat st;
			off += d->d_reclen;
			if (++nread > LISTING_SCAN_MAX) {
				*partial = 1;
				return seen;
			}
			if (d->d_name[0] == '.' || reserved_name(d->d_name, len) ||
			    memchr(d->d_name, '\\', len) != NULL ||	/* a request cannot name it */
			    !publishable(rootfd, dirfd, rel, rellen, d->d_name, len, &st))
				continue;
			seen++;
			keep(k, d->d_name, len, &st);
		}
	}
	return n < 0 ? -1 : seen;
}

static void
row(struct page *pg, const struct entry *e)
{
	char date[HTTPDATE_LEN + 1];

	ADDS(pg, "<tr><td><a href=\"");
	add_escaped(pg, listing_url, e->name, e->len);
	if (e->dir)
		ADDS(pg, "/");
	ADDS(pg, "\">");
	add_escaped(pg, listing_html, e->name, e->len);
	if (e->dir)
		ADDS(pg, "/</a></td><td>-</td><td>");
	else {
		ADDS(pg, "</a></td><td>");
		add_u64(pg, e->size);
		ADDS(pg, "</td><td>");
	}
	httpdate_format(e->mtime, date);
	add(pg, date, HTTPDATE_LEN);
	ADDS(pg, "</td></tr>\n");
}

long
listing_page(int rootfd, int dirfd, const char *rel, size_t rellen, const char *shown,
    size_t shownlen, char *out, size_t size)
{
	struct kept k;
	struct stat dir;
	struct page pg = { out, 0, size < TAIL_ROOM ? 0 : size - TAIL_ROOM, 0 };
	long seen;
	unsigned shows = 0;
	int partial;

	if (fstat(dirfd, &dir) == -1)
		return -500;
	if (!(dir.st_mode & S_IROTH))	/* not readable by everyone: not published */
		return -404;
	k.n = 0;
	if ((seen = scan(rootfd, dirfd, rel, rellen, &k, &partial)) < 0)
		return -500;
	ADDS(&pg, "<!DOCTYPE html>\n<meta charset=\"utf-8\">\n<title>Index of /");
	add_escaped(&pg, listing_html, shown, shownlen);
	ADDS(&pg, "</title>\n<h1>Index of /");
	add_escaped(&pg, listing_html, shown, shownlen);
	ADDS(&pg, "</h1>\n<table>\n");
	if (shownlen > 0)
		ADDS(&pg, "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
	if (pg.full)
		return -414;
	for (; shows < k.n; shows++) {
		size_t before = pg.len;
		row(&pg, &k.slot[k.order[shows]]);
		if (pg.full) {
			pg.len = before;
			break;
		}
	}
	pg.full = 0;
	pg.limit = size;
	ADDS(&pg, "</table>\n");
	if (shows < seen || partial) {
		ADDS(&pg, "<p>");
		add_u64(&pg, shows);
		ADDS(&pg, " of ");
		add_u64(&pg, (uint64_t)seen);
		if (partial)
			ADDS(&pg, " entries shown; the directory has more than were read.</p>\n");
		else
			ADDS(&pg, " entries shown.</p>\n");
	}
	return pg.full ? -414 : (long)pg.len;
}
