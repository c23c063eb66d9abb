/*
 * audit: what could a compromised request handler do? Each probe runs in a
 * child forked after confine_enter() and before anything is sealed; the
 * child seals itself with confine_seal() exactly as the serving process
 * does (rlimits, then the seccomp allowlist in its real mode), then tries
 * one thing. A child killed by SIGSYS was stopped by seccomp; an errno names
 * the layer that refused (EACCES from Landlock, ENOENT under chroot, EAGAIN
 * from RLIMIT_NPROC, EPERM for a missing privilege); success is ALLOWED.
 * The parent never seals, so it outlives every verdict and prints the table.
 *
 * The key rows test the arrangement serving has: the key process started,
 * its sockets made, the key objects the TLS context is given. That this
 * process holds no private key is checked through OpenSSL's API on those
 * objects (the only way from inside, without knowing the key); the
 * integration tests also search the serving process's memory for the key's
 * bytes, and read the key process's confinement from /proc, which a sealed
 * process cannot.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "audit.h"
#include "descriptors.h"
#include "resolve.h"

/* Seconds a probe may take before it counts as unclear and is killed. */
#define PROBE_TIMEOUT 5

struct env {
	const struct confine *c;
	char file[256];		/* a world-readable regular file under ROOT, or "" */
	char scratch[64];	/* name of the file the write probes try to create */
	int sock;		/* made before sealing: connect and bind probes */
	int sock_err;		/* why it could not be made (the service manager forbids it) */
	pid_t parent;
	int report_fd;		/* the child's pipe to the parent */
	const struct audit_keys *keys;	/* NULL: no key configured */
	EVP_PKEY *objs[KEYPROC_MAX_KEYS];	/* the key objects this process signs with */
	uint16_t scheme[KEYPROC_MAX_KEYS];	/* a TLS 1.3 scheme for each */
	unsigned nobjs;
	int inside;		/* out: the path resolved inside ROOT (chroot) */
	int unclear;		/* out: the probe could not tell (ERROR) */
	char detail[128];	/* out: what the probe found, or what refused it */
};

struct probe {
	const char *name;
	const char *eperm;		/* what refuses it with EPERM, seccomp aside */
	int must_work;			/* 1: serving needs it; 0: must be blocked */
	int needs_socket;
	int (*run)(struct env *);	/* in the sealed child: 0 or an errno */
};

/* What the child reports through the pipe. The pointer is to a string
 * literal, valid in the parent: the child is a fork of it. */
struct report {
	int sealed;		/* 1: confine_seal succeeded */
	int done;		/* 1: the probe returned */
	int err;		/* its errno, 0 for success */
	int inside;
	int unclear;
	unsigned applied;
	const char *rlimits_off;
	char why[256];		/* confine_seal's failure */
	char detail[128];	/* the probe's findings */
};

/* What the table adds up to. */
struct tally {
	int bad, nblock, haveconf;
	struct report first;	/* the first sealed child's, for the confined line */
	char failed[1024];
};

static int
err_or(int r)
{
	return r == -1 ? errno : 0;
}

/* Same file as ROOT/path (or ROOT itself)? Then the open succeeded only
 * because the chroot made ROOT the whole filesystem. */
