/*
 * keyproc: the key process and the OpenSSL provider that signs through it
 * (see keyproc.h). Three parts:
 *   - what may be signed: keyproc_check(), shared by both sides;
 *   - the key process: loads the keys, confines itself, serves;
 *   - the provider, in a library context of its own: a key management that
 *     holds a public key and an index, and a signature whose one-shot
 *     digest-sign sends the whole message to the key process. libssl 3.0
 *     signs the TLS 1.3 CertificateVerify and the TLS 1.2 ServerKeyExchange
 *     with EVP_DigestSignInit_ex + EVP_DigestSign on the full input, so the
 *     key process sees exactly what it signs.
 * The key process confines itself here rather than through confine: it is
 * another process, with its own, much smaller, set of rights.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "keyproc.h"

#define REQ_HDR 8	/* u32 seq, u16 scheme, u8 key, u8 0 */
#define REP_HDR 8	/* u32 seq, u16 status, u16 length */
#define CTL_MAX 4096	/* a startup message: a public key, or an error */
#define STARTUP_TIMEOUT_S 60	/* loading and checking RSA-8192 keys takes a while */

/* ------------------------------------------------------------ what is signed */

static const struct scheme {
	uint16_t code;		/* TLS SignatureScheme */
	int keytype;		/* EVP_PKEY_EC or EVP_PKEY_RSA */
	int pad;		/* RSA padding; 0 for ECDSA */
	int curve;		/* ECDSA in TLS 1.3: the curve the scheme names */
	const char *md;
	size_t mdlen;
} schemes[] = {
	{ 0x0403, EVP_PKEY_EC, 0, NID_X9_62_prime256v1, "SHA2-256", 32 },
	{ 0x0503, EVP_PKEY_EC, 0, NID_secp384r1, "SHA2-384", 48 },
	{ 0x0603, EVP_PKEY_EC, 0, NID_secp521r1, "SHA2-512", 64 },
	{ 0x0401, EVP_PKEY_RSA, RSA_PKCS1_PADDING, 0, "SHA2-256", 32 },
	{ 0x0501, EVP_PKEY_RSA, RSA_PKCS1_PADDING, 0, "SHA2-384", 48 },
	{ 0x0601, EVP_PKEY_RSA, RSA_PKCS1_PADDING, 0, "SHA2-512", 64 },
	{ 0x0804, EVP_PKEY_RSA, RSA_PKCS1_PSS_PADDING, 0, "SHA2-256", 32 },
	{ 0x0805, EVP_PKEY_RSA, RSA_PKCS1_PSS_PADDING, 0, "SHA2-384", 48 },
	{ 0x0806, EVP_PKEY_RSA, RSA_PKCS1_PSS_PADDING, 0, "SHA2-512", 64 },
};
#define NSCHEMES (sizeof(schemes) / sizeof(schemes[0]))

static const struct scheme *
scheme_by_code(uint16_t code)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].code == code)
			return &schemes[i];
	return NULL;
}

enum message { NOT_HANDSHAKE, TLS13_CV, TLS12_SKE };

/* RFC 8446 4.4.3: 64 spaces, the context string, a zero byte, the
 * transcript hash (SHA-256 or SHA-384). The client's context string is
 * refused: the server never signs as a client. */
static int
is_tls13_cv(const unsigned char *m, size_t len)
{
	static const char context[] = "TLS 1.3, server CertificateVerify";
	const size_t prefix = 64 + sizeof(context);	/* the context with its 0 byte */

	if (len != prefix + 32 && len != prefix + 48)
		return 0;
	for (size_t i = 0; i < 64; i++)
		if (m[i] != 0x20)
			return 0;
	return memcmp(m + 64, context, sizeof(context)) == 0;
}

/* RFC 8422 5.4 / RFC 5246 7.4.3: client_random, server_random, then
 * ServerECDHParams: curve_type named_curve (3), a NamedCurve the server
 * offers, and the ECDH public point, of exactly that group's length. */
static int
is_tls12_ske(const unsigned char *m, size_t len)
{
	static const struct { uint16_t group; unsigned char len; int nist; } groups[] = {
		{ 29, 32, 0 },	/* x25519 */
		{ 23, 65, 1 },	/* secp256r1, uncompressed */
		{ 24, 97, 1 },	/* secp384r1, uncompressed */
	};
	uint16_t group;

	if (len < 64 + 4 || m[64] != 3)
		return 0;
	group = (uint16_t)(m[65] << 8 | m[66]);
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].group == group)
			return m[67] == groups[i].len && len == 64 + 4 + (size_t)m[67] &&
			    (!groups[i].nist || m[68] == 0x04);
	return 0;
}

static enum message
classify(const unsigned char *m, size_t len)
{
	if (is_tls13_cv(m, len))
		return TLS13_CV;
	if (is_tls12_ske(m, len))
		return TLS12_SKE;
	return NOT_HANDSHAKE;
}

enum keyproc_status
keyproc_check(uint16_t code, int keytype, int curve, const unsigned char *tbs, size_t len)
{
	const struct scheme *s = scheme_by_code(code);
	enum message m;

	if (s == NULL || s->keytype != keytype)
		return KEYPROC_E_SCHEME;
	if ((m = classify(tbs, len)) == NOT_HANDSHAKE)
		return KEYPROC_E_REFUSED;
	/* TLS 1.3: RSA signs with PSS only; ECDSA's scheme names the curve. */
	if (m == TLS13_CV && keytype == EVP_PKEY_RSA && s->pad != RSA_PKCS1_PSS_PADDING)
		return KEYPROC_E_SCHEME;
	if (m == TLS13_CV && keytype == EVP_PKEY_EC && s->curve != curve)
		return KEYPROC_E_SCHEME;
	return KEYPROC_OK;
}

