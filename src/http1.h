/*
 * http1: HTTP/1.x over a connection (see connstate.h): every complete
 * request head in the input is parsed (request.h) and answered (respond.h)
 * into the output buffer, pipelined heads together, until the buffer is
 * full or a response with a file body, or one that closes the connection,
 * stops it. A refused head is answered and the connection closed, after a
 * linger (the client is likely still sending).
 */
#ifndef HERMIT_HTTP1_H
#define HERMIT_HTTP1_H

struct conn_ctx;
struct conn;

/* Returns 1 when it produced output, 0 when it needs more input, -1 when
 * the connection must close now. */
int http1_process(struct conn_ctx *ctx, struct conn *c);

#endif
