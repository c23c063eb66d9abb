"""HTTP behaviour of hermit (issue 2, "HTTP behaviour"): methods, versions,
keep-alive and pipelining, content types, directories, the publishing
policy, virtual hosts, caching, ranges, precompressed variants, the headers
of every response and the answers to bad input.

Run from the top of the repository: python3 tests/it_http.py ./hermit [TEST...]
"""

import email.utils
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

SECRET = b"TOPSECRET-outside-the-root"
HELLO = b"hello world\n"
DAY = 86400
OLD = int(time.time()) - 10 * DAY      # mtime of most files: well in the past
HUGE_SIZE = 5 * 1024 ** 3             # a sparse file past 4 GiB
HUGE_END = b"ENDOFHUGE!"
AT_4G = b"AT-4GIB-MARK"
BIG_BIN = bytes(range(256)) * 8192  # /big.bin: 2 MiB with a pattern

TYPES = {
    "page.html": "text/html",
    "style.css": "text/css",
    "app.js": ("text/javascript", "application/javascript"),
    "mod.mjs": ("text/javascript", "application/javascript"),
    "data.json": "application/json",
    "img.svg": "image/svg+xml",
    "prog.wasm": "application/wasm",
    "pic.webp": "image/webp",
    "pic.avif": "image/avif",
    "pic.png": "image/png",
    "pic.jpg": "image/jpeg",
    "font.woff2": "font/woff2",
    "movie.mp4": "video/mp4",
    "movie.webm": "video/webm",
    "doc.pdf": "application/pdf",
    "notes.txt": "text/plain",
    "UPPER.HTML": "text/html",
    "blob.zzqq": "application/octet-stream",
}


def build_tree():
    base = tempdir()
    write_file(base, "secret.txt", SECRET)
    write_file(base, "secretdir/secret.txt", SECRET)
    www = os.path.join(base, "www")
    os.mkdir(www, 0o755)
    files = {
        "index.html": (b"<h1>home</h1>\n", 0o644, OLD),
        "hello.txt": (HELLO, 0o644, OLD),
        "dir/index.html": b"<p>dir index</p>\n",
        "dir/sub/file.txt": b"in sub\n",
        "a b/index.html": b"spaced dir\n",
        "private.txt": (b"private", 0o600),
        "group.txt": (b"group only", 0o640),
        "closed/inside.txt": b"behind a closed door",
        ".hidden": b"dotfile",
        ".git/config": b"[core]",
        "dir/.secret": b"dot in dir",
        ".well-known/x": b"well known x\n",
        "p/": None,
        "comp/page.html": (b"PLAIN-PAGE", 0o644, OLD),
        "comp/page.html.gz": (b"GZIP-VARIANT", 0o644, OLD),
        "comp/page.html.br": (b"BROTLI-VARIANT", 0o644, OLD),
        "comp/page.html.zst": (b"ZSTD-VARIANT", 0o644, OLD),
        "comp/gzonly.css": (b"PLAIN-CSS", 0o644, OLD),
        "comp/gzonly.css.gz": (b"GZIP-CSS", 0o644, OLD + 60),
        "comp/old.html": (b"NEWER-PLAIN", 0o644, OLD + 3600),
        "comp/old.html.gz": (b"STALE-GZIP", 0o644, OLD),
        "comp/priv.html": (b"PLAIN-PRIV", 0o644, OLD),
        "comp/priv.html.gz": (b"SECRET-GZIP", 0o600, OLD),
        "cache/file.txt": (b"cached content\n", 0o644, OLD),
        "range/digits.txt": (b"0123456789", 0o644, OLD),
        "privindex/index.html": (b"private index", 0o600),
    }
    for i in range(20):
        files["p/%d.txt" % i] = b"pipelined body %d\n" % i
    for name in TYPES:
        files["types/" + name] = b"x" * 7
    files["types/noext"] = b"noext"
    files["types/x.hermt"] = b"custom"
    for rel, spec in files.items():
        if spec is None:
            os.makedirs(os.path.join(www, rel), mode=0o755, exist_ok=True)
        elif isinstance(spec, tuple):
            write_file(www, rel, *spec)
        else:
            write_file(www, rel, spec)
    os.chmod(os.path.join(www, "closed"), 0o700)
    # For sendfile and integrity.
    write_file(www, "big.bin", BIG_BIN)
    # A FIFO nobody writes to: opening it for reading would block.
    os.mkfifo(os.path.join(www, "fifo"), 0o644)
    # A directory without slash whose name would split headers if echoed raw.
    os.makedirs(os.path.join(www, "x\r\nSet-Cookie: injected=1"), mode=0o755)
    # Symbolic links.
    os.symlink("hello.txt", os.path.join(www, "link-in.txt"))
    os.symlink("dir", os.path.join(www, "link-dir"))
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(www, "link-out.txt"))
    os.symlink("../secret.txt", os.path.join(www, "link-up.txt"))
    os.symlink(os.path.join(base, "secretdir"), os.path.join(www, "link-outdir"))
    # A sparse file past 4 GiB with marks at 4 GiB and at its end.
    with open(os.path.join(www, "huge.bin"), "wb") as f:
        f.truncate(HUGE_SIZE)
        f.seek(4 * 1024 ** 3)
        f.write(AT_4G)
        f.seek(HUGE_SIZE - len(HUGE_END))
        f.write(HUGE_END)
    os.chmod(os.path.join(www, "huge.bin"), 0o644)
    # Virtual hosts.
    vh = os.path.join(base, "vhosts")
    os.mkdir(vh, 0o755)
    write_file(vh, "example.com/index.html", b"site example.com\n")
    write_file(vh, "other.example/index.html", b"site other.example\n")
    write_file(vh, "_default/index.html", b"site default\n")
    write_file(vh, "127.0.0.1/index.html", b"site 127.0.0.1\n")
    # mime.types in the standard format.
    mt = write_file(base, "mime.types",
                    b"# test types\n\napplication/x-hermit-test\thermt\n"
                    b"text/x-zzqq   zzqq other\n")
    return base, www, vh, mt


BASE, WWW, VHOSTS, MIME_TYPES = build_tree()

_shared = {}
_KINDS = {
    "default": (WWW, []),
    "nochroot": (WWW, ["--no-chroot"]),
    "vhosts": (VHOSTS, ["--vhosts"]),
    "hidden": (WWW, ["--hide-version"]),
    "mime": (WWW, ["--mime-types", MIME_TYPES]),
}


def site(kind="default"):
    """A server for the shared tree, started once and kept across tests."""
    s = _shared.get(kind)
    if s is not None and not s.alive():
        del _shared[kind]
        raise AssertionError("the %s server died (exit %s); stderr tail:\n%s"
                             % (kind, s.proc.returncode, s.log()[-3000:]))
    if s is None:
        root, args = _KINDS[kind]
        s = Server(root, args, keep=True)
        _shared[kind] = s
    return s


def req(path, headers=None, method="GET", version="HTTP/1.1", host="localhost",
        kind="default", timeout=5):
    with Conn(site(kind).port, timeout=timeout) as c:
        return c.request(method, path, headers, version=version, host=host)


def served_after(kind="default"):
    """Another client is served normally."""
    r = http(site(kind).port, "GET", "/hello.txt")
    eq(r.status, 200, "status of a normal request afterwards")
    eq(r.body, HELLO, "body of a normal request afterwards")


def expect_close_status(data, status, kind="default", what=None):
    """Sends raw bytes; expects one response with status, Connection: close,
    the connection closed after it, and the server still serving others.
    A response to HEAD must have no body: bytes after its head fail the test."""
    s = site(kind)
    what = what or repr(data[:80])
    with Conn(s.port) as c:
        c.send(data)
        try:
            r = c.read_response(head=data.lstrip(b"\r\n").startswith(b"HEAD "))
        except ConnectionError as e:
            raise AssertionError("%s: no response (%s)" % (what, e))
        eq(r.status, status, "status for %s" % what)
        eq((r.header("Connection") or "").lower(), "close", "Connection header for %s" % what)
        ok(c.closed(3), "connection left open after %d for %s" % (status, what))
    served_after(kind)
    return r


