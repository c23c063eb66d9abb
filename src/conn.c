/*
 * conn: the connection state machine (see conn.h). Edge-triggered: the
 * readable/writable flags remember what epoll last said, so the machine
 * reads or writes only when the kernel has said it may succeed, and a short
 * read means "drained" without a wasted EAGAIN call.
 */
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connstate.h"
#include "filecache.h"
#include "http1.h"
#include "http2.h"
#include "limits.h"
#include "proxy.h"
#include "request.h"
#include "respond.h"
#include "transport.h"

static int wait_with_epoll(struct conn_ctx *ctx, struct conn *c, int out);


static void *
pool_get(struct buffer_pool *pool)
{
	void *p = pool->free;

	if (p != NULL) {
		memcpy(&pool->free, p, sizeof(void *));
		pool->count--;
		return p;
	}
	return malloc(pool->size);
}

static void
pool_put(struct buffer_pool *pool, void *p)
{
	if (p == NULL)
		return;
	if (pool->count >= BUFFER_POOL_KEEP) {
		free(p);
		return;
	}
	memcpy(p, &pool->free, sizeof(void *));
	pool->free = p;
	pool->count++;
}

int
conn_ctx_init(struct conn_ctx *ctx, const struct config *cfg, int epfd, atomic_uint *open_conns)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->epfd = epfd;
	ctx->open_conns = open_conns;
	ctx->inpool.size = cfg->max_header_bytes;
	ctx->outpool.size = OUT_BUFFER_BYTES;
	ctx->h2outpool.size = H2_OUT_BUFFER_BYTES;
	ctx->log.date_second = -1;
	conn_ctx_tick(ctx);
	return (ctx->files = filecache_new()) == NULL ? -1 : 0;
}

static void
pool_drain(struct buffer_pool *pool)
{
	void *p;

	while ((p = pool->free) != NULL) {
		memcpy(&pool->free, p, sizeof(void *));
		free(p);
	}
	pool->count = 0;
}

void
conn_ctx_free(struct conn_ctx *ctx)
{
	conn_close_all(ctx);
	pool_drain(&ctx->inpool);
	pool_drain(&ctx->outpool);
	pool_drain(&ctx->h2outpool);
	filecache_free(ctx->files);
	ctx->files = NULL;
}

void
conn_ctx_tick(struct conn_ctx *ctx)
{
	struct timespec mono, wall;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	clock_gettime(CLOCK_REALTIME_COARSE, &wall);
	ctx->now_ms = (int64_t)mono.tv_sec * 1000 + mono.tv_nsec / 1000000;
	if (ctx->files != NULL)
		filecache_turn(ctx->files);
	if (wall.tv_sec != ctx->now || ctx->date[0] == '\0') {
		ctx->now = wall.tv_sec;
		httpdate_format(ctx->now, ctx->date);
	}
}

