/*
 * sha2ni.c: SHA-256 with the x86 SHA extensions, as a BearSSL hash class.
 *
 * The context is BearSSL's own br_sha256_context (buffer, byte count,
 * eight state words), so that every BearSSL user of a hash class (the
 * multihash of the handshake transcript, HMAC, HMAC-DRBG) takes it as it
 * takes br_sha256_vtable; only the compression function differs.  The
 * state and set_state encodings are BearSSL's: the eight words big-endian.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "tls/sha2ni.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_SHANI 1
#endif

#ifdef HAVE_SHANI

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

/*
 * Compresses n 64-byte blocks into val (A..H).  The instructions keep the
 * state as two vectors, ABEF and CDGH; each sha256rnds2 does two rounds,
 * and the message schedule runs four words at a time (msg1 adds sigma0
 * of the words 15 back, msg2 sigma1 of the words 2 back).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks(uint32_t val[8], const unsigned char *p, size_t n)
{
	const __m128i	 bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL,
			    0x0405060700010203LL);
	__m128i		 abef, cdgh, t, w[4], abef0, cdgh0;

	t = _mm_loadu_si128((const __m128i *)(const void *)&val[0]);
	cdgh = _mm_loadu_si128((const __m128i *)(const void *)&val[4]);
	t = _mm_shuffle_epi32(t, 0xb1);			/* C D A B */
	cdgh = _mm_shuffle_epi32(cdgh, 0x1b);		/* E F G H */
	abef = _mm_alignr_epi8(t, cdgh, 8);		/* A B E F */
	cdgh = _mm_blend_epi16(cdgh, t, 0xf0);		/* C D G H */

	for (; n > 0; n--, p += 64) {
		abef0 = abef;
		cdgh0 = cdgh;
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			__m128i *x = &w[g & 3];

			if (g < 4)
				*x = _mm_shuffle_epi8(_mm_loadu_si128(
				    (const void *)(p + 16 * g)), bswap);
			else
				*x = _mm_sha256msg2_epu32(_mm_add_epi32(
				    _mm_sha256msg1_epu32(*x, w[(g + 1) & 3]),
				    _mm_alignr_epi8(w[(g + 3) & 3],
				    w[(g + 2) & 3], 4)), w[(g + 3) & 3]);
			t = _mm_add_epi32(*x, _mm_loadu_si128(
			    (const __m128i *)(const void *)&K[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, t);
			t = _mm_shuffle_epi32(t, 0x0e);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, t);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	t = _mm_shuffle_epi32(abef, 0x1b);		/* F E B A */
	cdgh = _mm_shuffle_epi32(cdgh, 0xb1);		/* D C H G */
	abef = _mm_blend_epi16(t, cdgh, 0xf0);		/* D C B A */
	cdgh = _mm_alignr_epi8(cdgh, t, 8);		/* H G F E */
	_mm_storeu_si128((__m128i *)(void *)&val[0], abef);
	_mm_storeu_si128((__m128i *)(void *)&val[4], cdgh);
}

static void
enc32be(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void
enc_state(void *dst, const uint32_t val[8])
{
	for (int i = 0; i < 8; i++)
		enc32be((unsigned char *)dst + 4 * i, val[i]);
}

static const uint32_t IV[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
	0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

static const br_hash_class ni_vtable;

static void
ni_init(const br_hash_class **vt)
{
	br_sha256_context *cc = (br_sha256_context *)(void *)vt;

	cc->vtable = &ni_vtable;
	cc->count = 0;
	memcpy(cc->val, IV, sizeof(IV));
}

static void
ni_update(const br_hash_class **vt, const void *data, size_t len)
{
	br_sha256_context	*cc = (br_sha256_context *)(void *)vt;
	const unsigned char	*p = data;
	size_t			 used = (size_t)cc->count & 63, n;

	if (len == 0)
		return;
	cc->count += len;
	if (used > 0) {
		n = 64 - used < len ? 64 - used : len;
		memcpy(cc->buf + used, p, n);
		p += n;
		len -= n;
		if (used + n < 64)
			return;
		blocks(cc->val, cc->buf, 1);
	}
	if (len >= 64) {
		blocks(cc->val, p, len / 64);
		p += len / 64 * 64;
		len %= 64;
	}
	memcpy(cc->buf, p, len);
}

static void
ni_out(const br_hash_class *const *vt, void *dst)
{
	const br_sha256_context	*cc = (const void *)vt;
	unsigned char		 buf[128];
	uint32_t		 val[8];
	size_t			 used = (size_t)cc->count & 63;
	size_t			 total = used < 56 ? 64 : 128;

	memcpy(buf, cc->buf, used);
	buf[used] = 0x80;
	memset(buf + used + 1, 0, total - used - 1);
	enc32be(buf + total - 8, (uint32_t)(cc->count >> 29));
	enc32be(buf + total - 4, (uint32_t)(cc->count << 3));
	memcpy(val, cc->val, sizeof(val));
	blocks(val, buf, total / 64);
	enc_state(dst, val);
}

static uint64_t
ni_state(const br_hash_class *const *vt, void *dst)
{
	const br_sha256_context *cc = (const void *)vt;

	enc_state(dst, cc->val);
	return cc->count;
}

static void
ni_set_state(const br_hash_class **vt, const void *stb, uint64_t count)
{
	br_sha256_context	*cc = (br_sha256_context *)(void *)vt;
	const unsigned char	*p = stb;

	for (int i = 0; i < 8; i++)
		cc->val[i] = (uint32_t)p[4 * i] << 24 |
		    (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	cc->count = count;
}

static const br_hash_class ni_vtable = {
	sizeof(br_sha256_context),
	BR_HASHDESC_ID(br_sha256_ID) | BR_HASHDESC_OUT(32) |
	    BR_HASHDESC_STATE(32) | BR_HASHDESC_LBLEN(6) |
	    BR_HASHDESC_MD_PADDING | BR_HASHDESC_MD_PADDING_BE,
	ni_init,
	ni_update,
	ni_out,
	ni_state,
	ni_set_state
};

/* SHA (CPUID 7 EBX bit 29), SSSE3 and SSE4.1 (CPUID 1 ECX bits 9, 19). */
static int
cpu_has_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1U << 9)) ||
	    !(c & (1U << 19)))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b >> 29) & 1;
}

