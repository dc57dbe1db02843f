/*
 * scan.c: scanning the certificate directory.  PEM files (certificates,
 * chains and keys in any combination and any file name) are read, keys
 * paired with chains by their public key, and what an unchanged file
 * gave is taken from the last scan instead of read again.  See tls.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "lib/ascii.h"
#include "lib/der.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/map.h"
#include "lib/pem.h"
#include "tls/digest.h"
#include "tls/internal.h"
#include "tls/tls.h"

#define CERT_FILE_MAX	(1024 * 1024)	/* bytes of one PEM file */
#define SCAN_DEPTH	8		/* directory levels under cert_dir */

/*
 * What one file gave at a scan, kept for the next while the file is
 * unchanged (same device, inode, size, modification and change times):
 * then it is not read again.  Only files that gave no warning are kept,
 * so that a bad file is logged at every scan.
 */
/* A private key found while scanning, before pairing. */
struct key {
	int			 type;
	union {
		br_ec_private_key ec;
		br_rsa_private_key rsa;
	};
	unsigned char		*buf;
	char			*pub;	/* hex of the public key: pairing key */
	char			*path;
	int			 used;
	int			 embedded;	/* pub read, not computed */
	int			 borrowed;	/* a file cache entry's */
};

struct fent {
	int			 refs;	/* scans that hold it */
	char			*path;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtim, ctim;
	struct tls_cred		*cred;	/* its chain (paired or not), or NULL */
	char			*pub;	/* the chain's pairing key */
	size_t			 nkeys;
	struct key		 keys[];	/* its private keys */
};

/* A problem with the file being read: logged, and the file not kept. */
#define scan_warn(sc, ...) ((sc)->warned = 1, log_warn(__VA_ARGS__))

/* A chain found while scanning, before pairing. */
struct pend {
	struct tls_cred		*c;	/* a reference */
	char			*pub;	/* its pairing key, or NULL */
	struct fent		*fe;	/* its file's cache entry, or NULL */
	int			 reused;	/* c is the last scan's */
};

/* What a scan collects before pairing. */
struct scan {
	struct pend		*creds;	/* chains, keys not yet set */
	size_t			 ncreds, capcreds;
	struct key		*keys;
	size_t			 nkeys, capkeys;
	struct tls_certs	*prev;	/* the last scan, or NULL */
	struct tls_certs	*cs;	/* this one's */
	int			 warned;	/* the current file */
	int			 oom;
	/* A file and its DER, for one file at a time: no allocation each. */
	char			*buf;		/* CERT_FILE_MAX + 2 */
	unsigned char		*der;		/* CERT_FILE_MAX */
};

/* One certificate's DER bytes, while a file is read. */
struct obj {
	unsigned char	*v;
	size_t		 n;
};

static int	push_pend(struct scan *, struct tls_cred *, struct fent *, int);
static int	push_key(struct scan *, struct key *);

/*
 * A blob with the len bytes at der: the one this scan or the last already
 * has with the same bytes, or a new one.  NULL on ENOMEM.
 */
static unsigned char *
blob_get(struct scan *sc, const unsigned char *der, size_t len, int share)
{
	struct blob	*b;
	char		 key[65];

	if (share) {
		tls_sha256_hex(der, len, key);
		b = map_get(&sc->cs->blobs, key, 64);
		if (b == NULL && sc->prev != NULL &&
		    (b = map_get(&sc->prev->blobs, key, 64)) != NULL) {
			if (map_put(&sc->cs->blobs, b->key, b) == -1)
				return NULL;
			atomic_fetch_add(&b->refs, 1);	/* the map's */
		}
		if (b != NULL) {
			atomic_fetch_add(&b->refs, 1);
			return b->data;
		}
	}
	if ((b = malloc(sizeof(*b) + len)) == NULL)
		return NULL;
	atomic_init(&b->refs, 1);
	b->key = NULL;
	memcpy(b->data, der, len);
	if (share) {
		if ((b->key = strdup(key)) == NULL ||
		    map_put(&sc->cs->blobs, b->key, b) == -1) {
			free(b->key);
			free(b);
			return NULL;
		}
		atomic_fetch_add(&b->refs, 1);
	}
	return b->data;
}

/*
 * An EC key as ACME clients write it (a named curve, its public key
 * with it), read with our own DER code: BearSSL's decoder, an
 * interpreter, took 6% of a start with 100,000 keys.  Returns 1 with *k
 * set (its numbers a copy), 0 to let BearSSL read it, -1 on ENOMEM.
 */
