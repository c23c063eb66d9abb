/*
 * connstate: a connection as the protocols see it. conn.c is the core
 * (descriptors, transport, buffers from the worker's pools, deadlines,
 * epoll, flushing, lingering); http1.c and http2.c turn the input buffer
 * into responses in the output buffer, each followed by at most one file
 * range that the core sends after it. Nothing else includes this header.
 */
#ifndef HERMIT_CONNSTATE_H
#define HERMIT_CONNSTATE_H

#include <stdint.h>

#include "conn.h"
#include "respond.h"
#include "transport.h"

struct http2;

struct conn {
	enum source source;		/* SOURCE_CONN; first, see conn.h */
	struct conn *prev, *next;	/* in ctx->timers[timer] */
	int64_t deadline;
	const struct transport *t;
	struct transport_io io;		/* the descriptors the transport moves bytes on */
	unsigned char timer;
	unsigned char readable, writable;
	unsigned char poll_r, poll_w;	/* 0: a regular file on stdio, always ready */
	unsigned char watched;		/* registered with epoll (a socket: once it had to wait) */
	unsigned char out_watched;	/* EPOLLOUT asked for (after the first full send buffer) */
	unsigned char sndbuf_checks;	/* see size_send_buffer */
	unsigned char kernel_sizing;	/* see conn_keep_kernel_sizing */
	unsigned char hup;		/* epoll saw the peer's end close: read to EOF */
	unsigned char eof;		/* the client sent FIN */
	unsigned char close_after;	/* close once the output is sent */
	unsigned char linger;		/* ... after a half-close: unread input is likely */
	unsigned char lingering;	/* half-closed, discarding input until EOF */
	unsigned char proxy;		/* a PROXY header must come first (PROXY_*) */
	unsigned char file_borrowed;	/* file_fd is an HTTP/2 stream's: not closed here */
	unsigned discarded;		/* bytes read and dropped while lingering */
	unsigned requests;
	unsigned head_request;		/* c->requests when the head timer started */
	char *in;
	unsigned in_off, in_len;
	char *out;
	unsigned out_sent, out_len;
	int file_fd;
	uint64_t file_off, file_end;
	struct http2 *h2;		/* NULL: HTTP/1.x */
	char peer[48];
};

/* The output buffer (OUT_BUFFER_BYTES), taken from the pool when the
 * connection holds none; NULL when out of memory. */
char *conn_out_buffer(struct conn_ctx *ctx, struct conn *c);

/* A buffer of OUT_BUFFER_BYTES from the worker's pool, and back. */
void *conn_scratch_get(struct conn_ctx *ctx);
void conn_scratch_put(struct conn_ctx *ctx, void *p);

/* Moves c to deadline list `which`, due in `seconds`. */
void conn_timer(struct conn_ctx *ctx, struct conn *c, enum timer which, unsigned seconds);

/* A buffer of cfg->max_header_bytes from the worker's pool, and back. */
void *conn_in_get(struct conn_ctx *ctx);
void conn_in_put(struct conn_ctx *ctx, void *p);

/* The respond_env of a request on c now. */
void conn_respond_env(struct conn_ctx *ctx, struct conn *c, struct respond_env *env);

/* One access-log line; line[0..len) is the request line as the log shows it. */
void conn_log(struct conn_ctx *ctx, struct conn *c, const struct request *req,
    const char *line, size_t len, const struct response *res);

#endif