/* ------------------------------------------------------------ the key process */

struct key {
	EVP_PKEY *pkey;
	int type;		/* EVP_PKEY_EC or EVP_PKEY_RSA */
	int curve;		/* NID, for EC */
	/* Per scheme this key can use, a context initialised once: a request
	 * copies it instead of initialising anew, which in OpenSSL 3 means
	 * fetching the digest and the signature by name under locks (about
	 * 4 us of an ECDSA P-256 signature's 25). NULL for other schemes. */
	EVP_MD_CTX *ready[NSCHEMES];
};

static void
put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint16_t
get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Startup messages to the parent: 'K' + a public key (DER), 'R' ready,
 * 'E' + an error message. */
static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int ctl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	msg[0] = 'E';
	va_start(ap, fmt);
	n = vsnprintf(msg + 1, sizeof(msg) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(msg) - 2)
		n = (int)sizeof(msg) - 2;
	(void)send(ctl, msg, (size_t)n + 1, MSG_NOSIGNAL);
	_exit(1);
}

static int
by_value(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static void
close_span(int first, int last)
{
	if (first > last)
		return;
	if (syscall(SYS_close_range, (unsigned)first, (unsigned)last, 0) == 0)
		return;
	for (int fd = first; fd <= last && fd < 1 << 20; fd++)
		close(fd);
}

/* Keeps stderr, the startup socket and the key process's ends; everything
 * else the parent had open (listeners, the content root) is closed, and
 * stdin and stdout point at /dev/null. */
static int
close_others(int ctl, const int *socks, unsigned n)
{
	int keep[KEYPROC_MAX_WORKERS + 2], next = 3, null;
	unsigned k = 0;

	keep[k++] = ctl;
	for (unsigned i = 0; i < n; i++)
		keep[k++] = socks[i];
	qsort(keep, k, sizeof(keep[0]), by_value);
	for (unsigned i = 0; i < k; i++) {
		close_span(next, keep[i] - 1);
		next = keep[i] + 1;
	}
	close_span(next, 1 << 20);
	if ((null = open("/dev/null", O_RDWR | O_NOCTTY)) == -1)
		return -1;
	for (int fd = 0; fd < 2; fd++)
		if (fd != null && !bsearch(&fd, keep, k, sizeof(keep[0]), by_value) &&
		    dup2(null, fd) == -1)
			return -1;
	if (null > 2)
		close(null);
	return 0;
}

/* A key file must never ask for a passphrase on a terminal. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static const char *
load_key(const char *path, struct key *k)
{
	char group[64];
	BIO *in;
	int bits;

	memset(k, 0, sizeof(*k));
	if ((in = BIO_new_file(path, "r")) == NULL)
		return errno ? strerror(errno) : "cannot open";
	k->pkey = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
	BIO_free(in);
	if (k->pkey == NULL)
		return "not a PEM private key (or an encrypted one, which is not supported)";
	if (EVP_PKEY_is_a(k->pkey, "EC")) {
		k->type = EVP_PKEY_EC;
		if (!EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), NULL))
			return "an EC key without a named curve";
		k->curve = OBJ_txt2nid(group);
		if (k->curve != NID_X9_62_prime256v1 && k->curve != NID_secp384r1)
			return "an EC key on a curve other than P-256 or P-384";
		return NULL;
	}
	if (EVP_PKEY_is_a(k->pkey, "RSA")) {
		k->type = EVP_PKEY_RSA;
		bits = EVP_PKEY_get_bits(k->pkey);
		if (bits < 2048 || bits > 8192)
			return "an RSA key of fewer than 2048 or more than 8192 bits";
		return NULL;
	}
	return "neither an ECDSA (P-256, P-384) nor an RSA key";
}

/* The context for signing with key k and scheme s, fetched and configured
 * once: the digest, the padding, and a PSS salt as long as the digest. */
static EVP_MD_CTX *
ready_context(const struct key *k, const struct scheme *s)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx;

	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_DigestSignInit_ex(mctx, &pctx, s->md, NULL, NULL, k->pkey, NULL) != 1 ||
	    (s->pad != 0 && EVP_PKEY_CTX_set_rsa_padding(pctx, s->pad) != 1) ||
	    (s->pad == RSA_PKCS1_PSS_PADDING &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)) {
		EVP_MD_CTX_free(mctx);
		return NULL;
	}
	return mctx;
}

/* Signs with a copy of the key's ready context for scheme index si (the
 * copy's digest state starts empty; the original stays untouched). */
static int
sign(EVP_MD_CTX *mctx, const struct key *k, size_t si, const unsigned char *tbs,
    size_t len, unsigned char *sig, size_t *siglen)
{
	if (k->ready[si] == NULL || EVP_MD_CTX_copy_ex(mctx, k->ready[si]) != 1)
		return -1;
	*siglen = KEYPROC_MAX_SIG;
	return EVP_DigestSignUpdate(mctx, tbs, len) == 1 &&
	    EVP_DigestSignFinal(mctx, sig, siglen) == 1 ? 0 : -1;
}

/* Every scheme each key can use: its ready context, and one signature
 * through it, before the seccomp filter: what OpenSSL fetches or
 * initialises on first use (algorithms, the random generator reseeding
 * after fork) is done while it still may be. */