static void
timer_unlink(struct conn_ctx *ctx, struct conn *c)
{
	struct conn_list *l = &ctx->timers[c->timer];

	if (c->prev == NULL && l->head != c)
		return;	/* a new connection, in no list yet */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

/* Moves c to the tail of list `which`: each list has one duration, so
 * appending keeps it sorted by deadline. */
static void
timer_set(struct conn_ctx *ctx, struct conn *c, enum timer which, unsigned seconds)
{
	struct conn_list *l = &ctx->timers[which];

	timer_unlink(ctx, c);
	c->timer = (unsigned char)which;
	c->deadline = ctx->now_ms + (int64_t)seconds * 1000;
	c->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	if (which == TIMER_HEAD)
		c->head_request = c->requests;
}

void
conn_timer(struct conn_ctx *ctx, struct conn *c, enum timer which, unsigned seconds)
{
	timer_set(ctx, c, which, seconds);
}

/* The pool c->out comes from: HTTP/2 writes more at a time. */
static struct buffer_pool *
out_pool(struct conn_ctx *ctx, const struct conn *c)
{
	return c->h2 != NULL ? &ctx->h2outpool : &ctx->outpool;
}

static void
conn_close(struct conn_ctx *ctx, struct conn *c)
{
	struct buffer_pool *outpool = out_pool(ctx, c);

	timer_unlink(ctx, c);
	if (c->h2 != NULL)
		http2_free(ctx, c);	/* first: a stream's file may be in c->file_fd */
	if (c->file_fd >= 0)
		close(c->file_fd);
	if (c->t->close != NULL)
		c->t->close(&c->io);
	close(c->io.rfd);
	if (c->io.wfd != c->io.rfd)
		close(c->io.wfd);
	pool_put(&ctx->inpool, c->in);
	pool_put(outpool, c->out);
	free(c);
	ctx->nconns--;
	atomic_fetch_sub(ctx->open_conns, 1);
}

static int
watch(struct conn_ctx *ctx, int fd, uint32_t events, struct conn *c)
{
	struct epoll_event ev = { .events = events | EPOLLET, .data.ptr = c };

	return epoll_ctl(ctx->epfd, EPOLL_CTL_ADD, fd, &ev);
}

struct conn *
conn_open(struct conn_ctx *ctx, const struct transport *t, int rfd, int wfd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct stat st;

	if (c == NULL)
		return NULL;
	c->source = SOURCE_CONN;
	c->t = t;
	c->io.rfd = rfd;
	c->io.wfd = wfd;
	c->file_fd = -1;
	c->poll_r = c->poll_w = 1;
	c->writable = 1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	if (rfd == wfd) {
		/* Not registered yet: the caller runs the machine at once, and
		 * a connection answered and closed in that first run never
		 * costs an epoll_ctl (see wait_with_epoll). */
		c->io.w_socket = 1;
	} else {
		/* stdin/stdout: a socket, pipes, or regular files (which epoll
		 * refuses with EPERM: they are always ready). */
		c->io.w_socket = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
		c->watched = c->out_watched = 1;
		if (watch(ctx, rfd, EPOLLIN | EPOLLRDHUP, c) == -1) {
			if (errno != EPERM) {
				free(c);
				return NULL;
			}
			c->poll_r = 0;
			c->readable = 1;
		}
		if (watch(ctx, wfd, EPOLLOUT, c) == -1) {
			if (errno != EPERM) {
				free(c);
				return NULL;
			}
			c->poll_w = 0;
		}
	}
	ctx->nconns++;
	atomic_fetch_add(ctx->open_conns, 1);
	timer_set(ctx, c, TIMER_HEAD, ctx->cfg->header_timeout);
	return c;
}

/* conn->proxy: no header expected, one expected (peeked at on a socket),
 * one expected on a pipe or file (read a byte range that cannot go past
 * it, into c->in). */
enum { PROXY_NONE, PROXY_PEEK, PROXY_READ };

/* The header is peeked at, or gathered, in the request buffer. */
_Static_assert(PROXY_MAX <= MIN_MAX_HEADER_BYTES, "a PROXY header fits the request buffer");

void
conn_expect_proxy(struct conn *c)
{
	c->proxy = PROXY_PEEK;
}

/* The header is in: the peer is the one it names. */
static void
proxy_done(struct conn *c, const struct proxy_result *pr)
{
	char peer[sizeof(c->peer)];

	proxy_format_peer(pr, c->peer, peer, sizeof(peer));
	memcpy(c->peer, peer, sizeof(peer));
	c->proxy = PROXY_NONE;
	c->in_len = 0;
}

/* A socket: the header is parsed where the kernel holds it (MSG_PEEK) and
 * only its own bytes are taken off, so whatever follows (a request, a TLS
 * hello the library has not seen yet) is read as if the header had never
 * been. Returns 1 when read, 0 to wait, -1 to close, -2 when rfd is not
 * a socket. */
static int
proxy_peek(struct conn *c)
{
	unsigned char *buf = (unsigned char *)c->in;
	struct proxy_result pr;
	ssize_t n;
	int r;

	n = recv(c->io.rfd, buf, PROXY_MAX, MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0) {
		if (n == -1 && errno == ENOTSOCK)
			return -2;
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			c->readable = errno == EINTR;
			return 0;
		}
		return -1;
	}
	r = proxy_parse(buf, (size_t)n, &pr);
	if (r == PROXY_INVALID)
		return -1;
	if (r == PROXY_NEED) {
		if (c->hup)
			return -1;	/* what is there is all that will come */
		c->readable = 0;
		return 0;
	}
	if (recv(c->io.rfd, buf, (size_t)r, MSG_DONTWAIT) != r)
		return -1;
	proxy_done(c, &pr);
	c->readable = n > r || c->hup || n == PROXY_MAX;
	return 1;
}

