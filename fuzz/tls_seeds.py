#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz_tls (fuzz/fuzz_tls.c describes the script) into
fuzz/corpus/tls/: fuzz_conn's hand-written scripts behind a TLS head byte
(each mode, version, ALPN and SNI choice), real ClientHellos sent raw, and
records a client library never makes, sent after a real handshake.
Run from the top of the tree; the output is deterministic but for the
ClientHellos' random fields."""
import os
import ssl
import struct

OUT = "fuzz/corpus/tls"
CONN = "fuzz/corpus/conn"

RAW, AFTER_RAW, APPDATA, MIXED = 0, 1, 2, 3
TLS12 = 4
ALPN_HTTP11, ALPN_BOTH, ALPN_H2 = 1 << 3, 2 << 3, 3 << 3
SNI_LOCALHOST, SNI_WWW, SNI_FUZZED = 1 << 5, 2 << 5, 3 << 5
RESUME = 1 << 7


def head(flags, name=None):
    if name is None:
        return bytes([flags])
    return bytes([flags | SNI_FUZZED, len(name)]) + name


def writes(data, who=0):
    """fuzz_conn ops writing data: op 0 (1-256 bytes) at a time."""
    out = b""
    for i in range(0, len(data), 256):
        chunk = data[i:i + 256]
        out += bytes([who << 3 | 0, len(chunk) - 1]) + chunk
    return out


READ = b"\x04\xff"          # op 4: read 64 KiB
HALF_CLOSE = b"\x05"
RESET = b"\x07"
LATER = b"\x06\x20"         # 8 seconds pass


def client_hello(version, alpn=None, sni=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = version
    if alpn:
        ctx.set_alpn_protocols(alpn)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    s = ctx.wrap_bio(inc, out, server_hostname=sni)
    try:
        s.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def record(ctype, body, version=b"\x03\x03"):
    return bytes([ctype]) + version + struct.pack(">H", len(body)) + body


def put(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    get = b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n"
    big = b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n"

    # HTTP behind TLS: fuzz_conn's scripts, each with a TLS head.
    heads = {
        "simple": APPDATA,
        "keepalive": APPDATA | TLS12,
        "pipelined": APPDATA | ALPN_HTTP11 | SNI_LOCALHOST,
        "ranges": APPDATA | TLS12 | ALPN_BOTH | SNI_WWW,
        "stdio": APPDATA,
        "stdio_small_pipes": APPDATA | TLS12,
        "bigfile_small_sndbuf": APPDATA,
        "half_close_after": APPDATA | SNI_LOCALHOST,
        "half_close_mid_head": APPDATA | TLS12,
        "reset_mid_body": APPDATA,
        "sigterm_in_flight": APPDATA | TLS12,
        "slow_reader_timeout": APPDATA,
        "header_timeout": APPDATA,
        "idle_timeout": APPDATA | TLS12,
        "three_clients": APPDATA | RESUME,
        "vhosts": APPDATA | SNI_WWW,
        "max_requests_1": APPDATA,
        "regress-two-connections-head-timer": APPDATA,
        "oversized": APPDATA | TLS12,
        "oversized_fields": APPDATA,
        "post": APPDATA,
        "conditional": APPDATA | TLS12,
    }
    for name, h in heads.items():
        with open(os.path.join(CONN, name), "rb") as f:
            put("appdata-" + name, bytes([h]) + f.read())

    # Resumption across three clients, by name: TLS 1.3 and 1.2.
    three = b"\x00\x40" + b"".join(writes(get, w) + bytes([w << 3 | 4, 0xff])
                                   for w in range(3))
    put("resume-13", head(APPDATA | RESUME | SNI_LOCALHOST) + three)
    put("resume-12", head(APPDATA | RESUME | TLS12 | SNI_WWW) + three)
    put("resume-fuzzed-name", head(APPDATA | RESUME, b"LocalHost.") + three)
    put("alpn-h2-only", head(APPDATA | ALPN_H2) + b"\x00\x63" + writes(get) + READ)
    put("sni-wildcard-two-levels", head(APPDATA, b"a.b.example.com") + b"\x00\x63" +
        writes(get) + READ)

    # Raw from the start: real ClientHellos, a plain HTTP request, a cut one.
    for name, v, alpn, sni in (("13", ssl.TLSVersion.TLSv1_3, ["http/1.1"], "localhost"),
                               ("12", ssl.TLSVersion.TLSv1_2, None, None),
                               ("12-h2", ssl.TLSVersion.TLSv1_2, ["h2"], "x.example.com")):
        hello = client_hello(v, alpn, sni)
        put("raw-hello-" + name, head(RAW) + b"\x00\x63" + writes(hello) + READ + READ)
        put("raw-hello-cut-" + name, head(RAW) + b"\x00\x63" + writes(hello[:60]) +
            LATER + READ)
    put("raw-plain-http", head(RAW) + b"\x00\x63" + writes(get) + READ)
    put("raw-sslv2-hello", head(RAW) + b"\x00\x63" +
        writes(b"\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10" + bytes(21 + 16)) + READ)

    # After a real handshake, records the client library never makes.
    after = {
        "huge-length": record(23, b"")[:3] + b"\xff\xff" + bytes(64),
        "bad-mac": record(23, bytes(40)),
        "alert-close": record(21, b"\x01\x00"),
        "alert-fatal": record(21, b"\x02\x28"),
        "ccs": record(20, b"\x01"),
        "handshake-plain": record(22, b"\x01\x00\x00\x00"),
        "unknown-type": record(99, b"abc"),
        "wrong-version": record(23, bytes(30), b"\x03\x01"),
    }
    for name, rec in after.items():
        put("after-" + name, head(AFTER_RAW) + b"\x00\x63" + writes(rec) + READ)
        put("after12-" + name, head(AFTER_RAW | TLS12) + b"\x00\x63" + writes(rec) + READ)
    # Renegotiation: a second ClientHello, in the clear, on a TLS 1.2 link.
    put("after12-renegotiate", head(AFTER_RAW | TLS12) + b"\x00\x63" +
        writes(client_hello(ssl.TLSVersion.TLSv1_2)) + READ)

    # Mixed: a good request, then (op 3, raw) a broken record mid-response.
    bad = record(23, bytes(27))
    put("mixed-bad-record-mid-response", head(MIXED) + b"\x00\x63" + writes(big) +
        b"\x04\x00" + bytes([3, 0]) + bad + READ + READ)
    put("appdata-half-close-then-read", head(APPDATA | TLS12) + b"\x00\x63" + writes(big) +
        HALF_CLOSE + READ + READ + READ)
    put("appdata-reset-mid-body", head(APPDATA) + b"\x08\x63" + writes(big) + b"\x04\x01" +
        RESET)


if __name__ == "__main__":
    main()
