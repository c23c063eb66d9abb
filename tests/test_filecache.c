/*
 * Unit tests for filecache: what a cached descriptor may and may not hide.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filecache.h"
#include "unit.h"

#define WAYS_PLUS_ONE (FILECACHE_WAYS + 1)

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

/* Changes a file in place: the same inode, a new size and mtime. */
static void
append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	if (fd >= 0)
		close(fd);
}

static void
test_in_place_changes_are_seen_at_once(struct filecache *fc, int root)
{
	struct stat st;
	char p[256];

	put("b", "one", 0644);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2000) >= 0 && st.st_size == 3);
	snprintf(p, sizeof(p), "%s/b", dir);
	append(p, "more");
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2001) >= 0 && st.st_size == 7);
	chmod(p, 0600);	/* unpublished in place: refused at once */
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "b", &st, 2002) == -404);
}

/* Within one turn of the loop a hit reuses the turn's fstat (a burst of
 * requests for one file costs one); the next turn sees the change. */
static void
test_one_fstat_per_turn(struct filecache *fc, int root)
{
	struct stat st;
	char p[256];

	put("t", "one", 0644);
	filecache_turn(fc);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "t", &st, 2100) >= 0 && st.st_size == 3);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "t", &st, 2100) >= 0 && st.st_size == 3);
	snprintf(p, sizeof(p), "%s/t", dir);
	append(p, "more");
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "t", &st, 2100) >= 0 && st.st_size == 3);
	filecache_turn(fc);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "t", &st, 2101) >= 0 && st.st_size == 7);
	chmod(p, 0600);
	filecache_turn(fc);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "t", &st, 2102) == -404);
}

/* Rewrites the start of a file in place: the same inode and size, a new ctime. */
static void
overwrite(const char *name, const char *text)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY);
	CHECK(fd >= 0 && pwrite(fd, text, strlen(text), 0) == (ssize_t)strlen(text));
	if (fd >= 0)
		close(fd);
}

/* Reads len bytes at off of name, looked up in a new request. */
static int
read_through(struct filecache *fc, int root, const char *name, char *buf, uint64_t off,
    uint64_t len, time_t now)
{
	struct stat st;
	int fd;

	filecache_begin(fc);
	if ((fd = filecache_open(fc, root, name, &st, 2200)) < 0)
		return -1;
	memset(buf, 0, len + 1);
	return filecache_read(fc, fd, buf, off, len, now);
}

/* A small file's bytes are kept once read, as long as the turn's fstat
 * says it is unchanged: a change within the turn is not seen (the proof
 * that nothing was read), the next turn's fstat sees it. */
static void
test_small_bodies_are_kept_while_unchanged(struct filecache *fc, int root)
{
	time_t later = time(NULL) + 5;	/* the file is old by then */
	char buf[32];

	put("k", "abcdef", 0644);
	filecache_turn(fc);
	CHECK(read_through(fc, root, "k", buf, 0, 6, later) == 0 && strcmp(buf, "abcdef") == 0);
	overwrite("k", "ABCDEF");
	CHECK(read_through(fc, root, "k", buf, 0, 6, later) == 0 && strcmp(buf, "abcdef") == 0);
	CHECK(read_through(fc, root, "k", buf, 2, 3, later) == 0 && strcmp(buf, "cde") == 0);
	CHECK(read_through(fc, root, "k", buf, 4, 3, later) == -1);	/* past the end */
	filecache_turn(fc);
	CHECK(read_through(fc, root, "k", buf, 0, 6, later) == 0 && strcmp(buf, "ABCDEF") == 0);
	CHECK(read_through(fc, root, "k", buf, 2, 3, later) == 0 && strcmp(buf, "CDE") == 0);
}

/* A file changed within the last second, or too big, is read every time:
 * its timestamps may not show a write made in the same clock tick. */
