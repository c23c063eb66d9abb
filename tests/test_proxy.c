/*
 * Unit tests for the PROXY protocol header (src/proxy.c): every rule of
 * versions 1 and 2, each way a header can be wrong, and that any proper
 * prefix of a valid header asks for more.
 */
#include <arpa/inet.h>
#include <stdint.h>

#include "proxy.h"
#include "unit.h"

static struct proxy_result r;

static int
parse(const void *buf, size_t len)
{
	return proxy_parse(buf, len, &r);
}

static int
v1(const char *s)
{
	return parse(s, strlen(s));
}

static const char *
peer(void)
{
	static char s[64];

	proxy_format_peer(&r, "real", s, sizeof(s));
	return s;
}

/* Every proper prefix of a valid header asks for more, and says how much
 * is certainly still header. */
static int
prefixes_need_more(const unsigned char *h, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (parse(h, i) != PROXY_NEED || r.need <= i || r.need > len)
			return 0;
	return 1;
}

static void
test_v1(void)
{
	const char *ok4 = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
	const char *ok6 = "PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n";
	char max[PROXY_V1_MAX + 2];

	CHECK(v1(ok4) == (int)strlen(ok4));
	CHECK(r.version == 1 && r.kind == PROXY_INET && r.sport == 56324 && r.dport == 443);
	CHECK(strcmp(peer(), "192.0.2.1") == 0);
	CHECK(prefixes_need_more((const unsigned char *)ok4, strlen(ok4)));
	CHECK(v1(ok6) == (int)strlen(ok6) && r.kind == PROXY_INET6 && r.sport == 65535);
	CHECK(strcmp(peer(), "2001:db8::1") == 0);
	CHECK(v1("PROXY TCP6 ::ffff:192.0.2.7 ::1 1 2\r\n") > 0 && strcmp(peer(), "192.0.2.7") == 0);
	CHECK(v1("PROXY UNKNOWN\r\n") == 15 && r.kind == PROXY_REAL);
	CHECK(strcmp(peer(), "real") == 0);
	CHECK(v1("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n") > 0 && r.kind == PROXY_REAL);
	/* The client's bytes after the header are not the header's. */
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n") == 32);

	CHECK(v1("") == PROXY_NEED);
	CHECK(v1("PROX") == PROXY_NEED);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r") == PROXY_NEED);
	CHECK(v1("GET / HTTP/1.1\r\n") == PROXY_INVALID);
	CHECK(v1("PROXYTCP4") == PROXY_INVALID);
	CHECK(v1("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX") == PROXY_INVALID);
	CHECK(v1("PROXY \r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY UNKNOWNX\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n") == PROXY_INVALID);
	CHECK(v1(" PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 0 2\r\n") > 0);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 100000 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 ::1 5.6.7.8 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP4 1.2.3.4 ::1 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP6 1.2.3.4 ::1 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP6 ::1 ::g 1 2\r\n") == PROXY_INVALID);
	CHECK(v1("PROXY TCP6 ::1 ::1%eth0 1 2\r\n") == PROXY_INVALID);

	/* 107 bytes at most, CRLF included. */
	memset(max, 0, sizeof(max));
	memcpy(max, "PROXY UNKNOWN ", 14);
	memset(max + 14, 'x', PROXY_V1_MAX - 16);
	memcpy(max + PROXY_V1_MAX - 2, "\r\n", 2);
	CHECK(parse(max, PROXY_V1_MAX) == PROXY_V1_MAX);
	max[PROXY_V1_MAX - 2] = 'x';
	memcpy(max + PROXY_V1_MAX - 1, "\r\n", 2);
	CHECK(parse(max, PROXY_V1_MAX + 1) == PROXY_INVALID);
	CHECK(parse(max, PROXY_V1_MAX - 1) == PROXY_INVALID);	/* no CR can come in time */
	CHECK(parse(max, PROXY_V1_MAX - 2) == PROXY_NEED);
}

static const unsigned char sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* A v2 header: command, family, then the block of blen bytes. */
static size_t
v2(unsigned char *h, unsigned cmd, unsigned fam, const void *block, size_t blen)
{
	memcpy(h, sig, 12);
	h[12] = (unsigned char)cmd;
	h[13] = (unsigned char)fam;
	h[14] = (unsigned char)(blen >> 8);
	h[15] = (unsigned char)blen;
	if (blen > 0)
		memcpy(h + 16, block, blen);
	return 16 + blen;
}

