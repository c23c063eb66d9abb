/*
 * listen: gathering listening sockets (see listen.h). Runs before
 * confinement; after it hermit can neither bind nor create sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define SD_LISTEN_FDS_START 3
#define BACKLOG 4096

/* A listener on a loopback address serves this host alone (a reverse
 * proxy, a cache, a test), over a path with no bottleneck for a congestion
 * controller to find. BBR, the default of many hosts, paces every segment
 * with a timer of its own even there; Reno paces nothing, and any process
 * may choose it (a controller set on the route still wins). Without pacing,
 * the kernel's own sizing of the socket is the cheapest way to send: an
 * unsent limit then only wakes the worker more often for smaller writes.
 * Over loopback, 10 MiB responses took about half the server CPU and a
 * quarter less CPU of server and client together (see README, design
 * notes). */
#define LOOPBACK_CONGESTION "reno"

int
listen_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		return ntohl(a->sin_addr.s_addr) >> 24 == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* Non-blocking, close-on-exec and TCP_NODELAY, which Linux copies to every
 * accepted connection: responses leave in whole writes, so Nagle's delay
 * would only ever hold back the last segment. Then how much a connection
 * may hold unsent (TCP_NOTSENT_LOWAT): SEND_LOWAT_BYTES, or on a loopback
 * address the kernel's default with LOOPBACK_CONGESTION (set on a
 * connection already running BBR, that would leave the pacing on; set
 * here, every connection starts with it). These concern how hermit sends,
 * so they are set on sockets passed in too. */
static int
set_flags(int fd, struct listener *l)
{
	int fl = fcntl(fd, F_GETFL), on = 1, lowat = SEND_LOWAT_BYTES;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	l->loopback = getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    listen_is_loopback(&ss);
	/* Not TCP (a Unix socket): these fail, and nothing is lost. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (l->loopback) {
		lowat = 0;	/* the kernel's default: net.ipv4.tcp_notsent_lowat */
		setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, LOOPBACK_CONGESTION,
		    sizeof(LOOPBACK_CONGESTION) - 1);
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
	return 0;
}

static int
is_listening_socket(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &l) == -1)
		return 0;
	return v != 0;
}

static int
parse_port(const char *s, unsigned short *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || v == 0 || v > 65535)
		return -1;
	*port = htons((unsigned short)v);
	return 0;
}

int
listen_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - s - 1);
		if (hl == 0 || hl >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		sin6->sin6_family = AF_INET6;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -1;
		*len = sizeof(*sin6);
		return parse_port(close + 2, &sin6->sin6_port);
	}
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	hl = (size_t)(colon - s);
	if (hl == 0) {	/* ":PORT": every address, IPv6 and IPv4 */
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		*len = sizeof(*sin6);
		return parse_port(colon + 1, &sin6->sin6_port);
	}
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	*len = sizeof(*sin);
	return parse_port(colon + 1, &sin->sin_port);
}

void
listen_format_ip(const struct sockaddr_storage *ss, char *out, size_t size)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], out, (socklen_t)size);
	else if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &sin6->sin6_addr, out, (socklen_t)size);
	else if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)size);
	else
		snprintf(out, size, "local");
}

