/*
 * fuzz_conn: the connection state machine (conn.h) driven by fake peers
 * from a single thread: the fuzzer's bytes are a script of what one to
 * three clients do, on socketpairs, on TCP over loopback, or (as with
 * --stdio) on two pipes, against a small content tree made once in a
 * temporary directory.
 *
 * The script: byte 0 picks the configuration (bit 0 --vhosts, bit 1 stdio
 * pipes, bit 2 access log, bit 3 small buffers for short writes: 4 KiB
 * pipes, or TCP over loopback with the smallest windows instead of a
 * socketpair; bits 4-5 --max-header-bytes, bits 6-7 --max-requests), byte 1
 * the field limit (bits 0-3), Server without version (bit 4) and how many
 * clients (bits 5-7); then each op byte says in bits 3-4 which client acts
 * and in bits 0-2 what it does:
 *   0-2  write the next 1-256 bytes (the peer's write may be short)
 *   3    write the next 32-8192 bytes (pipelines, oversized heads)
 *   4    read 256-65536 bytes of the response (or fewer: slow reader)
 *   5    half-close: the peer sends FIN (closes its write end)
 *   6    let 0-59.75 seconds pass and expire deadlines, or (argument
 *        240-255) begin a shutdown as SIGTERM does (conn_stop_all)
 *   7    reset: the peer closes everything, mid-whatever (TCP: an RST)
 * and conn_event() is called after each, as the event loop would (the
 * server's descriptors are non-blocking, so EAGAIN is exercised whenever
 * the peer is ahead or behind).
 *
 * Invariants:
 * - no crash, no sanitizer report, no leak (LeakSanitizer at exit);
 * - after every step the connection counters equal the connections the
 *   server really holds (descriptors still open);
 * - after the script, once every deadline has passed, every connection is
 *   closed: nothing can hold a slot forever (so every open connection must
 *   sit in a deadline list, whatever happened to the others);
 * - afterwards no descriptor is left open beyond what the worker's file
 *   cache may hold;
 * - no response ever holds the secret kept next to the root (or in the
 *   dot-file and the unreadable file under it), whatever symlink, name or
 *   encoding the client tries;
 * - what the server wrote to each client is a sequence of complete
 *   HTTP/1.1 responses, each head with a Content-Length its body matches
 *   (checked when no HEAD request could have been sent), of which only the
 *   last may be cut short (a send deadline or a reset).
 *
 * fuzz_conn_walk, fuzz_tls and fuzz_h2 build this file again with a define
 * (see them): without openat2, with TLS clients on the real TLS transport,
 * and with --h2c clients that start with the HTTP/2 preface.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conn.h"
#include "transport.h"
#include "fuzz.h"
#include "resolve.h"

#ifdef FUZZ_CONN_WALK
/* fuzz_conn_walk: openat2 answers ENOSYS, as under seccomp filters that
 * do not know it, so resolve opens content by walking the path. */
#include <dlfcn.h>
#include <stdarg.h>
#include <sys/syscall.h>
#define WALKING 1

long syscall(long n, ...);

