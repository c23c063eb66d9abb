/*
 * Unit tests for resolve: path rewriting, Host mapping and opening beneath
 * the root by the publishing policy.
 */
#include <fcntl.h>
#include <errno.h>
#include <seccomp.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolve.h"
#include "unit.h"

static char out[RESOLVE_PATH_MAX];

static int
path(const char *p, int *slash)
{
	return resolve_path(p, strlen(p), out, sizeof(out), slash);
}

static int
path_is(const char *p, const char *want)
{
	int slash;
	int r = path(p, &slash);
	return r >= 0 && (size_t)r == strlen(want) && strcmp(out, want) == 0;
}

static void
test_plain_paths_map_to_relative_names(void)
{
	CHECK(path_is("/", ""));
	CHECK(path_is("/index.html", "index.html"));
	CHECK(path_is("/a/b/c.txt", "a/b/c.txt"));
}

static void
test_empty_segments_collapse(void)
{
	CHECK(path_is("//a///b", "a/b"));
	CHECK(path_is("/a/%2Fb", "a/b"));
}

static void
test_percent_decoding_happens_once(void)
{
	CHECK(path_is("/a%20b", "a b"));
	CHECK(path_is("/%252e%252e/x", "%2e%2e/x"));
	CHECK(path_is("/%41", "A"));
}

static void
test_dot_segments_are_refused(void)
{
	int slash;
	CHECK(path("/../etc/passwd", &slash) == -404);
	CHECK(path("/a/../../x", &slash) == -404);
	CHECK(path("/%2e%2e/x", &slash) == -404);
	CHECK(path("/%2E%2e/x", &slash) == -404);
	CHECK(path("/a/./b", &slash) == -404);
	CHECK(path("/.git/config", &slash) == -404);
	CHECK(path("/a/.htaccess", &slash) == -404);
	CHECK(path("/..;/x", &slash) == -404);
	CHECK(path("/a/%2f..%2fb", &slash) == -404);
}

static void
test_well_known_is_the_one_dot_directory(void)
{
	int slash;
	CHECK(path_is("/.well-known/acme-challenge/t", ".well-known/acme-challenge/t"));
	CHECK(path("/a/.well-known/x", &slash) == -404);
	CHECK(path("/.well-known/.x", &slash) == -404);
	CHECK(path("/.well-known/../x", &slash) == -404);
}

static void
test_bad_encodings_are_400(void)
{
	int slash;
	CHECK(path("/a%00b", &slash) == -400);
	CHECK(path("/a%zz", &slash) == -400);
	CHECK(path("/a%2", &slash) == -400);
	CHECK(path("/a%", &slash) == -400);
	CHECK(path("relative", &slash) == -400);
}

static void
test_backslashes_are_refused(void)
{
	int slash;
	CHECK(path("/a\\..\\b", &slash) == -404);
	CHECK(path("/a%5c..%5cb", &slash) == -404);
}

static void
test_trailing_slash_is_reported(void)
{
	int slash = 0;
	CHECK(path("/dir/", &slash) >= 0 && slash == 1);
	CHECK(path("/dir", &slash) >= 0 && slash == 0);
}

static void
test_overlong_paths_are_414(void)
{
	static char p[RESOLVE_PATH_MAX + 16];
	int slash;
	memset(p, 'a', sizeof(p) - 1);
	p[0] = '/';
	p[sizeof(p) - 1] = '\0';
	CHECK(path(p, &slash) == -414);
}

static int
host_is(const char *h, const char *want)
{
	char o[VHOST_MAX + 2];
	struct slice s = { h, h ? strlen(h) : 0 };
	int r = resolve_host(s, o, sizeof(o));
	return r >= 0 && strcmp(o, want) == 0;
}

static int
host_bad(const char *h)
{
	char o[VHOST_MAX + 2];
	struct slice s = { h, strlen(h) };
	return resolve_host(s, o, sizeof(o)) == -400;
}

static void
test_hosts_are_lowercased_without_port_or_trailing_dot(void)
{
	CHECK(host_is("Example.COM", "example.com"));
	CHECK(host_is("example.com:8080", "example.com"));
	CHECK(host_is("example.com.", "example.com"));
	CHECK(host_is("example.com.:80", "example.com"));
	CHECK(host_is("[::1]:8080", "[::1]"));
	CHECK(host_is("[2001:DB8::1]", "[2001:db8::1]"));
	CHECK(host_is("127.0.0.1:80", "127.0.0.1"));
}

static void
test_absent_host_is_the_default_site(void)
{
	CHECK(host_is(NULL, VHOST_DEFAULT));
	CHECK(host_is("", VHOST_DEFAULT));
}

static void
test_invalid_hosts_are_400(void)
{
	CHECK(host_bad(".."));
	CHECK(host_bad("../etc"));
	CHECK(host_bad("a/b"));
	CHECK(host_bad("a..b"));
	CHECK(host_bad(".a"));
	CHECK(host_bad("-a"));
	CHECK(host_bad("a-"));
	CHECK(host_bad("a_b"));
	CHECK(host_bad("a:b"));
	CHECK(host_bad("[::1"));
	CHECK(host_bad("[::1]x"));
	CHECK(host_bad("[]"));
	CHECK(host_bad("[::g]"));
	CHECK(host_bad("a b"));
	CHECK(host_bad("_default"));
}

