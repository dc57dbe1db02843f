/*
 * http.c: HTTP with libmicrohttpd.  See http.h.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <microhttpd.h>

#include "http.h"
#include "lib/addr.h"
#include "lib/file.h"
#include "lib/log.h"

/*
 * libmicrohttpd's per-connection pool holds the request head and the
 * answer's headers: a little more than the head limit, so that a head
 * just under it still gets its answer (414 and 431 come beyond it).
 */
#define POOL_EXTRA	0

/*
 * A policy's prepared answer: its body, and a serial number, unique for
 * the life of the process, by which each daemon finds the libmicrohttpd
 * response it made for it.
 */
struct http_body {
	atomic_int		 refs;
	const char		*data;		/* the caller's, not copied */
	size_t			 len;
	uint64_t		 serial;
};

/*
 * The responses a daemon made for policies, by serial: a response with
 * its two headers costs 430 bytes, and 100,000 domains are more than a
 * worker serves at once; a small cache of its own per daemon keeps the
 * answer to the same domain a lookup away (the request path makes
 * nothing new for a domain asked again).  A slot whose serial differs
 * holds a response no one asks for any more: its body may be freed,
 * and is never read again (libmicrohttpd does not read the body of a
 * response it destroys; one queued holds its snapshot, so its body).
 */
#define CACHE_SLOTS	1024

struct cached {
	uint64_t		 serial;	/* 0: empty */
	struct MHD_Response	*resp;
};

static atomic_uint_least64_t	 next_serial = 1;

struct http {
	struct MHD_Daemon	*d;
	int			 epfd;
	http_site_fn		 site;
	http_closed_fn		 closed;
	http_done_fn		 done;
	void			*arg;
	char			*webroot;	/* ACME: the challenge files */
	http_answer_fn		 answer;	/* a plain listener's */
	const char		*name;		/* for its log lines */
	struct http_receiver	 rx;		/* TLS-RPT; rx.path NULL: off */
	struct cached		*cache;		/* [CACHE_SLOTS]; policies' */
};

/* A POST to the receiver in progress: its body so far. */
struct upload {
	char		*buf;
	size_t		 len, cap;
	int		 gzip;		/* application/tlsrpt+gzip */
	int		 too_big;	/* past max_size: dropped, then 413 */
	int		 answered;	/* the 413 is queued already */
};

#define UPLOAD_FIRST	(16 * 1024)	/* first allocation for a body */

#define ACME_PREFIX	"/.well-known/acme-challenge/"
#define ACME_TOKEN_MAX	128	/* characters of a token */
#define ACME_FILE_MAX	1024	/* bytes of a key authorization */

/* The prepared error answers, made once at start. */
static struct {
	struct MHD_Response	*bad_request;		/* 400, then close */
	struct MHD_Response	*not_found;		/* 404 */
	struct MHD_Response	*bad_method;		/* 405, then close */
	struct MHD_Response	*misdirected;		/* 421 */
	int			 refs;
} answers;

/* What the headers of one request say about its framing. */
struct framing {
	unsigned	 host;		/* Host headers */
	unsigned	 length;	/* Content-Length headers */
	unsigned	 chunked;	/* Transfer-Encoding: chunked */
	unsigned	 coding;	/* any other Transfer-Encoding */
};

static const char text_400[] = "bad request\n";
static const char text_404[] = "not found\n";
static const char text_405[] = "method not allowed\n";
static const char text_421[] = "misdirected request\n";

/*
 * A whole "400 Bad Request" response as bytes, for a connection
 * libmicrohttpd must never see (see http_screen()).
 */
static const char raw_400[] = "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain\r\nCache-Control: no-cache\r\n"
    "Content-Length: 12\r\nConnection: close\r\n\r\nbad request\n";

/*
 * see http.h: no request head holds a NUL, and no body but a POST's is
 * accepted; libmicrohttpd would read a NUL as the end of a string.  Once
 * the head of a POST has ended, the rest of the connection is its body
 * (the answer to a POST closes the connection): not looked at.
 */
