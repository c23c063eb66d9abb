/*
 * Unit tests for the address rules of src/listen.c: parsing --listen
 * addresses, and which of them count as loopback (their listeners use
 * Reno congestion control).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "listen.h"
#include "unit.h"

static int
loopback(const char *addr)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (listen_parse_addr(addr, &ss, &len) == -1)
		return -1;
	return listen_is_loopback(&ss);
}

int
main(void)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };

	CHECK(loopback("127.0.0.1:80") == 1);
	CHECK(loopback("127.1.2.3:8080") == 1);
	CHECK(loopback("[::1]:80") == 1);
	CHECK(loopback("[::ffff:127.0.0.1]:80") == 1);
	CHECK(loopback("[::ffff:127.9.9.9]:80") == 1);

	CHECK(loopback("0.0.0.0:80") == 0);		/* every address: remote peers too */
	CHECK(loopback(":80") == 0);
	CHECK(loopback("[::]:80") == 0);
	CHECK(loopback("128.0.0.1:80") == 0);
	CHECK(loopback("126.255.255.255:80") == 0);
	CHECK(loopback("192.0.2.1:80") == 0);
	CHECK(loopback("[::2]:80") == 0);
	CHECK(loopback("[2001:db8::1]:80") == 0);
	CHECK(loopback("[::ffff:192.0.2.1]:80") == 0);
	CHECK(loopback("[::127.0.0.1]:80") == 0);	/* IPv4-compatible, not mapped */
	CHECK(listen_is_loopback(&ss) == 0);

	CHECK(loopback("localhost:80") == -1);		/* numeric addresses only */
	CHECK(loopback("127.0.0.1") == -1);
	CHECK(loopback("[::1]") == -1);
	return unit_done("test_listen");
}