static void
test_v2(void)
{
	unsigned char h[2048], b[1200];
	size_t n;

	/* TCP over IPv4: 192.0.2.1:1234 -> 198.51.100.2:443. */
	memcpy(b, "\xc0\x00\x02\x01\xc6\x33\x64\x02\x04\xd2\x01\xbb", 12);
	n = v2(h, 0x21, 0x11, b, 12);
	CHECK(parse(h, n) == 28 && r.version == 2 && r.kind == PROXY_INET);
	CHECK(r.sport == 1234 && r.dport == 443 && strcmp(peer(), "192.0.2.1") == 0);
	CHECK(prefixes_need_more(h, n));
	/* with TLVs: a known type (ALPN) and an unknown one, skipped */
	memcpy(b + 12, "\x01\x00\x02h2\xee\x00\x00", 8);
	n = v2(h, 0x21, 0x11, b, 20);
	CHECK(parse(h, n) == 36 && r.kind == PROXY_INET);
	CHECK(prefixes_need_more(h, n));
	/* a TLV longer than what is left, or a cut TLV head */
	memcpy(b + 12, "\x01\x00\x03h2", 5);
	CHECK(parse(h, v2(h, 0x21, 0x11, b, 17)) == PROXY_INVALID);
	CHECK(parse(h, v2(h, 0x21, 0x11, b, 14)) == PROXY_INVALID);
	/* the address block shorter than the family needs */
	CHECK(parse(h, v2(h, 0x21, 0x11, b, 11)) == PROXY_INVALID);
	CHECK(parse(h, 16) == PROXY_INVALID);	/* known from the head alone */

	/* IPv6 */
	memset(b, 0, 36);
	b[0] = 0x20, b[1] = 0x01, b[2] = 0x0d, b[3] = 0xb8, b[15] = 1, b[31] = 2;
	b[32] = 0xff, b[33] = 0xff;
	n = v2(h, 0x21, 0x21, b, 36);
	CHECK(parse(h, n) == 52 && r.kind == PROXY_INET6 && r.sport == 65535);
	CHECK(strcmp(peer(), "2001:db8::1") == 0);
	CHECK(parse(h, v2(h, 0x21, 0x21, b, 35)) == PROXY_INVALID);
	CHECK(parse(h, v2(h, 0x21, 0x21, b, 12)) == PROXY_INVALID);

	/* UNIX */
	memset(b, 0, 216);
	memcpy(b, "/run/client.sock", 16);
	n = v2(h, 0x21, 0x31, b, 216);
	CHECK(parse(h, n) == 232 && r.kind == PROXY_UNIX);
	CHECK(strcmp(r.src_path, "/run/client.sock") == 0 && strcmp(peer(), "unix") == 0);
	memset(b, 'a', 108);	/* a full-length path, no NUL */
	CHECK(parse(h, v2(h, 0x21, 0x31, b, 216)) == 232 && strlen(r.src_path) == 108);
	CHECK(parse(h, v2(h, 0x21, 0x31, b, 215)) == PROXY_INVALID);

	/* LOCAL: the real peer, whatever the block holds */
	CHECK(parse(h, v2(h, 0x20, 0x00, NULL, 0)) == 16 && r.kind == PROXY_REAL);
	CHECK(strcmp(peer(), "real") == 0);
	CHECK(parse(h, v2(h, 0x20, 0x11, b, 12)) == 28 && r.kind == PROXY_REAL);
	CHECK(parse(h, v2(h, 0x20, 0xff, b, 5)) == 21 && r.kind == PROXY_REAL);
	/* PROXY with UNSPEC: the real peer too; TLVs still checked */
	CHECK(parse(h, v2(h, 0x21, 0x00, NULL, 0)) == 16 && r.kind == PROXY_REAL);
	CHECK(parse(h, v2(h, 0x21, 0x00, "\x04\x00\x01x", 4)) == 20);
	CHECK(parse(h, v2(h, 0x21, 0x00, "\x04\x00\x02x", 4)) == PROXY_INVALID);

	/* version, command, family and transport */
	memcpy(b, "\xc0\x00\x02\x01\xc6\x33\x64\x02\x04\xd2\x01\xbb", 12);
	CHECK(parse(h, v2(h, 0x11, 0x11, b, 12)) == PROXY_INVALID);	/* version 1 */
	CHECK(parse(h, v2(h, 0x31, 0x11, b, 12)) == PROXY_INVALID);	/* version 3 */
	CHECK(parse(h, v2(h, 0x22, 0x11, b, 12)) == PROXY_INVALID);	/* command 2 */
	CHECK(parse(h, v2(h, 0x21, 0x12, b, 12)) == PROXY_INVALID);	/* DGRAM */
	CHECK(parse(h, v2(h, 0x21, 0x10, b, 12)) == PROXY_INVALID);	/* no transport */
	CHECK(parse(h, v2(h, 0x21, 0x41, b, 12)) == PROXY_INVALID);	/* family 4 */
	CHECK(parse(h, v2(h, 0x21, 0x01, b, 12)) == PROXY_INVALID);	/* UNSPEC, STREAM */
	CHECK(parse(h, 13) == PROXY_NEED && r.need == 16);

	/* the signature, byte by byte */
	v2(h, 0x21, 0x11, b, 12);
	for (int i = 0; i < 12; i++) {
		h[i] ^= 0x40;
		CHECK(parse(h, 28) == PROXY_INVALID);
		CHECK(parse(h, (size_t)i + 1) == PROXY_INVALID);
		h[i] ^= 0x40;
	}

	/* the bound: PROXY_MAX bytes in all */
	memset(b, 0, sizeof(b));
	b[12] = 0xee;
	b[13] = (unsigned char)((PROXY_MAX - 16 - 15) >> 8);
	b[14] = (unsigned char)(PROXY_MAX - 16 - 15);
	CHECK(parse(h, v2(h, 0x21, 0x11, b, PROXY_MAX - 16)) == PROXY_MAX);
	b[14]++;
	CHECK(parse(h, v2(h, 0x21, 0x11, b, PROXY_MAX - 15)) == PROXY_INVALID);
	CHECK(parse(h, 16) == PROXY_INVALID);	/* known from the head alone */
}

