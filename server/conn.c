/*
 * conn.c: mta-stsd's client connections, each one struct with an explicit
 * state and its deadlines: accepted, handed to the TLS layer, their
 * plaintext to libmicrohttpd through a socketpair, swept when a deadline
 * passes.  See conn.h.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "http.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "loop.h"
#include "metrics.h"
#include "store.h"
#include "tls/tls.h"

#define ACCEPT_BURST	64	/* accepts per listener per loop turn */
#define IDLE_RELEASE_MS	1000	/* idle connections give back memory */

/*
 * One client connection.  Two owners: the network side (until closed)
 * and libmicrohttpd (from the first request bytes until it says closed);
 * the struct, and the snapshot it holds, go when both are done.
 */
static void	conn_close(struct conn *, const char *);

enum conn_state {
	CONN_HANDSHAKE,		/* TLS handshake not done (deadline: started) */
	CONN_IDLE,		/* waiting for a request (last_active) */
	CONN_REQUEST,		/* request bytes in, no answer yet (req_start) */
	CONN_CLOSED		/* network side done; libmicrohttpd may hold it */
};

struct conn {
	enum conn_state		 state;
	struct evref		 ev_net, ev_app;
	int			 netfd;		/* client TCP socket */
	int			 appfd;		/* our end of the socketpair */
	int			 httpfd;	/* libmicrohttpd's end */
	struct tls_conn		*tls;
	struct store		*snap;		/* the snapshot it began with */
	struct http_site	 site;
	char			 addr[ADDR_TEXT_MAX];
	int64_t			 started;	/* monotonic milliseconds */
	int64_t			 req_start;	/* CONN_REQUEST since */
	int64_t			 last_active;	/* last answer */
	int			 refs;
	uint32_t		 domain_id;	/* for the metrics, or 0 */
	unsigned		 net_ev;	/* TLS_* seen, not yet pumped */
	unsigned		 app_ev;
	struct conn		*prev, *next;	/* the live list */
};

/*
 * The last owner is gone.  The struct is freed at the end of the loop
 * turn, not now: an event for its other descriptor may still be waiting
 * in the same epoll batch and must find it (closed) rather than freed.
 */
static void
conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	c->next = S.dead;
	S.dead = c;
}

/* see conn.h */
void
conn_free_dead(void)
{
	struct conn *c;

	while ((c = S.dead) != NULL) {
		S.dead = c->next;
		store_unref(c->snap);
		free(c);
	}
}

/* The TLS layer asks which credentials serve this SNI name. */
static int
conn_resolve(void *arg, const char *name, struct tls_cred **ec,
    struct tls_cred **rsa)
{
	struct conn		*c = arg;
	const struct domain	*d;

	d = name[0] == '\0' ? store_default(c->snap) : store_find(c->snap,
	    name);
	if (d == NULL) {
		log_debug("tls: %s: server name '%s' not served", c->addr,
		    name);
		return 0;
	}
	/* A certificate that expired since the load is no longer offered. */
	*ec = d->ec != NULL && tls_cred_not_after(d->ec) >= S.now ? d->ec :
	    NULL;
	*rsa = d->rsa != NULL && tls_cred_not_after(d->rsa) >= S.now ?
	    d->rsa : NULL;
	if (*ec == NULL && *rsa == NULL) {
		log_warn("tls: %s: certificate expired; reload with a new one",
		    d->host);
		return 0;
	}
	c->site.host = d->host;
	c->site.policy = d->pol->body;
	c->domain_id = d->id;
	return 1;
}

/* The first request bytes arrived: hand a socketpair to libmicrohttpd. */
static int
conn_open_app(void *arg)
{
	struct conn		*c = arg;
	struct epoll_event	 ev;
	int			 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("conn: %s: socketpair: %s", c->addr, strerror(errno));
		return -1;
	}
	if ((size_t)sv[1] >= S.nbyfd) {
		close(sv[0]);
		close(sv[1]);
		log_warn("conn: %s: descriptor beyond the table", c->addr);
		return -1;
	}
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
	ev.data.ptr = &c->ev_app;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, sv[0], &ev) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	c->httpfd = sv[1];
	S.byfd[sv[1]] = c;
	c->refs++;
	if (http_add(S.http, sv[1]) == -1) {
		/* libmicrohttpd closed sv[1] and will not call back. */
		S.byfd[sv[1]] = NULL;
		c->httpfd = -1;
		c->refs--;
		close(sv[0]);
		log_warn("conn: %s: HTTP layer refused the connection",
		    c->addr);
		return -1;
	}
	S.http_due = 1;
	return sv[0];
}

