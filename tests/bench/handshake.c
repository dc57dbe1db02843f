/*
 * handshake.c: the cost of a full TLS 1.2 handshake to BearSSL itself,
 * the limit that tests/bench/bench.sh holds mta-stsd to.
 *
 *   handshake CHAIN.pem KEY.pem [COUNT [SERVER_NAME]]
 *
 * Runs COUNT (default 2000) full handshakes between a BearSSL server and
 * a BearSSL client in memory: no sockets, the records of each side are
 * copied into a buffer that the other side reads, as a socket would.
 * The server is set up as server/tls.c sets up each connection (TLS 1.2
 * only, the same suites in the same order, the same implementations,
 * a fresh context per handshake, no session cache); the client offers
 * ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 only, X25519 before P-256 (which
 * it needs anyway: BearSSL verifies the server's ECDSA signature with
 * the engine's curves), and trusts the server's key as it is
 * (br_x509_knownkey).  The run fails unless X25519 was chosen.
 *
 * Only the server's CPU time is measured (CLOCK_THREAD_CPUTIME_ID): each
 * turn of the server, from the moment it gets bytes or room until it has
 * nothing more to do, is one interval; the cost of reading the clock is
 * measured once and taken off each interval.  The handshakes run in ten
 * batches; the output is the median of the batches' means:
 *
 *   server_us_per_handshake 123.4
 *   batches 121.0 ... (one per batch)
 *   curve 29 suite 0xc02b clock_overhead_ns 350
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#define CHAIN_MAX	8
#define BATCHES		10
#define PIPE_SIZE	(BR_SSL_BUFSIZE_BIDI * 2)

/* The suites and hash functions of server/tls.c, in its order. */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const uint16_t client_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
};
static const br_hash_class *const hash_impls[] = {
	NULL, NULL, &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
	&br_sha384_vtable, &br_sha512_vtable
};

/* One direction of the "socket": bytes written by one side, not yet read. */
struct pipe {
	unsigned char	 buf[PIPE_SIZE];
	size_t		 off, len;
};

static br_x509_certificate	 chain[CHAIN_MAX];
static size_t			 chain_len;
static br_skey_decoder_context	 skey;		/* holds the server key */
static br_x509_decoder_context	 leaf;		/* holds its public key */

static br_ssl_server_context	 sc;
static unsigned char		 sbuf[BR_SSL_BUFSIZE_MONO];
static br_ssl_client_context	 cc;
static br_x509_minimal_context	 xc;
static br_x509_knownkey_context	 kk;
static unsigned char		 cbuf[BR_SSL_BUFSIZE_BIDI];
static br_ec_impl		 client_ec;	/* X25519 and P-256 only */
static struct pipe		 c2s, s2c;

static const br_block_ctr_class	*aes_ctr;
static br_ghash			 ghash;
static br_chacha20_run		 chacha20;
static br_poly1305_run		 poly1305;

static void
die(const char *what)
{
	fprintf(stderr, "handshake: %s\n", what);
	exit(1);
}

static uint64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
append(void *ctx, const void *data, size_t len)
{
	struct pipe *obj = ctx;

	if (obj->len + len > sizeof(obj->buf))
		die("PEM object too large");
	memcpy(obj->buf + obj->len, data, len);
	obj->len += len;
}

/* Takes one decoded PEM object: a certificate or the private key. */
static void
take(const char *name, const unsigned char *der, size_t len)
{
	unsigned char *copy;

	if (strcmp(name, "CERTIFICATE") == 0) {
		if (chain_len == CHAIN_MAX)
			die("chain too long");
		if ((copy = malloc(len)) == NULL)
			die("out of memory");
		memcpy(copy, der, len);
		chain[chain_len].data = copy;
		chain[chain_len++].data_len = len;
	} else if (strstr(name, "PRIVATE KEY") != NULL) {
		br_skey_decoder_init(&skey);
		br_skey_decoder_push(&skey, der, len);
		if (br_skey_decoder_last_error(&skey) != 0 ||
		    br_skey_decoder_key_type(&skey) != BR_KEYTYPE_EC)
			die("not an EC private key");
	}
}

