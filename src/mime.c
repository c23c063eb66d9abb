/*
 * mime: extension → Content-Type (see mime.h). Both tables are sorted once
 * and searched by bisection.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"

struct mime_entry {
	const char *ext;
	const char *type;
};

#define DEFAULT_TYPE "application/octet-stream"
#define MAX_EXT_LEN 32
/* Debian's /etc/mime.types is about 60 KiB with lines under 200 bytes: a
 * file far beyond that is not a type table. */
#define MIME_FILE_MAX (1 << 20)
#define MIME_LINE_MAX 1024

/* Sorted by extension (checked by the unit test). Text types name their
 * charset so browsers need not guess. */
static const struct mime_entry builtin[] = {
	{ "7z", "application/x-7z-compressed" },
	{ "aac", "audio/aac" },
	{ "apng", "image/apng" },
	{ "atom", "application/atom+xml" },
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "bz2", "application/x-bzip2" },
	{ "css", "text/css; charset=utf-8" },
	{ "csv", "text/csv; charset=utf-8" },
	{ "epub", "application/epub+zip" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "gz", "application/gzip" },
	{ "htm", "text/html; charset=utf-8" },
	{ "html", "text/html; charset=utf-8" },
	{ "ico", "image/vnd.microsoft.icon" },
	{ "ics", "text/calendar; charset=utf-8" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "jsonld", "application/ld+json" },
	{ "jxl", "image/jxl" },
	{ "m4a", "audio/mp4" },
	{ "m4v", "video/mp4" },
	{ "manifest", "application/manifest+json" },
	{ "map", "application/json" },
	{ "md", "text/markdown; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "mpeg", "video/mpeg" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "opus", "audio/ogg" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "rss", "application/rss+xml" },
	{ "svg", "image/svg+xml" },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "vtt", "text/vtt; charset=utf-8" },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" },
	{ "xml", "application/xml" },
	{ "xz", "application/x-xz" },
	{ "zip", "application/zip" },
	{ "zst", "application/zstd" },
};

static struct mime_entry *loaded;
static size_t nloaded;

/* Orders indices into loaded[] by extension, then by place in the file. */
static int
by_ext_then_line(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcasecmp(loaded[i].ext, loaded[j].ext);

	if (c != 0)
		return c;
	return (i > j) - (i < j);
}

