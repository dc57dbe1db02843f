/*
 * tls.c: TLS with BearSSL.  See tls.h.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#include "clock.h"
#include "der.h"
#include "file.h"
#include "log.h"
#include "map.h"
#include "pem.h"
#include "sha2ni.h"
#include "tls.h"

#define CERT_FILE_MAX	(1024 * 1024)	/* bytes of one PEM file */
#define SCAN_DEPTH	8		/* directory levels under cert_dir */
#define CHAIN_MAX	8		/* certificates in one chain */
#define SESSION_LIFE	7200		/* seconds a session may resume */

/*
 * Server preference: ECDSA before RSA (cheaper handshakes), AES-GCM with
 * AES-NI, ChaCha20 for clients without.  ECDHE and AEAD only: no CBC, no
 * 3DES, no static ECDH or RSA key exchange, no TLS below 1.2.
 */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

/* Hash implementations by BearSSL id (2 = SHA-1 .. 6 = SHA-512). */
static const br_hash_class *const hash_impls[7] = {
	NULL, NULL, &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
	&br_sha384_vtable, &br_sha512_vtable
};

/* DER-encoded hash OIDs for RSA PKCS#1 signatures, by hash id. */
static const unsigned char OID_SHA1[] = {
	0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a
};
static const unsigned char OID_SHA224[] = {
	0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04
};
static const unsigned char OID_SHA256[] = {
	0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01
};
static const unsigned char OID_SHA384[] = {
	0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02
};
static const unsigned char OID_SHA512[] = {
	0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03
};
static const unsigned char *const hash_oids[7] = {
	NULL, NULL, OID_SHA1, OID_SHA224, OID_SHA256, OID_SHA384, OID_SHA512
};

/*
 * One session cache entry.  The server name hash keeps a session made
 * for one domain from resuming under another name's SNI.
 */
struct session {
	unsigned char	 id[32];
	unsigned char	 idlen;
	uint16_t	 version;
	uint16_t	 suite;
	unsigned char	 master[48];
	uint64_t	 name;
	time_t		 expires;
};

struct scache {
	const br_ssl_session_cache_class *vtable;	/* first */
	struct session	*v;
	size_t		 mask;		/* entries - 1, a power of two */
};

/* The cache is shared by the worker threads. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The implementations, resolved once: asking BearSSL for its defaults on
 * every connection probes CPU features each time, which traps to the
 * hypervisor and costs tens of microseconds.
 */
static struct {
	const br_block_ctr_class	*aes_ctr;
	br_ghash			 ghash;
	br_chacha20_run			 chacha20;
	br_poly1305_run			 poly1305;
	const br_ec_impl		*ec;
	br_ecdsa_sign			 ecdsa_sign;
	br_rsa_pkcs1_sign		 rsa_sign;
	br_rsa_compute_modulus		 rsa_modulus;
	struct scache			 cache;
	int				 cache_on;
} g;

struct tls_cred {
	atomic_int		 refs;
	int			 type;		/* BR_KEYTYPE_EC or _RSA */
	br_x509_certificate	 chain[CHAIN_MAX];
	size_t			 nchain;
	br_ec_private_key	 ec;
	br_rsa_private_key	 rsa;
	unsigned char		*keybuf;	/* the key's numbers */
	char			**names;	/* dNSNames, lower case */
	size_t			 nnames;
	time_t			 not_before;
	time_t			 not_after;
	char			 cn[DER_CN_MAX + 1];
	char			 kind[24];
	char			*path;
	/*
	 * A key paired by the public key its file carries, not by one
	 * computed from it (a scalar multiplication per key at every scan):
	 * checked at the first handshake that uses it, the verdict kept.
	 */
	atomic_int		 keycheck;	/* KEY_OK, _UNCHECKED, _BAD */
	char			*keypath;	/* for the log, when unchecked */
};

#define KEY_OK		0
#define KEY_UNCHECKED	1
#define KEY_BAD		2

/*
 * A certificate's DER bytes, shared by the chains that hold them: a CA
 * certificate is in every chain file it signed.  The data is what a
 * chain's br_x509_certificate points to.
 */
struct blob {
	atomic_int		 refs;
	char			*key;		/* hex SHA-256, when shared */
	unsigned char		 data[];
};

/*
 * What one file gave at a scan, kept for the next while the file is
 * unchanged (same device, inode, size, modification and change times):
 * then it is not read again.  Only files that gave no warning are kept,
 * so that a bad file is logged at every scan.
 */
struct fent {
	int			 refs;	/* scans that hold it */
	char			*path;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtim, ctim;
	struct tls_cred		*cred;	/* its chain (paired or not), or NULL */
	char			*pub;	/* the chain's pairing key */
	struct key		*keys;	/* its private keys */
	size_t			 nkeys;
};

/* Credentials sharing one name. */
struct namelist {
	size_t			 n;
	struct tls_cred		*v[];
};

/*
 * The name index's lists, in blocks of their own (larger than malloc's
 * mmap threshold): ten thousand small lists made at every reload would
 * pin heap pages among the reload's freed temporaries.  A list that grows
 * is made anew in the block; the old one stays until the scan is freed.
 */
#define NLBLOCK		(64 * 1024)

struct nlblock {
	struct nlblock		*next;
	size_t			 used;
	max_align_t		 v[];
};

struct tls_certs {
	struct tls_cred		**v;
	size_t			 n;
	struct map		 names;	/* name -> struct namelist */
	struct nlblock		*nlblocks;
	struct fent		**files;	/* for the next scan */
	size_t			 nfiles, capfiles;
	struct map		 fmap;		/* path -> struct fent */
	struct map		 blobs;		/* hash -> struct blob, a ref */
};

/* A private key found while scanning, before pairing. */
struct key {
	int			 type;
	br_ec_private_key	 ec;
	br_rsa_private_key	 rsa;
	unsigned char		*buf;
	char			*pub;	/* hex of the public key: pairing key */
	char			*path;
	int			 used;
	int			 embedded;	/* pub read, not computed */
	int			 borrowed;	/* a file cache entry's */
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
};

struct policy_ctx {
	const br_ssl_server_policy_class *vtable;	/* first */
	struct tls_conn		*tc;
};

/*
 * One connection's TLS state, in pages of its own (tls_conn_new()): the
 * record buffer first, page-aligned, so that an idle connection can give
 * its pages back (tls_conn_trim()).
 */
struct tls_conn {
	unsigned char		 buf[BR_SSL_BUFSIZE_MONO];
	br_ssl_server_context	 sc;
	struct policy_ctx	 pol;
	tls_resolve_fn		 resolve;
	tls_open_fn		 open_app;
	void			*arg;
	struct tls_cred		*cred;		/* chosen for this handshake */
	uint64_t		 resumed_name;	/* hash, when resuming */
	uint16_t		 resume_suite;	/* see look_at_hello() */
	struct session		 peek;		/* the cache's, if peeked */
	char			 hello_name[256];	/* SNI, read ahead */
	unsigned		 hello_seen:1;	/* first bytes looked at */
	unsigned		 hello_ok:1;	/* hello_name is the SNI */
	unsigned		 peeked:1;	/* peek holds the session */
	unsigned		 unknown_name:1;
	unsigned		 name_mismatch:1;
	unsigned		 reject:2;	/* 1: NUL seen, 2: answered */
	unsigned		 head_nl:1;	/* a head line just ended */
	unsigned		 body_free:1;	/* after a POST head: no scan */
	unsigned		 head_len:3;	/* bytes of head_start */
	char			 head_start[5];	/* of the request head */
	unsigned		 established:1;
	unsigned		 app_eof:1;
	unsigned		 net_rd:1;	/* may have bytes to read */
	unsigned		 net_wr:1;	/* may take bytes */
	unsigned		 app_rd:1;
	unsigned		 app_wr:1;
	unsigned		 trimmed:1;	/* buffer pages given back */
	unsigned char		*held;		/* read ahead, not yet taken */
	size_t			 heldlen;
	unsigned char		*oheld;		/* records the socket refused */
	size_t			 oheldlen;
};

/*
 * Network bytes are read ahead of BearSSL, which asks for a record's
 * header and then for its body: one recv() takes what the socket holds,
 * and a short read tells that it is empty, so that no call is made only
 * to hear EAGAIN (events are edge-triggered: new bytes bring a new one).
 * What a connection cannot take at once is kept in its held buffer.
 */
static _Thread_local unsigned char stage[BR_SSL_BUFSIZE_INPUT];

/*
 * Records are gathered here and sent together when BearSSL has no more:
 * a server's first flight (four records) or the end of a connection
 * (answer and close_notify) in one send() and one segment.  What the
 * socket does not take waits in the connection's oheld.
 */
static _Thread_local unsigned char ostage[BR_SSL_BUFSIZE_OUTPUT * 2];
static _Thread_local size_t ostagelen;

/* ------------------------------------------------------------------ */
/* Session cache                                                       */

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		h ^= (c >= 'A' && c <= 'Z') ? c + 32 : c;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct session *
slot(const struct scache *sc, const unsigned char *id, size_t len)
{
	uint64_t h = 0;

	/* Session ids are random bytes from our own engine. */
	memcpy(&h, id, len < sizeof(h) ? len : sizeof(h));
	return &sc->v[h & sc->mask];
}

static void
cache_save(const br_ssl_session_cache_class **ctx,
    br_ssl_server_context *server_ctx, const br_ssl_session_parameters *p)
{
	const struct scache	*sc = (const struct scache *)(void *)ctx;
	struct session		*s;

	uint64_t		 name;
	time_t			 expires = time(NULL) + SESSION_LIFE;

	if (p->session_id_len == 0 || p->session_id_len > sizeof(s->id))
		return;
	name = name_hash(br_ssl_engine_get_server_name(&server_ctx->eng));
	pthread_mutex_lock(&cache_lock);
	s = slot(sc, p->session_id, p->session_id_len);
	memcpy(s->id, p->session_id, p->session_id_len);
	s->idlen = p->session_id_len;
	s->version = p->version;
	s->suite = p->cipher_suite;
	memcpy(s->master, p->master_secret, sizeof(s->master));
	s->name = name;
	s->expires = expires;
	pthread_mutex_unlock(&cache_lock);
}

/*
 * Copies into *out the session of that id if the cache holds it for name
 * and it has not expired: returns 1, else 0.  The cache is the running
 * server's.  Called on the ClientHello read ahead (look_at_hello()).
 */
static int
cache_peek(const char *name, const unsigned char *id, size_t len,
    struct session *out)
{
	const struct scache	*sc = &g.cache;
	const struct session	*s;
	uint64_t		 h = name_hash(name);
	int			 found = 0;

	if (len == 0 || len > sizeof(s->id) || sc->v == NULL)
		return 0;
	pthread_mutex_lock(&cache_lock);
	s = slot(sc, id, len);
	if (s->idlen == len && memcmp(s->id, id, len) == 0 &&
	    s->expires >= time(NULL) && s->name == h) {
		*out = *s;
		found = 1;
	}
	pthread_mutex_unlock(&cache_lock);
	return found;
}

/*
 * BearSSL asks for the session before it has read the SNI extension:
 * the answer is what look_at_hello() found for the name read ahead from
 * the same ClientHello, so that a session is never resumed under another
 * name (RFC 6066 section 3); that client gets a full handshake.
 */
