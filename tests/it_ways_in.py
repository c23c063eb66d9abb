"""The three ways hermit gets connections (issue 2): it listens itself
(--listen), it is handed listening sockets (LISTEN_FDS/LISTEN_PID/
LISTEN_FDNAMES from fd 3, or a listening socket on stdin), or it serves one
connection on stdin/stdout (--stdio: a socket, two pipes, tcpserver).

Run from the top of the repository: python3 tests/it_ways_in.py ./hermit [TEST...]
"""

import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

HELLO = b"hello from the root\n"
BIG = bytes(range(256)) * (32 * 1024)     # 8 MiB: more than any socket or pipe buffers
ROOT = make_tree({"index.html": b"<p>index</p>\n", "hello.txt": HELLO, "big.bin": BIG})


def check_serves(port, host="127.0.0.1", what=""):
    with Conn(port, host) as c:
        for i in range(2):
            r = c.request("GET", "/hello.txt")
            eq((r.status, r.body), (200, HELLO), "%s response %d" % (what, i))


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def listening_socket(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 0))
    s.listen(128)
    return s


def listening_inodes(pid):
    """Inodes of the TCP sockets in LISTEN state that process pid holds."""
    held = set()
    fddir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fddir)
    except PermissionError:
        skip("served, but cannot read %s to check that hermit bound nothing itself" % fddir)
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fddir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", link)
        if m:
            held.add(int(m.group(1)))
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A":
                        listening.add(int(fields[9]))
        except FileNotFoundError:
            pass
    return held & listening


def activated(socks, names=None, args=(), pid_ok=True):
    """hermit started the way systemd starts a socket-activated service."""
    fds = {3 + i: s.fileno() for i, s in enumerate(socks)}
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("LISTEN_"):
            del env[k]
    env["LISTEN_FDS"] = str(len(socks))
    if names is not None:
        env["LISTEN_FDNAMES"] = ":".join(names)
    if not pid_ok:
        env["LISTEN_PID"] = "1"
    return Server(ROOT, list(args), listen=False, port=socks[0].getsockname()[1],
                  env=env, fds=fds, listen_pid=pid_ok)


# ---------------------------------------------------------------- --listen

@test
def listen_ipv4():
    with Server(ROOT) as s:
        check_serves(s.port, what="127.0.0.1")
        ok(re.search(r"^hermit: serving .* on .*127\.0\.0\.1:%d" % s.port, s.log(), re.M),
           "serving line does not name the address: %r" % s.log())


@test
def listen_ipv6():
    if not have_ipv6():
        skip("no IPv6 loopback")
    with Server(ROOT, host="::1") as s:
        check_serves(s.port, host="::1", what="[::1]")
        lines = wait_for(lambda: len(s.access_lines()) >= 2 and s.access_lines(), 5)
        ok(lines and all(l.startswith("::1 ") for l in lines),
           "peer address in the access log: %r" % s.access_lines())


def sockets_held(pid):
    """Sockets the server holds (its file cache keeps files open a moment,
    so only sockets count here)."""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            n += os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith("socket:")
        except OSError:
            pass
    return n


@test(timeout=30)
def own_sockets_defer_accept():
    """Sockets hermit binds itself defer accept: a connection that has sent
    nothing yet is not handed to the server (it holds no descriptor for
    it), is answered at once when its request comes, and is still handed
    over (and closed at the head deadline) if it stays silent."""
    with Server(ROOT, ["--header-timeout", "2"]) as s:
        check_serves(s.port, what="before")
        fds = lambda: sockets_held(s.pid)
        ok(wait_for(lambda: fds() == 1, 5), "only the listening socket is held (%d)" % fds())
        base = 1
        quiet = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        time.sleep(0.3)
        eq(fds(), base, "sockets held while a connection is silent (deferred)")
        quiet.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        t0 = time.monotonic()
        got = b""
        while True:
            d = quiet.recv(65536)
            if not d:
                break
            got += d
        quiet.close()
        ok(got.startswith(b"HTTP/1.1 200 ") and got.endswith(HELLO),
           "the deferred connection's answer: %r" % got[:80])
        ok(time.monotonic() - t0 < 1, "answered at once once the request came")
        silent = socket.create_connection(("127.0.0.1", s.port), timeout=15)
        t0 = time.monotonic()
        ok(wait_for(lambda: fds() > base, 5), "a silent connection is handed over in the end")
        ok(silent.recv(100) == b"", "a silent connection is closed")
        took = time.monotonic() - t0
        ok(2 <= took < 8, "silent connection closed after %.1fs (defer ~1s + head deadline 2s)" % took)
        silent.close()