long
syscall(long n, ...)
{
	static long (*real)(long, ...);
	va_list ap;
	long a[6];

	if (n == SYS_openat2) {
		errno = ENOSYS;
		return -1;
	}
	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (real == NULL && (real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall")) == NULL)
		abort();
	return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}
#else
#define WALKING 0
#endif

#ifdef FUZZ_CONN_TLS
/* fuzz_tls: the server side is transport_tls and each peer is a TLS
 * client; these are defined in fuzz_tls.c, which includes this file. */
#define TRANSPORT (&transport_tls)
static void tls_setup(void);
static size_t tls_script(const uint8_t *data, size_t size);
#else
#define TRANSPORT (&transport_plain)
#endif

#ifdef FUZZ_CONN_H2
/* fuzz_h2: --h2c on; each peer's bytes start with the client preface and
 * what the server wrote is checked as HTTP/2 frames (fuzz_h2.c). */
#include "http2.h"
#define H2_IN_MAX 65536		/* what a peer wrote, kept to read its SETTINGS */
#endif

#define OUTPUT_CHECK_MAX (4u << 20)
#define FILES_IN_TREE 26
#define MAX_PEERS 3
#define STOP_ARG 240	/* op 6 arguments from here on stop the worker */

static char basedir[] = "/tmp/hermit-fuzz-XXXXXX";	/* holds root/ and the secret */
static char rootdir[sizeof(basedir) + 5];
static int rootfd = -1, epfd = -1, tcp_listener = -1;
static struct sockaddr_in tcp_addr;

/* What no response may ever contain: it is in a file next to the root and
 * in files under it that the policy refuses (a dot-file, an unreadable one).
 * Its space and control bytes can be in no request-target, so no redirect
 * can echo it from the request (the fuzzer learns the string and tries). */
#define SECRET "\001FUZZ SECRET\002"

/* Writes dir/rel with size bytes of a pattern, or the secret. */
static void
put_file_in(const char *dir, const char *rel, size_t size, mode_t mode, int secret)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1)
		abort();
	if (secret && write(fd, SECRET, sizeof(SECRET) - 1) != sizeof(SECRET) - 1)
		abort();
	for (size_t i = 0; i < size; i++) {
		char c = (char)('a' + i % 26);
		if (write(fd, &c, 1) != 1)
			abort();
	}
	fchmod(fd, mode);
	close(fd);
}

static void
put_file(const char *rel, size_t size, mode_t mode)
{
	put_file_in(rootdir, rel, size, mode, 0);
}

static void
put_dir(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", rootdir, rel);
	if (mkdir(path, 0755) == -1)
		abort();
}

