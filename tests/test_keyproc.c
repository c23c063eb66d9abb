/*
 * Unit tests for keyproc: real TLS 1.3 and 1.2 handshakes whose server key
 * is in the key process, what it refuses to sign, that the private key
 * never reaches this process's memory, and how the key process is confined.
 * The keys are made at test time, in a child process, so that this process
 * never holds them either.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keyproc.h"
#include "unit.h"

#define NWORKERS 3
#define MASK 0x5a	/* needles travel and rest masked: never plain in memory */

static char dir[64];
static char ec_key[96], rsa_key[96], p521_key[96], ed_key[96], rsa1024_key[96];
static char ec_crt[96], rsa_crt[96];
static X509 *ec_cert, *rsa_cert;
static struct keyproc kp;
static uid_t target_uid;
static int expect_failure;	/* a handshake meant to fail prints nothing */
static gid_t target_gid;

/* ------------------------------------------------------------ keys, made in a child */

static void
write_key(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL))
		_exit(1);
	fclose(f);
}

static void
write_cert(EVP_PKEY *k, const char *path)
{
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	if (x == NULL)
		_exit(1);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"hermit.test",
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, k);
	if (!X509_sign(x, k, EVP_sha256()) || (f = fopen(path, "w")) == NULL ||
	    !PEM_write_X509(f, x))
		_exit(1);
	fclose(f);
	X509_free(x);
}

static void
make_keys(void)
{
	EVP_PKEY *ec, *rsa, *p521, *ed, *rsa1024;

	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	if (ec == NULL || rsa == NULL || p521 == NULL || ed == NULL || rsa1024 == NULL)
		_exit(1);
	write_key(ec, ec_key);
	write_key(rsa, rsa_key);
	write_key(p521, p521_key);
	write_key(ed, ed_key);
	write_key(rsa1024, rsa1024_key);
	write_cert(ec, ec_crt);
	write_cert(rsa, rsa_crt);
	_exit(0);
}

static int
run_in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		fn();
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0 ? 0 : -1;
}

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return x;
}

static int
start(const char *const *paths, unsigned n, struct keyproc *k, char *why, size_t size)
{
	struct keyproc_config cfg = {
		.key_paths = paths, .nkeys = n, .nworkers = NWORKERS,
		.drop = geteuid() == 0, .uid = target_uid, .gid = target_gid,
	};

	return keyproc_start(&cfg, k, why, size);
}

/* ------------------------------------------------------------ handshakes */

struct tls_case {
	const char *name;
	int version;
	const char *groups;		/* client's groups, or NULL */
	const char *sigalgs;		/* client's signature algorithms, or NULL */
	const char *suites;		/* client's TLS 1.3 suites, or NULL */
};

