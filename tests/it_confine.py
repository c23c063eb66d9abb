"""hermit locks itself in (issue 3): started as root (with UID/GID from the
environment or --user), as an unprivileged user, and as an unprivileged user
holding only CAP_SYS_CHROOT, the running daemon is checked from outside
through /proc/PID: identity, capabilities, no_new_privs, seccomp, its root
directory and its rlimits, and the `hermit: confined:` line must say the
same. Then --audit (it must pass, and fail when a layer is left off), the
startup failures, symlinks out of ROOT in every mode, and the chain loaders
operators use: daemontools, ucspi-tcp, runit, s6, with the run scripts from
contrib/.

Run from the top of the repository: python3 tests/it_confine.py ./hermit [TEST...]
"""

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403
from harness import START_TIMEOUT  # noqa: E402

SECRET = b"secret outside the root\n"
INDEX = b"<p>published</p>\n"
CONFINED_RE = re.compile(
    r"^hermit: confined: uid=(?P<uid>\d+) gid=(?P<gid>\d+) groups=(?P<groups>\S+) "
    r"root=(?P<root>\S+) landlock=(?P<landlock>abi\d+|off\([^)]*\)) "
    r"seccomp=(?P<seccomp>kill|errno) nnp=(?P<nnp>yes) caps=(?P<caps>none(?:\([^)]*\))?) "
    r"rlimits=(?P<rlimits>\S+(?: [^=]*\))?)$", re.M)


def site():
    """OUTER/www is ROOT; OUTER/secret.txt is outside it, and ROOT holds
    symlinks to it (relative and absolute) and to /etc/passwd."""
    outer = tempdir()
    root = os.path.join(outer, "www")
    make_tree({"index.html": INDEX, "sub/page.txt": b"page\n"}, root=root)
    os.chmod(root, 0o755)
    write_file(outer, "secret.txt", SECRET)
    os.symlink("../secret.txt", os.path.join(root, "up.txt"))
    os.symlink(os.path.join(outer, "secret.txt"), os.path.join(root, "abs.txt"))
    os.symlink("/etc/passwd", os.path.join(root, "passwd"))
    os.symlink("../../secret.txt", os.path.join(root, "sub", "deep.txt"))
    return root


ROOT = site()


def nobody():
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def need_root():
    if not is_root():
        skip("needs root (starts hermit as root and as other users)")


def setpriv(*caps, bounding=None):
    """A prefix that runs the command as nobody with no supplementary
    groups, holding only the given capabilities (ambient, so they survive
    the exec) and, if given, that bounding set."""
    need_root()
    if not have_tool("setpriv"):
        skip("setpriv (util-linux) not installed")
    uid, gid = nobody()
    argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
    if caps:
        want = ",".join("+" + c for c in caps)
        argv += ["--inh-caps=" + want, "--ambient-caps=" + want]
    if bounding is not None:
        argv += ["--bounding-set=" + bounding]
    return [shutil.which("setpriv")] + argv[1:]


