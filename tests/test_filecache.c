/*
 * Unit tests for filecache: what a cached descriptor may and may not hide.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecache.h"
#include "unit.h"

static char dir[] = "/tmp/hermit-filecache-XXXXXX";

static void
put(const char *name, const char *text, mode_t mode)
{
	char p[256], tmp[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY, mode);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	CHECK(rename(tmp, p) == 0);
}

static void
test_hits_return_the_same_descriptor(struct filecache *fc, int root)
{
	struct stat st;
	int a, b;

	put("a", "hello", 0644);
	filecache_begin(fc);
	a = filecache_open(fc, root, "a", &st, 1000);
	filecache_begin(fc);
	b = filecache_open(fc, root, "a", &st, 1001);
	CHECK(a >= 0 && a == b && st.st_size == 5);
}

static void
test_in_place_changes_are_seen_at_once(struct filecache *fc, int root)
{
	struct stat st;
	char p[256];
	int fd;

	put("b", "one", 0644);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2000) >= 0 && st.st_size == 3);
	snprintf(p, sizeof(p), "%s/b", dir);
	fd = open(p, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "more", 4) == 4);
	close(fd);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2001) >= 0 && st.st_size == 7);
	chmod(p, 0600);	/* unpublished in place: refused at once */
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2002) == -404);
}

static void
test_replacement_and_removal_are_seen_after_the_ttl(struct filecache *fc, int root)
{
	struct stat st;
	char p[256];

	put("c", "old", 0644);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "c", &st, 3000) >= 0 && st.st_size == 3);
	put("c", "newer", 0644);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "c", &st, 3000 + FILECACHE_TTL_MS - 1) >= 0 &&
	    st.st_size == 3);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "c", &st, 3000 + FILECACHE_TTL_MS) >= 0 &&
	    st.st_size == 5);
	snprintf(p, sizeof(p), "%s/c", dir);
	unlink(p);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "c", &st, 3000 + 2 * FILECACHE_TTL_MS + 1) == -404);
}

static void
test_missing_files_are_remembered_for_the_ttl(struct filecache *fc, int root)
{
	struct stat st;

	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "d.gz", &st, 5000) == -404);
	put("d.gz", "x", 0644);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "d.gz", &st, 5001) == -404);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "d.gz", &st, 5000 + FILECACHE_TTL_MS) >= 0);
}

static void
test_the_policy_still_applies(struct filecache *fc, int root)
{
	struct stat st;
	char p[256];

	put("private", "x", 0600);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "private", &st, 6000) == -404);
	snprintf(p, sizeof(p), "%s/escape", dir);
	CHECK(symlink("/etc/passwd", p) == 0);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "escape", &st, 6000) == -404);
}

static void
test_evicted_descriptors_stay_open_until_the_next_request(struct filecache *fc, int root)
{
	struct stat st;
	char name[32];
	int first, n = 0;

	put("e", "e", 0644);
	filecache_begin(fc);
	first = filecache_open(fc, root, "e", &st, 7000);
	/* Fill the table with other names: "e" is evicted at some point. */
	for (int i = 0; i < 3 * FILECACHE_SLOTS && n < 4; i++) {
		struct stat s2;
		snprintf(name, sizeof(name), "miss%d", i);
		filecache_open(fc, root, name, &s2, 7000);
		if (fcntl(first, F_GETFD) != -1)
			continue;
		n++;
	}
	CHECK(fcntl(first, F_GETFD) != -1);	/* still open within this request */
}

int
main(void)
{
	struct filecache *fc = filecache_new();
	char cmd[300];
	int root;

	CHECK(fc != NULL && mkdtemp(dir) != NULL);
	root = open(dir, O_RDONLY | O_DIRECTORY);
	test_hits_return_the_same_descriptor(fc, root);
	test_in_place_changes_are_seen_at_once(fc, root);
	test_replacement_and_removal_are_seen_after_the_ttl(fc, root);
	test_missing_files_are_remembered_for_the_ttl(fc, root);
	test_the_policy_still_applies(fc, root);
	test_evicted_descriptors_stay_open_until_the_next_request(fc, root);
	filecache_free(fc);
	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return unit_done("filecache");
}
