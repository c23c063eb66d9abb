/*
 * certs: which certificates hermit serves, from where, and whether they
 * are usable; read in the gather step, before chroot (so symlinks out of
 * the directory, such as certbot's live/ -> archive/, work).
 *
 * A certificate is a pair of files: a PEM chain (the server's own
 * certificate first) and its PEM private key. They come from
 *   --cert FILE --key FILE   the default pair; given twice, a second pair
 *                            of another key type (ECDSA and RSA), matched
 *                            by order;
 *   --certs DIR              DIR/NAME/{fullchain.pem,privkey.pem} for host
 *                            NAME (certbot's /etc/letsencrypt/live layout);
 *                            DIR/NAME+SUFFIX/ a second pair for NAME (of
 *                            another key type); DIR/_default/ the default;
 *                            DIR/\*.example.com/ one wildcard level;
 *   $CREDENTIALS_DIRECTORY   fullchain.pem and privkey.pem there (systemd's
 *                            LoadCredential=) are the default pair.
 * The default is --cert/--key, else DIR/_default, else the credentials.
 *
 * certs_gather() reads and checks every chain (PEM, dates, order) and
 * stat()s every key file (it exists, is a regular file; a warning when
 * others may read it); it never opens a key file: the key process does.
 * Errors name the file and the reason, never its content.
 */
#ifndef HERMIT_CERTS_H
#define HERMIT_CERTS_H

#include <stddef.h>
#include <sys/types.h>
#include <openssl/x509.h>

#define CERTS_MAX 256		/* pairs in all: the key process's u8 key index */
#define CERTS_CHAIN_MAX 10	/* certificates in one chain file */
#define CERTS_FILE_MAX (1 << 20)	/* bytes of one chain file */
#define CERTS_HOST_MAX 253	/* a DNS name */
#define CERTS_DEFAULT "_default"	/* as --vhosts names the default site */
#define CERTS_CHAIN_FILE "fullchain.pem"
#define CERTS_KEY_FILE "privkey.pem"

struct cert_pair {
	char host[CERTS_HOST_MAX + 1];	/* lowercase, perhaps "*.x.y"; "" the default */
	char *chain_path;
	char *key_path;
	const char *chain_label;	/* for messages: "--cert", "--certs", ... */
	const char *key_label;
	X509 *leaf;
	STACK_OF(X509) *extra;		/* the rest of the chain, in order */
	int keytype;			/* EVP_PKEY_EC or EVP_PKEY_RSA */
};

/* Sorted by host, the default ("") first; a host's pairs are adjacent. */
struct certs {
	struct cert_pair *pair;
	unsigned n;
};

struct certs_sources {
	const char *cert[2], *key[2];	/* --cert/--key pairs; NULL: none */
	const char *dir;		/* --certs, or NULL */
	const char *credentials;	/* $CREDENTIALS_DIRECTORY, or NULL */
};

/* Fills out (n == 0: no certificate anywhere). Returns 0, or -1 with why
 * set; warnings are logged. */
int certs_gather(const struct certs_sources *src, struct certs *out, char *why,
    size_t whysize);

void certs_free(struct certs *c);

/* Pure parts, exposed for tests. */

/* A host name as a certificate directory may give it: DNS labels of
 * letters, digits and '-', the first perhaps "*"; at most
 * CERTS_HOST_MAX bytes. 1 when valid. */
int certs_host_valid(const char *name);

/* A --certs entry name: NAME or NAME+SUFFIX. Writes NAME, lowercased, to
 * host ("" for CERTS_DEFAULT). Returns 0, or -1 when NAME is not a host
 * name or SUFFIX is empty. */
int certs_entry_host(const char *entry, char *host, size_t size);

/* Why a private key file with this mode and owner is exposed (NULL: it is
 * not): others may read or write it, or another user than root and me
 * owns it. */
const char *certs_key_exposed(mode_t mode, uid_t owner, uid_t me);

/* How an SNI name (any case, one trailing dot ignored) matches a pair's
 * host: 2 exactly, 1 by its wildcard ("*.example.com" matches one label
 * more, never two), 0 not at all. The default ("") matches nothing. */
int certs_name_match(const char *host, const char *name);

#endif
