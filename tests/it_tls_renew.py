"""Certificate renewal without losing a connection. hermit reads its files
only at start (its key process lives in an empty root), so a renewed
certificate means a new hermit process; what is checked is that the ways
of starting it documented in the README (Renewal) and hermit(8) (RENEWAL)
lose nothing:

- a real ACME round: Debian's pebble CA on loopback, certbot issuing with
  --webroot into the tree a plain hermit serves (pebble fetches
  /.well-known/acme-challenge/ from it), then `certbot renew` whose deploy
  hook is `systemctl restart hermit-https.service`, with this suite
  standing in for systemd: it holds the listening socket and passes it in
  (LISTEN_FDS, name https), stops the old hermit with SIGTERM and starts a
  new one on the same socket. Many HTTPS connections run meanwhile: none
  may fail, those that arrive while no hermit runs wait in the backlog,
  a response in flight finishes on the old certificate, and afterwards
  the new certificate is served;
- tcpserver under runsv running `hermit --stdio --tls` per connection:
  `certbot renew` with the documented copying deploy hook, no restart,
  no failure, the new certificate on the next connection;
- hermit's own --listen-tls under runsv, supervise and s6-supervise:
  SIGHUP (`sv hup`, `svc -h`, `s6-svc -h`) changes nothing and says to
  restart; `sv restart`, `svc -t` or `s6-svc -r` after the files are
  replaced serves the new certificate; connections in the gap are refused
  (that is what is documented), never cut.

Run from the top of the repository: python3 tests/it_tls_renew.py ./hermit [TEST...]
"""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>renewed without a gap</p>\n"
BIG = os.urandom(4 * 1024 * 1024)
NAME = "localhost"      # pebble resolves it through /etc/hosts: loopback only
MIN_REQUESTS = 200

if not have_tool("openssl"):
    print("SKIP it_tls_renew: the openssl command is not installed")
    print("it_tls_renew: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

WEBROOT = make_tree({"index.html": INDEX, "big.bin": BIG})


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, timeout=60)
    ok(r.returncode == 0, "openssl %s: %r" % (args[0], r.stderr))
    return r.stdout


def named_pair(d, name):
    """d/name.crt and d/name.key: a P-256 pair for localhost (each with a
    fresh random serial)."""
    crt, key = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-keyout", key, "-out", crt, "-subj", "/CN=" + NAME,
            "-addext", "subjectAltName=DNS:%s,IP:127.0.0.1" % NAME)
    os.chmod(key, 0o600)
    return crt, key


def file_serial(path):
    out = openssl("x509", "-noout", "-serial", "-in", path).decode().strip()
    ok(out.startswith("serial="), "openssl x509 -serial: %r" % out)
    return out[len("serial="):].upper()


def client_ctx(*cafiles):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for f in cafiles:
        ctx.load_verify_locations(f)
    return ctx


def fetch(port, ctx, path="/index.html", name=NAME, timeout=10.0):
    """One HTTPS request on a new connection (Connection: close), verified
    for name. Returns (status line, body, serial of the certificate)."""
    raw_sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    with ctx.wrap_socket(raw_sock, server_hostname=name) as s:
        serial = s.getpeercert()["serialNumber"].upper()
        s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                  % (path.encode(), name.encode()))
        data = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body, serial


def served_serial(port, ctx):
    status, body, serial = fetch(port, ctx)
    eq((status, body), (b"HTTP/1.1 200 OK", INDEX), "response")
    return serial


