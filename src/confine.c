/*
 * confine: chroot, identity drop, capabilities, no_new_privs, Landlock,
 * rlimits and the seccomp allowlist, in that order (see confine.h and
 * docs/CONFINEMENT.md). Every step checks its own result: a layer is either
 * applied and verified, or recorded as unavailable with its reason, or, when
 * required, the step fails and the caller exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <seccomp.h>

#include "confine.h"

/*
 * Landlock definitions newer than the oldest kernel headers hermit builds
 * with (Debian 12 ships those of Linux 6.1, which stop at ABI 2). The values
 * are part of the kernel ABI and never change.
 */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* struct landlock_ruleset_attr as of ABI 6; older kernels get a prefix of it. */
struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/* The newest Landlock ABI whose rights hermit knows (7 added only logging flags). */
#define LANDLOCK_ABI_KNOWN 7

#define NGROUPS_KEPT (sizeof(((struct confine *)0)->groups) / sizeof(gid_t))

static int
fail(struct confine *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct confine *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int
required(const struct confine *c, unsigned layer)
{
	return (c->require & layer) != 0;
}

/* ------------------------------------------------------------ --require */

static const struct {
	const char *name;
	unsigned bit;
} layer_names[] = {
	{ "chroot", LAYER_CHROOT },
	{ "identity", LAYER_IDENTITY },
	{ "caps", LAYER_CAPS },
	{ "nnp", LAYER_NNP },
	{ "landlock", LAYER_LANDLOCK },
	{ "seccomp", LAYER_SECCOMP },
	{ "rlimits", LAYER_RLIMITS },
};

int
confine_parse_layers(const char *list, unsigned *bits)
{
	unsigned out = 0;
	const char *p = list, *end;
	size_t i, len;

	if (list == NULL || *list == '\0')
		return -1;
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(layer_names) / sizeof(layer_names[0]); i++)
			if (strlen(layer_names[i].name) == len &&
			    memcmp(layer_names[i].name, p, len) == 0)
				break;
		if (i == sizeof(layer_names) / sizeof(layer_names[0]))
			return -1;
		out |= layer_names[i].bit;
		if (end == NULL)
			break;
		p = end + 1;
	}
	*bits |= out;
	return 0;
}

/* ------------------------------------------------------------ identity */

/* A decimal id: digits only, below (id_t)-1 (which means "unchanged"). */
static int
parse_id(const char *s, unsigned *id)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v >= (unsigned long)(uid_t)-1)
		return -1;
	*id = (unsigned)v;
	return 0;
}

static int
identity_from_user(struct confine *c)
{
	char name[256];
	const char *group;
	struct passwd *pw;
	struct group *gr;
	size_t len;
	unsigned id;

	group = strchr(c->user, ':');
	len = group ? (size_t)(group - c->user) : strlen(c->user);
	if (len == 0 || len >= sizeof(name))
		return fail(c, "--user %s: expects NAME[:GROUP]", c->user);
	memcpy(name, c->user, len);
	name[len] = '\0';
	if (group != NULL && *++group == '\0')
		return fail(c, "--user %s: empty group", c->user);

	if ((pw = getpwnam(name)) != NULL) {
		c->uid = pw->pw_uid;
		c->gid = pw->pw_gid;
	} else if (parse_id(name, &id) == 0 && group != NULL) {
		c->uid = id;
	} else {
		return fail(c, "--user %s: no such user%s", c->user,
		    parse_id(name, &id) == 0 ? " (a numeric uid needs :GROUP)" : "");
	}
	if (group != NULL) {
		if ((gr = getgrnam(group)) != NULL)
			c->gid = gr->gr_gid;
		else if (parse_id(group, &id) == 0)
			c->gid = id;
		else
			return fail(c, "--user %s: no such group %s", c->user, group);
	}
	return 0;
}