const char *
http_screen(const struct http *h, struct http_site *s, const unsigned char *p,
    size_t len, size_t *replylen)
{
	struct http_screen	*sc = &s->screen;
	int			 post_bodies = h->rx.path != NULL;

	for (size_t i = 0; i < len && !sc->body_free; i++) {
		if (p[i] == '\0') {
			*replylen = sizeof(raw_400) - 1;
			return raw_400;
		}
		if (!post_bodies)
			continue;
		if (sc->head_len < sizeof(sc->head_start))
			sc->head_start[sc->head_len++] = (char)p[i];
		if (p[i] == '\n') {
			if (sc->head_nl) {
				/* The empty line: the head is over. */
				sc->body_free = sc->head_len == 5 &&
				    memcmp(sc->head_start, "POST ", 5) == 0;
				sc->head_len = 0;
				sc->head_nl = 0;
			} else
				sc->head_nl = 1;
		} else if (p[i] != '\r')
			sc->head_nl = 0;
	}
	return NULL;
}

/* The body length of a prepared error answer. */
static size_t
answer_len(unsigned status)
{
	switch (status) {
	case MHD_HTTP_BAD_REQUEST:
		return sizeof(text_400) - 1;
	case MHD_HTTP_NOT_FOUND:
		return sizeof(text_404) - 1;
	case MHD_HTTP_METHOD_NOT_ALLOWED:
		return sizeof(text_405) - 1;
	default:
		return sizeof(text_421) - 1;
	}
}

/* Marks a request whose first handler call has been seen. */
static int request_seen;

static struct MHD_Response *
text_response(const char *text)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)
	    text, MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return NULL;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain") == MHD_NO ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache") == MHD_NO) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

/* see http.h */
struct http_body *
http_body_new(const char *body, size_t len)
{
	struct http_body *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->refs = 1;
	b->data = body;
	b->len = len;
	b->serial = atomic_fetch_add(&next_serial, 1);
	return b;
}

/* see http.h */
void
http_body_unref(struct http_body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	free(b);
}

/* The response of h for the policy b: the cached one, or made now. */
static struct MHD_Response *
body_response(struct http *h, const struct http_body *b)
{
	struct cached		*c = &h->cache[b->serial % CACHE_SLOTS];
	struct MHD_Response	*r;

	if (c->serial == b->serial)
		return c->resp;
	r = MHD_create_response_from_buffer(b->len, (void *)(uintptr_t)
	    b->data, MHD_RESPMEM_PERSISTENT);
	if (r == NULL ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain") == MHD_NO ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache") == MHD_NO) {
		if (r != NULL)
			MHD_destroy_response(r);
		return NULL;
	}
	/* libmicrohttpd keeps its own reference while a reply is queued. */
	if (c->resp != NULL)
		MHD_destroy_response(c->resp);
	c->resp = r;
	c->serial = b->serial;
	return r;
}

/* A Host value: a host name or [IPv6], then an optional ":port". */
static int
host_valid(const char *h, size_t *hostlen)
{
	size_t	 i = 0;

	if (h[0] == '[') {
		i = strcspn(h, "]");
		if (h[i] != ']')
			return 0;
		for (size_t j = 1; j < i; j++)
			if (!strchr("0123456789abcdefABCDEF:.", h[j]))
				return 0;
		i++;
	} else {
		for (; h[i] != '\0' && h[i] != ':'; i++)
			if (!((h[i] >= 'a' && h[i] <= 'z') ||
			    (h[i] >= 'A' && h[i] <= 'Z') ||
			    (h[i] >= '0' && h[i] <= '9') || h[i] == '-' ||
			    h[i] == '.'))
				return 0;
		if (i == 0)
			return 0;
	}
	*hostlen = i;
	if (h[i] == '\0')
		return 1;
	if (h[i] != ':' || h[i + 1] == '\0' || strlen(h + i + 1) > 5)
		return 0;
	return strspn(h + i + 1, "0123456789") == strlen(h + i + 1);
}

/* Is the len bytes at h the site's host, ignoring case and a final dot? */
static int
same_host(const struct http_site *s, const char *h, size_t len)
{
	if (len > 0 && h[len - 1] == '.')
		len--;
	return s->host != NULL && strlen(s->host) == len &&
	    strncasecmp(s->host, h, len) == 0;
}

/* Copies s into a fixed buffer for the log (escaped by the logger). */
static void
keep(char *dst, size_t dstsz, const char *s)
{
	snprintf(dst, dstsz, "%s", s);
}

/*
 * Checks the Host header and an absolute-form target against the site,
 * and sets *pathp to the path.  Returns 0, or the status of the refusal
 * with *resp.
 */
