/*
 * resolve: request path and Host → an open, publishable file under the root
 * (see resolve.h for the policy).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "resolve.h"

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends one decoded segment seg[0..len) to out, applying the dot rule. */
static int
add_segment(char *out, size_t size, size_t *o, const char *seg, size_t len)
{
	if (len == 0)
		return 0;	/* "//" collapses */
	if (seg[0] == '.' && !(*o == 0 && len == 11 && memcmp(seg, ".well-known", 11) == 0))
		return -404;
	if (*o + len + 2 > size)
		return -414;
	if (*o > 0)
		out[(*o)++] = '/';
	memcpy(out + *o, seg, len);
	*o += len;
	return 0;
}

int
resolve_path(const char *path, size_t len, char *out, size_t size, int *dir_slash)
{
	char seg[RESOLVE_PATH_MAX];
	size_t o = 0, sl = 0;
	int r;

	*dir_slash = len > 0 && path[len - 1] == '/';
	if (len == 0 || path[0] != '/')
		return -400;
	for (size_t i = 1; i <= len; i++) {
		char c;
		if (i == len || path[i] == '/') {
			if ((r = add_segment(out, size, &o, seg, sl)) < 0)
				return r;
			sl = 0;
			continue;
		}
		c = path[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -400;
			hi = hexval(path[i + 1]);
			lo = hexval(path[i + 2]);
			if (hi < 0 || lo < 0)
				return -400;
			c = (char)(hi << 4 | lo);
			i += 2;
			if (c == '\0')
				return -400;
			/* An encoded slash would let one segment hide another:
			 * it is a separator here as well, so dot rules see it. */
			if (c == '/') {
				if ((r = add_segment(out, size, &o, seg, sl)) < 0)
					return r;
				sl = 0;
				continue;
			}
		}
		if (c == '\0')	/* raw, not only %00: it would cut the name */
			return -400;
		if (c == '\\')
			return -404;
		if (sl + 1 >= sizeof(seg) || sl + 1 >= size)
			return -414;
		seg[sl++] = c;
	}
	out[o] = '\0';
	/* The site's rules are read by hermit, never served (see rules.h). */
	if ((o == 8 && memcmp(out, "_headers", 8) == 0) ||
	    (o == 10 && memcmp(out, "_redirects", 10) == 0))
		return -404;
	return (int)o;
}

/* Only digits may follow the colon of a port. */
static int
valid_port(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* "[v6]" or "[v6]:port" → "[v6]" lowercased. */
static int
bracketed_host(const char *h, size_t len, char *out, size_t size)
{
	size_t close = 1;

	while (close < len && h[close] != ']') {
		char c = h[close];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
			return -400;
		close++;
	}
	if (close == len || close == 1 || close + 2 > size)
		return -400;
	if (close + 1 < len && (h[close + 1] != ':' || !valid_port(h + close + 2, h + len)))
		return -400;
	for (size_t k = 0; k <= close; k++)
		out[k] = (h[k] >= 'A' && h[k] <= 'F') ? (char)(h[k] + 32) : h[k];
	out[close + 1] = '\0';
	return (int)close + 1;
}

/* underscore: accept '_' in labels (URI reg-name allows it, and container
 * names use it), for validation alone; a site name never has one, so that
 * no Host can select VHOST_DEFAULT. */
static int
host_name(struct slice host, char *out, size_t size, int underscore)
{
	size_t len = host.len, o = 0;
	const char *h = host.p;

	if (h == NULL || len == 0) {
		if (size <= sizeof(VHOST_DEFAULT))
			return -400;
		memcpy(out, VHOST_DEFAULT, sizeof(VHOST_DEFAULT));
		return (int)sizeof(VHOST_DEFAULT) - 1;
	}
	if (h[0] == '[')
		return bracketed_host(h, len, out, size);
	{	/* name[:port] */
		const char *colon = memchr(h, ':', len);
		if (colon != NULL) {
			if (!valid_port(colon + 1, h + len))
				return -400;
			len = (size_t)(colon - h);
		}
	}
	if (len > 0 && h[len - 1] == '.')
		len--;
	if (len == 0 || len > VHOST_MAX || len + 1 > size)
		return -400;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    (c == '_' && underscore)))
			return -400;
		/* Labels are non-empty and never start or end with '-'. */
		if (c == '.' && (i == 0 || h[i - 1] == '.' || h[i - 1] == '-'))
			return -400;
		if (c == '-' && (i == 0 || h[i - 1] == '.'))
			return -400;
		out[o++] = c;
	}
	if (out[o - 1] == '-' || out[o - 1] == '.')	/* "a-", "a.." */
		return -400;
	out[o] = '\0';
	/* The site's rules are read by hermit, never served (see rules.h). */
	if ((o == 8 && memcmp(out, "_headers", 8) == 0) ||
	    (o == 10 && memcmp(out, "_redirects", 10) == 0))
		return -404;
	return (int)o;
}

