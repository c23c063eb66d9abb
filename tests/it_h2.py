#!/usr/bin/env python3
"""HTTP/2: hermit serving h2 over TLS (ALPN "h2", "http/1.1"; --no-h2 offers
only the second) and cleartext h2 with prior knowledge (--h2c), on its own
listeners, systemd sockets, --stdio (with --tls or --h2c), behind a PROXY
header and behind HAProxy speaking h2. What is checked: negotiation; the
same answers as HTTP/1.1 (publishing policy, virtual hosts by :authority,
validators, ranges, precompressed variants, HEAD, methods, the site's 404
page, _headers and _redirects, listings, HSTS, one access log line per
stream); HTTP/2 response headers; flow control both ways (every DATA frame
within the windows, stalled and trickled windows, refused request bodies);
large files, interleaved streams and cancels (frames made here, curl,
nghttp, h2load); RFC 9113 §8 request validation and stream id misuse;
limits (SETTINGS, header blocks, streams at once and per connection);
attacks (rapid reset, CONTINUATION flood, HPACK bombs, SETTINGS, PING,
PRIORITY, WINDOW_UPDATE, empty DATA and unknown frame floods, a zero
window, a bare preface, a stalled header block, idle streams) while a
normal client keeps being served and memory stays bounded; deadlines;
SIGTERM's GOAWAY and grace.

Frames are written by hand (struct) so that invalid ones can be sent; HPACK
comes from python3-hpack, which python3-h2 depends on.

Run from the top of the repository: python3 tests/it_h2.py ./hermit [TEST...]
"""

import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

try:
    import hpack
    import h2.connection  # noqa: F401  (the package the suite needs: python3-h2)
except ImportError:
    # Debian's python3-h2 lives in dist-packages, which another interpreter
    # on PATH may not search.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import hpack
        import h2.connection  # noqa: F401
    except ImportError:
        print("SKIP it_h2: python3-h2 is not installed")
        print("it_h2: 0 passed, 0 failed, 1 skipped")
        sys.exit(0)

if not have_tool("openssl"):
    print("SKIP it_h2: the openssl command is not installed")
    print("it_h2: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

# A sanitized server keeps freed memory aside (ASan's quarantine, 256 MiB by
# default), which the attacks' bound on memory would count as growth.
if "quarantine_size_mb" not in os.environ.get("ASAN_OPTIONS", ""):
    os.environ["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"] + ":quarantine_size_mb=16"

# ---------------------------------------------------------------- frames

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, \
    WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20

NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, \
    STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR, \
    CONNECT_ERROR, ENHANCE_YOUR_CALM = range(12)
ERRORS = dict(enumerate((
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
    "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
    "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED")))

S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, S_INITIAL_WINDOW_SIZE, \
    S_MAX_FRAME_SIZE, S_MAX_HEADER_LIST_SIZE = range(1, 7)


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", ftype, flags, sid) + payload


def settings_frame(pairs=(), ack=False):
    return frame(SETTINGS, ACK if ack else 0, 0,
                 b"".join(struct.pack(">HI", k, v) for k, v in pairs))


def window_update(sid, n):
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", n))


def rst(sid, code=CANCEL):
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code))


def hint(n, prefix_bits, first=0):
    """An HPACK integer (RFC 7541 §5.1) with the given prefix."""
    top = (1 << prefix_bits) - 1
    if n < top:
        return bytes([first | n])
    out = [first | top]
    n -= top
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    out.append(n)
    return bytes(out)


def lit(name, value, indexing=False):
    """A literal header field with a literal name, never Huffman-coded: it
    leaves the dynamic table alone (unless indexing), so any name, even an
    invalid one, can be sent without an encoder's state."""
    if isinstance(name, str):
        name = name.encode()
    if isinstance(value, str):
        value = value.encode()
    return (b"\x40" if indexing else b"\x00") + hint(len(name), 7) + name + \
        hint(len(value), 7) + value


def block(headers):
    return b"".join(lit(k, v) for k, v in headers)


def req_headers(path="/index.html", method="GET", authority="localhost", scheme="http",
                extra=()):
    h = [(":method", method), (":scheme", scheme), (":authority", authority), (":path", path)]
    return h + list(extra)


def headers_frames(sid, hblock, end_stream=True, max_frame=16384):
    """HEADERS (+ CONTINUATION) frames carrying hblock."""
    parts = [hblock[i:i + max_frame] for i in range(0, len(hblock), max_frame)] or [b""]
    out = []
    for i, p in enumerate(parts):
        flags = END_HEADERS if i == len(parts) - 1 else 0
        if i == 0:
            out.append(frame(HEADERS, flags | (END_STREAM if end_stream else 0), sid, p))
        else:
            out.append(frame(CONTINUATION, flags, sid, p))
    return b"".join(out)


class Stream:
    def __init__(self):
        self.headers = None     # list of (name, value) bytes, as received
        self.body = bytearray()
        self.data_frames = 0
        self.received = 0       # body bytes, kept or not
        self.ended = False
        self.reset = None       # the RST_STREAM error code
        self.trailers = None
        self.method = None

    @property
    def status(self):
        return int(self.header(":status")) if self.headers else None

    def header(self, name, default=None):
        if isinstance(name, str):
            name = name.encode()
        for k, v in self.headers or ():
            if k == name:
                return v.decode("latin-1")
        return default

    def done(self):
        return self.ended or self.reset is not None

    def __repr__(self):
        return "<stream status=%s reset=%s body=%d ended=%s>" % (
            self.status, ERRORS.get(self.reset, self.reset), len(self.body), self.ended)


class H2(Conn):
    """A client connection speaking HTTP/2 frame by frame (a harness Conn
    for its socket's life: send, close, with).

    tls: over TLS with ALPN h2; sock: an already
    connected socket (--stdio). settings: the client's SETTINGS; window: how
    far to open the connection window at once; auto_window: give back
    flow-control credit for every DATA frame (a client that reads);
    prefix: bytes before the preface (a PROXY protocol header);
    ack_settings: acknowledge the server's SETTINGS."""

    def __init__(self, port=None, tls=False, sock=None, settings=None, window=16 << 20,
                 auto_window=True, timeout=10.0, preface=True, prefix=b"", ack_settings=True):
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(("127.0.0.1", port))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(pki("ec.crt"))
            ctx.set_alpn_protocols(["h2"])
            sock = ctx.wrap_socket(sock, server_hostname="localhost")
            self.alpn = sock.selected_alpn_protocol()
        self.sock = sock
        self.sock.settimeout(timeout)
        self.buf = b""
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 24
        self.streams = {}
        self.next_sid = 1
        self.server_settings = None     # the first SETTINGS, as a dict
        self.settings_acked = False
        self.goaway = None              # (last stream id, error code)
        self.closed = False
        self.frames = []                # (type, flags, sid) of everything received
        self.auto_window = auto_window
        self.ack_settings = ack_settings
        self._hb = None                 # (sid, flags, block so far) in a header block
        self.stalled = set()            # streams given no credit back
        self.ack_step = 1 << 30         # credit given back in pieces of this size
        self.keep_bodies = True
        # Flow control both ways: what the server may still send (checked
        # against every DATA frame: self.violations) and what it granted.
        if settings is None:
            settings = [(S_ENABLE_PUSH, 0), (S_INITIAL_WINDOW_SIZE, 1 << 20)]
        self.initial_window = dict(settings).get(S_INITIAL_WINDOW_SIZE, 65535)
        self.max_frame = dict(settings).get(S_MAX_FRAME_SIZE, 16384)
        self.recv_windows = {0: 65535 + (window if preface else 0)}
        self.violations = []
        self.granted = {0: 0}           # WINDOW_UPDATE increments from the server
        self.body_sent = {0: 0}
        if preface:
            out = prefix + PREFACE + settings_frame(settings)
            if window:
                out += window_update(0, window)
            self.send(out)

    def send(self, data):
        """Sends; a connection the server has closed stays closed (what it
        said before is still read), so a test sees how it ended."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def request(self, path="/index.html", method="GET", headers=(), authority="localhost",
                end_stream=True, scheme="http"):
        """Sends a request; returns its stream id."""
        sid = self.next_sid
        self.next_sid += 2
        self.streams[sid] = Stream()
        self.streams[sid].method = method
        self.send(headers_frames(sid, block(req_headers(path, method, authority, scheme,
                                                         headers)), end_stream))
        return sid

    def raw_stream(self):
        """A stream id for a hand-made request."""
        sid = self.next_sid
        self.next_sid += 2
        self.streams[sid] = Stream()
        return sid

    # -- receiving

    def pump(self, timeout):
        """Reads what arrives within timeout and handles its frames.
        Returns False once the connection is closed."""
        if self.closed:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            d = self.sock.recv(1 << 18)
        except (socket.timeout, ssl.SSLWantReadError):
            return True
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            d = b""
        if not d:
            self.closed = True
            return False
        self.buf += d
        out = b""
        while len(self.buf) >= 9:
            n = struct.unpack(">I", b"\0" + self.buf[:3])[0]
            if len(self.buf) < 9 + n:
                break
            ftype, flags, sid = struct.unpack(">BBI", self.buf[3:9])
            sid &= 0x7fffffff
            payload = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            out += self._frame(ftype, flags, sid, payload)
        if out:
            try:
                self.send(out)
            except OSError:
                pass
        return True

    def _frame(self, ftype, flags, sid, payload):
        self.frames.append((ftype, flags, sid))
        reply = b""
        st = self.streams.setdefault(sid, Stream()) if sid else None
        if ftype == SETTINGS:
            if flags & ACK:
                self.settings_acked = True
            else:
                got = dict(struct.unpack(">HI", payload[i:i + 6])
                           for i in range(0, len(payload), 6))
                if self.server_settings is None:
                    self.server_settings = got
                if self.ack_settings:
                    reply += settings_frame(ack=True)
        elif ftype == PING:
            if not flags & ACK:
                reply += frame(PING, ACK, 0, payload)
        elif ftype == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            self.goaway = (last & 0x7fffffff, code)
        elif ftype == RST_STREAM:
            st.reset = struct.unpack(">I", payload[:4])[0]
        elif ftype in (HEADERS, CONTINUATION):
            if ftype == HEADERS:
                if flags & PADDED:
                    pad = payload[0]
                    payload = payload[1:len(payload) - pad]
                if flags & PRIO:
                    payload = payload[5:]
                self._hb = (sid, flags, payload)
            else:
                self._hb = (self._hb[0], self._hb[1], self._hb[2] + payload)
            if flags & END_HEADERS:
                hsid, hflags, hb = self._hb
                self._hb = None
                hs = self.decoder.decode(hb, raw=True)
                hst = self.streams.setdefault(hsid, Stream())
                if hst.headers is None or hst.status is None or hst.status < 200:
                    hst.headers = hs
                else:
                    hst.trailers = hs
                if hflags & END_STREAM:
                    hst.ended = True
        elif ftype == DATA:
            if flags & PADDED:
                body = payload[1:len(payload) - payload[0]]
            else:
                body = payload
            if self.keep_bodies:
                st.body += body
            st.received += len(body)
            st.data_frames += 1
            if flags & END_STREAM:
                st.ended = True
            self.recv_windows.setdefault(sid, self.initial_window)
            for w in (0, sid):
                self.recv_windows[w] -= len(payload)
                if self.recv_windows[w] < 0:
                    self.violations.append("DATA of %d bytes on stream %d past the window "
                                           "of %s" % (len(payload), sid, w or "the connection"))
            if len(payload) > self.max_frame:
                self.violations.append("DATA of %d bytes > SETTINGS_MAX_FRAME_SIZE %d"
                                       % (len(payload), self.max_frame))
            if self.auto_window and payload:
                for at in range(0, len(payload), self.ack_step):
                    n = min(self.ack_step, len(payload) - at)
                    reply += self.grant(0, n, send=False)
                    if not st.ended and sid not in self.stalled:
                        reply += self.grant(sid, n, send=False)
        elif ftype == WINDOW_UPDATE:
            self.granted[sid] = self.granted.get(sid, 0) + \
                (struct.unpack(">I", payload[:4])[0] & 0x7fffffff)
        return reply

    def grant(self, sid, n, send=True):
        """WINDOW_UPDATE: the server may send n bytes more on sid (0: the
        connection)."""
        self.recv_windows[sid] = self.recv_windows.get(sid, self.initial_window) + n
        f = window_update(sid, n)
        if send:
            self.send(f)
        return f

    def send_window(self, sid):
        """What the server's flow control lets this client send on sid."""
        initial = (self.server_settings or {}).get(S_INITIAL_WINDOW_SIZE, 65535)
        conn = 65535 + self.granted[0] - self.body_sent[0]
        return min(conn, initial + self.granted.get(sid, 0) - self.body_sent.get(sid, 0))

    def send_body(self, sid, data, timeout=10.0):
        """DATA frames within the server's windows, the last with
        END_STREAM; stops early (returning the bytes not sent) when the
        stream or connection ends or the window stays shut for timeout."""
        st = self.streams[sid]
        self.settings()
        while True:
            if not self.wait(lambda: st.reset is not None or self.closed or
                             self.send_window(sid) > 0 or not data, timeout):
                return len(data)
            if st.reset is not None or self.closed:
                return len(data)
            n = min(len(data), self.send_window(sid), 16384)
            last = n == len(data)
            self.send(frame(DATA, END_STREAM if last else 0, sid, data[:n]))
            for w in (0, sid):
                self.body_sent[w] = self.body_sent.get(w, 0) + n
            data = data[n:]
            if last:
                return 0

    def wait(self, pred, timeout=10.0):
        """Pumps until pred() holds or the connection closes or timeout;
        returns pred()."""
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or not self.pump(min(left, 0.5)):
                break
        return pred()

    def response(self, sid, timeout=10.0):
        st = self.streams[sid]
        self.wait(st.done, timeout)
        ok(st.done(), "stream %d: no complete response within %.0fs (%r; goaway %r, closed %s)"
           % (sid, timeout, st, self.goaway, self.closed))
        eq(self.violations[:3], [], "flow control")
        cl = st.header("content-length")
        if st.ended and cl is not None and st.method != "HEAD" and st.status != 304:
            eq(st.received, int(cl), "stream %d: body length against its content-length" % sid)
        return st

    def get(self, path="/index.html", method="GET", headers=(), authority="localhost",
            timeout=10.0, scheme="http"):
        return self.response(self.request(path, method, headers, authority, scheme=scheme),
                             timeout)

    def settings(self, timeout=5.0):
        self.wait(lambda: self.server_settings is not None, timeout)
        ok(self.server_settings is not None, "no SETTINGS from the server")
        return self.server_settings

    def wait_closed(self, timeout):
        """Seconds until the server closes the connection, or None."""
        t0 = time.monotonic()
        self.wait(lambda: self.closed, timeout)
        return time.monotonic() - t0 if self.closed else None


