/*
 * init.c: the implementations BearSSL offers for this CPU, resolved once.
 * See tls.h.
 */
#include <bearssl.h>

#include "tls/internal.h"
#include "tls/tls.h"

struct tls_impl	 tls_impl;

/* see tls.h */
void
tls_init(void)
{
	struct tls_impl *g = &tls_impl;

	if ((g->aes_ctr = br_aes_x86ni_ctr_get_vtable()) == NULL)
		g->aes_ctr = &br_aes_ct64_ctr_vtable;
	if ((g->ghash = br_ghash_pclmul_get()) == 0)
		g->ghash = &br_ghash_ctmul64;
	if ((g->chacha20 = br_chacha20_sse2_get()) == 0)
		g->chacha20 = &br_chacha20_ct_run;
	if ((g->poly1305 = br_poly1305_ctmulq_get()) == 0)
		g->poly1305 = &br_poly1305_ctmul_run;
	g->ec = br_ec_get_default();
	g->ecdsa_sign = br_ecdsa_sign_asn1_get_default();
	g->rsa_sign = br_rsa_pkcs1_sign_get_default();
	g->rsa_modulus = br_rsa_compute_modulus_get_default();
}
