/*
 * pubkey.c: the pairing keys of public keys, which a certificate scan
 * pairs keys with chains by, and the named curves served.  See
 * internal.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "lib/ascii.h"
#include "lib/der.h"
#include "tls/digest.h"
#include "tls/internal.h"

/* see internal.h */
char *
pubkey_id(int type, unsigned curve, const unsigned char *a, size_t alen)
{
	unsigned char		 h[32];
	char			*s;

	while (type == BR_KEYTYPE_RSA && alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	if ((s = malloc(16 + sizeof(h) + 1)) == NULL)
		return NULL;
	tls_sha256(a, alen, h);
	if (type == BR_KEYTYPE_EC)
		snprintf(s, 16, "E%u:", curve);
	else
		snprintf(s, 16, "R:");
	ascii_hex(s + strlen(s), h, sizeof(h) / 2);
	return s;
}

/* see internal.h */
size_t
pubkey_curve_bytes(int curve)
{
	return curve == BR_EC_secp256r1 ? 32 : curve == BR_EC_secp384r1 ? 48 :
	    66;
}

/* see internal.h */
int
pubkey_curve(const uint8_t *oid, size_t len)
{
	static const struct {
		int		 id;
		unsigned char	 oid[8];
		size_t		 len;
	} curves[] = {
		{ BR_EC_secp256r1, { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
		    0x07 }, 8 },
		{ BR_EC_secp384r1, { 0x2b, 0x81, 0x04, 0x00, 0x22 }, 5 },
		{ BR_EC_secp521r1, { 0x2b, 0x81, 0x04, 0x00, 0x23 }, 5 },
	};

	for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (len == curves[i].len && memcmp(oid, curves[i].oid, len) == 0)
			return curves[i].id;
	return 0;
}

/* see internal.h */
int
pubkey_of_cert(const struct der_cert *dc, char **pub)
{
	struct der_pubkey	 k;
	int			 curve;

	*pub = NULL;
	if (der_cert_pubkey(dc, &k) == -1)
		return 0;
	if (k.type == DER_KEY_RSA)
		*pub = pubkey_id(BR_KEYTYPE_RSA, 0, k.key, k.keylen);
	else {
		if ((curve = pubkey_curve(k.curve, k.curvelen)) == 0)
			return 0;
		*pub = pubkey_id(BR_KEYTYPE_EC, (unsigned)curve, k.key,
		    k.keylen);
	}
	return *pub == NULL ? -1 : 0;
}
