"""A site's own 404 page (ROOT/404.html, ROOT/HOST/404.html with --vhosts)
and --listing, the opt-in listing of directories without index.html.

Run from the top of the repository: python3 tests/it_sites.py ./hermit [TEST...]
"""

import email.utils
import html.parser
import os
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

PAGE = b"<!DOCTYPE html>\n<title>gone</title>\n<p>our own 404 page</p>\n"
SECRET = b"TOPSECRET-not-for-a-404"
BUILTIN = b"<h1>404 Not Found</h1>"


def get(s, path, host="localhost", method="GET", headers=None, version="HTTP/1.1"):
    with Conn(s.port) as c:
        return c.request(method, path, headers=headers, host=host, version=version)


def is_page(r, page=PAGE):
    eq(r.status, 404, "status")
    eq(r.body, page, "body is the site's page")
    eq(r.header("Content-Type"), "text/html; charset=utf-8", "Content-Type")
    eq(r.header("Content-Length"), str(len(page)), "Content-Length")
    for h in ("ETag", "Last-Modified", "Accept-Ranges", "Content-Range", "Vary",
              "Content-Encoding"):
        ok(not r.has(h), "no %s on a 404 page" % h)


def is_builtin(r):
    eq(r.status, 404, "status")
    ok(BUILTIN in r.body, "built-in body, got %r" % r.body[:200])


# ---------------------------------------------------------------- 404 pages


@test
def page_404_answers_every_404():
    root = make_tree({"404.html": PAGE, "index.html": b"home", "f.txt": b"file",
                      "noindex/": None, ".hidden": b"dot"})
    with Server(root) as s:
        is_page(get(s, "/missing"))
        is_page(get(s, "/deep/er/missing.css"))
        is_page(get(s, "/noindex/"))          # a directory without index.html
        is_page(get(s, "/f.txt/"))            # a file named as a directory
        is_page(get(s, "/.hidden"))           # refused looks like missing
        is_page(get(s, "/a%5cb"))             # a backslash
        # The page is not a representation of the missing resource:
        # validators, conditionals and Range never apply to it.
        is_page(get(s, "/missing", headers={"If-None-Match": "*"}))
        is_page(get(s, "/missing", headers={"Range": "bytes=0-3"}))
        is_page(get(s, "/missing", headers={"If-Modified-Since":
                                            email.utils.formatdate(time.time(), usegmt=True)}))
        # Precompressed variants are not looked for.
        r = get(s, "/missing", headers={"Accept-Encoding": "gzip, br"})
        is_page(r)
        # The page itself, asked for by name, is an ordinary file.
        r = get(s, "/404.html")
        eq(r.status, 200, "404.html by name")
        ok(r.has("ETag"), "with its validators")
        # Other errors stay built-in.
        r = get(s, "/a%00b")
        eq(r.status, 400, "bad escape")
        ok(PAGE not in r.body, "400 keeps the built-in body")
        eq(get(s, "/", method="POST").status, 405, "POST")


@test
def page_404_for_refused_names_every_time():
    """Names refused before any file is looked up (a dot segment, a
    backslash) get the page too, however many come in a row."""
    root = make_tree({"404.html": PAGE, "f.txt": b"f"})
    with Server(root, ["--workers", "1"]) as s:
        with Conn(s.port) as c:
            for i in range(20):
                is_page(c.request("GET", "/.hidden" if i % 2 else "/a%5Cb"))
            eq(c.request("GET", "/f.txt").body, b"f", "and files still")


@test
def page_404_head_has_headers_only():
    root = make_tree({"404.html": PAGE})
    with Server(root) as s:
        with Conn(s.port) as c:
            r = c.request("HEAD", "/missing")
            eq(r.status, 404, "status")
            eq(r.body, b"", "no body")
            eq(r.header("Content-Length"), str(len(PAGE)), "Content-Length of the page")
            # the connection stays usable: no stray body bytes follow
            r = c.request("GET", "/missing")
            is_page(r)


