/*
 * http2: HTTP/2 on a connection (RFC 9113), framed by libnghttp2, over the
 * same core as HTTP/1.1 (see connstate.h). A connection becomes HTTP/2 when
 * TLS agreed on ALPN "h2", or, with --h2c, when a plain connection starts
 * with the client preface (prior knowledge; no Upgrade). Each request is
 * answered as soon as its header block is complete, by the same respond()
 * as HTTP/1.1, and logged once; the head's fields become the HEADERS frame.
 * A body is a file range, sent as DATA frames whose 9-byte headers go in
 * the output buffer and whose payload leaves by the transport's sendfile
 * (nghttp2's no-copy path), or a small buffer held by its stream.
 *
 * Limits: --h2-max-streams streams open at once (SETTINGS, and refused
 * beyond it), --max-header-bytes for a header block as decoded (SETTINGS
 * MAX_HEADER_LIST_SIZE; larger gets 431), --max-header-fields, and
 * --max-requests streams per connection, then GOAWAY. Frames that ask for
 * no response (PING, SETTINGS, PRIORITY, WINDOW_UPDATE, RST_STREAM, empty
 * or refused DATA) cost the connection; past an allowance that grows with
 * what it was served, it gets GOAWAY with ENHANCE_YOUR_CALM and is closed,
 * as are floods nghttp2 itself detects (rapid reset, CONTINUATION, unread
 * PING and SETTINGS acknowledgements). Deadlines: --header-timeout until
 * the first request and during a header block, --send-timeout while a
 * response cannot progress (the client's window stays shut included),
 * --idle-timeout otherwise.
 */
#ifndef HERMIT_HTTP2_H
#define HERMIT_HTTP2_H

#include <stddef.h>

struct conn_ctx;
struct conn;

/* The client preface: a plain connection that starts with it speaks HTTP/2. */
#define HTTP2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define HTTP2_PREFACE_LEN 24

/* Once per process, before the workers start: returns 0, or -1 when out
 * of memory. */
int http2_init(void);

/* Makes c an HTTP/2 connection (its input, preface included, is read by
 * the session). Returns 0, or -1 when out of memory. */
int http2_start(struct conn_ctx *ctx, struct conn *c);

/* Reads all the input, then writes frames into the output buffer until it
 * is full or a file range is to follow it. Returns 1 when it produced
 * output, 0 when there is nothing to do until more input, -1 to close. */
int http2_process(struct conn_ctx *ctx, struct conn *c);

/* Nothing is left to read or send (after GOAWAY, either way): close. */
int http2_finished(const struct conn *c);

/* Sets the deadline that applies while the connection waits. */
void http2_wait(struct conn_ctx *ctx, struct conn *c);

/* Shutdown: GOAWAY; open streams may finish. */
void http2_stop(struct conn_ctx *ctx, struct conn *c);

/* Frees the session and its streams (the core closes the descriptors). */
void http2_free(struct conn_ctx *ctx, struct conn *c);

#endif