# ---------------------------------------------------------------- content

INDEX = b"<p>over h2</p>\n"
BIG = os.urandom(10 * 1024 * 1024)
MID = os.urandom(256 * 1024)
RANGED = bytes(range(256)) * 16
CSS = b"body { color: black; }\n" * 100
OLD = time.time() - 86400 * 30

PKI = tempdir()
self_signed(PKI, "ec")


def pki(name):
    return os.path.join(PKI, name)


def make_root():
    base = tempdir()
    write_file(base, "outside.txt", b"outside the root\n")
    root = os.path.join(base, "site")
    make_tree({
        "index.html": (INDEX, 0o644, OLD),
        "big.bin": BIG,
        "mid.bin": MID,
        "ranged.bin": (RANGED, 0o644, OLD),
        "style.css": CSS,
        "style.css.gz": b"\x1f\x8b pretend gzip of style.css",
        ".hidden/secret.txt": b"secret\n",
        ".env": b"KEY=1\n",
        "sub/index.html": b"sub\n",
        "sub/page.html": b"page\n",
        "list/a.txt": b"a\n",
        "list/b.txt": b"b\n",
    }, root)
    os.symlink(os.path.join(base, "outside.txt"), os.path.join(root, "link-out"))
    os.symlink("index.html", os.path.join(root, "link-in"))
    return root


ROOT = make_root()


def h2_server(args=(), root=ROOT, keep=False, tls=True, h2c=True):
    """hermit on --listen 127.0.0.1:s.port (with --h2c unless h2c=False)
    and, when tls, --listen-tls 127.0.0.1:s.tls_port."""
    full = ["--h2c"] if h2c else []
    tls_port = None
    if tls:
        tls_port = free_port()
        full += ["--listen-tls", "127.0.0.1:%d" % tls_port, "--cert", pki("ec.crt"),
                 "--key", pki("ec.key")]
    s = Server(root, full + list(args), keep=keep)
    s.tls_port = tls_port
    return s


SHARED = None


def shared():
    global SHARED
    if SHARED is None:
        SHARED = h2_server(["--workers", "2", "--listing", "--hsts", "600"], keep=True)
    return SHARED


def h1(port, path, method="GET", headers=None, host="localhost"):
    with Conn(port) as c:
        return c.request(method, path, headers=headers, host=host)


def bad_stream(st, c, what):
    """A malformed request: nghttp2 resets its stream with PROTOCOL_ERROR
    (a stream error, RFC 9113 §8.1.1) before the server sees it; the
    connection lives on."""
    eq(c.goaway, None, "%s: GOAWAY" % what)
    eq((st.status, ERRORS.get(st.reset, st.reset)), (None, "PROTOCOL_ERROR"),
       "%s: status and RST_STREAM code" % what)


# ---------------------------------------------------------------- negotiation

def alpn_of(port, offer):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki("ec.crt"))
    ctx.set_alpn_protocols(list(offer))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw_sock:
        with ctx.wrap_socket(raw_sock, server_hostname="localhost") as s:
            return s.selected_alpn_protocol()


@test
def alpn_prefers_h2_then_http11():
    port = shared().tls_port
    eq(alpn_of(port, ["h2", "http/1.1"]), "h2", "offering h2, http/1.1")
    eq(alpn_of(port, ["http/1.1", "h2"]), "h2", "offering http/1.1, h2 (the server's order)")
    eq(alpn_of(port, ["http/1.1"]), "http/1.1", "offering http/1.1 only")
    with H2(port, tls=True) as c:
        eq(c.alpn, "h2", "ALPN")
        st = c.get("/index.html")
        eq((st.status, bytes(st.body)), (200, INDEX), "GET over h2 on TLS")
    r = curl("--http2", "--cacert", pki("ec.crt"), "-o", "/dev/null", "-w", "%{http_version}",
             "https://127.0.0.1:%d/index.html" % port)
    eq(r.stdout, b"2", "curl --http2: protocol version (stderr %r)" % r.stderr)


@test
def no_h2_offers_only_http11():
    with h2_server(["--no-h2"], h2c=False) as s:
        eq(alpn_of(s.tls_port, ["h2", "http/1.1"]), "http/1.1", "ALPN with --no-h2")
        try:    # RFC 7301 §3.2: no protocol, or the no_application_protocol alert
            eq(alpn_of(s.tls_port, ["h2"]), None, "ALPN offering only h2 with --no-h2")
        except ssl.SSLError as e:
            ok("NO_APPLICATION_PROTOCOL" in str(e).upper().replace(" ", "_"),
               "offering only h2 with --no-h2: %s" % e)
        r = curl("--http2", "--cacert", pki("ec.crt"), "-w", "%{http_version}",
                 "https://127.0.0.1:%d/index.html" % s.tls_port)
        eq(r.stdout, INDEX + b"1.1", "curl --http2 against --no-h2")


@test
def sni_certificates_offer_h2():
    """--certs DIR: whichever certificate SNI picks (its own TLS context),
    ALPN still offers h2 first."""
    d = tempdir()
    for host in ("_default", "b.test"):
        sub = os.path.join(d, host)
        os.makedirs(sub)
        self_signed(sub, "ec", "localhost" if host == "_default" else host)
        os.rename(os.path.join(sub, "ec.crt"), os.path.join(sub, "fullchain.pem"))
        os.rename(os.path.join(sub, "ec.key"), os.path.join(sub, "privkey.pem"))
    port = free_port()
    with Server(ROOT, ["--listen-tls", "127.0.0.1:%d" % port, "--certs", d], listen=False,
                port=port):
        for sni in ("b.test", "localhost", None):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            raw_sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            t = ctx.wrap_socket(raw_sock, server_hostname=sni)
            ok((sni or "localhost").encode() in t.getpeercert(binary_form=True),
               "SNI %s: another certificate" % sni)
            eq(t.selected_alpn_protocol(), "h2", "ALPN with SNI %s" % sni)
            with H2(sock=t) as c:
                eq(c.get("/index.html", scheme="https").status, 200, "GET with SNI %s" % sni)


@test
def systemd_sockets():
    """Sockets from systemd: one named https speaks h2 by ALPN, one named
    http h2c with --h2c, and HTTP/1.1 beside it."""
    lss = []
    for _ in range(2):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(16)
        lss.append(ls)
    tls_port, port = (ls.getsockname()[1] for ls in lss)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    env.update(LISTEN_FDS="2", LISTEN_FDNAMES="https:http")
    try:
        with Server(ROOT, ["--h2c", "--cert", pki("ec.crt"), "--key", pki("ec.key")],
                    listen=False, port=port, env=env, fds={3: lss[0].fileno(),
                                                           4: lss[1].fileno()},
                    listen_pid=True):
            with H2(tls_port, tls=True) as c:
                eq(c.alpn, "h2", "ALPN on the https socket")
                eq(bytes(c.get("/index.html", scheme="https").body), INDEX, "h2 on https")
            with H2(port) as c:
                eq(bytes(c.get("/index.html").body), INDEX, "h2c on http")
            eq(h1(port, "/index.html").body, INDEX, "HTTP/1.1 on http")
    finally:
        for ls in lss:
            ls.close()


@test
def h2c_prior_knowledge_and_http11_on_one_listener():
    port = shared().port
    with H2(port) as c:
        st = c.get("/index.html")
        eq((st.status, bytes(st.body)), (200, INDEX), "h2c GET")
        ok(c.server_settings is not None, "no SETTINGS from the server")
    r = curl("--http2-prior-knowledge", "-w", "%{http_version}",
             "http://127.0.0.1:%d/index.html" % port)
    eq(r.stdout, INDEX + b"2", "curl --http2-prior-knowledge (stderr %r)" % r.stderr)
    r = h1(port, "/index.html")
    eq((r.version, r.status, r.body), ("HTTP/1.1", 200, INDEX), "HTTP/1.1 beside h2c")


@test
def preface_without_h2c_is_an_http11_error():
    with h2_server(tls=False, h2c=False) as s:
        with Conn(s.port) as c:
            c.send(PREFACE + settings_frame())
            r = c.read_response()
            ok(r.version.startswith("HTTP/1.") and 400 <= r.status < 600,
               "answer to the preface without --h2c: %s %s" % (r.version, r.status))
            ok(c.closed(3), "the connection stayed open after the error")
        eq(h1(s.port, "/index.html").status, 200, "HTTP/1.1 afterwards")


@test
def upgrade_h2c_is_served_as_http11():
    with Conn(shared().port) as c:
        r = c.request("GET", "/index.html", headers={
            "Connection": "Upgrade, HTTP2-Settings", "Upgrade": "h2c",
            "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"})
        eq((r.version, r.status, r.body), ("HTTP/1.1", 200, INDEX), "answer to Upgrade: h2c")
        ok(not r.has("Upgrade"), "an Upgrade header in the answer")


@test
def stdio_h2c():
    ours, theirs = socket.socketpair()
    try:
        s = Server(ROOT, ["--stdio", "--h2c"], listen=False, wait=False,
                   stdin=theirs.fileno(), stdout=theirs.fileno())
        theirs.close()
        with s:
            with H2(sock=ours) as c:
                a = c.request("/index.html")
                b = c.request("/mid.bin")
                sa, sb = c.response(a), c.response(b)
                eq((sa.status, bytes(sa.body)), (200, INDEX), "first stream")
                eq(sb.status, 200, "second stream")
                ok(bytes(sb.body) == MID, "256 KiB over stdio differs (%d bytes)" % len(sb.body))
                ours.shutdown(socket.SHUT_WR)
                c.wait_closed(5)
            eq(s.proc.wait(5), 0, "exit status after the connection ended")
            lines = s.access_lines()
            eq(len(lines), 2, "access lines: %r" % lines)
    finally:
        ours.close()


