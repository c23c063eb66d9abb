/*
 * mime: Content-Type from a file name's extension. A built-in table covers
 * the web's common types; mime_load() adds a mime.types file (the Debian
 * /etc/mime.types format: "type ext ext ..." lines, '#' comments) at startup,
 * whose entries win over the built-in ones. Lookups are case-insensitive,
 * allocation-free and bounded; unknown extensions are
 * application/octet-stream.
 */
#ifndef HERMIT_MIME_H
#define HERMIT_MIME_H

#include <stddef.h>

/* Returns 0, or -1 with a message in why: the file cannot be read, is not
 * a regular file (a FIFO or a device is refused without blocking), is over
 * 1 MiB, or has a bad line (named by number, never quoted). */
int mime_load(const char *path, char *why, size_t whysize);

/* The type for the last extension of name[0..len). */
const char *mime_type(const char *name, size_t len);

#endif
