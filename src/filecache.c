/*
 * filecache: a 4-way set-associative table of recently resolved paths (see
 * filecache.h): a path may sit in any of the four slots of its set, and a
 * new one replaces an empty, expired or else the oldest of them. The
 * replaced descriptor is closed at the start of the next request, never
 * while a caller may still hold it. Absent names (the usual answer for
 * FILE.br, FILE.zst, FILE.gz) take a slot but no descriptor.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filecache.h"
#include "resolve.h"

#define PATH_CACHED_MAX 200	/* longer paths are looked up every time */
#define DEFERRED_MAX 8		/* lookups one request makes, at most */
#define WAYS 4

struct entry {
	int64_t expires_ms;
	int fd;			/* >= 0 open; < 0 the status resolve_open() gave */
	unsigned short len;	/* 0: an empty slot */
	char path[PATH_CACHED_MAX];
};

struct filecache {
	struct entry slot[FILECACHE_SLOTS];
	unsigned nfds;		/* descriptors held in slots */
	int deferred[DEFERRED_MAX];
	unsigned ndeferred;
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
	for (unsigned i = 0; i < FILECACHE_SLOTS; i++)
		evict(fc, &fc->slot[i]);
	filecache_begin(fc);
	free(fc);
}

void
filecache_begin(struct filecache *fc)
{
	while (fc->ndeferred > 0)
		close(fc->deferred[--fc->ndeferred]);
}

/* FNV-1a: short, and good enough for paths. Returns the first slot of the set. */
static unsigned
set_of(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % (FILECACHE_SLOTS / WAYS) * WAYS;
}

static void
evict(struct filecache *fc, struct entry *e)
{
	if (e->len != 0 && e->fd >= 0) {	/* an empty slot's fd is 0 from calloc */
		fc->nfds--;
		if (fc->ndeferred < DEFERRED_MAX)
			fc->deferred[fc->ndeferred++] = e->fd;
		else
			close(e->fd);	/* cannot happen: see DEFERRED_MAX */
	}
	e->fd = -404;
	e->len = 0;
	e->expires_ms = 0;
}

/* Hands out a descriptor the table will not keep: closed at the next request. */
static int
uncached(struct filecache *fc, int fd)
{
	if (fd < 0)
		return fd;
	if (fc->ndeferred < DEFERRED_MAX) {
		fc->deferred[fc->ndeferred++] = fd;
		return fd;
	}
	close(fd);
	return -503;
}

/* The slot for a new path in its set: empty, else expired, else the oldest. */
static struct entry *
victim(struct filecache *fc, struct entry *set, int64_t now_ms)
{
	struct entry *v = &set[0];

	for (int i = 0; i < WAYS; i++) {
		if (set[i].len == 0 || set[i].expires_ms <= now_ms)
			return &set[i];
		if (set[i].expires_ms < v->expires_ms)
			v = &set[i];
	}
	(void)fc;
	return v;
}

/* The policy of resolve_open(), applied again to a fresh fstat. */
static int
still_published(int fd, struct stat *st)
{
	if (fstat(fd, st) == -1)
		return 0;
	return S_ISDIR(st->st_mode) || (S_ISREG(st->st_mode) && (st->st_mode & S_IROTH));
}

int
filecache_open(struct filecache *fc, int rootfd, const char *rel, struct stat *st,
    int64_t now_ms)
{
	size_t len = strlen(rel);
	struct entry *set, *e;
	int fd;

	if (len == 0 || len >= PATH_CACHED_MAX)
		return uncached(fc, resolve_open(rootfd, rel, st));
	set = &fc->slot[set_of(rel, len)];
	for (int i = 0; i < WAYS; i++) {
		e = &set[i];
		if (e->len != len || memcmp(e->path, rel, len) != 0)
			continue;
		if (now_ms >= e->expires_ms) {
			evict(fc, e);
			break;
		}
		if (e->fd < 0)
			return e->fd;
		if (still_published(e->fd, st))
			return e->fd;
		evict(fc, e);
		return -404;
	}
	fd = resolve_open(rootfd, rel, st);
	if (fd == -503)
		return fd;	/* out of descriptors is not an answer to remember */
	if (fd >= 0 && fc->nfds >= FILECACHE_FDS)
		return uncached(fc, fd);
	e = victim(fc, set, now_ms);
	evict(fc, e);
	memcpy(e->path, rel, len);
	e->len = (unsigned short)len;
	e->fd = fd;
	e->expires_ms = now_ms + FILECACHE_TTL_MS;
	if (fd >= 0)
		fc->nfds++;
	return fd;
}
