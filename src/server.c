/*
 * server: worker threads, accept, deadlines and shutdown (see server.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "keyproc.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "transport.h"

#define EVENTS_PER_WAIT 256
#define ACCEPTS_PER_WAKEUP 64
/* The longest a worker sleeps, so a stop or a deadline is never missed long. */
#define MAX_WAIT_MS 1000

struct lsock {
	enum source source;	/* SOURCE_LISTENER */
	int fd;
	int own;		/* bound by hermit: closed as soon as every worker stops accepting */
	const struct transport *transport;
	int proxy;		/* a PROXY protocol header comes first */
	int loopback;		/* see struct listener */
};

struct worker {
	struct server *srv;
	pthread_t thread;
	struct conn_ctx ctx;
	int64_t accept_paused_until;	/* 0, or when to listen again after EMFILE */
};

/* Out of descriptors: the listeners are level-triggered and would wake us
 * for ever; stop watching them for a moment instead. */
#define ACCEPT_PAUSE_MS 100

struct server {
	const struct config *cfg;
	struct lsock ls[MAX_LISTENERS];
	unsigned nls;
	struct worker *workers;
	unsigned nworkers;
	int stdio;
	struct conn *stdio_conn;	/* until server_run() first runs it */
	int sigfd;
	int stopfd;		/* eventfd: readable once stopping */
	enum source stop_source;
	atomic_uint open_conns;
	atomic_uint stopped_accepting;	/* workers past begin_stop() */
	pthread_barrier_t gate;
};

static const char unavailable[] =
	"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
	"Retry-After: 1\r\nConnection: close\r\n\r\n";

static void
watch_listeners(struct worker *w, int on)
{
	struct server *s = w->srv;

	for (unsigned i = 0; i < s->nls; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &s->ls[i] };
		epoll_ctl(w->ctx.epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->ls[i].fd, &ev);
	}
}

static void
pause_accepting(struct worker *w)
{
	if (w->accept_paused_until != 0)
		return;
	log_warn("out of file descriptors: not accepting for %d ms", ACCEPT_PAUSE_MS);
	watch_listeners(w, 0);
	w->accept_paused_until = w->ctx.now_ms + ACCEPT_PAUSE_MS;
}

/* Beyond --max-connections: a short answer instead of a silent reset. The
 * deferred accept hands the connection over with its request, and closing
 * with it unread would send a reset after the 503, which can destroy it:
 * so what is already there (up to a small buffer) is read first. Nothing
 * more is waited for; a refused connection holds nothing. */
static void
refuse(const struct transport *t, int fd)
{
	struct transport_io io = { .rfd = fd, .wfd = fd, .w_socket = 1 };
	char sink[4096];
	int drained;
	ssize_t n;

	/* Over TLS a 503 would first cost a handshake (a signature from the
	 * key process) for a connection we cannot serve: it is just closed. */
	if (t != &transport_plain) {
		close(fd);
		return;
	}
	n = t->recv(&io, sink, sizeof(sink), &drained);
	n = t->send(&io, unavailable, sizeof(unavailable) - 1, 0);
	(void)n;
	close(fd);
}

/* Takes up to ACCEPTS_PER_WAKEUP connections, then answers them. Their
 * requests may have been sent after a file changed that this turn of the
 * loop has already stat()ed (for an earlier event): they are answered in a
 * new turn, taken after the last accept4, so that each sees every change
 * made before its request was sent. One turn for the whole batch keeps the
 * fstat shared by its requests. */
static void
accept_batch(struct worker *w, const struct lsock *l)
{
	struct conn_ctx *ctx = &w->ctx;
	const struct config *cfg = ctx->cfg;
	struct conn *taken[ACCEPTS_PER_WAKEUP];
	unsigned ntaken = 0;

	for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char peer[48];
		struct conn *c;
		int fd;

		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				pause_accepting(w);
			break;	/* EAGAIN: another worker took it */
		}
		if (atomic_load(&w->srv->open_conns) >= cfg->max_connections) {
			refuse(l->transport, fd);
			continue;
		}
		listen_format_ip(&ss, peer, sizeof(peer));
		if ((c = conn_open(ctx, l->transport, fd, fd, peer)) == NULL) {
			close(fd);
			continue;
		}
		if (l->proxy)
			conn_expect_proxy(c);
		if (l->loopback)
			conn_keep_kernel_sizing(c);
		taken[ntaken++] = c;
	}
	if (ntaken > 0)
		conn_ctx_tick(ctx);
	for (unsigned i = 0; i < ntaken; i++)
		conn_event(ctx, taken[i], EPOLLIN);
}

/* After SIGTERM, an own listening socket is closed at once, so that new
 * clients get a clean refusal (and try another replica) instead of a
 * handshake, a wait and a reset. Connections already queued on it are
 * taken first and answered, with Connection: close. Sockets passed in
 * (systemd, stdin) stay open and unaccepted: they belong to whoever passed
 * them, and the next instance takes over what waits on them. The last
 * worker to stop watching closes the own ones: no worker can then touch
 * their numbers again, which a new descriptor may reuse. */