/* envuidgid, s6-envuidgid and chpst -U set UID and GID; both or neither. */
static int
identity_from_env(struct confine *c)
{
	const char *u = getenv("UID"), *g = getenv("GID");
	unsigned id;

	if (u == NULL && g == NULL)
		return 0;
	if (u == NULL)
		return fail(c, "environment: GID is set but UID is not (set both, e.g. with envuidgid)");
	if (g == NULL)
		return fail(c, "environment: UID is set but GID is not (set both, e.g. with envuidgid)");
	if (parse_id(u, &id) == -1)
		return fail(c, "environment: UID=%.40s is not a numeric uid", u);
	c->uid = id;
	if (parse_id(g, &id) == -1)
		return fail(c, "environment: GID=%.40s is not a numeric gid", g);
	c->gid = id;
	return 1;
}

int
confine_identity(struct confine *c)
{
	int r;

	c->have_target = 0;
	if (c->user != NULL) {	/* --user wins over UID/GID in the environment */
		if (identity_from_user(c) == -1)
			return -1;
		c->have_target = 1;
	} else {
		if ((r = identity_from_env(c)) == -1)
			return -1;
		c->have_target = r;
	}
	if (c->have_target && c->uid == 0)
		return fail(c, "%s: refusing to run as uid 0",
		    c->user ? "--user" : "environment UID");
	if (c->have_target && c->gid == 0)
		return fail(c, "%s: refusing to run as gid 0",
		    c->user ? "--user" : "environment GID");
	return 0;
}

/* ------------------------------------------------------------ capabilities */

struct capsets {
	uint64_t eff, prm, inh;
};

static int
caps_get(struct capsets *s)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) == -1)
		return -1;
	s->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	s->prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	s->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

static int
caps_clear(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return (int)syscall(SYS_capset, &h, d);
}

/* The highest capability this kernel knows, probed (no /proc needed). */
static int
cap_last(void)
{
	int cap;

	for (cap = 0; cap < 64; cap++)
		if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == -1)
			break;
	return cap - 1;
}

static int
has_cap(const struct capsets *s, int cap)
{
	return (s->eff >> cap) & 1;
}

/* ------------------------------------------------------------ helpers */

/* Fails when another thread exists: capabilities, no_new_privs and Landlock
 * are per thread, so confine_enter must run before any thread is created.
 * Without /proc there is nothing to count with; main's order guarantees it. */
static int
single_threaded(void)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n <= 1;
}

/* An open directory other than ROOT is a way out of a chroot (fchdir, or
 * openat relative to it): main must have closed them all. */
static int
check_fd(struct confine *c, int fd, const struct stat *root)
{
	struct stat st;

	if (fd == c->root_fd || fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    (st.st_dev == root->st_dev && st.st_ino == root->st_ino))
		return 0;
	return fail(c, "confine: descriptor %d is an open directory other "
	    "than ROOT: it would lead out of the confinement", fd);
}

static int
check_open_dirs(struct confine *c, const struct stat *root)
{
	struct rlimit rl;
	struct dirent *e;
	DIR *d;
	int fd, max, r = 0;

	/* The open descriptors are listed in /proc; without it, try them all. */
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while (r == 0 && (e = readdir(d)) != NULL)
			if (e->d_name[0] != '.' && (fd = atoi(e->d_name)) != dirfd(d))
				r = check_fd(c, fd, root);
		closedir(d);
		return r;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > 65536)
		max = 65536;
	else
		max = (int)rl.rlim_cur;
	for (fd = 0; r == 0 && fd < max; fd++)
		r = check_fd(c, fd, root);
	return r;
}