static int
ec_key_fast(const unsigned char *der, size_t len, struct key *k)
{
	struct der_ec_key	 dk;
	int			 curve;
	size_t			 cb;

	if (der_ec_key(der, len, &dk) == -1 ||
	    (curve = pubkey_curve(dk.curve, dk.curvelen)) == 0)
		return 0;
	cb = pubkey_curve_bytes(curve);
	if (dk.privlen > cb || dk.publen != 1 + 2 * cb || dk.pub[0] != 0x04)
		return 0;
	if ((k->buf = malloc(dk.privlen)) == NULL)
		return -1;
	memcpy(k->buf, dk.priv, dk.privlen);
	k->type = BR_KEYTYPE_EC;
	k->ec.curve = curve;
	k->ec.x = k->buf;
	k->ec.xlen = dk.privlen;
	k->embedded = 1;
	if ((k->pub = pubkey_id(k->type, (unsigned)curve, dk.pub,
	    dk.publen)) == NULL) {
		explicit_bzero(k->buf, dk.privlen);
		free(k->buf);
		k->buf = NULL;
		return -1;
	}
	return 1;
}

/* Takes a decoded private key into the scan's key list. */
static int
scan_key(struct scan *sc, const char *path, const unsigned char *der,
    size_t len)
{
	br_skey_decoder_context	 dc;
	struct key		 k;
	unsigned char		 pub[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char		 n[512];
	br_ec_public_key	 pk;
	const uint8_t		*ep;
	size_t			 nlen, eplen;

	memset(&k, 0, sizeof(k));
	switch (ec_key_fast(der, len, &k)) {
	case -1:
		return -1;
	case 1:
		if ((k.path = path_new(path)) == NULL || push_key(sc, &k) == -1)
			goto oom;
		return 0;
	}
	br_skey_decoder_init(&dc);
	br_skey_decoder_push(&dc, der, len);
	if (br_skey_decoder_last_error(&dc) != 0) {
		scan_warn(sc, "certs: %s: unreadable private key (BearSSL error "
		    "%d)", path, br_skey_decoder_last_error(&dc));
		return 0;
	}
	k.type = br_skey_decoder_key_type(&dc);
	if (k.type == BR_KEYTYPE_EC) {
		const br_ec_private_key *sk = br_skey_decoder_get_ec(&dc);

		if (cred_curve_name(sk->curve) == NULL) {
			scan_warn(sc, "certs: %s: unsupported EC curve %d", path,
			    sk->curve);
			return 0;
		}
		if ((k.buf = malloc(sk->xlen)) == NULL)
			return -1;
		memcpy(k.buf, sk->x, sk->xlen);
		k.ec = *sk;
		k.ec.x = k.buf;
		/* An uncompressed point of the key's size: 1 + 2 * 2^n. */
		if (der_ec_key_pub(der, len, &ep, &eplen) == 0 && eplen > 1 &&
		    ep[0] == 0x04 && eplen - 1 == 2 * pubkey_curve_bytes(sk->curve)) {
			k.embedded = 1;
			k.pub = pubkey_id(k.type, (unsigned)sk->curve, ep, eplen);
		} else {
			nlen = br_ec_compute_pub(tls_impl.ec, &pk, pub, sk);
			if (nlen == 0) {
				scan_warn(sc, "certs: %s: invalid EC private key",
				    path);
				goto skip;
			}
			k.pub = pubkey_id(k.type, (unsigned)sk->curve, pk.q,
			    pk.qlen);
		}
	} else if (k.type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&dc);
		size_t total = sk->plen + sk->qlen + sk->dplen + sk->dqlen +
		    sk->iqlen, off = 0;

		if (sk->n_bitlen < 2048 || sk->n_bitlen > 4096) {
			scan_warn(sc, "certs: %s: RSA key of %u bits (2048 to 4096 "
			    "are used)", path, sk->n_bitlen);
			return 0;
		}
		if ((k.buf = malloc(total)) == NULL)
			return -1;
		k.rsa = *sk;
#define TAKE(f, l) do {						\
	memcpy(k.buf + off, sk->f, sk->l);			\
	k.rsa.f = k.buf + off;					\
	off += sk->l;						\
} while (0)
		TAKE(p, plen);
		TAKE(q, qlen);
		TAKE(dp, dplen);
		TAKE(dq, dqlen);
		TAKE(iq, iqlen);
#undef TAKE
		nlen = tls_impl.rsa_modulus(NULL, sk);
		if (nlen == 0 || nlen > sizeof(n) ||
		    tls_impl.rsa_modulus(n, sk) != nlen) {
			scan_warn(sc, "certs: %s: invalid RSA private key", path);
			goto skip;
		}
		k.pub = pubkey_id(k.type, 0, n, nlen);
	} else
		return 0;
	if (k.pub == NULL || (k.path = path_new(path)) == NULL)
		goto oom;
	if (push_key(sc, &k) == -1)
		goto oom;
	explicit_bzero(&dc, sizeof(dc));
	return 0;
skip:
	explicit_bzero(&dc, sizeof(dc));
	free(k.buf);
	return 0;
oom:
	explicit_bzero(&dc, sizeof(dc));
	free(k.buf);
	free(k.pub);
	path_unref(k.path);
	return -1;
}

