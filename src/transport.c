/*
 * transport: plain TCP and stdio (see transport.h). The kernel does all
 * the work; these are the system calls conn.c made itself before TLS
 * needed a seam here.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "limits.h"
#include "transport.h"

/* One sendfile call moves at most this much (the kernel's own cap). */
#define SENDFILE_CHUNK 0x7ffff000u

static ssize_t
plain_recv(struct transport_io *io, void *buf, size_t len, int *drained)
{
	ssize_t n = read(io->rfd, buf, len);

	/* A short read emptied the socket: no byte is left that a new
	 * readiness event would not announce. */
	*drained = n >= 0 ? (size_t)n < len : errno == EAGAIN;
	return n;
}

static ssize_t
plain_send(struct transport_io *io, const void *buf, size_t len, int more)
{
	if (io->w_socket)
		return send(io->wfd, buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	return write(io->wfd, buf, len);
}

static void
set_cork(struct transport_io *io, int on)
{
	if (setsockopt(io->wfd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0)
		io->corked = (unsigned char)on;
}

/* sendfile pushes out the end of what each call queued, so a body sent in
 * many calls (the socket full in between) would leave as many short
 * segments, each costing both ends as much as a full one. Once a call
 * leaves at least CORK_LEFT_BYTES of the body unsent the socket is
 * corked, and the call that sends the rest uncorks it, which pushes the
 * tail at once: only full segments in between. See CORK_LEFT_BYTES. */
static ssize_t
plain_send_file(struct transport_io *io, int fd, off_t *off, size_t len)
{
	ssize_t n = sendfile(io->wfd, fd, off, len < SENDFILE_CHUNK ? len : SENDFILE_CHUNK);
	size_t left;

	/* Not a socket, or nothing sent for another reason than a full socket
	 * (the file shrank, an error): the cork stays as it is. */
	if (!io->w_socket || n == 0 || (n < 0 && errno != EAGAIN))
		return n;
	left = len - (n > 0 ? (size_t)n : 0);
	if (left == 0 && io->corked)
		set_cork(io, 0);
	else if (left >= CORK_LEFT_BYTES && !io->corked)
		set_cork(io, 1);
	return n;
}

static int
plain_shutdown_write(struct transport_io *io)
{
	return shutdown(io->wfd, SHUT_WR);
}

static int
plain_input_waiting(struct transport_io *io)
{
	char byte;

	return io->w_socket && recv(io->rfd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

const struct transport transport_plain = {
	.name = "plain",
	.recv = plain_recv,
	.send = plain_send,
	.send_file = plain_send_file,
	.shutdown_write = plain_shutdown_write,
	.input_waiting = plain_input_waiting,
};
