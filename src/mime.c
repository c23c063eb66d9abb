/*
 * mime: extension → Content-Type (see mime.h). Both tables are sorted once
 * and searched by bisection.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime.h"

struct mime_entry {
	const char *ext;
	const char *type;
};

#define DEFAULT_TYPE "application/octet-stream"
#define MAX_EXT_LEN 32

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

int
mime_load(const char *path, char *why, size_t whysize)
{
	char line[4096];
	size_t cap = 0;
	unsigned lineno = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save, *type, *ext;
		lineno++;
		line[strcspn(line, "#\r\n")] = '\0';
		if ((type = strtok_r(line, " \t", &save)) == NULL)
			continue;
		if (!valid_type(type)) {
			snprintf(why, whysize, "%s:%u: bad type '%.64s'", path, lineno, type);
			fclose(f);
			return -1;
		}
		while ((ext = strtok_r(NULL, " \t", &save)) != NULL) {
			if (strlen(ext) > MAX_EXT_LEN || strchr(ext, '/') != NULL)
				continue;
			if (add(type, ext, &cap) == -1) {
				snprintf(why, whysize, "%s: out of memory", path);
				fclose(f);
				return -1;
			}
		}
	}
	fclose(f);
	if (sort_and_drop_repeated() == -1) {
		snprintf(why, whysize, "%s: out of memory", path);
		return -1;
	}
	return 0;
}
