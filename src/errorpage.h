/*
 * errorpage: a site's own page for 404, SITE/404.html (ROOT/404.html, or
 * ROOT/HOST/404.html with --vhosts: each site its own, no fallback to
 * another site's). It is found through the worker's file cache by the
 * publishing policy, like any content, and must moreover be the file
 * itself, not a symlink: a page shown for every missing name must not show
 * a file the policy would refuse to name (a dot-file a symlink points to).
 * Only 404 has a page: every other error is about the request itself, or a
 * failure where reading more content is the wrong move (see README).
 */
#ifndef HERMIT_ERRORPAGE_H
#define HERMIT_ERRORPAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct filecache;

/* site[0..sitelen) is the site's directory relative to rootfd: "" or
 * "HOST/". Returns the page's descriptor (the cache's: see filecache.h)
 * with *st, or -1 when the site has no publishable page. */
int errorpage_open(struct filecache *fc, int rootfd, const char *site, size_t sitelen,
    int64_t now_ms, struct stat *st);

#endif
