"""The HTTPS run scripts of contrib/ under their real supervisors, as root:
daemontools' supervise (run-https, and run-https-tcpserver with ucspi-tcp's
tcpserver and `hermit --stdio --tls`), runit's runsv and s6's s6-supervise
(run-https). Each script is the run file of a fresh service directory; the
certificate (made here with the openssl command) sits where certbot puts
one, the key root's and 0600, and the script's TLS directory links to both,
as the scripts say. Checked: HTTPS (and plain HTTP, for the scripts with
their own listener) answered; the serving hermit chrooted into ROOT as
nobody, sealed; a renewed certificate served after `svc -t`; a clean stop
by the supervisor's own control program.

Run from the top of the repository: python3 tests/it_contrib_tls.py ./hermit [TEST...]
"""

import os
import re
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>supervised, over TLS</p>\n"
ROOT = make_tree({"index.html": INDEX})
TOP = os.getcwd()


def tool(name):
    path = shutil.which(name)
    if path is None:
        skip("%s not installed (Debian packages daemontools, ucspi-tcp, runit, s6)" % name)
    return path


def need_root():
    if not is_root():
        skip("needs root (the scripts start hermit as root, as supervisors do)")
    tool("openssl")


def make_cert(live, serial):
    """A self-signed P-256 certificate for localhost and 127.0.0.1 in LIVE,
    named as certbot names its files."""
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "2", "-set_serial", str(serial), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", os.path.join(live, "privkey.pem"), "-out", os.path.join(live, "fullchain.pem")],
        capture_output=True, timeout=60)
    ok(r.returncode == 0, "openssl req: %r" % r.stderr)
    os.chmod(os.path.join(live, "privkey.pem"), 0o600)


def pki():
    """(the TLS directory the script is given, certbot's live directory):
    the first holds only symlinks to the second."""
    live = tempdir()
    os.chmod(live, 0o700)
    make_cert(live, 1)
    tls = tempdir()
    for f in ("fullchain.pem", "privkey.pem"):
        os.symlink(os.path.join(live, f), os.path.join(tls, f))
    return tls, live


