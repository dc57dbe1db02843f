/*
 * tls.h: TLS with BearSSL, the only part of mta-stsd that knows it.
 *
 * Certificates: a scan of the certificate directory yields credentials
 * (a chain with its private key), paired by public key and indexed by the
 * names they carry, so files may be named however the ACME client names
 * them.  Connections: one engine per connection driven by its state bits
 * over non-blocking sockets; the SNI name picks the credentials through a
 * callback; an unknown name is answered with the unrecognized_name alert.
 */
#ifndef TLS_H
#define TLS_H

#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

struct tls_cred;	/* a certificate chain and its key; refcounted */
struct tls_certs;	/* the result of one scan */
struct tls_conn;	/* one connection's engine and buffer */

/*
 * Resolves, once, the fastest implementations this CPU has and sets up
 * the session cache (entries; 0 disables resumption).  Returns 0 or -1.
 */
int		 tls_init(unsigned session_cache);

/*
 * Scans dir recursively for PEM files (certificates, chains and keys in
 * any combination and any file name) and pairs keys with certificates.
 * Problems with single files are logged and the file skipped.  Returns
 * NULL only when dir cannot be read or memory runs out.
 */
struct tls_certs *tls_certs_scan(const char *dir);
/*
 * The same, taking from prev (the last scan of dir, or NULL) what it read
 * from files unchanged since (same device, inode, size, modification and
 * change times) instead of reading them again.  What is taken is shared
 * with prev, not copied, and prev's entries follow the new pairing: free
 * prev after, and scan with the result next.
 */
struct tls_certs *tls_certs_rescan(const char *dir, struct tls_certs *prev);
void		 tls_certs_free(struct tls_certs *cs);
size_t		 tls_certs_count(const struct tls_certs *cs);

/*
 * The best credentials for host at time now: of those whose subjectAltName
 * dNSName matches (exactly, or as "*." for the first label), valid now,
 * the ECDSA and the RSA one that expire last.  Either may be NULL; when
 * both are, why (if not NULL) says why in words.  References are not
 * taken: see tls_cred_ref().
 */
void		 tls_certs_find(const struct tls_certs *cs, const char *host,
		    time_t now, struct tls_cred **ec, struct tls_cred **rsa,
		    char *why, size_t whysz);

void		 tls_cred_ref(struct tls_cred *c);
void		 tls_cred_unref(struct tls_cred *c);
const char	*tls_cred_subject(const struct tls_cred *c);	/* CN */
const char	*tls_cred_path(const struct tls_cred *c);	/* the file */
const char	*tls_cred_kind(const struct tls_cred *c);	/* "ECDSA P-256" */
time_t		 tls_cred_not_after(const struct tls_cred *c);

/*
 * Chooses the credentials for a connection from the SNI server name ("" when
 * the client sent none).  Returns 1 with *ec and/or *rsa set, or 0 for a
 * name that is not served.
 */
typedef int	(*tls_resolve_fn)(void *arg, const char *name,
		    struct tls_cred **ec, struct tls_cred **rsa);

/* Opens the plaintext side when the first request bytes arrive: an fd. */
typedef int	(*tls_open_fn)(void *arg);

struct tls_conn	*tls_conn_new(void);
void		 tls_conn_free(struct tls_conn *tc);

/* Resets tc for a new connection.  Returns 0, or -1. */
int		 tls_conn_start(struct tls_conn *tc, tls_resolve_fn resolve,
		    tls_open_fn open_app, void *arg);

/* What one pump moved, for the connection's timers and the log. */
/*
 * What the event loop saw on each socket since the last pump (in), so
 * that no call is made only to hear EAGAIN: TLS_RD readable, TLS_WR
 * writable, TLS_HUP the peer shut its side (then read to EOF).
 */
#define TLS_RD		0x1
#define TLS_WR		0x2
#define TLS_HUP		0x4

struct tls_events {
	unsigned net;		/* in: TLS_* seen on the client socket */
	unsigned app;		/* in: TLS_* seen on the plaintext socket */
	size_t	 app_in;	/* plaintext bytes from the client */
	size_t	 app_out;	/* plaintext bytes to the client */
	int	 established;	/* the handshake completed in this pump */
};

/*
 * Moves bytes between the client socket netfd, the engine and the
 * plaintext socket *appfd (-1 until open_app makes it) until nothing more
 * can move without blocking.  Returns 0 while the connection lives, -1
 * when it is over (closed, failed, or the peer went away).
 */
int		 tls_conn_pump(struct tls_conn *tc, int netfd, int *appfd,
		    struct tls_events *ev);

/*
 * The bytes sent (then the connection closes) to a client whose plaintext
 * holds a NUL byte, which no request may; NULL (the default) passes them.
 */
