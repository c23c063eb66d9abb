/*
 * fuzz_h2: fuzz_conn (see there: the same content tree, script, peers and
 * invariants) with --h2c on: each peer first writes the HTTP/2 client
 * preface, then the script's bytes (its SETTINGS, HEADERS, DATA, PING,
 * RST_STREAM... and whatever else), so every connection is HTTP/2 from
 * its first byte, framed by libnghttp2 in http2.c. Bits 6-7 of byte 0 set
 * --h2-max-streams as well as --max-requests: 100, 1, 2 or 8.
 *
 * Invariants, beyond fuzz_conn's (no leak, counters, every connection
 * closed once every deadline has passed, no stray descriptor, the secret
 * in no byte written):
 * - after every step the heap has grown by at most 4 MiB per connection
 *   (about 150 KiB is what the seeds take: a session, its buffers, a
 *   small body held by each open stream);
 * and on what each peer received, instead of HTTP/1.1 responses:
 * - it is a sequence of well-formed frames (only the last may be cut
 *   short): known types the server may send (never PUSH_PROMISE or
 *   PRIORITY), the reserved bit clear, a length no larger than 16384 or
 *   what the client's SETTINGS_MAX_FRAME_SIZE allowed, the lengths and
 *   stream numbers RFC 9113 gives each type, CONTINUATION exactly after an
 *   unfinished header block of the same stream, no padding; the first
 *   frame is SETTINGS;
 * - every header block decodes (HPACK, with nghttp2's inflater): a
 *   response starts with a 3-digit :status, no field holds the secret;
 * - DATA comes only on a stream after its response's HEADERS and before
 *   the stream's END_STREAM, never more than its Content-Length, exactly
 *   as much when the stream ends; the payload of a 200 is the start of a
 *   file of the tree, that of a 206 the bytes its Content-Range names
 *   (every file of the tree is the same pattern from its first byte).
 */
#include <nghttp2/nghttp2.h>
#include <sanitizer/allocator_interface.h>

#define FUZZ_CONN_H2 1
#include "fuzz_conn.c"

#define H2_STREAMS_MAX 2048	/* responses followed per connection */

enum {
	F_DATA = 0, F_HEADERS = 1, F_PRIORITY = 2, F_RST_STREAM = 3, F_SETTINGS = 4,
	F_PUSH_PROMISE = 5, F_PING = 6, F_GOAWAY = 7, F_WINDOW_UPDATE = 8, F_CONTINUATION = 9
};
#define FL_END_STREAM 0x1
#define FL_ACK 0x1
#define FL_END_HEADERS 0x4
#define FL_PADDED 0x8
#define FL_PRIORITY 0x20

/* The heap may grow by this much per connection: its buffers, the
 * session, a small body held by each stream, what nghttp2 queued. */
#define H2_MEMORY_PER_CONN (4u << 20)

static size_t mem_base, mem_peak;

static void
h2_memory_start(void)
{
	mem_base = __sanitizer_get_current_allocated_bytes();
}

static void
h2_check_memory(unsigned npeers)
{
	size_t now = __sanitizer_get_current_allocated_bytes();

	if (now > mem_base && now - mem_base > mem_peak) {
		mem_peak = now - mem_base;
		if (getenv("H2_MEMORY_PEAK") != NULL)
			fprintf(stdout, "peak %zu peers %u\n", mem_peak, npeers);
	}
	FUZZ_ASSERT(now <= mem_base + npeers * H2_MEMORY_PER_CONN);
}

static void
h2_peer_wrote(struct peer *p, const uint8_t *data, size_t n)
{
	if (p->inlen + n > H2_IN_MAX) {
		p->in_overflow = 1;
		return;
	}
	memcpy(p->in + p->inlen, data, n);
	p->inlen += n;
}