static int
warm_up(EVP_MD_CTX *mctx, struct key *keys, unsigned n)
{
	unsigned char tbs[64 + 4 + 32] = { 0 }, sig[KEYPROC_MAX_SIG];
	size_t siglen;

	for (unsigned i = 0; i < n; i++)
		for (size_t j = 0; j < NSCHEMES; j++) {
			if (schemes[j].keytype != keys[i].type)
				continue;
			if ((keys[i].ready[j] = ready_context(&keys[i], &schemes[j])) == NULL ||
			    sign(mctx, &keys[i], j, tbs, sizeof(tbs), sig, &siglen) == -1)
				return -1;
		}
	return 0;
}

/* Landlock, where the kernel has it: every right it knows is handled and
 * none is granted, so no file can be opened (seccomp forbids open too). */
static void
landlock_nothing(void)
{
	struct { uint64_t fs, net, scoped; } ra = { 0, 0, 0 };
	size_t size = sizeof(ra.fs);
	long abi;
	int fd;

	abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return;
	ra.fs = abi >= 5 ? (1ULL << 16) - 1 : abi >= 3 ? (1ULL << 15) - 1 :
	    abi >= 2 ? (1ULL << 14) - 1 : (1ULL << 13) - 1;
	if (abi >= 4) {
		ra.net = 3;	/* bind and connect TCP */
		size = 2 * sizeof(uint64_t);
	}
	if (abi >= 6) {
		ra.scoped = 3;	/* abstract UNIX sockets, signals */
		size = sizeof(ra);
	}
	if ((fd = (int)syscall(__NR_landlock_create_ruleset, &ra, size, 0)) == -1)
		return;
	(void)syscall(__NR_landlock_restrict_self, fd, 0);
	close(fd);
}

/* When it may chroot: into a directory made for it and removed at once,
 * so its root is empty and nothing can ever be created in it. */
static const char *
chroot_empty(void)
{
	char dir[] = "/tmp/.hermit-keyproc-XXXXXX";

	if (mkdtemp(dir) == NULL)
		return "mkdtemp";
	if (chdir(dir) == -1) {
		rmdir(dir);
		return "chdir";
	}
	if (rmdir(dir) == -1 || chroot(".") == -1 || chdir("/") == -1)
		return "chroot";
	return NULL;
}

static const struct {
	int nr;
	int no_exec;		/* prot must not include PROT_EXEC */
} key_calls[] = {
	/* requests in, signatures out */
	{ SCMP_SYS(recvfrom), 0 },
	{ SCMP_SYS(recvmsg), 0 },
	{ SCMP_SYS(read), 0 },
	{ SCMP_SYS(sendto), 0 },
	{ SCMP_SYS(sendmsg), 0 },
	{ SCMP_SYS(write), 0 },
	{ SCMP_SYS(poll), 0 },
	{ SCMP_SYS(ppoll), 0 },
	{ SCMP_SYS(close), 0 },
	/* OpenSSL's signing: memory, its random generator, its fork check */
	{ SCMP_SYS(getrandom), 0 },
	{ SCMP_SYS(getpid), 0 },
	{ SCMP_SYS(brk), 0 },
	{ SCMP_SYS(mmap), 1 },
	{ SCMP_SYS(mprotect), 1 },
	{ SCMP_SYS(munmap), 0 },
	{ SCMP_SYS(mremap), 0 },
	{ SCMP_SYS(madvise), 0 },
	{ SCMP_SYS(futex), 0 },
	{ SCMP_SYS(clock_gettime), 0 },
	/* the end */
	{ SCMP_SYS(exit), 0 },
	{ SCMP_SYS(exit_group), 0 },
	{ SCMP_SYS(rt_sigreturn), 0 },
	{ SCMP_SYS(restart_syscall), 0 },
};

/*
 * The ASan/UBSan build only: its runtime's calls at exit and in a report
 * (as in confine.c) fail with EPERM instead of killing the key process;
 * sigaltstack, which it calls on every exit, is allowed.
 */
#ifdef HERMIT_SANITIZER
static const int sanitizer_probes[] = {
	SCMP_SYS(readlink), SCMP_SYS(open), SCMP_SYS(ioctl), SCMP_SYS(pipe2),
	SCMP_SYS(fcntl), SCMP_SYS(prctl), SCMP_SYS(clone),
};
#endif

static int
seccomp_key(int errno_mode)
{
	scmp_filter_ctx ctx;
	int r;

	ctx = seccomp_init(errno_mode ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -ENOMEM;
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (size_t i = 0; r == 0 && i < sizeof(key_calls) / sizeof(key_calls[0]); i++)
		r = key_calls[i].no_exec ?
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, key_calls[i].nr, 1,
			SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)) :
		    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, key_calls[i].nr, 0);
