/*
 * options: the command line. options_parse() fills struct options from argv
 * and the defaults in limits.h; on a bad option or value it prints
 * "hermit: --option: reason" and exits 2. It opens no file and touches no
 * socket: main decides when things are gathered.
 */
#ifndef HERMIT_OPTIONS_H
#define HERMIT_OPTIONS_H

#include "limits.h"

struct options {
	const char *root;
	const char *listen[MAX_LISTENERS];	/* --listen and --listen-tls, in order */
	unsigned char listen_tls[MAX_LISTENERS];	/* listen[i] is from --listen-tls */
	unsigned nlisten;
	unsigned nlisten_tls;
	const char *cert;	/* --cert: PEM chain, leaf first */
	const char *key;	/* --key: PEM private key */
	const char *cert2;	/* --cert/--key again: a pair of another key type */
	const char *key2;
	const char *certs;	/* --certs: DIR/HOST/{fullchain,privkey}.pem */
	unsigned tls_min;	/* --tls-min: 12 or 13 */
	unsigned tls_tickets;	/* --tls-tickets: key period in seconds; 0: off */
	int redirect_https;	/* --redirect-https[=PORT] */
	unsigned https_port;	/* its PORT, 443 unless given */
	int hsts;		/* --hsts given */
	int no_h2;		/* --no-h2: TLS offers http/1.1 alone */
	int h2c;		/* --h2c: HTTP/2 with prior knowledge on plain connections */
	unsigned h2_max_streams;	/* --h2-max-streams */
	unsigned hsts_seconds;
	int stdio;		/* --stdio: one connection on fd 0/1 */
	int stdio_tls;		/* --tls: that connection speaks TLS */
	int proxy_protocol;	/* --proxy-protocol: every connection starts
				   with a PROXY protocol header */
	int vhosts;
	int listing;		/* --listing */
	int access_log;
	int hide_version;
	const char *mime_types;
	const char *user;
	unsigned workers;	/* 0: one per CPU */
	unsigned max_connections;
	int max_connections_set;	/* given on the command line */
	unsigned max_header_bytes;
	unsigned max_header_fields;
	unsigned max_requests;
	unsigned header_timeout;
	unsigned idle_timeout;
	unsigned send_timeout;
	unsigned grace;
	int no_chroot;
	unsigned require;	/* LAYER_* bits */
	int seccomp_debug;
	int audit;
	unsigned audit_without;	/* --audit-without: LAYER_* left off for the audit */
};

void options_parse(int argc, char **argv, struct options *o);
void options_usage(void);

#endif