/* Takes a file's certificates, leaf first, as one chain. */
static int
scan_chain(struct scan *sc, const char *path, struct obj *certs, size_t n)
{
	struct tls_cred	*c;
	struct der_cert	 dc;
	char		*pub = NULL;

	if (der_cert_parse(certs[0].v, certs[0].n, &dc) == -1) {
		scan_warn(sc, "certs: %s: malformed certificate", path);
		return 0;
	}
	if (pubkey_of_cert(&dc, &pub) == -1)
		return -1;
	if ((c = cred_new(n)) == NULL) {
		free(pub);
		return -1;
	}
	c->not_before = dc.not_before;
	c->not_after = dc.not_after;
	errno = 0;
	if (der_cert_dns_names(&dc, cred_add_name, c) == -1) {
		tls_cred_unref(c);
		free(pub);
		if (errno == ENOMEM)
			return -1;
		/* One bad file is skipped, never the whole scan. */
		scan_warn(sc, "certs: %s: malformed subjectAltName", path);
		return 0;
	}
	/* Kept only when it says more than the first name. */
	if (dc.cn[0] != '\0' && (c->nnames == 0 ||
	    strcmp(dc.cn, c->names[0]) != 0) && (c->cn = strdup(dc.cn)) ==
	    NULL)
		goto oom;
	if ((c->path = path_new(path)) == NULL)
		goto oom;
	/* The leaf is its own; the others are shared. */
	for (size_t i = 0; i < n; i++) {
		if ((c->chain[i].data = blob_get(sc, certs[i].v, certs[i].n,
		    i > 0)) == NULL)
			goto oom;
		c->chain[i].data_len = certs[i].n;
		c->nchain = i + 1;
	}
	if (push_pend(sc, c, NULL, 0) == -1)
		goto oom;
	sc->creds[sc->ncreds - 1].pub = pub;
	return 0;
oom:
	free(pub);
	tls_cred_unref(c);
	return -1;
}

