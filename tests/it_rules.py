#!/usr/bin/env python3
"""Integration tests for _headers and _redirects (src/rules.c) against the
real binary, with hand-made sites: redirects with every status, 200
rewrites (a single-page app), 404 pages, forced and shadowed rules,
placeholders and splats, header rules merged per path, headers hermit owns
refused with a warning, files changed while serving, malformed files that
leave the previous rules in force, the limits, and rules per virtual host.

    python3 tests/it_rules.py ./hermit
"""

import os
import subprocess
import time

from harness import *

# A change is seen within RULES_RECHECK_MS (1 s); tests allow 3 s.
SEEN = 3.0
RECHECK = 1.0  # RULES_RECHECK_MS

SITE = {
    "index.html": b"home\n",
    "app.html": b"the app\n",
    "a.html": b"page a\n",
    "b.html": b"page b\n",
    "404-custom.html": b"custom missing\n",
    "docs/index.html": b"docs\n",
    "static/x.css": b"css\n",
    "static/private/k.txt": b"key\n",
    ".hidden/secret.txt": b"secret\n",
}

REDIRECTS = """\
# every status
/r301 /a.html 301
/r302 /a.html 302
/r303 /a.html 303
/r307 /a.html 307
/r308 /a.html 308
/rdefault /a.html
/ext https://example.com/there 301
/own-query /a.html?from=rule 302
/blog/:year/:slug /posts/:year/:slug.html 301
/news/* /n/:splat 302
/top* /:splat 301
/a.html /b.html 301
/b.html /a.html 302!
/gone/* /404-custom.html 404
/escape/* /.hidden/secret.txt 200
/rules /_headers 200
/app/* /app.html 200
/emp* /:splat/a.html 302
/docs /a.html 302
"""

HEADERS = """\
/*
  X-Frame-Options: DENY
  Cache-Control: max-age=60
/static/*
  Cache-Control: immutable
  Access-Control-Allow-Origin: *
/static/private/*
  ! Access-Control-Allow-Origin
  X-Robots-Tag: noindex
/u/:id
  X-User: placeholder
"""


def site(redirects=REDIRECTS, headers=HEADERS, extra=None):
    files = dict(SITE)
    if redirects is not None:
        files["_redirects"] = redirects
    if headers is not None:
        files["_headers"] = headers
    files.update(extra or {})
    return make_tree(files)


def replace(root, rel, content):
    """Replaces root/rel as a deploy does: a new file renamed over the old."""
    tmp = write_file(root, rel + ".new", content)
    os.rename(tmp, os.path.join(root, rel))


def get(s, path, **kw):
    return http(s.port, "GET", path, **kw)


@test
def redirects_with_every_status():
    with Server(site()) as s:
        for status in (301, 302, 303, 307, 308):
            r = get(s, "/r%d" % status)
            eq(r.status, status, "status of /r%d" % status)
            eq(r.header("Location"), "/a.html", "Location of /r%d" % status)
        eq(get(s, "/rdefault").status, 301, "a rule without a status")
        r = get(s, "/ext")
        eq((r.status, r.header("Location")), (301, "https://example.com/there"), "URL target")


@test
def query_string_is_passed_on_unless_the_target_has_one():
    with Server(site()) as s:
        eq(get(s, "/r302?x=1&y=2").header("Location"), "/a.html?x=1&y=2", "query kept")
        eq(get(s, "/own-query?x=1").header("Location"), "/a.html?from=rule", "target's query")


@test
def placeholders_and_splats():
    with Server(site()) as s:
        eq(get(s, "/blog/2024/hello").header("Location"), "/posts/2024/hello.html",
           "placeholders")
        eq(get(s, "/news/a/b%20c").header("Location"), "/n/a/b%20c", "splat, re-encoded")
        eq(get(s, "/news").header("Location"), "/n/", "/news/* matches /news")
        # The decoded path is matched: an encoded spelling is the same rule.
        eq(get(s, "/%72301").header("Location"), "/a.html", "encoded path matched decoded")
        # A splat that starts with '/' never makes a protocol-relative URL.
        r = get(s, "/top%2F%2Fevil.example")
        eq(r.status, 301, "status")
        ok(not r.header("Location").startswith("//"), "Location %r" % r.header("Location"))
        eq(get(s, "/emp").header("Location"), "/a.html", "an empty splat before '/'")


