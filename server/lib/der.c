/*
 * der.c: certificate fields BearSSL's decoder does not give.  See der.h.
 */
#include <string.h>

#include "lib/der.h"

struct tlv {
	unsigned	 tag;
	const uint8_t	*v;	/* content */
	size_t		 len;
};

/*
 * Reads one element at *p (before end) into *t and advances *p past it.
 * Single-byte tags and definite lengths only, as DER requires.
 */
static int
next(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
	const uint8_t	*q = *p;
	size_t		 len, n;

	if (end - q < 2)
		return -1;
	t->tag = *q++;
	if ((t->tag & 0x1f) == 0x1f)
		return -1;
	len = *q++;
	if (len & 0x80) {
		n = len & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - q) < n)
			return -1;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *q++;
	}
	if ((size_t)(end - q) < len)
		return -1;
	t->v = q;
	t->len = len;
	*p = q + len;
	return 0;
}

/* Reads an element that must have the given tag. */
static int
expect(const uint8_t **p, const uint8_t *end, unsigned tag, struct tlv *t)
{
	return next(p, end, t) == -1 || t->tag != tag ? -1 : 0;
}

static int
two(const uint8_t *s, int *v)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ). */
static int
timeval(const struct tlv *t, time_t *out)
{
	const uint8_t	*s = t->v;
	int		 c, yy, mo, d, h, mi, se;
	int64_t		 y;

	if (t->tag == 0x17 && t->len == 13) {
		if (two(s, &yy) == -1)
			return -1;
		y = yy < 50 ? 2000 + yy : 1900 + yy;
		s += 2;
	} else if (t->tag == 0x18 && t->len == 15) {
		if (two(s, &c) == -1 || two(s + 2, &yy) == -1)
			return -1;
		y = c * 100 + yy;
		s += 4;
	} else
		return -1;
	if (two(s, &mo) || two(s + 2, &d) || two(s + 4, &h) ||
	    two(s + 6, &mi) || two(s + 8, &se) || s[10] != 'Z')
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return -1;
	*out = (time_t)(days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se);
	return 0;
}

static const uint8_t OID_CN[] = { 0x55, 0x04, 0x03 };
static const uint8_t OID_EC_PUBKEY[] = {
	0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01
};
static const uint8_t OID_RSA[] = {
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01
};
static const uint8_t OID_SAN[] = { 0x55, 0x1d, 0x11 };

/* The first commonName of a Name, made printable. */
static void
common_name(const struct tlv *name, char *out)
{
	const uint8_t	*p = name->v, *end = name->v + name->len, *q, *qe;
	struct tlv	 rdn, atv, oid, val;
	size_t		 i;

	out[0] = '\0';
	while (p < end) {
		if (expect(&p, end, 0x31, &rdn) == -1)
			return;
		q = rdn.v;
		qe = rdn.v + rdn.len;
		while (q < qe) {
			const uint8_t *a, *ae;

			if (expect(&q, qe, 0x30, &atv) == -1)
				return;
			a = atv.v;
			ae = atv.v + atv.len;
			if (expect(&a, ae, 0x06, &oid) == -1 ||
			    next(&a, ae, &val) == -1)
				return;
			if (oid.len != sizeof(OID_CN) ||
			    memcmp(oid.v, OID_CN, sizeof(OID_CN)) != 0)
				continue;
			for (i = 0; i < val.len && i < DER_CN_MAX; i++)
				out[i] = (val.v[i] >= 0x20 && val.v[i] < 0x7f) ?
				    (char)val.v[i] : '?';
			out[i] = '\0';
			return;
		}
	}
}

