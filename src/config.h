/*
 * config: what every worker reads and nobody changes once serving starts:
 * the limits from the command line and the descriptors gathered before
 * confinement. Built by main, shared read-only.
 */
#ifndef HERMIT_CONFIG_H
#define HERMIT_CONFIG_H

struct config {
	int rootfd;		/* the content root, opened before confinement */
	int vhosts;
	int listing;		/* --listing: directories without index.html are listed */
	int access_log;
	int hide_version;
	unsigned max_connections;
	unsigned max_header_bytes;
	unsigned max_header_fields;
	unsigned max_requests;
	unsigned header_timeout;	/* seconds */
	unsigned idle_timeout;
	unsigned send_timeout;
	unsigned grace;
	/* --redirect-https: requests over plain HTTP get a 301 to https://,
	   except under /.well-known/acme-challenge/; https_port 443 is left
	   out of the Location. */
	int redirect_https;
	unsigned https_port;
	/* --hsts: "Strict-Transport-Security: max-age=N\r\n", built once;
	   hsts_len 0 without --hsts. Sent on every response over TLS. */
	char hsts[64];
	unsigned hsts_len;
	/* HTTP/2: offered by ALPN on TLS (h2), with prior knowledge on
	   plain connections (h2c); streams open at once per connection. */
	int h2, h2c;
	unsigned h2_max_streams;
	const int *keyproc_fds;	/* HTTPS: worker i signs through keyproc_fds[i];
				   NULL without HTTPS listeners */
};

#endif
