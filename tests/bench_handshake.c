/*
 * bench_handshake: what keeping the private key in the key process costs.
 *
 * Full TLS handshakes in memory (a client and a server SSL over a BIO
 * pair, no sockets, no session offered), the server's key either loaded
 * in this process (as nginx and h2o sign) or held by the key process
 * (as hermit signs). The figure is server CPU per handshake: this
 * thread's CPU time inside the server's calls only (the client's work is
 * not counted), plus, for the key process, the CPU time the key process
 * used (from /proc/PID/schedstat, in nanoseconds). The runs alternate,
 * several rounds; the median of each is printed, and the cost: the median
 * of the rounds' differences (each round's two runs are back to back),
 * also as a share of the in-process handshake.
 *
 * usage: bench_handshake [HANDSHAKES [ROUNDS]]   (defaults 2000 and 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "keyproc.h"

#define MAX_ROUNDS 15

struct pair {
	const char *name;
	const char *type, *param;	/* for EVP_PKEY_Q_keygen */
	size_t bits;
	EVP_PKEY *key;			/* in this process: the baseline only */
	X509 *cert;
	char key_path[128];
};

static struct keyproc kp;

static double
thread_cpu_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* The key process's CPU time so far, in nanoseconds (-1 if unknown). */
static double
keyproc_cpu_ns(void)
{
	char path[64];
	double ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)kp.pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(f, "%lf", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

static X509 *
self_signed(EVP_PKEY *k)
{
	X509 *x = X509_new();

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"bench.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	if (!X509_sign(x, k, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* The settings of hermit's own context that change a handshake's cost;
 * made in the key process's library context when the key is its, as
 * hermit makes it (keyproc.h). */
static SSL_CTX *
server_ctx(OSSL_LIB_CTX *libctx, X509 *cert, EVP_PKEY *key, int version)
{
	SSL_CTX *c = SSL_CTX_new_ex(libctx, NULL, TLS_server_method());

	if (c == NULL || SSL_CTX_use_certificate(c, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(c, key) != 1 ||
	    SSL_CTX_set_min_proto_version(c, version) != 1 ||
	    SSL_CTX_set_max_proto_version(c, version) != 1 ||
	    SSL_CTX_set_cipher_list(c, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") != 1) {
		ERR_print_errors_fp(stderr);
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
	return c;
}

/* One full handshake; adds the server's CPU time to *server_ns. */
static int
handshake(SSL_CTX *sctx, SSL_CTX *cctx, double *server_ns)
{
	SSL *c = SSL_new(cctx), *s;
	BIO *bc, *bs;
	int rc = 0, rs = 0;
	double t0 = thread_cpu_ns();

	s = SSL_new(sctx);
	*server_ns += thread_cpu_ns() - t0;
	if (c == NULL || s == NULL || BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		goto out;
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1 && (rc = SSL_do_handshake(c)) != 1 &&
		    SSL_get_error(c, rc) != SSL_ERROR_WANT_READ)
			break;
		t0 = thread_cpu_ns();
		if (rs != 1)
			rs = SSL_do_handshake(s);
		*server_ns += thread_cpu_ns() - t0;
		if (rs != 1 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ)
			break;
	}
out:
	SSL_free(c);
	t0 = thread_cpu_ns();
	SSL_free(s);
	*server_ns += thread_cpu_ns() - t0;
	return rc == 1 && rs == 1;
}

/* Server CPU per handshake in microseconds, or -1; *key_us: the key
 * process's part of it. */
static double
run(SSL_CTX *sctx, SSL_CTX *cctx, unsigned n, int isolated, double *key_us)
{
	double server_ns = 0, kp0 = isolated ? keyproc_cpu_ns() : 0, kp1;

	for (unsigned i = 0; i < n; i++)
		if (!handshake(sctx, cctx, &server_ns)) {
			ERR_print_errors_fp(stderr);
			return -1;
		}
	if (isolated) {
		if ((kp1 = keyproc_cpu_ns()) < 0 || kp0 < 0)
			return -1;
		server_ns += kp1 - kp0;
		*key_us = (kp1 - kp0) / n / 1000;
	}
	return server_ns / n / 1000;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
bench(struct pair *p, unsigned index, int version, unsigned n, unsigned rounds)
{
	EVP_PKEY *remote = keyproc_pkey(&kp, index);
	SSL_CTX *local_ctx = server_ctx(NULL, p->cert, p->key, version);
	SSL_CTX *remote_ctx = remote ? server_ctx(kp.libctx, p->cert, remote, version) : NULL;
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	double local[MAX_ROUNDS], isolated[MAX_ROUNDS], key[MAX_ROUNDS], cost[MAX_ROUNDS], unused;
	int ok = 0;

	if (local_ctx == NULL || remote_ctx == NULL || cctx == NULL)
		goto out;
	SSL_CTX_set_options(cctx, SSL_OP_NO_TICKET);
	for (unsigned r = 0; r < rounds; r++) {
		local[r] = run(local_ctx, cctx, n, 0, &unused);
		isolated[r] = run(remote_ctx, cctx, n, 1, &key[r]);
		if (local[r] < 0 || isolated[r] < 0)
			goto out;
		/* The two runs of a round are back to back: their difference
		 * holds even when the machine's speed drifts between rounds. */
		cost[r] = isolated[r] - local[r];
	}
	qsort(local, rounds, sizeof(double), cmp_double);
	qsort(isolated, rounds, sizeof(double), cmp_double);
	qsort(key, rounds, sizeof(double), cmp_double);
	qsort(cost, rounds, sizeof(double), cmp_double);
	printf("%-8s TLS 1.%d  %7.1f us in-process  %7.1f us with the key process"
	    " (%5.1f of it there)  cost %+5.1f us (per round %+.1f to %+.1f)  %+5.1f%%\n",
	    p->name, version == TLS1_3_VERSION ? 3 : 2, local[rounds / 2], isolated[rounds / 2],
	    key[rounds / 2], cost[rounds / 2], cost[0], cost[rounds - 1],
	    cost[rounds / 2] / local[rounds / 2] * 100);
	ok = 1;
out:
	SSL_CTX_free(local_ctx);
	SSL_CTX_free(remote_ctx);
	SSL_CTX_free(cctx);
	EVP_PKEY_free(remote);
	return ok;
}

int
main(int argc, char **argv)
{
	struct pair pairs[] = {
		{ "ecdsa", "EC", "P-256", 0, NULL, NULL, "" },
		{ "rsa2048", "RSA", NULL, 2048, NULL, NULL, "" },
	};
	const unsigned npairs = sizeof(pairs) / sizeof(pairs[0]);
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 2000;
	unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	const char *paths[2];
	char dir[64], why[256];
	struct keyproc_config cfg;
	int ok = 1;

	if (n == 0 || rounds == 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_handshake [HANDSHAKES [ROUNDS<=%d]]\n", MAX_ROUNDS);
		return 2;
	}
	snprintf(dir, sizeof(dir), "/tmp/hermit-bench-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	for (unsigned i = 0; i < npairs; i++) {
		struct pair *p = &pairs[i];
		FILE *f;

		p->key = p->bits ? EVP_PKEY_Q_keygen(NULL, NULL, p->type, p->bits)
		    : EVP_PKEY_Q_keygen(NULL, NULL, p->type, p->param);
		snprintf(p->key_path, sizeof(p->key_path), "%s/%s.pem", dir, p->name);
		if (p->key == NULL || (p->cert = self_signed(p->key)) == NULL ||
		    (f = fopen(p->key_path, "w")) == NULL) {
			fprintf(stderr, "cannot make the %s key\n", p->name);
			return 1;
		}
		PEM_write_PrivateKey(f, p->key, NULL, NULL, 0, NULL, NULL);
		fclose(f);
		paths[i] = p->key_path;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.key_paths = paths;
	cfg.nkeys = npairs;
	cfg.nworkers = 1;
	cfg.drop = geteuid() == 0;
	cfg.uid = cfg.drop ? 65534 : geteuid();
	cfg.gid = cfg.drop ? 65534 : getegid();
	if (keyproc_start(&cfg, &kp, why, sizeof(why)) == -1) {
		fprintf(stderr, "keyproc_start: %s\n", why);
		return 1;
	}
	for (unsigned i = 0; i < npairs; i++)
		unlink(pairs[i].key_path);
	rmdir(dir);
	keyproc_thread_socket(kp.fds[0]);
	printf("server CPU per full handshake (median of %u rounds of %u; client not counted)\n",
	    rounds, n);
	for (unsigned i = 0; i < npairs && ok; i++)
		ok = bench(&pairs[i], i, TLS1_3_VERSION, n, rounds) &&
		    bench(&pairs[i], i, TLS1_2_VERSION, n, rounds);
	keyproc_thread_socket(-1);
	for (unsigned i = 0; i < npairs; i++) {
		EVP_PKEY_free(pairs[i].key);
		X509_free(pairs[i].cert);
	}
	keyproc_free(&kp);
	return ok ? 0 : 1;
}