static SSL_CTX *
server_ctx(X509 *cert, EVP_PKEY *key)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());

	if (c == NULL || SSL_CTX_use_certificate(c, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c, key) != 1 || SSL_CTX_check_private_key(c) != 1 ||
	    SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

/* A whole handshake in memory; the client trusts exactly cert. */
static int
handshake(SSL_CTX *sctx, X509 *cert, const struct tls_case *t)
{
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	SSL *c = NULL, *s = NULL;
	BIO *bc, *bs;
	int rc = 0, rs = 0, ok = 0;

	if (cctx == NULL || X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert) != 1)
		goto out;
	SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(cctx, t->version);
	SSL_CTX_set_max_proto_version(cctx, t->version);
	if ((t->groups && SSL_CTX_set1_groups_list(cctx, t->groups) != 1) ||
	    (t->sigalgs && SSL_CTX_set1_sigalgs_list(cctx, t->sigalgs) != 1) ||
	    (t->suites && SSL_CTX_set_ciphersuites(cctx, t->suites) != 1))
		goto out;
	if ((c = SSL_new(cctx)) == NULL || (s = SSL_new(sctx)) == NULL ||
	    BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		goto out;
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
		if (rc != 1 && (rc = SSL_do_handshake(c)) != 1 &&
		    SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
			break;
		if (rs != 1 && (rs = SSL_do_handshake(s)) != 1 &&
		    SSL_get_error(s, rs) != SSL_ERROR_WANT_READ)
			break;
	}
	ok = rc == 1 && rs == 1 && SSL_get_verify_result(c) == X509_V_OK &&
	    SSL_version(c) == t->version;
	if (!ok && !expect_failure) {
		fprintf(stderr, "handshake %s failed:\n", t->name);
		ERR_print_errors_fp(stderr);
	}
out:
	ERR_clear_error();
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	return ok;
}

static const struct tls_case ec_cases[] = {
	{ "ecdsa tls1.3", TLS1_3_VERSION, NULL, NULL, NULL },
	{ "ecdsa tls1.3 sha384 transcript", TLS1_3_VERSION, NULL, NULL, "TLS_AES_256_GCM_SHA384" },
	{ "ecdsa tls1.2 x25519", TLS1_2_VERSION, "X25519:P-256", NULL, NULL },
	{ "ecdsa tls1.2 p-256", TLS1_2_VERSION, "P-256", NULL, NULL },
	{ "ecdsa tls1.2 p-384 sha512", TLS1_2_VERSION, "P-384:P-256", "ECDSA+SHA512", NULL },
};

static const struct tls_case rsa_cases[] = {
	{ "rsa tls1.3 pss", TLS1_3_VERSION, NULL, NULL, NULL },
	{ "rsa tls1.3 pss sha512", TLS1_3_VERSION, NULL, "rsa_pss_rsae_sha512", NULL },
	{ "rsa tls1.2 pss", TLS1_2_VERSION, "P-256", NULL, NULL },
	{ "rsa tls1.2 pkcs1", TLS1_2_VERSION, "X25519", "RSA+SHA256", NULL },
	{ "rsa tls1.2 pkcs1 sha384", TLS1_2_VERSION, "P-384", "RSA+SHA384", NULL },
};

static void
run_cases(X509 *cert, unsigned index, const struct tls_case *cases, size_t n)
{
	EVP_PKEY *key = keyproc_pkey(&kp, index);
	SSL_CTX *sctx = key ? server_ctx(cert, key) : NULL;

	CHECK(key != NULL);
	CHECK(sctx != NULL);
	if (sctx == NULL)
		return;
	for (unsigned w = 0; w < NWORKERS; w++) {
		keyproc_thread_socket(kp.fds[w]);
		for (size_t i = 0; i < n; i++)
			CHECK(handshake(sctx, cert, &cases[i]));
	}
	keyproc_thread_socket(-1);
	SSL_CTX_free(sctx);
	EVP_PKEY_free(key);
}

/* ECDSA and RSA certificates, TLS 1.3 and 1.2, through every worker socket. */
static void
test_handshakes(void)
{
	run_cases(ec_cert, 0, ec_cases, sizeof(ec_cases) / sizeof(ec_cases[0]));
	run_cases(rsa_cert, 1, rsa_cases, sizeof(rsa_cases) / sizeof(rsa_cases[0]));
}

/* A key object from the key process is useless without a socket, and
 * does not match another certificate's key. */
static void
test_key_object(void)
{
	static const struct tls_case t = { "no socket", TLS1_3_VERSION, NULL, NULL, NULL };
	EVP_PKEY *key = keyproc_pkey(&kp, 0);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());

	CHECK(key != NULL && EVP_PKEY_is_a(key, "EC"));
	CHECK(EVP_PKEY_get_bits(key) == 256);
	CHECK(sctx != NULL && SSL_CTX_use_certificate(sctx, rsa_cert) == 1);
	CHECK(SSL_CTX_use_PrivateKey(sctx, key) != 1 || SSL_CTX_check_private_key(sctx) != 1);
	ERR_clear_error();
	SSL_CTX_free(sctx);
	sctx = server_ctx(ec_cert, key);
	CHECK(sctx != NULL);
	keyproc_thread_socket(-1);
	expect_failure = 1;
	CHECK(sctx != NULL && !handshake(sctx, ec_cert, &t));
	expect_failure = 0;
	CHECK(keyproc_pkey(&kp, 2) == NULL);
	SSL_CTX_free(sctx);
	EVP_PKEY_free(key);
}