static int
any_group_zero(void)
{
	gid_t g[NGROUPS_MAX];
	int n, i;

	if ((n = getgroups(NGROUPS_MAX, g)) == -1)
		return 1;
	for (i = 0; i < n; i++)
		if (g[i] == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ enter: the steps */

static int
enter_chroot(struct confine *c, const struct capsets *caps)
{
	const char *why;

	if (c->without & LAYER_CHROOT)
		why = "left off by --audit-without";
	else if (c->no_chroot)
		why = "--no-chroot was given";
	else if (!has_cap(caps, CAP_SYS_CHROOT))
		why = "no CAP_SYS_CHROOT";
	else {
		if (fchdir(c->root_fd) == -1)
			return fail(c, "chroot: fchdir %s: %s", c->root_path, strerror(errno));
		if (chroot(".") == -1)
			return fail(c, "chroot %s: %s", c->root_path, strerror(errno));
		if (chdir("/") == -1)
			return fail(c, "chroot: chdir /: %s", strerror(errno));
		c->applied |= LAYER_CHROOT;
		return 0;
	}
	if (required(c, LAYER_CHROOT))
		return fail(c, "--require chroot: cannot chroot: %s", why);
	/* No chroot: work from ROOT anyway, so nothing relative escapes it. */
	if (fchdir(c->root_fd) == -1)
		return fail(c, "fchdir %s: %s", c->root_path, strerror(errno));
	return 0;
}

/* Drops the bounding and ambient sets while CAP_SETPCAP may still be held
 * (root has it; the uid change below would take it away). */
static int
drop_bounding(struct confine *c, const struct capsets *caps, int last)
{
	int cap;

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 && errno != EINVAL)
		return fail(c, "caps: clear ambient set: %s", strerror(errno));
	if (!has_cap(caps, CAP_SETPCAP)) {
		/* Only CAP_SETPCAP can shrink the bounding set. It limits what an
		 * execve could gain; no_new_privs and seccomp forbid execve. */
		for (cap = 0; cap <= last; cap++)
			if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) == 1)
				break;
		if (cap <= last)
			c->caps_kept = "bounding set kept: no CAP_SETPCAP";
		return 0;
	}
	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) == -1)
			return fail(c, "caps: drop capability %d from the bounding set: %s",
			    cap, strerror(errno));
	return 0;
}

static int
drop_identity(struct confine *c, int privileged)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	gid_t groups[NGROUPS_MAX];
	int n;

	if (privileged) {
		/* confine_enter checked that the target is there and not root.
		 * setuid() with keepcaps off empties the permitted set; make sure. */
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
			return fail(c, "identity: PR_SET_KEEPCAPS: %s", strerror(errno));
		if (setgroups(0, NULL) == -1 ||
		    setresgid(c->gid, c->gid, c->gid) == -1 ||
		    setresuid(c->uid, c->uid, c->uid) == -1)
			return fail(c, "identity: cannot drop to uid %u gid %u: %s",
			    (unsigned)c->uid, (unsigned)c->gid, strerror(errno));
	}
	if (getresuid(&ru, &eu, &su) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    (n = getgroups(NGROUPS_MAX, groups)) == -1)
		return fail(c, "identity: cannot read back the ids: %s", strerror(errno));
	if (ru == 0 || eu == 0 || su == 0)
		return fail(c, "identity: still uid 0 after the drop");
	if (rg == 0 || eg == 0 || sg == 0 || any_group_zero())
		return fail(c, "identity: running with group 0 (root): start hermit "
		    "with a non-root group (e.g. setuidgid USER, setpriv --regid)");
	if (privileged) {
		if (ru != c->uid || eu != c->uid || su != c->uid ||
		    rg != c->gid || eg != c->gid || sg != c->gid || n != 0)
			return fail(c, "identity: the drop to uid %u gid %u did not take",
			    (unsigned)c->uid, (unsigned)c->gid);
	} else if (c->have_target && (ru != c->uid || rg != c->gid)) {
		return fail(c, "identity: asked for uid %u gid %u, but hermit runs as "
		    "uid %u gid %u and only root can change that",
		    (unsigned)c->uid, (unsigned)c->gid, (unsigned)ru, (unsigned)rg);
	}
	c->uid = ru;
	c->gid = rg;
	c->ngroups = 0;
	for (int i = 0; i < n; i++)	/* the own gid in the list adds nothing */
		if (groups[i] != rg) {
			if ((size_t)c->ngroups < NGROUPS_KEPT)
				c->groups[c->ngroups] = groups[i];
			c->ngroups++;
		}
	c->applied |= LAYER_IDENTITY;
	return 0;
}

