/*
 * tls.h: TLS with BearSSL (tls/ is the only folder that knows it): the
 * certificate directory and the server side of a connection.  The
 * client side, for mta-stsctl, is client.h.
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

/* Resolves, once, the fastest implementations this CPU has. */
void		 tls_init(void);
/*
 * Sets up the session cache shared by every connection: entries (0
 * disables resumption).  Returns 0 or -1.
 */
int		 tls_cache_init(unsigned entries);

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
/*
 * The same with up to threads threads, each reading a part of a large
 * directory's files (1,024 and more a thread).
 */
struct tls_certs *tls_certs_rescan_n(const char *dir, struct tls_certs *prev,
		    int threads);
void		 tls_certs_free(struct tls_certs *cs);
/*
 * Frees the name index, which only tls_certs_find() reads: a scan kept
 * only for the next one (tls_certs_rescan()) does not need it.
 */
void		 tls_certs_forget_names(struct tls_certs *cs);
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
 * The common name of the leaf certificate's issuer, made printable, in
 * buf (DER_CN_MAX + 1 bytes are enough); "?" when it has none.  Parsed
 * at each call: only mta-stsctl asks.  Returns buf.
 */
const char	*tls_cred_issuer(const struct tls_cred *c, char *buf,
		    size_t bufsz);
/* Do a and b hold the same leaf certificate, byte for byte? */
int		 tls_cred_same_leaf(const struct tls_cred *a,
		    const struct tls_cred *b);

/*
 * Chooses the credentials for a connection from the SNI server name ("" when
 * the client sent none).  Returns 1 with *ec and/or *rsa set, or 0 for a
 * name that is not served.
 */
typedef int	(*tls_resolve_fn)(void *arg, const char *name,
		    struct tls_cred **ec, struct tls_cred **rsa);

/* Opens the plaintext side when the first request bytes arrive: an fd. */
typedef int	(*tls_open_fn)(void *arg);

/*
 * Looks at plaintext from the client before the plaintext side gets it
 * (each byte once, in order): returns NULL to let the len bytes at p
 * through, or bytes to answer with (*replylen of them, valid while the
 * connection lives) before the connection closes and the plaintext side
 * sees nothing more.  The TLS layer knows nothing of what it screens.
 */
typedef const char *(*tls_filter_fn)(void *arg, const unsigned char *p,
		    size_t len, size_t *replylen);

struct tls_conn	*tls_conn_new(void);
void		 tls_conn_free(struct tls_conn *tc);

/*
 * Resets tc for a new connection; filter may be NULL.  Returns 0, or -1.
 */
int		 tls_conn_start(struct tls_conn *tc, tls_resolve_fn resolve,
		    tls_open_fn open_app, tls_filter_fn filter, void *arg);

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
 * The server name in a connection's first bytes, if they hold one whole
 * ClientHello record: returns 1 with the name lower-cased in out ("" when
 * the client sent none), or 0 with out empty, also when the name is not
 * one alone in one server_name extension.  Pure; exposed for the fuzzer.
 */
int		 tls_hello_name(const unsigned char *p, size_t n, char *out,
		    size_t outsz);

/* Has the handshake completed? */
int		 tls_conn_established(const struct tls_conn *tc);
/* Did the completed handshake resume a session from the cache? */
int		 tls_conn_resumed(const struct tls_conn *tc);

/* Why a handshake failed, in kinds the metrics count. */
enum tls_failure {
	TLS_FAIL_PROTOCOL,	/* an error or alert, or the client left */
	TLS_FAIL_NO_NAME,	/* no server name, and none served without */
	TLS_FAIL_UNKNOWN_NAME	/* a server name not served */
};
enum tls_failure tls_conn_failure(const struct tls_conn *tc);
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

#endif /* TLS_H */