#endif	/* HAVE_SHANI */

/* -1 not probed yet, else 0 or 1: one CPUID probe per process. */
static atomic_int native = -1;

/* see sha2ni.h */
int
sha256_fast_native(void)
{
	int n = atomic_load_explicit(&native, memory_order_relaxed);

	if (n == -1) {
#ifdef HAVE_SHANI
		n = cpu_has_sha();
#else
		n = 0;
#endif
		atomic_store_explicit(&native, n, memory_order_relaxed);
	}
	return n;
}

/* see sha2ni.h */
const br_hash_class *
sha256_fast(void)
{
#ifdef HAVE_SHANI
	if (sha256_fast_native())
		return &ni_vtable;
#endif
	return &br_sha256_vtable;
}

static void
hmac_label_seed(br_hmac_context *hc, const char *label, size_t llen,
    size_t seed_num, const br_tls_prf_seed_chunk *seed)
{
	br_hmac_update(hc, label, llen);
	for (size_t i = 0; i < seed_num; i++)
		br_hmac_update(hc, seed[i].data, seed[i].len);
}

/*
 * P_SHA256(secret, label + seed) of RFC 5246 section 5: A(0) is the
 * seed, A(i) = HMAC(A(i-1)), and the output HMAC(A(1) + seed),
 * HMAC(A(2) + seed) and so on, cut to len.
 */
void
sha256_fast_tls12_prf(void *dst, size_t len, const void *secret,
    size_t secret_len, const char *label, size_t seed_num,
    const br_tls_prf_seed_chunk *seed)
{
	br_hmac_key_context	 kc;
	br_hmac_context		 hc;
	unsigned char		 a[32], out[32], *d = dst;
	size_t			 llen = strlen(label), n;

	br_hmac_key_init(&kc, sha256_fast(), secret, secret_len);
	br_hmac_init(&hc, &kc, 0);
	hmac_label_seed(&hc, label, llen, seed_num, seed);
	br_hmac_out(&hc, a);
	while (len > 0) {
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, a, sizeof(a));
		hmac_label_seed(&hc, label, llen, seed_num, seed);
		br_hmac_out(&hc, out);
		n = len < sizeof(out) ? len : sizeof(out);
		memcpy(d, out, n);
		d += n;
		len -= n;
		if (len > 0) {
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, a, sizeof(a));
			br_hmac_out(&hc, a);
		}
	}
	explicit_bzero(a, sizeof(a));
	explicit_bzero(out, sizeof(out));
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}