@test
def single_page_app_rewrite():
    with Server(site()) as s:
        r = get(s, "/app/some/client/route")
        eq((r.status, r.body), (200, b"the app\n"), "SPA route served from /app.html")
        r = get(s, "/app/some/route", headers={"If-None-Match": r.header("ETag")})
        eq(r.status, 304, "a rewrite is conditional like any file")


@test
def spa_catch_all_leaves_files_alone():
    root = make_tree({"index.html": b"spa\n", "main.js": b"js\n",
                      "_redirects": "/* /index.html 200\n"})
    with Server(root) as s:
        eq(get(s, "/main.js").body, b"js\n", "a file is served as itself")
        eq((get(s, "/deep/link").status, get(s, "/deep/link").body), (200, b"spa\n"), "SPA")
        eq(get(s, "/").body, b"spa\n", "/")


@test
def shadowing_and_force():
    with Server(site()) as s:
        r = get(s, "/a.html")
        eq((r.status, r.body), (200, b"page a\n"), "a file shadows a rule without !")
        r = get(s, "/b.html")
        eq((r.status, r.header("Location")), (302, "/a.html"), "a forced rule wins")
        # "/a.html/" names no file (it is 404 without rules): the rule applies.
        eq(get(s, "/a.html/").header("Location"), "/b.html", "a file with a slash")
        eq(get(s, "/docs").header("Location"), "/docs/", "a directory is a file match")
        eq(get(s, "/docs/").body, b"docs\n", "its index.html too")


@test
def custom_404_page():
    with Server(site()) as s:
        r = get(s, "/gone/old/page")
        eq((r.status, r.body), (404, b"custom missing\n"), "404 rule serves its page")
        r = http(s.port, "HEAD", "/gone/x")
        eq((r.status, r.body), (404, b""), "HEAD")


@test
def rewrite_target_obeys_the_publishing_policy():
    with Server(site()) as s:
        eq(get(s, "/escape/x").status, 404, "a rewrite cannot reach a dot directory")
        eq(get(s, "/rules").status, 404, "nor the rules files")


@test
def rules_files_are_never_served():
    with Server(site()) as s:
        for p in ("/_headers", "/_redirects", "/%5Fheaders", "//_redirects", "/_headers/"):
            eq(get(s, p).status, 404, p)


@test
def headers_merged_per_path():
    with Server(site()) as s:
        r = get(s, "/a.html")
        eq(r.header("X-Frame-Options"), "DENY", "X-Frame-Options")
        eq(r.header("Cache-Control"), "max-age=60", "Cache-Control")
        r = get(s, "/static/x.css")
        eq(r.header("Cache-Control"), "max-age=60, immutable", "values joined")
        eq(r.header("Access-Control-Allow-Origin"), "*", "CORS")
        r = get(s, "/static/private/k.txt")
        eq(r.header("Access-Control-Allow-Origin"), None, "! removes it")
        eq(r.header("X-Robots-Tag"), "noindex", "the last rule's own")
        r = get(s, "/static/x.css", headers={"If-None-Match": r.header("ETag") or "x"})
        r2 = get(s, "/static/x.css", headers={"If-None-Match": get(s, "/static/x.css").header("ETag")})
        eq((r2.status, r2.header("Cache-Control")), (304, "max-age=60, immutable"),
           "a 304 carries them too")
        r = get(s, "/static/x.css", headers={"Range": "bytes=0-1"})
        eq((r.status, r.header("Cache-Control")), (206, "max-age=60, immutable"), "and a 206")
        eq(get(s, "/missing").header("X-Frame-Options"), None, "not an error page")


