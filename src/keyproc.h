/*
 * keyproc: the TLS private keys live in a separate, confined key process;
 * the worker threads, which parse client input, never hold them. Workers
 * ask the key process to sign, and it signs only what a TLS handshake needs
 * signed: a TLS 1.3 server CertificateVerify input, or TLS 1.2 ECDHE
 * ServerKeyExchange parameters. It receives the whole message (not a
 * digest), checks its shape, and hashes it itself.
 *
 * Order, called from main:
 *   keyproc_start()    in the gather step, single-threaded, after the target
 *                      identity is known and other descriptors are closed,
 *                      before confine_enter: forks the key process (which
 *                      reads the key files itself, confines itself and
 *                      serves), creates one socketpair per worker, and hands
 *                      back only the public keys. Must run on the thread
 *                      that outlives the server (main): the key process is
 *                      killed when that thread exits.
 *   keyproc_pkey()     before sealing: one key object per key, for
 *                      SSL_CTX_use_PrivateKey(); it holds the public key and
 *                      the key's index, and signs through the key process.
 *                      Its library context (kp->libctx) also holds OpenSSL's
 *                      default provider, preferred for every other algorithm:
 *                      TLS contexts made in it (SSL_CTX_new_ex) find the
 *                      signing provider at once, where one made elsewhere
 *                      first fails a lookup on every handshake.
 *   keyproc_thread_socket()  once in each worker thread, with its own socket
 *                      (kp->fds[i]): signatures made on that thread go there.
 * The sockets must be in main's list of descriptors to keep. The workers'
 * seccomp allowlist needs sendto and recvfrom (it has them).
 * The server's TLS 1.2 cipher list must be ECDHE-only (RSA key transport
 * would need a decryption the key process refuses) and its groups limited to
 * X25519, P-256 and P-384.
 *
 * Protocol, one SOCK_SEQPACKET message each way, host byte order, one
 * request at a time per socket:
 *   request  u32 seq, u16 scheme (TLS SignatureScheme), u8 key index, u8 0,
 *            then the whole to-be-signed message (at most KEYPROC_MAX_TBS)
 *   reply    u32 seq (echoed), u16 status (KEYPROC_OK or KEYPROC_E_*),
 *            u16 length, then the signature
 * Schemes: ecdsa_secp256r1_sha256, ecdsa_secp384r1_sha384,
 * ecdsa_secp521r1_sha512 for EC keys; rsa_pss_rsae_sha256/384/512 for RSA
 * keys, and rsa_pkcs1_sha256/384/512 for RSA keys in TLS 1.2 only.
 */
#ifndef HERMIT_KEYPROC_H
#define HERMIT_KEYPROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <openssl/evp.h>

/* Keys: an index is one byte. The parent holds a pointer per key (2 KiB);
 * the key process a small struct per key, only for the keys it loaded. */
#define KEYPROC_MAX_KEYS 256
#define KEYPROC_MAX_WORKERS 256
#define KEYPROC_MAX_TBS 512	/* a handshake message is at most 165 bytes */
#define KEYPROC_MAX_SIG 1024	/* RSA up to 8192 bits */
#define KEYPROC_TIMEOUT_S 5	/* a worker waits at most this long for a signature */

enum keyproc_status {
	KEYPROC_OK = 0,
	KEYPROC_E_MALFORMED,	/* not a request */
	KEYPROC_E_KEY,		/* no key with that index */
	KEYPROC_E_SCHEME,	/* scheme unknown, or not for this key or message */
	KEYPROC_E_REFUSED,	/* not a TLS handshake message it signs */
	KEYPROC_E_SIGN,		/* signing failed */
};

struct keyproc_config {
	const char *const *key_paths;	/* PEM private keys */
	unsigned nkeys;
	unsigned nworkers;
	int drop;		/* started as root: become uid/gid (the workers' identity) */
	uid_t uid;
	gid_t gid;
	int seccomp_errno;	/* debug: forbidden calls fail with EPERM instead of a kill */
};

struct keyproc {
	pid_t pid;
	unsigned nkeys, nworkers;
	int failed_key;		/* after a failed start: the key (index) at fault, or -1 */
	EVP_PKEY *pub[KEYPROC_MAX_KEYS];	/* public keys only */
	int fds[KEYPROC_MAX_WORKERS];		/* the workers' ends */
	OSSL_LIB_CTX *libctx;			/* holds the signing provider */
	OSSL_PROVIDER *provider;
	OSSL_PROVIDER *defaults;		/* OpenSSL's default provider, in libctx */
};

/* Returns 0, or -1 with why set (naming the file and the reason, never
 * content) and kp->failed_key set. On success the caller's process holds
 * no private key bytes. */
int keyproc_start(const struct keyproc_config *cfg, struct keyproc *kp, char *why,
    size_t whysize);

/* A key object for SSL_CTX_use_PrivateKey(): public key plus index; its
 * signatures are made by the key process. NULL on failure. */
EVP_PKEY *keyproc_pkey(struct keyproc *kp, unsigned index);

/* Which socket this thread's signatures go to (-1: none). */
void keyproc_thread_socket(int fd);

/* Frees the public keys and the provider and closes the workers' sockets
 * (the key process then exits: every socket has hung up). Free every key
 * object from keyproc_pkey() (and the SSL_CTX holding it) first. */
void keyproc_free(struct keyproc *kp);

/* The key process's decision, exposed for tests: KEYPROC_OK when it would
 * sign tbs with scheme and a key of EVP_PKEY type keytype (EVP_PKEY_EC with
 * curve NID, or EVP_PKEY_RSA). */
enum keyproc_status keyproc_check(uint16_t scheme, int keytype, int curve,
    const unsigned char *tbs, size_t len);

/* One request exactly as a worker sends it, on fd (one of kp->fds, used by
 * no other thread meanwhile): the key process's status, KEYPROC_OK or
 * KEYPROC_E_*, or -1 with errno set. For the audit, which asks the key
 * process to sign what it must refuse; it grants nothing a worker holding
 * that socket cannot already do. */
int keyproc_request(int fd, uint16_t scheme, unsigned index, const unsigned char *tbs,
    size_t len);

#endif