#ifdef HERMIT_SANITIZER
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 0);
	for (size_t i = 0; r == 0 && !errno_mode &&
	    i < sizeof(sanitizer_probes) / sizeof(sanitizer_probes[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), sanitizer_probes[i], 0);
#endif
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static int
is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/* Empty root, the workers' identity, no_new_privs, no file rights, no
 * processes, no descriptors beyond its own, then the allowlist. */
static void
confine_self(const struct keyproc_config *cfg, pid_t parent, int ctl)
{
	struct rlimit zero = { 0, 0 }, nofile;
	const char *why;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int r;

	if (geteuid() == 0 && (why = chroot_empty()) != NULL)
		child_fail(ctl, "key process: empty root: %s: %s", why, strerror(errno));
	if (cfg->drop) {
		if (setgroups(0, NULL) == -1 || setresgid(cfg->gid, cfg->gid, cfg->gid) == -1 ||
		    setresuid(cfg->uid, cfg->uid, cfg->uid) == -1)
			child_fail(ctl, "key process: identity: %s", strerror(errno));
		if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
		    ru != cfg->uid || eu != cfg->uid || su != cfg->uid ||
		    rg != cfg->gid || eg != cfg->gid || sg != cfg->gid)
			child_fail(ctl, "key process: identity: not uid %u gid %u",
			    (unsigned)cfg->uid, (unsigned)cfg->gid);
	}
	/* A change of identity clears the parent-death signal: set it again,
	 * then make sure the parent did not die in between. The dumpable flag
	 * is set again too: a change of identity resets it to the system's
	 * default. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 || getppid() != parent)
		_exit(1);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		child_fail(ctl, "key process: PR_SET_DUMPABLE: %s", strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		child_fail(ctl, "key process: no_new_privs: %s", strerror(errno));
	landlock_nothing();
	/* poll() refuses more descriptors than RLIMIT_NOFILE. */
	nofile.rlim_cur = nofile.rlim_max = cfg->nworkers + 4;
	if (setrlimit(RLIMIT_NPROC, &zero) == -1 || setrlimit(RLIMIT_CORE, &zero) == -1 ||
	    setrlimit(RLIMIT_NOFILE, &nofile) == -1 ||
	    (!is_regular(2) && setrlimit(RLIMIT_FSIZE, &zero) == -1))
		child_fail(ctl, "key process: rlimits: %s", strerror(errno));
	if ((r = seccomp_key(cfg->seccomp_errno)) != 0)
		child_fail(ctl, "key process: seccomp: %s", strerror(r < 0 ? -r : r));
}

/* One request: check it, sign it, answer. Never blocks on a worker that
 * does not read its answers: such an answer is dropped. */
static void
answer(int fd, EVP_MD_CTX *mctx, const struct key *keys, unsigned nkeys,
    const unsigned char *req, ssize_t n)
{
	unsigned char rep[REP_HDR + KEYPROC_MAX_SIG];
	const struct scheme *s;
	enum keyproc_status st;
	size_t siglen = 0;
	uint16_t code;

	memset(rep, 0, REP_HDR);
	if (n < REQ_HDR || n > REQ_HDR + KEYPROC_MAX_TBS || req[7] != 0) {
		st = KEYPROC_E_MALFORMED;
	} else {
		memcpy(rep, req, 4);	/* the sequence number */
		code = get16(req + 4);
		if (req[6] >= nkeys)
			st = KEYPROC_E_KEY;
		else
			st = keyproc_check(code, keys[req[6]].type, keys[req[6]].curve,
			    req + REQ_HDR, (size_t)n - REQ_HDR);
		if (st == KEYPROC_OK) {
			s = scheme_by_code(code);
			if (sign(mctx, &keys[req[6]], (size_t)(s - schemes), req + REQ_HDR,
			    (size_t)n - REQ_HDR, rep + REP_HDR, &siglen) == -1) {
				st = KEYPROC_E_SIGN;
				siglen = 0;
			}
		}
	}
	put16(rep + 4, (uint16_t)st);
	put16(rep + 6, (uint16_t)siglen);
	(void)send(fd, rep, REP_HDR + siglen, MSG_NOSIGNAL | MSG_DONTWAIT);
	OPENSSL_cleanse(rep + REP_HDR, siglen);
}

static void __attribute__((noreturn))
serve(const struct key *keys, unsigned nkeys, EVP_MD_CTX *mctx, const int *socks, unsigned n)
{
	static struct pollfd pfd[KEYPROC_MAX_WORKERS];
	unsigned char req[REQ_HDR + KEYPROC_MAX_TBS + 1];
	unsigned open = n;
	ssize_t r;

	/* One worker (--workers 1, --stdio): nothing to poll, so wait in recv
	 * itself, one system call fewer per signature. */
	while (n == 1) {
		r = recv(socks[0], req, sizeof(req), MSG_TRUNC);
		if (r > 0)
			answer(socks[0], mctx, keys, nkeys, req, r);
		else if (r == 0 || (errno != EAGAIN && errno != EINTR))
			_exit(0);	/* the worker is gone */
	}
	for (unsigned i = 0; i < n; i++) {
		pfd[i].fd = socks[i];
		pfd[i].events = POLLIN;
	}
	while (open > 0) {
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (unsigned i = 0; i < n; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0)
				continue;
			/* MSG_TRUNC: the real length of a longer message, refused. */
			r = recv(pfd[i].fd, req, sizeof(req), MSG_TRUNC | MSG_DONTWAIT);
			if (r > 0)
				answer(pfd[i].fd, mctx, keys, nkeys, req, r);
			else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(pfd[i].fd);	/* the worker is gone */
				pfd[i].fd = -1;
				open--;
			}
		}
	}
	_exit(0);	/* every worker's socket has hung up */
}