/* see der.h */
int
der_cert_parse(const uint8_t *der, size_t len, struct der_cert *c)
{
	const uint8_t	*p = der, *end = der + len, *t, *te;
	struct tlv	 cert, tbs, el, issuer, validity, nb, na, subject, exts;
	struct tlv	 ext, oid, val;

	memset(c, 0, sizeof(*c));
	if (expect(&p, end, 0x30, &cert) == -1)
		return -1;
	p = cert.v;
	end = cert.v + cert.len;
	if (expect(&p, end, 0x30, &tbs) == -1)
		return -1;
	t = tbs.v;
	te = tbs.v + tbs.len;
	if (next(&t, te, &el) == -1)
		return -1;
	if (el.tag == 0xa0 && next(&t, te, &el) == -1)	/* version */
		return -1;
	if (el.tag != 0x02)				/* serialNumber */
		return -1;
	if (expect(&t, te, 0x30, &el) == -1 ||		/* signature */
	    expect(&t, te, 0x30, &issuer) == -1 ||
	    expect(&t, te, 0x30, &validity) == -1 ||
	    expect(&t, te, 0x30, &subject) == -1 ||
	    expect(&t, te, 0x30, &el) == -1)		/* subjectPublicKeyInfo */
		return -1;
	c->spki = el.v;
	c->spkilen = el.len;
	p = validity.v;
	end = validity.v + validity.len;
	if (next(&p, end, &nb) == -1 || next(&p, end, &na) == -1 ||
	    timeval(&nb, &c->not_before) == -1 ||
	    timeval(&na, &c->not_after) == -1)
		return -1;
	common_name(&subject, c->cn);
	common_name(&issuer, c->issuer_cn);

	while (t < te) {
		if (next(&t, te, &el) == -1)
			return -1;
		if (el.tag != 0xa3)
			continue;
		p = el.v;
		end = el.v + el.len;
		if (expect(&p, end, 0x30, &exts) == -1)
			return -1;
		p = exts.v;
		end = exts.v + exts.len;
		while (p < end) {
			const uint8_t *e, *ee;

			if (expect(&p, end, 0x30, &ext) == -1)
				return -1;
			e = ext.v;
			ee = ext.v + ext.len;
			if (expect(&e, ee, 0x06, &oid) == -1 ||
			    next(&e, ee, &val) == -1)
				return -1;
			if (val.tag == 0x01 && next(&e, ee, &val) == -1)
				return -1;	/* critical flag */
			if (val.tag != 0x04)
				return -1;
			if (oid.len != sizeof(OID_SAN) ||
			    memcmp(oid.v, OID_SAN, sizeof(OID_SAN)) != 0)
				continue;
			e = val.v;
			ee = val.v + val.len;
			if (expect(&e, ee, 0x30, &val) == -1)
				return -1;
			c->san = val.v;
			c->sanlen = val.len;
		}
	}
	return 0;
}

/* see der.h */
int
der_cert_pubkey(const struct der_cert *c, struct der_pubkey *k)
{
	const uint8_t	*p = c->spki, *end = c->spki + c->spkilen, *a, *ae;
	struct tlv	 alg, oid, curve, bits, seq, n;

	memset(k, 0, sizeof(*k));
	if (p == NULL || expect(&p, end, 0x30, &alg) == -1 ||
	    expect(&p, end, 0x03, &bits) == -1 || bits.len < 2 ||
	    bits.v[0] != 0)
		return -1;
	a = alg.v;
	ae = alg.v + alg.len;
	if (expect(&a, ae, 0x06, &oid) == -1)
		return -1;
	if (oid.len == sizeof(OID_EC_PUBKEY) &&
	    memcmp(oid.v, OID_EC_PUBKEY, oid.len) == 0) {
		if (expect(&a, ae, 0x06, &curve) == -1)
			return -1;
		k->type = DER_KEY_EC;
		k->curve = curve.v;
		k->curvelen = curve.len;
		k->key = bits.v + 1;
		k->keylen = bits.len - 1;
		return 0;
	}
	if (oid.len != sizeof(OID_RSA) || memcmp(oid.v, OID_RSA, oid.len) != 0)
		return -1;
	/* RSAPublicKey: the modulus, then the exponent. */
	p = bits.v + 1;
	end = bits.v + bits.len;
	if (expect(&p, end, 0x30, &seq) == -1)
		return -1;
	p = seq.v;
	end = seq.v + seq.len;
	if (expect(&p, end, 0x02, &n) == -1 || n.len == 0)
		return -1;
	k->type = DER_KEY_RSA;
	k->key = n.v;
	k->keylen = n.len;
	return 0;
}

