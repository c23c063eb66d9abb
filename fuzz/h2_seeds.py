#!/usr/bin/python3
"""Writes the hand-made seeds of fuzz_h2 (fuzz/fuzz_h2.c and fuzz_conn.c
describe the script) into fuzz/corpus/h2/: HTTP/2 client frame sequences made
by python3-h2 (the harness writes the preface itself, so each starts with
the client's SETTINGS), wrapped in fuzz_conn's ops; and those of
fuzz_h2_request (header blocks as records, see fuzz/fuzz_h2_request.c) into
fuzz/corpus/h2_request/. Run from the top of the tree; the output is
deterministic."""
import os
import struct

import h2.config
import h2.connection
import h2.settings

from tls_seeds import writes    # fuzz_conn's op 0, 1-256 bytes at a time

OUT = "fuzz/corpus/h2"
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Byte 0: bit 1 stdio pipes, bit 2 access log, bit 3 small buffers, bits 4-5
# --max-header-bytes (1024, 2048, 8192, 65536), bits 6-7 --max-requests and
# --h2-max-streams. Byte 1: the field limit, clients in bits 5-7.
STDIO, LOG, SMALL = 2, 4, 8
HB_8K, HB_64K = 2 << 4, 3 << 4
REQ_1, REQ_2, REQ_5 = 1 << 6, 2 << 6, 3 << 6
FIELDS = 15
PEERS2, PEERS3 = 1 << 5, 2 << 5

HALF_CLOSE = 0x05
RESET = 0x07


def read(who=0):
    return bytes([who << 3 | 4, 0xff])


def later(quarters, who=0):
    return bytes([who << 3 | 6, quarters])


def op(code, who=0):
    return bytes([who << 3 | code])


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def settings_ack():
    return frame(4, 1, 0, b"")


class Client:
    """An h2 client whose output the seeds carry (without the preface)."""

    def __init__(self, settings=None):
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                        validate_outbound_headers=False,
                                        normalize_outbound_headers=False)
        self.c = h2.connection.H2Connection(config=cfg)
        if settings:
            self.c.local_settings = h2.settings.Settings(client=True, initial_values=settings)
        self.c.initiate_connection()
        out = self.c.data_to_send()
        assert out.startswith(PREFACE)
        self.pending = out[len(PREFACE):]

    def get(self, path, method=b"GET", extra=(), end=True, authority=b"localhost"):
        sid = self.c.get_next_available_stream_id()
        hdrs = [(b":method", method), (b":scheme", b"http"), (b":path", path)]
        if authority is not None:
            hdrs.append((b":authority", authority))
        self.c.send_headers(sid, hdrs + list(extra), end_stream=end)
        return sid

    def out(self):
        data = self.pending + self.c.data_to_send()
        self.pending = b""
        return data


def head(flags, fields=FIELDS):
    return bytes([flags, fields])


def put(name, data, out=OUT):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def request_seeds():
    out = "fuzz/corpus/h2_request"
    os.makedirs(out, exist_ok=True)
    seeds = {
        "get": (1, [b"GET", b"/index.html", b"localhost", b"user-agent:curl/8",
                    b"accept-encoding:gzip, br"]),
        "get_host_field": (0, [b"GET", b"/a?b=c", b"host:example.com",
                               b"if-none-match:\"x\"", b"referer:/"]),
        "head_range": (1, [b"HEAD", b"/big.bin", b"h", b"range:bytes=0-10",
                           b"if-range:\"e\"", b"if-modified-since:Sun, 06 Nov 1994 08:49:37 GMT"]),
        "options_star": (1, [b"OPTIONS", b"*", b"h"]),
        "post_body": (1, [b"POST", b"/x", b"h", b"content-length:12"]),
        "get_body": (1, [b"GET", b"/x", b"h", b"content-length:1"]),
        "content_length_twice": (0, [b"PUT", b"/", b"host:h", b"content-length:0",
                                     b"content-length:5"]),
        "range_twice": (1, [b"GET", b"/", b"h", b"range:bytes=1-", b"range:bytes=2-"]),
        "absolute": (0, [b"GET", b"http://h/x", b"host:h"]),
        "unknown_method": (1, [b"BREW", b"/pot", b"h", b"accept:*/*"]),
    }
    for name, (flags, records) in seeds.items():
        put(name, bytes([flags]) + b"\n".join(records), out)