static int
drop_caps(struct confine *c, int last)
{
	struct capsets s;
	int cap;

	/* capset only when something is held: a service manager that started
	 * hermit with none may also forbid the call (systemd units without
	 * @privileged), and an unneeded call must not be fatal. */
	if (caps_get(&s) == -1)
		return fail(c, "caps: capget: %s", strerror(errno));
	if ((s.eff || s.prm || s.inh) && caps_clear() == -1)
		return fail(c, "caps: capset: %s", strerror(errno));
	if (caps_get(&s) == -1)
		return fail(c, "caps: capget: %s", strerror(errno));
	if (s.eff || s.prm || s.inh)
		return fail(c, "caps: capabilities still held after capset");
	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0, 0) == 1)
			return fail(c, "caps: ambient capability %d still set", cap);
	if (c->caps_kept == NULL) {
		for (cap = 0; cap <= last; cap++)
			if (prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0) != 0)
				return fail(c, "caps: capability %d still in the bounding set", cap);
		c->applied |= LAYER_CAPS;
	} else if (required(c, LAYER_CAPS)) {
		return fail(c, "--require caps: %s (give hermit CAP_SETPCAP too, or "
		    "start it with an empty bounding set)", c->caps_kept);
	}
	return 0;
}

/*
 * Landlock, best effort as in the kernel's samples/landlock/sandboxer.c:
 * handle every right the running ABI knows, allow reading beneath ROOT only;
 * no TCP bind or connect (ABI 4); no abstract UNIX sockets or signals
 * beyond the sandbox (ABI 6).
 */
static int
enter_landlock(struct confine *c)
{
	struct ruleset_attr ra;
	struct landlock_path_beneath_attr pb;
	size_t ra_size;
	long abi;
	int rfd, saved;

	c->landlock_abi = 0;
	if (c->without & LAYER_LANDLOCK) {
		c->landlock_off = "left off by --audit-without";
		return 0;
	}
	abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		/* A container runtime's seccomp profile may answer ENOSYS or
		 * EPERM for a kernel that has Landlock: name both causes. */
		c->landlock_off = errno == ENOSYS ?
		    "not in this kernel, or hidden by a seccomp profile" :
		    errno == EOPNOTSUPP ? "disabled at boot" :
		    "refused by the kernel or a seccomp profile";
		return 0;
	}
	if (abi > LANDLOCK_ABI_KNOWN)
		abi = LANDLOCK_ABI_KNOWN;

	memset(&ra, 0, sizeof(ra));
	ra.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;	/* ABI 1 */
	if (abi >= 2)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		ra.handled_access_fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	ra_size = sizeof(ra.handled_access_fs);
	if (abi >= 4) {
		ra.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		ra_size = offsetof(struct ruleset_attr, scoped);
	}
	if (abi >= 6) {
		ra.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		ra_size = sizeof(ra);
	}

	rfd = (int)syscall(__NR_landlock_create_ruleset, &ra, ra_size, 0);
	if (rfd == -1)
		return fail(c, "landlock: create ruleset (ABI %ld): %s", abi, strerror(errno));
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	pb.parent_fd = c->root_fd;
	if (syscall(__NR_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) == -1 ||
	    syscall(__NR_landlock_restrict_self, rfd, 0) == -1) {
		saved = errno;
		close(rfd);
		return fail(c, "landlock: %s: %s", c->root_path, strerror(saved));
	}
	close(rfd);
	c->landlock_abi = (int)abi;
	c->applied |= LAYER_LANDLOCK;
	return 0;
}

