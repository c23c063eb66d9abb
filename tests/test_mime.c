/*
 * Unit tests for mime: the built-in table and a loaded mime.types file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"
#include "unit.h"

static int
type_is(const char *name, const char *want)
{
	return strcmp(mime_type(name, strlen(name)), want) == 0;
}

static void
test_builtin_types(void)
{
	CHECK(type_is("index.html", "text/html; charset=utf-8"));
	CHECK(type_is("a/b/style.css", "text/css; charset=utf-8"));
	CHECK(type_is("app.js", "text/javascript; charset=utf-8"));
	CHECK(type_is("mod.mjs", "text/javascript; charset=utf-8"));
	CHECK(type_is("data.json", "application/json"));
	CHECK(type_is("logo.svg", "image/svg+xml"));
	CHECK(type_is("x.wasm", "application/wasm"));
	CHECK(type_is("p.webp", "image/webp"));
	CHECK(type_is("p.avif", "image/avif"));
	CHECK(type_is("f.woff2", "font/woff2"));
	CHECK(type_is("v.mp4", "video/mp4"));
	CHECK(type_is("v.webm", "video/webm"));
	CHECK(type_is("d.pdf", "application/pdf"));
	CHECK(type_is("readme.txt", "text/plain; charset=utf-8"));
}

static void
test_lookup_is_case_insensitive(void)
{
	CHECK(type_is("INDEX.HTML", "text/html; charset=utf-8"));
	CHECK(type_is("photo.JPG", "image/jpeg"));
}

static void
test_unknown_and_missing_extensions(void)
{
	CHECK(type_is("README", "application/octet-stream"));
	CHECK(type_is("a.unknownext", "application/octet-stream"));
	CHECK(type_is("dir.html/file", "application/octet-stream"));
	CHECK(type_is("trailing.", "application/octet-stream"));
	CHECK(type_is("", "application/octet-stream"));
}

static void
test_loaded_file_adds_and_overrides(void)
{
	char path[] = "/tmp/hermit-mime-XXXXXX";
	char why[256];
	int fd = mkstemp(path);
	const char text[] = "# comment\n"
	    "text/x-custom\tcustom cst\n"
	    "application/x-override html\n"
	    "\n"
	    "text/plain  foo # trailing comment\n"
	    "text/x-first dup one\n"
	    "text/x-second DUP\n"
	    "text/x-third dup\n"
	    "text/x-one-again one\n";

	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	CHECK(mime_load(path, why, sizeof(why)) == 0);
	CHECK(type_is("a.custom", "text/x-custom"));
	CHECK(type_is("a.CST", "text/x-custom"));
	CHECK(type_is("a.html", "application/x-override"));
	CHECK(type_is("a.foo", "text/plain"));
	CHECK(type_is("a.css", "text/css; charset=utf-8"));
	/* an extension given again: the last line wins, whatever the case */
	CHECK(type_is("a.dup", "text/x-third"));
	CHECK(type_is("a.Dup", "text/x-third"));
	CHECK(type_is("a.one", "text/x-one-again"));
	unlink(path);
}

static void
test_bad_file_is_an_error(void)
{
	char why[256];
	char path[] = "/tmp/hermit-mime-XXXXXX";
	int fd = mkstemp(path);

	CHECK(mime_load("/nonexistent/mime.types", why, sizeof(why)) == -1);
	CHECK(strstr(why, "/nonexistent/mime.types") != NULL);
	CHECK(fd >= 0 && write(fd, "notatype ext\n", 13) == 13);
	close(fd);
	CHECK(mime_load(path, why, sizeof(why)) == -1);
	CHECK(strstr(why, "line 1") != NULL);
	unlink(path);
}

/* A file that is not the operator's to print must not leak into the error. */
static void
test_bad_line_is_named_not_quoted(void)
{
	char why[256];
	char path[] = "/tmp/hermit-mime-XXXXXX";
	const char text[] = "text/plain txt\nroot:$6$secrethash:19000:0:99999:7:::\n";
	int fd = mkstemp(path);

	CHECK(fd >= 0 && write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1);
	close(fd);
	CHECK(mime_load(path, why, sizeof(why)) == -1);
	CHECK(strstr(why, "line 2") != NULL);
	CHECK(strstr(why, "secret") == NULL && strstr(why, "root") == NULL);
	unlink(path);
}

/* Startup must never block on, or read without end from, what it is given. */
static void
test_only_bounded_regular_files(void)
{
	char why[256];
	char dir[] = "/tmp/hermit-mime-XXXXXX", fifo[64], big[64];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	CHECK(mime_load("/dev/zero", why, sizeof(why)) == -1);
	CHECK(strstr(why, "not a regular file") != NULL);
	CHECK(mime_load(dir, why, sizeof(why)) == -1);
	CHECK(strstr(why, "not a regular file") != NULL);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	alarm(5);	/* a regression would hang here: die instead */
	CHECK(mime_load(fifo, why, sizeof(why)) == -1);
	alarm(0);
	CHECK(strstr(why, "not a regular file") != NULL);
	snprintf(big, sizeof(big), "%s/big", dir);
	CHECK((f = fopen(big, "w")) != NULL);
	for (int i = 0; f != NULL && i < 20000; i++)
		fputs("text/plain aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", f);
	if (f != NULL)
		fclose(f);
	CHECK(mime_load(big, why, sizeof(why)) == -1);
	CHECK(strstr(why, "larger than") != NULL);
	CHECK((f = fopen(big, "w")) != NULL);
	if (f != NULL) {
		fputs("text/plain txt\ntext/plain ", f);
		for (int i = 0; i < 2000; i++)
			fputc('x', f);
		fputc('\n', f);
		fclose(f);
	}
	CHECK(mime_load(big, why, sizeof(why)) == -1);
	CHECK(strstr(why, "line 2 is longer") != NULL);
	unlink(fifo);
	unlink(big);
	rmdir(dir);
}

int
main(void)
{
	test_builtin_types();
	test_lookup_is_case_insensitive();
	test_unknown_and_missing_extensions();
	test_loaded_file_adds_and_overrides();
	test_bad_file_is_an_error();
	test_bad_line_is_named_not_quoted();
	test_only_bounded_regular_files();
	return unit_done("mime");
}