static void __attribute__((noreturn))
key_process(const struct keyproc_config *cfg, pid_t parent, int ctl, const int *socks)
{
	static struct key keys[KEYPROC_MAX_KEYS];
	unsigned char msg[CTL_MAX], *p;
	struct rlimit zero = { 0, 0 };
	EVP_MD_CTX *mctx;
	const char *why;
	int len;

	/* Dies with the thread that forked it; the parent may have died first. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 || getppid() != parent)
		_exit(1);
	/* Before a key is read: no core file, no ptrace by its own uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1 || setrlimit(RLIMIT_CORE, &zero) == -1)
		child_fail(ctl, "key process: no core dumps: %s", strerror(errno));
	if (close_others(ctl, socks, cfg->nworkers) == -1)
		child_fail(ctl, "key process: descriptors: %s", strerror(errno));
	for (unsigned i = 0; i < cfg->nkeys; i++) {
		if ((why = load_key(cfg->key_paths[i], &keys[i])) != NULL)
			child_fail(ctl, "TLS key %s: %s", cfg->key_paths[i], why);
		msg[0] = 'K';
		p = msg + 1;
		len = i2d_PUBKEY(keys[i].pkey, NULL);
		if (len <= 0 || len > CTL_MAX - 1 || i2d_PUBKEY(keys[i].pkey, &p) != len)
			child_fail(ctl, "TLS key %s: cannot encode its public key", cfg->key_paths[i]);
		if (send(ctl, msg, (size_t)len + 1, MSG_NOSIGNAL) != len + 1)
			_exit(1);
	}
	ERR_clear_error();
	if ((mctx = EVP_MD_CTX_new()) == NULL || warm_up(mctx, keys, cfg->nkeys) == -1)
		child_fail(ctl, "key process: a test signature failed");
	confine_self(cfg, parent, ctl);
	msg[0] = 'R';
	if (send(ctl, msg, 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	close(ctl);
	serve(keys, cfg->nkeys, mctx, socks, cfg->nworkers);
}

/* ------------------------------------------------------------ the parent */

static int
fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* A worker that waits longer than this for a signature gives up. */
static int
set_timeouts(int fd, int seconds)
{
	struct timeval tv = { seconds, 0 };

	return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ? -1 : 0;
}

static int provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx);

/* The public keys, then 'R' once the key process is confined. */
static int
receive_startup(struct keyproc *kp, int ctl, char *why, size_t size)
{
	unsigned char msg[CTL_MAX];
	const unsigned char *p;
	unsigned got = 0;
	ssize_t n;
	int status;

	for (;;) {
		n = recv(ctl, msg, sizeof(msg) - 1, 0);
		if (n <= 0) {
			if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return fail(why, size, "key process: no answer within %d s",
				    STARTUP_TIMEOUT_S);
			if (waitpid(kp->pid, &status, 0) == kp->pid && WIFSIGNALED(status))
				return fail(why, size, "key process: killed by signal %d during "
				    "startup", WTERMSIG(status));
			return fail(why, size, "key process: exited during startup");
		}
		if (msg[0] == 'E') {
			msg[n] = '\0';
			/* Keys are loaded in order, each announced once loaded. */
			kp->failed_key = got < kp->nkeys ? (int)got : -1;
			return fail(why, size, "%s", (char *)msg + 1);
		}
		if (msg[0] == 'R' && got == kp->nkeys)
			return 0;
		if (msg[0] != 'K' || got == kp->nkeys)
			return fail(why, size, "key process: unexpected startup message");
		p = msg + 1;
		if ((kp->pub[got] = d2i_PUBKEY(NULL, &p, n - 1)) == NULL)
			return fail(why, size, "key process: a public key that does not decode");
		got++;
	}
}

int
keyproc_start(const struct keyproc_config *cfg, struct keyproc *kp, char *why, size_t size)
{
	int ctl[2], sp[2], socks[KEYPROC_MAX_WORKERS], status;
	pid_t parent = getpid();

	memset(kp, 0, sizeof(*kp));
	kp->pid = -1;
	kp->failed_key = -1;
	for (unsigned i = 0; i < KEYPROC_MAX_WORKERS; i++)
		kp->fds[i] = -1;
	if (cfg->nkeys < 1 || cfg->nkeys > KEYPROC_MAX_KEYS)
		return fail(why, size, "TLS keys: between 1 and %d", KEYPROC_MAX_KEYS);
	if (cfg->nworkers < 1 || cfg->nworkers > KEYPROC_MAX_WORKERS)
		return fail(why, size, "key process: between 1 and %d workers", KEYPROC_MAX_WORKERS);
	kp->nkeys = cfg->nkeys;
	kp->nworkers = cfg->nworkers;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) == -1)
		return fail(why, size, "key process: socketpair: %s", strerror(errno));
	for (unsigned i = 0; i < cfg->nworkers; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1 ||
		    set_timeouts(sp[0], KEYPROC_TIMEOUT_S) == -1) {
			fail(why, size, "key process: socketpair: %s", strerror(errno));
			for (unsigned j = 0; j < i; j++)
				close(socks[j]);
			close(ctl[0]);
			close(ctl[1]);
			keyproc_free(kp);
			return -1;
		}
		kp->fds[i] = sp[0];
		socks[i] = sp[1];
	}
	(void)set_timeouts(ctl[0], STARTUP_TIMEOUT_S);
	fflush(NULL);
	if ((kp->pid = fork()) == 0)
		key_process(cfg, parent, ctl[1], socks);
	close(ctl[1]);
	for (unsigned i = 0; i < cfg->nworkers; i++)
		close(socks[i]);
	if (kp->pid == -1) {
		fail(why, size, "key process: fork: %s", strerror(errno));
		close(ctl[0]);
		keyproc_free(kp);
		return -1;
	}
	if (receive_startup(kp, ctl[0], why, size) == -1) {
		close(ctl[0]);
		kill(kp->pid, SIGKILL);
		(void)waitpid(kp->pid, &status, 0);
		keyproc_free(kp);
		return -1;
	}
	close(ctl[0]);
	/* The provider lives in a library context of its own, so that no
	 * fetch by name ("EC", "RSA") elsewhere ever finds its key management.
	 * The TLS contexts are made in it too, beside the default provider,
	 * which is preferred wherever both answer (the key exchange's "EC"). */
	if ((kp->libctx = OSSL_LIB_CTX_new()) == NULL ||
	    !OSSL_PROVIDER_add_builtin(kp->libctx, "hermit-keyproc", provider_init) ||
	    (kp->provider = OSSL_PROVIDER_load(kp->libctx, "hermit-keyproc")) == NULL ||
	    (kp->defaults = OSSL_PROVIDER_load(kp->libctx, "default")) == NULL ||
	    EVP_set_default_properties(kp->libctx, "?provider=default") != 1) {
		keyproc_free(kp);
		return fail(why, size, "key process: cannot load the signing provider");
	}
	return 0;
}