def main():
    os.makedirs(OUT, exist_ok=True)

    c = Client()
    c.get(b"/index.html")
    put("simple", head(HB_8K) + writes(c.out()) + read() + writes(settings_ack()) + read())

    c = Client()
    for path, extra in [(b"/a.txt", [(b"accept-encoding", b"gzip, br")]),
                        (b"/big.bin", [(b"range", b"bytes=100-30000")]),
                        (b"/dir/", []), (b"/dir", []), (b"/nothing", []),
                        (b"/secret", []), (b"/up/secret.txt", []), (b"/.hidden", []),
                        (b"/private.txt", []), (b"/out", []), (b"/abs", []),
                        (b"/dir/deep", []), (b"/%2e%2e/secret.txt", []),
                        (b"/index.html?x=1", [(b"if-none-match", b"*")]),
                        (b"/a.txt", [(b"range", b"bytes=-10")]),
                        (b"/empty", []), (b"/.well-known/t.txt", [])]:
        c.get(path, extra=extra)
    c.get(b"/index.html", method=b"HEAD")
    put("many_streams", head(HB_8K | LOG) + writes(c.out()) + read() +
        writes(settings_ack()) + read() + read() + read())

    # The big file through a small window, opened by WINDOW_UPDATEs.
    c = Client({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
    sid = c.get(b"/big.bin")
    s = head(HB_8K) + writes(c.out()) + read()
    for _ in range(6):
        c.c.increment_flow_control_window(8000, stream_id=sid)
        c.c.increment_flow_control_window(8000)
        s += writes(c.out()) + read()
    put("small_window", s)

    # Larger frames, larger HPACK table.
    c = Client({h2.settings.SettingCodes.MAX_FRAME_SIZE: 65536,
                h2.settings.SettingCodes.HEADER_TABLE_SIZE: 65536})
    c.get(b"/big.bin")
    c.get(b"/dir/x.css")
    c.c.increment_flow_control_window(1 << 20)
    put("max_frame_size", head(HB_64K) + writes(c.out()) + read() + read() + read())

    # A reset in the middle of a body, then another request.
    c = Client()
    sid = c.get(b"/big.bin")
    s = head(HB_8K | SMALL) + writes(c.out()) + bytes([4, 8])
    c.c.reset_stream(sid)
    c.get(b"/a.txt")
    put("reset_stream", s + writes(c.out()) + read() + read())

    # Rapid reset: requests reset at once.
    c = Client()
    for _ in range(40):
        c.c.reset_stream(c.get(b"/index.html"))
    put("rapid_reset", head(HB_8K) + writes(c.out()) + read())

    # Chatter: PINGs and SETTINGS with nothing asked.
    c = Client()
    s = c.out()
    for i in range(60):
        s += frame(6, 0, 0, struct.pack(">Q", i)) + frame(4, 0, 0, b"")
    put("ping_flood", head(HB_8K) + writes(s) + read())

    # A body with GET, a POST with a body.
    c = Client()
    sid = c.get(b"/index.html", end=False)
    c.c.send_data(sid, b"x" * 100, end_stream=True)
    sid = c.get(b"/index.html", method=b"POST", end=False,
                extra=[(b"content-length", b"5")])
    c.c.send_data(sid, b"hello", end_stream=True)
    put("bodies", head(HB_8K) + writes(c.out()) + read())

    # A header block in CONTINUATION frames.
    c = Client()
    s = c.out()
    block = c.c.encoder.encode([(b":method", b"GET"), (b":scheme", b"http"),
                                (b":path", b"/a.txt"), (b":authority", b"localhost"),
                                (b"user-agent", b"u" * 300)])
    s += frame(1, 1, 1, block[:10]) + frame(9, 0, 1, block[10:100]) + frame(9, 4, 1, block[100:])
    put("continuation", head(HB_8K) + writes(s) + read())

    # Over --max-header-bytes (431) and over the field limit.
    c = Client()
    c.get(b"/index.html", extra=[(b"x-big", b"v" * 1500)])
    c.get(b"/index.html", extra=[(b"x-%d" % i, b"v") for i in range(20)])
    put("oversized", head(0, 1) + writes(c.out()) + read())

    # Bad streams: no :path, uppercase name, even stream, a bad target.
    c = Client()
    s = c.out()
    enc = c.c.encoder
    s += frame(1, 5, 1, enc.encode([(b":method", b"GET"), (b":scheme", b"http")]))
    s += frame(1, 5, 3, enc.encode([(b":method", b"GET"), (b":scheme", b"http"),
                                    (b":path", b"/"), (b"Host", b"x")]))
    s += frame(1, 5, 4, enc.encode([(b":method", b"GET"), (b":path", b"/")]))
    s += frame(1, 5, 5, enc.encode([(b":method", b"OPTIONS"), (b":scheme", b"http"),
                                    (b":path", b"*")]))
    s += frame(1, 5, 7, enc.encode([(b":method", b"GET"), (b":scheme", b"http"),
                                    (b":path", b"index.html")]))
    put("bad_streams", head(HB_8K) + writes(s) + read())

    # No SETTINGS first: a connection error.
    put("no_settings", head(0) + writes(frame(6, 0, 0, b"12345678")) + read())

    # Client GOAWAY; half-close; deadlines; a shutdown in flight.
    c = Client()
    c.get(b"/a.txt")
    c.c.close_connection()
    put("goaway", head(0) + writes(c.out()) + read())
    c = Client()
    c.get(b"/index.html")
    put("half_close", head(0) + writes(c.out()) + op(HALF_CLOSE) + read())
    c = Client()
    c.get(b"/index.html")
    put("timeouts", head(0) + writes(c.out()) + read() + later(20) + later(20) + read())
    c = Client({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 100})
    c.get(b"/big.bin")
    put("sigterm_in_flight", head(HB_8K) + writes(c.out()) + read() + later(250) +
        writes(settings_ack()) + later(10) + read())
    c = Client()
    put("header_timeout", head(0) + writes(c.out()[:20]) + later(12) + read())

    # Three clients, on the pipes and on small TCP windows; --max-requests.
    s = head(HB_8K, FIELDS | PEERS3)
    for who in range(3):
        c = Client()
        c.get(b"/dir/x.css")
        c.get(b"/a.txt")
        s += writes(c.out(), who)
    s += read(0) + read(1) + op(RESET, 2) + read(1) + read(0)
    put("three_clients", s)
    c = Client()
    c.get(b"/big.bin")
    put("stdio_small", head(STDIO | SMALL) + writes(c.out()) + read() + read())
    c = Client()
    for _ in range(3):
        c.get(b"/index.html")
    put("max_requests_2", head(REQ_2) + writes(c.out()) + read())
    c = Client()
    for _ in range(4):
        c.get(b"/a.txt")
    put("max_streams_1", head(REQ_1 | SMALL) + writes(c.out()) + read() + read())


if __name__ == "__main__":
    main()
    request_seeds()
