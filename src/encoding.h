/*
 * encoding: which content codings a client accepts, from Accept-Encoding
 * (RFC 9110 §12.5.3). Only the codings hermit can serve precompressed count.
 * A coding is accepted when listed (or matched by "*") with q > 0; "q=0"
 * refuses it even when "*" would allow it. Case-insensitive; bad syntax in
 * one element drops that element only. An absent header accepts nothing.
 */
#ifndef HERMIT_ENCODING_H
#define HERMIT_ENCODING_H

#include <stddef.h>

#define ENCODING_BR   1u
#define ENCODING_ZSTD 2u
#define ENCODING_GZIP 4u

/* Returns a bitmask of ENCODING_* accepted by the header value s[0..len). */
unsigned encoding_accepted(const char *s, size_t len);

#endif
