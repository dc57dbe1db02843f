/*
 * der.h: the few fields of an X.509 certificate that BearSSL's decoder
 * does not expose: validity dates, subject and issuer common names, and
 * every subjectAltName dNSName; and the public key in an EC private key.
 * Pure code over hostile bytes: every length is checked against the
 * enclosing element.
 */
#ifndef DER_H
#define DER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DER_CN_MAX	64

struct der_cert {
	time_t		 not_before;
	time_t		 not_after;
	char		 cn[DER_CN_MAX + 1];	/* printable, may be "" */
	char		 issuer_cn[DER_CN_MAX + 1];	/* the same, of the issuer */
	const uint8_t	*san;			/* GeneralNames content, or NULL */
	size_t		 sanlen;
	const uint8_t	*spki;			/* subjectPublicKeyInfo content */
	size_t		 spkilen;
};

#define DER_KEY_EC	1
#define DER_KEY_RSA	2

/* A certificate's public key; the pointers point into the certificate. */
struct der_pubkey {
	int		 type;		/* DER_KEY_EC or DER_KEY_RSA */
	const uint8_t	*curve;		/* EC: the named curve's OID content */
	size_t		 curvelen;
	const uint8_t	*key;		/* EC: the point; RSA: the modulus */
	size_t		 keylen;
};

/*
 * Parses the DER certificate (len bytes at der) into *c, whose san
 * pointer then points into der.  Returns 0, or -1 if the certificate is
 * malformed where these fields are.
 */
int	der_cert_parse(const uint8_t *der, size_t len, struct der_cert *c);

/*
 * The public key of c: an EC key on a named curve or an RSA key.
 * Returns 0 with *k filled in, or -1 for another kind or a malformed one.
 */
int	der_cert_pubkey(const struct der_cert *c, struct der_pubkey *k);

/*
 * Calls fn for each dNSName of c's subjectAltName, in order, with the raw
 * bytes (not NUL-terminated).  Stops and returns -1 if fn does or the
 * extension is malformed; else 0.
 */
int	der_cert_dns_names(const struct der_cert *c,
	    int (*fn)(void *, const char *, size_t), void *arg);

/*
 * The public key an EC private key carries, as openssl, certbot, lego
 * and python write it: the [1] publicKey BIT STRING of a SEC1
 * ECPrivateKey (RFC 5915), bare or in a PKCS#8 PrivateKeyInfo.  Returns
 * 0 with *pub pointing into der at the point (*publen bytes, unchecked:
 * it may not match the private key), or -1 if there is none.
 */
int	der_ec_key_pub(const uint8_t *der, size_t len, const uint8_t **pub,
	    size_t *publen);

/* An EC private key's parts, pointing into the DER read. */
struct der_ec_key {
	const uint8_t	*curve;		/* the named curve's OID */
	size_t		 curvelen;
	const uint8_t	*priv;		/* the private scalar, as written */
	size_t		 privlen;
	const uint8_t	*pub;		/* the public point, as written */
	size_t		 publen;
};

/*
 * The same keys read whole: the private scalar, the named curve (SEC1's
 * [0] parameters or PKCS#8's algorithm) and the public key.  Returns 0
 * with *k filled in (unchecked: the point may not match the scalar), or
 * -1 for another kind of key or one without a named curve or a public
 * key (BearSSL's decoder reads those).
 */
int	der_ec_key(const uint8_t *der, size_t len, struct der_ec_key *k);

#endif /* DER_H */
