"""Shared helpers for hermit's integration suites (tests/it_*.py).

A suite is run from the top of the repository as `python3 tests/it_X.py BIN`
and ends with a line `NAME: N passed, N failed, N skipped`; its exit status is
non-zero when any test failed.

    from harness import *

    @test
    def get_index():
        root = make_tree({"index.html": b"hi"})
        with Server(root) as s:
            r = http(s.port, "GET", "/")
            eq(r.status, 200, "status")

    run_all("it_example")

Only the Python standard library is used.
"""

import atexit
import fcntl
import http.client as httpclient
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

__all__ = [
    "BIN", "Skip", "ServerStartError", "test", "run_all", "skip", "eq", "ok",
    "free_port", "Server", "Proc", "spawn", "raw", "http", "Conn", "Response",
    "parse_responses", "make_tree", "write_file", "tempdir", "wait_for",
    "curl", "have_tool", "is_root", "nobody_ids", "raise_nofile",
    "ACCESS_RE", "sanitizer_report", "children", "memory_holds", "self_signed",
    "rss_kib", "haproxy", "server_tcp_info", "server_notsent",
]

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.abspath("./hermit")
START_TIMEOUT = 5.0

os.umask(0o022)

# Leak checking cannot work in the confined server (it needs clone, ptrace
# and /proc), so sanitized builds run without it, as the project documents.
if "detect_leaks" not in os.environ.get("ASAN_OPTIONS", ""):
    os.environ["ASAN_OPTIONS"] = ":".join(
        x for x in (os.environ.get("ASAN_OPTIONS", ""), "detect_leaks=0") if x)

# ---------------------------------------------------------------- registry


class Skip(Exception):
    """Raised by skip(): the test cannot run here."""


class ServerStartError(Exception):
    """The server exited or never became ready."""


class TestTimeout(Exception):
    pass


_tests = []


def test(fn=None, *, timeout=60):
    """Registers a test; tests run in the order they are defined.
    timeout: seconds after which the test is aborted and counted as failed."""
    def register(f):
        _tests.append((f.__name__, f, timeout))
        return f
    if fn is not None:
        return register(fn)
    return register


def skip(reason):
    raise Skip(reason)


def eq(got, expected, what="value"):
    if got != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, got))


def ok(cond, what):
    if not cond:
        raise AssertionError(what)


def _on_alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


def run_all(name):
    """Runs the registered tests (or those named in argv[2:]) in order.
    Prints `FAIL name: reason` or `SKIP name: reason` lines and a summary,
    then exits 1 when any test failed."""
    wanted = set(sys.argv[2:])
    passed = failed = skipped = 0
    verbose = os.environ.get("HERMIT_TEST_VERBOSE") == "1"
    old = signal.signal(signal.SIGALRM, _on_alarm)
    if not os.path.exists(BIN):
        print("FAIL %s: binary %s not found" % (name, BIN))
        print("%s: 0 passed, 1 failed, 0 skipped" % name)
        sys.exit(1)
    for tname, fn, limit in _tests:
        if wanted and tname not in wanted:
            continue
        t0 = time.monotonic()
        signal.alarm(limit)
        try:
            try:
                fn()
            finally:
                signal.alarm(0)
                leftover = _reap_all()
            if leftover:
                raise AssertionError(leftover)
        except Skip as e:
            skipped += 1
            print("SKIP %s: %s" % (tname, e), flush=True)
        except Exception as e:
            failed += 1
            reason = str(e).strip() or type(e).__name__
            reason = reason.replace("\n", "\n    ")
            print("FAIL %s: %s: %s" % (tname, type(e).__name__, reason), flush=True)
            if verbose or not isinstance(e, (AssertionError, TestTimeout, ServerStartError)):
                traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            if verbose:
                print("ok   %s (%.2fs)" % (tname, time.monotonic() - t0), flush=True)
    signal.signal(signal.SIGALRM, old)
    for srv in _kept_servers:
        try:
            code = srv.stop()
            srv.check_sanitizer()
            if code != 0:
                raise AssertionError("exit status %s after SIGTERM" % code)
        except Exception as e:
            failed += 1
            print("FAIL shared server %s: %s" % (" ".join(srv.argv[1:]), e), flush=True)
    print("%s: %d passed, %d failed, %d skipped" % (name, passed, failed, skipped), flush=True)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------- environment