@test
def stdio_tls_alpn_h2():
    ours, theirs = socket.socketpair()
    try:
        s = Server(ROOT, ["--stdio", "--tls", "--cert", pki("ec.crt"), "--key", pki("ec.key")],
                   listen=False, wait=False, stdin=theirs.fileno(), stdout=theirs.fileno())
        theirs.close()
        with s:
            with H2(sock=ours, tls=True) as c:
                eq(c.alpn, "h2", "ALPN over --stdio --tls")
                st = c.get("/mid.bin", scheme="https")
                ok(st.status == 200 and bytes(st.body) == MID, "256 KiB over --stdio --tls")
            eq(s.proc.wait(5), 0, "exit status after the connection ended")
            ok(any("HTTP/2.0" in l for l in s.access_lines()), "access lines: %r"
               % s.access_lines())
    finally:
        ours.close()


@test(timeout=60)
def behind_haproxy_proto_h2():
    """HAProxy in front, speaking h2 to hermit (server ... proto h2) with a
    PROXY v2 header: answers exact through it, logged as HTTP/2.0 with the
    client's address."""
    with h2_server(["--proxy-protocol"], tls=False) as s:
        front = free_port()
        conf = ["global", "  maxconn 100", "defaults", "  mode http",
                "  timeout connect 2s", "  timeout client 20s", "  timeout server 20s",
                "frontend f", "  bind 127.0.0.1:%d" % front, "  default_backend b",
                "backend b", "  server h 127.0.0.1:%d proto h2 send-proxy-v2" % s.port]
        hp = haproxy(conf, front)
        try:
            for path, body in (("/index.html", INDEX), ("/mid.bin", MID), ("/big.bin", BIG)):
                c = socket.socket()
                c.settimeout(20)
                c.bind(("127.0.0.2", 0))
                c.connect(("127.0.0.1", front))
                with Conn.wrap(c, 20) as conn:
                    try:
                        r = conn.request("GET", path)
                    except ConnectionError as e:
                        raise AssertionError("%s through haproxy: %s" % (path, e))
                eq(r.status, 200, "%s through haproxy" % path)
                ok(r.body == body, "%s through haproxy differs (%d bytes)" % (path, len(r.body)))
            lines = wait_for(lambda: len(s.access_lines()) >= 3 and s.access_lines(), 5) or []
            eq(len(lines), 3, "access lines: %r" % s.access_lines())
            ok(all(l.startswith("127.0.0.2 ") and "HTTP/2.0" in l for l in lines),
               "access lines: %r" % lines)
        finally:
            hp.kill()
            hp.wait(5)


# ---------------------------------------------------------------- same answers as HTTP/1.1

@test
def response_headers_over_tls_and_h2c():
    for tls in (False, True):
        with H2(shared().tls_port if tls else shared().port, tls=tls) as c:
            st = c.get("/index.html", scheme="https" if tls else "http")
            what = "TLS" if tls else "h2c"
            eq(st.status, 200, "%s status" % what)
            names = [k for k, v in st.headers]
            eq(names[0], b":status", "%s: first field" % what)
            ok(all(k == k.lower() for k in names), "%s: uppercase names %r" % (what, names))
            for bad in (b"connection", b"keep-alive", b"transfer-encoding", b"upgrade",
                        b"proxy-connection"):
                ok(bad not in names, "%s: a %s header" % (what, bad.decode()))
            for need in ("server", "date", "content-length", "content-type", "etag",
                         "last-modified"):
                ok(st.header(need), "%s: no %s header in %r" % (what, need, names))
            eq(st.header("content-length"), str(len(INDEX)), "%s: content-length" % what)
            ok(st.header("content-type").startswith("text/html"), "content-type")
            eq(names.count(b":status"), 1, "%s: one :status" % what)


@test
def hpack_table_size_zero():
    """A client that allows no HPACK dynamic table (SETTINGS_HEADER_TABLE_SIZE
    0): the server's header blocks never index a field (the decoder here
    refuses any that would)."""
    with H2(shared().port, settings=[(S_ENABLE_PUSH, 0), (S_HEADER_TABLE_SIZE, 0)]) as c:
        c.decoder.max_allowed_table_size = 0
        c.decoder.header_table_size = 0
        c.settings()
        for path in ("/index.html", "/mid.bin", "/nope", "/index.html"):
            st = c.get(path)
            ok(st.status in (200, 404), "%s: %r" % (path, st))


POLICY_PATHS = ["/index.html", "/.hidden/secret.txt", "/.env", "/link-out", "/link-in",
                "/../outside.txt", "/%2e%2e/outside.txt", "/sub/../../outside.txt",
                "/nope.html", "/sub", "/sub/", "/sub/page.html", "/sub%2fpage.html",
                "/a%00b", "/%zz", "/index.html?x=1", "/\\index.html", "/index.html#frag",
                "/a\x80b", "/list", "/list/"]


@test
def publishing_policy_same_as_http11():
    s = shared()
    with H2(s.port) as c:
        for path in POLICY_PATHS:
            want = h1(s.port, path)
            st = c.get(path)
            if st.status is None and 400 <= want.status < 500:
                # A :path nghttp2 finds malformed never reaches the server.
                eq(ERRORS.get(st.reset), "PROTOCOL_ERROR", "reset of %s" % path)
                continue
            eq(st.status, want.status, "status of %s (HTTP/1.1 gives %d)" % (path, want.status))
            if want.status == 200:
                eq(bytes(st.body), want.body, "body of %s" % path)
                eq(st.header("etag"), want.header("ETag"), "etag of %s" % path)
            if want.status in (301, 302, 307, 308):
                eq(st.header("location"), want.header("Location"), "location of %s" % path)
    with H2(s.port) as c:
        st = c.get("/link-out")
        ok(b"outside the root" not in st.body, "a symlink out of the root was followed")


@test
def vhosts_by_authority():
    vroot = make_tree({"a.test/index.html": b"site a\n", "b.test/index.html": b"site b\n",
                       "_default/index.html": b"default\n"})
    with h2_server(["--vhosts"], root=vroot, tls=False) as s:
        with H2(s.port) as c:
            for auth, body in (("a.test", b"site a\n"), ("b.test", b"site b\n"),
                               ("A.TEST", b"site a\n"), ("b.test:%d" % s.port, b"site b\n")):
                st = c.get("/", authority=auth)
                eq((st.status, bytes(st.body)), (200, body), ":authority %s" % auth)
            # No :authority, a Host field instead (RFC 9113 §8.3.1): that Host.
            sid = c.raw_stream()
            c.send(headers_frames(sid, block([(":method", "GET"), (":scheme", "http"),
                                              (":path", "/"), ("host", "b.test")])))
            st = c.response(sid)
            eq((st.status, bytes(st.body)), (200, b"site b\n"), "host without :authority")
            # Both, naming different sites: :authority wins, or the request
            # is refused; never the Host's site.
            st = c.get("/", authority="a.test", headers=[("host", "b.test")])
            ok(st.status in (400, 421) or (st.status == 200 and bytes(st.body) == b"site a\n"),
               ":authority a.test with host b.test: %r %r" % (st, bytes(st.body)))
            for auth in ("nosuch.test", "_default", "a.test:80x", "user@a.test", "a.test:",
                         "[::1]:80", "a.test.", ".."):
                want = h1(s.port, "/", host=auth).status
                st = c.get("/", authority=auth)
                if st.status is None and want == 400:
                    eq(ERRORS.get(st.reset), "PROTOCOL_ERROR", ":authority %s: reset" % auth)
                    continue
                eq(st.status, want, ":authority %s (HTTP/1.1 gives %d)" % (auth, want))
        lines = s.access_lines()
        ok(any(l.startswith("a.test ") and "HTTP/2.0" in l for l in lines),
           "no access line with the vhost a.test: %r" % lines[:3])


@test
def validators_304_and_if_modified_since():
    with H2(shared().port) as c:
        st = c.get("/index.html")
        etag, lm = st.header("etag"), st.header("last-modified")
        ok(etag and lm, "validators missing")
        st = c.get("/index.html", headers=[("if-none-match", etag)])
        eq((st.status, bytes(st.body)), (304, b""), "If-None-Match with the ETag")
        eq(st.header("etag"), etag, "ETag on the 304")
        st = c.get("/index.html", headers=[("if-none-match", '"other"')])
        eq(st.status, 200, "If-None-Match with another ETag")
        st = c.get("/index.html", headers=[("if-modified-since", lm)])
        eq(st.status, 304, "If-Modified-Since with Last-Modified")
        st = c.get("/index.html", headers=[("if-modified-since",
                                            "Sat, 01 Jan 2000 00:00:00 GMT")])
        eq((st.status, bytes(st.body)), (200, INDEX), "If-Modified-Since long ago")


@test
def range_and_if_range():
    with H2(shared().port) as c:
        st = c.get("/ranged.bin", headers=[("range", "bytes=100-1099")])
        eq(st.status, 206, "Range status")
        eq(bytes(st.body), RANGED[100:1100], "Range body")
        eq(st.header("content-range"), "bytes 100-1099/%d" % len(RANGED), "content-range")
        eq(st.header("content-length"), "1000", "content-length")
        etag = st.header("etag")
        st = c.get("/ranged.bin", headers=[("range", "bytes=-10"), ("if-range", etag)])
        eq((st.status, bytes(st.body)), (206, RANGED[-10:]), "If-Range with the ETag")
        st = c.get("/ranged.bin", headers=[("range", "bytes=-10"), ("if-range", '"stale"')])
        eq((st.status, bytes(st.body)), (200, RANGED), "If-Range with another ETag")
        st = c.get("/ranged.bin", headers=[("range", "bytes=999999-")])
        want = h1(shared().port, "/ranged.bin", headers={"Range": "bytes=999999-"})
        eq(st.status, want.status, "unsatisfiable range (HTTP/1.1 gives %d)" % want.status)
        eq(st.header("content-range"), want.header("Content-Range"), "its content-range")


@test
def precompressed_variant():
    with H2(shared().port) as c:
        st = c.get("/style.css", headers=[("accept-encoding", "gzip, br")])
        eq(st.status, 200, "status")
        eq(st.header("content-encoding"), "gzip", "content-encoding")
        ok("accept-encoding" in (st.header("vary") or "").lower(), "vary: %r" % st.header("vary"))
        ok(bytes(st.body).startswith(b"\x1f\x8b"), "not the .gz file")
        st = c.get("/style.css")
        eq((st.status, bytes(st.body)), (200, CSS), "without accept-encoding")
        eq(st.header("content-encoding"), None, "content-encoding without accept-encoding")
        ok("accept-encoding" in (st.header("vary") or "").lower(), "vary on the identity")


@test
def head_has_no_data():
    with H2(shared().port) as c:
        st = c.get("/mid.bin", method="HEAD")
        eq(st.status, 200, "status")
        eq(st.header("content-length"), str(len(MID)), "content-length")
        eq((st.data_frames, bytes(st.body)), (0, b""), "DATA frames / body of HEAD")
        ok(st.ended, "no END_STREAM")
        st = c.get("/index.html")
        eq(bytes(st.body), INDEX, "a GET after HEAD")
        st = c.get("/nope", method="HEAD")
        eq((st.status, st.data_frames), (404, 0), "HEAD of a missing file")
        want = h1(shared().port, "/nope", method="HEAD")
        eq(st.header("content-length"), want.header("Content-Length"), "its content-length")


@test
def methods_405_and_501():
    s = shared()
    with H2(s.port) as c:
        for m in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
            want = h1(s.port, "/index.html", method=m)
            st = c.get("/index.html", method=m)
            eq(st.status, want.status, "%s (HTTP/1.1 gives %d)" % (m, want.status))
            if m in ("POST", "PUT", "DELETE"):
                eq(st.status, 405, "%s status" % m)
                eq(st.header("allow"), "GET, HEAD", "%s allow" % m)
        st = c.get("/index.html", method="BREW")
        eq(st.status, 501, "unknown method")
        st = c.get("/index.html")
        eq(st.status, 200, "GET afterwards on the same connection")