void
keyproc_free(struct keyproc *kp)
{
	for (unsigned i = 0; i < KEYPROC_MAX_KEYS; i++) {
		EVP_PKEY_free(kp->pub[i]);
		kp->pub[i] = NULL;
	}
	for (unsigned i = 0; i < KEYPROC_MAX_WORKERS; i++)
		if (kp->fds[i] != -1) {
			close(kp->fds[i]);
			kp->fds[i] = -1;
		}
	if (kp->provider != NULL)
		OSSL_PROVIDER_unload(kp->provider);
	if (kp->defaults != NULL)
		OSSL_PROVIDER_unload(kp->defaults);
	kp->provider = kp->defaults = NULL;
	OSSL_LIB_CTX_free(kp->libctx);
	kp->libctx = NULL;
}

/* ------------------------------------------------------------ the worker's side */

static _Thread_local int thread_fd = -1;
static _Thread_local uint32_t thread_seq;

void
keyproc_thread_socket(int fd)
{
	thread_fd = fd;
}

static int
remote_fail(const char *what)
{
	ERR_raise_data(ERR_LIB_USER, ERR_R_OPERATION_FAIL, "key process: %s", what);
	return 0;
}

/* One request on fd and its answer into rep, as a worker asks: a late
 * answer to an earlier request (one that timed out) is skipped. Returns
 * the answer's length (at least REP_HDR), or -1 with errno set and *what
 * saying why. */
static ssize_t
exchange(int fd, uint16_t code, unsigned index, const unsigned char *tbs, size_t len,
    unsigned char *rep, size_t repsize, const char **what)
{
	unsigned char req[REQ_HDR + KEYPROC_MAX_TBS];
	uint32_t seq = ++thread_seq;
	ssize_t n;

	if (len > KEYPROC_MAX_TBS) {
		*what = "message too long";
		errno = EINVAL;
		return -1;
	}
	put32(req, seq);
	put16(req + 4, code);
	req[6] = (unsigned char)index;
	req[7] = 0;
	memcpy(req + REQ_HDR, tbs, len);
	if (send(fd, req, REQ_HDR + len, MSG_NOSIGNAL) != (ssize_t)(REQ_HDR + len)) {
		*what = strerror(errno);
		return -1;
	}
	for (int tries = 0; tries < 8; tries++) {
		if ((n = recv(fd, rep, repsize, 0)) < REP_HDR) {
			*what = n == 0 ? "gone" : n < 0 ? strerror(errno) : "short answer";
			if (n >= 0)
				errno = EPROTO;
			return -1;
		}
		if (get32(rep) == seq)
			return n;
	}
	*what = "answers out of step";
	errno = EPROTO;
	return -1;
}

/* One signature from the key process, on this thread's socket. */
static int
remote_sign(uint16_t code, unsigned index, const unsigned char *tbs, size_t len,
    unsigned char *sig, size_t *siglen, size_t sigsize)
{
	unsigned char rep[REP_HDR + KEYPROC_MAX_SIG];
	const char *what;
	size_t got;
	ssize_t n;

	if (thread_fd < 0)
		return remote_fail("no socket for this thread");
	if ((n = exchange(thread_fd, code, index, tbs, len, rep, sizeof(rep), &what)) == -1)
		return remote_fail(what);
	if (get16(rep + 4) != KEYPROC_OK)
		return remote_fail(get16(rep + 4) == KEYPROC_E_REFUSED ? "refused" : "failed");
	got = get16(rep + 6);
	if (got > (size_t)n - REP_HDR || got > sigsize)
		return remote_fail("signature does not fit");
	memcpy(sig, rep + REP_HDR, got);
	*siglen = got;
	return 1;
}

/* ------------------------------------------------------------ the provider: keys */

#define PARAM_INDEX "hermit-keyproc-index"

struct pkey {
	int type;		/* EVP_PKEY_EC or EVP_PKEY_RSA */
	int index;		/* the key process's key; -1: a public key only */
	EVP_PKEY *pub;		/* in the default library context */
};

static void *
key_new(int type)
{
	struct pkey *k = OPENSSL_zalloc(sizeof(*k));

	if (k != NULL) {
		k->type = type;
		k->index = -1;
	}
	return k;
}

static void *
ec_new(void *provctx)
{
	(void)provctx;
	return key_new(EVP_PKEY_EC);
}

static void *
rsa_new(void *provctx)
{
	(void)provctx;
	return key_new(EVP_PKEY_RSA);
}