/* Adds a chain (a reference, taken over) to the scan's list. */
static int
push_pend(struct scan *sc, struct tls_cred *c, struct fent *fe, int reused)
{
	if (sc->ncreds == sc->capcreds) {
		size_t cap = sc->capcreds ? sc->capcreds * 2 : 16;
		struct pend *nv = realloc(sc->creds, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		sc->creds = nv;
		sc->capcreds = cap;
	}
	sc->creds[sc->ncreds].c = c;
	sc->creds[sc->ncreds].pub = NULL;
	sc->creds[sc->ncreds].fe = fe;
	sc->creds[sc->ncreds++].reused = reused;
	return 0;
}

/* The bytes of a key's numbers. */
static size_t
key_len(const struct key *k)
{
	return k->type == BR_KEYTYPE_EC ? k->ec.xlen : k->rsa.plen +
	    k->rsa.qlen + k->rsa.dplen + k->rsa.dqlen + k->rsa.iqlen;
}

static void
key_free(struct key *k)
{
	if (k->borrowed)
		return;
	if (k->buf != NULL)
		explicit_bzero(k->buf, key_len(k));
	free(k->buf);
	free(k->pub);
	path_unref(k->path);
}

/* Adds a key (taken over) to the scan's list. */
static int
push_key(struct scan *sc, struct key *k)
{
	if (sc->nkeys == sc->capkeys) {
		size_t cap = sc->capkeys ? sc->capkeys * 2 : 16;
		struct key *nv = realloc(sc->keys, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		sc->keys = nv;
		sc->capkeys = cap;
	}
	sc->keys[sc->nkeys++] = *k;
	return 0;
}

/* Adds fe (a reference, taken over) to cs's cache.  Returns 0, or -1. */
static int
keep_fent(struct tls_certs *cs, struct fent *fe)
{
	if (cs->nfiles == cs->capfiles) {
		size_t cap = cs->capfiles ? cs->capfiles * 2 : 64;
		struct fent **nv = realloc(cs->files, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		cs->files = nv;
		cs->capfiles = cap;
	}
	if (map_put(&cs->fmap, fe->path, fe) == -1)
		return -1;
	cs->files[cs->nfiles++] = fe;
	return 0;
}

static void
fent_free(struct fent *fe)
{
	if (fe == NULL || --fe->refs > 0)
		return;
	tls_cred_unref(fe->cred);
	for (size_t i = 0; i < fe->nkeys; i++)
		key_free(&fe->keys[i]);
	free(fe->pub);
	path_unref(fe->path);
	free(fe);
}

/*
 * A cache entry for path (identity st) that takes over the keys
 * sc->keys[k0..] (the scan borrows them from it from then on: no copy)
 * and holds the chain c (a reference taken), kept in this scan's result.
 * NULL on ENOMEM, the keys still the scan's.
 */
static struct fent *
fent_new(struct scan *sc, const char *path, const struct stat *st,
    size_t k0, struct tls_cred *c)
{
	struct tls_certs	*cs = sc->cs;
	struct fent		*fe;

	if ((fe = calloc(1, sizeof(*fe) + (sc->nkeys - k0) *
	    sizeof(fe->keys[0]))) == NULL)
		return NULL;
	fe->refs = 1;
	fe->dev = st->st_dev;
	fe->ino = st->st_ino;
	fe->size = st->st_size;
	fe->mtim = st->st_mtim;
	fe->ctim = st->st_ctim;
	/* The same path as the chain's, or the keys'. */
	fe->path = c != NULL ? path_ref(c->path) : sc->nkeys > k0 ?
	    path_ref(sc->keys[k0].path) : path_new(path);
	if (fe->path == NULL)
		goto fail;
	if (keep_fent(cs, fe) == -1)
		goto fail;
	for (size_t i = k0; i < sc->nkeys; i++) {
		fe->keys[fe->nkeys++] = sc->keys[i];
		sc->keys[i].borrowed = 1;
	}
	if ((fe->cred = c) != NULL)
		tls_cred_ref(c);
	return fe;
fail:
	fent_free(fe);
	return NULL;
}

/*
 * Takes what the last scan read from path, if the file is unchanged:
 * returns 1 when it did, 0 when the file must be read, -1 on ENOMEM.
 */
static int
scan_reuse(struct scan *sc, const char *path, const struct stat *st)
{
	struct fent		*old;
	struct key		 k;

	if (sc->prev == NULL ||
	    (old = map_get(&sc->prev->fmap, path, strlen(path))) == NULL ||
	    strcmp(old->path, path) != 0 || old->dev != st->st_dev ||
	    old->ino != st->st_ino || old->size != st->st_size ||
	    old->mtim.tv_sec != st->st_mtim.tv_sec ||
	    old->mtim.tv_nsec != st->st_mtim.tv_nsec ||
	    old->ctim.tv_sec != st->st_ctim.tv_sec ||
	    old->ctim.tv_nsec != st->st_ctim.tv_nsec)
		return 0;
	/* Shared, not copied: the last scan's is freed after this one. */
	if (keep_fent(sc->cs, old) == -1)
		return -1;
	old->refs++;
	for (size_t i = 0; i < old->nkeys; i++) {
		k = old->keys[i];
		k.used = 0;
		k.borrowed = 1;
		if (push_key(sc, &k) == -1)
			return -1;
	}
	if (old->cred != NULL) {
		tls_cred_ref(old->cred);
		/* Reblobs: the shared certificates stay shared. */
		for (size_t i = 1; i < old->cred->nchain; i++) {
			struct blob *b = blob_of(old->cred->chain[i].data);

			if (b->key != NULL &&
			    map_get(&sc->cs->blobs, b->key, 64) == NULL) {
				if (map_put(&sc->cs->blobs, b->key, b) == -1) {
					tls_cred_unref(old->cred);
					return -1;
				}
				atomic_fetch_add(&b->refs, 1);
			}
		}
		if (push_pend(sc, old->cred, old, 1) == -1) {
			tls_cred_unref(old->cred);
			return -1;
		}
	}
	return 1;
}

/*
 * Decodes one PEM file: its certificates form a chain, its keys join the
 * key list.  A file whose last object has no END line is being written:
 * it is skipped whole, and taken on the next scan.  A file unchanged
 * since the last scan (st, or NULL when there is none) is not read again.
 */
static int
scan_file(struct scan *sc, int dirfd, const char *name, const char *path,
    const struct stat *st)
{
	struct pem_reader	 r;
	struct obj		 certs[CHAIN_MAX];
	char			 label[PEM_LABEL_MAX + 1];
	unsigned char		*der = sc->der;
	size_t			 len, derlen, ncerts = 0, off = 0;
	size_t			 k0 = sc->nkeys, c0 = sc->ncreds;
	struct stat		 fst;
	char			*data = sc->buf;
	int			 rc = 0, ev;

	if (st != NULL && (rc = scan_reuse(sc, path, st)) != 0)
		return rc == 1 ? 0 : -1;
	sc->warned = 0;
	if (file_read_into(dirfd, name, data, CERT_FILE_MAX + 2, 0, &len,
	    &fst) == -1) {
		if (errno == EFBIG)
			log_warn("certs: %s: larger than %d bytes, skipped",
			    path, CERT_FILE_MAX);
		else if (errno != EINVAL && (st != NULL || errno != ENOENT))
			log_warn("certs: %s: %s", path, strerror(errno));
		return 0;
	}
	/* What was read is what the next scan compares with. */
	st = &fst;
	if (memmem(data, len, "-----BEGIN ", 11) == NULL)
		return 0;
	/*
	 * DER is shorter than its base64: the file's size holds all its
	 * objects, one after the other.
	 */
	pem_init(&r, data, len);
	while ((ev = pem_next(&r, label, der + off, len - off, &derlen)) ==
	    PEM_OBJECT) {
		if (strcmp(label, "CERTIFICATE") == 0) {
			if (ncerts == CHAIN_MAX) {
				log_warn("certs: %s: more than %d certificates "
				    "in one file", path, CHAIN_MAX);
				goto out;
			}
			certs[ncerts].v = der + off;
			certs[ncerts++].n = derlen;
			off += derlen;
		} else if (strcmp(label, "PRIVATE KEY") == 0 ||
		    strcmp(label, "EC PRIVATE KEY") == 0 ||
		    strcmp(label, "RSA PRIVATE KEY") == 0) {
			if (scan_key(sc, path, der + off, derlen) == -1) {
				rc = -1;
				goto out;
			}
		}
		/* Others (e.g. EC PARAMETERS) are not needed. */
	}
	if (ev != PEM_DONE) {
		log_warn("certs: %s: %s, skipped", path, ev == PEM_INCOMPLETE ?
		    "incomplete PEM object (file being written?)" :
		    "malformed PEM");
		goto out;
	}
	if (ncerts > 0 && (rc = scan_chain(sc, path, certs, ncerts)) == -1)
		goto out;
	/* Kept for the next scan when nothing was wrong with it. */
	if (!sc->warned && (ncerts == 0 || sc->ncreds > c0)) {
		struct fent *fe = fent_new(sc, path, st, k0,
		    ncerts > 0 ? sc->creds[c0].c : NULL);

		if (fe == NULL)
			rc = -1;
		else if (ncerts > 0)
			sc->creds[c0].fe = fe;
	}
out:
	/* Keys were there: nothing of them stays in the buffers. */
	explicit_bzero(der, len);
	explicit_bzero(data, len);
	return rc;
}

/* A directory's entries that may be certificates, read at once. */
struct ents {
	char		*names;		/* NUL after each */
	size_t		*off;		/* of each name in names */
	unsigned char	*type;		/* d_type */
	size_t		 n, len, cap, capn;
};

static void
ents_free(struct ents *e)
{
	free(e->names);
	free(e->off);
	free(e->type);
}

/* Reads the entries of d.  Returns 0, or -1. */
static int
ents_read(DIR *d, struct ents *e)
{
	struct dirent	*de;

	memset(e, 0, sizeof(*e));
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);

		/* Hidden, backup and temporary files are not taken. */
		if (de->d_name[0] == '.' || de->d_name[nl - 1] == '~' ||
		    (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0))
			continue;
		if (e->len + nl + 1 > e->cap) {
			size_t	 cap = e->cap ? e->cap * 2 : 4096;
			char	*nb;

			while (cap < e->len + nl + 1)
				cap *= 2;
			if ((nb = realloc(e->names, cap)) == NULL)
				return -1;
			e->names = nb;
			e->cap = cap;
		}
		if (e->n == e->capn) {
			size_t		 cap = e->capn ? e->capn * 2 : 64;
			size_t		*no;
			unsigned char	*nt;

			if ((no = realloc(e->off, cap * sizeof(*no))) == NULL)
				return -1;
			e->off = no;
			if ((nt = realloc(e->type, cap)) == NULL)
				return -1;
			e->type = nt;
			e->capn = cap;
		}
		memcpy(e->names + e->len, de->d_name, nl + 1);
		e->off[e->n] = e->len;
		e->type[e->n++] = de->d_type;
		e->len += nl + 1;
	}
	return 0;
}

static int	scan_dir(struct scan *, int, const char *, int);

/* One entry of the directory dirfd (path), as scan_dir() finds it. */
static int
scan_entry(struct scan *sc, int dirfd, const char *path, const char *name,
    unsigned char type, int depth)
{
	struct stat	 st, lst;
	char		 sub[4096];
	int		 fd;

	if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, name) >=
	    sizeof(sub))
		return 0;
	/*
	 * A regular file needs no stat before it is read, unless a last
	 * scan may have it; then one, not two (20,000 files).
	 */
	if (type == DT_REG && sc->prev == NULL)
		return scan_file(sc, dirfd, name, sub, NULL);
	if (type == DT_REG)
		lst.st_mode = S_IFREG;
	else if (fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (fstatat(dirfd, name, &st, 0) == -1) {
		if (errno != ENOENT || type != DT_REG)
			log_warn("certs: %s: %s", sub, strerror(errno));
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		/* Linked directories are not followed: no loops. */
		if (S_ISLNK(lst.st_mode) || depth >= SCAN_DEPTH)
			return 0;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    O_NOFOLLOW);
		if (fd == -1) {
			log_warn("certs: %s: %s", sub, strerror(errno));
			return 0;
		}
		if (scan_dir(sc, fd, sub, depth + 1) == -1)
			log_warn("certs: %s: %s", sub, strerror(errno));
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return scan_file(sc, dirfd, name, sub, &st);
	return 0;
}

