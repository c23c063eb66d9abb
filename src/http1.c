/*
 * http1: HTTP/1.x requests on a connection, pipelined (see http1.h).
 */
#include <string.h>
#include <unistd.h>

#include "connstate.h"
#include "http1.h"
#include "limits.h"
#include "request.h"
#include "respond.h"

/* The request line for the log: from the first non-CRLF byte to the end of
 * the line, bounded. */
static struct slice
request_line(const char *p, size_t len)
{
	struct slice s;
	size_t i = 0, j;

	while (i < len && (p[i] == '\r' || p[i] == '\n'))
		i++;
	j = i;
	while (j < len && j - i < 2048 && p[j] != '\r' && p[j] != '\n')
		j++;
	s.p = p + i;
	s.len = j - i;
	return s;
}

/* Answers every complete request head in the input, into the output
 * buffer. Returns 1 when it produced output, 0 when it needs more input,
 * -1 when the connection must close now. */
int
http1_process(struct conn_ctx *ctx, struct conn *c)
{
	const struct config *cfg = ctx->cfg;
	int produced = 0;
	struct respond_env env;

	while (c->in_off < c->in_len && !c->close_after && c->file_fd < 0 &&
	    OUT_BUFFER_BYTES - c->out_len >= RESPONSE_HEAD_MAX) {
		const char *p = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off, n;
		struct request req;
		struct response res;
		struct slice line;
		int r;

		conn_respond_env(ctx, c, &env);
		if (conn_out_buffer(ctx, c) == NULL)
			return -1;
		r = request_parse(p, avail, cfg->max_header_fields, &req);
		if (r == REQUEST_INCOMPLETE) {
			if (avail < cfg->max_header_bytes)
				break;	/* wait for more */
			r = -request_overflow_status(p, avail);
		}
		if (r < 0) {
			/* Even a refused HEAD gets no body (RFC 9110 §9.3.2). */
			n = respond_error(&env, -r, 1, request_is_head(p, avail),
			    c->out + c->out_len, OUT_BUFFER_BYTES - c->out_len, &res);
			line = request_line(p, avail);
			conn_log(ctx, c, NULL, line.p, line.len, &res);
			c->in_off = c->in_len;
			c->linger = 1;	/* the rest of what it sent is still coming */
		} else {
			c->requests++;
			n = respond_request(&env, &req, c->out + c->out_len,
			    OUT_BUFFER_BYTES - c->out_len, &res);
			line = request_line(p, (size_t)r);
			conn_log(ctx, c, &req, line.p, line.len, &res);
			c->in_off += (unsigned)r;
			if (req.body)	/* unread, and perhaps not even sent yet */
				c->linger = 1;
		}
		if (n == 0) {	/* cannot happen: RESPONSE_HEAD_MAX is reserved */
			if (res.body_fd >= 0)
				close(res.body_fd);
			return -1;
		}
		c->out_len += (unsigned)n;
		produced = 1;
		if (res.close) {
			c->close_after = 1;
			if (c->in_off < c->in_len)
				c->linger = 1;
			c->in_off = c->in_len;	/* nothing after it is answered */
		}
		if (res.body_fd >= 0) {
			c->file_fd = res.body_fd;
			c->file_off = res.body_off;
			c->file_end = res.body_off + res.body_len;
		}
	}
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
	if (!produced && c->eof && c->in_len > 0)
		return -1;	/* the client closed in the middle of a head */
	return produced;
}