@test
def page_404_absent_gives_builtin_until_created():
    root = make_tree({"index.html": b"home"})
    with Server(root) as s:
        r = get(s, "/missing")
        is_builtin(r)
        eq(r.header("Content-Type"), "text/html; charset=utf-8", "Content-Type")
        write_file(root, "404.html", PAGE)
        created = time.monotonic()
        ok(wait_for(lambda: get(s, "/missing").body == PAGE, timeout=3), "created: served")
        # Each worker's file cache holds "absent" for up to a second: after
        # that, whichever worker answers serves the page.
        time.sleep(max(0.0, created + 1.5 - time.monotonic()))
        is_page(get(s, "/missing"))


@test
def page_404_large_goes_out_whole():
    big = b"<!DOCTYPE html>\n" + b"x" * (300 * 1024) + b"\nEND"
    root = make_tree({"404.html": big})
    with Server(root) as s:
        r = get(s, "/missing")
        eq(r.status, 404, "status")
        eq(len(r.body), len(big), "length")
        ok(r.body == big, "the whole file")


@test
def page_404_policy_applies():
    """A 404.html that the policy would not serve, or that is a symlink,
    never shows: not through a symlink to a dot-file or outside the root,
    not when unreadable, not when it is a directory or a FIFO."""
    base = tempdir()
    write_file(base, "outside.html", SECRET)
    cases = {}
    for case in ("dotlink", "outlink", "unreadable", "dir", "fifo", "goodlink", "file"):
        root = os.path.join(base, case)
        os.mkdir(root, 0o755)
        write_file(root, ".secret.html", SECRET)
        write_file(root, "page.html", SECRET)
        cases[case] = root
    os.symlink(".secret.html", os.path.join(cases["dotlink"], "404.html"))
    os.symlink(os.path.join(base, "outside.html"), os.path.join(cases["outlink"], "404.html"))
    write_file(cases["unreadable"], "404.html", SECRET, mode=0o600)
    os.mkdir(os.path.join(cases["dir"], "404.html"), 0o755)
    write_file(cases["dir"], "404.html/index.html", SECRET)
    os.mkfifo(os.path.join(cases["fifo"], "404.html"), 0o644)
    # Even a symlink to a publishable file inside the root: the page must
    # be the file named 404.html itself.
    os.symlink("page.html", os.path.join(cases["goodlink"], "404.html"))
    write_file(cases["file"], "404.html", PAGE)     # the control: a real page
    for case, root in sorted(cases.items()):
        with Server(root) as s:
            r = get(s, "/missing")
            if case == "file":
                is_page(r)
                continue
            is_builtin(r)
            ok(SECRET not in r.body, "%s: the target is not shown" % case)


@test
def page_404_per_vhost():
    root = make_tree({
        "a.test/404.html": b"page of a\n",
        "a.test/index.html": b"a",
        "b.test/index.html": b"b",          # no page of its own
        "_default/404.html": b"page of the default site\n",
        "404.html": b"page at ROOT, not a site's\n",
    })
    with Server(root, ["--vhosts"]) as s:
        is_page(get(s, "/missing", host="a.test"), b"page of a\n")
        is_page(get(s, "/missing", host="A.TEST:80"), b"page of a\n")
        # No fallback: b.test has no page, so the built-in one.
        r = get(s, "/missing", host="b.test")
        is_builtin(r)
        # A site that does not exist at all.
        is_builtin(get(s, "/missing", host="c.test"))
        # Without a Host (HTTP/1.0): the default site's own page.
        is_page(get(s, "/missing", host=None, version="HTTP/1.0"),
                b"page of the default site\n")


@test
def page_404_replaced_seen_within_a_second():
    root = make_tree({"404.html": b"first page\n"})
    with Server(root) as s:
        is_page(get(s, "/missing"), b"first page\n")
        write_file(root, "404.html.new", b"second page, longer\n")
        os.rename(os.path.join(root, "404.html.new"), os.path.join(root, "404.html"))
        t0 = time.monotonic()
        ok(wait_for(lambda: get(s, "/missing").body == b"second page, longer\n", timeout=3),
           "the new page is served")
        ok(time.monotonic() - t0 < 2.0, "within about a second")
        os.unlink(os.path.join(root, "404.html"))
        ok(wait_for(lambda: BUILTIN in get(s, "/missing").body, timeout=3),
           "removed: built-in again")