/* A pipe or a file (--stdio): read no more than the parser says is still
 * header, so the first request stays in the pipe. */
static int
proxy_read(struct conn *c)
{
	unsigned char *buf = (unsigned char *)c->in;
	struct proxy_result pr;
	ssize_t n;
	int r;

	while ((r = proxy_parse(buf, c->in_len, &pr)) == PROXY_NEED) {
		n = read(c->io.rfd, buf + c->in_len, pr.need - c->in_len);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			c->readable = 0;
			return 0;
		}
		c->in_len += (unsigned)n;
	}
	if (r == PROXY_INVALID)
		return -1;
	proxy_done(c, &pr);
	return 1;
}

/* The PROXY header, before anything else (the TLS handshake included),
 * under the head deadline. An invalid header, or the end of input before
 * a whole one, closes the connection without a word: the sender is a load
 * balancer, or someone pretending. Returns 1 when done, 0 to wait, -1 to
 * close. */
static int
read_proxy(struct conn_ctx *ctx, struct conn *c)
{
	int r = 0;

	if (c->in == NULL && (c->in = pool_get(&ctx->inpool)) == NULL)
		return -1;
	while (c->readable && c->proxy != PROXY_NONE) {
		if (c->proxy == PROXY_PEEK && (r = proxy_peek(c)) == -2) {
			c->proxy = PROXY_READ;
			continue;
		}
		if (c->proxy == PROXY_READ)
			r = proxy_read(c);
		if (r != 0)
			return r;
	}
	if (c->proxy == PROXY_NONE)
		return 1;
	return wait_with_epoll(ctx, c, 0) == -1 ? -1 : 0;
}

char *
conn_out_buffer(struct conn_ctx *ctx, struct conn *c)
{
	if (c->out == NULL)
		c->out = pool_get(out_pool(ctx, c));
	return c->out;
}

void *
conn_scratch_get(struct conn_ctx *ctx)
{
	return pool_get(&ctx->outpool);
}

void
conn_scratch_put(struct conn_ctx *ctx, void *p)
{
	pool_put(&ctx->outpool, p);
}

void *
conn_in_get(struct conn_ctx *ctx)
{
	return pool_get(&ctx->inpool);
}

void
conn_in_put(struct conn_ctx *ctx, void *p)
{
	pool_put(&ctx->inpool, p);
}

void
conn_respond_env(struct conn_ctx *ctx, struct conn *c, struct respond_env *env)
{
	env->cfg = ctx->cfg;
	env->fc = ctx->files;
	env->now_ms = ctx->now_ms;
	env->now = ctx->now;
	env->date = ctx->date;
	env->tls = c->t != &transport_plain;	/* the only other transport is TLS */
	env->http2 = c->h2 != NULL;
	env->keep_alive_ok = !ctx->stopping && c->requests + 1 < ctx->cfg->max_requests;
}

