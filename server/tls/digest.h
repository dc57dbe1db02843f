/*
 * digest.h: SHA-256 digests in hex, for policy records (ids.h), report
 * names (tlsrpt.h) and drift checks.  BearSSL computes them; this header
 * does not need it.
 */
#ifndef DIGEST_H
#define DIGEST_H

#include <stddef.h>

#define DIGEST_HEX_LEN	64

/* SHA-256 of the len bytes at data as 64 lower-case hex digits and a NUL. */
void	tls_sha256_hex(const void *data, size_t len,
	    char out[DIGEST_HEX_LEN + 1]);

#endif /* DIGEST_H */