static void
put_link(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", rootdir, rel);
	if (symlink(target, path) == -1)
		abort();
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
remove_root(void)
{
	nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The content tree: small and large files (the large one goes out with
 * sendfile), precompressed variants, a directory with an index, one
 * without (listed: --listing is on but for HTTP/2), the site's 404.html,
 * sites for --vhosts, and what must never be served: the secret next to the root,
 * symlinks to it, to the root's parent and to /etc/passwd, a dot-file and
 * an unreadable file holding it too. */
static void
setup(void)
{
	char path[256];

	signal(SIGPIPE, SIG_IGN);	/* as hermit does: a gone reader is EPIPE */
	if (mkdtemp(basedir) == NULL)
		abort();
	atexit(remove_root);
	snprintf(rootdir, sizeof(rootdir), "%s/root", basedir);
	if (mkdir(rootdir, 0755) == -1)
		abort();
	put_file_in(basedir, "secret.txt", 10, 0644, 1);
	put_file_in(rootdir, ".hidden", 10, 0644, 1);
	put_file_in(rootdir, "private.txt", 10, 0600, 1);
	put_file("index.html", 100, 0644);
	put_file("big.bin", 40000, 0644);
	put_file("a.txt", 3000, 0644);
	put_file("a.txt.gz", 300, 0644);
	put_file("a.txt.br", 200, 0644);
	put_file("empty", 0, 0644);
	put_dir("dir");
	put_file("dir/index.html", 50, 0644);
	put_file("dir/x.css", 20000, 0644);
	/* The site's 404 page (the vhosts' sites have none: the built-in
	 * page), and a directory without index.html that --listing lists:
	 * a name to escape, a dot-file and an unreadable file it must not. */
	put_file("404.html", 700, 0644);
	put_dir("files");
	put_file("files/plain.txt", 10, 0644);
	put_file("files/a \"b\" <i>&amp;.txt", 20, 0644);
	put_file_in(rootdir, "files/.dot", 10, 0644, 1);
	put_file_in(rootdir, "files/closed", 10, 0600, 1);
	put_dir(".well-known");
	put_file(".well-known/t.txt", 5, 0644);
	put_dir("localhost");
	put_file("localhost/index.html", 30, 0644);
	put_dir("_default");
	put_file("_default/index.html", 40, 0644);
	put_link("/etc/passwd", "out");
	put_link("../secret.txt", "secret");
	put_link("..", "up");
	snprintf(path, sizeof(path), "%s/secret.txt", basedir);
	put_link(path, "abs");
	put_link("../secret.txt", "dir/deep");
	if ((rootfd = open(rootdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		abort();
	/* as main does: 1 when openat2 is missing and resolve walks instead */
	if (resolve_available(rootfd) != WALKING)
		abort();
#ifdef FUZZ_CONN_TLS
	tls_setup();
#endif
#ifdef FUZZ_CONN_H2
	if (http2_init() != 0)
		abort();
#endif
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		abort();
	tcp_addr.sin_family = AF_INET;
	tcp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((tcp_listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(tcp_listener, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)) == -1 ||
	    listen(tcp_listener, 16) == -1 ||
	    getsockname(tcp_listener, (struct sockaddr *)&tcp_addr, &(socklen_t){ sizeof(tcp_addr) }) == -1)
		abort();
}

static void
nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* The fake peer: where it writes requests and reads responses. */
struct peer {
	int wfd, rfd;		/* -1 once closed */
	int tcp;		/* a reset is an RST */
	struct conn *c;		/* the server's side */
	int sfd;		/* the server's reading descriptor ... */
	dev_t sdev;		/* ... and what it is, to tell when it closed */
	ino_t sino;
	int open;
	char *out;		/* what the server wrote */
	size_t outlen;
	int out_overflow;
#ifdef FUZZ_CONN_TLS
	struct tls_peer *tls;	/* the client's TLS state */
#endif
#ifdef FUZZ_CONN_H2
	char *in;		/* what the peer wrote (the server read) */
	size_t inlen;
	int in_overflow;
#endif
};

#ifdef FUZZ_CONN_H2
static void h2_peer_wrote(struct peer *p, const uint8_t *data, size_t n);
static void h2_check_output(const struct peer *p);
static void h2_memory_start(void);
static void h2_check_memory(unsigned npeers);
#endif

#ifdef FUZZ_CONN_TLS
static ssize_t tls_peer_recv(struct peer *p, void *buf, size_t len);
static void tls_peer_send(struct peer *p, const uint8_t *data, size_t n, int big);
static void tls_peer_half_close(struct peer *p);
static void tls_peer_reset(struct peer *p);
static void tls_peers_start(struct conn_ctx *ctx, struct peer *peers, unsigned n);
static int tls_peer_done(struct peer *p);
#endif

/* Reads at most want bytes of what is there; returns how many. */
static size_t
peer_read(struct peer *p, size_t want)
{
	char buf[65536];
	size_t got = 0;

	while (want > 0 && p->rfd >= 0) {
#ifdef FUZZ_CONN_TLS
		ssize_t n = tls_peer_recv(p, buf, want < sizeof(buf) ? want : sizeof(buf));
#else
		ssize_t n = read(p->rfd, buf, want < sizeof(buf) ? want : sizeof(buf));
#endif
		if (n <= 0)
			break;
		got += (size_t)n;
		if (p->outlen + (size_t)n > OUTPUT_CHECK_MAX)
			p->out_overflow = 1;
		else {
			memcpy(p->out + p->outlen, buf, (size_t)n);
			p->outlen += (size_t)n;
		}
		want -= (size_t)n;
	}
	return got;
}

static void
peer_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Whether the server wrote complete responses (only the last may be cut). */
static void
check_output(const char *o, size_t len)
{
	while (len > 0) {
		const char *end = memmem(o, len, "\r\n\r\n", 4), *cl;
		size_t head, body = 0;

		FUZZ_ASSERT(memcmp(o, "HTTP/1.1 ", len < 9 ? len : 9) == 0);
		if (end == NULL)
			return;	/* the last one, cut in its head */
		head = (size_t)(end - o) + 4;
		cl = memmem(o, head, "\r\nContent-Length: ", 18);
		if (cl != NULL)
			body = strtoull(cl + 18, NULL, 10);
		else	/* the only bodiless statuses hermit sends */
			FUZZ_ASSERT(memcmp(o + 9, "304 ", 4) == 0 || memcmp(o + 9, "204 ", 4) == 0);
		if (head + body > len)
			return;	/* the last one, cut in its body */
		o += head + body;
		len -= head + body;
	}
}

/* --stdio: requests on one pipe, responses on another (small ones: short writes). */
static struct conn *
open_pipes(struct conn_ctx *ctx, struct peer *p, int small)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC | O_NONBLOCK) == -1 || pipe2(out, O_CLOEXEC | O_NONBLOCK) == -1)
		abort();
	if (small) {
		fcntl(in[1], F_SETPIPE_SZ, 4096);
		fcntl(out[1], F_SETPIPE_SZ, 4096);
	}
	p->wfd = in[1];
	p->rfd = out[0];
	p->sfd = in[0];
	return conn_open(ctx, TRANSPORT, in[0], out[1], "stdio");
}

static struct conn *
open_unix(struct conn_ctx *ctx, struct peer *p)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) == -1)
		abort();
	p->wfd = p->rfd = sv[1];
	p->sfd = sv[0];
	return conn_open(ctx, TRANSPORT, sv[0], sv[0], "192.0.2.1");
}