static unsigned
target(struct http_site *s, struct MHD_Connection *c, const char *url,
    const char **pathp, struct MHD_Response **resp)
{
	const char	*host, *path = url;
	size_t		 hl;

	host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	if (host != NULL) {
		if (!host_valid(host, &hl)) {
			*resp = answers.bad_request;
			return MHD_HTTP_BAD_REQUEST;
		}
		if (!same_host(s, host, hl)) {
			*resp = answers.misdirected;
			return MHD_HTTP_MISDIRECTED_REQUEST;
		}
	}
	/* Absolute form: "https://HOST[:PORT]/path". */
	if (strncasecmp(url, "https://", 8) == 0 ||
	    strncasecmp(url, "http://", 7) == 0) {
		const char *a = strchr(url, '/') + 2;
		size_t alen = strcspn(a, "/");
		char auth[300];

		if (alen == 0 || alen >= sizeof(auth)) {
			*resp = answers.bad_request;
			return MHD_HTTP_BAD_REQUEST;
		}
		memcpy(auth, a, alen);
		auth[alen] = '\0';
		if (!host_valid(auth, &hl)) {
			*resp = answers.bad_request;
			return MHD_HTTP_BAD_REQUEST;
		}
		if (!same_host(s, auth, hl)) {
			*resp = answers.misdirected;
			return MHD_HTTP_MISDIRECTED_REQUEST;
		}
		path = a[alen] == '\0' ? "/" : a + alen;
	}
	if (s->host == NULL || s->policy == NULL) {
		*resp = answers.misdirected;
		return MHD_HTTP_MISDIRECTED_REQUEST;
	}
	*pathp = path;
	return 0;
}

/*
 * Chooses the answer.  The request target is never mapped to a file: it
 * is compared with the one path served.
 */
static unsigned
route(struct http *h, struct http_site *s, struct MHD_Connection *c,
    const char *url, struct MHD_Response **resp)
{
	const char	*path;
	unsigned	 status;

	if ((status = target(s, c, url, &path, resp)) != 0)
		return status;
	if (strcmp(path, HTTP_POLICY_PATH) != 0) {
		*resp = answers.not_found;
		return MHD_HTTP_NOT_FOUND;
	}
	if ((*resp = body_response(h, s->policy)) == NULL)
		return 0;
	return MHD_HTTP_OK;
}

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
		f->host++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->length++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		if (strcasecmp(value, "chunked") == 0)
			f->chunked++;
		else
			f->coding++;
	}
	return MHD_YES;
}

/*
 * The checks made before a request's body: a NUL in the target, two Host
 * or Content-Length headers, Content-Length with Transfer-Encoding, an
 * unknown coding (request smuggling shapes) get 400; a method other than
 * GET and HEAD (and POST when the receiver is on) gets 405.  Both close the connection.  Returns 0 to go on.
 */
static unsigned
screen(const struct http *h, struct http_site *s, struct MHD_Connection *c,
    const char *method, struct MHD_Response **resp)
{
	struct framing	 f;

	memset(&f, 0, sizeof(f));
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (s->bad_target || f.host > 1 || f.length > 1 || f.coding > 0 ||
	    f.chunked > 1 || (f.length > 0 && f.chunked > 0)) {
		*resp = answers.bad_request;
		return MHD_HTTP_BAD_REQUEST;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0 &&
	    (h->rx.path == NULL || strcmp(method, MHD_HTTP_METHOD_POST) !=
	    0)) {
		*resp = answers.bad_method;
		return MHD_HTTP_METHOD_NOT_ALLOWED;
	}
	return 0;
}

/*
 * Decodes %HH in the target as libmicrohttpd would, and marks the request
 * bad if that makes a NUL: "/.well-known/mta-sts.txt%00.html" must not
 * become the policy path once cut at the NUL.
 */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *uri)
{
	const union MHD_ConnectionInfo	*ci;
	struct http_site		*s;
	size_t				 n;

	(void)cls;
	n = MHD_http_unescape(uri);
	if (memchr(uri, '\0', n) != NULL) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci != NULL && (s = ci->socket_context) != NULL)
			s->bad_target = 1;
	}
	return n;
}

/*
 * A one-off text answer (copied), with Retry-After when retry_after is
 * not 0; it closes the connection unless the request is complete.
 */