def https_get(port, cafile):
    """GET / over TLS 1.2 or 1.3; (status, body, the certificate's serial)."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw_sock:
        with ctx.wrap_socket(raw_sock, server_hostname="localhost") as s:
            c = Conn.wrap(s, 10)
            r = c.request("GET", "/index.html", headers={"Connection": "close"})
            serial = s.getpeercert()["serialNumber"]
            return r.status, r.body, int(serial, 16)


def https_serves(port, cafile, serial):
    def attempt():
        try:
            return https_get(port, cafile) == (200, INDEX, serial)
        except (OSError, ssl.SSLError):
            return False
    return wait_for(attempt, timeout=10)


class Supervised:
    """SCRIPT as the run file of a fresh service directory, under SUPERVISOR
    (argv prefix, the directory appended); the environment configures it.
    Its output (hermit's stderr: the scripts send it to stdout) goes to a
    file."""

    def __init__(self, script, supervisor, env):
        self.dir = tempdir()
        shutil.copy(os.path.join(TOP, script), os.path.join(self.dir, "run"))
        os.chmod(os.path.join(self.dir, "run"), 0o755)
        self.out = os.path.join(tempdir(), "out")
        fd = os.open(self.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        full = dict(os.environ, **env)
        for k in ("UID", "GID"):
            full.pop(k, None)
        self.proc = spawn(list(supervisor) + [self.dir], full, stdout=fd, stderr=fd)
        os.close(fd)
        self.pids = set()

    def log(self):
        with open(self.out, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def pid(self, status_argv):
        """The pid of the run process, from the supervisor's status program."""
        def find():
            r = subprocess.run(list(status_argv) + [self.dir], capture_output=True, timeout=10)
            m = re.search(rb"\bpid (\d+)\)?", r.stdout)
            return int(m.group(1)) if m and b"down" not in r.stdout.split(b"pid")[0] else None
        pid = wait_for(find, timeout=10)
        ok(pid, "no pid from %s; output:\n%s" % (status_argv[0], self.log()))
        self.pids.add(pid)
        return pid

    def stop(self, control_argv):
        """Stops the service and the supervisor with its control program;
        whatever is left is killed (and counts as a failure)."""
        subprocess.run(list(control_argv) + [self.dir], capture_output=True, timeout=20)
        exited = wait_for(lambda: self.proc.poll() is not None, timeout=15)
        left = [p for p in self.pids if wait_for(lambda: not alive(p), timeout=5) is None]
        for p in left:
            os.kill(p, 9)
        ok(exited, "the supervisor did not exit; output:\n%s" % self.log())
        ok(not left, "still running after the stop: %r" % left)


def alive(pid):
    """Whether pid runs (a zombie does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)


def check_confined(pid, what):
    """A serving hermit: nobody, chrooted into ROOT, sealed, no capabilities."""
    uid, gid = nobody_ids()
    eq(os.readlink("/proc/%d/exe" % pid), BIN, what + ": the supervised process is hermit")
    s = status(pid)
    eq(s["Uid"].split(), [str(uid)] * 4, what + ": Uid")
    eq(s["Gid"].split(), [str(gid)] * 4, what + ": Gid")
    eq((s["NoNewPrivs"].strip(), s["Seccomp"].strip()), ("1", "2"), what + ": nnp, seccomp")
    eq(int(s["CapEff"], 16) | int(s["CapPrm"], 16), 0, what + ": capabilities")
    eq(os.readlink("/proc/%d/root" % pid), os.path.realpath(ROOT), what + ": chrooted into ROOT")


def own_listener(script, supervisor, status_argv, control_argv, restart_argv=None):
    need_root()
    supervisor = [tool(supervisor[0])] + list(supervisor[1:])
    tls, live = pki()
    plain, secure = free_port(), free_port()
    sv = Supervised(script, supervisor, {
        "HERMIT": BIN, "HERMIT_USER": "nobody", "HERMIT_ROOT": ROOT,
        "HERMIT_TLS_DIR": tls, "HERMIT_LISTEN": "127.0.0.1:%d" % plain,
        "HERMIT_LISTEN_TLS": "127.0.0.1:%d" % secure})
    try:
        ca = os.path.join(live, "fullchain.pem")
        ok(https_serves(secure, ca, 1), "%s: no HTTPS answer; output:\n%s" % (script, sv.log()))
        r = http(plain, "GET", "/index.html")
        eq((r.status, r.body), (200, INDEX), script + ": plain HTTP alongside")
        pid = sv.pid(status_argv)
        check_confined(pid, script)
        if restart_argv:
            # certbot renewed: new files behind the same links, then a restart
            make_cert(live, 2)
            subprocess.run(list(restart_argv) + [sv.dir], check=True, timeout=10)
            ok(https_serves(secure, ca, 2), "%s: the renewed certificate is not served after %s; "
               "output:\n%s" % (script, " ".join(restart_argv), sv.log()))
            ok(sv.pid(status_argv) != pid, "%s: the same pid after the restart" % script)
        ok("hermit: confined:" in sv.log(),
           "%s: hermit's startup line in the output:\n%s" % (script, sv.log()))
    finally:
        sv.stop(control_argv)


@test
def daemontools_run_https_under_supervise():
    tool("svc")
    own_listener("contrib/daemontools/run-https", ["supervise"], [tool("svstat")],
                 [tool("svc"), "-dx"], restart_argv=[tool("svc"), "-t"])


@test
def runit_run_https_under_runsv():
    tool("sv")
    own_listener("contrib/runit/run-https", ["runsv"], [tool("sv"), "status"],
                 [tool("sv"), "-w", "15", "exit"])


@test
def s6_run_https_under_s6_supervise():
    tool("s6-svc")
    own_listener("contrib/s6/run-https", ["s6-supervise"], [tool("s6-svstat")],
                 [tool("s6-svc"), "-dx"])


def connection_hermit(tcpserver_pid):
    """The hermit tcpserver runs for a connection held open: its child."""
    def find():
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                    if ppid == tcpserver_pid and os.readlink("/proc/%s/exe" % d) == BIN:
                        return int(d)
                except (OSError, IndexError, ValueError):
                    pass
        return None
    return wait_for(find, timeout=5)


@test
def daemontools_run_https_tcpserver_under_supervise():
    need_root()
    tool("tcpserver")
    tls, live = pki()
    port = free_port()
    sv = Supervised("contrib/daemontools/run-https-tcpserver", [tool("supervise")], {
        "HERMIT": BIN, "HERMIT_USER": "nobody", "HERMIT_ROOT": ROOT, "HERMIT_TLS_DIR": tls,
        "HERMIT_TCP_HOST": "127.0.0.1", "HERMIT_TCP_PORT": str(port)})
    try:
        ca = os.path.join(live, "fullchain.pem")
        ok(https_serves(port, ca, 1), "no HTTPS answer; output:\n%s" % sv.log())
        server = sv.pid([tool("svstat")])
        ok(os.readlink("/proc/%d/exe" % server).endswith("/tcpserver"), "the supervised process is tcpserver")
        # a connection whose hermit waits for the next request
        ctx = ssl.create_default_context(cafile=ca)
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                             server_hostname="localhost") as s:
            c = Conn.wrap(s, 10)
            eq(c.request("GET", "/index.html").body, INDEX, "keep-alive request")
            pid = connection_hermit(server)
            ok(pid, "no hermit child of tcpserver")
            check_confined(pid, "hermit --stdio --tls")
            eq(c.request("GET", "/index.html").status, 200, "a second request on it")
        ok(not re.search(r"^hermit: (?!confined)", sv.log(), re.M),
           "no error from the per-connection hermits:\n%s" % sv.log())
    finally:
        sv.stop([tool("svc"), "-dx"])


run_all("contrib_tls")
