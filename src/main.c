/*
 * hermit: a static-content HTTP server that locks itself in.
 *
 * main is the only place that orders startup, and the order is the design:
 *   1. parse the command line;
 *   2. gather everything from outside the content root: the target identity
 *      (/etc/passwd), the listening sockets, the root directory descriptor,
 *      the mime table; with HTTPS listeners, the certificates, the key
 *      process (which reads the private keys itself) and the TLS contexts;
 *   3. confine: chroot, identity drop, capabilities, no_new_privs, Landlock;
 *   4. start the workers (they wait, reading nothing);
 *   5. seal: rlimits and the seccomp filter, on every thread;
 *   6. serve: only now is the first byte of client input read.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#ifdef HERMIT_BENCH_KEY_IN_WORKER
#include <openssl/pem.h>
#endif

#include "audit.h"
#include "certs.h"
#include "config.h"
#include "filecache.h"
#include "http2.h"
#include "confine.h"
#include "keyproc.h"
#include "descriptors.h"
#include "listen.h"
#include "log.h"
#include "mime.h"
#include "options.h"
#include "resolve.h"
#include "server.h"
#include "tls.h"

#ifdef HERMIT_SANITIZER
/* LeakSanitizer's check at exit stops the world with clone and ptrace and
 * reads /proc: none of that is possible once confined, so it is turned off
 * from then on (this hook is its documented switch). Exits before
 * confinement, and the unit tests, are still checked. */
static volatile int confined;
int __lsan_is_turned_off(void);
int
__lsan_is_turned_off(void)
{
	return confined;
}
#define NOTE_CONFINED() (confined = 1)
#else
#define NOTE_CONFINED() ((void)0)
#endif

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	exit(1);
}

static unsigned
cpu_count(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	return 1;
}

/* Descriptors: one per connection, a quarter more for files being sent,
 * and the fixed ones (each worker's file cache and key-process socket
 * among them). Raise the soft limit while we still may; if the hard
 * limit is lower, serve fewer connections (and say so when the operator asked
 * for more). One connection on stdio needs only a handful. */
static unsigned long
size_fd_limit(struct options *o)
{
	const unsigned long fixed = 64 + MAX_LISTENERS + (5UL + FILECACHE_FDS) * o->workers;
	unsigned long conns = o->stdio ? 1 : o->max_connections;
	unsigned long want = fixed + conns + conns / 4;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return want;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
		unsigned long fit = rl.rlim_max > fixed + 5 ? (rl.rlim_max - fixed) * 4 / 5 : 1;
		if (o->max_connections_set)
			log_warn("the open-file limit (%lu) allows only %lu connections, "
			    "not --max-connections %u", (unsigned long)rl.rlim_max, fit,
			    o->max_connections);
		o->max_connections = (unsigned)fit;
		want = rl.rlim_max;
	}
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE, %lu): %s", want, strerror(errno));
	return want;
}

/* UCSPI's TCPREMOTEIP when it holds an IP address, else the socket's
 * peer, else "-". The environment is not hermit's own: a value that is not
 * an address (a newline would forge an access-log line) is not used. */
static void
stdio_peer(char *out, size_t size)
{
	const char *env = getenv("TCPREMOTEIP");
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned char addr[sizeof(struct in6_addr)];

	if (env != NULL && strlen(env) < size &&
	    (inet_pton(AF_INET, env, addr) == 1 || inet_pton(AF_INET6, env, addr) == 1)) {
		snprintf(out, size, "%s", env);
		return;
	}
	if (env != NULL && env[0] != '\0')
		log_warn("TCPREMOTEIP is not an IP address: ignored");
	if (getpeername(0, (struct sockaddr *)&ss, &sl) == 0) {
		listen_format_ip(&ss, out, size);
		return;
	}
	snprintf(out, size, "-");
}

/* Signals arrive on a descriptor (read by main, or by the stdio loop):
 * SIGTERM and SIGINT stop hermit after the grace period; SIGHUP (sent by
 * habit by supervisors and log rotation) and SIGUSR1, SIGUSR2 and SIGALRM
 * are logged and ignored, since their default action would kill hermit in
 * the middle of its responses. SIGPIPE is ignored: a client that goes away
 * is an EPIPE, not a death. */
