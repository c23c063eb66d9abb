/*
 * descriptors: close what hermit was not handed on purpose (see
 * descriptors.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "descriptors.h"

static int
kept(const int *keep, unsigned n, int fd)
{
	for (unsigned i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

static int
by_value(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Points fd (0 or 1) at something harmless: /dev/null, else one end of a
 * pipe whose other end is closed (reads see EOF, writes fail). */
static int
neuter(int fd)
{
	int null = open("/dev/null", (fd == 0 ? O_RDONLY : O_WRONLY) | O_NOCTTY);
	int p[2];

	if (null == -1) {
		if (pipe(p) == -1)
			return -1;
		null = p[fd == 0 ? 0 : 1];
		close(p[fd == 0 ? 1 : 0]);
	}
	if (null != fd) {
		if (dup2(null, fd) == -1) {
			close(null);
			return -1;
		}
		close(null);
	}
	return 0;
}

/* Closes [first, last]. close_range(2) where the kernel has it, else one
 * close per number (bounded by the open-file limit). */
static void
close_span(unsigned first, unsigned last)
{
	if (first > last)
		return;
	if (close_range(first, last, 0) == 0)
		return;
	long max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (unsigned fd = first; fd <= last && fd < (unsigned)max; fd++)
		close((int)fd);
}

int
descriptors_close_others(const int *keep, unsigned n, char *why, size_t whysize)
{
	int sorted[DESCRIPTORS_KEEP_MAX];
	unsigned next = 3;

	if (n > DESCRIPTORS_KEEP_MAX) {
		snprintf(why, whysize, "descriptors: more than %d to keep", DESCRIPTORS_KEEP_MAX);
		return -1;
	}
	for (int fd = 0; fd <= 1; fd++)
		if (!kept(keep, n, fd) && neuter(fd) == -1) {
			snprintf(why, whysize, "descriptors: fd %d: %s", fd, strerror(errno));
			return -1;
		}
	memcpy(sorted, keep, n * sizeof(*keep));
	qsort(sorted, n, sizeof(*sorted), by_value);
	for (unsigned i = 0; i < n; i++) {
		if (sorted[i] < 3 || (unsigned)sorted[i] < next)
			continue;
		close_span(next, (unsigned)sorted[i] - 1);
		next = (unsigned)sorted[i] + 1;
	}
	close_span(next, UINT_MAX);
	return 0;
}

unsigned
descriptors_list_others(const int *keep, unsigned n, int limit, char *out, size_t size)
{
	unsigned found = 0;
	size_t len = 0;

	if (size > 0)
		out[0] = '\0';
	for (int fd = 0; fd < limit; fd++) {
		if (kept(keep, n, fd) || fcntl(fd, F_GETFL) == -1)
			continue;
		found++;
		if (len < size)
			len += (size_t)snprintf(out + len, size - len, "%sfd %d",
			    found > 1 ? ", " : "", fd);
	}
	return found;
}
