/*
 * http2: HTTP/2 streams over the connection core, framed by nghttp2 (see
 * http2.h). nghttp2 does the framing, HPACK, flow control and the checks
 * of RFC 9113 §8 (uppercase or connection-specific fields, pseudo-fields
 * missing, repeated or late: a stream error); this file maps a header
 * block to a struct request, a struct response to HEADERS and DATA, and
 * keeps the connection's costs bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "connstate.h"
#include "filecache.h"
#include "http2.h"
#include "limits.h"
#include "request.h"
#include "respond.h"

/* Frames that ask for no response are allowed this many, plus
 * CHATTER_PER_STREAM per answer delivered (an error answer earns nothing:
 * refused requests are no way to buy more) and one per CHATTER_BYTES of
 * body sent (a client acknowledges what it reads with WINDOW_UPDATE, on
 * the stream and the connection, as often as every frame). */
#define CHATTER_BASE 1000
#define CHATTER_PER_STREAM 16
#define CHATTER_BYTES 512

/* Bytes a connection may send: INPUT_BASE, plus INPUT_PER_STREAM per
 * request answered, plus one per INPUT_PER_SENT bytes of body sent (26
 * bytes of WINDOW_UPDATE as often as every 512 bytes read). Frames nghttp2
 * drops without a word (unknown types, PRIORITY once RFC 7540 priorities
 * are off) are counted here. */
#define INPUT_BASE (1024 * 1024)
#define INPUT_PER_STREAM (16 * 1024)
#define INPUT_PER_SENT 16

/* Request body bytes a connection may send (and have thrown away). */
#define DISCARD_MAX (256 * 1024)

/* Output frames are written while the buffer has this much room: enough
 * for any HEADERS frame hermit makes; DATA from memory fits what is left. */
#define ROOM_MIN (RESPONSE_HEAD_MAX + 256)

/* Response fields at most: hermit's own (about 15) and the _headers
 * rules' distinct names. */
#define FIELDS_MAX (RULES_HEADER_NAMES_MAX + 32)

struct stream {
	struct stream *prev, *next;	/* the connection's streams, to free them all */
	int fd;			/* -1, or the body's file (the stream's own descriptor) */
	uint64_t off, end;
	char *mem;		/* or a small body */
	size_t mem_off, mem_len;
	unsigned char no_body;	/* GET or HEAD: request DATA is a stream error */
	unsigned char answered;
	unsigned char earns;	/* a successful answer: its delivery earns allowance */
};

/* The header block being received: values are copied into hbuf, as
 * nghttp2 lends them only for the callback. */
struct block {
	int32_t id;
	int status;		/* 0, or the error answer the request gets (400, 431) */
	size_t used;		/* bytes of hbuf */
	size_t size;		/* decoded size, as SETTINGS_MAX_HEADER_LIST_SIZE counts */
	struct slice method, path, authority;
	int started;		/* request_set_method/target done */
	struct request req;
};

struct http2 {
	nghttp2_session *s;
	struct conn_ctx *ctx;	/* for the callbacks, set on each call in */
	struct conn *c;
	char *hbuf;		/* max_header_bytes, while a block is open */
	struct block b;
	const uint8_t *pend;	/* output nghttp2 made that did not fit yet */
	size_t pend_len;
	struct stream *streams;
	char *ahead;		/* NULL, or H2_READ_AHEAD_BYTES of a file: */
	const struct stream *ahead_st;	/* this stream's bytes */
	uint64_t ahead_off, ahead_end;	/* [ahead_off, ahead_end) */
	unsigned ahead_wasted;	/* reloads that dropped unsent bytes */
	unsigned bodies;	/* streams whose body is not all sent */
	unsigned progress;	/* output since the last wait */
	uint64_t chatter, allowance;
	uint64_t input, input_allowance;
	uint64_t discarded;
	int goaway;		/* a graceful GOAWAY went out: no new streams */
	int ended;		/* GOAWAY with an error: nothing more is read */
};

