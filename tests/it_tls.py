"""HTTPS: hermit serving over TLS on --listen-tls (and on a systemd socket
named https), with certificates made here by the openssl command (ECDSA
P-256 and RSA 2048). Clients: Python's ssl module, curl and openssl
s_client. What is checked: TLS 1.3 and 1.2 with keep-alive, a large file
byte for byte, HEAD, 404 and Range; ALPN; session resumption; --tls-min;
old versions and plain HTTP refused; clear startup errors; the private key
absent from the serving process's memory and held by a separate, sealed key
process; the access log.

Run from the top of the repository: python3 tests/it_tls.py ./hermit [TEST...]
"""

import os
import re
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>over TLS</p>\n"
BIG = os.urandom(6 * 1024 * 1024 + 12345)
RANGED = bytes(range(256)) * 16


def openssl(*args, input=None):
    if not have_tool("openssl"):
        skip("the openssl command is not installed")
    return subprocess.run(["openssl"] + list(args), input=input, capture_output=True,
                          timeout=60)


def make_pki():
    """KEYS/ec.{crt,key} and KEYS/rsa.{crt,key}: self-signed for localhost
    and 127.0.0.1. The key files are readable by their owner only."""
    d = tempdir()
    for kind in ("ec", "rsa"):
        self_signed(d, kind)
    return d


if not have_tool("openssl"):
    print("SKIP it_tls: the openssl command is not installed")
    print("it_tls: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = make_pki()
ROOT = make_tree({"index.html": INDEX, "big.bin": BIG, "ranged.bin": RANGED})


def pki(name):
    return os.path.join(PKI, name)


def tls_server(kind="ec", args=(), root=ROOT, keep=False, plain=False):
    """hermit on --listen-tls 127.0.0.1:PORT (and --listen on s.plain_port
    when plain)."""
    port = free_port()
    full = ["--listen-tls", "127.0.0.1:%d" % port, "--cert", pki(kind + ".crt"),
            "--key", pki(kind + ".key"), "--workers", "2"] + list(args)
    plain_port = None
    if plain:
        plain_port = free_port()
        full += ["--listen", "127.0.0.1:%d" % plain_port]
    s = Server(root, full, listen=False, port=port, keep=keep)
    s.plain_port = plain_port
    return s


def client_ctx(kind="ec", version=None, max_version=None, alpn=("http/1.1",)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki(kind + ".crt"))
    if version is not None:
        ctx.minimum_version = version
        ctx.maximum_version = version
    if max_version is not None:
        ctx.maximum_version = max_version
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def tls_conn(port, ctx, session=None, timeout=10.0):
    """A harness Conn over a TLS connection to 127.0.0.1:port."""
    raw_sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw_sock, server_hostname="localhost", session=session)
    return Conn.wrap(s, timeout)


SHARED = None


def shared():
    global SHARED
    if SHARED is None:
        SHARED = tls_server(keep=True, plain=True)
    return SHARED


def get_several(port, version):
    """Keep-alive: several requests on one TLS connection, every answer right."""
    with tls_conn(port, client_ctx(version=version)) as c:
        eq(c.sock.version(), {ssl.TLSVersion.TLSv1_3: "TLSv1.3",
                              ssl.TLSVersion.TLSv1_2: "TLSv1.2"}[version], "version")
        for i in range(5):
            r = c.request("GET", "/index.html")
            eq(r.status, 200, "status of request %d" % i)
            eq(r.body, INDEX, "body of request %d" % i)
            ok(r.header("Connection", "").lower() != "close", "keep-alive kept")
        body = read_big(c.sock)
        eq(len(body), len(BIG), "big: length")
        ok(body == BIG, "big: the bytes differ")
        r = c.request("GET", "/index.html")
        eq(r.body, INDEX, "a request after the large file")


@test
def tls13_keepalive_and_large_file():
    get_several(shared().port, ssl.TLSVersion.TLSv1_3)


@test
def tls12_keepalive_and_large_file():
    get_several(shared().port, ssl.TLSVersion.TLSv1_2)