/* Scans the directory fd (which it closes) and those below it. */
static int
scan_dir(struct scan *sc, int fd, const char *path, int depth)
{
	struct ents	 e;
	DIR		*d;
	int		 rc = 0;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	if (ents_read(d, &e) == -1)
		rc = -1;
	for (size_t i = 0; i < e.n && rc == 0; i++)
		rc = scan_entry(sc, fd, path, e.names + e.off[i], e.type[i],
		    depth);
	ents_free(&e);
	closedir(d);
	return rc;
}

/*
 * A large directory is scanned by several threads, each a part of its
 * entries into a scan of its own (its chains, keys, file cache entries
 * and certificates shared within it), merged after: reading 200,000
 * files is mostly system calls, which take a CPU each.
 */
#define PART_MIN	1024	/* entries a thread at least */
#define PARTS_MAX	8

struct part {
	struct scan		 sc;
	pthread_t		 tid;
	int			 fd;
	const char		*path;
	const struct ents	*e;
	size_t			 lo, hi;
	int			 rc;
};

static void *
part_run(void *arg)
{
	struct part *p = arg;

	for (size_t i = p->lo; i < p->hi && p->rc == 0; i++)
		p->rc = scan_entry(&p->sc, p->fd, p->path, p->e->names +
		    p->e->off[i], p->e->type[i], 0);
	return NULL;
}