static void
calm_down(struct http2 *h)
{
	if (!h->ended) {
		h->ended = h->goaway = 1;
		nghttp2_session_terminate_session(h->s, NGHTTP2_ENHANCE_YOUR_CALM);
	}
}

static void
chatter(struct http2 *h, unsigned cost)
{
	h->chatter += cost;
	if (h->chatter > h->allowance)
		calm_down(h);
}

static int
on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct http2 *h = user;

	(void)s;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;	/* trailers: the answer has gone already */
	if (h->hbuf == NULL && (h->hbuf = conn_in_get(h->ctx)) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memset(&h->b, 0, sizeof(h->b));
	h->b.id = f->hd.stream_id;
	request_begin(&h->b.req);
	return 0;
}

/* Copies v into the block's buffer; NULL when it is full. */
static const char *
keep(struct http2 *h, const uint8_t *v, size_t len)
{
	char *p;

	if (len > h->ctx->cfg->max_header_bytes - h->b.used)
		return NULL;
	p = h->hbuf + h->b.used;
	memcpy(p, v, len);
	h->b.used += len;
	return p;
}

/* The pseudo-fields are all in (they come first): method, then target. */
static void
start_request(struct http2 *h)
{
	struct block *b = &h->b;
	int r;

	b->started = 1;
	if (b->status != 0)
		return;
	r = request_set_method(&b->req, b->method.p, b->method.len);
	if (r == 0 && b->path.p != NULL)
		r = request_set_target(&b->req, b->path.p, b->path.len);
	if (r == 0 && b->authority.p != NULL)
		b->req.host = b->authority;
	if (r < 0)
		b->status = -r;
}

static int
on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nlen,
    const uint8_t *value, size_t vlen, uint8_t flags, void *user)
{
	struct http2 *h = user;
	struct block *b = &h->b;
	const char *v;
	int r;

	(void)s;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST ||
	    f->hd.stream_id != b->id)
		return 0;
	b->size += nlen + vlen + 32;	/* RFC 9113 §6.5.2 */
	if (b->status != 0)
		return 0;
	if (b->size > h->ctx->cfg->max_header_bytes ||
	    b->req.nfields >= h->ctx->cfg->max_header_fields ||
	    (v = keep(h, value, vlen)) == NULL) {
		b->status = 431;
		chatter(h, 8);	/* HPACK bombs cost the sender, not just us */
		return 0;
	}
	if (nlen > 0 && name[0] == ':') {
		struct slice *to = NULL;
		if (nlen == 7 && memcmp(name, ":method", 7) == 0)
			to = &b->method;
		else if (nlen == 5 && memcmp(name, ":path", 5) == 0)
			to = &b->path;
		else if (nlen == 10 && memcmp(name, ":authority", 10) == 0)
			to = &b->authority;
		if (to != NULL) {
			to->p = v;
			to->len = vlen;
		}
		return 0;
	}
	if (!b->started)
		start_request(h);
	if (b->status == 0 &&
	    (r = request_add_field(&b->req, (const char *)name, nlen, v, vlen)) < 0)
		b->status = -r;
	return 0;
}

/* "GET /path HTTP/2.0" for the access log, bounded as HTTP/1.1's is. */
static size_t
log_line(const struct block *b, char *out, size_t size)
{
	size_t n = 0, m = b->method.len, p = b->path.len;

	if (m > 32)
		m = 32;
	if (p > size - m - 16)
		p = size - m - 16;
	memcpy(out, b->method.p, m);
	n = m;
	out[n++] = ' ';
	memcpy(out + n, b->path.p, p);
	n += p;
	memcpy(out + n, " HTTP/2.0", 9);
	return n + 9;
}

