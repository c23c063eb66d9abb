"""The PROXY protocol (versions 1 and 2) on marked listeners: the header's
client address in the access log, on plain and TLS listeners, over --stdio
(a socket, pipes, tcpserver) and on systemd sockets named http-proxy and https-proxy; a
missing, invalid, truncated or trickled header closes the connection
without an answer; an unmarked listener treats a header as a bad request;
requests pipelined behind the header are answered. HAProxy (send-proxy and
send-proxy-v2) as a real sender.

Run from the top of the repository: python3 tests/it_proxy.py ./hermit [TEST...]
"""

import os
import select
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>behind a balancer</p>\n"
ROOT = make_tree({"index.html": INDEX})
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
GET = b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
GET_CLOSE = b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"


def v2(cmd, fam, block):
    return SIG + bytes([cmd, fam]) + struct.pack("!H", len(block)) + block


def v2_inet(src, sport, tlvs=b""):
    return v2(0x21, 0x11, socket.inet_pton(socket.AF_INET, src) +
              socket.inet_pton(socket.AF_INET, "192.0.2.80") + struct.pack("!HH", sport, 80) + tlvs)


def v2_inet6(src, sport, tlvs=b""):
    return v2(0x21, 0x21, socket.inet_pton(socket.AF_INET6, src) +
              socket.inet_pton(socket.AF_INET6, "2001:db8::80") + struct.pack("!HH", sport, 80) + tlvs)


def v2_unix(path):
    return v2(0x21, 0x31, path.ljust(108, b"\0") + b"/run/hermit.sock".ljust(108, b"\0"))


TLVS = b"\x01\x00\x08http/1.1" + b"\xe0\x00\x03abc" + b"\x04\x00\x00"

# (what, header, the address the log must show; None: the real peer)
GOOD = [
    ("v1 TCP4", b"PROXY TCP4 203.0.113.5 192.0.2.80 56324 80\r\n", "203.0.113.5"),
    ("v1 TCP6", b"PROXY TCP6 2001:db8::5 2001:db8::80 56324 80\r\n", "2001:db8::5"),
    ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n", None),
    ("v2 IPv4", v2_inet("198.51.100.7", 40000), "198.51.100.7"),
    ("v2 IPv4 TLVs", v2_inet("198.51.100.8", 40000, TLVS), "198.51.100.8"),
    ("v2 IPv6", v2_inet6("2001:db8::7", 40000), "2001:db8::7"),
    ("v2 IPv6 TLVs", v2_inet6("2001:db8::8", 40000, TLVS), "2001:db8::8"),
    ("v2 UNIX", v2_unix(b"/run/client.sock"), "unix"),
    ("v2 LOCAL", v2(0x20, 0x00, b""), None),
    ("v2 UNSPEC", v2(0x21, 0x00, TLVS), None),
]

BAD = [
    ("no header", b""),
    ("lower case", b"proxy TCP4 203.0.113.5 192.0.2.80 1 80\r\n"),
    ("double space", b"PROXY TCP4  203.0.113.5 192.0.2.80 1 80\r\n"),
    ("leading zero port", b"PROXY TCP4 203.0.113.5 192.0.2.80 01 80\r\n"),
    ("port too big", b"PROXY TCP4 203.0.113.5 192.0.2.80 65536 80\r\n"),
    ("IPv6 in TCP4", b"PROXY TCP4 ::1 192.0.2.80 1 80\r\n"),
    ("bare LF", b"PROXY TCP4 203.0.113.5 192.0.2.80 1 80\n"),
    ("v1 too long", b"PROXY UNKNOWN " + b"x" * 100 + b"\r\n"),
    ("v2 version 1", SIG + b"\x11\x11\x00\x0c" + bytes(12)),
    ("v2 DGRAM", SIG + b"\x21\x12\x00\x0c" + bytes(12)),
    ("v2 short block", SIG + b"\x21\x11\x00\x0b" + bytes(11)),
    ("v2 TLV past the end", v2_inet("198.51.100.7", 1, b"\x01\x00\x09http/1.1")),
    ("v2 too long", v2_inet("198.51.100.7", 1, b"\xe0\x04\x00" + bytes(1024))),
]