/* Reads every PEM object of path into take(). */
static void
read_pem(const char *path)
{
	static struct pipe obj;
	br_pem_decoder_context pc;
	char name[128];
	unsigned char in[4096];
	size_t n, k;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "handshake: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	br_pem_decoder_init(&pc);
	while ((n = fread(in, 1, sizeof(in), f)) > 0) {
		for (size_t off = 0; off < n; off += k) {
			k = br_pem_decoder_push(&pc, in + off, n - off);
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				snprintf(name, sizeof(name), "%s",
				    br_pem_decoder_name(&pc));
				obj.len = 0;
				br_pem_decoder_setdest(&pc, append, &obj);
				break;
			case BR_PEM_END_OBJ:
				take(name, obj.buf, obj.len);
				break;
			case BR_PEM_ERROR:
				die("bad PEM");
			}
		}
	}
	fclose(f);
}

static void
server_start(void)
{
	br_ssl_engine_context *eng = &sc.eng;

	br_ssl_server_zero(&sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) /
	    sizeof(suites[0]));
	br_ssl_engine_set_all_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_ec(eng, br_ec_get_default());
	for (int id = br_sha1_ID; id <= br_sha512_ID; id++)
		br_ssl_engine_set_hash(eng, id, hash_impls[id]);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_aes_ctr(eng, aes_ctr);
	br_ssl_engine_set_ghash(eng, ghash);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
	    &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chacha20(eng, chacha20);
	br_ssl_engine_set_poly1305(eng, poly1305);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	br_ssl_server_set_single_ec(&sc, chain, chain_len,
	    br_skey_decoder_get_ec(&skey), BR_KEYTYPE_SIGN, BR_KEYTYPE_EC,
	    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());
	br_ssl_engine_set_buffer(eng, sbuf, sizeof(sbuf), 0);
	if (!br_ssl_server_reset(&sc))
		die("server reset");
}

/*
 * Moves records between one engine and the pipes until it can do no
 * more.  Returns its state, or 0 when it has closed.
 */
static unsigned
pump(br_ssl_engine_context *eng, struct pipe *in, struct pipe *out)
{
	unsigned char *p;
	unsigned st;
	size_t len;
	int moved;

	do {
		moved = 0;
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return 0;
		if ((st & BR_SSL_SENDREC) && out->len < sizeof(out->buf)) {
			p = br_ssl_engine_sendrec_buf(eng, &len);
			if (len > sizeof(out->buf) - out->len)
				len = sizeof(out->buf) - out->len;
			memcpy(out->buf + out->len, p, len);
			out->len += len;
			br_ssl_engine_sendrec_ack(eng, len);
			moved = 1;
		}
		if ((st & BR_SSL_RECVREC) && in->off < in->len) {
			p = br_ssl_engine_recvrec_buf(eng, &len);
			if (len > in->len - in->off)
				len = in->len - in->off;
			memcpy(p, in->buf + in->off, len);
			in->off += len;
			if (in->off == in->len)
				in->off = in->len = 0;
			br_ssl_engine_recvrec_ack(eng, len);
			moved = 1;
		}
	} while (moved);
	return st;
}

