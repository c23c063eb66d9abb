/*
 * transport: plain TCP and stdio (see transport.h). The kernel does all
 * the work; these are the system calls conn.c made itself before TLS
 * needed a seam here.
 */
#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

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

static ssize_t
plain_send_file(struct transport_io *io, int fd, off_t *off, size_t len)
{
	return sendfile(io->wfd, fd, off, len < SENDFILE_CHUNK ? len : SENDFILE_CHUNK);
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