@test
def head_404_range():
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        with tls_conn(shared().port, client_ctx(version=version)) as c:
            r = c.request("HEAD", "/big.bin")
            eq(r.status, 200, "HEAD status")
            eq(r.header("Content-Length"), str(len(BIG)), "HEAD Content-Length")
            eq(r.body, b"", "HEAD body")
            r = c.request("GET", "/missing.html")
            eq(r.status, 404, "404 status")
            r = c.request("GET", "/ranged.bin", headers={"Range": "bytes=100-1099"})
            eq(r.status, 206, "Range status")
            eq(r.body, RANGED[100:1100], "Range body")
            r = c.request("GET", "/big.bin", headers={"Range": "bytes=1000000-"}, timeout=30)
            eq(r.status, 206, "large Range status")
            ok(r.body == BIG[1000000:], "large Range body differs")


@test
def pipelined_requests():
    """Several requests in one TLS write: every answer, in order."""
    with tls_conn(shared().port, client_ctx()) as c:
        c.send(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n" * 3 +
               b"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n")
        got = [c.read_response() for _ in range(4)]
        eq([r.status for r in got], [200, 200, 200, 404], "statuses")
        eq(got[2].body, INDEX, "third body")


@test(timeout=90)
def slow_reader_large_file():
    """A client with a small receive buffer that reads slowly: the server's
    writes stop and resume many times (each retried with the same bytes),
    and the file still arrives intact; then the connection serves again."""
    raw_sock = socket.socket()
    raw_sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw_sock.settimeout(20)
    raw_sock.connect(("127.0.0.1", shared().port))
    s = client_ctx().wrap_socket(raw_sock, server_hostname="localhost")
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, body = buf.split(b"\r\n\r\n", 1)
    ok(head.startswith(b"HTTP/1.1 200"), "status: %r" % head[:40])
    chunks = [body]
    got = len(body)
    while got < len(BIG):
        d = s.recv(65536 if got > 1 << 20 else 1024)
        ok(d, "closed after %d bytes" % got)
        chunks.append(d)
        got += len(d)
        if got < 1 << 20 and len(chunks) % 16 == 0:
            time.sleep(0.01)
    ok(b"".join(chunks) == BIG, "the slowly read file differs")
    c = Conn.wrap(s, 10)
    eq(c.request("GET", "/index.html").body, INDEX, "the next request")
    c.close()


@test
def refused_body_lingers_then_closes():
    """A request with a body it does not read: the error response arrives
    whole, then a close_notify and the end of the connection."""
    with tls_conn(shared().port, client_ctx()) as c:
        c.send(b"POST /index.html HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n" +
               b"x" * 5000)
        r = c.read_response()
        ok(r.status >= 400, "status %d" % r.status)
        ok(c.closed(timeout=5), "the connection stayed open")


@test
def alpn():
    port = shared().port
    with tls_conn(port, client_ctx(alpn=("h2", "http/1.1"))) as c:
        eq(c.sock.selected_alpn_protocol(), "h2", "ALPN with h2 offered first")
    with tls_conn(port, client_ctx(alpn=("http/1.1",))) as c:
        eq(c.sock.selected_alpn_protocol(), "http/1.1", "ALPN with http/1.1 alone")
        eq(c.request("GET", "/index.html").status, 200, "status")
    with tls_conn(port, client_ctx(alpn=None)) as c:
        eq(c.sock.selected_alpn_protocol(), None, "no ALPN offered: none chosen")
        eq(c.request("GET", "/index.html").body, INDEX, "served without ALPN")
    try:
        with tls_conn(port, client_ctx(alpn=("spdy/3.1",))) as c:
            c.request("GET", "/index.html")
        raise AssertionError("a client offering only spdy/3.1 was served")
    except ssl.SSLError as e:
        ok("no application protocol" in str(e).lower(), "alert: %s" % e)


@test
def curl_https():
    r = curl("--cacert", pki("ec.crt"), "--resolve", "localhost:%d:127.0.0.1" % shared().port,
             "-w", "%{http_version}", "https://localhost:%d/index.html" % shared().port)
    eq(r.returncode, 0, "curl exit status (%r)" % r.stderr)
    eq(r.stdout, INDEX + b"2", "curl body and HTTP version (h2 by ALPN)")


@test
def resumption():
    """A ticket from one connection resumes the next (TLS 1.3 and 1.2)."""
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        ctx = client_ctx(version=version)
        with tls_conn(shared().port, ctx) as c:
            eq(c.request("GET", "/index.html").status, 200, "first")
            session = c.sock.session
            ok(session is not None and session.has_ticket, "%s: a ticket" % version)
        with tls_conn(shared().port, ctx, session=session) as c:
            ok(c.sock.session_reused, "%s: the session was not resumed" % version)
            eq(c.request("GET", "/index.html").body, INDEX, "resumed body")


