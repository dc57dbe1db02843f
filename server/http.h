/*
 * http.h: HTTP with libmicrohttpd, the only part of mta-stsd that knows it.
 *
 * libmicrohttpd runs without a listening socket and without a thread:
 * the server hands it the plaintext end of each connection's socketpair
 * (http_add) and calls http_run() when http_fd() is readable or
 * http_timeout_ms() has passed, all from its one event loop.
 *
 * Every answer is prepared in advance: a domain's body when its policy
 * loads (http_body_new; each daemon makes its libmicrohttpd response at
 * the domain's first request and keeps it in a small cache), the error
 * answers at start.  A request is compared with the one path served,
 * never mapped to a file.
 */
#ifndef HTTP_H
#define HTTP_H

#include <sys/socket.h>

#include <stddef.h>
#include <time.h>

#define HTTP_POLICY_PATH	"/.well-known/mta-sts.txt"

struct http;
struct http_body;	/* a prepared policy response; refcounted */

/* http_screen()'s state, per connection: where the request head is. */
struct http_screen {
	unsigned	 head_nl:1;	/* a head line just ended */
	unsigned	 body_free:1;	/* after a POST head: no screening */
	unsigned	 head_len:3;	/* bytes of head_start */
	char		 head_start[5];	/* of the request head */
};

/*
 * What the HTTP side knows of one connection.  The server owns it and
 * keeps it alive until the closed callback.
 */
struct http_site {
	const char		*host;		/* "mta-sts.DOMAIN" chosen by TLS */
	const struct http_body	*policy;	/* its prepared response */
	const char		*client;	/* peer address, for the log */
	/* The request in progress, for the access line. */
	struct timespec		 start;
	unsigned		 status;
	size_t			 bytes;
	char			 method[12];
	char			 path[96];
	int			 bad_target;	/* %00 in the target */
	int			 active;	/* a request is in progress */
	struct http_screen	 screen;
};

/* Returns the site of the connection whose HTTP-side socket is fd. */
typedef struct http_site *(*http_site_fn)(void *arg, int fd);
/* libmicrohttpd is done with the site's connection on socket fd. */
typedef void	(*http_closed_fn)(void *arg, struct http_site *site, int fd);
/*
 * A request of the site was answered (site->status and the rest are
 * set): called once a request, in the loop's thread, to count it.
 */
typedef void	(*http_done_fn)(void *arg, const struct http_site *site);

struct http_limits {
	unsigned	 max_connections;
	unsigned	 max_header_size;	/* request line and headers */
	unsigned	 idle_timeout;		/* seconds */
};

/* done may be NULL. */
struct http	*http_start(const struct http_limits *lim, http_site_fn site,
		    http_closed_fn closed, http_done_fn done, void *arg);

/*
 * The TLS-RPT receiver (RFC 8460 section 3): a POST to path on a served
 * host, of media type application/tlsrpt+json or application/tlsrpt+gzip
 * (415 otherwise) and at most max_size bytes (413 otherwise, at once when
 * Content-Length says so).  Other POSTs keep their 405.
 *
 * admit() is asked once the headers are in: it returns 0 to read the
 * body, or the status to answer at once (429 with *retry_after seconds,
 * 507).  take() gets the whole body, valid for the call only, and
 * returns the status, with a one-line reason in why for the body of the
 * answer.  The body is gathered in memory allocated per request, never
 * beyond max_size.  Every answer to a POST closes the connection (see
 * tls_set_post_bodies()).
 */
struct http_receiver {
	const char	*path;		/* "/tlsrpt"; NULL: off */
	size_t		 max_size;
	unsigned	(*admit)(void *arg, struct http_site *s,
			    unsigned *retry_after);
	unsigned	(*take)(void *arg, struct http_site *s, int gzip,
			    const char *body, size_t len, char *why,
			    size_t whysz);
	void		*arg;
};

/* Sets (copies) the receiver; r->path must outlive the next call. */
void		 http_set_receiver(struct http *h,
		    const struct http_receiver *r);
void		 http_stop(struct http *h);

/*
 * The plain-HTTP listener for ACME HTTP-01 challenges, on listen_fd (bound
 * by the caller), answering only /.well-known/acme-challenge/TOKEN from
 * webroot.  Driven like the other: http_fd(), http_run(),
 * http_timeout_ms(), http_stop().
 */
struct http	*http_acme_start(int listen_fd, const char *webroot);

/*
 * A plain-HTTP listener whose answers answer() makes, on listen_fd (bound
 * by the caller), driven as the ACME one: GET and HEAD only (405
 * otherwise, at once), a body read and dropped.  answer() gets the path
 * without its query and returns the status, with *body (malloc'd, taken
 * over; NULL for none), *len and *type (static: the Content-Type).
 * Answers are never cached (Cache-Control: no-store).
 */
typedef unsigned (*http_answer_fn)(void *arg, const char *path, char **body,
		    size_t *len, const char **type);
struct http	*http_plain_start(int listen_fd, const char *name,
		    http_answer_fn answer, void *arg);
/* The fd to watch for reading (libmicrohttpd's epoll fd). */
int		 http_fd(const struct http *h);
/*
 * Hands over fd (the HTTP side of a socketpair; closed by libmicrohttpd
 * even on failure).  Returns 0 or -1.
 */
int		 http_add(struct http *h, int fd);
void		 http_run(struct http *h);
/* Milliseconds until http_run() must be called, or -1 for no deadline. */
long		 http_timeout_ms(struct http *h);

/*
 * Screens len bytes the client sent on the connection of s, before they
 * reach libmicrohttpd (the TLS layer's filter): returns NULL to let them
 * through, or a whole 400 response (*replylen bytes, static) to send
 * before closing.  A NUL byte in a request head is refused; a POST's body
 * passes when h takes TLS-RPT reports.
 */
const char	*http_screen(const struct http *h, struct http_site *s,
		    const unsigned char *p, size_t len, size_t *replylen);

/*
 * A prepared 200 answer with this body, not copied: body stays as it is
 * until the last reference goes (http_body_unref()).  A connection's
 * snapshot holds the body through its policy, and libmicrohttpd is done
 * with a connection's answers before the connection ends.  NULL on
 * ENOMEM.
 */
struct http_body *http_body_new(const char *body, size_t len);
void		 http_body_unref(struct http_body *b);

#endif /* HTTP_H */
