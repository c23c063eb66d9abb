"""TLS session tickets and kTLS: resumption across workers, ticket keys
replaced every --tls-tickets SECONDS (a ticket opens for one to two periods,
then a full handshake), --tls-tickets off, tickets of another hermit
refused; the startup line's kTLS state, and a large file over kTLS where the
kernel offers it.

Run from the top of the repository:
    python3 tests/it_tls_tickets.py ./hermit [TEST...]
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

BIG = os.urandom(10 * 1024 * 1024 + 77)


def make_pki():
    d = tempdir()
    self_signed(d, "ec")
    return d


if not have_tool("openssl"):
    print("SKIP it_tls_tickets: the openssl command is not installed")
    print("it_tls_tickets: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = make_pki()
ROOT = make_tree({"index.html": b"tickets\n", "big.bin": BIG})


def server(args=(), workers=2):
    port = free_port()
    return Server(ROOT, ["--listen-tls", "127.0.0.1:%d" % port,
                         "--cert", os.path.join(PKI, "ec.crt"),
                         "--key", os.path.join(PKI, "ec.key"),
                         "--workers", str(workers)] + list(args), listen=False, port=port)


def client(version=ssl.TLSVersion.TLSv1_3):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.load_verify_locations(os.path.join(PKI, "ec.crt"))
    c.minimum_version = c.maximum_version = version
    return c


def visit(port, ctx, session=None):
    """One connection with one request: (resumed?, the session to offer next)."""
    raw_sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    t = ctx.wrap_socket(raw_sock, server_hostname="localhost", session=session)
    try:
        t.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while not data.endswith(b"tickets\n"):
            chunk = t.recv(4096)
            if not chunk:
                break
            data += chunk
        ok(b"200 OK" in data, "served: %r" % data[:100])
        # A TLS 1.3 ticket comes after the handshake: read it with the answer.
        return t.session_reused, t.session
    finally:
        t.close()


@test
def tickets_resume_across_workers():
    with server(workers=4) as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            ctx = client(version)
            reused, session = visit(s.port, ctx)
            ok(not reused, "the first connection is a full handshake")
            ok(session.has_ticket, "a ticket was sent (%s)" % version)
            for i in range(24):
                reused, _ = visit(s.port, ctx, session)
                ok(reused, "%s: connection %d, whichever worker took it, resumed"
                   % (version, i))
        ok("ticket keys replaced every 3600 s" in s.log(), "the startup line: %s" % s.log())


@test(timeout=60)
def ticket_keys_are_replaced():
    """--tls-tickets 3: a ticket opens while its key is current or
    previous, then no more (times in whole seconds, as hermit counts)."""
    with server(["--tls-tickets", "3"]) as s:
        ctx = client()
        _, first = visit(s.port, ctx)
        t0 = time.monotonic()
        reused, _ = visit(s.port, ctx, first)
        ok(reused, "at once: resumed with the current key")
        time.sleep(max(0.0, t0 + 3.5 - time.monotonic()))
        reused, second = visit(s.port, ctx, first)
        ok(reused, "after one period: the previous key still opens it")
        ok(second.has_ticket, "and a fresh ticket came with it")
        time.sleep(max(0.0, t0 + 9.6 - time.monotonic()))
        reused, _ = visit(s.port, ctx, first)
        ok(not reused, "after two periods more: its key is gone, a full handshake")
        ok("ticket keys replaced every 3 s" in s.log(), "the startup line: %s" % s.log())


@test
def tickets_off():
    with server(["--tls-tickets", "off"]) as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            ctx = client(version)
            _, session = visit(s.port, ctx)
            ok(not session.has_ticket, "%s: no ticket" % version)
            reused, _ = visit(s.port, ctx, session)
            ok(not reused, "%s: no resumption" % version)
        ok("tickets off" in s.log(), "the startup line: %s" % s.log())


@test
def another_servers_ticket_is_refused():
    """Each hermit makes its own ticket keys: a ticket from one does not
    open on another with the same certificate."""
    ctx = client()
    with server() as a:
        _, session = visit(a.port, ctx)
        reused, _ = visit(a.port, ctx, session)
        ok(reused, "resumed where it was made")
    with server() as b:
        reused, _ = visit(b.port, ctx, session)
        ok(not reused, "another process's ticket opened")


@test
def bad_ticket_periods_are_refused():
    for value in ("0", "abc", "86401", "-5", ""):
        r = subprocess.run([BIN, "--listen-tls", "127.0.0.1:1", "--cert", "x", "--key", "y",
                            "--tls-tickets", value, ROOT], capture_output=True, timeout=10)
        eq(r.returncode, 2, "exit status for --tls-tickets %r" % value)
        ok(b"--tls-tickets" in r.stderr, "the error names the option: %r" % r.stderr)


def kernel_has_ktls():
    try:
        with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
            return "tls" in f.read().split()
    except OSError:
        return False


@test
def ktls_state_on_the_startup_line():
    with server() as s:
        line = [l for l in s.log().splitlines() if l.startswith("hermit: TLS:")]
        eq(len(line), 1, "one TLS startup line in %r" % s.log())
        if kernel_has_ktls():
            ok("ktls=on" in line[0], "the kernel offers tls: %s" % line[0])
        else:
            ok(re.search(r"ktls=off \([^)]+\)", line[0]) is not None,
               "ktls=off with its reason: %s" % line[0])


@test
def large_file_over_ktls():
    if not kernel_has_ktls():
        skip("the kernel offers no tls ULP here (modprobe tls): kTLS cannot be tried")
    with server() as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            raw_sock = socket.create_connection(("127.0.0.1", s.port), timeout=20)
            t = client(version).wrap_socket(raw_sock, server_hostname="localhost")
            t.sendall(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = t.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
            t.close()
            head, _, body = data.partition(b"\r\n\r\n")
            ok(head.startswith(b"HTTP/1.1 200"), "status: %r" % head[:40])
            ok(body == BIG, "%s: the body differs (%d bytes)" % (version, len(body)))


run_all("it_tls_tickets")