def stat_etag(path):
    st = os.stat(path)
    return '"%x-%x-%x-%x"' % (st.st_size, st.st_mtime_ns // 10 ** 9,
                             st.st_mtime_ns % 10 ** 9, st.st_ino)


def httpdate(t):
    return email.utils.formatdate(t, usegmt=True)


def rfc850(t):
    return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(t))


def asctime(t):
    return time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(t))


def no_secret(r, what):
    ok(SECRET not in r.body, "%s returned content from outside the root" % what)


DATE_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
                     r"Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def version():
    out = subprocess.run([BIN, "--version"], capture_output=True, timeout=5)
    m = re.search(rb"(\d+\.\d+(?:\.\d+)?)", out.stdout + out.stderr)
    ok(out.returncode == 0 and m, "hermit --version: %r" % (out,))
    return m.group(1).decode()


# ---------------------------------------------------------------- methods

@test
def get_serves_file():
    r = req("/hello.txt")
    eq(r.status, 200, "status")
    eq(r.body, HELLO, "body")
    eq(r.header("Content-Length"), str(len(HELLO)), "Content-Length")


@test
def get_query_and_encoded_names():
    for p in ("/hello.txt?x=1&y=%zz", "/hello.txt?", "/hello%2etxt", "/%68ello.txt",
              "//hello.txt"):
        r = req(p)
        eq((r.status, r.body), (200, HELLO), p)
    r = req("/hello.txt/")
    eq(r.status, 404, "a file named with a trailing slash")


@test
def get_with_http_client_and_curl():
    r = http(site().port, "GET", "/hello.txt")
    eq((r.status, r.body), (200, HELLO), "http.client GET")
    cp = curl("-o", "-", "http://127.0.0.1:%d/hello.txt" % site().port)
    eq(cp.returncode, 0, "curl exit (stderr %r)" % cp.stderr)
    eq(cp.stdout, HELLO, "curl body")