static ssize_t
read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
    nghttp2_data_source *src, void *user)
{
	struct stream *st = src->ptr;
	size_t n;

	(void)s;
	(void)id;
	(void)user;
	if (st->mem != NULL) {
		n = st->mem_len - st->mem_off;
		if (n > length)
			n = length;
		memcpy(buf, st->mem + st->mem_off, n);
		st->mem_off += n;
		if (st->mem_off == st->mem_len)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		return (ssize_t)n;
	}
	/* The payload leaves later, from the file (send_data below). */
	n = st->end - st->off < length ? (size_t)(st->end - st->off) : length;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (n == st->end - st->off)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

/* A DATA frame's length: from memory, what the output buffer still holds
 * (its header included); from a file, as much as the peer allows. */
static ssize_t
data_length(nghttp2_session *s, uint8_t type, int32_t id, int32_t session_window,
    int32_t stream_window, uint32_t max_frame, void *user)
{
	struct http2 *h = user;
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);
	int32_t n = session_window < stream_window ? session_window : stream_window;
	size_t room = H2_OUT_BUFFER_BYTES - h->c->out_len;

	(void)type;
	if ((uint32_t)n > max_frame)
		n = (int32_t)max_frame;
	if (st != NULL && st->mem != NULL && room > 9 && (size_t)n > room - 9)
		n = (int32_t)(room - 9);
	return n > 0 ? n : 1;
}

static void
drop_ahead(struct http2 *h)
{
	free(h->ahead);
	h->ahead = NULL;
	h->ahead_st = NULL;
}

/* The next length bytes of st's file into dst: from the read-ahead when it
 * has them, else read, with the frames after this one when more follow.
 * -1 when the file no longer has them. */
static int
read_payload(struct http2 *h, const struct stream *st, char *dst, size_t length)
{
	uint64_t left = st->end - st->off, n;

	if (h->ahead_st == st && st->off >= h->ahead_off && st->off + length <= h->ahead_end) {
		memcpy(dst, h->ahead + (st->off - h->ahead_off), length);
		return 0;
	}
	if (h->ahead_st != NULL && h->ahead_st != st && h->ahead_st->off < h->ahead_end)
		h->ahead_wasted++;	/* another stream's bytes, not all sent */
	h->ahead_st = NULL;
	/* A last frame, or read-ahead does not pay here: the frame alone. */
	if (left <= length || h->ahead_wasted >= H2_READ_AHEAD_WASTE_MAX ||
	    (h->ahead == NULL && (h->ahead = malloc(H2_READ_AHEAD_BYTES)) == NULL)) {
		drop_ahead(h);
		return filecache_read(NULL, st->fd, dst, st->off, length, 0);
	}
	n = left < H2_READ_AHEAD_BYTES ? left : H2_READ_AHEAD_BYTES;
	if (length > n || filecache_read(NULL, st->fd, h->ahead, st->off, n, 0) == -1)
		return -1;
	h->ahead_st = st;
	h->ahead_off = st->off;
	h->ahead_end = st->off + n;
	memcpy(dst, h->ahead, length);
	return 0;
}

/* A file's DATA frame (nghttp2's no-copy path): its 9-byte header goes in
 * the output buffer, then its payload, read in after it when the buffer
 * has room (frames of several streams then leave in one write). A frame
 * that would fit an empty buffer waits for this one to be written; only a
 * frame larger than the whole buffer (which a client allowing large frames
 * gets) is sent from the file by the core once the buffer is out. */
