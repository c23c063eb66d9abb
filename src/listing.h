/*
 * listing: with --listing, the HTML page for a directory that has no
 * index.html, when the directory is readable by everyone (o+r, as a file
 * must be). It lists only what the publishing policy would serve:
 * regular files readable by everyone and directories everyone may search,
 * never a name that starts with a dot or holds a backslash (no request can
 * name it), never _headers or _redirects (read by hermit, not served), and a symlink only when resolve_open() would
 * follow it (beneath the root, to something publishable).
 *
 * Entries are sorted by name, bytewise, each with its size and its
 * modification date. A name is percent-encoded in its link (every byte but
 * the unreserved ones of RFC 3986 §2.3, so the link is relative and means
 * that name only) and escaped in its text: & < > " ' as character
 * references, and every byte that is not part of valid UTF-8, or that
 * encodes a control character (C0, DEL, C1), shown as U+FFFD.
 *
 * Bounded: at most LISTING_SCAN_MAX directory entries are read per request
 * and the LISTING_KEEP_MAX first of them by name are kept (on the stack,
 * about 70 KiB); the page is written into the caller's buffer and what
 * does not fit is left out, the page then saying how many entries it shows
 * of how many. No allocation.
 */
#ifndef HERMIT_LISTING_H
#define HERMIT_LISTING_H

#include <stddef.h>

#define LISTING_SCAN_MAX 10000
#define LISTING_KEEP_MAX 256

/* Writes the page for the directory open as dirfd, whose path relative to
 * rootfd is rel[0..rellen) ("" or ending in '/'); shown is the path the
 * page names (the request's, decoded, relative to the site: "" for its
 * top). Returns the length written into out, at most size, or a negative
 * HTTP status: -404 when the directory is not readable by everyone (it is
 * then not published, as a file would not be), -414 when size cannot hold
 * even an empty page (the path is too long to show), -500 when the
 * directory cannot be read. */
long listing_page(int rootfd, int dirfd, const char *rel, size_t rellen, const char *shown,
    size_t shownlen, char *out, size_t size);

/* name[0..len) as HTML text (see above) into out; returns the length
 * needed, which may exceed size (then out holds a prefix). At most 6 bytes
 * per input byte. */
size_t listing_html(const char *name, size_t len, char *out, size_t size);

/* name[0..len) percent-encoded for a URL path segment into out; returns the
 * length needed, as listing_html(). At most 3 bytes per input byte. */
size_t listing_url(const char *name, size_t len, char *out, size_t size);

#endif
