/*
 * resolve: from a request's path (and Host, with --vhosts) to an open file
 * descriptor under the content root, by the publishing policy. This is the
 * only module that opens content.
 *
 * The path is percent-decoded once and then rewritten, not normalised:
 * empty segments collapse ("//"), and any segment that starts with a dot is
 * refused, except the first segment ".well-known"; so ".", "..", dot-files
 * and dot-directories cannot be named at all. A NUL (%00) or bad
 * percent-encoding is 400; a backslash, a dot segment or anything missing or
 * unpublishable is 404 (refused and missing look the same). Files are opened
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) on the root
 * descriptor, so not even a symlink can lead out of the root, and with
 * O_NONBLOCK, so a FIFO or device never blocks. Only regular files readable by
 * everyone (S_IROTH) are published, checked with fstat on the open descriptor.
 * A site's "_headers" and "_redirects" (at its top) are rules, never content: 404.
 */
#ifndef HERMIT_RESOLVE_H
#define HERMIT_RESOLVE_H

#include <stddef.h>
#include <sys/stat.h>
#include "slice.h"

#define RESOLVE_PATH_MAX 4096
#define VHOST_DEFAULT "_default"	/* the site for requests without a Host */
#define VHOST_MAX 255

/* Decodes and rewrites the request path into out (relative to the site,
 * no leading slash, "" for the site's top; *dir_slash set when the path ended
 * with '/'). Returns the length, or -400 / -404 / -414. */
int resolve_path(const char *path, size_t len, char *out, size_t size, int *dir_slash);

/* Maps a Host value to a site directory name: lowercased, port and one
 * trailing dot removed, validated as a DNS name or a bracketed IPv6 literal;
 * an absent or empty Host gives VHOST_DEFAULT. Returns the length, or -400. */
int resolve_host(struct slice host, char *out, size_t size);

/* Without --vhosts: the same check (RFC 9112 §3.2: an invalid Host is
 * 400), except that '_' is allowed in a name. Returns 0 or -400. */
int resolve_host_valid(struct slice host);

/* Opens rel (relative to rootfd; "" means the root itself) and fstat()s it.
 * Returns the descriptor, or a negative HTTP status: -404 for missing or
 * refused, -503 when out of descriptors. Directories are returned too (the
 * caller looks for index.html); other non-regular or unpublishable files
 * are -404. */
int resolve_open(int rootfd, const char *rel, struct stat *st);

/* Checks once at startup, before any worker exists, that the root can be
 * opened beneath itself. Returns 0 with openat2, 1 when openat2 is refused
 * with ENOSYS (an old kernel, or a seccomp filter such as systemd's
 * RestrictSUIDSGID=): then paths are walked one component at a time with
 * O_NOFOLLOW, which cannot leave the root either but follows no symlink at
 * all. Returns -1 when the root cannot be opened. */
int resolve_available(int rootfd);

#endif