static void
key_free(void *keydata)
{
	struct pkey *k = keydata;

	if (k != NULL) {
		EVP_PKEY_free(k->pub);
		OPENSSL_free(k);
	}
}

/* A private half exists (in the key process) only for a key with an index. */
static int
key_has(const void *keydata, int selection)
{
	const struct pkey *k = keydata;

	if (k == NULL || k->pub == NULL)
		return 0;
	return !(selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) || k->index >= 0;
}

static int
key_match(const void *a, const void *b, int selection)
{
	const struct pkey *x = a, *y = b;

	if (x->pub == NULL || y->pub == NULL)
		return 0;
	if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)
		return EVP_PKEY_eq(x->pub, y->pub) == 1;
	return EVP_PKEY_parameters_eq(x->pub, y->pub) == 1;
}

/* Public keys only: from keyproc_pkey() (with an index), or from a
 * certificate's key being compared with this one. A private key offered
 * here is refused: this key management never holds one. */
static int
key_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	struct pkey *k = keydata;
	const OSSL_PARAM *p;
	EVP_PKEY_CTX *ctx;
	unsigned index;
	int ok;

	(void)selection;
	if (k == NULL || k->pub != NULL ||
	    OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY) != NULL ||
	    OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) != NULL)
		return 0;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, k->type == EVP_PKEY_EC ? "EC" : "RSA", NULL);
	ok = ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &k->pub, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) == 1;
	EVP_PKEY_CTX_free(ctx);
	if (!ok)
		return 0;
	if ((p = OSSL_PARAM_locate_const(params, PARAM_INDEX)) != NULL) {
		if (!OSSL_PARAM_get_uint(p, &index) || index >= KEYPROC_MAX_KEYS)
			return 0;
		k->index = (int)index;
	}
	return 1;
}

static const OSSL_PARAM *
ec_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_uint(PARAM_INDEX, NULL),
		OSSL_PARAM_END
	};

	(void)selection;
	return types;
}

static const OSSL_PARAM *
rsa_import_types(int selection)
{
	static const OSSL_PARAM types[] = {
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_uint(PARAM_INDEX, NULL),
		OSSL_PARAM_END
	};

	(void)selection;
	return types;
}

/* Sizes, security bits, the curve: all from the public key. */
static int
key_get_params(void *keydata, OSSL_PARAM params[])
{
	struct pkey *k = keydata;

	return k != NULL && k->pub != NULL && EVP_PKEY_get_params(k->pub, params) == 1;
}

static const OSSL_PARAM *
key_gettable_params(void *provctx)
{
	static const OSSL_PARAM gettable[] = {
		OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
		OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
		OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
		OSSL_PARAM_END
	};

	(void)provctx;
	return gettable;
}

/* Signatures with these keys are this provider's own, under names nothing
 * else offers: EVP_DigestSignInit_ex then finds them, and never tries to
 * export the key to another provider (it has no export function at all). */
static const char *
ec_operation_name(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "HERMIT-KEYPROC-ECDSA" : NULL;
}

static const char *
rsa_operation_name(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "HERMIT-KEYPROC-RSA" : NULL;
}

#define KEYMGMT_COMMON \
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))key_free }, \
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))key_has }, \
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))key_match }, \
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))key_import }, \
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))key_get_params }, \
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))key_gettable_params }

static const OSSL_DISPATCH ec_keymgmt[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))ec_new },
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))ec_import_types },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))ec_operation_name },
	KEYMGMT_COMMON,
	{ 0, NULL }
};

static const OSSL_DISPATCH rsa_keymgmt[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))rsa_new },
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))rsa_import_types },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void))rsa_operation_name },
	KEYMGMT_COMMON,
	{ 0, NULL }
};

/* ------------------------------------------------------------ the provider: signatures */

struct sigctx {
	struct pkey *key;
	size_t mdlen;		/* 32, 48 or 64 */
	int pad;		/* RSA padding */
};

static void *
sig_newctx(void *provctx, const char *propq)
{
	(void)provctx, (void)propq;
	return OPENSSL_zalloc(sizeof(struct sigctx));
}

static void
sig_freectx(void *ctx)
{
	OPENSSL_free(ctx);
}

/* The digest names libssl may pass, by any of their aliases. */
static size_t
md_length(const char *name)
{
	static const struct { const char *name; size_t len; } names[] = {
		{ "SHA2-256", 32 }, { "SHA256", 32 }, { "SHA-256", 32 },
		{ "2.16.840.1.101.3.4.2.1", 32 },
		{ "SHA2-384", 48 }, { "SHA384", 48 }, { "SHA-384", 48 },
		{ "2.16.840.1.101.3.4.2.2", 48 },
		{ "SHA2-512", 64 }, { "SHA512", 64 }, { "SHA-512", 64 },
		{ "2.16.840.1.101.3.4.2.3", 64 },
	};

	for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(names[i].name, name) == 0)
			return names[i].len;
	return 0;
}

static int sig_set_ctx_params(void *vctx, const OSSL_PARAM params[]);

static int
sig_digest_sign_init(void *vctx, const char *mdname, void *provkey, const OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	struct pkey *k = provkey;

	if (k == NULL || k->index < 0 || (ctx->mdlen = md_length(mdname)) == 0)
		return 0;
	ctx->key = k;
	ctx->pad = k->type == EVP_PKEY_RSA ? RSA_PKCS1_PADDING : 0;
	return sig_set_ctx_params(ctx, params);
}

