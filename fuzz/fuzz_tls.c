/*
 * fuzz_tls: fuzz_conn (see there: the same content tree, script, peers and
 * invariants) with the server's side on transport_tls, hermit's real TLS
 * transport, and each peer a real OpenSSL client on the other end of its
 * socketpair, TCP connection or pair of pipes (--stdio --tls), stepped
 * alternately with conn_event() from one thread.
 *
 * The server's contexts come from tls_context_new() over certs_gather()
 * reading a --certs directory made once at start-up: self-signed P-256
 * certificates for _default, localhost and *.example.com. Their private
 * keys are ordinary EVP_PKEYs of this process: the fuzzer is not the
 * server, so no key process signs for it (keyproc has its own tests).
 * Session tickets are on.
 *
 * The script is fuzz_conn's, after a head of its own: byte 0 says
 *   bits 0-1  the mode:
 *             0 raw: the peers write the script's bytes straight to the
 *               socket from the start (fuzzed ClientHellos and records
 *               before any handshake) and read raw bytes back;
 *             1 a real handshake, then raw bytes (records the client's
 *               library never made: bad MACs, wrong types, alerts,
 *               renegotiation, huge lengths);
 *             2 a real handshake, then the script's bytes go through the
 *               client's SSL as application data (HTTP behind TLS), and
 *               reads are decrypted; a half-close sends close_notify
 *               before the FIN;
 *             3 as 2, but the long writes (fuzz_conn's op 3) go raw:
 *               good records, then a bad one, mid-response perhaps;
 *   bit 2     TLS 1.2 (else 1.3);
 *   bits 3-4  ALPN offered: none, http/1.1, h2 and http/1.1, h2 alone;
 *   bits 5-6  SNI: none, localhost, www.example.com, or a fuzzed name
 *             (then byte 1's bits 0-5 are its length, its bytes follow);
 *   bit 7     the second peer offers the first's session (same name),
 *             the third too, with the next name of the list above.
 *
 * Invariants, beyond fuzz_conn's (counters, deadlines, descriptors, the
 * secret, complete HTTP/1.1 responses in what the client decrypted):
 * - a handshake with a known name (or none), offering http/1.1 or no ALPN,
 *   succeeds, with the certificate for that name (exact, wildcard, else the
 *   default) and http/1.1 selected when it was offered; one offering only
 *   h2 fails;
 * - a session resumes only for the name it was made for, and a ticket for
 *   the same known name does resume;
 * - in mode 0 everything the server wrote is TLS records (nothing in the
 *   clear, ever); in mode 1 the client decrypts no application data at all
 *   (the server answers nothing that did not come in an authenticated
 *   record).
 */
#include <limits.h>
#include <strings.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "tls.h"

#define FUZZ_CONN_TLS 1
#include "fuzz_conn.c"

enum { MODE_RAW, MODE_AFTER_RAW, MODE_APPDATA, MODE_MIXED };
#define PEND_MAX 65536		/* application data the client holds back */
#define NAMES 3			/* _default, localhost, *.example.com */

struct tls_peer {
	SSL *ssl;		/* NULL in mode 0 and after a reset */
	int done;		/* handshake finished */
	int dead;		/* the client's SSL failed: no more use */
	int eof;		/* close_notify received */
	int wclosed;		/* half-closed: nothing more is written */
	uint8_t pend[PEND_MAX];	/* written, not yet taken by SSL_write */
	size_t pendlen;
};

static SSL_CTX *client_ctx;
static X509 *cert_of[NAMES];	/* what each name must be served */
static const char *const dir_of[NAMES] = { "_default", "localhost", "*.example.com" };
static const char *const sni_of[NAMES] = { "", "localhost", "www.example.com" };

/* This input's head (see the top of the file). */
static struct {
	unsigned mode, v12, alpn, sni, resume;
	char name[64];		/* the fuzzed SNI */
} tc;

