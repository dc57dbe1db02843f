/*
 * fuzz_der.c: libFuzzer target for der_cert_parse(),
 * der_cert_dns_names() and der_cert_pubkey(), the certificate fields read
 * with our own code, and der_ec_key_pub() and der_ec_key() on the same
 * bytes taken as a
 * private key.
 *
 * The bytes are copied to a buffer of exactly their size, so that any
 * read past the certificate is an AddressSanitizer report.  Beyond "no
 * crash": a certificate that parses has a printable common name of at
 * most DER_CN_MAX characters, validity dates a DER time can say (years
 * 0000 to 9999), a subjectAltName inside the input; every dNSName handed
 * to the callback lies inside that subjectAltName, in order and without
 * overlap; a walk stopped by the callback stops at once; two walks give
 * the same names; public keys lie inside the input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:60Z. */
#define TIME_MIN	(-62167219200LL)
#define TIME_MAX	(253402300800LL)

struct walk {
	const uint8_t	*lo, *hi;	/* the subjectAltName content */
	const uint8_t	*last;		/* end of the previous name */
	size_t		 n;		/* names seen */
	size_t		 stop;		/* return -1 at this name (from 1) */
	uint64_t	 sum;		/* of names and lengths, to compare */
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_der: invariant broken: %s\n", what);
		abort();
	}
}

static int
name_cb(void *arg, const char *name, size_t len)
{
	struct walk	*w = arg;
	const uint8_t	*p = (const uint8_t *)name;

	check(p >= w->lo && len <= (size_t)(w->hi - p),
	    "dNSName outside the subjectAltName");
	check(p >= w->last, "dNSNames out of order or overlapping");
	w->last = p + len;
	w->n++;
	for (size_t i = 0; i < len; i++)
		w->sum = w->sum * 31 + p[i];
	w->sum = w->sum * 31 + len;
	if (w->stop != 0 && w->n == w->stop)
		return -1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der_cert	 c;
	struct der_pubkey pk;
	struct walk	 w1, w2;
	uint8_t		*buf;
	const uint8_t	*pub;
	struct der_ec_key ek;
	size_t		 cnlen, publen;
	int		 rc;

	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	/* The same bytes as an EC private key: its public key within them. */
	if (der_ec_key_pub(buf, size, &pub, &publen) == 0)
		check(pub > buf && publen > 0 &&
		    publen <= (size_t)(buf + size - pub),
		    "EC key's public key outside the input");
	/* Read whole: every part within them, the same public key. */
	if (der_ec_key(buf, size, &ek) == 0) {
		check(ek.curve > buf && ek.curvelen <= (size_t)(buf + size -
		    ek.curve) && ek.priv > buf && ek.privlen > 0 &&
		    ek.privlen <= (size_t)(buf + size - ek.priv) &&
		    ek.pub > buf && ek.publen <= (size_t)(buf + size - ek.pub),
		    "EC key's parts outside the input");
		check(der_ec_key_pub(buf, size, &pub, &publen) == 0 &&
		    pub == ek.pub && publen == ek.publen,
		    "der_ec_key and der_ec_key_pub disagree");
	}
	if (der_cert_parse(buf, size, &c) == -1)
		goto out;
	check(c.spki >= buf && c.spkilen <= (size_t)(buf + size - c.spki),
	    "subjectPublicKeyInfo outside the input");
	if (der_cert_pubkey(&c, &pk) == 0) {
		check(pk.type == DER_KEY_EC || pk.type == DER_KEY_RSA,
		    "public key type");
		check(pk.key >= c.spki && pk.keylen > 0 &&
		    pk.keylen <= (size_t)(c.spki + c.spkilen - pk.key),
		    "public key outside subjectPublicKeyInfo");
		check(pk.type == DER_KEY_RSA || (pk.curve >= c.spki &&
		    pk.curvelen <= (size_t)(c.spki + c.spkilen - pk.curve)),
		    "curve outside subjectPublicKeyInfo");
	}

	cnlen = strnlen(c.cn, sizeof(c.cn));
	check(cnlen <= DER_CN_MAX, "common name not terminated");
	for (size_t i = 0; i < cnlen; i++)
		check(c.cn[i] >= 0x20 && c.cn[i] < 0x7f,
		    "common name not printable");
	check(c.not_before >= TIME_MIN && c.not_before <= TIME_MAX &&
	    c.not_after >= TIME_MIN && c.not_after <= TIME_MAX,
	    "validity date out of the range of DER times");
	if (c.san == NULL) {
		check(c.sanlen == 0, "sanlen without san");
	} else
		check(c.san >= buf && c.sanlen <= (size_t)(buf + size - c.san),
		    "subjectAltName outside the input");

	memset(&w1, 0, sizeof(w1));
	w1.lo = c.san;
	w1.hi = c.san != NULL ? c.san + c.sanlen : NULL;
	w1.last = w1.lo;
	rc = der_cert_dns_names(&c, name_cb, &w1);
	check(rc == 0 || rc == -1, "return value");
	w2 = w1;
	w2.n = 0;
	w2.sum = 0;
	w2.last = w2.lo;
	check(der_cert_dns_names(&c, name_cb, &w2) == rc &&
	    w2.n == w1.n && w2.sum == w1.sum, "two walks differ");
	if (w1.n > 0) {
		/* Stopped by the callback at the first name: -1, one call. */
		w2.n = 0;
		w2.sum = 0;
		w2.last = w2.lo;
		w2.stop = 1;
		check(der_cert_dns_names(&c, name_cb, &w2) == -1 && w2.n == 1,
		    "walk did not stop when the callback said so");
	}
out:
	free(buf);
	return 0;
}
