"""HTTPS with several certificates: --certs DIR (certbot's live/ layout,
one directory per host name, chosen by SNI), ECDSA and RSA pairs side by
side (chosen by what the client accepts), --cert/--key given twice, the
default pair from systemd's $CREDENTIALS_DIRECTORY, and the startup checks
(missing, garbage, mismatched, expired, not yet valid, out of order, bad
names, too many; a key others can read is a warning). The certificates are
made here with the openssl command, issued by a test CA; each one's common
name says which it is ("a.test ec"), so a client can tell what it was sent.

Run from the top of the repository: python3 tests/it_tls_certs.py ./hermit [TEST...]
"""

import os
import shutil
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import *  # noqa: E402,F401,F403

INDEX = b"<p>the default site</p>\n"


def openssl(*args, input=None, cwd=None):
    return subprocess.run(["openssl"] + list(args), input=input, capture_output=True,
                          timeout=60, cwd=cwd)


if not have_tool("openssl"):
    print("SKIP it_tls_certs: the openssl command is not installed")
    print("it_tls_certs: 0 passed, 0 failed, 1 skipped")
    sys.exit(0)

PKI = tempdir()
CA_CRT = os.path.join(PKI, "ca.crt")
CA_KEY = os.path.join(PKI, "ca.key")
KEYGEN = {"ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
          "rsa": ["-newkey", "rsa:2048"]}


def must(r, what):
    ok(r.returncode == 0, "%s: %r" % (what, r.stderr[-500:]))