/* The TLS SignatureScheme for what libssl asked: key type, padding, digest. */
static uint16_t
scheme_for(const struct sigctx *ctx)
{
	for (size_t i = 0; i < NSCHEMES; i++)
		if (schemes[i].keytype == ctx->key->type && schemes[i].mdlen == ctx->mdlen &&
		    schemes[i].pad == ctx->pad)
			return schemes[i].code;
	return 0;
}

static int
sig_digest_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize,
    const unsigned char *tbs, size_t tbslen)
{
	struct sigctx *ctx = vctx;
	uint16_t code;
	int max;

	if (ctx->key == NULL)
		return 0;
	if (sig == NULL) {	/* how long the signature can be */
		if ((max = EVP_PKEY_get_size(ctx->key->pub)) <= 0)
			return 0;
		*siglen = (size_t)max;
		return 1;
	}
	if ((code = scheme_for(ctx)) == 0)
		return remote_fail("no TLS signature scheme for this padding and digest");
	return remote_sign(code, (unsigned)ctx->key->index, tbs, tbslen, sig, siglen, sigsize);
}

/* Padding (PKCS#1 v1.5 or PSS) and a PSS salt as long as the digest, as TLS
 * requires; each given as a number or by name, as EVP's controls do. */
static int
sig_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
	struct sigctx *ctx = vctx;
	const OSSL_PARAM *p;
	const char *s;
	int v;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE)) != NULL) {
		if (ctx->key == NULL || ctx->key->type != EVP_PKEY_RSA)
			return 0;
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
				return 0;
			v = strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0 ? RSA_PKCS1_PADDING :
			    strcmp(s, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0 ? RSA_PKCS1_PSS_PADDING : -1;
		} else if (!OSSL_PARAM_get_int(p, &v)) {
			return 0;
		}
		if (v != RSA_PKCS1_PADDING && v != RSA_PKCS1_PSS_PADDING)
			return 0;
		ctx->pad = v;
	}
	if ((p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN)) != NULL) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING) {
			if (!OSSL_PARAM_get_utf8_string_ptr(p, &s))
				return 0;
			if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
				v = RSA_PSS_SALTLEN_DIGEST;
			else
				v = atoi(s);
		} else if (!OSSL_PARAM_get_int(p, &v)) {
			return 0;
		}
		if (v != RSA_PSS_SALTLEN_DIGEST && (v < 0 || (size_t)v != ctx->mdlen))
			return 0;
	}
	return 1;
}

static const OSSL_PARAM *
sig_settable_ctx_params(void *vctx, void *provctx)
{
	static const OSSL_PARAM settable[] = {
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
		OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
		OSSL_PARAM_END
	};

	(void)vctx, (void)provctx;
	return settable;
}

static const OSSL_DISPATCH signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_newctx },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_digest_sign_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))sig_digest_sign },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void))sig_set_ctx_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void))sig_settable_ctx_params },
	{ 0, NULL }
};

/* ------------------------------------------------------------ the provider itself */

static const OSSL_ALGORITHM keymgmts[] = {
	{ "EC:id-ecPublicKey:1.2.840.10045.2.1", "provider=hermit-keyproc", ec_keymgmt,
	  "EC keys whose private half is in the key process" },
	{ "RSA:rsaEncryption:1.2.840.113549.1.1.1", "provider=hermit-keyproc", rsa_keymgmt,
	  "RSA keys whose private half is in the key process" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM signatures[] = {
	{ "HERMIT-KEYPROC-ECDSA", "provider=hermit-keyproc", signature, NULL },
	{ "HERMIT-KEYPROC-RSA", "provider=hermit-keyproc", signature, NULL },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
provider_query(void *provctx, int operation_id, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	return operation_id == OSSL_OP_KEYMGMT ? keymgmts :
	    operation_id == OSSL_OP_SIGNATURE ? signatures : NULL;
}

static const OSSL_DISPATCH provider_functions[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))provider_query },
	{ 0, NULL }
};

static int
provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	(void)in;
	*out = provider_functions;
	*provctx = (void *)handle;
	return 1;
}

EVP_PKEY *
keyproc_pkey(struct keyproc *kp, unsigned index)
{
	OSSL_PARAM *pub = NULL, *all = NULL;
	OSSL_PARAM extra[] = { OSSL_PARAM_uint(PARAM_INDEX, &index), OSSL_PARAM_END };
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (kp->libctx == NULL || index >= kp->nkeys || kp->pub[index] == NULL)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_name(kp->libctx,
	    EVP_PKEY_is_a(kp->pub[index], "EC") ? "EC" : "RSA", "provider=hermit-keyproc");
	if (ctx != NULL && EVP_PKEY_todata(kp->pub[index], EVP_PKEY_PUBLIC_KEY, &pub) == 1 &&
	    (all = OSSL_PARAM_merge(pub, extra)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, all) != 1)
		pk = NULL;
	OPENSSL_free(all);
	OSSL_PARAM_free(pub);
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* ------------------------------------------------------------ the audit's request */

int
keyproc_request(int fd, uint16_t scheme, unsigned index, const unsigned char *tbs, size_t len)
{
	unsigned char rep[REP_HDR + KEYPROC_MAX_SIG];
	const char *what;

	if (index > 255) {
		errno = EINVAL;
		return -1;
	}
	if (exchange(fd, scheme, index, tbs, len, rep, sizeof(rep), &what) == -1)
		return -1;
	return get16(rep + 4);
}
