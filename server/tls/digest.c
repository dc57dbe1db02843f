/*
 * digest.c: SHA-256 digests in hex.  See digest.h.
 */
#include <bearssl.h>

#include "lib/ascii.h"
#include "tls/digest.h"

/* see digest.h */
void
tls_sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
	br_sha256_context	 ctx;
	unsigned char		 h[br_sha256_SIZE];

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, data, len);
	br_sha256_out(&ctx, h);
	ascii_hex(out, h, sizeof(h));
}