/* ------------------------------------------------------------ refusals */

static void
tls13_cv(unsigned char *m, size_t hashlen, const char *context)
{
	memset(m, 0x20, 64);
	memcpy(m + 64, context, strlen(context) + 1);
	for (size_t i = 0; i < hashlen; i++)
		m[64 + strlen(context) + 1 + i] = (unsigned char)(i * 7 + 1);
}

static size_t
tls12_ske(unsigned char *m, unsigned group, unsigned pointlen, unsigned claimed)
{
	for (int i = 0; i < 64; i++)
		m[i] = (unsigned char)(i + 1);
	m[64] = 3;
	m[65] = (unsigned char)(group >> 8);
	m[66] = (unsigned char)group;
	m[67] = (unsigned char)claimed;
	memset(m + 68, 0x11, pointlen);
	m[68] = group == 29 ? 0x11 : 0x04;
	return 68 + pointlen;
}

static const char server_ctx_string[] = "TLS 1.3, server CertificateVerify";
static const char client_ctx_string[] = "TLS 1.3, client CertificateVerify";

/* One raw request; returns the status, the signature in sig. */
static int
ask(int fd, uint16_t scheme, unsigned index, const unsigned char *m, size_t len,
    unsigned char *sig, size_t *siglen)
{
	unsigned char req[8 + 1024], rep[8 + KEYPROC_MAX_SIG];
	static uint32_t seq = 1000;
	uint16_t status, n16;
	ssize_t n;

	seq++;
	memcpy(req, &seq, 4);
	memcpy(req + 4, &scheme, 2);
	req[6] = (unsigned char)index;
	req[7] = 0;
	memcpy(req + 8, m, len);
	if (send(fd, req, 8 + len, 0) != (ssize_t)(8 + len))
		return -1;
	if ((n = recv(fd, rep, sizeof(rep), 0)) < 8)
		return -1;
	memcpy(&status, rep + 4, 2);
	memcpy(&n16, rep + 6, 2);
	if (memcmp(rep, &seq, 4) != 0 && status != KEYPROC_E_MALFORMED)
		return -1;
	if (sig != NULL) {
		memcpy(sig, rep + 8, n16);
		*siglen = n16;
	}
	return status;
}

static int
verifies(X509 *cert, const char *md, int pss, const unsigned char *m, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx;
	int ok;

	ok = ctx != NULL && EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL,
	    X509_get0_pubkey(cert), NULL) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
	    EVP_DigestVerify(ctx, sig, siglen, m, len) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