def read_or_reset(sock):
    """What the server sent before closing; a reset (it closed with the
    client's bytes unread) counts as nothing sent."""
    try:
        return sock.recv(100)
    except ConnectionResetError:
        return b""


def proxy_server(args=(), **kw):
    return Server(ROOT, ["--proxy-protocol", "--workers", "2"] + list(args), **kw)


def last_peer(s, n=1):
    lines = wait_for(lambda: len(s.access_lines()) >= n and s.access_lines(), 3) or s.access_lines()
    ok(len(lines) >= n, "access lines: %r" % lines)
    return ACCESS_RE.match(lines[-1]).group("addr")


@test
def headers_name_the_peer():
    with proxy_server() as s:
        for n, (what, header, addr) in enumerate(GOOD, 1):
            with Conn(s.port) as c:
                c.send(header + GET)
                r = c.read_response()
                eq((r.status, r.body), (200, INDEX), what)
            eq(last_peer(s, n), addr or "127.0.0.1", "%s: address logged" % what)


@test
def bad_headers_close_without_answer():
    with proxy_server() as s:
        for what, header in BAD:
            got = raw(s.port, header + GET, timeout=3)
            eq(got, b"", "%s: answer" % what)
        # cut short: the client gives up in the middle of the header
        for what, header, _ in GOOD:
            got = raw(s.port, header[:-1], timeout=3, shut_wr=True)
            eq(got, b"", "%s truncated: answer" % what)
        eq(s.access_lines(), [], "access lines for refused connections")
        ok(s.alive(), "server died")


@test
def trickled_header_closed_at_the_deadline():
    with proxy_server(["--header-timeout", "2"]) as s:
        header = b"PROXY TCP4 203.0.113.5 192.0.2.80 56324 80\r\n"
        with Conn(s.port, timeout=8) as c:
            start = time.monotonic()
            closed_at = None
            for i in range(len(header) - 1):
                try:
                    c.send(header[i:i + 1])
                except OSError:
                    closed_at = time.monotonic() - start
                    break
                r, _, _ = select.select([c.sock], [], [], 0.25)
                if r:
                    eq(read_or_reset(c.sock), b"", "bytes before the deadline")
                    closed_at = time.monotonic() - start
                    break
            ok(closed_at is not None and 1.5 < closed_at < 4.0,
               "closed after %s s (deadline 2 s)" % closed_at)


@test
def pipelined_behind_the_header():
    with proxy_server() as s:
        for what, header, addr in (GOOD[0], GOOD[4]):
            got = raw(s.port, header + GET + GET + GET_CLOSE, timeout=5)
            rs = parse_responses(got)
            eq([r.status for r in rs], [200, 200, 200], "%s: pipelined statuses" % what)
            eq(rs[2].body, INDEX, "third body")


@test
def unmarked_listener_refuses_a_header():
    with Server(ROOT, []) as s:
        for what, header, _ in (GOOD[0], GOOD[3]):
            with Conn(s.port) as c:
                c.send(header + GET)
                eq(c.read_response().status, 400, "%s on an unmarked listener" % what)
        with Conn(s.port) as c:
            c.send(GET)
            eq(c.read_response().status, 200, "no header on an unmarked listener")


# ---------------------------------------------------------------- TLS

def make_pki():
    if not have_tool("openssl"):
        skip("the openssl command is not installed")
    d = tempdir()
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                        "-keyout", os.path.join(d, "ec.key"), "-out", os.path.join(d, "ec.crt"),
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       capture_output=True, timeout=60)
    ok(r.returncode == 0, "openssl req: %r" % r.stderr)
    os.chmod(os.path.join(d, "ec.key"), 0o600)
    return d