static void
close_own_listeners(struct worker *w)
{
	struct server *s = w->srv;

	if (atomic_fetch_add(&s->stopped_accepting, 1) + 1 != s->nworkers)
		return;
	for (unsigned i = 0; i < s->nls; i++)
		if (s->ls[i].own) {
			close(s->ls[i].fd);
			s->ls[i].fd = -1;
		}
}

static void
begin_stop(struct worker *w)
{
	struct server *s = w->srv;

	w->ctx.stopping = 1;	/* what is accepted now is answered with close */
	if (w->accept_paused_until == 0) {
		for (unsigned i = 0; i < s->nls; i++)
			if (s->ls[i].own)
				accept_batch(w, &s->ls[i]);
		watch_listeners(w, 0);
	}
	w->accept_paused_until = 0;
	if (!s->stdio) {	/* level-triggered: stop watching it, or it would spin */
		epoll_ctl(w->ctx.epfd, EPOLL_CTL_DEL, s->stopfd, NULL);
		close_own_listeners(w);
	} else
		epoll_ctl(w->ctx.epfd, EPOLL_CTL_DEL, s->sigfd, NULL);
	conn_stop_all(&w->ctx);
}

/* Reads one signal from sigfd: 1 for SIGTERM or SIGINT (stop), 0 for
 * the others, which are logged and ignored (see main.c), -1 on error. */
static int
read_signal(int sigfd, int *signo)
{
	struct signalfd_siginfo si;
	ssize_t n = read(sigfd, &si, sizeof(si));

	if (n != (ssize_t)sizeof(si))
		return n == -1 && errno != EINTR && errno != EAGAIN ? -1 : 0;
	*signo = (int)si.ssi_signo;
	if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
		return 1;
	if (si.ssi_signo == SIGHUP)
		log_error("SIGHUP: nothing to reload; ignored (files are read "
		    "only at start: restart hermit to load new certificates, "
		    "see RENEWAL in hermit(8))");
	else
		log_error("SIG%s: ignored", sigabbrev_np((int)si.ssi_signo));
	return 0;
}

/* The stdio loop's view of its signal descriptor: stop, or go on. */
static int
stop_signal(int sigfd)
{
	int signo = 0;

	return read_signal(sigfd, &signo) != 0;
}

static void
loop(struct worker *w)
{
	struct epoll_event ev[EVENTS_PER_WAIT];
	struct conn_ctx *ctx = &w->ctx;
	int64_t stop_deadline = 0;

	for (;;) {
		int timeout = conn_expire(ctx), n, stop = 0;

		if (ctx->stopping && (ctx->nconns == 0 || ctx->now_ms >= stop_deadline))
			break;
		if (w->srv->stdio && ctx->nconns == 0)
			break;
		if (w->accept_paused_until != 0 && !ctx->stopping) {
			if (ctx->now_ms >= w->accept_paused_until) {
				watch_listeners(w, 1);
				w->accept_paused_until = 0;
			} else if (timeout < 0 || timeout > ACCEPT_PAUSE_MS)
				timeout = ACCEPT_PAUSE_MS;
		}
		if (timeout < 0 || timeout > MAX_WAIT_MS)
			timeout = MAX_WAIT_MS;
		log_flush(&ctx->log);
		n = epoll_wait(ctx->epfd, ev, EVENTS_PER_WAIT, timeout);
		conn_ctx_tick(ctx);
		for (int i = 0; i < n; i++) {
			enum source src = *(enum source *)ev[i].data.ptr;
			if (src == SOURCE_CONN) {
				conn_event(ctx, ev[i].data.ptr, ev[i].events);
				if (w->srv->stdio && ctx->nconns == 0)
					break;	/* its second descriptor's event is stale */
			} else if (src == SOURCE_LISTENER)
				accept_batch(w, ev[i].data.ptr);
			else if (!w->srv->stdio || stop_signal(w->srv->sigfd))
				stop = 1;
		}
		/* After the batch: closing connections inside it would free
		 * ones that later events in the same batch point at. */
		if (stop && !ctx->stopping) {
			begin_stop(w);
			stop_deadline = ctx->now_ms + (int64_t)ctx->cfg->grace * 1000;
		}
	}
	conn_close_all(ctx);
	log_flush(&ctx->log);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	/* This thread's handshakes sign through its own key-process socket. */
	if (w->srv->cfg->keyproc_fds != NULL)
		keyproc_thread_socket(w->srv->cfg->keyproc_fds[w - w->srv->workers]);
	/* Twice: "started" (the thread's own start-up, which may make system
	 * calls the seal forbids, is over) and then "released" (sealed). */
	pthread_barrier_wait(&w->srv->gate);
	pthread_barrier_wait(&w->srv->gate);
	loop(w);
	return NULL;
}