def is_root():
    return os.geteuid() == 0


def nobody_ids():
    import pwd
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid


def have_tool(name):
    return shutil.which(name) is not None


def server_tcp_info(port, peer_port=None):
    """What ss(8) -tni reports on the server's side of the established
    connections on port (only the one from peer_port, when given)."""
    filt = "( sport = :%d )" % port if peer_port is None else \
        "( sport = :%d and dport = :%d )" % (port, peer_port)
    return subprocess.run(["ss", "-tni", "state", "established", filt],
                          capture_output=True, text=True, timeout=10).stdout


def server_notsent(port, peer_port=None):
    """The bytes queued but not yet sent in the server's side of the one
    connection to port (from peer_port, when given), as ss(8) reports them
    (0 when none)."""
    out = server_tcp_info(port, peer_port)
    m = re.search(r"notsent:(\d+)", out)
    ok("ESTAB" in out or "Recv-Q" in out, "ss output: %r" % out[:200])
    return int(m.group(1)) if m else 0


# The key types the TLS suites make certificates for, as openssl req takes them.
KEY_OPTIONS = {
    "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa": ["-newkey", "rsa:2048"],
}


def self_signed(d, kind, host=None):
    """D/KIND.crt and D/KIND.key (mode 0600): a self-signed certificate for
    localhost and 127.0.0.1 (or for the name host alone), valid two days,
    with the openssl command."""
    san = "DNS:%s" % host if host else "DNS:localhost,IP:127.0.0.1"
    r = subprocess.run(["openssl", "req", "-x509", *KEY_OPTIONS[kind], "-nodes", "-days", "2",
                        "-keyout", os.path.join(d, kind + ".key"),
                        "-out", os.path.join(d, kind + ".crt"),
                        "-subj", "/CN=%s" % (host or "localhost"),
                        "-addext", "subjectAltName=" + san],
                       capture_output=True, timeout=60)
    ok(r.returncode == 0, "openssl req: %r" % r.stderr)
    os.chmod(os.path.join(d, kind + ".key"), 0o600)


def raise_nofile(n):
    """Raises RLIMIT_NOFILE of this process (and so of servers it starts)
    to at least n; returns the new soft limit, or skips if impossible."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= n:
        return soft
    if hard != resource.RLIM_INFINITY and hard < n:
        if is_root():
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))
                return n
            except (ValueError, OSError):
                pass
        skip("RLIMIT_NOFILE hard limit %d < %d" % (hard, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (n, hard))
    return n


# ---------------------------------------------------------------- content trees

_tempdirs = []


def _cleanup_tempdirs():
    for d in _tempdirs:
        if os.path.isdir(d) and not os.path.islink(d):
            shutil.rmtree(d, ignore_errors=True)
        else:
            try:
                os.unlink(d)
            except OSError:
                pass


atexit.register(_cleanup_tempdirs)


def tempdir(prefix="hermit-test-"):
    """A fresh directory (mode 0755, so a server running as nobody can
    traverse it), removed when the suite exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o755)
    _tempdirs.append(d)
    return d


