/*
 * proxy: the PROXY protocol header, versions 1 and 2 (see proxy.h). Every
 * rule the specification states is enforced: a header that is not exactly
 * right is refused, since whoever can make hermit accept a sloppy one can
 * choose the address the log records.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "proxy.h"

static const char v1_prefix[] = "PROXY ";
static const unsigned char v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* v2 command and family bytes. */
#define V2_LOCAL 0x20
#define V2_PROXY 0x21
#define V2_UNSPEC 0x00
#define V2_TCP4 0x11
#define V2_TCP6 0x21
#define V2_UNIX 0x31
#define V2_LEN_TCP4 12
#define V2_LEN_TCP6 36
#define V2_LEN_UNIX (2 * PROXY_UNIX_PATH)

static size_t
min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static int
need(struct proxy_result *out, size_t n)
{
	out->need = n;
	return PROXY_NEED;
}

/* The next token of [*p, end), up to a space or the end: it must not be
 * empty. Returns its length and leaves *p after it, or 0. */
static size_t
token(const unsigned char **p, const unsigned char *end, const unsigned char **tok)
{
	const unsigned char *q = *p;

	while (q < end && *q != ' ')
		q++;
	*tok = *p;
	*p = q;
	return (size_t)(q - *tok);
}

/* Exactly one space, then a token. */
static size_t
next_token(const unsigned char **p, const unsigned char *end, const unsigned char **tok)
{
	if (*p >= end || **p != ' ')
		return 0;
	(*p)++;
	return token(p, end, tok);
}

static int
v1_addr(int af, const unsigned char *tok, size_t len, unsigned char *addr)
{
	char s[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(s))
		return -1;
	memcpy(s, tok, len);
	s[len] = '\0';
	return inet_pton(af, s, addr) == 1 ? 0 : -1;
}