static int
send_data(nghttp2_session *s, nghttp2_frame *f, const uint8_t *framehd, size_t length,
    nghttp2_data_source *src, void *user)
{
	struct http2 *h = user;
	struct conn *c = h->c;
	struct stream *st = src->ptr;
	size_t room = H2_OUT_BUFFER_BYTES - c->out_len;

	(void)s;
	if (room < 9 || c->file_fd >= 0 ||
	    (length > room - 9 && length <= H2_OUT_BUFFER_BYTES - 9 && c->out_len > 0))
		return NGHTTP2_ERR_WOULDBLOCK;
	if (f->data.padlen != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;	/* never asked for */
	memcpy(c->out + c->out_len, framehd, 9);
	c->out_len += 9;
	if (length <= room - 9) {
		/* A file that shrank cannot fill the length announced: the
		 * connection ends rather than send wrong bytes. */
		if (read_payload(h, st, c->out + c->out_len, length) == -1)
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		c->out_len += (unsigned)length;
		st->off += length;
		return 0;
	}
	if (length > 0) {
		c->file_fd = st->fd;
		c->file_off = st->off;
		c->file_end = st->off + length;
		c->file_borrowed = 1;
		st->off += length;
	}
	return NGHTTP2_ERR_PAUSE;
}

/* The response's head lines become name/value pairs, names lowercased in
 * place (HTTP/2 field names are lowercase, RFC 9113 §8.2.1). */
static size_t
fields(char *head, size_t len, nghttp2_nv *nv, size_t max)
{
	char *p = head, *end = head + len, *colon, *eol;
	size_t n = 0;

	while (p < end && n < max && (eol = memchr(p, '\r', (size_t)(end - p))) != NULL &&
	    eol != p) {
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL)
			return 0;
		for (char *q = p; q < colon; q++)
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q + 32);
		nv[n].name = (uint8_t *)p;
		nv[n].namelen = (size_t)(colon - p);
		colon++;
		while (colon < eol && *colon == ' ')
			colon++;
		nv[n].value = (uint8_t *)colon;
		nv[n].valuelen = (size_t)(eol - colon);
		nv[n].flags = NGHTTP2_NV_FLAG_NONE;
		n++;
		p = eol + 2;
	}
	return p >= end - 2 ? n : 0;
}

/* Submits the answer in out[0..n) (res describes it). Returns 0 or -1. */
static int
submit(struct http2 *h, int32_t id, struct stream *st, char *out, size_t n,
    struct response *res)
{
	nghttp2_nv nv[FIELDS_MAX + 1];
	nghttp2_data_provider body = { .source.ptr = st, .read_callback = read_body };
	char status[3] = { (char)('0' + res->status / 100), (char)('0' + res->status / 10 % 10),
	    (char)('0' + res->status % 10) };
	size_t nf;

	nv[0].name = (uint8_t *)":status";
	nv[0].namelen = 7;
	nv[0].value = (uint8_t *)status;
	nv[0].valuelen = 3;
	nv[0].flags = NGHTTP2_NV_FLAG_NONE;
	nf = fields(out, res->head_len, nv + 1, FIELDS_MAX);
	if (nf == 0)
		return -1;
	if (res->body_fd >= 0) {
		st->fd = res->body_fd;
		st->off = res->body_off;
		st->end = res->body_off + res->body_len;
	} else if (n > res->head_len) {
		st->mem_len = n - res->head_len;
		if ((st->mem = malloc(st->mem_len)) == NULL)
			return -1;
		memcpy(st->mem, out + res->head_len, st->mem_len);
	}
	if (st->fd >= 0 || st->mem != NULL)
		h->bodies++;
	return nghttp2_submit_response(h->s, id, nv, nf + 1,
	    st->fd >= 0 || st->mem != NULL ? &body : NULL) == 0 ? 0 : -1;
}

static void
stream_free(struct http2 *h, struct stream *st)
{
	struct conn *c = h->c;

	if (st->fd >= 0) {
		if (c->file_borrowed && c->file_fd == st->fd)
			c->file_borrowed = 0;	/* its frame is half out: the core finishes and closes */
		else
			close(st->fd);
		h->bodies--;
	} else if (st->mem != NULL)
		h->bodies--;
	if (h->ahead_st == st)
		drop_ahead(h);	/* nothing else reads it; a new stream may take this address */
	if (st->prev != NULL)
		st->prev->next = st->next;
	else
		h->streams = st->next;
	if (st->next != NULL)
		st->next->prev = st->prev;
	free(st->mem);
	free(st);
}