static const struct mime_entry *
find(const struct mime_entry *table, size_t n, const char *ext)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(ext, table[mid].ext);
		if (c == 0)
			return &table[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const char *
mime_type(const char *name, size_t len)
{
	char ext[MAX_EXT_LEN + 1];
	const struct mime_entry *e;
	size_t i = len, elen;

	while (i > 0 && name[i - 1] != '.' && name[i - 1] != '/')
		i--;
	if (i == 0 || name[i - 1] != '.')
		return DEFAULT_TYPE;
	elen = len - i;
	if (elen == 0 || elen > MAX_EXT_LEN)
		return DEFAULT_TYPE;
	memcpy(ext, name + i, elen);
	ext[elen] = '\0';
	if (loaded != NULL && (e = find(loaded, nloaded, ext)) != NULL)
		return e->type;
	if ((e = find(builtin, sizeof(builtin) / sizeof(builtin[0]), ext)) != NULL)
		return e->type;
	return DEFAULT_TYPE;
}

static int
valid_type(const char *t)
{
	const char *slash = strchr(t, '/');
	if (slash == NULL || slash == t || slash[1] == '\0')
		return 0;
	for (; *t != '\0'; t++)
		if (!isgraph((unsigned char)*t))
			return 0;
	return 1;
}

static int
add(const char *type, const char *ext, size_t *cap)
{
	struct mime_entry *grown;

	if (nloaded == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		grown = realloc(loaded, *cap * sizeof(*loaded));
		if (grown == NULL)
			return -1;
		loaded = grown;
	}
	loaded[nloaded].type = strdup(type);
	loaded[nloaded].ext = strdup(ext);
	if (loaded[nloaded].type == NULL || loaded[nloaded].ext == NULL)
		return -1;
	nloaded++;
	return 0;
}

/* Sorts the loaded entries by extension for bisection and keeps the last
 * of each extension: later lines win, as in the file's usual reading.
 * Returns 0, or -1 when out of memory. */
static int
sort_and_drop_repeated(void)
{
	size_t *order, keep = 0;
	struct mime_entry *sorted;

	if (nloaded == 0)
		return 0;
	order = malloc(nloaded * sizeof(*order));
	sorted = malloc(nloaded * sizeof(*sorted));
	if (order == NULL || sorted == NULL) {
		free(order);
		free(sorted);
		return -1;
	}
	for (size_t i = 0; i < nloaded; i++)
		order[i] = i;
	qsort(order, nloaded, sizeof(*order), by_ext_then_line);
	for (size_t i = 0; i < nloaded; i++) {
		const struct mime_entry *e = &loaded[order[i]];
		if (i + 1 < nloaded && strcasecmp(e->ext, loaded[order[i + 1]].ext) == 0) {
			free((char *)e->ext);
			free((char *)e->type);
			continue;
		}
		sorted[keep++] = *e;
	}
	free(order);
	free(loaded);
	loaded = sorted;
	nloaded = keep;
	return 0;
}

/* Reads the whole file, refusing anything that could block startup or
 * hold it for long: a FIFO, a device (/dev/zero), a directory, or a file
 * over MIME_FILE_MAX. Returns the bytes (NUL-terminated, to be freed) or
 * NULL with a message in why. */
static char *
read_table(const char *path, size_t *len, char *why, size_t whysize)
{
	struct stat st;
	char *text;
	size_t got = 0;
	int fd;

	/* O_NONBLOCK: opening a FIFO with no writer must not wait for one. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) == -1) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (st.st_size > MIME_FILE_MAX) {
		snprintf(why, whysize, "%s: larger than %d bytes", path, MIME_FILE_MAX);
		close(fd);
		return NULL;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(why, whysize, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	/* The size may change while we read: take what fits, never more. */
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whysize, "%s: %s", path, strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	text[got] = '\0';
	*len = got;
	return text;
}

/* One line's "type ext ext ..." (comment already cut). Returns 0, -1 for
 * a bad line, -2 when out of memory. */
static int
parse_line(char *line, size_t *cap)
{
	char *save, *type, *ext;

	if ((type = strtok_r(line, " \t", &save)) == NULL)
		return 0;
	if (!valid_type(type))
		return -1;
	while ((ext = strtok_r(NULL, " \t", &save)) != NULL) {
		if (strlen(ext) > MAX_EXT_LEN || strchr(ext, '/') != NULL)
			continue;
		if (add(type, ext, cap) == -1)
			return -2;
	}
	return 0;
}

int
mime_load(const char *path, char *why, size_t whysize)
{
	size_t cap = 0, len, off = 0;
	unsigned lineno = 0;
	char *text;

	if ((text = read_table(path, &len, why, whysize)) == NULL)
		return -1;
	while (off < len) {
		char *line = text + off, *nl = memchr(line, '\n', len - off);
		size_t linelen = nl != NULL ? (size_t)(nl - line) : len - off;
		int r;

		lineno++;
		off += linelen + 1;
		/* Errors name the line, never its content: the operator may have
		 * pointed this at a file that is not theirs to print. */
		if (linelen > MIME_LINE_MAX) {
			snprintf(why, whysize, "%s: line %u is longer than %d bytes",
			    path, lineno, MIME_LINE_MAX);
			goto fail;
		}
		if (memchr(line, '\0', linelen) != NULL) {
			snprintf(why, whysize, "%s: line %u holds a NUL byte", path, lineno);
			goto fail;
		}
		line[linelen] = '\0';
		line[strcspn(line, "#\r")] = '\0';
		if ((r = parse_line(line, &cap)) == -1) {
			snprintf(why, whysize, "%s: line %u: not \"type/subtype ext ...\"",
			    path, lineno);
			goto fail;
		}
		if (r == -2) {
			snprintf(why, whysize, "%s: out of memory", path);
			goto fail;
		}
	}
	free(text);
	if (sort_and_drop_repeated() == -1) {
		snprintf(why, whysize, "%s: out of memory", path);
		return -1;
	}
	return 0;
fail:
	free(text);
	return -1;
}
