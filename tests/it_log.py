"""Logging and startup messages (issue 2, "Logging" and the command line):
one Combined Log Format line per request on stderr, client text escaped,
the virtual host as first field under --vhosts, --access-log off, UTC dates
whatever TZ says, `hermit: ...` startup messages and exit statuses.

Run from the top of the repository: python3 tests/it_log.py ./hermit [TEST...]
"""

import datetime
import os
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

HELLO = b"hello log\n"
ROOT = make_tree({"hello.txt": HELLO, "index.html": b"<p>index</p>\n",
                  "dir/index.html": b"d\n"})
VROOT = make_tree({"example.com/index.html": b"example\n", "_default/index.html": b"default\n"})

VHOST_RE = re.compile(r"^(?P<vhost>\S+) " + ACCESS_RE.pattern[len(r"^(?:(?P<vhost>\S+) )?"):])
IDENT = ["--user", "nobody"] if is_root() else []


def lines_when(s, n, timeout=5):
    """The access lines once there are at least n of them (or what there is)."""
    got = wait_for(lambda: len(s.access_lines()) >= n and s.access_lines(), timeout)
    return got or s.access_lines()


def parse(line, regex=ACCESS_RE):
    m = regex.match(line)
    ok(m, "not a Combined Log Format line: %r" % line)
    return m


def check_date(m):
    d = datetime.datetime.strptime(m.group("date"), "%d/%b/%Y:%H:%M:%S %z")
    eq(d.utcoffset(), datetime.timedelta(0), "log date offset")
    now = datetime.datetime.now(datetime.timezone.utc)
    ok(abs((now - d).total_seconds()) < 10, "log date %s is not now (UTC %s)"
       % (m.group("date"), now.strftime("%d/%b/%Y:%H:%M:%S")))


