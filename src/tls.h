/*
 * tls: the server's TLS context and the TLS transport (transport.h).
 *
 * Order, called from main (and only when some listener speaks HTTPS):
 *   tls_init()         before anything else touches OpenSSL: initialises it
 *                      without reading any openssl.cnf (the operator's
 *                      OpenSSL configuration must not change what hermit
 *                      offers, nor make it load modules from disk).
 *   tls_context_new()  in the gather step, after certs_gather() and
 *                      keyproc_start(), before confine_enter(): builds one
 *                      context per host name, each with one certificate per
 *                      key type (ECDSA, RSA: OpenSSL serves the one the
 *                      client's signature algorithms allow), all with the
 *                      same settings. Their private keys are the key
 *                      process's key objects: this process never holds one.
 *   transport_tls      the transport for connections on HTTPS listeners;
 *                      worker threads must each have called
 *                      keyproc_thread_socket() before their first handshake.
 *   tls_context_free() after the workers have stopped, before keyproc_free().
 *
 * What the context allows: TLS 1.2 (unless --tls-min 1.3) and 1.3; for 1.2
 * only ECDHE with AEAD suites (the key process signs, it never decrypts);
 * groups X25519, P-256, P-384; no compression, no renegotiation, no 0-RTT;
 * ALPN: http/1.1 or nothing (a client offering only other protocols gets
 * the no_application_protocol alert); stateless session tickets (one per
 * handshake, their keys random, in memory, shared by every worker and
 * replaced every period: see tls.c), no server session cache. With kTLS
 * (the kernel's tls ULP present), records are the kernel's and files go
 * with SSL_sendfile.
 *
 * Certificates by SNI: a connection starts on the default's context (or,
 * without a default, on one without certificate); the server_name callback
 * moves it to the context of the name the client sent (exactly, else one
 * wildcard level), and a client that sent none or an unknown one keeps the
 * default; without a default it gets the unrecognized_name alert. Tickets
 * are made and opened with the first context's keys, and a ticket resumes
 * only for the name it was made for (libssl 3.0 would resume it for any).
 *
 * The transport: one SSL object per connection, made on first use and freed
 * by the close hook. The handshake happens inside the first reads. A clean
 * close_notify, and a client that closes without one (request heads are
 * self-delimiting, so nothing can be truncated unnoticed), are the end of
 * input; a protocol error fails the call (the connection is closed).
 */
#ifndef HERMIT_TLS_H
#define HERMIT_TLS_H

#include <stddef.h>
#include <openssl/evp.h>

#include "certs.h"
#include "transport.h"

/* Returns 0, or -1 with why set. */
int tls_init(char *why, size_t whysize);

/* c: from certs_gather() (n > 0). keys[i]: c->pair[i]'s key, from
 * keyproc_pkey(); the contexts take their own references. min_version: 12
 * or 13. tickets: how often the ticket keys are replaced, in seconds (0:
 * no session tickets). libctx: the library context the contexts are made
 * in: the key process's (kp->libctx, see keyproc.h) when keys sign
 * through it, else NULL. Returns 0, or -1 with why set, naming the file at
 * fault. Reads the kernel's ULP list (kTLS), so runs before sealing. */
int tls_context_new(const struct certs *c, EVP_PKEY *const *keys, OSSL_LIB_CTX *libctx,
    unsigned min_version, unsigned tickets, char *why, size_t whysize);

/* For the startup line: "ktls=on" or "ktls=off (why)", and the tickets. */
const char *tls_describe(char *out, size_t size);

void tls_context_free(void);

/* ALPN: offer h2 before http/1.1 (on), or http/1.1 alone. Before
 * tls_context_new(); http/1.1 alone unless called. */
void tls_offer_h2(int on);

extern const struct transport transport_tls;

#endif