int
confine_enter(struct confine *c)
{
	struct capsets caps;
	struct stat root, sysroot;
	struct rlimit rl;
	uid_t ru, eu, su;
	int privileged, last;

	c->applied = 0;
	c->landlock_abi = 0;
	c->landlock_off = c->caps_kept = c->rlimits_off = NULL;
	c->why[0] = '\0';

	if (c->without & ~(LAYER_CHROOT | LAYER_LANDLOCK | LAYER_SECCOMP | LAYER_RLIMITS))
		return fail(c, "--audit-without: only chroot, landlock, seccomp and "
		    "rlimits can be left off");
	if (!single_threaded())
		return fail(c, "confine: must run before any thread is started");
	if (fstat(c->root_fd, &root) == -1 || !S_ISDIR(root.st_mode))
		return fail(c, "%s: not a directory", c->root_path);
	if (stat("/", &sysroot) == 0 && sysroot.st_dev == root.st_dev &&
	    sysroot.st_ino == root.st_ino)
		return fail(c, "%s: ROOT is the whole filesystem: nothing to confine to",
		    c->root_path);
	if (check_open_dirs(c, &root) == -1)
		return -1;
	if (caps_get(&caps) == -1)
		return fail(c, "caps: capget: %s", strerror(errno));
	if ((last = cap_last()) < 0)
		return fail(c, "caps: cannot read the bounding set");
	if (getresuid(&ru, &eu, &su) == -1)
		return fail(c, "identity: getresuid: %s", strerror(errno));
	privileged = ru == 0 || eu == 0 || su == 0;
	if (privileged && !c->have_target)
		return fail(c, "started as root without a target identity: give "
		    "--user NAME[:GROUP], or UID and GID in the environment "
		    "(e.g. envuidgid USER hermit ...)");
	if (privileged && (c->uid == 0 || c->gid == 0))
		return fail(c, "identity: refusing to run as uid 0 or gid 0");

	/* While CAP_SYS_RESOURCE may be held: room for max_fds descriptors. */
	if (c->max_fds > 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_max != RLIM_INFINITY && rl.rlim_max < c->max_fds &&
	    has_cap(&caps, CAP_SYS_RESOURCE)) {
		rl.rlim_cur = rl.rlim_max = c->max_fds;
		(void)setrlimit(RLIMIT_NOFILE, &rl);	/* checked in confine_seal */
	}

	/* 1. The content root becomes the whole filesystem. */
	if (enter_chroot(c, &caps) == -1)
		return -1;
	/* 2. Bounding and ambient sets, while CAP_SETPCAP is still there. */
	if (drop_bounding(c, &caps, last) == -1)
		return -1;
	/* 3. Identity: groups, then gid, then uid, each read back. */
	if (drop_identity(c, privileged) == -1)
		return -1;
	/* 4. Whatever capabilities remain (inheritable after setuid; all of
	 *    them when started unprivileged with some). */
	if (drop_caps(c, last) == -1)
		return -1;
	/* Other processes of this uid may not ptrace or read it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return fail(c, "prctl PR_SET_DUMPABLE: %s", strerror(errno));
	/* 5. no_new_privs: nothing can gain privileges from here on. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return fail(c, "nnp: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	c->applied |= LAYER_NNP;
	/* 6. Landlock: read-only beneath ROOT. */
	if (enter_landlock(c) == -1)
		return -1;
	if (!(c->applied & LAYER_LANDLOCK)) {
		if (required(c, LAYER_LANDLOCK))
			return fail(c, "--require landlock: Landlock is %s", c->landlock_off);
		if (!(c->applied & LAYER_CHROOT) && !(c->without & (LAYER_CHROOT | LAYER_LANDLOCK)))
			return fail(c, "no chroot (%s) and no Landlock (%s): nothing would keep "
			    "hermit inside %s; give it CAP_SYS_CHROOT or run a kernel with Landlock",
			    c->no_chroot ? "--no-chroot" : "no CAP_SYS_CHROOT",
			    c->landlock_off, c->root_path);
	}
	/* The new identity under the new rules must still read ROOT. */
	{
		int fd = openat(c->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1)
			return fail(c, "%s: not readable by uid %u after confinement: %s",
			    c->root_path, (unsigned)c->uid, strerror(errno));
		close(fd);
	}
	return 0;
}

/* ------------------------------------------------------------ seal: rlimits */

static int
is_regular_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

static int
seal_rlimits(struct confine *c)
{
	struct rlimit zero = { 0, 0 }, rl;

	if (c->without & LAYER_RLIMITS) {
		c->rlimits_off = "left off by --audit-without";
		return 0;
	}
	/* No new processes or threads: every thread exists by now. Not enforced
	 * for uid 0, but hermit is no longer uid 0. */
	if (setrlimit(RLIMIT_NPROC, &zero) == -1)
		return fail(c, "rlimits: RLIMIT_NPROC: %s", strerror(errno));
	if (setrlimit(RLIMIT_CORE, &zero) == -1)
		return fail(c, "rlimits: RLIMIT_CORE: %s", strerror(errno));
	/* No file grows: unless stderr (or stdout) is a regular file, the log
	 * hermit must keep appending to; a write past the limit would kill it. */
	if (is_regular_file(1) || is_regular_file(2))
		c->rlimits_off = "fsize unlimited: stdout or stderr is a regular file";
	else if (setrlimit(RLIMIT_FSIZE, &zero) == -1)
		return fail(c, "rlimits: RLIMIT_FSIZE: %s", strerror(errno));
	if (c->max_fds > 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return fail(c, "rlimits: RLIMIT_NOFILE: %s", strerror(errno));
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < c->max_fds)
			c->rlimits_off = "nofile below --max-connections: hard limit too low";
		else
			rl.rlim_max = c->max_fds;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			return fail(c, "rlimits: RLIMIT_NOFILE: %s", strerror(errno));
	}
	if (c->rlimits_off != NULL && required(c, LAYER_RLIMITS))
		return fail(c, "--require rlimits: %s", c->rlimits_off);
	c->applied |= LAYER_RLIMITS;
	return 0;
}

