/*
 * tls: the TLS context and the TLS transport (see tls.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tls.h"

/* A file body is read this much at a time (one pread for four records),
 * into each worker thread's own buffer. */
#define FILE_READ 65536

/* The contexts: built before confinement, read-only while serving
 * (OpenSSL locks what it changes in them, the ticket keys' use). Every
 * connection starts on ctx: the default's context, or one without
 * certificate when there is no default. */
static SSL_CTX *ctx;
static SSL_CTX *fallback;	/* the default's context (ctx), or NULL */

/* The named hosts' contexts. Searched in order on each handshake: at most
 * CERTS_MAX short names, little beside a signature. */
struct site {
	char host[CERTS_HOST_MAX + 1];
	SSL_CTX *ctx;
};
static struct site *sites;
static unsigned nsites;

/* The ALPN protocols hermit speaks, in wire format, in its order of
 * preference; h2 left out with --no-h2. */
static const unsigned char alpn_both[] = "\x02h2\x08http/1.1";
static const unsigned char *alpn_ours = alpn_both + 3;
static unsigned alpn_ours_len = sizeof(alpn_both) - 1 - 3;

void
tls_offer_h2(int on)
{
	alpn_ours = on ? alpn_both : alpn_both + 3;
	alpn_ours_len = sizeof(alpn_both) - 1 - (on ? 0 : 3);
}

/* A connection's socket BIO: OpenSSL's, except that the records an answer
 * is made of are gathered and leave together. tls_send and tls_send_file
 * make up to STAGE_RECORDS records (one SSL_write each) into the worker's
 * stage and send them with one send(), MSG_MORE while more of the answer
 * follows: one system call and one TCP push where there were four. What
 * the socket does not take is kept with the connection (struct unsent)
 * and sent first by the next call, which the connection core makes with
 * the same bytes, as it does after OpenSSL's own WANT_WRITE: the plaintext
 * of records already sent is then answered as written without encrypting
 * it again. A record OpenSSL writes while such bytes wait (a KeyUpdate
 * answer during SSL_read) is queued behind them, so records never leave out
 * of order. kTLS sockets and --stdio's pipes take OpenSSL's own path. */
#define STAGE_RECORDS 4
#define RECORD_MAX (SSL3_RT_MAX_PLAIN_LENGTH + SSL3_RT_MAX_ENCRYPTED_OVERHEAD + \
	SSL3_RT_HEADER_LENGTH)
#define STAGE_BYTES (STAGE_RECORDS * RECORD_MAX + 4096)

/* Ciphertext made, not yet taken by the socket, in runs of records each
 * made by one SSL_write; a run counts as written once all of it is out. */
struct unsent {
	size_t off, len;		/* buf[off, len) is still to send */
	unsigned nruns, run;		/* runs; the first not yet all out */
	size_t run_end[STAGE_RECORDS + 2];	/* end of each run in buf */
	size_t run_plain[STAGE_RECORDS + 2];	/* the plaintext it stands for */
	unsigned char buf[];
};

static BIO_METHOD *socket_bio;
static int (*socket_write)(BIO *, const char *, int);
static int ktls_on;	/* see kTLS below */

/* The worker's stage, while tls_send or tls_send_file makes records. */
static _Thread_local struct {
	int on;
	struct transport_io *io;	/* the connection at work, for queueing */
	size_t len;
	unsigned char buf[STAGE_BYTES];
} stage;

static int
socket_write_staged(BIO *b, const char *buf, int len)
{
	struct unsent *u, *grown;

	BIO_clear_retry_flags(b);
	if (stage.on) {
		if ((size_t)len > STAGE_BYTES - stage.len) {
			BIO_set_retry_write(b);	/* sent first, then OpenSSL retries */
			return -1;
		}
		memcpy(stage.buf + stage.len, buf, (size_t)len);
		stage.len += (size_t)len;
		return len;
	}
	if (stage.io == NULL || (u = stage.io->tls_unsent) == NULL || len <= 0)
		return socket_write(b, buf, len);
	if (u->nruns >= STAGE_RECORDS + 2 ||
	    (grown = realloc(u, sizeof(*u) + u->len + (size_t)len)) == NULL) {
		BIO_set_retry_write(b);
		return -1;
	}
	u = stage.io->tls_unsent = grown;
	memcpy(u->buf + u->len, buf, (size_t)len);
	u->len += (size_t)len;
	u->run_end[u->nruns] = u->len;
	u->run_plain[u->nruns++] = 0;
	return len;
}

