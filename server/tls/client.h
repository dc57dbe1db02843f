/*
 * client.h: the blocking TLS client of mta-stsctl (BearSSL, like all of
 * tls/): what the local server serves, and a deployment as senders see
 * it.  Responses are parsed by resp.h.
 */
#ifndef TLS_CLIENT_H
#define TLS_CLIENT_H

#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

#include "lib/resp.h"

struct tls_cred;

/*
 * Fetches https://HOST/.well-known/mta-sts.txt from the server at addr
 * (not from what HOST resolves to) with TLS 1.2 and SNI host, accepting
 * only a server that proves it holds the key of expect's leaf certificate.
 * The chain is not otherwise verified: the question is whether the local
 * server presents this credential, not whether a CA vouches for it.  Only
 * suites for expect's key type (ECDSA or RSA) are offered, so that the
 * server presents that credential.  Blocking; everything, from connect to
 * the server's close, within timeout_ms (> 0) milliseconds.  The response
 * is parsed by resp_parse().
 *
 * Returns 0 with *out filled in, whatever the status code, or -1 with
 * why in err ("connect to 127.0.0.1:443: Connection refused", "TLS
 * handshake: server presented another certificate", ...).  expect is only
 * read, and no reference is taken.
 */
int		 tls_fetch_policy(const struct sockaddr *addr, socklen_t addrlen,
		    const char *host, const struct tls_cred *expect,
		    int timeout_ms, struct resp *out, char *err,
		    size_t errsz);

/* The system's trust store (Debian's ca-certificates). */
#define TLS_CA_FILE_DEFAULT	"/etc/ssl/certs/ca-certificates.crt"

/* Trust anchors: the CA certificates of one PEM file. */
struct tls_anchors;

/*
 * Reads the CA certificates in the PEM file at path (e.g. Debian's
 * /etc/ssl/certs/ca-certificates.crt).  Returns NULL with why in err when
 * the file cannot be read or holds no usable certificate.
 */
struct tls_anchors *tls_anchors_load(const char *path, char *err,
		    size_t errsz);
void		 tls_anchors_free(struct tls_anchors *ta);

enum tls_verify {
	TLS_VERIFY_OK,		/* chain to an anchor, name, dates: all good */
	TLS_VERIFY_UNTRUSTED,	/* no chain to a trust anchor */
	TLS_VERIFY_NAME,	/* not valid for the host name */
	TLS_VERIFY_EXPIRED,	/* outside its validity dates */
	TLS_VERIFY_OTHER,	/* anything else, or no handshake */
};

/* What a verifying client saw of a server. */
struct tls_peer {
	enum tls_verify	 verify;
	int		 established;		/* the handshake completed */
	unsigned	 version;		/* 0x0303 is TLS 1.2 */
	char		 suite[64];		/* cipher suite name */
	int		 have_leaf;		/* fields below are set */
	time_t		 not_after;		/* of the leaf certificate */
	char		 names[256];		/* its dNSNames, ", " between */
};

/*
 * Fetches https://HOST/.well-known/mta-sts.txt from the server at addr
 * as senders do: TLS 1.0 to 1.2, SNI host, the certificate chain checked
 * against ta, its dates against the clock and host against its names
 * (a "*." name matching exactly one label).  No redirect is followed.
 * Otherwise as tls_fetch_policy(), with *peer filled in as far as the
 * handshake went, success or not.
 */
int		 tls_fetch_verified(const struct sockaddr *addr,
		    socklen_t addrlen, const char *host,
		    const struct tls_anchors *ta, int timeout_ms,
		    struct resp *out, struct tls_peer *peer, char *err,
		    size_t errsz);

/*
 * Runs a verifying TLS handshake (as above) over the connected socket fd
 * after STARTTLS, then closes the session and fd.  Returns 0 when the
 * handshake completed and the certificate verified, else -1 with why in
 * err; *peer as above.
 */
int		 tls_starttls_verify(int fd, const char *host,
		    const struct tls_anchors *ta, int timeout_ms,
		    struct tls_peer *peer, char *err, size_t errsz);

#endif /* TLS_CLIENT_H */