@test
def custom_404_page_rules_and_redirects():
    root = make_tree({"index.html": INDEX, "404.html": b"custom missing\n",
                      "a.html": b"page a\n",
                      "_headers": "/*\n  X-Frame-Options: DENY\n/a.html\n  X-Page: a\n",
                      "_redirects": "/old /a.html 301\n/app/* /a.html 200\n"})
    with h2_server(root=root, tls=False) as s:
        with H2(s.port) as c:
            st = c.get("/missing")
            eq((st.status, bytes(st.body)), (404, b"custom missing\n"), "the site's 404 page")
            st = c.get("/a.html")
            eq(st.header("x-frame-options"), "DENY", "_headers for /*")
            eq(st.header("x-page"), "a", "_headers for /a.html")
            st = c.get("/old")
            eq(st.status, 301, "_redirects 301")
            ok((st.header("location") or "").endswith("/a.html"), "location %r"
               % st.header("location"))
            st = c.get("/app/x/y")
            eq((st.status, bytes(st.body)), (200, b"page a\n"), "_redirects 200 rewrite")
            for path in ("/missing", "/old", "/a.html"):
                want = h1(s.port, path)
                eq(c.get(path).status, want.status, "%s as HTTP/1.1" % path)


@test
def many_rule_headers_as_http11():
    """_headers giving a path 126 fields (under the 128 names a site may
    use, the head under 4 KiB): HTTP/2 answers with them all, as HTTP/1.1."""
    root = make_tree({"index.html": INDEX,
                      "_headers": "/*\n" + "".join("  X-H%d: v\n" % i for i in range(126))})
    with h2_server(root=root, tls=False) as s:
        want = h1(s.port, "/index.html")
        eq((want.status, want.header("X-H125")), (200, "v"), "HTTP/1.1")
        with H2(s.port) as c:
            st = c.get("/index.html")
            eq(st.status, 200, "status (%r)" % st)
            eq(len(st.headers), len(want.headers) + 1, "fields (with :status)")
            eq(st.header("x-h125"), "v", "the last rule header")


@test
def access_log_line_per_stream():
    with h2_server(tls=False) as s:
        with H2(s.port) as c:
            sids = [c.request(p) for p in ("/index.html", "/nope")]
            sids.append(c.request("/mid.bin", headers=[("user-agent", "h2-client/1.0"),
                                                        ("referer", "http://r.test/")]))
            sids.append(c.request("/index.html", method="HEAD"))
            for sid in sids:
                c.response(sid)
        lines = wait_for(lambda: len(s.access_lines()) >= 4 and s.access_lines(), 5) or []
        eq(len(lines), 4, "access lines: %r" % s.access_lines())
        reqs = sorted((ACCESS_RE.match(l).group("request"), ACCESS_RE.match(l).group("status"))
                      for l in lines if ACCESS_RE.match(l))
        eq(reqs, sorted([("GET /index.html HTTP/2.0", "200"), ("GET /nope HTTP/2.0", "404"),
                         ("GET /mid.bin HTTP/2.0", "200"),
                         ("HEAD /index.html HTTP/2.0", "200")]), "request lines")
        m = [ACCESS_RE.match(l) for l in lines if "/mid.bin" in l][0]
        eq(m.group("bytes"), str(len(MID)), "bytes of the 256 KiB stream")
        eq((m.group("ua"), m.group("referer")), ("h2-client/1.0", "http://r.test/"),
           "user-agent and referer")
        # Quotes and backslashes in the request and fields: escaped as
        # HTTP/1.1's, and a long path cut at the same length.
        for path, ua in (('/q"x\\y', 'u"a\\b'), ("/" + "y" * 3000, "u" * 3000)):
            h1(s.port, path, headers={"User-Agent": ua})
            with H2(s.port) as c:
                c.get(path, headers=[("user-agent", ua)])
            got = wait_for(lambda: len(s.access_lines()) >= len(lines) + 2 and
                           s.access_lines()[len(lines):], 5) or []
            eq(len(got), 2, "access lines: %r" % got)
            one, two = (re.sub(r"\[[^]]*\]", "[]", l).replace("HTTP/1.1", "HTTP/2.0")
                        for l in got)
            eq(one, two, "access lines for %r over HTTP/1.1 and HTTP/2" % path[:20])
            lines = s.access_lines()


@test
def hsts_and_listing():
    s = shared()
    with H2(s.tls_port, tls=True) as c:
        st = c.get("/index.html", scheme="https")
        eq(st.header("strict-transport-security"), "max-age=600", "HSTS over h2 on TLS")
    with H2(s.port) as c:
        st = c.get("/index.html")
        eq(st.header("strict-transport-security"), None, "HSTS over h2c")
        st = c.get("/list/")
        want = h1(s.port, "/list/")
        eq((st.status, bytes(st.body)), (want.status, want.body), "the listing as HTTP/1.1's")
        ok(b"a.txt" in st.body, "a.txt not listed")


@test
def proxy_protocol_then_preface():
    with h2_server(["--proxy-protocol"], tls=False) as s:
        with H2(s.port, prefix=b"PROXY TCP4 203.0.113.5 192.0.2.80 56324 80\r\n") as c:
            eq(c.get("/index.html").status, 200, "h2c after a PROXY header")
        with H2(s.port) as c:
            c.wait(lambda: c.closed, 5)
            ok(c.closed and not any(f[0] == HEADERS for f in c.frames),
               "a preface without the PROXY header served")
        lines = wait_for(lambda: [l for l in s.access_lines() if "HTTP/2.0" in l], 5) or []
        eq(len(lines), 1, "access lines: %r" % s.access_lines())
        ok(lines[0].startswith("203.0.113.5 "), "the proxied address: %r" % lines[0])


@test
def redirect_https_over_h2c():
    tls_port = free_port()
    with h2_server(["--redirect-https=%d" % tls_port], tls=False) as s:
        want = h1(s.port, "/index.html")
        with H2(s.port) as c:
            st = c.get("/index.html")
            eq((st.status, st.header("location")), (want.status, want.header("Location")),
               "redirect as HTTP/1.1's")
            eq(st.status, 301, "status")
            st = c.get("/.well-known/acme-challenge/nope")
            eq(st.status, 404, "the ACME path is served, not redirected")


# ---------------------------------------------------------------- volume

@test(timeout=60)
def large_files_byte_exact():
    s = shared()
    for tls in (False, True):
        with H2(s.tls_port if tls else s.port, tls=tls) as c:
            a, b = c.request("/big.bin"), c.request("/mid.bin")
            sa, sb = c.response(a, 40), c.response(b, 20)
            what = "TLS" if tls else "h2c"
            eq((sa.status, sb.status), (200, 200), "%s statuses" % what)
            ok(bytes(sa.body) == BIG, "%s: 10 MiB differs (%d bytes)" % (what, len(sa.body)))
            ok(bytes(sb.body) == MID, "%s: 256 KiB differs (%d bytes)" % (what, len(sb.body)))
    out = os.path.join(tempdir(), "big")
    for url, opt in (("http://127.0.0.1:%d/big.bin" % s.port, "--http2-prior-knowledge"),
                     ("https://127.0.0.1:%d/big.bin" % s.tls_port, "--http2")):
        r = curl(opt, "--cacert", pki("ec.crt"), "-o", out, "-w", "%{http_version}", url,
                 timeout=30)
        eq(r.stdout, b"2", "curl %s (stderr %r)" % (opt, r.stderr))
        with open(out, "rb") as f:
            ok(f.read() == BIG, "curl %s: 10 MiB differs" % opt)


@test(timeout=30)
def slow_reader_holds_little_unsent_data_over_loopback():
    """HTTP/2's streams share one socket, so what is queued there unsent
    delays every other stream: an HTTP/2 connection keeps at most about
    SEND_LOWAT_BYTES (512 KiB) unsent, even through a loopback listener,
    where HTTP/1.x leaves the socket to the kernel (see it_limits)."""
    if not have_tool("ss"):
        skip("no ss(8)")
    s = shared()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", s.port))
    here = sock.getsockname()[1]
    big = (1 << 31) - 1
    c = H2(sock=sock, settings=[(S_ENABLE_PUSH, 0), (S_INITIAL_WINDOW_SIZE, big)],
           window=big - 65535)
    try:
        c.request("/big.bin")
        most = 0
        for _ in range(20):
            time.sleep(0.05)
            sock.recv(256 * 1024)   # read slowly, below the frame parser
            most = max(most, server_notsent(s.port, here))
        ok(0 < most <= 768 * 1024, "unsent bytes held for a slow HTTP/2 reader: at most %d" % most)
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


@test(timeout=60)
def interleaved_streams_byte_exact():
    """Streams marked incremental (RFC 9218 "i") are sent in turns, frame
    by frame: the read-ahead of one stream's file must never give its
    bytes to another, and once interleaving wastes it, reading frame by
    frame must give the same bytes."""
    s = shared()
    for tls in (False, True):
        with H2(s.tls_port if tls else s.port, tls=tls) as c:
            sids = [c.request(p, headers=[("priority", "u=3, i")])
                    for p in ("/mid.bin", "/big.bin", "/mid.bin", "/big.bin")]
            got = [c.response(sid, 40) for sid in sids]
            what = "TLS" if tls else "h2c"
            for st, body in zip(got, (MID, BIG, MID, BIG)):
                eq(st.status, 200, "%s status" % what)
                ok(bytes(st.body) == body, "%s: %d bytes differ" % (what, len(body)))


@test
def hundred_streams_on_one_connection():
    with H2(shared().port) as c:
        ok(c.settings().get(S_MAX_CONCURRENT_STREAMS, 1 << 31) >= 100, "fewer than 100 streams")
        sids = [c.request("/mid.bin" if i % 10 == 0 else "/index.html?n=%d" % i)
                for i in range(100)]
        c.wait(lambda: all(c.streams[s].done() for s in sids), 30)
        bad = [(s, c.streams[s]) for s in sids if c.streams[s].status != 200 or
               not c.streams[s].ended]
        eq(bad, [], "streams not answered 200")
        for i, s in enumerate(sids):
            eq(bytes(c.streams[s].body), MID if i % 10 == 0 else INDEX, "body of stream %d" % s)
    if have_tool("nghttp"):
        r = subprocess.run(["nghttp", "-n", "-s", "-m", "100",
                            "http://127.0.0.1:%d/index.html" % shared().port],
                           capture_output=True, timeout=30)
        eq(r.returncode, 0, "nghttp -m 100: %r" % r.stderr[-300:])
        eq(len(re.findall(rb"/index.html", r.stdout)), 100, "nghttp: 100 responses")


@test(timeout=60)
def h2load_thousand_requests():
    if not have_tool("h2load"):
        skip("h2load not installed (nghttp2-client)")
    s = shared()
    for url in ("http://127.0.0.1:%d/index.html" % s.port,
                "https://127.0.0.1:%d/index.html" % s.tls_port):
        r = subprocess.run(["h2load", "-n", "1000", "-c", "4", "-m", "100", url],
                           capture_output=True, timeout=40)
        out = r.stdout.decode("utf-8", "replace")
        m = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed, (\d+) errored", out)
        ok(m, "h2load %s: no summary:\n%s" % (url, out[-1000:]))
        eq(m.groups(), ("1000", "1000", "1000", "0", "0"), "h2load %s: total done succeeded "
           "failed errored" % url)
        ok(re.search(r"status codes: 1000 2xx", out), "h2load %s: statuses:\n%s" % (url, out))
        ok("h2" in out, "h2load %s did not speak h2:\n%s" % (url, out[:400]))


@test
def cancelled_download_then_next_stream():
    """RST_STREAM (CANCEL) in the middle of a large file: what follows on the
    connection is whole frames, and the next stream's body is exact (the
    cancelled file's bytes never leak into it), over h2c and TLS."""
    s = shared()
    for tls in (False, True):
        with H2(s.tls_port if tls else s.port, tls=tls,
                settings=[(S_INITIAL_WINDOW_SIZE, 1 << 20)]) as c:
            for i in range(3):
                sid = c.request("/big.bin")
                st = c.streams[sid]
                c.wait(lambda: len(st.body) >= 100000 * (i + 1), 10)
                ok(len(st.body) > 0, "no DATA before the cancel")
                c.send(rst(sid, CANCEL))
                nxt = c.get("/mid.bin")
                ok(bytes(nxt.body) == MID, "%s: the stream after a cancel differs (%d bytes)"
                   % ("TLS" if tls else "h2c", len(nxt.body)))
                ok(bytes(st.body) == BIG[:len(st.body)], "the cancelled stream's bytes differ")
            eq(c.goaway, None, "GOAWAY")


