/*
 * filecache: a 4-way set-associative table of recently resolved paths (see
 * filecache.h): a path may sit in any of the four slots of its set, and a
 * new one replaces an empty, expired or else the oldest of them. Absent
 * names (the usual answer for FILE.br, FILE.zst, FILE.gz) take a slot but
 * no descriptor.
 *
 * A descriptor leaving the table may still be in the caller's hands if it
 * was handed out in the current request, and only then. So every entry
 * remembers the request (gen, counted by filecache_begin()) that last got
 * its descriptor: leaving, it is closed at once if that was an earlier
 * request, and otherwise waits in deferred[] for the next begin, as does a
 * descriptor handed out but not kept. Each one waiting was handed out by a
 * different lookup of the current request (a lookup hands out one
 * descriptor; one leaves the table once), and filecache_open() refuses
 * lookups beyond FILECACHE_LOOKUPS_MAX, so deferred[] has room for them all.
 *
 * held[] lists the slots that hold a descriptor, so that filecache_expire()
 * and filecache_free() visit those only: slots never used stay on pages
 * never touched.
 *
 * A small file's bytes may be kept with its entry (body), stamped with the
 * size, mtime and ctime they were read at; the entry's fstat of each turn
 * then tells whether they still are the file's. Bytes are kept only from a
 * file whose mtime and ctime are a second or more in the past: a write
 * within the timestamps' granularity (a clock tick) changes neither, and
 * such a file is read each time instead, as racy-git does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filecache.h"
#include "resolve.h"

#define PATH_CACHED_MAX 200	/* longer paths are looked up every time */

_Static_assert(FILECACHE_SLOTS % FILECACHE_WAYS == 0, "whole sets");
_Static_assert(FILECACHE_SLOTS <= 65536 && FILECACHE_FDS <= 65536,
    "slot numbers and held[] positions fit in unsigned short");

struct entry {
	int64_t expires_ms;
	uint64_t handed;	/* the gen that last got fd */
	int fd;			/* >= 0 open; < 0 the status resolve_open() gave */
	unsigned short len;	/* 0: an empty slot */
	unsigned short held_at;	/* this slot's place in held[], when fd >= 0 */
	uint64_t stat_turn;	/* st was taken in this turn of the loop */
	struct stat st;
	char *body;		/* NULL, or the whole file as it was at: */
	off_t body_size;
	struct timespec body_mtim, body_ctim;
	char path[PATH_CACHED_MAX];
};

struct filecache {
	uint64_t gen;		/* the current request */
	uint64_t turn;		/* the worker loop's current turn, from 1 */
	unsigned lookups;	/* made in the current request */
	unsigned ndeferred;
	int deferred[FILECACHE_LOOKUPS_MAX];
	unsigned nhanded;	/* entries whose fd the current request got */
	struct entry *handed_now[FILECACHE_LOOKUPS_MAX];
	size_t body_bytes;	/* kept, at most FILECACHE_BODY_BUDGET */
	unsigned nheld;
	unsigned short held[FILECACHE_FDS];
	struct entry slot[FILECACHE_SLOTS];
};

static void evict(struct filecache *fc, struct entry *e);

struct filecache *
filecache_new(void)
{
	/* calloc: empty slots are zero, so untouched pages cost no memory */
	return calloc(1, sizeof(struct filecache));
}

void
filecache_free(struct filecache *fc)
{
	if (fc == NULL)
		return;
	filecache_begin(fc);
	while (fc->nheld > 0)
		evict(fc, &fc->slot[fc->held[fc->nheld - 1]]);
	free(fc);
}

void
filecache_turn(struct filecache *fc)
{
	fc->turn++;
}

void
filecache_begin(struct filecache *fc)
{
	while (fc->ndeferred > 0)
		close(fc->deferred[--fc->ndeferred]);
	fc->gen++;
	fc->lookups = 0;
	fc->nhanded = 0;
}

void
filecache_expire(struct filecache *fc, int64_t now_ms)
{
	filecache_begin(fc);
	/* Downwards: evict() fills the freed place from the end, already seen. */
	for (unsigned i = fc->nheld; i-- > 0;) {
		struct entry *e = &fc->slot[fc->held[i]];
		if (e->expires_ms <= now_ms)
			evict(fc, e);
	}
}

/* FNV-1a: short, and good enough for paths. Returns the first slot of the set. */
static unsigned
set_of(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % (FILECACHE_SLOTS / FILECACHE_WAYS) * FILECACHE_WAYS;
}

/* For a descriptor handed out in the current request: closed at the next. */
static void
defer(struct filecache *fc, int fd)
{
	/* The lookup cap makes this unreachable (see above); were it reached,
	 * closing a descriptor in use or writing past deferred[] would be worse. */
	if (fc->ndeferred >= FILECACHE_LOOKUPS_MAX)
		abort();
	fc->deferred[fc->ndeferred++] = fd;
}

static void
hold(struct filecache *fc, struct entry *e)
{
	e->held_at = (unsigned short)fc->nheld;
	fc->held[fc->nheld++] = (unsigned short)(e - fc->slot);
}

static void
drop_body(struct filecache *fc, struct entry *e)
{
	if (e->body != NULL) {
		fc->body_bytes -= (size_t)e->body_size;
		free(e->body);
		e->body = NULL;
	}
}

static void
evict(struct filecache *fc, struct entry *e)
{
	drop_body(fc, e);
	if (e->len != 0 && e->fd >= 0) {	/* an empty slot's fd is 0 from calloc */
		unsigned short last = fc->held[--fc->nheld];
		fc->held[e->held_at] = last;
		fc->slot[last].held_at = e->held_at;
		if (e->handed == fc->gen)
			defer(fc, e->fd);
		else
			close(e->fd);
	}
	e->fd = -404;
	e->len = 0;
	e->expires_ms = 0;
}

