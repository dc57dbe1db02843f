/*
 * test_sha2ni.c: the SHA-256 class and TLS 1.2 PRF of sha2ni.c against
 * BearSSL's own (cmocka).  On a CPU without SHA extensions the class is
 * BearSSL's, and the comparisons hold trivially: the test says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tls/sha2ni.h"

static unsigned char	 data[4096];

/* A fixed pseudo-random fill (xorshift), so that failures repeat. */
static void
fill(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static void
digest(const br_hash_class *vt, const unsigned char *p, size_t len,
    size_t step, unsigned char out[32])
{
	br_hash_compat_context	 hc;
	size_t			 off = 0, n;

	/* Through the context's own vtable, as BearSSL calls it. */
	memset(&hc, 0, sizeof(hc));
	vt->init(&hc.vtable);
	assert_ptr_equal(hc.vtable, vt);
	while (off < len) {
		n = step == 0 || len - off < step ? len - off : step;
		hc.vtable->update(&hc.vtable, p + off, n);
		off += n;
	}
	hc.vtable->out(&hc.vtable, out);
}

static void
test_known_answers(void **state)
{
	static const unsigned char abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41,
		0x40, 0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3,
		0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
		0x15, 0xad
	};
	static const unsigned char empty[32] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb,
		0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4,
		0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
		0xb8, 0x55
	};
	unsigned char out[32];

	(void)state;
	if (!sha256_fast_native())
		fprintf(stderr, "# no SHA extensions on this CPU: the class "
		    "is BearSSL's own\n");
	digest(sha256_fast(), (const unsigned char *)"abc", 3, 0, out);
	assert_memory_equal(out, abc, 32);
	digest(sha256_fast(), (const unsigned char *)"", 0, 0, out);
	assert_memory_equal(out, empty, 32);
	assert_int_equal(sha256_fast()->desc, br_sha256_vtable.desc);
	assert_int_equal(sha256_fast()->context_size,
	    br_sha256_vtable.context_size);
}

/* Every length to 300 bytes, then some long ones, in pieces of all sizes. */
static void
test_same_as_bearssl(void **state)
{
	unsigned char	 a[32], b[32];
	static const size_t steps[] = { 0, 1, 3, 55, 56, 63, 64, 65, 127 };

	(void)state;
	fill(data, sizeof(data), 7);
	for (size_t len = 0; len <= sizeof(data);
	    len += len < 300 ? 1 : 379) {
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			digest(&br_sha256_vtable, data, len, steps[s], a);
			digest(sha256_fast(), data, len, steps[s], b);
			if (memcmp(a, b, 32) != 0)
				fail_msg("length %zu in pieces of %zu", len,
				    steps[s]);
		}
	}
}

/* state() and set_state() carry a running hash from one class to the other. */
static void
test_state_exchange(void **state)
{
	br_hash_compat_context	 x, y;
	unsigned char		 st[32], a[32], b[32];
	uint64_t		 count;

	(void)state;
	fill(data, 640, 11);
	br_sha256_vtable.init(&x.vtable);
	br_sha256_vtable.update(&x.vtable, data, 320);
	count = br_sha256_vtable.state(&x.vtable, st);
	sha256_fast()->init(&y.vtable);
	sha256_fast()->set_state(&y.vtable, st, count);
	sha256_fast()->update(&y.vtable, data + 320, 320);
	sha256_fast()->out(&y.vtable, a);
	count = sha256_fast()->state(&y.vtable, st);
	assert_int_equal(count, 640);
	br_sha256_vtable.set_state(&x.vtable, st, count);
	br_sha256_vtable.out(&x.vtable, b);
	digest(&br_sha256_vtable, data, 640, 0, st);
	assert_memory_equal(a, st, 32);
	assert_memory_equal(b, st, 32);
}

static void
test_hmac(void **state)
{
	br_hmac_key_context	 k1, k2;
	br_hmac_context		 h1, h2;
	unsigned char		 a[32], b[32];

	(void)state;
	fill(data, 300, 13);
	for (size_t kl = 0; kl <= 130; kl += 13) {
		br_hmac_key_init(&k1, &br_sha256_vtable, data + 200, kl);
		br_hmac_key_init(&k2, sha256_fast(), data + 200, kl);
		br_hmac_init(&h1, &k1, 0);
		br_hmac_init(&h2, &k2, 0);
		br_hmac_update(&h1, data, 150 + kl);
		br_hmac_update(&h2, data, 150 + kl);
		br_hmac_out(&h1, a);
		br_hmac_out(&h2, b);
		assert_memory_equal(a, b, 32);
	}
}

/* The PRF for the lengths TLS asks (12, 40, 48, 72, 104) and others. */
static void
test_prf(void **state)
{
	br_tls_prf_seed_chunk	 seed[2];
	unsigned char		 a[200], b[200];

	(void)state;
	fill(data, 200, 17);
	seed[0].data = data + 48;
	seed[0].len = 32;
	seed[1].data = data + 80;
	seed[1].len = 32;
	for (size_t len = 0; len <= sizeof(a); len++) {
		memset(b, 0x5a, sizeof(b));
		br_tls12_sha256_prf(a, len, data, 48, "key expansion", 2,
		    seed);
		sha256_fast_tls12_prf(b, len, data, 48, "key expansion", 2,
		    seed);
		assert_memory_equal(a, b, len);
		/* Nothing written past len. */
		for (size_t i = len; i < sizeof(b); i++)
			assert_int_equal(b[i], 0x5a);
	}
	br_tls12_sha256_prf(a, 12, data, 48, "client finished", 1, seed);
	sha256_fast_tls12_prf(b, 12, data, 48, "client finished", 1, seed);
	assert_memory_equal(a, b, 12);
}

/* HMAC-DRBG, as a TLS engine draws its randoms, on either class. */
static void
test_drbg(void **state)
{
	br_hmac_drbg_context	 d1, d2;
	unsigned char		 a[100], b[100];

	(void)state;
	fill(data, 64, 19);
	br_hmac_drbg_init(&d1, &br_sha256_vtable, data, 64);
	br_hmac_drbg_init(&d2, sha256_fast(), data, 64);
	for (int i = 0; i < 5; i++) {
		br_hmac_drbg_generate(&d1, a, sizeof(a));
		br_hmac_drbg_generate(&d2, b, sizeof(b));
		assert_memory_equal(a, b, sizeof(a));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_same_as_bearssl),
		cmocka_unit_test(test_state_exchange),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_prf),
		cmocka_unit_test(test_drbg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