static enum MHD_Result
reply(struct http_site *s, struct MHD_Connection *c, unsigned status,
    const char *text, unsigned retry_after, int close)
{
	struct MHD_Response	*r;
	char			 ra[16];
	enum MHD_Result		 rc;

	s->status = status;
	s->bytes = strlen(text);
	r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)
	    text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	snprintf(ra, sizeof(ra), "%u", retry_after);
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain") == MHD_NO ||
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-cache") == MHD_NO ||
	    (retry_after != 0 && MHD_add_response_header(r,
	    MHD_HTTP_HEADER_RETRY_AFTER, ra) == MHD_NO) ||
	    (close && MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION,
	    "close") == MHD_NO)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The media type without parameters, compared without case. */
static int
media_is(const char *ct, const char *type)
{
	size_t	 n = strcspn(ct, "; \t");

	return n == strlen(type) && strncasecmp(ct, type, n) == 0;
}

/*
 * The first call for a POST (screen() passed): the receiver's path on a
 * served host, its media type and announced size, then the receiver's
 * own say (rate, space).  Refusals are answered before the body is read.
 */
static enum MHD_Result
post_begin(struct http *h, struct http_site *s, struct MHD_Connection *c,
    const char *url, void **req_cls)
{
	struct MHD_Response	*resp;
	struct upload		*up;
	const char		*path, *ct, *cl;
	unsigned		 status, retry = 0;
	int			 gzip;

	if ((status = target(s, c, url, &path, &resp)) != 0 ||
	    strcmp(path, h->rx.path) != 0) {
		if (status == 0) {
			status = MHD_HTTP_METHOD_NOT_ALLOWED;
			resp = answers.bad_method;
		}
		s->status = status;
		s->bytes = answer_len(status);
		return MHD_queue_response(c, status, resp);
	}
	ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct != NULL && media_is(ct, "application/tlsrpt+gzip"))
		gzip = 1;
	else if (ct != NULL && media_is(ct, "application/tlsrpt+json"))
		gzip = 0;
	else
		return reply(s, c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "unsupported media type: send application/tlsrpt+gzip "
		    "or application/tlsrpt+json\n", 0, 1);
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoull(cl, NULL, 10) > h->rx.max_size)
		return reply(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "report too large\n", 0, 1);
	if ((status = h->rx.admit(h->rx.arg, s, &retry)) != 0)
		return reply(s, c, status, status ==
		    MHD_HTTP_TOO_MANY_REQUESTS ? "too many reports from this "
		    "address; retry later\n" : "report store full\n", retry, 1);
	if ((up = calloc(1, sizeof(*up))) == NULL)
		return reply(s, c, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "out of memory\n", 0, 1);
	up->gzip = gzip;
	*req_cls = up;
	return MHD_YES;
}

/*
 * A piece of the body.  Past max_size it is dropped: the 413 goes out at
 * once if libmicrohttpd takes an answer in the middle of a body, else
 * when the body ends (bounded by the request deadline).
 */
static enum MHD_Result
post_data(struct http *h, struct http_site *s, struct MHD_Connection *c,
    struct upload *up, const char *data, size_t n)
{
	size_t	 cap;
	char	*nb;

	if (up->too_big)
		return MHD_YES;
	if (n > h->rx.max_size - up->len) {
		up->too_big = 1;
		free(up->buf);
		up->buf = NULL;
		up->len = up->cap = 0;
		up->answered = reply(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "report too large\n", 0, 1) == MHD_YES;
		return MHD_YES;
	}
	if (up->len + n > up->cap) {
		cap = up->cap == 0 ? UPLOAD_FIRST : up->cap * 2;
		while (cap < up->len + n)
			cap *= 2;
		if (cap > h->rx.max_size)
			cap = h->rx.max_size;
		if ((nb = realloc(up->buf, cap)) == NULL)
			return MHD_NO;
		up->buf = nb;
		up->cap = cap;
	}
	memcpy(up->buf + up->len, data, n);
	up->len += n;
	return MHD_YES;
}

/* The whole body is in: the receiver's answer. */
static enum MHD_Result
post_end(struct http *h, struct http_site *s, struct MHD_Connection *c,
    struct upload *up)
{
	char		 why[300];
	unsigned	 status;
	size_t		 n;