/* One full handshake; returns the server's CPU time in ns. */
static int64_t
handshake(const char *name, uint64_t overhead)
{
	uint64_t t0;
	int64_t spent = 0;
	unsigned sst, cst;

	c2s.off = c2s.len = s2c.off = s2c.len = 0;
	if (!br_ssl_client_reset(&cc, name, 0))
		die("client reset");
	t0 = cpu_ns();
	server_start();
	spent += (int64_t)(cpu_ns() - t0) - (int64_t)overhead;
	for (int turns = 0; turns < 100; turns++) {
		if ((cst = pump(&cc.eng, &s2c, &c2s)) == 0)
			die("client closed");
		t0 = cpu_ns();
		sst = pump(&sc.eng, &c2s, &s2c);
		spent += (int64_t)(cpu_ns() - t0) - (int64_t)overhead;
		if (sst == 0)
			die("server closed");
		if ((cst & BR_SSL_SENDAPP) && (sst & BR_SSL_SENDAPP))
			return spent;
	}
	die("handshake does not end");
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char *argv[])
{
	br_ssl_session_parameters sp;
	double batch[BATCHES], sorted[BATCHES];
	const char *name;
	uint64_t overhead = 0, t0;
	int64_t ns;
	long count;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: handshake CHAIN.pem KEY.pem [COUNT "
		    "[SERVER_NAME]]\n");
		return 2;
	}
	read_pem(argv[1]);
	read_pem(argv[2]);
	count = argc > 3 ? strtol(argv[3], NULL, 10) : 2000;
	name = argc > 4 ? argv[4] : "mta-sts.example.com";
	if (chain_len == 0 || br_skey_decoder_key_type(&skey) == 0)
		die("need a certificate chain and an EC key");
	if (count < BATCHES)
		count = BATCHES;

	/* The implementations server/tls.c's tls_init() picks. */
	if ((aes_ctr = br_aes_x86ni_ctr_get_vtable()) == NULL)
		aes_ctr = &br_aes_ct64_ctr_vtable;
	if ((ghash = br_ghash_pclmul_get()) == 0)
		ghash = &br_ghash_ctmul64;
	if ((chacha20 = br_chacha20_sse2_get()) == 0)
		chacha20 = &br_chacha20_ct_run;
	if ((poly1305 = br_poly1305_ctmulq_get()) == 0)
		poly1305 = &br_poly1305_ctmul_run;

	br_x509_decoder_init(&leaf, NULL, NULL);
	br_x509_decoder_push(&leaf, chain[0].data, chain[0].data_len);
	if (br_x509_decoder_get_pkey(&leaf) == NULL ||
	    br_x509_decoder_get_pkey(&leaf)->key_type != BR_KEYTYPE_EC)
		die("the first certificate has no EC key");
	br_ssl_client_init_full(&cc, &xc, NULL, 0);
	br_x509_knownkey_init_ec(&kk, &br_x509_decoder_get_pkey(&leaf)->key.ec,
	    BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&cc.eng, &kk.vtable);
	br_ssl_engine_set_versions(&cc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(&cc.eng, client_suites, 1);
	client_ec = *br_ec_get_default();
	client_ec.supported_curves = (1u << BR_EC_curve25519) |
	    (1u << BR_EC_secp256r1);
	br_ssl_engine_set_ec(&cc.eng, &client_ec);
	br_ssl_engine_set_buffer(&cc.eng, cbuf, sizeof(cbuf), 1);

	/* What an interval of nothing measures. */
	for (int i = 0; i < 10000; i++) {
		t0 = cpu_ns();
		overhead += cpu_ns() - t0;
	}
	overhead /= 10000;

	handshake(name, overhead);	/* warm the caches */
	for (int b = 0; b < BATCHES; b++) {
		ns = 0;
		for (long i = 0; i < count / BATCHES; i++)
			ns += handshake(name, overhead);
		batch[b] = (double)ns / 1000.0 / (double)(count / BATCHES);
	}
	memcpy(sorted, batch, sizeof(batch));
	qsort(sorted, BATCHES, sizeof(sorted[0]), cmp_double);
	br_ssl_engine_get_session_parameters(&cc.eng, &sp);
	printf("server_us_per_handshake %.1f\nbatches", (sorted[BATCHES / 2 -
	    1] + sorted[BATCHES / 2]) / 2);
	for (int b = 0; b < BATCHES; b++)
		printf(" %.1f", batch[b]);
	printf("\ncurve %d suite 0x%04x clock_overhead_ns %lu\n",
	    br_ssl_engine_get_ecdhe_curve(&cc.eng), sp.cipher_suite,
	    (unsigned long)overhead);
	if (br_ssl_engine_get_ecdhe_curve(&cc.eng) != BR_EC_curve25519 ||
	    sp.cipher_suite != BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)
		die("not the X25519 / ECDHE-ECDSA-AES128-GCM handshake");
	return 0;
}