/* In a child whose seccomp filter answers ENOSYS to openat2, as systemd's
 * RestrictSUIDSGID= does: the walk must give the same answers, except that
 * it follows no symlink. Exit status: the number of wrong answers. */
static void
test_walk_without_openat2(int root)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct stat st;
		int bad = 0, fd;
		scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
		if (f == NULL || seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS),
		    SCMP_SYS(openat2), 0) != 0 || seccomp_load(f) != 0)
			_exit(100);
		bad += resolve_available(root) != 1;
		fd = resolve_open(root, "pub", &st);
		bad += !(fd >= 0 && S_ISREG(st.st_mode));
		fd = resolve_open(root, "sub/f", &st);
		bad += !(fd >= 0 && S_ISREG(st.st_mode));
		fd = resolve_open(root, "sub", &st);
		bad += !(fd >= 0 && S_ISDIR(st.st_mode));
		fd = resolve_open(root, "", &st);
		bad += !(fd >= 0 && S_ISDIR(st.st_mode));
		bad += resolve_open(root, "in", &st) != -404;	/* no symlink at all */
		bad += resolve_open(root, "out", &st) != -404;
		bad += resolve_open(root, "up/etc/passwd", &st) != -404;
		bad += resolve_open(root, "private", &st) != -404;
		bad += resolve_open(root, "missing/x", &st) != -404;
		_exit(bad);
	}
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
}

static void
test_open_follows_the_publishing_policy(void)
{
	char dir[] = "/tmp/hermit-resolve-XXXXXX";
	char p[256];
	struct stat st;
	int root, fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0);
		return;
	}
	snprintf(p, sizeof(p), "%s/pub", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof(p), "%s/private", dir);
	close(open(p, O_CREAT | O_WRONLY, 0640));
	snprintf(p, sizeof(p), "%s/fifo", dir);
	mkfifo(p, 0644);
	snprintf(p, sizeof(p), "%s/out", dir);
	CHECK(symlink("/etc/passwd", p) == 0);
	snprintf(p, sizeof(p), "%s/up", dir);
	CHECK(symlink("../", p) == 0);
	snprintf(p, sizeof(p), "%s/in", dir);
	CHECK(symlink("pub", p) == 0);
	snprintf(p, sizeof(p), "%s/sub", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sub/f", dir);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	root = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(resolve_available(root) == 0);
	test_walk_without_openat2(root);

	fd = resolve_open(root, "pub", &st);
	CHECK(fd >= 0 && S_ISREG(st.st_mode));
	if (fd >= 0)
		close(fd);
	fd = resolve_open(root, "", &st);
	CHECK(fd >= 0 && S_ISDIR(st.st_mode));
	if (fd >= 0)
		close(fd);
	fd = resolve_open(root, "in", &st);	/* a symlink inside the root is fine */
	CHECK(fd >= 0 && S_ISREG(st.st_mode));
	if (fd >= 0)
		close(fd);
	CHECK(resolve_open(root, "private", &st) == -404);
	CHECK(resolve_open(root, "fifo", &st) == -404);
	CHECK(resolve_open(root, "out", &st) == -404);
	CHECK(resolve_open(root, "up/etc/passwd", &st) == -404);
	CHECK(resolve_open(root, "missing", &st) == -404);
	close(root);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	CHECK(system(p) == 0);
}

/* Without --vhosts only validity matters, and '_' is valid URI syntax;
 * a site name (with --vhosts) never has one. */
static void
test_host_validity_without_vhosts(void)
{
	static const char *const good[] = { "my_service", "web_1:8080", "example.com",
	    "127.0.0.1:80", "[::1]", "" };
	static const char *const bad[] = { "a/b", "exa mple", "..", "a..b", "-a", "[::1",
	    "a:80x" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct slice h = { good[i], strlen(good[i]) };
		CHECK(resolve_host_valid(h) == 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct slice h = { bad[i], strlen(bad[i]) };
		CHECK(resolve_host_valid(h) == -400);
	}
	CHECK(host_bad("my_service"));
}

int
main(void)
{
	test_plain_paths_map_to_relative_names();
	test_empty_segments_collapse();
	test_percent_decoding_happens_once();
	test_dot_segments_are_refused();
	test_well_known_is_the_one_dot_directory();
	test_bad_encodings_are_400();
	test_backslashes_are_refused();
	test_trailing_slash_is_reported();
	test_overlong_paths_are_414();
	test_hosts_are_lowercased_without_port_or_trailing_dot();
	test_absent_host_is_the_default_site();
	test_invalid_hosts_are_400();
	test_host_validity_without_vhosts();
	test_open_follows_the_publishing_policy();
	return unit_done("resolve");
}