/* What the key process refuses, and that it goes on serving afterwards. */
static void
test_refusals(void)
{
	unsigned char m[600], sig[KEYPROC_MAX_SIG];
	size_t len, siglen;
	int fd = kp.fds[1];

	/* arbitrary data, and a digest-sized blob */
	memset(m, 'A', sizeof(m));
	CHECK(ask(fd, 0x0403, 0, m, 100, NULL, NULL) == KEYPROC_E_REFUSED);
	CHECK(ask(fd, 0x0403, 0, m, 32, NULL, NULL) == KEYPROC_E_REFUSED);
	CHECK(ask(fd, 0x0804, 1, m, 130, NULL, NULL) == KEYPROC_E_REFUSED);
	/* a CertificateVerify with the client's context string */
	tls13_cv(m, 32, client_ctx_string);
	CHECK(ask(fd, 0x0403, 0, m, 98 + 32, NULL, NULL) == KEYPROC_E_REFUSED);
	/* a server CertificateVerify with a hash of the wrong length */
	tls13_cv(m, 40, server_ctx_string);
	CHECK(ask(fd, 0x0403, 0, m, 98 + 40, NULL, NULL) == KEYPROC_E_REFUSED);
	tls13_cv(m, 64, server_ctx_string);
	CHECK(ask(fd, 0x0403, 0, m, 98 + 64, NULL, NULL) == KEYPROC_E_REFUSED);
	/* a ServerKeyExchange whose point length is not the group's */
	len = tls12_ske(m, 23, 64, 64);
	CHECK(ask(fd, 0x0403, 0, m, len, NULL, NULL) == KEYPROC_E_REFUSED);
	len = tls12_ske(m, 29, 32, 33);
	CHECK(ask(fd, 0x0403, 0, m, len, NULL, NULL) == KEYPROC_E_REFUSED);
	len = tls12_ske(m, 24, 97, 97);
	CHECK(ask(fd, 0x0403, 0, m, len + 1, NULL, NULL) == KEYPROC_E_REFUSED);
	len = tls12_ske(m, 25, 133, 133);	/* P-521: not offered */
	CHECK(ask(fd, 0x0403, 0, m, len, NULL, NULL) == KEYPROC_E_REFUSED);
	len = tls12_ske(m, 23, 65, 65);
	m[68] = 0x02;				/* compressed: not what TLS 1.2 sends */
	CHECK(ask(fd, 0x0403, 0, m, len, NULL, NULL) == KEYPROC_E_REFUSED);
	/* an unknown key index; a scheme for another kind of key */
	tls13_cv(m, 32, server_ctx_string);
	CHECK(ask(fd, 0x0403, 2, m, 130, NULL, NULL) == KEYPROC_E_KEY);
	CHECK(ask(fd, 0x0403, 200, m, 130, NULL, NULL) == KEYPROC_E_KEY);
	CHECK(ask(fd, 0x0804, 0, m, 130, NULL, NULL) == KEYPROC_E_SCHEME);
	CHECK(ask(fd, 0x0403, 1, m, 130, NULL, NULL) == KEYPROC_E_SCHEME);
	CHECK(ask(fd, 0x1234, 0, m, 130, NULL, NULL) == KEYPROC_E_SCHEME);
	/* TLS 1.3: no PKCS#1 v1.5, and ECDSA's scheme names the key's curve */
	CHECK(ask(fd, 0x0401, 1, m, 130, NULL, NULL) == KEYPROC_E_SCHEME);
	CHECK(ask(fd, 0x0503, 0, m, 130, NULL, NULL) == KEYPROC_E_SCHEME);
	/* too long for a request, and too short */
	CHECK(ask(fd, 0x0403, 0, m, KEYPROC_MAX_TBS + 1, NULL, NULL) == KEYPROC_E_MALFORMED);
	CHECK(send(fd, "abc", 3, 0) == 3);
	CHECK(recv(fd, m, sizeof(m), 0) == 8 && m[4] == KEYPROC_E_MALFORMED);

	/* and still it signs what it should, with the right key */
	tls13_cv(m, 32, server_ctx_string);
	CHECK(ask(fd, 0x0403, 0, m, 130, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(ec_cert, "SHA256", 0, m, 130, sig, siglen));
	tls13_cv(m, 48, server_ctx_string);
	CHECK(ask(fd, 0x0805, 1, m, 146, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(rsa_cert, "SHA384", 1, m, 146, sig, siglen));
	CHECK(!verifies(rsa_cert, "SHA384", 1, m, 145, sig, siglen));
	len = tls12_ske(m, 29, 32, 32);
	CHECK(ask(fd, 0x0401, 1, m, len, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(rsa_cert, "SHA256", 0, m, len, sig, siglen));
	len = tls12_ske(m, 24, 97, 97);
	CHECK(ask(fd, 0x0603, 0, m, len, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(ec_cert, "SHA512", 0, m, len, sig, siglen));
	CHECK(kill(kp.pid, 0) == 0);
}

/* The same decisions, without the key process. */
static void
test_check(void)
{
	unsigned char m[200];
	size_t len;

	tls13_cv(m, 32, server_ctx_string);
	CHECK(keyproc_check(0x0403, EVP_PKEY_EC, NID_X9_62_prime256v1, m, 130) == KEYPROC_OK);
	CHECK(keyproc_check(0x0403, EVP_PKEY_EC, NID_X9_62_prime256v1, m, 129) == KEYPROC_E_REFUSED);
	CHECK(keyproc_check(0x0503, EVP_PKEY_EC, NID_secp384r1, m, 130) == KEYPROC_OK);
	CHECK(keyproc_check(0x0804, EVP_PKEY_RSA, 0, m, 130) == KEYPROC_OK);
	CHECK(keyproc_check(0x0601, EVP_PKEY_RSA, 0, m, 130) == KEYPROC_E_SCHEME);
	m[10] = 0x21;
	CHECK(keyproc_check(0x0403, EVP_PKEY_EC, NID_X9_62_prime256v1, m, 130) == KEYPROC_E_REFUSED);
	len = tls12_ske(m, 23, 65, 65);
	CHECK(keyproc_check(0x0603, EVP_PKEY_EC, NID_X9_62_prime256v1, m, len) == KEYPROC_OK);
	CHECK(keyproc_check(0x0401, EVP_PKEY_RSA, 0, m, len) == KEYPROC_OK);
	m[64] = 1;	/* explicit curve parameters */
	CHECK(keyproc_check(0x0401, EVP_PKEY_RSA, 0, m, len) == KEYPROC_E_REFUSED);
}

/* ------------------------------------------------------------ the key is not here */

struct needle {
	size_t len;
	unsigned char masked[64];
};

static int needle_pipe = -1;

static void
send_needle(const unsigned char *p, size_t len, int reversed)
{
	struct needle n = { .len = len };

	for (size_t i = 0; i < len; i++)
		n.masked[i] = (unsigned char)((reversed ? p[len - 1 - i] : p[i]) ^ MASK);
	if (write(needle_pipe, &n, sizeof(n)) != (ssize_t)sizeof(n))
		_exit(1);
}

/* A window from the middle of a big number, in both byte orders (OpenSSL
 * keeps numbers as little-endian words). */
static void
send_bn(EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	if (!EVP_PKEY_get_bn_param(k, param, &bn) || (n = BN_num_bytes(bn)) < 48 ||
	    n > (int)sizeof(buf))
		_exit(1);
	BN_bn2bin(bn, buf);
	send_needle(buf + n / 2 - 12, 24, 0);
	send_needle(buf + n / 2 - 12, 24, 1);
	BN_clear_free(bn);
}

/* The start of line n of a PEM file (line 0 is its header). */
static const unsigned char *
pem_line(const unsigned char *pem, size_t len, int n)
{
	const unsigned char *p = pem, *end = pem + len;

	while (n-- > 0 && (p = memchr(p, '\n', (size_t)(end - p))) != NULL)
		p++;
	if (p == NULL || end - p < 24)
		_exit(1);
	return p;
}

/* In a child: read each key file, send windows of what must not be found
 * in the parent: the PEM text where it encodes private numbers (the second
 * line of a PKCS#8 P-256 key, the ninth of an RSA-2048 one: inside the
 * scalar, and inside d), and the private numbers themselves. */
static void
needles_child(void)
{
	const char *paths[] = { ec_key, rsa_key };
	unsigned char pem[8192];
	EVP_PKEY *k;
	ssize_t n;
	int fd;

	for (int i = 0; i < 2; i++) {
		if ((fd = open(paths[i], O_RDONLY)) == -1 || (n = read(fd, pem, sizeof(pem))) < 200)
			_exit(1);
		close(fd);
		send_needle(pem_line(pem, (size_t)n, i == 0 ? 2 : 9), i == 0 ? 16 : 24, 0);
		FILE *f = fopen(paths[i], "r");
		if (f == NULL || (k = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL)
			_exit(1);
		fclose(f);
		if (i == 0) {
			BIGNUM *priv = NULL;
			unsigned char b[32];
			if (!EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &priv) ||
			    BN_bn2binpad(priv, b, 32) != 32)
				_exit(1);
			send_needle(b + 4, 24, 0);
			send_needle(b + 4, 24, 1);
		} else {
			send_bn(k, OSSL_PKEY_PARAM_RSA_D);
			send_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR1);
			send_bn(k, OSSL_PKEY_PARAM_RSA_FACTOR2);
		}
	}
	_exit(0);
}

static int
masked_at(const unsigned char *p, const struct needle *n)
{
	for (size_t i = 0; i < n->len; i++)
		if (p[i] != (n->masked[i] ^ MASK))
			return 0;
	return 1;
}

/* Searches every writable mapping of this process (heap, stacks, data,
 * anonymous memory) through /proc/self/mem for any needle. */
static int
found_in_memory(const struct needle *needles, unsigned count)
{
	static unsigned char *buf;
	const size_t chunk = 1 << 20;
	unsigned long lo, hi;
	char line[512], perms[8];
	int found = 0, mem;
	FILE *maps;

	if (buf == NULL && (buf = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
	if ((maps = fopen("/proc/self/maps", "r")) == NULL ||
	    (mem = open("/proc/self/mem", O_RDONLY)) == -1)
		return -1;
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		/* Beyond 1 GiB: a sanitizer's shadow memory, terabytes of zeros. */
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[1] != 'w' ||
		    strstr(line, "[vvar") != NULL || lo == (unsigned long)buf ||
		    hi - lo > 1UL << 30)
			continue;
		for (unsigned long a = lo; !found && a < hi; a += chunk - 64) {
			size_t want = hi - a < chunk ? hi - a : chunk;
			ssize_t got = pread(mem, buf, want, (off_t)a);
			for (ssize_t i = 0; !found && i + 24 <= got; i++)
				for (unsigned j = 0; !found && j < count; j++)
					if (buf[i] == (needles[j].masked[0] ^ MASK) &&
					    masked_at(buf + i, &needles[j])) {
						found = 1;
						if (getenv("KEYPROC_DEBUG"))
							fprintf(stderr, "needle %u (kp at %p) at %lx in %s", j, (void *)&kp,
							    a + (unsigned long)i, line);
					}
			if (hi - a <= chunk)
				break;
		}
	}
	close(mem);
	fclose(maps);
	return found;
}

/* After handshakes with both keys, no piece of either private key is in
 * this process; the search does find one that is put there on purpose. */
static void
test_key_not_in_parent(void)
{
	struct needle needles[16];
	unsigned count = 0;
	unsigned char *planted;
	int p[2];

	CHECK(pipe(p) == 0);
	needle_pipe = p[1];
	CHECK(run_in_child(needles_child) == 0);
	close(p[1]);
	while (count < 16 && read(p[0], &needles[count], sizeof(needles[0])) ==
	    (ssize_t)sizeof(needles[0]))
		count++;
	close(p[0]);
	CHECK(count == 10);
	CHECK(found_in_memory(needles, count) == 0);

	/* The search works: a needle placed in the heap is found. */
	planted = malloc(4096);
	CHECK(planted != NULL);
	if (planted == NULL)
		return;
	for (size_t i = 0; i < needles[3].len; i++)
		planted[1000 + i] = needles[3].masked[i] ^ MASK;
	CHECK(found_in_memory(needles, count) == 1);
	OPENSSL_cleanse(planted, 4096);
	free(planted);
}

/* ------------------------------------------------------------ confinement */

static int
status_line(pid_t pid, const char *file, const char *key, char *out, size_t size)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	FILE *f;
	int r = -1;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, klen) == 0) {
			snprintf(out, size, "%s", line + klen);
			out[strcspn(out, "\n")] = '\0';
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

static int
count_fds(pid_t pid)
{
	char path[64], link[64];
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
		if (readlink(path, link, sizeof(link)) > 0)
			n++;
		else if (errno == EACCES)
			return -1;
	}
	return n;
}

/* Seccomp in filter mode, no_new_privs, the workers' identity, not
 * dumpable (its /proc files belong to root), no processes, no core files,
 * nothing open but stdin, stdout, stderr and its sockets. */
static void
test_confined(void)
{
	char v[128], path[64];
	struct stat st;
	int fds;

	CHECK(status_line(kp.pid, "status", "Seccomp:", v, sizeof(v)) == 0 && atoi(v) == 2);
	CHECK(status_line(kp.pid, "status", "NoNewPrivs:", v, sizeof(v)) == 0 && atoi(v) == 1);
	CHECK(status_line(kp.pid, "status", "Uid:", v, sizeof(v)) == 0 &&
	    (uid_t)atoi(v) == target_uid);
	CHECK(status_line(kp.pid, "status", "CapEff:", v, sizeof(v)) == 0 &&
	    strtoull(v, NULL, 16) == 0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)kp.pid);
	CHECK(stat(path, &st) == 0 && st.st_uid == 0);
	CHECK(status_line(kp.pid, "limits", "Max processes", v, sizeof(v)) == 0 &&
	    atoi(v) == 0);
	CHECK(status_line(kp.pid, "limits", "Max core file size", v, sizeof(v)) == 0 &&
	    atoi(v) == 0);
	if ((fds = count_fds(kp.pid)) != -1)
		CHECK(fds == 3 + NWORKERS);
}