static int
signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGALRM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* The descriptors hermit holds on purpose; every other one is closed. */
static unsigned
descriptors_to_keep(const struct options *o, const struct listener *ls, unsigned nls,
    int rootfd, int sigfd, int *keep)
{
	unsigned n = 0;

	keep[n++] = 2;		/* stderr: the log */
	keep[n++] = rootfd;
	keep[n++] = sigfd;
	if (o->stdio || o->audit)	/* the connection; the audit's table */
		keep[n++] = 1;
	if (o->stdio)
		keep[n++] = 0;
	for (unsigned i = 0; i < nls; i++)
		keep[n++] = ls[i].fd;
	return n;
}

static void
config_from(struct config *cfg, const struct options *o, int rootfd)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rootfd = rootfd;
	cfg->vhosts = o->vhosts;
	cfg->listing = o->listing;
	cfg->access_log = o->access_log;
	cfg->hide_version = o->hide_version;
	cfg->max_connections = o->max_connections;
	cfg->max_header_bytes = o->max_header_bytes;
	cfg->max_header_fields = o->max_header_fields;
	cfg->max_requests = o->max_requests;
	cfg->header_timeout = o->header_timeout;
	cfg->idle_timeout = o->idle_timeout;
	cfg->send_timeout = o->send_timeout;
	cfg->grace = o->grace;
	cfg->redirect_https = o->redirect_https;
	cfg->h2 = !o->no_h2;
	cfg->h2c = o->h2c;
	cfg->h2_max_streams = o->h2_max_streams;
	cfg->https_port = o->https_port;
	if (o->hsts)
		cfg->hsts_len = (unsigned)snprintf(cfg->hsts, sizeof(cfg->hsts),
		    "Strict-Transport-Security: max-age=%u\r\n", o->hsts_seconds);
}

/* Every worker gets its own key-process socket. */
_Static_assert(MAX_WORKERS <= KEYPROC_MAX_WORKERS, "a key-process socket per worker");

/* Every certificate's key has an index in the key process. */
_Static_assert(CERTS_MAX <= KEYPROC_MAX_KEYS, "a key-process index per certificate");

/* Any certificate may be given: --cert, --certs, or systemd credentials. */
static int
certs_given(const struct options *o)
{
	return o->cert != NULL || o->certs != NULL || getenv("CREDENTIALS_DIRECTORY") != NULL;
}

#ifdef HERMIT_BENCH_KEY_IN_WORKER
/* make bench's baseline only, never installed: each key loaded here, in
 * the process whose workers talk to clients (as nginx and h2o hold them),
 * so that tests/bench.sh can tell what the key process costs. */
static void
bench_keys_in_worker(const struct certs *c, EVP_PKEY **keys)
{
	for (unsigned i = 0; i < c->n; i++) {
		FILE *f = fopen(c->pair[i].key_path, "r");
		EVP_PKEY *k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

		if (f != NULL)
			fclose(f);
		if (k == NULL)
			die("%s: cannot load it into the workers", c->pair[i].key_path);
		EVP_PKEY_free(keys[i]);
		keys[i] = k;
	}
	fprintf(stderr, "hermit: BENCHMARK BUILD: the private keys are in the workers\n");
}
#endif

/* Each pair's key, as the key process loaded it, is its certificate's. */
static void
keys_match(const struct certs *c, const struct keyproc *kp)
{
	for (unsigned i = 0; i < c->n; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(c->pair[i].leaf), kp->pub[i]) != 1)
			die("%s %s: does not match the certificate in %s", c->pair[i].key_label,
			    c->pair[i].key_path, c->pair[i].chain_path);
}

/* One startup line: how many certificates, for how many names, and where
 * the default came from (or that there is none). */
static void
describe_certs(const struct certs *c)
{
	unsigned hosts = 0;
	const char *dflt = NULL;
	char more[192];

	for (unsigned i = 0; i < c->n; i++) {
		if (c->pair[i].host[0] == '\0')
			dflt = c->pair[i].chain_label;
		else if (i == 0 || strcmp(c->pair[i].host, c->pair[i - 1].host) != 0)
			hosts++;
	}
	log_error("TLS: %u certificate%s for %u host name%s; %s%s; %s", c->n,
	    c->n == 1 ? "" : "s", hosts, hosts == 1 ? "" : "s", dflt != NULL ?
	    "the default from " : "no default (a client sending no known name is refused)",
	    dflt != NULL ? (strcmp(dflt, "credential") == 0 ? "$CREDENTIALS_DIRECTORY" : dflt)
	    : "", tls_describe(more, sizeof(more)));
}

