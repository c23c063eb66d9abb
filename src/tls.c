/*
 * tls: the TLS context and the TLS transport (see tls.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

/* One record's worth of a file per SSL_write: a full record (16 KiB of
 * plaintext) leaves in one system call. */
#define FILE_CHUNK 16384

/* The one context: built before confinement, read-only while serving
 * (OpenSSL locks what it changes in it, the ticket keys' use). */
static SSL_CTX *ctx;

/* The ALPN protocols hermit speaks, in wire format. */
static const unsigned char alpn_http11[] = "\x08http/1.1";

int
tls_init(char *why, size_t whysize)
{
	/* No openssl.cnf: the configuration is hermit's own, and nothing is
	 * loaded from disk later. No atexit cleanup: at exit the process is
	 * sealed, and freeing OpenSSL's tables then buys nothing. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL) != 1) {
		snprintf(why, whysize, "TLS: OpenSSL failed to initialise");
		return -1;
	}
	return 0;
}

/* The reason of the last OpenSSL error (never data), and the queue cleared. */
static const char *
ssl_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_peek_last_error());

	ERR_clear_error();
	return r != NULL ? r : "unknown error";
}

static int
alpn_select(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	unsigned char *sel;

	(void)s;
	(void)arg;
	/* Only http/1.1: a client offering h2 alone would misread an
	 * HTTP/1.1 answer, so it is told at once. */
	if (SSL_select_next_proto(&sel, outlen, alpn_http11, sizeof(alpn_http11) - 1,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

int
tls_context_new(const char *cert_path, EVP_PKEY *key, unsigned min_version,
    char *why, size_t whysize)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	if (c == NULL) {
		snprintf(why, whysize, "TLS: cannot create a context: %s", ssl_reason());
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(c, cert_path) != 1) {
		snprintf(why, whysize, "--cert %s: %s", cert_path, ssl_reason());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(c, key) != 1 || SSL_CTX_check_private_key(c) != 1) {
		snprintf(why, whysize, "--key: does not match the certificate in --cert %s (%s)",
		    cert_path, ssl_reason());
		goto fail;
	}
	if (SSL_CTX_set_min_proto_version(c, min_version == 13 ? TLS1_3_VERSION
	    : TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
	    /* TLS 1.2: forward secrecy and AEAD only; the key process signs
	     * ECDHE parameters and never decrypts (keyproc.h). */
	    SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1) {
		snprintf(why, whysize, "TLS: cannot set versions, suites or groups: %s",
		    ssl_reason());
		goto fail;
	}
	/* An unexpected EOF is the end of input (see tls.h). */
	SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_max_early_data(c, 0);
	SSL_CTX_set_recv_max_early_data(c, 0);
	/* conn retries a write that could not go out with the same bytes but
	 * perhaps from a moved buffer, and takes partial progress. An idle
	 * connection gives its record buffers back (about 34 KiB), as it
	 * gives back conn's own. */
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	/* Resumption by stateless tickets only: no session cache to lock,
	 * grow or expire. The ticket keys were made with the context. */
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_alpn_select_cb(c, alpn_select, NULL);
	ctx = c;
	return 0;
fail:
	SSL_CTX_free(c);
	return -1;
}

void
tls_context_free(void)
{
	SSL_CTX_free(ctx);
	ctx = NULL;
}

/* ------------------------------------------------------------ the transport */

static SSL *
ssl_of(struct transport_io *io)
{
	SSL *s = io->tls;

	if (s != NULL)
		return s;
	/* One socket, or (--stdio) two descriptors, pipes perhaps. */
	if ((s = SSL_new(ctx)) == NULL || (io->rfd == io->wfd ? SSL_set_fd(s, io->rfd) != 1
	    : SSL_set_rfd(s, io->rfd) != 1 || SSL_set_wfd(s, io->wfd) != 1)) {
		SSL_free(s);
		ERR_clear_error();
		errno = ENOMEM;
		return NULL;
	}
	SSL_set_accept_state(s);
	io->tls = s;
	return s;
}

/* After a failed SSL_read or SSL_write: -1 with errno EAGAIN (and io->want
 * set when the other direction is needed), 0 at the end of input, or -1
 * with another errno when the connection is broken. */
static ssize_t
failed(struct transport_io *io, SSL *s, int rc, int reading)
{
	int saved = errno, err = SSL_get_error(s, rc);

	switch (err) {
	case SSL_ERROR_WANT_READ:
		io->want = reading ? 0 : TRANSPORT_WANT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		io->want = reading ? TRANSPORT_WANT_WRITE : 0;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		SSL_set_quiet_shutdown(s, 1);	/* no close_notify on a broken link */
		errno = saved != 0 && saved != EAGAIN && saved != EINTR ? saved : EPIPE;
		return -1;
	default:
		/* A protocol error (a client speaking plain HTTP lands here):
		 * the thread's error queue is emptied for the next connection. */
		ERR_clear_error();
		SSL_set_quiet_shutdown(s, 1);
		errno = EPROTO;
		return -1;
	}
}

static ssize_t
tls_recv(struct transport_io *io, void *buf, size_t len, int *drained)
{
	SSL *s = ssl_of(io);
	ssize_t r;
	int n;

	*drained = 0;
	if (s == NULL)
		return -1;
	n = SSL_read(s, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;	/* not drained: the socket has not said so yet */
	r = failed(io, s, n, 1);
	/* Drained: nothing buffered in the library, and the socket said EAGAIN. */
	*drained = r == -1 && errno == EAGAIN && !SSL_has_pending(s);
	return r;
}

static ssize_t
tls_send(struct transport_io *io, const void *buf, size_t len, int more)
{
	SSL *s = ssl_of(io);
	int n;

	(void)more;	/* each SSL_write is a record; TCP_NODELAY is on */
	if (s == NULL)
		return -1;
	n = SSL_write(s, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return failed(io, s, n, 0) == 0 ? (errno = EPIPE, -1) : -1;
}

/* No sendfile: the bytes must be encrypted here. A write that could not go
 * out is retried with the same offset, so the same bytes, as OpenSSL
 * requires. */
static ssize_t
tls_send_file(struct transport_io *io, int fd, off_t *off, size_t len)
{
	unsigned char buf[FILE_CHUNK];
	SSL *s = ssl_of(io);
	ssize_t got;
	int n;

	if (s == NULL)
		return -1;
	got = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), *off);
	if (got <= 0)
		return got;	/* 0: the file shrank */
	n = SSL_write(s, buf, (int)got);
	if (n > 0) {
		*off += n;
		return n;
	}
	return failed(io, s, n, 0) == 0 ? (errno = EPIPE, -1) : -1;
}

static int
tls_shutdown_write(struct transport_io *io)
{
	SSL *s = io->tls;

	/* close_notify, then the FIN; a close_notify that finds the send
	 * buffer full is dropped (the response before it is complete). */
	if (s != NULL && SSL_is_init_finished(s) && SSL_shutdown(s) < 0)
		ERR_clear_error();
	return shutdown(io->wfd, SHUT_WR);
}

static int
tls_input_waiting(struct transport_io *io)
{
	SSL *s = io->tls;
	char byte;

	if (s != NULL && SSL_has_pending(s))
		return 1;
	return recv(io->rfd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void
tls_close(struct transport_io *io)
{
	SSL *s = io->tls;

	if (s == NULL)
		return;
	/* A polite end for a connection that ends well (keep-alive over, the
	 * server stopping): one non-blocking try, not when a record is still
	 * half sent (its retry would have to come first). */
	if (SSL_is_init_finished(s) && !(SSL_get_shutdown(s) & SSL_SENT_SHUTDOWN) &&
	    !SSL_want_write(s) && SSL_shutdown(s) < 0)
		ERR_clear_error();
	SSL_free(s);
	io->tls = NULL;
}

const struct transport transport_tls = {
	.name = "tls",
	.recv = tls_recv,
	.send = tls_send,
	.send_file = tls_send_file,
	.shutdown_write = tls_shutdown_write,
	.input_waiting = tls_input_waiting,
	.close = tls_close,
};
