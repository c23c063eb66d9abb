"""--audit with a private key: the audit starts the key process and builds
the TLS context as serving does, then, from a sealed child, tries to read
the key file, find the private key in its own process, ptrace or read the
key process's memory, and make the key process sign arbitrary data. Every
one must be blocked, as root (chroot) and unprivileged (Landlock), with ECDSA
and RSA keys; and each row must be able to fail: --audit-without keyproc
(the key in the audit's own process), a key file left readable, a key
inside ROOT. Certificates are made here by the openssl command.

Run from the top of the repository: python3 tests/it_tls_audit.py ./hermit [TEST...]
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

KEY_ROWS = ["read the private key file", "find the key in this process",
            "ptrace the key process", "read the key process memory",
            "open /proc/KEYPID/mem", "sign arbitrary data"]
ROW_RE = re.compile(r"^(?P<probe>.{30}) (?P<expected>blocked|allowed) +(?P<result>\S+) *(?P<layer>.*)$")
HOLDER_RE = re.compile(r"^hermit: audit: the private key .*: held by the key process, pid (\d+)$", re.M)
REFUSED = "key process: refused (KEYPROC_E_REFUSED)"


def make_pki(owner=None):
    """DIR/ec.{crt,key} (P-256), DIR/p384.{crt,key} and DIR/rsa.{crt,key}:
    self-signed; key files mode 0600, owned by owner (uid, gid) if given."""
    d = tempdir()
    for kind in ("ec", "p384", "rsa"):
        self_signed(d, kind)
        if owner is not None:
            for ext in (".key", ".crt"):
                os.chown(os.path.join(d, kind + ext), *owner)
    return d


if not have_tool("openssl"):
    print("SKIP it_tls_audit: the openssl command is not installed")
    print("it_tls_audit: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = make_pki()
ROOT = make_tree({"index.html": b"<p>audit</p>\n"})


def setpriv():
    """A prefix that runs the command as nobody with no supplementary groups."""
    if not is_root():
        skip("needs root to become nobody")
    if not have_tool("setpriv"):
        skip("setpriv (util-linux) not installed")
    uid, gid = nobody_ids()
    return [shutil.which("setpriv"), "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]


_nobody_pki = []


def nobody_pki():
    """Keys owned by nobody, for audits run as nobody: only hermit's own
    layers stand between the sealed process and the file."""
    if not _nobody_pki:
        _nobody_pki.append(make_pki(owner=nobody_ids()))
    return _nobody_pki[0]


def as_root_or_unprivileged():
    """(prefix, args, pki dir): as root, --user nobody; otherwise as we are."""
    if is_root():
        return [], ["--user", "nobody"], PKI
    return [], [], PKI


def audit(kind="ec", args=(), prefix=(), pki=PKI, root=ROOT, key=None):
    """Runs hermit --audit with KIND's certificate and key; returns (exit
    status, {probe: (expected, result, layer)}, output)."""
    key = key or os.path.join(pki, kind + ".key")
    argv = list(prefix) + [BIN, "--audit", "--cert", os.path.join(pki, kind + ".crt"),
                           "--key", key] + list(args) + [root]
    e = dict(os.environ)
    e.pop("UID", None)
    e.pop("GID", None)
    p = subprocess.run(argv, env=e, capture_output=True, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    rows = {}
    for line in out.splitlines():
        m = ROW_RE.match(line)
        if m:
            rows[m["probe"].strip()] = (m["expected"], m["result"], m["layer"].strip())
    return p.returncode, rows, out + p.stderr.decode("utf-8", "replace")


def key_rows_blocked(code, rows, out):
    for r in KEY_ROWS:
        ok(r in rows, "row %r in the table:\n%s" % (r, out))
        eq(rows[r][:2], ("blocked", "blocked"), "row %r\n%s" % (r, out))
    eq(rows["sign arbitrary data"][2], REFUSED, "who refused to sign\n%s" % out)
    ok(rows["find the key in this process"][2].startswith("none:"),
       "the key objects hold no private half\n%s" % out)
    ok(HOLDER_RE.search(out), "the audit names the key process:\n%s" % out)
    ok("hermit: audit: passed:" in out, "summary line:\n%s" % out)
    eq(code, 0, "--audit exit status\n%s" % out)
    ok(not sanitizer_report(out), "sanitizer report:\n%s" % out)


def fails_with(code, rows, out, allowed):
    for r in allowed:
        ok(r in rows, "row %r in the table:\n%s" % (r, out))
        eq(rows[r][:2], ("blocked", "ALLOWED"), "row %r\n%s" % (r, out))
    ok(re.search(r"^hermit: audit: FAILED: .*" + re.escape(allowed[0]), out, re.M),
       "summary names what was allowed:\n%s" % out)
    eq(code, 1, "--audit exit status\n%s" % out)


# ---------------------------------------------------------------- all blocked

@test
def as_root_every_key_row_blocked():
    if not is_root():
        skip("needs root")
    for kind in ("ec", "p384", "rsa"):
        code, rows, out = audit(kind, ["--user", "nobody"])
        key_rows_blocked(code, rows, out)
        eq(rows["read the private key file"][2], "chroot (ENOENT)", "key file, %s" % kind)
        eq(rows["ptrace the key process"][2], "seccomp (killed)", "ptrace, %s" % kind)
        eq(rows["open /proc/KEYPID/mem"][2], "chroot (ENOENT)", "/proc/PID/mem, %s" % kind)


@test
def unprivileged_every_key_row_blocked():
    """As nobody, owning the key file: Landlock keeps it out of reach."""
    prefix, pki = (setpriv(), nobody_pki()) if is_root() else ([], PKI)
    for kind in ("ec", "rsa"):
        code, rows, out = audit(kind, prefix=prefix, pki=pki)
        key_rows_blocked(code, rows, out)
        eq(rows["read the private key file"][2], "landlock (EACCES)", "key file, %s" % kind)


@test
def relative_key_path_blocked():
    """--key as a path relative to where hermit was started."""
    prefix, args, pki = as_root_or_unprivileged()
    cwd = os.getcwd()
    os.chdir(pki)
    try:
        code, rows, out = audit("ec", args, prefix, pki=pki, key="ec.key")
    finally:
        os.chdir(cwd)
    key_rows_blocked(code, rows, out)


@test
def with_an_https_listener_and_seccomp_debug():
    """--listen-tls given too (the audit binds nothing); in seccomp's errno
    mode the key rows still hold."""
    prefix, args, pki = as_root_or_unprivileged()
    code, rows, out = audit("ec", args + ["--listen-tls", "127.0.0.1:%d" % free_port(),
                                          "--seccomp-debug"], prefix, pki=pki)
    key_rows_blocked(code, rows, out)


@test
def key_process_confinement_holds_with_hermits_layers_off():
    """With chroot, Landlock, seccomp and rlimits left off in the audited
    process, the key process's own confinement (not dumpable, its own
    identity's rights) still refuses ptrace and memory reads, and it still
    refuses to sign; the key is still not in this process."""
    prefix, args, pki = as_root_or_unprivileged()
    code, rows, out = audit("ec", args + ["--no-chroot", "--audit-without",
                                          "landlock,seccomp,rlimits"], prefix, pki=pki)
    eq(code, 1, "other rows fail with those layers off\n%s" % out)
    for r in KEY_ROWS[1:]:
        eq(rows.get(r, ("", ""))[:2], ("blocked", "blocked"), "row %r\n%s" % (r, out))
    for r in ("ptrace the key process", "read the key process memory"):
        ok("key process not dumpable" in rows[r][2], "layer of %r: %r" % (r, rows[r][2]))
    eq(rows["open /proc/KEYPID/mem"][2], "key process not dumpable (EACCES)", "/proc/PID/mem")
    eq(rows["sign arbitrary data"][2], REFUSED, "signing")


@test
def key_process_dies_with_the_audit():
    prefix, args, pki = as_root_or_unprivileged()
    code, rows, out = audit("ec", args, prefix, pki=pki)
    m = HOLDER_RE.search(out)
    ok(m, "the key process's pid:\n%s" % out)
    pid = int(m.group(1))
    gone = wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                    open("/proc/%d/stat" % pid).read().split(") ")[1][0] in "ZX", 5)
    ok(gone, "key process %d outlived the audit" % pid)


@test
def no_key_no_key_rows():
    prefix, args, pki = as_root_or_unprivileged()
    p = subprocess.run(list(prefix) + [BIN, "--audit"] + args + [ROOT],
                       capture_output=True, timeout=120)
    out = p.stdout.decode()
    eq(p.returncode, 0, "--audit without a key\n%s" % out)
    for r in KEY_ROWS:
        ok(r not in out, "row %r without a key:\n%s" % (r, out))
    p = subprocess.run([BIN, "--audit", "--audit-without", "keyproc", ROOT],
                       capture_output=True, timeout=30)
    eq(p.returncode, 2, "--audit-without keyproc without a key")
    ok(b"keyproc" in p.stderr, "the message names keyproc: %r" % p.stderr)


# ---------------------------------------------------------------- each row can fail

@test
def without_keyproc_the_key_is_in_reach():
    """--audit-without keyproc: the key in the audit's own process, as a
    server without key isolation holds it: the private half is found and
    signs anything; nothing stands between the process and the key memory."""
    prefix, args, pki = as_root_or_unprivileged()
    for kind in ("ec", "rsa"):
        code, rows, out = audit(kind, args + ["--audit-without", "keyproc"], prefix, pki=pki)
        fails_with(code, rows, out, KEY_ROWS[1:])
        eq(rows["read the private key file"][:2], ("blocked", "blocked"), "key file\n%s" % out)
        ok(rows["find the key in this process"][2].startswith("key 0: "),
           "how the key was found: %r" % rows["find the key in this process"][2])
        eq(rows["sign arbitrary data"][2], "signed by the key in this process", "signing")


@test
def readable_key_file_without_landlock_is_read():
    """As nobody owning the key, with chroot and Landlock off, the file reads."""
    prefix, pki = (setpriv(), nobody_pki()) if is_root() else ([], PKI)
    code, rows, out = audit("ec", ["--no-chroot", "--audit-without", "landlock"], prefix,
                            pki=pki)
    fails_with(code, rows, out, ["read the private key file"])
    ok(rows["read the private key file"][2].startswith("read /"), "what was read\n%s" % out)
    for r in KEY_ROWS[1:]:
        eq(rows[r][:2], ("blocked", "blocked"), "row %r\n%s" % (r, out))


@test
def key_inside_root_is_reported():
    """A readable key beneath ROOT is content: every layer lets it be read."""
    prefix, args, pki = as_root_or_unprivileged()
    root = make_tree({"index.html": b"x", "secret/": None})
    key = os.path.join(root, "secret", "k.pem")
    shutil.copy(os.path.join(pki, "ec.key"), key)
    os.chmod(key, 0o644)
    code, rows, out = audit("ec", args, prefix, pki=pki, root=root, key=key)
    fails_with(code, rows, out, ["read the private key file"])
    eq(rows["read the private key file"][2], "the key is content: ROOT/secret/k.pem",
       "how it was read\n%s" % out)


run_all("it_tls_audit")
