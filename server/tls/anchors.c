/*
 * anchors.c: trust anchors, the CA certificates of one PEM file, for the
 * verifying client.  See client.h.
 */
#include <fcntl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "lib/file.h"
#include "lib/pem.h"
#include "tls/client.h"
#include "tls/internal.h"

#define ANCHORS_FILE_MAX	(16 * 1024 * 1024)	/* bytes of a CA file */

/* see tls.h */
void
tls_anchors_free(struct tls_anchors *ta)
{
	if (ta == NULL)
		return;
	for (size_t i = 0; i < ta->n; i++) {
		free(ta->v[i].dn.data);
		if (ta->v[i].pkey.key_type == BR_KEYTYPE_RSA) {
			free(ta->v[i].pkey.key.rsa.n);
			free(ta->v[i].pkey.key.rsa.e);
		} else
			free(ta->v[i].pkey.key.ec.q);
	}
	free(ta->v);
	free(ta);
}

static unsigned char *
dup_bytes(const void *p, size_t n)
{
	unsigned char *d = malloc(n > 0 ? n : 1);

	if (d != NULL)
		memcpy(d, p, n);
	return d;
}

/* A growing buffer for a certificate's subject name (the anchor's DN). */
struct dnbuf {
	unsigned char	*v;
	size_t		 n;
	int		 oom;
};

static void
dn_append(void *ctx, const void *data, size_t len)
{
	struct dnbuf	*d = ctx;
	unsigned char	*nv;

	if (d->oom)
		return;
	if ((nv = realloc(d->v, d->n + len)) == NULL) {
		d->oom = 1;
		return;
	}
	memcpy(nv + d->n, data, len);
	d->v = nv;
	d->n += len;
}

/*
 * Adds the certificate der as a trust anchor.  Returns 0 (a certificate
 * BearSSL cannot use is skipped), or -1 when memory runs out.
 */
static int
anchor_add(struct tls_anchors *ta, const unsigned char *der, size_t len)
{
	br_x509_decoder_context	 dc;
	br_x509_trust_anchor	*a, *nv;
	const br_x509_pkey	*pk;
	struct dnbuf		 dn;

	memset(&dn, 0, sizeof(dn));
	br_x509_decoder_init(&dc, dn_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	if ((pk = br_x509_decoder_get_pkey(&dc)) == NULL || dn.oom ||
	    dn.n == 0) {
		free(dn.v);
		return dn.oom ? -1 : 0;
	}
	if (ta->n == ta->cap) {
		size_t cap = ta->cap ? ta->cap * 2 : 64;

		if ((nv = reallocarray(ta->v, cap, sizeof(*nv))) == NULL) {
			free(dn.v);
			return -1;
		}
		ta->v = nv;
		ta->cap = cap;
	}
	a = &ta->v[ta->n];
	memset(a, 0, sizeof(*a));
	a->dn.data = dn.v;
	a->dn.len = dn.n;
	a->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	a->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		a->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		a->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		a->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		a->pkey.key.rsa.elen = pk->key.rsa.elen;
		ta->n++;	/* freed with the others, even half made */
		if (a->pkey.key.rsa.n == NULL || a->pkey.key.rsa.e == NULL)
			return -1;
	} else {
		a->pkey.key.ec.curve = pk->key.ec.curve;
		a->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		a->pkey.key.ec.qlen = pk->key.ec.qlen;
		ta->n++;
		if (a->pkey.key.ec.q == NULL)
			return -1;
	}
	return 0;
}

/* see tls.h */
struct tls_anchors *
tls_anchors_load(const char *path, char *err, size_t errsz)
{
	struct pem_reader	 r;
	struct tls_anchors	*ta;
	char			 label[PEM_LABEL_MAX + 1];
	char			*buf = NULL;
	uint8_t			*der = NULL;
	size_t			 len, n;
	int			 rc;

	if ((ta = calloc(1, sizeof(*ta))) == NULL ||
	    file_read(AT_FDCWD, path, ANCHORS_FILE_MAX, 0, &buf, &len) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((der = malloc(len > 0 ? len : 1)) == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		goto fail;
	}
	pem_init(&r, buf, len);
	while ((rc = pem_next(&r, label, der, len, &n)) == PEM_OBJECT) {
		if ((strcmp(label, "CERTIFICATE") == 0 ||
		    strcmp(label, "TRUSTED CERTIFICATE") == 0) &&
		    anchor_add(ta, der, n) == -1) {
			snprintf(err, errsz, "%s: out of memory", path);
			goto fail;
		}
	}
	if (rc != PEM_DONE || ta->n == 0) {
		snprintf(err, errsz, "%s: %s", path, rc != PEM_DONE ?
		    "malformed PEM" : "no CA certificate in it");
		goto fail;
	}
	free(der);
	free(buf);
	return ta;
fail:
	free(der);
	free(buf);
	tls_anchors_free(ta);
	return NULL;
}