@test
def listen_several_addresses():
    p2 = free_port()
    with Server(ROOT, ["--listen", "127.0.0.1:%d" % p2]) as s:
        check_serves(s.port, what="first address")
        check_serves(p2, what="second address")
        line = [l for l in s.log().splitlines() if l.startswith("hermit: serving")]
        ok(line and str(s.port) in line[0] and str(p2) in line[0],
           "serving line does not name both: %r" % line)


@test
def listen_address_in_use_fails():
    busy = listening_socket()
    try:
        port = busy.getsockname()[1]
        with Server(ROOT, ["--listen", "127.0.0.1:%d" % port], listen=False, wait=False) as s:
            code = s.proc.wait(5)
            eq(code, 1, "exit status when the address is in use")
            ok(re.search(r"^hermit: .*%d" % port, s.log(), re.M),
               "message does not name the address: %r" % s.log())
    finally:
        busy.close()


@test
def listen_bad_address_exit_2():
    for addr in ("127.0.0.1", "127.0.0.1:99999", "300.1.1.1:80", "[::1:80", "localhost:x"):
        with Server(ROOT, ["--listen", addr], listen=False, wait=False) as s:
            code = s.proc.wait(5)
            eq(code, 2, "exit status for --listen %s" % addr)
            ok(s.log().startswith("hermit: --listen"),
               "message for --listen %s: %r" % (addr, s.log()))


# ---------------------------------------------------------------- socket activation

@test
def socket_activation_one_socket():
    sock = listening_socket()
    try:
        with activated([sock], names=["http"]) as s:
            check_serves(sock.getsockname()[1], what="inherited socket")
            held = listening_inodes(s.pid)
            eq(held, {os.fstat(sock.fileno()).st_ino},
               "listening sockets held by hermit (it must not bind its own)")
    finally:
        sock.close()


@test
def socket_activation_two_sockets():
    a = listening_socket()
    if have_ipv6():
        b = listening_socket(socket.AF_INET6, "::1")
        bhost = "::1"
    else:
        b = listening_socket()
        bhost = "127.0.0.1"
    try:
        with activated([a, b], names=["http", "http6"]) as s:
            check_serves(a.getsockname()[1], what="fd 3")
            check_serves(b.getsockname()[1], host=bhost, what="fd 4")
            eq(listening_inodes(s.pid),
               {os.fstat(a.fileno()).st_ino, os.fstat(b.fileno()).st_ino},
               "listening sockets held by hermit")
    finally:
        a.close()
        b.close()


@test
def socket_activation_names_cannot_forge_log_lines():
    a = listening_socket()
    try:
        with activated([a], names=["http\nhermit-forged"]) as s:
            check_serves(a.getsockname()[1], what="fd 3")
            ok("\nhermit-forged" not in s.log(), "name printed raw: %r" % s.log())
            ok("http?hermit-forged (fd 3)" in s.log(), "name not shown: %r" % s.log())
    finally:
        a.close()


@test
def socket_activation_without_fdnames():
    sock = listening_socket()
    try:
        with activated([sock]) as s:
            check_serves(sock.getsockname()[1], what="inherited socket, no names")
    finally:
        sock.close()