static void
ssl_fail(const char *what)
{
	fprintf(stderr, "fuzz_tls setup: %s\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

/* A self-signed P-256 certificate for dir's name, written as dir's
 * fullchain.pem and privkey.pem (mode 0600, as certs wants it). */
static X509 *
make_cert(const char *certsdir, const char *dir, EVP_PKEY **keyp)
{
	char path[512];
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;

	if (key == NULL || x == NULL)
		ssl_fail("key or certificate");
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(dir[0] + 1));
	X509_gmtime_adj(X509_getm_notBefore(x), -86400);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)dir, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, key, EVP_sha256()) == 0)
		ssl_fail("X509_sign");
	snprintf(path, sizeof(path), "%s/%s", certsdir, dir);
	if (mkdir(path, 0700) == -1)
		abort();
	snprintf(path, sizeof(path), "%s/%s/fullchain.pem", certsdir, dir);
	if ((f = fopen(path, "w")) == NULL || PEM_write_X509(f, x) != 1)
		abort();
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s/privkey.pem", certsdir, dir);
	if ((f = fopen(path, "w")) == NULL || fchmod(fileno(f), 0600) == -1 ||
	    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
		abort();
	fclose(f);
	*keyp = key;
	return x;
}

/* Once, from fuzz_conn's setup(): certificates, hermit's contexts, the
 * client's context. */
