/*
 * Regression tests for what fuzzing found (docs/SECURITY-TESTING.md): one
 * test per finding, named after it, with the input the fuzzer produced.
 * Each input is also kept in fuzz/corpus/ so `make fuzz-regress` replays it.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "transport.h"
#include "filecache.h"
#include "httpdate.h"
#include "limits.h"
#include "request.h"
#include "resolve.h"
#include "respond.h"
#include "unit.h"

/* fuzz/corpus/conn/regress-two-connections-head-timer: a second
 * connection's conn_open() emptied the header-deadline list, so the first
 * connection was never closed by its deadline (slowloris held its slot). */
static void
test_every_connection_closed_at_header_deadline(void)
{
	struct config cfg = {
		.rootfd = -1, .max_connections = 16, .max_header_bytes = 1024,
		.max_header_fields = 10, .max_requests = 10, .header_timeout = 2,
		.idle_timeout = 3, .send_timeout = 4, .grace = 1,
	};
	static struct conn_ctx ctx;	/* static: its file cache stays reachable */
	static atomic_uint open_conns;
	int epfd = epoll_create1(EPOLL_CLOEXEC), sv[3][2];

	CHECK(epfd >= 0);
	CHECK(conn_ctx_init(&ctx, &cfg, epfd, &open_conns) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv[i]) == 0);
		CHECK(conn_open(&ctx, &transport_plain, sv[i][0], sv[i][0], "test") != NULL);
	}
	CHECK(ctx.nconns == 3);
	ctx.now_ms += 1000;
	conn_expire(&ctx);
	CHECK(ctx.nconns == 3);	/* not before the deadline */
	ctx.now_ms += 1001;
	conn_expire(&ctx);
	CHECK(ctx.nconns == 0);	/* all three at it */
	CHECK(open_conns == 0);
	conn_close_all(&ctx);
	for (int i = 0; i < 3; i++)
		close(sv[i][1]);
	close(epfd);
}

/* fuzz/corpus/resolve_host/regress-two-trailing-dots: "localhost.." lost
 * one dot and was taken as the site "localhost.", a name with an empty
 * label (and another directory than "localhost"). */
static void
test_host_with_two_trailing_dots_400(void)
{
	char out[VHOST_MAX + 2];
	struct slice h = { "localhost..", 11 };

	CHECK(resolve_host(h, out, sizeof(out)) == -400);
	h.p = "a.b..:80";
	h.len = 8;
	CHECK(resolve_host(h, out, sizeof(out)) == -400);
	h.p = "localhost.";
	h.len = 10;
	CHECK(resolve_host(h, out, sizeof(out)) == 9 && strcmp(out, "localhost") == 0);
}

/* fuzz/corpus/resolve_path/regress-raw-nul: a raw NUL byte was copied into
 * the relative path, where it would cut the name openat2 sees ("%00" was
 * already refused; the parser refuses raw NUL, so only a caller other than
 * the parser could pass one). */
static void
test_raw_nul_in_path_400(void)
{
	char out[RESOLVE_PATH_MAX];
	int dir_slash;

	CHECK(resolve_path("/a\0b/x", 6, out, sizeof(out), &dir_slash) == -400);
	CHECK(resolve_path("/a%00b", 6, out, sizeof(out), &dir_slash) == -400);
}

/* fuzz/corpus/httpdate/regress-leap-second-9999: the leap second of the
 * last day hermit handles parsed to a time after 9999-12-31 23:59:59, which
 * httpdate_format() cannot write back. */
static void
test_leap_second_after_last_date(void)
{
	const char *d = "Fri, 31 Dec 9999 23:59:60 GMT";
	time_t t = 0;
	int r = httpdate_parse(d, strlen(d), &t);

	CHECK(r == -1 || (r == 0 && (int64_t)t <= INT64_C(253402300799)));
}

/* fuzz/corpus/conn/regress-invalid-vhost-in-log (found by valgrind and
 * MemorySanitizer): for an invalid Host under --vhosts, resolve_host() had
 * written part of the name into res->vhost without a NUL, and the access
 * log printed it with whatever followed on the stack (earlier requests'
 * Host values, pointers). */
static void
test_invalid_vhost_leaves_no_garbage_for_the_log(void)
{
	static const char *heads[] = {
		"GET / HTTP/1.1\r\nHost: ab_\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: good.example..x\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: [::1]junk\r\n\r\n",
	};
	struct config cfg = {
		.rootfd = -1, .vhosts = 1, .max_header_bytes = 8192,
		.max_header_fields = 100, .max_requests = 100,
	};
	static struct filecache *fc;	/* static: reachable, not leaked */
	static char out[OUT_BUFFER_BYTES];
	struct request req;
	struct response res;

	if (fc == NULL)
		fc = filecache_new();
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		CHECK(request_parse(heads[i], strlen(heads[i]), 100, &req) > 0);
		memset(res.vhost, 'x', sizeof(res.vhost));
		struct respond_env env = {
			.cfg = &cfg, .fc = fc, .date = "Sun, 06 Nov 1994 08:49:37 GMT",
			.keep_alive_ok = 1,
		};
		respond_request(&env, &req, out, sizeof(out), &res);
		CHECK(res.status == 400);
		CHECK(memchr(res.vhost, '\0', sizeof(res.vhost)) != NULL);
		CHECK(memchr(res.vhost, 'x', strnlen(res.vhost, sizeof(res.vhost))) == NULL);
	}
}

int
main(void)
{
	test_every_connection_closed_at_header_deadline();
	test_host_with_two_trailing_dots_400();
	test_raw_nul_in_path_400();
	test_leap_second_after_last_date();
	test_invalid_vhost_leaves_no_garbage_for_the_log();
	return unit_done("test_regress");
}