@test
def head_same_headers_without_body():
    s = site()
    data = raw(s.port, b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                       b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    rs = parse_responses(data, heads=(0,))
    eq(len(rs), 2, "responses (a HEAD body would make the second unparsable)")
    head, get = rs
    eq(head.status, 200, "HEAD status")
    eq(head.body, b"", "HEAD body")
    hd = {k.lower(): v for k, v in head.headers if k.lower() not in ("date", "connection")}
    gd = {k.lower(): v for k, v in get.headers if k.lower() not in ("date", "connection")}
    eq(hd, gd, "HEAD headers versus GET headers")
    eq(get.body, HELLO, "GET body after HEAD")


@test
def head_of_errors_without_body():
    data = raw(site().port, b"HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                            b"HEAD /dir HTTP/1.1\r\nHost: a\r\n\r\n"
                            b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    rs = parse_responses(data, heads=(0, 1))
    eq([(r.status, r.body) for r in rs], [(404, b""), (301, b""), (200, HELLO)],
       "HEAD of a 404 and a 301, then a GET")
    ok(int(rs[0].header("Content-Length", "0")) > 0, "HEAD 404 announces its body length")


@test
def known_methods_405_with_allow():
    for m in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"):
        r = req("/hello.txt", method=m)
        eq(r.status, 405, "%s status" % m)
        allow = [a.strip() for a in (r.header("Allow") or "").split(",")]
        eq(sorted(allow), ["GET", "HEAD"], "%s Allow header" % m)
        ok(HELLO not in r.body, "%s returned the file" % m)
    served_after()


def head_then_close(data, what):
    """Sends raw bytes; reads one response head and then everything until
    the server closes. Returns (Response, bytes after the head)."""
    with Conn(site().port) as c:
        c.send(data)
        try:
            raw_head = c.read_head()
        except ConnectionError as e:
            raise AssertionError("%s: no response (%s)" % (what, e))
        rest = c.read_all(timeout=5)
        ok(c.eof, "%s: connection left open" % what)
    r = parse_responses(raw_head + b"\r\n\r\n", heads=(0,))[0]
    return r, rest


@test
def head_refused_by_the_parser_has_no_body():
    cases = [
        (b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
         "Transfer-Encoding"),
        (b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 400,
         "Content-Length: 1"),
        (b"\r\nHEAD /hello.txt HTTP/1.1\r\nHost: a\nX: y\r\n\r\n", 400,
         "bare LF after an empty line"),
        (b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n", 431,
         "oversized headers"),
        (b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\n"
         + b"".join(b"X-F%d: v\r\n" % i for i in range(101)) + b"\r\n", 431,
         "too many fields"),
        (b"HEAD /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414, "long target"),
        (b"HEAD /hello.txt HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0"),
        (b"HEAD /hello.txt HTTP/1.1\r\n\r\n", 400, "no Host"),
    ]
    for data, status, what in cases:
        r, rest = head_then_close(data, "HEAD with " + what)
        eq(r.status, status, "status of HEAD with %s" % what)
        eq(rest, b"", "bytes after the head of HEAD with %s" % what)
    # the same error to GET still has its page
    r, rest = head_then_close(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n", "GET with Transfer-Encoding")
    eq(r.status, 400, "status of GET with Transfer-Encoding")
    eq(len(rest), int(r.header("Content-Length")), "GET error page length")
    served_after()


@test
def body_on_other_methods_405_or_501_not_400():
    for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        r = expect_close_status(b"%s /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
                                b"hello" % m.encode(), 405, what="%s with a body" % m)
        eq(r.header("Allow"), "GET, HEAD", "%s with a body: Allow" % m)
    r = expect_close_status(b"PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            b"5\r\nhello\r\n0\r\n\r\n", 405, what="PUT chunked")
    eq(r.header("Allow"), "GET, HEAD", "PUT chunked: Allow")
    expect_close_status(b"BREW /pot HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntea", 501,
                        what="unknown method with a body")
    # framing that could be read two ways stays 400 whatever the method
    expect_close_status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                        b"Content-Length: 5\r\n\r\nhello", 400, what="POST, two Content-Length")
    expect_close_status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\nhello", 400,
                        what="POST, Content-Length: 5x")
    expect_close_status(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, what="POST, CL + TE")
    # a body that is still on its way is dropped, not answered with a reset
    with Conn(site().port) as c:
        c.send(b"POST /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n")
        r = c.read_response()
        eq(r.status, 405, "POST whose body comes later")
        for _ in range(3):
            time.sleep(0.2)
            try:
                c.send(b"z" * 1000)
            except OSError as e:
                raise AssertionError("the body sent after the 405 was refused: %s" % e)
        ok(c.closed(3), "connection left open after the 405 and the body")
    served_after()


@test
def options_asterisk_204():
    with Conn(site().port) as c:
        c.send(b"OPTIONS * HTTP/1.1\r\nHost: a\r\nUser-Agent: options-asterisk-test\r\n\r\n")
        r = c.read_response()
        eq(r.status, 204, "OPTIONS * status")
        eq(r.header("Allow"), "GET, HEAD", "OPTIONS * Allow")
        ok(not r.has("Content-Length"), "OPTIONS * has no Content-Length (a 204)")
        ok(not r.has("Connection"), "OPTIONS * keeps the connection")
        r = c.request("GET", "/hello.txt")
        eq((r.status, r.body), (200, HELLO), "GET after OPTIONS * on the same connection")
    ok(wait_for(lambda: [l for l in site().access_lines()
                         if '"OPTIONS * HTTP/1.1" 204 ' in l and "options-asterisk-test" in l]),
       "access log line for OPTIONS *")
    with Conn(site().port) as c:
        c.send(b"OPTIONS * HTTP/1.0\r\n\r\n")
        r = c.read_response()
        eq(r.status, 204, "OPTIONS * HTTP/1.0")
        ok(c.closed(3), "HTTP/1.0 OPTIONS * closes")
    r = expect_close_status(b"OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nping", 204,
                            what="OPTIONS * with a body")
    eq(r.header("Allow"), "GET, HEAD", "OPTIONS * with a body: Allow")
    r = req("*", method="OPTIONS", host="a/b")
    eq(r.status, 400, "OPTIONS * with an invalid Host")
    r = req("/hello.txt", method="OPTIONS")
    eq(r.status, 405, "OPTIONS /hello.txt")
    for m in (b"GET", b"HEAD", b"POST"):
        expect_close_status(m + b" * HTTP/1.1\r\nHost: a\r\n\r\n", 400, what=m.decode() + " *")


@test
def unknown_methods_501():
    for m in ("BREW", "PROPFIND", "get", "Get"):
        with Conn(site().port) as c:
            c.send("%s /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n" % m)
            r = c.read_response()
            eq(r.status, 501, "%s status" % m)
            ok(HELLO not in r.body, "%s returned the file" % m)
    served_after()


# ---------------------------------------------------------------- versions, keep-alive

@test
def http10_closes_by_default():
    with Conn(site().port) as c:
        r = c.request("GET", "/hello.txt", version="HTTP/1.0", host=None)
        eq((r.status, r.body), (200, HELLO), "response")
        ok(c.closed(3), "HTTP/1.0 connection left open")


@test
def http10_keep_alive_on_request():
    with Conn(site().port) as c:
        for i in range(3):
            r = c.request("GET", "/hello.txt", {"Connection": "keep-alive"},
                          version="HTTP/1.0", host=None)
            eq((r.status, r.body), (200, HELLO), "response %d" % i)
            ok((r.header("Connection") or "").lower() == "keep-alive",
               "HTTP/1.0 keep-alive response lacks Connection: keep-alive")
        ok(not c.closed(0.3), "closed after a keep-alive HTTP/1.0 request")


@test
def http11_keep_alive_by_default():
    with Conn(site().port) as c:
        for i in range(5):
            r = c.request("GET", "/hello.txt")
            eq((r.status, r.body), (200, HELLO), "response %d" % i)
            ok((r.header("Connection") or "").lower() != "close", "Connection: close sent")
        ok(not c.closed(0.3), "HTTP/1.1 connection closed")


@test
def http11_connection_close_honoured():
    with Conn(site().port) as c:
        r = c.request("GET", "/hello.txt", {"Connection": "close"})
        eq(r.status, 200, "status")
        eq((r.header("Connection") or "").lower(), "close", "Connection header")
        ok(c.closed(3), "connection left open after Connection: close")
    with Conn(site().port) as c:
        r = c.request("GET", "/hello.txt", {"Connection": "TE, Close"})
        ok(c.closed(3), "connection left open after Connection: TE, Close")


@test
def http12_treated_as_11():
    r = req("/hello.txt", version="HTTP/1.2")
    eq((r.status, r.body), (200, HELLO), "HTTP/1.2 request")


@test
def pipelined_20_answered_in_order():
    reqs = b""
    heads = []
    for i in range(20):
        if i == 7:
            path, method = "/p/missing.txt", "GET"
        elif i == 11:
            path, method = "/p/%d.txt" % i, "HEAD"
            heads.append(i)
        else:
            path, method = "/p/%d.txt" % i, "GET"
        reqs += ("%s %s HTTP/1.1\r\nHost: a\r\n%s\r\n"
                 % (method, path, "Connection: close\r\n" if i == 19 else "")).encode()
    data = raw(site().port, reqs, timeout=5)
    rs = parse_responses(data, heads=tuple(heads))
    eq(len(rs), 20, "number of responses")
    for i, r in enumerate(rs):
        if i == 7:
            eq(r.status, 404, "response 7 (missing file)")
        elif i == 11:
            eq((r.status, r.body, r.header("Content-Length")),
               (200, b"", str(len(b"pipelined body 11\n"))), "response 11 (HEAD)")
        else:
            eq((r.status, r.body), (200, b"pipelined body %d\n" % i), "response %d" % i)


@test
def pipelined_split_across_writes():
    with Conn(site().port) as c:
        whole = b"GET /p/1.txt HTTP/1.1\r\nHost: a\r\n\r\nGET /p/2.txt HTTP/1.1\r\nHost: a\r\n\r\n"
        for i in range(0, len(whole), 7):
            c.send(whole[i:i + 7])
            time.sleep(0.005)
        eq(c.read_response().body, b"pipelined body 1\n", "first")
        eq(c.read_response().body, b"pipelined body 2\n", "second")


@test
def absolute_form_target():
    r = req("http://localhost/hello.txt")
    eq((r.status, r.body), (200, HELLO), "absolute-form")
    r = req("http://localhost:8080/dir/index.html", host="other")
    eq(r.status, 200, "absolute-form with port, Host differing")


@test
def http11_without_host_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\n\r\n", 400)


@test
def duplicate_host_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)


@test
def http2_request_line_505():
    for v in (b"HTTP/2.0", b"HTTP/3.0", b"HTTP/2"):
        s = site()
        with Conn(s.port) as c:
            c.send(b"GET /hello.txt " + v + b"\r\nHost: a\r\n\r\n")
            try:
                r = c.read_response()
            except ConnectionError as e:
                raise AssertionError("%s: no response (%s)" % (v, e))
            want = 400 if v == b"HTTP/2" else 505
            eq(r.status, want, "status for %s" % v.decode())
            ok(c.closed(3), "connection left open after %s" % v.decode())
    served_after()


@test
def http09_refused():
    data = raw(site().port, b"GET /hello.txt\r\n\r\n", timeout=3)
    ok(HELLO not in data, "HTTP/0.9 request served the file")
    if data:
        eq(parse_responses(data)[0].status, 400, "status")
    served_after()


# ---------------------------------------------------------------- content types

@test
def content_types_builtin_table():
    bad = []
    for name, want in TYPES.items():
        r = req("/types/" + name)
        ct = r.header("Content-Type") or ""
        base = ct.split(";")[0].strip().lower()
        wants = want if isinstance(want, tuple) else (want,)
        if r.status != 200 or base not in wants:
            bad.append("%s: %s %r" % (name, r.status, ct))
    for name in ("notes.txt", "page.html"):
        ct = req("/types/" + name).header("Content-Type") or ""
        if "charset=utf-8" not in ct.lower().replace(" ", ""):
            bad.append("%s: no charset in %r" % (name, ct))
    ok(not bad, "wrong types: " + "; ".join(bad))


@test
def content_type_without_extension():
    r = req("/types/noext")
    eq(r.status, 200, "status")
    eq(r.header("Content-Type"), "application/octet-stream", "Content-Type")


@test
def mime_types_file():
    r = req("/types/x.hermt", kind="mime")
    eq(r.header("Content-Type"), "application/x-hermit-test", "type from mime.types")
    r = req("/types/blob.zzqq", kind="mime")
    eq((r.header("Content-Type") or "").split(";")[0], "text/x-zzqq", "mime.types over unknown")
    r = req("/types/style.css", kind="mime")
    eq((r.header("Content-Type") or "").split(";")[0], "text/css", "built-in type kept")
    r = req("/types/x.hermt")
    eq(r.header("Content-Type"), "application/octet-stream", "no mime.types: unknown")


@test
def mime_types_file_missing_is_startup_error():
    with Server(WWW, ["--mime-types", os.path.join(BASE, "no-such.types")], wait=False) as s:
        code = s.proc.wait(5)
        ok(code != 0, "started with a missing mime.types file")
        ok("no-such.types" in s.log(), "message does not name the file: %r" % s.log())


def startup_fails(args, what):
    """hermit must exit 1 at once, naming --mime-types, without binding."""
    port = free_port()
    t0 = time.monotonic()
    with Server(WWW, args, port=port, wait=False) as s:
        try:
            code = s.proc.wait(5)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s: startup hangs" % what)
        eq(code, 1, "%s: exit status; stderr %r" % (what, s.log()))
        ok(time.monotonic() - t0 < 3, "%s: slow to fail" % what)
        ok(s.log().startswith("hermit: --mime-types: "), "%s: message %r" % (what, s.log()))
        return s.log()


@test
def mime_types_never_blocks_or_reads_without_end():
    log = startup_fails(["--mime-types", "/dev/zero"], "/dev/zero")
    ok("not a regular file" in log, "/dev/zero: %r" % log)
    fifo = os.path.join(tempdir(), "types.fifo")
    os.mkfifo(fifo)
    log = startup_fails(["--mime-types", fifo], "a FIFO")
    ok("not a regular file" in log, "FIFO: %r" % log)
    log = startup_fails(["--mime-types", BASE], "a directory")
    big = write_file(tempdir(), "big.types", b"text/plain " + b"a" * 2000 + b"\n")
    log = startup_fails(["--mime-types", big], "a long line")
    ok("line 1 is longer than" in log, "long line: %r" % log)


@test
def mime_types_error_names_the_line_not_its_content():
    secretish = write_file(tempdir(), "shadow-like",
                           b"text/plain txt\nroot:$y$j9T$notarealhash:19000:0:99999:7:::\n")
    log = startup_fails(["--mime-types", secretish], "a file that is no table")
    ok("line 2" in log, "line number: %r" % log)
    ok("notarealhash" not in log and "root:" not in log, "content printed: %r" % log)


# ---------------------------------------------------------------- directories

@test
def index_html_for_directories():
    r = req("/")
    eq((r.status, r.body), (200, b"<h1>home</h1>\n"), "/")
    eq((r.header("Content-Type") or "").split(";")[0], "text/html", "type of /")
    r = req("/dir/")
    eq((r.status, r.body), (200, b"<p>dir index</p>\n"), "/dir/")
    r = req("/link-dir/")
    eq((r.status, r.body), (200, b"<p>dir index</p>\n"), "symlinked dir inside root")


@test
def directory_without_slash_301():
    r = req("/dir")
    eq(r.status, 301, "status")
    eq(r.header("Location"), "/dir/", "Location")
    ok(r.has("Content-Length"), "301 without Content-Length")
    r = req("/dir?a=1&b=%20x")
    eq(r.status, 301, "status with query")
    eq(r.header("Location"), "/dir/?a=1&b=%20x", "Location keeps the query")
    r = req("/dir/sub")
    eq(r.status, 301, "status for nested")
    eq(r.header("Location"), "/dir/sub/", "nested Location")
    r = req("/a%20b")
    eq(r.status, 301, "status for encoded name")
    loc = r.header("Location") or ""
    ok(loc in ("/a%20b/", "/a%20B/"), "Location for /a%%20b: %r" % loc)


@test
def directory_redirect_never_splits_headers():
    r = req("/x%0d%0aSet-Cookie:%20injected=1")
    ok(r.header("Set-Cookie") is None, "header injected through Location")
    ok(b"\r\nSet-Cookie" not in r.raw_head, "raw CRLF echoed into the head")
    if r.status == 301:
        ok(not re.search(r"[\x00-\x20\x7f]", r.header("Location") or ""),
           "raw control or space in Location %r" % r.header("Location"))
    served_after()


@test
def no_directory_listing():
    r = req("/dir/sub/")
    eq(r.status, 404, "directory without index.html")
    ok(b"file.txt" not in r.body, "listing leaked")
    r = req("/p/")
    eq(r.status, 404, "directory without index.html")


# ---------------------------------------------------------------- publishing policy

@test
def not_world_readable_404():
    # Behind a 0700 directory only for a server that runs as someone else.
    for p in ("/private.txt", "/group.txt") + (("/closed/inside.txt",) if is_root() else ()):
        r = req(p)
        eq(r.status, 404, p)
        ok(b"private" not in r.body and b"group only" not in r.body
           and b"behind" not in r.body, "%s leaked content" % p)


@test
def unpublishable_index_404():
    r = req("/privindex/")
    eq(r.status, 404, "directory whose index.html is 0600")
    ok(b"private index" not in r.body, "leaked the index")


@test
def dotfiles_404():
    for p in ("/.hidden", "/.git/config", "/.git/", "/.git", "/dir/.secret",
              "/%2ehidden", "/%2Egit/config", "/dir/%2esecret"):
        r = req(p)
        eq(r.status, 404, p)


@test
def well_known_served():
    r = req("/.well-known/x")
    eq((r.status, r.body), (200, b"well known x\n"), "/.well-known/x")
    r = req("/%2ewell-known/x")
    eq(r.status, 200, "/%2ewell-known/x (decoded once)")


@test(timeout=20)
def fifo_404_without_hanging():
    t0 = time.monotonic()
    r = req("/fifo", timeout=3)
    eq(r.status, 404, "FIFO status")
    ok(time.monotonic() - t0 < 2, "FIFO took %.1fs" % (time.monotonic() - t0))
    # The worker must not be stuck: several clients at once are still served.
    for _ in range(4):
        served_after()


@test
def symlink_inside_root_served():
    for kind in ("default", "nochroot"):
        r = req("/link-in.txt", kind=kind)
        eq((r.status, r.body), (200, HELLO), "symlink to a file inside (%s)" % kind)


@test
def symlink_to_outside_404():
    for kind in ("default", "nochroot"):
        for p in ("/link-out.txt", "/link-up.txt", "/link-outdir/secret.txt"):
            r = req(p, kind=kind)
            eq(r.status, 404, "%s (%s)" % (p, kind))
            no_secret(r, p)


TRAVERSALS = [
    ("/../secret.txt", 404),
    ("/dir/../../secret.txt", 404),
    ("/dir/../hello.txt", 404),
    ("/./hello.txt", 404),
    ("/%2e%2e/secret.txt", 404),
    ("/%2E%2E/secret.txt", 404),
    ("/.%2e/secret.txt", 404),
    ("/dir/%2e%2e/%2e%2e/secret.txt", 404),
    ("/..%2fsecret.txt", 404),
    ("/dir%2f..%2f..%2fsecret.txt", 404),
    ("/%252e%252e/secret.txt", 404),
    ("/%252e%252e%252fsecret.txt", 404),
    ("/..\\secret.txt", 404),
    ("/dir\\..\\..\\secret.txt", 404),
    ("/%5c..%5csecret.txt", 404),
    ("/hello.txt%00.html", 400),
    ("/%00", 400),
    ("/..%00/secret.txt", 400),
    ("/%zz", 400),
    ("/%2", 400),
    ("/%", 400),
    ("/abc%g0", 400),
]


@test
def traversal_attempts_never_leave_root():
    for kind in ("default", "nochroot"):
        for path, want in TRAVERSALS:
            with Conn(site(kind).port) as c:
                c.send(b"GET " + path.encode("latin-1") + b" HTTP/1.1\r\nHost: a\r\n\r\n")
                r = c.read_response()
            no_secret(r, path)
            eq(r.status, want, "%s (%s)" % (path, kind))
            r = req("http://localhost" + path, kind=kind)
            no_secret(r, "absolute-form " + path)
            eq(r.status, want, "absolute-form %s (%s)" % (path, kind))
    served_after()


@test
def request_target_not_origin_form_400():
    for target in (b"hello.txt", b"*", b"../secret.txt", b"//evil.example/"):
        with Conn(site().port) as c:
            c.send(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            try:
                r = c.read_response()
            except ConnectionError:
                continue
            no_secret(r, target.decode())
            if target == b"//evil.example/":
                ok(r.status in (400, 404), "%s: %d" % (target, r.status))
            else:
                eq(r.status, 400, target.decode())
    served_after()


# ---------------------------------------------------------------- virtual hosts

@test
def vhost_lowercased():
    r = req("/", host="EXAMPLE.Com", kind="vhosts")
    eq((r.status, r.body), (200, b"site example.com\n"), "Host: EXAMPLE.Com")


@test
def vhost_port_stripped():
    r = req("/", host="example.com:8080", kind="vhosts")
    eq((r.status, r.body), (200, b"site example.com\n"), "Host with port")
    r = req("/", host="127.0.0.1:%d" % site("vhosts").port, kind="vhosts")
    eq((r.status, r.body), (200, b"site 127.0.0.1\n"), "IPv4 Host with port")


@test
def vhost_trailing_dot_removed():
    r = req("/", host="example.com.", kind="vhosts")
    eq((r.status, r.body), (200, b"site example.com\n"), "Host: example.com.")
    r = req("/", host="Example.COM.:80", kind="vhosts")
    eq((r.status, r.body), (200, b"site example.com\n"), "Host: Example.COM.:80")


@test
def vhost_invalid_host_400():
    for h in ("..", ".", "a/b", "a\\b", "%2e%2e", "[::1", "[zz::1]", "exa mple.com",
              "example.com:80x", "../_default", "_default/../example.com", "a\"b"):
        with Conn(site("vhosts").port) as c:
            c.send(("GET / HTTP/1.1\r\nHost: %s\r\n\r\n" % h).encode())
            try:
                r = c.read_response()
            except ConnectionError as e:
                raise AssertionError("Host %r: no response (%s)" % (h, e))
            eq(r.status, 400, "Host %r" % h)
            ok(b"site " not in r.body, "Host %r served a site" % h)
    r = req("/", host="example.com", kind="vhosts")
    eq(r.status, 200, "served after invalid hosts")


@test
def invalid_host_400_without_vhosts():
    for h in ("a/b", "exa mple", "..", ".", "a\\b", "%2e%2e", "[::1", "[zz::1]",
              "example.com:80x", "example..com", "-a.example", "a" * 256, "a\"b"):
        with Conn(site().port) as c:
            c.send(("GET /hello.txt HTTP/1.1\r\nHost: %s\r\n\r\n" % h).encode())
            try:
                r = c.read_response()
            except ConnectionError as e:
                raise AssertionError("Host %r: no response (%s)" % (h, e))
            eq(r.status, 400, "Host %r" % h)
            ok(HELLO not in r.body, "Host %r served the file" % h)
    r = req("http://a%2fb/hello.txt")
    eq(r.status, 400, "absolute-form with an invalid authority")
    for h in ("localhost", "EXAMPLE.com.", "example.com:8080", "127.0.0.1:80", "[::1]:80",
              "[::1]", "", "xn--bcher-kva.example", "my_service", "web_1:8080"):
        # '_' is valid URI syntax (container names use it); only --vhosts,
        # where no Host may name the _default site, refuses it.
        r = req("/hello.txt", host=h)
        eq((r.status, r.body), (200, HELLO), "Host %r" % h)
    r = req("/hello.txt", version="HTTP/1.0", host=None)
    eq((r.status, r.body), (200, HELLO), "HTTP/1.0 without Host")
    r = req("/hello.txt", method="HEAD", host="a/b")
    eq((r.status, r.body), (400, b""), "HEAD with an invalid Host")


@test
def vhost_http10_without_host_uses_default():
    r = req("/", version="HTTP/1.0", host=None, kind="vhosts")
    eq((r.status, r.body), (200, b"site default\n"), "HTTP/1.0 without Host")


@test
def vhost_absolute_form_wins_over_host():
    r = req("http://example.com/", host="other.example", kind="vhosts")
    eq((r.status, r.body), (200, b"site example.com\n"), "absolute-form authority")


@test
def vhost_unknown_host_404():
    r = req("/", host="nosuch.example", kind="vhosts")
    eq(r.status, 404, "unknown virtual host")
    ok(b"site " not in r.body, "unknown host served another site")


@test
def vhost_cannot_reach_other_site():
    for p in ("/../other.example/index.html", "/%2e%2e/other.example/index.html",
              "/..%2fother.example/index.html"):
        r = req(p, host="example.com", kind="vhosts")
        eq(r.status, 404, p)


# ---------------------------------------------------------------- caching

CACHED = "/cache/file.txt"


def cached_path():
    return os.path.join(WWW, "cache/file.txt")


@test
def last_modified_and_strong_etag():
    r = req(CACHED)
    eq(r.status, 200, "status")
    st = os.stat(cached_path())
    eq(r.header("Last-Modified"), httpdate(int(st.st_mtime)), "Last-Modified")
    eq(r.header("ETag"), stat_etag(cached_path()), "ETag")


@test
def etag_changes_when_file_rewritten():
    p = write_file(WWW, "cache/changing.txt", b"one", mtime=OLD)
    e1 = req("/cache/changing.txt").header("ETag")
    write_file(WWW, "cache/changing.txt", b"two!", mtime=OLD)
    r = req("/cache/changing.txt")
    eq(r.body, b"two!", "new content")
    ok(r.header("ETag") != e1, "ETag unchanged after rewrite")
    eq(r.header("ETag"), stat_etag(p), "ETag of the new file")


def blocking_get(port, path):
    """One GET on a new connection with plain blocking calls (no timeout,
    so no poll before each recv: the race below wants the client to run as
    soon as the answer is sent). Returns the head and the body."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError("closed before a whole head")
            data += chunk
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
        while len(body) < length:
            chunk = sock.recv(4096)
            if not chunk:
                raise AssertionError("closed before the whole body")
            body += chunk
        return head, body


@test(timeout=120)
def rewrite_seen_by_a_connection_accepted_later_in_the_same_wakeup():
    """A request sent after a file was rewritten in place gets the new file,
    even on a connection accepted in the same turn of the worker's loop as
    one that stat()ed the old file. The client runs SCHED_FIFO on the one
    CPU of a one-worker server, so it runs as soon as an answer is sent:
    it rewrites the file, connects and sends before the server's next
    accept4. Before the fix, about one round in seventy got the old size
    with the new bytes (cut short, or a 500 when the file shrank)."""
    if not is_root():
        skip("SCHED_FIFO needs root")
    root = make_tree({"f.txt": b"one"})
    path = os.path.join(root, "f.txt")
    s = Server(root, ["--workers", "1", "--access-log", "off"])
    mine = os.sched_getaffinity(0)
    cpu = min(mine)
    bad = []
    try:
        for tid in os.listdir("/proc/%d/task" % s.pid):   # the worker thread too
            os.sched_setaffinity(int(tid), {cpu})
        os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        for i in range(2000):
            old, new = (b"one", b"two!") if i % 2 == 0 else (b"two!", b"one")
            write_file(root, "f.txt", old, mtime=OLD)
            blocking_get(s.port, "/f.txt")
            write_file(root, "f.txt", new, mtime=OLD)
            head, body = blocking_get(s.port, "/f.txt")
            if body != new or stat_etag(path).encode() not in head:
                bad.append((i, body, new))
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        os.sched_setaffinity(0, mine)
    eq(bad[:3], [], "rounds served a stale or mixed file (%d of 2000)" % len(bad))


@test
def if_none_match_304():
    tag = stat_etag(cached_path())
    for inm in (tag, '"nope", ' + tag, "*", "W/" + tag):
        with Conn(site().port) as c:
            r = c.request("GET", CACHED, {"If-None-Match": inm})
            eq(r.status, 304, "If-None-Match: %s" % inm)
            eq(r.body, b"", "304 body")
            eq(r.header("ETag"), tag, "ETag on 304")
            eq(r.header("Last-Modified"), httpdate(int(os.stat(cached_path()).st_mtime)),
               "Last-Modified on 304")
            # No body bytes may follow the 304: the next response parses.
            r2 = c.request("GET", "/hello.txt")
            eq((r2.status, r2.body), (200, HELLO), "request after 304")
    r = req(CACHED, {"If-None-Match": tag}, method="HEAD")
    eq(r.status, 304, "HEAD with matching If-None-Match")


@test
def if_none_match_mismatch_200():
    r = req(CACHED, {"If-None-Match": '"0-0-0-0"'})
    eq(r.status, 200, "non-matching tag")
    r = req(CACHED, {"If-None-Match": "garbage"})
    eq(r.status, 200, "unparsable If-None-Match")


@test
def if_none_match_takes_precedence_over_ims():
    mtime = int(os.stat(cached_path()).st_mtime)
    r = req(CACHED, {"If-None-Match": '"other"', "If-Modified-Since": httpdate(mtime + 60)})
    eq(r.status, 200, "non-matching INM with a satisfied IMS")
    tag = stat_etag(cached_path())
    r = req(CACHED, {"If-None-Match": tag, "If-Modified-Since": httpdate(mtime - DAY)})
    eq(r.status, 304, "matching INM with an unsatisfied IMS")


@test
def if_modified_since_dates():
    mtime = int(os.stat(cached_path()).st_mtime)
    cases = [
        (httpdate(mtime), 304, "equal to Last-Modified"),
        (httpdate(mtime + 3600), 304, "after mtime, before now (date, not string, comparison)"),
        (httpdate(mtime - 1), 200, "one second before mtime"),
        (httpdate(mtime - 365 * DAY), 200, "a year before mtime"),
        (httpdate(int(time.time()) + 365 * DAY), 200, "in the future: ignored"),
        (rfc850(mtime + 10), 304, "RFC 850 form"),
        (asctime(mtime + 10), 304, "asctime form"),
        (rfc850(mtime - 10), 200, "RFC 850 form, before"),
        ("yesterday", 200, "unparsable"),
        ("Sun, 31 Feb 2021 00:00:00 GMT", 200, "invalid day"),
        (httpdate(mtime)[:-4], 200, "missing GMT"),
    ]
    for ims, want, what in cases:
        r = req(CACHED, {"If-Modified-Since": ims})
        eq(r.status, want, "If-Modified-Since %r (%s)" % (ims, what))
        if want == 304:
            eq(r.body, b"", "304 body")


@test
def if_modified_since_in_the_future_ignored():
    for ims in ("Fri, 31 Dec 9999 23:59:59 GMT", httpdate(int(time.time()) + DAY)):
        r = req(CACHED, {"If-Modified-Since": ims})
        eq((r.status, r.body), (200, b"cached content\n"), "If-Modified-Since %r" % ims)
        r = req(CACHED, {"If-Modified-Since": ims}, method="HEAD")
        eq(r.status, 200, "HEAD with If-Modified-Since %r" % ims)
    # a matching entity tag still wins
    r = req(CACHED, {"If-None-Match": stat_etag(cached_path()),
                     "If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"})
    eq(r.status, 304, "matching If-None-Match with a future If-Modified-Since")


# ---------------------------------------------------------------- ranges

DIGITS = "/range/digits.txt"


def ranged(spec, extra=None, path=DIGITS, method="GET"):
    h = {"Range": spec}
    h.update(extra or {})
    return req(path, h, method=method)


@test
def range_first_last():
    r = ranged("bytes=2-5")
    eq(r.status, 206, "status")
    eq(r.body, b"2345", "body")
    eq(r.header("Content-Range"), "bytes 2-5/10", "Content-Range")
    eq(r.header("Content-Length"), "4", "Content-Length")
    r = ranged("bytes=0-0")
    eq((r.status, r.body), (206, b"0"), "bytes=0-0")
    r = ranged("bytes=7-999999999999")
    eq((r.status, r.body, r.header("Content-Range")), (206, b"789", "bytes 7-9/10"),
       "last beyond the end")


@test
def range_open_ended():
    r = ranged("bytes=6-")
    eq((r.status, r.body, r.header("Content-Range")), (206, b"6789", "bytes 6-9/10"), "6-")


@test
def range_suffix():
    r = ranged("bytes=-3")
    eq((r.status, r.body, r.header("Content-Range")), (206, b"789", "bytes 7-9/10"), "-3")
    r = ranged("bytes=-50")
    eq((r.status, r.body, r.header("Content-Range")), (206, b"0123456789", "bytes 0-9/10"),
       "suffix longer than the file")


@test
def range_unsatisfiable_416():
    for spec in ("bytes=10-", "bytes=10-20", "bytes=-0", "bytes=99999999999999999999999-"):
        with Conn(site().port) as c:
            r = c.request("GET", DIGITS, {"Range": spec})
            eq(r.status, 416, spec)
            eq(r.header("Content-Range"), "bytes */10", "Content-Range for %s" % spec)
            ok(b"0123456789" not in r.body, "416 carried the file")
            r2 = c.request("GET", "/hello.txt")
            eq(r2.status, 200, "request after 416 on the same connection")


@test
def range_multiple_gives_whole_file():
    r = ranged("bytes=0-1,4-5")
    eq((r.status, r.body), (200, b"0123456789"), "two ranges: 200 whole file")
    ok(r.header("Content-Range") is None, "Content-Range on a 200")


@test
def range_invalid_ignored():
    for spec in ("bytes=5-2", "bytes=abc", "items=0-1", "bytes 0-1", "bytes=-", "bytes=1-2-3",
                 "bytes=0x1-2"):
        r = ranged(spec)
        eq((r.status, r.body), (200, b"0123456789"), "Range: %s" % spec)


@test
def range_huge_numbers_do_not_overflow():
    r = ranged("bytes=0-18446744073709551615")
    eq((r.status, r.body), (206, b"0123456789"), "2^64-1 as last")
    r = ranged("bytes=0-18446744073709551616")
    eq((r.status, r.body), (206, b"0123456789"), "2^64 as last")
    r = ranged("bytes=-18446744073709551617")
    eq((r.status, r.body), (206, b"0123456789"), "huge suffix")
    r = ranged("bytes=18446744073709551615-")
    eq(r.status, 416, "2^64-1 as first")
    r = ranged("bytes=9223372036854775807-9223372036854775808")
    eq(r.status, 416, "around 2^63")


@test
def if_range_etag():
    tag = stat_etag(os.path.join(WWW, "range/digits.txt"))
    r = ranged("bytes=0-1", {"If-Range": tag})
    eq((r.status, r.body), (206, b"01"), "matching If-Range tag")
    r = ranged("bytes=0-1", {"If-Range": '"0-0-0-0"'})
    eq((r.status, r.body), (200, b"0123456789"), "other If-Range tag")
    r = ranged("bytes=0-1", {"If-Range": "W/" + tag})
    eq((r.status, r.body), (200, b"0123456789"), "weak If-Range tag never matches")


@test
def if_range_date():
    mtime = int(os.stat(os.path.join(WWW, "range/digits.txt")).st_mtime)
    r = ranged("bytes=0-1", {"If-Range": httpdate(mtime)})
    eq((r.status, r.body), (206, b"01"), "If-Range = Last-Modified")
    r = ranged("bytes=0-1", {"If-Range": httpdate(mtime - 60)})
    eq((r.status, r.body), (200, b"0123456789"), "If-Range older date")
    r = ranged("bytes=0-1", {"If-Range": httpdate(mtime + 60)})
    eq((r.status, r.body), (200, b"0123456789"), "If-Range other date (exact match only)")
    r = ranged("bytes=0-1", {"If-Range": "not a date"})
    eq((r.status, r.body), (200, b"0123456789"), "unparsable If-Range")


@test(timeout=60)
def huge_sparse_file_over_4gib():
    r = req("/huge.bin", method="HEAD")
    eq(r.status, 200, "HEAD status")
    eq(r.header("Content-Length"), str(HUGE_SIZE), "Content-Length of a 5 GiB file")
    r = ranged("bytes=-%d" % len(HUGE_END), path="/huge.bin")
    eq(r.status, 206, "suffix range status")
    eq(r.body, HUGE_END, "bytes at the end")
    eq(r.header("Content-Range"), "bytes %d-%d/%d" % (HUGE_SIZE - len(HUGE_END),
                                                       HUGE_SIZE - 1, HUGE_SIZE), "Content-Range")
    first = 4 * 1024 ** 3
    r = ranged("bytes=%d-%d" % (first - 2, first + len(AT_4G) - 1), path="/huge.bin")
    eq((r.status, r.body), (206, b"\0\0" + AT_4G), "range across 4 GiB")
    r = ranged("bytes=%d-" % (HUGE_SIZE - 3), path="/huge.bin")
    eq((r.status, r.body), (206, b"GE!"), "open range near the end")
    # A GET of the whole file announces the full length; read a little, then leave.
    with Conn(site().port) as c:
        c.send(b"GET /huge.bin HTTP/1.1\r\nHost: a\r\n\r\n")
        head = c.read_head()
        ok(b"\r\nContent-Length: %d\r\n" % HUGE_SIZE in head + b"\r\n", "GET head: %r" % head)
    served_after()


@test
def big_file_integrity():
    want = BIG_BIN
    r = req("/big.bin", timeout=10)
    eq(r.status, 200, "status")
    eq(len(r.body), len(want), "length")
    ok(r.body == want, "content differs")
    r = ranged("bytes=1000000-1000009", path="/big.bin")
    eq((r.status, r.body), (206, want[1000000:1000010]), "range in a large file")


@test
def large_body_tail_is_not_held_back():
    """A body sent in several sendfile calls (a 64 KiB receive buffer keeps
    the socket full) leaves with the socket corked in between; the last
    call must uncork it, or the tail would wait for the kernel's 200 ms
    cork timer on every response."""
    want = BIG_BIN
    took = []
    with Conn(site().port, rcvbuf=65536) as c:
        for _ in range(9):
            t0 = time.monotonic()
            r = c.request("GET", "/big.bin")
            took.append(time.monotonic() - t0)
            eq(r.status, 200, "status")
            ok(r.body == want, "content differs (%d bytes)" % len(r.body))
    took.sort()
    ok(took[4] < 0.15, "median response time %.3f s (all: %s)"
       % (took[4], ", ".join("%.3f" % t for t in took)))


@test(timeout=30)
def file_shrinking_while_sent_closes():
    """A file cut short during sendfile: the response stops at the new end and
    the connection is closed; nothing is padded or invented. (sendfile sends
    pages by reference, so the cut lies far beyond anything already queued:
    a 64 KiB receive buffer and at most 4 MiB of send buffer.)"""
    pattern = bytes(range(256)) * 4096 * 32     # 32 MiB
    cut = 16 << 20
    p = write_file(WWW, "shrink.bin", pattern)
    with Conn(site().port, rcvbuf=65536) as c:
        c.send(b"GET /shrink.bin HTTP/1.1\r\nHost: a\r\n\r\n")
        head = c.read_head()
        ok(b"Content-Length: %d" % len(pattern) in head, "head %r" % head)
        got = bytearray(c.buf)
        c.buf = b""
        while len(got) < 65536:
            got += c.sock.recv(65536)
        os.truncate(p, cut)
        deadline = time.monotonic() + 10
        c.sock.settimeout(1)
        eof = False
        while time.monotonic() < deadline:
            try:
                d = c.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                eof = True
                break
            if not d:
                eof = True
                break
            got += d
        ok(eof, "connection still open 10s after the file shrank (%d bytes received)" % len(got))
        eq(len(got), cut, "body bytes received from a file cut to %d bytes" % cut)
        if got != pattern[:len(got)]:
            at = next(i for i in range(len(got)) if got[i] != pattern[i])
            raise AssertionError("bytes received differ from the file's at offset %d" % at)
    os.unlink(p)
    served_after()


# ---------------------------------------------------------------- precompressed variants

PAGE = "/comp/page.html"


def variant(ae, path=PAGE, extra=None, method="GET"):
    h = {"Accept-Encoding": ae} if ae is not None else {}
    h.update(extra or {})
    return req(path, h, method=method)


BODY_FOR = {"gzip": b"GZIP-VARIANT", "br": b"BROTLI-VARIANT", "zstd": b"ZSTD-VARIANT",
            None: b"PLAIN-PAGE"}


@test
def precompressed_chosen_per_accept_encoding():
    cases = [
        ("gzip", ("gzip",)),
        ("br", ("br",)),
        ("zstd", ("zstd",)),
        ("GZIP", ("gzip",)),
        ("gzip, deflate, br", ("gzip", "br")),
        ("br;q=0, gzip", ("gzip",)),
        ("gzip;q=0, zstd;q=0.5", ("zstd",)),
        ("*", ("gzip", "br", "zstd")),
        ("*, br;q=0, zstd;q=0", ("gzip",)),
        ("gzip;q=0", (None,)),
        ("identity", (None,)),
        ("deflate", (None,)),
        ("", (None,)),
        (None, (None,)),
    ]
    for ae, allowed in cases:
        r = variant(ae)
        eq(r.status, 200, "status for %r" % ae)
        ce = r.header("Content-Encoding")
        ok(ce in allowed, "Accept-Encoding %r gave Content-Encoding %r" % (ae, ce))
        eq(r.body, BODY_FOR[ce], "body for Accept-Encoding %r" % ae)
        eq((r.header("Content-Type") or "").split(";")[0], "text/html",
           "Content-Type of the variant for %r" % ae)
        if ce is not None:
            ok("accept-encoding" in (r.header("Vary") or "").lower(),
               "no Vary: Accept-Encoding for %r" % ae)
            eq(r.header("Content-Length"), str(len(BODY_FOR[ce])), "variant length")


@test
def precompressed_own_etag():
    plain = variant(None).header("ETag")
    gz = variant("gzip")
    tag = gz.header("ETag")
    ok(tag and tag != plain, "gzip ETag %r equals identity ETag %r" % (tag, plain))
    ok(tag != variant("br").header("ETag"), "gzip and br share an ETag")
    r = variant("gzip", extra={"If-None-Match": tag})
    eq(r.status, 304, "gzip ETag revalidates")
    r = variant(None, extra={"If-None-Match": tag})
    eq(r.status, 200, "gzip ETag does not validate the identity response")
    r = variant("gzip", extra={"If-None-Match": plain})
    eq(r.status, 200, "identity ETag does not validate the gzip response")


@test
def precompressed_not_used_when_older():
    r = variant("gzip", path="/comp/old.html")
    eq((r.header("Content-Encoding"), r.body), (None, b"NEWER-PLAIN"), "older .gz")
    r = variant("gzip", path="/comp/gzonly.css")
    eq((r.header("Content-Encoding"), r.body), ("gzip", b"GZIP-CSS"), "newer .gz")
    eq((r.header("Content-Type") or "").split(";")[0], "text/css", "type of FILE")


@test
def precompressed_not_used_when_unpublishable():
    r = variant("gzip", path="/comp/priv.html")
    eq((r.header("Content-Encoding"), r.body), (None, b"PLAIN-PRIV"), "0600 .gz")


@test
def precompressed_range_served_from_identity():
    r = variant("gzip, br, zstd", extra={"Range": "bytes=0-4"})
    eq(r.status, 206, "status")
    eq(r.header("Content-Encoding"), None, "Content-Encoding on a range")
    eq(r.body, b"PLAIN", "range of the identity file")
    eq(r.header("Content-Range"), "bytes 0-4/10", "Content-Range of the identity file")


@test
def precompressed_head():
    r = variant("gzip", method="HEAD")
    eq((r.status, r.body, r.header("Content-Encoding"), r.header("Content-Length")),
       (200, b"", "gzip", str(len(b"GZIP-VARIANT"))), "HEAD of a gzip variant")


# ---------------------------------------------------------------- headers

def check_common_headers(r, what, server_value):
    d = r.header("Date")
    ok(d and DATE_RE.match(d), "%s: Date %r" % (what, d))
    t = email.utils.parsedate_to_datetime(d).timestamp()
    ok(abs(t - time.time()) < 5, "%s: Date %r is not now" % (what, d))
    eq(r.header("Server"), server_value, "%s: Server" % what)
    if r.status != 304:
        ok(r.has("Content-Length"), "%s: no Content-Length" % what)
        eq(int(r.header("Content-Length")), len(r.body), "%s: Content-Length vs body" % what)
    eq(r.header("X-Content-Type-Options"), "nosniff", "%s: X-Content-Type-Options" % what)
    for name in ("Date", "Server", "Content-Length", "Connection", "ETag", "Content-Type"):
        ok(len(r.header_all(name)) <= 1, "%s: %s sent twice" % (what, name))


def responses_of_every_kind(kind="default"):
    s = site(kind)
    tag = stat_etag(cached_path())
    out = []
    for what, data in [
        ("200", b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("206", b"GET /range/digits.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n"),
        ("301", b"GET /dir HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("304", ("GET /cache/file.txt HTTP/1.1\r\nHost: a\r\nIf-None-Match: %s\r\n\r\n"
                 % tag).encode()),
        ("404", b"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("405", b"POST /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("416", b"GET /range/digits.txt HTTP/1.1\r\nHost: a\r\nRange: bytes=20-\r\n\r\n"),
        ("400", b"GET /hello.txt HTTP/1.1\r\n\r\n"),
        ("431", b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 200 + b"\r\n"),
        ("501", b"BREW / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ("505", b"GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
    ]:
        with Conn(s.port) as c:
            c.send(data)
            r = c.read_response()
        eq(str(r.status), what, "status")
        out.append((what, r))
    return out


@test
def every_response_has_date_server_length_nosniff():
    server = "hermit/" + version()
    for what, r in responses_of_every_kind():
        check_common_headers(r, what, server)
        if r.status >= 400:
            eq((r.header("Content-Type") or "").split(";")[0], "text/html",
               "%s: error body type" % what)
            ok(0 < len(r.body) < 1024, "%s: error body of %d bytes" % (what, len(r.body)))


@test
def hide_version():
    for what, r in responses_of_every_kind("hidden"):
        check_common_headers(r, what, "hermit")


@test
def connection_close_only_when_closing():
    """Connection: close is sent exactly when the server then closes."""
    for method, path in (("GET", "/nope"), ("GET", "/private.txt"), ("GET", "/dir"),
                         ("GET", "/hello.txt"), ("POST", "/hello.txt"), ("BREW", "/"),
                         ("GET", "/range/digits.txt")):
        with Conn(site().port) as c:
            hdr = {"Range": "bytes=50-"} if path == "/range/digits.txt" else None
            r = c.request(method, path, hdr)
            says_close = (r.header("Connection") or "").lower() == "close"
            closed = c.closed(1.0)
            eq(closed, says_close, "%s %s (%d): closed vs Connection: close" %
               (method, path, r.status))
            if not closed:
                r = c.request("GET", "/hello.txt")
                eq(r.status, 200, "request after %s %s" % (method, path))


# ---------------------------------------------------------------- bad input

@test
def oversized_request_line_414():
    expect_close_status(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414)


@test
def oversized_headers_431():
    expect_close_status(b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
                        431, what="one 9000-byte field")
    many = b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 95) for i in range(95))
    expect_close_status(b"GET / HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n", 431,
                        what="95 fields of 100 bytes")


@test
def headers_just_under_limits_accepted():
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(98))
    r = parse_responses(raw(site().port, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n"
                            b"Connection: close\r\n" + fields + b"\r\n"))[0]
    eq(r.status, 200, "100 fields (the default limit)")
    pad = b"X-Pad: " + b"p" * 7000 + b"\r\n"
    r = parse_responses(raw(site().port, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n"
                            b"Connection: close\r\n" + pad + b"\r\n"))[0]
    eq(r.status, 200, "a 7 KiB head")


@test
def too_many_fields_431():
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(101))
    expect_close_status(b"GET / HTTP/1.1\r\nHost: a\r\n" + fields + b"\r\n", 431)


@test
def empty_lines_before_request_line():
    get = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    rs = parse_responses(raw(site().port, b"\r\n" + get))
    eq([(r.status, r.body) for r in rs], [(200, HELLO)], "one empty line")
    rs = parse_responses(raw(site().port, b"\r\n" * 8 + get))
    eq([(r.status, r.body) for r in rs], [(200, HELLO)], "eight empty lines")
    expect_close_status(b"\r\n" * 9 + get, 400, what="nine empty lines")
    expect_close_status(b"\r\n" * 5000 + get, 400, what="5000 empty lines")
    expect_close_status(b"\r\n" * 5000, 400, what="5000 empty lines and nothing else")


@test
def bare_lf_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\nHost: a\n\n", 400, what="all bare LF")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\n\r\n", 400, what="one bare LF")


@test
def bare_cr_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400)


@test
def obs_fold_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n", 400)
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n", 400,
                        what="fold with a tab")


@test
def space_before_colon_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost : a\r\n\r\n", 400)
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A\t: b\r\n\r\n", 400,
                        what="tab before colon")


@test
def nul_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n", 400,
                        what="NUL in a value")
    expect_close_status(b"GET /hello\0.txt HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        what="NUL in the target")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHo\0st: a\r\n\r\n", 400,
                        what="NUL in a name")


@test
def invalid_token_characters_400():
    for data in (b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n",
                 b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n",
                 b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A b\r\n\r\n",
                 b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: b\x01c\r\n\r\n",
                 b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-A: b\x7fc\r\n\r\n",
                 b"G(T /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                 b"GET  /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                 b"GET /hello.txt  HTTP/1.1\r\nHost: a\r\n\r\n",
                 b"GET /hello.txt HTTP/1.1 \r\nHost: a\r\n\r\n",
                 b"GET /he llo.txt HTTP/1.1\r\nHost: a\r\n\r\n",
                 b"GET /hello.txt http/1.1\r\nHost: a\r\n\r\n",
                 b" GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"):
        expect_close_status(data, 400)


@test
def body_on_get_400_and_close():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
                        400, what="Content-Length: 5")
    expect_close_status(b"HEAD /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx",
                        400, what="HEAD with Content-Length: 1")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked"
                        b"\r\n\r\n0\r\n\r\n", 400, what="Transfer-Encoding: chunked")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity"
                        b"\r\n\r\n", 400, what="Transfer-Encoding: identity")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                        400, what="Content-Length: -1")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
                        400, what="Content-Length: abc")


@test
def content_length_zero_accepted():
    with Conn(site().port) as c:
        r = c.request("GET", "/hello.txt", {"Content-Length": "0"})
        eq((r.status, r.body), (200, HELLO), "Content-Length: 0")
        r = c.request("GET", "/hello.txt")
        eq(r.status, 200, "next request on the same connection")


@test
def smuggling_cl_te_400():
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, what="CL + TE")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                        b"Content-Length: 0\r\n\r\n0\r\n\r\n", 400, what="TE + CL")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                        b"Content-Length: 0\r\n\r\n", 400, what="two Content-Length")
    expect_close_status(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n"
                        b"Content-Length: 44\r\n\r\n", 400, what="conflicting Content-Length")
    # A smuggled second request inside a body must never be answered.
    s = site()
    smuggled = b"GET /private.txt HTTP/1.1\r\nHost: a\r\n\r\n"
    data = raw(s.port, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n"
               % len(smuggled) + smuggled, timeout=3)
    rs = parse_responses(data)
    eq([r.status for r in rs], [400], "responses to a request with a smuggled body")


@test
def after_bad_requests_others_served():
    s = site()
    conns = [Conn(s.port) for _ in range(5)]
    try:
        for c in conns:
            c.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64))
        for c in conns:
            c.read_all(timeout=3)
        with Conn(s.port) as good:
            r = good.request("GET", "/hello.txt")
            eq((r.status, r.body), (200, HELLO), "served after TLS and garbage")
    finally:
        for c in conns:
            c.close()
    served_after()


run_all("it_http")