/* ------------------------------------------------------------ seal: seccomp */

enum argcheck {
	ANY,		/* any arguments */
	OPEN_READ,	/* openat: no write access mode, no O_CREAT/O_TRUNC/O_TMPFILE */
	NO_EXEC,	/* mmap/mprotect: prot without PROT_EXEC */
	FL_ONLY,	/* fcntl: F_GETFL and F_SETFL only */
	OWN_PID,	/* tgkill: only threads of this process (abort, raise) */
	FD_ONLY,	/* fcntl: F_GETFD and F_SETFD only */
};

struct rule {
	int nr;			/* SCMP_SYS(name) */
	enum argcheck check;
};

/*
 * The serving loop's system calls, and nothing else. Anything not listed
 * kills the whole process (or fails with EPERM under --seccomp-debug).
 */
static const struct rule serving[] = {
	/* requests in, responses out */
	{ SCMP_SYS(read), ANY },
	{ SCMP_SYS(readv), ANY },
	{ SCMP_SYS(pread64), ANY },
	{ SCMP_SYS(recvfrom), ANY },
	{ SCMP_SYS(recvmsg), ANY },
	{ SCMP_SYS(write), ANY },
	{ SCMP_SYS(writev), ANY },
	{ SCMP_SYS(sendto), ANY },
	{ SCMP_SYS(sendmsg), ANY },
	{ SCMP_SYS(sendfile), ANY },
	/* content: opened read-only beneath ROOT. openat2 takes its flags in a
	 * struct seccomp cannot look into; there Landlock (read rights only)
	 * and RLIMIT_FSIZE=0 stop writes, and open(2) is not allowed at all. */
	{ SCMP_SYS(openat2), ANY },
	{ SCMP_SYS(openat), OPEN_READ },
	{ SCMP_SYS(close), ANY },
	{ SCMP_SYS(dup), ANY },		/* a cached file kept by a connection for sendfile */
	{ SCMP_SYS(fstat), ANY },
	{ SCMP_SYS(newfstatat), ANY },
	{ SCMP_SYS(statx), ANY },
	{ SCMP_SYS(lseek), ANY },
	{ SCMP_SYS(fcntl), FL_ONLY },
	/* --listing reads directories it already holds open. Allowed without
	 * it too: it reveals only names beneath ROOT, which Landlock's read
	 * rights and openat already reach, and one filter for every mode is
	 * one filter to audit. */
	{ SCMP_SYS(getdents64), ANY },
	/* the event loop and its sockets; no socket, bind, listen or connect */
	{ SCMP_SYS(epoll_wait), ANY },
	{ SCMP_SYS(epoll_pwait), ANY },
	{ SCMP_SYS(epoll_ctl), ANY },
	{ SCMP_SYS(accept4), ANY },
	{ SCMP_SYS(accept), ANY },
	{ SCMP_SYS(shutdown), ANY },
	{ SCMP_SYS(setsockopt), ANY },
	{ SCMP_SYS(getsockopt), ANY },
	{ SCMP_SYS(getsockname), ANY },
	{ SCMP_SYS(getpeername), ANY },
	/* time */
	{ SCMP_SYS(clock_gettime), ANY },
	{ SCMP_SYS(clock_nanosleep), ANY },
	{ SCMP_SYS(nanosleep), ANY },
	{ SCMP_SYS(gettimeofday), ANY },
	{ SCMP_SYS(time), ANY },
	/* threads that already exist: locks and their exit */
	{ SCMP_SYS(futex), ANY },
	{ SCMP_SYS(sched_yield), ANY },
	{ SCMP_SYS(set_robust_list), ANY },
	{ SCMP_SYS(rseq), ANY },
	{ SCMP_SYS(exit), ANY },
	{ SCMP_SYS(exit_group), ANY },
	/* memory, never executable */
	{ SCMP_SYS(brk), ANY },
	{ SCMP_SYS(mmap), NO_EXEC },
	{ SCMP_SYS(mprotect), NO_EXEC },
	{ SCMP_SYS(mremap), ANY },
	{ SCMP_SYS(munmap), ANY },
	{ SCMP_SYS(madvise), ANY },
	/* signals delivered to it, and abort() on itself */
	{ SCMP_SYS(rt_sigprocmask), ANY },
	{ SCMP_SYS(rt_sigreturn), ANY },
	{ SCMP_SYS(sigaltstack), ANY },
	{ SCMP_SYS(restart_syscall), ANY },
	{ SCMP_SYS(getpid), ANY },
	{ SCMP_SYS(gettid), ANY },
	{ SCMP_SYS(tgkill), OWN_PID },
	{ SCMP_SYS(getrandom), ANY },
};

