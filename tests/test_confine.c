/*
 * Unit tests for src/confine.c: the --require list, the identity from
 * --user or UID/GID, the startup line, and the seccomp allowlist itself:
 * each filter test runs in a forked child that seals itself and then makes
 * one call; a kill shows up as SIGSYS in the parent. Tests that need root
 * (chroot, identity drop) say SKIP when not root.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <pthread.h>
#include <time.h>

#include <seccomp.h>

#include "confine.h"
#include "unit.h"

#ifdef HERMIT_SANITIZER
#define SANITIZER 1
#else
#define SANITIZER 0
#endif

static unsigned skipped;

static void
skip(const char *name, const char *why)
{
	printf("SKIP %s: %s\n", name, why);
	skipped++;
}

/* ------------------------------------------------------------ --require */

static void
test_parse_layers(void)
{
	unsigned b;

	b = 0;
	CHECK(confine_parse_layers("chroot", &b) == 0 && b == LAYER_CHROOT);
	b = 0;
	CHECK(confine_parse_layers("chroot,landlock,seccomp", &b) == 0 &&
	    b == (LAYER_CHROOT | LAYER_LANDLOCK | LAYER_SECCOMP));
	b = 0;
	CHECK(confine_parse_layers("chroot,identity,caps,nnp,landlock,seccomp,rlimits", &b) == 0 &&
	    b == (LAYER_CHROOT | LAYER_IDENTITY | LAYER_CAPS | LAYER_NNP |
	    LAYER_LANDLOCK | LAYER_SECCOMP | LAYER_RLIMITS));
	b = LAYER_NNP;		/* adds to what is there (repeated --require) */
	CHECK(confine_parse_layers("caps", &b) == 0 && b == (LAYER_NNP | LAYER_CAPS));
}

static void
test_parse_layers_rejects(void)
{
	const char *bad[] = { "", ",", "chroot,", ",chroot", "chroot,,landlock", "bogus",
	    "Chroot", "chroo", "chrootx", "chroot landlock", "all" };
	unsigned b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = LAYER_NNP;
		CHECK(confine_parse_layers(bad[i], &b) == -1 && b == LAYER_NNP);
	}
	b = 0;
	CHECK(confine_parse_layers(NULL, &b) == -1);
}

/* ------------------------------------------------------------ identity */

static struct confine c;

static int
identity(const char *user, const char *uid, const char *gid)
{
	memset(&c, 0, sizeof(c));
	c.user = user;
	if (uid)
		setenv("UID", uid, 1);
	else
		unsetenv("UID");
	if (gid)
		setenv("GID", gid, 1);
	else
		unsetenv("GID");
	return confine_identity(&c);
}

static int
why_has(const char *s)
{
	return strstr(c.why, s) != NULL;
}

static void
test_identity_none(void)
{
	CHECK(identity(NULL, NULL, NULL) == 0 && c.have_target == 0);
}

static void
test_identity_env(void)
{
	CHECK(identity(NULL, "1000", "1001") == 0 && c.have_target &&
	    c.uid == 1000 && c.gid == 1001);
	CHECK(identity(NULL, "4294967294", "7") == 0 && c.uid == 4294967294u);
}

static void
test_identity_env_half_is_fatal(void)
{
	CHECK(identity(NULL, "1000", NULL) == -1 && why_has("GID"));
	CHECK(identity(NULL, NULL, "1000") == -1 && why_has("UID"));
}

static void
test_identity_env_not_numeric(void)
{
	const char *bad[] = { "abc", "", "-1", " 5", "5 ", "5x", "+5", "0x10", "4294967295",
	    "99999999999999999999" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(identity(NULL, bad[i], "100") == -1 && why_has("UID"));
		CHECK(identity(NULL, "100", bad[i]) == -1 && why_has("GID"));
	}
}

static void
test_identity_refuses_root(void)
{
	CHECK(identity(NULL, "0", "100") == -1 && why_has("uid 0"));
	CHECK(identity(NULL, "100", "0") == -1 && why_has("gid 0"));
	CHECK(identity("root", NULL, NULL) == -1 && why_has("uid 0"));
	CHECK(identity("nobody:root", NULL, NULL) == -1 && why_has("gid 0"));
}