@test
def plain_listener_alongside():
    """--listen next to --listen-tls: each speaks its own protocol."""
    r = http(shared().plain_port, "GET", "/index.html")
    eq((r.status, r.body), (200, INDEX), "plain listener")


@test
def plain_http_to_tls_port():
    """Plain HTTP on the TLS port is closed, not served."""
    t0 = time.monotonic()
    got = raw(shared().port, b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", timeout=5)
    ok(b"HTTP/1." not in got and INDEX not in got, "plain HTTP was answered: %r" % got[:200])
    ok(time.monotonic() - t0 < 4, "the connection was not closed at once")
    with tls_conn(shared().port, client_ctx()) as c:
        eq(c.request("GET", "/index.html").status, 200, "still serving TLS")


@test
def tls11_refused():
    r = openssl("s_client", "-connect", "127.0.0.1:%d" % shared().port, "-tls1_1",
                "-cipher", "DEFAULT:@SECLEVEL=0", input=b"")
    out = (r.stdout + r.stderr).decode("latin-1")
    ok("no protocols available" not in out, "the client could not offer TLS 1.1: %s" % out)
    ok(r.returncode != 0 and "Cipher is (NONE)" in out and "protocol version" in out,
       "a TLS 1.1 handshake was not refused for its version: %s" % out[-1000:])


@test
def tls_min_13():
    with tls_server(args=["--tls-min", "1.3"]) as s:
        with tls_conn(s.port, client_ctx(version=ssl.TLSVersion.TLSv1_3)) as c:
            eq(c.request("GET", "/index.html").status, 200, "TLS 1.3 served")
        try:
            with tls_conn(s.port, client_ctx(max_version=ssl.TLSVersion.TLSv1_2)) as c:
                c.request("GET", "/index.html")
            raise AssertionError("a TLS 1.2-only client was served with --tls-min 1.3")
        except ssl.SSLError:
            pass
    with tls_conn(shared().port, client_ctx(max_version=ssl.TLSVersion.TLSv1_2)) as c:
        eq(c.sock.version(), "TLSv1.2", "the default accepts TLS 1.2")


@test
def openssl_config_not_read():
    """The operator's OpenSSL configuration does not change what hermit
    offers: one that allows only RSA signatures (which an ECDSA
    certificate cannot make) leaves the ECDSA server working."""
    conf = write_file(tempdir(), "openssl.cnf",
                      "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\n"
                      "system_default = sys\n[sys]\n"
                      "SignatureAlgorithms = RSA-PSS+SHA256:RSA+SHA256\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env["OPENSSL_CONF"] = conf
    port = free_port()
    with Server(ROOT, ["--listen-tls", "127.0.0.1:%d" % port, "--cert", pki("ec.crt"),
                       "--key", pki("ec.key")], listen=False, port=port, env=env) as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with tls_conn(s.port, client_ctx(version=version)) as c:
                eq(c.request("GET", "/index.html").body, INDEX, "served")


@test
def rsa_key():
    with tls_server("rsa") as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with tls_conn(s.port, client_ctx("rsa", version=version)) as c:
                ok(read_big(c.sock) == BIG, "big file over RSA differs")
        eq(s.stop(), 0, "exit status after SIGTERM")


def start_fails(args, want_status, want_text):
    p = subprocess.run([BIN] + args + [ROOT], capture_output=True, timeout=20)
    err = p.stderr.decode("latin-1")
    eq(p.returncode, want_status, "exit status (stderr %r)" % err)
    ok(want_text in err, "stderr does not say %r: %r" % (want_text, err))
    ok("serving" not in err, "it served: %r" % err)


@test
def startup_errors():
    port = "127.0.0.1:%d" % free_port()
    junk = write_file(tempdir(), "junk.key", b"-----BEGIN PRIVATE KEY-----\nnope\n"
                      b"-----END PRIVATE KEY-----\n")
    user = ["--user", "nobody"] if is_root() else []
    start_fails(["--listen-tls", port], 2, "--listen-tls")
    start_fails(["--listen-tls", port, "--cert", pki("ec.crt")], 2, "--key")
    start_fails(["--cert", pki("ec.crt"), "--listen", port], 2, "--cert")
    start_fails(["--tls-min", "1.1", "--listen", port], 2, "--tls-min")
    start_fails(user + ["--listen-tls", port, "--cert", pki("ec.crt"), "--key", junk], 1,
                "--key")
    start_fails(user + ["--listen-tls", port, "--cert", pki("missing.crt"), "--key",
                        pki("ec.key")], 1, "--cert")
    start_fails(user + ["--listen-tls", port, "--cert", pki("ec.crt"), "--key",
                        pki("rsa.key")], 1, "--key")
    start_fails(user + ["--listen-tls", port, "--cert", pki("ec.key"), "--key",
                        pki("ec.key")], 1, "--cert")


@test
def systemd_socket_named_https():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env["LISTEN_FDS"] = "1"
    env["LISTEN_FDNAMES"] = "https"
    try:
        with Server(ROOT, ["--cert", pki("ec.crt"), "--key", pki("ec.key")], listen=False,
                    port=port, env=env, fds={3: ls.fileno()}, listen_pid=True) as s:
            with tls_conn(port, client_ctx()) as c:
                eq(c.request("GET", "/index.html").body, INDEX, "served over TLS")
        s = Server(ROOT, [], listen=False, port=port, env=env, fds={3: ls.fileno()},
                   listen_pid=True, wait=False)
        s.proc.wait(10)
        ok(s.proc.returncode == 1 and "https needs --cert" in s.log(),
           "https socket without --cert: %r %r" % (s.proc.returncode, s.log()))
    finally:
        ls.close()


def read_big(tls):
    """GET /big.bin on a TLS socket; its body, read without the quadratic
    buffering of a Conn (one 16 KiB record per read)."""
    tls.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = tls.recv(65536)
        ok(d, "closed before the head")
        buf += d
    head, first = buf.split(b"\r\n\r\n", 1)
    ok(head.startswith(b"HTTP/1.1 200"), "status: %r" % head[:40])
    parts, n = [first], len(first)
    while n < len(BIG):
        d = tls.recv(1 << 20)
        ok(d, "closed after %d bytes" % n)
        parts.append(d)
        n += len(d)
    return b"".join(parts)


def stdio_tls_server(fd_in, fd_out, args=()):
    return Server(ROOT, ["--stdio", "--tls", "--cert", pki("ec.crt"), "--key", pki("ec.key")]
                  + list(args), listen=False, wait=False, stdin=fd_in, stdout=fd_out)


@test
def stdio_tls_socket():
    """--stdio --tls on a connected socket: keep-alive, a large file, then
    the server exits 0 when the client closes."""
    a, b = socket.socketpair()
    s = stdio_tls_server(b.fileno(), b.fileno())
    b.close()
    tls = client_ctx().wrap_socket(a, server_hostname="localhost")
    c = Conn.wrap(tls, 10)
    eq(c.request("GET", "/index.html").body, INDEX, "first")
    eq(read_big(tls), BIG, "big file over --stdio --tls")
    eq(c.request("GET", "/missing").status, 404, "404")
    c.close()
    eq(s.proc.wait(10), 0, "exit status after the client closed")
    eq(len(s.access_lines()), 3, "access log lines: %r" % s.log())


@test
def stdio_tls_pipes():
    """--stdio --tls on two pipes (a UCSPI-style chain): the TLS records
    go in on stdin and out on stdout."""
    to_srv_r, to_srv_w = os.pipe()
    from_srv_r, from_srv_w = os.pipe()
    s = stdio_tls_server(to_srv_r, from_srv_w)
    os.close(to_srv_r)
    os.close(from_srv_w)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")

    def pump():
        data = out.read()
        if data:
            os.write(to_srv_w, data)

    def feed():
        d = os.read(from_srv_r, 65536)
        if not d:
            inc.write_eof()
        inc.write(d) if d else None
        return bool(d)

    deadline = time.monotonic() + 10
    while True:
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            pump()
            ok(time.monotonic() < deadline and feed(), "handshake over pipes")
    obj.write(b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    pump()
    got = b""
    while True:
        try:
            d = obj.read(65536)
            if not d:
                break
            got += d
        except ssl.SSLWantReadError:
            if not feed():
                break
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            break
    os.close(to_srv_w)
    os.close(from_srv_r)
    resp = parse_responses(got)
    eq([(r.status, r.body) for r in resp], [(200, INDEX)], "response over pipes")
    eq(s.proc.wait(10), 0, "exit status")


@test
def stdio_tls_option_errors():
    start_fails(["--tls", "--cert", pki("ec.crt"), "--key", pki("ec.key")], 2, "--tls")
    start_fails(["--stdio", "--tls"], 2, "--tls")


def status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)


def private_needles(kind):
    """Distinctive private bytes of the key: a 32-byte chunk of the private
    scalar (EC) or of the last CRT value (RSA), as stored in the file and
    reversed (a BIGNUM's little-endian limbs), and a line of the PEM."""
    r = openssl("pkey", "-in", pki(kind + ".key"), "-outform", "DER")
    ok(r.returncode == 0, "openssl pkey: %r" % r.stderr)
    der = r.stdout
    if kind == "ec":
        i = der.find(b"\x02\x01\x01\x04\x20")
        ok(i >= 0, "no EC private key in the DER")
        chunk = der[i + 5:i + 37]
    else:
        chunk = der[-40:-8]
    with open(pki(kind + ".key"), "rb") as f:
        pem_line = f.read().splitlines()[2]
    return [chunk, chunk[::-1], pem_line]


@test(timeout=120)
def private_key_only_in_key_process():
    if not is_root():
        skip("needs root to read the processes' memory")
    for kind in ("ec", "rsa"):
        with tls_server(kind) as s:
            for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
                with tls_conn(s.port, client_ctx(kind, version=version)) as c:
                    eq(c.request("GET", "/index.html").status, 200, "served")
            kids = children(s.pid)
            eq(len(kids), 1, "one key process")
            kp = kids[0]
            st = status(kp)
            eq(st["Seccomp"].strip(), "2", "the key process is sealed (Seccomp)")
            eq(status(s.pid)["Seccomp"].strip(), "2", "the server is sealed")
            needles = private_needles(kind)
            # The control: the search finds the key where it is.
            found, _ = memory_holds(kp, needles)
            ok(found & {0, 1},
               "%s: the key is not found even in the key process: the search is broken" % kind)
            found, searched = memory_holds(s.pid, needles)
            ok(searched > 1 << 20, "read too little of the server's memory")
            eq(found, set(), "%s: private key bytes (needles found) in the server process" % kind)


@test
def access_log():
    with tls_server() as s:
        with tls_conn(s.port, client_ctx()) as c:
            for p in ("/index.html", "/missing", "/ranged.bin"):
                c.request("GET", p)
        lines = wait_for(lambda: len(s.access_lines()) >= 3 and s.access_lines(), 5)
        ok(lines, "access log: %r" % s.log())
        got = [(ACCESS_RE.match(l).group("request"), ACCESS_RE.match(l).group("status"))
               for l in lines]
        eq(got, [("GET /index.html HTTP/1.1", "200"), ("GET /missing HTTP/1.1", "404"),
                 ("GET /ranged.bin HTTP/1.1", "200")], "access log lines")


def long_chain():
    """A chain whose first flight cannot fit a fresh connection's send
    buffer (16 KiB): a leaf under eight intermediates, each carrying a
    7000-byte comment, about 60 KiB in all. Returns (fullchain, key)."""
    d = tempdir()
    comment = "nsComment=" + "x" * 7000

    def path(name):
        return os.path.join(d, name)

    def new(name, subject, issuer, ca):
        ext = path(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:%s\n%s\n" % ("TRUE" if ca else "FALSE", comment))
            if not ca:
                f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        r = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
                    "-subj", "/CN=" + subject)
        ok(r.returncode == 0, "openssl req: %r" % r.stderr)
        signer = ["-signkey", path(name + ".key")] if issuer is None else \
            ["-CA", path(issuer + ".crt"), "-CAkey", path(issuer + ".key"), "-CAcreateserial"]
        r = openssl("x509", "-req", "-in", path(name + ".csr"), *signer, "-days", "2",
                    "-extfile", ext, "-out", path(name + ".crt"))
        ok(r.returncode == 0, "openssl x509: %r" % r.stderr)

    new("root", "long chain root", None, True)
    issuer = "root"
    for i in range(8):
        new("i%d" % i, "intermediate %d" % i, issuer, True)
        issuer = "i%d" % i
    new("leaf", "localhost", issuer, False)
    with open(path("fullchain.pem"), "wb") as out:
        for name in ["leaf"] + ["i%d" % i for i in reversed(range(8))]:
            with open(path(name + ".crt"), "rb") as f:
                out.write(f.read())
    os.chmod(path("leaf.key"), 0o600)
    return path("fullchain.pem"), path("leaf.key")


def server_send_queue(port):
    """Bytes the server's side of its one connection on port holds unsent
    or unacknowledged (ss's Send-Q), or None."""
    r = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d )" % port],
                       capture_output=True, text=True, timeout=10)
    for line in r.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            return int(fields[1])
    return None


