"""Three replicas behind HAProxy: each hermit in its own network namespace,
reached over a veth link, health-checked, with PROXY protocol v2. Under wrk
load through HAProxy:
  (a) a rolling restart of every replica (SIGTERM, start again, wait until
      HAProxy sees it up) loses no request;
  (b) a replica killed with SIGKILL costs at most the requests in flight on
      it, and HAProxy's retries and health checks bring errors back to zero
      within a bound measured here (printed, and checked against a limit);
  (c) the replicas' access logs show the clients' addresses (127.0.0.1 for
      wrk, 127.0.0.2 for the probe), never HAProxy's.
Needs root (ip netns), haproxy and wrk; skips with the reason otherwise.
Bounded: well under two minutes.

Run from the top of the repository: python3 tests/it_replicas.py ./hermit
"""

import http.client as httpclient
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

REPLICAS = 3
PORT = 8080
WRK_CONNS = 8
KILL_BOUND = 3.0    # seconds from the SIGKILL to the last failed probe, at most
TAG = "hr%d" % (os.getpid() % 100000)
NET = "10.%d" % (200 + os.getpid() % 50)    # 10.N.i.0/24 per replica
ROOT = make_tree({"index.html": b"<p>replica</p>\n", "health.txt": b"ok\n"})


def sh(*argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


def tool(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


class Replica:
    def __init__(self, i, d):
        self.i = i
        self.ns = "%s-%d" % (TAG, i)
        self.addr = "%s.%d.2" % (NET, i)
        self.d = d
        self.runs = 0
        self.proc = None

    def setup(self):
        host, inner = "%sh%d" % (TAG, self.i), "%sn%d" % (TAG, self.i)
        for argv in (["ip", "netns", "add", self.ns],
                     ["ip", "link", "add", host, "type", "veth", "peer", "name", inner],
                     ["ip", "link", "set", inner, "netns", self.ns],
                     ["ip", "addr", "add", "%s.%d.1/24" % (NET, self.i), "dev", host],
                     ["ip", "link", "set", host, "up"],
                     ["ip", "netns", "exec", self.ns, "ip", "addr", "add",
                      "%s/24" % self.addr, "dev", inner],
                     ["ip", "netns", "exec", self.ns, "ip", "link", "set", inner, "up"],
                     ["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"]):
            r = sh(*argv)
            if r.returncode != 0:
                return "%s: %s" % (" ".join(argv), r.stderr.strip())
        return None

    def start(self):
        self.runs += 1
        log = open(os.path.join(self.d, "r%d.%d.log" % (self.i, self.runs)), "wb")
        self.proc = spawn([tool("ip"), "netns", "exec", self.ns, BIN, "--listen",
                           "%s:%d" % (self.addr, PORT), "--proxy-protocol", "--workers", "1",
                           "--grace", "5", "--user", "nobody", ROOT],
                          stderr=log.fileno())
        log.close()

    def serving(self):
        """The current run has said it serves (its socket is bound)."""
        with open(os.path.join(self.d, "r%d.%d.log" % (self.i, self.runs)), "rb") as f:
            return b"hermit: serving " in f.read()

    def logs(self):
        out = []
        for n in range(1, self.runs + 1):
            with open(os.path.join(self.d, "r%d.%d.log" % (self.i, n)), "rb") as f:
                out += f.read().decode("utf-8", "replace").splitlines()
        return out

    def teardown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        sh("ip", "netns", "del", self.ns)


def haproxy_conf(d, front, replicas):
    lines = ["global", "  maxconn 2000", "  stats socket %s/hp.sock mode 600 level admin" % d,
             "  log stderr format raw local0",
             "defaults", "  mode http", "  log global", "  option httplog", "  option dontlog-normal",
             "  timeout connect 1s", "  timeout client 10s",
             "  timeout server 5s", "  timeout check 1s", "  retries 5",
             "  option redispatch 1", "  retry-on all-retryable-errors",
             "frontend f", "  bind 127.0.0.1:%d" % front, "  bind 127.0.0.2:%d" % front,
             "  default_backend replicas",
             "backend replicas", "  balance roundrobin", "  option httpchk GET /health.txt",
             "  default-server check inter 200 fall 2 rise 2 send-proxy-v2"]
    lines += ["  server r%d %s:%d" % (r.i, r.addr, PORT) for r in replicas]
    return write_file(d, "haproxy.cfg", "\n".join(lines) + "\n")


def states(d):
    """Replica number -> HAProxy's status for it ("UP", "DOWN", ...)."""
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(os.path.join(d, "hp.sock"))
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
    except OSError:
        return {}
    out = {}
    for line in data.decode().splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == "replicas" and f[1].startswith("r"):
            out[int(f[1][1:])] = f[17].split(" ")[0]
    return out


def all_up(d):
    st = states(d)
    return len(st) == REPLICAS and all(v == "UP" for v in st.values())


class Wrk:
    def __init__(self, port, seconds):
        self.p = subprocess.Popen(["wrk", "-t1", "-c%d" % WRK_CONNS, "-d%ds" % seconds,
                                   "--timeout", "5s", "http://127.0.0.1:%d/index.html" % port],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def result(self):
        out = self.p.communicate(timeout=60)[0]
        m = re.search(r"(\d+) requests in", out)
        total = int(m.group(1)) if m else 0
        m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        sock = sum(int(x) for x in m.groups()) if m else 0
        m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        bad = int(m.group(1)) if m else 0
        return total, sock + bad, out


class Probe(threading.Thread):
    """One request after another from 127.0.0.2, each result timed."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.results = []    # (monotonic time, ok)
        self.stop = False

    def run(self):
        conn = None
        while not self.stop:
            good = False
            try:
                if conn is None:
                    conn = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=5,
                                                      source_address=("127.0.0.2", 0))
                conn.request("GET", "/index.html")
                r = conn.getresponse()
                good = r.status == 200 and r.read() == b"<p>replica</p>\n"
            except (OSError, httpclient.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            self.results.append((time.monotonic(), good))
            time.sleep(0.005)


@test(timeout=115)
def replicas_behind_haproxy():
    if not is_root():
        skip("ip netns needs root")
    for name in ("ip", "haproxy"):
        if tool(name) is None:
            skip("%s is not installed" % name)
    if not have_tool("wrk"):
        skip("wrk is not installed")
    d = tempdir()
    replicas = [Replica(i, d) for i in range(1, REPLICAS + 1)]
    hp = None
    try:
        for r in replicas:
            why = r.setup()
            if why is not None:
                skip("network namespaces are not available here (%s)" % why)
        for r in replicas:
            r.start()
        front = free_port()
        hplog = open(os.path.join(d, "haproxy.log"), "wb")
        hp = spawn([tool("haproxy"), "-db", "-f", haproxy_conf(d, front, replicas)],
                   stderr=hplog.fileno())
        ok(wait_for(lambda: all_up(d), 10), "replicas not up in HAProxy: %r; haproxy: %s"
           % (states(d), open(hplog.name).read()[-500:]))

        # (a) a rolling restart under load loses no request
        wrk = Wrk(front, 10)
        time.sleep(1)
        for r in replicas:
            r.proc.send_signal(signal.SIGTERM)
            eq(r.proc.wait(10), 0, "replica %d exit status after SIGTERM" % r.i)
            r.start()
            # Serving again before the next one stops, and seen so by HAProxy.
            ok(wait_for(r.serving, 10), "replica %d did not start again" % r.i)
            time.sleep(0.5)
            ok(wait_for(lambda: all_up(d), 10), "replica %d not up again: %r" % (r.i, states(d)))
        total, errors, out = wrk.result()
        ok(total > 1000, "too little load to judge: %s" % out)
        eq(errors, 0, "failed requests during the rolling restart (of %d); wrk:\n%s\nhaproxy:\n%s"
           % (total, out, "\n".join([l for l in open(hplog.name).read().splitlines()
                                      if " 200 " not in l][:30])))

        # (b) SIGKILL: at most the requests in flight on it fail, then none
        probe = Probe(front)
        wrk = Wrk(front, 8)
        probe.start()
        time.sleep(2)
        killed = time.monotonic()
        replicas[0].proc.kill()
        replicas[0].proc.wait(5)
        down = wait_for(lambda: states(d).get(1, "UP") != "UP" and time.monotonic(), 5, 0.01)
        ok(down, "HAProxy never saw the killed replica down: %r" % states(d))
        time.sleep(max(0.0, killed + 4 - time.monotonic()))
        replicas[0].start()
        ok(wait_for(lambda: all_up(d), 10), "killed replica not up again: %r" % states(d))
        time.sleep(1)
        probe.stop = True
        probe.join(10)
        total, errors, out = wrk.result()
        failed = [t for t, good in probe.results if not good]
        after = [good for t, good in probe.results if t > killed + KILL_BOUND]
        bound = (failed[-1] - killed) if failed else 0.0
        print("it_replicas: SIGKILL under load: wrk %d of %d failed, probe %d of %d failed, "
              "the last %.3fs after the kill; HAProxy saw it down after %.3fs"
              % (errors, total, len(failed), len(probe.results), bound, down - killed), flush=True)
        ok(errors <= WRK_CONNS, "more wrk failures than requests in flight: %d; wrk:\n%s"
           % (errors, out))
        ok(len(failed) <= 1, "more probe failures than requests in flight: %d" % len(failed))
        ok(bound <= KILL_BOUND, "failures until %.3fs after the kill" % bound)
        ok(len(after) > 50 and all(after), "probe results after the bound: %d, %d failed"
           % (len(after), after.count(False)))

        # (c) the access logs name the clients, never HAProxy
        peers = {}
        for r in replicas:
            for line in r.logs():
                m = ACCESS_RE.match(line)
                if m and "/index.html" in m.group("request"):
                    peers[m.group("addr")] = peers.get(m.group("addr"), 0) + 1
        eq(sorted(peers), ["127.0.0.1", "127.0.0.2"], "client addresses logged (%r)" % peers)
        for r in replicas:
            ok(any("/index.html" in l for l in r.logs()), "replica %d served nothing" % r.i)
            rep = sanitizer_report("\n".join(r.logs()))
            ok(rep is None, "replica %d: %s" % (r.i, rep))
    finally:
        if hp is not None:
            hp.kill()
            hp.wait(5)
        for r in replicas:
            r.teardown()


if __name__ == "__main__":
    sys.exit(run_all("it_replicas"))