/* The slot for a new path in its set: empty, else expired, else the oldest. */
static struct entry *
victim(struct entry *set, int64_t now_ms)
{
	struct entry *v = &set[0];

	for (int i = 0; i < FILECACHE_WAYS; i++) {
		if (set[i].len == 0 || set[i].expires_ms <= now_ms)
			return &set[i];
		if (set[i].expires_ms < v->expires_ms)
			v = &set[i];
	}
	return v;
}

/* The policy of resolve_open(), applied again to a fresh fstat: fresh
 * once per turn of the loop, so the requests of one burst (an HTTP/2
 * connection's streams, pipelined or simultaneous requests) share it. */
static int
still_published(struct filecache *fc, struct entry *e, struct stat *st)
{
	if (e->stat_turn != fc->turn || fc->turn == 0) {
		if (fstat(e->fd, &e->st) == -1)
			return 0;
		e->stat_turn = fc->turn;
	}
	*st = e->st;
	return S_ISDIR(st->st_mode) || (S_ISREG(st->st_mode) && (st->st_mode & S_IROTH));
}

int
filecache_open(struct filecache *fc, int rootfd, const char *rel, struct stat *st,
    int64_t now_ms)
{
	size_t len = strlen(rel);
	struct entry *set, *e;
	int fd;

	if (fc->lookups >= FILECACHE_LOOKUPS_MAX)
		return -503;	/* deferred[] has room for this many only */
	fc->lookups++;
	if (len == 0 || len >= PATH_CACHED_MAX) {
		if ((fd = resolve_open(rootfd, rel, st)) >= 0)
			defer(fc, fd);
		return fd;
	}
	set = &fc->slot[set_of(rel, len)];
	for (int i = 0; i < FILECACHE_WAYS; i++) {
		e = &set[i];
		if (e->len != len || memcmp(e->path, rel, len) != 0)
			continue;
		if (now_ms >= e->expires_ms) {
			evict(fc, e);
			break;
		}
		if (e->fd < 0)
			return e->fd;
		if (still_published(fc, e, st)) {
			e->handed = fc->gen;
			fc->handed_now[fc->nhanded++] = e;
			return e->fd;
		}
		evict(fc, e);
		return -404;
	}
	fd = resolve_open(rootfd, rel, st);
	if (fd == -503)
		return fd;	/* out of descriptors is not an answer to remember */
	if (fd >= 0 && fc->nheld >= FILECACHE_FDS) {
		defer(fc, fd);	/* handed out, not kept */
		return fd;
	}
	e = victim(set, now_ms);
	evict(fc, e);
	memcpy(e->path, rel, len);
	e->len = (unsigned short)len;
	e->fd = fd;
	e->expires_ms = now_ms + FILECACHE_TTL_MS;
	e->stat_turn = 0;	/* a name found missing has no st */
	if (fd >= 0) {
		e->st = *st;	/* resolve_open()'s, as fresh as this turn's fstat */
		e->stat_turn = fc->turn;
		e->handed = fc->gen;
		fc->handed_now[fc->nhanded++] = e;
		hold(fc, e);
	}
	return fd;
}

static int
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The entry's kept bytes are the file's as of this turn's fstat. */
static int
body_current(const struct entry *e)
{
	return e->body != NULL && e->body_size == e->st.st_size &&
	    same_time(&e->body_mtim, &e->st.st_mtim) && same_time(&e->body_ctim, &e->st.st_ctim);
}

static int
read_at(int fd, char *dst, uint64_t off, uint64_t len)
{
	uint64_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, dst + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (uint64_t)n;
	}
	return 0;
}

/* Reads the whole small file of e into memory, if it may be kept (see the
 * top of this file); a file that does not read back at its fstat size is
 * not kept. */
static void
keep_body(struct filecache *fc, struct entry *e, time_t now)
{
	size_t size = (size_t)e->st.st_size;

	if (e->st.st_size <= 0 || e->st.st_size > FILECACHE_BODY_MAX ||
	    fc->body_bytes + size > FILECACHE_BODY_BUDGET ||
	    e->st.st_mtim.tv_sec >= now - 1 || e->st.st_ctim.tv_sec >= now - 1 ||
	    (e->body = malloc(size)) == NULL)
		return;
	if (read_at(e->fd, e->body, 0, size) == -1) {
		free(e->body);
		e->body = NULL;
		return;
	}
	e->body_size = e->st.st_size;
	e->body_mtim = e->st.st_mtim;
	e->body_ctim = e->st.st_ctim;
	fc->body_bytes += size;
}

int
filecache_read(struct filecache *fc, int fd, char *dst, uint64_t off, uint64_t len,
    time_t now)
{
	struct entry *e = NULL;

	for (unsigned i = 0; fc != NULL && i < fc->nhanded; i++)
		if (fc->handed_now[i]->fd == fd && fc->handed_now[i]->len != 0)
			e = fc->handed_now[i];
	if (e != NULL && !body_current(e)) {
		drop_body(fc, e);
		keep_body(fc, e, now);
	}
	if (e == NULL || e->body == NULL)
		return read_at(fd, dst, off, len);
	if (off > (uint64_t)e->body_size || len > (uint64_t)e->body_size - off)
		return -1;	/* beyond the file as fstat last saw it */
	memcpy(dst, e->body + off, len);
	return 0;
}
