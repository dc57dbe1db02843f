/*
 * digest.h: SHA-256 digests in hex, for policy records (ids.h), report
 * names (tlsrpt.h), drift checks and the pairing keys of a certificate
 * scan.  BearSSL computes them (sha2ni.h); this header does not need it.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN	64

/* SHA-256 of the len bytes at data (the CPU's SHA extensions if any). */
void	tls_sha256(const void *data, size_t len, unsigned char out[32]);
/* The same as 64 lower-case hex digits and a NUL. */
void	tls_sha256_hex(const void *data, size_t len,
	    char out[DIGEST_HEX_LEN + 1]);

#endif /* DIGEST_H */