static int
bind_one(const char *addr, struct listener *l, char *why, size_t whysize)
{
	struct sockaddr_storage ss;
	unsigned len;
	int fd, on = 1, off = 0;

	if (listen_parse_addr(addr, &ss, &len) == -1) {
		snprintf(why, whysize, "--listen: bad address '%s' (use 127.0.0.1:8080, "
		    "[::1]:8080 or :8080)", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(why, whysize, "%s: socket: %s", addr, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* Deferred accept (as h2o does, and nginx's "deferred"): a connection
	 * is handed over once its first bytes arrive, so it is answered in
	 * the worker's first look at it; one that stays silent is handed
	 * over after about a second anyway, and the head deadline runs. */
	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &on, sizeof(on));
	if (ss.ss_family == AF_INET6)	/* "[::]:80" serves IPv4 too */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 || listen(fd, BACKLOG) == -1 ||
	    set_flags(fd, l) == -1) {
		snprintf(why, whysize, "%s: %s", addr, strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->own = 1;
	snprintf(l->name, sizeof(l->name), "%s", addr);
	return 0;
}

/* The name of passed socket i from LISTEN_FDNAMES ("a:b:c"), or "fd N".
 * Returns FD_HTTPS and/or FD_PROXY as the name says: "https", "http-proxy",
 * "https-proxy". */
enum { FD_HTTPS = 1, FD_PROXY = 2 };

static int
fd_name(const char *names, unsigned i, int fd, char *out, size_t size)
{
	const char *p = names;

	while (p != NULL && i > 0) {
		p = strchr(p, ':');
		if (p != NULL)
			p++;
		i--;
	}
	if (p != NULL && *p != '\0' && *p != ':') {
		char name[41];
		size_t l = strcspn(p, ":");
		if (l > 40)
			l = 40;
		/* The environment is not hermit's: the name goes into the log,
		 * so only printable ASCII passes (systemd allows no more). */
		for (size_t j = 0; j < l; j++)
			name[j] = p[j] > ' ' && p[j] < 0x7f ? p[j] : '?';
		name[l] = '\0';
		snprintf(out, size, "%s (fd %d)", name, fd);
		if (strcmp(name, "http-proxy") == 0)
			return FD_PROXY;
		if (strcmp(name, "https-proxy") == 0)
			return FD_HTTPS | FD_PROXY;
		return strcmp(name, "https") == 0 ? FD_HTTPS : 0;
	}
	snprintf(out, size, "fd %d", fd);
	return 0;
}

/* Returns the number of sockets systemd passed (0 if none), or -1. */
static int
from_systemd(struct listener *ls, unsigned max, char *why, size_t whysize)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	unsigned long n;
	char *end;

	if (pid == NULL || fds == NULL)
		return 0;
	if (strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;	/* meant for another process */
	errno = 0;
	n = strtoul(fds, &end, 10);
	if (*end != '\0' || errno != 0 || n == 0 || n > max) {
		snprintf(why, whysize, "LISTEN_FDS=%s: expected 1 to %u sockets", fds, max);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + (int)i, kind;
		if (!is_listening_socket(fd) || set_flags(fd, &ls[i]) == -1) {
			snprintf(why, whysize, "LISTEN_FDS: fd %d is not a listening socket", fd);
			return -1;
		}
		ls[i].fd = fd;
		ls[i].own = 0;
		kind = fd_name(names, i, fd, ls[i].name, sizeof(ls[i].name));
		ls[i].proto = kind & FD_HTTPS ? LISTEN_HTTPS : LISTEN_HTTP;
		ls[i].proxy = (kind & FD_PROXY) != 0;
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

int
listen_gather(const char *const *addrs, const unsigned char *tls, unsigned naddrs,
    struct listener *ls, unsigned *n, char *why, size_t whysize)
{
	int passed;

	*n = 0;
	if ((passed = from_systemd(ls, MAX_LISTENERS, why, whysize)) == -1)
		return -1;
	if (passed > 0) {
		*n = (unsigned)passed;
		return 0;
	}
	if (naddrs > 0) {
		for (unsigned i = 0; i < naddrs; i++) {
			if (bind_one(addrs[i], &ls[i], why, whysize) == -1) {
				while (i-- > 0)
					close(ls[i].fd);
				return -1;
			}
			ls[i].proto = tls[i] ? LISTEN_HTTPS : LISTEN_HTTP;
		}
		*n = naddrs;
		return 0;
	}
	if (is_listening_socket(0)) {
		if (set_flags(0, &ls[0]) == -1) {
			snprintf(why, whysize, "stdin: %s", strerror(errno));
			return -1;
		}
		ls[0].fd = 0;
		ls[0].own = 0;
		ls[0].proto = LISTEN_HTTP;
		snprintf(ls[0].name, sizeof(ls[0].name), "stdin");
		*n = 1;
		return 0;
	}
	if (bind_one(geteuid() == 0 ? "[::]:80" : "[::]:8080", &ls[0], why, whysize) == -1)
		return -1;
	ls[0].proto = LISTEN_HTTP;
	*n = 1;
	return 0;
}
