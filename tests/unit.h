/*
 * unit: a tiny test harness for the unit tests. CHECK(cond) counts a pass or
 * prints the failing expression with its line; unit_done() prints
 * "N passed, N failed" and returns the exit status.
 */
#ifndef HERMIT_UNIT_H
#define HERMIT_UNIT_H

#include <stdio.h>
#include <string.h>

static unsigned unit_passed, unit_failed;

#define CHECK(cond) do { \
	if (cond) \
		unit_passed++; \
	else { \
		unit_failed++; \
		fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
	} \
} while (0)

/* Compares a length-delimited slice with a C string. */
#define CHECK_SLICE(s, str) CHECK((s).p != NULL && (s).len == strlen(str) && \
	memcmp((s).p, (str), (s).len) == 0)

static inline int
unit_done(const char *name)
{
	printf("%s: %u passed, %u failed\n", name, unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