/* The certificates, the key process and the TLS contexts, when a listener
 * speaks HTTPS. Runs after the other descriptors are closed (the key
 * process's sockets are made here, so they need no place in the keep list)
 * and before confine_enter (the certificates are read before chroot; the
 * key process reads the keys, then drops to the workers' identity itself). */
static void
tls_gather(const struct options *o, const struct confine *cf, struct keyproc *kp,
    struct config *cfg)
{
	struct certs_sources src = {
		.cert = { o->cert, o->cert2 }, .key = { o->key, o->key2 },
		.dir = o->certs, .credentials = getenv("CREDENTIALS_DIRECTORY"),
	};
	struct keyproc_config kc;
	const char *paths[CERTS_MAX];
	EVP_PKEY *keys[CERTS_MAX];
	struct certs certs;
	char why[1024];

	if (certs_gather(&src, &certs, why, sizeof(why)) == -1)
		die("%s", why);
	if (certs.n == 0)
		die("HTTPS needs a certificate: --cert and --key, --certs DIR, or "
		    CERTS_CHAIN_FILE " and " CERTS_KEY_FILE " in $CREDENTIALS_DIRECTORY "
		    "(none found)");
	for (unsigned i = 0; i < certs.n; i++)
		paths[i] = certs.pair[i].key_path;
	memset(&kc, 0, sizeof(kc));
	kc.key_paths = paths;
	kc.nkeys = certs.n;
	kc.nworkers = o->stdio ? 1 : o->workers;
	kc.drop = geteuid() == 0 && cf->have_target;
	kc.uid = cf->uid;
	kc.gid = cf->gid;
	kc.seccomp_errno = o->seccomp_debug;
	if (keyproc_start(&kc, kp, why, sizeof(why)) == -1) {
		if (kp->failed_key >= 0)
			die("%s: %s", certs.pair[kp->failed_key].key_label, why);
		die("%s", why);
	}
	keys_match(&certs, kp);
	for (unsigned i = 0; i < certs.n; i++)
		if ((keys[i] = keyproc_pkey(kp, i)) == NULL)
			die("%s %s: the key process's key cannot be used",
			    certs.pair[i].key_label, certs.pair[i].key_path);
#ifdef HERMIT_BENCH_KEY_IN_WORKER
	bench_keys_in_worker(&certs, keys);
#endif
	tls_offer_h2(!o->no_h2);
	if (tls_context_new(&certs, keys, kp->libctx, o->tls_min, o->tls_tickets, why,
	    sizeof(why)) == -1)
		die("%s", why);
	for (unsigned i = 0; i < certs.n; i++)
		EVP_PKEY_free(keys[i]);	/* the contexts hold their own references */
	if (!o->stdio)
		describe_certs(&certs);
	certs_free(&certs);
	cfg->keyproc_fds = kp->fds;
}