class Hermit:
    """hermit started with fork/exec, after an optional prefix (setpriv, a
    chain loader, a run script); the last process exec'd is hermit, so the
    pid is hermit's. stderr goes to a file, or to a pipe with pipe=True."""

    def __init__(self, args, root=ROOT, prefix=(), env=None, pipe=False, listen=True,
                 wait=True, argv=None, fds=None):
        self.env = dict(os.environ if env is None else env)
        for k in ("UID", "GID"):
            if env is None:
                self.env.pop(k, None)
        self.pipe = pipe
        self._out = b""
        for attempt in range(3):
            self.port = free_port()
            full = list(args)
            if listen:
                full = ["--listen", "127.0.0.1:%d" % self.port] + full
            self.argv = argv(self.port) if argv else \
                list(prefix) + [BIN] + full + ([root] if root else [])
            if pipe:
                rfd, wfd = os.pipe()
                self.rfd = rfd
                os.set_blocking(rfd, False)
                self.proc = spawn(self.argv, self.env, stdout=wfd, stderr=wfd, fds=fds)
                os.close(wfd)
            else:
                self.logpath = os.path.join(tempdir(), "stderr")
                fd = os.open(self.logpath, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                self.proc = spawn(self.argv, self.env, stdout=fd, stderr=fd, fds=fds)
                os.close(fd)
            self.pid = self.proc.pid
            if not wait:
                return
            if self._ready():
                return
            if "in use" not in self.log():
                break
        raise ServerStartError("hermit did not start: %s\nstderr:\n%s"
                               % (" ".join(self.argv), self.log()))

    def log(self):
        if self.pipe:
            while True:
                try:
                    d = os.read(self.rfd, 65536)
                except BlockingIOError:
                    break
                if not d:
                    break
                self._out += d
            return self._out.decode("utf-8", "replace")
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if re.search(r"^hermit: serving ", self.log(), re.M):
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def confined(self):
        m = CONFINED_RE.search(self.log())
        ok(m, "no well-formed confined line in:\n%s" % self.log())
        return m

    def wait_exit(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("hermit did not exit; stderr:\n%s" % self.log())

    def stop(self):
        self.proc.send_signal(15)
        code = self.wait_exit(15)
        eq(code, 0, "exit status after SIGTERM (stderr: %s)" % self.log()[-1500:])
        rep = sanitizer_report(self.log())
        ok(not rep, "sanitizer report: %s" % rep)


def proc_status(pid, task=None):
    path = "/proc/%d/status" % pid if task is None else "/proc/%d/task/%d/status" % (pid, task)
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def proc_limits(pid):
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f.readlines()[1:]:
            name = line[:26].strip()
            soft, hard = line[26:].split()[:2]
            out[name] = (soft, hard)
    return out


def check_locked_in(h, uid, gid, chroot, bounding_zero=True, own_group=False):
    """What /proc says about a serving hermit, for every thread. own_group:
    the supplementary list may hold the process's own gid."""
    tasks = [int(t) for t in os.listdir("/proc/%d/task" % h.pid)]
    ok(len(tasks) >= 2, "hermit has worker threads (tasks %r)" % tasks)
    for t in tasks:
        s = proc_status(h.pid, t)
        what = "task %d: " % t
        eq(s["Uid"].split(), [str(uid)] * 4, what + "Uid (real, effective, saved, fs)")
        eq(s["Gid"].split(), [str(gid)] * 4, what + "Gid")
        ok(s["Groups"] in (("", str(gid)) if own_group else ("",)),
           what + "supplementary groups: %r" % s["Groups"])
        for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            eq(int(s[cap], 16), 0, what + cap)
        if bounding_zero:
            eq(int(s["CapBnd"], 16), 0, what + "CapBnd")
        eq(s["NoNewPrivs"], "1", what + "NoNewPrivs")
        eq(s["Seccomp"], "2", what + "Seccomp (2: filter)")
    root = os.readlink("/proc/%d/root" % h.pid)
    if chroot:
        eq(root, os.path.realpath(ROOT), "/proc/PID/root: chrooted into ROOT")
    else:
        eq(root, "/", "/proc/PID/root: not chrooted")
    m = h.confined()
    eq((m["uid"], m["gid"], m["groups"]), (str(uid), str(gid), "none"), "confined line identity")
    eq(m["root"], ("chroot:" if chroot else "landlock:") + ROOT, "confined line root")
    ok(m["landlock"].startswith("abi"), "Landlock applied: %s" % m["landlock"])
    eq(m["seccomp"], "kill", "confined line seccomp")
    if bounding_zero:
        eq(m["caps"], "none", "confined line caps")
    else:
        eq(m["caps"], "none(bounding set kept: no CAP_SETPCAP)", "confined line caps")
    return m


def check_serves_only_root(port, what=""):
    with Conn(port) as c:
        r = c.request("GET", "/index.html")
        eq((r.status, r.body), (200, INDEX), what + "GET /index.html")
        for path in ("/up.txt", "/abs.txt", "/passwd", "/sub/deep.txt", "/../secret.txt",
                     "/%2e%2e/secret.txt"):
            r = c.request("GET", path) if not c.eof else None
            if r is None:
                break
            ok(r.status != 200 and SECRET not in r.body and b"root:" not in r.body,
               "%sGET %s must not be served: %s %r" % (what, path, r.status, r.body[:80]))


# ---------------------------------------------------------------- start modes


@test
def root_with_uid_gid_environment():
    need_root()
    uid, gid = nobody()
    env = dict(os.environ, UID=str(uid), GID=str(gid))
    h = Hermit([], env=env)
    check_locked_in(h, uid, gid, chroot=True)
    check_serves_only_root(h.port)
    h.stop()


@test
def root_with_user_option():
    need_root()
    uid, gid = nobody()
    h = Hermit(["--user", "nobody"])
    check_locked_in(h, uid, gid, chroot=True)
    check_serves_only_root(h.port)
    h.stop()


@test
def root_user_option_wins_over_environment():
    need_root()
    uid, gid = nobody()
    env = dict(os.environ, UID="12345", GID="12345")
    h = Hermit(["--user", "nobody"], env=env)
    check_locked_in(h, uid, gid, chroot=True)
    h.stop()


@test
def root_with_no_chroot_is_held_by_landlock():
    need_root()
    uid, gid = nobody()
    h = Hermit(["--user", "nobody", "--no-chroot"])
    check_locked_in(h, uid, gid, chroot=False)
    check_serves_only_root(h.port)
    h.stop()


@test
def unprivileged_is_held_by_landlock():
    uid, gid = nobody()
    h = Hermit([], prefix=setpriv())
    # Without CAP_SETPCAP the bounding set cannot be emptied; the line says so.
    check_locked_in(h, uid, gid, chroot=False, bounding_zero=False)
    check_serves_only_root(h.port)
    h.stop()


@test
def unprivileged_with_empty_bounding_set():
    uid, gid = nobody()
    h = Hermit([], prefix=setpriv(bounding="-all"))
    check_locked_in(h, uid, gid, chroot=False)
    h.stop()


@test
def unprivileged_with_only_cap_sys_chroot_chroots():
    uid, gid = nobody()
    h = Hermit([], prefix=setpriv("sys_chroot"))
    check_locked_in(h, uid, gid, chroot=True, bounding_zero=False)
    check_serves_only_root(h.port)
    h.stop()


@test
def unprivileged_with_cap_sys_chroot_and_setpcap_drops_everything():
    uid, gid = nobody()
    h = Hermit([], prefix=setpriv("sys_chroot", "setpcap"))
    check_locked_in(h, uid, gid, chroot=True)
    h.stop()


@test
def unprivileged_no_chroot_option_skips_the_chroot():
    uid, gid = nobody()
    h = Hermit(["--no-chroot"], prefix=setpriv("sys_chroot", "setpcap"))
    check_locked_in(h, uid, gid, chroot=False)
    h.stop()


@test
def as_the_invoking_user():
    """Whoever runs the suite: as root with --user, else as itself."""
    args = ["--user", "nobody"] if is_root() else []
    h = Hermit(args)
    s = proc_status(h.pid)
    eq((s["NoNewPrivs"], s["Seccomp"]), ("1", "2"), "nnp and seccomp")
    eq(int(s["CapEff"], 16) | int(s["CapPrm"], 16), 0, "no capabilities")
    check_serves_only_root(h.port)
    h.stop()


@test
def rlimits_with_stderr_on_a_pipe():
    args = ["--user", "nobody"] if is_root() else []
    h = Hermit(args + ["--max-connections", "100"], pipe=True)
    lim = proc_limits(h.pid)
    eq(lim["Max processes"], ("0", "0"), "RLIMIT_NPROC")
    eq(lim["Max file size"], ("0", "0"), "RLIMIT_FSIZE")
    eq(lim["Max core file size"], ("0", "0"), "RLIMIT_CORE")
    soft, hard = lim["Max open files"]
    ok(soft == hard and 200 <= int(soft) <= 100000, "RLIMIT_NOFILE sized: %s %s" % (soft, hard))
    eq(h.confined()["rlimits"], "yes", "confined line rlimits")
    r = http(h.port, "GET", "/index.html")
    eq(r.status, 200, "serves")
    ok(wait_for(lambda: "GET /index.html" in h.log()), "access log reaches the pipe")
    h.stop()


@test
def rlimits_with_stderr_in_a_file_keep_the_log():
    """RLIMIT_FSIZE 0 would kill hermit at its first log line into a file:
    it is left unlimited then, and the line says so."""
    args = ["--user", "nobody"] if is_root() else []
    h = Hermit(args)
    lim = proc_limits(h.pid)
    eq(lim["Max processes"], ("0", "0"), "RLIMIT_NPROC")
    eq(lim["Max file size"], ("unlimited", "unlimited"), "RLIMIT_FSIZE")
    eq(h.confined()["rlimits"], "partial(fsize unlimited: stdout or stderr is a regular file)",
       "confined line rlimits")
    for i in range(3):
        eq(http(h.port, "GET", "/index.html").status, 200, "request %d" % i)
    ok(wait_for(lambda: h.log().count("GET /index.html") == 3), "three access lines")
    h.stop()


@test
def seccomp_debug_is_reported():
    args = ["--user", "nobody"] if is_root() else []
    h = Hermit(args + ["--seccomp-debug"])
    eq(h.confined()["seccomp"], "errno", "confined line seccomp")
    eq(proc_status(h.pid)["Seccomp"], "2", "Seccomp")
    h.stop()


@test
def require_every_layer_as_root():
    need_root()
    uid, gid = nobody()
    h = Hermit(["--user", "nobody", "--require",
                "chroot,identity,caps,nnp,landlock,seccomp,rlimits"], pipe=True)
    check_locked_in(h, uid, gid, chroot=True)
    h.stop()


# ---------------------------------------------------------------- startup failures


def fails(args, prefix=(), env=None, root=ROOT, expect=()):
    h = Hermit(args, root=root, prefix=prefix, env=env, wait=False)
    code = h.wait_exit()
    log = h.log()
    eq(code, 1, "exit status; stderr: %s" % log)
    ok(not re.search(r"^hermit: serving", log, re.M), "must not serve")
    for e in expect:
        ok(e in log, "stderr mentions %r: %s" % (e, log))
    return log


@test
def root_without_identity_refuses():
    need_root()
    env = {k: v for k, v in os.environ.items() if k not in ("UID", "GID")}
    fails([], env=env, expect=("without a target identity", "--user", "envuidgid"))


@test
def half_an_identity_in_the_environment_refuses():
    fails([], env=dict(os.environ, UID="65534"), expect=("GID",))
    fails([], env=dict(os.environ, GID="65534"), expect=("UID",))
    fails([], env=dict(os.environ, UID="nobody", GID="65534"), expect=("UID=nobody",))
    fails([], env=dict(os.environ, UID="65534", GID="-1"), expect=("GID=-1",))


@test
def root_as_target_refuses():
    need_root()
    fails(["--user", "root"], expect=("uid 0",))
    fails([], env=dict(os.environ, UID="0", GID="0"), expect=("uid 0",))
    fails(["--user", "nobody:root"], expect=("gid 0",))


@test
def unknown_user_refuses():
    fails(["--user", "no-such-user-hermit"], expect=("no such user",))


@test
def require_chroot_without_the_capability_refuses():
    prefix = setpriv() if is_root() else []
    fails(["--require", "chroot"], prefix=prefix, expect=("--require chroot", "CAP_SYS_CHROOT"))


@test
def require_chroot_with_no_chroot_refuses():
    args = ["--user", "nobody"] if is_root() else []
    fails(args + ["--no-chroot", "--require", "chroot"], expect=("--require chroot", "--no-chroot"))


@test
def require_caps_without_setpcap_refuses():
    fails(["--require", "caps"], prefix=setpriv("sys_chroot"), expect=("--require caps", "CAP_SETPCAP"))


@test
def require_rlimits_with_stderr_in_a_file_refuses():
    args = ["--user", "nobody"] if is_root() else []
    fails(args + ["--require", "rlimits"], expect=("--require rlimits", "regular file"))


@test
def unreadable_root_refuses():
    need_root()
    outer = tempdir()
    private = os.path.join(outer, "private")
    make_tree({"index.html": INDEX}, root=private)
    os.chmod(private, 0o700)
    # As root with --user: ROOT opens, but nobody cannot read it once dropped.
    fails(["--user", "nobody"], root=private, expect=("not readable by uid %d" % nobody()[0],))
    # Started as nobody: ROOT does not even open.
    fails([], root=private, prefix=setpriv(), expect=(private,))


@test
def root_of_the_whole_filesystem_refuses():
    args = ["--user", "nobody"] if is_root() else []
    fails(args, root="/", expect=("whole filesystem",))


# ---------------------------------------------------------------- descriptors

def outside_descriptors():
    """A read descriptor on the secret outside ROOT and a write descriptor on
    another file outside it, as a careless parent might leave them."""
    outer = os.path.dirname(ROOT)
    rd = os.open(os.path.join(outer, "secret.txt"), os.O_RDONLY)
    wr = os.open(os.path.join(outer, "outside.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    return rd, wr


def fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def check_no_inherited(args, prefix=()):
    """Serving, hermit holds no descriptor its parent left open: not the
    read one on the secret, not the write one outside ROOT."""
    rd, wr = outside_descriptors()
    try:
        h = Hermit(args, prefix=prefix, fds={5: rd, 9: wr})
        check_serves_only_root(h.port, "with inherited descriptors")
        t = fd_targets(h.pid)
        outer = os.path.dirname(ROOT)
        leaked = {n: p for n, p in t.items()
                  if p.startswith(outer + "/") and not p.startswith(ROOT)}
        eq(leaked, {}, "descriptors outside ROOT held while serving")
        eq(t.get(0), "/dev/null", "stdin")
        eq(t.get(1), "/dev/null", "stdout (was the log file)")
        ok(t.get(2, "").endswith("/stderr"), "stderr kept: %r" % t.get(2))
        h.stop()
    finally:
        os.close(rd)
        os.close(wr)


@test
def inherited_descriptors_closed_as_root():
    need_root()
    check_no_inherited(["--user", "nobody"])


@test
def inherited_descriptors_closed_unprivileged():
    check_no_inherited([], prefix=setpriv() if is_root() else ())


@test
def audit_reports_inherited_descriptors_closed():
    rd, wr = outside_descriptors()
    try:
        args = ["--user", "nobody"] if is_root() else []
        rows, out = audit_passes(args, pass_fds=(rd, wr))
        eq(rows["use an inherited descriptor"][1:], ("blocked", "closed at startup (EBADF)"),
           "row for descriptors\n%s" % out)
    finally:
        os.close(rd)
        os.close(wr)


# ---------------------------------------------------------------- --audit

ROW_RE = re.compile(r"^(?P<probe>.{30}) (?P<expected>blocked|allowed) +(?P<result>\S+) *(?P<layer>.*)$")


def audit(args=(), prefix=(), env=None, pass_fds=()):
    """Runs hermit --audit; returns (exit status, {probe: (expected, result,
    layer)}, output)."""
    argv = list(prefix) + [BIN, "--audit"] + list(args) + [ROOT]
    e = dict(os.environ if env is None else env)
    if env is None:
        e.pop("UID", None)
        e.pop("GID", None)
    p = subprocess.run(argv, env=e, capture_output=True, timeout=120, pass_fds=pass_fds)
    out = p.stdout.decode("utf-8", "replace")
    rows = {}
    for line in out.splitlines():
        m = ROW_RE.match(line)
        if m:
            rows[m["probe"].strip()] = (m["expected"], m["result"], m["layer"].strip())
    return p.returncode, rows, out + p.stderr.decode("utf-8", "replace")


MUST_BLOCK = ["read /etc/passwd", "open ROOT/.. (outside ROOT)", "list /",
              "write a file in ROOT", "write a file in /tmp", "create a socket",
              "connect to 127.0.0.1", "bind a port", "exec /bin/sh", "fork a process",
              "ptrace the parent", "setuid(0)", "setresuid(0,0,0)", "signal pid 1",
              "use an inherited descriptor"]


def audit_passes(args=(), prefix=(), env=None, pass_fds=()):
    code, rows, out = audit(args, prefix, env, pass_fds)
    for p in MUST_BLOCK:
        ok(p in rows, "probe %r in the table:\n%s" % (p, out))
        eq(rows[p][:2], ("blocked", "blocked"), "probe %r\n%s" % (p, out))
    eq(rows.get("open ROOT", ("", ""))[:2], ("allowed", "allowed"), "open ROOT\n%s" % out)
    reads = [k for k in rows if k.startswith("read ROOT/")]
    ok(reads and rows[reads[0]][:2] == ("allowed", "allowed"), "a file in ROOT reads:\n%s" % out)
    ok("hermit: audit: passed:" in out, "summary line:\n%s" % out)
    ok(re.search(r"^hermit: confined: ", out, re.M), "confined line:\n%s" % out)
    eq(code, 0, "--audit exit status\n%s" % out)
    ok(not sanitizer_report(out), "sanitizer report:\n%s" % out)
    return rows, out


@test
def audit_as_root_passes():
    need_root()
    rows, out = audit_passes(["--user", "nobody"])
    eq(rows["read /etc/passwd"][2], "chroot (ENOENT)", "layer for /etc/passwd")
    eq(rows["create a socket"][2], "seccomp (killed)", "layer for socket")


@test
def audit_as_root_no_chroot_passes():
    need_root()
    rows, out = audit_passes(["--user", "nobody", "--no-chroot"])
    eq(rows["read /etc/passwd"][2], "landlock (EACCES)", "layer for /etc/passwd")


@test
def audit_unprivileged_passes():
    prefix = setpriv() if is_root() else []
    rows, out = audit_passes(prefix=prefix)
    eq(rows["read /etc/passwd"][2], "landlock (EACCES)", "layer for /etc/passwd")


@test
def audit_unprivileged_with_cap_sys_chroot_passes():
    rows, out = audit_passes(prefix=setpriv("sys_chroot"))
    eq(rows["read /etc/passwd"][2], "chroot (ENOENT)", "layer for /etc/passwd")


@test
def audit_in_seccomp_debug_mode_passes():
    args = ["--user", "nobody"] if is_root() else []
    rows, out = audit_passes(args + ["--seccomp-debug"])
    ok(rows["create a socket"][2].startswith("seccomp (errno mode)"), "EPERM from seccomp")


def audit_fails_with(args, allowed, prefix=()):
    code, rows, out = audit(args, prefix)
    ok(code != 2, "hermit does not accept --audit-without (issue 3):\n%s" % out)
    for p in allowed:
        ok(p in rows, "probe %r in the table:\n%s" % (p, out))
        eq(rows[p][:2], ("blocked", "ALLOWED"), "probe %r\n%s" % (p, out))
    ok(re.search(r"^hermit: audit: FAILED: .*" + re.escape(allowed[0]), out, re.M),
       "summary names what was allowed:\n%s" % out)
    eq(code, 1, "--audit exit status with a layer left off\n%s" % out)


@test
def audit_without_seccomp_shows_what_only_seccomp_stops():
    args = ["--user", "nobody"] if is_root() else []
    audit_fails_with(args + ["--audit-without", "seccomp"], ["create a socket"])


@test
def audit_without_seccomp_and_rlimits_lets_fork_through():
    args = ["--user", "nobody"] if is_root() else []
    audit_fails_with(args + ["--audit-without", "seccomp,rlimits"],
                     ["create a socket", "fork a process"])


@test
def audit_without_landlock_and_chroot_reads_outside():
    args = ["--user", "nobody"] if is_root() else []
    audit_fails_with(args + ["--no-chroot", "--audit-without", "landlock,seccomp"],
                     ["read /etc/passwd", "open ROOT/.. (outside ROOT)", "list /",
                      "connect to 127.0.0.1", "bind a port"])


# ---------------------------------------------------------------- chain loaders


def tool(name):
    path = "/usr/bin/" + name
    if not os.path.exists(path):
        skip("%s not installed (Debian packages daemontools, ucspi-tcp, runit, s6)" % name)
    return path


def loader_chroots(*prefix):
    """Started as root through a loader that sets UID and GID: chroot and drop."""
    need_root()
    uid, gid = nobody()
    h = Hermit([], prefix=[tool(prefix[0])] + list(prefix[1:]))
    check_locked_in(h, uid, gid, chroot=True)
    check_serves_only_root(h.port, "%s: " % " ".join(prefix))
    h.stop()


def loader_unprivileged(*prefix):
    """Started through a loader that switches to the user itself: Landlock.
    Those loaders keep the primary group in the supplementary list (hermit
    cannot change that unprivileged, and it grants nothing more)."""
    need_root()
    uid, gid = nobody()
    h = Hermit([], prefix=[tool(prefix[0])] + list(prefix[1:]))
    check_locked_in(h, uid, gid, chroot=False, bounding_zero=False, own_group=True)
    check_serves_only_root(h.port, "%s: " % " ".join(prefix))
    h.stop()


@test
def daemontools_envuidgid_chroots_and_drops():
    loader_chroots("envuidgid", "nobody")


@test
def daemontools_setuidgid_starts_unprivileged():
    loader_unprivileged("setuidgid", "nobody")


@test
def runit_chpst_envuidgid_chroots_and_drops():
    loader_chroots("chpst", "-U", "nobody")


@test
def runit_chpst_setuidgid_starts_unprivileged():
    loader_unprivileged("chpst", "-u", "nobody")


@test
def s6_envuidgid_chroots_and_drops():
    loader_chroots("s6-envuidgid", "nobody")


@test
def s6_setuidgid_starts_unprivileged():
    loader_unprivileged("s6-setuidgid", "nobody")


def tcpserver(prefix, extra):
    """tcpserver on a free port running `hermit --stdio ROOT` per connection;
    returns (Hermit wrapper of tcpserver, port)."""
    ts = tool("tcpserver")
    h = Hermit([], wait=False, argv=lambda port: list(prefix) + [
        ts] + extra + ["-HRl0", "127.0.0.1", str(port), BIN, "--stdio", ROOT], listen=False)
    ok(wait_for(lambda: _connects(h.port), timeout=5), "tcpserver did not start: %s" % h.log())
    return h


def _connects(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def server_socket_inode(server_port, client_port):
    """Inode of the server end of a 127.0.0.1 TCP connection."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote = fields[1].split(":"), fields[2].split(":")
            if int(local[1], 16) == server_port and int(remote[1], 16) == client_port:
                return fields[9]
    return None


def connection_child(tcpserver_pid, server_port, client_port):
    """The hermit tcpserver started for this connection: the child whose
    stdin is the server end of it."""
    def find():
        inode = server_socket_inode(server_port, client_port)
        for k in children(tcpserver_pid):
            try:
                if os.readlink("/proc/%d/fd/0" % k) == "socket:[%s]" % inode:
                    return k
            except OSError:
                pass
        return None
    return wait_for(find, timeout=5)


def check_tcpserver(h, uid, gid, chroot):
    with Conn(h.port) as c:
        r = c.request("GET", "/index.html")
        eq((r.status, r.body), (200, INDEX), "first request")
        pid = connection_child(h.pid, h.port, c.sock.getsockname()[1])
        ok(pid, "a confined hermit per connection")
        s = proc_status(pid)
        eq(s["Uid"].split(), [str(uid)] * 4, "Uid")
        eq(s["Gid"].split(), [str(gid)] * 4, "Gid")
        eq((s["NoNewPrivs"], s["Seccomp"]), ("1", "2"), "nnp, seccomp")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
            eq(int(s[cap], 16), 0, cap)
        eq(os.readlink("/proc/%d/root" % pid),
           os.path.realpath(ROOT) if chroot else "/", "root directory")
        for path in ("/up.txt", "/abs.txt", "/passwd"):
            r = c.request("GET", path)
            ok(r.status != 200 and SECRET not in r.body, "GET %s: %s" % (path, r.status))
        r = c.request("GET", "/sub/page.txt")
        eq((r.status, r.body), (200, b"page\n"), "keep-alive request")
    for i in range(3):
        eq(http(h.port, "GET", "/index.html").status, 200, "connection %d" % i)
    ok(not re.search(r"^hermit: (?!confined)", h.log(), re.M),
       "no error from the per-connection hermits: %s" % h.log())


@test
def ucspi_tcpserver_root_with_envuidgid_chroots_each_connection():
    need_root()
    uid, gid = nobody()
    h = tcpserver([tool("envuidgid"), "nobody"], [])
    check_tcpserver(h, uid, gid, chroot=True)
    h.proc.kill()


@test
def ucspi_tcpserver_dash_U_runs_hermit_unprivileged():
    need_root()
    uid, gid = nobody()
    h = tcpserver([tool("envuidgid"), "nobody"], ["-U"])
    check_tcpserver(h, uid, gid, chroot=False)
    h.proc.kill()


# ---------------------------------------------------------------- contrib run scripts


def run_script(path, uid, gid, chroot, via_env=True):
    need_root()
    env = dict(os.environ, HERMIT=BIN, HERMIT_USER="nobody", HERMIT_ROOT=ROOT)
    for k in ("UID", "GID"):
        env.pop(k, None)
    h = Hermit([], root=None, listen=False, env=env, argv=lambda port: [
        "/bin/sh", "-c", 'HERMIT_LISTEN=127.0.0.1:%d exec "$0"' % port, path])
    # The script sends stderr to stdout (a log pipe in a supervision tree).
    check_locked_in(h, uid, gid, chroot=chroot)
    check_serves_only_root(h.port, path + ": ")
    h.stop()


@test
def contrib_daemontools_run_script():
    tool("envuidgid")
    run_script("contrib/daemontools/run", *nobody(), chroot=True)


@test
def contrib_runit_run_script():
    tool("chpst")
    run_script("contrib/runit/run", *nobody(), chroot=True)


@test
def contrib_s6_run_script():
    tool("s6-envuidgid")
    run_script("contrib/s6/run", *nobody(), chroot=True)


def log_script(path, logger, current):
    """A log/run script: reads lines on stdin and writes them under ./main."""
    need_root()
    tool(logger)
    d = tempdir()
    os.chmod(d, 0o777)
    env = dict(os.environ, HERMIT_LOG_USER="nobody")
    p = subprocess.run(["/bin/sh", os.path.abspath(path)], cwd=d, env=env,
                       input=b"hermit: confined: test line\n", timeout=20)
    eq(p.returncode, 0, "log script exit status")
    with open(os.path.join(d, current), "rb") as f:
        ok(b"hermit: confined: test line" in f.read(), "line logged")


@test
def contrib_daemontools_log_script():
    log_script("contrib/daemontools/log/run", "multilog", "main/current")


@test
def contrib_runit_log_script():
    log_script("contrib/runit/log/run", "svlogd", "main/current")


@test
def contrib_s6_log_script():
    log_script("contrib/s6/log/run", "s6-log", "main/current")


run_all("confine")