def tls_request(port, pki, header, body=GET):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(pki, "ec.crt"))
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(header)
    with Conn.wrap(ctx.wrap_socket(sock, server_hostname="localhost")) as c:
        c.send(body)
        return c.read_response()


@test
def tls_listener_reads_the_header_before_the_handshake():
    pki = make_pki()
    port = free_port()
    with Server(ROOT, ["--proxy-protocol", "--listen-tls", "127.0.0.1:%d" % port,
                       "--cert", os.path.join(pki, "ec.crt"), "--key", os.path.join(pki, "ec.key")],
                listen=False, port=port) as s:
        n = 0
        for what, header, addr in GOOD:
            r = tls_request(port, pki, header)
            n += 1
            eq((r.status, r.body), (200, INDEX), "over TLS: %s" % what)
            eq(last_peer(s, n), addr or "127.0.0.1", "over TLS: %s: address logged" % what)
        # the header and the client hello in one segment
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(pki, "ec.crt"))
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = out.read()
        got = raw(port, GOOD[0][1] + hello, timeout=3)
        ok(got[:1] == b"\x16", "no TLS answer to a hello in the header's segment: %r" % got[:20])
        for what, header in BAD[1:4]:
            eq(raw(port, header + hello, timeout=3), b"", "over TLS: %s: answer" % what)
        try:
            tls_request(port, pki, b"")
            ok(False, "a handshake without a header succeeded")
        except (OSError, ssl.SSLError):
            pass


# ---------------------------------------------------------------- --stdio, systemd