def write_file(root, rel, content=b"", mode=0o644, mtime=None):
    """Writes root/rel (parents created 0755) with the given mode and,
    when mtime is given, that modification time. Returns the full path."""
    path = os.path.join(root, rel)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent, mode=0o755, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    with open(path, "wb") as f:
        f.write(content)
    os.chmod(path, mode)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def make_tree(files=None, root=None):
    """Creates a content tree: files maps relative paths to bytes/str, or to
    (content, mode) or (content, mode, mtime). A path ending in '/' makes a
    directory. Returns the root directory."""
    if root is None:
        root = tempdir()
    for rel, spec in (files or {}).items():
        if rel.endswith("/"):
            os.makedirs(os.path.join(root, rel), mode=0o755, exist_ok=True)
            continue
        mode, mtime = 0o644, None
        if isinstance(spec, tuple):
            content = spec[0]
            if len(spec) > 1:
                mode = spec[1]
            if len(spec) > 2:
                mtime = spec[2]
        else:
            content = spec
        write_file(root, rel, content, mode, mtime)
    return root


# ---------------------------------------------------------------- processes

_live = []     # killed after each test
_kept = []     # live across tests, killed at exit
_kept_servers = []


@atexit.register
def _kill_kept():
    for p in _kept:
        if p.poll() is None:
            p.kill()
            p.wait(5)


