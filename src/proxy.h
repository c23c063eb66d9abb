/*
 * proxy: the PROXY protocol header (HAProxy's proxy-protocol.txt, versions
 * 1 and 2) that a load balancer sends before the client's bytes, naming the
 * client it accepted. Parsed strictly, without allocation, from a buffer
 * that holds the connection's first bytes:
 *   v1  "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN...\r\n",
 *       at most PROXY_V1_MAX bytes; single spaces, addresses as inet_pton
 *       reads them (TCP4 IPv4 only, TCP6 IPv6 only), ports 0-65535 in
 *       decimal without leading zeros.
 *   v2  the 12-byte signature, version 2, command LOCAL or PROXY, family
 *       UNSPEC, INET, INET6 or UNIX over STREAM, each with its exact
 *       address length; TLVs after the addresses are skipped but must
 *       tile the rest of the block exactly. The whole header is at most
 *       PROXY_MAX bytes (the format allows 64 KiB + 16: no sender needs as
 *       much, and it must fit the request buffer).
 * LOCAL, UNKNOWN and UNSPEC say "use the connection's real endpoints".
 * proxy_parse() never reads beyond len; bytes after the header are the
 * client's and are left alone.
 */
#ifndef HERMIT_PROXY_H
#define HERMIT_PROXY_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_V1_MAX 107	/* the specification's bound, CRLF included */
#define PROXY_V2_HEAD 16	/* signature, version/command, family, length */
#define PROXY_MAX 1024		/* v2 head and block together */
#define PROXY_UNIX_PATH 108	/* a v2 UNIX address, as in sockaddr_un */

enum proxy_kind {
	PROXY_REAL,	/* LOCAL, UNKNOWN, UNSPEC: the real peer stands */
	PROXY_INET,	/* addr: 4 bytes, network order */
	PROXY_INET6,	/* addr: 16 bytes */
	PROXY_UNIX	/* path: NUL-terminated, at most 108 bytes */
};

struct proxy_result {
	enum proxy_kind kind;
	unsigned version;		/* 1 or 2 */
	unsigned char src[16], dst[16];
	uint16_t sport, dport;		/* host order */
	char src_path[PROXY_UNIX_PATH + 1];
	size_t need;	/* PROXY_NEED: the header is at least this long, so
			   reading up to need bytes never takes the client's */
};

enum { PROXY_INVALID = -1, PROXY_NEED = 0 };

/* Returns the header's length (> 0) with *out filled, PROXY_NEED when buf
 * is a proper prefix of a header that may still be valid (out->need set),
 * or PROXY_INVALID. */
int proxy_parse(const unsigned char *buf, size_t len, struct proxy_result *out);

/* The source as the access log shows peers: "192.0.2.1", "2001:db8::1"
 * (IPv4-mapped shown as IPv4), "unix" for a UNIX source; real when the
 * header says to use the real peer. */
void proxy_format_peer(const struct proxy_result *r, const char *real, char *out, size_t size);

/* Writes the header for r (kind, src, dst, ports; src_path for UNIX) in
 * version r->version into out; returns its length, or 0 when it does not
 * fit. For the tests and the fuzz target: the known-good sender. */
size_t proxy_build(const struct proxy_result *r, unsigned char *out, size_t size);

#endif