PLACEHOLDER_HEADERS = """\
/movies/:title
  X-Movie-Name: You are watching ":title"
  X-Other: :year stays
/files/*
  X-File: :splat
/big/*
  X-Big: :splat :splat :splat :splat :splat :splat :splat :splat
  X-Small: kept
/*
  X-File: any
"""


def placeholder_site():
    return site(redirects="/movies/* /a.html 200\n/big/* /a.html 200\n",
                headers=PLACEHOLDER_HEADERS, extra={"files/a b.txt": b"ab\n"})


def head_lines(data):
    """The header lines of one raw HTTP/1.1 response, split at CRLF only."""
    head = data.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")[1:]


@test
def placeholders_in_header_values():
    with Server(placeholder_site()) as s:
        r = get(s, "/movies/Alien")
        eq((r.status, r.body), (200, b"page a\n"), "rewritten")
        eq(r.header("X-Movie-Name"), 'You are watching "Alien"', "a placeholder")
        eq(r.header("X-Other"), ":year stays", "a name the path does not capture")
        eq(get(s, "/files/a%20b.txt").header("X-File"), "a%20b.txt, any",
           "a splat, percent-encoded, merged with another rule's value")
        r = get(s, "/a.html")
        eq((r.header("X-File"), r.header("X-Movie-Name")), ("any", None), "no capture")


