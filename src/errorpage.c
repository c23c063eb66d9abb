/*
 * errorpage: SITE/404.html (see errorpage.h).
 */
#include <fcntl.h>
#include <string.h>

#include "errorpage.h"
#include "filecache.h"
#include "resolve.h"

#define PAGE_404 "404.html"

int
errorpage_open(struct filecache *fc, int rootfd, const char *site, size_t sitelen,
    int64_t now_ms, struct stat *st)
{
	char rel[VHOST_MAX + 2 + sizeof(PAGE_404)];
	struct stat link;
	int fd;

	if (sitelen + sizeof(PAGE_404) > sizeof(rel))
		return -1;
	memcpy(rel, site, sitelen);
	memcpy(rel + sitelen, PAGE_404, sizeof(PAGE_404));
	fd = filecache_open(fc, rootfd, rel, st, now_ms);
	if (fd < 0 || !S_ISREG(st->st_mode))
		return -1;
	/* The name itself, not what a symlink there leads to: the same inode
	 * seen without following the last component. */
	if (fstatat(rootfd, rel, &link, AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(link.st_mode) ||
	    link.st_dev != st->st_dev || link.st_ino != st->st_ino)
		return -1;
	return fd;
}