/* What the builder writes, the parser reads back as it was. */
static void
test_round_trip(void)
{
	static const enum proxy_kind kinds[] = { PROXY_REAL, PROXY_INET, PROXY_INET6, PROXY_UNIX };
	unsigned char h[PROXY_MAX];

	for (unsigned version = 1; version <= 2; version++)
		for (unsigned k = 0; k < 4; k++) {
			struct proxy_result in;
			size_t n;
			memset(&in, 0, sizeof(in));
			in.version = version;
			in.kind = kinds[k];
			inet_pton(kinds[k] == PROXY_INET ? AF_INET : AF_INET6,
			    kinds[k] == PROXY_INET ? "203.0.113.9" : "2001:db8::9", in.src);
			inet_pton(kinds[k] == PROXY_INET ? AF_INET : AF_INET6,
			    kinds[k] == PROXY_INET ? "203.0.113.10" : "2001:db8::a", in.dst);
			in.sport = 40000;
			in.dport = 8443;
			snprintf(in.src_path, sizeof(in.src_path), "/run/lb.sock");
			n = proxy_build(&in, h, sizeof(h));
			if (version == 1 && kinds[k] == PROXY_UNIX) {
				CHECK(n == 0);
				continue;
			}
			CHECK(n > 0 && parse(h, n) == (int)n && r.kind == in.kind);
			if (in.kind == PROXY_INET || in.kind == PROXY_INET6)
				CHECK(memcmp(r.src, in.src, 16) == 0 && memcmp(r.dst, in.dst, 16) == 0 &&
				    r.sport == 40000 && r.dport == 8443);
			if (in.kind == PROXY_UNIX)
				CHECK(strcmp(r.src_path, "/run/lb.sock") == 0);
			CHECK(prefixes_need_more(h, n));
		}
}

int
main(void)
{
	test_v1();
	test_v2();
	test_round_trip();
	return unit_done("proxy");
}
