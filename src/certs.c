/*
 * certs: the certificate layout and its checks (see certs.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "log.h"

/* Entries read from a --certs directory before it is refused as too big:
 * more than its certificates (certbot keeps a README there). */
#define DIR_ENTRIES_MAX (4 * CERTS_MAX)

/* ------------------------------------------------------------ pure parts */

static int
label_ok(const char *p, size_t len)
{
	if (len == 0 || len > 63 || p[0] == '-' || p[len - 1] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

int
certs_host_valid(const char *name)
{
	size_t len = strlen(name);
	const char *p = name, *dot;

	if (len == 0 || len > CERTS_HOST_MAX)
		return 0;
	if (p[0] == '*') {
		/* One wildcard label, and at least two labels after it. */
		if (p[1] != '.' || strchr(p + 2, '.') == NULL)
			return 0;
		p += 2;
	}
	for (;;) {
		dot = strchr(p, '.');
		if (!label_ok(p, dot != NULL ? (size_t)(dot - p) : strlen(p)))
			return 0;
		if (dot == NULL)
			return 1;
		p = dot + 1;
	}
}

int
certs_entry_host(const char *entry, char *host, size_t size)
{
	const char *plus = strchr(entry, '+');
	size_t len = plus != NULL ? (size_t)(plus - entry) : strlen(entry);

	if (len >= size || (plus != NULL && plus[1] == '\0'))
		return -1;
	memcpy(host, entry, len);
	host[len] = '\0';
	if (strcmp(host, CERTS_DEFAULT) == 0) {
		host[0] = '\0';
		return 0;
	}
	if (!certs_host_valid(host))
		return -1;
	for (size_t i = 0; i < len; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	return 0;
}

const char *
certs_key_exposed(mode_t mode, uid_t owner, uid_t me)
{
	if (mode & (S_IROTH | S_IWOTH))
		return "readable or writable by others";
	if (owner != 0 && owner != me)
		return "owned by another user than root and hermit's own";
	return NULL;
}

int
certs_name_match(const char *host, const char *name)
{
	size_t len = strlen(name);
	const char *dot;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (host[0] == '\0' || len == 0)
		return 0;
	if (strlen(host) == len && strncasecmp(host, name, len) == 0)
		return 2;
	/* "*.example.com" and "www.example.com": the name less its first
	 * label is the wildcard's suffix. */
	if (host[0] != '*' || (dot = memchr(name, '.', len)) == NULL || dot == name)
		return 0;
	len -= (size_t)(dot - name);
	return strlen(host + 1) == len && strncasecmp(host + 1, dot, len) == 0 ? 1 : 0;
}

/* ------------------------------------------------------------ reading a chain */

static int
fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	ERR_clear_error();
	return -1;
}

/* The file's bytes, from a regular file of bounded size (never a FIFO a
 * read would wait on). NULL with why set. */
static BIO *
read_small(const char *label, const char *path, char *why, size_t size)
{
	const char *bad = NULL;
	struct stat st;
	char *buf;
	BIO *b;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) == -1) {
		fail(why, size, "%s %s: %s", label, path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		bad = "not a regular file";
	else if (st.st_size > CERTS_FILE_MAX)
		bad = "larger than 1 MiB";
	if (bad != NULL) {
		fail(why, size, "%s %s: %s", label, path, bad);
		close(fd);
		return NULL;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		fail(why, size, "%s %s: out of memory", label, path);
		return NULL;
	}
	while (got < (size_t)st.st_size &&
	    ((n = read(fd, buf + got, (size_t)st.st_size - got)) > 0 || (n == -1 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(fd);
	b = BIO_new(BIO_s_mem());
	if (b == NULL || BIO_write(b, buf, (int)got) != (int)got) {
		BIO_free(b);
		b = NULL;
		fail(why, size, "%s %s: out of memory", label, path);
	}
	free(buf);
	return b;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

/* "Jan  2 03:04:05 2030 GMT": when a certificate starts or stops being valid. */
static void
time_text(const ASN1_TIME *t, char *out, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b != NULL && ASN1_TIME_print(b, t) == 1)
		n = BIO_read(b, out, (int)size - 1);
	out[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

/* One certificate of a chain: now within its dates. */
static int
check_dates(X509 *x, unsigned nth, const char *label, const char *path, char *why, size_t size)
{
	char when[64], which[48];

	snprintf(which, sizeof(which), nth == 0 ? "the certificate" :
	    "certificate %u of the chain", nth + 1);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0) {
		time_text(X509_get0_notAfter(x), when, sizeof(when));
		return fail(why, size, "%s %s: %s expired (notAfter %s)", label, path, which, when);
	}
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		time_text(X509_get0_notBefore(x), when, sizeof(when));
		return fail(why, size, "%s %s: %s is not valid yet (notBefore %s)", label, path,
		    which, when);
	}
	return 0;
}

/* Reads the chain into p->leaf and p->extra: PEM certificates, each within
 * its dates, each issued by the next (leaf first). */
static int
load_chain(struct cert_pair *p, char *why, size_t size)
{
	const char *label = p->chain_label, *path = p->chain_path;
	unsigned long e;
	unsigned n = 0;
	X509 *x, *prev = NULL;
	BIO *b;
	int id;

	if ((b = read_small(label, path, why, size)) == NULL)
		return -1;
	if ((p->extra = sk_X509_new_null()) == NULL) {
		BIO_free(b);
		return fail(why, size, "%s %s: out of memory", label, path);
	}
	for (;; n++) {
		ERR_clear_error();
		if ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) == NULL) {
			e = ERR_peek_last_error();
			if (n > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
				break;
			BIO_free(b);
			return n == 0 ?
			    fail(why, size, "%s %s: not a PEM certificate chain (no valid "
				"CERTIFICATE block)", label, path) :
			    fail(why, size, "%s %s: block %u is not a valid PEM certificate",
				label, path, n + 1);
		}
		if (n == 0)
			p->leaf = x;
		else if (!sk_X509_push(p->extra, x))
			X509_free(x);
		if (n >= CERTS_CHAIN_MAX) {
			BIO_free(b);
			return fail(why, size, "%s %s: more than %d certificates", label, path,
			    CERTS_CHAIN_MAX);
		}
		if (check_dates(x, n, label, path, why, size) == -1) {
			BIO_free(b);
			return -1;
		}
		/* Each certificate is issued by the one after it; a leaf that
		 * is not first shows as a break in that order. */
		if (prev != NULL && X509_check_issued(x, prev) != X509_V_OK) {
			BIO_free(b);
			return fail(why, size, "%s %s: certificate %u did not issue certificate %u: "
			    "the chain is out of order (the server's own certificate first, then "
			    "each issuer)", label, path, n + 1, n);
		}
		prev = x;
	}
	BIO_free(b);
	ERR_clear_error();
	id = EVP_PKEY_get_base_id(X509_get0_pubkey(p->leaf));
	if (id != EVP_PKEY_EC && id != EVP_PKEY_RSA)
		return fail(why, size, "%s %s: the certificate's key is neither ECDSA nor RSA",
		    label, path);
	p->keytype = id;
	return 0;
}

/* The key file exists and is a regular file (the key process reads it);
 * a warning when it is exposed. */
static int
check_key(const struct cert_pair *p, char *why, size_t size)
{
	const char *exposed;
	struct stat st;

	if (stat(p->key_path, &st) == -1)
		return fail(why, size, "%s %s: %s", p->key_label, p->key_path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(why, size, "%s %s: not a regular file", p->key_label, p->key_path);
	if ((exposed = certs_key_exposed(st.st_mode, st.st_uid, geteuid())) != NULL)
		log_warn("%s %s: the private key is %s (mode %04o, uid %u): "
		    "make it readable by its owner only", p->key_label, p->key_path, exposed,
		    (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	return 0;
}

/* ------------------------------------------------------------ gathering */

static char *
join(const char *a, const char *b, const char *c)
{
	size_t len = strlen(a) + 1 + strlen(b) + (c != NULL ? 1 + strlen(c) : 0) + 1;
	char *s;

	if (len > PATH_MAX || (s = malloc(len)) == NULL)
		return NULL;
	snprintf(s, len, c != NULL ? "%s/%s/%s" : "%s/%s", a, b, c != NULL ? c : "");
	return s;
}

static int
add_pair(struct certs *out, const char *host, char *chain, char *key, const char *chain_label,
    const char *key_label, char *why, size_t size)
{
	struct cert_pair *p;

	if (chain == NULL || key == NULL) {
		free(chain);
		free(key);
		return fail(why, size, "%s: a path longer than %d bytes", chain_label, PATH_MAX);
	}
	if (out->n == CERTS_MAX) {
		fail(why, size, "%s %s: one certificate more than %d (each key of each host is "
		    "one)", chain_label, chain, CERTS_MAX);
		free(chain);
		free(key);
		return -1;
	}
	p = &out->pair[out->n++];
	memset(p, 0, sizeof(*p));
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->chain_path = chain;
	p->key_path = key;
	p->chain_label = chain_label;
	p->key_label = key_label;
	if (load_chain(p, why, size) == -1 || check_key(p, why, size) == -1)
		return -1;
	return 0;
}

static int
present(const char *path)
{
	struct stat st;

	return path != NULL && (stat(path, &st) == 0 || errno != ENOENT);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One entry of a --certs directory: a host's pair, or nothing. */
static int
dir_entry(struct certs *out, const char *dir, const char *name, int have_default,
    char *why, size_t size)
{
	char host[CERTS_HOST_MAX + 1], *sub, *chain, *key;
	struct stat st;
	int hc, hk, r = 0;

	if ((sub = join(dir, name, NULL)) == NULL)
		return fail(why, size, "--certs %s: out of memory", dir);
	if (stat(sub, &st) == -1 || !S_ISDIR(st.st_mode)) {
		free(sub);
		return 0;	/* certbot's README, and anything not a directory */
	}
	chain = join(dir, name, CERTS_CHAIN_FILE);
	key = join(dir, name, CERTS_KEY_FILE);
	hc = present(chain);
	hk = present(key);
	if (hc != hk) {
		r = fail(why, size, "--certs %s: has %s but no %s (both, or neither)", sub,
		    hc ? CERTS_CHAIN_FILE : CERTS_KEY_FILE, hc ? CERTS_KEY_FILE : CERTS_CHAIN_FILE);
	} else if (hc && certs_entry_host(name, host, sizeof(host)) == -1) {
		r = fail(why, size, "--certs %s: \"%s\" is not a host name (NAME or NAME+SUFFIX, "
		    "NAME a DNS name, *.NAME, or %s)", sub, name, CERTS_DEFAULT);
	} else if (hc && host[0] == '\0' && have_default) {
		log_warn("--certs %s: not used: --cert and --key give the default certificate",
		    sub);
	} else if (hc) {
		r = add_pair(out, host, chain, key, "--certs", "--certs", why, size);
		chain = key = NULL;	/* the pair's now */
	}
	free(sub);
	free(chain);
	free(key);
	return r;
}

/* Every entry, in name order (so the same directory always gives the same
 * key indices and messages). */
static int
scan_dir(struct certs *out, const char *dir, int have_default, char *why, size_t size)
{
	char *names[DIR_ENTRIES_MAX];
	unsigned n = 0;
	struct dirent *d;
	DIR *dp;
	int r = 0;

	if ((dp = opendir(dir)) == NULL)
		return fail(why, size, "--certs %s: %s", dir, strerror(errno));
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;	/* ".", "..", and hidden entries */
		if (n == DIR_ENTRIES_MAX) {
			r = fail(why, size, "--certs %s: more than %d entries", dir, DIR_ENTRIES_MAX);
			break;
		}
		if ((names[n] = strdup(d->d_name)) == NULL) {
			r = fail(why, size, "--certs %s: out of memory", dir);
			break;
		}
		n++;
	}
	closedir(dp);
	qsort(names, n, sizeof(names[0]), by_name);
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = dir_entry(out, dir, names[i], have_default, why, size);
	for (unsigned i = 0; i < n; i++)
		free(names[i]);
	return r;
}

/* $CREDENTIALS_DIRECTORY: the default pair, when nothing else gave one. */
static int
credentials(struct certs *out, const char *dir, int have_default, char *why, size_t size)
{
	char *chain = join(dir, CERTS_CHAIN_FILE, NULL), *key = join(dir, CERTS_KEY_FILE, NULL);
	int hc = present(chain), hk = present(key);

	if (hc != hk) {
		fail(why, size, "$CREDENTIALS_DIRECTORY %s: has %s but no %s (both, or neither)",
		    dir, hc ? CERTS_CHAIN_FILE : CERTS_KEY_FILE, hc ? CERTS_KEY_FILE : CERTS_CHAIN_FILE);
		free(chain);
		free(key);
		return -1;
	}
	if (!hc || have_default) {
		if (hc)
			log_warn("$CREDENTIALS_DIRECTORY %s: %s and %s not used: %s gives the "
			    "default certificate", dir, CERTS_CHAIN_FILE, CERTS_KEY_FILE,
			    have_default == 1 ? "--cert" : "--certs");
		free(chain);
		free(key);
		return 0;
	}
	return add_pair(out, "", chain, key, "credential", "credential", why, size);
}

static int
by_host(const void *a, const void *b)
{
	const struct cert_pair *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	return c != 0 ? c : strcmp(x->chain_path, y->chain_path);
}

static const char *
type_name(int keytype)
{
	return keytype == EVP_PKEY_EC ? "ECDSA" : "RSA";
}

/* A host has at most one certificate of each key type: a TLS context
 * holds one per type, and a second would silently replace the first. */
static int
one_per_type(const struct certs *c, char *why, size_t size)
{
	for (unsigned i = 1; i < c->n; i++) {
		const struct cert_pair *a = &c->pair[i - 1], *b = &c->pair[i];
		if (strcmp(a->host, b->host) == 0 && a->keytype == b->keytype)
			return fail(why, size, "%s %s and %s: two %s certificates for %s%s (one "
			    "ECDSA and one RSA at most)", b->chain_label, a->chain_path,
			    b->chain_path, type_name(a->keytype), a->host[0] ? a->host :
			    "the default", a->host[0] ? "" : " certificate");
	}
	return 0;
}

static int
has_default(const struct certs *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->pair[i].host[0] == '\0')
			return 1;
	return 0;
}

int
certs_gather(const struct certs_sources *src, struct certs *out, char *why, size_t size)
{
	int r = 0;

	memset(out, 0, sizeof(*out));
	if ((out->pair = calloc(CERTS_MAX, sizeof(out->pair[0]))) == NULL)
		return fail(why, size, "certificates: out of memory");
	for (unsigned i = 0; r == 0 && i < 2 && src->cert[i] != NULL; i++)
		r = add_pair(out, "", strdup(src->cert[i]), strdup(src->key[i]), "--cert", "--key",
		    why, size);
	if (r == 0 && src->dir != NULL)
		r = scan_dir(out, src->dir, src->cert[0] != NULL, why, size);
	if (r == 0 && src->credentials != NULL && src->credentials[0] != '\0')
		r = credentials(out, src->credentials, src->cert[0] != NULL ? 1 :
		    has_default(out) ? 2 : 0, why, size);
	if (r == 0) {
		qsort(out->pair, out->n, sizeof(out->pair[0]), by_host);
		r = one_per_type(out, why, size);
	}
	if (r == -1)
		certs_free(out);
	return r;
}

void
certs_free(struct certs *c)
{
	for (unsigned i = 0; c->pair != NULL && i < c->n; i++) {
		free(c->pair[i].chain_path);
		free(c->pair[i].key_path);
		X509_free(c->pair[i].leaf);
		sk_X509_pop_free(c->pair[i].extra, X509_free);
	}
	free(c->pair);
	c->pair = NULL;
	c->n = 0;
}