	if (up->answered)
		return MHD_YES;
	if (up->too_big)
		return reply(s, c, MHD_HTTP_CONTENT_TOO_LARGE,
		    "report too large\n", 0, 1);
	why[0] = '\0';
	status = h->rx.take(h->rx.arg, s, up->gzip, up->buf != NULL ?
	    up->buf : "", up->len, why, sizeof(why) - 1);
	n = strlen(why);
	why[n] = '\n';
	why[n + 1] = '\0';
	/* The TLS layer has stopped looking at this connection: it ends. */
	return reply(s, c, status, why, 0, 1);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http			*h = cls;
	const union MHD_ConnectionInfo	*ci;
	struct http_site		*s;
	struct MHD_Response		*resp = NULL;
	unsigned			 status;
	enum MHD_Result			 rc;

	(void)version;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (s = ci->socket_context) == NULL)
		return MHD_NO;
	/*
	 * libmicrohttpd 0.9.75 drops keep-alive when the answer is queued
	 * in the first call for a request: answer on the second.
	 */
	if (*req_cls == NULL) {
		*req_cls = &request_seen;
		clock_gettime(CLOCK_MONOTONIC, &s->start);
		keep(s->method, sizeof(s->method), method);
		keep(s->path, sizeof(s->path), url);
		s->status = 0;
		s->bytes = 0;
		s->active = 1;
		/*
		 * Refused at once, before any body is read (no "100
		 * Continue"): malformed framing and other methods.
		 */
		if ((status = screen(h, s, c, method, &resp)) != 0) {
			s->bad_target = 0;
			s->status = status;
			s->bytes = answer_len(status);
			return MHD_queue_response(c, status, resp);
		}
		if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
			return post_begin(h, s, c, url, req_cls);
		return MHD_YES;
	}
	if (*req_cls != &request_seen) {
		if (*upload_data_size != 0) {
			rc = post_data(h, s, c, *req_cls, upload_data,
			    *upload_data_size);
			*upload_data_size = 0;
			return rc;
		}
		return post_end(h, s, c, *req_cls);
	}
	/*
	 * A body is never wanted: it is read and dropped (bounded by the
	 * request deadline), and the answer comes after it.
	 */
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* Out of memory for the answer: the connection closes. */
	if ((status = route(h, s, c, url, &resp)) == 0)
		return MHD_NO;
	s->status = status;
	if (strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		s->bytes = status == MHD_HTTP_OK ? s->policy->len :
		    answer_len(status);
	return MHD_queue_response(c, status, resp);
}

static void
completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http			*h = cls;
	const union MHD_ConnectionInfo	*ci;
	struct http_site		*s;
	struct log_access		 a;
	struct timespec			 now;

	if (*req_cls == NULL)
		return;
	if (*req_cls != &request_seen) {
		free(((struct upload *)*req_cls)->buf);
		free(*req_cls);
	}
	*req_cls = NULL;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (s = ci->socket_context) == NULL)
		return;
	s->active = 0;
	if (s->status == 0)
		return;
	if (h->done != NULL)
		h->done(h->arg, s);
	if (!log_enabled(LOG_LVL_INFO))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	a.client = s->client;
	a.host = s->host;
	a.method = s->method;
	a.path = s->path;
	a.status = s->status;
	a.bytes = s->bytes;
	a.us = (now.tv_sec - s->start.tv_sec) * 1000000L +
	    (now.tv_nsec - s->start.tv_nsec) / 1000;
	a.incomplete = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
	log_access(&a);
}

static void
notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct http			*h = cls;
	const union MHD_ConnectionInfo	*ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci != NULL ? h->site(h->arg,
		    ci->connect_fd) : NULL;
	} else if (*socket_context != NULL) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		h->closed(h->arg, *socket_context, ci != NULL ?
		    ci->connect_fd : -1);
		*socket_context = NULL;
	}
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	 msg[512];
	size_t	 n;

	(void)cls;
	/*
	 * libmicrohttpd 0.9.75 sets TCP options on every connection, and
	 * says so when they fail on our socketpairs; a Unix socket has no
	 * Nagle delay to undo, so these lines carry no information.  (With
	 * the sandbox on, seccomp makes it stop trying after the first.)
	 * Told by the format, before the cost of formatting.
	 */
	if (strncmp(fmt, "Setting %s option to %s state failed", 36) == 0 ||
	    strncmp(fmt, "Failed to push the data", 23) == 0)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (strstr(msg, "TCP_NODELAY") != NULL ||
	    strstr(msg, "TCP_CORK") != NULL ||
	    strstr(msg, "Failed to push the data") != NULL)
		return;
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_debug("http: %s", msg);
}

