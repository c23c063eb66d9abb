/*
 * Unit tests for the escaping of names in directory listings
 * (src/listing.c): HTML text and URL path segments, hostile names first.
 */

#include "listing.h"
#include "unit.h"

static int
html_is(const char *name, size_t len, const char *want)
{
	char out[1024];
	size_t n = listing_html(name, len, out, sizeof(out));

	return n == strlen(want) && memcmp(out, want, n) == 0;
}

static int
url_is(const char *name, size_t len, const char *want)
{
	char out[1024];
	size_t n = listing_url(name, len, out, sizeof(out));

	return n == strlen(want) && memcmp(out, want, n) == 0;
}

#define HTML(lit, want) html_is((lit), sizeof(lit) - 1, (want))
#define URL(lit, want) url_is((lit), sizeof(lit) - 1, (want))

static void
test_html_markup_becomes_references(void)
{
	CHECK(HTML("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"));
	CHECK(HTML("a\"b'c&d", "a&quot;b&#39;c&amp;d"));
	CHECK(HTML("&amp;", "&amp;amp;"));
	CHECK(HTML("plain name.txt", "plain name.txt"));
}

static void
test_html_controls_and_invalid_utf8_are_replaced(void)
{
	CHECK(HTML("a\nb", "a\xef\xbf\xbd" "b"));
	CHECK(HTML("\r\t\x1b\x7f", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
	CHECK(HTML("\xff", "\xef\xbf\xbd"));
	CHECK(HTML("x\xc3", "x\xef\xbf\xbd"));			/* cut short */
	CHECK(HTML("\xc0\xbc", "\xef\xbf\xbd\xef\xbf\xbd"));	/* overlong '<' */
	CHECK(HTML("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));	/* surrogate */
	CHECK(HTML("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"));
	CHECK(HTML("\xc2\x85", "\xef\xbf\xbd"));		/* C1 NEL */
}

static void
test_html_valid_utf8_is_kept(void)
{
	CHECK(HTML("caf\xc3\xa9", "caf\xc3\xa9"));
	CHECK(HTML("\xe2\x82\xac", "\xe2\x82\xac"));
	CHECK(HTML("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"));
	CHECK(HTML("\xef\xbf\xbd", "\xef\xbf\xbd"));
}

static void
test_url_encodes_all_but_unreserved(void)
{
	CHECK(URL("aZ09-._~", "aZ09-._~"));
	CHECK(URL("a b", "a%20b"));
	CHECK(URL("100%", "100%25"));
	CHECK(URL("\"<>'&", "%22%3C%3E%27%26"));
	CHECK(URL("a/b?c#d", "a%2Fb%3Fc%23d"));
	CHECK(URL("x:y", "x%3Ay"));	/* never read as a scheme */
	CHECK(URL("\n\xff\x80", "%0A%FF%80"));
	CHECK(URL("caf\xc3\xa9", "caf%C3%A9"));
}

static void
test_lengths_and_bounds(void)
{
	char name[255], big[255 * 6], small[4];
	size_t n;

	memset(name, '"', sizeof(name));
	CHECK(listing_html(name, sizeof(name), big, sizeof(big)) == 255 * 6);
	CHECK(listing_url(name, sizeof(name), big, sizeof(big)) == 255 * 3);
	/* Too small: the length needed is still told, and nothing is written
	 * past the end. */
	memset(small, 'Z', sizeof(small));
	n = listing_html("<<", 2, small, 3);
	CHECK(n == 8);
	CHECK(small[3] == 'Z');
	n = listing_url("  ", 2, small, 2);
	CHECK(n == 6);
	CHECK(small[2] == 'Z' && small[3] == 'Z');
}

int
main(void)
{
	test_html_markup_becomes_references();
	test_html_controls_and_invalid_utf8_are_replaced();
	test_html_valid_utf8_is_kept();
	test_url_encodes_all_but_unreserved();
	test_lengths_and_bounds();
	return unit_done("test_listing");
}