/* A part's own scan, its buffers and its partial result. */
static int
part_init(struct part *p, const struct scan *like)
{
	memset(&p->sc, 0, sizeof(p->sc));
	p->sc.prev = like->prev;
	if ((p->sc.cs = calloc(1, sizeof(*p->sc.cs))) == NULL ||
	    (p->sc.buf = malloc(CERT_FILE_MAX + 2)) == NULL ||
	    (p->sc.der = malloc(CERT_FILE_MAX)) == NULL)
		return -1;
	return 0;
}

/*
 * Moves what part p found into sc (what it cannot move, out of memory,
 * part_free() frees).  Returns 0, or -1.
 */
static int
part_merge(struct scan *sc, struct part *p)
{
	struct scan		*ps = &p->sc;
	struct tls_certs	*cs = ps->cs;
	struct blob		*b;

	for (; ps->ncreds > 0; ps->ncreds--) {
		struct pend *pe = &ps->creds[ps->ncreds - 1];

		if (push_pend(sc, pe->c, pe->fe, pe->reused) == -1)
			return -1;
		sc->creds[sc->ncreds - 1].pub = pe->pub;
	}
	for (; ps->nkeys > 0; ps->nkeys--)
		if (push_key(sc, &ps->keys[ps->nkeys - 1]) == -1)
			return -1;
	for (; cs->nfiles > 0; cs->nfiles--)
		if (keep_fent(sc->cs, cs->files[cs->nfiles - 1]) == -1)
			return -1;
	/* A certificate both parts hold: the other's copy stays its own. */
	for (size_t i = 0; i < cs->blobs.cap; i++) {
		if (cs->blobs.slots[i].key == NULL)
			continue;
		b = cs->blobs.slots[i].value;
		if (map_get(&sc->cs->blobs, b->key, 64) == NULL &&
		    map_put(&sc->cs->blobs, b->key, b) == 0) {
			cs->blobs.slots[i].key = NULL;
			continue;
		}
		blob_unref(b->data);
		cs->blobs.slots[i].key = NULL;
	}
	return 0;
}

/* Frees what is left of a part. */
static void
part_free(struct part *p)
{
	struct scan		*ps = &p->sc;
	struct tls_certs	*cs = ps->cs;

	for (size_t i = 0; i < ps->ncreds; i++) {
		tls_cred_unref(ps->creds[i].c);
		free(ps->creds[i].pub);
	}
	for (size_t i = 0; i < ps->nkeys; i++)
		key_free(&ps->keys[i]);
	free(ps->creds);
	free(ps->keys);
	free(ps->buf);
	free(ps->der);
	/* Its partial result: files and shared certificates, no names. */
	tls_certs_free(cs);
}

/*
 * Scans the top directory fd (which it closes) into sc, its entries
 * shared among up to threads threads.  Returns 0, or -1.
 */
static int
scan_top(struct scan *sc, int fd, const char *path, int threads)
{
	struct part	 parts[PARTS_MAX];
	struct ents	 e;
	DIR		*d;
	size_t		 np, per;
	int		 rc = 0;

	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	if (ents_read(d, &e) == -1) {
		ents_free(&e);
		closedir(d);
		return -1;
	}
	np = threads < 1 ? 1 : threads > PARTS_MAX ? PARTS_MAX :
	    (size_t)threads;
	if (e.n / PART_MIN < np)
		np = e.n / PART_MIN > 0 ? e.n / PART_MIN : 1;
	per = (e.n + np - 1) / np;
	/* Part 0 is this thread's, into sc itself. */
	for (size_t i = 1; i < np; i++) {
		struct part *p = &parts[i];

		p->fd = fd;
		p->path = path;
		p->e = &e;
		p->lo = i * per;
		p->hi = p->lo + per < e.n ? p->lo + per : e.n;
		p->rc = part_init(p, sc);
		if (p->rc == 0 && (errno = pthread_create(&p->tid, NULL,
		    part_run, p)) != 0)
			p->rc = -1;
		if (p->rc == -1) {
			part_free(p);
			np = i;
			rc = -1;
			break;
		}
	}
	for (size_t i = 0; i < (np > 1 ? per : e.n) && rc == 0; i++)
		rc = scan_entry(sc, fd, path, e.names + e.off[i], e.type[i], 0);
	for (size_t i = 1; i < np; i++) {
		pthread_join(parts[i].tid, NULL);
		if (parts[i].rc == -1 || part_merge(sc, &parts[i]) == -1)
			rc = -1;
		part_free(&parts[i]);
	}
	ents_free(&e);
	closedir(d);
	return rc;
}