static uint32_t
be24(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The largest frame and HPACK table the client's SETTINGS allowed (what
 * the server read of them: the peer's bytes after the preface). */
static void
client_settings(const struct peer *p, uint32_t *max_frame, uint32_t *table)
{
	const uint8_t *b = (const uint8_t *)p->in + HTTP2_PREFACE_LEN;
	size_t len = p->inlen - HTTP2_PREFACE_LEN;

	*max_frame = 16384;
	*table = 4096;
	if (p->in_overflow) {	/* not all seen: anything it might have said */
		*max_frame = 16777215;
		*table = UINT32_MAX;
		return;
	}
	while (len >= 9) {
		uint32_t flen = be24(b);
		if (flen > len - 9)
			break;
		if (b[3] == F_SETTINGS && !(b[4] & FL_ACK))
			for (uint32_t i = 0; i + 6 <= flen; i += 6) {
				unsigned id = (unsigned)b[9 + i] << 8 | b[10 + i];
				uint32_t v = be32(b + 11 + i);
				if (id == 5 && v > *max_frame && v <= 16777215)
					*max_frame = v;
				else if (id == 1 && v > *table)
					*table = v;
			}
		b += 9 + flen;
		len -= 9 + flen;
	}
}

/* A response as seen on one stream. */
struct h2_stream {
	uint32_t id;
	int status;
	int ended;		/* END_STREAM seen */
	int64_t length;		/* Content-Length, -1 when absent */
	uint64_t first;		/* where the body starts in its file */
	uint64_t got;		/* DATA payload bytes */
};

struct h2_check {
	struct h2_stream s[H2_STREAMS_MAX];
	unsigned n;
	int full;		/* more responses than followed: no body checks */
	nghttp2_hd_inflater *inf;
	uint8_t block[1 << 17];	/* a header block's fragments, joined */
	size_t block_len;
	uint32_t block_id;
};

static struct h2_check chk;

static struct h2_stream *
stream_of(uint32_t id)
{
	for (unsigned i = 0; i < chk.n; i++)
		if (chk.s[i].id == id)
			return &chk.s[i];
	return NULL;
}

static uint64_t
digits(const uint8_t *v, size_t len, size_t *used)
{
	uint64_t n = 0;
	size_t i = 0;

	while (i < len && i < 19 && v[i] >= '0' && v[i] <= '9')
		n = n * 10 + (uint64_t)(v[i++] - '0');
	*used = i;
	return n;
}

/* One decoded field of stream st's response (the n-th of its block). */
static void
h2_field(struct h2_stream *st, unsigned n, const nghttp2_nv *nv)
{
	size_t used;

	FUZZ_ASSERT(memmem(nv->value, nv->valuelen, SECRET, sizeof(SECRET) - 1) == NULL);
	FUZZ_ASSERT(memmem(nv->name, nv->namelen, SECRET, sizeof(SECRET) - 1) == NULL);
	if (n == 0) {
		FUZZ_ASSERT(nv->namelen == 7 && memcmp(nv->name, ":status", 7) == 0);
		FUZZ_ASSERT(nv->valuelen == 3);
		st->status = (int)digits(nv->value, 3, &used);
		FUZZ_ASSERT(used == 3 && st->status >= 100);
		return;
	}
	FUZZ_ASSERT(nv->namelen > 0 && nv->name[0] != ':');
	if (nv->namelen == 14 && memcmp(nv->name, "content-length", 14) == 0) {
		st->length = (int64_t)digits(nv->value, nv->valuelen, &used);
		FUZZ_ASSERT(used == nv->valuelen && used > 0);
	} else if (nv->namelen == 13 && memcmp(nv->name, "content-range", 13) == 0 &&
	    nv->valuelen > 6 && memcmp(nv->value, "bytes ", 6) == 0 && nv->value[6] != '*')
		st->first = digits(nv->value + 6, nv->valuelen - 6, &used);
}

/* A complete header block: decodes it (the inflater's table carries
 * over), and starts following its stream's response. */
static void
h2_block(uint32_t id, int end_stream)
{
	struct h2_stream tmp, *st = stream_of(id);
	const uint8_t *in = chk.block;
	size_t left = chk.block_len;
	unsigned n = 0;

	if (st != NULL)	/* trailers: hermit sends none */
		FUZZ_ASSERT(0);
	if (chk.n == H2_STREAMS_MAX) {
		chk.full = 1;
		st = &tmp;
	} else
		st = &chk.s[chk.n++];
	memset(st, 0, sizeof(*st));
	st->id = id;
	st->length = -1;
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t r = nghttp2_hd_inflate_hd2(chk.inf, &nv, &flags, in, left, 1);
		FUZZ_ASSERT(r >= 0);
		in += r;
		left -= (size_t)r;
		if (flags & NGHTTP2_HD_INFLATE_EMIT)
			h2_field(st, n++, &nv);
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(chk.inf);
			break;
		}
		FUZZ_ASSERT(r > 0 || (flags & NGHTTP2_HD_INFLATE_EMIT));
	}
	FUZZ_ASSERT(left == 0 && n > 0);
	st->ended = end_stream;
}