class Proc:
    """A child started with fork/exec (a small subset of subprocess.Popen)."""

    def __init__(self, pid):
        self.pid = pid
        self.returncode = None

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -255
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(BIN, timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            os.kill(self.pid, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


def _base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LISTEN_") and k not in
           ("UID", "GID", "TCPREMOTEIP", "TCPREMOTEPORT", "TCPLOCALIP", "TCPLOCALPORT")}
    env.setdefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
    return env


def spawn(argv, env=None, fds=None, stdin=None, stdout=None, stderr=None,
          listen_pid=False, keep=False):
    """Starts argv with fork/exec. fds maps child descriptor numbers to
    descriptors of this process (dup2'ed in the child); stdin/stdout/stderr
    are descriptors (default: /dev/null for 0 and 1, inherited 2).
    listen_pid: set LISTEN_PID to the child's own pid before exec (socket
    activation). SIGPIPE is reset to its default in the child.
    Unless keep is true, the process is killed at the end of the current test."""
    env = dict(_base_env() if env is None else env)
    mapping = dict(fds or {})
    devnull = os.open(os.devnull, os.O_RDWR)
    mapping.setdefault(0, devnull if stdin is None else stdin)
    mapping.setdefault(1, devnull if stdout is None else stdout)
    if stderr is not None:
        mapping[2] = stderr
    pid = os.fork()
    if pid == 0:
        try:
            # Copy every source above all targets first, so no dup2 can clobber one.
            floor = max(list(mapping) + [2]) + 100
            high = {t: fcntl.fcntl(src, fcntl.F_DUPFD, floor) for t, src in mapping.items()}
            for target, src in high.items():
                os.dup2(src, target, inheritable=True)
            for src in high.values():
                os.close(src)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            if listen_pid:
                env["LISTEN_PID"] = str(os.getpid())
            os.execve(argv[0], argv, env)
        except BaseException as e:
            try:
                os.write(2, ("spawn: %s: %s\n" % (argv[0], e)).encode())
            finally:
                os._exit(127)
    os.close(devnull)
    proc = Proc(pid)
    (_kept if keep else _live).append(proc)
    return proc


def _reap_all():
    """Kills what a test left running; returns a complaint or ''."""
    msgs = []
    for p in _live:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                msgs.append("pid %d did not die" % p.pid)
    _live.clear()
    return "; ".join(msgs)


_SAN_RE = re.compile(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|"
                     r"WARNING: ThreadSanitizer|AddressSanitizer:DEADLYSIGNAL)")


def sanitizer_report(text):
    """The first sanitizer report line in text, or None."""
    for line in text.splitlines():
        if _SAN_RE.search(line):
            return line
    return None


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Server:
    """hermit serving root.

    By default it listens on 127.0.0.1 on a free port; listen=False passes no
    --listen (for inherited sockets: give port= and fds=). As root, `--user
    nobody` is added unless user=None or args/env already name an identity.
    stderr goes to a file (see log()). Waits until the `hermit: serving` line
    appears (or, lacking it, until a connection succeeds), at most
    START_TIMEOUT seconds; wait=False skips that. keep=True: the server
    outlives the test that started it; run_all stops it at the end and
    counts a failure if it does not exit 0 or left a sanitizer report."""

    def __init__(self, root, args=(), listen=True, port=None, host="127.0.0.1",
                 env=None, fds=None, stdin=None, stdout=None, user="nobody",
                 listen_pid=False, wait=True, timeout=START_TIMEOUT, keep=False):
        self.root = root
        self.host = host
        args = list(args)
        self.env = dict(_base_env() if env is None else env)
        if user and is_root() and "--user" not in args and "UID" not in self.env \
                and not any(a.startswith("--user=") for a in args):
            args = ["--user", user] + args
        self._logf = tempfile.NamedTemporaryFile(prefix="hermit-stderr-", delete=False)
        self.logpath = self._logf.name
        _tempdirs.append(self.logpath)
        attempts = 3 if (listen and port is None) else 1
        for attempt in range(attempts):
            self.port = port if port is not None else free_port(
                socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            full = list(args)
            if listen:
                addr = "[%s]:%d" % (host, self.port) if ":" in host else "%s:%d" % (host, self.port)
                full = ["--listen", addr] + full
            self.argv = [BIN] + full + ([root] if root is not None else [])
            self._logf.truncate(0)
            self._logf.seek(0)
            self.proc = spawn(self.argv, self.env, fds=fds, stdin=stdin, stdout=stdout,
                              stderr=self._logf.fileno(), listen_pid=listen_pid, keep=keep)
            self.pid = self.proc.pid
            if not wait:
                break
            try:
                self._wait_ready(timeout)
                break
            except ServerStartError:
                if attempt + 1 < attempts and "in use" in self.log():
                    continue
                raise
        if keep:
            _kept_servers.append(self)

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError("server exited with %s before serving; argv %s; stderr:\n%s"
                                       % (self.proc.returncode, self.argv, self.log()))
            if re.search(r"^hermit: serving ", self.log(), re.M):
                return
            time.sleep(0.02)
        # No serving line: accept readiness by a connection, but say so.
        try:
            socket.create_connection((self.host, self.port), timeout=1).close()
            return
        except OSError:
            pass
        self.proc.kill()
        raise ServerStartError("server not ready after %.1fs; argv %s; stderr:\n%s"
                               % (timeout, self.argv, self.log()))

    def log(self):
        """Everything the server wrote on stderr so far."""
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_bytes(self):
        with open(self.logpath, "rb") as f:
            return f.read()

    def access_lines(self):
        """stderr lines that are not `hermit: ...` messages (the access log)."""
        return [l for l in self.log().splitlines()
                if l and not l.startswith("hermit:") and not sanitizer_report(l)]

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Sends sig, waits for the exit and returns the exit code (negative:
        killed by that signal). Raises if it does not exit within timeout
        (it is then killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError("server did not exit within %ss of signal %d; stderr:\n%s"
                                     % (timeout, sig, self.log()[-2000:]))
        return self.proc.returncode

    def check_sanitizer(self):
        rep = sanitizer_report(self.log())
        if rep:
            raise AssertionError("sanitizer report: %s\n%s" % (rep, self.log()[-4000:]))

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        try:
            self.stop()
        finally:
            if et is None:
                self.check_sanitizer()
        return False


def haproxy(conf, port):
    """Starts haproxy (in the foreground, killed at the end of the test)
    with the configuration lines conf; returns its Proc once it accepts
    on 127.0.0.1:port. Skips the test when haproxy is not installed."""
    if not have_tool("haproxy"):
        skip("haproxy not installed")
    d = tempdir()
    cfg = write_file(d, "haproxy.cfg", "\n".join(conf) + "\n")
    logf = open(os.path.join(d, "haproxy.log"), "w+b")
    hp = spawn([shutil.which("haproxy"), "-db", "-f", cfg], stderr=logf.fileno())

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return hp.poll() is not None
    ok(wait_for(up, 5) and hp.poll() is None, "haproxy did not start: %s"
       % open(logf.name).read())
    return hp


def wait_for(pred, timeout=5.0, interval=0.02):
    """Polls pred() until it returns a true value (returned) or timeout (None)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


# ---------------------------------------------------------------- clients


class Response:
    def __init__(self, version, status, reason, headers, body, raw_head=b""):
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers      # list of (name, value) as sent
        self.body = body
        self.raw_head = raw_head

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    def has(self, name):
        return self.header(name) is not None

    def __repr__(self):
        return "<Response %s %s %s body=%d bytes>" % (self.version, self.status, self.reason,
                                                     len(self.body))


def _parse_head(head):
    lines = head.split(b"\r\n")
    m = re.match(rb"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
    if not m:
        raise AssertionError("bad status line %r" % lines[0])
    headers = []
    for l in lines[1:]:
        if not l:
            continue
        if b":" not in l:
            raise AssertionError("bad header line %r" % l)
        k, v = l.split(b":", 1)
        headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
    return m.group(1).decode(), int(m.group(2)), (m.group(3) or b"").decode("latin-1"), headers


def _body_length(status, headers, head_request):
    if head_request or status in (204, 304) or 100 <= status < 200:
        return 0
    for k, v in headers:
        if k.lower() == "content-length":
            return int(v)
    return None     # until close


def parse_responses(data, heads=()):
    """Splits bytes into Responses. heads: indexes of responses to HEAD
    requests (no body). A trailing incomplete response raises."""
    out = []
    i = 0
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise AssertionError("incomplete response head: %r" % data[:200])
        raw_head = data[:end]
        version, status, reason, headers = _parse_head(raw_head)
        n = _body_length(status, headers, i in heads)
        rest = data[end + 4:]
        if n is None:
            n = len(rest)
        if len(rest) < n:
            raise AssertionError("response %d: body %d of %d bytes" % (i, len(rest), n))
        out.append(Response(version, status, reason, headers, rest[:n], raw_head))
        data = rest[n:]
        i += 1
    return out


class Conn:
    """A raw client connection that can read responses one by one."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, family=None, rcvbuf=None):
        """rcvbuf: a small receive buffer, for clients that stop reading."""
        if family is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    @classmethod
    def wrap(cls, sock, timeout=5.0):
        """A Conn over an already connected socket (socketpair, accept)."""
        c = cls.__new__(cls)
        c.sock, c.timeout, c.buf, c.eof = sock, timeout, b"", False
        sock.settimeout(timeout)
        return c

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_head(self, timeout=None):
        """Reads just the next response head (bytes, without the empty line);
        what follows stays in self.buf."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if self.eof or not self._fill(deadline):
                raise ConnectionError("connection closed before a response head; got %r"
                                      % self.buf[:200])
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def read_response(self, head=False, timeout=None):
        """The next response; raises ConnectionError if the connection closes first."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            if self.eof or not self._fill(deadline):
                raise ConnectionError("connection closed before a response head; got %r"
                                      % self.buf[:200])
        end = self.buf.index(b"\r\n\r\n")
        raw_head = self.buf[:end]
        version, status, reason, headers = _parse_head(raw_head)
        n = _body_length(status, headers, head)
        if n is None:
            while not self.eof:
                self._fill(deadline)
            n = len(self.buf) - end - 4
        while len(self.buf) < end + 4 + n:
            if self.eof or not self._fill(deadline):
                raise ConnectionError("connection closed in a body (%d of %d bytes)"
                                      % (len(self.buf) - end - 4, n))
        body = self.buf[end + 4:end + 4 + n]
        self.buf = self.buf[end + 4 + n:]
        return Response(version, status, reason, headers, body, raw_head)

    def request(self, method, path, headers=None, version="HTTP/1.1", host="localhost",
                timeout=None):
        """Sends one request and reads its response."""
        h = ""
        if host is not None:
            h += "Host: %s\r\n" % host
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        self.send("%s %s %s\r\n%s\r\n" % (method, path, version, h))
        return self.read_response(head=(method == "HEAD"), timeout=timeout)

    def closed(self, timeout=2.0):
        """True when the peer closes (EOF or reset) within timeout with no
        further bytes pending; False when it stays open or sends more."""
        deadline = time.monotonic() + timeout
        if self.buf:
            return False
        if self.eof:
            return True
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return False
            try:
                d = self.sock.recv(65536)
            except ConnectionResetError:
                self.eof = True
                return True
            if not d:
                self.eof = True
                return True
            self.buf += d
            return False

    def read_all(self, timeout=None):
        """Everything until the peer closes (or timeout); returns the bytes."""
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while not self.eof and self._fill(deadline):
                pass
        except socket.timeout:
            pass
        data, self.buf = self.buf, b""
        return data

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False


def raw(port, data, timeout=5.0, host="127.0.0.1", shut_wr=False):
    """Sends bytes on a new connection and returns everything read until the
    server closes or timeout seconds pass."""
    with Conn(port, host, timeout) as c:
        c.send(data)
        if shut_wr:
            c.sock.shutdown(socket.SHUT_WR)
        return c.read_all(timeout)


class _HTTPResult:
    def __init__(self, resp, body):
        self.status = resp.status
        self.reason = resp.reason
        self.version = resp.version
        self.headers = resp.headers   # http.client.HTTPMessage (case-insensitive)
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "<HTTP %s %s body=%d bytes>" % (self.status, self.reason, len(self.body))


def http(port, method="GET", path="/", headers=None, host="127.0.0.1", timeout=5.0):
    """One request with http.client; returns an object with status, reason,
    headers (case-insensitive), header(name) and body."""
    c = httpclient.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return _HTTPResult(r, body)
    finally:
        c.close()


def curl(*args, timeout=10):
    """Runs curl with args; returns the CompletedProcess (bytes output).
    Skips the test when curl is missing."""
    if not have_tool("curl"):
        skip("curl not installed")
    return subprocess.run(["curl", "-sS", "--max-time", str(timeout)] + list(args),
                          capture_output=True, timeout=timeout + 5)


# Combined Log Format, optionally with a leading virtual host field:
#   [vhost ]addr ident user [date] "request" status bytes "referer" "user-agent"
ACCESS_RE = re.compile(
    r'^(?:(?P<vhost>\S+) )?(?P<addr>\S+) (?P<ident>\S+) (?P<user>\S+) '
    r'\[(?P<date>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
    r'"(?P<request>(?:[^"\\]|\\.)*)" (?P<status>\d{3}) (?P<bytes>\d+|-) '
    r'"(?P<referer>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)"$')


# ---------------------------------------------------------------- processes


def children(pid):
    """The pids of pid's child processes."""
    out = []
    for task in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def rss_kib(pid):
    """pid's resident set (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def memory_holds(pid, needles):
    """Which of needles occur in pid's writable mappings (heap, stacks,
    data), and how many bytes were searched. Mappings are read in pieces
    that overlap by more than a needle; reservations over 1 GiB (a
    sanitizer's shadow memory) are skipped."""
    found, searched, piece = set(), 0, 16 << 20
    overlap = max(len(n) for n in needles)
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            f = line.split()
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            if "w" not in f[1] or hi - lo > 1 << 30:
                continue
            at = lo
            while at < hi:
                try:
                    mem.seek(at)
                    data = mem.read(min(piece + overlap, hi - at))
                except OSError:
                    data = b""
                searched += len(data)
                found.update(i for i, n in enumerate(needles) if n in data)
                at += piece
    return found, searched
