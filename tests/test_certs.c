/*
 * Unit tests for certs' pure parts: host names of certificate directories,
 * NAME+SUFFIX entries, SNI matching with one wildcard level, and when a
 * private key file is exposed.
 */
#include <stdlib.h>	/* before OpenSSL's headers reach src/limits.h */
#include <string.h>
#include <sys/stat.h>

#include "certs.h"
#include "unit.h"

static void
test_host_valid(void)
{
	char long_label[80], long_name[300];

	CHECK(certs_host_valid("example.com"));
	CHECK(certs_host_valid("a"));
	CHECK(certs_host_valid("xn--bcher-kva.example"));
	CHECK(certs_host_valid("Mixed.Case.Example"));
	CHECK(certs_host_valid("a-b.c-d.e"));
	CHECK(certs_host_valid("*.example.com"));
	CHECK(certs_host_valid("1.2.3.4"));		/* labels of digits are labels */
	CHECK(!certs_host_valid(""));
	CHECK(!certs_host_valid("*"));
	CHECK(!certs_host_valid("*.com"));		/* a wildcard over a whole TLD */
	CHECK(!certs_host_valid("*example.com"));
	CHECK(!certs_host_valid("a.*.example.com"));
	CHECK(!certs_host_valid("**.example.com"));
	CHECK(!certs_host_valid("a..b"));
	CHECK(!certs_host_valid(".a.b"));
	CHECK(!certs_host_valid("a.b."));		/* a directory never ends in a dot */
	CHECK(!certs_host_valid("-a.b"));
	CHECK(!certs_host_valid("a-.b"));
	CHECK(!certs_host_valid("a_b.c"));
	CHECK(!certs_host_valid("a b"));
	CHECK(!certs_host_valid("a/b"));
	CHECK(!certs_host_valid("a+b"));
	CHECK(!certs_host_valid("_default"));
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CHECK(!certs_host_valid(long_label));
	long_label[63] = '\0';
	CHECK(certs_host_valid(long_label));
	for (size_t i = 0; i < sizeof(long_name) - 1; i++)
		long_name[i] = i % 2 ? '.' : 'a';
	long_name[253] = '\0';
	CHECK(certs_host_valid(long_name));
	long_name[253] = 'a';
	long_name[254] = '\0';
	CHECK(!certs_host_valid(long_name));
}

static void
test_entry_host(void)
{
	char host[CERTS_HOST_MAX + 1];

	CHECK(certs_entry_host("example.com", host, sizeof(host)) == 0 &&
	    strcmp(host, "example.com") == 0);
	CHECK(certs_entry_host("Example.COM", host, sizeof(host)) == 0 &&
	    strcmp(host, "example.com") == 0);
	CHECK(certs_entry_host("example.com+rsa", host, sizeof(host)) == 0 &&
	    strcmp(host, "example.com") == 0);
	CHECK(certs_entry_host("example.com+rsa+2", host, sizeof(host)) == 0 &&
	    strcmp(host, "example.com") == 0);
	CHECK(certs_entry_host("*.example.com+ecdsa", host, sizeof(host)) == 0 &&
	    strcmp(host, "*.example.com") == 0);
	CHECK(certs_entry_host("_default", host, sizeof(host)) == 0 && host[0] == '\0');
	CHECK(certs_entry_host("_default+rsa", host, sizeof(host)) == 0 && host[0] == '\0');
	CHECK(certs_entry_host("example.com+", host, sizeof(host)) == -1);
	CHECK(certs_entry_host("+rsa", host, sizeof(host)) == -1);
	CHECK(certs_entry_host("_Default", host, sizeof(host)) == -1);
	CHECK(certs_entry_host("bad_name", host, sizeof(host)) == -1);
	CHECK(certs_entry_host("README", host, sizeof(host)) == 0);	/* a name; a file is skipped elsewhere */
	CHECK(certs_entry_host("example.com", host, 5) == -1);	/* does not fit */
}

static void
test_name_match(void)
{
	CHECK(certs_name_match("a.example", "a.example") == 2);
	CHECK(certs_name_match("a.example", "A.EXAMPLE") == 2);
	CHECK(certs_name_match("a.example", "a.example.") == 2);
	CHECK(certs_name_match("a.example", "a.example..") == 0);
	CHECK(certs_name_match("a.example", "b.example") == 0);
	CHECK(certs_name_match("a.example", "a.exampl") == 0);
	CHECK(certs_name_match("a.example", "a.examplex") == 0);
	CHECK(certs_name_match("a.example", "") == 0);
	CHECK(certs_name_match("a.example", ".") == 0);
	CHECK(certs_name_match("", "") == 0);			/* the default matches no name */
	CHECK(certs_name_match("", "a.example") == 0);
	CHECK(certs_name_match("*.example.com", "www.example.com") == 1);
	CHECK(certs_name_match("*.example.com", "WWW.Example.Com.") == 1);
	CHECK(certs_name_match("*.example.com", "example.com") == 0);
	CHECK(certs_name_match("*.example.com", "a.b.example.com") == 0);
	CHECK(certs_name_match("*.example.com", ".example.com") == 0);
	CHECK(certs_name_match("*.example.com", "www.example.co") == 0);
	CHECK(certs_name_match("*.example.com", "wwwexample.com") == 0);
	CHECK(certs_name_match("*.example.com", "*.example.com") == 2);
}

static void
test_key_exposed(void)
{
	CHECK(certs_key_exposed(S_IFREG | 0600, 0, 0) == NULL);
	CHECK(certs_key_exposed(S_IFREG | 0400, 1000, 1000) == NULL);
	CHECK(certs_key_exposed(S_IFREG | 0640, 0, 1000) == NULL);	/* group ssl-cert */
	CHECK(certs_key_exposed(S_IFREG | 0604, 0, 0) != NULL);
	CHECK(certs_key_exposed(S_IFREG | 0602, 0, 0) != NULL);
	CHECK(certs_key_exposed(S_IFREG | 0644, 1000, 1000) != NULL);
	CHECK(certs_key_exposed(S_IFREG | 0600, 1000, 0) != NULL);	/* another user's */
	CHECK(certs_key_exposed(S_IFREG | 0600, 1001, 1000) != NULL);
}

int
main(void)
{
	test_host_valid();
	test_entry_host();
	test_name_match();
	test_key_exposed();
	return unit_done("certs");
}