@test(timeout=60)
def cancels_mid_frame_leak_nothing():
    """Twenty big downloads cancelled while their DATA is going out, each
    beside a stream that must arrive exact, over h2c and TLS: no
    descriptor is left behind once the connections end."""
    with h2_server(["--workers", "2"]) as s:
        for tls in (False, True):
            with H2(s.tls_port if tls else s.port, tls=tls) as c:
                c.get("/big.bin", timeout=20, scheme="https" if tls else "http")
        time.sleep(0.3)
        base = nfds(s.pid)
        for tls in (False, True):
            with H2(s.tls_port if tls else s.port, tls=tls) as c:
                for i in range(10):
                    big = c.request("/big.bin", scheme="https" if tls else "http")
                    mid = c.request("/mid.bin", scheme="https" if tls else "http")
                    c.wait(lambda: len(c.streams[big].body) > 20000 * (i + 1), 10)
                    c.send(rst(big, CANCEL))
                    st = c.response(mid, 10)
                    ok(bytes(st.body) == MID, "%s round %d: the stream beside differs"
                       % ("TLS" if tls else "h2c", i))
                eq(c.get("/index.html", scheme="https" if tls else "http").status, 200,
                   "afterwards")
        limit = base + 2 * 2 + 2        # each worker's file cache may hold two files
        wait_for(lambda: nfds(s.pid) <= limit, 5)
        ok(nfds(s.pid) <= limit, "the server holds %d descriptors, %d before"
           % (nfds(s.pid), base))


@test(timeout=60)
def file_shrinking_mid_stream_closes_cleanly():
    """The file is cut short while its DATA waits for the window: the
    connection ends (a DATA frame cannot take back the length it
    announced), every frame before that is whole and every byte is the
    file's, over h2c and TLS; the server serves on."""
    root = make_tree({"index.html": INDEX})
    with h2_server(root=root) as s:
        for tls in (False, True):
            path = os.path.join(root, "shrink.bin")
            write_file(root, "shrink.bin", BIG)
            c = H2(s.tls_port if tls else s.port, tls=tls,
                   settings=[(S_INITIAL_WINDOW_SIZE, 256 * 1024)])
            sid = c.next_sid
            c.stalled.add(sid)
            c.request("/shrink.bin", scheme="https" if tls else "http")
            st = c.streams[sid]
            c.wait(lambda: len(st.body) >= 256 * 1024, 10)
            eq(len(st.body), 256 * 1024, "bytes before the window shut")
            os.truncate(path, 300 * 1024)
            c.stalled.discard(sid)
            c.grant(sid, len(BIG))
            c.wait(lambda: c.closed or st.done(), 10)
            what = "TLS" if tls else "h2c"
            ok(c.closed, "%s: still open after the file shrank (%r)" % (what, st))
            ok(not st.ended, "%s: the stream ended as if whole: %r" % (what, st))
            ok(bytes(st.body) == BIG[:len(st.body)], "%s: bytes not the file's" % what)
            eq(c.violations, [], "%s: flow control" % what)
            c.close()
            with H2(s.tls_port if tls else s.port, tls=tls) as c:
                eq(c.get("/index.html", scheme="https" if tls else "http").status, 200,
                   "%s: served afterwards" % what)


