/*
 * range: the Range header (RFC 9110 §14.2) against a representation of
 * `size` bytes. hermit answers a single byte range with 206; a header with
 * more than one range is ignored and the whole file is sent with 200
 * (RFC 9110 allows it; it avoids multipart responses and their amplification).
 *
 * RANGE_IGNORE: no usable Range (absent, another unit, bad syntax, several
 *               ranges): send the whole representation.
 * RANGE_OK:     one satisfiable range; *first and *last are inclusive
 *               offsets with first <= last < size.
 * RANGE_UNSATISFIABLE: one syntactically valid range that selects nothing
 *               (first >= size, or a suffix of 0): 416.
 * Numbers of any length are parsed without overflow (they saturate).
 */
#ifndef HERMIT_RANGE_H
#define HERMIT_RANGE_H

#include <stddef.h>
#include <stdint.h>

enum range_result { RANGE_IGNORE, RANGE_OK, RANGE_UNSATISFIABLE };

enum range_result range_parse(const char *s, size_t len, uint64_t size,
    uint64_t *first, uint64_t *last);

#endif
