/*
 * audit: what could a compromised request handler do? Each probe runs in a
 * child forked after confine_enter() and before anything is sealed; the
 * child seals itself with confine_seal() exactly as the serving process
 * does (rlimits, then the seccomp allowlist in its real mode), then tries
 * one thing. A child killed by SIGSYS was stopped by seccomp; an errno names
 * the layer that refused (EACCES from Landlock, ENOENT under chroot, EAGAIN
 * from RLIMIT_NPROC, EPERM for a missing privilege); success is ALLOWED.
 * The parent never seals, so it outlives every verdict and prints the table.
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
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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
	int inside;		/* out: the path resolved inside ROOT (chroot) */
	char detail[128];	/* out: what the probe found, for the table */
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
	unsigned applied;
	const char *rlimits_off;
	char why[256];		/* confine_seal's failure */
	char detail[128];	/* the probe's findings */
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
	int keep[DESCRIPTORS_KEEP_MAX + 3];
	unsigned n = 0;
	int limit = 65536;	/* or the open-file limit the seal sets, if higher */

	for (unsigned i = 0; i < e->c->nkeep_fds && n < DESCRIPTORS_KEEP_MAX; i++)
		keep[n++] = e->c->keep_fds[i];
	keep[n++] = e->report_fd;
	/* stdin and stdout: kept on purpose, or /dev/null since startup */
	keep[n++] = 0;
	keep[n++] = 1;
	if (e->c->max_fds > (unsigned long)limit)
		limit = e->c->max_fds > (1 << 20) ? 1 << 20 : (int)e->c->max_fds;
	if (descriptors_list_others(keep, n, limit, e->detail, sizeof(e->detail)) > 0)
		return 0;
	return EBADF;
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
		else
			l = p->eperm;
		break;
	case EACCES:
		l = (r->applied & LAYER_LANDLOCK) ? "landlock" : "file permissions";
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

int
audit_run(struct confine *c)
{
	struct env e;
	struct report r, first;
	char line[512], layer[320], name[80], failed[1024] = "";
	const char *result;
	size_t i;
	int fds[2], status, n, blocked, bad = 0, nblock = 0, haveconf = 0;
	pid_t pid;

	memset(&e, 0, sizeof(e));
	memset(&first, 0, sizeof(first));
	e.c = c;
	e.parent = getpid();
	snprintf(e.scratch, sizeof(e.scratch), ".hermit-audit-%ld", (long)e.parent);
	if (!find_file(c->root_fd, ".", 3, e.file, sizeof(e.file)))
		e.file[0] = '\0';

	printf("hermit: audit of %s: each probe runs in a child sealed as for serving\n",
	    c->root_path);
	printf("%-30s %-8s %-8s %s\n", "PROBE", "EXPECTED", "RESULT", "LAYER");
	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		const struct probe *p = &probes[i];

		snprintf(name, sizeof(name), "%s", p->name);
		if (p->run == p_read_root) {
			if (e.file[0] == '\0') {
				printf("%-30s %-8s %-8s %s\n", p->name, "allowed", "-",
				    "no world-readable file to test");
				continue;
			}
			snprintf(name, sizeof(name), "read ROOT/%.50s", e.file);
		}
		fflush(stdout);
		if (pipe2(fds, O_CLOEXEC) == -1) {
			fprintf(stderr, "hermit: audit: pipe: %s\n", strerror(errno));
			return 1;
		}
		if ((pid = fork()) == -1) {
			fprintf(stderr, "hermit: audit: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			child(&e, p, fds[1]);
		}
		close(fds[1]);
		memset(&r, 0, sizeof(r));
		n = collect(fds[0], &r);
		close(fds[0]);
		if (n == -1)
			kill(pid, SIGKILL);	/* stuck */
		if (waitpid(pid, &status, 0) == -1)
			status = 0;
		if (r.sealed && !haveconf) {
			first = r;
			haveconf = 1;
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
		} else if (r.done && r.err == 0 && r.inside) {
			result = "blocked", blocked = 1;
			snprintf(layer, sizeof(layer), "chroot (resolves inside ROOT)");
		} else if (r.done && r.err == 0) {
			result = "ALLOWED";
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
			(void)unlinkat(c->root_fd, e.scratch, 0);
		if (!blocked && p->run == p_write_tmp) {
			snprintf(line, sizeof(line), "/tmp/%s", e.scratch);
			(void)unlink(line);
		}

		if (p->must_work && strcmp(result, "ALLOWED") == 0)
			result = "allowed";
		if (!p->must_work)
			nblock++;
		if (p->must_work ? strcmp(result, "allowed") != 0 : !blocked) {
			bad = 1;
			n = (int)strlen(failed);
			snprintf(failed + n, sizeof(failed) - (size_t)n, "%s%s: %s",
			    n ? ", " : "", name, result);
		}
		printf("%-30s %-8s %-8s %s\n", name, p->must_work ? "allowed" : "blocked",
		    result, layer);
	}

	if (haveconf) {
		c->applied = first.applied;
		c->rlimits_off = first.rlimits_off;
		confine_describe(c, line, sizeof(line));
		printf("hermit: %s\n", line);
	}
	if (bad) {
		printf("hermit: audit: FAILED: %s\n", failed);
		fflush(stdout);
		return 1;
	}
	printf("hermit: audit: passed: all %d must-block probes blocked, ROOT readable\n",
	    nblock);
	fflush(stdout);
	return 0;
}
