"""What a sealed hermit asks of the kernel while it does TLS handshakes of
every kind, seen from outside with strace(1).

hermit runs under `strace -f` (the key process followed too) with
--seccomp-debug, so that a call outside an allowlist fails with EPERM, where
it would otherwise kill the process, and shows in the trace. After each
process installs its seccomp filter (the serving process once, for all its
threads; the key process its own), the test drives handshakes only, no
request for content: TLS 1.3 and 1.2, ECDSA and RSA certificates, the
groups X25519, P-256 and P-384, resumption by ticket, an ALPN that is
refused, a version that is refused, garbage, plain HTTP and a client that
leaves mid-handshake. Then it asserts, for both processes:
- no file is opened (open, openat, openat2, creat: none at all);
- every call made is in that process's allowlist, as written in
  src/confine.c (serving[]) and src/keyproc.c (key_calls[]);
- no call failed with EPERM (what --seccomp-debug makes of a forbidden one).
The first two lists are read from the source, so a call added to the
server without its allowlist entry fails here before it kills a server.

Run from the top of the repository:
    python3 tests/it_tls_syscalls.py ./hermit [TEST...]
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
OPENS = {"open", "openat", "openat2", "creat", "open_by_handle_at"}


def table(path, start):
    """The system call names in the C array that starts at `start`."""
    with open(os.path.join(SRC, path)) as f:
        text = f.read()
    i = text.index(start)
    body = text[i:text.index("};", i)]
    return set(re.findall(r"SCMP_SYS\((\w+)\)", body))


# A build under AddressSanitizer and UndefinedBehaviorSanitizer allows
# sigaltstack (its runtime calls it on every exit) and lets the calls its
# runtime makes to report (the "sanitizer_probes" tables) fail with EPERM.
with open(BIN, "rb") as _f:
    SANITIZED = b"__asan_init" in _f.read()


def allowlists():
    serving = table("confine.c", "static const struct rule serving[]")
    key = table("keyproc.c", "} key_calls[] = {")
    if SANITIZED:
        serving.add("sigaltstack")
        key.add("sigaltstack")
    return serving, key


def sanitizer_probes():
    if not SANITIZED:
        return set()
    return table("confine.c", "static const struct rule sanitizer_probes[]") | \
        table("keyproc.c", "static const int sanitizer_probes[]")


def make_pki():
    d = tempdir()
    for kind in ("ec", "rsa"):
        self_signed(d, kind)
    return d


class Traced:
    """hermit under strace -f on --listen-tls, with --seccomp-debug."""

    def __init__(self, pki, kind):
        self.port = free_port()
        self.trace = os.path.join(tempdir(), "trace")
        self.errpath = os.path.join(tempdir(), "stderr")
        root = make_tree({"index.html": b"x\n"})
        args = ["--listen-tls", "127.0.0.1:%d" % self.port,
                "--cert", os.path.join(pki, kind + ".crt"),
                "--key", os.path.join(pki, kind + ".key"),
                "--workers", "2", "--seccomp-debug", "--access-log", "off"]
        if is_root():
            args = ["--user", "nobody"] + args
        argv = [shutil_which("strace"), "-f", "-qq", "-e", "signal=none", "-o", self.trace,
                BIN] + args + [root]
        self.err = open(self.errpath, "wb")
        self.proc = spawn(argv, stderr=self.err.fileno())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("hermit under strace exited: %s" % self.stderr())
            if "hermit: serving" in self.stderr():
                return
            time.sleep(0.05)
        raise AssertionError("hermit under strace did not start: %s" % self.stderr())

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def hermit_pid(self):
        """hermit itself: strace's child (a signal to strace would only
        make it let go of hermit)."""
        with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
            pids = [int(p) for p in f.read().split()]
        ok(len(pids) == 1, "strace runs one child: %r" % pids)
        return pids[0]

    def stop(self):
        try:
            os.kill(self.hermit_pid(), signal.SIGTERM)
            self.proc.wait(20)
        except BaseException:
            os.kill(self.hermit_pid(), signal.SIGKILL)
            raise
        self.err.close()
        with open(self.trace) as f:
            return f.read().splitlines()


def shutil_which(name):
    import shutil
    return shutil.which(name)


LINE = re.compile(r"^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()")


def sealed_calls(lines):
    """{pid: [(name, line)]} of the calls each sealed process made after its
    seccomp filter was in place. A process is sealed at a successful
    seccomp(SECCOMP_SET_MODE_FILTER...); its threads made with TSYNC share
    the filter, and threads that existed then are its threads: strace -f
    names each by its own id, so the thread ids are taken from clone()."""
    parent = {}	# tid -> the process (thread group) it belongs to
    sealed = set()
    calls = {}
    pending = {}	# tid -> the first half of a call strace split in two
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        tid = int(m.group(1))
        name = m.group(2) or m.group(3)
        # Under load a clone's flags and its result come on two lines;
        # joined, a thread is still known as its process's.
        if line.endswith("<unfinished ...>"):
            pending[tid] = line
        elif m.group(2) and tid in pending:
            line = pending.pop(tid) + " " + line
        group = parent.get(tid, tid)
        if name in ("clone", "clone3") and re.search(r"= (\d+)$", line):
            child = int(re.search(r"= (\d+)$", line).group(1))
            if "CLONE_THREAD" in line:
                parent[child] = group
        if name == "seccomp" and "SECCOMP_SET_MODE_FILTER" in line and line.endswith("= 0"):
            sealed.add(group)
            continue
        if group in sealed and not line.endswith("<unfinished ...>"):
            calls.setdefault(group, []).append((name, line))
    return calls


def handshakes(port, pki, kind):
    """Handshakes of every kind, and no request for content."""
    def ctx(version=None, groups=None, alpn=("http/1.1",)):
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.load_verify_locations(os.path.join(pki, kind + ".crt"))
        if version:
            c.minimum_version = c.maximum_version = version
        if alpn:
            c.set_alpn_protocols(list(alpn))
        if groups and hasattr(c, "set_ecdh_curve"):
            c.set_ecdh_curve(groups)
        return c

    def connect(c, session=None):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        t = c.wrap_socket(s, server_hostname="localhost", session=session)
        return t

    # In TLS 1.2 the client's groups also bind an ECDSA certificate's
    # curve: a P-256 certificate needs P-256 among them.
    cases = [(ssl.TLSVersion.TLSv1_3, None), (ssl.TLSVersion.TLSv1_2, None),
             (ssl.TLSVersion.TLSv1_2, "prime256v1")]
    if kind == "rsa":
        cases.append((ssl.TLSVersion.TLSv1_2, "secp384r1"))
    for version, group in cases:
        connect(ctx(version, group)).close()
    # Resumption: TLS 1.3 tickets arrive after the handshake.
    c = ctx(ssl.TLSVersion.TLSv1_3)
    t = connect(c)
    t.sendall(b"")
    t.settimeout(0.5)
    try:
        t.recv(1)	# let the tickets be read; nothing else comes
    except (socket.timeout, ssl.SSLError):
        pass
    session = t.session
    t.close()
    t = connect(c, session)
    ok(t.session_reused, "a ticket resumes")
    t.close()
    c12 = ctx(ssl.TLSVersion.TLSv1_2)
    t = connect(c12)
    session = t.session
    t.close()
    t = connect(c12, session)
    ok(t.session_reused, "a TLS 1.2 ticket resumes")
    t.close()
    # Refused: ALPN for another protocol, TLS 1.1, garbage, plain HTTP,
    # a client that leaves after half a ClientHello.
    try:
        connect(ctx(alpn=("h3-fake",))).close()
    except (ssl.SSLError, OSError):
        pass
    subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_1",
                    "-cipher", "DEFAULT:@SECLEVEL=0"], input=b"", capture_output=True,
                   timeout=30)
    for data in (os.urandom(512), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                 b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(40)):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:	# hermit may close (or reset) before all of it arrives
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while s.recv(4096):
                pass
        except OSError:
            pass
        s.close()
    return len(cases)


def check(kind):
    if shutil_which("strace") is None:
        skip("strace is not installed")
    pki = make_pki()
    serving, key = allowlists()
    ok(len(serving) > 20 and len(key) > 10, "allowlists read from the source")
    t = Traced(pki, kind)
    try:
        n = handshakes(t.port, pki, kind)
    finally:
        lines = t.stop()
    eq(n, 4 if kind == "rsa" else 3, "handshakes made")
    calls = sealed_calls(lines)
    probes = sanitizer_probes()
    # A sanitizer runtime's refused probes (EPERM by design) are not the server's.
    calls = {pid: [(n, l) for n, l in made if not (n in probes and "= -1 EPERM" in l)]
             for pid, made in calls.items()}
    eq(len(calls), 2, "sealed processes seen (the server and its key process)")
    names = {}
    for pid, made in calls.items():
        names[pid] = {name for name, _ in made}
    # The server is the process whose calls include accept4.
    server = [p for p in names if "accept4" in names[p] or "accept" in names[p]]
    eq(len(server), 1, "one sealed process accepts connections")
    server = server[0]
    keyproc = [p for p in names if p != server][0]
    ok("sendto" in names[server] or "sendmsg" in names[server], "the server asked to sign")
    ok(names[keyproc] & {"recvfrom", "recvmsg", "read"}, "the key process read requests")
    for pid, allowed, who in ((server, serving, "server"), (keyproc, key, "key process")):
        opened = [line for name, line in calls[pid] if name in OPENS]
        eq(opened, [], "%s: files opened while sealed" % who)
        outside = sorted(names[pid] - allowed)
        eq(outside, [], "%s: calls outside its allowlist" % who)
        refused = [line for _, line in calls[pid] if "= -1 EPERM" in line]
        eq(refused, [], "%s: calls refused by its seccomp filter" % who)


@test(timeout=120)
def ecdsa_handshakes_open_nothing_and_stay_in_the_allowlists():
    check("ec")


@test(timeout=120)
def rsa_handshakes_open_nothing_and_stay_in_the_allowlists():
    check("rsa")


@test
def the_trace_reader_sees_a_call_outside_the_allowlist():
    """The checker itself: a trace with a forbidden call after sealing is
    caught, one before sealing is not."""
    lines = [
        '100 openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3',
        '100 clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, ...}, 88) = 101',
        '100 seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=90, '
        'filter=0x5}) = 0',
        '101 openat(AT_FDCWD, "/etc/ssl/openssl.cnf", O_RDONLY) = -1 EPERM (Operation '
        'not permitted)',
        '100 epoll_wait(4, [], 64, 1000) = 0',
    ]
    calls = sealed_calls(lines)
    eq(sorted(calls), [100], "the sealed process")
    eq([n for n, _ in calls[100]], ["openat", "epoll_wait"], "calls after the seal, threads too")


run_all("it_tls_syscalls")
