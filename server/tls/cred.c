/*
 * cred.c: credentials, a certificate chain with its private key, shared
 * by reference between scans and snapshots.  See tls.h.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "lib/ascii.h"
#include "lib/log.h"
#include "tls/internal.h"
#include "tls/tls.h"

/* see internal.h */
const char *
cred_curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:
		return "P-256";
	case BR_EC_secp384r1:
		return "P-384";
	case BR_EC_secp521r1:
		return "P-521";
	default:
		return NULL;
	}
}

/* A shared path: its references, then its bytes. */
struct path {
	atomic_int	 refs;
	char		 s[];
};

static struct path *
path_of(char *p)
{
	return (struct path *)(void *)(p - offsetof(struct path, s));
}

/* see internal.h */
char *
path_new(const char *s)
{
	size_t		 l = strlen(s) + 1;
	struct path	*p;

	if ((p = malloc(sizeof(*p) + l)) == NULL)
		return NULL;
	atomic_init(&p->refs, 1);
	memcpy(p->s, s, l);
	return p->s;
}

/* see internal.h */
char *
path_ref(char *p)
{
	if (p != NULL)
		atomic_fetch_add(&path_of(p)->refs, 1);
	return p;
}

/* see internal.h */
void
path_unref(char *p)
{
	if (p != NULL && atomic_fetch_sub(&path_of(p)->refs, 1) == 1)
		free(path_of(p));
}

/* see internal.h */
void
blob_unref(void *p)
{
	struct blob *b;

	if (p == NULL)
		return;
	b = (struct blob *)(void *)((unsigned char *)p -
	    offsetof(struct blob, data));
	if (atomic_fetch_sub(&b->refs, 1) > 1)
		return;
	free(b->key);
	free(b);
}

/* see internal.h */
struct blob *
blob_of(const void *p)
{
	return (struct blob *)(void *)((unsigned char *)(uintptr_t)p -
	    offsetof(struct blob, data));
}

/*
 * see internal.h: computed at the first handshake for a key paired by
 * its embedded public key, then known.
 */
int
cred_key_ok(struct tls_cred *c)
{
	br_x509_decoder_context	 dc;
	const br_x509_pkey	*pk;
	br_ec_public_key	 pub;
	unsigned char		 buf[BR_EC_KBUF_PUB_MAX_SIZE];
	int			 v = atomic_load(&c->keycheck), want;
	size_t			 n;

	if (v != KEY_UNCHECKED)
		return v == KEY_OK;
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&dc);
	n = br_ec_compute_pub(tls_impl.ec, &pub, buf, &c->ec);
	want = pk != NULL && pk->key_type == BR_KEYTYPE_EC && n != 0 &&
	    pk->key.ec.qlen == n && memcmp(pk->key.ec.q, buf, n) == 0 ?
	    KEY_OK : KEY_BAD;
	/* Two threads may compute it; one logs. */
	if (atomic_compare_exchange_strong(&c->keycheck, &v, want) &&
	    want == KEY_BAD)
		log_error("certs: %s: private key does not match the public "
		    "key written with it (certificate %s): not served",
		    c->keypath, c->path);
	return want == KEY_OK;
}

/* see tls.h */
void
tls_cred_ref(struct tls_cred *c)
{
	c->refs++;
}

/* see tls.h */
void
tls_cred_unref(struct tls_cred *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	for (size_t i = 0; i < c->nchain; i++)
		blob_unref(c->chain[i].data);
	free(c->names);
	if (c->keybuf != NULL) {
		explicit_bzero(c->keybuf, c->type == BR_KEYTYPE_EC ?
		    c->ec.xlen : c->rsa.plen + c->rsa.qlen + c->rsa.dplen +
		    c->rsa.dqlen + c->rsa.iqlen);
		free(c->keybuf);
	}
	path_unref(c->path);
	path_unref(c->keypath);
	free(c->cn);
	free(c);
}

/* see tls.h */
const char *
tls_cred_subject(const struct tls_cred *c)
{
	return c->cn != NULL ? c->cn : (c->nnames > 0 ? c->names[0] : "?");
}

/* see tls.h */
const char *
tls_cred_path(const struct tls_cred *c)
{
	return c->path;
}

/* see internal.h */
struct tls_cred *
cred_new(size_t n)
{
	struct tls_cred *c;

	if ((c = calloc(1, sizeof(*c) + n * sizeof(c->chain[0]))) == NULL)
		return NULL;
	c->refs = 1;
	return c;
}

/* see tls.h */
const char *
tls_cred_kind(const struct tls_cred *c)
{
	return cred_kind(c);
}

/* see internal.h */
const char *
cred_kind(const struct tls_cred *c)
{
	static _Thread_local char	 rsa[24];

	/* Made when asked (the log, -n): not kept in every credential. */
	if (c->type == BR_KEYTYPE_EC) {
		switch (c->ec.curve) {
		case BR_EC_secp256r1:
			return "ECDSA P-256";
		case BR_EC_secp384r1:
			return "ECDSA P-384";
		default:
			return "ECDSA P-521";
		}
	}
	snprintf(rsa, sizeof(rsa), "RSA %u", c->rsa.n_bitlen);
	return rsa;
}

/* see tls.h */
time_t
tls_cred_not_after(const struct tls_cred *c)
{
	return c->not_after;
}

/* see tls.h */
const char *
tls_cred_issuer(const struct tls_cred *c, char *buf, size_t bufsz)
{
	struct der_cert	 dc;

	if (c->nchain == 0 || der_cert_parse(c->chain[0].data,
	    c->chain[0].data_len, &dc) == -1 || dc.issuer_cn[0] == '\0')
		snprintf(buf, bufsz, "?");
	else
		snprintf(buf, bufsz, "%s", dc.issuer_cn);
	return buf;
}

/* see tls.h */
int
tls_cred_same_leaf(const struct tls_cred *a, const struct tls_cred *b)
{
	return a->nchain > 0 && b->nchain > 0 &&
	    a->chain[0].data_len == b->chain[0].data_len &&
	    memcmp(a->chain[0].data, b->chain[0].data,
	    a->chain[0].data_len) == 0;
}

/* see internal.h */
/*
 * see internal.h: the names and their strings in one block (100,000
 * credentials, one name each): made anew for each name added.
 */
int
cred_add_name(void *arg, const char *name, size_t len)
{
	struct tls_cred	*c = arg;
	size_t		 used = 0, n = c->nnames, l;
	char		**nb, *p;

	/* Only names that could be host names; others are ignored. */
	if (len == 0 || len > 253 || memchr(name, '\0', len) != NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		used += strlen(c->names[i]) + 1;
	if ((nb = malloc((n + 1) * sizeof(*nb) + used + len + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	p = (char *)(nb + n + 1);
	for (size_t i = 0; i < n; i++) {
		l = strlen(c->names[i]) + 1;
		memcpy(p, c->names[i], l);
		nb[i] = p;
		p += l;
	}
	ascii_lower_copy(p, name, len);
	nb[n] = p;
	free(c->names);
	c->names = nb;
	c->nnames = n + 1;
	return 0;
}
