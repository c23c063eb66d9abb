/*
 * audit: `hermit --audit ROOT`: after the same gathering and confinement as
 * serving, probe what a compromised request handler could do and print a
 * table (read outside ROOT, list /, write, socket, connect, bind, exec, fork,
 * ptrace, setuid, read ROOT). With --cert and --key the key process is
 * started as for serving, and the table gains the key's rows: read the key
 * file, find the private key in this process, ptrace or read the key
 * process's memory, have it sign arbitrary data. Returns the exit status: 0
 * only when every must-block probe was blocked and reading ROOT worked.
 *
 * Order, called from main:
 *   audit_parse_without()  for --audit-without.
 *   audit_keys_prepare()   with a key, in the gather step after the key
 *                          process has started and before confine_enter.
 *   audit_run()            after confine_enter, instead of starting workers.
 */
#ifndef HERMIT_AUDIT_H
#define HERMIT_AUDIT_H

#include <limits.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "confine.h"
#include "keyproc.h"

/* --audit-without keyproc: no key process; the audit loads the key into
 * its own process, as a server without key isolation would hold it, to
 * show what the key process stops. A bit beyond the LAYER_* ones. */
#define AUDIT_WITHOUT_KEYPROC 0x10000u

/* What the key rows need, found before confinement. */
struct audit_keys {
	const char *path;	/* --key as given */
	char abs[PATH_MAX];	/* its absolute path, or "" */
	char beneath[PATH_MAX];	/* its path beneath ROOT when it lies there, or "" */
	dev_t dev;		/* the key file itself, to know it when opened */
	ino_t ino;
	struct keyproc *kp;	/* the running key process; NULL: left off */
	EVP_PKEY *own;		/* left off: the private key, in this process */
};

/* Parses an --audit-without list: chroot, landlock, seccomp, rlimits,
 * keyproc. Returns -1 on another name. */
int audit_parse_without(const char *list, unsigned *bits);

/* kp: the started key process, or NULL when --audit-without keyproc left
 * it off (the key is then read here). Returns 0, or -1 with why set. */
int audit_keys_prepare(struct audit_keys *k, const char *key_path, const char *root_path,
    struct keyproc *kp, char *why, size_t whysize);

/* k: NULL when no key is configured (no key rows). Runs confine_seal()
 * itself in the way it needs (see audit.c). */
int audit_run(struct confine *c, const struct audit_keys *k);

#endif