/* see der.h */
int
der_cert_dns_names(const struct der_cert *c,
    int (*fn)(void *, const char *, size_t), void *arg)
{
	const uint8_t	*p, *end;
	struct tlv	 gn;

	if (c->san == NULL)
		return 0;
	p = c->san;
	end = c->san + c->sanlen;
	while (p < end) {
		if (next(&p, end, &gn) == -1)
			return -1;
		if (gn.tag == 0x82 &&
		    fn(arg, (const char *)gn.v, gn.len) == -1)
			return -1;
	}
	return 0;
}


/*
 * An ECPrivateKey (RFC 5915): version 1, the private key, then optional
 * [0] parameters (a named curve) and [1] publicKey.  Fills what it has.
 */
static int
sec1(const uint8_t *der, size_t len, struct der_ec_key *k)
{
	const uint8_t	*p = der, *end = der + len, *q;
	struct tlv	 seq, el, t;

	if (expect(&p, end, 0x30, &seq) == -1)
		return -1;
	p = seq.v;
	end = seq.v + seq.len;
	if (expect(&p, end, 0x02, &el) == -1 || el.len != 1 || el.v[0] != 1 ||
	    expect(&p, end, 0x04, &el) == -1)
		return -1;
	k->priv = el.v;
	k->privlen = el.len;
	while (p < end) {
		if (next(&p, end, &el) == -1)
			return -1;
		q = el.v;
		if (el.tag == 0xa0) {
			/* A named curve; other parameters are not read. */
			if (expect(&q, el.v + el.len, 0x06, &t) == 0) {
				k->curve = t.v;
				k->curvelen = t.len;
			}
		} else if (el.tag == 0xa1) {
			/* A BIT STRING without unused bits: the point. */
			if (expect(&q, el.v + el.len, 0x03, &t) == -1 ||
			    t.len < 2 || t.v[0] != 0)
				return -1;
			k->pub = t.v + 1;
			k->publen = t.len - 1;
		}
	}
	return 0;
}

/*
 * A SEC1 key, bare or in a PKCS#8 PrivateKeyInfo (version 0,
 * id-ecPublicKey and its curve, an OCTET STRING around the SEC1 key).
 */
static int
ec_key(const uint8_t *der, size_t len, struct der_ec_key *k)
{
	const uint8_t	*p = der, *end = der + len, *a, *ae;
	struct tlv	 seq, el, alg, oid;

	memset(k, 0, sizeof(*k));
	if (sec1(der, len, k) == 0)
		return 0;
	memset(k, 0, sizeof(*k));
	if (expect(&p, end, 0x30, &seq) == -1)
		return -1;
	p = seq.v;
	end = seq.v + seq.len;
	if (expect(&p, end, 0x02, &el) == -1 || el.len != 1 || el.v[0] != 0 ||
	    expect(&p, end, 0x30, &alg) == -1)
		return -1;
	a = alg.v;
	ae = alg.v + alg.len;
	if (expect(&a, ae, 0x06, &oid) == -1 ||
	    oid.len != sizeof(OID_EC_PUBKEY) ||
	    memcmp(oid.v, OID_EC_PUBKEY, sizeof(OID_EC_PUBKEY)) != 0 ||
	    expect(&p, end, 0x04, &el) == -1)
		return -1;
	if (sec1(el.v, el.len, k) == -1)
		return -1;
	/* The algorithm's curve, unless the key names its own. */
	if (k->curve == NULL && expect(&a, ae, 0x06, &oid) == 0) {
		k->curve = oid.v;
		k->curvelen = oid.len;
	}
	return 0;
}

/* see der.h */
int
der_ec_key_pub(const uint8_t *der, size_t len, const uint8_t **pub,
    size_t *publen)
{
	struct der_ec_key k;

	if (ec_key(der, len, &k) == -1 || k.pub == NULL)
		return -1;
	*pub = k.pub;
	*publen = k.publen;
	return 0;
}

/* see der.h */
int
der_ec_key(const uint8_t *der, size_t len, struct der_ec_key *k)
{
	if (ec_key(der, len, k) == -1 || k->curve == NULL || k->pub == NULL ||
	    k->privlen == 0)
		return -1;
	return 0;
}