static int
add(int epfd, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int
worker_init(struct server *s, struct worker *w, char *why, size_t whysize)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	w->srv = s;
	if (epfd == -1) {
		snprintf(why, whysize, "epoll_create1: %s", strerror(errno));
		return -1;
	}
	if (conn_ctx_init(&w->ctx, s->cfg, epfd, &s->open_conns) == -1) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < s->nls; i++)
		if (add(epfd, s->ls[i].fd, EPOLLIN | EPOLLEXCLUSIVE, &s->ls[i]) == -1) {
			snprintf(why, whysize, "epoll_ctl: %s", strerror(errno));
			return -1;
		}
	if (add(epfd, s->stdio ? s->sigfd : s->stopfd, EPOLLIN, &s->stop_source) == -1) {
		snprintf(why, whysize, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static struct server *
server_new(const struct config *cfg, int sigfd, unsigned nworkers, char *why, size_t whysize)
{
	struct server *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->workers = calloc(nworkers, sizeof(*s->workers))) == NULL) {
		snprintf(why, whysize, "out of memory");
		free(s);
		return NULL;
	}
	s->cfg = cfg;
	s->sigfd = sigfd;
	s->stopfd = -1;
	s->nworkers = nworkers;
	s->stop_source = SOURCE_STOP;
	atomic_init(&s->open_conns, 0);
	atomic_init(&s->stopped_accepting, 0);
	return s;
}

struct server *
server_prepare(const struct config *cfg, const struct listener *ls, unsigned nls,
    unsigned nworkers, int sigfd, char *why, size_t whysize)
{
	struct server *s = server_new(cfg, sigfd, nworkers, why, whysize);

	if (s == NULL)
		return NULL;
	for (unsigned i = 0; i < nls; i++) {
		s->ls[i].source = SOURCE_LISTENER;
		s->ls[i].fd = ls[i].fd;
		s->ls[i].own = ls[i].own;
		s->ls[i].transport = ls[i].proto == LISTEN_HTTPS ? &transport_tls : &transport_plain;
		s->ls[i].proxy = ls[i].proxy;
		s->ls[i].loopback = ls[i].loopback;
	}
	s->nls = nls;
	if ((s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		snprintf(why, whysize, "eventfd: %s", strerror(errno));
		return NULL;
	}
	pthread_barrier_init(&s->gate, NULL, nworkers + 1);
	for (unsigned i = 0; i < nworkers; i++) {
		int err;
		if (worker_init(s, &s->workers[i], why, whysize) == -1)
			return NULL;
		if ((err = pthread_create(&s->workers[i].thread, NULL, worker_main,
		    &s->workers[i])) != 0) {
			snprintf(why, whysize, "pthread_create: %s", strerror(err));
			return NULL;
		}
	}
	pthread_barrier_wait(&s->gate);	/* every worker has started */
	return s;
}

static int
nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct server *
server_prepare_stdio(const struct config *cfg, int sigfd, const char *peer,
    int tls, int proxy, char *why, size_t whysize)
{
	struct server *s = server_new(cfg, sigfd, 1, why, whysize);

	if (s == NULL)
		return NULL;
	s->stdio = 1;
	if (worker_init(s, &s->workers[0], why, whysize) == -1)
		return NULL;
	/* Blocking descriptors would let one client hold the only thread in a
	 * read or a sendfile, past every deadline and deaf to SIGTERM. */
	if (nonblocking(0) == -1 || nonblocking(1) == -1) {
		snprintf(why, whysize, "stdin/stdout: O_NONBLOCK: %s", strerror(errno));
		return NULL;
	}
	/* The main thread is the worker: its handshakes sign through socket 0. */
	if (tls)
		keyproc_thread_socket(cfg->keyproc_fds[0]);
	if ((s->stdio_conn = conn_open(&s->workers[0].ctx, tls ? &transport_tls : &transport_plain,
	    0, 1, peer)) == NULL) {
		snprintf(why, whysize, "stdin/stdout: %s", strerror(errno));
		return NULL;
	}
	if (proxy)
		conn_expect_proxy(s->stdio_conn);
	return s;
}

void
server_start(struct server *s)
{
	if (!s->stdio)
		pthread_barrier_wait(&s->gate);
}

int
server_run(struct server *s)
{
	uint64_t one = 1;
	ssize_t n;
	int signo = SIGTERM;

	if (s->stdio) {
		/* Kick the connection once: stdin may be a file with no readiness events. */
		struct conn *c = s->stdio_conn;
		s->stdio_conn = NULL;	/* it may be closed from here on */
		conn_event(&s->workers[0].ctx, c, 0);
		loop(&s->workers[0]);
		return 0;
	}
	for (;;) {
		int r = read_signal(s->sigfd, &signo);
		if (r == 1)
			break;
		if (r == -1) {
			log_error("signalfd: %s", strerror(errno));
			break;
		}
	}
	log_error("%s: finishing responses (at most %us), then exiting",
	    signo == SIGINT ? "SIGINT" : "SIGTERM", s->cfg->grace);
	n = write(s->stopfd, &one, sizeof(one));
	(void)n;
	for (unsigned i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i].thread, NULL);
	log_error("stopped");
	return 0;
}

void
server_free(struct server *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];
		if (w->srv == NULL)
			continue;	/* never initialised */
		conn_ctx_free(&w->ctx);
		close(w->ctx.epfd);
	}
	if (!s->stdio)
		pthread_barrier_destroy(&s->gate);
	if (s->stopfd >= 0)
		close(s->stopfd);
	free(s->workers);
	free(s);
}