/*
 * The ASan/UBSan build only (c->sanitizer): calls their runtime makes while
 * it prints a report (the binary's name, /proc/self/maps, isatty on stderr,
 * a pipe for an external symbolizer, close-on-exec on the debug files it
 * reads) or when LeakSanitizer starts at exit (prctl, clone). Found by
 * running a sanitized, sealed program with a deliberate overflow under
 * strace in errno mode. None is allowed: each fails with EPERM instead of
 * killing the process, so the report reaches stderr in full and the runtime
 * falls back to its own symbolizer. Leak checking cannot work confined (it
 * needs a thread made with clone, ptrace and /proc): the test harness runs
 * the sanitized server with ASAN_OPTIONS=detect_leaks=0.
 */
static const struct rule sanitizer_probes[] = {
	{ SCMP_SYS(readlink), ANY },
	{ SCMP_SYS(open), ANY },
	{ SCMP_SYS(ioctl), ANY },
	{ SCMP_SYS(pipe2), ANY },
	{ SCMP_SYS(fcntl), FD_ONLY },
	{ SCMP_SYS(prctl), ANY },
	{ SCMP_SYS(clone), ANY },
};

static struct scmp_arg_cmp
arg(unsigned n, enum scmp_compare op, uint64_t a, uint64_t b)
{
	struct scmp_arg_cmp x = { .arg = n, .op = op, .datum_a = a, .datum_b = b };

	return x;
}