static void
test_recent_or_big_files_are_read_each_time(struct filecache *fc, int root)
{
	static char big[FILECACHE_BODY_MAX + 2];
	char buf[32];
	int fd;

	put("n", "uvwxyz", 0644);
	filecache_turn(fc);
	CHECK(read_through(fc, root, "n", buf, 0, 6, time(NULL)) == 0 && strcmp(buf, "uvwxyz") == 0);
	overwrite("n", "UVWXYZ");
	CHECK(read_through(fc, root, "n", buf, 0, 6, time(NULL)) == 0 && strcmp(buf, "UVWXYZ") == 0);
	memset(big, 'b', sizeof(big) - 1);
	put("big", big, 0644);
	filecache_turn(fc);
	CHECK(read_through(fc, root, "big", buf, 0, 4, time(NULL) + 5) == 0 && strcmp(buf, "bbbb") == 0);
	overwrite("big", "BBBB");
	CHECK(read_through(fc, root, "big", buf, 0, 4, time(NULL) + 5) == 0 && strcmp(buf, "BBBB") == 0);
	/* Any other descriptor, and no cache at all: a plain read. */
	snprintf(big, sizeof(big), "%s/n", dir);
	fd = open(big, O_RDONLY);
	CHECK(fd >= 0 && filecache_read(NULL, fd, buf, 1, 2, 0) == 0 && memcmp(buf, "VW", 2) == 0);
	if (fd >= 0)
		close(fd);
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

/* filecache.c's set function (FNV-1a over the path), so that the tests can
 * put names in one set on purpose; test_collisions_are_real() checks that
 * the two still agree. */
static unsigned
set_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % (FILECACHE_SLOTS / FILECACHE_WAYS);
}

/* n names "PREFIXi" that all fall in one set, other than the set "avoid". */
static unsigned
colliding(const char *prefix, unsigned avoid, char names[][32], int n)
{
	unsigned set = avoid;

	for (int i = 0, k = 0; k < n; i++) {
		unsigned s;
		snprintf(names[k], 32, "%s%d", prefix, i);
		s = set_of(names[k]);
		if (k == 0 && s != avoid)
			set = s;
		if (s == set && s != avoid)
			k++;
	}
	return set;
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	CHECK(d != NULL);
	while (d != NULL && readdir(d) != NULL)
		n++;
	if (d != NULL)
		closedir(d);
	return n;
}

static ino_t
ino_of(const char *name)
{
	struct stat st;
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	CHECK(stat(p, &st) == 0);
	return st.st_ino;
}

/* Open, and still the file it was handed out for. */
static int
still_names(int fd, const char *name)
{
	struct stat st;

	return fcntl(fd, F_GETFD) != -1 && fstat(fd, &st) == 0 && st.st_ino == ino_of(name);
}

static void
test_collisions_are_real(int root)
{
	struct filecache *fc = filecache_new();
	char a[WAYS_PLUS_ONE][32];
	struct stat st;
	int base = open_fds();

	colliding("k", FILECACHE_SLOTS, a, WAYS_PLUS_ONE);
	for (int i = 0; i < WAYS_PLUS_ONE; i++)
		put(a[i], "k", 0644);
	filecache_begin(fc);
	for (int i = 0; i < WAYS_PLUS_ONE; i++)
		CHECK(filecache_open(fc, root, a[i], &st, 9000) >= 0);
	filecache_begin(fc);
	CHECK(open_fds() == base + FILECACHE_WAYS);	/* one set holds four */
	filecache_free(fc);
	CHECK(open_fds() == base);
}

/*
 * One request that evicts expired entries from two sets (two evictions a
 * lookup), then its own entries: more evictions than lookups. Every
 * descriptor it was handed must stay open, on the same file, until the
 * next request; those of earlier requests may go at once.
 */
static void
test_a_request_keeps_its_descriptors(int root)
{
	struct filecache *fc = filecache_new();
	char a[8][32], b[4][32];
	const char *order[FILECACHE_LOOKUPS_MAX];
	int fd[FILECACHE_LOOKUPS_MAX], n = 0, ok = 1;
	const int64_t t0 = 10000, t1 = t0 + FILECACHE_TTL_MS;
	struct stat st;
	int base = open_fds();

	colliding("ca", colliding("cb", FILECACHE_SLOTS, b, 4), a, 8);
	for (int i = 0; i < 8; i++)
		put(a[i], a[i], 0644);
	for (int i = 0; i < 4; i++)
		put(b[i], b[i], 0644);
	filecache_begin(fc);
	for (int i = 0; i < 4; i++) {
		CHECK(filecache_open(fc, root, a[i], &st, t0) >= 0);
		CHECK(filecache_open(fc, root, b[i], &st, t0) >= 0);
	}
	CHECK(open_fds() == base + 8);

	/* All eight expired: a3 and a2 each evict themselves and one more, as
	 * b3 and b2 do in the other set; a4, a5 fill the set; a6, a7 evict
	 * descriptors handed out in this very request. */
	const char *lookups[] = { a[3], a[2], b[3], b[2], a[4], a[5], a[6], a[7] };
	filecache_begin(fc);
	for (size_t i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		order[n] = lookups[i];
		fd[n] = filecache_open(fc, root, lookups[i], &st, t1);
		CHECK(fd[n] >= 0);
		n++;
		for (int j = 0; j < n; j++)
			ok &= fd[j] >= 0 && still_names(fd[j], order[j]);
	}
	CHECK(ok);
	/* One lookup too many is refused, and changes nothing. */
	CHECK(filecache_open(fc, root, a[0], &st, t1) == -503);
	for (int j = 0; j < n; j++)
		CHECK(still_names(fd[j], order[j]));

	/* The next request closes what this one lost (a3 and a6). */
	filecache_begin(fc);
	CHECK(open_fds() == base + 6);
	CHECK(filecache_open(fc, root, a[7], &st, t1) == fd[7] && still_names(fd[7], a[7]));
	filecache_expire(fc, t1 + FILECACHE_TTL_MS);
	CHECK(open_fds() == base);
	filecache_free(fc);
}

