/*
 * tls: the server's TLS context and the TLS transport (transport.h).
 *
 * Order, called from main (and only when some listener speaks HTTPS):
 *   tls_init()         before anything else touches OpenSSL: initialises it
 *                      without reading any openssl.cnf (the operator's
 *                      OpenSSL configuration must not change what hermit
 *                      offers, nor make it load modules from disk).
 *   tls_context_new()  in the gather step, after keyproc_start() and before
 *                      confine_enter(): reads the certificate chain (before
 *                      chroot) and builds the one context every connection
 *                      uses. Its private key is the key process's key object:
 *                      this process never holds the private key.
 *   transport_tls      the transport for connections on HTTPS listeners;
 *                      worker threads must each have called
 *                      keyproc_thread_socket() before their first handshake.
 *   tls_context_free() after the workers have stopped, before keyproc_free().
 *
 * What the context allows: TLS 1.2 (unless --tls-min 1.3) and 1.3; for 1.2
 * only ECDHE with AEAD suites (the key process signs, it never decrypts);
 * groups X25519, P-256, P-384; no compression, no renegotiation, no 0-RTT;
 * ALPN: http/1.1 or nothing (a client offering only other protocols gets
 * the no_application_protocol alert); stateless session tickets, no server
 * session cache.
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

#include "transport.h"

/* Returns 0, or -1 with why set. */
int tls_init(char *why, size_t whysize);

/* min_version: 12 or 13. key: from keyproc_pkey(). Returns 0, or -1 with
 * why set, naming the option (--cert, --key) at fault. */
int tls_context_new(const char *cert_path, EVP_PKEY *key, unsigned min_version,
    char *why, size_t whysize);

void tls_context_free(void);

extern const struct transport transport_tls;

#endif