/* Sends p[0..len) until all is out or the socket is full: the bytes it
 * took, or -1 when the connection is broken. */
static ssize_t
send_until_full(int fd, const unsigned char *p, size_t len, int flags)
{
	size_t sent = 0;
	ssize_t k;

	while (sent < len) {
		k = send(fd, p + sent, len - sent, MSG_NOSIGNAL | flags);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno != EAGAIN)
			return -1;
		if (k < 0)
			break;
		sent += (size_t)k;
	}
	return (ssize_t)sent;
}

/* Before new records: what waits from an earlier call goes first. Returns
 * 1 with *r the call's answer while it does: the plaintext of the runs now
 * all out (at most len, the caller's retry of the same bytes), or -1 with
 * errno (EAGAIN while none is); 0 when nothing waits (any more). */
static int
unsent_first(struct transport_io *io, size_t len, ssize_t *r)
{
	struct unsent *u = io->tls_unsent;
	size_t plain = 0;
	ssize_t k;

	if (u == NULL)
		return 0;
	*r = -1;
	if ((k = send_until_full(io->wfd, u->buf + u->off, u->len - u->off, 0)) < 0)
		return 1;	/* broken */
	u->off += (size_t)k;
	while (u->run < u->nruns && u->run_end[u->run] <= u->off)
		plain += u->run_plain[u->run++];
	if (u->off == u->len) {
		free(u);
		io->tls_unsent = NULL;
	}
	if (plain > len) {
		errno = EPROTO;	/* not a retry of the same bytes: never happens */
		return 1;
	}
	if (plain > 0) {
		*r = (ssize_t)plain;
		return 1;
	}
	if (io->tls_unsent == NULL)
		return 0;	/* all out, none of it an answer's bytes */
	io->want = 0;
	errno = EAGAIN;
	return 1;
}

/* Sends the stage: the plaintext of the runs that went out whole (what
 * did not go waits in io->tls_unsent), or -1 with errno (EAGAIN when none
 * did). runs[i] ends at run_end[i] in the stage and stands for
 * run_plain[i] bytes. */
static ssize_t
send_stage(struct transport_io *io, int more, unsigned nruns, const size_t *run_end,
    const size_t *run_plain)
{
	struct unsent *u;
	size_t sent, plain = 0;
	unsigned i;
	ssize_t k;

	if ((k = send_until_full(io->wfd, stage.buf, stage.len, more ? MSG_MORE : 0)) < 0)
		return -1;	/* broken: what was made is dropped with it */
	sent = (size_t)k;
	for (i = 0; i < nruns && run_end[i] <= sent; i++)
		plain += run_plain[i];
	if (sent < stage.len) {
		if ((u = malloc(sizeof(*u) + stage.len - sent)) == NULL)
			return -1;
		memcpy(u->buf, stage.buf + sent, stage.len - sent);
		u->off = 0;
		u->len = stage.len - sent;
		u->run = 0;
		u->nruns = 0;
		for (; i < nruns; i++) {
			u->run_end[u->nruns] = run_end[i] - sent;
			u->run_plain[u->nruns++] = run_plain[i];
		}
		io->tls_unsent = u;
	}
	stage.len = 0;
	if (plain == 0) {
		io->want = 0;
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)plain;
}

static ssize_t failed(struct transport_io *io, SSL *s, int rc, int reading);

/* Makes records of buf[0..len) into the stage, one SSL_write each, as many
 * as fit, and sends them. more: the answer goes on after buf. */