class Hammer:
    """Client threads making HTTPS connections one after another until
    stopped (at the latest after `limit` seconds, and not before `least`
    were made): each request is recorded as (start, end, serial, error)."""

    running = []

    def __init__(self, port, ctx, threads=3, least=MIN_REQUESTS, limit=40.0):
        self.port, self.ctx, self.least = port, ctx, least
        Hammer.running.append(self)
        self.results = []
        self.lock = threading.Lock()
        self.halt = threading.Event()
        self.deadline = time.monotonic() + limit
        self.threads = [threading.Thread(target=self._run, daemon=True)
                        for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _one(self):
        t0 = time.monotonic()
        try:
            status, body, serial = fetch(self.port, self.ctx)
            if status != b"HTTP/1.1 200 OK" or body != INDEX:
                raise AssertionError("answer %r, %d bytes" % (status, len(body)))
            rec = (t0, time.monotonic(), serial, None)
        except Exception as e:      # every kind of failure counts
            rec = (t0, time.monotonic(), None, e)
        with self.lock:
            self.results.append(rec)

    def _run(self):
        while time.monotonic() < self.deadline:
            if self.halt.is_set() and len(self.results) >= self.least:
                return
            self._one()
            time.sleep(0.005)   # leave the CPU to the ACME client

    @classmethod
    def cancel_all(cls):
        """Ends every client loop at once (a test that failed halfway must
        not leave them running into the next)."""
        for h in cls.running:
            h.deadline = 0
        cls.running.clear()

    def stop(self):
        self.halt.set()
        for t in self.threads:
            t.join(self.deadline - time.monotonic() + 15)
        ok(not any(t.is_alive() for t in self.threads), "client threads did not stop")
        return sorted(self.results, key=lambda r: r[0])


def failures(results):
    return [r for r in results if r[3] is not None]


def describe(fails):
    return "; ".join("%.3f: %s: %s" % (r[0], type(r[3]).__name__, r[3]) for r in fails[:5])


# ---------------------------------------------------------------- pebble + certbot


class Acme:
    """Debian's pebble on loopback, validating HTTP-01 against a plain
    hermit that serves WEBROOT, and certbot driving it from a private
    configuration directory. Started once, for the tests that need it."""

    def __init__(self):
        for tool in ("pebble", "certbot"):
            if not have_tool(tool):
                skip("%s is not installed (Debian package %s)" % (tool, tool))
        self.dir = tempdir()
        self.web = Server(WEBROOT, keep=True)
        # pebble's own HTTPS certificate; certbot trusts it by
        # REQUESTS_CA_BUNDLE, so no check is switched off.
        self.tls_crt, tls_key = named_pair(self.dir, "pebble")
        acme_port, mgmt_port = free_port(), free_port()
        conf = write_file(self.dir, "pebble.json", """{"pebble": {
  "listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
  "certificate": "%s", "privateKey": "%s",
  "httpPort": %d, "tlsPort": %d,
  "ocspResponderURL": "", "externalAccountBindingRequired": false}}
""" % (acme_port, mgmt_port, self.tls_crt, tls_key, self.web.port, free_port()))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEBBLE_")}
        # No random validation delays, no nonce rejections (certbot would
        # retry them, slowly), and every order validated anew, renewals
        # included: the challenge must really be fetched through hermit.
        # (PEBBLE_VA_ALWAYS_VALID is kept out: it would skip exactly that.)
        env.update(PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        self.log = os.path.join(self.dir, "pebble.log")
        with open(self.log, "wb") as logf:
            self.proc = spawn(["/usr/bin/pebble", "-config", conf], env=env,
                              stdout=logf.fileno(), stderr=logf.fileno(), keep=True)
        ok(wait_for(lambda: self.proc.poll() is not None or "Listening on" in self.pebble_log(),
                    20) and self.proc.poll() is None, "pebble did not start: %s"
           % self.pebble_log()[-2000:])
        self.server = "https://127.0.0.1:%d/dir" % acme_port
        # Its root changes at every start: fetched from the management port.
        status, body, _ = fetch(mgmt_port, client_ctx(self.tls_crt), "/roots/0", "127.0.0.1")
        ok(status.startswith(b"HTTP/1.1 200"), "pebble root: %r" % status)
        self.root = write_file(self.dir, "pebble-root.pem", body)
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        self.certbot("certonly", "--webroot", "-w", WEBROOT, "-d", NAME,
                     "--agree-tos", "--register-unsafely-without-email")
        self.live = os.path.join(self.dir, "config", "live", NAME)
        ok(os.path.islink(os.path.join(self.live, "fullchain.pem")), "no certbot live dir")
        ok(wait_for(lambda: any("/.well-known/acme-challenge/" in l and '" 200 ' in l
                                for l in self.web.access_lines()), 5),
           "the challenge was not fetched from hermit: %r" % self.web.access_lines())

    def validations(self):
        """How many HTTP-01 validations pebble has made so far."""
        return self.pebble_log().count("Attempting to validate w/ HTTP")

    def pebble_log(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def certbot(self, *args, timeout=120):
        """certbot with its state under self.dir; self.bin comes first on
        PATH (the stand-in systemctl lives there)."""
        env = dict(os.environ, REQUESTS_CA_BUNDLE=self.tls_crt,
                   PATH=self.bin + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        argv = ["certbot", "--non-interactive", "--server", self.server,
                "--config-dir", os.path.join(self.dir, "config"),
                "--work-dir", os.path.join(self.dir, "work"),
                "--logs-dir", os.path.join(self.dir, "logs")] + list(args)
        r = subprocess.run(argv, env=env, capture_output=True, timeout=timeout)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        ok(r.returncode == 0, "%s: exit %d:\n%s\npebble:\n%s"
           % (" ".join(argv[1:]), r.returncode, out[-3000:], self.pebble_log()[-1500:]))
        return out

    def renew(self, hook, *extra):
        """certbot renew --force-renewal, with hook as its deploy hook
        (None: only those in renewal-hooks/deploy); checks that the new
        order's challenge, when pebble made one, was fetched through hermit."""
        before = len(self.web.access_lines())
        validated = self.validations()
        out = self.certbot("renew", "--force-renewal", "--no-random-sleep-on-renew",
                           *(["--deploy-hook", hook] if hook else []), *extra)
        if self.validations() == validated:
            # pebble reuses a valid authorization for 1 order in 100 even at
            # PEBBLE_AUTHZREUSE=0 (its test is rand.Intn(100) > percent) and
            # then fetches nothing: there is no challenge to look for.
            print("     pebble reused the authorization: no challenge this renewal",
                  flush=True)
            return out
        # A worker writes its log lines when it next waits: on a loaded
        # machine the line may follow certbot's exit by a moment.
        ok(wait_for(lambda: any("/.well-known/acme-challenge/" in l and '" 200 ' in l
                                for l in self.web.access_lines()[before:]), timeout=5),
           "the renewal's challenge was not fetched from hermit: %r"
           % self.web.access_lines()[before:])
        return out


ACME = None


def acme():
    global ACME
    if ACME is None:
        ACME = Acme()
    return ACME


# ---------------------------------------------------------------- (a) systemd


class SocketUnit:
    """What systemd does for hermit-https.socket + hermit-https.service
    (Type=exec): the listening socket (DeferAcceptSec=1, as in
    contrib/systemd) is held here for the whole test, passed to every
    hermit it starts as LISTEN_FDS=1 named https, and `restart` is stop
    (SIGTERM, wait for the exit) then start. `gap` seconds pass between
    the two with no hermit at all, so that clients certainly arrive while
    none runs."""

    def __init__(self, args, gap=0.3):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
        self.sock.listen(4096)
        self.port = self.sock.getsockname()[1]
        self.args, self.gap = list(args), gap
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
        self.env.update(LISTEN_FDS="1", LISTEN_FDNAMES="https")
        self.stopped = []       # (pid, exit status, stderr) of each hermit stopped
        self.gaps = []          # (old one gone, new one started)
        self.before_stop = None
        self.hermit = self._start()

    def _start(self):
        return Server(WEBROOT, self.args, listen=False, port=self.port, env=self.env,
                      fds={3: self.sock.fileno()}, listen_pid=True)

    def restart(self):
        if self.before_stop is not None:
            self.before_stop()
        old = self.hermit
        code = old.stop(timeout=30)
        gone = time.monotonic()
        self.stopped.append((old.pid, code, old.log()))
        time.sleep(self.gap)
        self.gaps.append((gone, time.monotonic()))
        self.hermit = self._start()

    def close(self):
        try:
            code = self.hermit.stop()
            self.stopped.append((self.hermit.pid, code, self.hermit.log()))
        finally:
            self.sock.close()


class Systemctl:
    """A stand-in `systemctl` on certbot's PATH: `systemctl restart
    hermit-https.service` asks this process, over a unix socket, to restart the
    unit, and returns when it is done, as systemctl does."""

    def __init__(self, bindir, unit):
        self.unit, self.calls, self.errors = unit, [], []
        path = os.path.join(tempdir(), "systemd.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(4)
        write_file(bindir, "systemctl", """#!%s
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(%r)
s.sendall(" ".join(sys.argv[1:]).encode() + b"\\n")
answer = s.makefile().read()
sys.stderr.write(answer)
sys.exit(0 if answer.startswith("done") else 1)
""" % (sys.executable, path), mode=0o755)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                words = c.makefile().readline().split()
                self.calls.append((time.monotonic(), words))
                try:
                    if words != ["restart", "hermit-https.service"]:
                        raise ValueError("unexpected: systemctl %s" % " ".join(words))
                    self.unit.restart()
                    c.sendall(b"done\n")
                except Exception as e:
                    self.errors.append(e)
                    c.sendall(("failed: %s\n" % e).encode())

    def close(self):
        self.sock.close()


class SlowDownload(threading.Thread):
    """GET /big.bin on one connection, read slowly enough to be in flight
    when the old hermit gets SIGTERM."""

    def __init__(self, port, ctx):
        super().__init__(daemon=True)
        raw_sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        raw_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.tls = ctx.wrap_socket(raw_sock, server_hostname=NAME)
        self.serial = self.tls.getpeercert()["serialNumber"].upper()
        self.tls.sendall(b"GET /big.bin HTTP/1.1\r\nHost: %s\r\n\r\n" % NAME.encode())
        self.head = b""
        while b"\r\n\r\n" not in self.head:
            d = self.tls.recv(4096)
            ok(d, "closed before the head")
            self.head += d
        self.head, _, first = self.head.partition(b"\r\n\r\n")
        self.body, self.error = [first], None
        self.start()

    def run(self):
        got = len(self.body[0])
        try:
            while got < len(BIG):
                d = self.tls.recv(65536)
                if not d:
                    raise ConnectionError("closed after %d bytes" % got)
                self.body.append(d)
                got += len(d)
                time.sleep(0.01)    # about 6 MiB/s: 0.7 s for the file
        except Exception as e:
            self.error = e
        finally:
            self.tls.close()

    def check(self, old_serial):
        self.join(30)
        ok(not self.is_alive(), "the slow download did not end")
        ok(self.error is None, "the response in flight was cut: %s" % self.error)
        ok(self.head.startswith(b"HTTP/1.1 200"), "in flight: %r" % self.head[:40])
        ok(b"".join(self.body) == BIG, "the file in flight arrived damaged")
        eq(self.serial, old_serial, "the connection in flight was on the old certificate")


@test(timeout=150)
def acme_renewal_restart_under_socket_activation_loses_nothing():
    a = acme()
    live = a.live
    ctx = client_ctx(a.root)
    unit = SocketUnit(["--cert", os.path.join(live, "fullchain.pem"),
                       "--key", os.path.join(live, "privkey.pem"), "--workers", "2"])
    systemctl = Systemctl(a.bin, unit)
    downloads = []
    unit.before_stop = lambda: downloads.append(SlowDownload(unit.port, ctx))
    try:
        old = served_serial(unit.port, ctx)
        eq(old, file_serial(os.path.join(live, "cert.pem")), "serial served at first")
        hammer = Hammer(unit.port, ctx)
        t_hook = time.monotonic()
        a.renew("systemctl restart hermit-https.service")
        t_done = time.monotonic()
        time.sleep(0.5)
        results = hammer.stop()
        eq(systemctl.errors, [], "restart errors")
        eq([w for _, w in systemctl.calls], [["restart", "hermit-https.service"]],
           "the deploy hook's calls")
        new = file_serial(os.path.join(live, "cert.pem"))
        ok(new != old, "certbot renewed nothing: serial %s both times" % new)
        eq(served_serial(unit.port, ctx), new, "serial served after the deploy hook")

        fails = failures(results)
        ok(len(results) >= MIN_REQUESTS, "only %d requests" % len(results))
        eq(len(fails), 0, "failed connections out of %d: %s" % (len(results), describe(fails)))
        gone, started = unit.gaps[0]
        # Served by the new hermit though they came before it was started:
        # they waited in the backlog of the socket "systemd" holds.
        waited = [r for r in results if r[0] < started and r[2] == new]
        ok(waited, "no client waited for the new hermit")
        ok(all(r[2] == new for r in results if gone <= r[0]),
           "a client that came while no hermit ran was not served by the new one")
        seen = [sum(r[2] == x for r in results) for x in (old, new)]
        ok(all(seen), "both certificates seen: %d old, %d new" % tuple(seen))
        ok(all(r[2] == new for r in results if r[0] > t_done),
           "old certificate served after the hook returned")
        ok(t_hook < gone < t_done, "the restart happened inside certbot renew")
        eq(len(downloads), 1, "downloads in flight")
        downloads[0].check(old)
        eq(unit.stopped[0][1], 0, "the old hermit's exit status")
        ok("finishing responses" in unit.stopped[0][2], "the old hermit's stop: %r"
           % unit.stopped[0][2][-500:])
        print("     socket activation: %d connections, 0 failed, %d waited in the "
              "backlog for the new hermit" % (len(results), len(waited)), flush=True)
    finally:
        Hammer.cancel_all()
        systemctl.close()
        unit.close()
    for pid, code, log in unit.stopped:
        eq(code, 0, "exit status of hermit %d" % pid)
        ok(not sanitizer_report(log), "sanitizer: %s" % sanitizer_report(log))


# ---------------------------------------------------------------- runsv


class Supervised:
    """A service directory with the given run script under runit's runsv,
    daemontools' supervise or s6-supervise; the script's output (stdout
    and stderr) goes to a log file. hup() and restart() are what an
    operator types: `sv hup` / `svc -h` / `s6-svc -h`, `sv restart` /
    `svc -t` / `s6-svc -r`."""

    TOOLS = {"runit": ("runsv", "sv"), "daemontools": ("supervise", "svc", "svstat"),
             "s6": ("s6-supervise", "s6-svc", "s6-svstat")}
    COMMANDS = {"runit": (["sv", "-w", "20"], "hup", "restart"),
                "daemontools": (["svc"], "-h", "-t"), "s6": (["s6-svc"], "-h", "-r")}

    def __init__(self, script, kind="runit"):
        need_runit_tools(*self.TOOLS[kind])
        self.kind = kind
        self.dir = tempdir()
        write_file(self.dir, "run", script, mode=0o755)
        self.logpath = os.path.join(tempdir(), "service.log")
        with open(self.logpath, "wb") as logf:
            self.proc = spawn(["/usr/bin/" + self.TOOLS[kind][0], self.dir],
                              stdout=logf.fileno(), stderr=logf.fileno())

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def ctl(self, *args):
        argv = self.COMMANDS[self.kind][0] + list(args)
        r = subprocess.run(argv + [self.dir], capture_output=True, timeout=40)
        ok(r.returncode == 0, "%s: %r %r" % (" ".join(argv), r.stdout, r.stderr))

    def hup(self):
        self.ctl(self.COMMANDS[self.kind][1])

    def restart(self):
        self.ctl(self.COMMANDS[self.kind][2])

    def pid(self):
        """The service's pid, 0 when it is down."""
        if self.kind == "runit":
            try:
                with open(os.path.join(self.dir, "supervise", "pid")) as f:
                    return int(f.read().strip() or 0)
            except (OSError, ValueError):
                return 0
        if self.kind == "s6":
            out = subprocess.run(["s6-svstat", "-p", self.dir], capture_output=True,
                                 timeout=10).stdout.strip()
            return max(int(out or 0), 0)
        out = subprocess.run(["svstat", self.dir], capture_output=True, timeout=10).stdout
        m = re.search(rb": up \(pid (\d+)\)", out)
        return int(m.group(1)) if m else 0

    def stop(self):
        """Down, then the supervisor exits: nothing is left running."""
        pid = self.pid()
        try:
            if self.kind == "runit":
                self.ctl("force-stop")
                self.ctl("exit")
            else:
                self.ctl("-dx")
            self.proc.wait(20)
        finally:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def need_runit_tools(*names):
    for n in names:
        if not os.path.exists("/usr/bin/" + n):
            skip("%s not installed (Debian packages runit, ucspi-tcp, daemontools)" % n)


def identity_prefix():
    """How the run script drops root: envuidgid, as contrib/daemontools does
    (hermit reads the key as root, then drops); nothing when not root."""
    if is_root():
        need_runit_tools("envuidgid")
        return "envuidgid nobody "
    return ""


def connectable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


# The deploy hook the README gives for tcpserver, with /etc/hermit/tls made
# a parameter: each file is copied beside its final name and renamed over it,
# the key first (with --reuse-key it is the same key).
DEPLOY_SCRIPT = """#!/bin/sh
cd "$RENEWED_LINEAGE" || exit 1
for f in privkey fullchain; do
	cp $f.pem %(d)s/$f.new && mv %(d)s/$f.new %(d)s/$f.pem || exit 1
done
"""


@test(timeout=120)
def acme_renewal_under_tcpserver_needs_no_restart():
    need_runit_tools("runsv", "sv", "tcpserver")
    a = acme()
    etc = tempdir()
    # certbot runs every program in renewal-hooks/deploy after a renewal.
    hooks = os.path.join(a.dir, "config", "renewal-hooks", "deploy")
    os.makedirs(hooks, exist_ok=True)
    hook = write_file(hooks, "hermit", DEPLOY_SCRIPT % {"d": etc}, mode=0o755)
    # The first copy, as the operator makes it once.
    r = subprocess.run([hook], env=dict(os.environ, RENEWED_LINEAGE=a.live),
                       capture_output=True, timeout=20)
    ok(r.returncode == 0, "the deploy hook by hand: %r" % r.stderr)
    port = free_port()
    sv = Supervised("#!/bin/sh\nexec 2>&1\nexec %stcpserver -HRl0 127.0.0.1 %d %s --stdio --tls "
               "--cert %s/fullchain.pem --key %s/privkey.pem %s\n"
               % (identity_prefix(), port, BIN, etc, etc, WEBROOT))
    try:
        ok(wait_for(lambda: connectable(port), 10), "tcpserver did not start: %s" % sv.log())
        ctx = client_ctx(a.root)
        old = served_serial(port, ctx)
        eq(old, file_serial(os.path.join(etc, "fullchain.pem")), "serial served at first")
        pid = sv.pid()
        # Each connection starts a whole hermit (and its key process):
        # far fewer of them fit in the same time, under a sanitizer above
        # all (half a second each there).
        hammer = Hammer(port, ctx, threads=4, least=MIN_REQUESTS // 5)
        a.renew(None, "--reuse-key")
        t_done = time.monotonic()
        time.sleep(0.5)
        results = hammer.stop()
        new = file_serial(os.path.join(etc, "fullchain.pem"))
        ok(new != old, "the deploy hook changed nothing: serial %s" % new)
        eq(served_serial(port, ctx), new, "serial served right after the deploy hook")
        eq(sv.pid(), pid, "tcpserver was restarted")
        fails = failures(results)
        ok(len(results) >= hammer.least, "only %d requests" % len(results))
        eq(len(fails), 0, "failed connections out of %d: %s" % (len(results), describe(fails)))
        ok(any(r[2] == old for r in results) and any(r[2] == new for r in results),
           "both certificates seen during the run")
        ok(all(r[2] == new for r in results if r[0] > t_done),
           "old certificate served after the hook returned")
        bad = [l for l in sv.log().splitlines() if l.startswith("hermit:")
               and not l.startswith(("hermit: confined", "hermit: serving"))]
        eq(bad, [], "hermit messages")
        eq(sanitizer_report(sv.log()), None, "sanitizer report")
        print("     tcpserver: %d connections, 0 failed, no restart" % len(results), flush=True)
    finally:
        Hammer.cancel_all()
        os.unlink(hook)
        sv.stop()


def own_listener_hup_then_restart(kind):
    pki = tempdir()
    first = named_pair(pki, "first")
    second = named_pair(pki, "second")
    ctx = client_ctx(first[0], second[0])
    etc = tempdir()
    crt, key = os.path.join(etc, "cert.pem"), os.path.join(etc, "key.pem")

    def install(pair):
        # key first, then certificate, each renamed into place
        for src, dst in ((pair[1], key), (pair[0], crt)):
            with open(src, "rb") as f:
                write_file(etc, os.path.basename(dst) + ".new", f.read(), mode=0o600)
            os.rename(dst + ".new", dst)
    install(first)
    port = free_port()
    sv = Supervised("#!/bin/sh\nexec 2>&1\nexec %s%s --listen-tls 127.0.0.1:%d --cert %s --key %s "
               "--workers 2 %s\n" % (identity_prefix(), BIN, port, crt, key, WEBROOT), kind)
    try:
        ok(wait_for(lambda: "hermit: serving" in sv.log(), 10), "no start: %s" % sv.log())
        started = time.monotonic()
        old, new = file_serial(first[0]), file_serial(second[0])
        eq(served_serial(port, ctx), old, "serial served at first")
        install(second)
        sv.hup()
        ok(wait_for(lambda: "SIGHUP" in sv.log(), 5), "SIGHUP not logged: %s" % sv.log())
        hup = [l for l in sv.log().splitlines() if "SIGHUP" in l][0]
        ok("restart" in hup and "RENEWAL" in hup, "the SIGHUP line does not say what to "
           "do: %r" % hup)
        eq(served_serial(port, ctx), old, "serial served after SIGHUP (nothing is re-read)")
        hammer = Hammer(port, ctx)
        # runsv waits a second before it restarts a run script that ran
        # for less than one, and supervise takes no command in the second
        # after a start: pauses that a renewal does not meet. (s6-supervise
        # waits a second after every exit: its gap is about a second.)
        time.sleep(max(0.3, started + 1.2 - time.monotonic()))
        t0 = time.monotonic()
        sv.restart()
        ok(wait_for(lambda: sv.log().count("hermit: serving") >= 2, 10), "no restart")
        t1 = time.monotonic()
        time.sleep(0.3)
        results = hammer.stop()
        eq(served_serial(port, ctx), new, "serial served after sv restart")
        fails = failures(results)
        # What is documented: in the gap new connections are refused (a
        # client may retry), none is cut once accepted.
        # A connection still queued on the old listener when it closes is
        # reset before any byte of an answer: refused too, as a client sees
        # it (nothing was served, it may retry).
        other = [r for r in fails if not isinstance(r[3], ConnectionRefusedError) and
                 not (isinstance(r[3], ConnectionResetError) and r[2] is None)]
        eq(other, [], "failures other than a refusal: %s" % describe(other))
        ok(all(t0 <= r[0] <= t1 for r in fails), "refusals outside the restart")
        ok(all(r[2] == new for r in results if r[0] > t1), "old certificate after the restart")
        refused_for = (max(r[1] for r in fails) - min(r[0] for r in fails)) if fails else 0
        eq(sanitizer_report(sv.log()), None, "sanitizer report")
        print("     own listener, %s restart: %d connections, %d refused over %.0f ms"
              % (kind, len(results), len(fails), refused_for * 1000), flush=True)
    finally:
        Hammer.cancel_all()
        sv.stop()


@test(timeout=90)
def own_listener_under_runit_hup_then_restart():
    own_listener_hup_then_restart("runit")


@test(timeout=90)
def own_listener_under_daemontools_hup_then_restart():
    own_listener_hup_then_restart("daemontools")


@test(timeout=90)
def own_listener_under_s6_hup_then_restart():
    own_listener_hup_then_restart("s6")


run_all("it_tls_renew")