@test
def handshake_waits_for_room_to_write():
    """The server's first flight does not fit: the read that runs the
    handshake must wait until the socket can take more (EPOLLOUT), not for
    more input, which never comes while the client waits for that flight."""
    if not have_tool("ss"):
        skip("ss is not installed")
    chain, key = long_chain()
    port = free_port()
    with Server(ROOT, ["--listen-tls", "127.0.0.1:%d" % port, "--cert", chain, "--key", key,
                       "--header-timeout", "20"], listen=False, port=port) as s:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        # A small MSS keeps the server's send buffer small too (loopback's
        # 64 KiB segments would give it a megabyte from the start).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", s.port))
        into, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        tls = ctx.wrap_bio(into, out, server_hostname="localhost")
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        sock.sendall(out.read())	# the ClientHello; then nothing is read for a while
        time.sleep(1.0)
        queued = server_send_queue(s.port)
        flight = os.path.getsize(chain) * 3 // 4	# PEM to DER, roughly
        ok(queued is not None and 8192 < queued < flight,
           "the server's socket took %r of about %d bytes: it did not have to wait "
           "for room, so the test proves nothing" % (queued, flight))
        start = time.monotonic()
        while True:
            data = sock.recv(65536)
            ok(data, "the server closed during the handshake")
            into.write(data)
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
        tls.write(b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        sock.sendall(out.read())
        answer = b""
        while b"over TLS" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            into.write(data)
            try:
                answer += tls.read(65536)
            except ssl.SSLWantReadError:
                pass
        ok(b"200 OK" in answer and b"over TLS" in answer, "answered: %r" % answer[:200])
        ok(time.monotonic() - start < 5, "the handshake waited %.1f s once the client read"
           % (time.monotonic() - start))
        sock.close()


@test
def over_limit_closed_without_handshake():
    """Beyond --max-connections a TLS connection is closed, not shaken
    hands with (plain HTTP would get a 503); the held one still works."""
    with tls_server(args=["--max-connections", "1"]) as s:
        with tls_conn(s.port, client_ctx()) as held:
            eq(held.request("GET", "/index.html").status, 200, "the first connection")
            # A real ClientHello, by hand: the server must answer nothing
            # (no ServerHello: no handshake, no signature) and close.
            inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
            obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")
            try:
                obj.do_handshake()
            except ssl.SSLWantReadError:
                pass
            hello = out.read()
            ok(hello[:1] == b"\x16", "a ClientHello was made")
            t0 = time.monotonic()
            got = raw(s.port, hello, timeout=4)
            eq(got, b"", "what a refused connection receives")
            ok(time.monotonic() - t0 < 3, "closed at once")
            eq(held.request("GET", "/index.html").body, INDEX, "the first one still served")


@test
def idle_close_sends_close_notify():
    """An idle keep-alive connection closed at its deadline, and one
    closed by SIGTERM, end with close_notify (a clean TLS end, not a
    truncation the client must suspect)."""
    with tls_server(args=["--idle-timeout", "1"]) as s:
        conns = []
        for _ in range(2):
            raw_sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            t = client_ctx().wrap_socket(raw_sock, server_hostname="localhost",
                                         suppress_ragged_eofs=False)
            t.sendall(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")
            ok(b"200 OK" in t.recv(65536), "served")
            conns.append(t)
        try:
            eq(conns[0].recv(65536), b"", "idle deadline: the end of the connection")
        except ssl.SSLEOFError:
            raise AssertionError("idle deadline: closed without close_notify")
        for t in conns:
            t.close()
    with tls_server() as s:
        raw_sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        t = client_ctx().wrap_socket(raw_sock, server_hostname="localhost",
                                     suppress_ragged_eofs=False)
        t.sendall(b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")
        ok(b"200 OK" in t.recv(65536), "served")
        s.proc.send_signal(15)
        try:
            eq(t.recv(65536), b"", "SIGTERM: the end of the connection")
        except ssl.SSLEOFError:
            raise AssertionError("SIGTERM: closed without close_notify")
        t.close()


@test
def clean_stop_under_load():
    """SIGTERM with TLS connections open: hermit exits 0."""
    with tls_server() as s:
        conns = [tls_conn(s.port, client_ctx()) for _ in range(4)]
        for c in conns:
            eq(c.request("GET", "/index.html").status, 200, "served")
        eq(s.stop(), 0, "exit status")
        for c in conns:
            c.close()


run_all("it_tls")