static int
answers_init(void)
{
	if (answers.refs++ > 0)
		return 0;
	answers.bad_request = text_response(text_400);
	answers.not_found = text_response(text_404);
	answers.bad_method = text_response(text_405);
	answers.misdirected = text_response(text_421);
	/*
	 * A malformed request or one with a body ends the connection: what
	 * follows it on the wire cannot be trusted to be the next request.
	 */
	if (answers.bad_request == NULL || answers.not_found == NULL ||
	    answers.bad_method == NULL || answers.misdirected == NULL ||
	    MHD_add_response_header(answers.bad_method, MHD_HTTP_HEADER_ALLOW,
	    "GET, HEAD") == MHD_NO ||
	    MHD_add_response_header(answers.bad_method,
	    MHD_HTTP_HEADER_CONNECTION, "close") == MHD_NO ||
	    MHD_add_response_header(answers.bad_request,
	    MHD_HTTP_HEADER_CONNECTION, "close") == MHD_NO)
		return -1;
	return 0;
}

/* see http.h */
struct http *
http_start(const struct http_limits *lim, http_site_fn site,
    http_closed_fn closed, http_done_fn done, void *arg)
{
	struct http			*h;
	const union MHD_DaemonInfo	*di;

	if (answers_init() == -1 || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->cache = calloc(CACHE_SLOTS, sizeof(*h->cache))) == NULL) {
		free(h);
		return NULL;
	}
	h->site = site;
	h->closed = closed;
	h->done = done;
	h->arg = arg;
	h->d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL |
	    MHD_USE_ERROR_LOG, 0, NULL, NULL, handler, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)lim->max_header_size + POOL_EXTRA,
	    MHD_OPTION_CONNECTION_LIMIT, lim->max_connections,
	    MHD_OPTION_CONNECTION_TIMEOUT, lim->idle_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify, h,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		free(h->cache);
		free(h);
		return NULL;
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di == NULL) {
		MHD_stop_daemon(h->d);
		free(h->cache);
		free(h);
		return NULL;
	}
	h->epfd = di->epoll_fd;
	return h;
}

/* see http.h */
void
http_set_receiver(struct http *h, const struct http_receiver *r)
{
	h->rx = *r;
}

/* see http.h */
void
http_stop(struct http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->d);
	for (size_t i = 0; h->cache != NULL && i < CACHE_SLOTS; i++)
		if (h->cache[i].resp != NULL)
			MHD_destroy_response(h->cache[i].resp);
	free(h->cache);
	free(h->webroot);
	free(h);
}

/*
 * A plain listener's first call for a request (ACME, metrics): marks it
 * seen; 1 for GET and HEAD, answered once the request is in (a body read
 * and dropped), 0 for another method, to answer at once.
 */