static void
test_identity_user(void)
{
	struct passwd *pw = getpwnam("nobody");
	struct group *gr;

	if (pw == NULL) {
		skip("identity_user", "no user nobody");
		return;
	}
	CHECK(identity("nobody", NULL, NULL) == 0 && c.have_target &&
	    c.uid == pw->pw_uid && c.gid == pw->pw_gid);
	if ((gr = getgrgid(pw->pw_gid)) != NULL)
		CHECK(identity("nobody:" "nogroup", NULL, NULL) == 0 ||
		    getgrnam("nogroup") == NULL);
	CHECK(identity("1234:1235", NULL, NULL) == 0 && c.uid == 1234 && c.gid == 1235);
	CHECK(identity("nobody:1235", NULL, NULL) == 0 && c.uid == pw->pw_uid && c.gid == 1235);
}

static void
test_identity_user_wins_over_env(void)
{
	struct passwd *pw = getpwnam("nobody");

	if (pw == NULL) {
		skip("identity_user_wins_over_env", "no user nobody");
		return;
	}
	CHECK(identity("nobody", "1000", "1000") == 0 && c.uid == pw->pw_uid);
	CHECK(identity("nobody", "garbage", NULL) == 0 && c.uid == pw->pw_uid);
}

static void
test_identity_user_unknown(void)
{
	CHECK(identity("no-such-user-hermit", NULL, NULL) == -1 && why_has("no such user"));
	CHECK(identity("1234", NULL, NULL) == -1 && why_has(":GROUP"));
	CHECK(identity("nobody:no-such-group-hermit", NULL, NULL) == -1 && why_has("no such group"));
	CHECK(identity("", NULL, NULL) == -1);
	CHECK(identity(":nogroup", NULL, NULL) == -1);
	CHECK(identity("nobody:", NULL, NULL) == -1);
	unsetenv("UID");
	unsetenv("GID");
}

/* ------------------------------------------------------------ describe */

static void
describe(char *out, size_t size)
{
	confine_describe(&c, out, size);
}

static void
full(void)
{
	memset(&c, 0, sizeof(c));
	c.root_path = "/srv/www";
	c.uid = 61234;
	c.gid = 61235;
	c.applied = LAYER_CHROOT | LAYER_IDENTITY | LAYER_CAPS | LAYER_NNP |
	    LAYER_LANDLOCK | LAYER_SECCOMP | LAYER_RLIMITS;
	c.landlock_abi = 7;
}

static void
test_describe_full(void)
{
	char out[512];

	full();
	describe(out, sizeof(out));
	CHECK(strcmp(out, "confined: uid=61234 gid=61235 groups=none root=chroot:/srv/www "
	    "landlock=abi7 seccomp=kill nnp=yes caps=none rlimits=yes") == 0);
}

static void
test_describe_landlock_only(void)
{
	char out[512];

	full();
	c.applied &= ~LAYER_CHROOT;
	c.landlock_abi = 4;
	c.seccomp_errno = 1;
	describe(out, sizeof(out));
	CHECK(strcmp(out, "confined: uid=61234 gid=61235 groups=none root=landlock:/srv/www "
	    "landlock=abi4 seccomp=errno nnp=yes caps=none rlimits=yes") == 0);
}

static void
test_describe_partial(void)
{
	char out[512];

	full();
	c.applied &= ~(LAYER_LANDLOCK | LAYER_CAPS);
	c.landlock_off = "not in this kernel";
	c.caps_kept = "bounding set kept: no CAP_SETPCAP";
	c.rlimits_off = "fsize unlimited: stdout or stderr is a regular file";
	c.ngroups = 2;
	c.groups[0] = 4;
	c.groups[1] = 27;
	describe(out, sizeof(out));
	CHECK(strcmp(out, "confined: uid=61234 gid=61235 groups=4,27 root=chroot:/srv/www "
	    "landlock=off(not in this kernel) seccomp=kill nnp=yes "
	    "caps=none(bounding set kept: no CAP_SETPCAP) "
	    "rlimits=partial(fsize unlimited: stdout or stderr is a regular file)") == 0);
}