static void
tls_setup(void)
{
	static struct certs certs;
	struct certs_sources src = { .dir = NULL };
	EVP_PKEY *key_of[NAMES], *keys[CERTS_MAX];
	char certsdir[sizeof(basedir) + 8], why[512];

	if (tls_init(why, sizeof(why)) != 0)
		ssl_fail(why);
	snprintf(certsdir, sizeof(certsdir), "%s/certs", basedir);
	if (mkdir(certsdir, 0700) == -1)
		abort();
	for (int k = 0; k < NAMES; k++)
		cert_of[k] = make_cert(certsdir, dir_of[k], &key_of[k]);
	src.dir = certsdir;
	if (certs_gather(&src, &certs, why, sizeof(why)) != 0 || certs.n != NAMES)
		ssl_fail(why);
	for (unsigned i = 0; i < certs.n; i++)
		for (int k = 0; k < NAMES; k++)
			if (X509_cmp(certs.pair[i].leaf, cert_of[k]) == 0)
				keys[i] = key_of[k];
	if (tls_context_new(&certs, keys, NULL, 12, 3600, why, sizeof(why)) != 0)
		ssl_fail(why);
	for (int k = 0; k < NAMES; k++)
		EVP_PKEY_free(key_of[k]);	/* the contexts hold theirs */
	if ((client_ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		ssl_fail("client context");
	SSL_CTX_set_verify(client_ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_mode(client_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	ERR_clear_error();
}

static size_t
tls_script(const uint8_t *data, size_t size)
{
	size_t len;

	memset(&tc, 0, sizeof(tc));
	if (size == 0)
		return 0;
	tc.mode = data[0] & 3;
	tc.v12 = data[0] >> 2 & 1;
	tc.alpn = data[0] >> 3 & 3;
	tc.sni = data[0] >> 5 & 3;
	tc.resume = data[0] >> 7;
	if (tc.sni != 3 || size == 1)
		return 1;
	len = data[1] & 63;
	if (len > size - 2)
		len = size - 2;
	memcpy(tc.name, data + 2, len);
	tc.name[len] = '\0';	/* a NUL inside ends it early */
	return 2 + len;
}

/* The SNI name choice c (0-3) stands for: NULL for none. */
static const char *
sni_name(unsigned c)
{
	const char *n = c == 3 ? tc.name : sni_of[c];

	return n[0] != '\0' ? n : NULL;
}

/* The certificate a name must get: exact, else the wildcard, else the
 * default; -1 for a fuzzed name that is none of these (any will do). */
static int
expected_cert(unsigned c)
{
	if (c < 3)
		return (int)c;
	if (strcasecmp(tc.name, "localhost") == 0 || strcasecmp(tc.name, "localhost.") == 0)
		return 1;
	return -1;
}

/* Moves held-back application data into the client's SSL. */
static void
tls_flush(struct tls_peer *t)
{
	while (t->pendlen > 0 && t->ssl != NULL && !t->dead && !t->wclosed) {
		int n = SSL_write(t->ssl, t->pend, (int)t->pendlen);
		if (n <= 0) {
			int e = SSL_get_error(t->ssl, n);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				t->dead = 1;
			break;
		}
		memmove(t->pend, t->pend + n, t->pendlen - (size_t)n);
		t->pendlen -= (size_t)n;
	}
	ERR_clear_error();	/* the thread's queue is the server's too */
}

/* One peer's handshake, stepped with the server's side. */
static void
handshake(struct conn_ctx *ctx, struct peer *peers, unsigned npeers, unsigned j,
    SSL_SESSION *offer, const char *offer_name, unsigned c)
{
	static const unsigned char alpn[4][13] = { "", "\x08http/1.1", "\x02h2\x08http/1.1", "\x02h2" };
	static const unsigned alpn_len[4] = { 0, 9, 12, 3 };
	struct peer *p = &peers[j];
	struct tls_peer *t = p->tls;
	const unsigned char *sel;
	unsigned sellen;
	const char *name = sni_name(c);
	int want, e;
	char byte;

	if ((t->ssl = SSL_new(client_ctx)) == NULL ||
	    (p->wfd == p->rfd ? SSL_set_fd(t->ssl, p->rfd) != 1 :
	    SSL_set_rfd(t->ssl, p->rfd) != 1 || SSL_set_wfd(t->ssl, p->wfd) != 1))
		ssl_fail("client SSL");
	SSL_set_connect_state(t->ssl);
	SSL_set_min_proto_version(t->ssl, tc.v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	SSL_set_max_proto_version(t->ssl, tc.v12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	if (tc.alpn != 0)
		SSL_set_alpn_protos(t->ssl, alpn[tc.alpn], alpn_len[tc.alpn]);
	if (name != NULL)
		SSL_set_tlsext_host_name(t->ssl, name);
	if (offer != NULL)
		SSL_set_session(t->ssl, offer);
	ERR_clear_error();
	for (int round = 0; round < 200 && !t->done && !t->dead; round++) {
		int r = SSL_do_handshake(t->ssl);
		if (r == 1)
			t->done = 1;
		else if ((e = SSL_get_error(t->ssl, r)) != SSL_ERROR_WANT_READ &&
		    e != SSL_ERROR_WANT_WRITE)
			t->dead = 1;
		ERR_clear_error();
		if (p->open)
			conn_event(ctx, p->c, EPOLLIN | EPOLLOUT);
		check_open(ctx, peers, npeers);
	}
	/* The server's last flight and (TLS 1.3) its ticket. */
	if (t->done && SSL_peek(t->ssl, &byte, 1) <= 0)
		ERR_clear_error();

	want = tc.alpn != 3 && (c < 3 || name == NULL);
	FUZZ_ASSERT(!want || t->done);
	FUZZ_ASSERT(tc.alpn != 3 || !t->done);
	if (!t->done)
		return;
	SSL_get0_alpn_selected(t->ssl, &sel, &sellen);
	FUZZ_ASSERT(tc.alpn == 0 ? sellen == 0 : sellen == 8 && memcmp(sel, "http/1.1", 8) == 0);
	if (expected_cert(c) >= 0)
		FUZZ_ASSERT(X509_cmp(SSL_get0_peer_certificate(t->ssl), cert_of[expected_cert(c)]) == 0);
	if (offer != NULL) {
		int same = strcasecmp(offer_name != NULL ? offer_name : "",
		    name != NULL ? name : "") == 0;
		FUZZ_ASSERT(!SSL_session_reused(t->ssl) || same);
		FUZZ_ASSERT(SSL_session_reused(t->ssl) || !same || c == 3);
	}
}

static void
tls_peers_start(struct conn_ctx *ctx, struct peer *peers, unsigned n)
{
	SSL_SESSION *first = NULL;

	for (unsigned j = 0; j < n; j++) {
		struct peer *p = &peers[j];
		unsigned c = j < 2 ? tc.sni : (tc.sni + 1) % 4;
		if ((p->tls = calloc(1, sizeof(*p->tls))) == NULL)
			abort();
		if (tc.mode == MODE_RAW)
			continue;
		handshake(ctx, peers, n, j, j > 0 && tc.resume ? first : NULL,
		    sni_name(tc.sni), c);
		if (j == 0 && p->tls->done && (first = SSL_get1_session(p->tls->ssl)) != NULL &&
		    !SSL_SESSION_is_resumable(first)) {
			SSL_SESSION_free(first);
			first = NULL;
		}
	}
	SSL_SESSION_free(first);
}

/* Whether the script's bytes go raw to the socket, past the client's SSL. */
static int
raw(const struct tls_peer *t, int big)
{
	return t->ssl == NULL || t->dead || tc.mode == MODE_AFTER_RAW ||
	    (tc.mode == MODE_MIXED && big);
}

static void
tls_peer_send(struct peer *p, const uint8_t *data, size_t n, int big)
{
	struct tls_peer *t = p->tls;

	if (raw(t, big)) {
		ssize_t w = write(p->wfd, data, n);
		(void)w;	/* short or EAGAIN: the peer is ahead */
		return;
	}
	if (n > PEND_MAX - t->pendlen)
		n = PEND_MAX - t->pendlen;	/* a client holds back this much */
	memcpy(t->pend + t->pendlen, data, n);
	t->pendlen += n;
	tls_flush(t);
}

/* Decrypted bytes (raw ones in mode 0), or -1 when there are none; once
 * the client's SSL failed, what arrives is read and dropped. */
static ssize_t
tls_peer_recv(struct peer *p, void *buf, size_t len)
{
	struct tls_peer *t = p->tls;
	int n, e;

	if (tc.mode == MODE_RAW)
		return read(p->rfd, buf, len);
	if (t->ssl == NULL || t->dead || t->eof) {
		while (read(p->rfd, buf, len) > 0)
			;
		return -1;
	}
	tls_flush(t);
	n = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len);
	if (n <= 0) {
		e = SSL_get_error(t->ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			t->eof = 1;
		else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			t->dead = 1;
		n = -1;
	}
	ERR_clear_error();
	return n;
}

/* close_notify, then fuzz_conn sends the FIN (or closes the pipe: so the
 * SSL writes nowhere from now on, that descriptor may be reused). */
static void
tls_peer_half_close(struct peer *p)
{
	struct tls_peer *t = p->tls;

	if (t->ssl == NULL || t->wclosed)
		return;
	if (t->done && !t->dead && tc.mode != MODE_AFTER_RAW) {
		tls_flush(t);
		SSL_shutdown(t->ssl);
		ERR_clear_error();
	}
	t->wclosed = 1;
	SSL_set0_wbio(t->ssl, BIO_new(BIO_s_null()));
}

static void
tls_peer_reset(struct peer *p)
{
	SSL_free(p->tls->ssl);
	p->tls->ssl = NULL;
	ERR_clear_error();
}

/* Whether bytes o[0..len) are TLS records (the last one may be cut). */
static void
check_records(const uint8_t *o, size_t len)
{
	while (len > 0) {
		size_t rec;
		FUZZ_ASSERT(o[0] >= 20 && o[0] <= 23);	/* ccs, alert, handshake, data */
		if (len < 5)
			return;
		FUZZ_ASSERT(o[1] == 3);
		rec = 5 + ((size_t)o[3] << 8 | o[4]);
		FUZZ_ASSERT(rec <= 5 + 16384 + 2048);
		if (rec > len)
			return;
		o += rec;
		len -= rec;
	}
}

/* After the script: the mode's own checks; the client's state freed.
 * Returns whether p->out is decrypted HTTP, to be checked as fuzz_conn
 * checks its peers'. */
static int
tls_peer_done(struct peer *p)
{
	struct tls_peer *t = p->tls;
	int http = tc.mode != MODE_RAW;

	if (tc.mode == MODE_RAW && !p->out_overflow)
		check_records((const uint8_t *)p->out, p->outlen);
	if (tc.mode == MODE_AFTER_RAW)
		FUZZ_ASSERT(p->outlen == 0);
	SSL_free(t->ssl);
	free(t);
	p->tls = NULL;
	ERR_clear_error();
	return http;
}