/* The block is complete: answer it. */
static int
answer(struct http2 *h)
{
	struct conn_ctx *ctx = h->ctx;
	struct conn *c = h->c;
	struct block *b = &h->b;
	struct respond_env env;
	struct response res;
	struct stream *st;
	char line[2048 + 64];
	char *scratch;
	size_t n, len;

	if (!b->started)
		start_request(h);
	if (b->status == 0 && (b->method.p == NULL || b->path.p == NULL))
		b->status = 400;	/* nghttp2 refuses these first; kept as a guard */
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	st->fd = -1;
	st->no_body = b->req.method == METHOD_GET || b->req.method == METHOD_HEAD;
	if (nghttp2_session_set_stream_user_data(h->s, b->id, st) != 0) {
		free(st);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	if ((st->next = h->streams) != NULL)
		st->next->prev = st;
	h->streams = st;
	/* The worker's pool lends a buffer for the head: a stream keeps only
	 * what is left to send. */
	if ((scratch = conn_scratch_get(ctx)) == NULL)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	conn_respond_env(ctx, c, &env);
	c->requests++;
	if (b->status != 0)
		n = respond_error(&env, b->status, 0, b->req.method == METHOD_HEAD, scratch,
		    OUT_BUFFER_BYTES, &res);
	else
		n = respond_request(&env, &b->req, scratch, OUT_BUFFER_BYTES, &res);
	if (b->method.p != NULL && b->path.p != NULL) {
		len = log_line(b, line, sizeof(line));
		conn_log(ctx, c, b->status == 0 ? &b->req : NULL, line, len, &res);
	} else
		conn_log(ctx, c, NULL, "- - HTTP/2.0", 12, &res);
	if (n == 0 || submit(h, b->id, st, scratch, n, &res) != 0) {
		if (res.body_fd >= 0 && st->fd != res.body_fd)
			close(res.body_fd);
		nghttp2_submit_rst_stream(h->s, NGHTTP2_FLAG_NONE, b->id, NGHTTP2_INTERNAL_ERROR);
	}
	conn_scratch_put(ctx, scratch);
	st->answered = 1;
	st->earns = res.status < 400;
	h->input_allowance += INPUT_PER_STREAM;
	if (c->requests >= ctx->cfg->max_requests && !h->goaway) {
		h->goaway = 1;
		nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE, b->id, NGHTTP2_NO_ERROR, NULL, 0);
	}
	return 0;
}

static int
on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct http2 *h = user;

	(void)s;
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST &&
	    f->hd.stream_id == h->b.id) {
		int r = answer(h);
		h->b.id = 0;
		conn_in_put(h->ctx, h->hbuf);
		h->hbuf = NULL;
		return r;
	}
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA)
		chatter(h, 1);	/* SETTINGS, PING, PRIORITY, WINDOW_UPDATE, RST_STREAM... */
	else if (f->hd.type == NGHTTP2_DATA && f->hd.length == 0 &&
	    !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		chatter(h, 1);	/* empty DATA */
	return 0;
}

static int
on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
    void *user)
{
	struct http2 *h = user;
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);

	(void)flags;
	(void)data;
	chatter(h, 1);
	h->discarded += len;
	if (h->discarded > DISCARD_MAX)
		calm_down(h);
	else if (st != NULL && st->no_body && len > 0)	/* a body with GET or HEAD */
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_PROTOCOL_ERROR);
	return 0;
}

static int
on_invalid_frame(nghttp2_session *s, const nghttp2_frame *f, int error, void *user)
{
	(void)s;
	(void)f;
	(void)error;
	chatter(user, 8);
	return 0;
}