static void
test_describe_nothing(void)
{
	char out[512];

	memset(&c, 0, sizeof(c));
	c.root_path = "/srv/www";
	c.without = LAYER_SECCOMP;
	describe(out, sizeof(out));
	CHECK(strcmp(out, "confined: uid=0 gid=0 groups=none root=none landlock=off(not applied) "
	    "seccomp=off(left off by --audit-without) nnp=no caps=kept "
	    "rlimits=off(not applied)") == 0);
}

static void
test_describe_many_groups(void)
{
	char out[512];
	int i;

	full();
	c.ngroups = 12;
	for (i = 0; i < 8; i++)
		c.groups[i] = (gid_t)(100 + i);
	describe(out, sizeof(out));
	CHECK(strstr(out, " groups=100,101,102,103,104,105,106,107,... ") != NULL);
}

static void
test_describe_truncates(void)
{
	char out[20];

	full();
	memset(out, 'x', sizeof(out));
	confine_describe(&c, out, 10);
	CHECK(strcmp(out, "confined:") == 0 && out[10] == 'x');
}

/* ------------------------------------------------------------ the filter */

static char tmpfile_path[64];
static int fds[2] = { -1, -1 };
static int sock = -1;

/* Runs fn in a child that sealed itself first; returns the wait status.
 * fn's return value becomes the exit code (0: the call succeeded). */
static int
sealed(int (*fn)(void), int errno_mode)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0) {
		struct confine cc;

		memset(&cc, 0, sizeof(cc));
		cc.seccomp_errno = errno_mode;
		cc.sanitizer = SANITIZER;
		if (confine_seal(&cc) == -1) {
			fprintf(stderr, "confine_seal: %s\n", cc.why);
			_exit(100);
		}
		_exit(fn());
	}
	if (pid == -1 || waitpid(pid, &status, 0) == -1)
		return -1;
	return status;
}

#define KILLED(st) (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
#define EXITED(st, code) (WIFEXITED(st) && WEXITSTATUS(st) == (code))
/* Calls the sanitizer runtime probes fail with EPERM in that build only. */
#define KILLED_OR_SAN_EPERM(st) (SANITIZER ? EXITED(st, 1) : KILLED(st))

/* 0: the call succeeded; 1: EPERM; 2: another error. */
static int
ret(long r)
{
	return r == -1 ? (errno == EPERM ? 1 : 2) : 0;
}

static int
s_serving_calls(void)
{
	struct stat st;
	struct timespec ts;
	char b = 'x', buf[4];
	void *m;
	int fd, fl;

	if (write(fds[1], &b, 1) != 1 || read(fds[0], &b, 1) != 1 || b != 'x')
		return 3;
	if ((fd = openat(AT_FDCWD, tmpfile_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1 || pread(fd, buf, sizeof(buf), 0) != 4 || close(fd) == -1)
		return 4;
	if ((m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0)) == MAP_FAILED || mprotect(m, 65536, PROT_READ) == -1 ||
	    munmap(m, 65536) == -1)
		return 5;
	if ((fl = fcntl(fds[0], F_GETFL)) == -1 || fcntl(fds[0], F_SETFL, fl | O_NONBLOCK) == -1)
		return 6;
	if ((fd = dup(fds[0])) == -1 || close(fd) == -1)
		return 8;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1 || getpid() <= 0)
		return 7;
	free(malloc(1 << 20));
	return 0;
}

