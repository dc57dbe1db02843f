/*
 * digest.c: SHA-256 digests in hex.  See digest.h.
 */
#include <bearssl.h>

#include "lib/ascii.h"
#include "tls/digest.h"
#include "tls/sha2ni.h"

/* see digest.h */
void
tls_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
	unsigned char h[br_sha256_SIZE];

	tls_sha256(data, len, h);
	ascii_hex(out, h, sizeof(h));
}

/* see digest.h */
void
tls_sha256(const void *data, size_t len, unsigned char out[32])
{
	const br_hash_class	*hc = sha256_fast();
	br_sha256_context	 ctx;

	hc->init(&ctx.vtable);
	hc->update(&ctx.vtable, data, len);
	hc->out(&ctx.vtable, out);
}
