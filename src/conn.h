/*
 * conn: one client connection's state machine, driven by readiness events:
 *
 *   HEAD  ─ a complete request head arrived ─→ respond ─→ SEND
 *    ↑                                                      │
 *    └──── all sent, keep-alive (IDLE until the next byte) ←┘
 *
 * Complete pipelined heads already received are answered together: their
 * responses are gathered in one output buffer and leave in one write.
 * Bodies too large for the buffer go out with sendfile. An idle connection
 * owns no buffer (they return to the worker's pool), only its small struct.
 * A connection closed after a refused request first half-closes and
 * discards what the client still sends (LINGER), so that its reset cannot
 * destroy the error response. Every connection sits in exactly one of four
 * deadline lists (head, idle, send, linger); conn_expire() closes those
 * past their deadline: a client that trickles its head is closed when the
 * head deadline passes, however busy.
 * Every read, write, sendfile, shutdown and peek goes through the
 * connection's transport (transport.h: plain TCP and stdio, or TLS), and
 * "no more input for now" is the transport's answer, not conn's guess.
 * On a connection marked for it, a PROXY protocol header (proxy.h) comes
 * first, under the head deadline: it is taken off the raw descriptor
 * before the transport reads anything (so before a TLS handshake), names
 * the peer, and when invalid closes the connection without an answer.
 * conn never exits the process.
 */
#ifndef HERMIT_CONN_H
#define HERMIT_CONN_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "httpdate.h"
#include "log.h"

enum timer { TIMER_HEAD, TIMER_IDLE, TIMER_SEND, TIMER_LINGER, TIMER_COUNT };

/* What an epoll event's data.ptr points at: the first member of each kind. */
enum source { SOURCE_CONN, SOURCE_LISTENER, SOURCE_STOP };

struct conn;
struct filecache;

struct conn_list {
	struct conn *head, *tail;
};

struct buffer_pool {
	void *free;		/* singly linked through the first word */
	unsigned count;
	size_t size;
};

/* Per-worker state that connections use: one per thread, never shared. */
struct conn_ctx {
	const struct config *cfg;
	int epfd;
	atomic_uint *open_conns;	/* all workers together, for --max-connections */
	unsigned nconns;		/* this worker's */
	int stopping;
	struct conn_list timers[TIMER_COUNT];
	struct buffer_pool inpool, outpool, h2outpool;
	struct filecache *files;
	int64_t files_swept_ms;		/* last filecache_expire() */
	int64_t now_ms;			/* monotonic */
	time_t now;			/* wall clock, for Date and the log */
	char date[HTTPDATE_LEN + 1];
	struct logbuf log;
};

/* Returns 0, or -1 when out of memory. */
int conn_ctx_init(struct conn_ctx *ctx, const struct config *cfg, int epfd,
    atomic_uint *open_conns);
/* Closes every connection and frees what the context holds (not epfd). */
void conn_ctx_free(struct conn_ctx *ctx);
/* Reads the clocks once per loop turn (vDSO: no system call). */
void conn_ctx_tick(struct conn_ctx *ctx);

/* Takes over rfd/wfd (the same socket, or stdin/stdout). stdin/stdout are
 * registered with epoll at once; a socket only when it first has to wait,
 * so the caller runs it straight away with conn_event(ctx, c, EPOLLIN): a
 * request that is already there (a deferred accept hands over connections
 * whose first bytes have arrived) is answered without a trip through epoll.
 * Returns NULL (having closed nothing) when out of memory. */
struct transport;
struct conn *conn_open(struct conn_ctx *ctx, const struct transport *t, int rfd, int wfd,
    const char *peer);

/* A PROXY protocol header (proxy.h) must come before anything else on c:
 * called between conn_open() and the first conn_event(). */
void conn_expect_proxy(struct conn *c);

/* c came through a loopback listener (listen.h): its socket keeps the
 * kernel's sizing, with no fixed send buffer for a nearby client. Called
 * between conn_open() and the first conn_event(). */
void conn_keep_kernel_sizing(struct conn *c);

/* Runs the state machine after readiness events on the connection. */
void conn_event(struct conn_ctx *ctx, struct conn *c, uint32_t events);

/* Closes the connections past their deadline, and (once a second) the
 * file cache's expired descriptors; returns ms until the next deadline
 * (or -1: the caller wakes at least once a second anyway). */
int conn_expire(struct conn_ctx *ctx);

/* Shutdown: close idle connections now, let in-flight responses finish. */
void conn_stop_all(struct conn_ctx *ctx);

/* Grace period over: close everything. */
void conn_close_all(struct conn_ctx *ctx);

#endif