/* DATA payload on stream id: after its HEADERS, within its length, and
 * for a 200 or a 206 the file's bytes from where the range starts. */
static void
h2_data(uint32_t id, const uint8_t *b, size_t len, int end_stream)
{
	struct h2_stream *st = stream_of(id);

	if (st == NULL) {
		FUZZ_ASSERT(chk.full);
		return;
	}
	FUZZ_ASSERT(!st->ended);
	if (st->status == 200 || st->status == 206)
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT(b[i] == 'a' + (st->first + st->got + i) % 26);
	st->got += len;
	if (st->length >= 0) {
		FUZZ_ASSERT(st->got <= (uint64_t)st->length);
		if (end_stream)
			FUZZ_ASSERT(st->got == (uint64_t)st->length);
	}
	st->ended = end_stream;
}

/* What the server wrote to p: HTTP/2 frames (see the top of the file). */
static void
h2_check_output(const struct peer *p)
{
	const uint8_t *b = (const uint8_t *)p->out;
	size_t len = p->outlen;
	uint32_t max_frame, table, cont = 0;	/* cont: a block waits for CONTINUATION */
	int cont_end_stream = 0, first = 1;

	if (len == 0)
		return;
	client_settings(p, &max_frame, &table);
	if (nghttp2_hd_inflate_new(&chk.inf) != 0)
		abort();
	if (table > 4096 && nghttp2_hd_inflate_change_table_size(chk.inf,
	    table > 1u << 20 ? 1u << 20 : table) != 0)
		abort();
	chk.n = 0;
	chk.full = 0;
	while (len >= 9) {
		uint32_t flen = be24(b), id = be32(b + 5);
		unsigned type = b[3], flags = b[4];
		const uint8_t *pl = b + 9;

		FUZZ_ASSERT(flen <= max_frame);
		FUZZ_ASSERT(!(id & 0x80000000u));
		if (first) {
			FUZZ_ASSERT(type == F_SETTINGS && !(flags & FL_ACK));
			first = 0;
		}
		FUZZ_ASSERT(cont == 0 || (type == F_CONTINUATION && id == cont));
		switch (type) {
		case F_DATA:
		case F_HEADERS:
		case F_RST_STREAM:
		case F_CONTINUATION:
			FUZZ_ASSERT(id % 2 == 1);	/* client-initiated streams */
			break;
		case F_SETTINGS:
		case F_PING:
		case F_GOAWAY:
			FUZZ_ASSERT(id == 0);
			break;
		case F_WINDOW_UPDATE:
			break;
		default:	/* PRIORITY, PUSH_PROMISE, unknown: never sent */
			FUZZ_ASSERT(0);
		}
		FUZZ_ASSERT(type != F_SETTINGS || (flags & FL_ACK ? flen == 0 : flen % 6 == 0));
		FUZZ_ASSERT(type != F_PING || flen == 8);
		FUZZ_ASSERT(type != F_GOAWAY || flen >= 8);
		FUZZ_ASSERT((type != F_RST_STREAM && type != F_WINDOW_UPDATE) || flen == 4);
		FUZZ_ASSERT((type != F_DATA && type != F_HEADERS) ||
		    !(flags & (FL_PADDED | FL_PRIORITY)));
		if (flen > len - 9)
			break;	/* the last one, cut short */
		if (type == F_HEADERS || type == F_CONTINUATION) {
			if (type == F_HEADERS) {
				chk.block_len = 0;
				cont_end_stream = flags & FL_END_STREAM;
			}
			FUZZ_ASSERT(chk.block_len + flen <= sizeof(chk.block));
			memcpy(chk.block + chk.block_len, pl, flen);
			chk.block_len += flen;
			if (flags & FL_END_HEADERS) {
				h2_block(id, cont_end_stream);
				cont = 0;
			} else
				cont = id;
		} else if (type == F_DATA)
			h2_data(id, pl, flen, flags & FL_END_STREAM);
		else if (type == F_RST_STREAM) {
			struct h2_stream *st = stream_of(id);
			if (st != NULL)
				st->ended = 1;
		}
		b += 9 + flen;
		len -= 9 + flen;
	}
	nghttp2_hd_inflate_del(chk.inf);
	chk.inf = NULL;
}
