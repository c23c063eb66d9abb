/*
 * Unit tests for descriptors: what is closed, what is kept, and that the
 * audit's listing sees a descriptor nobody meant to keep.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descriptors.h"
#include "unit.h"

static int
is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void
same_file(int fd, const char *path, int *result)
{
	struct stat a, b;

	*result = fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Everything not kept is closed, stdin/stdout become /dev/null, kept
 * descriptors survive whatever their order. */
static void
test_close_others(void)
{
	int kept_a = open("/dev/null", O_RDONLY), stray = open("/etc/hostname", O_RDONLY);
	int high = fcntl(stray, F_DUPFD, 200), kept_b = fcntl(kept_a, F_DUPFD, 100);
	int saved_out = dup(1);	/* the results still go to stdout */
	int keep[] = { kept_b, 2, kept_a, saved_out };
	char why[128], list[256];
	int r;

	CHECK(kept_a >= 3 && stray >= 3 && high >= 200 && kept_b >= 100);
	/* before: the listing names the strays */
	CHECK(descriptors_list_others(keep, 4, 1024, list, sizeof(list)) >= 2);
	CHECK(strstr(list, "fd 200") != NULL || high != 200);
	CHECK(descriptors_close_others(keep, 4, why, sizeof(why)) == 0);
	CHECK(is_open(kept_a) && is_open(kept_b) && is_open(2));
	CHECK(!is_open(stray) && !is_open(high));
	same_file(0, "/dev/null", &r);
	CHECK(r);
	same_file(1, "/dev/null", &r);
	CHECK(r);
	/* after: nothing but 0 and 1 (now /dev/null) besides the kept ones */
	{
		int with_std[] = { kept_b, 2, kept_a, saved_out, 0, 1 };
		CHECK(descriptors_list_others(with_std, 6, 1024, list, sizeof(list)) == 0);
		CHECK(list[0] == '\0');
	}
	dup2(saved_out, 1);
}

static void
test_listing_is_bounded(void)
{
	int keep[] = { 0, 1, 2 };
	int fds[40];
	char small[16];

	for (int i = 0; i < 40; i++)
		fds[i] = open("/dev/null", O_RDONLY);
	CHECK(descriptors_list_others(keep, 3, 1024, small, sizeof(small)) >= 40);
	CHECK(strlen(small) < sizeof(small));
	for (int i = 0; i < 40; i++)
		close(fds[i]);
}

int
main(void)
{
	test_listing_is_bounded();
	test_close_others();	/* last: it closes this process's descriptors */
	return unit_done("descriptors");
}
