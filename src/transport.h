/*
 * transport: the only place where a connection's bytes meet the kernel.
 * conn.c moves bytes through the struct transport its connection was
 * opened with; plain TCP and --stdio (one socket, or two pipes or files)
 * are the first transport, TLS the second. What conn.c relies on:
 *   recv           n > 0 bytes read, 0 at the end of input, -1 with errno
 *                  (EAGAIN: nothing for now). *drained is set when nothing
 *                  is left that a readiness event would not announce again
 *                  (plain TCP: a short read; TLS: also nothing buffered in
 *                  the library), so an edge-triggered caller may wait.
 *   send           n > 0 bytes taken, or -1 with errno; more: more bytes
 *                  follow at once (hold back a partial segment).
 *   send_file      up to len bytes of fd from *off (advanced), 0 when the
 *                  file ended early (it shrank), or -1 with errno. len is
 *                  all that is left of the body: a call that sends less
 *                  knows more follows (plain TCP corks the socket until the
 *                  call that sends the rest).
 *   shutdown_write the end of output (FIN; with TLS, close_notify first).
 *   input_waiting  the client has sent bytes not read yet (a peek).
 *   alpn_h2        (optional, NULL for plain) whether the client and
 *                  server agreed on HTTP/2 (TLS: ALPN "h2").
 *   close          (optional, NULL for plain) frees what the transport
 *                  holds for the connection; conn calls it before closing
 *                  the descriptors.
 * A transport may need the other direction to make progress (TLS: a read
 * that must first write handshake bytes, or a write that must first read):
 * it then fails with EAGAIN and sets io->want to TRANSPORT_WANT_WRITE or
 * TRANSPORT_WANT_READ, and conn waits for that readiness event instead
 * (and treats any event as a reason to retry both directions). Plain never
 * sets it.
 * None of them blocks: conn hands them non-blocking descriptors (regular
 * files on stdio aside, which never block).
 */
#ifndef HERMIT_TRANSPORT_H
#define HERMIT_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

enum { TRANSPORT_WANT_READ = 1, TRANSPORT_WANT_WRITE = 2 };

struct transport_io {
	int rfd, wfd;		/* the same socket, or stdin and stdout */
	unsigned char w_socket;	/* wfd is a socket: send() flags apply */
	unsigned char want;	/* 0, or TRANSPORT_WANT_*: see above */
	unsigned char corked;	/* plain: TCP_CORK is on for a file body */
	void *tls;		/* the TLS transport's per-connection state */
	void *tls_unsent;	/* and its records the socket has not taken yet */
};

struct transport {
	const char *name;
	ssize_t (*recv)(struct transport_io *io, void *buf, size_t len, int *drained);
	ssize_t (*send)(struct transport_io *io, const void *buf, size_t len, int more);
	ssize_t (*send_file)(struct transport_io *io, int fd, off_t *off, size_t len);
	int (*shutdown_write)(struct transport_io *io);
	int (*input_waiting)(struct transport_io *io);
	void (*close)(struct transport_io *io);
	int (*alpn_h2)(struct transport_io *io);
};

extern const struct transport transport_plain;

#endif
