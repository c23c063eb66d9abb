"""Hostile clients against the real, confined binary (issue 5): slowloris by
the hundred, idle connections up to and beyond --max-connections, slow and
zero-window readers, oversized, malformed and smuggling-style requests,
absurd ranges, path traversal in every encoding, hostile Host headers,
resets mid-response, half-close and hundreds of pipelined requests. Each test
shows that the attacker gets the right answer (or is cut off in time), that
everyone else is still served, and that nothing outside the root is ever
returned. Debian's slowhttptest drives the slow attacks too when it is
installed (or installable).

Loopback only; every test is bounded in time and in connections.
Run from the top of the repository: python3 tests/it_hostile.py ./hermit [TEST...]
"""

import hashlib
import os
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

# ---------------------------------------------------------------- the trees
#
#   OUTER/secret.txt          must never be served
#   OUTER/root/               the content root for most tests
#   OUTER/vroot/              the root for --vhosts: good.example/, _default/,
#                             and root-secret.txt directly under it (no site)

SECRET = ("hermit-secret-%s" % os.urandom(8).hex()).encode()
OUTER = tempdir()
write_file(OUTER, "secret.txt", SECRET + b"\n")
HELLO = b"hello\n"
DIGITS = b"".join(b"%09d\n" % i for i in range(1000))      # 10000 bytes
BIG = hashlib.sha256(b"hermit").digest() * (8 * 1024 * 1024 // 32)   # 8 MiB
ROOT = make_tree({
    "hello.txt": HELLO,
    "index.html": b"<p>index</p>\n",
    "digits.txt": DIGITS,
    "big.bin": BIG,
    "sub/page.html": b"<p>sub</p>\n",
    ".secret": SECRET,
    "private.txt": (SECRET, 0o600),
}, root=os.path.join(OUTER, "root"))
os.chmod(ROOT, 0o755)
os.symlink("../secret.txt", os.path.join(ROOT, "link-out"))
os.symlink(os.path.join(OUTER, "secret.txt"), os.path.join(ROOT, "link-abs"))
os.symlink("..", os.path.join(ROOT, "up"))
VROOT = make_tree({
    "good.example/index.html": b"good\n",
    "_default/index.html": b"default\n",
    "root-secret.txt": SECRET,
}, root=os.path.join(OUTER, "vroot"))
os.chmod(VROOT, 0o755)

GET_HELLO = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
GET_BIG = b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n"


# ---------------------------------------------------------------- helpers

def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def rss_kib(pid):
    return proc_status(pid, "VmRSS")


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


# Each worker (one per CPU by default) keeps recently served files open for
# a moment (its file cache), so after serving k distinct files the server
# may hold up to WORKERS * k descriptors more than before, and no more.
WORKERS = os.cpu_count() or 1


def fd_slack(files):
    return WORKERS * files + 2


def settle_fds(pid, baseline, files, timeout=5.0):
    """Waits until the server holds no more descriptors than baseline plus
    what its file caches may keep for `files` distinct files; returns the
    count and asserts."""
    limit = baseline + fd_slack(files)
    wait_for(lambda: nfds(pid) <= limit, timeout)
    n = nfds(pid)
    ok(n <= limit, "the server holds %d descriptors, at most %d expected (%d before, "
       "%d files served)" % (n, limit, baseline, files))
    return n


def served_quickly(port, limit=1.0, path="/hello.txt", body=HELLO):
    """One request on a new connection: returns its latency in seconds."""
    t0 = time.monotonic()
    r = http(port, "GET", path, timeout=5)
    took = time.monotonic() - t0
    eq((r.status, r.body), (200, body), "a normal client")
    ok(took < limit, "a normal client waited %.2fs (limit %.1fs)" % (took, limit))
    return took


def exchange(port, data, timeout=5.0, shut_wr=False, host="127.0.0.1"):
    """Sends data (however early the server closes) and reads until the
    server closes or timeout. Returns (bytes, closed, seconds)."""
    s = socket.create_connection((host, port), timeout=timeout)
    t0 = time.monotonic()
    out = b""
    closed = False
    try:
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = t0 + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(1 << 20)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not d:
                closed = True
                break
            out += d
    finally:
        s.close()
    return out, closed, time.monotonic() - t0


STATUS_RE = re.compile(rb"^HTTP/1\.1 (\d{3}) ")


def first_status(data):
    m = STATUS_RE.match(data)
    return int(m.group(1)) if m else None


def reset_close(sock):
    """Closes with an RST (SO_LINGER 0): a client that vanishes."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def no_secret(data, what):
    ok(SECRET not in data, "%s: the secret outside the root was returned" % what)


def ensure_slowhttptest():
    """slowhttptest from Debian: installed here if missing (as root), else skip."""
    if have_tool("slowhttptest"):
        return
    if is_root():
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "slowhttptest"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
    if not have_tool("slowhttptest"):
        skip("slowhttptest is not installed and apt-get could not install it "
             "(apt-get install slowhttptest)")


def slowhttptest(port, mode_args, seconds, prefix):
    """Runs slowhttptest for `seconds`; returns its CSV rows as dicts."""
    argv = ["slowhttptest"] + mode_args + ["-l", str(seconds), "-p", "2", "-g", "-o", prefix]
    argv = [a.replace("PORT", str(port)) for a in argv]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=seconds + 30, cwd=os.path.dirname(prefix))
    eq(p.returncode, 0, "slowhttptest exit status (%s)" % p.stdout[-300:])
    with open(prefix + ".csv") as f:
        lines = [l.strip() for l in f if l.strip()]
    names = lines[0].split(",")
    return [dict(zip(names, map(int, l.split(",")))) for l in lines[1:]]


# ---------------------------------------------------------------- slow clients

@test(timeout=60)
def slowloris_hundreds_closed_at_header_deadline_others_served():
    """200 clients trickle a head; each is closed at --header-timeout (2s,
    measured per connection); a normal client is answered quickly all along
    and memory stays bounded."""
    raise_nofile(4096)
    ht, n = 2.0, 200
    with Server(ROOT, ["--header-timeout", "2", "--idle-timeout", "60"]) as s:
        base_rss, base_fds = rss_kib(s.pid), nfds(s.pid)
        socks, opened, closed_at = [], {}, {}
        trickle = b"X-Trickle: " + b"a" * 1000
        for i in range(n):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            opened[c] = time.monotonic()
            c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n")
            c.setblocking(False)
            socks.append(c)
        peak_rss, latencies, sent, got = base_rss, [], 0, b""
        next_trickle = next_normal = time.monotonic()
        deadline = time.monotonic() + ht + 5
        while len(closed_at) < n and time.monotonic() < deadline:
            live = [c for c in socks if c not in closed_at]
            r, _, _ = select.select(live, [], [], 0.02)
            now = time.monotonic()
            for c in r:
                try:
                    d = c.recv(4096)
                except (ConnectionResetError, BlockingIOError):
                    d = b""
                got += d
                if not d:
                    closed_at[c] = now
            if now >= next_trickle:     # one more byte from each, every 0.3s
                for c in live:
                    if c in closed_at:
                        continue
                    try:
                        c.send(trickle[sent % len(trickle):][:1])
                    except OSError:
                        closed_at.setdefault(c, now)
                sent += 1
                next_trickle = now + 0.3
            if now >= next_normal and len(closed_at) < n:
                latencies.append(served_quickly(s.port))
                peak_rss = max(peak_rss, rss_kib(s.pid))
                next_normal = time.monotonic() + 0.25
        for c in socks:
            c.close()
        open_left = n - len(closed_at)
        ok(open_left == 0, "%d of %d trickling connections still open %.1fs after the "
           "header deadline (server holds %d descriptors)" % (open_left, n, 5.0, nfds(s.pid)))
        times = sorted(closed_at[c] - opened[c] for c in socks)
        ok(times[0] >= ht - 0.1, "a trickler was closed after %.2fs, before the %.0fs deadline"
           % (times[0], ht))
        ok(times[-1] <= ht + 1.5, "a trickler was closed only after %.2fs (deadline %.0fs)"
           % (times[-1], ht))
        ok(STATUS_RE.search(got) is None or b" 200 " not in got,
           "a trickling client got an answer: %r" % got[:200])
        ok(len(latencies) >= 4, "only %d normal requests in the attack" % len(latencies))
        ok(peak_rss - base_rss < 32 * 1024, "RSS grew by %d KiB under the attack"
           % (peak_rss - base_rss))
        settle_fds(s.pid, base_fds, 1)


@test(timeout=120)
def slowhttptest_slowloris_slow_read_and_range_attacks():
    """Debian's slowhttptest: slow headers (-H), slow read (-X) and the
    Apache-killer range attack (-R). The service stays available in every
    second of each run, and the slow connections are cut at the deadlines
    (the server's descriptor count falls back within 6 seconds, while the
    tool still runs or because it found all its connections closed)."""
    ensure_slowhttptest()
    raise_nofile(4096)
    work = tempdir()
    with Server(ROOT, ["--header-timeout", "2", "--send-timeout", "2",
                       "--idle-timeout", "2"]) as s:
        base_fds = nfds(s.pid)
        url = "http://127.0.0.1:PORT"
        runs = [
            ("slow headers", ["-H", "-c", "300", "-r", "300", "-i", "1", "-x", "16",
                              "-u", url + "/hello.txt"], 1),
            ("slow read", ["-X", "-c", "100", "-r", "100", "-w", "512", "-y", "1024",
                           "-n", "3", "-z", "32", "-k", "3", "-u", url + "/big.bin"], 2),
            ("range attack", ["-R", "-c", "100", "-r", "100", "-a", "10", "-b", "500",
                              "-u", url + "/digits.txt"], 1),
        ]
        for name, args, files in runs:
            samples = []
            stop = threading.Event()

            def sample():
                while not stop.is_set():
                    samples.append((time.monotonic(), nfds(s.pid)))
                    time.sleep(0.1)
            t = threading.Thread(target=sample)
            t0 = time.monotonic()
            t.start()
            try:
                rows = slowhttptest(s.port, args, 8, os.path.join(work, name.replace(" ", "_")))
                time.sleep(max(0.0, t0 + 6.5 - time.monotonic()))
            finally:
                stop.set()
                t.join()
            down = [r["Seconds"] for r in rows if r["Service Available"] == 0]
            ok(not down, "%s: service unavailable in seconds %s" % (name, down))
            ok(s.alive(), "%s: server died" % name)
            if name == "range attack":
                # HEAD with hundreds of overlapping ranges: the whole file
                # (200), never 206 or a multipart answer
                lines = [ACCESS_RE.match(l) for l in s.access_lines()]
                ranged = [m for m in lines if m and "/digits.txt" in m.group("request")]
                ok(len(ranged) >= 50, "range attack: %d requests logged" % len(ranged))
                bad = [m.group(0) for m in ranged if m.group("status") != "200"]
                ok(not bad, "range attack answered with %s" % bad[:3])
            else:
                peak = max(n for (_, n) in samples)
                ok(peak > base_fds + 20, "%s: the attack never got through (at most %d "
                   "descriptors)" % (name, peak))
                # back down while the tool still runs (8s), or because it
                # found every connection closed: the server cut them
                limit = base_fds + fd_slack(files)
                fell = [when - t0 for (when, n) in samples if when - t0 > 1.0 and n <= limit]
                ok(fell and fell[0] <= 6.0, "%s: the server still held more than %d "
                   "descriptors 6s into the attack (%s)" % (name, limit, samples[::10]))
            served_quickly(s.port)


@test(timeout=60)
def slow_and_zero_window_readers_closed_by_send_timeout():
    """60 clients with tiny receive windows ask for 8 MiB and never read:
    --send-timeout (2s) closes them all, memory stays bounded, others are
    served meanwhile."""
    raise_nofile(4096)
    st, n = 2.0, 60
    with Server(ROOT, ["--send-timeout", "2", "--idle-timeout", "60"]) as s:
        base_rss, base_fds = rss_kib(s.pid), nfds(s.pid)
        socks = []
        for i in range(n):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            c.connect(("127.0.0.1", s.port))
            c.sendall(GET_BIG)
            socks.append(c)
        t0 = time.monotonic()
        peak_rss = base_rss
        done = None
        while time.monotonic() - t0 < st + 6:
            peak_rss = max(peak_rss, rss_kib(s.pid))
            if nfds(s.pid) <= base_fds + fd_slack(2):
                done = time.monotonic() - t0
                break
            served_quickly(s.port)
            time.sleep(0.2)
        for c in socks:
            reset_close(c)
        ok(done is not None, "non-reading clients still held after %.0fs (%d descriptors, "
           "base %d)" % (st + 6, nfds(s.pid), base_fds))
        ok(done <= st + 2.5, "non-reading clients closed only after %.1fs" % done)
        ok(peak_rss - base_rss < 48 * 1024, "RSS grew by %d KiB with %d stalled 8 MiB "
           "responses" % (peak_rss - base_rss, n))
        served_quickly(s.port, path="/big.bin", body=BIG, limit=5.0)


@test(timeout=60)
def idle_connections_up_to_and_beyond_max_connections():
    """--max-connections 40 held by silent clients: the excess get a clean
    503 and a close, the held ones are still served, and once they go the
    server takes 40 new clients again."""
    raise_nofile(4096)
    m = 40
    with Server(ROOT, ["--max-connections", str(m), "--header-timeout", "60",
                       "--idle-timeout", "60"]) as s:
        base_fds = nfds(s.pid)
        held = [Conn(s.port) for _ in range(m)]
        ok(wait_for(lambda: nfds(s.pid) >= base_fds + m, 5),
           "the server did not take %d connections (%d descriptors)" % (m, nfds(s.pid)))
        for i in range(10):
            data, closed, took = exchange(s.port, b"", timeout=3)
            eq(first_status(data), 503, "excess connection %d: %r" % (i, data[:80]))
            ok(closed and took < 2, "excess connection %d not closed after its 503" % i)
        r = held[0].request("GET", "/hello.txt")
        eq((r.status, r.body), (200, HELLO), "a held connection at the limit")
        r = held[-1].request("GET", "/hello.txt")
        eq((r.status, r.body), (200, HELLO), "the last held connection at the limit")
        for c in held:
            c.close()
        settle_fds(s.pid, base_fds, 1)
        again = [Conn(s.port) for _ in range(m)]
        for i, c in enumerate(again):
            r = c.request("GET", "/hello.txt")
            eq((r.status, r.body), (200, HELLO), "new client %d after recovery" % i)
        for c in again:
            c.close()


# ---------------------------------------------------------------- bad bytes

def req(line, headers=b"Host: a\r\n", end=b"\r\n"):
    return line + b"\r\n" + headers + end


# (name, request bytes, expected status or set of statuses)
MALFORMED = [
    ("request line over the limit", req(b"GET /" + b"a" * 9000 + b" HTTP/1.1"), 414),
    ("header over the limit", req(b"GET / HTTP/1.1", b"Host: a\r\nX: " + b"b" * 9000 + b"\r\n"), 431),
    ("too many fields", req(b"GET / HTTP/1.1", b"Host: a\r\n" + b"X: y\r\n" * 150), 431),
    ("CL and TE", req(b"POST / HTTP/1.1", b"Host: a\r\nContent-Length: 6\r\n"
                      b"Transfer-Encoding: chunked\r\n") + b"0\r\n\r\nX", 400),
    ("TE chunked", req(b"GET / HTTP/1.1", b"Host: a\r\nTransfer-Encoding: chunked\r\n")
     + b"0\r\n\r\n", 400),
    ("TE with space before colon", req(b"GET / HTTP/1.1",
                                       b"Host: a\r\nTransfer-Encoding : chunked\r\n"), 400),
    ("TE with tab value", req(b"GET / HTTP/1.1", b"Host: a\r\nTransfer-Encoding:\tchunked\r\n"), 400),
    ("TE identity", req(b"GET / HTTP/1.1", b"Host: a\r\nTransfer-Encoding: identity\r\n"), 400),
    ("TE folded", req(b"GET / HTTP/1.1", b"Host: a\r\nX: y\r\n Transfer-Encoding: chunked\r\n"), 400),
    ("duplicate CL", req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n"), 400),
    ("CL list", req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: 0, 0\r\n"), 400),
    ("CL signed", req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: +0\r\n"), 400),
    ("CL hex", req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: 0x0\r\n"), 400),
    ("obs-fold", req(b"GET / HTTP/1.1", b"Host: a\r\nX: a\r\n b\r\n"), 400),
    ("obs-fold of Host", req(b"GET / HTTP/1.1", b"Host:\r\n a\r\n"), 400),
    ("bare CR", b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
    ("bare LF", b"GET / HTTP/1.1\nHost: a\n\n", 400),
    ("bare LF ending", b"GET / HTTP/1.1\r\nHost: a\r\n\n", 400),
    ("CR CR LF", b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400),
    ("NUL in value", req(b"GET / HTTP/1.1", b"Host: a\r\nX: a\x00b\r\n"), 400),
    ("NUL in target", req(b"GET /hello.txt\x00.html HTTP/1.1"), 400),
    ("NUL in method", req(b"G\x00T / HTTP/1.1"), 400),
    ("NUL in name", req(b"GET / HTTP/1.1", b"Host: a\r\nX\x00: y\r\n"), 400),
    ("control byte in value", req(b"GET / HTTP/1.1", b"Host: a\r\nX: \x01\r\n"), 400),
    ("DEL in value", req(b"GET / HTTP/1.1", b"Host: a\r\nX: \x7f\r\n"), 400),
    ("raw invalid UTF-8 in target", req(b"GET /\xff\xfe\xc0\xae HTTP/1.1"), 400),
    ("space in target", req(b"GET /a b HTTP/1.1"), 400),
    ("two spaces", req(b"GET  / HTTP/1.1"), 400),
    ("trailing space", req(b"GET / HTTP/1.1 "), 400),
    ("space before colon", req(b"GET / HTTP/1.1", b"Host : a\r\n"), 400),
    ("space in name", req(b"GET / HTTP/1.1", b"Host: a\r\nX Y: z\r\n"), 400),
    ("empty name", req(b"GET / HTTP/1.1", b"Host: a\r\n: z\r\n"), 400),
    ("line without colon", req(b"GET / HTTP/1.1", b"Host: a\r\nnocolon\r\n"), 400),
    ("duplicate Host", req(b"GET / HTTP/1.1", b"Host: a\r\nHost: b\r\n"), 400),
    ("HTTP/1.1 without Host", req(b"GET / HTTP/1.1", b""), 400),
    ("userinfo in absolute-form", req(b"GET http://u@a/ HTTP/1.1"), 400),
    ("asterisk-form other than OPTIONS", req(b"GET * HTTP/1.1"), 400),
    ("authority-form", req(b"CONNECT a:443 HTTP/1.1"), (400, 405)),
    ("HTTP/0.9", b"GET /hello.txt\r\n\r\n", 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400, 505)),
    ("HTTP/3.0", req(b"GET / HTTP/3.0"), 505),
    ("lowercase version", req(b"GET / http/1.1"), 400),
    ("long version", req(b"GET / HTTP/1.10"), 400),
    ("lowercase method", req(b"get / HTTP/1.1"), 501),
    ("long unknown method", req(b"X" * 100 + b" / HTTP/1.1"), 501),
    ("POST with a body", req(b"POST / HTTP/1.1", b"Host: a\r\nContent-Length: 5\r\n") + b"hello", 405),
    ("POST chunked", req(b"POST / HTTP/1.1", b"Host: a\r\nTransfer-Encoding: chunked\r\n")
     + b"0\r\n\r\n", 405),
    ("POST chunked in HTTP/1.0", req(b"POST / HTTP/1.0", b"Transfer-Encoding: chunked\r\n")
     + b"0\r\n\r\n", 400),
    ("POST without a body", req(b"POST / HTTP/1.1"), 405),
    ("empty lines flood", b"\r\n" * 20000 + req(b"GET / HTTP/1.1"), 400),
]


@test(timeout=120)
def malformed_and_smuggling_requests_get_the_right_error():
    """Each malformed, oversized or smuggling-style request gets its error
    status and a close, never the secret; the server keeps serving."""
    with Server(ROOT) as s:
        failures = []
        for name, data, want in MALFORMED:
            out, closed, took = exchange(s.port, data, timeout=5)
            got = first_status(out)
            wants = want if isinstance(want, tuple) else (want,)
            if got not in wants:
                failures.append("%s: status %s, expected %s (%r)" % (name, got, want, out[:60]))
            elif not closed:
                failures.append("%s: connection left open after %s" % (name, got))
            elif len(re.findall(rb"(?:^|\r\n)HTTP/1\.1 \d{3} ", out)) > 1:
                failures.append("%s: more than one response" % name)
            no_secret(out, name)
        ok(not failures, "\n".join(failures))
        served_quickly(s.port)


@test(timeout=30)
def smuggled_request_in_a_body_is_never_answered():
    """A request hidden in a body (Content-Length, chunked) gets one error
    (400; 405 for POST, whose body is legal but never read) and a close:
    the hidden request is never read as the next one."""
    hidden = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
    bodies = [
        req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: %d\r\n" % len(hidden)) + hidden,
        req(b"POST / HTTP/1.1", b"Host: a\r\nTransfer-Encoding: chunked\r\n")
        + b"%x\r\n" % len(hidden) + hidden + b"\r\n0\r\n\r\n",
        req(b"GET / HTTP/1.1", b"Host: a\r\nContent-Length: 0\r\nContent-Length: %d\r\n"
            % len(hidden)) + hidden,
        req(b"GET / HTTP/1.1", b"Host: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n")
        + b"0\r\n\r\n" + hidden,
    ]
    with Server(ROOT) as s:
        for i, data in enumerate(bodies):
            out, closed, _ = exchange(s.port, data, timeout=5)
            eq(first_status(out), 405 if data.startswith(b"POST") else 400,
               "smuggling case %d" % i)
            eq(out.count(b"HTTP/1.1 "), 1, "responses to smuggling case %d" % i)
            ok(HELLO not in out, "smuggling case %d: the hidden request was answered" % i)
            ok(closed, "smuggling case %d: connection left open" % i)


@test(timeout=30)
def invalid_utf8_and_encoded_junk_in_paths_404():
    """Percent-encoded bytes that are not UTF-8 (or overlong forms) name no
    file: 404, never a crash, never the secret; obs-text in a header value is
    allowed by RFC 9110 and served."""
    with Server(ROOT) as s:
        for path in [b"/%ff%fe", b"/%c0%80", b"/%ed%a0%80", b"/%f8%88%80%80%80",
                     b"/hello.txt%ff", b"/%e2%82"]:
            out, _, _ = exchange(s.port, req(b"GET " + path + b" HTTP/1.1",
                                             b"Host: a\r\nConnection: close\r\n"))
            eq(first_status(out), 404, "path %r" % path)
        out, _, _ = exchange(s.port, req(b"GET /hello.txt HTTP/1.1",
                                         b"Host: a\r\nUser-Agent: \xff\xfe\xc0\xae\r\n"
                                         b"Connection: close\r\n"))
        eq(first_status(out), 200, "obs-text in a header value")
        ok(out.endswith(HELLO), "body with obs-text in a header value")


# ---------------------------------------------------------------- ranges

def check_range_response(r, what):
    """The body is what Content-Length says and a true slice of the file."""
    cl = int(r.header("Content-Length"))
    eq(len(r.body), cl, "%s: body length" % what)
    ok(cl <= len(DIGITS), "%s: %d bytes for a %d-byte file" % (what, cl, len(DIGITS)))
    if r.status == 206:
        m = re.match(r"bytes (\d+)-(\d+)/(\d+)$", r.header("Content-Range") or "")
        ok(m, "%s: Content-Range %r" % (what, r.header("Content-Range")))
        a, b, size = map(int, m.groups())
        eq(size, len(DIGITS), "%s: complete length" % what)
        ok(a <= b < size, "%s: range %d-%d outside the file" % (what, a, b))
        eq(r.body, DIGITS[a:b + 1], "%s: bytes" % what)
    elif r.status == 200:
        eq(r.body, DIGITS, "%s: whole file" % what)


@test(timeout=60)
def absurd_ranges_never_overflow_or_amplify():
    many = ",".join("%d-%d" % (i, i) for i in range(5000))
    cases = [
        ("5000 ranges", "bytes=" + many, 200),
        ("2000 overlapping", "bytes=" + ",".join(["0-"] * 2000), 200),
        ("apache killer", "bytes=0-," + ",".join("5-%d" % i for i in range(1300)), 200),
        ("two ranges", "bytes=0-0,-1", 200),
        ("huge last", "bytes=0-99999999999999999999999", 206),
        ("huge first", "bytes=99999999999999999999999-", 416),
        ("huge suffix", "bytes=-99999999999999999999999", 206),
        ("2^64-1", "bytes=18446744073709551615-18446744073709551615", 416),
        ("2^64", "bytes=18446744073709551616-18446744073709551617", 416),
        ("2^64 last", "bytes=9990-18446744073709551616", 206),
        ("last byte", "bytes=9999-9999", 206),
        ("past the end", "bytes=10000-", 416),
        ("reversed", "bytes=5-4", 200),
        ("empty suffix", "bytes=-0", 416),
        ("zeros", "bytes=" + "0" * 3000 + "1-" + "0" * 3000 + "2", 206),
        ("negative", "bytes=-5-10", 200),
        ("other unit", "items=0-1", 200),
        ("no unit", "=0-1", 200),
    ]
    with Server(ROOT, ["--max-header-bytes", "65536"]) as s:
        with Conn(s.port, timeout=10) as c:
            for name, spec, want in cases:
                r = c.request("GET", "/digits.txt", {"Range": spec})
                eq(r.status, want, "%s (%s...)" % (name, spec[:40]))
                if want == 416:
                    eq(r.header("Content-Range"), "bytes */%d" % len(DIGITS), name + ": 416")
                else:
                    check_range_response(r, name)
        served_quickly(s.port)


# ---------------------------------------------------------------- traversal

TRAVERSAL = [
    b"/../secret.txt", b"/../../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt",
    b"/.%2e/secret.txt", b"/%2e./secret.txt", b"/%252e%252e/secret.txt",
    b"/%25%32%65%25%32%65/secret.txt", b"/%c0%ae%c0%ae/secret.txt",
    b"/%c0%ae%c0%ae%c0%afsecret.txt", b"/%e0%80%ae%e0%80%ae/secret.txt",
    b"/..%2fsecret.txt", b"/..%2Fsecret.txt", b"/%2e%2e%2fsecret.txt", b"/..%5csecret.txt",
    b"/..\\secret.txt", b"/%5c..%5csecret.txt", b"/./../secret.txt", b"/sub/../../secret.txt",
    b"/sub/%2e%2e/%2e%2e/secret.txt", b"//../secret.txt", b"/..;/secret.txt",
    b"/sub/..;/..;/secret.txt", b"/..%00/secret.txt", b"/..%2500/secret.txt",
    b"/%u002e%u002e/secret.txt", b"/....//secret.txt", b"/.../secret.txt",
    b"/link-out", b"/link-abs", b"/up/secret.txt", b"/up/root/hello.txt",
    b"/sub/../up/secret.txt", b"/.secret", b"/%2esecret", b"/private.txt",
    b"http://a/../secret.txt", b"http://a/%2e%2e/secret.txt", b"../secret.txt",
    b"secret.txt", b"/hello.txt/../../secret.txt", b"/.well-known/../../secret.txt",
    b"/%2e%2e%5c%2e%2e%5csecret.txt", b"/%c1%9c..%c1%9csecret.txt",
]


def traversal_check(extra_args):
    with Server(ROOT, extra_args) as s:
        with Conn(s.port) as c:
            r = c.request("GET", "/hello.txt")
            eq(r.body, HELLO, "control request")
        for path in TRAVERSAL:
            out, _, _ = exchange(s.port, req(b"GET " + path + b" HTTP/1.1",
                                             b"Host: a\r\nConnection: close\r\n"))
            no_secret(out, "path %r" % path)
            st = first_status(out)
            ok(st in (400, 404), "path %r: status %s" % (path, st))
        served_quickly(s.port)


@test(timeout=60)
def traversal_in_every_encoding_never_leaves_root():
    traversal_check([])


@test(timeout=60)
def traversal_never_leaves_root_without_chroot():
    """The same without chroot: path rewriting, openat2 RESOLVE_BENEATH and
    Landlock must hold on their own."""
    traversal_check(["--no-chroot"])


HOSTS = [
    b"..", b".", b"../", b"..%2f", b"%2e%2e", b"good.example/..", b"good.example/../",
    b"good.example\\..", b"./good.example", b"good.example/../root-secret.txt",
    b"..:80", b"..:", b":80", b"good.example:80:80", b"good.example:abc",
    b"good.example..", b".good.example", b"-good.example", b"good..example",
    b"[..]", b"[::1", b"[]", b"[::1]x", b"a" * 300, b"_default", b"good.example\xff",
    b"good example", b"\"good.example\"", b"good.example;x", b"*", b"%", b"@",
    b"u@good.example", b"good.example#", b"good.example?x",
]


@test(timeout=60)
def hostile_host_headers_with_vhosts():
    """Under --vhosts a Host names a directory: no value reaches files next
    to the sites (or above the root); good names are served."""
    with Server(VROOT, ["--vhosts"]) as s:
        for host in HOSTS:
            for path in (b"/root-secret.txt", b"/../root-secret.txt", b"/index.html"):
                out, _, _ = exchange(s.port, req(b"GET " + path + b" HTTP/1.1",
                                                 b"Host: " + host + b"\r\nConnection: close\r\n"))
                no_secret(out, "Host %r path %r" % (host, path))
                st = first_status(out)
                ok(st in (400, 404), "Host %r path %r: status %s" % (host, path, st))
        for target in (b"http://../root-secret.txt", b"http://%2e%2e/root-secret.txt",
                       b"http://good.example/../root-secret.txt", b"http://[..]/x",
                       b"http://good.example@x/index.html", b"http://./root-secret.txt"):
            out, _, _ = exchange(s.port, req(b"GET " + target + b" HTTP/1.1",
                                             b"Host: good.example\r\nConnection: close\r\n"))
            no_secret(out, "target %r" % target)
            ok(first_status(out) in (400, 404), "target %r: status %s"
               % (target, first_status(out)))
        for host in (b"good.example", b"GOOD.Example.", b"good.example:8080"):
            out, _, _ = exchange(s.port, req(b"GET / HTTP/1.1",
                                             b"Host: " + host + b"\r\nConnection: close\r\n"))
            eq(first_status(out), 200, "Host %r" % host)
            ok(out.endswith(b"good\n"), "Host %r: the site's page" % host)


# ---------------------------------------------------------------- connection abuse

@test(timeout=60)
def resets_mid_response_leave_nothing_behind():
    """Clients that reset while a large body is in flight (after some bytes,
    before any, with a pipeline queued): the server keeps serving and its
    descriptors fall back to where they were."""
    with Server(ROOT) as s:
        base_fds = nfds(s.pid)
        for i in range(60):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(GET_BIG * (1 + i % 5))
            if i % 3:
                got = 0
                while got < 64 * 1024 * (i % 3):
                    d = c.recv(65536)
                    if not d:
                        break
                    got += len(d)
            reset_close(c)
        served_quickly(s.port)
        settle_fds(s.pid, base_fds, 2)
        ok(s.alive(), "server died")


@test(timeout=30)
def half_close_gets_answers_then_close():
    with Server(ROOT) as s:
        out, closed, took = exchange(s.port, GET_HELLO, shut_wr=True)
        rs = parse_responses(out)
        eq([(r.status, r.body) for r in rs], [(200, HELLO)], "request then FIN")
        ok(closed and took < 2, "closed %.2fs after FIN" % took)
        out, closed, took = exchange(s.port, GET_HELLO * 3, shut_wr=True)
        eq([(r.status, r.body) for r in parse_responses(out)], [(200, HELLO)] * 3,
           "three pipelined then FIN")
        ok(closed and took < 2, "closed %.2fs after three and FIN" % took)
        out, closed, took = exchange(s.port, b"GET /hello.txt HTTP/1.1\r\nHo", shut_wr=True)
        ok(first_status(out) in (None, 400), "half a head then FIN: %r" % out[:60])
        ok(closed and took < 2, "half a head then FIN: closed after %.2fs" % took)
        out, closed, took = exchange(s.port, b"", shut_wr=True)
        eq(out, b"", "FIN without a byte")
        ok(closed and took < 2, "FIN without a byte: closed after %.2fs" % took)


def read_to_fin(sock, timeout):
    """Reads until the server's FIN; returns (bytes, how) where how is
    "fin", "reset" or "timeout"."""
    sock.settimeout(timeout)
    out = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                return out, "fin"
            out += d
    except ConnectionResetError:
        return out, "reset"
    except socket.timeout:
        return out, "timeout"


@test(timeout=60)
def refused_request_lingers_so_the_answer_arrives():
    """A request refused while the client is still sending (a 64 KiB request
    line in one write, far past the 8 KiB head limit) gets its 414 followed
    by a FIN, never a reset that could destroy it; the server then drops
    what still comes for a bounded time and bytes: a silent client is let go
    within about 2 s, and one that keeps sending is cut off."""
    with Server(ROOT) as s:
        base_fds = nfds(s.pid)
        for i in range(20):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            out, how = read_to_fin(c, 5)
            eq((first_status(out), how), (414, "fin"), "oversized line %d: answer, then" % i)
            c.close()
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 60000)
        out, how = read_to_fin(c, 5)
        eq((first_status(out), how), (400, "fin"), "a body on GET, still arriving: answer, then")
        c.close()
        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + b"x" * 60000)
        out, how = read_to_fin(c, 5)
        eq((first_status(out), how), (405, "fin"), "a body on POST, still arriving: answer, then")
        t0 = time.monotonic()
        ok(wait_for(lambda: nfds(s.pid) <= base_fds, 6),
           "a silent client after its error answer is let go (%d descriptors, %d before)"
           % (nfds(s.pid), base_fds))
        took = time.monotonic() - t0
        ok(took < 4, "let go after %.1fs" % took)
        c.close()

        c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        c.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n")
        t0 = time.monotonic()
        sent, cut = 0, False
        c.settimeout(1)
        while time.monotonic() - t0 < 10:
            try:
                sent += c.send(b"y" * 65536)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError):
                cut = True
                break
        took = time.monotonic() - t0
        c.close()
        ok(cut and took < 5, "a client that keeps sending after its 400 is cut off "
           "(after %.1fs and %d bytes)" % (took, sent))
        served_quickly(s.port)
        settle_fds(s.pid, base_fds, 1)


@test(timeout=60)
def hundreds_pipelined_then_close():
    """500 pipelined requests and a FIN: 500 answers in order. The same with
    the client gone at once (RST): nothing leaks. A bad request in the middle
    of 300 ends the answers there."""
    with Server(ROOT) as s:
        base_fds = nfds(s.pid)
        reqs = [b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n",
                b"HEAD /digits.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                b"GET /digits.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n"]
        data = b"".join(reqs[i % 4] for i in range(500))
        out, closed, _ = exchange(s.port, data, timeout=20, shut_wr=True)
        rs = parse_responses(out, heads=set(range(2, 500, 4)))
        eq(len(rs), 500, "responses to 500 pipelined requests")
        want = [(200, HELLO), (200, b"<p>index</p>\n"), (200, b""), (206, DIGITS[10:20])]
        for i, r in enumerate(rs):
            eq((r.status, r.body), want[i % 4], "pipelined response %d" % i)
        ok(closed, "connection closed after the 500th answer and the FIN")

        for i in range(5):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall((GET_BIG + GET_HELLO) * 150)
            reset_close(c)

        bad = b"".join(reqs[i % 2] for i in range(150)) + b"GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n" \
            + b"".join(reqs[i % 2] for i in range(149))
        out, closed, _ = exchange(s.port, bad, timeout=10)
        rs = parse_responses(out)
        eq(len(rs), 151, "answers up to the bad request")
        eq(rs[-1].status, 400, "the bad request's answer")
        ok(closed, "closed after the bad request")
        served_quickly(s.port)
        settle_fds(s.pid, base_fds, 4)


run_all("it_hostile")