@test
def trickled_window_byte_exact():
    """A client granting 1000 bytes at a time: DATA never exceeds the
    window, and the file arrives exact."""
    with H2(shared().port, settings=[(S_INITIAL_WINDOW_SIZE, 0)], window=0,
            auto_window=False) as c:
        sid = c.request("/ranged.bin")
        st = c.streams[sid]
        c.wait(lambda: st.headers is not None, 5)
        eq(st.status, 200, "status")
        while not st.done() and len(st.body) < len(RANGED):
            c.grant(0, 1000)
            c.grant(sid, 1000)
            have = len(st.body)
            c.wait(lambda: len(st.body) > have or st.done(), 5)
            ok(len(st.body) > have, "no DATA after a grant of 1000 bytes (%d so far)" % have)
        c.wait(st.done, 5)
        eq(c.violations, [], "flow control")
        ok(st.ended and bytes(st.body) == RANGED, "the trickled file differs: %r" % st)
        ok(st.data_frames >= len(RANGED) // 1000, "%d DATA frames for %d grants"
           % (st.data_frames, len(RANGED) // 1000))


@test
def refused_request_bodies_answered():
    """Five POSTs with 100 KiB bodies, sent as a client does, within the
    windows: each is answered 405. hermit drops at most 256 KiB of refused
    body a connection, then says GOAWAY (ENHANCE_YOUR_CALM; NO_ERROR would
    do too): not before, and every stream up to the GOAWAY's last stream id
    is answered; a stream after it was not processed and is retried on a
    new connection, as a client does. A GET is served afterwards."""
    c = H2(shared().port)
    try:
        for i in range(5):
            if c.goaway is not None or c.closed:
                c.close()
                c = H2(shared().port)
            sid = c.request("/index.html", method="POST", end_stream=False,
                            headers=[("content-length", str(100 * 1024))])
            c.send_body(sid, b"p" * (100 * 1024), timeout=3)
            st = c.streams[sid]
            c.wait(lambda: st.done() or c.closed, 5)
            if c.goaway is not None:
                code = ERRORS.get(c.goaway[1], c.goaway[1])
                ok(code in ("NO_ERROR", "ENHANCE_YOUR_CALM"),
                   "GOAWAY %s during POST %d" % (code, i))
                ok(c.body_sent[0] > 256 * 1024, "GOAWAY after %d bytes of body"
                   % c.body_sent[0])
                if sid > c.goaway[0]:
                    c.close()
                    c = H2(shared().port)
                    st = c.response(c.request("/index.html", method="POST"), 5)
            eq(st.status, 405, "POST %d (stream %d, GOAWAY %r): %r" % (i, sid, c.goaway, st))
        if c.goaway is not None or c.closed:
            c.close()
            c = H2(shared().port)
        st = c.get("/index.html", timeout=5)
        eq((st.status, bytes(st.body)), (200, INDEX), "GET after the POSTs")
    finally:
        c.close()


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


@test
def abandoned_downloads_release_everything():
    """Forty connections start the 10 MiB file and hang up mid-stream, half
    with a TCP reset: the server's descriptors and memory come back to where
    they were (every session and stream freed)."""
    import socket as _socket
    with h2_server(["--workers", "2"], tls=False) as s:
        with H2(s.port) as c:
            eq(c.get("/big.bin", timeout=20).status, 200, "a first download")
        time.sleep(0.3)
        base_fds, base_rss = nfds(s.pid), rss_kib(s.pid)
        for i in range(40):
            c = H2(s.port)
            sid = c.request("/big.bin")
            c.wait(lambda: len(c.streams[sid].body) > 50000, 5)
            if i % 2:
                c.sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER,
                                  struct.pack("ii", 1, 0))
            c.close()
        limit = base_fds + 2 * 1 + 2        # each worker's file cache may hold big.bin
        wait_for(lambda: nfds(s.pid) <= limit, 5)
        ok(nfds(s.pid) <= limit, "the server holds %d descriptors, %d before"
           % (nfds(s.pid), base_fds))
        ok(rss_kib(s.pid) - base_rss < 32 * 1024, "RSS grew by %d KiB"
           % (rss_kib(s.pid) - base_rss))
        with H2(s.port) as c:
            eq(c.get("/index.html").status, 200, "served afterwards")


@test(timeout=60)
def larger_frames_when_the_client_allows():
    s = shared()
    for tls in (False, True):
        with H2(s.tls_port if tls else s.port, tls=tls,
                settings=[(S_ENABLE_PUSH, 0), (S_INITIAL_WINDOW_SIZE, 1 << 22),
                          (S_MAX_FRAME_SIZE, 1 << 16)]) as c:
            st = c.get("/big.bin", timeout=40, scheme="https" if tls else "http")
            ok(bytes(st.body) == BIG, "%s: 10 MiB with 64 KiB frames differs (%d bytes)"
               % ("TLS" if tls else "h2c", len(st.body)))


@test(timeout=60)
def interleaved_files_exact():
    """Streams of different files and ranges at once on one connection, so
    their DATA frames interleave (each payload from its own file and
    offset): every body exact, over h2c and TLS."""
    s = shared()
    want = {"/big.bin": BIG, "/mid.bin": MID, "/index.html": INDEX, "/ranged.bin": RANGED}
    for tls in (False, True):
        with H2(s.tls_port if tls else s.port, tls=tls,
                settings=[(S_ENABLE_PUSH, 0), (S_INITIAL_WINDOW_SIZE, 256 * 1024)]) as c:
            asked = []
            for i in range(24):
                path = ("/big.bin", "/mid.bin", "/mid.bin", "/index.html", "/ranged.bin")[i % 5]
                rng = None
                if path == "/big.bin" and i % 2:
                    lo = (1000003 * i) % (len(BIG) - 800000)
                    rng = (lo, lo + 777776)
                hdrs = [("range", "bytes=%d-%d" % rng)] if rng else []
                asked.append((c.request(path, headers=hdrs, scheme="https" if tls else "http"),
                              path, rng))
            for sid, path, rng in asked:
                st = c.response(sid, 40)
                body = want[path][rng[0]:rng[1] + 1] if rng else want[path]
                eq(st.status, 206 if rng else 200, "%s status" % path)
                ok(bytes(st.body) == body, "%s: %s%s differs (%d of %d bytes)" % (
                    "TLS" if tls else "h2c", path, " %r" % (rng,) if rng else "",
                    len(st.body), len(body)))


@test
def generated_bodies_wait_for_the_window():
    """Bodies hermit makes (an error page, a listing, a 405 page) behind
    shut stream windows: nothing is sent until the client grants credit,
    then each arrives exact (as HTTP/1.1's), a few bytes at a time."""
    s = shared()
    with H2(s.port, settings=[(S_INITIAL_WINDOW_SIZE, 0)], auto_window=False) as c:
        asked = [(c.request("/nope"), "GET", "/nope"), (c.request("/list/"), "GET", "/list/"),
                 (c.request("/index.html", method="DELETE"), "DELETE", "/index.html")]
        c.wait(lambda: all(c.streams[x].headers for x, _, _ in asked), 5)
        c.wait(lambda: False, 0.3)
        eq([c.streams[x].data_frames for x, _, _ in asked], [0, 0, 0], "DATA in shut windows")
        for _ in range(200):
            if all(c.streams[x].done() for x, _, _ in asked):
                break
            for x, _, _ in asked:
                if not c.streams[x].done():
                    c.grant(x, 7)
            c.wait(lambda: False, 0.02)
        for x, method, path in asked:
            st = c.response(x, 5)
            want = h1(s.port, path, method=method)
            eq((st.status, bytes(st.body)), (want.status, want.body), "%s %s" % (method, path))


@test
def connection_window_trickled():
    """The connection's window opened 10000 bytes at a time while four
    streams wait on it: all four finish exact."""
    with H2(shared().port, settings=[(S_INITIAL_WINDOW_SIZE, 1 << 20)], window=0,
            auto_window=False) as c:
        sids = [c.request("/mid.bin") for _ in range(4)]
        total = lambda: sum(len(c.streams[x].body) for x in sids)  # noqa: E731
        c.wait(lambda: total() >= 65535, 5)
        eq(total(), 65535, "bytes in the first connection window")
        for _ in range(200):
            if all(c.streams[x].done() for x in sids):
                break
            have = total()
            c.grant(0, 10000)
            c.wait(lambda: total() >= min(have + 10000, 4 * len(MID)) or
                   all(c.streams[x].done() for x in sids), 5)
        for x in sids:
            st = c.response(x, 5)
            ok(bytes(st.body) == MID, "stream %d differs (%d bytes)" % (x, len(st.body)))


@test(timeout=60)
def small_window_updates_are_no_flood():
    """A client that gives credit back in small pieces as it reads (HAProxy
    does, a few hundred bytes to 16 KiB a WINDOW_UPDATE): a WINDOW_UPDATE
    for the connection and one for the stream per 2 KiB read, on a
    connection that lives long (as a proxy's connection to its backend
    does): twelve 10 MiB downloads. Nothing of it is a flood: each file
    arrives whole, no GOAWAY."""
    with H2(shared().port) as c:
        c.ack_step = 2048
        for i in range(12):
            sid = c.request("/big.bin")
            st = c.streams[sid]
            c.wait(lambda: st.done() or c.closed, 40)
            ok(st.ended and bytes(st.body) == BIG, "download %d: 10 MiB differs: %d bytes, "
               "then GOAWAY %s, connection closed %s" % (
                   i, len(st.body), c.goaway and ERRORS.get(c.goaway[1]), c.closed))
            st.body = bytearray()
        eq(c.goaway, None, "GOAWAY")


@test(timeout=60)
def gigabyte_download_acknowledged_every_frame():
    """One 1 GiB file (sparse) to a client that acknowledges every DATA
    frame on the stream and the connection, as python-h2 based clients do:
    it arrives whole, no GOAWAY."""
    root = make_tree({"index.html": INDEX})
    with open(os.path.join(root, "huge.bin"), "wb") as f:
        f.truncate(1 << 30)
    with h2_server(root=root, tls=False) as s:
        with H2(s.port) as c:
            c.keep_bodies = False
            sid = c.request("/huge.bin")
            st = c.streams[sid]
            c.wait(lambda: st.done() or c.closed, 50)
            ok(st.ended and st.received == 1 << 30, "1 GiB: %d bytes, then GOAWAY %s, "
               "connection closed %s" % (st.received, c.goaway and ERRORS.get(c.goaway[1]),
                                         c.closed))
            eq(c.goaway, None, "GOAWAY")


@test
def a_stalled_stream_holds_no_other():
    """One stream's window left shut: the others on the connection finish;
    once it opens, the stalled one finishes exact."""
    with H2(shared().port) as c:
        a = c.next_sid
        c.stalled.add(a)
        c.request("/big.bin")
        sa = c.streams[a]
        c.wait(lambda: len(sa.body) >= c.initial_window, 10)
        eq(len(sa.body), c.initial_window, "bytes before the window shut")
        b, d = c.request("/mid.bin"), c.request("/index.html")
        sb, sd = c.response(b), c.response(d)
        ok(bytes(sb.body) == MID and bytes(sd.body) == INDEX, "the other streams' bodies")
        ok(not sa.done(), "the stalled stream ended: %r" % sa)
        c.stalled.discard(a)
        c.grant(a, len(BIG))
        c.response(a, 30)
        ok(bytes(sa.body) == BIG, "the stalled stream differs (%d bytes)" % len(sa.body))


@test
def header_block_padded_prioritized_and_split():
    """A request's header block in a padded HEADERS frame with priority
    fields, then in three CONTINUATION frames (nghttp2 takes at most 8):
    answered as usual."""
    with H2(shared().port) as c:
        sid = c.raw_stream()
        c.streams[sid].method = "GET"
        hb = block(req_headers("/ranged.bin", extra=[("range", "bytes=0-9")]))
        first, rest = hb[:7], hb[7:]
        pad = 9
        out = frame(HEADERS, END_STREAM | PADDED | PRIO, sid,
                    bytes([pad]) + struct.pack(">IB", 0, 200) + first + b"\0" * pad)
        third = len(rest) // 3 + 1
        pieces = [rest[i:i + third] for i in range(0, len(rest), third)]
        for i, p in enumerate(pieces):
            out += frame(CONTINUATION, END_HEADERS if i == len(pieces) - 1 else 0, sid, p)
        c.send(out)
        st = c.response(sid)
        eq((st.status, bytes(st.body)), (206, RANGED[:10]), "answer")


@test
def stream_id_misuse():
    """HEADERS on a stream id already used, on an even one, on one lower
    than the last: never answered. RFC 9113 §5.1.1 makes it a connection
    error; nghttp2 says so (GOAWAY PROTOCOL_ERROR or STREAM_CLOSED) only
    while it still holds the stream, and otherwise ignores the block: then
    the connection serves the next stream."""
    s = shared()
    for what, sid in (("a used stream id", 1), ("an even stream id", 2),
                      ("a lower stream id", 3)):
        with H2(s.port) as c:
            for _ in range(3 if what == "a lower stream id" else 1):
                c.get("/index.html")            # streams 1 (3, 5)
            before = len(c.frames)
            c.send(headers_frames(sid, GET_BLOCK))
            c.wait(lambda: c.closed, 1)
            answered = [f for f in c.frames[before:] if f[0] == HEADERS and f[2] == sid]
            eq(answered, [], "%s: answered" % what)
            if c.goaway is not None:
                ok(ERRORS.get(c.goaway[1]) in ("PROTOCOL_ERROR", "STREAM_CLOSED"),
                   "%s: GOAWAY %s" % (what, ERRORS.get(c.goaway[1], c.goaway[1])))
                ok(c.wait(lambda: c.closed, 3), "%s: open after GOAWAY" % what)
            else:
                eq(c.get("/index.html").status, 200, "%s: the next stream" % what)
    with H2(s.port) as c:
        eq(c.get("/index.html").status, 200, "a new connection")


# ---------------------------------------------------------------- RFC 9113 §8 validation

def malformed(extra=(), drop=(), dup=None, after=None):
    h = [(k, v) for k, v in req_headers() if k not in drop]
    if dup:
        h.append(dup)
    h += list(extra)
    if after:
        h.append(after)
    return block(h)


MALFORMED = {
    "uppercase name": malformed(extra=[("X-Upper", "1")]),
    "connection": malformed(extra=[("connection", "keep-alive")]),
    "transfer-encoding": malformed(extra=[("transfer-encoding", "chunked")]),
    "keep-alive": malformed(extra=[("keep-alive", "timeout=5")]),
    "upgrade": malformed(extra=[("upgrade", "h2c")]),
    "proxy-connection": malformed(extra=[("proxy-connection", "close")]),
    "te: gzip": malformed(extra=[("te", "gzip")]),
    "no :method": malformed(drop=[":method"]),
    "no :path": malformed(drop=[":path"]),
    "no :scheme": malformed(drop=[":scheme"]),
    "two :path": malformed(dup=(":path", "/other")),
    "two :method": malformed(dup=(":method", "GET")),
    "pseudo after regular": block([(":method", "GET"), (":scheme", "http"),
                                   (":authority", "localhost"), ("x-a", "1"),
                                   (":path", "/index.html")]),
    "unknown pseudo": malformed(extra=[(":foo", "bar")]),
    "response pseudo": malformed(extra=[(":status", "200")]),
    "empty :path": block([(":method", "GET"), (":scheme", "http"),
                          (":authority", "localhost"), (":path", "")]),
}


@test
def malformed_requests_rejected_others_served():
    s = shared()
    for what, hb in MALFORMED.items():
        with H2(s.port) as c:
            sid = c.raw_stream()
            c.send(headers_frames(sid, hb))
            st = c.streams[sid]
            c.wait(lambda: st.done() or c.goaway is not None or c.closed, 5)
            bad_stream(st, c, what)
            eq(c.get("/index.html", timeout=5).status, 200,
               "%s: the next stream on the connection" % what)
        with H2(s.port) as c:
            eq(c.get("/index.html", timeout=5).status, 200, "%s: a new connection" % what)
    with H2(s.port) as c:       # te: trailers is the one te allowed
        eq(c.get("/index.html", headers=[("te", "trailers")]).status, 200, "te: trailers")


@test
def request_body_on_get():
    """A GET or HEAD announcing a body (content-length) is 400; body bytes
    on a GET or HEAD stream reset it (after its answer, if it was already
    given); DATA past a content-length is malformed (RST_STREAM
    PROTOCOL_ERROR, or the 400 first when it was already sent). The
    connection serves on each time."""
    s = shared()
    with H2(s.port) as c:
        sid = c.raw_stream()
        c.send(headers_frames(sid, malformed(extra=[("content-length", "3")]),
                              end_stream=False))
        st = c.response(sid, 5)
        eq(st.status, 400, "GET with content-length: 3")
        eq(c.get("/index.html").status, 200, "the next stream")
    with H2(s.port) as c:
        sid = c.raw_stream()
        c.send(headers_frames(sid, malformed(extra=[("content-length", "3")]), end_stream=False)
               + frame(DATA, END_STREAM, sid, b"abcdefgh"))
        st = c.streams[sid]
        c.wait(lambda: st.reset is not None or c.goaway is not None, 5)
        eq(c.goaway, None, "GOAWAY")
        ok(st.status in (None, 400), "DATA longer than content-length: answered %s" % st.status)
        eq(ERRORS.get(st.reset, st.reset), "PROTOCOL_ERROR", "its RST_STREAM")
        eq(c.get("/index.html").status, 200, "the next stream")
    for method in ("GET", "HEAD"):
        with H2(s.port) as c:
            sid = c.raw_stream()
            c.send(headers_frames(sid, malformed(drop=[":method"], extra=[(":method", method)]),
                                  end_stream=False))
            st = c.streams[sid]
            c.wait(lambda: st.headers is not None or st.done(), 5)
            c.send(frame(DATA, 0, sid, b"x" * 1000) + frame(DATA, END_STREAM, sid, b"y"))
            c.wait(lambda: st.reset is not None or c.goaway is not None, 5)
            eq(c.goaway, None, "%s with DATA: GOAWAY" % method)
            ok(st.reset is not None, "%s with DATA: the stream was not reset: %r" % (method, st))
            ok(st.status in (None, 200), "%s with DATA: answered %s" % (method, st.status))
            eq(c.get("/index.html").status, 200, "%s with DATA: the next stream" % method)


@test
def path_forms_refused():
    """A :path that is not the origin form (asterisk only with OPTIONS), or
    holds bytes outside VCHAR: RST_STREAM PROTOCOL_ERROR (nghttp2) or 400,
    never served; CONNECT is not served either. OPTIONS * as HTTP/1.1."""
    s = shared()
    with H2(s.port) as c:
        for method, path in (("GET", "index.html"), ("GET", "*"),
                             ("GET", "http://localhost/index.html"), ("GET", "/a b"),
                             ("GET", "/a\x7fb"), ("GET", "/a\x80b"), ("CONNECT", "/")):
            sid = c.raw_stream()
            c.send(headers_frames(sid, block(req_headers(path, method))))
            st = c.streams[sid]
            c.wait(lambda: st.done() or c.goaway is not None, 5)
            eq(c.goaway, None, "%s %r: GOAWAY" % (method, path))
            ok(st.status == 400 or (st.status is None and st.reset == PROTOCOL_ERROR),
               "%s %r: %r" % (method, path, st))
        want = h1(s.port, "*", method="OPTIONS").status
        eq(c.get("*", method="OPTIONS").status, want, "OPTIONS * (HTTP/1.1 gives %d)" % want)
        eq(c.get("/index.html").status, 200, "served afterwards")


# ---------------------------------------------------------------- limits

@test
def settings_defaults_and_options():
    with H2(shared().port) as c:
        got = c.settings()
        eq(got.get(S_MAX_CONCURRENT_STREAMS), 100, "SETTINGS_MAX_CONCURRENT_STREAMS by default")
        eq(got.get(S_MAX_HEADER_LIST_SIZE), 8192, "SETTINGS_MAX_HEADER_LIST_SIZE by default")
        eq(got.get(S_ENABLE_PUSH), 0, "SETTINGS_ENABLE_PUSH (no server push)")
        eq(got.get(S_INITIAL_WINDOW_SIZE, 65535), 65535, "SETTINGS_INITIAL_WINDOW_SIZE")
        eq(got.get(9), 1, "SETTINGS_NO_RFC7540_PRIORITIES (RFC 9218)")
    with h2_server(["--h2-max-streams", "7", "--max-header-bytes", "4096"]) as s:
        for tls in (False, True):
            with H2(s.tls_port if tls else s.port, tls=tls) as c:
                got = c.settings()
                eq(got.get(S_MAX_CONCURRENT_STREAMS), 7, "--h2-max-streams 7")
                eq(got.get(S_MAX_HEADER_LIST_SIZE), 4096, "--max-header-bytes 4096")
                eq(c.get("/index.html", scheme="https" if tls else "http").status, 200, "GET")


def refused_on_its_stream(c, hb, what):
    """A request over a limit: 431 or a reset of its stream, and the
    connection serves the next one."""
    sid = c.raw_stream()
    c.send(headers_frames(sid, hb))
    st = c.streams[sid]
    c.wait(lambda: st.done() or c.goaway is not None, 5)
    eq(c.goaway, None, "GOAWAY after %s" % what)
    ok(st.status == 431 or (st.status is None and st.reset is not None),
       "%s: %r" % (what, st))
    eq(c.get("/index.html").status, 200, "the next stream after %s" % what)


@test
def header_block_over_the_limit():
    s = shared()
    with H2(s.port) as c:
        st = c.get("/index.html", headers=[("x-fits", "a" * 6000)])
        eq(st.status, 200, "a 6000-byte header under the 8192 limit")
        # The limit as RFC 9113 §6.5.2 counts: name + value + 32 a field,
        # pseudo-fields included; 8192 fits, 8193 does not.
        base = sum(len(k) + len(v) + 32 for k, v in req_headers()) + len("x-fill") + 32
        st = c.get("/index.html", headers=[("x-fill", "f" * (8192 - base))])
        eq(st.status, 200, "a header block of exactly 8192 bytes as counted")
        st = c.get("/index.html", headers=[("x-fill", "f" * (8193 - base))])
        ok(st.status == 431 or (st.status is None and st.reset is not None),
           "a header block of 8193 bytes as counted: %r" % st)
        for size in (9000, 20000):      # 20000 needs a CONTINUATION frame
            refused_on_its_stream(c, malformed(extra=[("x-big", "b" * size)]),
                                  "a %d-byte header" % size)
        refused_on_its_stream(c, malformed(extra=[("x-%d" % i, "v" * 2000) for i in range(30)]),
                              "30 headers of 2000 bytes")
        want = h1(s.port, "/index.html", headers={"x-%d" % i: "v" for i in range(150)}).status
        sid = c.raw_stream()
        c.send(headers_frames(sid, malformed(extra=[("x-%d" % i, "v") for i in range(150)])))
        st = c.response(sid)
        ok(st.status == want or (want == 431 and st.reset is not None),
           "150 header fields: %r, HTTP/1.1 gives %d" % (st, want))
        eq(c.get("/index.html").status, 200, "the next stream after 150 fields")
    with H2(s.port) as c:
        # One field over 64 KiB is more than nghttp2 decodes: a connection
        # error (COMPRESSION_ERROR) is its answer, or the stream's reset.
        sid = c.raw_stream()
        c.send(headers_frames(sid, malformed(extra=[("x-big", "b" * 100000)])))
        st = c.streams[sid]
        c.wait(lambda: st.done() or c.goaway is not None, 5)
        ok(st.status in (None, 431), "a 100000-byte header: %r" % st)
        ok(st.done() or c.goaway is not None, "no answer to a 100000-byte header")
    with H2(s.port) as c:
        eq(c.get("/index.html").status, 200, "a new connection")
    ok(s.alive(), "the server died")


@test
def streams_beyond_the_limit_refused():
    """--h2-max-streams 3, with three responses held open by a shut window:
    a stream beyond the limit is never answered. Before the client
    acknowledged the limit it is refused (RST_STREAM REFUSED_STREAM) and
    the held streams finish once the window opens; after, the connection
    gets GOAWAY PROTOCOL_ERROR (nghttp2's choice, as the README says)."""
    with h2_server(["--h2-max-streams", "3"], tls=False) as s:
        for acked in (False, True):
            c = H2(s.port, settings=[(S_INITIAL_WINDOW_SIZE, 0)], auto_window=False,
                   ack_settings=acked)
            eq(c.settings().get(S_MAX_CONCURRENT_STREAMS), 3, "SETTINGS_MAX_CONCURRENT_STREAMS")
            if acked:               # a first stream: the acknowledgement is in by then
                sid = c.request("/index.html")
                c.grant(sid, 1 << 16)
                c.response(sid)
            held = [c.request("/mid.bin") for _ in range(3)]
            c.wait(lambda: all(c.streams[x].headers for x in held), 5)
            extra = [c.request("/index.html") for _ in range(3)]
            c.wait(lambda: c.goaway is not None or all(c.streams[x].done() for x in extra), 5)
            what = "acknowledged" if acked else "not acknowledged"
            for x in extra:
                eq(c.streams[x].status, None, "%s: stream %d beyond the limit answered"
                   % (what, x))
            if acked:
                eq(c.goaway and ERRORS.get(c.goaway[1], c.goaway[1]), "PROTOCOL_ERROR",
                   "%s: GOAWAY" % what)
                ok(c.wait(lambda: c.closed, 5), "%s: open after GOAWAY" % what)
            else:
                eq(c.goaway, None, "%s: GOAWAY" % what)
                for x in extra:
                    eq(ERRORS.get(c.streams[x].reset, c.streams[x].reset), "REFUSED_STREAM",
                       "%s: stream %d's reset" % (what, x))
                c.auto_window = True
                for x in held:
                    c.grant(x, len(MID))
                c.wait(lambda: all(c.streams[x].done() for x in held), 10)
                for x in held:
                    ok(bytes(c.streams[x].body) == MID, "held stream %d: %r"
                       % (x, c.streams[x]))
                sid = c.request("/index.html")
                c.grant(sid, 1 << 16)
                eq(c.response(sid).status, 200, "a stream once the others ended")
            c.close()


@test
def max_requests_then_goaway():
    """--max-requests 5: five streams are answered, then GOAWAY (NO_ERROR)
    names the last one it serves; the 10 MiB one still open finishes, and
    the connection ends."""
    with h2_server(["--max-requests", "5"], tls=False) as s:
        with H2(s.port) as c:
            sids = [c.request("/big.bin")] + [c.request("/index.html") for _ in range(4)]
            c.wait(lambda: all(c.streams[x].done() for x in sids), 20)
            eq([c.streams[x].status for x in sids], [200] * 5, "the five streams")
            ok(bytes(c.streams[sids[0]].body) == BIG, "the 10 MiB stream differs")
            late = c.request("/index.html")
            c.wait(lambda: c.closed, 5)
            ok(c.goaway is not None, "no GOAWAY after --max-requests streams")
            eq((c.goaway[0], ERRORS.get(c.goaway[1])), (sids[-1], "NO_ERROR"), "GOAWAY")
            eq(c.streams[late].status, None, "a stream past the limit answered")
            ok(c.closed, "the connection stayed open")


# ---------------------------------------------------------------- attacks

class Bystander(threading.Thread):
    """A normal client during an attack: GETs over HTTP/1.1 and over h2c,
    each on a new connection, a few times a second; records latencies and
    failures."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()
        self.latencies = []
        self.failures = []

    def run(self):
        while not self.stop.is_set():
            for kind in ("h1", "h2"):
                t0 = time.monotonic()
                try:
                    if kind == "h1":
                        r = http(self.port, "GET", "/index.html", timeout=5)
                        good = r.status == 200 and r.body == INDEX
                    else:
                        with H2(self.port, timeout=5) as c:
                            st = c.get("/index.html", timeout=5)
                            good = st.status == 200 and bytes(st.body) == INDEX
                    if not good:
                        self.failures.append("%s: wrong answer" % kind)
                except Exception as e:
                    self.failures.append("%s: %s" % (kind, e))
                self.latencies.append((kind, time.monotonic() - t0))
            self.stop.wait(0.2)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.join(10)
        return False

    def check(self, what):
        eq(self.failures[:3], [], "%s: the normal client failed" % what)
        ok(len(self.latencies) >= 4, "%s: only %d normal requests" % (what, len(self.latencies)))
        worst = max(t for k, t in self.latencies)
        ok(worst < 2.0, "%s: a normal request took %.2fs" % (what, worst))


# Deadlines longer than an attacker connection may last (ATTACK_SECONDS):
# a flood must be recognised as one, not outlived. Only --send-timeout is
# short, for the attackers that never read.
ATTACK_ARGS = ["--send-timeout", "2", "--header-timeout", "10", "--idle-timeout", "10"]
ATTACK_SECONDS = 5.0


class Flood:
    """An attacker connection writing the chunks as fast as the server
    takes them, for at most ATTACK_SECONDS or until the server closes it.
    read: whether it reads (and so answers SETTINGS and PINGs)."""

    def __init__(self, s, chunks, read=True, settings=None):
        self.c = H2(s.port, settings=settings, timeout=5)
        self.c.auto_window = False
        self.s = s
        self.chunks = chunks
        self.read = read
        self.took = None
        self.sent = 0
        self.write_error = None

    def run(self):
        sock = self.c.sock
        t0 = time.monotonic()
        peak = rss_kib(self.s.pid)
        pending = b""
        next_rss = t0
        while time.monotonic() - t0 < ATTACK_SECONDS:
            if time.monotonic() >= next_rss:
                if not self.s.alive():
                    break
                peak = max(peak, rss_kib(self.s.pid))
                next_rss = time.monotonic() + 0.1
            if self.read and not self.c.pump(0.0):
                break
            if not pending:
                pending = next(self.chunks, b"")
                if not pending:
                    if not self.c.pump(0.05):
                        break
                    continue
            sock.setblocking(False)
            try:
                n = sock.send(pending[:65536])
                pending = pending[n:]
                self.sent += n
            except BlockingIOError:
                time.sleep(0.01)
            except OSError as e:
                self.write_error = e
                break
            finally:
                sock.setblocking(True)
        # Whatever the server sent before it closed (a GOAWAY) is still
        # readable; then the end of the connection.
        left = max(0.5, ATTACK_SECONDS - (time.monotonic() - t0))
        self.c.wait(lambda: self.c.closed, left)
        if self.c.closed or self.write_error:
            self.took = time.monotonic() - t0
        self.rss_peak = peak
        self.c.close()
        return self

    def check(self, what, codes=("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR")):
        ok(self.s.alive(), "%s: the server died: %s" % (what, self.s.log()[-1500:]))
        ok(self.took is not None, "%s: the attacker still connected after %.0fs (%d bytes "
           "sent; GOAWAY %r)" % (what, ATTACK_SECONDS, self.sent, self.c.goaway))
        if self.c.goaway is not None:
            code = ERRORS.get(self.c.goaway[1], self.c.goaway[1])
            ok(code in codes, "%s: GOAWAY with %s, expected one of %s" % (what, code, codes))


ATTACK_SPAN = 2.0


def run_attack(what, make, read=True, settings=None, codes=("ENHANCE_YOUR_CALM",
                                                             "PROTOCOL_ERROR")):
    """For ATTACK_SPAN seconds, attacker connections one after the other,
    each flooding with make()'s bytes and each to be closed; a normal
    client beside them all along; the server's memory bounded."""
    with h2_server(ATTACK_ARGS, tls=False) as s:
        base = peak = rss_kib(s.pid)
        floods = []
        with Bystander(s.port) as b:
            time.sleep(0.2)
            t0 = time.monotonic()
            while time.monotonic() - t0 < ATTACK_SPAN:
                f = Flood(s, make(), read, settings).run()
                floods.append(f)
                peak = max(peak, f.rss_peak)
                f.check("%s, connection %d" % (what, len(floods)), codes)
            time.sleep(0.2)
        b.check(what)
        ok(peak - base < 64 * 1024, "%s: RSS grew by %d KiB" % (what, peak - base))
        print("info: %s: %d connections, closed after %.3fs at most, GOAWAY %s" % (
            what, len(floods), max(f.took for f in floods),
            sorted(set(ERRORS.get(f.c.goaway[1], f.c.goaway[1]) if f.c.goaway else None
                       for f in floods), key=str)), flush=True)
        with H2(s.port) as c:
            eq(c.get("/index.html").status, 200, "%s: served afterwards" % what)


GET_BLOCK = block(req_headers())


def repeat(chunk, total=1 << 30):
    """chunk repeated in pieces of about 64 KiB, total bytes at most."""
    piece = chunk * max(1, 65536 // len(chunk))
    sent = 0
    while sent < total:
        yield piece
        sent += len(piece)


def per_stream(make, batch=500):
    """make(sid) for the odd stream ids 1, 3, 5..., batch of them a piece."""
    sid = 1
    while True:
        yield b"".join(make(sid + 2 * i) for i in range(batch))
        sid += 2 * batch


@test(timeout=40)
def attack_rapid_reset():
    run_attack("rapid reset", lambda: per_stream(
        lambda sid: frame(HEADERS, END_STREAM | END_HEADERS, sid, GET_BLOCK) + rst(sid)),
        codes=("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR", "INTERNAL_ERROR"))


@test(timeout=40)
def attack_continuation_flood():
    def chunks():
        yield frame(HEADERS, END_STREAM, 1, GET_BLOCK)
        cont = frame(CONTINUATION, 0, 1, lit("x-c", "c" * 1000) * 8)
        while True:
            yield cont * 8
    run_attack("CONTINUATION flood", chunks,
               codes=("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR", "COMPRESSION_ERROR",
                      "INTERNAL_ERROR"))


@test(timeout=40)
def attack_continuation_flood_empty():
    def chunks():
        yield frame(HEADERS, END_STREAM, 1, GET_BLOCK)
        yield from repeat(frame(CONTINUATION, 0, 1))
    run_attack("empty CONTINUATION flood", chunks,
               codes=("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR", "INTERNAL_ERROR"))


@test(timeout=40)
def attack_hpack_bomb():
    """A 4000-byte value indexed once, then referenced thousands of times
    per header block: 64 MB decoded from 16 KB. Each such stream is refused
    (431 or reset), or the connection goes away; memory stays bounded."""
    with h2_server(ATTACK_ARGS, tls=False) as s:
        base = peak = rss_kib(s.pid)
        with Bystander(s.port) as b, H2(s.port) as c:
            c.settings()
            first = True
            sids = []
            for i in range(20):
                sid = c.raw_stream()
                sids.append(sid)
                hb = GET_BLOCK
                if first:
                    hb += lit("x-bomb", "b" * 4000, indexing=True)
                    first = False
                hb += bytes([0x80 | 62]) * 16000
                try:
                    c.send(headers_frames(sid, hb))
                except OSError:
                    break
                c.wait(lambda: c.streams[sid].done() or c.goaway is not None or c.closed, 3)
                peak = max(peak, rss_kib(s.pid))
                if c.goaway is not None or c.closed:
                    break
            c.wait(lambda: c.closed or all(c.streams[x].done() for x in sids), 3)
        ok(s.alive(), "the server died")
        b.check("HPACK bomb")
        for sid in sids:
            st = c.streams[sid]
            ok(st.status != 200, "a bomb stream was answered 200")
            if c.goaway is None:
                ok(st.status == 431 or st.reset is not None, "stream %d: %r" % (sid, st))
        if c.goaway is not None:
            ok(ERRORS.get(c.goaway[1]) in ("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR",
                                           "COMPRESSION_ERROR"), "GOAWAY %r" % (c.goaway,))
        ok(peak - base < 64 * 1024, "RSS grew by %d KiB" % (peak - base))
        print("info: HPACK bomb: %d streams: %s; GOAWAY %s; RSS +%d KiB" % (
            len(sids), sorted(set(str(c.streams[x].status or ERRORS.get(c.streams[x].reset))
                                  for x in sids)),
            c.goaway and ERRORS.get(c.goaway[1], c.goaway[1]), peak - base), flush=True)


@test(timeout=40)
def attack_hpack_bomb_sustained():
    """HPACK bombs without end, a new stream each, on one connection: each
    refused block costs its sender (README), so the connection is closed,
    whatever the 431 answers earn it."""
    def chunks():
        yield headers_frames(1, GET_BLOCK + lit("x-bomb", "b" * 4000, indexing=True) +
                             bytes([0x80 | 62]) * 16000)
        yield from per_stream(lambda sid: frame(HEADERS, END_STREAM | END_HEADERS, sid + 2,
                                                GET_BLOCK + bytes([0x80 | 62]) * 16000), 4)
    run_attack("sustained HPACK bomb", chunks,
               codes=("ENHANCE_YOUR_CALM", "PROTOCOL_ERROR", "COMPRESSION_ERROR"))


@test(timeout=40)
def attack_settings_flood():
    run_attack("SETTINGS flood", lambda: repeat(settings_frame([(S_ENABLE_PUSH, 0)])),
               read=False)


@test(timeout=40)
def attack_ping_flood():
    run_attack("PING flood", lambda: repeat(frame(PING, 0, 0, b"12345678")), read=False)


@test(timeout=40)
def attack_priority_flood():
    run_attack("PRIORITY flood", lambda: per_stream(
        lambda sid: frame(PRIORITY, 0, sid, struct.pack(">IB", 0, 15)), 4000))


@test(timeout=40)
def attack_window_update_flood():
    run_attack("WINDOW_UPDATE flood", lambda: repeat(window_update(0, 1)))


@test(timeout=40)
def attack_empty_data_flood():
    def chunks():
        yield frame(HEADERS, END_HEADERS, 1, GET_BLOCK)
        yield from repeat(frame(DATA, 0, 1))
    run_attack("empty DATA flood", chunks)


@test(timeout=40)
def attack_unknown_frame_flood():
    """Frames of types the protocol lets a receiver ignore (RFC 9113 §5.5):
    PRIORITY_UPDATE (RFC 9218) and an unassigned type, 1 KiB each, without
    end. Like the other frames that ask for no answer they cost the
    connection, which is closed."""
    run_attack("unknown frame flood", lambda: repeat(
        frame(0x10, 0, 0, struct.pack(">I", 1) + b"u=3") + frame(0xfa, 0, 0, b"z" * 1024)))


@test(timeout=30)
def zero_window_closed_after_send_timeout():
    with h2_server(["--send-timeout", "2", "--idle-timeout", "30"], tls=False) as s:
        with Bystander(s.port) as b:
            c = H2(s.port, settings=[(S_INITIAL_WINDOW_SIZE, 0)], window=0, auto_window=False)
            sid = c.request("/big.bin")
            took = c.wait_closed(10)
            c.close()
        b.check("zero window")
        ok(took is not None, "a zero-window stream kept its connection open 10s")
        ok(took >= 1.5, "closed after %.2fs, before --send-timeout 2" % took)
        ok(len(c.streams[sid].body) == 0, "DATA sent into a zero window")


def eof_after(sock, limit):
    """Reads and drops what arrives (answering nothing) until the peer
    closes: the seconds that took, or None after limit seconds."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        sock.settimeout(max(0.01, limit - (time.monotonic() - t0)))
        try:
            if not sock.recv(65536):
                return time.monotonic() - t0
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - t0
    return None


@test(timeout=30)
def preface_alone_closed_after_header_timeout():
    """The preface (with or without SETTINGS) and then silence, not even a
    SETTINGS acknowledgement: closed at --header-timeout, not before."""
    with h2_server(["--header-timeout", "2", "--idle-timeout", "30"], tls=False) as s:
        for tail in (b"", settings_frame()):
            with Conn(s.port) as c:
                c.send(PREFACE + tail)
                took = eof_after(c.sock, 8)
            ok(took is not None, "a bare preface%s kept its connection 8s"
               % (" + SETTINGS" if tail else ""))
            ok(took >= 1.5, "closed after %.2fs, before --header-timeout 2" % took)
        with H2(s.port) as c:
            eq(c.get("/index.html").status, 200, "served afterwards")


@test(timeout=30)
def stalled_header_block_closed_after_header_timeout():
    """After a first request, a HEADERS frame without END_HEADERS and then
    silence: the header block's deadline (--header-timeout) applies, not
    --idle-timeout."""
    with h2_server(["--header-timeout", "2", "--idle-timeout", "30"], tls=False) as s:
        c = H2(s.port)
        eq(c.get("/index.html").status, 200, "first request")
        hb = block(req_headers())
        c.send(frame(HEADERS, END_STREAM, c.raw_stream(), hb[:10]))
        t0 = time.monotonic()
        took = c.wait_closed(10)
        c.close()
        ok(took is not None, "a header block left unfinished kept the connection 10s")
        ok(1.5 <= time.monotonic() - t0, "closed after %.2fs, before --header-timeout 2"
           % took)


@test(timeout=30)
def idle_connection_closed_after_idle_timeout():
    with h2_server(["--header-timeout", "30", "--idle-timeout", "2"], tls=False) as s:
        c = H2(s.port)
        eq(c.get("/index.html").status, 200, "first request")
        took = c.wait_closed(10)
        c.close()
        ok(took is not None, "an idle connection stayed 10s with --idle-timeout 2")
        ok(1.5 <= took <= 5, "closed after %.2fs with --idle-timeout 2" % took)
        if c.goaway is not None:
            eq(ERRORS.get(c.goaway[1], c.goaway[1]), "NO_ERROR", "GOAWAY code")


@test(timeout=30)
def idle_streams_closed():
    with h2_server(["--header-timeout", "2", "--idle-timeout", "3"], tls=False) as s:
        c = H2(s.port)
        for _ in range(5):
            c.request("/index.html", end_stream=False)
        took = c.wait_closed(10)
        c.close()
        ok(took is not None, "streams left open kept the connection 10s")
        ok(took >= 1.5, "closed after %.2fs" % took)


# ---------------------------------------------------------------- SIGTERM

@test(timeout=30)
def sigterm_grace_ends_a_stalled_stream():
    """SIGTERM while a stream waits on a window its client keeps shut:
    GOAWAY, and at --grace (2s here, --send-timeout 30) the server ends it
    and exits."""
    s = h2_server(["--grace", "2", "--send-timeout", "30"], tls=False)
    try:
        c = H2(s.port, settings=[(S_INITIAL_WINDOW_SIZE, 0)], window=0, auto_window=False)
        sid = c.request("/big.bin")
        c.wait(lambda: c.streams[sid].headers is not None, 5)
        eq(c.streams[sid].status, 200, "status")
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        c.wait(lambda: c.goaway is not None, 3)
        ok(c.goaway is not None, "no GOAWAY after SIGTERM")
        code = s.proc.wait(10)
        took = time.monotonic() - t0
        eq(code, 0, "exit status")
        ok(1.5 <= took <= 5, "exit %.1fs after SIGTERM with --grace 2" % took)
        ok(c.wait_closed(3) is not None, "the connection outlived the server")
        c.close()
    finally:
        s.stop()


@test(timeout=30)
def sigterm_idle_connection_closed_at_once():
    """SIGTERM with idle HTTP/2 connections (h2c and TLS): GOAWAY NO_ERROR at
    once, the connections end, and the server exits without waiting out
    --grace."""
    s = h2_server(["--grace", "10"])
    try:
        conns = [H2(s.port), H2(s.tls_port, tls=True)]
        for c in conns:
            eq(c.get("/index.html", scheme="https" if c is conns[1] else "http").status, 200,
               "a first request")
        t0 = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        for c, what in zip(conns, ("h2c", "TLS")):
            c.wait(lambda: c.closed, 5)
            ok(c.goaway is not None, "%s: no GOAWAY after SIGTERM" % what)
            eq(ERRORS.get(c.goaway[1], c.goaway[1]), "NO_ERROR", "%s: GOAWAY code" % what)
            ok(c.closed, "%s: the idle connection stayed open" % what)
            c.close()
        eq(s.proc.wait(5), 0, "exit status")
        took = time.monotonic() - t0
        ok(took < 3, "exit %.1fs after SIGTERM with only idle connections" % took)
    finally:
        s.stop()


@test(timeout=40)
def sigterm_goaway_and_grace():
    s = h2_server(["--grace", "8"], tls=False)
    try:
        c = H2(s.port, settings=[(S_INITIAL_WINDOW_SIZE, 65535)], window=0)
        sid = c.request("/big.bin")
        st = c.streams[sid]
        c.wait(lambda: len(st.body) >= 256 * 1024, 10)
        s.proc.send_signal(signal.SIGTERM)
        t0 = time.monotonic()
        # A slow reader: about 2 MB/s.
        while not st.done() and not c.closed and time.monotonic() - t0 < 15:
            c.pump(0.2)
            time.sleep(0.02)
        eq(st.status, 200, "status")
        ok(c.goaway is not None, "no GOAWAY after SIGTERM")
        eq(ERRORS.get(c.goaway[1], c.goaway[1]), "NO_ERROR", "GOAWAY code")
        ok(c.goaway[0] >= sid, "GOAWAY's last stream id %d excludes the stream %d"
           % (c.goaway[0], sid))
        ok(st.ended and bytes(st.body) == BIG, "the in-flight stream did not finish "
           "(%d of %d bytes, %r)" % (len(st.body), len(BIG), st))
        eq(s.proc.wait(10), 0, "exit status")
        c.close()
    finally:
        s.stop()


run_all("it_h2")
