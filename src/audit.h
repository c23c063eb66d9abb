/*
 * audit: `hermit --audit ROOT`: after the same gathering and confinement as
 * serving, probe what a compromised request handler could do and print a
 * table (read outside ROOT, list /, write, socket, connect, bind, exec, fork,
 * ptrace, setuid, read ROOT). Returns the exit status: 0 only when every
 * must-block probe was blocked and reading ROOT worked.
 */
#ifndef HERMIT_AUDIT_H
#define HERMIT_AUDIT_H

#include "confine.h"

/* Called after confine_enter() and instead of starting workers; it runs
 * confine_seal() itself in the way it needs (see audit.c). */
int audit_run(struct confine *c);

#endif