static int
on_stream_close(nghttp2_session *s, int32_t id, uint32_t error, void *user)
{
	struct http2 *h = user;
	struct stream *st = nghttp2_session_get_stream_user_data(s, id);

	if (error != NGHTTP2_NO_ERROR && (st == NULL || !st->answered || st->fd >= 0 ||
	    st->mem != NULL))
		chatter(h, 1);	/* reset before its answer was out: the rapid reset pattern */
	if (st != NULL) {
		nghttp2_session_set_stream_user_data(s, id, NULL);
		stream_free(h, st);
	}
	if (id == h->b.id) {	/* reset in the middle of its block */
		h->b.id = 0;
		conn_in_put(h->ctx, h->hbuf);
		h->hbuf = NULL;
	}
	return 0;
}

static int
on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct http2 *h = user;
	struct stream *st;

	st = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if ((f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
	    (f->hd.flags & NGHTTP2_FLAG_END_STREAM) && st != NULL && st->earns) {
		/* An answer delivered. A request still sending its body is
		 * not reset (RFC 9113 §8.1 allows it, but curl then reports an
		 * error instead of the answer): its DATA is read and dropped,
		 * up to DISCARD_MAX a connection. */
		h->allowance += CHATTER_PER_STREAM;
	}
	if (f->hd.type != NGHTTP2_DATA)
		return 0;
	h->allowance += f->hd.length / CHATTER_BYTES;
	h->input_allowance += f->hd.length / INPUT_PER_SENT;
	if ((f->hd.flags & NGHTTP2_FLAG_END_STREAM) && st != NULL &&
	    (st->fd >= 0 || st->mem != NULL)) {
		/* All sent: the file goes back now, not at the stream's end. */
		if (st->fd >= 0 && !(h->c->file_borrowed && h->c->file_fd == st->fd))
			close(st->fd);
		else if (st->fd >= 0)
			h->c->file_borrowed = 0;	/* the core closes it once sent */
		st->fd = -1;
		free(st->mem);
		st->mem = NULL;
		h->bodies--;
	}
	return 0;
}

static nghttp2_session_callbacks *callbacks;
static nghttp2_option *options;

int
http2_init(void)
{
	if (nghttp2_session_callbacks_new(&callbacks) != 0)
		return -1;
	nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, on_invalid_frame);
	nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
	nghttp2_session_callbacks_set_send_data_callback(callbacks, send_data);
	nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks, data_length);
	if (nghttp2_option_new(&options) != 0)
		return -1;
	/* No closed streams kept for priorities: memory per connection. */
	nghttp2_option_set_no_closed_streams(options, 1);
	return 0;
}

int
http2_start(struct conn_ctx *ctx, struct conn *c)
{
	const struct config *cfg = ctx->cfg;
	struct http2 *h;
	nghttp2_settings_entry set[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->h2_max_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, cfg->max_header_bytes },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		/* Answers go in the order asked: no priority tree to keep. */
		{ NGHTTP2_SETTINGS_NO_RFC7540_PRIORITIES, 1 },
	};

	if (callbacks == NULL || (h = calloc(1, sizeof(*h))) == NULL)
		return -1;
	h->ctx = ctx;
	h->c = c;
	h->allowance = CHATTER_BASE;
	h->input_allowance = INPUT_BASE;
	if (nghttp2_session_server_new2(&h->s, callbacks, h, options) != 0) {
		free(h);
		return -1;
	}
	if (nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, set, sizeof(set) / sizeof(set[0])) != 0) {
		nghttp2_session_del(h->s);
		free(h);
		return -1;
	}
	c->h2 = h;
	return 0;
}

/* Appends nghttp2's output to the buffer; what does not fit waits. */
static void
append(struct conn *c, struct http2 *h, const uint8_t *p, size_t len)
{
	size_t room = H2_OUT_BUFFER_BYTES - c->out_len, n = len < room ? len : room;

	memcpy(c->out + c->out_len, p, n);
	c->out_len += (unsigned)n;
	h->pend = p + n;
	h->pend_len = len - n;
}