static int s_execve(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };

	return ret(execve("/bin/true", argv, envp));
}
static int s_socket(void) { return ret(socket(AF_INET, SOCK_STREAM, 0)); }
static int s_socketpair(void) { int sv[2]; return ret(socketpair(AF_UNIX, SOCK_STREAM, 0, sv)); }
static int s_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return ret(p);
}
static int s_open_wronly(void) { return ret(openat(AT_FDCWD, tmpfile_path, O_WRONLY)); }
static int s_open_rdwr(void) { return ret(openat(AT_FDCWD, tmpfile_path, O_RDWR)); }
static int s_open_creat(void) { return ret(openat(AT_FDCWD, tmpfile_path, O_RDONLY | O_CREAT, 0600)); }
static int s_open_trunc(void) { return ret(openat(AT_FDCWD, tmpfile_path, O_RDONLY | O_TRUNC)); }
static int s_open_append(void) { return ret(openat(AT_FDCWD, tmpfile_path, O_RDONLY | O_APPEND)); }
static int s_open_tmpfile(void) { return ret(openat(AT_FDCWD, "/tmp", O_TMPFILE | O_RDWR, 0600)); }
static int s_unlink(void) { return ret(unlinkat(AT_FDCWD, tmpfile_path, 0)); }
static int s_mmap_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return ret(m == MAP_FAILED ? -1 : 0);
}
static int s_mprotect_exec(void)
{
	void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return 3;
	return ret(mprotect(m, 4096, PROT_READ | PROT_EXEC));
}
static int s_fcntl_dupfd(void) { return ret(fcntl(0, F_DUPFD, 10)); }
static int s_dup2(void) { return ret(dup2(0, 50)); }
static int s_fcntl_setfd(void) { return ret(fcntl(fds[0], F_SETFD, FD_CLOEXEC)); }
static int s_tgkill_other(void) { return ret(syscall(SYS_tgkill, 1, 1, 0)); }
static int s_tgkill_self(void) { return ret(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0)); }
static int s_kill(void) { return ret(kill(1, 0)); }
static int s_ptrace(void) { return ret(ptrace(PTRACE_TRACEME, 0, 0, 0)); }
static int s_setuid(void) { return ret(syscall(SYS_setuid, getuid())); }
static int s_setresuid(void) { return ret(syscall(SYS_setresuid, -1, -1, -1)); }
static int s_prctl(void) { return ret(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)); }
static int s_chroot(void) { return ret(chroot("/")); }
static int s_unshare(void) { return ret(syscall(SYS_unshare, 0)); }
static int s_bind(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return ret(bind(sock, (struct sockaddr *)&sa, sizeof(sa)));
}
static int s_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	return ret(connect(sock, (struct sockaddr *)&sa, sizeof(sa)));
}
static int s_listen(void) { return ret(listen(sock, 1)); }
/* getpid through the x32 ABI of x86_64, and through int 0x80 (i386). */
static int s_x32(void) { return ret(syscall(0x40000000 | SYS_getpid)); }
#if defined(__x86_64__)
static int s_int80(void)
{
	long eax = 20;	/* i386 getpid */

	__asm__ volatile("int $0x80" : "+a"(eax) : : "memory");
	return eax > 0 ? 0 : 2;
}
#endif

static void
test_seal_allows_serving_calls(void)
{
	int st = sealed(s_serving_calls, 0);

	CHECK(EXITED(st, 0));
	if (!EXITED(st, 0))
		fprintf(stderr, "serving calls: status %#x\n", (unsigned)st);
}

static void
test_seal_kills_forbidden_calls(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} killed[] = {
		{ "execve", s_execve }, { "socket", s_socket }, { "socketpair", s_socketpair },
		{ "openat O_WRONLY", s_open_wronly }, { "openat O_RDWR", s_open_rdwr },
		{ "openat O_CREAT", s_open_creat }, { "openat O_TRUNC", s_open_trunc },
		{ "openat O_APPEND", s_open_append }, { "openat O_TMPFILE", s_open_tmpfile },
		{ "unlinkat", s_unlink }, { "mmap PROT_EXEC", s_mmap_exec },
		{ "mprotect PROT_EXEC", s_mprotect_exec }, { "fcntl F_DUPFD", s_fcntl_dupfd },
		{ "dup2", s_dup2 },
		{ "tgkill pid 1", s_tgkill_other }, { "kill", s_kill }, { "ptrace", s_ptrace },
		{ "setuid", s_setuid }, { "setresuid", s_setresuid }, { "chroot", s_chroot },
		{ "unshare", s_unshare }, { "bind", s_bind }, { "connect", s_connect },
		{ "listen", s_listen }, { "x32 getpid", s_x32 },
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(killed) / sizeof(killed[0]); i++) {
		st = sealed(killed[i].fn, 0);
		CHECK(KILLED(st));
		if (!KILLED(st))
			fprintf(stderr, "%s: not killed (status %#x)\n", killed[i].name, (unsigned)st);
	}
}

static void
test_seal_sanitizer_probes(void)
{
	/* clone, fcntl F_SETFD and prctl: killed, or EPERM in the sanitized build. */
	CHECK(KILLED_OR_SAN_EPERM(sealed(s_fork, 0)));
	CHECK(KILLED_OR_SAN_EPERM(sealed(s_fcntl_setfd, 0)));
	CHECK(KILLED_OR_SAN_EPERM(sealed(s_prctl, 0)));
}

