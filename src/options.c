/*
 * options: the command line, with getopt_long. Every limit takes a whole
 * number within a stated range, so a typo cannot silently become 0 or
 * "unlimited".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include "audit.h"
#include "confine.h"
#include "listen.h"
#include "options.h"

enum {
	OPT_STDIO = 256, OPT_VHOSTS, OPT_USER, OPT_WORKERS, OPT_MAX_CONNECTIONS,
	OPT_MAX_HEADER_BYTES, OPT_MAX_HEADER_FIELDS, OPT_MAX_REQUESTS,
	OPT_HEADER_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_SEND_TIMEOUT, OPT_GRACE,
	OPT_MIME_TYPES, OPT_ACCESS_LOG, OPT_HIDE_VERSION, OPT_NO_CHROOT,
	OPT_REQUIRE, OPT_SECCOMP_DEBUG, OPT_AUDIT, OPT_AUDIT_WITHOUT,
	OPT_LISTEN_TLS, OPT_CERT, OPT_KEY, OPT_TLS_MIN, OPT_TLS, OPT_CERTS, OPT_TLS_TICKETS,
	OPT_REDIRECT_HTTPS, OPT_HSTS, OPT_PROXY_PROTOCOL, OPT_LISTING, OPT_NO_H2, OPT_H2C,
	OPT_H2_MAX_STREAMS
};

static const struct option longopts[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "listen-tls", required_argument, NULL, OPT_LISTEN_TLS },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "certs", required_argument, NULL, OPT_CERTS },
	{ "tls-min", required_argument, NULL, OPT_TLS_MIN },
	{ "tls-tickets", required_argument, NULL, OPT_TLS_TICKETS },
	{ "tls", no_argument, NULL, OPT_TLS },
	{ "redirect-https", optional_argument, NULL, OPT_REDIRECT_HTTPS },
	{ "hsts", required_argument, NULL, OPT_HSTS },
	{ "no-h2", no_argument, NULL, OPT_NO_H2 },
	{ "h2c", no_argument, NULL, OPT_H2C },
	{ "h2-max-streams", required_argument, NULL, OPT_H2_MAX_STREAMS },
	{ "stdio", no_argument, NULL, OPT_STDIO },
	{ "proxy-protocol", no_argument, NULL, OPT_PROXY_PROTOCOL },
	{ "vhosts", no_argument, NULL, OPT_VHOSTS },
	{ "listing", no_argument, NULL, OPT_LISTING },
	{ "user", required_argument, NULL, OPT_USER },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-header-bytes", required_argument, NULL, OPT_MAX_HEADER_BYTES },
	{ "max-header-fields", required_argument, NULL, OPT_MAX_HEADER_FIELDS },
	{ "max-requests", required_argument, NULL, OPT_MAX_REQUESTS },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "send-timeout", required_argument, NULL, OPT_SEND_TIMEOUT },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "mime-types", required_argument, NULL, OPT_MIME_TYPES },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "hide-version", no_argument, NULL, OPT_HIDE_VERSION },
	{ "no-chroot", no_argument, NULL, OPT_NO_CHROOT },
	{ "require", required_argument, NULL, OPT_REQUIRE },
	{ "seccomp-debug", no_argument, NULL, OPT_SECCOMP_DEBUG },
	{ "audit", no_argument, NULL, OPT_AUDIT },
	{ "audit-without", required_argument, NULL, OPT_AUDIT_WITHOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

void
options_usage(void)
{
	printf(
"usage: hermit [options] ROOT\n"
"Serve the files under ROOT over HTTP/1.1, confined to ROOT.\n"
"\n"
"Connections (default: listen on [::]:80 as root, [::]:8080 otherwise):\n"
"  -l, --listen ADDR        listen on ADDR: 127.0.0.1:8080, [::1]:8080, :8080\n"
"                           (repeatable). Sockets passed by systemd (LISTEN_FDS)\n"
"                           or a listening socket on stdin are used instead.\n"
"      --stdio              serve one connection on stdin/stdout, then exit\n"
"                           (inetd, tcpserver, systemd Accept=yes)\n"
"      --proxy-protocol     every connection (every listener, and --stdio)\n"
"                           starts with a PROXY protocol header, v1 or v2, from\n"
"                           a load balancer: its client address is the peer;\n"
"                           a connection without one is closed. Only some\n"
"                           systemd sockets: name them http-proxy, https-proxy\n"
"\n"
"HTTPS (the private key stays in a separate key process):\n"
"      --listen-tls ADDR    serve HTTPS on ADDR (repeatable); a systemd socket\n"
"                           named \"https\" (LISTEN_FDNAMES) is HTTPS too\n"
"      --cert FILE          certificate chain, PEM, the server's own first\n"
"      --key FILE           its private key, PEM (--cert and --key again: a\n"
"                           second pair of the other key type, ECDSA or RSA)\n"
"      --certs DIR          DIR/HOST/fullchain.pem and privkey.pem for each\n"
"                           HOST, chosen by SNI (certbot's live/ layout);\n"
"                           DIR/HOST+rsa/ a second key type, DIR/_default/\n"
"                           the default. Without --cert: fullchain.pem and\n"
"                           privkey.pem in $CREDENTIALS_DIRECTORY (systemd)\n"
"                           are the default\n"
"      --tls-min 1.2|1.3    the oldest TLS version accepted [1.2]\n"
"      --tls-tickets off|SECONDS  session tickets: off, or their keys (random,\n"
"                           in memory, shared by all workers) replaced every\n"
"                           SECONDS; a ticket lives 1-2 periods [3600]\n"
"      --tls                with --stdio: that connection speaks TLS\n"
"      --redirect-https[=PORT]  answer plain HTTP with 301 to https://HOST\n"
"                           (:PORT when not 443), except for\n"
"                           /.well-known/acme-challenge/ (served as usual)\n"
"      --hsts SECONDS       Strict-Transport-Security: max-age=SECONDS on\n"
"                           every HTTPS response (0 to %u)\n"
"      --no-h2              HTTPS offers HTTP/1.1 alone (default: ALPN h2\n"
"                           first, then http/1.1)\n"
"      --h2c                HTTP/2 with prior knowledge on plain connections\n"
"                           (a client preface first; others stay HTTP/1.1)\n"
"\n"
"Content:\n"
"      --vhosts             serve ROOT/HOST/... by the Host header;\n"
"                           requests without a Host use ROOT/_default/\n"
"      --listing            list a directory that has no index.html (only\n"
"                           what would be served; off by default)\n"
"      --mime-types FILE    extra content types, mime.types format (a regular\n"
"                           file of at most 1 MiB)\n"
"      --access-log on|off  Combined Log Format lines on stderr (default on)\n"
"      --hide-version       send \"Server: hermit\" without the version\n"
"\n"
"Limits (defaults in brackets):\n"
"      --workers N          worker threads [number of CPUs]\n"
"      --max-connections N  open connections; more get 503 [%d]\n"
"      --max-header-bytes N request head size [%d]\n"
"      --max-header-fields N header fields per request [%d]\n"
"      --max-requests N     requests per connection (HTTP/2: streams) [%d]\n"
"      --h2-max-streams N   concurrent HTTP/2 streams per connection [%d]\n"
"      --header-timeout S   seconds to receive a request head [%d]\n"
"      --idle-timeout S     seconds an idle keep-alive connection stays [%d]\n"
"      --send-timeout S     seconds a response may make no progress [%d]\n"
"      --grace S            seconds to finish responses after SIGTERM [%d]\n"
"                           (SIGHUP etc. ignored: restart for new certificates)\n"
"\n"
"Confinement (see hermit(8)):\n"
"      --user NAME[:GROUP]  identity to drop to when started as root\n"
"                           (or the UID and GID environment variables)\n"
"      --no-chroot          do not chroot even when able to\n"
"      --require LAYER,...  fail unless these layers apply: chroot, identity,\n"
"                           caps, nnp, landlock, seccomp, rlimits\n"
"      --seccomp-debug      seccomp violations fail with EPERM instead of\n"
"                           killing the process (development only)\n"
"      --audit              confine as for serving, then print what a\n"
"                           compromised request handler could do, and exit\n"
"      --audit-without LAYER,...  with --audit: leave chroot, landlock,\n"
"                           seccomp, rlimits or (with --key) the key\n"
"                           process off, to see what they stop\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n",
	    MAX_HSTS_SECONDS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_HEADER_BYTES,
	    DEFAULT_MAX_HEADER_FIELDS, DEFAULT_MAX_REQUESTS, DEFAULT_H2_MAX_STREAMS,
	    DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_SEND_TIMEOUT,
	    DEFAULT_GRACE_PERIOD);
}

static void
bad(const char *opt, const char *why)
{
	fprintf(stderr, "hermit: --%s: %s (see hermit --help)\n", opt, why);
	exit(2);
}

static unsigned
number(const char *opt, const char *arg, unsigned min, unsigned max)
{
	char *end;
	unsigned long v;

	if (arg[0] < '0' || arg[0] > '9')
		bad(opt, "expects a whole number");
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (*end != '\0')
		bad(opt, "expects a whole number");
	if (errno == ERANGE || v < min || v > max) {
		char why[96];
		snprintf(why, sizeof(why), "must be between %u and %u", min, max);
		bad(opt, why);
	}
	return (unsigned)v;
}

static int
on_off(const char *opt, const char *arg)
{
	if (strcmp(arg, "on") == 0)
		return 1;
	if (strcmp(arg, "off") == 0)
		return 0;
	bad(opt, "expects on or off");
	return 0;
}

void
options_parse(int argc, char **argv, struct options *o)
{
	int c, idx, have_certs;

	memset(o, 0, sizeof(*o));
	o->access_log = 1;
	o->max_connections = DEFAULT_MAX_CONNECTIONS;
	o->max_header_bytes = DEFAULT_MAX_HEADER_BYTES;
	o->max_header_fields = DEFAULT_MAX_HEADER_FIELDS;
	o->max_requests = DEFAULT_MAX_REQUESTS;
	o->header_timeout = DEFAULT_HEADER_TIMEOUT;
	o->idle_timeout = DEFAULT_IDLE_TIMEOUT;
	o->send_timeout = DEFAULT_SEND_TIMEOUT;
	o->grace = DEFAULT_GRACE_PERIOD;
	o->tls_min = 12;
	o->tls_tickets = DEFAULT_TICKET_PERIOD;
	o->h2_max_streams = DEFAULT_H2_MAX_STREAMS;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":l:hV", longopts, &idx)) != -1) {
		switch (c) {
		case 'l':
		case OPT_LISTEN_TLS: {
			const char *name = c == 'l' ? "listen" : "listen-tls";
			struct sockaddr_storage ss;
			unsigned len;
			if (o->nlisten == MAX_LISTENERS)
				bad(name, "too many addresses");
			if (listen_parse_addr(optarg, &ss, &len) == -1)
				bad(name, "expects 127.0.0.1:8080, [::1]:8080 or :8080");
			o->listen_tls[o->nlisten] = c != 'l';
			o->nlisten_tls += c != 'l';
			o->listen[o->nlisten++] = optarg;
			break;
		}
		case OPT_CERT:
		case OPT_KEY: {
			const char **first = c == OPT_CERT ? &o->cert : &o->key;
			const char **second = c == OPT_CERT ? &o->cert2 : &o->key2;
			if (*second != NULL)
				bad(c == OPT_CERT ? "cert" : "key", "at most twice (an ECDSA and "
				    "an RSA pair, matched by order)");
			*(*first == NULL ? first : second) = optarg;
			break;
		}
		case OPT_CERTS:
			if (o->certs != NULL)
				bad("certs", "at most once");
			o->certs = optarg;
			break;
		case OPT_TLS: o->stdio_tls = 1; break;
		case OPT_TLS_MIN:
			if (strcmp(optarg, "1.2") == 0)
				o->tls_min = 12;
			else if (strcmp(optarg, "1.3") == 0)
				o->tls_min = 13;
			else
				bad("tls-min", "expects 1.2 or 1.3");
			break;
		case OPT_TLS_TICKETS:
			o->tls_tickets = strcmp(optarg, "off") == 0 ? 0 :
			    number("tls-tickets", optarg, 1, MAX_TICKET_PERIOD);
			break;
		case OPT_REDIRECT_HTTPS:
			o->redirect_https = 1;
			/* "--redirect-https PORT" would take PORT for ROOT:
			 * the port is given with '=' only. */
			o->https_port = optarg == NULL ? 443 :
			    number("redirect-https", optarg, 1, 65535);
			break;
		case OPT_HSTS:
			o->hsts = 1;
			o->hsts_seconds = number("hsts", optarg, 0, MAX_HSTS_SECONDS);
			break;
		case OPT_STDIO: o->stdio = 1; break;
		case OPT_NO_H2: o->no_h2 = 1; break;
		case OPT_H2C: o->h2c = 1; break;
		case OPT_H2_MAX_STREAMS:
			o->h2_max_streams = number("h2-max-streams", optarg, 1, MAX_H2_MAX_STREAMS);
			break;
		case OPT_PROXY_PROTOCOL: o->proxy_protocol = 1; break;
		case OPT_VHOSTS: o->vhosts = 1; break;
		case OPT_LISTING: o->listing = 1; break;
		case OPT_USER:
			if (optarg[0] == '\0')
				bad("user", "expects NAME[:GROUP]");
			o->user = optarg;
			break;
		case OPT_WORKERS:
			o->workers = number("workers", optarg, 1, MAX_WORKERS);
			break;
		case OPT_MAX_CONNECTIONS:
			o->max_connections = number("max-connections", optarg, 1, 1000000);
			o->max_connections_set = 1;
			break;
		case OPT_MAX_HEADER_BYTES:
			o->max_header_bytes = number("max-header-bytes", optarg,
			    MIN_MAX_HEADER_BYTES, MAX_MAX_HEADER_BYTES);
			break;
		case OPT_MAX_HEADER_FIELDS:
			o->max_header_fields = number("max-header-fields", optarg,
			    1, MAX_MAX_HEADER_FIELDS);
			break;
		case OPT_MAX_REQUESTS:
			o->max_requests = number("max-requests", optarg, 1, 100000000);
			break;
		case OPT_HEADER_TIMEOUT:
			o->header_timeout = number("header-timeout", optarg, 1, 3600);
			break;
		case OPT_IDLE_TIMEOUT:
			o->idle_timeout = number("idle-timeout", optarg, 1, 3600);
			break;
		case OPT_SEND_TIMEOUT:
			o->send_timeout = number("send-timeout", optarg, 1, 3600);
			break;
		case OPT_GRACE:
			o->grace = number("grace", optarg, 0, 3600);
			break;
		case OPT_MIME_TYPES: o->mime_types = optarg; break;
		case OPT_ACCESS_LOG: o->access_log = on_off("access-log", optarg); break;
		case OPT_HIDE_VERSION: o->hide_version = 1; break;
		case OPT_NO_CHROOT: o->no_chroot = 1; break;
		case OPT_REQUIRE:
			if (confine_parse_layers(optarg, &o->require) == -1)
				bad("require", "expects a list of chroot, identity, caps, "
				    "nnp, landlock, seccomp, rlimits");
			break;
		case OPT_SECCOMP_DEBUG: o->seccomp_debug = 1; break;
		case OPT_AUDIT: o->audit = 1; break;
		case OPT_AUDIT_WITHOUT:
			if (audit_parse_without(optarg, &o->audit_without) == -1)
				bad("audit-without", "expects a list of chroot, landlock, "
				    "seccomp, rlimits, keyproc");
			break;
		case 'h':
			options_usage();
			exit(0);
		case 'V':
			printf("hermit %s\n", HERMIT_VERSION);
			exit(0);
		case ':':
			fprintf(stderr, "hermit: %s: needs a value (see hermit --help)\n",
			    argv[optind - 1]);
			exit(2);
		default:
			fprintf(stderr, "hermit: %s: unknown option (see hermit --help)\n",
			    argv[optind - 1]);
			exit(2);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "hermit: %s (see hermit --help)\n", optind >= argc ?
		    "no ROOT directory given" : "more than one ROOT given");
		exit(2);
	}
	o->root = argv[optind];
	if (o->stdio && o->nlisten > 0)
		bad("stdio", "cannot be combined with --listen or --listen-tls");
	/* Whether a systemd socket is HTTPS is known only once it is gathered
	 * (main checks that case); --listen-tls is known now. */
	if (o->stdio_tls && !o->stdio)
		bad("tls", "only with --stdio (listeners: --listen-tls)");
	/* Whether $CREDENTIALS_DIRECTORY holds a certificate is known once
	 * main looks; whether any certificate is given is known now. */
	have_certs = o->cert != NULL || o->certs != NULL || getenv("CREDENTIALS_DIRECTORY") != NULL;
	if (o->stdio_tls && !have_certs)
		bad("tls", "needs --cert and --key, or --certs");
	if (o->nlisten_tls > 0 && !have_certs)
		bad("listen-tls", "needs --cert and --key, or --certs");
	if ((o->cert == NULL) != (o->key == NULL) || (o->cert2 == NULL) != (o->key2 == NULL))
		bad(o->cert == NULL ? "key" : "cert", "needs both --cert and --key (as many "
		    "of each)");
	if (o->audit_without && !o->audit)
		bad("audit-without", "only with --audit");
	if ((o->audit_without & AUDIT_WITHOUT_KEYPROC) && o->key == NULL)
		bad("audit-without", "keyproc: only with --cert and --key");
}