/* Sets c's key to a copy of k's.  Returns 0, or -1 on ENOMEM. */
static int
cred_set_key(struct tls_cred *c, const struct key *k)
{
	size_t l = key_len(k);

	if ((c->keybuf = malloc(l)) == NULL)
		return -1;
	memcpy(c->keybuf, k->buf, l);
	c->type = k->type;
	if (k->type == BR_KEYTYPE_EC) {
		c->ec = k->ec;
		c->ec.x = c->keybuf;
		if (k->embedded) {
			c->keypath = path_ref(k->path);
			atomic_init(&c->keycheck, KEY_UNCHECKED);
		}
	} else {
		/* Key numbers are contiguous in k->buf, in order. */
		c->rsa = k->rsa;
		c->rsa.p = c->keybuf;
		c->rsa.q = c->rsa.p + k->rsa.plen;
		c->rsa.dp = c->rsa.q + k->rsa.qlen;
		c->rsa.dq = c->rsa.dp + k->rsa.dplen;
		c->rsa.iq = c->rsa.dq + k->rsa.dqlen;
	}
	return 0;
}

/* Has c (paired) the key k? */
static int
cred_has_key(const struct tls_cred *c, const struct key *k)
{
	if (c->keybuf == NULL || c->type != k->type)
		return 0;
	if (k->type == BR_KEYTYPE_EC)
		return c->ec.curve == k->ec.curve && c->ec.xlen == k->ec.xlen &&
		    memcmp(c->keybuf, k->buf, k->ec.xlen) == 0 &&
		    (c->keypath == NULL) == !k->embedded;
	return c->rsa.n_bitlen == k->rsa.n_bitlen &&
	    c->rsa.plen == k->rsa.plen && c->rsa.qlen == k->rsa.qlen &&
	    c->rsa.dplen == k->rsa.dplen && c->rsa.dqlen == k->rsa.dqlen &&
	    c->rsa.iqlen == k->rsa.iqlen &&
	    memcmp(c->keybuf, k->buf, key_len(k)) == 0;
}

/* A new credential with c's chain, names and dates, without key. */
static struct tls_cred *
cred_clone(const struct tls_cred *c)
{
	struct tls_cred *n;

	if ((n = cred_new(c->nchain)) == NULL)
		return NULL;
	n->not_before = c->not_before;
	n->not_after = c->not_after;
	if (c->cn != NULL && (n->cn = strdup(c->cn)) == NULL)
		goto fail;
	for (size_t i = 0; i < c->nchain; i++) {
		atomic_fetch_add(&blob_of(c->chain[i].data)->refs, 1);
		n->chain[i] = c->chain[i];
		n->nchain = i + 1;
	}
	n->path = path_ref(c->path);
	for (size_t i = 0; i < c->nnames; i++)
		if (cred_add_name(n, c->names[i], strlen(c->names[i])) == -1)
			goto fail;
	return n;
fail:
	tls_cred_unref(n);
	return NULL;
}

/*
 * Pairs the chain p with its key from bypub: the credential, a new
 * reference, or NULL with *oom set when memory ran out, not when the
 * chain is logged and skipped.
 */
static struct tls_cred *
pair(struct pend *p, const struct map *bypub, const char *dir, int *oom)
{
	struct tls_cred	*c = p->c, *n;
	struct key	*k;
	const char	*pub = p->reused ? p->fe->pub : p->pub;

	/* The entry keeps the pairing key for the next scan. */
	if (!p->reused && pub != NULL && p->fe != NULL) {
		p->fe->pub = p->pub;
		p->pub = NULL;
	}
	if (pub == NULL) {
		log_warn("certs: %s: certificate key type not supported",
		    c->path);
		return NULL;
	}
	k = map_get(bypub, pub, strlen(pub));
	if (k == NULL) {
		/*
		 * A certificate that names no host is an intermediate (as
		 * certbot's chain.pem, lego's issuer.crt): it serves nothing
		 * alone, and its key is not for us.
		 */
		if (c->nnames == 0)
			log_debug("certs: %s: a certificate without a host name "
			    "and without its key (an intermediate?): skipped",
			    c->path);
		else
			log_warn("certs: %s: no private key in %s matches this "
			    "certificate (%s)", c->path, dir,
			    tls_cred_subject(c));
		return NULL;
	}
	k->used = 1;
	if (cred_has_key(c, k)) {
		tls_cred_ref(c);
		return c;
	}
	if (c->keybuf == NULL) {
		n = c;
		tls_cred_ref(n);
	} else if ((n = cred_clone(c)) == NULL) {
		*oom = 1;
		return NULL;
	}
	if (cred_set_key(n, k) == -1) {
		tls_cred_unref(n);
		*oom = 1;
		return NULL;
	}
	return n;
}