@test
def socket_activation_other_pid_ignored():
    """LISTEN_PID naming another process: the fds are not hermit's to use."""
    sock = listening_socket()
    port = free_port()
    try:
        with activated([sock], args=["--listen", "127.0.0.1:%d" % port], pid_ok=False) as s:
            check_serves(port, what="own --listen")
            with Conn(sock.getsockname()[1], timeout=1) as c:
                c.send(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
                ok(c.read_all(timeout=1) == b"", "served the socket of another LISTEN_PID")
    finally:
        sock.close()


@test
def listening_socket_on_stdin():
    sock = listening_socket()
    try:
        with Server(ROOT, listen=False, port=sock.getsockname()[1], stdin=sock.fileno()) as s:
            check_serves(sock.getsockname()[1], what="socket on stdin")
            eq(listening_inodes(s.pid), {os.fstat(sock.fileno()).st_ino},
               "listening sockets held by hermit")
    finally:
        sock.close()


# ---------------------------------------------------------------- congestion control on loopback

def default_congestion():
    try:
        with open("/proc/sys/net/ipv4/tcp_congestion_control") as f:
            return f.read().strip()
    except OSError:
        return ""


def server_congestion(port):
    """The congestion control of the server's side of the connections to
    port, as ss(8) reports them."""
    out = server_tcp_info(port)
    return set(re.findall(r"([a-z0-9_]+) wscale:", out)), out


def needs_other_default():
    if default_congestion() == "reno":
        skip("this host's default congestion control is already reno: nothing to tell apart")


@test
def loopback_listener_connections_use_reno():
    """A listener on a loopback address serves this host alone, where BBR's
    pacing is pure cost (see listen.c): its connections run Reno, whatever
    the host's default."""
    needs_other_default()
    if not have_tool("ss"):
        skip("no ss(8)")
    hosts = ["127.0.0.1"] + (["::1"] if have_ipv6() else [])
    for host in hosts:
        with Server(ROOT, host=host) as s, Conn(s.port, host) as c:
            eq(c.request("GET", "/hello.txt").status, 200, "served on %s" % host)
            got, out = server_congestion(s.port)
            eq(got, {"reno"}, "congestion control of hermit's connection on %s (host default %s); ss: %r"
               % (host, default_congestion(), out[:300]))


@test
def passed_loopback_listener_uses_reno():
    """The same for a loopback socket passed in by systemd: hermit sets it
    on the listening socket, which its connections inherit, and clears a
    limit on unsent data left on it (by an earlier hermit, say): the kernel
    sizes these connections' sockets."""
    needs_other_default()
    lowat = getattr(socket, "TCP_NOTSENT_LOWAT", 25)
    sock = listening_socket()
    sock.setsockopt(socket.IPPROTO_TCP, lowat, 512 * 1024)
    try:
        with activated([sock]):
            check_serves(sock.getsockname()[1], what="passed socket")
            cc = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0")
            eq(cc, b"reno", "congestion control of the passed listening socket")
            eq(sock.getsockopt(socket.IPPROTO_TCP, lowat), 0,
               "TCP_NOTSENT_LOWAT of the passed listening socket")
    finally:
        sock.close()


# ---------------------------------------------------------------- --stdio

def stdio_env(ip=None, port=None):
    env = dict(os.environ)
    for k in ("TCPREMOTEIP", "TCPREMOTEPORT"):
        env.pop(k, None)
    if ip:
        env["TCPREMOTEIP"] = ip
        env["TCPREMOTEPORT"] = str(port)
    return env


def stdio_server(fd_in, fd_out, env=None):
    return Server(ROOT, ["--stdio"], listen=False, wait=False, stdin=fd_in, stdout=fd_out,
                  env=env or stdio_env())


@test
def stdio_socketpair_keep_alive():
    ours, theirs = socket.socketpair()
    try:
        s = stdio_server(theirs.fileno(), theirs.fileno(), stdio_env("192.0.2.7", 4711))
        theirs.close()
        with s:
            c = Conn.wrap(ours)
            for i in range(3):
                r = c.request("GET", "/hello.txt")
                eq((r.status, r.body), (200, HELLO), "response %d on one connection" % i)
            r = c.request("GET", "/", {"Connection": "close"})
            eq(r.status, 200, "last response")
            ok(c.closed(3), "connection left open after Connection: close")
            eq(s.proc.wait(5), 0, "exit status after the connection ended")
            lines = s.access_lines()
            eq(len(lines), 4, "access lines: %r" % lines)
            ok(all(l.startswith("192.0.2.7 ") for l in lines),
               "peer address not from TCPREMOTEIP: %r" % lines)
    finally:
        ours.close()


@test
def stdio_socketpair_client_hangs_up():
    ours, theirs = socket.socketpair()
    s = stdio_server(theirs.fileno(), theirs.fileno())
    theirs.close()
    with s:
        ours.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.3)
        ours.close()
        eq(s.proc.wait(5), 0, "exit status when the client hangs up")


