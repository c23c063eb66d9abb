/*
 * etag: strong entity tags from a file's metadata, and matching them against
 * If-None-Match / If-Range values (RFC 9110 §8.8.3, §13.1.2).
 * A tag is "<size hex>-<mtime seconds hex>-<mtime ns hex>-<inode hex>" in
 * double quotes: it changes whenever the file is replaced or rewritten.
 */
#ifndef HERMIT_ETAG_H
#define HERMIT_ETAG_H

#include <stddef.h>
#include <sys/stat.h>

#define ETAG_MAX 72	/* enough for four 64-bit hex numbers, dashes and quotes */

/* Writes the tag of st (with quotes) to out and returns its length. */
size_t etag_format(const struct stat *st, char *out);

/* If-None-Match: "*" or a comma-separated list; weak comparison (W/ ignored).
 * Returns 1 when tag matches, 0 otherwise (bad syntax matches nothing). */
int etag_list_match_weak(const char *list, size_t len, const char *tag, size_t taglen);

/* If-Range with an entity tag: strong comparison, a weak tag never matches. */
int etag_match_strong(const char *value, size_t len, const char *tag, size_t taglen);

#endif
