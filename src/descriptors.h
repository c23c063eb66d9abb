/*
 * descriptors: the process holds only the descriptors it opened or was
 * handed on purpose. Whoever starts hermit (a shell, a supervisor, a
 * careless script) may leave it holding others — a file outside ROOT open
 * for reading or writing — and confinement cannot take those away: a
 * descriptor already open passes chroot, Landlock and seccomp untouched.
 * So at the end of the gather step every descriptor not in the keep list is
 * closed, and stdin and stdout, when not kept, are pointed at /dev/null (or,
 * where there is none, at a pipe with no other end), so that no later
 * descriptor can take their numbers.
 */
#ifndef HERMIT_DESCRIPTORS_H
#define HERMIT_DESCRIPTORS_H

#include <stddef.h>

#define DESCRIPTORS_KEEP_MAX 32

/* Closes every descriptor not in keep[0..n). Returns 0, or -1 with a
 * message in why. */
int descriptors_close_others(const int *keep, unsigned n, char *why, size_t whysize);

/* Writes the open descriptors below limit that are not in keep[0..n) as
 * "fd 5, fd 7" into out; returns how many there are. Needs no file
 * system (for the audit, inside the jail). */
unsigned descriptors_list_others(const int *keep, unsigned n, int limit, char *out,
    size_t size);

#endif