@test
def stdio_two_pipes():
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    s = stdio_server(in_r, out_w, stdio_env("198.51.100.9", 1234))
    os.close(in_r)
    os.close(out_w)
    with s:
        os.write(in_w, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                       b"HEAD /index.html HTTP/1.1\r\nHost: a\r\n\r\n"
                       b"GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n")
        os.close(in_w)
        data = b""
        deadline = time.monotonic() + 5
        eof = False
        while not eof and time.monotonic() < deadline:
            r, _, _ = select.select([out_r], [], [], max(0, deadline - time.monotonic()))
            if r:
                chunk = os.read(out_r, 65536)
                eof = not chunk
                data += chunk
        os.close(out_r)
        rs = parse_responses(data, heads=(1,))
        eq([r.status for r in rs], [200, 200, 200], "statuses through pipes")
        eq(rs[0].body, HELLO, "first body")
        eq(rs[2].body, b"<p>index</p>\n", "third body")
        ok(eof, "output pipe still open 5s after EOF on the input pipe")
        eq(s.proc.wait(5), 0, "exit status after EOF on the input pipe")
        ok(all(l.startswith("198.51.100.9 ") for l in s.access_lines()),
           "peer address: %r" % s.access_lines())


@test
def stdio_tcp_socket_getpeername():
    """No TCPREMOTEIP: the peer address comes from getpeername."""
    lsock = listening_socket()
    client = socket.create_connection(lsock.getsockname(), timeout=5)
    conn, _ = lsock.accept()
    lsock.close()
    s = stdio_server(conn.fileno(), conn.fileno())
    conn.close()
    with s:
        c = Conn.wrap(client)
        r = c.request("GET", "/hello.txt", {"Connection": "close"})
        eq((r.status, r.body), (200, HELLO), "response")
        eq(s.proc.wait(5), 0, "exit status")
        lines = s.access_lines()
        ok(lines and lines[0].startswith("127.0.0.1 "), "peer address: %r" % lines)
    client.close()


@test
def stdio_under_tcpserver():
    if not have_tool("tcpserver"):
        skip("tcpserver (ucspi-tcp) not installed")
    port = free_port()
    logf = open(os.path.join(tempdir(), "tcpserver.log"), "w+b")
    env = dict(os.environ)
    if is_root():
        uid, gid = nobody_ids()
        env["UID"], env["GID"] = str(uid), str(gid)    # envuidgid style identity
    proc = spawn(["/usr/bin/tcpserver", "-HRl0", "127.0.0.1", str(port),
                  BIN, "--stdio", ROOT], env=env, stderr=logf.fileno())
    ok(wait_for(lambda: _connectable(port) or proc.poll() is not None, 5) and proc.poll() is None,
       "tcpserver did not start")
    for round in range(3):
        check_serves(port, what="tcpserver connection %d" % round)
    r = http(port, "GET", "/index.html")
    eq((r.status, r.body), (200, b"<p>index</p>\n"), "http.client through tcpserver")

    def lines():
        logf.seek(0)
        return [l for l in logf.read().decode("utf-8", "replace").splitlines()
                if l and not l.startswith("hermit:")]
    got = wait_for(lambda: len(lines()) >= 7 and lines(), 5) or lines()
    eq(len(got), 7, "access lines: %r" % got)
    ok(all(l.startswith("127.0.0.1 ") for l in got), "peer address: %r" % got)
    logf.seek(0)
    errors = [l for l in logf.read().decode("utf-8", "replace").splitlines()
              if l.startswith("hermit:") and not re.match(r"hermit: (confined|serving)", l)]
    ok(not errors, "hermit messages under tcpserver: %r" % errors)
    proc.kill()
    proc.wait(5)


# Deadlines on --stdio: a client that stops reading, or stops mid-head,
# must not hold the one thread past the deadlines (or SIGTERM).

def stdio_exits_within(s, seconds, what):
    t0 = time.monotonic()
    try:
        code = s.proc.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError("%s: still running after %ss" % (what, seconds))
    return code, time.monotonic() - t0


@test
def stdio_send_timeout_holds_on_a_socket():
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s = Server(ROOT, ["--stdio", "--send-timeout", "2"], listen=False, wait=False,
               stdin=theirs.fileno(), stdout=theirs.fileno(), env=stdio_env())
    theirs.close()
    with s:
        ours.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")   # and never read
        code, took = stdio_exits_within(s, 10, "client not reading")
        eq(code, 0, "exit status")
        ok(took < 8, "closed %.1fs after the request, --send-timeout 2" % took)
    ours.close()