static ssize_t
write_staged(struct transport_io *io, SSL *s, const unsigned char *buf, size_t len, int more)
{
	size_t run_end[STAGE_RECORDS + 1], run_plain[STAGE_RECORDS + 1], done = 0;
	unsigned nruns = 0;
	ssize_t r, fail = 0;
	int n = 1, saved = 0;
	unsigned char want = 0;

	stage.on = 1;
	stage.len = 0;
	while (done < len && nruns < STAGE_RECORDS && STAGE_BYTES - stage.len >= RECORD_MAX) {
		n = SSL_write(s, buf + done, len - done > INT_MAX ? INT_MAX : (int)(len - done));
		if (n <= 0)
			break;
		done += (size_t)n;
		run_end[nruns] = stage.len;
		run_plain[nruns++] = (size_t)n;
	}
	stage.on = 0;
	if (n <= 0) {
		/* Read at once: SSL_get_error() depends on what follows. */
		fail = failed(io, s, n, 0) == 0 ? (errno = EPIPE, -1) : -1;
		saved = errno;
		want = io->want;
	}
	if (stage.len > (nruns > 0 ? run_end[nruns - 1] : 0)) {
		run_end[nruns] = stage.len;	/* records without an answer's bytes (an alert) */
		run_plain[nruns++] = 0;
	}
	if (stage.len == 0)
		return fail;
	r = send_stage(io, more || done < len, nruns, run_end, run_plain);
	if (r > 0 || done > 0)
		return r;
	if (r == -1 && errno != EAGAIN)
		return -1;
	errno = saved;
	io->want = want;
	return fail;
}

/* This connection's records go through the stage: a socket of its own
 * with the BIO above, not a kTLS one. */
static int
staged(const struct transport_io *io, SSL *s)
{
	return io->rfd == io->wfd && !BIO_get_ktls_send(SSL_get_wbio(s));
}

static int
socket_bio_init(void)
{
	const BIO_METHOD *base = BIO_s_socket();

	if (socket_bio != NULL)
		return 0;
	socket_write = BIO_meth_get_write(base);
	if ((socket_bio = BIO_meth_new(BIO_TYPE_SOCKET, "socket, staged")) == NULL ||
	    socket_write == NULL ||
	    BIO_meth_set_write(socket_bio, socket_write_staged) != 1 ||
	    BIO_meth_set_read(socket_bio, BIO_meth_get_read(base)) != 1 ||
	    BIO_meth_set_puts(socket_bio, BIO_meth_get_puts(base)) != 1 ||
	    BIO_meth_set_ctrl(socket_bio, BIO_meth_get_ctrl(base)) != 1 ||
	    BIO_meth_set_create(socket_bio, BIO_meth_get_create(base)) != 1 ||
	    BIO_meth_set_destroy(socket_bio, BIO_meth_get_destroy(base)) != 1)
		return -1;
	return 0;
}

/* SSL_set_fd() with the socket BIO above. */
static int
set_socket(SSL *s, int fd)
{
	BIO *b = BIO_new(socket_bio);

	if (b == NULL)
		return 0;
	BIO_set_fd(b, fd, BIO_NOCLOSE);
	SSL_set_bio(s, b, b);
#ifndef OPENSSL_NO_KTLS
	if (ktls_on)	/* as SSL_set_fd() does: lets the keys go to the kernel later */
		(void)setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls"));
#endif
	return 1;
}

