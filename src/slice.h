/*
 * slice: a pointer and a length into a buffer someone else owns.
 * Parsed requests are made of slices of the receive buffer: no copies.
 */
#ifndef HERMIT_SLICE_H
#define HERMIT_SLICE_H

#include <stddef.h>

struct slice {
	const char *p;	/* NULL when absent */
	size_t len;
};

#endif