def make_ca():
    must(openssl("req", "-x509", *KEYGEN["ec"], "-nodes", "-days", "3", "-keyout", CA_KEY,
                 "-out", CA_CRT, "-subj", "/CN=hermit test CA",
                 "-addext", "basicConstraints=critical,CA:true",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign"), "openssl req (CA)")


make_ca()
_made = {}


def pair(host, kind="ec", dns=None):
    """(chain, key) for host: a leaf issued by the CA for DNS names dns
    (default: host), common name "host/kind"; the chain is leaf then CA.
    Made once; the key file is readable by its owner only."""
    name = "%s-%s" % (host.replace("*", "star"), kind)
    if name in _made:
        return _made[name]
    leaf, key = os.path.join(PKI, name + ".crt"), os.path.join(PKI, name + ".key")
    must(openssl("req", "-x509", "-CA", CA_CRT, "-CAkey", CA_KEY, *KEYGEN[kind], "-nodes",
                 "-days", "2", "-keyout", key, "-out", leaf, "-subj", "/CN=%s %s" % (host, kind),
                 "-addext", "subjectAltName=" + ",".join("DNS:" + n for n in (dns or [host]))),
         "openssl req (%s)" % name)
    os.chmod(key, 0o600)
    chain = os.path.join(PKI, name + ".chain")
    with open(chain, "wb") as out:
        for f in (leaf, CA_CRT):
            with open(f, "rb") as src:
                out.write(src.read())
    _made[name] = (chain, key)
    return chain, key


def certs_dir(entries, d=None):
    """A --certs directory: entries maps a subdirectory name to a pair
    (copied in as fullchain.pem and privkey.pem)."""
    d = d or tempdir()
    for sub, (chain, key) in entries.items():
        os.makedirs(os.path.join(d, sub), exist_ok=True)
        shutil.copy(chain, os.path.join(d, sub, "fullchain.pem"))
        shutil.copy(key, os.path.join(d, sub, "privkey.pem"))
        os.chmod(os.path.join(d, sub, "privkey.pem"), 0o600)
    return d


ROOT = make_tree({"index.html": INDEX})


def serve(args, env=None, root=ROOT, user="nobody"):
    port = free_port()
    return Server(root, ["--listen-tls", "127.0.0.1:%d" % port, "--workers", "2"] + list(args),
                  listen=False, port=port, env=env, user=user)


def client(version=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(CA_CRT)
    ctx.check_hostname = False	# some names asked for are not on the certificate
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


def served(port, sni, ctx=None, request=None):
    """The common name of the certificate served for SNI sni (None: no
    SNI), and the body of GET / when request is a Host value."""
    ctx = ctx or client()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw_sock:
        with ctx.wrap_socket(raw_sock, server_hostname=sni) as s:
            cn = dict(x[0] for x in s.getpeercert()["subject"])["commonName"]
            if request is None:
                return cn
            c = Conn.wrap(s, 10)
            return cn, c.request("GET", "/", host=request).body


def s_client(port, sni, sigalgs, version="-tls1_3"):
    """openssl s_client offering only sigalgs: the subject it was sent."""
    r = openssl("s_client", "-connect", "127.0.0.1:%d" % port, "-servername", sni, version,
                "-sigalgs", sigalgs, input=b"")
    out = (r.stdout + r.stderr).decode("latin-1")
    for line in out.splitlines():
        if line.startswith("subject="):
            return line.split("CN = ", 1)[-1].strip()
    raise AssertionError("s_client -sigalgs %s: no certificate: %s" % (sigalgs, out[-800:]))


@test(timeout=120)
def sni_selects_the_host():
    """Each host name gets its own certificate, in any case and with a
    trailing dot; an unknown name and no SNI get the default; one wildcard
    level from a *.NAME directory, never two."""
    d = certs_dir({"a.test": pair("a.test"), "B.Test": pair("b.test"),
                   "_default": pair("default"), "*.w.test": pair("*.w.test")})
    with serve(["--certs", d]) as s:
        eq(served(s.port, "a.test"), "a.test ec", "a.test")
        eq(served(s.port, "b.test"), "b.test ec", "b.test (directory B.Test)")
        eq(served(s.port, "A.TEST"), "a.test ec", "A.TEST")
        eq(served(s.port, "a.test."), "a.test ec", "a.test.")
        eq(served(s.port, "other.test"), "default ec", "an unknown name")
        eq(served(s.port, None), "default ec", "no SNI")
        eq(served(s.port, "x.w.test"), "*.w.test ec", "x.w.test by the wildcard")
        eq(served(s.port, "y.x.w.test"), "default ec", "two levels below the wildcard")
        eq(served(s.port, "w.test"), "default ec", "the wildcard's own parent")
        eq(s.stop(), 0, "exit status")


@test
def resumption_per_host():
    """A ticket made on a host's context resumes there (tickets are sealed
    by the context every connection starts on), in TLS 1.3 and 1.2; one
    offered for another name is not resumed, and the handshake still works."""
    d = certs_dir({"a.test": pair("a.test"), "b.test": pair("b.test"),
                   "_default": pair("default")})
    with serve(["--certs", d]) as s:
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            ctx = client(version)

            def connect(sni, session=None):
                raw_sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
                t = ctx.wrap_socket(raw_sock, server_hostname=sni, session=session)
                c = Conn.wrap(t, 10)
                eq(c.request("GET", "/").body, INDEX, "served")
                got = (t.session, t.session_reused,
                       dict(x[0] for x in t.getpeercert()["subject"])["commonName"])
                c.close()
                return got

            session, _, cn = connect("a.test")
            eq(cn, "a.test ec", "first")
            ok(session is not None and session.has_ticket, "%s: a ticket" % version)
            _, reused, cn = connect("a.test", session)
            ok(reused, "%s: a.test's session was not resumed" % version)
            eq(cn, "a.test ec", "resumed on a.test")
            _, reused, cn = connect("b.test", session)
            ok(not reused, "%s: a.test's session resumed for b.test" % version)
            eq(cn, "b.test ec", "b.test with a.test's ticket")


@test
def sni_with_vhosts():
    """With --vhosts, SNI chooses the certificate and Host the site."""
    root = make_tree({"_default/index.html": INDEX, "a.test/index.html": b"site a\n",
                      "b.test/index.html": b"site b\n"})
    d = certs_dir({"a.test": pair("a.test"), "b.test": pair("b.test"),
                   "_default": pair("default")})
    with serve(["--certs", d, "--vhosts"], root=root) as s:
        eq(served(s.port, "a.test", request="a.test"), ("a.test ec", b"site a\n"), "a.test")
        eq(served(s.port, "b.test", request="b.test"), ("b.test ec", b"site b\n"), "b.test")
        eq(served(s.port, None, request=""), ("default ec", INDEX), "no SNI, no Host")


@test
def no_default_unrecognized_name():
    """Without a default, an unknown name or none is refused with the
    unrecognized_name alert; a known one is served."""
    d = certs_dir({"a.test": pair("a.test")})
    with serve(["--certs", d]) as s:
        eq(served(s.port, "a.test"), "a.test ec", "a.test")
        for sni in ("other.test", None):
            try:
                served(s.port, sni)
                raise AssertionError("served %r without a default" % sni)
            except ssl.SSLError as e:
                ok("unrecognized name" in str(e).lower(), "%r: alert %s" % (sni, e))


@test(timeout=120)
def ecdsa_and_rsa_side_by_side():
    """NAME/ and NAME+rsa/ (and --cert/--key twice): a client that accepts
    only RSA gets the RSA certificate, one that accepts only ECDSA the
    ECDSA one, in TLS 1.2 (by cipher suite) and 1.3 (by signature
    algorithm)."""
    d = certs_dir({"a.test": pair("a.test"), "a.test+rsa": pair("a.test", "rsa")})
    ec_chain, ec_key = pair("default")
    rsa_chain, rsa_key = pair("default", "rsa")
    twice = ["--cert", rsa_chain, "--key", rsa_key, "--cert", ec_chain, "--key", ec_key]
    with serve(["--certs", d] + twice) as s:
        for sni, host in (("a.test", "a.test"), ("other.test", "default")):
            tls12 = ssl.TLSVersion.TLSv1_2
            eq(served(s.port, sni, client(tls12, "ECDHE-RSA-AES128-GCM-SHA256")),
               host + " rsa", "%s: TLS 1.2, RSA suites only" % sni)
            eq(served(s.port, sni, client(tls12, "ECDHE-ECDSA-AES128-GCM-SHA256")),
               host + " ec", "%s: TLS 1.2, ECDSA suites only" % sni)
            eq(s_client(s.port, sni, "rsa_pss_rsae_sha256"), host + " rsa",
               "%s: TLS 1.3, RSA-PSS only" % sni)
            eq(s_client(s.port, sni, "ecdsa_secp256r1_sha256"), host + " ec",
               "%s: TLS 1.3, ECDSA only" % sni)
            eq(s_client(s.port, sni, "RSA+SHA256", "-tls1_2"), host + " rsa",
               "%s: TLS 1.2, RSA PKCS#1 only" % sni)
            for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
                eq(served(s.port, sni, client(version)), host + " ec",
                   "%s: %s, a client that takes both" % (sni, version))


@test
def certbot_layout_with_symlinks():
    """certbot's tree: live/NAME/*.pem are relative symlinks into
    ../../archive/NAME/, and live/ holds a README file. Read before
    chroot, so the links may point outside anything served."""
    top = tempdir()
    for host in ("a.test", "b.test"):
        chain, key = pair(host)
        arch = os.path.join(top, "archive", host)
        live = os.path.join(top, "live", host)
        os.makedirs(arch)
        os.makedirs(live)
        shutil.copy(chain, os.path.join(arch, "fullchain1.pem"))
        shutil.copy(key, os.path.join(arch, "privkey1.pem"))
        os.chmod(os.path.join(arch, "privkey1.pem"), 0o600)
        for f in ("fullchain", "privkey"):
            os.symlink("../../archive/%s/%s1.pem" % (host, f), os.path.join(live, f + ".pem"))
    write_file(os.path.join(top, "live"), "README", b"This directory contains your keys.\n")
    with serve(["--certs", os.path.join(top, "live")]) as s:
        eq(served(s.port, "a.test"), "a.test ec", "a.test")
        eq(served(s.port, "b.test"), "b.test ec", "b.test")
        eq(s.log().count("warning"), 0, "warnings: %r" % s.log())


def credentials(chain, key):
    d = tempdir()
    shutil.copy(chain, os.path.join(d, "fullchain.pem"))
    shutil.copy(key, os.path.join(d, "privkey.pem"))
    os.chmod(os.path.join(d, "privkey.pem"), 0o400)
    env = dict(os.environ)
    env["CREDENTIALS_DIRECTORY"] = d
    return d, env


@test
def credentials_directory():
    """fullchain.pem and privkey.pem in $CREDENTIALS_DIRECTORY are the
    default without any option; --cert/--key win over them (and it says
    so); --certs hosts come beside them."""
    cred, env = credentials(*pair("cred"))
    with serve([], env=env) as s:
        eq(served(s.port, None), "cred ec", "the credentials' certificate")
        ok("the default from $CREDENTIALS_DIRECTORY" in s.log(),
           "the startup line does not say where the default came from: %r" % s.log())
    d = certs_dir({"a.test": pair("a.test")})
    with serve(["--certs", d], env=env) as s:
        eq(served(s.port, "a.test"), "a.test ec", "a.test")
        eq(served(s.port, "other.test"), "cred ec", "the credentials as the default")
    chain, key = pair("default")
    with serve(["--cert", chain, "--key", key], env=env) as s:
        eq(served(s.port, None), "default ec", "--cert wins")
        ok("CREDENTIALS_DIRECTORY" in s.log() and "not used" in s.log(),
           "no word that the credentials are not used: %r" % s.log())
    os.unlink(os.path.join(cred, "privkey.pem"))
    start_fails(["--listen-tls", "127.0.0.1:%d" % free_port()], 1,
                ["CREDENTIALS_DIRECTORY " + cred, "no privkey.pem"], env=env)


def start_fails(args, want_status, want_texts, env=None, as_nobody=False):
    """hermit with args does not start: exit status want_status, and stderr
    says every one of want_texts. as_nobody: hermit itself runs as nobody."""
    user = ["--user", "nobody"] if is_root() and not as_nobody else []
    ids = nobody_ids() if as_nobody else None

    def drop():
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])

    p = subprocess.run([BIN] + user + args + [ROOT], capture_output=True, timeout=60,
                       env=env, preexec_fn=drop if as_nobody else None)
    err = p.stderr.decode("latin-1")
    eq(p.returncode, want_status, "exit status (stderr %r)" % err)
    for t in want_texts if isinstance(want_texts, list) else [want_texts]:
        ok(t in err, "stderr does not say %r: %r" % (t, err))
    ok("serving" not in err, "it served: %r" % err)
    return err


def listen_tls():
    return ["--listen-tls", "127.0.0.1:%d" % free_port()]


def ca_issued(name, start, end):
    """A chain (leaf, CA) valid from start to end (YYYYMMDDhhmmssZ), and its
    key: openssl ca sets dates that openssl req -days cannot."""
    work = tempdir()
    os.makedirs(os.path.join(work, "db"))
    write_file(work, "db/index.txt", b"")
    write_file(work, "db/serial", b"1000\n")
    write_file(work, "ca.cnf", b"[ca]\ndefault_ca = c\n[c]\ndatabase = db/index.txt\n"
               b"new_certs_dir = db\nserial = db/serial\ndefault_md = sha256\n"
               b"policy = p\nunique_subject = no\n[p]\ncommonName = supplied\n")
    key = os.path.join(work, "privkey.pem")
    must(openssl("req", "-new", *KEYGEN["ec"], "-nodes", "-keyout", key, "-out", "l.csr",
                 "-subj", "/CN=" + name, cwd=work), "openssl req -new")
    os.chmod(key, 0o600)
    must(openssl("ca", "-batch", "-config", "ca.cnf", "-cert", CA_CRT, "-keyfile", CA_KEY,
                 "-in", "l.csr", "-out", "l.crt", "-startdate", start, "-enddate", end,
                 "-notext", cwd=work), "openssl ca")
    chain = os.path.join(work, "fullchain.pem")
    with open(chain, "wb") as out:
        for f in (os.path.join(work, "l.crt"), CA_CRT):
            with open(f, "rb") as src:
                out.write(src.read())
    return chain, key


@test(timeout=120)
def startup_errors_name_the_file():
    ec_chain, ec_key = pair("default")
    rsa_chain, rsa_key = pair("default", "rsa")
    # Missing files.
    missing = os.path.join(PKI, "missing.pem")
    start_fails(listen_tls() + ["--cert", missing, "--key", ec_key], 1, ["--cert", missing])
    start_fails(listen_tls() + ["--cert", ec_chain, "--key", missing], 1, ["--key", missing])
    # Not a certificate: garbage, a key, an empty file, a directory.
    garbage = write_file(tempdir(), "garbage.pem", os.urandom(300))
    for bad, why in ((garbage, "not a PEM certificate"), (ec_key, "not a PEM certificate"),
                     (write_file(tempdir(), "empty.pem", b""), "not a PEM certificate"),
                     (tempdir(), "not a regular file")):
        start_fails(listen_tls() + ["--cert", bad, "--key", ec_key], 1, [bad, why])
    broken = write_file(tempdir(), "broken.pem", open(ec_chain, "rb").read() +
                        b"-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")
    start_fails(listen_tls() + ["--cert", broken, "--key", ec_key], 1, [broken, "block 3"])
    # A key file that is not a key (the key process says which file).
    start_fails(listen_tls() + ["--cert", ec_chain, "--key", ec_chain], 1,
                ["--key", ec_chain, "not a PEM private key"])
    # Mismatched: another key of the same type, and of another type.
    other_chain, other_key = pair("other")
    for key in (other_key, rsa_key):
        start_fails(listen_tls() + ["--cert", ec_chain, "--key", key], 1,
                    [key, "does not match", ec_chain])
    # Expired, not yet valid.
    old_chain, old_key = ca_issued("old", "20200101000000Z", "20200102000000Z")
    start_fails(listen_tls() + ["--cert", old_chain, "--key", old_key], 1,
                [old_chain, "expired", "2020"])
    new_chain, new_key = ca_issued("new", "20900101000000Z", "20900102000000Z")
    start_fails(listen_tls() + ["--cert", new_chain, "--key", new_key], 1,
                [new_chain, "not valid yet", "2090"])
    # The chain out of order: the CA first, then the leaf.
    leaf = open(ec_chain, "rb").read().split(b"-----END CERTIFICATE-----\n")[0] + \
        b"-----END CERTIFICATE-----\n"
    swapped = write_file(tempdir(), "swapped.pem", open(CA_CRT, "rb").read() + leaf)
    start_fails(listen_tls() + ["--cert", swapped, "--key", ec_key], 1,
                [swapped, "out of order"])
    # Two certificates of one key type for one host.
    start_fails(listen_tls() + ["--cert", ec_chain, "--key", ec_key, "--cert", other_chain,
                                "--key", other_key], 1, [ec_chain, other_chain, "two ECDSA"])
    d = certs_dir({"a.test": pair("a.test"), "a.test+2": pair("other")})
    start_fails(listen_tls() + ["--certs", d], 1, [d, "two ECDSA", "a.test"])


@test
def unreadable_files():
    """Files hermit may not read (it runs as nobody here): named, with the
    reason, whether a chain (read by hermit) or a key (by the key process)."""
    if not is_root():
        skip("needs root to make files nobody cannot read")
    d = tempdir()
    os.chmod(d, 0o755)
    chain, key = pair("default")
    shutil.copy(chain, os.path.join(d, "fullchain.pem"))
    shutil.copy(key, os.path.join(d, "privkey.pem"))
    os.chmod(os.path.join(d, "fullchain.pem"), 0o600)
    os.chmod(os.path.join(d, "privkey.pem"), 0o600)
    args = listen_tls() + ["--cert", os.path.join(d, "fullchain.pem"),
                           "--key", os.path.join(d, "privkey.pem")]
    start_fails(args, 1, [os.path.join(d, "fullchain.pem"), "Permission denied"], as_nobody=True)
    os.chmod(os.path.join(d, "fullchain.pem"), 0o644)
    start_fails(args, 1, ["--key", os.path.join(d, "privkey.pem"), "Permission denied"],
                as_nobody=True)


@test
def certs_dir_errors():
    good = pair("a.test")
    # A name that is not a host name.
    for name in ("bad_name", "a..test", "-a.test", "a.test+"):
        d = certs_dir({name: good})
        start_fails(listen_tls() + ["--certs", d], 1, [os.path.join(d, name), "not a host name"])
    # One file of the two.
    d = certs_dir({"a.test": good})
    os.unlink(os.path.join(d, "a.test", "privkey.pem"))
    start_fails(listen_tls() + ["--certs", d], 1,
                [os.path.join(d, "a.test"), "fullchain.pem but no privkey.pem"])
    # A bad chain inside: named by its path.
    d = certs_dir({"a.test": good})
    write_file(d, "a.test/fullchain.pem", b"not a certificate\n")
    start_fails(listen_tls() + ["--certs", d], 1,
                [os.path.join(d, "a.test", "fullchain.pem"), "not a PEM certificate"])
    # The directory itself, missing; and a directory with no certificate.
    start_fails(listen_tls() + ["--certs", os.path.join(d, "nope")], 1,
                [os.path.join(d, "nope"), "No such file"])
    start_fails(listen_tls() + ["--certs", tempdir()], 1, "needs a certificate")
    # Option errors.
    chain, key = pair("default")
    start_fails(["--cert", chain, "--key", key, "--cert", chain] + listen_tls(), 2, "--cert")
    start_fails(["--cert", chain, "--key", key] * 3 + listen_tls(), 2, "at most twice")
    start_fails(listen_tls(), 2, "--listen-tls")


@test(timeout=120)
def too_many_certificates():
    """256 pairs are served (the last one too, key index 255); 257 are a
    clear error before any key is read."""
    chain, key = pair("many.test")
    d = tempdir()
    for i in range(255):
        sub = os.path.join(d, "h%03d.test" % i)
        os.makedirs(sub)
        os.symlink(chain, os.path.join(sub, "fullchain.pem"))
        os.symlink(key, os.path.join(sub, "privkey.pem"))
    certs_dir({"zz.test": pair("zz.test")}, d)
    with serve(["--certs", d, "--workers", "1"]) as s:
        eq(served(s.port, "zz.test"), "zz.test ec", "the 256th certificate")
        eq(served(s.port, "h007.test"), "many.test ec", "another")
    certs_dir({"zzz.test": pair("zz.test")}, d)
    err = start_fails(listen_tls() + ["--certs", d], 1, [d, "more than 256"])
    ok("zzz.test" in err, "the certificate beyond the limit is not named: %r" % err)


@test
def exposed_key_warning():
    """A private key that others may read: served, with a warning naming
    the file."""
    d = certs_dir({"a.test": pair("a.test")})
    key = os.path.join(d, "a.test", "privkey.pem")
    os.chmod(key, 0o644)
    with serve(["--certs", d]) as s:
        eq(served(s.port, "a.test"), "a.test ec", "served")
        ok("warning" in s.log() and key in s.log() and "others" in s.log(),
           "no warning naming %s: %r" % (key, s.log()))
    os.chmod(key, 0o600)
    with serve(["--certs", d]) as s:
        ok("warning" not in s.log(), "a warning for a key of mode 0600: %r" % s.log())


@test
def stdio_tls_with_certs():
    """--stdio --tls chooses by SNI too."""
    d = certs_dir({"a.test": pair("a.test"), "_default": pair("default")})
    a, b = socket.socketpair()
    s = Server(ROOT, ["--stdio", "--tls", "--certs", d], listen=False, wait=False,
               stdin=b.fileno(), stdout=b.fileno())
    b.close()
    with client().wrap_socket(a, server_hostname="a.test") as t:
        eq(dict(x[0] for x in t.getpeercert()["subject"])["commonName"], "a.test ec", "a.test")
    eq(s.proc.wait(10), 0, "exit status")


# ---------------------------------------------------------------- memory


def private_needles(key, kind):
    """32 private bytes of the key (as stored, and reversed: a BIGNUM's
    limbs), and a line of its PEM."""
    r = openssl("pkey", "-in", key, "-outform", "DER")
    must(r, "openssl pkey")
    der = r.stdout
    if kind == "ec":
        i = der.find(b"\x02\x01\x01\x04\x20")
        ok(i >= 0, "no EC private key in the DER")
        chunk = der[i + 5:i + 37]
    else:
        chunk = der[-40:-8]
    with open(key, "rb") as f:
        line = f.read().splitlines()[2]
    return [chunk, chunk[::-1], line]


@test(timeout=120)
def private_keys_only_in_key_process():
    """Several keys (two hosts, ECDSA and RSA): every handshake signed, and
    no private key in the serving process's memory; each is in the key
    process's (the control that the search works)."""
    if not is_root():
        skip("needs root to read the processes' memory")
    pairs = {"a.test": ("a.test", "ec"), "a.test+rsa": ("a.test", "rsa"),
             "b.test": ("b.test", "ec")}
    d = certs_dir({sub: pair(*hk) for sub, hk in pairs.items()})
    with serve(["--certs", d]) as s:
        for sni in ("a.test", "b.test"):
            for ciphers in ("ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"):
                if sni == "b.test" and "RSA-AES" in ciphers:
                    continue
                served(s.port, sni, client(ssl.TLSVersion.TLSv1_2, ciphers))
            served(s.port, sni, client(ssl.TLSVersion.TLSv1_3))
        kids = children(s.pid)
        eq(len(kids), 1, "one key process")
        for sub, (host, kind) in pairs.items():
            needles = private_needles(os.path.join(d, sub, "privkey.pem"), kind)
            found, _ = memory_holds(kids[0], needles)
            ok(found & {0, 1}, "%s: not found in the key process: the search is broken" % sub)
            found, searched = memory_holds(s.pid, needles)
            ok(searched > 1 << 20, "read too little of the server's memory")
            eq(found, set(), "%s: private key bytes in the server process" % sub)


run_all("it_tls_certs")