static int
add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, enum argcheck check)
{
	const uint64_t badopen = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND |
	    (O_TMPFILE & ~O_DIRECTORY);
	int r;

	switch (check) {
	case ANY:
		return seccomp_rule_add(ctx, action, nr, 0);
	case OPEN_READ:
		return seccomp_rule_add(ctx, action, nr, 1,
		    arg(2, SCMP_CMP_MASKED_EQ, badopen, 0));
	case NO_EXEC:
		return seccomp_rule_add(ctx, action, nr, 1,
		    arg(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	case FL_ONLY:
	case FD_ONLY:
		if ((r = seccomp_rule_add(ctx, action, nr, 1,
		    arg(1, SCMP_CMP_EQ, check == FL_ONLY ? F_GETFL : F_GETFD, 0))) < 0)
			return r;
		return seccomp_rule_add(ctx, action, nr, 1,
		    arg(1, SCMP_CMP_EQ, check == FL_ONLY ? F_SETFL : F_SETFD, 0));
	case OWN_PID:
		return seccomp_rule_add(ctx, action, nr, 1,
		    arg(0, SCMP_CMP_EQ, (uint64_t)getpid(), 0));
	}
	return -EINVAL;
}

static int
seal_seccomp(struct confine *c)
{
	scmp_filter_ctx ctx;
	size_t i;
	int r;

	if (c->without & LAYER_SECCOMP)
		return 0;
	/* Default: kill the whole process, not just the thread. */
	ctx = seccomp_init(c->seccomp_errno ? SCMP_ACT_ERRNO(EPERM) : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return fail(c, "seccomp: cannot create the filter");
	/* Only the native architecture is in the filter; a call through another
	 * ABI (i386 via int 0x80, x32 on x86_64) hits the bad-arch action. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* Every thread gets the filter, atomically, or loading fails. */
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	/* Every system call runs the filter: a binary tree of the allowed
	 * numbers costs a few comparisons where a list costs dozens. Only an
	 * optimisation: a library without it keeps the list. */
	if (r == 0)
		(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (i = 0; r == 0 && i < sizeof(serving) / sizeof(serving[0]); i++)
		r = add_rule(ctx, SCMP_ACT_ALLOW, serving[i].nr, serving[i].check);
	/* (In errno mode they fail with EPERM anyway; libseccomp refuses a rule
	 * whose action is the default one.) */
	for (i = 0; r == 0 && c->sanitizer && !c->seccomp_errno &&
	    i < sizeof(sanitizer_probes) / sizeof(sanitizer_probes[0]); i++)
		r = add_rule(ctx, SCMP_ACT_ERRNO(EPERM), sanitizer_probes[i].nr,
		    sanitizer_probes[i].check);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r != 0)
		return fail(c, "seccomp: %s", strerror(r < 0 ? -r : r));
	c->applied |= LAYER_SECCOMP;
	return 0;
}

int
confine_seal(struct confine *c)
{
	if (seal_rlimits(c) == -1)
		return -1;
	if (seal_seccomp(c) == -1)
		return -1;
	if (!(c->applied & LAYER_SECCOMP) && !(c->without & LAYER_SECCOMP))
		return fail(c, "seccomp: not applied");
	return 0;
}

/* ------------------------------------------------------------ describe */

void
confine_describe(const struct confine *c, char *out, size_t size)
{
	char groups[128], root[256], landlock[96], caps[96], rlimits[96];
	size_t n;
	int i;

	if (c->ngroups == 0)
		snprintf(groups, sizeof(groups), "none");
	else {
		groups[0] = '\0';
		for (i = 0, n = 0; i < c->ngroups && (size_t)i < NGROUPS_KEPT; i++) {
			snprintf(groups + n, sizeof(groups) - n, "%s%u", i ? "," : "",
			    (unsigned)c->groups[i]);
			n = strlen(groups);
		}
		if ((size_t)c->ngroups > NGROUPS_KEPT)
			snprintf(groups + n, sizeof(groups) - n, ",...");
	}
	if (c->applied & LAYER_CHROOT)
		snprintf(root, sizeof(root), "chroot:%s", c->root_path);
	else if (c->applied & LAYER_LANDLOCK)
		snprintf(root, sizeof(root), "landlock:%s", c->root_path);
	else
		snprintf(root, sizeof(root), "none");
	if (c->applied & LAYER_LANDLOCK)
		snprintf(landlock, sizeof(landlock), "abi%d", c->landlock_abi);
	else
		snprintf(landlock, sizeof(landlock), "off(%s)",
		    c->landlock_off ? c->landlock_off : "not applied");
	if (c->applied & LAYER_CAPS)
		snprintf(caps, sizeof(caps), "none");
	else if (c->caps_kept != NULL)
		snprintf(caps, sizeof(caps), "none(%s)", c->caps_kept);
	else
		snprintf(caps, sizeof(caps), "kept");
	if (!(c->applied & LAYER_RLIMITS))
		snprintf(rlimits, sizeof(rlimits), "off(%s)",
		    c->rlimits_off ? c->rlimits_off : "not applied");
	else if (c->rlimits_off != NULL)
		snprintf(rlimits, sizeof(rlimits), "partial(%s)", c->rlimits_off);
	else
		snprintf(rlimits, sizeof(rlimits), "yes");

	snprintf(out, size, "confined: uid=%u gid=%u groups=%s root=%s landlock=%s "
	    "seccomp=%s nnp=%s caps=%s rlimits=%s",
	    (unsigned)c->uid, (unsigned)c->gid, groups, root, landlock,
	    c->applied & LAYER_SECCOMP ? (c->seccomp_errno ? "errno" : "kill") :
	    c->without & LAYER_SECCOMP ? "off(left off by --audit-without)" : "off",
	    c->applied & LAYER_NNP ? "yes" : "no", caps, rlimits);
}
