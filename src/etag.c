/*
 * etag: entity tags from file metadata and their comparison (RFC 9110
 * §8.8.3). See etag.h.
 *
 *   entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE
 *   etagc      = %x21 / %x23-7E / obs-text
 */
#include <stdint.h>
#include <string.h>

#include "etag.h"

/* Writes v in lowercase hex without leading zeros ("0" for zero). */
static char *
put_hex(char *p, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;

	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Also writes a NUL after the tag: at most 69 + 1 bytes. */
size_t
etag_format(const struct stat *st, char *out)
{
	char *p = out;

	*p++ = '"';
	p = put_hex(p, (uint64_t)st->st_size);
	*p++ = '-';
	p = put_hex(p, (uint64_t)st->st_mtim.tv_sec);
	*p++ = '-';
	p = put_hex(p, (uint64_t)st->st_mtim.tv_nsec);
	*p++ = '-';
	p = put_hex(p, (uint64_t)st->st_ino);
	*p++ = '"';
	*p = '\0';
	return (size_t)(p - out);
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/*
 * Parses one entity-tag at p: returns the end of it, or NULL for bad
 * syntax. *opaque is set to its quoted part, *weak to whether W/ came first.
 */
static const char *
entity_tag(const char *p, const char *end, const char **opaque, int *weak)
{
	*weak = 0;
	if (end - p >= 2 && p[0] == 'W' && p[1] == '/') {
		*weak = 1;
		p += 2;
	}
	if (p == end || *p != '"')
		return NULL;
	*opaque = p++;
	while (p < end && is_etagc((unsigned char)*p))
		p++;
	if (p == end || *p != '"')
		return NULL;
	return p + 1;
}

/* The opaque part of tag (without W/): weak comparison ignores the prefix. */
static void
strip_weak(const char **tag, size_t *taglen)
{
	if (*taglen >= 2 && (*tag)[0] == 'W' && (*tag)[1] == '/') {
		*tag += 2;
		*taglen -= 2;
	}
}

int
etag_list_match_weak(const char *list, size_t len, const char *tag, size_t taglen)
{
	const char *p = list, *end, *opaque, *next;
	int weak, match = 0;

	if (list == NULL)
		return 0;	/* no header */
	end = list + len;
	strip_weak(&tag, &taglen);
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	if (end - p == 1 && *p == '*')
		return 1;

	/* 1#entity-tag, with empty elements allowed: all of it must parse */
	for (;;) {
		while (p < end && (is_ows(*p) || *p == ','))
			p++;
		if (p == end)
			break;
		if ((next = entity_tag(p, end, &opaque, &weak)) == NULL)
			return 0;
		if ((size_t)(next - opaque) == taglen &&
		    memcmp(opaque, tag, taglen) == 0)
			match = 1;
		p = next;
		while (p < end && is_ows(*p))
			p++;
		if (p < end && *p != ',')
			return 0;
	}
	return match;
}

int
etag_match_strong(const char *value, size_t len, const char *tag, size_t taglen)
{
	const char *end, *opaque;
	int weak;

	if (value == NULL)
		return 0;	/* no header */
	end = value + len;
	while (value < end && is_ows(*value))
		value++;
	while (end > value && is_ows(end[-1]))
		end--;
	if (entity_tag(value, end, &opaque, &weak) != end || weak)
		return 0;
	if (taglen == 0 || tag[0] != '"')
		return 0;	/* a weak (or no) tag never matches strongly */
	return (size_t)(end - value) == taglen && memcmp(value, tag, taglen) == 0;
}