static void
test_seal_tgkill_self_allowed(void)
{
	CHECK(EXITED(sealed(s_tgkill_self, 0), 0));
}

static void
test_seal_kills_i386_abi(void)
{
#if defined(__x86_64__)
	pid_t pid;
	int st;

	/* Only meaningful where the kernel runs i386 code at all. */
	if ((pid = fork()) == 0)
		_exit(s_int80());
	if (pid == -1 || waitpid(pid, &st, 0) == -1 || !EXITED(st, 0)) {
		skip("seal_kills_i386_abi", "no i386 emulation in this kernel");
		return;
	}
	CHECK(KILLED(sealed(s_int80, 0)));
#else
	skip("seal_kills_i386_abi", "not x86_64");
#endif
}

static void
test_seal_errno_mode(void)
{
	CHECK(EXITED(sealed(s_socket, 1), 1));
	CHECK(EXITED(sealed(s_open_wronly, 1), 1));
	CHECK(EXITED(sealed(s_execve, 1), 1));
	CHECK(EXITED(sealed(s_serving_calls, 1), 0));
}

/* A thread that existed before sealing is under the filter too, and its
 * forbidden call kills the whole process. */
static int go[2];

static void *
late_socket(void *arg)
{
	char b;

	(void)arg;
	if (read(go[0], &b, 1) == 1)
		(void)socket(AF_INET, SOCK_STREAM, 0);
	return NULL;
}

static void
test_seal_covers_every_thread(void)
{
	pid_t pid;
	int st;

	if (pipe(go) == -1)
		return;
	fflush(stdout);
	if ((pid = fork()) == 0) {
		struct confine cc;
		pthread_t t;
		struct timespec ts = { 2, 0 };

		memset(&cc, 0, sizeof(cc));
		cc.sanitizer = SANITIZER;
		if (pthread_create(&t, NULL, late_socket, NULL) != 0 || confine_seal(&cc) == -1)
			_exit(100);
		if (write(go[1], "x", 1) != 1)
			_exit(101);
		nanosleep(&ts, NULL);
		_exit(0);	/* not killed: the thread was not covered */
	}
	CHECK(pid != -1 && waitpid(pid, &st, 0) == pid && KILLED(st));
	close(go[0]);
	close(go[1]);
}

/* ------------------------------------------------------------ confine_enter */

static char dir[64];