/* see tls.h */
struct tls_certs *
tls_certs_scan(const char *dir)
{
	return tls_certs_rescan(dir, NULL);
}

/* see tls.h */
struct tls_certs *
tls_certs_rescan(const char *dir, struct tls_certs *prev)
{
	return tls_certs_rescan_n(dir, prev, 1);
}

/* see tls.h */
struct tls_certs *
tls_certs_rescan_n(const char *dir, struct tls_certs *prev, int threads)
{
	struct scan		 sc;
	struct tls_certs	*cs;
	struct map		 bypub;
	int			 fd, oom = 0;
	size_t			 i;

	memset(&sc, 0, sizeof(sc));
	memset(&bypub, 0, sizeof(bypub));
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	sc.prev = prev;
	sc.cs = cs;
	if ((sc.buf = malloc(CERT_FILE_MAX + 2)) == NULL ||
	    (sc.der = malloc(CERT_FILE_MAX)) == NULL)
		goto fail;
	/* The last scan's size: the file cache does not grow step by step. */
	if (prev != NULL && map_reserve(&cs->fmap, prev->nfiles + 16) == -1)
		goto fail;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || scan_top(&sc, fd, dir, threads) == -1)
		goto fail;

	if (map_reserve(&bypub, sc.nkeys) == -1)
		goto fail;
	for (i = 0; i < sc.nkeys; i++)
		if (map_put(&bypub, sc.keys[i].pub, &sc.keys[i]) == -1)
			goto fail;
	if ((cs->v = calloc(sc.ncreds ? sc.ncreds : 1, sizeof(*cs->v))) ==
	    NULL)
		goto fail;
	for (i = 0; i < sc.ncreds && !oom; i++) {
		struct pend	*p = &sc.creds[i];
		struct tls_cred	*c = pair(p, &bypub, dir, &oom);

		if (c == NULL)
			continue;
		/* The next scan starts from the paired credential. */
		if (p->fe != NULL && p->fe->cred != c) {
			tls_cred_unref(p->fe->cred);
			p->fe->cred = c;
			tls_cred_ref(c);
		}
		cs->v[cs->n++] = c;
		for (size_t j = 0; j < c->nnames && !oom; j++)
			if (names_add(cs, c, c->names[j]) == -1)
				oom = 1;
	}
	if (oom)
		goto fail;
	/* The file cache is kept: no room to spare in it. */
	if (cs->nfiles > 0 && cs->nfiles < cs->capfiles) {
		struct fent **nv = realloc(cs->files, cs->nfiles *
		    sizeof(*nv));

		if (nv != NULL) {
			cs->files = nv;
			cs->capfiles = cs->nfiles;
		}
	}
	for (i = 0; i < sc.nkeys; i++)
		if (!sc.keys[i].used)
			log_debug("certs: %s: private key without certificate",
			    sc.keys[i].path);
	goto out;
fail:
	tls_certs_free(cs);
	cs = NULL;
out:
	for (i = 0; i < sc.ncreds; i++) {
		tls_cred_unref(sc.creds[i].c);
		free(sc.creds[i].pub);
	}
	for (i = 0; i < sc.nkeys; i++)
		key_free(&sc.keys[i]);
	free(sc.keys);
	free(sc.creds);
	free(sc.buf);
	free(sc.der);
	map_free(&bypub);
	return cs;
}

/* see tls.h */
void
tls_certs_free(struct tls_certs *cs)
{
	if (cs == NULL)
		return;
	names_free(cs);
	for (size_t i = 0; i < cs->n; i++)
		tls_cred_unref(cs->v[i]);
	free(cs->v);
	for (size_t i = 0; i < cs->nfiles; i++)
		fent_free(cs->files[i]);
	free(cs->files);
	map_free(&cs->fmap);
	for (size_t i = 0; i < cs->blobs.cap; i++)
		if (cs->blobs.slots[i].key != NULL)
			blob_unref(((struct blob *)
			    cs->blobs.slots[i].value)->data);
	map_free(&cs->blobs);
	free(cs);
}

/* see tls.h */
void
tls_certs_forget_names(struct tls_certs *cs)
{
	names_free(cs);
}

/* see tls.h */
size_t
tls_certs_count(const struct tls_certs *cs)
{
	return cs->n;
}
