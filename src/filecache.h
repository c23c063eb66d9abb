/*
 * filecache: each worker's short memory of open content files, so that a
 * hot file is not looked up again (openat2 path walk, Landlock checks,
 * close) on every request. It only remembers what resolve_open() answered:
 * the descriptor, or "not there" (so absent FILE.gz variants cost nothing).
 *
 * An entry is trusted for at most FILECACHE_TTL_MS. The first hit in each
 * turn of the worker's loop (filecache_turn()) fstat()s the cached
 * descriptor and re-applies the publishing policy, so a file changed in
 * place is seen by the next turn (new size, mtime, ETag, mode). A turn
 * must begin after the requests it answers arrived (the server begins one
 * after each epoll_wait and after each batch of accepts); a file
 * replaced by rename, created or deleted is seen within the TTL.
 * Descriptors returned stay open until the next filecache_begin() or
 * filecache_expire() on the same cache, whatever else the request looks up:
 * callers that keep one longer (a body sent with sendfile) dup() it. A
 * request makes at most FILECACHE_LOOKUPS_MAX lookups; that cap is what
 * bounds the descriptors the cache must keep open for it. Descriptors of
 * expired entries are closed by the next filecache_expire(), so a deleted
 * file's space is not held for long. One cache per worker thread; nothing
 * is shared.
 *
 * The bytes of a small file (at most FILECACHE_BODY_MAX) are kept in memory
 * with its entry once read, up to FILECACHE_BODY_BUDGET a worker, so that a
 * hot small file costs no read() per request; they are trusted exactly as
 * long as the descriptor's fstat (size, mtime, ctime) says the file is the
 * same, and never for a file changed within the last second.
 */
#ifndef HERMIT_FILECACHE_H
#define HERMIT_FILECACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define FILECACHE_SLOTS 4096	/* names remembered, per worker */
#define FILECACHE_WAYS 4	/* the slots a name may take (its set) */
#define FILECACHE_FDS 1024	/* descriptors held open, per worker, at most */
#define FILECACHE_TTL_MS 1000
#define FILECACHE_LOOKUPS_MAX 8	/* per request; respond_request() makes 5 at most */
#define FILECACHE_BODY_MAX 16384	/* a file kept in memory is at most this big */
#define FILECACHE_BODY_BUDGET (4u << 20)	/* bytes kept in memory, per worker */

struct filecache;

struct filecache *filecache_new(void);
/* Closes every descriptor the cache holds and frees it. */
void filecache_free(struct filecache *fc);

/* A new turn of the worker's loop: stats taken before are taken again. */
void filecache_turn(struct filecache *fc);

/* Starts one request's lookups: closes the descriptors evicted by the last one. */
void filecache_begin(struct filecache *fc);

/* resolve_open() through the cache; the descriptor belongs to the cache.
 * The FILECACHE_LOOKUPS_MAX + 1st lookup of a request answers -503. */
int filecache_open(struct filecache *fc, int rootfd, const char *rel, struct stat *st,
    int64_t now_ms);

/* Copies bytes [off, off + len) of the file behind fd into dst: from
 * memory when its bytes are kept, else with pread (keeping them, when it
 * may). fd is a descriptor filecache_open() handed out in the current
 * request, or any other open file (then always pread; fc may be NULL). now is the wall
 * clock. Returns 0, or -1 when the file does not have those bytes (it
 * shrank: never send a wrong length). */
int filecache_read(struct filecache *fc, int fd, char *dst, uint64_t off, uint64_t len,
    time_t now);

/* Ends the current request, as filecache_begin() does, and closes the
 * descriptor of every entry expired at now_ms. For the worker's loop, about
 * once a second, between requests (never while a descriptor handed out by
 * filecache_open() is still in use). Costs O(descriptors held): it reads
 * no slot that holds none. */
void filecache_expire(struct filecache *fc, int64_t now_ms);

#endif