/* Decimal 0-65535, no sign, no leading zero (but "0" itself). */
static int
v1_port(const unsigned char *tok, size_t len, uint16_t *port)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || (tok[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(tok[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* The line between "PROXY " and CRLF. */
static int
v1_line(const unsigned char *p, const unsigned char *end, struct proxy_result *out)
{
	const unsigned char *tok[4];
	size_t len[4];
	int af;

	if ((size_t)(end - p) >= 7 && memcmp(p, "UNKNOWN", 7) == 0 &&
	    (p + 7 == end || p[7] == ' ')) {
		out->kind = PROXY_REAL;	/* the rest of the line is ignored */
		return 0;
	}
	if ((size_t)(end - p) < 4 || (memcmp(p, "TCP4", 4) != 0 && memcmp(p, "TCP6", 4) != 0))
		return -1;
	af = p[3] == '4' ? AF_INET : AF_INET6;
	p += 4;
	for (int i = 0; i < 4; i++)
		if ((len[i] = next_token(&p, end, &tok[i])) == 0)
			return -1;
	if (p != end)
		return -1;	/* a fifth token, or a trailing space */
	if (v1_addr(af, tok[0], len[0], out->src) == -1 ||
	    v1_addr(af, tok[1], len[1], out->dst) == -1 ||
	    v1_port(tok[2], len[2], &out->sport) == -1 ||
	    v1_port(tok[3], len[3], &out->dport) == -1)
		return -1;
	out->kind = af == AF_INET ? PROXY_INET : PROXY_INET6;
	return 0;
}

static int
parse_v1(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	size_t scan = min_size(len, PROXY_V1_MAX - 1), cr;

	if (memcmp(buf, v1_prefix, min_size(len, sizeof(v1_prefix) - 1)) != 0)
		return PROXY_INVALID;
	for (cr = 0; cr < scan; cr++) {
		if (buf[cr] == '\r')
			break;
		if (buf[cr] == '\n')
			return PROXY_INVALID;	/* a bare LF */
	}
	if (cr == scan)
		return len >= PROXY_V1_MAX - 1 ? PROXY_INVALID : need(out, len + 1);
	if (cr + 1 == len)
		return need(out, len + 1);
	if (buf[cr + 1] != '\n' || cr < sizeof(v1_prefix) - 1)
		return PROXY_INVALID;
	out->version = 1;
	if (v1_line(buf + sizeof(v1_prefix) - 1, buf + cr, out) == -1)
		return PROXY_INVALID;
	return (int)(cr + 2);
}

static unsigned
be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The TLVs must tile [p, end) exactly; their types are not looked at. */
static int
v2_tlvs(const unsigned char *p, const unsigned char *end)
{
	while (p < end) {
		size_t left = (size_t)(end - p), l;
		if (left < 3)
			return -1;
		l = be16(p + 1);
		if (l > left - 3)
			return -1;
		p += 3 + l;
	}
	return 0;
}

/* Source and destination addresses of n bytes each, then their ports. */
static void
v2_ip(const unsigned char *p, size_t n, enum proxy_kind kind, struct proxy_result *out)
{
	out->kind = kind;
	memcpy(out->src, p, n);
	memcpy(out->dst, p + n, n);
	out->sport = (uint16_t)be16(p + 2 * n);
	out->dport = (uint16_t)be16(p + 2 * n + 2);
}

static void
v2_addresses(const unsigned char *p, unsigned family, struct proxy_result *out)
{
	switch (family) {
	case V2_TCP4:
		v2_ip(p, 4, PROXY_INET, out);
		break;
	case V2_TCP6:
		v2_ip(p, 16, PROXY_INET6, out);
		break;
	case V2_UNIX:
		out->kind = PROXY_UNIX;
		memcpy(out->src_path, p, PROXY_UNIX_PATH);
		out->src_path[PROXY_UNIX_PATH] = '\0';
		break;
	default:
		out->kind = PROXY_REAL;
	}
}

static int
parse_v2(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	size_t total, alen;
	unsigned cmd, family;

	if (memcmp(buf, v2_sig, min_size(len, sizeof(v2_sig))) != 0)
		return PROXY_INVALID;
	if (len < PROXY_V2_HEAD)
		return need(out, PROXY_V2_HEAD);
	cmd = buf[12];
	family = buf[13];
	total = PROXY_V2_HEAD + be16(buf + 14);
	if ((cmd != V2_LOCAL && cmd != V2_PROXY) || total > PROXY_MAX)
		return PROXY_INVALID;
	switch (cmd == V2_LOCAL ? V2_UNSPEC : family) {
	case V2_UNSPEC: alen = 0; break;
	case V2_TCP4: alen = V2_LEN_TCP4; break;
	case V2_TCP6: alen = V2_LEN_TCP6; break;
	case V2_UNIX: alen = V2_LEN_UNIX; break;
	default: return PROXY_INVALID;	/* DGRAM, or unknown */
	}
	if (total - PROXY_V2_HEAD < alen)
		return PROXY_INVALID;
	if (len < total)
		return need(out, total);
	out->version = 2;
	/* LOCAL: the block is discarded whatever its family says (the
	 * specification's rule), so only its length is checked. */
	if (cmd == V2_LOCAL) {
		out->kind = PROXY_REAL;
		return (int)total;
	}
	if (v2_tlvs(buf + PROXY_V2_HEAD + alen, buf + total) == -1)
		return PROXY_INVALID;
	v2_addresses(buf + PROXY_V2_HEAD, family, out);
	return (int)total;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	memset(out, 0, sizeof(*out));
	if (len == 0)
		return need(out, 1);
	if (buf[0] == v1_prefix[0])
		return parse_v1(buf, len, out);
	if (buf[0] == v2_sig[0])
		return parse_v2(buf, len, out);
	return PROXY_INVALID;
}

void
proxy_format_peer(const struct proxy_result *r, const char *real, char *out, size_t size)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	switch (r->kind) {
	case PROXY_INET:
		inet_ntop(AF_INET, r->src, out, (socklen_t)size);
		break;
	case PROXY_INET6:
		if (memcmp(r->src, mapped, sizeof(mapped)) == 0)
			inet_ntop(AF_INET, r->src + 12, out, (socklen_t)size);
		else
			inet_ntop(AF_INET6, r->src, out, (socklen_t)size);
		break;
	case PROXY_UNIX:
		snprintf(out, size, "unix");
		break;
	default:
		snprintf(out, size, "%s", real);
	}
}

static size_t
build_v1(const struct proxy_result *r, unsigned char *out, size_t size)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	int af = r->kind == PROXY_INET ? AF_INET : AF_INET6, n;

	if (r->kind == PROXY_REAL)
		n = snprintf((char *)out, size, "PROXY UNKNOWN\r\n");
	else if (r->kind == PROXY_UNIX)
		return 0;	/* v1 has no UNIX form */
	else {
		inet_ntop(af, r->src, src, sizeof(src));
		inet_ntop(af, r->dst, dst, sizeof(dst));
		n = snprintf((char *)out, size, "PROXY TCP%c %s %s %u %u\r\n",
		    af == AF_INET ? '4' : '6', src, dst, r->sport, r->dport);
	}
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static void
put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static size_t
build_v2(const struct proxy_result *r, unsigned char *out, size_t size)
{
	static const unsigned char family[] = { V2_UNSPEC, V2_TCP4, V2_TCP6, V2_UNIX };
	static const unsigned short alen[] = { 0, V2_LEN_TCP4, V2_LEN_TCP6, V2_LEN_UNIX };
	unsigned char *a = out + PROXY_V2_HEAD;
	size_t al = alen[r->kind], ip = r->kind == PROXY_INET ? 4 : 16;

	if (size < PROXY_V2_HEAD + al)
		return 0;
	memcpy(out, v2_sig, sizeof(v2_sig));
	out[12] = r->kind == PROXY_REAL ? V2_LOCAL : V2_PROXY;
	out[13] = family[r->kind];
	put16(out + 14, (unsigned)al);
	if (r->kind == PROXY_UNIX) {
		memset(a, 0, al);
		memcpy(a, r->src_path, strnlen(r->src_path, PROXY_UNIX_PATH));
	} else if (r->kind != PROXY_REAL) {
		memcpy(a, r->src, ip);
		memcpy(a + ip, r->dst, ip);
		put16(a + 2 * ip, r->sport);
		put16(a + 2 * ip + 2, r->dport);
	}
	return PROXY_V2_HEAD + al;
}

size_t
proxy_build(const struct proxy_result *r, unsigned char *out, size_t size)
{
	if ((unsigned)r->kind > PROXY_UNIX)
		return 0;
	return r->version == 1 ? build_v1(r, out, size) : build_v2(r, out, size);
}
