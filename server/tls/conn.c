/*
 * conn.c: one TLS server connection, driven by BearSSL's state bits over
 * non-blocking sockets: the SNI name picks the credentials, plaintext
 * goes through a filter to the HTTP side's socket and back.  See tls.h.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "lib/log.h"
#include "tls/internal.h"
#include "tls/sha2ni.h"
#include "tls/tls.h"

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
	tls_filter_fn		 filter;
	void			*arg;
	struct tls_cred		*cred;		/* chosen for this handshake */
	uint64_t		 resumed_name;	/* hash, when resuming */
	uint16_t		 resume_suite;	/* see look_at_hello() */
	struct tls_session	 peek;		/* the cache's, if peeked */
	char			 hello_name[256];	/* SNI, read ahead */
	unsigned		 hello_seen:1;	/* first bytes looked at */
	unsigned		 hello_ok:1;	/* hello_name is the SNI */
	unsigned		 peeked:1;	/* peek holds the session */
	unsigned		 unknown_name:1;
	unsigned		 name_mismatch:1;
	unsigned		 reject:2;	/* 1: filtered out, 2: answered */
	const char		*reply;		/* the filter's, when rejected */
	size_t			 replylen;
	size_t			 filtered;	/* bytes of the app buffer seen */
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
	struct tls_session	*s = &tc->peek;

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

/* BearSSL keeps a session: with the name it was made for. */
static void
cache_store(const br_ssl_session_cache_class **ctx,
    br_ssl_server_context *server_ctx, const br_ssl_session_parameters *p)
{
	(void)ctx;
	cache_save(br_ssl_engine_get_server_name(&server_ctx->eng), p);
}

/*
 * The cache BearSSL is given: it stores into the shared cache and loads
 * from the copy look_at_hello() took.
 */
static const br_ssl_session_cache_class cache_vtable = {
	sizeof(const br_ssl_session_cache_class *),
	cache_store,
	cache_load
};
static const br_ssl_session_cache_class *cache_ctx = &cache_vtable;

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
		return tls_impl.ecdsa_sign(tls_impl.ec, algo_id == br_sha256_ID ?
		    sha256_fast() : hash_impls[algo_id], hv, &c->ec, data);
	}
	siglen = (c->rsa.n_bitlen + 7) >> 3;
	if (len < siglen)
		return 0;
	return tls_impl.rsa_sign(hash_oids[algo_id], hv, hv_len, &c->rsa, data) ?
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
			br_aesctr_drbg_init(&drbg, tls_impl.aes_ctr, seed,
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
    tls_open_fn open_app, tls_filter_fn filter, void *arg)
{
	br_ssl_engine_context *eng = &tc->sc.eng;

	br_ssl_server_zero(&tc->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) /
	    sizeof(suites[0]));
	br_ssl_engine_set_all_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_ec(eng, tls_impl.ec);
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
	br_ssl_engine_set_aes_ctr(eng, tls_impl.aes_ctr);
	br_ssl_engine_set_ghash(eng, tls_impl.ghash);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
	    &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chacha20(eng, tls_impl.chacha20);
	br_ssl_engine_set_poly1305(eng, tls_impl.poly1305);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	tc->pol.vtable = &policy_vtable;
	tc->pol.tc = tc;
	br_ssl_server_set_policy(&tc->sc, &tc->pol.vtable);
	if (cache_on())
		br_ssl_server_set_cache(&tc->sc, &cache_ctx);
	br_ssl_engine_set_buffer(eng, tc->buf, sizeof(tc->buf), 0);
	tc->resolve = resolve;
	tc->open_app = open_app;
	tc->arg = arg;
	tc->cred = NULL;
	tc->unknown_name = 0;
	tc->name_mismatch = 0;
	tc->hello_seen = tc->hello_ok = tc->peeked = 0;
	tc->filter = filter;
	tc->reject = 0;
	tc->reply = NULL;
	tc->replylen = 0;
	tc->filtered = 0;
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

	if (cache_name_hash(name) != tc->resumed_name ||
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
		    tc->filter != NULL) {
			/* Each byte is shown to the filter once. */
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			if (len > tc->filtered && (tc->reply = tc->filter(tc->arg,
			    buf + tc->filtered, len - tc->filtered,
			    &tc->replylen)) != NULL) {
				tc->reject = 1;
				tc->app_eof = 1;
			}
			tc->filtered = len;
		}
		if ((st & BR_SSL_RECVAPP) && tc->reject != 0) {
			br_ssl_engine_recvapp_buf(eng, &len);
			br_ssl_engine_recvapp_ack(eng, len);
			tc->filtered = 0;
			st &= ~BR_SSL_RECVAPP;
			progress = 1;
		}
		st = br_ssl_engine_current_state(eng);
		if ((st & BR_SSL_SENDAPP) && tc->reject == 1) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			if (len >= tc->replylen) {
				memcpy(buf, tc->reply, tc->replylen);
				br_ssl_engine_sendapp_ack(eng, tc->replylen);
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
				tc->filtered = tc->filtered > (size_t)n ?
				    tc->filtered - (size_t)n : 0;
				ev->app_in += (size_t)n;
				progress = 1;
				tc->app_wr = (size_t)n == len;
			} else if (n == -1 && errno != EINTR && would_block())
				tc->app_wr = 0;
			else if (n == -1 && !would_block() && errno != EINTR) {
				/* The HTTP side is gone: close cleanly. */
				br_ssl_engine_recvapp_ack(eng, len);
				tc->filtered = 0;
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
int
tls_conn_resumed(const struct tls_conn *tc)
{
	/* A full handshake chose credentials; a resumed one did not. */
	return tc->established && tc->cred == NULL;
}

/* see tls.h */
enum tls_failure
tls_conn_failure(const struct tls_conn *tc)
{
	if (!tc->unknown_name)
		return TLS_FAIL_PROTOCOL;
	return br_ssl_engine_get_server_name(&tc->sc.eng)[0] == '\0' ?
	    TLS_FAIL_NO_NAME : TLS_FAIL_UNKNOWN_NAME;
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
	const char			*text;

	if (tc->unknown_name)
		return "server name not served";
	if (tc->name_mismatch)
		return "session resumed under another server name";
	if (err == BR_ERR_OK)
		return NULL;
	if ((text = tls_error_text(err, 0)) != NULL ||
	    (text = tls_alert_text(err, "client", buf, sizeof(buf))) != NULL)
		return text;
	snprintf(buf, sizeof(buf), "BearSSL error %d", err);
	return buf;
}