@test
def stdio_socket_and_pipes():
    ours, theirs = socket.socketpair()
    s = Server(ROOT, ["--stdio", "--proxy-protocol"], listen=False, wait=False,
               stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    with s:
        ours.sendall(GOOD[3][1] + GET_CLOSE)
        with Conn.wrap(ours) as c:
            eq(c.read_response().status, 200, "--stdio socket")
        eq(s.proc.wait(5), 0, "exit status")
        eq(last_peer(s), "198.51.100.7", "--stdio socket: address logged")

    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    s = Server(ROOT, ["--stdio", "--proxy-protocol"], listen=False, wait=False,
               stdin=in_r, stdout=out_w)
    os.close(in_r)
    os.close(out_w)
    with s:
        os.write(in_w, GOOD[0][1] + GET + GET_CLOSE)
        os.close(in_w)
        data = b""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            r, _, _ = select.select([out_r], [], [], max(0, deadline - time.monotonic()))
            chunk = os.read(out_r, 65536) if r else b""
            if not chunk:
                break
            data += chunk
        os.close(out_r)
        eq([r.status for r in parse_responses(data)], [200, 200], "--stdio pipes")
        eq(s.proc.wait(5), 0, "exit status")
        eq(last_peer(s, 2), "203.0.113.5", "--stdio pipes: address logged")

    ours, theirs = socket.socketpair()
    s = Server(ROOT, ["--stdio", "--proxy-protocol"], listen=False, wait=False,
               stdin=theirs.fileno(), stdout=theirs.fileno())
    theirs.close()
    with s:
        ours.sendall(GET_CLOSE)
        ours.settimeout(5)
        eq(read_or_reset(ours), b"", "--stdio without a header: answer")
        s.proc.wait(5)
    ours.close()


@test
def stdio_under_tcpserver():
    if not have_tool("tcpserver"):
        skip("tcpserver (ucspi-tcp) not installed")
    port = free_port()
    logf = open(os.path.join(tempdir(), "tcpserver.log"), "w+b")
    env = dict(os.environ)
    if is_root():
        uid, gid = nobody_ids()
        env["UID"], env["GID"] = str(uid), str(gid)
    proc = spawn(["/usr/bin/tcpserver", "-HRl0", "127.0.0.1", str(port),
                  BIN, "--stdio", "--proxy-protocol", ROOT], env=env, stderr=logf.fileno())

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    ok(wait_for(up, 5), "tcpserver did not start")
    got = raw(port, GOOD[5][1] + GET_CLOSE, timeout=5)
    eq(parse_responses(got)[0].status, 200, "under tcpserver")
    eq(raw(port, GET_CLOSE, timeout=5), b"", "under tcpserver, no header: answer")

    def lines():
        logf.seek(0)
        return [l for l in logf.read().decode("utf-8", "replace").splitlines()
                if l and not l.startswith("hermit:")]
    got = wait_for(lines, 3) or []
    eq([ACCESS_RE.match(l).group("addr") for l in got], ["2001:db8::7"], "logged under tcpserver")
    proc.kill()
    proc.wait(5)


@test
def systemd_socket_named_http_proxy():
    socks = []
    for name in ("http-proxy", "http"):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        socks.append(ls)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env["LISTEN_FDS"] = "2"
    env["LISTEN_FDNAMES"] = "http-proxy:http"
    marked, plain = (ls.getsockname()[1] for ls in socks)
    try:
        with Server(ROOT, [], listen=False, port=marked, env=env,
                    fds={3: socks[0].fileno(), 4: socks[1].fileno()}, listen_pid=True) as s:
            got = raw(marked, GOOD[0][1] + GET_CLOSE)
            eq(parse_responses(got)[0].status, 200, "header on http-proxy")
            eq(last_peer(s), "203.0.113.5", "address logged")
            eq(raw(marked, GET_CLOSE), b"", "no header on http-proxy: answer")
            eq(parse_responses(raw(plain, GOOD[0][1] + GET_CLOSE))[0].status, 400,
               "header on the socket named http")
            eq(parse_responses(raw(plain, GET_CLOSE))[0].status, 200, "request on http")
    finally:
        for ls in socks:
            ls.close()


@test
def systemd_socket_named_https_proxy():
    pki = make_pki()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env["LISTEN_FDS"] = "1"
    env["LISTEN_FDNAMES"] = "https-proxy"
    try:
        with Server(ROOT, ["--cert", os.path.join(pki, "ec.crt"), "--key",
                           os.path.join(pki, "ec.key")], listen=False, port=port, env=env,
                    fds={3: ls.fileno()}, listen_pid=True) as s:
            r = tls_request(port, pki, GOOD[5][1])
            eq((r.status, r.body), (200, INDEX), "header, then TLS, on https-proxy")
            eq(last_peer(s), "2001:db8::7", "address logged")
    finally:
        ls.close()


# ---------------------------------------------------------------- HAProxy

@test
def haproxy_in_front():
    with proxy_server() as s:
        fronts = {"v2": free_port(), "v1": free_port()}
        conf = ["global", "  maxconn 100", "defaults", "  mode http",
                "  timeout connect 2s", "  timeout client 5s", "  timeout server 5s"]
        for kind, port in fronts.items():
            conf += ["frontend f%s" % kind, "  bind 127.0.0.1:%d" % port,
                     "  bind [::1]:%d" % port, "  default_backend b%s" % kind,
                     "backend b%s" % kind,
                     "  server h 127.0.0.1:%d %s" % (s.port, "send-proxy-v2" if kind == "v2"
                                                     else "send-proxy")]
        hp = haproxy(conf, fronts["v1"])
        try:
            n = 0
            for kind, port in fronts.items():
                for src, host in (("127.0.0.2", "127.0.0.1"), ("::1", "::1")):
                    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
                    c = socket.socket(fam, socket.SOCK_STREAM)
                    c.settimeout(5)
                    c.bind((src, 0))
                    c.connect((host, port))
                    with Conn.wrap(c) as conn:
                        conn.send(GET_CLOSE)
                        r = conn.read_response()
                    n += 1
                    eq((r.status, r.body), (200, INDEX), "through haproxy %s from %s" % (kind, src))
                    eq(last_peer(s, n), src, "through haproxy %s: address logged" % kind)
        finally:
            hp.kill()
            hp.wait(5)


if __name__ == "__main__":
    sys.exit(run_all("it_proxy"))