@test
def placeholders_cannot_inject_a_header_over_http1():
    with Server(placeholder_site()) as s:
        for path in ("/movies/a%0d%0aSet-Cookie:x", "/movies/a%0aSet-Cookie:x",
                     "/movies/a%0dSet-Cookie:x"):
            data = raw(s.port, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n")
            ok(data.startswith(b"HTTP/1.1 200 "), "%s: %r" % (path, data[:80]))
            lines = head_lines(data)
            ok(not any(l.lower().startswith(b"set-cookie") for l in lines),
               "%s: no Set-Cookie in %r" % (path, lines))
            for l in lines:
                ok(all(c >= 0x20 and c != 0x7f for c in l), "control byte in %r" % l)
            movie = [l for l in lines if l.startswith(b"X-Movie-Name: ")]
            eq(len(movie), 1, "one X-Movie-Name line")
            ok(b"Set-Cookie:x" in movie[0] and b"%0" in movie[0], "encoded: %r" % movie[0])
        data = raw(s.port, b"GET /movies/a%0d%0aSet-Cookie:x HTTP/1.1\r\nHost: x\r\n"
                   b"Connection: close\r\n\r\n")
        ok(b'X-Movie-Name: You are watching "a%0D%0ASet-Cookie:x"\r\n' in data, repr(data))


@test
def placeholders_cannot_inject_a_header_over_http2():
    with Server(placeholder_site(), args=["--h2c"]) as s:
        r = curl("--http2-prior-knowledge", "-D", "-", "-o", "/dev/null",
                 "http://127.0.0.1:%d/movies/a%%0d%%0aSet-Cookie:x" % s.port)
        eq(r.returncode, 0, "curl: %r" % r.stderr)
        ok(r.stdout.startswith(b"HTTP/2 200"), repr(r.stdout[:80]))
        lines = head_lines(r.stdout)
        ok(not any(l.lower().startswith(b"set-cookie") for l in lines), repr(lines))
        ok(b'x-movie-name: You are watching "a%0D%0ASet-Cookie:x"' in lines, repr(lines))


@test
def a_long_path_leaves_its_placeholder_value_out():
    with Server(placeholder_site()) as s:
        r = get(s, "/big/" + "y" * 100)
        eq(r.header("X-Big"), " ".join(["y" * 100] * 8), "a short path fits")
        # 8 times 3000 bytes: more than a response head may hold.
        long = "/big/" + "/".join(["y" * 199] * 15)
        r = get(s, long)
        eq((r.status, r.body), (200, b"page a\n"), "still served")
        eq((r.header("X-Big"), r.header("X-Small")), (None, "kept"), "only that value left out")
        ok(s.alive(), "alive")


@test
def owned_headers_are_refused_with_a_warning():
    h = "/*\n  X-A: 1\n  Content-Length: 999\n  ! Date\n  Content-Type: text/plain\n"
    with Server(site(headers=h)) as s:
        r = get(s, "/a.html")
        eq(r.header("X-A"), "1", "the rest of the file applies")
        eq(r.header("Content-Length"), "7", "Content-Length is hermit's")
        eq(r.header("Content-Type"), "text/html; charset=utf-8", "Content-Type is hermit's")
        ok(r.header("Date") is not None, "Date kept")
        log = s.log()
        for line in (3, 4, 5):
            ok("_headers:%d:" % line in log, "warning for line %d in %r" % (line, log))
        eq(log.count("_headers:3:"), 1, "logged once, not once per worker")


@test
def files_changed_while_serving():
    root = site()
    with Server(root) as s:
        eq(get(s, "/r301").status, 301, "before")
        changed = time.monotonic()
        replace(root, "_redirects", "/r301 /b.html 302\n")
        ok(wait_for(lambda: get(s, "/r301").status == 302, SEEN), "new _redirects seen")
        # One worker has it; each of the others looks again at its first request
        # once RULES_RECHECK_MS has passed since its last look.
        time.sleep(max(0.0, changed + RECHECK + 0.2 - time.monotonic()))
        for _ in range(20):
            r = get(s, "/r301")
            eq((r.status, r.header("Location")), (302, "/b.html"), "every worker's target")
        replace(root, "_headers", "/*\n  X-New: yes\n")
        ok(wait_for(lambda: get(s, "/a.html").header("X-New") == "yes", SEEN),
           "new _headers seen")
        # Each worker re-reads on its own: wait until the one answering has both.
        ok(wait_for(lambda: get(s, "/a.html").header("X-Frame-Options") is None, SEEN),
           "old header rules gone")
        # Rewritten in place (same inode).
        with open(os.path.join(root, "_headers"), "w") as f:
            f.write("/*\n  X-New: again\n")
        ok(wait_for(lambda: get(s, "/a.html").header("X-New") == "again", SEEN), "in place")
        os.unlink(os.path.join(root, "_redirects"))
        ok(wait_for(lambda: get(s, "/r301").status == 404, SEEN), "removed file: no rules")


@test
def malformed_file_keeps_the_previous_rules():
    root = site()
    with Server(root) as s:
        eq(get(s, "/r302").status, 302, "before")
        replace(root, "_redirects", "/r302 /b.html 302\n/bad\n")
        time.sleep(SEEN)
        r = get(s, "/r302")
        eq((r.status, r.header("Location")), (302, "/a.html"), "previous rules in force")
        ok("_redirects: line 2:" in s.log(), "error with its line: %r" % s.log())
        eq(s.log().count("_redirects: line 2:"), 1, "logged once")
        replace(root, "_headers", "/*\n  X-Bad: \x01\n")
        time.sleep(SEEN)
        eq(get(s, "/a.html").header("X-Frame-Options"), "DENY", "previous header rules")
        ok("_headers: line 2:" in s.log(), "headers error with its line")


@test
def malformed_file_on_first_load_means_no_rules():
    with Server(site(redirects="/a\n", headers="  X-A: 1\n")) as s:
        eq(get(s, "/a.html").header("X-A"), None, "no header rules")
        eq(get(s, "/r301").status, 404, "no redirects")
        ok(s.alive(), "still serving")
        ok("_redirects: line 1:" in s.log() and "_headers: line 1:" in s.log(), s.log())


@test
def limits_2000_static_and_100_dynamic():
    text = "".join("/s%d /a.html 302\n" % i for i in range(2000))
    text += "".join("/d%d/* /b.html 302\n" % i for i in range(100))
    root = site(redirects=text)
    with Server(root) as s:
        eq(get(s, "/s1999").status, 302, "the 2000th static rule")
        eq(get(s, "/d99/x").header("Location"), "/b.html", "the 100th dynamic rule")
        replace(root, "_redirects", text + "/one-more /a.html 302\n")
        time.sleep(SEEN)
        eq(get(s, "/s0").status, 302, "previous rules in force")
        eq(get(s, "/one-more").status, 404, "the new file was refused")
        ok("_redirects: line 2101: more than 2000 static" in s.log(), s.log())
        h = "".join("/h%d\n  X-H: %d\n" % (i, i) for i in range(101))
        replace(root, "_headers", h)
        time.sleep(SEEN)
        eq(get(s, "/h0").header("X-H"), None, "previous header rules kept")
        ok("_headers: line 201: more than 100 header rules" in s.log(), s.log())


@test
def rules_per_virtual_host():
    base = tempdir()
    make_tree({"one.example/index.html": b"one\n", "one.example/a.html": b"a1\n",
               "one.example/_redirects": "/go /a.html 302\n",
               "one.example/_headers": "/*\n  X-Site: one\n",
               "two.example/index.html": b"two\n",
               "two.example/_redirects": "/go https://two.example/x 301\n",
               "_default/index.html": b"default\n"}, root=base)
    with Server(base, args=["--vhosts"]) as s:
        r = get(s, "/go", headers={"Host": "one.example"})
        eq((r.status, r.header("Location")), (302, "/a.html"), "one.example")
        eq(get(s, "/a.html", headers={"Host": "one.example"}).header("X-Site"), "one", "headers")
        r = get(s, "/go", headers={"Host": "two.example"})
        eq((r.status, r.header("Location")), (301, "https://two.example/x"), "two.example")
        eq(get(s, "/", headers={"Host": "two.example"}).header("X-Site"), None, "per site")
        eq(get(s, "/_redirects", headers={"Host": "one.example"}).status, 404, "not served")


@test
def no_files_no_change():
    root = make_tree({"index.html": b"x\n"})
    with Server(root) as s:
        r = get(s, "/")
        eq((r.status, r.body), (200, b"x\n"), "served as before")
        eq(get(s, "/nothing").status, 404, "404 as before")
        ok("_headers" not in s.log() and "_redirects" not in s.log(), "nothing said")


@test(timeout=120)
def a_site_built_by_hugo():
    """_headers and _redirects as a real generator's output: Hugo copies
    static/ to the site as it is."""
    if not have_tool("hugo"):
        skip("hugo not installed")
    src = make_tree({
        "hugo.toml": 'baseURL = "http://example.org/"\ntitle = "t"\n'
                     'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n',
        "content/post.md": "---\ntitle: Post\n---\nhello\n",
        "layouts/_default/single.html": "<p>{{ .Content }}</p>\n",
        "layouts/index.html": "<p>home</p>\n",
        "static/_redirects": "/old /post/ 301\n/* /index.html 200\n",
        "static/_headers": "/post/*\n  X-Generator: hugo\n",
    })
    out = tempdir()
    r = subprocess.run(["hugo", "--quiet", "-s", src, "-d", out], capture_output=True,
                       timeout=60)
    eq(r.returncode, 0, "hugo: %r" % r.stderr)
    for dirpath, dirs, files in os.walk(out):
        os.chmod(dirpath, 0o755)
        for f in files:
            os.chmod(os.path.join(dirpath, f), 0o644)
    with Server(out) as s:
        eq(get(s, "/old").header("Location"), "/post/", "redirect")
        r = get(s, "/post/")
        ok(b"hello" in r.body, "the post: %r" % r.body)
        eq(r.header("X-Generator"), "hugo", "header rule")
        eq(get(s, "/no/such/page").body, b"<p>home</p>\n", "SPA fallback")
        eq(get(s, "/_redirects").status, 404, "not served")


run_all("it_rules")
