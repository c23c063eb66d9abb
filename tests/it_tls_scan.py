"""HTTPS seen from outside: two TLS scanners from Debian (testssl.sh, as the
command testssl, and sslscan) run against the real, confined hermit with an
ECDSA P-256 and an RSA 2048 certificate, and hostile handshakes: slowloris
during the handshake, a flood of ClientHellos that then go silent, and
garbage instead of TLS records, before and after a handshake.

What the scanners may report: no finding rated MEDIUM, HIGH or CRITICAL,
except those listed in TESTSSL_EXCLUDED (each about the test certificate,
not the server). A check the scan must have made (TESTSSL_REQUIRED) that is
missing or could not be made fails too, so that a scan that reached nothing
does not pass.

The certificates are issued by a CA made here, valid for 90 days, and the
scanners are given that CA as their only trust store, so the chain, the
name and the lifetime are checked like a real deployment's.

HERMIT_TESTSSL_FULL=1 runs testssl's whole default set on both certificates
(client simulations and every cipher one by one too: about ten times as
long) instead of the checks that rate the server.

Run from the top of the repository: python3 tests/it_tls_scan.py ./hermit [TEST...]
"""

import json
import os
import random
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>scanned</p>\n"


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), capture_output=True, timeout=60)


def make_pki():
    """PKI/ca.crt, a CA, and PKI/{ec,rsa}.{crt,key}: its certificates for
    localhost and 127.0.0.1, valid 90 days, for serverAuth only.
    PKI/trust/ca.pem: the CA alone, as a trust store directory."""
    d = tempdir()
    p = lambda n: os.path.join(d, n)  # noqa: E731
    r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-days", "365", "-keyout", p("ca.key"), "-out", p("ca.crt"),
                "-subj", "/CN=hermit test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ok(r.returncode == 0, "openssl req (CA): %r" % r.stderr)
    ext = write_file(d, "leaf.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                     "basicConstraints=critical,CA:FALSE\n"
                     "keyUsage=critical,digitalSignature\n"
                     "extendedKeyUsage=serverAuth\n")
    for kind, opts in (("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                       ("rsa", ["-newkey", "rsa:2048"])):
        r = openssl("req", "-new", *opts, "-nodes", "-keyout", p(kind + ".key"),
                    "-out", p(kind + ".csr"), "-subj", "/CN=localhost")
        ok(r.returncode == 0, "openssl req (%s): %r" % (kind, r.stderr))
        r = openssl("x509", "-req", "-in", p(kind + ".csr"), "-CA", p("ca.crt"),
                    "-CAkey", p("ca.key"), "-days", "90", "-extfile", ext,
                    "-out", p(kind + ".crt"))
        ok(r.returncode == 0, "openssl x509 (%s): %r" % (kind, r.stderr))
        os.chmod(p(kind + ".key"), 0o600)
    os.mkdir(p("trust"))
    with open(p("ca.crt"), "rb") as f:
        write_file(d, "trust/ca.pem", f.read())
    return d


if not have_tool("openssl"):
    print("SKIP it_tls_scan: the openssl command is not installed")
    print("it_tls_scan: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = make_pki()
ROOT = make_tree({"index.html": INDEX})


def pki(name):
    return os.path.join(PKI, name)


def tls_server(kind="ec", args=()):
    port = free_port()
    full = ["--listen-tls", "127.0.0.1:%d" % port, "--cert", pki(kind + ".crt"),
            "--key", pki(kind + ".key"), "--workers", "2"] + list(args)
    return Server(ROOT, full, listen=False, port=port)


def client_ctx(version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki("ca.crt"))
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def tls_conn(port, ctx=None, timeout=10.0):
    raw_sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = (ctx or client_ctx()).wrap_socket(raw_sock, server_hostname="localhost")
    return Conn.wrap(s, timeout)


def served_quickly(port, limit):
    """A new TLS connection (a full handshake) and one request: returns its
    latency in seconds."""
    t0 = time.monotonic()
    with tls_conn(port, timeout=limit + 5) as c:
        r = c.request("GET", "/index.html")
    took = time.monotonic() - t0
    eq((r.status, r.body), (200, INDEX), "a normal HTTPS client")
    ok(took < limit, "a normal HTTPS client waited %.2fs (limit %.1fs)" % (took, limit))
    return took


def client_hello(version=None):
    """The bytes of a real ClientHello (one record), as Python's ssl makes it."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx(version).wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    ok(hello[:1] == b"\x16" and len(hello) > 100, "no ClientHello was made")
    return hello


def say(line):
    """A measurement, shown with HERMIT_TEST_VERBOSE=1."""
    if os.environ.get("HERMIT_TEST_VERBOSE") == "1":
        print(line, flush=True)


# ---------------------------------------------------------------- testssl

# Findings testssl rates MEDIUM or worse that are about the test certificate,
# not about the server; each by its exact id, nothing broader.
TESTSSL_EXCLUDED = {
    # The test CA runs no CRL or OCSP responder, so its certificates name
    # neither. Revocation information is the issuing CA's business; hermit
    # serves the chain it is given. (hermit staples no OCSP response: with
    # a real certificate naming an OCSP URI, testssl rates OCSP_stapling
    # "not offered" LOW.)
    "cert_revocation",
}

# Checks every scan must have made, with a rating of its own: if one is
# missing, or WARN (could not be made), or FATAL, the scan proves nothing.
TESTSSL_REQUIRED_KEY = [     # those that depend on the key and certificate
    "cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
    "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_STRONG", "PFS",
    "PFS_ECDHE_curves", "cert_chain_of_trust", "cert_trust", "cert_keySize",
    "cert_expirationStatus", "ROBOT", "FREAK", "DROWN", "LOGJAM",
]
TESTSSL_REQUIRED = TESTSSL_REQUIRED_KEY + [
    "SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipher_order",
    "heartbleed", "CCS", "ticketbleed", "secure_renego", "secure_client_renego",
    "CRIME_TLS", "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "BEAST",
    "LUCKY13", "RC4",
]

# The checks run: everything testssl rates on the ECDSA server (protocols,
# cipher categories, forward secrecy, server preferences, server defaults
# with the certificate, HTTP headers, every vulnerability); on the RSA
# server only what the key type changes (which suites can be chosen, the
# certificate, and the RSA-only attacks). Left out: the list of every
# cipher one by one (-e) and the client simulations (-c): both only
# describe (INFO), and together they take longer than all the rest.
TESTSSL_CHECKS = {
    "ec": ["-p", "-s", "-f", "-P", "-S", "-h", "-U"],
    "rsa": ["-s", "-f", "-S", "--robot", "--freak", "--drown", "--logjam"],
}
TESTSSL_FULL = os.environ.get("HERMIT_TESTSSL_FULL") == "1"
BAD = ("MEDIUM", "HIGH", "CRITICAL")


def testssl_start(port, out_json, checks):
    env = dict(os.environ, CA_BUNDLES_PATH=pki("trust"))
    argv = ["testssl", "--quiet", "--color", "0", "--warnings", "off",
            "--openssl-timeout", "10", "--connect-timeout", "10", "-n", "none",
            "--ip", "127.0.0.1", "--jsonfile", out_json]
    if not TESTSSL_FULL:
        argv += checks
    argv.append("https://localhost:%d/" % port)
    log = open(out_json + ".log", "wb")
    # Its own process group, so that a scan cut short takes its openssl
    # children with it.
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                         stderr=subprocess.STDOUT, cwd=os.path.dirname(out_json), env=env,
                         start_new_session=True)
    log.close()
    return p


def testssl_judge(name, out_json, required):
    """The complaints about one scan's findings (a list of lines)."""
    try:
        with open(out_json) as f:
            findings = json.load(f)
    except (OSError, ValueError) as e:
        with open(out_json + ".log", "rb") as f:
            tail = f.read()[-1500:].decode("latin-1")
        return ["%s: no JSON findings (%s); its output ends:\n%s" % (name, e, tail)]
    bad, notes = [], []
    seen = {}
    for f in findings:
        fid, sev = f.get("id", "?"), f.get("severity", "?")
        seen.setdefault(fid, sev)
        line = "%s: %s %s: %s" % (name, sev, fid, f.get("finding", ""))
        if sev in BAD and fid not in TESTSSL_EXCLUDED:
            bad.append(line)
        elif sev == "FATAL":
            bad.append(line)
        elif sev == "WARN":
            notes.append(line)
    for fid in required:
        if fid not in seen or seen[fid] in ("WARN", "FATAL"):
            bad.append("%s: the check %s was %s" % (
                name, fid, "not made" if fid not in seen else "not possible (%s)" % seen[fid]))
    for fid in TESTSSL_EXCLUDED:     # the exclusions must still be needed
        if fid not in seen:
            notes.append("%s: the excluded id %s was not reported" % (name, fid))
    for n in notes:
        print("NOTE %s" % n, flush=True)
    return bad


@test(timeout=900)
def testssl_no_medium_or_worse():
    """testssl on the ECDSA and the RSA server, side by side (it is slow
    and mostly waits on its own shell): no finding MEDIUM or worse."""
    if not have_tool("testssl"):
        skip("testssl is not installed (apt-get install testssl.sh)")
    work = tempdir()
    with tls_server("ec") as ec, tls_server("rsa") as rsa:
        t0 = time.monotonic()
        runs = []
        for kind, s in (("ec", ec), ("rsa", rsa)):
            out = os.path.join(work, kind + ".json")
            runs.append((kind, out, testssl_start(s.port, out, TESTSSL_CHECKS[kind])))
        try:
            for _, _, p in runs:
                p.wait(840)
        finally:
            for _, _, p in runs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        took = time.monotonic() - t0
        bad = []
        for kind, out, p in runs:
            bad += testssl_judge("testssl " + kind, out,
                                 TESTSSL_REQUIRED if kind == "ec" or TESTSSL_FULL
                                 else TESTSSL_REQUIRED_KEY)
        ok(ec.alive() and rsa.alive(), "a server died under the scan")
        say("testssl: both scans took %.0fs" % took)
        ok(not bad, "\n".join(bad))


# ---------------------------------------------------------------- sslscan

GROUPS_ALLOWED = {"x25519", "secp256r1 (NIST P-256)", "secp384r1 (NIST P-384)"}
AEAD_12 = ("-GCM-", "-CHACHA20-POLY1305")


def sslscan(port):
    if not have_tool("sslscan"):
        skip("sslscan is not installed (apt-get install sslscan)")
    p = subprocess.run(["sslscan", "--xml=-", "--no-colour", "--sni-name=localhost",
                        "--timeout=5", "127.0.0.1:%d" % port],
                       capture_output=True, timeout=120)
    eq(p.returncode, 0, "sslscan exit status (%r)" % p.stderr[-300:])
    text = p.stdout.decode("latin-1")
    doc = ET.fromstring(text[text.index("<?xml"):].encode())
    test_el = doc.find("ssltest")
    ok(test_el is not None, "sslscan: no <ssltest>: %s" % text[-1000:])
    return test_el


def sslscan_complaints(t, min13=False):
    bad = []
    protos = {(p.get("type"), p.get("version")): p.get("enabled") for p in t.iter("protocol")}
    want = {("ssl", "2"): "0", ("ssl", "3"): "0", ("tls", "1.0"): "0", ("tls", "1.1"): "0",
            ("tls", "1.2"): "0" if min13 else "1", ("tls", "1.3"): "1"}
    for k, v in want.items():
        if protos.get(k) != v:
            bad.append("protocol %s %s: enabled=%r, want %s" % (k + (protos.get(k), v)))
    ciphers = [(c.get("sslversion"), c.get("cipher")) for c in t.iter("cipher")]
    if not any(v == "TLSv1.3" for v, _ in ciphers):
        bad.append("no TLS 1.3 suite accepted")
    for v, name in ciphers:
        if v not in ("TLSv1.2", "TLSv1.3"):
            bad.append("a %s suite accepted: %s" % (v, name))
        if v == "TLSv1.2" and (min13 or not name.startswith("ECDHE-")
                               or not any(a in name for a in AEAD_12)):
            bad.append("TLS 1.2 suite %s (not ECDHE with AES-GCM or ChaCha20-Poly1305, or 1.2 at all"
                       " with --tls-min 1.3)"
                       % name)
    if not min13 and not any(v == "TLSv1.2" for v, _ in ciphers):
        bad.append("no TLS 1.2 suite accepted")
    groups = [(g.get("sslversion"), g.get("name")) for g in t.iter("group")]
    if not groups:
        bad.append("no key exchange group found")
    for v, name in groups:
        if name not in GROUPS_ALLOWED or (min13 and v != "TLSv1.3"):
            bad.append("group %s for %s" % (name, v))
    for r in t.iter("renegotiation"):
        if r.get("supported") != "0":
            bad.append("renegotiation supported (secure=%s)" % r.get("secure"))
    for h in t.iter("heartbleed"):
        if h.get("vulnerable") != "0":
            bad.append("heartbleed with %s" % h.get("sslversion"))
    if not list(t.iter("heartbleed")):
        bad.append("the heartbleed check was not made")
    # Debian's sslscan is built without zlib and cannot offer compression
    # (then it writes no <compression>); testssl's CRIME_TLS check, made
    # by its own sockets, is required in testssl_no_medium_or_worse.
    for c in t.iter("compression"):
        if c.get("supported") != "0":
            bad.append("TLS compression supported")
    return bad


@test(timeout=120)
def sslscan_ecdsa_and_rsa():
    for kind in ("ec", "rsa"):
        with tls_server(kind) as s:
            bad = sslscan_complaints(sslscan(s.port))
            ok(not bad, "sslscan, %s: %s" % (kind, "; ".join(bad)))


@test(timeout=120)
def sslscan_tls_min_13():
    with tls_server("ec", ["--tls-min", "1.3"]) as s:
        bad = sslscan_complaints(sslscan(s.port), min13=True)
        ok(not bad, "sslscan, --tls-min 1.3: %s" % "; ".join(bad))


# ---------------------------------------------------------------- hostile handshakes

class Stalled:
    """Connections that do something, then wait for the server to close
    them; records when each was opened and closed."""

    def __init__(self):
        self.socks, self.opened, self.closed, self.got = [], {}, {}, {}

    def open(self, port, first=b""):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.opened[c] = time.monotonic()
        if first:
            c.sendall(first)
        c.setblocking(False)
        self.socks.append(c)
        self.got[c] = b""
        return c

    def live(self):
        return [c for c in self.socks if c not in self.closed]

    def poll(self, wait):
        live = self.live()
        if not live:
            time.sleep(wait)
            return
        r, _, _ = select.select(live, [], [], wait)
        now = time.monotonic()
        for c in r:
            try:
                d = c.recv(65536)
            except (ConnectionResetError, BlockingIOError):
                d = b""
            if d:
                self.got[c] += d
            else:
                self.closed[c] = now

    def lifetimes(self):
        return sorted(self.closed[c] - self.opened[c] for c in self.socks if c in self.closed)

    def close(self):
        for c in self.socks:
            c.close()


def watch(s, conns, until, trickle=None, normal_limit=2.0):
    """Until every connection is closed or the time `until`: reads, sends
    the tricklers their next byte, serves a normal HTTPS client every 0.25s
    and samples the server's RSS. Returns (peak RSS, latencies)."""
    peak, latencies = rss_kib(s.pid), []
    next_normal = next_trickle = time.monotonic()
    sent = 0
    while conns.live() and time.monotonic() < until:
        conns.poll(0.02)
        now = time.monotonic()
        if trickle and now >= next_trickle:
            socks, data = trickle
            for c in socks:
                if c not in conns.closed and sent < len(data):
                    try:
                        c.send(data[sent:sent + 1])
                    except OSError:
                        pass
            sent += 1
            next_trickle = now + 0.2
        if now >= next_normal:
            latencies.append(served_quickly(s.port, normal_limit))
            peak = max(peak, rss_kib(s.pid))
            next_normal = time.monotonic() + 0.25
    return peak, latencies


# A connection that sends nothing reaches hermit only after the deferred
# accept of its listening socket (TCP_DEFER_ACCEPT, 1 s); its header
# deadline starts then.
DEFER_S = 1.0


def closed_at_deadline(conns, ht, slack, what, silent=()):
    """Every connection closed within [ht, ht + slack] of its opening (the
    silent ones DEFER_S later)."""
    n = len(conns.socks)
    left = len(conns.live())
    ok(left == 0, "%s: %d of %d connections still open %.1fs after the header deadline"
       % (what, left, n, slack))
    for c in conns.socks:
        life = conns.closed[c] - conns.opened[c]
        due = ht + (DEFER_S if c in silent else 0)
        # A worker reads the clock once per wakeup, so a connection accepted
        # late in a long wakeup (many handshakes on a busy host) gets a
        # deadline up to that wakeup's length early.
        ok(life >= due - 0.5, "%s: one was closed after %.2fs, before its %.0fs deadline"
           % (what, life, due))
        ok(life <= due + slack, "%s: one was closed only after %.2fs (deadline %.0fs)"
           % (what, life, due))


def memory_bounded(conns, grew, latencies, what):
    n = len(conns.socks)
    say("%s: RSS +%d KiB for %d connections, closed after %.2f..%.2fs; normal "
        "clients at most %.3fs" % (what, grew, n, conns.lifetimes()[0],
                                   conns.lifetimes()[-1], max(latencies)))
    limit = RSS_SLACK_KIB + n * RSS_PER_HANDSHAKE_KIB
    ok(grew <= limit, "%s: RSS grew by %d KiB with %d handshakes held (limit %d KiB)"
       % (what, grew, n, limit))


HT = 2.0            # --header-timeout of these tests
# RSS the server may grow by, per stalled connection. Measured (2 workers,
# x86-64, OpenSSL 3.0): 42 to 46 KiB per connection that has sent nothing,
# part of a ClientHello or all of it (a plain HTTP connection with part of
# a head: 8 KiB). Once hermit reads from a TLS connection, OpenSSL holds
# its read and write record buffers (about 17 KiB each) and the handshake
# state until the handshake ends or the connection closes.
# Under AddressSanitizer (redzones, a quarantine of freed memory) about
# four times as much was measured.
with open(BIN, "rb") as _f:
    _SCALE = 5 if b"__asan_init" in _f.read() else 1
RSS_PER_HANDSHAKE_KIB = 64 * _SCALE
RSS_SLACK_KIB = 1024 * _SCALE   # the normal clients' handshakes meanwhile


@test(timeout=60)
def handshake_slowloris_closed_at_header_deadline():
    """50 connections send the first bytes of a ClientHello and stall, 10
    send nothing, 10 trickle a whole ClientHello one byte every 0.2s: each
    is closed at --header-timeout (it covers the handshake), no later; a
    normal HTTPS client is served quickly all along; memory stays bounded."""
    raise_nofile(1024)
    hello = client_hello()
    with tls_server(args=["--header-timeout", "%d" % HT, "--idle-timeout", "60"]) as s:
        served_quickly(s.port, 5.0)     # the first handshake's one-time costs
        base = rss_kib(s.pid)
        conns = Stalled()
        for i in range(50):
            conns.open(s.port, hello[:5 + 4 + i % 20])    # record and handshake headers, a bit more
        silent = [conns.open(s.port) for _ in range(10)]
        tricklers = [conns.open(s.port, hello[:1]) for _ in range(10)]
        try:
            peak, lat = watch(s, conns, time.monotonic() + HT + 3,
                              trickle=(tricklers, hello[1:]))
            closed_at_deadline(conns, HT, 1.0, "handshake slowloris", silent)
            ok(len(lat) >= 4, "only %d normal clients during the attack" % len(lat))
            for c in conns.socks:
                ok(b"HTTP/1." not in conns.got[c], "a stalled client got an HTTP answer")
            memory_bounded(conns, peak - base, lat, "handshake slowloris")
        finally:
            conns.close()
        served_quickly(s.port, 2.0)


@test(timeout=90)
def handshake_flood_closed_at_header_deadline():
    """300 connections each send a whole ClientHello (half TLS 1.3, half
    TLS 1.2), get the server's first flight and go silent: memory stays
    bounded, a normal client is served meanwhile, all are closed at
    --header-timeout, and the server (and its key process) serve on."""
    raise_nofile(2048)
    n = 300
    hellos = [client_hello(v) for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2)]
    ht = HT + 1     # opening 300 connections takes a moment on a busy machine
    with tls_server(args=["--header-timeout", "%d" % ht, "--idle-timeout", "60"]) as s:
        served_quickly(s.port, 5.0)
        base = rss_kib(s.pid)
        kp = children(s.pid)
        conns = Stalled()
        try:
            for i in range(n):
                conns.open(s.port, hellos[i % 2])
                if i % 50 == 49:
                    conns.poll(0)
            peak, lat = watch(s, conns, time.monotonic() + ht + 3)
            closed_at_deadline(conns, ht, 2.0, "handshake flood")
            answered = sum(1 for c in conns.socks if conns.got[c][:1] == b"\x16")
            ok(answered >= n * 0.9, "only %d of %d ClientHellos got a ServerHello: the "
               "flood did not reach the handshake" % (answered, n))
            memory_bounded(conns, peak - base, lat, "handshake flood")
        finally:
            conns.close()
        eq(children(s.pid), kp, "the key process")
        served_quickly(s.port, 2.0)


def closed_soon(sock, limit):
    """Reads until the peer closes (True) or `limit` seconds pass (False)."""
    deadline = time.monotonic() + limit
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


@test(timeout=60)
def garbage_before_and_after_handshake_closed():
    """Random bytes where a ClientHello belongs, a handshake record with a
    random body, an oversized record: closed at once (well before the
    header deadline). After complete TLS 1.3 and 1.2 handshakes and one
    request, a forged application-data record (its MAC cannot match) and
    plain random bytes: closed at once too, nothing more served on them.
    The server serves on."""
    # Fixed bytes: a random start could, rarely, be a record header
    # announcing more bytes than follow, which is rightly waited for.
    junk = random.Random(1).randbytes(4096)
    before = {
        "random bytes": junk,
        "a handshake record of random bytes": b"\x16\x03\x01\x02\x00" + junk[:512],
        "an oversized record": b"\x16\x03\x01\xff\xff" + junk,
        "a ClientHello with its body scrambled": None,
    }
    hello = client_hello()
    before["a ClientHello with its body scrambled"] = hello[:9] + junk[:len(hello) - 9]
    with tls_server(args=["--header-timeout", "20"]) as s:
        for what, data in before.items():
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            try:
                try:
                    c.sendall(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                t0 = time.monotonic()
                ok(closed_soon(c, 3), "%s: the connection stayed open" % what)
                say("garbage: %s: closed after %.2fs" % (what, time.monotonic() - t0))
            finally:
                c.close()
        after = {
            "a forged application-data record": b"\x17\x03\x03\x00\x40" + junk[:64],
            "random bytes": junk[:1000],
        }
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            for what, data in after.items():
                with tls_conn(s.port, client_ctx(version)) as c:
                    eq(c.request("GET", "/index.html").body, INDEX, "served before")
                    # The same connection under the TLS layer: raw bytes.
                    under = socket.socket(fileno=os.dup(c.sock.fileno()))
                    try:
                        under.sendall(data)
                        t0 = time.monotonic()
                        ok(closed_soon(under, 3), "%s, %s, after a handshake: the "
                           "connection stayed open" % (version.name, what))
                        say("garbage: %s, %s after a handshake: closed after %.2fs"
                            % (version.name, what, time.monotonic() - t0))
                    finally:
                        under.close()
        ok(s.alive(), "the server died")
        with tls_conn(s.port) as c:
            eq(c.request("GET", "/index.html").body, INDEX, "still serving")


run_all("it_tls_scan")
