/*
 * internal.h: what the files of tls/ share among themselves, and only
 * they: the implementations resolved at start, a credential's insides,
 * the result of a certificate scan, the session cache and BearSSL's
 * error and alert names.  Nothing outside tls/ includes it.
 */
#ifndef TLS_INTERNAL_H
#define TLS_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <bearssl.h>

#include "lib/der.h"
#include "lib/map.h"

#define CHAIN_MAX	8		/* certificates in one chain */

/*
 * The implementations, resolved once by tls_init(): asking BearSSL for
 * its defaults on every connection probes CPU features each time, which
 * traps to the hypervisor and costs tens of microseconds.
 */
struct tls_impl {
	const br_block_ctr_class	*aes_ctr;
	br_ghash			 ghash;
	br_chacha20_run			 chacha20;
	br_poly1305_run			 poly1305;
	const br_ec_impl		*ec;
	br_ecdsa_sign			 ecdsa_sign;
	br_rsa_pkcs1_sign		 rsa_sign;
	br_rsa_compute_modulus		 rsa_modulus;
};

extern struct tls_impl	 tls_impl;

struct tls_cred {
	atomic_int		 refs;
	int			 type;		/* BR_KEYTYPE_EC or _RSA */
	union {
		br_ec_private_key ec;
		br_rsa_private_key rsa;
	};
	unsigned char		*keybuf;	/* the key's numbers */
	char			**names;	/* dNSNames, lower case: one block */
	size_t			 nnames;
	time_t			 not_before;
	time_t			 not_after;
	char			*cn;		/* when not names[0], or NULL */
	char			*path;		/* path_new() */
	/*
	 * A key paired by the public key its file carries, not by one
	 * computed from it (a scalar multiplication per key at every scan):
	 * checked at the first handshake that uses it, the verdict kept.
	 */
	atomic_int		 keycheck;	/* KEY_OK, _UNCHECKED, _BAD */
	char			*keypath;	/* for the log, when unchecked */
	size_t			 nchain;
	/* The chain, leaf first: nchain of them (cred_new()). */
	br_x509_certificate	 chain[];
};

/* A credential with room for a chain of n, zeroed; NULL on ENOMEM. */
struct tls_cred	*cred_new(size_t n);
/* "ECDSA P-256", "RSA 2048": made when asked, valid until the next call. */
const char	*cred_kind(const struct tls_cred *c);

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

/* The blob whose data is p. */
struct blob	*blob_of(const void *p);
/* Releases the blob whose data is p (NULL: nothing). */
void		 blob_unref(void *p);

/*
 * File paths, shared by reference: a certificate's path is its
 * credential's and its file cache entry's, a key's its entry's, its
 * credential's and the scan's (five copies a domain otherwise, 100,000
 * domains).  path_new() returns NULL on ENOMEM; path_unref(NULL) does
 * nothing.
 */
char		*path_new(const char *s);
char		*path_ref(char *p);
void		 path_unref(char *p);

/*
 * The pairing key of a public key (pubkey.c): "E<curve>:" or "R:" and the
 * first 128 bits of the SHA-256 of the point or of the modulus (leading
 * zeros dropped), in hex: short, as it is kept twice for each domain
 * between scans (a key's, its certificate's).  A wrong pairing would
 * need a collision of 128 bits; an EC key is checked against its
 * certificate at its first handshake anyway.  NULL on ENOMEM.
 */
char		*pubkey_id(int type, unsigned curve, const unsigned char *a,
		    size_t alen);
/*
 * The pairing key of a certificate's public key in *pub, NULL for a key
 * not served.  Returns 0, or -1 on ENOMEM.
 */
struct der_cert;
int		 pubkey_of_cert(const struct der_cert *dc, char **pub);
/* BearSSL's id of the named curve of this OID (one served), or 0. */
int		 pubkey_curve(const uint8_t *oid, size_t len);
/* Bytes of a coordinate on a curve cred_curve_name() knows. */
size_t		 pubkey_curve_bytes(int curve);

/* Adds the host name of len bytes at name, lower-cased, to c's names. */
int		 cred_add_name(void *c, const char *name, size_t len);
/* Does c's EC key match its certificate?  Checked once, then known. */
int		 cred_key_ok(struct tls_cred *c);
/* "P-256" and so on for a curve tls/ serves, or NULL. */
const char	*cred_curve_name(int curve);

struct fent;
struct nlblock;

/* The result of one scan of the certificate directory (scan.c). */
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

/* Indexes c under name in cs (names.c).  Returns 0, or -1 on ENOMEM. */
int		 names_add(struct tls_certs *cs, struct tls_cred *c,
		    const char *name);
/* Frees cs's name index. */
void		 names_free(struct tls_certs *cs);

/* The trust anchors of the verifying client (anchors.c, client.c). */
struct tls_anchors {
	br_x509_trust_anchor	*v;
	size_t			 n, cap;
};

/*
 * The session cache (cache.c), shared by the worker threads.  A session
 * is kept with the hash of the server name it was made for, so that it
 * is never resumed under another name (RFC 6066 section 3).
 */
struct tls_session {
	unsigned char	 id[32];
	unsigned char	 idlen;
	uint16_t	 version;
	uint16_t	 suite;
	unsigned char	 master[48];
	uint64_t	 name;
	time_t		 expires;
};

/* A server name's hash, without case. */
uint64_t	 cache_name_hash(const char *name);
/* Is there a cache (tls_cache_init() with entries)? */
int		 cache_on(void);
/* Keeps the session of parameters p, made for name. */
void		 cache_save(const char *name, const br_ssl_session_parameters *p);
/*
 * Copies into *out the session of that id if the cache holds it for name
 * and it has not expired: returns 1, else 0.
 */
int		 cache_peek(const char *name, const unsigned char *id,
		    size_t len, struct tls_session *out);

/* What hello_parse() finds besides the name: pointers into its input. */
struct hello_view {
	const unsigned char	*sid;		/* session id */
	size_t			 sidlen;
	const unsigned char	*suites;	/* 2 bytes each */
	size_t			 suiteslen;
};

/* tls_hello_name(), which also fills *hv (when the record holds all). */
int		 hello_parse(const unsigned char *p, size_t n, char *out,
		    size_t outsz, struct hello_view *hv);
/* The big-endian 16-bit number at p. */
static inline size_t
be16(const unsigned char *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/*
 * BearSSL's errors and TLS alerts in words (error.c): the one table both
 * the server's log and the client's messages read.  tls_error_text() says
 * what err means for the server's engine (client 0: the peer is a
 * client) or the client's (client 1: the peer is a server), or NULL for
 * BR_ERR_OK and codes the table does not know; tls_alert_text() writes
 * an alert err carries ("sent alert handshake_failure", "server sent
 * alert 42"), or returns NULL when err is no alert.
 */
const char	*tls_error_text(int err, int client);
const char	*tls_alert_name(int alert);
const char	*tls_alert_text(int err, const char *peer, char *buf,
		    size_t bufsz);

#endif /* TLS_INTERNAL_H */
