/*
 * sha2ni.h: SHA-256 with the CPU's SHA extensions, for BearSSL.
 *
 * BearSSL 0.6 computes SHA-256 in portable C; OpenSSL uses the x86 SHA
 * instructions.  A TLS handshake hashes its transcript, derives its keys
 * (the TLS 1.2 PRF: HMAC-SHA-256) and draws its randoms (HMAC-DRBG) with
 * it: 58 compressions, 7-9% of a resumed handshake's CPU time (perf).  These are the
 * same functions, on the same context layout, only faster.
 */
#ifndef SHA2NI_H
#define SHA2NI_H

#include <stddef.h>

#include <bearssl.h>

/*
 * The SHA-256 class to give BearSSL: one that uses the SHA extensions,
 * or BearSSL's own (br_sha256_vtable) on a CPU without them.  Its
 * context is a br_sha256_context.
 */
const br_hash_class	*sha256_fast(void);
/* 1 when sha256_fast() uses the SHA extensions. */
int			 sha256_fast_native(void);
/* The TLS 1.2 PRF with SHA-256 (br_tls12_sha256_prf), on sha256_fast(). */
void			 sha256_fast_tls12_prf(void *dst, size_t len,
			    const void *secret, size_t secret_len,
			    const char *label, size_t seed_num,
			    const br_tls_prf_seed_chunk *seed);

#endif