static int
cache_load(const br_ssl_session_cache_class **ctx,
    br_ssl_server_context *server_ctx, br_ssl_session_parameters *p)
{
	struct tls_conn		*tc = (struct tls_conn *)(void *)((char *)
	    server_ctx - offsetof(struct tls_conn, sc));
	struct session		*s = &tc->peek;

	(void)ctx;
	if (!tc->peeked || p->session_id_len != s->idlen ||
	    memcmp(p->session_id, s->id, s->idlen) != 0)
		return 0;
	tc->resumed_name = s->name;
	p->version = s->version;
	p->cipher_suite = s->suite;
	memcpy(p->master_secret, s->master, sizeof(s->master));
	explicit_bzero(s, sizeof(*s));
	tc->peeked = 0;
	/*
	 * BearSSL reads the client's suites after this call: the session's
	 * is the only one it needs to find.  Once a session is found,
	 * BearSSL gives resumption up only when the client does not offer
	 * its suite (look_at_hello() saw that it does, in the same bytes) or
	 * when the session's version is above the client's (both are TLS
	 * 1.2, the only version served, or the handshake fails before):
	 * this one suite never has to serve a full handshake.
	 */
	if (p->cipher_suite == tc->resume_suite) {
		br_ssl_engine_set_suites(&server_ctx->eng, &tc->resume_suite,
		    1);
		log_debug("tls: resuming a session for '%s' with its suite "
		    "0x%04x alone", tc->hello_name, tc->resume_suite);
	}
	return 1;
}

static const br_ssl_session_cache_class cache_vtable = {
	sizeof(struct scache),
	cache_save,
	cache_load
};

