/*
 * listen: where connections come from, decided once at startup.
 *   1. sockets passed by systemd (LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES);
 *      the variables are unset after use, and hermit then never binds;
 *   2. otherwise the --listen addresses, bound here;
 *   3. otherwise a listening socket on fd 0 (s6-tcpserverd style,
 *      systemd StandardInput=socket without Accept);
 *   4. otherwise the default address.
 * A systemd socket named "https" or "https-proxy" speaks HTTPS; one named
 * "http-proxy" or "https-proxy" expects a PROXY protocol header.
 * (One connection on stdin/stdout, --stdio, needs no listener; see main.)
 * Every listener returned is non-blocking and close-on-exec; one on a
 * loopback address uses Reno congestion control and the kernel's sizing of
 * its connections' sockets (see listen.c).
 */
#ifndef HERMIT_LISTEN_H
#define HERMIT_LISTEN_H

#include <stddef.h>
#include "limits.h"

struct listener {
	int fd;
	int own;		/* bound here: closed at once on SIGTERM; a passed
				   socket stays with whoever passed it */
	char name[80];		/* "127.0.0.1:8080", "[::]:80", or the systemd name */
	enum listen_proto { LISTEN_HTTP, LISTEN_HTTPS } proto;
				/* HTTPS: from --listen-tls, or a systemd socket
				   named "https" in LISTEN_FDNAMES */
	int proxy;		/* a PROXY protocol header comes first: a systemd
				   socket named "http-proxy" or "https-proxy"
				   (main marks every listener for --proxy-protocol) */
	int loopback;		/* on a loopback address: Reno, and the kernel
				   sizes its connections' send buffers */
};

/* Fills ls[0..*n). addrs[i] speaks HTTPS when tls[i] is set. Returns 0, or
 * -1 with a message in why. */
int listen_gather(const char *const *addrs, const unsigned char *tls, unsigned naddrs,
    struct listener *ls, unsigned *n, char *why, size_t whysize);

/* Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into a socket address (no
 * name lookup: hermit binds numeric addresses only). Returns 0 or -1. */
struct sockaddr_storage;
int listen_parse_addr(const char *s, struct sockaddr_storage *ss, unsigned *len);

/* 1 when ss is a loopback address: 127.0.0.0/8, ::1, or 127.x mapped into
 * IPv6 (see struct listener's loopback). */
int listen_is_loopback(const struct sockaddr_storage *ss);

/* Writes the printable form of a peer or local address ("192.0.2.1",
 * "2001:db8::1"; IPv4-mapped IPv6 shown as IPv4) without the port. */
void listen_format_ip(const struct sockaddr_storage *ss, char *out, size_t size);

#endif
