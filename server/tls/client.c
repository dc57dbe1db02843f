/*
 * client.c: the blocking TLS client of mta-stsctl: the policy fetched
 * from the local server (against the key it should present) or as
 * senders fetch it (verified against trust anchors), and a verifying
 * handshake after STARTTLS.  See client.h.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/der.h"
#include "lib/resp.h"
#include "tls/client.h"
#include "tls/internal.h"

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

#define FETCH_RESP_MAX	(RESP_HEAD_MAX + RESP_BODY_MAX)

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
 * An X.509 engine in front of another: keeps the server's leaf
 * certificate, so that a check can report its names and dates whatever
 * the verdict (in front of the minimal engine), and so that a fetch from
 * the local server takes only the very certificate expected, not another
 * one for the same key (in front of the known-key engine: a renewal that
 * kept its key must not pass for served before it is).
 */
struct x509_rec {
	const br_x509_class	*vtable;	/* first */
	const br_x509_class	**inner;
	unsigned char		 leaf[LEAF_MAX];
	size_t			 leaflen;
	unsigned		 depth;		/* certificates seen */
	int			 cut;		/* the leaf did not fit */
	const unsigned char	*want;		/* the leaf expected, or NULL */
	size_t			 wantlen;
	int			 mismatch;	/* the leaf was not want */
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

/* Why the exchange failed, from the socket's state and the engine's. */
static void
fetch_why(const struct fetch *f, const char *host,
    const struct tls_cred *expect, char *why, size_t whysz)
{
	int		 err = br_ssl_engine_last_error(&f->cc.eng);
	const char	*text;

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
	/* What needs the host or the expected key; then the table. */
	if ((err == BR_ERR_BAD_SIGNATURE || f->rec.mismatch) && expect != NULL)
		/* The known-key engine: the server signed with another key. */
		snprintf(why, whysz, "server presented another certificate, "
		    "not the %s one in %s", cred_kind(expect), expect->path);
	else if (err == BR_ERR_X509_BAD_SERVER_NAME)
		snprintf(why, whysz, "certificate not valid for %s", host);
	else if (err == BR_ERR_BAD_PARAM)
		snprintf(why, whysz, "bad server name %s", host);
	else if (err == BR_ERR_RECV_FATAL_ALERT + 112)
		snprintf(why, whysz, "server sent alert unrecognized_name: it "
		    "does not serve %s", host);
	else if (err == BR_ERR_RECV_FATAL_ALERT + 40 && expect != NULL)
		snprintf(why, whysz, "server sent alert handshake_failure (does "
		    "it have an %s certificate for %s?)", expect->type ==
		    BR_KEYTYPE_EC ? "ECDSA" : "RSA", host);
	else if ((text = tls_error_text(err, 1)) != NULL)
		snprintf(why, whysz, "%s", text);
	else if (tls_alert_text(err, "server", why, whysz) != NULL)
		;
	else if (err >= BR_ERR_X509_OK && err <= BR_ERR_X509_NOT_TRUSTED)
		snprintf(why, whysz, "certificate rejected (BearSSL X.509 "
		    "error %d)", err);
	else
		snprintf(why, whysz, "BearSSL error %d", err);
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
	clock_deadline(&f->io.deadline, timeout_ms);
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
 * Returns 0, or -1 with why.
 */
static int
fetch_get(struct fetch *f, const char *host, const struct tls_cred *expect,
    const char **phase, struct resp *out, char *why, size_t whysz)
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
		goto io_fail;

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
			return -1;
		}
		f->resplen += (size_t)n;
	}
	clean = br_ssl_engine_last_error(&f->cc.eng) == BR_ERR_OK;
	if (!clean && !(f->io.eof && !f->io.timedout && f->io.errnum == 0 &&
	    br_ssl_engine_last_error(&f->cc.eng) == BR_ERR_IO))
		goto io_fail;

	*phase = "HTTP response";
	return resp_parse(f->resp, f->resplen, clean, out, why, whysz);
io_fail:
	fetch_why(f, host, expect, why, whysz);
	return -1;
}

/* Clears *out but for toolarge, which tells why it failed. */
static void
fetch_out_clear(struct resp *out)
{
	out->status = 0;
	out->ctype[0] = '\0';
	out->location[0] = '\0';
	out->body[0] = '\0';
	out->bodylen = 0;
}

static const br_x509_class rec_vtable;

/*
 * Sets up f's engine to take only expect's key and leaf certificate; -1
 * with why.
 */
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
	f->rec.vtable = &rec_vtable;
	f->rec.inner = &f->kk.vtable;
	f->rec.want = expect->chain[0].data;
	f->rec.wantlen = expect->chain[0].data_len;
	br_ssl_engine_set_x509(&f->cc.eng, &f->rec.vtable);
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
    int timeout_ms, struct resp *out, struct tls_peer *peer,
    char *err, size_t errsz)
{
	struct fetch		*f = NULL;
	const char		*phase = "fetch";
	char			 where[ADDR_TEXT_MAX];
	char			 why[256];
	int			 rc = -1;

	fetch_out_clear(out);
	out->toolarge = 0;
	addr_format(addr, 1, where, sizeof(where));
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

	if (fetch_get(f, host, expect, &phase, out, why, sizeof(why)) == -1)
		goto fail;
	rc = 0;
	goto out;
io_fail:
	fetch_why(f, host, expect, why, sizeof(why));
fail:
	snprintf(err, errsz, "%s: %s: %s", where, phase, why);
	fetch_out_clear(out);
out:
	fetch_free(f);
	return rc;
}

/* see client.h */
int
tls_fetch_policy(const struct sockaddr *addr, socklen_t addrlen,
    const char *host, const struct tls_cred *expect, int timeout_ms,
    struct resp *out, char *err, size_t errsz)
{
	if (expect == NULL) {
		snprintf(err, errsz, "invalid arguments");
		return -1;
	}
	return fetch_run(addr, addrlen, host, expect, NULL, timeout_ms, out,
	    NULL, err, errsz);
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
	unsigned	 err = (*r->inner)->end_chain(r->inner);

	if (err == 0 && r->want != NULL && (r->depth == 0 || r->cut ||
	    r->leaflen != r->wantlen ||
	    memcmp(r->leaf, r->want, r->wantlen) != 0)) {
		r->mismatch = 1;
		return BR_ERR_X509_NOT_TRUSTED;
	}
	return err;
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

/* see client.h */
int
tls_fetch_verified(const struct sockaddr *addr, socklen_t addrlen,
    const char *host, const struct tls_anchors *ta, int timeout_ms,
    struct resp *out, struct tls_peer *peer, char *err, size_t errsz)
{
	memset(peer, 0, sizeof(*peer));
	peer->verify = TLS_VERIFY_OTHER;
	return fetch_run(addr, addrlen, host, NULL, ta, timeout_ms, out, peer,
	    err, errsz);
}

/* see client.h */
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