static int
first_call(void **req_cls, const char *method)
{
	*req_cls = &request_seen;
	return strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/*
 * The ACME HTTP-01 answer: /.well-known/acme-challenge/TOKEN, TOKEN of
 * base64url characters only, read from webroot/.well-known/acme-challenge/
 * where certbot --webroot and lego --http.webroot write it.  Anything else
 * is 404: the policy is never served over plain HTTP.
 */
static enum MHD_Result
acme_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http			*h = cls;
	struct MHD_Response		*r;
	const union MHD_ConnectionInfo	*ci;
	const char			*tok = "";
	char				 path[4096], *body = NULL, addr[64] = "?";
	size_t				 len = 0, tl;
	unsigned			 status = MHD_HTTP_NOT_FOUND;
	enum MHD_Result			 rc;

	(void)version;
	(void)upload_data;
	/* As handler(): other methods at once, a body read and dropped. */
	if (*req_cls == NULL) {
		if (first_call(req_cls, method))
			return MHD_YES;
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
	} else if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (status == MHD_HTTP_NOT_FOUND &&
	    strncmp(url, ACME_PREFIX, strlen(ACME_PREFIX)) == 0)
		tok = url + strlen(ACME_PREFIX);
	tl = strlen(tok);
	if (tl > 0 && tl <= ACME_TOKEN_MAX && strspn(tok, "ABCDEFGHIJKLMNOPQRS"
	    "TUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == tl &&
	    (size_t)snprintf(path, sizeof(path), "%s" ACME_PREFIX "%s",
	    h->webroot, tok) < sizeof(path) &&
	    file_read(AT_FDCWD, path, ACME_FILE_MAX, FILE_NOFOLLOW, &body,
	    &len) == 0)
		status = MHD_HTTP_OK;
	if (log_enabled(LOG_LVL_INFO)) {
		ci = MHD_get_connection_info(c,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci != NULL && ci->client_addr != NULL)
			addr_format(ci->client_addr, 0, addr, sizeof(addr));
		log_info("acme: %s \"%s %s\" %u", addr, method, url, status);
	}
	if (status != MHD_HTTP_OK)
		return MHD_queue_response(c, status, status ==
		    MHD_HTTP_NOT_FOUND ? answers.not_found : answers.bad_method);
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_COPY);
	free(body);
	if (r == NULL || MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain") == MHD_NO) {
		if (r != NULL)
			MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/*
 * A plain-HTTP daemon on listen_fd with handler (ACME, or a plain
 * listener): small requests, few connections, short idle time.
 */
static int
listener_start(struct http *h, int listen_fd, MHD_AccessHandlerCallback fn)
{
	const union MHD_DaemonInfo	*di;

	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, fn, h,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)8192,
	    MHD_OPTION_CONNECTION_LIMIT, 256U,
	    MHD_OPTION_CONNECTION_TIMEOUT, 10U,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_END);
	if (h->d == NULL ||
	    (di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL) {
		if (h->d != NULL)
			MHD_stop_daemon(h->d);
		return -1;
	}
	h->epfd = di->epoll_fd;
	return 0;
}

/* see http.h */
struct http *
http_acme_start(int listen_fd, const char *webroot)
{
	struct http	*h;

	if (answers_init() == -1 || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->webroot = strdup(webroot)) == NULL ||
	    listener_start(h, listen_fd, acme_handler) == -1) {
		free(h->webroot);
		free(h);
		return NULL;
	}
	return h;
}

/*
 * A plain listener's request: GET or HEAD, answered by h->answer; other
 * methods at once, a body read and dropped (as acme_handler()).
 */
static enum MHD_Result
plain_handler(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http		*h = cls;
	struct MHD_Response	*r;
	const char		*type = "text/plain";
	char			*body = NULL;
	size_t			 len = 0;
	unsigned		 status;
	enum MHD_Result		 rc;

	(void)version;
	(void)upload_data;
	if (*req_cls == NULL) {
		if (first_call(req_cls, method))
			return MHD_YES;
		log_debug("%s: \"%s %s\" 405", h->name, method, url);
		return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    answers.bad_method);
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	status = h->answer(h->arg, url, &body, &len, &type);
	log_debug("%s: \"%s %s\" %u", h->name, method, url, status);
	r = MHD_create_response_from_buffer(len, body != NULL ? body :
	    (void *)(uintptr_t)"", body != NULL ? MHD_RESPMEM_MUST_FREE :
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL) {
		free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) ==
	    MHD_NO || MHD_add_response_header(r,
	    MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") == MHD_NO) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* see http.h */
struct http *
http_plain_start(int listen_fd, const char *name, http_answer_fn answer,
    void *arg)
{
	struct http	*h;

	if (answers_init() == -1 || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->answer = answer;
	h->arg = arg;
	h->name = name;
	if (listener_start(h, listen_fd, plain_handler) == -1) {
		free(h);
		return NULL;
	}
	return h;
}

/* see http.h */
int
http_fd(const struct http *h)
{
	return h->epfd;
}

/* see http.h */
int
http_add(struct http *h, int fd)
{
	/* The socketpair's own kind of address: it is no TCP socket. */
	struct sockaddr_un	 sun;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	return MHD_add_connection(h->d, fd, (struct sockaddr *)&sun,
	    sizeof(sa_family_t)) == MHD_YES ? 0 : -1;
}

/* see http.h */
void
http_run(struct http *h)
{
	MHD_run(h->d);
}

/* see http.h */
long
http_timeout_ms(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG	 ms;

	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (long)ms;
}