void		 tls_set_nul_reply(const char *reply, size_t len);
/*
 * With on, the body of a POST (everything after its head: the answer to
 * a POST closes the connection) may hold NUL bytes, as a gzip body does.
 */
void		 tls_set_post_bodies(int on);

/*
 * The server name in a connection's first bytes, if they hold one whole
 * ClientHello record: returns 1 with the name lower-cased in out ("" when
 * the client sent none), or 0 with out empty, also when the name is not
 * one alone in one server_name extension.  Pure; exposed for the fuzzer.
 */
int		 tls_hello_name(const unsigned char *p, size_t n, char *out,
		    size_t outsz);

/* Has the handshake completed? */
int		 tls_conn_established(const struct tls_conn *tc);
/* The SNI name the client sent, "" if none. */
const char	*tls_conn_server_name(const struct tls_conn *tc);
/* Why the connection failed, in words, or NULL if it did not. */
const char	*tls_conn_error(const struct tls_conn *tc);
/* Is there engine output not yet written to the client? */
int		 tls_conn_pending(const struct tls_conn *tc);

/* Unmaps the freed TLS states this thread keeps for reuse. */
void		 tls_conn_release(void);

/*
 * Gives back the pages of an idle connection's record buffer when
 * BearSSL holds nothing in it.  Returns 1 if it did.
 */
int		 tls_conn_trim(struct tls_conn *tc);

/* ------------------------------------------------------------------ */
/* Control tool: checking what the local server serves                 */

/* SHA-256 of data as 64 lower-case hex digits and a NUL, in out. */
void		 tls_sha256_hex(const void *data, size_t len, char out[65]);

#define TLS_FETCH_BODY_MAX	65536	/* bytes of body taken */
#define TLS_FETCH_HEAD_MAX	16384	/* bytes of status line and headers */

/* One response, as tls_fetch_policy() read it. */
struct tls_fetch {
	unsigned	 status;		/* HTTP status code */
	char		 ctype[128];		/* Content-Type value, "" if none */
	char		 location[256];		/* Location value, "" if none */
	char		 body[TLS_FETCH_BODY_MAX + 1];	/* NUL-terminated */
	size_t		 bodylen;
	int		 toolarge;		/* failed: over a size cap */
};

/*
 * Parses a whole HTTP/1.x response, len bytes at r, read until the server
 * closed (clean: with a TLS close_notify; without one, only a
 * Content-Length or a chunked body shows nothing was cut off), into *out.
 * Headers must fit TLS_FETCH_HEAD_MAX, the body TLS_FETCH_BODY_MAX; a
 * chunked body is decoded, any other transfer coding refused.  Returns
 * 0, or -1 with why (the server's bytes are never echoed into it).
 * Pure; exposed for the fuzzer.
 */
int		 tls_fetch_parse(const unsigned char *r, size_t len, int clean,
		    struct tls_fetch *out, char *why, size_t whysz);

/*
 * Fetches https://HOST/.well-known/mta-sts.txt from the server at addr
 * (not from what HOST resolves to) with TLS 1.2 and SNI host, accepting
 * only a server that proves it holds the key of expect's leaf certificate.
 * The chain is not otherwise verified: the question is whether the local
 * server presents this credential, not whether a CA vouches for it.  Only
 * suites for expect's key type (ECDSA or RSA) are offered, so that the
 * server presents that credential.  Blocking; everything, from connect to
 * the server's close, within timeout_ms (> 0) milliseconds.  The response
 * is parsed by tls_fetch_parse().
 *
 * Returns 0 with *out filled in, whatever the status code, or -1 with
 * why in err ("connect to 127.0.0.1:443: Connection refused", "TLS
 * handshake: server presented another certificate", ...).  expect is only
 * read, and no reference is taken.
 */
int		 tls_fetch_policy(const struct sockaddr *addr, socklen_t addrlen,
		    const char *host, const struct tls_cred *expect,
		    int timeout_ms, struct tls_fetch *out, char *err,
		    size_t errsz);

/* ------------------------------------------------------------------ */
/* Control tool: checking a deployment as senders see it               */

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
 * Parses a whole HTTP/1.x response, len bytes at r, read until the server
 * closed (clean: with a TLS close_notify; without one, only a
 * Content-Length or a chunked body shows nothing was cut off), into *out.
 * Headers must fit TLS_FETCH_HEAD_MAX, the body TLS_FETCH_BODY_MAX; a
 * chunked body is decoded, any other transfer coding refused.  Returns
 * 0, or -1 with why (the server's bytes are never echoed into it).
 * Pure; exposed for the fuzzer.
 */
int		 tls_fetch_parse(const unsigned char *r, size_t len, int clean,
		    struct tls_fetch *out, char *why, size_t whysz);

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
		    struct tls_fetch *out, struct tls_peer *peer, char *err,
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

#endif /* TLS_H */
