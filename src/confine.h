/*
 * confine: the process locks itself in, after it has gathered everything it
 * needs (sockets, the root descriptor, tables) and before it reads any client
 * input. This is the only module that touches privileges.
 *
 * Order, called from main:
 *   confine_identity()  while /etc is still visible: resolve --user or the
 *                       UID/GID environment (envuidgid) to a target uid/gid.
 *   confine_enter()     single-threaded: chroot into ROOT when CAP_SYS_CHROOT
 *                       is held, drop to the target identity when root, drop
 *                       every capability, set no_new_privs, apply Landlock
 *                       (read-only beneath ROOT, no TCP bind/connect, scoped
 *                       signals and abstract sockets where the ABI allows).
 *   ...main starts the worker threads (they wait, reading nothing)...
 *   confine_seal()      rlimits (no processes, no file writes, no cores, fds
 *                       sized to the connection limit) and the seccomp
 *                       allowlist, synchronised to every thread.
 * Each step either applies its layer or records why it is unavailable; a layer
 * that is required (by default or by --require) and cannot be applied makes
 * the step fail with a message naming the layer: the caller exits (fail closed).
 * confine_describe() gives the one line hermit logs at startup.
 */
#ifndef HERMIT_CONFINE_H
#define HERMIT_CONFINE_H

#include <stddef.h>
#include <sys/types.h>

#define LAYER_CHROOT   1u
#define LAYER_IDENTITY 2u
#define LAYER_CAPS     4u
#define LAYER_NNP      8u
#define LAYER_LANDLOCK 16u
#define LAYER_SECCOMP  32u
#define LAYER_RLIMITS  64u

struct confine {
	/* set by the caller */
	const char *root_path;	/* ROOT as given, for chroot and messages */
	int root_fd;		/* ROOT opened O_DIRECTORY|O_PATH or O_RDONLY */
	const char *user;	/* --user NAME[:GROUP], or NULL */
	int no_chroot;		/* --no-chroot */
	unsigned require;	/* LAYER_* bits from --require */
	unsigned long max_fds;	/* RLIMIT_NOFILE to set */
	int seccomp_errno;	/* debug: failing calls get EPERM instead of a kill */
	int sanitizer;		/* built with ASan/UBSan: allow what their runtime needs */
	const int *keep_fds;	/* the descriptors held on purpose (the audit */
	unsigned nkeep_fds;	/* reports any other one) */
	unsigned without;	/* --audit-without: LAYER_* bits left off, only with
				   --audit, to show what those layers stop */

	/* filled in by the steps */
	int have_target;	/* a target identity was found */
	uid_t uid;
	gid_t gid;
	unsigned applied;	/* LAYER_* bits actually applied */
	int landlock_abi;	/* 0 when unavailable */
	int ngroups;		/* supplementary groups kept (started unprivileged) */
	gid_t groups[8];	/* the first of them, for confine_describe */
	const char *landlock_off; /* why Landlock is off, or NULL */
	const char *caps_kept;	/* why the bounding set was kept, or NULL */
	const char *rlimits_off; /* which rlimit was left as it was and why, or NULL */
	char why[256];		/* the failure, when a step returns -1 */
};

/* Each returns 0, or -1 with c->why set (the caller prints it and exits). */
int confine_identity(struct confine *c);
int confine_enter(struct confine *c);
int confine_seal(struct confine *c);

/* Writes "confined: uid=... gid=... groups=... root=... landlock=... seccomp=... nnp=... caps=... rlimits=..."
 * (call it after confine_seal: it reports what the steps recorded). */
void confine_describe(const struct confine *c, char *out, size_t size);

/* Parses a --require list ("chroot,landlock,..."); returns -1 on an unknown name. */
int confine_parse_layers(const char *list, unsigned *bits);

#endif
