/*
 * Unit tests for log: escaping of client text and the access line format.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "unit.h"

static void
test_escape_keeps_printable_ascii(void)
{
	char o[64];
	CHECK(log_escape(o, sizeof(o), "GET /a b", 8) == 8 && strcmp(o, "GET /a b") == 0);
}

static void
test_escape_hides_controls_quotes_and_non_ascii(void)
{
	char o[64];
	log_escape(o, sizeof(o), "a\nb\"c\\d\x7f\xff", 9);
	CHECK(strcmp(o, "a\\x0ab\\x22c\\x5cd\\x7f\\xff") == 0);
	log_escape(o, sizeof(o), "\r\n\0x", 4);
	CHECK(strcmp(o, "\\x0d\\x0a\\x00x") == 0);
}

static void
test_escape_never_overflows(void)
{
	char o[6];
	size_t n = log_escape(o, sizeof(o), "\n\n\n", 3);
	CHECK(n == 4 && strcmp(o, "\\x0a") == 0);
	n = log_escape(o, sizeof(o), "abcdefgh", 8);
	CHECK(n == 5 && strcmp(o, "abcde") == 0);
}

static void
test_access_line_is_combined_log_format(void)
{
	static struct logbuf lb;
	struct access_entry e;
	char path[] = "/tmp/hermit-log-XXXXXX";
	char got[1024];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	memset(&e, 0, sizeof(e));
	lb.date_second = -1;
	e.peer = "192.0.2.1";
	e.request_line.p = "GET /x\n HTTP/1.1";
	e.request_line.len = strlen(e.request_line.p);
	e.status = 200;
	e.body_bytes = 1234;
	e.user_agent.p = "curl\"x";
	e.user_agent.len = 6;
	e.when = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */
	dup2(fd, 2);
	log_access(&lb, &e);
	e.vhost.p = "example.com";
	e.vhost.len = 11;
	e.body_bytes = 0;
	log_access(&lb, &e);
	log_flush(&lb);
	dup2(saved, 2);
	n = pread(fd, got, sizeof(got) - 1, 0);
	got[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(got,
	    "192.0.2.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /x\\x0a HTTP/1.1\" 200 1234 \"-\" \"curl\\x22x\"\n"
	    "example.com 192.0.2.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /x\\x0a HTTP/1.1\" 200 - \"-\" \"curl\\x22x\"\n") == 0);
	close(fd);
	close(saved);
	unlink(path);
}

int
main(void)
{
	test_escape_keeps_printable_ascii();
	test_escape_hides_controls_quotes_and_non_ascii();
	test_escape_never_overflows();
	test_access_line_is_combined_log_format();
	return unit_done("log");
}