/* TCP over loopback with the smallest buffers: writes are short and
 * EAGAIN comes soon; a reset is a real RST. Each connection comes from
 * another 127.1.x.y, so TIME_WAIT never exhausts the ports. When the
 * machine will not give a connection (it is busy with other tests), the
 * input runs on a socketpair instead: the harness never fails for that. */
static struct conn *
open_tcp(struct conn_ctx *ctx, struct peer *p)
{
	static uint32_t next;
	struct sockaddr_in src = { .sin_family = AF_INET };
	int fd, sfd, tiny = 1;

	for (int tries = 0; tries < 8; tries++) {
		src.sin_addr.s_addr = htonl(0x7f010000u | (next++ & 0xffffu));
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
			break;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1 ||
		    connect(fd, (struct sockaddr *)&tcp_addr, sizeof(tcp_addr)) == -1 ||
		    (sfd = accept4(tcp_listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) == -1) {
			close(fd);
			continue;
		}
		setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof(tiny));
		nonblock(fd);
		p->wfd = p->rfd = fd;
		p->tcp = 1;
		p->sfd = sfd;
		return conn_open(ctx, TRANSPORT, sfd, sfd, "127.0.0.1");
	}
	return open_unix(ctx, p);
}

static int
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (d == NULL)
		abort();
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* One context per --max-header-bytes choice (its input buffers have that
 * size), kept for the whole run as a worker keeps its own: pooled buffers
 * and the file cache carry over from one input to the next, as they do
 * from one connection to the next. */
static struct config cfgs[4];
static struct conn_ctx ctxs[4];
static atomic_uint open_conns;
/* What each peer received: kept from one input to the next (a fresh 4 MiB
 * block per peer and input cost the sanitizers more than the input). */
static char outbufs[MAX_PEERS][OUTPUT_CHECK_MAX];
#ifdef FUZZ_CONN_H2
static char inbufs[MAX_PEERS][H2_IN_MAX];
#endif
static int fd_baseline = -1;

/* Whether the server still holds the connection: its descriptor is open
 * and is still the same object (a number may be reused for a file). */
static int
server_holds(const struct peer *p)
{
	struct stat st;

	return fstat(p->sfd, &st) == 0 && st.st_dev == p->sdev && st.st_ino == p->sino;
}

/* After every step: the connection counters match the connections the
 * server really holds. */
static void
check_open(struct conn_ctx *ctx, struct peer *peers, unsigned n)
{
	unsigned held = 0;

	for (unsigned j = 0; j < n; j++) {
		peers[j].open = server_holds(&peers[j]);
		held += (unsigned)peers[j].open;
	}
	FUZZ_ASSERT(ctx->nconns == held && open_conns == held);
}

/* One op of the script on peer p (see the top of the file); returns the
 * events for conn_event(), or 0 when there is nothing to deliver. */