@test
def stdio_send_timeout_holds_on_two_pipes():
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    s = Server(ROOT, ["--stdio", "--send-timeout", "2"], listen=False, wait=False,
               stdin=in_r, stdout=out_w, env=stdio_env())
    os.close(in_r)
    os.close(out_w)
    with s:
        os.write(in_w, b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")   # output never read
        code, took = stdio_exits_within(s, 10, "output pipe not read")
        eq(code, 0, "exit status")
        ok(took < 8, "closed %.1fs after the request, --send-timeout 2" % took)
    os.close(in_w)
    os.close(out_r)


@test
def stdio_header_timeout_holds_after_a_request():
    """One complete request, then a partial head that fills the buffer: the
    head deadline closes it, whatever the read would have waited for."""
    ours, theirs = socket.socketpair()
    s = Server(ROOT, ["--stdio", "--header-timeout", "2", "--max-header-bytes", "1024"],
               listen=False, wait=False, stdin=theirs.fileno(), stdout=theirs.fileno(),
               env=stdio_env())
    theirs.close()
    with s:
        first = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n"
        partial = b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nX-Pad: "
        # exactly the 1024-byte buffer: the first read fills it, so the
        # next one finds nothing (a blocking read would wait for ever)
        ours.sendall(first + partial + b"a" * (1024 - len(first) - len(partial)))
        code, took = stdio_exits_within(s, 10, "partial head after a request")
        eq(code, 0, "exit status")
        ok(took < 7, "closed %.1fs after the partial head, --header-timeout 2" % took)
        data = ours.recv(65536)
        ok(data.startswith(b"HTTP/1.1 200 "), "first request answered: %r" % data[:40])
    ours.close()


@test
def stdio_sigterm_while_client_not_reading():
    ours, theirs = socket.socketpair()
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s = Server(ROOT, ["--stdio", "--grace", "1"], listen=False, wait=False,
               stdin=theirs.fileno(), stdout=theirs.fileno(), env=stdio_env())
    theirs.close()
    with s:
        ours.sendall(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.5)
        s.proc.send_signal(signal.SIGTERM)
        code, took = stdio_exits_within(s, 6, "SIGTERM, client not reading")
        eq(code, 0, "exit status")
        ok(took < 4, "exited %.1fs after SIGTERM, --grace 1" % took)
    ours.close()


@test
def stdio_peer_from_environment_must_be_an_address():
    """TCPREMOTEIP is the caller's: a value with a newline must not forge a log line."""
    ours, theirs = socket.socketpair()
    env = stdio_env()
    env["TCPREMOTEIP"] = "1.2.3.4 \"GET /forged\"\n5.6.7.8"
    s = stdio_server(theirs.fileno(), theirs.fileno(), env)
    theirs.close()
    with s:
        c = Conn.wrap(ours)
        r = c.request("GET", "/hello.txt", {"Connection": "close"})
        eq(r.status, 200, "response")
        eq(s.proc.wait(5), 0, "exit status")
        lines = s.access_lines()
        eq(len(lines), 1, "access lines: %r" % lines)
        # the socket's own peer instead ("local" for a socketpair)
        ok(lines[0].split(" ")[0] in ("-", "local") and "forged" not in lines[0],
           "log line: %r" % lines)
        ok("TCPREMOTEIP is not an IP address" in s.log(), "no warning: %r" % s.log())
    ours.close()
    env["TCPREMOTEIP"] = "2001:db8::7"
    ours, theirs = socket.socketpair()
    s = stdio_server(theirs.fileno(), theirs.fileno(), env)
    theirs.close()
    with s:
        Conn.wrap(ours).request("GET", "/hello.txt", {"Connection": "close"})
        eq(s.proc.wait(5), 0, "exit status")
        ok(s.access_lines() and s.access_lines()[0].startswith("2001:db8::7 "),
           "IPv6 TCPREMOTEIP: %r" % s.access_lines())
    ours.close()


# ---------------------------------------------------------------- signals

@test
def habitual_signals_do_not_kill_or_cut_transfers():
    """svc -h, sv hup, s6-svc -h and logrotate send HUP by habit; USR1,
    USR2 and ALRM have deadly defaults too: none may cut a response."""
    with Server(ROOT) as s:
        c = Conn(s.port, rcvbuf=65536)
        c.send(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")
        head = c.read_head()
        ok(b" 200 " in head.split(b"\r\n")[0], "status: %r" % head[:40])
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
            s.proc.send_signal(sig)
            time.sleep(0.1)
        deadline = time.monotonic() + 15
        while len(c.buf) < len(BIG) and c._fill(deadline):
            pass
        body = c.buf
        ok(s.alive(), "hermit died of a signal")
        eq(len(body), len(BIG), "body length after the signals")
        ok(body == BIG, "body intact")
        check_serves(s.port, what="after the signals")
        log = s.log()
        ok("SIGHUP: nothing to reload" in log, "HUP not logged: %r" % log[-500:])
        for name in ("SIGUSR1", "SIGUSR2", "SIGALRM"):
            ok("%s: ignored" % name in log, "%s not logged: %r" % (name, log[-500:]))
        eq(s.stop(), 0, "SIGTERM still stops it")


@test
def stdio_hup_does_not_end_the_connection():
    ours, theirs = socket.socketpair()
    s = stdio_server(theirs.fileno(), theirs.fileno())
    theirs.close()
    with s:
        c = Conn.wrap(ours)
        eq(c.request("GET", "/hello.txt").status, 200, "first request")
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        ok(s.alive(), "SIGHUP ended --stdio")
        r = c.request("GET", "/hello.txt", {"Connection": "close"})
        eq((r.status, r.body), (200, HELLO), "request after SIGHUP")
        eq(s.proc.wait(5), 0, "exit status")
    ours.close()


# ---------------------------------------------------------------- shutdown

@test
def own_listener_closed_at_once_on_sigterm():
    """During the grace period new clients get a refusal, not a handshake
    followed by a reset."""
    with Server(ROOT, ["--grace", "5"]) as s:
        c = Conn(s.port, rcvbuf=4096)
        c.send(b"GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n")   # in flight, not read
        c.read_head()
        s.proc.send_signal(signal.SIGTERM)
        ok(wait_for(lambda: "finishing responses" in s.log(), 3), "no shutdown message")

        def refused():
            try:
                socket.create_connection(("127.0.0.1", s.port), timeout=1).close()
                return False
            except ConnectionRefusedError:
                return True
        ok(wait_for(refused, 2), "own listener still accepting during the grace period")
        ok(s.alive(), "the response in flight should keep hermit in its grace period")
        c.close()


@test
def passed_listener_stays_open_on_sigterm():
    """A socket passed by systemd stays with systemd: hermit neither closes
    nor drains it, so the next instance gets what waits there."""
    lsock = listening_socket()
    port = lsock.getsockname()[1]
    s = activated([lsock], args=["--grace", "1"])
    with s:
        check_serves(port, what="activated")
        eq(s.stop(), 0, "exit status")
    c = socket.create_connection(("127.0.0.1", port), timeout=2)
    c.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n")
    conn, _ = lsock.accept()      # still queued on the socket systemd holds
    ok(conn.recv(100).startswith(b"GET /hello.txt"), "queued request lost")
    conn.close()
    c.close()
    lsock.close()


# The forms that bind every address (":PORT", "[::]:PORT" and the default
# [::]:80 as root) are tried in a private network namespace, where "every
# address" is only its own loopback: nothing is exposed to the machine's network.

def netns_child():
    """Runs inside `unshare --net`: prints `netns: ok` or raises."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    port = free_port()
    for form in (":%d" % port, "[::]:%d" % port):
        with Server(ROOT, ["--listen", form], listen=False, port=port) as s:
            check_serves(port, "127.0.0.1", "%s over IPv4" % form)
            check_serves(port, "::1", "%s over IPv6" % form)
    if is_root():
        with Server(ROOT, [], listen=False, port=80) as s:
            check_serves(80, "127.0.0.1", "default address over IPv4")
            check_serves(80, "::1", "default address over IPv6")
            ok(re.search(r"^hermit: serving .* on \[::\]:80", s.log(), re.M),
               "serving line for the default: %r" % s.log())
    print("netns: ok")


@test(timeout=60)
def dual_stack_and_default_address_in_private_netns():
    if not (have_tool("unshare") and have_tool("ip")):
        skip("unshare or ip not installed")
    if not is_root():
        skip("a network namespace needs root")
    if not have_ipv6():
        skip("no IPv6 loopback")
    env = dict(os.environ, HERMIT_IT_NETNS="1")
    cp = subprocess.run(["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                         BIN], capture_output=True, timeout=50, env=env)
    out = (cp.stdout + cp.stderr).decode("utf-8", "replace")
    if cp.returncode != 0 and "unshare failed" in out:
        skip("cannot create a network namespace here: %s" % out.strip()[:200])
    ok(cp.returncode == 0 and "netns: ok" in out, "in the private namespace:\n%s" % out[-3000:])


def _connectable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


if os.environ.get("HERMIT_IT_NETNS") == "1":
    netns_child()
    sys.exit(0)
run_all("it_ways_in")