# ---------------------------------------------------------------- listings


class Links(html.parser.HTMLParser):
    """The links of a listing, as (href, text), and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.cells = []
        self._a = None
        self._td = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._a = [dict(attrs)["href"], ""]
        if tag == "td":
            self._td = ""

    def handle_endtag(self, tag):
        if tag == "a" and self._a is not None:
            self.links.append(tuple(self._a))
            self._a = None
        if tag == "td" and self._td is not None:
            self.cells.append(self._td)
            self._td = None

    def handle_data(self, data):
        if self._a is not None:
            self._a[1] += data
        if self._td is not None:
            self._td += data


def parse_listing(body):
    p = Links()
    p.feed(body.decode("utf-8"))     # strict: the page must be valid UTF-8
    p.close()
    return p


def listed(body):
    """hrefs of the listing, without the parent link."""
    return [h for h, _ in parse_listing(body).links if h != "../"]


@test
def listing_off_by_default():
    root = make_tree({"dir/a.txt": b"a"})
    with Server(root) as s:
        is_builtin(get(s, "/dir/"))
        is_builtin(get(s, "/"))
    with Server(root, ["--listing"]) as s:
        eq(get(s, "/dir/").status, 200, "with --listing")


@test
def listing_lists_sorted_with_sizes_and_dates():
    now = int(time.time())
    root = make_tree({
        "dir/b.txt": (b"bb", 0o644, now - 86400),
        "dir/a.txt": (b"a", 0o644, now - 3600),
        "dir/B.txt": (b"BBBB", 0o644, now - 60),
        "dir/sub/x": b"x",
        "dir/sub2/index.html": b"sub2 index",
        "other/index.html": b"idx",
    })
    with Server(root, ["--listing"]) as s:
        r = get(s, "/dir/")
        eq(r.status, 200, "status")
        eq(r.header("Content-Type"), "text/html; charset=utf-8", "Content-Type")
        eq(r.header("Content-Length"), str(len(r.body)), "Content-Length")
        ok(not r.has("ETag") and not r.has("Last-Modified"), "no validators")
        p = parse_listing(r.body)
        hrefs = [h for h, _ in p.links]
        eq(hrefs, ["../", "B.txt", "a.txt", "b.txt", "sub/", "sub2/"], "bytewise order")
        rows = {}
        cells = p.cells
        for i in range(0, len(cells), 3):
            rows[cells[i]] = (cells[i + 1], cells[i + 2])
        eq(rows["B.txt"][0], "4", "size")
        eq(rows["b.txt"][0], "2", "size")
        eq(email.utils.parsedate_to_datetime(rows["b.txt"][1]).timestamp(), now - 86400, "date")
        eq(rows["sub/"][0], "-", "a directory has no size")
        for h in ("B.txt", "a.txt", "b.txt"):
            eq(get(s, "/dir/" + h).status, 200, "link %s works" % h)
        eq(get(s, "/dir/sub/").status, 200, "subdirectory listed too")
        eq(get(s, "/dir/sub2/").body, b"sub2 index", "index.html wins over the listing")
        eq(get(s, "/other/").body, b"idx", "index.html wins")
        eq(get(s, "/dir").status, 301, "no slash: redirect first")
        eq(get(s, "/dir").header("Location"), "/dir/", "to the slashed path")
        top = listed(get(s, "/").body)
        eq(top, ["dir/", "other/"], "the top lists without a parent link")
        ok(b'href="../"' not in get(s, "/").body, "no parent at the top")
        h = get(s, "/dir/", method="HEAD")
        eq(h.status, 200, "HEAD")
        eq(h.body, b"", "HEAD: no body")
        eq(h.header("Content-Length"), str(len(r.body)), "HEAD: the GET's length")
        is_builtin(get(s, "/dir/missing.txt"))
        eq(get(s, "/dir/", method="DELETE").status, 405, "only GET and HEAD")


HOSTILE = [
    b'q"uote', b"single'quote", b"<script>alert(1)<script>", b"a&b&amp;",
    b"new\nline", b"cr\rtab\t", b"bad\xff\xfeutf8", b"cut\xc3", b"100%", b"%41",
    b"with space", b"caf\xc3\xa9", b"a:b", b"#hash", b"?q", b"semi;colon", b"+plus",
    b"L" * 255, b"\xe2\x80\xaeevil",
]


@test
def listing_escapes_hostile_names():
    root = tempdir()
    d = os.path.join(root, "h")
    os.mkdir(d, 0o755)
    for i, name in enumerate(HOSTILE):
        with open(os.path.join(os.fsencode(d), name), "wb") as f:
            f.write(b"content %d" % i)
        os.chmod(os.path.join(os.fsencode(d), name), 0o644)
    os.mkdir(os.path.join(os.fsencode(d), b"dir<&>\n\xff"), 0o755)
    with Server(root, ["--listing"]) as s:
        r = get(s, "/h/")
        eq(r.status, 200, "status")
        for raw_bad in (b"<script>", b"\n\xff", b'q"uote', b"a&b", b"\xff", b"\r"):
            ok(raw_bad not in r.body, "%r never appears raw" % raw_bad)
        links = [(h, t) for h, t in parse_listing(r.body).links if h != "../"]
        names = set(HOSTILE) | {b"dir<&>\n\xff"}
        got = set()
        for href, text in links:
            ok(all(c.isalnum() or c in "-._~%/" for c in href), "href %r fully encoded" % href)
            name = urllib.parse.unquote_to_bytes(href.rstrip("/"))
            got.add(name)
            want = name.decode("utf-8", "replace")
            want = "".join("\ufffd" if (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f) else c
                           for c in want)
            eq(text.rstrip("/"), want, "text of %r" % name)
            fetched = get(s, "/h/" + href)
            eq(fetched.status, 200, "fetching %r" % href)
            if not href.endswith("/"):
                eq(fetched.body, b"content %d" % HOSTILE.index(name), "content of %r" % name)
        eq(got, names, "every name, exactly once, round-trips")
        eq(len(links), len(names), "no duplicates")


@test
def listing_shows_only_what_is_served():
    base = tempdir()
    write_file(base, "outside.txt", b"outside")
    root = os.path.join(base, "www")
    os.mkdir(root, 0o755)
    make_tree({
        "d/ok.txt": b"ok",
        "d/.hidden": b"dot",
        "d/.dotdir/x": b"x",
        "d/_headers": b"/*\n  X-A: b\n",
        "d/_redirects": b"/a /b\n",
        "d/_other": b"underscore, but not read by hermit",
        "d/private.txt": (b"p", 0o600),
        "d/closed/x": b"x",
        "d/target.txt": b"t",
        "d/back\\slash": b"no request can name it",
    }, root)
    d = os.path.join(root, "d")
    os.chmod(os.path.join(d, "closed"), 0o700)
    if is_root():   # one hermit could read, but not everyone
        os.chown(os.path.join(d, "closed"), *nobody_ids())
    os.mkfifo(os.path.join(d, "fifo"), 0o644)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(os.path.join(d, "sock"))
    os.chmod(os.path.join(d, "sock"), 0o777)
    os.symlink(os.path.join(base, "outside.txt"), os.path.join(d, "out-link"))
    os.symlink("../../outside.txt", os.path.join(d, "rel-out-link"))
    os.symlink("target.txt", os.path.join(d, "in-link"))
    os.symlink("nowhere", os.path.join(d, "dangling"))
    try:
        with Server(root, ["--listing"]) as s:
            r = get(s, "/d/")
            eq(r.status, 200, "status")
            names = listed(r.body)
            eq(names, ["_other", "in-link", "ok.txt", "target.txt"], "only what is served")
            for n in names:
                eq(get(s, "/d/" + n).status, 200, "%s is served" % n)
            for n in ("out-link", "rel-out-link", "private.txt", "fifo", "sock", "closed/",
                      "dangling", "back%5Cslash"):
                eq(get(s, "/d/" + n).status, 404, "%s is not served either" % n)
    finally:
        sock.close()


@test
def listing_truncated_when_it_does_not_fit():
    root = tempdir()
    d = os.path.join(root, "many")
    os.mkdir(d, 0o755)
    n = 400
    for i in range(n):
        write_file(d, "file-%04d-%s" % (i, "y" * 60), b"z")
    with Server(root, ["--listing"]) as s:
        r = get(s, "/many/")
        eq(r.status, 200, "status")
        names = listed(r.body)
        ok(0 < len(names) < n, "some listed, not all (%d)" % len(names))
        eq(names, sorted(names), "the first by name")
        eq(names[0], "file-0000-" + "y" * 60, "starting with the first")
        ok(("%d of %d entries shown." % (len(names), n)).encode() in r.body,
           "the page says what it left out: %r" % r.body[-200:])
        ok(r.body.rstrip().endswith(b"</p>"), "the page is complete")
        ok(len(r.body) <= 32 * 1024, "bounded (%d bytes)" % len(r.body))
        # Pipelined after another answer in the same buffer: shorter, but whole.
        with Conn(s.port) as c:
            c.send("GET /many/ HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
            for i in range(3):
                p = c.read_response()
                eq(p.status, 200, "pipelined %d" % i)
                more = listed(p.body)
                ok(0 < len(more) <= len(names) and more == names[:len(more)],
                   "pipelined %d: the first names (%d)" % (i, len(more)))
                ok(p.body.rstrip().endswith(b"</p>"), "pipelined %d: complete" % i)


@test(timeout=120)
def listing_reads_a_bounded_number_of_entries():
    root = tempdir()
    d = os.path.join(root, "huge")
    os.mkdir(d, 0o755)
    for i in range(10050):
        fd = os.open(os.path.join(d, "%05d" % i), os.O_CREAT | os.O_WRONLY, 0o644)
        os.close(fd)
    with Server(root, ["--listing"]) as s:
        r = get(s, "/huge/")
        eq(r.status, 200, "status")
        ok(b"the directory has more than were read" in r.body, "says it read only part")
        names = listed(r.body)
        ok(0 < len(names) <= 256, "bounded (%d)" % len(names))
        eq(names, sorted(names), "sorted")


@test
def listing_under_vhosts():
    root = make_tree({
        "a.test/docs/one.txt": b"1",
        "a.test/top.txt": b"t",
        "b.test/docs/two.txt": b"2",
        "_default/docs/zero.txt": b"0",
    })
    with Server(root, ["--vhosts", "--listing"]) as s:
        eq(listed(get(s, "/docs/", host="a.test").body), ["one.txt"], "a.test")
        eq(listed(get(s, "/docs/", host="b.test").body), ["two.txt"], "b.test")
        eq(listed(get(s, "/", host="a.test").body), ["docs/", "top.txt"], "a.test's top")
        r = get(s, "/", host="a.test")
        ok(b"Index of /</title>" in r.body, "the site's path, not ROOT's")
        ok(b"a.test" not in r.body, "no site directory shown")
        eq(listed(get(s, "/docs/", host=None, version="HTTP/1.0").body), ["zero.txt"],
           "the default site")
        is_builtin(get(s, "/docs/", host="c.test"))


@test
def listing_and_404_page_together():
    root = make_tree({"404.html": PAGE, "d/x.txt": b"x"})
    with Server(root, ["--listing"]) as s:
        eq(listed(get(s, "/d/").body), ["x.txt"], "listed")
        is_page(get(s, "/d/missing"))
        is_page(get(s, "/x.txt/"))


run_all("it_sites")