void
conn_log(struct conn_ctx *ctx, struct conn *c, const struct request *req,
    const char *line, size_t len, const struct response *res)
{
	struct access_entry e;

	if (!ctx->cfg->access_log)
		return;
	e.peer = c->peer;
	e.vhost.p = NULL;
	e.vhost.len = 0;
	if (ctx->cfg->vhosts) {
		e.vhost.p = res->vhost[0] ? res->vhost : "-";
		e.vhost.len = strlen(e.vhost.p);
	}
	e.request_line.p = line;
	e.request_line.len = len;
	e.status = res->status;
	e.body_bytes = res->log_bytes;
	if (req != NULL) {
		e.referer = req->referer;
		e.user_agent = req->user_agent;
	} else {
		e.referer.p = e.user_agent.p = NULL;
		e.referer.len = e.user_agent.len = 0;
	}
	e.when = ctx->now;
	log_access(&ctx->log, &e);
}

/* Returns 1 when bytes arrived, 0 when there are none for now (or EOF,
 * recorded in c->eof), -1 on a read error. */
static int
read_input(struct conn_ctx *ctx, struct conn *c)
{
	size_t cap = ctx->cfg->max_header_bytes, space;
	ssize_t n;
	int drained;

	if (c->in == NULL && (c->in = pool_get(&ctx->inpool)) == NULL)
		return -1;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	space = cap - c->in_len;
	if (space == 0)
		return 0;
	n = c->t->recv(&c->io, c->in + c->in_len, space, &drained);
	if (n > 0) {
		if (c->in_len == 0 && c->timer == TIMER_IDLE && c->h2 == NULL)	/* a new head */
			timer_set(ctx, c, TIMER_HEAD, ctx->cfg->header_timeout);
		c->in_len += (unsigned)n;
		/* Drained, unless the peer has also closed: edge-triggered
		 * epoll will not report that again. */
		if (drained && c->poll_r && !c->hup)
			c->readable = 0;
		return 1;
	}
	if (n == 0) {
		c->eof = 1;
		c->readable = 0;
		return 0;
	}
	if (errno == EINTR)
		return 0;
	if (errno == EAGAIN) {
		c->readable = 0;
		return 0;
	}
	return -1;
}

/* A socket is registered with epoll the first time it has to wait, and
 * asks for EPOLLOUT only once a send has filled its buffer: asked for
 * always, it would wake the worker once per new connection for nothing.
 * ADD and MOD both re-check readiness, so input or buffer space that came
 * since the last EAGAIN still gives its event. Returns 0 or -1. */
static int
wait_with_epoll(struct conn_ctx *ctx, struct conn *c, int out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (out ? EPOLLOUT : 0), .data.ptr = c
	};

	if (c->watched && (c->out_watched || !out))
		return 0;
	if (epoll_ctl(ctx->epfd, c->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->io.wfd, &ev) == -1)
		return -1;
	c->watched = 1;
	c->out_watched = (unsigned char)out;
	return 0;
}

/* After a failed write: 0 when the client is not reading for now (wait
 * for EPOLLOUT), 1 to try again at once (EINTR), -1 when the connection
 * is broken. */
static int
write_failed(struct conn_ctx *ctx, struct conn *c)
{
	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN)
		return -1;
	if (wait_with_epoll(ctx, c, 1) == -1)
		return -1;
	if (c->poll_w)
		c->writable = 0;
	return 0;
}

/* A nearby client's send buffer is fixed (see LOCAL_SNDBUF_BYTES), judged
 * by the least round trip seen so far. The handshake's alone can be slow
 * on a busy host, so the connection's first SNDBUF_CHECKS flushes of a
 * file body ask again; that is one getsockopt per wakeup, against
 * sendfile calls of hundreds of KiB. When TCP_INFO cannot be read, the
 * kernel's sizing stays; so it does through a loopback listener, whose
 * connections run Reno (see listen.c): without pacing, a fixed buffer only
 * costs more wakeups. */
#define SNDBUF_CHECKS 16

void
conn_keep_kernel_sizing(struct conn *c)
{
	c->kernel_sizing = 1;
	c->sndbuf_checks = SNDBUF_CHECKS;
}