int
main(int argc, char **argv)
{
	static struct listener ls[MAX_LISTENERS];
	static struct keyproc kp;
	static struct audit_keys ak;
	struct options o;
	struct config cfg;
	struct confine cf;
	struct server *srv;
	char why[512], line[512], peer[48];
	int keep[DESCRIPTORS_KEEP_MAX];
	unsigned nls = 0, nkeep, nhttps = 0;
	int rootfd, sigfd, status;

	/* 1. The command line. */
	options_parse(argc, argv, &o);
	if (o.workers == 0)
		o.workers = cpu_count();
	/* Before anything else touches OpenSSL (the key process, the audit's
	 * key rows included). HTTPS needs a certificate, so every path to
	 * tls_gather() passes here. */
	if (certs_given(&o) && tls_init(why, sizeof(why)) == -1)
		die("%s", why);
	if (http2_init() == -1)
		die("HTTP/2: out of memory");

	/* 2. Gather: identity, sockets, root, tables. */
	memset(&cf, 0, sizeof(cf));
	cf.root_path = o.root;
	cf.user = o.user;
	cf.no_chroot = o.no_chroot;
	cf.require = o.require;
	cf.seccomp_errno = o.seccomp_debug;
	cf.without = o.audit_without & ~AUDIT_WITHOUT_KEYPROC;
#ifdef HERMIT_SANITIZER
	cf.sanitizer = 1;
#endif
	if (confine_identity(&cf) == -1)
		die("%s", cf.why);
	if (o.mime_types != NULL && mime_load(o.mime_types, why, sizeof(why)) == -1)
		die("--mime-types: %s", why);
	if (!o.stdio && !o.audit &&
	    listen_gather(o.listen, o.listen_tls, o.nlisten, ls, &nls, why, sizeof(why)) == -1)
		die("%s", why);
	for (unsigned i = 0; i < nls; i++) {
		nhttps += ls[i].proto == LISTEN_HTTPS;
		ls[i].proxy |= o.proxy_protocol;
	}
	if (nhttps > 0 && !certs_given(&o))
		die("the socket named https needs --cert and --key, or --certs");
	if (o.stdio && o.stdio_tls)
		nhttps = 1;	/* the connection on stdin/stdout */
	if (o.audit && o.cert != NULL)
		nhttps = 1;	/* the audit tests the key process as serving runs it */
	if ((o.cert != NULL || o.certs != NULL) && nhttps == 0 && !o.audit)
		log_warn("%s: no HTTPS listener (--listen-tls, a systemd socket named "
		    "https, or --stdio --tls): not used", o.cert != NULL ? "--cert and --key" :
		    "--certs");
	if (o.hsts && nhttps == 0 && !o.audit)
		log_warn("--hsts: no HTTPS listener: never sent (browsers ignore it "
		    "over plain HTTP)");
	if ((rootfd = open(o.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(why, sizeof(why), "%s: %s", o.root, strerror(errno));
		die("content root %s", why);
	}
	switch (resolve_available(rootfd)) {
	case -1:
		die("content root %s: %s", o.root, strerror(errno));
	case 1:
		log_warn("openat2 is not available (ENOSYS): resolving paths one "
		    "component at a time, without following symlinks");
		break;
	}
	if ((sigfd = signals()) == -1)
		die("signalfd: %s", strerror(errno));
	nkeep = descriptors_to_keep(&o, ls, nls, rootfd, sigfd, keep);
	if (descriptors_close_others(keep, nkeep, why, sizeof(why)) == -1)
		die("%s", why);
	cf.keep_fds = keep;
	cf.nkeep_fds = nkeep;
	cf.root_fd = rootfd;
	cf.max_fds = size_fd_limit(&o);
	config_from(&cfg, &o, rootfd);
	if (nhttps > 0 && !(o.audit_without & AUDIT_WITHOUT_KEYPROC))
		tls_gather(&o, &cf, &kp, &cfg);
	if (o.audit && o.key != NULL && audit_keys_prepare(&ak, o.key, o.root,
	    o.audit_without & AUDIT_WITHOUT_KEYPROC ? NULL : &kp, why, sizeof(why)) == -1)
		die("%s", why);
	if (o.stdio)
		stdio_peer(peer, sizeof(peer));

	/* 3. Confine, while single-threaded. */
	NOTE_CONFINED();
	if (confine_enter(&cf) == -1)
		die("%s", cf.why);
	if (o.audit)
		return audit_run(&cf, o.key != NULL ? &ak : NULL);

	/* 4. Workers, waiting at their gate. */
	srv = o.stdio ? server_prepare_stdio(&cfg, sigfd, peer, o.stdio_tls, o.proxy_protocol,
	    why, sizeof(why))
	    : server_prepare(&cfg, ls, nls, o.workers, sigfd, why, sizeof(why));
	if (srv == NULL)
		die("%s", why);

	/* 5. Seal every thread. */
	if (confine_seal(&cf) == -1)
		die("%s", cf.why);
	confine_describe(&cf, line, sizeof(line));
	if (!o.stdio) {
		size_t l = 0;
		why[0] = '\0';
		for (unsigned i = 0; i < nls && l < sizeof(why); i++)
			l += (size_t)snprintf(why + l, sizeof(why) - l, "%s%s", i ? ", " : "", ls[i].name);
		log_error("%s", line);
		log_error("serving %s on %s with %u worker%s", o.root, why, o.workers,
		    o.workers == 1 ? "" : "s");
	}

	/* 6. Serve. */
	server_start(srv);
	status = server_run(srv);
	server_free(srv);
	if (nhttps > 0) {
		tls_context_free();
		keyproc_free(&kp);
	}
	return status;
}