/* What the client sends is screened by the HTTP side before it gets it. */
static const char *
conn_filter(void *arg, const unsigned char *p, size_t len, size_t *replylen)
{
	struct conn *c = arg;

	return http_screen(S.http, &c->site, p, len, replylen);
}

/* see conn.h */
struct http_site *
conn_site_of(void *arg, int fd)
{
	(void)arg;
	if (fd < 0 || (size_t)fd >= S.nbyfd || S.byfd[fd] == NULL)
		return NULL;
	return &S.byfd[fd]->site;
}

/* see conn.h */
void
conn_site_done(void *arg, const struct http_site *site)
{
	const struct conn *c = (const struct conn *)(const void *)((const char *)
	    site - offsetof(struct conn, site));

	(void)arg;
	metrics_request(S.mw, site, c->domain_id);
}

/*
 * see conn.h: the current socketpair, or one released while idle (see
 * conn_release()) after which the next request already opened another.
 */
void
conn_site_closed(void *arg, struct http_site *site, int fd)
{
	struct conn *c = (struct conn *)(void *)((char *)site -
	    offsetof(struct conn, site));

	(void)arg;
	if (fd >= 0 && (size_t)fd < S.nbyfd && S.byfd[fd] == c)
		S.byfd[fd] = NULL;
	if (c->httpfd == fd)
		c->httpfd = -1;
	conn_unref(c);
}

/* What an epoll event says, for the TLS layer. */
static unsigned
tls_flags(uint32_t events)
{
	unsigned f = 0;

	if (events & EPOLLIN)
		f |= TLS_RD;
	if (events & EPOLLOUT)
		f |= TLS_WR;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		f |= TLS_HUP;
	return f;
}

/* The metrics' kind of a TLS layer's failure. */
static enum metrics_hs_failure
hs_failure(enum tls_failure f)
{
	switch (f) {
	case TLS_FAIL_NO_NAME:
		return MHF_NO_SERVER_NAME;
	case TLS_FAIL_UNKNOWN_NAME:
		return MHF_UNKNOWN_NAME;
	default:
		return MHF_PROTOCOL;
	}
}

static void
conn_pump(struct conn *c)
{
	struct tls_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.net = c->net_ev;
	ev.app = c->app_ev;
	c->net_ev = c->app_ev = 0;
	if (tls_conn_pump(c->tls, c->netfd, &c->appfd, &ev) == -1) {
		if (c->state == CONN_HANDSHAKE)
			metrics_handshake_failed(S.mw,
			    hs_failure(tls_conn_failure(c->tls)));
		conn_close(c, tls_conn_error(c->tls));
		return;
	}
	if (ev.established) {
		log_debug("tls: %s: handshake done for '%s'", c->addr,
		    tls_conn_server_name(c->tls));
		c->state = CONN_IDLE;
		metrics_handshake(S.mw, tls_conn_resumed(c->tls));
	}
	if (ev.app_in > 0) {
		if (c->state != CONN_REQUEST) {
			c->state = CONN_REQUEST;
			c->req_start = S.ms;
		}
		S.http_due = 1;
	}
	/*
	 * Reading the answer needs no libmicrohttpd run of its own: the room
	 * it makes on libmicrohttpd's side turns its epoll descriptor ready,
	 * and it runs on the next loop turn with whatever else is due.
	 */
	if (ev.app_out > 0) {
		c->state = CONN_IDLE;
		c->last_active = S.ms;
		if (S.stopping && !tls_conn_pending(c->tls))
			conn_close(c, "shutting down");
	}
}

static void
conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	if (why != NULL)
		log_debug("conn: %s: closed: %s", c->addr, why);
	close(c->netfd);
	if (c->appfd != -1)
		close(c->appfd);	/* libmicrohttpd sees EOF, then calls back */
	/* Run it this turn, unless it had closed its side already. */
	if (c->httpfd != -1)
		S.http_due = 1;
	tls_conn_free(c->tls);
	c->tls = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		S.live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	S.nconns--;
	atomic_fetch_sub(&W.nconns, 1);
	S.trim_due = 1;
	conn_unref(c);
}

/*
 * An idle connection keeps only its TLS state, and not even the pages of
 * its buffer: its libmicrohttpd side is closed (opened again by the next
 * request's first bytes), which frees that connection's memory pool and
 * two descriptors.  Called once the last answer is a second old.
 */
static void
conn_release(struct conn *c)
{
	int freed = 0;

	if (c->appfd != -1) {
		close(c->appfd);	/* libmicrohttpd sees EOF, then calls back */
		c->appfd = -1;
		c->app_ev = 0;
		S.http_due = 1;
		freed = 1;
	}
	/* Once: the heap is trimmed only when something was given back. */
	if (tls_conn_trim(c->tls) == 1 || freed)
		S.trim_due = 1;
}