/* Runs fn in a child; its return is the exit code (0: as expected). */
static int
child(int (*fn)(void))
{
	int st;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == 0)
		_exit(fn());
	if (pid == -1 || waitpid(pid, &st, 0) == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
enter(const char *root)
{
	memset(&c, 0, sizeof(c));
	c.root_path = root;
	if ((c.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -2;
	return confine_enter(&c);
}

static int
drop_to_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");

	return pw && setgroups(0, NULL) == 0 && setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == 0 &&
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == 0 ? 0 : -1;
}

static int
e_root_without_target(void)
{
	return enter(dir) == -1 && why_has("without a target identity") &&
	    why_has("--user") && why_has("envuidgid") ? 0 : 1;
}

static int
e_open_directory(void)
{
	if (geteuid() == 0 && identity("nobody", NULL, NULL) == -1)
		return 2;
	if (open("/", O_RDONLY | O_DIRECTORY) == -1)
		return 3;
	{
		struct confine keep = c;

		memset(&c, 0, sizeof(c));
		c.user = keep.user, c.uid = keep.uid, c.gid = keep.gid, c.have_target = keep.have_target;
	}
	c.root_path = dir;
	c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return confine_enter(&c) == -1 && why_has("open directory") ? 0 : 1;
}

static int
e_root_is_slash(void)
{
	if (geteuid() == 0 && drop_to_nobody() == -1)
		return 2;
	return enter("/") == -1 && why_has("whole filesystem") ? 0 : 1;
}

static int
e_require_chroot(void)
{
	if (geteuid() == 0 && drop_to_nobody() == -1)
		return 2;
	memset(&c, 0, sizeof(c));
	c.root_path = dir;
	c.require = LAYER_CHROOT;
	c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return confine_enter(&c) == -1 && why_has("--require chroot") &&
	    why_has("no CAP_SYS_CHROOT") ? 0 : 1;
}

static int
e_without_identity(void)
{
	memset(&c, 0, sizeof(c));
	c.root_path = dir;
	c.without = LAYER_IDENTITY;
	c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return confine_enter(&c) == -1 && why_has("--audit-without") ? 0 : 1;
}

/* As root with --user nobody: chroot, the drop, no capabilities, nnp. */
static int
e_full_as_root(void)
{
	struct __user_cap_header_struct { uint32_t version; int pid; } h = { 0x20080522, 0 };
	struct { uint32_t eff, prm, inh; } d[2];
	struct stat a, b;
	struct passwd *pw = getpwnam("nobody");
	uid_t ru, eu, su;

	gid_t some[2] = { 0, 4 };	/* supplementary groups the drop must clear */

	if (pw == NULL || stat(dir, &a) == -1 || identity("nobody", NULL, NULL) == -1 ||
	    setgroups(2, some) == -1)
		return 2;
	c.root_path = dir;
	if ((c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    confine_enter(&c) == -1) {
		fprintf(stderr, "confine_enter: %s\n", c.why);
		return 3;
	}
	if (getresuid(&ru, &eu, &su) == -1 || ru != pw->pw_uid || eu != pw->pw_uid ||
	    su != pw->pw_uid || getgid() != pw->pw_gid || getgroups(0, NULL) != 0)
		return 4;
	if (syscall(SYS_capget, &h, d) == -1 || d[0].eff || d[0].prm || d[0].inh ||
	    d[1].eff || d[1].prm || d[1].inh || prctl(PR_CAPBSET_READ, 0, 0, 0, 0) != 0)
		return 5;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 6;
	if (stat("/", &b) == -1 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return 7;	/* not chrooted into dir */
	if ((c.applied & (LAYER_CHROOT | LAYER_IDENTITY | LAYER_CAPS | LAYER_NNP)) !=
	    (LAYER_CHROOT | LAYER_IDENTITY | LAYER_CAPS | LAYER_NNP))
		return 8;
	if (open("/index.html", O_RDONLY) == -1)
		return 9;
	if (c.landlock_abi > 0 && open("/index.html", O_WRONLY) != -1)
		return 10;	/* Landlock: read-only */
	return 0;
}

/* Started unprivileged: no chroot, Landlock keeps it in, the bounding set
 * cannot be emptied without CAP_SETPCAP and the line says so. */
static int
e_unprivileged(void)
{
	struct passwd *pw = getpwnam("nobody");
	char line[512];

	if (pw == NULL || drop_to_nobody() == -1)
		return 2;
	if (enter(dir) == -1) {
		fprintf(stderr, "confine_enter: %s\n", c.why);
		return 3;
	}
	if (c.applied & LAYER_CHROOT || !(c.applied & LAYER_LANDLOCK) || c.uid != pw->pw_uid)
		return 4;
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return 5;
	if (openat(c.root_fd, "index.html", O_RDONLY) == -1)
		return 6;
	confine_describe(&c, line, sizeof(line));
	if (strstr(line, " root=landlock:") == NULL || strstr(line, " landlock=abi") == NULL ||
	    strstr(line, " caps=none(bounding set kept: no CAP_SETPCAP)") == NULL)
		return 7;
	return 0;
}

static int
e_unprivileged_other_target(void)
{
	if (drop_to_nobody() == -1)
		return 2;
	memset(&c, 0, sizeof(c));
	c.root_path = dir;
	c.have_target = 1;
	c.uid = 1234;
	c.gid = 1234;
	c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return confine_enter(&c) == -1 && why_has("only root") ? 0 : 1;
}

static int
e_unreadable_root(void)
{
	char priv[80];

	snprintf(priv, sizeof(priv), "%s/private", dir);
	if (identity("nobody", NULL, NULL) == -1)
		return 2;
	c.root_path = priv;
	if ((c.root_fd = open(priv, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 3;
	return confine_enter(&c) == -1 && why_has("not readable by uid") ? 0 : 1;
}

/* Makes this process's kernel look like one without Landlock (ENOSYS) or
 * with Landlock disabled at boot (EOPNOTSUPP). */
static int
hide_landlock(int err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;

	if (ctx == NULL)
		return -1;
	r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), SCMP_SYS(landlock_create_ruleset), 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r == 0 ? 0 : -1;
}

/* Unprivileged, no chroot possible and no Landlock: nothing would keep
 * hermit inside ROOT, so it refuses. */
static int
e_no_landlock_no_chroot(void)
{
	if (drop_to_nobody() == -1 || hide_landlock(ENOSYS) == -1)
		return 2;
	return enter(dir) == -1 && why_has("no Landlock (not in this kernel, or hidden by a seccomp profile)") &&
	    why_has("nothing would keep") ? 0 : 1;
}

/* Chrooted, Landlock is best effort: it starts, and the line says why not. */
static int
e_no_landlock_with_chroot(void)
{
	char line[512];

	if (hide_landlock(EOPNOTSUPP) == -1 || identity("nobody", NULL, NULL) == -1)
		return 2;
	c.root_path = dir;
	if ((c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 2;
	if (confine_enter(&c) == -1) {
		fprintf(stderr, "confine_enter: %s\n", c.why);
		return 3;
	}
	confine_describe(&c, line, sizeof(line));
	return (c.applied & LAYER_CHROOT) && !(c.applied & LAYER_LANDLOCK) &&
	    strstr(line, " landlock=off(disabled at boot) ") != NULL ? 0 : 1;
}

static int
e_no_landlock_required(void)
{
	if (hide_landlock(ENOSYS) == -1 || identity("nobody", NULL, NULL) == -1)
		return 2;
	c.root_path = dir;
	c.require = LAYER_LANDLOCK;
	if ((c.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 2;
	return confine_enter(&c) == -1 && why_has("--require landlock") ? 0 : 1;
}

static void
test_enter(void)
{
	int root = geteuid() == 0;

	CHECK(child(e_open_directory) == 0);
	CHECK(child(e_require_chroot) == 0);
	CHECK(child(e_without_identity) == 0);
	if (!root) {
		skip("enter_as_root", "not root");
		return;
	}
	CHECK(child(e_root_without_target) == 0);
	CHECK(child(e_root_is_slash) == 0);
	CHECK(child(e_full_as_root) == 0);
	CHECK(child(e_unprivileged) == 0);
	CHECK(child(e_unprivileged_other_target) == 0);
	CHECK(child(e_unreadable_root) == 0);
	CHECK(child(e_no_landlock_no_chroot) == 0);
	CHECK(child(e_no_landlock_with_chroot) == 0);
	CHECK(child(e_no_landlock_required) == 0);
}

static void
setup(void)
{
	char path[96];
	int fd;

	snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/hermit-test-confine-XXXXXX");
	if ((fd = mkstemp(tmpfile_path)) == -1 || write(fd, "data", 4) != 4)
		exit(1);
	close(fd);
	if (pipe(fds) == -1 || (sock = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		exit(1);
	snprintf(dir, sizeof(dir), "/tmp/hermit-test-root-XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) == -1)
		exit(1);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT, 0644)) == -1 || write(fd, "hi\n", 3) != 3)
		exit(1);
	close(fd);
	snprintf(path, sizeof(path), "%s/private", dir);
	if (mkdir(path, 0700) == -1)
		exit(1);
}

static void
cleanup(void)
{
	char path[96];

	unlink(tmpfile_path);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/private", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	setup();
	test_parse_layers();
	test_parse_layers_rejects();
	test_identity_none();
	test_identity_env();
	test_identity_env_half_is_fatal();
	test_identity_env_not_numeric();
	test_identity_refuses_root();
	test_identity_user();
	test_identity_user_wins_over_env();
	test_identity_user_unknown();
	test_describe_full();
	test_describe_landlock_only();
	test_describe_partial();
	test_describe_nothing();
	test_describe_many_groups();
	test_describe_truncates();
	test_seal_allows_serving_calls();
	test_seal_kills_forbidden_calls();
	test_seal_sanitizer_probes();
	test_seal_tgkill_self_allowed();
	test_seal_kills_i386_abi();
	test_seal_errno_mode();
	test_seal_covers_every_thread();
	test_enter();
	cleanup();
	printf("test_confine: %u passed, %u failed, %u skipped\n", unit_passed, unit_failed, skipped);
	return unit_failed ? 1 : 0;
}