/* HTTP/2's streams share the socket, so what sits queued there unsent
 * delays every other stream's frames: an HTTP/2 connection keeps the
 * unsent limit (SEND_LOWAT_BYTES) even where HTTP/1.x goes without it.
 * Over loopback it was also about 10% more requests/s for 256 KiB files. */
static void
limit_unsent(struct conn *c)
{
	int lowat = SEND_LOWAT_BYTES;

	if (c->kernel_sizing && c->io.w_socket)
		(void)setsockopt(c->io.wfd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
}

static void
size_send_buffer(struct conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int size = LOCAL_SNDBUF_BYTES;

	c->sndbuf_checks++;
	if (!c->io.w_socket || getsockopt(c->io.wfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
		c->sndbuf_checks = SNDBUF_CHECKS;
		return;
	}
	if (len >= offsetof(struct tcp_info, tcpi_min_rtt) + sizeof(ti.tcpi_min_rtt) &&
	    ti.tcpi_min_rtt != 0 && ti.tcpi_min_rtt <= LOCAL_RTT_US &&
	    setsockopt(c->io.wfd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) == 0)
		c->sndbuf_checks = SNDBUF_CHECKS;
}

/* Sends what is pending. Returns 1 when all is sent, 0 when the client is
 * not reading for now, -1 on error or a file that shrank. */
static int
flush(struct conn_ctx *ctx, struct conn *c)
{
	int progress = 0, r = 1;

	while (c->out_sent < c->out_len) {
		ssize_t n;
		if (!c->writable) {
			r = 0;
			goto out;
		}
		/* More is coming when a file body follows; when the connection
		 * closes after this response, holding the tail back lets close()
		 * send it together with the FIN: one segment fewer for both ends. */
		n = c->t->send(&c->io, c->out + c->out_sent, c->out_len - c->out_sent,
		    c->file_fd >= 0 || c->close_after);
		if (n < 0) {
			if ((r = write_failed(ctx, c)) < 0)
				return -1;
			if (r == 0)
				goto out;
			continue;
		}
		c->out_sent += (unsigned)n;
		progress = 1;
	}
	c->out_sent = c->out_len = 0;
	if (c->file_fd >= 0 && c->sndbuf_checks < SNDBUF_CHECKS)
		size_send_buffer(c);
	while (c->file_fd >= 0) {
		uint64_t left = c->file_end - c->file_off;
		off_t off = (off_t)c->file_off;
		ssize_t n;
		if (!c->writable) {
			r = 0;
			goto out;
		}
		n = c->t->send_file(&c->io, c->file_fd, &off, left);
		if (n == 0)
			return -1;	/* the file shrank: close rather than send wrong bytes */
		if (n < 0) {
			if ((r = write_failed(ctx, c)) < 0)
				return -1;
			if (r == 0)
				goto out;
			continue;
		}
		c->file_off += (uint64_t)n;
		progress = 1;
		if (c->file_off == c->file_end) {
			if (!c->file_borrowed)
				close(c->file_fd);
			c->file_fd = -1;
			c->file_borrowed = 0;
		}
	}
out:
	if (r == 0 && (progress || c->timer != TIMER_SEND))
		timer_set(ctx, c, TIMER_SEND, ctx->cfg->send_timeout);
	return r;
}

/* Gives the connection's buffers back to the worker's pools. */
static void
release_buffers(struct conn_ctx *ctx, struct conn *c)
{
	pool_put(&ctx->inpool, c->in);
	pool_put(out_pool(ctx, c), c->out);
	c->in = c->out = NULL;
	c->in_off = c->in_len = 0;
}

/* Nothing to send and no complete head: wait for the client, holding no
 * buffer when there is no partial head. Returns 0, or -1 when epoll
 * refuses the connection. */
static int
wait_for_input(struct conn_ctx *ctx, struct conn *c)
{
	/* A TLS read may be waiting for room to write handshake bytes. */
	if (wait_with_epoll(ctx, c, c->out_watched | (c->io.want == TRANSPORT_WANT_WRITE)) == -1)
		return -1;
	if (c->h2 != NULL) {
		http2_wait(ctx, c);
		if (c->out_len == 0)	/* all sent, and the session read all input */
			release_buffers(ctx, c);
		return 0;
	}
	if (c->in_len > c->in_off) {
		if (c->timer != TIMER_HEAD || c->head_request != c->requests)
			timer_set(ctx, c, TIMER_HEAD, ctx->cfg->header_timeout);
		return 0;
	}
	if (c->timer != TIMER_IDLE && !(c->timer == TIMER_HEAD && c->requests == 0))
		timer_set(ctx, c, TIMER_IDLE, ctx->cfg->idle_timeout);
	release_buffers(ctx, c);
	return 0;
}

/* Lingering: reads and drops input until EOF. Returns 0 to wait for more,
 * -1 to close now (EOF, an error, or more input than we care to drop). */
static int
discard_input(struct conn_ctx *ctx, struct conn *c)
{
	char sink[4096];

	while (c->readable) {
		int drained;
		ssize_t n = c->t->recv(&c->io, sink, sizeof(sink), &drained);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			c->readable = 0;
			break;
		}
		c->discarded += (unsigned)n;
		if (c->discarded > LINGER_MAX_BYTES)
			return -1;
	}
	return wait_with_epoll(ctx, c, 0);
}

/* The response is out and the connection must close, but the client may
 * still be sending: closing now would answer its bytes with a reset, and
 * a reset can destroy the response before the client has read it. So
 * half-close (the FIN follows the response) and drop what still comes,
 * until the client closes or LINGER_SECONDS pass. Returns 0 while
 * lingering, -1 to close at once. */
static int
start_linger(struct conn_ctx *ctx, struct conn *c)
{
	if (!c->linger || c->io.rfd != c->io.wfd || ctx->stopping || c->eof)
		return -1;
	if (c->t->shutdown_write(&c->io) == -1)
		return -1;
	c->lingering = 1;
	c->readable = 1;
	release_buffers(ctx, c);
	timer_set(ctx, c, TIMER_LINGER, LINGER_SECONDS);
	return discard_input(ctx, c);
}

/* Does the connection speak HTTP/2? TLS says so by ALPN; a plain one,
 * with --h2c, by starting with the client preface. Returns 1 (then
 * started), 0 for HTTP/1.x, -1 to wait for more bytes, -2 out of memory. */
static int
choose_http2(struct conn_ctx *ctx, struct conn *c)
{
	size_t n = c->in_len - c->in_off;

	if (c->t->alpn_h2 != NULL) {
		if (!c->t->alpn_h2(&c->io))
			return 0;
	} else if (!ctx->cfg->h2c)
		return 0;
	else if (memcmp(c->in + c->in_off, HTTP2_PREFACE,
	    n < HTTP2_PREFACE_LEN ? n : HTTP2_PREFACE_LEN) != 0)
		return 0;
	else if (n < HTTP2_PREFACE_LEN)
		return c->eof ? 0 : -1;
	if (c->out != NULL) {	/* HTTP/1.x's size, not HTTP/2's */
		if (c->out_len > c->out_sent)
			return 0;	/* cannot be: nothing was answered yet */
		pool_put(&ctx->outpool, c->out);
		c->out = NULL;
		c->out_len = c->out_sent = 0;
	}
	if (http2_start(ctx, c) != 0)
		return -2;
	limit_unsent(c);
	return 1;
}

static void
run(struct conn_ctx *ctx, struct conn *c)
{
	if (c->lingering) {
		if (discard_input(ctx, c) < 0)
			conn_close(ctx, c);
		return;
	}
	if (c->proxy != PROXY_NONE) {
		int r = read_proxy(ctx, c);
		if (r <= 0) {
			if (r < 0)
				conn_close(ctx, c);
			return;
		}
	}
	for (;;) {
		int r = flush(ctx, c);
		if (r < 0)
			break;
		if (r == 0)
			return;
		if (c->close_after) {
			/* More input waiting unread is as good a reason to linger. */
			if (c->readable && c->poll_r)
				c->linger = 1;
			if (start_linger(ctx, c) == 0)
				return;
			break;
		}
		if (c->h2 == NULL && c->requests == 0 && c->in_len > c->in_off &&
		    (r = choose_http2(ctx, c)) != 0) {
			if (r == -2)
				break;
			if (r == -1)
				goto more;
		}
		r = c->h2 != NULL ? http2_process(ctx, c) : http1_process(ctx, c);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if (c->h2 != NULL && http2_finished(c) && !c->eof) {
			/* GOAWAY is out: half-close and drop what still comes,
			 * so that a reset cannot destroy it (see start_linger). */
			c->close_after = 1;
			c->linger = 1;
			continue;
		}
		if (c->eof || (c->h2 != NULL && http2_finished(c)))
			break;
more:
		if (!c->readable) {
			if (wait_for_input(ctx, c) == -1)
				break;
			return;
		}
		if (read_input(ctx, c) < 0)
			break;
	}
	conn_close(ctx, c);
}

void
conn_event(struct conn_ctx *ctx, struct conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->hup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = 1;
	if (c->io.want) {
		/* The transport waited for the other direction (see
		 * transport.h): whichever event came, both may progress now. A
		 * wrong guess costs one EAGAIN. Plain never gets here. */
		c->io.want = 0;
		if (events)
			c->readable = c->writable = 1;
	}
	run(ctx, c);
}

int
conn_expire(struct conn_ctx *ctx)
{
	int64_t next = -1;

	/* The file cache's expired descriptors would otherwise stay open until
	 * their slot is looked at again, pinning deleted files' disk space. */
	if (ctx->now_ms >= ctx->files_swept_ms + FILECACHE_TTL_MS) {
		filecache_expire(ctx->files, ctx->now_ms);
		ctx->files_swept_ms = ctx->now_ms;
	}

	for (int t = 0; t < TIMER_COUNT; t++) {
		struct conn *c;
		while ((c = ctx->timers[t].head) != NULL && c->deadline <= ctx->now_ms)
			conn_close(ctx, c);
		if (c != NULL && (next == -1 || c->deadline - ctx->now_ms < next))
			next = c->deadline - ctx->now_ms;
	}
	return (int)next;
}

/* Has the client sent bytes we have not read yet? */
static int
input_waiting(struct conn *c)
{
	return c->in_len > c->in_off || c->t->input_waiting(&c->io);
}

void
conn_stop_all(struct conn_ctx *ctx)
{
	ctx->stopping = 1;
	for (int t = 0; t < TIMER_COUNT; t++) {
		struct conn *c = ctx->timers[t].head, *next;
		for (; c != NULL; c = next) {
			next = c->next;
			if (c->h2 != NULL) {
				/* GOAWAY: open streams finish within the grace. */
				http2_stop(ctx, c);
				c->readable = 1;
				run(ctx, c);
			} else if (c->lingering)
				conn_close(ctx, c);	/* its response is out */
			else if (c->out_len > c->out_sent || c->file_fd >= 0)
				c->close_after = 1;	/* finish this response, then close */
			else if (c->requests == 0 || input_waiting(c)) {
				/* A request is (or may soon be) on its way: answer
				 * it, with Connection: close, within the grace. */
				c->readable = 1;
				run(ctx, c);
			} else
				conn_close(ctx, c);	/* idle between requests */
		}
	}
}

void
conn_close_all(struct conn_ctx *ctx)
{
	for (int t = 0; t < TIMER_COUNT; t++)
		while (ctx->timers[t].head != NULL)
			conn_close(ctx, ctx->timers[t].head);
}
