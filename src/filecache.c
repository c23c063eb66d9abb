/*
 * filecache: a direct-mapped table of recently resolved paths (see
 * filecache.h). A colliding path simply replaces the old entry; the old
 * descriptor is closed at the start of the next request, never while a
 * caller may still hold it.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filecache.h"
#include "resolve.h"

#define PATH_CACHED_MAX 200	/* longer paths are looked up every time */
#define DEFERRED_MAX 8		/* lookups one request makes, at most */

struct entry {
	int64_t expires_ms;
	int fd;			/* >= 0 open; < 0 the status resolve_open() gave */
	unsigned short len;
	char path[PATH_CACHED_MAX];
};

struct filecache {
	struct entry slot[FILECACHE_SLOTS];
	int deferred[DEFERRED_MAX];
	unsigned ndeferred;
};

struct filecache *
filecache_new(void)
{
	struct filecache *fc = calloc(1, sizeof(*fc));

	if (fc == NULL)
		return NULL;
	for (unsigned i = 0; i < FILECACHE_SLOTS; i++)
		fc->slot[i].fd = -404;
	return fc;
}

void
filecache_begin(struct filecache *fc)
{
	while (fc->ndeferred > 0)
		close(fc->deferred[--fc->ndeferred]);
}

/* FNV-1a: short, and good enough for paths. */
static unsigned
hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % FILECACHE_SLOTS;
}

static void
evict(struct filecache *fc, struct entry *e)
{
	if (e->fd >= 0) {
		if (fc->ndeferred < DEFERRED_MAX)
			fc->deferred[fc->ndeferred++] = e->fd;
		else
			close(e->fd);	/* cannot happen: see DEFERRED_MAX */
	}
	e->fd = -404;
	e->len = 0;
	e->expires_ms = 0;
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
	struct entry *e;
	int fd;

	if (len >= PATH_CACHED_MAX) {
		fd = resolve_open(rootfd, rel, st);
		if (fd >= 0 && fc->ndeferred < DEFERRED_MAX)
			fc->deferred[fc->ndeferred++] = fd;	/* owned by the cache all the same */
		else if (fd >= 0) {
			close(fd);
			fd = -503;
		}
		return fd;
	}
	e = &fc->slot[hash(rel, len)];
	if (e->len == len && memcmp(e->path, rel, len) == 0 && now_ms < e->expires_ms) {
		if (e->fd < 0)
			return e->fd;
		if (still_published(e->fd, st))
			return e->fd;
		evict(fc, e);
		return -404;
	}
	evict(fc, e);
	fd = resolve_open(rootfd, rel, st);
	if (fd == -503)
		return fd;	/* out of descriptors is not an answer to remember */
	memcpy(e->path, rel, len);
	e->len = (unsigned short)len;
	e->fd = fd;
	e->expires_ms = now_ms + FILECACHE_TTL_MS;
	return fd;
}