int
http2_process(struct conn_ctx *ctx, struct conn *c)
{
	struct http2 *h = c->h2;
	int produced = 0;
	unsigned out_before = c->out_len;

	h->ctx = ctx;
	if (conn_out_buffer(ctx, c) == NULL)
		return -1;
	if (h->pend_len > 0) {
		append(c, h, h->pend, h->pend_len);
		produced = 1;
		if (h->pend_len > 0)
			return 1;
	}
	if (c->in_off < c->in_len) {
		ssize_t n = 0;
		h->input += c->in_len - c->in_off;
		if (h->input > h->input_allowance)
			calm_down(h);	/* and what it sent is not even read */
		if (!h->ended)
			n = nghttp2_session_mem_recv(h->s, (const uint8_t *)c->in + c->in_off,
			    c->in_len - c->in_off);
		c->in_off = c->in_len = 0;
		if (n < 0) {
			/* Bad preface, a flood nghttp2 saw, or out of memory: say
			 * so if still possible, then close. */
			if (n == NGHTTP2_ERR_FLOODED)
				calm_down(h);
			else if (!h->ended) {
				h->ended = h->goaway = 1;
				nghttp2_session_terminate_session(h->s, NGHTTP2_PROTOCOL_ERROR);
			}
			c->close_after = 1;
			c->linger = 1;
		}
	}
	while (c->file_fd < 0 && H2_OUT_BUFFER_BYTES - c->out_len >= ROOM_MIN) {
		const uint8_t *p;
		ssize_t n = nghttp2_session_mem_send(h->s, &p);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		append(c, h, p, (size_t)n);
		produced = 1;
		if (h->pend_len > 0)
			break;
	}
	if (c->out_len > out_before || c->file_fd >= 0)
		produced = 1;	/* DATA written by send_data, or a range to send */
	if (produced)
		h->progress = 1;
	if (c->close_after)
		return produced ? 1 : -1;
	return produced;
}

int
http2_finished(const struct conn *c)
{
	const struct http2 *h = c->h2;

	return h->pend_len == 0 && !nghttp2_session_want_read(h->s) &&
	    !nghttp2_session_want_write(h->s);
}

void
http2_wait(struct conn_ctx *ctx, struct conn *c)
{
	struct http2 *h = c->h2;
	const struct config *cfg = ctx->cfg;

	if (h->bodies > 0) {
		/* A response waits for the client's window: progress restarts it. */
		if (c->timer != TIMER_SEND || h->progress)
			conn_timer(ctx, c, TIMER_SEND, cfg->send_timeout);
	} else if (h->b.id != 0 || c->requests == 0) {
		if (c->timer != TIMER_HEAD)
			conn_timer(ctx, c, TIMER_HEAD, cfg->header_timeout);
	} else if (c->timer != TIMER_IDLE)
		conn_timer(ctx, c, TIMER_IDLE, cfg->idle_timeout);
	h->progress = 0;
}

void
http2_stop(struct conn_ctx *ctx, struct conn *c)
{
	struct http2 *h = c->h2;

	(void)ctx;
	if (!h->goaway) {
		h->goaway = 1;
		nghttp2_submit_goaway(h->s, NGHTTP2_FLAG_NONE,
		    nghttp2_session_get_last_proc_stream_id(h->s), NGHTTP2_NO_ERROR, NULL, 0);
	}
}

void
http2_free(struct conn_ctx *ctx, struct conn *c)
{
	struct http2 *h = c->h2;

	h->ctx = ctx;
	nghttp2_session_del(h->s);	/* calls no callback: the streams are freed here */
	while (h->streams != NULL)
		stream_free(h, h->streams);
	drop_ahead(h);
	conn_in_put(ctx, h->hbuf);
	free(h);
	c->h2 = NULL;
}
