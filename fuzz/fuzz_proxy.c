/*
 * fuzz_proxy: proxy_parse() on arbitrary first bytes of a connection, and
 * proxy_build() on headers made from arbitrary fields.
 *
 * Invariants:
 * - the parser reads nothing past len (the input is an exact heap block);
 * - a header's length is at most len and PROXY_MAX (v1: PROXY_V1_MAX); its
 *   version is 1 or 2, its kind one of the four; a UNIX path is
 *   NUL-terminated; the peer it gives reads back with inet_pton;
 * - "need more" asks for more than len and at most PROXY_MAX;
 * - the header alone parses the same, and each of its proper prefixes asks
 *   for more without asking past the header;
 * - what parses, rebuilt in either version (v1 has no UNIX form), parses
 *   back to the same addresses and ports; so do headers built from
 *   arbitrary fields.
 */
#include <arpa/inet.h>
#include <string.h>

#include "fuzz.h"
#include "proxy.h"

static void
check_result(const struct proxy_result *r)
{
	char peer[64];
	unsigned char a[16];

	FUZZ_ASSERT(r->version == 1 || r->version == 2);
	FUZZ_ASSERT(r->kind == PROXY_REAL || r->kind == PROXY_INET || r->kind == PROXY_INET6 ||
	    r->kind == PROXY_UNIX);
	FUZZ_ASSERT(memchr(r->src_path, '\0', sizeof(r->src_path)) != NULL);
	proxy_format_peer(r, "real", peer, sizeof(peer));
	switch (r->kind) {
	case PROXY_REAL:
		FUZZ_ASSERT(strcmp(peer, "real") == 0);
		break;
	case PROXY_UNIX:
		FUZZ_ASSERT(strcmp(peer, "unix") == 0);
		break;
	default:
		FUZZ_ASSERT(inet_pton(AF_INET, peer, a) == 1 || inet_pton(AF_INET6, peer, a) == 1);
	}
}

static void
same(const struct proxy_result *a, const struct proxy_result *b)
{
	FUZZ_ASSERT(a->kind == b->kind);
	if (a->kind == PROXY_INET || a->kind == PROXY_INET6) {
		FUZZ_ASSERT(memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0);
		FUZZ_ASSERT(a->sport == b->sport && a->dport == b->dport);
	}
	if (a->kind == PROXY_UNIX)
		FUZZ_ASSERT(strcmp(a->src_path, b->src_path) == 0);
}

/* r, written in both versions, reads back as r. */
static void
round_trip(const struct proxy_result *r)
{
	unsigned char h[PROXY_MAX];
	struct proxy_result in = *r, back;

	for (unsigned v = 1; v <= 2; v++) {
		size_t n;
		int got;
		in.version = v;
		n = proxy_build(&in, h, sizeof(h));
		if (v == 1 && in.kind == PROXY_UNIX) {
			FUZZ_ASSERT(n == 0);
			continue;
		}
		FUZZ_ASSERT(n > 0);
		got = proxy_parse(h, n, &back);
		FUZZ_ASSERT(got == (int)n && back.version == v);
		same(&in, &back);
	}
}

/* Arbitrary fields: kind, addresses, ports, a path. */
static void
from_fields(const uint8_t *data, size_t size)
{
	struct proxy_result r;

	if (size < 1 + 32 + 4)
		return;
	memset(&r, 0, sizeof(r));
	r.kind = (enum proxy_kind)(data[0] % 4);
	memcpy(r.src, data + 1, r.kind == PROXY_INET ? 4 : 16);
	memcpy(r.dst, data + 17, r.kind == PROXY_INET ? 4 : 16);
	r.sport = (uint16_t)(data[33] << 8 | data[34]);
	r.dport = (uint16_t)(data[35] << 8 | data[36]);
	size -= 37;
	data += 37;
	for (size_t i = 0; i < size && i < PROXY_UNIX_PATH && data[i] != 0; i++)
		r.src_path[i] = (char)data[i];
	round_trip(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *buf = (unsigned char *)fuzz_dup(data, size);
	struct proxy_result r, again;
	int n = proxy_parse(buf, size, &r);

	if (n == PROXY_NEED)
		FUZZ_ASSERT(r.need > size && r.need <= PROXY_MAX);
	if (n > 0) {
		FUZZ_ASSERT((size_t)n <= size && n <= PROXY_MAX);
		FUZZ_ASSERT(r.version == 2 || n <= PROXY_V1_MAX);
		check_result(&r);
		free(buf);
		buf = (unsigned char *)fuzz_dup(data, (size_t)n);	/* the header alone */
		FUZZ_ASSERT(proxy_parse(buf, (size_t)n, &again) == n);
		same(&r, &again);
		for (int i = 0; i < n; i++)
			FUZZ_ASSERT(proxy_parse(buf, (size_t)i, &again) == PROXY_NEED &&
			    again.need > (size_t)i && again.need <= (size_t)n);
		round_trip(&r);
	}
	free(buf);
	from_fields(data, size);
	return 0;
}