int
resolve_host(struct slice host, char *out, size_t size)
{
	return host_name(host, out, size, 0);
}

int
resolve_host_valid(struct slice host)
{
	char name[VHOST_MAX + 2];

	return host_name(host, name, sizeof(name), 1) < 0 ? -400 : 0;
}

#define CONTENT_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)

/* Set once at startup, before any worker exists: openat2 answered ENOSYS. */
static int walk_instead;

static int
open_beneath2(int rootfd, const char *rel)
{
	struct open_how how = {
		.flags = CONTENT_FLAGS,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	return (int)syscall(SYS_openat2, rootfd, rel[0] ? rel : ".", &how, sizeof(how));
}

/* Without openat2 (seccomp filters that answer ENOSYS to it, such as
 * systemd's RestrictSUIDSGID=, which DynamicUser= implies): one component at
 * a time, never following a symlink. rel is already rewritten, so no
 * component is "." or "..": this walk cannot leave the root either; it only
 * refuses symlinks that openat2 would have followed inside it. */
static int
open_walking(int rootfd, const char *rel)
{
	int dir = rootfd, fd;
	const char *p = rel, *slash;

	if (rel[0] == '\0')
		return openat(rootfd, ".", CONTENT_FLAGS | O_DIRECTORY);
	while ((slash = strchr(p, '/')) != NULL) {
		char name[RESOLVE_PATH_MAX];
		size_t len = (size_t)(slash - p);
		if (len == 0 || len >= sizeof(name)) {
			fd = -1;
			errno = ENOENT;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir != rootfd)
			close(dir);
		if (fd == -1)
			return -1;
		dir = fd;
		p = slash + 1;
	}
	fd = *p ? openat(dir, p, CONTENT_FLAGS | O_NOFOLLOW) : openat(dir, ".", CONTENT_FLAGS);
	if (dir != rootfd) {
		int saved = errno;
		close(dir);
		errno = saved;
	}
	return fd;
}

static int
open_beneath(int rootfd, const char *rel)
{
	return walk_instead ? open_walking(rootfd, rel) : open_beneath2(rootfd, rel);
}

int
resolve_open(int rootfd, const char *rel, struct stat *st)
{
	int fd = open_beneath(rootfd, rel);

	if (fd == -1)
		return (errno == EMFILE || errno == ENFILE || errno == ENOMEM) ? -503 : -404;
	if (fstat(fd, st) == -1) {
		close(fd);
		return -404;
	}
	if (S_ISDIR(st->st_mode))
		return fd;
	if (!S_ISREG(st->st_mode) || !(st->st_mode & S_IROTH)) {
		close(fd);
		return -404;
	}
	return fd;
}

int
resolve_available(int rootfd)
{
	int fd = open_beneath2(rootfd, "");

	if (fd == -1 && errno == ENOSYS) {
		walk_instead = 1;
		fd = open_walking(rootfd, "");
	}
	if (fd == -1)
		return -1;
	close(fd);
	return walk_instead;
}