def run_hermit(args, env=None, timeout=10):
    return subprocess.run([BIN] + list(args), capture_output=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def clean_bytes(data):
    """Positions of bytes a log must never contain raw."""
    return [i for i, b in enumerate(data) if (b < 0x20 and b != 0x0a) or b >= 0x7f]


# ---------------------------------------------------------------- access lines

@test
def clf_line_per_request():
    with Server(ROOT) as s:
        hdr = {"User-Agent": "test-agent/1.0", "Referer": "http://ref.example/page"}
        with Conn(s.port) as c:
            r1 = c.request("GET", "/hello.txt", hdr)
            c.request("HEAD", "/hello.txt", hdr)
            c.request("GET", "/missing?q=1", hdr)
            c.request("GET", "/dir")
        want = [
            ("GET /hello.txt HTTP/1.1", "200", str(len(HELLO)), "http://ref.example/page",
             "test-agent/1.0"),
            ("HEAD /hello.txt HTTP/1.1", "200", "-", "http://ref.example/page", "test-agent/1.0"),
            ("GET /missing?q=1 HTTP/1.1", "404", None, "http://ref.example/page",
             "test-agent/1.0"),
            ("GET /dir HTTP/1.1", "301", None, "-", "-"),
        ]
        eq(r1.body, HELLO, "body")
        lines = lines_when(s, 4)
        eq(len(lines), 4, "access lines %r" % lines)
        for line, (request, status, size, ref, ua) in zip(lines, want):
            m = parse(line)
            eq(m.group("vhost"), None, "vhost field without --vhosts in %r" % line)
            eq(m.group("addr"), "127.0.0.1", "address")
            eq((m.group("ident"), m.group("user")), ("-", "-"), "ident and user")
            eq(m.group("request"), request, "request field")
            eq(m.group("status"), status, "status field of %s" % request)
            if size is not None:
                eq(m.group("bytes"), size, "bytes field of %s" % request)
            eq((m.group("referer"), m.group("ua")), (ref, ua), "referer and user agent")
            check_date(m)


@test
def one_line_per_pipelined_request():
    with Server(ROOT) as s:
        data = raw(s.port, b"GET /hello.txt HTTP/1.1\r\nHost: a\r\n\r\n" * 9 +
                   b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        eq(len(parse_responses(data)), 10, "responses")
        lines = lines_when(s, 10)
        eq(len(lines), 10, "access lines")
        eq(parse(lines[-1]).group("request"), "GET /index.html HTTP/1.1", "last line")


@test
def bad_request_logged():
    with Server(ROOT) as s:
        raw(s.port, b"GET /hello.txt HTTP/1.1\r\n\r\n", timeout=3)
        raw(s.port, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", timeout=3)
        lines = lines_when(s, 2)
        # Two connections may be two workers', each writing its lines
        # when it next waits: either order.
        eq(sorted(parse(l).group("status") for l in lines), ["400", "414"], "statuses logged")


@test
def quotes_and_backslashes_escaped():
    with Server(ROOT) as s:
        ua = 'evil" 200 123 "x\\y'
        ref = 'http://r.example/"quoted"\\'
        with Conn(s.port) as c:
            c.request("GET", "/hello.txt", {"User-Agent": ua, "Referer": ref})
            c.request("GET", '/he"llo.txt', {"User-Agent": "caf\u00e9".encode().decode("latin-1")})
        lines = lines_when(s, 2)
        eq(len(lines), 2, "one line per request: %r" % lines)
        m = parse(lines[0])
        eq(m.group("status"), "200", "status")
        ok('"' not in m.group("ua").replace('\\"', ""), "raw quote in UA field %r" % m.group("ua"))
        ok("evil" in m.group("ua") and "x" in m.group("ua"), "UA field lost: %r" % m.group("ua"))
        ok("\\\\y" in m.group("ua") or "\\x5cy" in m.group("ua"),
           "backslash not escaped: %r" % m.group("ua"))
        parse(lines[1])
        ok(not clean_bytes(s.log_bytes()), "raw control or non-ASCII bytes in the log: %r"
           % s.log_bytes())


@test
def control_characters_never_reach_the_log():
    with Server(ROOT) as s:
        attacks = [
            b"GET /a%0aFAKE-LINE%0d%0a HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /x\x1b[31mred HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /a\rFAKE-CR HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /a\nFAKE-LF HTTP/1.1\r\nHost: a\r\n\r\n",
            b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nUser-Agent: a\x1b]0;title\x07b\r\n\r\n",
            b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nReferer: a\x00b\r\n\r\n",
            b"GET /caf\xe9\x85 HTTP/1.1\r\nHost: a\r\nUser-Agent: \xc2\x85\xff\r\n\r\n",
            b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nUser-Agent: x\x7fy\r\n\r\n",
        ]
        for a in attacks:
            raw(s.port, a, timeout=2)
        time.sleep(0.5)
        wait_for(lambda: len(s.access_lines()) >= len(attacks), 5)
        data = s.log_bytes()
        bad = clean_bytes(data)
        ok(not bad, "raw control/non-ASCII bytes in the log at %s: %r" % (bad[:5], data[-1500:]))
        for line in data.decode("ascii", "replace").splitlines():
            ok(not line.startswith("FAKE"), "injected line: %r" % line)
            if not line.startswith("hermit:"):
                parse(line)
        eq(len(s.access_lines()), len(attacks), "one line per request: %r" % s.access_lines())


@test
def long_fields_keep_lines_whole():
    with Server(ROOT) as s:
        ua = "U" * 4000
        with Conn(s.port) as c:
            for _ in range(3):
                r = c.request("GET", "/hello.txt", {"User-Agent": ua, "Referer": "\\" * 2000})
                eq(r.status, 200, "a 6 KiB head")
        lines = lines_when(s, 3)
        eq(len(lines), 3, "lines")
        for l in lines:
            parse(l)


@test
def vhost_first_field():
    with Server(VROOT, ["--vhosts"]) as s:
        with Conn(s.port) as c:
            eq(c.request("GET", "/", host="Example.COM.:8080").status, 200, "vhost request")
        with Conn(s.port) as c:
            eq(c.request("GET", "/", version="HTTP/1.0", host=None).status, 200, "no Host")
        raw(s.port, b"GET / HTTP/1.1\r\nHost: a\"b c\r\n\r\n", timeout=2)
        lines = lines_when(s, 3)
        eq(len(lines), 3, "lines %r" % lines)
        # Each worker writes its own lines: across connections the order
        # of lines is not the order of requests. Find each by its request.
        def line_of(request, status):
            found = [l for l in lines if ('"%s" %s ' % (request, status)) in l]
            eq(len(found), 1, "one line for %s %s in %r" % (request, status, lines))
            return found[0]
        m = parse(line_of("GET / HTTP/1.1", 200), VHOST_RE)
        eq(m.group("vhost"), "example.com", "vhost field")
        eq(m.group("addr"), "127.0.0.1", "address after the vhost")
        m = parse(line_of("GET / HTTP/1.0", 200), VHOST_RE)
        eq(m.group("vhost"), "_default", "vhost field without Host")
        m = parse(line_of("GET / HTTP/1.1", 400), VHOST_RE)
        eq(m.group("status"), "400", "status for an invalid Host")
        ok('"' not in m.group("vhost") and " " not in m.group("vhost"),
           "raw client text in the vhost field %r" % m.group("vhost"))


@test
def access_log_off():
    with Server(ROOT, ["--access-log", "off"]) as s:
        with Conn(s.port) as c:
            for _ in range(5):
                eq(c.request("GET", "/hello.txt").status, 200, "request")
            c.request("GET", "/missing")
        raw(s.port, b"GET / HTTP/1.1\r\n\r\n", timeout=2)
        time.sleep(1)
        eq(s.access_lines(), [], "access lines with --access-log off")
        ok("hermit: serving" in s.log(), "startup line missing with --access-log off")


@test
def log_dates_utc_whatever_tz():
    env = dict(os.environ)
    env["TZ"] = "EST5EDT"
    with Server(ROOT, env=env) as s:
        http(s.port, "GET", "/hello.txt")
        lines = lines_when(s, 1)
        check_date(parse(lines[0]))


@test(timeout=60)
def concurrent_workers_never_interleave_lines():
    with Server(ROOT, ["--workers", "2"]) as s:
        errors = []

        def client(k):
            try:
                with Conn(s.port) as c:
                    for i in range(50):
                        c.request("GET", "/hello.txt", {"User-Agent": "client-%d-%d-%s" %
                                                        (k, i, "z" * 200)})
            except Exception as e:
                errors.append(e)
        ts = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(40)
        eq(errors, [], "client errors")
        lines = lines_when(s, 400, timeout=10)
        eq(len(lines), 400, "access lines")
        seen = set()
        for l in lines:
            seen.add(parse(l).group("ua").split("-z")[0])
        eq(len(seen), 400, "distinct user agents logged")


# ---------------------------------------------------------------- startup messages

@test
def serving_line():
    with Server(ROOT, ["--workers", "3"]) as s:
        m = re.search(r"^hermit: serving (\S+) on (.*) with (\d+) workers?$", s.log(), re.M)
        ok(m, "no serving line in %r" % s.log())
        ok(m.group(1) in (ROOT, ROOT + "/"), "serving line names %r, not %r" % (m.group(1), ROOT))
        ok("127.0.0.1:%d" % s.port in m.group(2), "address in %r" % m.group(0))
        eq(m.group(3), "3", "workers")
        for line in s.log().splitlines():
            ok(line.startswith("hermit: ") or ACCESS_RE.match(line),
               "stray stderr line %r" % line)


@test
def bad_option_exit_2():
    cases = [
        (["--bogus", ROOT], "--bogus"),
        (["--access-log", "maybe", ROOT], "--access-log"),
        (["--workers", "abc", ROOT], "--workers"),
        (["--workers", "-3", ROOT], "--workers"),
        (["--max-connections", "", ROOT], "--max-connections"),
        (["--require", "chroot,magic", ROOT], "--require"),
        (["--user", "", ROOT], "--user"),
        ([ROOT, "--listen"], "--listen"),
        (["--stdio", "--listen", "127.0.0.1:1", ROOT], None),
    ]
    for args, opt in cases:
        cp = run_hermit(args)
        err = cp.stderr.decode("utf-8", "replace")
        eq(cp.returncode, 2, "exit status for %s (stderr %r)" % (args, err))
        ok(err.startswith("hermit: " + (opt or "")),
           "message for %s should start with 'hermit: %s': %r" % (args, opt or "", err))
        eq(cp.stdout, b"", "stdout for %s" % args)


@test
def usage_errors_exit_2():
    for args in ([], [ROOT, ROOT]):
        cp = run_hermit(args)
        eq(cp.returncode, 2, "exit status for %r" % args)
        ok(cp.stderr.startswith(b"hermit: "), "message %r" % cp.stderr)


@test
def help_and_version():
    cp = run_hermit(["--help"])
    eq(cp.returncode, 0, "--help exit status")
    ok(b"--listen" in cp.stdout and b"ROOT" in cp.stdout, "--help text %r" % cp.stdout[:300])
    for opt in ("--stdio", "--vhosts", "--user", "--max-connections", "--header-timeout",
                "--idle-timeout", "--send-timeout", "--grace", "--access-log", "--hide-version",
                "--mime-types", "--workers", "--max-requests", "--max-header-bytes",
                "--max-header-fields"):
        ok(opt.encode() in cp.stdout, "--help does not mention %s" % opt)
    cp2 = run_hermit(["-h"])
    eq((cp2.returncode, cp2.stdout), (0, cp.stdout), "-h like --help")
    for flag in ("--version", "-V"):
        cp = run_hermit([flag])
        eq(cp.returncode, 0, "%s exit status" % flag)
        ok(re.match(rb"^hermit \d+\.\d+", cp.stdout), "%s output %r" % (flag, cp.stdout))


@test
def missing_root_exit_1():
    port = free_port()
    for root in ("/nonexistent/hermit-root", os.path.join(ROOT, "hello.txt")):
        cp = run_hermit(IDENT + ["--listen", "127.0.0.1:%d" % port, root])
        err = cp.stderr.decode("utf-8", "replace")
        eq(cp.returncode, 1, "exit status for ROOT %s (stderr %r)" % (root, err))
        ok(err.startswith("hermit: ") and root in err, "message does not name %s: %r" % (root, err))


@test
def root_without_identity_refuses():
    if not is_root():
        skip("not running as root")
    cp = run_hermit(["--listen", "127.0.0.1:%d" % free_port(), ROOT])
    err = cp.stderr.decode("utf-8", "replace")
    eq(cp.returncode, 1, "exit status as root without --user (stderr %r)" % err)
    ok(err.startswith("hermit: ") and ("--user" in err or "UID" in err),
       "message does not say how to give an identity: %r" % err)


@test
def unknown_user_fails():
    if not is_root():
        skip("not running as root")
    cp = run_hermit(["--user", "no-such-user-hermit", "--listen",
                     "127.0.0.1:%d" % free_port(), ROOT])
    err = cp.stderr.decode("utf-8", "replace")
    ok(cp.returncode in (1, 2), "exit status %d for an unknown user" % cp.returncode)
    ok(err.startswith("hermit: ") and "no-such-user-hermit" in err, "message %r" % err)


@test
def uid_gid_environment_identity():
    if not is_root():
        skip("not running as root")
    uid, gid = nobody_ids()
    env = dict(os.environ, UID=str(uid), GID=str(gid))
    with Server(ROOT, env=env, user=None) as s:
        eq(http(s.port, "GET", "/hello.txt").status, 200, "served with UID/GID identity")
        with open("/proc/%d/status" % s.pid) as f:
            st = f.read()
        m = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", st, re.M)
        eq(tuple(int(x) for x in m.groups()), (uid,) * 4, "uids of the serving process")


run_all("it_log")