/* see conn.h */
void
conn_accept(struct listener *l)
{
	struct conn		*c;
	struct epoll_event	 ev;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 fd;

	for (int i = 0; i < ACCEPT_BURST; i++) {
		sl = sizeof(ss);
		fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK |
		    SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("listen: %s: %s; pausing accepts for "
				    "a second", l->name, strerror(errno));
				server_listeners_arm(0);
			}
			return;
		}
		if (S.stopping) {
			close(fd);
			continue;
		}
		if (atomic_load(&W.nconns) >= S.lim.max_connections) {
			/* Refused without harming the established ones. */
			close(fd);
			metrics_refused(S.mw);
			if (S.refused++ % 1000 == 0)
				log_warn("listen: %s: connection limit (%u) "
				    "reached; refusing (%lu so far)", l->name,
				    S.lim.max_connections, S.refused);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->tls = tls_conn_new()) == NULL ||
		    tls_conn_start(c->tls, conn_resolve, conn_open_app,
		    conn_filter, c) ==
		    -1) {
			log_warn("conn: out of memory");
			if (c != NULL)
				tls_conn_free(c->tls);
			free(c);
			close(fd);
			continue;
		}
		c->netfd = fd;
		c->appfd = c->httpfd = -1;
		c->refs = 1;
		c->snap = S.snap;
		store_ref(c->snap);
		c->started = c->last_active = S.ms;
		c->state = CONN_HANDSHAKE;
		addr_format((struct sockaddr *)&ss, 0, c->addr,
		    sizeof(c->addr));
		c->site.client = c->addr;
		c->ev_net.kind = EV_NET;
		c->ev_net.ptr = c;
		c->ev_app.kind = EV_APP;
		c->ev_app.ptr = c;
		c->next = S.live;
		if (S.live != NULL)
			S.live->prev = c;
		S.live = c;
		S.nconns++;
		atomic_fetch_add(&W.nconns, 1);
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET | EPOLLRDHUP;
		ev.data.ptr = &c->ev_net;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			conn_close(c, strerror(errno));
	}
}

/*
 * Closes connections past a deadline: the handshake, the whole request
 * (not reset by each byte), idle keep-alive, and the absolute lifetime.
 */
/* see conn.h */
void
conn_sweep(void)
{
	const struct limits	*cf = &S.lim;
	struct conn		*c, *next;
	const char		*why;

	for (c = S.live; c != NULL; c = next) {
		next = c->next;
		why = NULL;
		if (S.ms - c->started >= cf->connection_lifetime * 1000LL)
			why = "connection lifetime reached";
		else switch (c->state) {
		case CONN_HANDSHAKE:
			if (S.ms - c->started >= cf->handshake_timeout * 1000LL)
				why = "handshake timeout";
			break;
		case CONN_REQUEST:
			if (S.ms - c->req_start >= cf->request_timeout * 1000LL)
				why = "request timeout";
			break;
		case CONN_IDLE:
			if (S.ms - c->last_active >=
			    cf->keepalive_timeout * 1000LL)
				why = "idle timeout";
			else if (S.stopping && !tls_conn_pending(c->tls))
				why = "shutting down";
			break;
		case CONN_CLOSED:
			break;
		}
		if (why != NULL && c->state == CONN_HANDSHAKE)
			metrics_handshake_failed(S.mw, MHF_TIMEOUT);
		if (why != NULL)
			conn_close(c, why);
		else if (c->state == CONN_IDLE && !c->site.active &&
		    S.ms - c->last_active >= IDLE_RELEASE_MS &&
		    !tls_conn_pending(c->tls))
			conn_release(c);
	}
	if (S.listen_paused && !S.stopping)
		server_listeners_arm(1);
	/*
	 * Give freed memory back, after a burst or as connections go idle:
	 * glibc keeps it otherwise (2,000 connections left 17 MB behind;
	 * 1,000 idle ones, 3.8 kB each of libmicrohttpd's freed pools).  At
	 * most once a second while connections are open.
	 */
	if (S.trim_due && (S.nconns == 0 || S.ms >= S.next_trim)) {
		if (S.nconns == 0)
			tls_conn_release();
		malloc_trim(0);
		S.trim_due = 0;
		S.next_trim = S.ms + 1000;
	}
}

/* see conn.h */
void
conn_event(struct conn *c, int app, uint32_t events)
{
	if (c->state == CONN_CLOSED)
		return;
	if (app)
		c->app_ev |= tls_flags(events);
	else
		c->net_ev |= tls_flags(events);
	conn_pump(c);
}

/* see conn.h */
void
conn_close_all(void)
{
	while (S.live != NULL)
		conn_close(S.live, NULL);
}