static void
test_the_lookups_of_a_request_are_capped(int root)
{
	struct filecache *fc = filecache_new();
	struct stat st;
	int fd;

	put("cap", "cap", 0644);
	filecache_begin(fc);
	fd = filecache_open(fc, root, "cap", &st, 11000);
	CHECK(fd >= 0);
	for (int i = 1; i < FILECACHE_LOOKUPS_MAX; i++)
		CHECK(filecache_open(fc, root, "cap", &st, 11000) == fd);
	CHECK(filecache_open(fc, root, "cap", &st, 11000) == -503);
	CHECK(filecache_open(fc, root, "nothing-here", &st, 11000) == -503);
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "cap", &st, 11000) == fd);
	filecache_free(fc);
}

static void
test_the_sweep_closes_expired_descriptors(int root)
{
	struct filecache *fc = filecache_new();
	char p[256], longname[221];
	struct stat st;
	int base = open_fds(), gone, kept, fd;

	filecache_expire(fc, 0);	/* an empty cache */
	put("s1", "deleted soon", 0644);
	put("s2", "kept", 0644);
	filecache_begin(fc);
	gone = filecache_open(fc, root, "s1", &st, 20000);
	filecache_begin(fc);
	kept = filecache_open(fc, root, "s2", &st, 20500);
	CHECK(gone >= 0 && kept >= 0);
	snprintf(p, sizeof(p), "%s/s1", dir);
	CHECK(unlink(p) == 0);

	filecache_expire(fc, 20000 + FILECACHE_TTL_MS - 1);
	CHECK(fcntl(gone, F_GETFD) != -1 && open_fds() == base + 2);
	filecache_expire(fc, 20000 + FILECACHE_TTL_MS);
	CHECK(fcntl(gone, F_GETFD) == -1 && errno == EBADF);
	CHECK(open_fds() == base + 1 && still_names(kept, "s2"));
	filecache_begin(fc);
	CHECK(filecache_open(fc, root, "s2", &st, 20600) == kept);
	filecache_expire(fc, 20500 + FILECACHE_TTL_MS);
	CHECK(fcntl(kept, F_GETFD) == -1 && errno == EBADF && open_fds() == base);

	/* A name too long to remember: its descriptor goes with the request. */
	memset(longname, 'l', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	put(longname, "long", 0644);
	filecache_begin(fc);
	fd = filecache_open(fc, root, longname, &st, 21000);
	CHECK(fd >= 0 && open_fds() == base + 1);
	filecache_expire(fc, 21000);
	CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF && open_fds() == base);
	filecache_free(fc);
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
	test_one_fstat_per_turn(fc, root);
	test_small_bodies_are_kept_while_unchanged(fc, root);
	test_recent_or_big_files_are_read_each_time(fc, root);
	test_replacement_and_removal_are_seen_after_the_ttl(fc, root);
	test_missing_files_are_remembered_for_the_ttl(fc, root);
	test_the_policy_still_applies(fc, root);
	filecache_free(fc);
	test_collisions_are_real(root);
	test_a_request_keeps_its_descriptors(root);
	test_the_lookups_of_a_request_are_capped(root);
	test_the_sweep_closes_expired_descriptors(root);
	close(root);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	return unit_done("filecache");
}