/* ------------------------------------------------------------ lifetime */

static int
wait_for(pid_t pid, int *status)
{
	for (int i = 0; i < 500; i++) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1)
			return -1;
		usleep(10000);
	}
	return -1;
}

static int death_pipe = -1;

/* Starts a key process, leaves its sockets open in another process (so
 * that only the death signal can end it), and dies. */
static void
orphan_child(void)
{
	const char *paths[] = { ec_key };
	struct keyproc k;
	char why[256];
	pid_t holder;

	if (start(paths, 1, &k, why, sizeof(why)) == -1)
		_exit(1);
	if ((holder = fork()) == 0) {
		pause();
		_exit(0);
	}
	if (holder == -1 || write(death_pipe, &k.pid, sizeof(k.pid)) != (ssize_t)sizeof(k.pid) ||
	    write(death_pipe, &holder, sizeof(holder)) != (ssize_t)sizeof(holder))
		_exit(1);
	_exit(0);
}

/* The key process dies (SIGKILL) when its parent dies, even with its
 * sockets still open somewhere. */
static void
test_dies_with_parent(void)
{
	pid_t kpid = -1, holder = -1;
	int p[2], status = 0;

	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0);
	CHECK(pipe(p) == 0);
	death_pipe = p[1];
	CHECK(run_in_child(orphan_child) == 0);
	close(p[1]);
	CHECK(read(p[0], &kpid, sizeof(kpid)) == (ssize_t)sizeof(kpid) && kpid > 0);
	CHECK(read(p[0], &holder, sizeof(holder)) == (ssize_t)sizeof(holder) && holder > 0);
	close(p[0]);
	if (kpid > 0) {
		CHECK(wait_for(kpid, &status) == 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	if (holder > 0) {
		kill(holder, SIGKILL);
		(void)wait_for(holder, &status);
	}
}

/* It exits on its own once every worker's socket is closed. */
static void
test_exits_when_workers_gone(void)
{
	const char *paths[] = { rsa_key };
	struct keyproc k;
	char why[256];
	int status = -1;

	CHECK(start(paths, 1, &k, why, sizeof(why)) == 0);
	keyproc_free(&k);
	CHECK(wait_for(k.pid, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "  key process: status %#x\n", status);
}

/* ------------------------------------------------------------ key files */

static void
refused_key(const char *path, const char *reason)
{
	const char *paths[] = { ec_key, path };
	struct keyproc k;
	char why[256] = "";

	CHECK(start(paths, 2, &k, why, sizeof(why)) == -1);
	CHECK(k.failed_key == 1);	/* the second key: main names its option */
	CHECK(strstr(why, path) != NULL);
	CHECK(strstr(why, reason) != NULL);
	if (strstr(why, reason) == NULL)
		fprintf(stderr, "  got: %s\n", why);
}

/* Keys of other kinds or sizes are refused with a message naming the file. */
static void
test_refused_keys(void)
{
	char missing[128], notkey[128];

	refused_key(p521_key, "P-256 or P-384");
	refused_key(ed_key, "neither");
	refused_key(rsa1024_key, "2048");
	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	refused_key(missing, "No such file");
	refused_key(ec_crt, "not a PEM private key");
	snprintf(notkey, sizeof(notkey), "%s", rsa_crt);
	refused_key(notkey, "not a PEM private key");
}

/* As many keys as an index byte can name: the last one signs with its own
 * key; one more is refused before any is read. */
static void
test_many_keys(void)
{
	static const char *paths[KEYPROC_MAX_KEYS + 1];
	unsigned char m[600], sig[KEYPROC_MAX_SIG];
	struct keyproc k;
	EVP_PKEY *pk;
	size_t siglen = 0;
	char why[256] = "";

	for (unsigned i = 0; i <= KEYPROC_MAX_KEYS; i++)
		paths[i] = i == KEYPROC_MAX_KEYS - 1 ? rsa_key : ec_key;
	CHECK(KEYPROC_MAX_KEYS == 256);
	CHECK(start(paths, KEYPROC_MAX_KEYS + 1, &k, why, sizeof(why)) == -1);
	CHECK(strstr(why, "between 1 and 256") != NULL);
	CHECK(k.failed_key == -1);
	if (start(paths, KEYPROC_MAX_KEYS, &k, why, sizeof(why)) == -1) {
		CHECK(!"256 keys");
		fprintf(stderr, "  got: %s\n", why);
		return;
	}
	CHECK(k.nkeys == KEYPROC_MAX_KEYS);
	CHECK(EVP_PKEY_eq(k.pub[255], X509_get0_pubkey(rsa_cert)) == 1);
	CHECK(EVP_PKEY_eq(k.pub[254], X509_get0_pubkey(ec_cert)) == 1);
	CHECK((pk = keyproc_pkey(&k, 255)) != NULL);
	EVP_PKEY_free(pk);
	CHECK(keyproc_pkey(&k, 256) == NULL);
	tls13_cv(m, 32, server_ctx_string);
	CHECK(ask(k.fds[0], 0x0804, 255, m, 130, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(rsa_cert, "SHA2-256", 1, m, 130, sig, siglen));
	CHECK(ask(k.fds[0], 0x0403, 254, m, 130, sig, &siglen) == KEYPROC_OK);
	CHECK(verifies(ec_cert, "SHA2-256", 0, m, 130, sig, siglen));
	keyproc_free(&k);
}

int
main(void)
{
	const char *paths[2];
	char why[256];

	snprintf(dir, sizeof(dir), "%s/hermit-keyproc-XXXXXX",
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (strlen(dir) > 40 || mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(ec_key, sizeof(ec_key), "%s/ec.pem", dir);
	snprintf(rsa_key, sizeof(rsa_key), "%s/rsa.pem", dir);
	snprintf(p521_key, sizeof(p521_key), "%s/p521.pem", dir);
	snprintf(ed_key, sizeof(ed_key), "%s/ed25519.pem", dir);
	snprintf(rsa1024_key, sizeof(rsa1024_key), "%s/rsa1024.pem", dir);
	snprintf(ec_crt, sizeof(ec_crt), "%s/ec.crt", dir);
	snprintf(rsa_crt, sizeof(rsa_crt), "%s/rsa.crt", dir);
	target_uid = geteuid() == 0 ? 65534 : geteuid();
	target_gid = geteuid() == 0 ? 65534 : getegid();
	if (run_in_child(make_keys) == -1 || (ec_cert = read_cert(ec_crt)) == NULL ||
	    (rsa_cert = read_cert(rsa_crt)) == NULL) {
		fprintf(stderr, "cannot make the test keys\n");
		return 1;
	}
	/* The key process reads them as the workers' identity would not:
	 * it reads them before dropping, as root. */
	paths[0] = ec_key;
	paths[1] = rsa_key;
	if (start(paths, 2, &kp, why, sizeof(why)) == -1) {
		fprintf(stderr, "keyproc_start: %s\n", why);
		return 1;
	}

	test_check();
	test_handshakes();
	test_key_object();
	test_refusals();
	test_confined();
	test_key_not_in_parent();
	test_dies_with_parent();
	test_exits_when_workers_gone();
	test_refused_keys();
	test_many_keys();

	CHECK(kill(kp.pid, 0) == 0);	/* it survived everything above */
	keyproc_free(&kp);
	X509_free(ec_cert);
	X509_free(rsa_cert);
	{
		const char *files[] = { ec_key, rsa_key, p521_key, ed_key, rsa1024_key,
		    ec_crt, rsa_crt };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
			unlink(files[i]);
		rmdir(dir);
	}
	return unit_done("keyproc");
}
