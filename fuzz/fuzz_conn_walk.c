/*
 * fuzz_conn_walk: fuzz_conn (see there) with openat2 answering ENOSYS, as
 * under seccomp filters that do not know it (systemd's RestrictSUIDSGID=):
 * resolve then opens content one path component at a time, and the same
 * invariants must hold, the secret next to the root included.
 */
#define FUZZ_CONN_WALK 1
#include "fuzz_conn.c"