static uint32_t
peer_op(struct peer *p, unsigned op, unsigned arg, const uint8_t *data, size_t size, size_t *i)
{
	size_t n;

	switch (op) {
	case 0: case 1: case 2: case 3:
		n = op == 3 ? ((size_t)arg + 1) * 32 : (size_t)arg + 1;
		if (n > size - *i)
			n = size - *i;
		if (p->wfd >= 0 && n > 0) {
#ifdef FUZZ_CONN_TLS
			tls_peer_send(p, data + *i, n, op == 3);
#else
			ssize_t w = write(p->wfd, data + *i, n);
			(void)w;	/* short or EAGAIN: the peer is ahead */
#endif
#ifdef FUZZ_CONN_H2
			if (w > 0)
				h2_peer_wrote(p, data + *i, (size_t)w);
#endif
		}
		*i += n;
		return EPOLLIN;
	case 4:
		peer_read(p, ((size_t)arg + 1) * 256);
		return EPOLLOUT;
	case 5:
#ifdef FUZZ_CONN_TLS
		tls_peer_half_close(p);	/* close_notify first */
#endif
		if (p->wfd == p->rfd)
			shutdown(p->wfd, SHUT_WR);
		else
			peer_close(&p->wfd);
		return EPOLLIN | EPOLLRDHUP;
	case 7:
#ifdef FUZZ_CONN_TLS
		tls_peer_reset(p);
#endif
		if (p->tcp && p->rfd >= 0)
			setsockopt(p->rfd, SOL_SOCKET, SO_LINGER,
			    &(struct linger){ 1, 0 }, sizeof(struct linger));
		if (p->wfd != p->rfd)
			peer_close(&p->wfd);
		peer_close(&p->rfd);
		p->wfd = -1;
		return EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR | EPOLLRDHUP;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned header_bytes[4] = { 1024, 2048, 8192, 65536 };
	static const unsigned requests[4] = { 1000, 1, 2, 5 };
	struct peer peers[MAX_PEERS];
	struct config *cfg;
	struct conn_ctx *ctx;
	size_t i = 2;
	unsigned k, npeers;
	int stdio, small, head_sent;

	if (rootfd < 0)
		setup();
#ifdef FUZZ_CONN_TLS
	{	/* the TLS script's head, then this one */
		size_t skip = tls_script(data, size);
		data += skip;
		size -= skip;
	}
#endif
	if (size < 2)
		return 0;
	k = (data[0] >> 4) & 3;
	cfg = &cfgs[k];
	ctx = &ctxs[k];
	if (cfg->max_header_bytes == 0) {
		cfg->max_header_bytes = header_bytes[k];
		if (conn_ctx_init(ctx, cfg, epfd, &open_conns) != 0)
			abort();
	}
	cfg->rootfd = rootfd;
	cfg->vhosts = data[0] & 1;
	stdio = (data[0] >> 1) & 1;
	cfg->access_log = (data[0] >> 2) & 1;
	small = (data[0] >> 3) & 1;
	cfg->max_requests = requests[data[0] >> 6];
	cfg->max_header_fields = 1 + (data[1] & 15) * 8;
	cfg->hide_version = (data[1] >> 4) & 1;
#ifndef FUZZ_CONN_H2
	cfg->listing = 1;	/* HTTP/2's checker wants every 200 to be a file */
#endif
	npeers = 1 + (data[1] >> 5) % MAX_PEERS;
#ifdef FUZZ_CONN_H2
	h2_memory_start();
#endif
	cfg->max_connections = 16;
	cfg->header_timeout = 2;
	cfg->idle_timeout = 3;
	cfg->send_timeout = 4;
	cfg->grace = 1;
#ifdef FUZZ_CONN_H2
	cfg->h2c = 1;
	cfg->h2_max_streams = (const unsigned[]){ 100, 1, 2, 8 }[data[0] >> 6];
#endif

	for (unsigned j = 0; j < npeers; j++) {
		struct peer *p = &peers[j];
		struct stat st;
		memset(p, 0, sizeof(*p));
		p->wfd = p->rfd = -1;
		if (stdio)
			p->c = open_pipes(ctx, p, small);
		else if (small)
			p->c = open_tcp(ctx, p);
		else
			p->c = open_unix(ctx, p);
		FUZZ_ASSERT(p->c != NULL && fstat(p->sfd, &st) == 0);
		p->sdev = st.st_dev;
		p->sino = st.st_ino;
		p->out = outbufs[j];
#ifdef FUZZ_CONN_H2
		p->in = inbufs[j];
		if (write(p->wfd, HTTP2_PREFACE, HTTP2_PREFACE_LEN) != HTTP2_PREFACE_LEN)
			abort();
		h2_peer_wrote(p, (const uint8_t *)HTTP2_PREFACE, HTTP2_PREFACE_LEN);
#endif
	}
	check_open(ctx, peers, npeers);
	FUZZ_ASSERT(ctx->nconns == npeers);
	if (fd_baseline < 0)
		fd_baseline = open_fds() - (int)npeers * (stdio ? 4 : 2);
#ifdef FUZZ_CONN_TLS
	tls_peers_start(ctx, peers, npeers);	/* handshakes, as the script says */
#endif
	head_sent = memmem(data, size, "HEAD", 4) != NULL;

	/* The script: the op byte's bits 3-4 choose the connection. */
	while (i < size && ctx->nconns > 0) {
		unsigned op = data[i] & 7, arg = 0;
		struct peer *p = &peers[(data[i] >> 3 & 3) % npeers];
		uint32_t ev;
		i++;
		if (op <= 4 || op == 6) {	/* these take an argument byte */
			if (i == size)
				break;
			arg = data[i++];
		}
		if (op == 6 && arg >= STOP_ARG)
			conn_stop_all(ctx);	/* SIGTERM: idle ones close, the rest finish */
		else if (op == 6) {
			ctx->now_ms += (int64_t)arg * 250;
			conn_expire(ctx);
		} else if ((ev = peer_op(p, op, arg, data, size, &i)) != 0 && p->open)
			conn_event(ctx, p->c, ev);
		check_open(ctx, peers, npeers);
#ifdef FUZZ_CONN_H2
		h2_check_memory(npeers);
#endif
	}

	/* The peers read what is left while the server has something to say. */
	for (int round = 0; round < 1000 && ctx->nconns > 0; round++) {
		size_t got = 0;
		for (unsigned j = 0; j < npeers; j++) {
			got += peer_read(&peers[j], SIZE_MAX);
			if (peers[j].open && peers[j].rfd >= 0)
				conn_event(ctx, peers[j].c, EPOLLOUT);
			check_open(ctx, peers, npeers);
		}
		if (got == 0 && round > 0)
			break;
	}
	/* Every deadline passes (or, after a stop, the grace period): no
	 * connection outlives them all. */
	if (ctx->stopping)
		conn_close_all(ctx);
	ctx->now_ms += 3600 * 1000;
	conn_expire(ctx);
	check_open(ctx, peers, npeers);
	ctx->stopping = 0;
	FUZZ_ASSERT(ctx->nconns == 0 && open_conns == 0);
	for (int t = 0; t < TIMER_COUNT; t++)
		FUZZ_ASSERT(ctx->timers[t].head == NULL && ctx->timers[t].tail == NULL);

	for (unsigned j = 0; j < npeers; j++) {
		struct peer *p = &peers[j];
		peer_read(p, SIZE_MAX);
#ifdef FUZZ_CONN_TLS
		int http = tls_peer_done(p);	/* else TLS records, checked there */
#else
		int http = 1;
#endif
		FUZZ_ASSERT(memmem(p->out, p->outlen, SECRET, sizeof(SECRET) - 1) == NULL);
#ifdef FUZZ_CONN_H2
		h2_check_output(p);	/* frames, not HTTP/1.1 responses */
		http = 0;
#endif
		if (http && !head_sent && !p->out_overflow)
			check_output(p->out, p->outlen);
		else if (http && p->outlen > 0)
			FUZZ_ASSERT(memcmp(p->out, "HTTP/1.1 ", p->outlen < 9 ? p->outlen : 9) == 0);
		if (p->wfd != p->rfd)
			peer_close(&p->wfd);
		peer_close(&p->rfd);
	}
	ctx->log.len = 0;	/* access lines are not checked here (see fuzz_log) */
	/* Descriptors: only what the file caches may hold (a few per file of
	 * the tree each) stays open; a leak of one per input soon exceeds it. */
	FUZZ_ASSERT(open_fds() <= fd_baseline + 4 * (FILES_IN_TREE + 8));
	return 0;
}