int
tls_init(char *why, size_t whysize)
{
	/* No openssl.cnf: the configuration is hermit's own, and nothing is
	 * loaded from disk later. No atexit cleanup: at exit the process is
	 * sealed, and freeing OpenSSL's tables then buys nothing. */
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, NULL) != 1 ||
	    socket_bio_init() == -1) {
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
	/* The server's preference first. A client that offers nothing
	 * hermit speaks would misread any answer, so it is told at once. */
	if (SSL_select_next_proto(&sel, outlen, alpn_ours, alpn_ours_len,
	    in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The context for the name the client sent: exactly, else by a wildcard;
 * NULL when none. */
static SSL_CTX *
site_for(const char *name)
{
	SSL_CTX *wild = NULL;
	int m;

	for (unsigned i = 0; name != NULL && i < nsites; i++) {
		if ((m = certs_name_match(sites[i].host, name)) == 2)
			return sites[i].ctx;
		if (m == 1 && wild == NULL)
			wild = sites[i].ctx;
	}
	return wild;
}

/* Called for every ClientHello, with a name or without. */
static int
pick_site(SSL *s, int *alert, void *arg)
{
	SSL_CTX *c = site_for(SSL_get_servername(s, TLSEXT_NAMETYPE_host_name));

	(void)arg;
	if (c == NULL)
		c = fallback;
	if (c == NULL) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (c != SSL_get_SSL_CTX(s) && SSL_set_SSL_CTX(s, c) == NULL) {
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* The host name in this ClientHello's server_name extension (RFC 6066
 * 3: a list of (u8 type, u16 length, name); host_name is type 0), into
 * out; "" when there is none. Read from the hello itself: while the
 * ticket is opened, libssl 3.0 does not yet answer SSL_get_servername.
 * Should a later libssl no longer keep the hello that long, the name is
 * "" and a ticket made for a name is not used: a full handshake, never a
 * wrong resumption. */
static void
hello_name(SSL *s, char *out, size_t size)
{
	const unsigned char *p;
	size_t len, n;

	out[0] = '\0';
	if (SSL_client_hello_get0_ext(s, TLSEXT_TYPE_server_name, &p, &len) != 1 || len < 2)
		return;
	len = (size_t)(p[0] << 8 | p[1]) <= len - 2 ? (size_t)(p[0] << 8 | p[1]) : 0;
	for (p += 2; len >= 3; p += 3 + n, len -= 3 + n) {
		n = (size_t)(p[1] << 8 | p[2]);
		if (n > len - 3)
			return;
		if (p[0] == TLSEXT_NAMETYPE_host_name && n < size) {
			memcpy(out, p + 3, n);
			out[n] = '\0';
			return;
		}
	}
}

/* A ticket resumes only for the name it was made for: libssl 3.0 resumes
 * a TLS 1.3 session for any name, and a TLS 1.2 one too (it only leaves
 * the name unacknowledged). Otherwise a client could resume on one host a
 * session authenticated by another host's certificate. */
static SSL_TICKET_RETURN
ticket_for_name(SSL *s, SSL_SESSION *ss, const unsigned char *keyname, size_t keylen,
    SSL_TICKET_STATUS status, void *arg)
{
	char now[256];
	const char *was;

	(void)keyname, (void)keylen, (void)arg;
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	case SSL_TICKET_FATAL_ERR_MALLOC:
	case SSL_TICKET_FATAL_ERR_OTHER:
		return SSL_TICKET_RETURN_ABORT;
	default:	/* none, or one that does not open: a full handshake */
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	}
	was = SSL_SESSION_get0_hostname(ss);
	hello_name(s, now, sizeof(now));
	if (strcasecmp(was != NULL ? was : "", now) != 0)
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
}

/* ------------------------------------------------------------ ticket keys */

/*
 * Session tickets are sealed with keys made here from getrandom(2), held
 * in this process's memory only (never written, never in the key process,
 * which has no business with sessions), one ring for every worker and every
 * host's context. The current key seals new tickets; every ticket_period
 * seconds it becomes the previous key, which still opens tickets (and asks
 * for a fresh one), and the key before it is wiped. So a ticket opens for
 * one to two periods, and a ticket key stolen from memory opens no session
 * older than that. Rotation happens in the callback itself, on the first
 * handshake after a period ends: no timer, no thread.
 */
struct ticket_key {
	unsigned char name[16];
	unsigned char aes[32];		/* AES-256-CBC, as libssl's own tickets */
	unsigned char hmac[32];		/* HMAC-SHA256 */
	time_t born;			/* CLOCK_MONOTONIC seconds */
	int valid;
};

static struct ticket_key ring[2];	/* [0] seals and opens, [1] only opens */
static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned ticket_period;		/* seconds; 0: no tickets */
static EVP_CIPHER *ticket_cipher;	/* fetched before sealing */

static time_t
monotonic_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* A new key into k; k stays invalid if the kernel gives no randomness. */
static void
ticket_key_new(struct ticket_key *k, time_t now)
{
	unsigned char r[sizeof(k->name) + sizeof(k->aes) + sizeof(k->hmac)];

	OPENSSL_cleanse(k, sizeof(*k));
	/* At most 256 bytes come whole once the pool is ready. */
	if (getrandom(r, sizeof(r), 0) == (ssize_t)sizeof(r)) {
		memcpy(k->name, r, sizeof(k->name));
		memcpy(k->aes, r + sizeof(k->name), sizeof(k->aes));
		memcpy(k->hmac, r + sizeof(k->name) + sizeof(k->aes), sizeof(k->hmac));
		k->born = now;
		k->valid = 1;
	}
	OPENSSL_cleanse(r, sizeof(r));
}

/* Under ring_lock: the ring as it must be at now. */
static void
ticket_keys_rotate(time_t now)
{
	time_t age = now - ring[0].born;

	if (ring[0].valid && age < (time_t)ticket_period)
		return;
	if (ring[0].valid && age < 2 * (time_t)ticket_period)
		ring[1] = ring[0];
	else
		OPENSSL_cleanse(&ring[1], sizeof(ring[1]));
	ticket_key_new(&ring[0], now);
}

/* libssl's ticket callback: enc 1 seals a new ticket with the current key;
 * enc 0 opens one whose key is still in the ring (2: with the previous
 * key, so a fresh ticket is sent). 0: no such key, a full handshake;
 * -1: no ticket at all this time. */
static int
ticket_key_cb(SSL *s, unsigned char name[16], unsigned char iv[EVP_MAX_IV_LENGTH],
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct ticket_key k;
	OSSL_PARAM params[3];
	int which = -1, rc;

	(void)s;
	pthread_mutex_lock(&ring_lock);
	ticket_keys_rotate(monotonic_seconds());
	for (int i = 0; i < 2 && which < 0; i++)
		if (ring[i].valid && (enc ? i == 0 : memcmp(name, ring[i].name, 16) == 0))
			which = i;
	if (which >= 0)
		k = ring[which];
	pthread_mutex_unlock(&ring_lock);
	if (which < 0)
		return enc ? -1 : 0;
	if (enc) {
		memcpy(name, k.name, sizeof(k.name));
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(ticket_cipher)) != 1) {
			rc = -1;
			goto out;
		}
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k.hmac, sizeof(k.hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1 ||
	    EVP_CipherInit_ex(cctx, ticket_cipher, NULL, k.aes, iv, enc) != 1)
		rc = -1;
	else
		rc = !enc && which == 1 ? 2 : 1;
out:
	OPENSSL_cleanse(&k, sizeof(k));
	return rc;
}

/* Tickets on or off for a context; period: seconds (0: off). */
static int
tickets_set(SSL_CTX *c)
{
	if (ticket_period == 0) {
		SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
		return SSL_CTX_set_num_tickets(c, 0) == 1 ? 0 : -1;
	}
	/* The session a ticket holds is good as long as its key can be. */
	SSL_CTX_set_timeout(c, 2 * (long)ticket_period);
	/* One ticket per handshake: a client resumes once per connection. */
	if (SSL_CTX_set_num_tickets(c, 1) != 1)
		return -1;
	return SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_key_cb) == 1 ? 0 : -1;
}

/* ------------------------------------------------------------ kTLS */

/*
 * Kernel TLS: when the kernel offers the "tls" upper-layer protocol,
 * libssl hands the record keys to the kernel after each handshake (for the
 * suites the kernel knows), and file bodies go with SSL_sendfile: their
 * bytes never enter this process. Where it does not (the module not
 * loaded; hermit never loads it: that takes CAP_SYS_MODULE or
 * CAP_NET_ADMIN, which the systemd unit uses before the sandbox), or for a
 * connection libssl could not hand over, records are made here.
 */
static int ktls_on;
static char ktls_why[96] = "not asked";

static void
ktls_probe(void)
{
	char ulps[256];
	ssize_t n;
	int fd;

#ifdef OPENSSL_NO_KTLS
	snprintf(ktls_why, sizeof(ktls_why), "OpenSSL built without kTLS");
	return;
#endif
	fd = open("/proc/sys/net/ipv4/tcp_available_ulp", O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, ulps, sizeof(ulps) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		snprintf(ktls_why, sizeof(ktls_why), "cannot read the kernel's ULP list");
		return;
	}
	ulps[n] = '\0';
	for (char *w = strtok(ulps, " \n"); w != NULL; w = strtok(NULL, " \n"))
		if (strcmp(w, "tls") == 0)
			ktls_on = 1;
	if (!ktls_on)
		snprintf(ktls_why, sizeof(ktls_why), "the kernel offers no tls ULP: modprobe tls");
}

const char *
tls_describe(char *out, size_t size)
{
	char tickets[64];

	if (ticket_period == 0)
		snprintf(tickets, sizeof(tickets), "tickets off");
	else
		snprintf(tickets, sizeof(tickets), "ticket keys replaced every %u s", ticket_period);
	if (ktls_on)
		snprintf(out, size, "ktls=on; %s", tickets);
	else
		snprintf(out, size, "ktls=off (%s); %s", ktls_why, tickets);
	return out;
}

/* A context with hermit's settings and no certificate. Every context gets
 * exactly these: a connection moved to another host's context keeps some
 * settings of the first (versions, suites, options) and takes others from
 * the new one (ALPN, the certificate). */
static SSL_CTX *
context_with_settings(OSSL_LIB_CTX *libctx, unsigned min_version, char *why, size_t whysize)
{
	SSL_CTX *c = SSL_CTX_new_ex(libctx, NULL, TLS_server_method());

	if (c == NULL) {
		snprintf(why, whysize, "TLS: cannot create a context: %s", ssl_reason());
		return NULL;
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
		SSL_CTX_free(c);
		return NULL;
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
	SSL_CTX_set_tlsext_servername_callback(c, pick_site);
	if (ktls_on)
		SSL_CTX_set_options(c, SSL_OP_ENABLE_KTLS);
	if (tickets_set(c) == -1 ||
	    SSL_CTX_set_session_ticket_cb(c, NULL, ticket_for_name, NULL) != 1) {
		snprintf(why, whysize, "TLS: cannot set up session tickets: %s", ssl_reason());
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* The pairs c->pair[first..end) (one host's) into one context. */
static SSL_CTX *
host_context(const struct certs *c, EVP_PKEY *const *keys, OSSL_LIB_CTX *libctx,
    unsigned first, unsigned end, unsigned min_version, char *why, size_t whysize)
{
	SSL_CTX *x = context_with_settings(libctx, min_version, why, whysize);

	for (unsigned i = first; x != NULL && i < end; i++) {
		const struct cert_pair *p = &c->pair[i];
		/* No override: a second certificate of the same key type
		 * is an error, not a silent replacement. */
		if (SSL_CTX_use_cert_and_key(x, p->leaf, keys[i], p->extra, 0) != 1) {
			snprintf(why, whysize, "%s %s with %s %s: %s", p->chain_label,
			    p->chain_path, p->key_label, p->key_path, ssl_reason());
			SSL_CTX_free(x);
			x = NULL;
		}
	}
	return x;
}

int
tls_context_new(const struct certs *c, EVP_PKEY *const *keys, OSSL_LIB_CTX *libctx,
    unsigned min_version, unsigned tickets, char *why, size_t whysize)
{
	unsigned i = 0, end;
	SSL_CTX *x;

	ktls_probe();
	ticket_period = tickets;
	if (tickets > 0) {
		if ((ticket_cipher = EVP_CIPHER_fetch(libctx, "AES-256-CBC", NULL)) == NULL) {
			snprintf(why, whysize, "TLS: no AES-256-CBC for tickets: %s", ssl_reason());
			return -1;
		}
		ticket_keys_rotate(monotonic_seconds());
		if (!ring[0].valid) {
			snprintf(why, whysize, "TLS: getrandom gave no ticket key");
			return -1;
		}
	}

	if ((sites = calloc(c->n, sizeof(sites[0]))) == NULL) {
		snprintf(why, whysize, "TLS: out of memory");
		return -1;
	}
	for (i = 0; i < c->n; i = end) {
		for (end = i + 1; end < c->n && strcmp(c->pair[end].host, c->pair[i].host) == 0;)
			end++;
		if ((x = host_context(c, keys, libctx, i, end, min_version, why, whysize)) == NULL)
			goto fail;
		if (c->pair[i].host[0] == '\0') {
			fallback = x;
			continue;
		}
		snprintf(sites[nsites].host, sizeof(sites[nsites].host), "%s", c->pair[i].host);
		sites[nsites++].ctx = x;
	}
	ctx = fallback != NULL ? fallback : context_with_settings(libctx, min_version, why, whysize);
	if (ctx == NULL)
		goto fail;
	return 0;
fail:
	tls_context_free();
	return -1;
}

void
tls_context_free(void)
{
	for (unsigned i = 0; i < nsites; i++)
		SSL_CTX_free(sites[i].ctx);
	free(sites);
	sites = NULL;
	nsites = 0;
	SSL_CTX_free(fallback != NULL ? fallback : ctx);
	ctx = fallback = NULL;
	EVP_CIPHER_free(ticket_cipher);
	ticket_cipher = NULL;
	OPENSSL_cleanse(ring, sizeof(ring));
}

/* ------------------------------------------------------------ the transport */

static SSL *
ssl_of(struct transport_io *io)
{
	SSL *s = io->tls;

	if (s != NULL)
		return s;
	/* One socket, or (--stdio) two descriptors, pipes perhaps. */
	if ((s = SSL_new(ctx)) == NULL || (io->rfd == io->wfd ? set_socket(s, io->rfd) != 1
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
	stage.io = io;	/* a record SSL_read makes queues behind unsent ones */
	n = SSL_read(s, buf, len > INT_MAX ? INT_MAX : (int)len);
	stage.io = NULL;
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
	ssize_t r;
	int n;

	if (s == NULL)
		return -1;
	if (unsent_first(io, len, &r))
		return r;
	if (staged(io, s))
		return write_staged(io, s, buf, len, more);
	n = SSL_write(s, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n > 0)
		return n;
	return failed(io, s, n, 0) == 0 ? (errno = EPIPE, -1) : -1;
}

/* No sendfile: the bytes must be encrypted here. A record that could not
 * go out is retried from the same offset, so with the same bytes and
 * length, as OpenSSL requires. */
static ssize_t
tls_send_file(struct transport_io *io, int fd, off_t *off, size_t len)
{
	static _Thread_local unsigned char buf[FILE_READ];
	SSL *s = ssl_of(io);
	size_t done, chunk;
	ssize_t got, r;
	int n;

	if (s == NULL)
		return -1;
	if (unsent_first(io, len, &r)) {
		if (r > 0)
			*off += r;
		return r;
	}
	/* kTLS: the kernel encrypts, straight from the page cache. */
	if (ktls_on && BIO_get_ktls_send(SSL_get_wbio(s))) {
		ossl_ssize_t sent = SSL_sendfile(s, fd, *off, len, 0);
		if (sent > 0) {
			*off += sent;
			return sent;
		}
		return failed(io, s, (int)sent, 0) == 0 ? (errno = EPIPE, -1) : -1;
	}
	got = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), *off);
	if (got <= 0)
		return got;	/* 0: the file shrank */
	if (staged(io, s)) {
		if ((r = write_staged(io, s, buf, (size_t)got, (size_t)got < len)) > 0)
			*off += r;
		return r;
	}
	for (done = 0; done < (size_t)got; done += (size_t)n) {
		chunk = (size_t)got - done;
		if (chunk > SSL3_RT_MAX_PLAIN_LENGTH)
			chunk = SSL3_RT_MAX_PLAIN_LENGTH;
		if ((n = SSL_write(s, buf + done, (int)chunk)) <= 0)
			break;
	}
	*off += (off_t)done;
	if (done > 0)
		return (ssize_t)done;
	return failed(io, s, n, 0) == 0 ? (errno = EPIPE, -1) : -1;
}

static int
tls_shutdown_write(struct transport_io *io)
{
	SSL *s = io->tls;

	/* close_notify, then the FIN; a close_notify that finds the send
	 * buffer full is dropped (the response before it is complete), and
	 * none follows records still waiting to go. */
	if (s != NULL && io->tls_unsent == NULL && SSL_is_init_finished(s) && SSL_shutdown(s) < 0)
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

static int
tls_alpn_h2(struct transport_io *io)
{
	const unsigned char *p;
	unsigned len;

	if (io->tls == NULL)
		return 0;
	SSL_get0_alpn_selected(io->tls, &p, &len);
	return len == 2 && memcmp(p, "h2", 2) == 0;
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
	    !SSL_want_write(s) && io->tls_unsent == NULL && SSL_shutdown(s) < 0)
		ERR_clear_error();
	SSL_free(s);
	io->tls = NULL;
	free(io->tls_unsent);
	io->tls_unsent = NULL;
}

const struct transport transport_tls = {
	.name = "tls",
	.recv = tls_recv,
	.send = tls_send,
	.send_file = tls_send_file,
	.shutdown_write = tls_shutdown_write,
	.input_waiting = tls_input_waiting,
	.close = tls_close,
	.alpn_h2 = tls_alpn_h2,
};
