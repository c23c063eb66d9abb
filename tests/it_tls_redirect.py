"""Plain HTTP beside HTTPS: --redirect-https[=PORT] (301 from plain HTTP to
https://, except for ACME HTTP-01 challenges under
/.well-known/acme-challenge/) and --hsts SECONDS (Strict-Transport-Security
on every response over TLS, never over plain HTTP). Also: the ACME path
served with and without --redirect-https and with --vhosts, other dot-files
still refused, plain HTTP on a TLS port closed unanswered, bad values
refused at startup. Certificates are made here by the openssl command.

Run from the top of the repository: python3 tests/it_tls_redirect.py ./hermit [TEST...]
"""

import os
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>index</p>\n"
TOKEN = "Xk3_9-abcDEF"
PROOF = b"Xk3_9-abcDEF.thumbprint\n"
HSTS_SECONDS = 31536000


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), capture_output=True, timeout=60)


if not have_tool("openssl"):
    print("SKIP it_tls_redirect: the openssl command is not installed")
    print("it_tls_redirect: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = tempdir()
_r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-days", "2", "-keyout", os.path.join(PKI, "ec.key"),
             "-out", os.path.join(PKI, "ec.crt"), "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
if _r.returncode != 0:
    raise SystemExit("openssl req: %r" % _r.stderr)
os.chmod(os.path.join(PKI, "ec.key"), 0o600)
CERT = os.path.join(PKI, "ec.crt")
KEY = os.path.join(PKI, "ec.key")

FILES = {
    "index.html": INDEX,
    "dir/index.html": b"dir\n",
    ".htaccess": b"secret\n",
    ".git/config": b"secret\n",
    ".well-known/security.txt": b"Contact: mailto:a@example.org\n",
    ".well-known/acme-challenge/" + TOKEN: PROOF,
    ".well-known/acme-challenge/.hidden": b"secret\n",
    ".well-known/.secret": b"secret\n",
}
ROOT = make_tree(FILES)
VROOT = make_tree({"example.org/" + k: v for k, v in FILES.items()})


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(CERT)
    return ctx


def tls_conn(port, timeout=10.0):
    raw_sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return Conn.wrap(client_ctx().wrap_socket(raw_sock, server_hostname="localhost"), timeout)


def both(args=(), root=ROOT, keep=False, redirect_port=True):
    """hermit on --listen 127.0.0.1:s.plain_port and --listen-tls
    127.0.0.1:s.port, with --redirect-https=s.port when redirect_port."""
    port, plain_port = free_port(), free_port()
    full = ["--listen-tls", "127.0.0.1:%d" % port, "--cert", CERT, "--key", KEY,
            "--listen", "127.0.0.1:%d" % plain_port, "--workers", "2"]
    if redirect_port:
        full.append("--redirect-https=%d" % port)
    s = Server(root, full + list(args), listen=False, port=port, keep=keep)
    s.plain_port = plain_port
    return s


SHARED = None


def shared():
    """Plain and TLS, --redirect-https=TLSPORT and --hsts."""
    global SHARED
    if SHARED is None:
        SHARED = both(["--hsts", str(HSTS_SECONDS)], keep=True)
    return SHARED


def plain(port, method, target, host="localhost", version="HTTP/1.1", headers=None):
    with Conn(port) as c:
        return c.request(method, target, host=host, version=version, headers=headers)


def get_301(port, target, host, want, method="GET"):
    r = plain(port, method, target, host=host)
    eq(r.status, 301, "%s %s (Host %r): status" % (method, target, host))
    eq(r.header("Location"), want, "%s %s (Host %r): Location" % (method, target, host))
    return r


@test
def redirect_get_head_query():
    s = shared()
    loc = "https://localhost:%d/index.html?a=1&b=%%20c&d" % s.port
    r = get_301(s.plain_port, "/index.html?a=1&b=%20c&d", "localhost:%d" % s.plain_port, loc)
    ok(b"301 Moved Permanently" in r.body, "GET: a small body: %r" % r.body)
    eq(r.header("Content-Length"), str(len(r.body)), "GET: Content-Length")
    r = get_301(s.plain_port, "/index.html?a=1&b=%20c&d", "localhost", loc, method="HEAD")
    eq(r.body, b"", "HEAD: no body")
    ok(int(r.header("Content-Length")) > 0, "HEAD: the length GET would have")
    # The target as received, even one that does not exist; keep-alive stays.
    with Conn(s.plain_port) as c:
        for path in ("/missing", "/dir", "/", "/%41b//c"):
            r = c.request("GET", path, host="localhost")
            eq((r.status, r.header("Location")),
               (301, "https://localhost:%d%s" % (s.port, path)), "GET %s" % path)
            ok(r.header("Connection", "").lower() != "close", "keep-alive kept")
    # Following it serves the file over TLS.
    with tls_conn(s.port) as c:
        eq(c.request("GET", "/index.html?a=1&b=%20c&d").body, INDEX, "the Location serves")


@test
def redirect_hosts_and_default_port():
    """Without =PORT the Location names no port (443); the Host's own port is
    dropped, IPv6 literals keep their brackets, an absolute-form target's
    host is used. --redirect-https works without an HTTPS listener (TLS
    elsewhere)."""
    root = make_tree({"index.html": INDEX})
    with Server(root, ["--redirect-https"]) as s:
        get_301(s.port, "/a?b", "example.org:8080", "https://example.org/a?b")
        get_301(s.port, "/a", "Example.ORG.", "https://Example.ORG./a")
        get_301(s.port, "/a", "[::1]:8080", "https://[::1]/a")
        get_301(s.port, "/a", "[2001:db8::1]", "https://[2001:db8::1]/a")
        get_301(s.port, "/a", "192.0.2.1", "https://192.0.2.1/a")
        r = raw(s.port, b"GET http://www.example.org:80/p?q=1 HTTP/1.1\r\nHost: other\r\n"
                b"Connection: close\r\n\r\n")
        ok(r.startswith(b"HTTP/1.1 301 ") and
           b"\r\nLocation: https://www.example.org/p?q=1\r\n" in r, "absolute-form: %r" % r)
        r = raw(s.port, b"GET http://www.example.org HTTP/1.1\r\nHost: x\r\n"
                b"Connection: close\r\n\r\n")
        ok(b"\r\nLocation: https://www.example.org/\r\n" in r, "absolute-form, no path: %r" % r)
    with Server(root, ["--redirect-https=443"]) as s:
        get_301(s.port, "/", "example.org", "https://example.org/")
    with Server(root, ["--redirect-https=8443"]) as s:
        get_301(s.port, "/x", "example.org:80", "https://example.org:8443/x")


@test
def redirect_without_host_or_with_bad_host():
    """HTTP/1.0 without Host names nowhere to redirect to: 400, not the file
    over plain HTTP. An invalid Host is 400 as always."""
    s = shared()
    r = plain(s.plain_port, "GET", "/index.html", host=None, version="HTTP/1.0")
    eq(r.status, 400, "HTTP/1.0 without Host")
    ok(INDEX not in r.body, "the file was sent")
    r = plain(s.plain_port, "GET", "/index.html", host="", version="HTTP/1.1")
    eq(r.status, 400, "empty Host")
    r = plain(s.plain_port, "GET", "/index.html", host="a b.example")
    eq(r.status, 400, "invalid Host")
    ok(not r.has("Location"), "no Location with a 400")


@test
def redirect_cannot_inject():
    """Encoded CR LF stays encoded in the Location; raw ones never get past
    the parser; "//host" stays a path under the request's own host."""
    s = shared()
    r = plain(s.plain_port, "GET", "/a%0d%0aSet-Cookie:%20x=1?%0d%0aX:%20y", host="localhost")
    eq(r.header("Location"), "https://localhost:%d/a%%0d%%0aSet-Cookie:%%20x=1?%%0d%%0aX:%%20y"
       % s.port, "Location")
    ok(not r.has("Set-Cookie") and not r.has("X"), "a header was injected: %r" % r.raw_head)
    got = raw(s.plain_port, b"GET /a\rSet-Cookie: x HTTP/1.1\r\nHost: localhost\r\n\r\n")
    ok(got.startswith(b"HTTP/1.1 400 ") and b"Set-Cookie" not in got, "raw CR: %r" % got)
    get_301(s.plain_port, "//evil.example/x", "localhost",
            "https://localhost:%d//evil.example/x" % s.port)


@test
def redirect_other_methods():
    """405 and 501 come first, as without --redirect-https: a POST is not
    turned into a GET elsewhere. OPTIONS * still answers for the server."""
    s = shared()
    with Conn(s.plain_port) as c:
        c.send(b"POST /index.html HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
        r = c.read_response()
        eq((r.status, r.header("Location")), (405, None), "POST")
    with Conn(s.plain_port) as c:
        c.send(b"BREW /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        eq(c.read_response().status, 501, "unknown method")
    with Conn(s.plain_port) as c:
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n")
        eq(c.read_response().status, 204, "OPTIONS *")


def acme_checks(s, host="localhost", redirect=True):
    for path in ("/.well-known/acme-challenge/" + TOKEN,
                 "/.well-known/acme-challenge/%s?x=1" % TOKEN.replace("X", "%58"),
                 "//.well-known//acme-challenge/" + TOKEN):
        r = plain(s.plain_port, "GET", path, host=host)
        eq((r.status, r.body), (200, PROOF), "plain GET %s (Host %s)" % (path, host))
        ok(not r.has("Strict-Transport-Security"), "HSTS over plain HTTP")
    r = plain(s.plain_port, "HEAD", "/.well-known/acme-challenge/" + TOKEN, host=host)
    eq((r.status, r.header("Content-Length")), (200, str(len(PROOF))), "plain HEAD")
    r = plain(s.plain_port, "GET", "/.well-known/acme-challenge/missing", host=host)
    eq(r.status, 404, "a missing token is 404, not a redirect")
    with tls_conn(s.port) as c:
        r = c.request("GET", "/.well-known/acme-challenge/" + TOKEN, host=host)
        eq((r.status, r.body), (200, PROOF), "over TLS")
    for path in ("/index.html", "/.well-known/security.txt"):
        r = plain(s.plain_port, "GET", path, host=host)
        eq(r.status, 301 if redirect else 200, "plain GET %s" % path)
    # The directory itself is not a challenge: to HTTPS, or to its "/".
    r = plain(s.plain_port, "GET", "/.well-known/acme-challenge", host=host)
    eq(r.header("Location"), ("https://%s:%d" % (host, s.port) if redirect else "") +
       "/.well-known/acme-challenge" + ("" if redirect else "/"), "the directory")


@test(timeout=90)
def acme_challenge_served():
    """certbot --webroot writes ROOT/.well-known/acme-challenge/TOKEN: served
    over plain HTTP with and without --redirect-https, and with --vhosts from
    ROOT/HOST/.well-known/acme-challenge/TOKEN."""
    acme_checks(shared())
    with both(redirect_port=False) as s:
        acme_checks(s, redirect=False)
    with both(["--vhosts"], root=VROOT) as s:
        acme_checks(s, host="example.org")
        eq(plain(s.plain_port, "GET", "/.well-known/acme-challenge/" + TOKEN,
                 host="other.example").status, 404, "another site has no token")


@test
def dot_files_still_refused():
    """Only the ACME prefix escapes the redirect; dot-files are refused as
    before, over TLS and over plain HTTP, the challenge directory included."""
    s = shared()
    secret = ["/.htaccess", "/.git/config", "/.well-known/.secret",
              "/.well-known/acme-challenge/.hidden", "/.well-known/acme-challenge/%2ehidden",
              "/.well-known/acme-challenge/../.htaccess",
              "/.well-known/acme-challenge/%2e%2e/.htaccess",
              "/.well-known/acme-challenge/..%2f.htaccess"]
    with tls_conn(s.port) as c:
        for path in secret:
            r = c.request("GET", path)
            eq(r.status, 404, "TLS GET %s" % path)
    for path in secret:
        r = plain(s.plain_port, "GET", path)
        eq(r.status, 301, "plain GET %s (to HTTPS, where it is 404)" % path)
        ok(b"secret" not in r.body, "a secret over plain HTTP")
    with both(redirect_port=False) as s2:
        for path in secret:
            r = plain(s2.plain_port, "GET", path)
            eq(r.status, 404, "plain GET %s without --redirect-https" % path)


def hsts_of(r):
    return [v for k, v in r.headers if k.lower() == "strict-transport-security"]


@test
def hsts_on_every_tls_response():
    s = shared()
    want = ["max-age=%d" % HSTS_SECONDS]
    with tls_conn(s.port) as c:
        r = c.request("GET", "/index.html")
        eq((r.status, hsts_of(r)), (200, want), "200")
        r = c.request("GET", "/index.html", headers={"If-None-Match": r.header("ETag")})
        eq((r.status, hsts_of(r)), (304, want), "304")
        r = c.request("HEAD", "/index.html")
        eq((r.status, hsts_of(r)), (200, want), "HEAD")
        r = c.request("GET", "/missing")
        eq((r.status, hsts_of(r)), (404, want), "404")
        r = c.request("GET", "/dir")
        eq((r.status, hsts_of(r)), (301, want), "301 to the directory")
        r = c.request("GET", "/index.html", headers={"Range": "bytes=1-2"})
        eq((r.status, hsts_of(r)), (206, want), "206")
        r = c.request("GET", "/index.html", host="a b")
        eq((r.status, hsts_of(r)), (400, want), "400 for an invalid Host")
    with tls_conn(s.port) as c:
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\nBad Field: x\r\n\r\n")
        r = c.read_response()
        eq((r.status, hsts_of(r)), (400, want), "400 from the parser")
    with tls_conn(s.port) as c:
        c.send(b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        r = c.read_response()
        eq((r.status, hsts_of(r)), (405, want), "405")


@test
def hsts_never_over_plain():
    s = shared()
    for r in (plain(s.plain_port, "GET", "/index.html"),
              plain(s.plain_port, "GET", "/.well-known/acme-challenge/" + TOKEN),
              plain(s.plain_port, "GET", "/x", host=None, version="HTTP/1.0")):
        eq(hsts_of(r), [], "HSTS over plain HTTP (status %d)" % r.status)
    got = raw(s.plain_port, b"GET / HTTP/1.1\r\nBad Field: x\r\n\r\n")
    ok(got.startswith(b"HTTP/1.1 400 ") and b"Strict-Transport" not in got,
       "parser's 400 over plain: %r" % got)


@test
def hsts_zero_and_without_redirect():
    """--hsts 0 (browsers forget the host) and --hsts without
    --redirect-https: plain HTTP is served as usual, without the header."""
    with both(["--hsts", "0"], redirect_port=False) as s:
        with tls_conn(s.port) as c:
            eq(hsts_of(c.request("GET", "/index.html")), ["max-age=0"], "--hsts 0")
        r = plain(s.plain_port, "GET", "/index.html")
        eq((r.status, r.body, hsts_of(r)), (200, INDEX, []), "plain served, no HSTS")


@test
def hsts_without_https_listener_warns():
    root = make_tree({"index.html": INDEX})
    with Server(root, ["--hsts", "600"]) as s:
        r = plain(s.port, "GET", "/index.html")
        eq((r.status, hsts_of(r)), (200, []), "plain only: served, no HSTS")
        ok("--hsts: no HTTPS listener" in s.log(), "no warning: %r" % s.log())


@test
def stdio_plain_redirects():
    """--stdio without --tls is plain HTTP: redirected; the ACME path served."""
    a, b = socket.socketpair()
    s = Server(ROOT, ["--stdio", "--redirect-https", "--hsts", "60"], listen=False,
               wait=False, stdin=b.fileno(), stdout=b.fileno())
    b.close()
    c = Conn.wrap(a, 10)
    r = c.request("GET", "/index.html?x", host="example.org")
    eq((r.status, r.header("Location"), hsts_of(r)),
       (301, "https://example.org/index.html?x", []), "stdio redirect")
    r = c.request("GET", "/.well-known/acme-challenge/" + TOKEN, host="example.org")
    eq((r.status, r.body), (200, PROOF), "stdio ACME")
    c.close()
    eq(s.proc.wait(10), 0, "exit status")


@test
def systemd_sockets_by_name():
    """Passed sockets: the one named https speaks TLS and carries HSTS; one
    with another name is plain HTTP and redirected."""
    tls_ls, plain_ls = socket.socket(), socket.socket()
    for ls in (tls_ls, plain_ls):
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
    port, plain_port = tls_ls.getsockname()[1], plain_ls.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env["LISTEN_FDS"] = "2"
    env["LISTEN_FDNAMES"] = "https:http"
    try:
        with Server(ROOT, ["--cert", CERT, "--key", KEY, "--redirect-https", "--hsts", "60"],
                    listen=False, port=port, env=env,
                    fds={3: tls_ls.fileno(), 4: plain_ls.fileno()}, listen_pid=True):
            with tls_conn(port) as c:
                r = c.request("GET", "/index.html")
                eq((r.status, hsts_of(r)), (200, ["max-age=60"]), "the https socket")
            get_301(plain_port, "/index.html", "example.org", "https://example.org/index.html")
    finally:
        tls_ls.close()
        plain_ls.close()


@test
def plain_http_to_tls_port_closed():
    """Plain HTTP on the TLS port is closed unanswered (no 400 over plain
    text, no redirect), with or without these options."""
    s = shared()
    t0 = time.monotonic()
    got = raw(s.port, b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout=5)
    ok(b"HTTP/1." not in got and INDEX not in got, "answered: %r" % got[:200])
    ok(time.monotonic() - t0 < 4, "not closed at once")
    with tls_conn(s.port) as c:
        eq(c.request("GET", "/index.html").status, 200, "still serving TLS")


def start_fails(args, want_text):
    p = subprocess.run([BIN] + args + [ROOT], capture_output=True, timeout=20)
    err = p.stderr.decode("latin-1")
    eq(p.returncode, 2, "%r: exit status (stderr %r)" % (args, err))
    ok(want_text + ": " in err and "unknown option" not in err,
       "%r: stderr does not say why %s is refused: %r" % (args, want_text, err))


@test
def bad_values_refused():
    port = "127.0.0.1:%d" % free_port()
    for v in ("-1", "abc", "1e3", "", " 5", "315360001", "99999999999999999999"):
        start_fails(["--listen", port, "--hsts", v], "--hsts")
    start_fails(["--listen", port, "--hsts"], "--hsts")
    for v in ("0", "65536", "abc", "", "-443", "443x"):
        start_fails(["--listen", port, "--redirect-https=" + v], "--redirect-https")
    start_fails(["--listen", port, "--redirect-https=x", "--hsts", "1"], "--redirect-https")


run_all("it_tls_redirect")