static int
inside_root(const struct env *e, int fd, const char *path)
{
	struct stat a, b;
	int rfd;

	if (fstat(fd, &a) == -1)
		return 0;
	if (fstat(e->c->root_fd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 1;
	while (*path == '/')
		path++;
	if (*path == '\0' || (rfd = openat(e->c->root_fd, path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	b.st_ino = 0;
	(void)fstat(rfd, &b);
	close(rfd);
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
open_outside(struct env *e, const char *path, int flags)
{
	char c;
	int fd;

	if ((fd = open(path, flags | O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	if (!(flags & O_DIRECTORY) && read(fd, &c, 1) == -1)
		return errno;
	e->inside = inside_root(e, fd, path);
	return 0;
}

static int
p_passwd(struct env *e)
{
	return open_outside(e, "/etc/passwd", 0);
}

static int
p_parent(struct env *e)
{
	int fd = openat(e->c->root_fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return errno;
	e->inside = inside_root(e, fd, "");
	return 0;
}

static int
p_list_root(struct env *e)
{
	char buf[1024];
	int fd, r;

	if ((r = open_outside(e, "/", O_DIRECTORY)) != 0 || e->inside)
		return r;
	if ((fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno;
	return err_or((int)syscall(SYS_getdents64, fd, buf, sizeof(buf)));
}

static int
write_probe(int fd)
{
	if (fd == -1)
		return errno;
	return err_or((int)write(fd, "x", 1));
}

static int
p_write_root(struct env *e)
{
	return write_probe(openat(e->c->root_fd, e->scratch,
	    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
}

static int
p_write_tmp(struct env *e)
{
	char path[96];

	snprintf(path, sizeof(path), "/tmp/%s", e->scratch);
	return write_probe(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
}

static int
p_socket(struct env *e)
{
	(void)e;
	return err_or(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
}

static int
p_connect(struct env *e)
{
	struct sockaddr_in sa;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(9);	/* discard: refused or accepted, the call went out */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (e->sock == -1)
		return e->sock_err;
	r = err_or(connect(e->sock, (struct sockaddr *)&sa, sizeof(sa)));
	return r == ECONNREFUSED ? 0 : r;
}

static int
p_bind(struct env *e)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (e->sock == -1)
		return e->sock_err;
	return err_or(bind(e->sock, (struct sockaddr *)&sa, sizeof(sa)));
}

static int
p_exec(struct env *e)
{
	char *argv[] = { "sh", "-c", "exit 0", NULL };
	char *envp[] = { NULL };

	(void)e;
	execve("/bin/sh", argv, envp);
	return errno;
}

static int
p_fork(struct env *e)
{
	pid_t pid;

	(void)e;
	if ((pid = fork()) == 0)
		_exit(0);
	return pid == -1 ? errno : 0;
}

static int
p_ptrace(struct env *e)
{
	/* SEIZE does not stop the tracee; the tracer's exit detaches. */
	return err_or((int)ptrace(PTRACE_SEIZE, e->parent, 0, 0));
}

static int
p_setuid(struct env *e)
{
	(void)e;
	return err_or((int)syscall(SYS_setuid, 0));
}

static int
p_setresuid(struct env *e)
{
	(void)e;
	return err_or((int)syscall(SYS_setresuid, 0, 0, 0));
}

static int
p_kill(struct env *e)
{
	(void)e;
	return err_or(kill(1, 0));
}

/* The way hermit opens content: through resolve, beneath the root descriptor. */
static int
open_beneath(const struct env *e, const char *path)
{
	struct stat st;
	int fd;

	errno = 0;
	fd = resolve_open(e->c->root_fd, strcmp(path, ".") == 0 ? "" : path, &st);
	if (fd >= 0)
		return fd;
	if (errno == 0)
		errno = fd == -503 ? EMFILE : ENOENT;
	return -1;
}

static int
p_open_root(struct env *e)
{
	struct stat st;
	int fd = open_beneath(e, ".");

	if (fd == -1)
		return errno;
	return err_or(fstat(fd, &st));
}

static int
p_read_root(struct env *e)
{
	struct stat st;
	char c;
	int fd = open_beneath(e, e->file);

	if (fd == -1 || fstat(fd, &st) == -1)
		return errno;
	return st.st_size > 0 ? err_or((int)read(fd, &c, 1)) : 0;
}

/* A descriptor that whoever started hermit left open (say, on a file
 * outside ROOT) passes every layer: only closing it at startup helps. */
static int
p_inherited(struct env *e)
{
	int keep[DESCRIPTORS_KEEP_MAX + 3 + KEYPROC_MAX_WORKERS];
	const struct keyproc *kp = e->keys != NULL ? e->keys->kp : NULL;
	unsigned n = 0;
	int limit = 65536;	/* or the open-file limit the seal sets, if higher */

	for (unsigned i = 0; i < e->c->nkeep_fds && n < DESCRIPTORS_KEEP_MAX; i++)
		keep[n++] = e->c->keep_fds[i];
	keep[n++] = e->report_fd;
	/* the workers' sockets to the key process, made after the others were closed */
	for (unsigned i = 0; kp != NULL && i < kp->nworkers; i++)
		if (kp->fds[i] != -1)
			keep[n++] = kp->fds[i];
	/* stdin and stdout: kept on purpose, or /dev/null since startup */
	keep[n++] = 0;
	keep[n++] = 1;
	if (e->c->max_fds > (unsigned long)limit)
		limit = e->c->max_fds > (1 << 20) ? 1 << 20 : (int)e->c->max_fds;
	if (descriptors_list_others(keep, n, limit, e->detail, sizeof(e->detail)) > 0)
		return 0;
	return EBADF;
}

/* ------------------------------------------------------------ the key's rows */

/* Opened the key file itself (not another file at that path inside ROOT)? */
static int
is_key_file(const struct env *e, int fd)
{
	struct stat st;
	char c;

	return fstat(fd, &st) == 0 && st.st_dev == e->keys->dev && st.st_ino == e->keys->ino &&
	    read(fd, &c, 1) == 1;
}

/* The way hermit opens content, when the key lies beneath ROOT (the
 * worst case: every client could fetch it), then the path as given
 * (relative to the directory hermit was started in) and the absolute path. */
static int
p_key_file(struct env *e)
{
	const struct audit_keys *k = e->keys;
	const char *paths[2] = { k->path, k->abs };
	int fd, err = 0, other = 0;

	if (k->beneath[0] != '\0') {
		if ((fd = open_beneath(e, k->beneath)) == -1)
			err = errno;
		else if (is_key_file(e, fd)) {
			snprintf(e->detail, sizeof(e->detail), "the key is content: ROOT/%.80s",
			    k->beneath);
			return 0;
		} else
			close(fd);
	}
	for (int i = 0; i < 2; i++) {
		if ((fd = open(paths[i], O_RDONLY | O_CLOEXEC)) == -1) {
			if (err == 0 || err == ENOENT)
				err = errno;
			continue;
		}
		if (is_key_file(e, fd)) {
			snprintf(e->detail, sizeof(e->detail), "read %.100s", paths[i]);
			return 0;
		}
		other = 1;	/* another file at that path, inside ROOT */
		close(fd);
	}
	if (err == 0 && other)
		snprintf(e->detail, sizeof(e->detail), "chroot (another file at that path in ROOT)");
	else if (err == EACCES && k->beneath[0] != '\0')	/* Landlock lets ROOT be read */
		snprintf(e->detail, sizeof(e->detail), "file permissions (EACCES)");
	return err != 0 ? err : ENOENT;
}

/* Any way OpenSSL offers to get at a key object's private half. */
static const char *
private_half(EVP_PKEY *pk)
{
	static const char *const bn[] = { OSSL_PKEY_PARAM_PRIV_KEY, OSSL_PKEY_PARAM_RSA_D };
	unsigned char buf[1024];
	OSSL_PARAM *all = NULL;
	BIGNUM *v = NULL;
	const char *how = NULL;
	size_t len;

	if (EVP_PKEY_todata(pk, EVP_PKEY_KEYPAIR, &all) == 1 &&
	    (OSSL_PARAM_locate(all, bn[0]) != NULL || OSSL_PARAM_locate(all, bn[1]) != NULL))
		how = "exported with EVP_PKEY_todata";
	for (size_t i = 0; how == NULL && i < sizeof(bn) / sizeof(bn[0]); i++)
		if (EVP_PKEY_get_bn_param(pk, bn[i], &v) == 1)
			how = i == 0 ? "the \"priv\" parameter read" : "the \"d\" parameter read";
	if (how == NULL && EVP_PKEY_get_octet_string_param(pk, bn[0], buf, sizeof(buf), &len) == 1)
		how = "the \"priv\" octets read";
	if (how == NULL && i2d_PrivateKey(pk, NULL) > 0)
		how = "encoded with i2d_PrivateKey";
	OSSL_PARAM_free(all);
	BN_clear_free(v);
	OPENSSL_cleanse(buf, sizeof(buf));
	ERR_clear_error();
	return how;
}

static int
p_key_found(struct env *e)
{
	const char *how;

	for (unsigned i = 0; i < e->nobjs; i++)
		if ((how = private_half(e->objs[i])) != NULL) {
			snprintf(e->detail, sizeof(e->detail), "key %u: %s", i, how);
			return 0;
		}
	snprintf(e->detail, sizeof(e->detail), "none: the key object%s public key and index",
	    e->nobjs == 1 ? " holds its" : "s hold their");
	return ENOKEY;
}

/* Without a key process the key is in this process's own memory. */
static int
no_keyproc(struct env *e)
{
	snprintf(e->detail, sizeof(e->detail), "no key process: the key is in this process");
	return 0;
}

static pid_t
keyproc_pid(const struct env *e)
{
	return e->keys->kp != NULL ? e->keys->kp->pid : -1;
}

static int
p_keyproc_ptrace(struct env *e)
{
	if (keyproc_pid(e) == -1)
		return no_keyproc(e);
	return err_or((int)ptrace(PTRACE_SEIZE, keyproc_pid(e), 0, 0));
}

/* An address mapped in the key process too: it is a fork of this one. */
static const char mapped[16] = "hermit";

static int
p_keyproc_vm(struct env *e)
{
	char buf[sizeof(mapped)];
	struct iovec local = { buf, sizeof(buf) }, remote = { (void *)mapped, sizeof(mapped) };

	if (keyproc_pid(e) == -1)
		return no_keyproc(e);
	if (process_vm_readv(keyproc_pid(e), &local, 1, &remote, 1, 0) == -1)
		return errno == EFAULT ? 0 : errno;	/* EFAULT: it was allowed */
	return 0;
}

static int
p_keyproc_mem(struct env *e)
{
	char path[64], buf[sizeof(mapped)];
	int fd;

	if (keyproc_pid(e) == -1)
		return no_keyproc(e);
	snprintf(path, sizeof(path), "/proc/%ld/mem", (long)keyproc_pid(e));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	if (pread(fd, buf, sizeof(buf), (off_t)(uintptr_t)mapped) == -1 && errno != EIO)
		return errno;
	return 0;
}

#define SIGN_CV 34	/* the TLS 1.3 context strings' length, with the 0 byte */

/* RFC 8446 4.4.3's input for a CertificateVerify, by "server" or "client". */
static size_t
cert_verify(unsigned char *out, const char *who, uint16_t scheme)
{
	size_t hash = scheme == 0x0503 ? 48 : 32;

	memset(out, 0x20, 64);
	snprintf((char *)out + 64, SIGN_CV, "TLS 1.3, %s CertificateVerify", who);
	memset(out + 64 + SIGN_CV, 0xa5, hash);
	return 64 + SIGN_CV + hash;
}

/* The key in this process signs whatever it is given. */
static int
sign_own(struct env *e, const unsigned char *m, size_t len)
{
	unsigned char sig[KEYPROC_MAX_SIG];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	int ok = mctx != NULL &&
	    EVP_DigestSignInit_ex(mctx, NULL, "SHA2-256", NULL, NULL, e->keys->own, NULL) == 1 &&
	    EVP_DigestSign(mctx, sig, &siglen, m, len) == 1;

	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	if (!ok) {
		snprintf(e->detail, sizeof(e->detail), "the key in this process did not sign");
		e->unclear = 1;
		return EINVAL;
	}
	snprintf(e->detail, sizeof(e->detail), "signed by the key in this process");
	return 0;
}

/* On this process's real socket to the key process, as a worker asks:
 * a server CertificateVerify first, which it must sign (else the probe
 * proves nothing), then 64 bytes of no handshake message and a client's
 * CertificateVerify, which it must refuse. */
static int
p_sign_any(struct env *e)
{
	unsigned char any[64], cv[64 + SIGN_CV + 48];
	int fd, st;

	for (size_t i = 0; i < sizeof(any); i++)
		any[i] = (unsigned char)(i * 37 + 11);
	if (e->keys->kp == NULL)
		return sign_own(e, any, sizeof(any));
	fd = e->keys->kp->fds[0];
	for (unsigned i = 0; i < e->nobjs; i++) {
		st = keyproc_request(fd, e->scheme[i], i, cv, cert_verify(cv, "server", e->scheme[i]));
		if (st != KEYPROC_OK) {
			snprintf(e->detail, sizeof(e->detail), "key %u: a handshake message was "
			    "not signed (%s): no verdict", i, st == -1 ? strerror(errno) : "refused");
			e->unclear = 1;
			return EINVAL;
		}
		if ((st = keyproc_request(fd, e->scheme[i], i, any, sizeof(any))) == KEYPROC_OK ||
		    (st == KEYPROC_E_REFUSED && (st = keyproc_request(fd, e->scheme[i], i, cv,
		    cert_verify(cv, "client", e->scheme[i]))) == KEYPROC_OK)) {
			snprintf(e->detail, sizeof(e->detail), "key %u: the key process signed it", i);
			return 0;
		}
		if (st != KEYPROC_E_REFUSED) {
			snprintf(e->detail, sizeof(e->detail), "key %u: answer %d, not a refusal", i, st);
			e->unclear = 1;
			return EINVAL;
		}
	}
	snprintf(e->detail, sizeof(e->detail), "key process: refused (KEYPROC_E_REFUSED)");
	return EACCES;
}

#define NOPRIV "missing privilege"
#define NOCAP(cap) "identity: no " cap

static const struct probe probes[] = {
	{ "read /etc/passwd", NOPRIV, 0, 0, p_passwd },
	{ "open ROOT/.. (outside ROOT)", NOPRIV, 0, 0, p_parent },
	{ "list /", NOPRIV, 0, 0, p_list_root },
	{ "write a file in ROOT", NOPRIV, 0, 0, p_write_root },
	{ "write a file in /tmp", NOPRIV, 0, 0, p_write_tmp },
	{ "create a socket", NOPRIV, 0, 0, p_socket },
	{ "connect to 127.0.0.1", NOPRIV, 0, 1, p_connect },
	{ "bind a port", NOPRIV, 0, 1, p_bind },
	{ "exec /bin/sh", NOPRIV, 0, 0, p_exec },
	{ "fork a process", NOPRIV, 0, 0, p_fork },
	{ "ptrace the parent", NOCAP("CAP_SYS_PTRACE") ", parent not dumpable", 0, 0, p_ptrace },
	{ "setuid(0)", NOCAP("CAP_SETUID"), 0, 0, p_setuid },
	{ "setresuid(0,0,0)", NOCAP("CAP_SETUID"), 0, 0, p_setresuid },
	{ "signal pid 1", NOCAP("CAP_KILL") ", another uid", 0, 0, p_kill },
	{ "use an inherited descriptor", NOPRIV, 0, 0, p_inherited },
	{ "open ROOT", NOPRIV, 1, 0, p_open_root },
	{ "read a file in ROOT", NOPRIV, 1, 0, p_read_root },
};

#define NOTRACE "key process not dumpable, no CAP_SYS_PTRACE"

/* Only with --key. */
static const struct probe key_probes[] = {
	{ "read the private key file", "file permissions", 0, 0, p_key_file },
	{ "find the key in this process", NOPRIV, 0, 0, p_key_found },
	{ "ptrace the key process", NOTRACE, 0, 0, p_keyproc_ptrace },
	{ "read the key process memory", NOTRACE, 0, 0, p_keyproc_vm },
	{ "open /proc/KEYPID/mem", NOTRACE, 0, 0, p_keyproc_mem },
	{ "sign arbitrary data", NOPRIV, 0, 0, p_sign_any },
};

/* The first world-readable regular file under ROOT (not a dot-file),
 * breadth first to a small depth, as a relative path. */
static int
find_file(int rootfd, const char *dir, int depth, char *out, size_t size)
{
	char sub[256];
	struct dirent *d;
	struct stat st;
	DIR *dp;
	int fd, found = 0, pass;

	for (pass = 0; pass < 2 && !found; pass++) {
		if ((fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
			return 0;
		if ((dp = fdopendir(fd)) == NULL) {
			close(fd);
			return 0;
		}
		while (!found && (d = readdir(dp)) != NULL) {
			if (d->d_name[0] == '.' ||
			    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name) >= sizeof(sub) ||
			    fstatat(rootfd, sub, &st, AT_SYMLINK_NOFOLLOW) == -1)
				continue;
			if (pass == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IROTH)) {
				snprintf(out, size, "%s", sub + 2);	/* without "./" */
				found = 1;
			} else if (pass == 1 && S_ISDIR(st.st_mode) && depth > 0 &&
			    (st.st_mode & (S_IROTH | S_IXOTH)) == (S_IROTH | S_IXOTH)) {
				found = find_file(rootfd, sub, depth - 1, out, size);
			}
		}
		closedir(dp);
	}
	return found;
}

static void
child(struct env *e, const struct probe *p, int wfd)
{
	struct confine c = *e->c;
	struct report r;

	memset(&r, 0, sizeof(r));
	e->c = &c;
	e->sock = -1;
	e->report_fd = wfd;
	/* Where even an unconfined hermit may not make the socket (systemd's
	 * RestrictAddressFamilies=none), the probe reports that refusal. */
	if (p->needs_socket && (e->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		e->sock_err = errno;
	if (confine_seal(&c) == -1) {
		snprintf(r.why, sizeof(r.why), "%s", c.why);
		(void)!write(wfd, &r, sizeof(r));
		_exit(1);
	}
	r.sealed = 1;
	r.applied = c.applied;
	r.rlimits_off = c.rlimits_off;
	if (write(wfd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	r.err = p->run(e);
	r.inside = e->inside;
	r.unclear = e->unclear;
	snprintf(r.detail, sizeof(r.detail), "%s", e->detail);
	r.done = 1;
	(void)!write(wfd, &r, sizeof(r));
	_exit(0);
}

/* Reads the child's reports until EOF; returns how many, or -1 when the
 * child neither finished nor closed the pipe in time. */
static int
collect(int rfd, struct report *r)
{
	struct report tmp;
	struct pollfd pfd = { rfd, POLLIN, 0 };
	ssize_t got;
	int n = 0;

	for (;;) {
		if (poll(&pfd, 1, PROBE_TIMEOUT * 1000) != 1)
			return -1;
		if ((got = read(rfd, &tmp, sizeof(tmp))) != (ssize_t)sizeof(tmp))
			return got == 0 ? n : -1;
		*r = tmp;
		n++;
	}
}

static const char *
errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "error";
}

/* Names the layer behind a refusal. */
static void
layer_of(const struct probe *p, const struct report *r, int seccomp_errno,
    char *out, size_t size)
{
	const char *l = "refused";

	switch (r->err) {
	case EPERM:
		if (seccomp_errno && (r->applied & LAYER_SECCOMP))
			l = "seccomp (errno mode) or missing privilege";
		else if ((p->run == p_keyproc_ptrace || p->run == p_keyproc_vm) &&
		    (r->applied & LAYER_LANDLOCK))
			l = "landlock (another domain), " NOTRACE;
		else
			l = p->eperm;
		break;
	case EACCES:
		l = (r->applied & LAYER_LANDLOCK) ? "landlock" :
		    p->run == p_keyproc_mem ? "key process not dumpable" : "file permissions";
		break;
	case ENOENT:
		l = (r->applied & LAYER_CHROOT) ? "chroot" : "no such path";
		break;
	case EAGAIN:
		l = p->run == p_fork ? "rlimits: RLIMIT_NPROC" : "refused";
		break;
	case EFBIG:
		l = "rlimits: RLIMIT_FSIZE";
		break;
	case EXDEV:
		l = "openat2 RESOLVE_BENEATH";
		break;
	case EBADF:
		l = p->run == p_inherited ? "closed at startup" : "refused";
		break;
	case EAFNOSUPPORT:
		l = "outside hermit: no sockets of this family (service manager)";
		break;
	}
	snprintf(out, size, "%s (%s)", l, errname(r->err));
}

/* One probe in a sealed child: its row, and what it adds to the tally. */
static int
run_probe(struct env *e, const struct probe *p, struct tally *t)
{
	const struct confine *c = e->c;
	struct report r;
	char line[512], layer[320], name[80];
	const char *result;
	int fds[2], status, n, blocked;
	pid_t pid;

	snprintf(name, sizeof(name), "%s", p->name);
	if (p->run == p_read_root) {
		if (e->file[0] == '\0') {
			printf("%-30s %-8s %-8s %s\n", p->name, "allowed", "-",
			    "no world-readable file to test");
			return 0;
		}
		snprintf(name, sizeof(name), "read ROOT/%.50s", e->file);
	}
	fflush(stdout);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "hermit: audit: pipe: %s\n", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "hermit: audit: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		child(e, p, fds[1]);
	}
	close(fds[1]);
	memset(&r, 0, sizeof(r));
	n = collect(fds[0], &r);
	close(fds[0]);
	if (n == -1)
		kill(pid, SIGKILL);	/* stuck */
	if (waitpid(pid, &status, 0) == -1)
		status = 0;
	if (r.sealed && !t->haveconf) {
		t->first = r;
		t->haveconf = 1;
	}

	blocked = 0;
	if (n > 0 && !r.sealed) {	/* the report carries the reason */
		result = "ERROR";
		snprintf(layer, sizeof(layer), "could not seal: %s", r.why);
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS) {
		result = "blocked", blocked = 1;
		snprintf(layer, sizeof(layer), "seccomp (killed)");
	} else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGXFSZ) {
		result = "blocked", blocked = 1;
		snprintf(layer, sizeof(layer), "rlimits: RLIMIT_FSIZE (killed)");
	} else if (r.done && r.unclear) {
		result = "ERROR";
		snprintf(layer, sizeof(layer), "%s", r.detail);
	} else if (r.done && r.err == 0 && r.inside) {
		result = "blocked", blocked = 1;
		snprintf(layer, sizeof(layer), "chroot (resolves inside ROOT)");
	} else if (r.done && r.err == 0) {
		result = "ALLOWED";
		snprintf(layer, sizeof(layer), "%s", r.detail);
	} else if (r.done && r.detail[0] != '\0') {	/* the probe named the refusal */
		result = "blocked", blocked = 1;
		snprintf(layer, sizeof(layer), "%s", r.detail);
	} else if (r.done) {
		result = "blocked", blocked = 1;
		layer_of(p, &r, c->seccomp_errno, layer, sizeof(layer));
	} else if (p->run == p_exec && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		result = "ALLOWED";	/* the child became /bin/sh */
		snprintf(layer, sizeof(layer), "/bin/sh ran");
	} else {
		result = "ERROR";
		if (n == -1)
			snprintf(layer, sizeof(layer), "no answer within %ds", PROBE_TIMEOUT);
		else if (WIFSIGNALED(status))
			snprintf(layer, sizeof(layer), "killed by signal %d", WTERMSIG(status));
		else
			snprintf(layer, sizeof(layer), "exit status %d", WEXITSTATUS(status));
	}
	/* A write probe that got through left a file: take it away. */
	if (!blocked && p->run == p_write_root)
		(void)unlinkat(c->root_fd, e->scratch, 0);
	if (!blocked && p->run == p_write_tmp) {
		snprintf(line, sizeof(line), "/tmp/%s", e->scratch);
		(void)unlink(line);
	}

	if (p->must_work && strcmp(result, "ALLOWED") == 0)
		result = "allowed";
	if (!p->must_work)
		t->nblock++;
	if (p->must_work ? strcmp(result, "allowed") != 0 : !blocked) {
		t->bad = 1;
		n = (int)strlen(t->failed);
		snprintf(t->failed + n, sizeof(t->failed) - (size_t)n, "%s%s: %s",
		    n ? ", " : "", name, result);
	}
	printf("%-30s %-8s %-8s %s\n", name, p->must_work ? "allowed" : "blocked",
	    result, layer);
	return 0;
}

/* A TLS 1.3 scheme the key process signs with this public key. */
static uint16_t
scheme_of(const EVP_PKEY *pub)
{
	char group[64];

	if (EVP_PKEY_is_a(pub, "RSA"))
		return 0x0804;	/* rsa_pss_rsae_sha256 */
	if (EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group,
	    sizeof(group), NULL) == 1 && OBJ_txt2nid(group) == NID_secp384r1)
		return 0x0503;	/* ecdsa_secp384r1_sha384 */
	return 0x0403;		/* ecdsa_secp256r1_sha256 */
}

/* The key objects, made as the TLS context's was (keyproc_pkey), or the
 * key itself when the key process is left off. */
static int
key_objects(struct env *e)
{
	struct keyproc *kp = e->keys->kp;

	if (kp == NULL) {
		if (EVP_PKEY_up_ref(e->keys->own) != 1)
			return -1;
		e->objs[e->nobjs++] = e->keys->own;
		return 0;
	}
	for (unsigned i = 0; i < kp->nkeys && i < KEYPROC_MAX_KEYS; i++) {
		if ((e->objs[i] = keyproc_pkey(kp, i)) == NULL)
			return -1;
		e->scheme[i] = scheme_of(kp->pub[i]);
		e->nobjs = i + 1;
	}
	return 0;
}

static void
key_rows(struct env *e, struct tally *t)
{
	if (key_objects(e) == -1) {
		printf("hermit: audit: the key process's key objects cannot be made\n");
		t->bad = 1;
		snprintf(t->failed + strlen(t->failed), sizeof(t->failed) - strlen(t->failed),
		    "%skey objects: ERROR", t->failed[0] ? ", " : "");
		return;
	}
	if (e->keys->kp != NULL)
		printf("hermit: audit: the private key %s: held by the key process, pid %ld\n",
		    e->keys->path, (long)e->keys->kp->pid);
	else
		printf("hermit: audit: the private key %s: held by this process (key process "
		    "left off by --audit-without)\n", e->keys->path);
	for (size_t i = 0; i < sizeof(key_probes) / sizeof(key_probes[0]); i++)
		if (run_probe(e, &key_probes[i], t) == -1) {
			t->bad = 1;
			break;
		}
	for (unsigned i = 0; i < e->nobjs; i++)
		EVP_PKEY_free(e->objs[i]);
}

int
audit_run(struct confine *c, const struct audit_keys *keys)
{
	struct tally t;
	struct env e;
	char line[512];

	memset(&e, 0, sizeof(e));
	memset(&t, 0, sizeof(t));
	e.c = c;
	e.keys = keys;
	e.parent = getpid();
	snprintf(e.scratch, sizeof(e.scratch), ".hermit-audit-%ld", (long)e.parent);
	if (!find_file(c->root_fd, ".", 3, e.file, sizeof(e.file)))
		e.file[0] = '\0';

	printf("hermit: audit of %s: each probe runs in a child sealed as for serving\n",
	    c->root_path);
	printf("%-30s %-8s %-8s %s\n", "PROBE", "EXPECTED", "RESULT", "LAYER");
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (run_probe(&e, &probes[i], &t) == -1)
			return 1;
	if (keys != NULL)
		key_rows(&e, &t);

	if (t.haveconf) {
		c->applied = t.first.applied;
		c->rlimits_off = t.first.rlimits_off;
		confine_describe(c, line, sizeof(line));
		printf("hermit: %s\n", line);
	}
	if (t.bad) {
		printf("hermit: audit: FAILED: %s\n", t.failed);
		fflush(stdout);
		return 1;
	}
	printf("hermit: audit: passed: all %d must-block probes blocked, ROOT readable\n",
	    t.nblock);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------ before confinement */

int
audit_parse_without(const char *list, unsigned *bits)
{
	const unsigned allowed = LAYER_CHROOT | LAYER_LANDLOCK | LAYER_SECCOMP | LAYER_RLIMITS |
	    AUDIT_WITHOUT_KEYPROC;
	const char *p = list, *end;
	unsigned out = 0;
	char name[32];
	size_t len;

	if (list == NULL || *list == '\0')
		return -1;
	for (;;) {
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || len >= sizeof(name))
			return -1;
		memcpy(name, p, len);
		name[len] = '\0';
		if (strcmp(name, "keyproc") == 0)
			out |= AUDIT_WITHOUT_KEYPROC;
		else if (confine_parse_layers(name, &out) == -1)
			return -1;
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (out & ~allowed)
		return -1;
	*bits |= out;
	return 0;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* --audit-without keyproc: the key read here, as a server without a key
 * process would hold it, and used once while system calls still may be
 * made freely. */
static int
load_own(struct audit_keys *k, char *why, size_t size)
{
	unsigned char sig[KEYPROC_MAX_SIG];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *mctx;
	BIO *in;
	int ok;

	if ((in = BIO_new_file(k->path, "r")) == NULL) {
		snprintf(why, size, "--key %s: %s", k->path, strerror(errno));
		return -1;
	}
	k->own = PEM_read_bio_PrivateKey(in, NULL, no_passphrase, NULL);
	BIO_free(in);
	mctx = EVP_MD_CTX_new();
	ok = k->own != NULL && mctx != NULL &&
	    EVP_DigestSignInit_ex(mctx, NULL, "SHA2-256", NULL, NULL, k->own, NULL) == 1 &&
	    EVP_DigestSign(mctx, sig, &siglen, (const unsigned char *)"x", 1) == 1;
	EVP_MD_CTX_free(mctx);
	ERR_clear_error();
	if (!ok) {
		snprintf(why, size, "--key %s: not a private key this process can sign with",
		    k->path);
		return -1;
	}
	return 0;
}

int
audit_keys_prepare(struct audit_keys *k, const char *key_path, const char *root_path,
    struct keyproc *kp, char *why, size_t size)
{
	char root[PATH_MAX];
	struct stat st;
	size_t len;

	memset(k, 0, sizeof(*k));
	k->path = key_path;
	k->kp = kp;
	if (stat(key_path, &st) == -1 || realpath(key_path, k->abs) == NULL) {
		snprintf(why, size, "--key %s: %s", key_path, strerror(errno));
		return -1;
	}
	k->dev = st.st_dev;
	k->ino = st.st_ino;
	if (realpath(root_path, root) != NULL) {
		len = strlen(root);
		if (len == 1)
			len = 0;	/* ROOT is / */
		if (strncmp(k->abs, root, len) == 0 && k->abs[len] == '/')
			snprintf(k->beneath, sizeof(k->beneath), "%s", k->abs + len + 1);
	}
	return kp == NULL ? load_own(k, why, size) : 0;
}