/* see tls.h */
int
tls_init(unsigned session_cache)
{
	size_t n = 1;

	if ((g.aes_ctr = br_aes_x86ni_ctr_get_vtable()) == NULL)
		g.aes_ctr = &br_aes_ct64_ctr_vtable;
	if ((g.ghash = br_ghash_pclmul_get()) == 0)
		g.ghash = &br_ghash_ctmul64;
	if ((g.chacha20 = br_chacha20_sse2_get()) == 0)
		g.chacha20 = &br_chacha20_ct_run;
	if ((g.poly1305 = br_poly1305_ctmulq_get()) == 0)
		g.poly1305 = &br_poly1305_ctmul_run;
	g.ec = br_ec_get_default();
	g.ecdsa_sign = br_ecdsa_sign_asn1_get_default();
	g.rsa_sign = br_rsa_pkcs1_sign_get_default();
	g.rsa_modulus = br_rsa_compute_modulus_get_default();

	free(g.cache.v);
	memset(&g.cache, 0, sizeof(g.cache));
	g.cache_on = session_cache > 0;
	if (!g.cache_on)
		return 0;
	while (n < session_cache)
		n <<= 1;
	if ((g.cache.v = calloc(n, sizeof(*g.cache.v))) == NULL)
		return -1;
	g.cache.mask = n - 1;
	g.cache.vtable = &cache_vtable;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Credentials                                                         */

static void
hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/*
 * The pairing key of a public key: "E<curve>:" or "R:" and the SHA-256
 * of the point or of the modulus (leading zeros dropped), in hex: short,
 * as it is kept for each file between scans.
 */
static char *
pubkey_id(int type, unsigned curve, const unsigned char *a, size_t alen)
{
	br_sha256_context	 ctx;
	unsigned char		 h[32];
	char			*s;

	while (type == BR_KEYTYPE_RSA && alen > 0 && *a == 0) {
		a++;
		alen--;
	}
	if ((s = malloc(16 + 2 * sizeof(h))) == NULL)
		return NULL;
	br_sha256_init(&ctx);
	br_sha256_update(&ctx, a, alen);
	br_sha256_out(&ctx, h);
	if (type == BR_KEYTYPE_EC)
		snprintf(s, 16, "E%u:", curve);
	else
		snprintf(s, 16, "R:");
	hex(s + strlen(s), h, sizeof(h));
	return s;
}

static const char *
curve_name(int curve)
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

static int	push_pend(struct scan *, struct tls_cred *, struct fent *, int);
static int	push_key(struct scan *, struct key *);
static int	cert_pub(const struct der_cert *, char **);

/* Releases the blob whose data is p. */
static void
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

static struct blob *
blob_of(const void *p)
{
	return (struct blob *)(void *)((unsigned char *)(uintptr_t)p -
	    offsetof(struct blob, data));
}

/*
 * A blob with the len bytes at der: the one this scan or the last already
 * has with the same bytes, or a new one.  NULL on ENOMEM.
 */
static unsigned char *
blob_get(struct scan *sc, const unsigned char *der, size_t len, int share)
{
	struct blob	*b;
	unsigned char	 h[32];
	char		 key[65];
	br_sha256_context ctx;

	if (share) {
		br_sha256_init(&ctx);
		br_sha256_update(&ctx, der, len);
		br_sha256_out(&ctx, h);
		hex(key, h, sizeof(h));
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

/* Bytes of a coordinate on a curve curve_name() knows. */
static size_t
curve_bytes(int curve)
{
	return curve == BR_EC_secp256r1 ? 32 : curve == BR_EC_secp384r1 ? 48 :
	    66;
}

/*
 * Does c's EC key match its certificate?  Computed at the first
 * handshake for a key paired by its embedded public key; then known.
 */
static int
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
	n = br_ec_compute_pub(g.ec, &pub, buf, &c->ec);
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

void
tls_cred_ref(struct tls_cred *c)
{
	c->refs++;
}

void
tls_cred_unref(struct tls_cred *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	for (size_t i = 0; i < c->nchain; i++)
		blob_unref(c->chain[i].data);
	for (size_t i = 0; i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	if (c->keybuf != NULL) {
		explicit_bzero(c->keybuf, c->type == BR_KEYTYPE_EC ?
		    c->ec.xlen : c->rsa.plen + c->rsa.qlen + c->rsa.dplen +
		    c->rsa.dqlen + c->rsa.iqlen);
		free(c->keybuf);
	}
	free(c->path);
	free(c->keypath);
	free(c);
}

const char *
tls_cred_subject(const struct tls_cred *c)
{
	return c->cn[0] != '\0' ? c->cn : (c->nnames > 0 ? c->names[0] : "?");
}

const char *
tls_cred_path(const struct tls_cred *c)
{
	return c->path;
}

const char *
tls_cred_kind(const struct tls_cred *c)
{
	return c->kind;
}

time_t
tls_cred_not_after(const struct tls_cred *c)
{
	return c->not_after;
}

static int
add_name(void *arg, const char *name, size_t len)
{
	struct tls_cred	*c = arg;
	char		**nv, *s;

	/* Only names that could be host names; others are ignored. */
	if (len == 0 || len > 253 || memchr(name, '\0', len) != NULL)
		return 0;
	if ((nv = realloc(c->names, (c->nnames + 1) * sizeof(*nv))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	c->names = nv;
	if ((s = malloc(len + 1)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		s[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] + 32) : name[i];
	s[len] = '\0';
	c->names[c->nnames++] = s;
	return 0;
}

/* One certificate's DER bytes, while a file is read. */
struct obj {
	unsigned char	*v;
	size_t		 n;
};

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

		if (curve_name(sk->curve) == NULL) {
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
		    ep[0] == 0x04 && eplen - 1 == 2 * curve_bytes(sk->curve)) {
			k.embedded = 1;
			k.pub = pubkey_id(k.type, (unsigned)sk->curve, ep, eplen);
		} else {
			nlen = br_ec_compute_pub(g.ec, &pk, pub, sk);
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
		nlen = g.rsa_modulus(NULL, sk);
		if (nlen == 0 || nlen > sizeof(n) ||
		    g.rsa_modulus(n, sk) != nlen) {
			scan_warn(sc, "certs: %s: invalid RSA private key", path);
			goto skip;
		}
		k.pub = pubkey_id(k.type, 0, n, nlen);
	} else
		return 0;
	if (k.pub == NULL || (k.path = strdup(path)) == NULL)
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
	free(k.path);
	return -1;
}

/* Takes a file's certificates, leaf first, as one chain. */
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
	if (cert_pub(&dc, &pub) == -1)
		return -1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(pub);
		return -1;
	}
	c->refs = 1;
	c->not_before = dc.not_before;
	c->not_after = dc.not_after;
	memcpy(c->cn, dc.cn, sizeof(c->cn));
	errno = 0;
	if (der_cert_dns_names(&dc, add_name, c) == -1) {
		tls_cred_unref(c);
		free(pub);
		if (errno == ENOMEM)
			return -1;
		/* One bad file is skipped, never the whole scan. */
		scan_warn(sc, "certs: %s: malformed subjectAltName", path);
		return 0;
	}
	if ((c->path = strdup(path)) == NULL)
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
	free(k->path);
}

/* Copies src into *dst, numbers and strings.  Returns 0, or -1. */
static int
key_dup(struct key *dst, const struct key *src)
{
	size_t l = key_len(src);

	*dst = *src;
	dst->used = 0;
	dst->borrowed = 0;
	dst->pub = strdup(src->pub);
	dst->path = strdup(src->path);
	if ((dst->buf = malloc(l ? l : 1)) == NULL || dst->pub == NULL ||
	    dst->path == NULL) {
		free(dst->buf);
		dst->buf = NULL;
		key_free(dst);
		return -1;
	}
	memcpy(dst->buf, src->buf, l);
	if (src->type == BR_KEYTYPE_EC)
		dst->ec.x = dst->buf;
	else {
		dst->rsa.p = dst->buf;
		dst->rsa.q = dst->rsa.p + src->rsa.plen;
		dst->rsa.dp = dst->rsa.q + src->rsa.qlen;
		dst->rsa.dq = dst->rsa.dp + src->rsa.dplen;
		dst->rsa.iq = dst->rsa.dq + src->rsa.dqlen;
	}
	return 0;
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
	free(fe->keys);
	free(fe->pub);
	free(fe->path);
	free(fe);
}

/*
 * A cache entry for path (identity st) with copies of the keys
 * sc->keys[k0..] and the chain c (a reference taken), kept in this scan's
 * result.  NULL on ENOMEM.
 */
static struct fent *
fent_new(struct scan *sc, const char *path, const struct stat *st,
    size_t k0, struct tls_cred *c, const char *pub)
{
	struct tls_certs	*cs = sc->cs;
	struct fent		*fe;

	if ((fe = calloc(1, sizeof(*fe))) == NULL)
		return NULL;
	fe->refs = 1;
	fe->dev = st->st_dev;
	fe->ino = st->st_ino;
	fe->size = st->st_size;
	fe->mtim = st->st_mtim;
	fe->ctim = st->st_ctim;
	if ((fe->path = strdup(path)) == NULL ||
	    (pub != NULL && (fe->pub = strdup(pub)) == NULL))
		goto fail;
	if (sc->nkeys > k0 &&
	    (fe->keys = calloc(sc->nkeys - k0, sizeof(*fe->keys))) == NULL)
		goto fail;
	for (size_t i = k0; i < sc->nkeys; i++) {
		if (key_dup(&fe->keys[fe->nkeys], &sc->keys[i]) == -1)
			goto fail;
		fe->nkeys++;
	}
	if (keep_fent(cs, fe) == -1)
		goto fail;
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
	unsigned char		*der = NULL;
	size_t			 len, derlen, ncerts = 0, off = 0;
	size_t			 k0 = sc->nkeys, c0 = sc->ncreds;
	struct stat		 fst;
	char			*data;
	int			 rc = 0, ev;

	if (st != NULL && (rc = scan_reuse(sc, path, st)) != 0)
		return rc == 1 ? 0 : -1;
	sc->warned = 0;
	if (file_read_stat(dirfd, name, CERT_FILE_MAX, 0, &data, &len,
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
	if (memmem(data, len, "-----BEGIN ", 11) == NULL) {
		free(data);
		return 0;
	}
	/*
	 * DER is shorter than its base64: the file's size holds all its
	 * objects, one after the other.
	 */
	if ((der = malloc(len)) == NULL) {
		rc = -1;
		goto out;
	}
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
		    ncerts > 0 ? sc->creds[c0].c : NULL, NULL);

		if (fe == NULL)
			rc = -1;
		else if (ncerts > 0)
			sc->creds[c0].fe = fe;
	}
out:
	if (der != NULL)
		explicit_bzero(der, len);
	free(der);
	explicit_bzero(data, len);
	free(data);
	return rc;
}

static int
scan_dir(struct scan *sc, int dirfd, const char *path, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st, lst;
	char		 sub[4096];
	int		 fd, rc = 0;

	if ((d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);

		/* Hidden, backup and temporary files are not taken. */
		if (de->d_name[0] == '.' || de->d_name[nl - 1] == '~' ||
		    (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    de->d_name) >= sizeof(sub))
			continue;
		/*
		 * A regular file needs no stat before it is read, unless a
		 * last scan may have it; then one, not two (20,000 files).
		 */
		if (de->d_type == DT_REG && sc->prev == NULL) {
			rc = scan_file(sc, dirfd, de->d_name, sub, NULL);
			continue;
		}
		if (de->d_type == DT_REG)
			lst.st_mode = S_IFREG;
		else if (fstatat(dirfd, de->d_name, &lst,
		    AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (fstatat(dirfd, de->d_name, &st, 0) == -1) {
			if (errno != ENOENT || de->d_type != DT_REG)
				log_warn("certs: %s: %s", sub, strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			/* Linked directories are not followed: no loops. */
			if (S_ISLNK(lst.st_mode) || depth >= SCAN_DEPTH)
				continue;
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
			    O_CLOEXEC | O_NOFOLLOW);
			if (fd == -1) {
				log_warn("certs: %s: %s", sub, strerror(errno));
				continue;
			}
			if (scan_dir(sc, fd, sub, depth + 1) == -1)
				log_warn("certs: %s: %s", sub, strerror(errno));
		} else if (S_ISREG(st.st_mode))
			rc = scan_file(sc, dirfd, de->d_name, sub, &st);
	}
	closedir(d);
	return rc;
}

/*
 * The pairing key of a certificate's public key in *pub, NULL for a key
 * tls.c does not serve.  Returns 0, or -1 on ENOMEM.
 */
static int
cert_pub(const struct der_cert *dc, char **pub)
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
	struct der_pubkey	 k;
	size_t			 i, n = sizeof(curves) / sizeof(curves[0]);

	*pub = NULL;
	if (der_cert_pubkey(dc, &k) == -1)
		return 0;
	if (k.type == DER_KEY_RSA)
		*pub = pubkey_id(BR_KEYTYPE_RSA, 0, k.key, k.keylen);
	else {
		for (i = 0; i < n; i++)
			if (k.curvelen == curves[i].len &&
			    memcmp(k.curve, curves[i].oid, k.curvelen) == 0)
				break;
		if (i == n)
			return 0;
		*pub = pubkey_id(BR_KEYTYPE_EC, (unsigned)curves[i].id, k.key,
		    k.keylen);
	}
	return *pub == NULL ? -1 : 0;
}

/* Room for size bytes, aligned, until cs is freed; NULL on ENOMEM. */
static void *
nl_alloc(struct tls_certs *cs, size_t size)
{
	struct nlblock	*b = cs->nlblocks;
	size_t		 a = sizeof(max_align_t);
	size_t		 cap = NLBLOCK - sizeof(*b);
	void		*p;

	size = (size + a - 1) / a * a;
	if (size > cap)
		return NULL;
	if (b == NULL || cap - b->used < size) {
		if ((b = malloc(NLBLOCK)) == NULL)
			return NULL;
		b->used = 0;
		b->next = cs->nlblocks;
		cs->nlblocks = b;
	}
	p = (char *)b->v + b->used;
	b->used += size;
	return p;
}

static int
index_name(struct tls_certs *cs, struct tls_cred *c, const char *name)
{
	struct namelist	*nl = map_get(&cs->names, name, strlen(name)), *nn;
	size_t		 n = nl ? nl->n : 0;

	for (size_t i = 0; i < n; i++)
		if (nl->v[i] == c)
			return 0;
	if ((nn = nl_alloc(cs, sizeof(*nn) + (n + 1) * sizeof(nn->v[0]))) ==
	    NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		nn->v[i] = nl->v[i];
	nn->n = n + 1;
	nn->v[n] = c;
	return map_put(&cs->names, name, nn);
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
		snprintf(c->kind, sizeof(c->kind), "ECDSA %s",
		    curve_name(c->ec.curve));
		if (k->embedded) {
			if ((c->keypath = strdup(k->path)) == NULL)
				return -1;
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
		snprintf(c->kind, sizeof(c->kind), "RSA %u", c->rsa.n_bitlen);
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

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return NULL;
	n->refs = 1;
	n->not_before = c->not_before;
	n->not_after = c->not_after;
	memcpy(n->cn, c->cn, sizeof(n->cn));
	for (size_t i = 0; i < c->nchain; i++) {
		atomic_fetch_add(&blob_of(c->chain[i].data)->refs, 1);
		n->chain[i] = c->chain[i];
		n->nchain = i + 1;
	}
	if ((n->path = strdup(c->path)) == NULL)
		goto fail;
	for (size_t i = 0; i < c->nnames; i++)
		if (add_name(n, c->names[i], strlen(c->names[i])) == -1)
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

	if (!p->reused && pub != NULL && p->fe != NULL &&
	    (p->fe->pub = strdup(pub)) == NULL) {
		*oom = 1;
		return NULL;
	}
	if (pub == NULL) {
		log_warn("certs: %s: certificate key type not supported",
		    c->path);
		return NULL;
	}
	k = map_get(bypub, pub, strlen(pub));
	if (k == NULL) {
		log_warn("certs: %s: no private key in %s matches this "
		    "certificate (%s)", c->path, dir, tls_cred_subject(c));
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
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || scan_dir(&sc, fd, dir, 0) == -1)
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
			if (index_name(cs, c, c->names[j]) == -1)
				oom = 1;
	}
	if (oom)
		goto fail;
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
	map_free(&bypub);
	return cs;
}

/* see tls.h */
void
tls_certs_free(struct tls_certs *cs)
{
	if (cs == NULL)
		return;
	map_free(&cs->names);
	while (cs->nlblocks != NULL) {
		struct nlblock *b = cs->nlblocks;

		cs->nlblocks = b->next;
		free(b);
	}
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
size_t
tls_certs_count(const struct tls_certs *cs)
{
	return cs->n;
}

static void
consider(const struct namelist *nl, time_t now, struct tls_cred **ec,
    struct tls_cred **rsa, const struct tls_cred **expired,
    const struct tls_cred **early)
{
	for (size_t i = 0; nl != NULL && i < nl->n; i++) {
		struct tls_cred *c = nl->v[i], **best;

		if (now > c->not_after) {
			if (*expired == NULL ||
			    c->not_after > (*expired)->not_after)
				*expired = c;
			continue;
		}
		if (now < c->not_before) {
			*early = c;
			continue;
		}
		best = c->type == BR_KEYTYPE_EC ? ec : rsa;
		if (*best == NULL || c->not_after > (*best)->not_after)
			*best = c;
	}
}

/* see tls.h */
void
tls_certs_find(const struct tls_certs *cs, const char *host, time_t now,
    struct tls_cred **ec, struct tls_cred **rsa, char *why, size_t whysz)
{
	const struct tls_cred	*expired = NULL, *early = NULL;
	const char		*dot = strchr(host, '.');
	char			 wild[260];
	struct tm		 tm;
	char			 date[32];

	*ec = *rsa = NULL;
	consider(map_get(&cs->names, host, strlen(host)), now, ec, rsa,
	    &expired, &early);
	if (dot != NULL && (size_t)snprintf(wild, sizeof(wild), "*%s", dot) <
	    sizeof(wild))
		consider(map_get(&cs->names, wild, strlen(wild)), now, ec, rsa,
		    &expired, &early);
	if (*ec != NULL || *rsa != NULL || why == NULL)
		return;
	if (expired != NULL) {
		gmtime_r(&expired->not_after, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
		snprintf(why, whysz, "certificate %s expired on %s",
		    expired->path, date);
	} else if (early != NULL) {
		gmtime_r(&early->not_before, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
		snprintf(why, whysz, "certificate %s is not valid before %s",
		    early->path, date);
	} else
		snprintf(why, whysz, "no certificate with a key names %s", host);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

/* The best hash in a bit field of BearSSL hash ids (bit n: id n). */
static unsigned
choose_hash(uint32_t bf)
{
	static const unsigned pref[] = {
		br_sha256_ID, br_sha384_ID, br_sha1_ID
	};

	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (bf & (1U << pref[i]))
			return pref[i];
	return 0;
}

static int
sp_choose(const br_ssl_server_policy_class **pctx,
    const br_ssl_server_context *cc, br_ssl_server_choices *choices)
{
	struct policy_ctx		*pc = (struct policy_ctx *)(void *)pctx;
	struct tls_conn			*tc = pc->tc;
	struct tls_cred			*ec = NULL, *rsa = NULL, *c;
	const br_suite_translated	*st;
	size_t				 n;
	uint32_t			 hashes;
	unsigned			 h;

	if (!tc->resolve(tc->arg, br_ssl_engine_get_server_name(&cc->eng),
	    &ec, &rsa)) {
		tc->unknown_name = 1;
		return 0;
	}
	st = br_ssl_server_get_client_suites(cc, &n);
	hashes = br_ssl_server_get_client_hashes(cc);
	/* An ECDSA certificate only on a curve the client accepts. */
	if (ec != NULL && ec->ec.curve < 32 &&
	    !(br_ssl_server_get_client_curves(cc) & (1U << ec->ec.curve)))
		ec = NULL;
	if (ec != NULL && !cred_key_ok(ec))
		ec = NULL;
	/* With ENFORCE_SERVER_PREFERENCES, st is in our order. */
	for (size_t i = 0; i < n; i++) {
		switch (st[i][1] >> 12) {
		case BR_SSLKEYX_ECDHE_ECDSA:
			c = ec;
			h = choose_hash(hashes >> 8);
			break;
		case BR_SSLKEYX_ECDHE_RSA:
			c = rsa;
			h = choose_hash(hashes);
			break;
		default:
			continue;
		}
		if (c == NULL || h == 0)
			continue;
		tc->cred = c;
		choices->cipher_suite = st[i][0];
		choices->algo_id = 0xff00 + h;
		choices->chain = c->chain;
		choices->chain_len = c->nchain;
		return 1;
	}
	return 0;
}

static uint32_t
sp_do_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data,
    size_t *len)
{
	/* No suite with static key exchange is enabled. */
	(void)pctx;
	(void)data;
	(void)len;
	return 0;
}

static size_t
sp_do_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id,
    unsigned char *data, size_t hv_len, size_t len)
{
	struct policy_ctx	*pc = (struct policy_ctx *)(void *)pctx;
	struct tls_cred		*c = pc->tc->cred;
	unsigned char		 hv[64];
	size_t			 siglen;

	algo_id &= 0xff;
	if (c == NULL || algo_id < 2 || algo_id > 6 || hv_len > sizeof(hv))
		return 0;
	memcpy(hv, data, hv_len);
	if (c->type == BR_KEYTYPE_EC) {
		if (len < 139)
			return 0;
		return g.ecdsa_sign(g.ec, algo_id == br_sha256_ID ?
		    sha256_fast() : hash_impls[algo_id], hv, &c->ec, data);
	}
	siglen = (c->rsa.n_bitlen + 7) >> 3;
	if (len < siglen)
		return 0;
	return g.rsa_sign(hash_oids[algo_id], hv, hv_len, &c->rsa, data) ?
	    siglen : 0;
}

static const br_ssl_server_policy_class policy_vtable = {
	sizeof(struct policy_ctx),
	sp_choose,
	sp_do_keyx,
	sp_do_sign
};

/*
 * Each engine's generator is seeded from this one, an AES-CTR DRBG (AES-
 * NI: a fraction of a microsecond).  BearSSL would otherwise seed every
 * connection from the system (RDRAND, whose CPUID probe traps to the
 * hypervisor: 6% of a resumed handshake here).  It is seeded from
 * getrandom() at first use and again every RESEED_EVERY connections;
 * one per thread.
 */
#define RESEED_EVERY	4096

static _Thread_local br_aesctr_drbg_context	 drbg;
static _Thread_local unsigned			 drbg_left;

static int
seed_engine(br_ssl_engine_context *eng)
{
	unsigned char	 seed[32];

	if (drbg_left == 0) {
		if (getrandom(seed, sizeof(seed), 0) != sizeof(seed))
			return -1;
		if (drbg.vtable == NULL)
			br_aesctr_drbg_init(&drbg, g.aes_ctr, seed,
			    sizeof(seed));
		else
			br_aesctr_drbg_update(&drbg, seed, sizeof(seed));
		drbg_left = RESEED_EVERY;
	}
	drbg_left--;
	/*
	 * An HMAC_DRBG state is its key and value: random ones make a
	 * seeded generator, without the dozen SHA-256 compressions that
	 * seeding through br_ssl_engine_inject_entropy() costs (10% of a
	 * resumed handshake).  Then BearSSL takes it as seeded and asks
	 * no system seeder at the handshake's start.
	 */
	eng->rng.vtable = &br_hmac_drbg_vtable;
	eng->rng.digest_class = sha256_fast();
	br_aesctr_drbg_generate(&drbg, eng->rng.K, br_sha256_SIZE);
	br_aesctr_drbg_generate(&drbg, eng->rng.V, br_sha256_SIZE);
	eng->rng_init_done = 2;
	eng->rng_os_rand_done = 1;
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

/*
 * Freed TLS states kept for the next connections, per thread: mapping
 * and unmapping them costs more than a syscall each (the unmap flushes
 * the TLB; 100 us under strace here).  Given back by tls_conn_release().
 */
#define SPARE_MAX	64

static _Thread_local struct tls_conn	*spare[SPARE_MAX];
static _Thread_local size_t		 nspare;

/* see tls.h */
struct tls_conn *
tls_conn_new(void)
{
	void *p;

	if (nspare > 0)
		return spare[--nspare];
	p = mmap(NULL, sizeof(struct tls_conn), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* see tls.h */
void
tls_conn_free(struct tls_conn *tc)
{
	if (tc == NULL)
		return;
	explicit_bzero(&tc->sc, sizeof(tc->sc));
	explicit_bzero(&tc->peek, sizeof(tc->peek));
	free(tc->held);
	tc->held = NULL;
	free(tc->oheld);
	tc->oheld = NULL;
	if (nspare < SPARE_MAX)
		spare[nspare++] = tc;
	else
		munmap(tc, sizeof(*tc));
}

/* see tls.h */
void
tls_conn_release(void)
{
	while (nspare > 0)
		munmap(spare[--nspare], sizeof(struct tls_conn));
}

/* see tls.h */
int
tls_conn_trim(struct tls_conn *tc)
{
	const br_ssl_engine_context	*e = &tc->sc.eng;
	unsigned			 st = br_ssl_engine_current_state(e);
	size_t				 page = (size_t)sysconf(_SC_PAGESIZE);

	/*
	 * Only when BearSSL keeps nothing in the buffer: no record to
	 * send, no plaintext gathered or to deliver, and a fresh record
	 * header awaited (see ssl_engine.c: ixa, ixb, ixc, oxa, oxb, oxc).
	 * The pages then read as zeros when next used.
	 */
	if (tc->trimmed || !tc->established || tc->heldlen > 0 ||
	    (st & (BR_SSL_CLOSED | BR_SSL_SENDREC | BR_SSL_RECVAPP)) ||
	    e->ixa != 0 || e->ixb != 0 || e->ixc != 5 ||
	    e->oxa != e->oxc || e->oxa == e->oxb)
		return 0;
	if (madvise(tc->buf, sizeof(tc->buf) / page * page,
	    MADV_DONTNEED) == -1)
		return 0;
	tc->trimmed = 1;
	return 1;
}

/* see tls.h */
int
tls_conn_start(struct tls_conn *tc, tls_resolve_fn resolve,
    tls_open_fn open_app, void *arg)
{
	br_ssl_engine_context *eng = &tc->sc.eng;

	br_ssl_server_zero(&tc->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) /
	    sizeof(suites[0]));
	br_ssl_engine_set_all_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_ec(eng, g.ec);
	/*
	 * Every handshake message goes through each hash set here: only
	 * those that can be used.  SHA-256 and SHA-384 for the PRFs and
	 * signatures, SHA-1 for signatures to clients that name no other
	 * (TLS 1.2 without signature_algorithms); SHA-224 and SHA-512 cost
	 * 5% of a resumed handshake and no client needs them.  SHA-256
	 * (transcript, PRF, the engine's DRBG, ECDSA nonces) uses the CPU's
	 * SHA extensions where it has them: see sha2ni.c.
	 */
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, sha256_fast());
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	if (seed_engine(eng) == -1)
		return -1;
	br_ssl_engine_set_prf_sha256(eng, &sha256_fast_tls12_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_aes_ctr(eng, g.aes_ctr);
	br_ssl_engine_set_ghash(eng, g.ghash);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
	    &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chacha20(eng, g.chacha20);
	br_ssl_engine_set_poly1305(eng, g.poly1305);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	tc->pol.vtable = &policy_vtable;
	tc->pol.tc = tc;
	br_ssl_server_set_policy(&tc->sc, &tc->pol.vtable);
	if (g.cache_on)
		br_ssl_server_set_cache(&tc->sc, &g.cache.vtable);
	br_ssl_engine_set_buffer(eng, tc->buf, sizeof(tc->buf), 0);
	tc->resolve = resolve;
	tc->open_app = open_app;
	tc->arg = arg;
	tc->cred = NULL;
	tc->unknown_name = 0;
	tc->name_mismatch = 0;
	tc->hello_seen = tc->hello_ok = tc->peeked = 0;
	tc->reject = 0;
	tc->head_nl = tc->body_free = 0;
	tc->head_len = 0;
	tc->resumed_name = 0;
	tc->established = 0;
	tc->app_eof = 0;
	tc->held = NULL;
	tc->heldlen = 0;
	tc->oheld = NULL;
	tc->oheldlen = 0;
	tc->net_rd = tc->net_wr = 1;
	tc->app_rd = 0;
	tc->app_wr = 1;
	tc->trimmed = 0;
	return br_ssl_server_reset(&tc->sc) ? 0 : -1;
}

/*
 * The fatal unrecognized_name alert (112), as a plaintext TLS 1.2 record:
 * BearSSL's own alert for a failed choice would say handshake_failure.
 */
static const unsigned char alert_unrecognized_name[] = {
	0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70
};

static int
would_block(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK;
}

/* What a client that sends a NUL byte gets before the close. */
static const char	*nul_reply;
static size_t		 nul_reply_len;

/* POST bodies pass unscanned (the TLS-RPT receiver is on). */
static int		 post_bodies;

/* see tls.h */
void
tls_set_nul_reply(const char *reply, size_t len)
{
	nul_reply = reply;
	nul_reply_len = len;
}

/* see tls.h */
void
tls_set_post_bodies(int on)
{
	post_bodies = on;
}

/*
 * Does the plaintext hold a NUL where a request head may be?  Once the
 * head of a POST has ended, the rest of the connection is its body (the
 * answer to a POST closes the connection) and is not looked at.
 */
static int
nul_in_head(struct tls_conn *tc, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len && !tc->body_free; i++) {
		if (p[i] == '\0')
			return 1;
		if (!post_bodies)
			continue;
		if (tc->head_len < sizeof(tc->head_start))
			tc->head_start[tc->head_len++] = (char)p[i];
		if (p[i] == '\n') {
			if (tc->head_nl) {
				/* The empty line: the head is over. */
				tc->body_free = memcmp(tc->head_start, "POST ",
				    5) == 0 && tc->head_len == 5;
				tc->head_len = 0;
				tc->head_nl = 0;
			} else
				tc->head_nl = 1;
		} else if (p[i] != '\r')
			tc->head_nl = 0;
	}
	return 0;
}

static size_t
be16(const unsigned char *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/* What hello_parse() finds besides the name: pointers into its input. */
struct hello_view {
	const unsigned char	*sid;		/* session id */
	size_t			 sidlen;
	const unsigned char	*suites;	/* 2 bytes each */
	size_t			 suiteslen;
};

/* hello_parse() but for emptying out when it returns 0. */
static int
hello_walk(const unsigned char *p, size_t n, char *out, size_t outsz,
    struct hello_view *hv)
{
	size_t	 off, end, el, ll, nl;
	int	 found = 0;

	out[0] = '\0';
	memset(hv, 0, sizeof(*hv));
	if (n < 5 || p[0] != 22 || be16(p + 3) > n - 5)
		return 0;
	n = be16(p + 3);
	p += 5;
	if (n < 4 || p[0] != 1 || ((size_t)p[1] << 16 | be16(p + 2)) > n - 4)
		return 0;
	n = (size_t)p[1] << 16 | be16(p + 2);
	p += 4;
	off = 2 + 32;				/* version, random */
	if (off >= n)
		return 0;
	hv->sid = p + off + 1;
	hv->sidlen = p[off];
	off += 1 + p[off];			/* session id */
	if (off + 2 > n)
		return 0;
	hv->suites = p + off + 2;
	hv->suiteslen = be16(p + off);
	off += 2 + be16(p + off);		/* cipher suites */
	if (off + 1 > n)
		return 0;
	off += 1 + p[off];			/* compression */
	if (off == n)
		return 1;			/* no extensions */
	if (off + 2 > n || (end = off + 2 + be16(p + off)) > n)
		return 0;
	/*
	 * Every extension is walked: of two server_name extensions (RFC
	 * 5246 forbids two of a type) BearSSL keeps the second, and of two
	 * names in one the last, so the name is known here only when there
	 * is one extension with one name in it.
	 */
	for (off += 2; off + 4 <= end; off += el) {
		el = be16(p + off + 2);
		off += 4;
		if (el > end - off)
			return 0;
		if (be16(p + off - 4) != 0)	/* server_name */
			continue;
		if (found++)
			return 0;
		if (el < 5 || (ll = be16(p + off)) > el - 2 || ll < 3 ||
		    p[off + 2] != 0 || (nl = be16(p + off + 3)) != ll - 3 ||
		    nl == 0 || nl >= outsz)
			return 0;
		for (size_t i = 0; i < nl; i++) {
			unsigned char c = p[off + 5 + i];

			if (c <= 0x20 || c >= 0x7f)
				return 0;
			out[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		out[nl] = '\0';
	}
	return off == end;
}

/* tls_hello_name(), which also fills *hv (when the record holds all). */
static int
hello_parse(const unsigned char *p, size_t n, char *out, size_t outsz,
    struct hello_view *hv)
{
	int r = hello_walk(p, n, out, outsz, hv);

	if (r == 0)
		out[0] = '\0';
	return r;
}

/* see tls.h */
int
tls_hello_name(const unsigned char *p, size_t n, char *out, size_t outsz)
{
	struct hello_view hv;

	return hello_parse(p, n, out, outsz, &hv);
}

/*
 * Sends what waits: the connection's refused bytes first, then the
 * gathered records.  What the socket does not take is kept in oheld.
 * Returns -1 on a socket error or when out of memory.
 */
static int
flush_out(struct tls_conn *tc, int netfd)
{
	unsigned char	*h;
	ssize_t		 n;

	if (tc->oheld != NULL && tc->net_wr) {
		n = send(netfd, tc->oheld, tc->oheldlen, MSG_NOSIGNAL);
		if (n == -1 && !would_block() && errno != EINTR)
			return -1;
		if (n > 0 && (size_t)n == tc->oheldlen) {
			free(tc->oheld);
			tc->oheld = NULL;
			tc->oheldlen = 0;
		} else {
			if (n > 0) {
				memmove(tc->oheld, tc->oheld + n,
				    tc->oheldlen - (size_t)n);
				tc->oheldlen -= (size_t)n;
			}
			tc->net_wr = 0;
		}
	}
	if (ostagelen == 0)
		return 0;
	n = -1;
	errno = EAGAIN;
	if (tc->oheld == NULL && tc->net_wr)
		n = send(netfd, ostage, ostagelen, MSG_NOSIGNAL);
	if (n == -1 && !would_block() && errno != EINTR)
		return -1;
	if (n < 0)
		n = 0;
	if ((size_t)n < ostagelen) {
		tc->net_wr = 0;
		if ((h = realloc(tc->oheld, tc->oheldlen + ostagelen -
		    (size_t)n)) == NULL)
			return -1;
		memcpy(h + tc->oheldlen, ostage + n, ostagelen - (size_t)n);
		tc->oheld = h;
		tc->oheldlen += ostagelen - (size_t)n;
	}
	ostagelen = 0;
	return 0;
}

/*
 * The SNI name, read from the first bytes of the connection before
 * BearSSL parses them: they hold the whole ClientHello when it came in
 * one piece (it nearly always does; when not, the client just gets no
 * resumption).
 */
static void
look_at_hello(struct tls_conn *tc, const unsigned char *p, size_t n)
{
	struct hello_view hv;

	tc->hello_seen = 1;
	tc->hello_ok = hello_parse(p, n, tc->hello_name,
	    sizeof(tc->hello_name), &hv) == 1;
	/*
	 * The session to resume, looked up once: cache_load() answers
	 * BearSSL from this copy.  If the client offers its suite again,
	 * cache_load() makes that suite the server's only one: BearSSL
	 * matches every suite the client lists against every suite of the
	 * server in its handshake interpreter, with OpenSSL's thirty a fifth
	 * of that interpreter's work, for a choice resumption already made.
	 */
	tc->resume_suite = 0;
	tc->peeked = tc->hello_ok && cache_peek(tc->hello_name, hv.sid,
	    hv.sidlen, &tc->peek);
	for (size_t i = 0; tc->peeked && i + 1 < hv.suiteslen; i += 2)
		if (be16(hv.suites + i) == tc->peek.suite)
			tc->resume_suite = tc->peek.suite;
}

/*
 * Keeps what BearSSL did not take of the bytes read ahead, as the stage
 * is shared by every connection.  Returns -1 when out of memory.
 */
static int
keep_held(struct tls_conn *tc, const unsigned char *in, size_t inlen)
{
	unsigned char *h;

	if (inlen == 0) {
		free(tc->held);
		tc->held = NULL;
	} else if (in >= stage && in < stage + sizeof(stage)) {
		/* Read from the network only once the held bytes were gone. */
		if ((h = malloc(inlen)) == NULL)
			return -1;
		memcpy(h, in, inlen);
		free(tc->held);
		tc->held = h;
	} else
		memmove(tc->held, in, inlen);
	tc->heldlen = inlen;
	return 0;
}

/*
 * A resumed session skipped the policy's choose(): check that the client
 * asks for the name the session was made for (RFC 6066 section 3), and
 * let the server pick its domain from it.
 */
static int
resumed_check(struct tls_conn *tc)
{
	const char	*name = br_ssl_engine_get_server_name(&tc->sc.eng);
	struct tls_cred	*ec, *rsa;

	if (name_hash(name) != tc->resumed_name ||
	    !tc->resolve(tc->arg, name, &ec, &rsa)) {
		tc->name_mismatch = 1;
		return -1;
	}
	return 0;
}

/* see tls.h */
int
tls_conn_pump(struct tls_conn *tc, int netfd, int *appfd,
    struct tls_events *ev)
{
	br_ssl_engine_context	*eng = &tc->sc.eng;
	const unsigned char	*in = tc->held;
	size_t			 inlen = tc->heldlen;
	unsigned		 st;
	unsigned char		*buf;
	size_t			 len;
	ssize_t			 n;
	int			 progress, rc = 0;

	/*
	 * Readiness, kept between pumps: a side is read (or written) until
	 * a short read (or write) or EAGAIN, then not again before the
	 * event loop says it changed.  After a hang-up, read to EOF.
	 */
	if (ev->net & (TLS_RD | TLS_HUP))
		tc->net_rd = 1;
	if (ev->net & (TLS_WR | TLS_HUP))
		tc->net_wr = 1;
	if (ev->app & (TLS_RD | TLS_HUP))
		tc->app_rd = 1;
	if (ev->app & (TLS_WR | TLS_HUP))
		tc->app_wr = 1;
	tc->trimmed = 0;
	ostagelen = 0;
	if (tc->oheld != NULL && flush_out(tc, netfd) == -1)
		return -1;
	do {
		progress = 0;
		if (tc->unknown_name) {
			(void)!send(netfd, alert_unrecognized_name,
			    sizeof(alert_unrecognized_name), MSG_NOSIGNAL);
			return -1;
		}
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED) {
			/* The last records (answer, close_notify) go out. */
			(void)flush_out(tc, netfd);
			return -1;
		}
		if (!tc->established && (st & (BR_SSL_SENDAPP |
		    BR_SSL_RECVAPP))) {
			tc->established = 1;
			ev->established = 1;
			if (tc->cred == NULL && resumed_check(tc) == -1)
				return -1;
		}
		if ((st & BR_SSL_SENDREC) && tc->oheld == NULL) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			if (len > sizeof(ostage) - ostagelen &&
			    flush_out(tc, netfd) == -1)
				return -1;
			if (tc->oheld == NULL &&
			    len <= sizeof(ostage) - ostagelen) {
				memcpy(ostage + ostagelen, buf, len);
				ostagelen += len;
				br_ssl_engine_sendrec_ack(eng, len);
				progress = 1;
			}
		}
		/*
		 * The state is read again before each step: BearSSL's one
		 * buffer turns from input to output as a step completes, and
		 * a stale state would ask it for a buffer it no longer has.
		 */
		st = br_ssl_engine_current_state(eng);
		if ((st & BR_SSL_RECVAPP) && tc->reject == 0 &&
		    nul_reply != NULL) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			/*
			 * No request head holds a NUL, and no body but a
			 * POST's is accepted: answer 400 here, as the HTTP
			 * layer would read a NUL as the end of a string.
			 */
			if (nul_in_head(tc, buf, len)) {
				tc->reject = 1;
				tc->app_eof = 1;
			}
		}
		if ((st & BR_SSL_RECVAPP) && tc->reject != 0) {
			br_ssl_engine_recvapp_buf(eng, &len);
			br_ssl_engine_recvapp_ack(eng, len);
			st &= ~BR_SSL_RECVAPP;
			progress = 1;
		}
		st = br_ssl_engine_current_state(eng);
		if ((st & BR_SSL_SENDAPP) && tc->reject == 1) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			if (len >= nul_reply_len) {
				memcpy(buf, nul_reply, nul_reply_len);
				br_ssl_engine_sendapp_ack(eng, nul_reply_len);
				br_ssl_engine_flush(eng, 0);
			}
			br_ssl_engine_close(eng);
			tc->reject = 2;
			progress = 1;
		}
		st = br_ssl_engine_current_state(eng);
		if ((st & BR_SSL_RECVAPP) && tc->reject == 0) {
			if (*appfd == -1) {
				if ((*appfd = tc->open_app(tc->arg)) == -1)
					return -1;
				/* A new socketpair: empty, with room. */
				tc->app_rd = 0;
				tc->app_wr = 1;
			}
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			n = tc->app_wr ? send(*appfd, buf, len, MSG_NOSIGNAL) :
			    -2;
			if (n > 0) {
				br_ssl_engine_recvapp_ack(eng, (size_t)n);
				ev->app_in += (size_t)n;
				progress = 1;
				tc->app_wr = (size_t)n == len;
			} else if (n == -1 && errno != EINTR && would_block())
				tc->app_wr = 0;
			else if (n == -1 && !would_block() && errno != EINTR) {
				/* The HTTP side is gone: close cleanly. */
				br_ssl_engine_recvapp_ack(eng, len);
				br_ssl_engine_close(eng);
				progress = 1;
			}
		}
		st = br_ssl_engine_current_state(eng);
		if ((st & BR_SSL_SENDAPP) && *appfd != -1 && !tc->app_eof &&
		    tc->app_rd) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			n = len > 0 ? recv(*appfd, buf, len, 0) : -2;
			if (n > 0) {
				br_ssl_engine_sendapp_ack(eng, (size_t)n);
				br_ssl_engine_flush(eng, 0);
				ev->app_out += (size_t)n;
				progress = 1;
				/*
				 * A short read emptied the socket.  If the
				 * HTTP side had hung up before it (the event
				 * said so), nothing more comes: that is its
				 * EOF, without a read to hear it.
				 */
				tc->app_rd = (size_t)n == len;
				if (!tc->app_rd && (ev->app & TLS_HUP)) {
					tc->app_eof = 1;
					br_ssl_engine_close(eng);
				}
			} else if (n == 0 || (n == -1 && !would_block() &&
			    errno != EINTR)) {
				tc->app_eof = 1;
				br_ssl_engine_close(eng);
				progress = 1;
			} else if (n == -1 && errno != EINTR)
				tc->app_rd = 0;
		}
		st = br_ssl_engine_current_state(eng);
		buf = (st & BR_SSL_RECVREC) ?
		    br_ssl_engine_recvrec_buf(eng, &len) : NULL;
		if (buf == NULL)
			len = 0;
		if (len > 0 && inlen == 0 && tc->net_rd) {
			n = recv(netfd, stage, sizeof(stage), 0);
			if (n == 0) {
				(void)flush_out(tc, netfd);
				return -1;	/* the client's EOF */
			}
			if (n == -1) {
				if (!would_block() && errno != EINTR)
					return -1;
				tc->net_rd = progress = errno == EINTR;
			} else {
				in = stage;
				inlen = (size_t)n;
				tc->net_rd = inlen == sizeof(stage) ||
				    (ev->net & TLS_HUP);
				if (!tc->hello_seen)
					look_at_hello(tc, in, inlen);
			}
		}
		if (len > 0 && inlen > 0) {
			if (len > inlen)
				len = inlen;
			memcpy(buf, in, len);
			br_ssl_engine_recvrec_ack(eng, len);
			in += len;
			inlen -= len;
			progress = 1;
		}
		/* Nothing more to gather: what was gathered goes out. */
		if (progress)
			continue;
		if (ostagelen > 0) {
			if (flush_out(tc, netfd) == -1)
				return -1;
			progress = tc->oheld == NULL;
		}
	} while (progress);
	if (keep_held(tc, in, inlen) == -1)
		rc = -1;
	return rc;
}

/* see tls.h */
int
tls_conn_established(const struct tls_conn *tc)
{
	return tc->established;
}

/* see tls.h */
const char *
tls_conn_server_name(const struct tls_conn *tc)
{
	return br_ssl_engine_get_server_name(&tc->sc.eng);
}

/* see tls.h */
int
tls_conn_pending(const struct tls_conn *tc)
{
	return tc->oheld != NULL ||
	    (br_ssl_engine_current_state(&tc->sc.eng) & BR_SSL_SENDREC) != 0;
}

/* see tls.h */
const char *
tls_conn_error(const struct tls_conn *tc)
{
	static _Thread_local char	 buf[64];
	int				 err = br_ssl_engine_last_error(&tc->sc.eng);

	if (tc->unknown_name)
		return "server name not served";
	if (tc->name_mismatch)
		return "session resumed under another server name";
	switch (err) {
	case BR_ERR_OK:
		return NULL;
	case BR_ERR_UNSUPPORTED_VERSION:
		return "client does not support TLS 1.2";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "no cipher suite in common";
	case BR_ERR_BAD_VERSION:
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_BAD_HANDSHAKE:
	case BR_ERR_UNEXPECTED:
	case BR_ERR_UNKNOWN_TYPE:
		return "malformed TLS from client";
	case BR_ERR_BAD_SNI:
		return "malformed server name";
	case BR_ERR_IO:
		return "I/O error";
	default:
		if (err >= BR_ERR_SEND_FATAL_ALERT)
			snprintf(buf, sizeof(buf), "sent alert %d",
			    err - BR_ERR_SEND_FATAL_ALERT);
		else if (err >= BR_ERR_RECV_FATAL_ALERT)
			snprintf(buf, sizeof(buf), "client sent alert %d",
			    err - BR_ERR_RECV_FATAL_ALERT);
		else
			snprintf(buf, sizeof(buf), "BearSSL error %d", err);
		return buf;
	}
}

/* ------------------------------------------------------------------ */
/* Control tool: checking what the local server serves                 */

/* see tls.h */
void
tls_sha256_hex(const void *data, size_t len, char out[65])
{
	br_sha256_context	 ctx;
	unsigned char		 h[br_sha256_SIZE];

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, data, len);
	br_sha256_out(&ctx, h);
	hex(out, h, sizeof(h));
}

/*
 * The server's suites (see suites[]) split by the key they need: offering
 * only one kind makes the server present the credential of that type.
 */
static const uint16_t fetch_suites_ec[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const uint16_t fetch_suites_rsa[] = {
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};

#define FETCH_RESP_MAX	(TLS_FETCH_HEAD_MAX + TLS_FETCH_BODY_MAX)

/* The socket side of one fetch, and what went wrong on it. */
struct fetch_io {
	int		 fd;
	int		 timeout_ms;
	struct timespec	 deadline;	/* CLOCK_MONOTONIC */
	int		 timedout;
	int		 eof;		/* the server closed TCP */
	int		 errnum;	/* errno of a failed call, or 0 */
};

#define LEAF_MAX	16384	/* bytes of a leaf certificate kept */

/*
 * An X.509 engine in front of the minimal one: keeps the server's leaf
 * certificate, so that a check can report its names and dates whatever
 * the verdict.
 */
struct x509_rec {
	const br_x509_class	*vtable;	/* first */
	const br_x509_class	**inner;
	unsigned char		 leaf[LEAF_MAX];
	size_t			 leaflen;
	unsigned		 depth;		/* certificates seen */
	int			 cut;		/* the leaf did not fit */
};

/* Everything one fetch needs, allocated once: too big for the stack. */
struct fetch {
	struct x509_rec		 rec;	/* verifying fetches */
	br_ssl_client_context	 cc;
	br_x509_minimal_context	 xc;	/* for init_full; replaced by kk */
	br_x509_knownkey_context kk;
	br_x509_decoder_context	 dc;	/* holds the expected key's bytes */
	br_sslio_context	 ioc;
	struct fetch_io		 io;
	unsigned char		 iobuf[BR_SSL_BUFSIZE_BIDI];
	unsigned char		 resp[FETCH_RESP_MAX];
	size_t			 resplen;
};

/* Bounds the next blocking call on the socket by what is left. */
static int
fetch_timeo(struct fetch_io *io, int opt)
{
	struct timeval	 tv;
	int		 ms;

	if ((ms = clock_left_ms(&io->deadline)) == 0) {
		io->timedout = 1;
		return -1;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (setsockopt(io->fd, SOL_SOCKET, opt, &tv, sizeof(tv)) == -1) {
		io->errnum = errno;
		return -1;
	}
	return 0;
}

static int
fetch_read(void *ctx, unsigned char *buf, size_t len)
{
	struct fetch_io	*io = ctx;
	ssize_t		 n;

	for (;;) {
		if (fetch_timeo(io, SO_RCVTIMEO) == -1)
			return -1;
		if ((n = recv(io->fd, buf, len, 0)) > 0)
			return (int)n;
		if (n == 0) {
			io->eof = 1;
			return -1;
		}
		/* EAGAIN: the timeout hit; the loop checks the deadline. */
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			io->errnum = errno;
			return -1;
		}
	}
}

static int
fetch_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct fetch_io	*io = ctx;
	ssize_t		 n;

	for (;;) {
		if (fetch_timeo(io, SO_SNDTIMEO) == -1)
			return -1;
		if ((n = send(io->fd, buf, len, MSG_NOSIGNAL)) > 0)
			return (int)n;
		if (n == -1 && errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK) {
			io->errnum = errno;
			return -1;
		}
	}
}

static const char *
fetch_alert(int alert)
{
	switch (alert) {
	case 0:
		return "close_notify";
	case 10:
		return "unexpected_message";
	case 20:
		return "bad_record_mac";
	case 22:
		return "record_overflow";
	case 40:
		return "handshake_failure";
	case 42:
		return "bad_certificate";
	case 47:
		return "illegal_parameter";
	case 50:
		return "decode_error";
	case 51:
		return "decrypt_error";
	case 70:
		return "protocol_version";
	case 71:
		return "insufficient_security";
	case 80:
		return "internal_error";
	case 110:
		return "unsupported_extension";
	case 112:
		return "unrecognized_name";
	default:
		return NULL;
	}
}

/* Why the exchange failed, from the socket's state and the engine's. */
static void
fetch_why(const struct fetch *f, const char *host,
    const struct tls_cred *expect, char *why, size_t whysz)
{
	int		 err = br_ssl_engine_last_error(&f->cc.eng), alert;
	const char	*name;

	if (f->io.timedout) {
		snprintf(why, whysz, "timed out (%d ms)", f->io.timeout_ms);
		return;
	}
	if (f->io.errnum != 0) {
		snprintf(why, whysz, "%s", strerror(f->io.errnum));
		return;
	}
	if (f->io.eof) {
		snprintf(why, whysz, "server closed the connection");
		return;
	}
	switch (err) {
	case BR_ERR_BAD_SIGNATURE:
		if (expect == NULL)
			break;
		/* The known-key engine: the server signed with another key. */
		snprintf(why, whysz, "server presented another certificate, "
		    "not the %s one in %s", expect->kind, expect->path);
		return;
	case BR_ERR_X509_NOT_TRUSTED:
		snprintf(why, whysz, "certificate not trusted: no chain to a "
		    "trusted CA");
		return;
	case BR_ERR_X509_BAD_SERVER_NAME:
		snprintf(why, whysz, "certificate not valid for %s", host);
		return;
	case BR_ERR_X509_EXPIRED:
		snprintf(why, whysz, "certificate expired (or not yet valid)");
		return;
	case BR_ERR_NO_RANDOM:
		snprintf(why, whysz, "no random source");
		return;
	case BR_ERR_BAD_PARAM:
		snprintf(why, whysz, "bad server name %s", host);
		return;
	case BR_ERR_UNSUPPORTED_VERSION:
		snprintf(why, whysz, "server does not answer in TLS 1.2 (not a "
		    "TLS server?)");
		return;
	case BR_ERR_BAD_VERSION:
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_TOO_LARGE:
	case BR_ERR_UNKNOWN_TYPE:
	case BR_ERR_UNEXPECTED:
	case BR_ERR_BAD_HANDSHAKE:
		snprintf(why, whysz, "malformed TLS from the server (BearSSL "
		    "error %d; not a TLS server?)", err);
		return;
	case BR_ERR_BAD_CIPHER_SUITE:
		snprintf(why, whysz, "server chose a cipher suite not offered");
		return;
	case BR_ERR_BAD_MAC:
		snprintf(why, whysz, "record MAC check failed");
		return;
	default:
		break;
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		alert = err - BR_ERR_SEND_FATAL_ALERT;
		if ((name = fetch_alert(alert)) != NULL)
			snprintf(why, whysz, "sent alert %s", name);
		else
			snprintf(why, whysz, "sent alert %d", alert);
	} else if (err >= BR_ERR_RECV_FATAL_ALERT) {
		alert = err - BR_ERR_RECV_FATAL_ALERT;
		name = fetch_alert(alert);
		if (alert == 112)
			snprintf(why, whysz, "server sent alert "
			    "unrecognized_name: it does not serve %s", host);
		else if (alert == 40 && expect != NULL)
			snprintf(why, whysz, "server sent alert "
			    "handshake_failure (does it have an %s "
			    "certificate for %s?)", expect->type ==
			    BR_KEYTYPE_EC ? "ECDSA" : "RSA", host);
		else if (name != NULL)
			snprintf(why, whysz, "server sent alert %s", name);
		else
			snprintf(why, whysz, "server sent alert %d", alert);
	} else if (err >= BR_ERR_X509_OK && err <= BR_ERR_X509_NOT_TRUSTED)
		snprintf(why, whysz, "certificate rejected (BearSSL X.509 "
		    "error %d)", err);
	else
		snprintf(why, whysz, "BearSSL error %d", err);
}

static void
fetch_where(const struct sockaddr *sa, socklen_t salen, char *buf,
    size_t bufsz)
{
	char	 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo(sa, salen, host, sizeof(host), serv, sizeof(serv),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, bufsz, "(address family %d)", sa->sa_family);
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, bufsz, "[%s]:%s", host, serv);
	else
		snprintf(buf, bufsz, "%s:%s", host, serv);
}

static int
fetch_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
fetch_hdr_is(const unsigned char *name, size_t len, const char *want)
{
	return len == strlen(want) &&
	    strncasecmp((const char *)name, want, len) == 0;
}

/* The value of a hexadecimal digit, or -1. */
static int
fetch_hex(unsigned char c)
{
	static const char	 digits[] = "0123456789abcdef";
	const char		*d;

	if (c >= 'A' && c <= 'F')
		c += 'a' - 'A';
	d = c != '\0' ? strchr(digits, c) : NULL;
	return d != NULL ? (int)(d - digits) : -1;
}

/*
 * Decodes a chunked body (RFC 9112 section 7.1), n bytes at p, into
 * out->body: chunk extensions and trailers are skipped, the whole must
 * end with the last chunk and the empty line, and fit the body cap.
 */
static int
fetch_dechunk(const unsigned char *p, size_t n, struct tls_fetch *out,
    char *why, size_t whysz)
{
	const unsigned char	*eol;
	size_t			 i = 0, k, size, blen = 0;
	int			 h;

	for (;;) {
		/* chunk-size [ chunk-ext ] CRLF */
		if ((eol = memmem(p + i, n - i, "\r\n", 2)) == NULL)
			goto cut;
		size = 0;
		for (k = 0; p + i + k < eol && (h = fetch_hex(p[i + k])) != -1;
		    k++) {
			if (k == 8) {
				snprintf(why, whysz, "chunk size too long");
				return -1;
			}
			size = size * 16 + (size_t)h;
		}
		if (k == 0 || (p + i + k < eol && p[i + k] != ';' &&
		    p[i + k] != ' ' && p[i + k] != '\t')) {
			snprintf(why, whysz, "malformed chunk size");
			return -1;
		}
		i = (size_t)(eol - p) + 2;
		if (size == 0)
			break;
		if (size > TLS_FETCH_BODY_MAX - blen) {
			snprintf(why, whysz, "body longer than %d bytes",
			    TLS_FETCH_BODY_MAX);
			out->toolarge = 1;
			return -1;
		}
		if (n - i < size + 2)
			goto cut;
		memcpy(out->body + blen, p + i, size);
		blen += size;
		i += size;
		if (p[i] != '\r' || p[i + 1] != '\n') {
			snprintf(why, whysz, "chunk not followed by CRLF");
			return -1;
		}
		i += 2;
	}
	/* Trailer lines, up to the empty one. */
	for (;;) {
		if ((eol = memmem(p + i, n - i, "\r\n", 2)) == NULL)
			goto cut;
		k = (size_t)(eol - p) + 2;
		if (eol == p + i) {
			i = k;
			break;
		}
		i = k;
	}
	if (i != n) {
		snprintf(why, whysz, "%zu bytes after the chunked body", n - i);
		return -1;
	}
	out->body[blen] = '\0';
	out->bodylen = blen;
	return 0;
cut:
	snprintf(why, whysz, "chunked body cut off");
	return -1;
}

/*
 * Parses the response r[0..len), read until the server closed.  clean
 * says whether the close was a TLS close_notify: without one, only a
 * Content-Length shows that nothing was cut off.  The server's bytes are
 * never echoed into why.
 */
/* see tls.h */
int
tls_fetch_parse(const unsigned char *r, size_t len, int clean,
    struct tls_fetch *out, char *why, size_t whysz)
{
	const unsigned char	*end, *p, *eol, *colon, *v, *ve;
	size_t			 hlen, blen, clen = 0, n;
	int			 have_clen = 0, have_ctype = 0, chunked = 0;

	out->status = 0;
	out->ctype[0] = out->location[0] = '\0';
	out->bodylen = 0;
	out->toolarge = 0;
	if (len == 0) {
		snprintf(why, whysz, "server closed the connection without "
		    "a response");
		return -1;
	}
	n = len < TLS_FETCH_HEAD_MAX ? len : TLS_FETCH_HEAD_MAX;
	if ((end = memmem(r, n, "\r\n\r\n", 4)) == NULL) {
		if (len >= TLS_FETCH_HEAD_MAX) {
			snprintf(why, whysz, "status line and headers longer "
			    "than %d bytes", TLS_FETCH_HEAD_MAX);
			out->toolarge = 1;
		} else
			snprintf(why, whysz, "response ends within the "
			    "headers");
		return -1;
	}
	hlen = (size_t)(end - r) + 4;

	/* HTTP/1.x SSS[ reason] */
	eol = memmem(r, hlen, "\r\n", 2);
	if (eol - r < 12 || memcmp(r, "HTTP/1.", 7) != 0 ||
	    (r[7] != '0' && r[7] != '1') || r[8] != ' ' ||
	    r[9] < '1' || r[9] > '5' || r[10] < '0' || r[10] > '9' ||
	    r[11] < '0' || r[11] > '9' || (eol - r > 12 && r[12] != ' ')) {
		snprintf(why, whysz, "malformed status line");
		return -1;
	}
	out->status = (unsigned)(r[9] - '0') * 100 +
	    (unsigned)(r[10] - '0') * 10 + (unsigned)(r[11] - '0');
	if (out->status < 200) {
		snprintf(why, whysz, "interim status %u not expected",
		    out->status);
		return -1;
	}

	/* Header lines up to the empty line at end + 2. */
	for (p = eol + 2; p < end + 2; p = eol + 2) {
		eol = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
		if (*p == ' ' || *p == '\t') {
			snprintf(why, whysz, "obsolete header line folding");
			return -1;
		}
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p) {
			snprintf(why, whysz, "header line without a name");
			return -1;
		}
		for (v = p; v < colon; v++)
			if (!fetch_tchar(*v)) {
				snprintf(why, whysz, "malformed header name");
				return -1;
			}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t');
		    ve--)
			;
		for (const unsigned char *q = v; q < ve; q++)
			if ((*q < 0x20 && *q != '\t') || *q > 0x7e) {
				snprintf(why, whysz, "header %.*s: control "
				    "or non-ASCII byte 0x%02x",
				    (int)(colon - p < 64 ? colon - p : 64),
				    (const char *)p, *q);
				return -1;
			}
		n = (size_t)(ve - v);

		if (fetch_hdr_is(p, (size_t)(colon - p), "content-type")) {
			if (have_ctype++) {
				snprintf(why, whysz, "two Content-Type "
				    "headers");
				return -1;
			}
			if (n >= sizeof(out->ctype)) {
				snprintf(why, whysz, "Content-Type longer "
				    "than %zu bytes", sizeof(out->ctype) - 1);
				return -1;
			}
			memcpy(out->ctype, v, n);
			out->ctype[n] = '\0';
		} else if (fetch_hdr_is(p, (size_t)(colon - p), "location")) {
			if (n >= sizeof(out->location))
				n = sizeof(out->location) - 1;
			memcpy(out->location, v, n);
			out->location[n] = '\0';
		} else if (fetch_hdr_is(p, (size_t)(colon - p),
		    "content-length")) {
			size_t cl = 0;

			for (const unsigned char *q = v; q < ve; q++) {
				if (*q < '0' || *q > '9') {
					snprintf(why, whysz, "malformed "
					    "Content-Length");
					return -1;
				}
				/* Saturates: anything over the cap is over. */
				if (cl <= TLS_FETCH_BODY_MAX)
					cl = cl * 10 + (size_t)(*q - '0');
			}
			if (n == 0 || (have_clen && cl != clen)) {
				snprintf(why, whysz, n == 0 ? "empty "
				    "Content-Length" : "conflicting "
				    "Content-Length headers");
				return -1;
			}
			if (cl > TLS_FETCH_BODY_MAX) {
				snprintf(why, whysz, "Content-Length over %d "
				    "bytes", TLS_FETCH_BODY_MAX);
				out->toolarge = 1;
				return -1;
			}
			have_clen = 1;
			clen = cl;
		} else if (fetch_hdr_is(p, (size_t)(colon - p),
		    "transfer-encoding")) {
			if (chunked++ || n != 7 ||
			    strncasecmp((const char *)v, "chunked", 7) != 0) {
				snprintf(why, whysz, "Transfer-Encoding other "
				    "than one chunked");
				return -1;
			}
		}
	}

	if (chunked && have_clen) {
		snprintf(why, whysz, "both Content-Length and "
		    "Transfer-Encoding");
		return -1;
	}
	if (chunked)
		return fetch_dechunk(r + hlen, len - hlen, out, why, whysz);
	blen = len - hlen;
	if (have_clen && blen < clen) {
		snprintf(why, whysz, "response cut off after %zu of %zu body "
		    "bytes", blen, clen);
		return -1;
	}
	if (have_clen && blen > clen) {
		snprintf(why, whysz, "%zu bytes after the body (Content-Length "
		    "%zu)", blen - clen, clen);
		return -1;
	}
	if (!have_clen && !clean) {
		snprintf(why, whysz, "connection closed without close_notify "
		    "and no Content-Length: the body may be cut off");
		return -1;
	}
	if (blen > TLS_FETCH_BODY_MAX) {
		snprintf(why, whysz, "body longer than %d bytes",
		    TLS_FETCH_BODY_MAX);
		out->toolarge = 1;
		return -1;
	}
	memcpy(out->body, r + hlen, blen);
	out->body[blen] = '\0';
	out->bodylen = blen;
	return 0;
}

/* A new fetch with its deadline set, or NULL with why. */
static struct fetch *
fetch_new(int timeout_ms, char *why, size_t whysz)
{
	struct fetch	*f;

	if (timeout_ms <= 0) {
		snprintf(why, whysz, "invalid arguments");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(why, whysz, "%s", strerror(errno));
		return NULL;
	}
	f->io.fd = -1;
	f->io.timeout_ms = timeout_ms;
	clock_gettime(CLOCK_MONOTONIC, &f->io.deadline);
	f->io.deadline.tv_sec += timeout_ms / 1000;
	f->io.deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (f->io.deadline.tv_nsec >= 1000000000) {
		f->io.deadline.tv_sec++;
		f->io.deadline.tv_nsec -= 1000000000;
	}
	return f;
}

static void
fetch_free(struct fetch *f)
{
	if (f == NULL)
		return;
	if (f->io.fd != -1)
		close(f->io.fd);
	explicit_bzero(f, sizeof(*f));
	free(f);
}

/* host goes into SNI and the Host header: a DNS name only. */
static int
fetch_host_ok(const char *host)
{
	size_t	 hostlen = strlen(host);

	return hostlen > 0 && hostlen <= 253 &&
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._") == hostlen;
}

/* Connects f to addr within the deadline; -1 with f->io telling why. */
static int
fetch_connect(struct fetch *f, const struct sockaddr *addr,
    socklen_t addrlen)
{
	int	 on = 1;

	if ((f->io.fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC,
	    0)) == -1) {
		f->io.errnum = errno;
		return -1;
	}
	/*
	 * BearSSL hands over the client's last flight record by record:
	 * with Nagle, the server's delayed ACK would stall it 40 ms.
	 */
	(void)setsockopt(f->io.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* Linux bounds a blocking connect by SO_SNDTIMEO: EINPROGRESS. */
	if (fetch_timeo(&f->io, SO_SNDTIMEO) == -1)
		return -1;
	if (connect(f->io.fd, addr, addrlen) == -1) {
		if (errno == EINPROGRESS || errno == EAGAIN)
			f->io.timedout = 1;
		else
			f->io.errnum = errno;
		return -1;
	}
	return 0;
}

/* Runs the handshake on f's socket, the engine already set up. */
static int
fetch_handshake(struct fetch *f, const char *host)
{
	br_ssl_engine_set_buffer(&f->cc.eng, f->iobuf, sizeof(f->iobuf), 1);
	if (!br_ssl_client_reset(&f->cc, host, 0))
		return -1;
	br_sslio_init(&f->ioc, &f->cc.eng, fetch_read, &f->io, fetch_write,
	    &f->io);
	/* A flush before any data runs the handshake to its end. */
	return br_sslio_flush(&f->ioc);
}

/*
 * Sends the request and reads the response until the server closes.
 * Returns 0, -1 for an I/O failure (see fetch_why()), or -2 with why.
 */
static int
fetch_get(struct fetch *f, const char *host, const char **phase,
    struct tls_fetch *out, char *why, size_t whysz)
{
	char		 req[512];
	unsigned char	 extra;
	size_t		 room;
	int		 n, reqlen, clean;

	*phase = "sending the request";
	reqlen = snprintf(req, sizeof(req), "GET /.well-known/mta-sts.txt "
	    "HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nUser-Agent: "
	    "mta-stsctl\r\n\r\n", host);
	if (br_sslio_write_all(&f->ioc, req, (size_t)reqlen) == -1 ||
	    br_sslio_flush(&f->ioc) == -1)
		return -1;

	/* Until the server closes; one byte past the cap is an error. */
	*phase = "reading the response";
	for (;;) {
		room = sizeof(f->resp) - f->resplen;
		n = br_sslio_read(&f->ioc, room > 0 ? f->resp + f->resplen :
		    &extra, room > 0 ? room : 1);
		if (n == -1)
			break;
		if (room == 0) {
			snprintf(why, whysz, "response longer than %d bytes",
			    FETCH_RESP_MAX);
			out->toolarge = 1;
			return -2;
		}
		f->resplen += (size_t)n;
	}
	clean = br_ssl_engine_last_error(&f->cc.eng) == BR_ERR_OK;
	if (!clean && !(f->io.eof && !f->io.timedout && f->io.errnum == 0 &&
	    br_ssl_engine_last_error(&f->cc.eng) == BR_ERR_IO))
		return -1;

	*phase = "HTTP response";
	if (tls_fetch_parse(f->resp, f->resplen, clean, out, why, whysz) ==
	    -1)
		return -2;
	return 0;
}

/* Clears *out but for toolarge, which tells why it failed. */
static void
fetch_out_clear(struct tls_fetch *out)
{
	out->status = 0;
	out->ctype[0] = '\0';
	out->location[0] = '\0';
	out->body[0] = '\0';
	out->bodylen = 0;
}

/* Sets up f's engine to take only expect's key; -1 with why. */
static int
knownkey_setup(struct fetch *f, const struct tls_cred *expect, char *why,
    size_t whysz)
{
	const br_x509_pkey	*pk;
	const uint16_t		*ss;
	size_t			 nss;

	/* The one key the server may hold, from expect's leaf. */
	br_x509_decoder_init(&f->dc, NULL, NULL);
	br_x509_decoder_push(&f->dc, expect->chain[0].data,
	    expect->chain[0].data_len);
	if ((pk = br_x509_decoder_get_pkey(&f->dc)) == NULL) {
		snprintf(why, whysz, "%s: unreadable certificate key",
		    expect->path);
		return -1;
	}
	if (pk->key_type == BR_KEYTYPE_EC) {
		br_x509_knownkey_init_ec(&f->kk, &pk->key.ec,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		ss = fetch_suites_ec;
		nss = sizeof(fetch_suites_ec) / sizeof(fetch_suites_ec[0]);
	} else if (pk->key_type == BR_KEYTYPE_RSA) {
		br_x509_knownkey_init_rsa(&f->kk, &pk->key.rsa,
		    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
		ss = fetch_suites_rsa;
		nss = sizeof(fetch_suites_rsa) / sizeof(fetch_suites_rsa[0]);
	} else {
		snprintf(why, whysz, "%s: certificate key type not "
		    "supported", expect->path);
		return -1;
	}
	br_ssl_client_init_full(&f->cc, &f->xc, NULL, 0);
	br_ssl_engine_set_versions(&f->cc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&f->cc.eng, ss, nss);
	br_ssl_engine_set_x509(&f->cc.eng, &f->kk.vtable);
	return 0;
}

static void	verify_setup(struct fetch *, const struct tls_anchors *);
static void	peer_fill(const struct fetch *, struct tls_peer *);

/*
 * One fetch of the policy: against expect's key (the local server), or
 * verified against ta with *peer filled in (a check).
 */
static int
fetch_run(const struct sockaddr *addr, socklen_t addrlen, const char *host,
    const struct tls_cred *expect, const struct tls_anchors *ta,
    int timeout_ms, struct tls_fetch *out, struct tls_peer *peer,
    char *err, size_t errsz)
{
	struct fetch		*f = NULL;
	const char		*phase = "fetch";
	char			 where[NI_MAXHOST + NI_MAXSERV + 8];
	char			 why[256];
	int			 rc = -1;

	fetch_out_clear(out);
	out->toolarge = 0;
	fetch_where(addr, addrlen, where, sizeof(where));
	if (!fetch_host_ok(host)) {
		snprintf(why, sizeof(why), "invalid host name");
		goto fail;
	}
	if (expect != NULL ? expect->nchain == 0 : ta == NULL) {
		snprintf(why, sizeof(why), "invalid arguments");
		goto fail;
	}
	if ((f = fetch_new(timeout_ms, why, sizeof(why))) == NULL)
		goto fail;
	if (expect != NULL && knownkey_setup(f, expect, why,
	    sizeof(why)) == -1)
		goto fail;

	phase = "connect";
	if (fetch_connect(f, addr, addrlen) == -1)
		goto io_fail;

	phase = "TLS handshake";
	if (expect == NULL)
		verify_setup(f, ta);
	rc = fetch_handshake(f, host);
	if (peer != NULL)
		peer_fill(f, peer);
	if (rc == -1)
		goto io_fail;
	rc = -1;

	switch (fetch_get(f, host, &phase, out, why, sizeof(why))) {
	case 0:
		rc = 0;
		goto out;
	case -1:
		goto io_fail;
	default:
		goto fail;
	}
io_fail:
	fetch_why(f, host, expect, why, sizeof(why));
fail:
	snprintf(err, errsz, "%s: %s: %s", where, phase, why);
	fetch_out_clear(out);
out:
	fetch_free(f);
	return rc;
}

/* see tls.h */
int
tls_fetch_policy(const struct sockaddr *addr, socklen_t addrlen,
    const char *host, const struct tls_cred *expect, int timeout_ms,
    struct tls_fetch *out, char *err, size_t errsz)
{
	if (expect == NULL) {
		snprintf(err, errsz, "invalid arguments");
		return -1;
	}
	return fetch_run(addr, addrlen, host, expect, NULL, timeout_ms, out,
	    NULL, err, errsz);
}

/* ------------------------------------------------------------------ */
/* Control tool: checking a deployment as senders see it               */

#define ANCHORS_FILE_MAX	(16 * 1024 * 1024)	/* bytes of a CA file */

struct tls_anchors {
	br_x509_trust_anchor	*v;
	size_t			 n, cap;
};

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

static void
rec_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct x509_rec *r = (struct x509_rec *)(void *)ctx;

	r->leaflen = 0;
	r->depth = 0;
	r->cut = 0;
	(*r->inner)->start_chain(r->inner, server_name);
}

static void
rec_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_rec *r = (struct x509_rec *)(void *)ctx;

	(*r->inner)->start_cert(r->inner, length);
}

static void
rec_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_rec *r = (struct x509_rec *)(void *)ctx;

	if (r->depth == 0) {
		if (len > sizeof(r->leaf) - r->leaflen)
			r->cut = 1;
		else {
			memcpy(r->leaf + r->leaflen, buf, len);
			r->leaflen += len;
		}
	}
	(*r->inner)->append(r->inner, buf, len);
}

static void
rec_end_cert(const br_x509_class **ctx)
{
	struct x509_rec *r = (struct x509_rec *)(void *)ctx;

	r->depth++;
	(*r->inner)->end_cert(r->inner);
}

static unsigned
rec_end_chain(const br_x509_class **ctx)
{
	struct x509_rec *r = (struct x509_rec *)(void *)ctx;

	return (*r->inner)->end_chain(r->inner);
}

static const br_x509_pkey *
rec_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct x509_rec *r = (const struct x509_rec *)(const void *)ctx;

	return (*r->inner)->get_pkey((const br_x509_class *const *)r->inner,
	    usages);
}

static const br_x509_class rec_vtable = {
	sizeof(struct x509_rec),
	rec_start_chain,
	rec_start_cert,
	rec_append,
	rec_end_cert,
	rec_end_chain,
	rec_get_pkey
};

/* Sets up f's engine to verify against ta, with every version to 1.2. */
static void
verify_setup(struct fetch *f, const struct tls_anchors *ta)
{
	br_ssl_client_init_full(&f->cc, &f->xc, ta->v, ta->n);
	f->rec.vtable = &rec_vtable;
	f->rec.inner = &f->xc.vtable;
	br_ssl_engine_set_x509(&f->cc.eng, &f->rec.vtable);
}

static int
peer_name(void *arg, const char *name, size_t len)
{
	struct tls_peer	*p = arg;
	size_t		 have = strlen(p->names);

	if (have + len + 3 >= sizeof(p->names))
		return -1;
	snprintf(p->names + have, sizeof(p->names) - have, "%s%.*s",
	    have > 0 ? ", " : "", (int)len, name);
	for (char *c = p->names + have; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	return 0;
}

static const char *
suite_name(unsigned s)
{
	static const struct {
		unsigned	 id;
		const char	*name;
	} names[] = {
		{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		  "ECDHE-ECDSA-AES128-GCM-SHA256" },
		{ BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		  "ECDHE-ECDSA-AES256-GCM-SHA384" },
		{ BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		  "ECDHE-ECDSA-CHACHA20-POLY1305" },
		{ BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		  "ECDHE-RSA-AES128-GCM-SHA256" },
		{ BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		  "ECDHE-RSA-AES256-GCM-SHA384" },
		{ BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		  "ECDHE-RSA-CHACHA20-POLY1305" },
		{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
		  "ECDHE-ECDSA-AES128-SHA256" },
		{ BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		  "ECDHE-RSA-AES128-SHA256" },
		{ BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		  "ECDHE-ECDSA-AES128-SHA" },
		{ BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		  "ECDHE-RSA-AES128-SHA" },
		{ BR_TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256" },
		{ BR_TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384" },
		{ BR_TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].id == s)
			return names[i].name;
	return NULL;
}

/* What the handshake showed of the server, success or not. */
static void
peer_fill(const struct fetch *f, struct tls_peer *p)
{
	struct der_cert	 dc;
	const char	*name;
	int		 err = br_ssl_engine_last_error(&f->cc.eng);

	memset(p, 0, sizeof(*p));
	p->established = err == BR_ERR_OK &&
	    (br_ssl_engine_current_state(&f->cc.eng) & BR_SSL_CLOSED) == 0;
	switch (err) {
	case BR_ERR_OK:
		p->verify = f->rec.depth > 0 ? TLS_VERIFY_OK :
		    TLS_VERIFY_OTHER;
		break;
	case BR_ERR_X509_NOT_TRUSTED:
		p->verify = TLS_VERIFY_UNTRUSTED;
		break;
	case BR_ERR_X509_BAD_SERVER_NAME:
		p->verify = TLS_VERIFY_NAME;
		break;
	case BR_ERR_X509_EXPIRED:
		p->verify = TLS_VERIFY_EXPIRED;
		break;
	default:
		p->verify = TLS_VERIFY_OTHER;
		break;
	}
	if (p->established) {
		p->version = br_ssl_engine_get_version(&f->cc.eng);
		if ((name = suite_name(f->cc.eng.session.cipher_suite)) != NULL)
			snprintf(p->suite, sizeof(p->suite), "%s", name);
		else
			snprintf(p->suite, sizeof(p->suite), "0x%04x",
			    f->cc.eng.session.cipher_suite);
	}
	if (f->rec.depth > 0 && !f->rec.cut &&
	    der_cert_parse(f->rec.leaf, f->rec.leaflen, &dc) == 0) {
		p->have_leaf = 1;
		p->not_after = dc.not_after;
		(void)der_cert_dns_names(&dc, peer_name, p);
	}
}

/* see tls.h */
int
tls_fetch_verified(const struct sockaddr *addr, socklen_t addrlen,
    const char *host, const struct tls_anchors *ta, int timeout_ms,
    struct tls_fetch *out, struct tls_peer *peer, char *err, size_t errsz)
{
	memset(peer, 0, sizeof(*peer));
	peer->verify = TLS_VERIFY_OTHER;
	return fetch_run(addr, addrlen, host, NULL, ta, timeout_ms, out, peer,
	    err, errsz);
}

/* see tls.h */
int
tls_starttls_verify(int fd, const char *host, const struct tls_anchors *ta,
    int timeout_ms, struct tls_peer *peer, char *err, size_t errsz)
{
	struct fetch	*f;
	char		 why[256];
	int		 rc = -1;

	memset(peer, 0, sizeof(*peer));
	peer->verify = TLS_VERIFY_OTHER;
	if (!fetch_host_ok(host)) {
		close(fd);
		snprintf(err, errsz, "TLS handshake: invalid host name");
		return -1;
	}
	if ((f = fetch_new(timeout_ms, why, sizeof(why))) == NULL) {
		close(fd);
		snprintf(err, errsz, "TLS handshake: %s", why);
		return -1;
	}
	f->io.fd = fd;
	verify_setup(f, ta);
	if (fetch_handshake(f, host) == -1) {
		peer_fill(f, peer);
		fetch_why(f, host, NULL, why, sizeof(why));
		snprintf(err, errsz, "TLS handshake: %s", why);
	} else {
		peer_fill(f, peer);
		/* close_notify, without waiting for the server's. */
		br_ssl_engine_close(&f->cc.eng);
		(void)br_sslio_flush(&f->ioc);
		rc = 0;
	}
	fetch_free(f);
	return rc;
}
