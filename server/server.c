/*
 * server.c: the event loop of mta-stsd.  See server.h.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "server.h"
#include "store.h"
#include "tls.h"
#include "tlsrpt.h"

#define ACCEPT_BURST	64	/* accepts per listener per loop turn */
#define STOP_GRACE	5	/* seconds for in-flight requests at exit */
#define EXPIRY_EVERY	86400	/* seconds between certificate checks */
#define SWEEP_MS	250	/* milliseconds between deadline sweeps */
#define CERTS_QUIET_MS	2000	/* after the last change in cert_dir */
#define WORKERS_MAX	64
#define IDLE_RELEASE_MS	1000	/* idle connections give back memory */

enum ev_kind {
	EV_LISTEN,
	EV_NET,
	EV_APP,
	EV_HTTP,
	EV_ACME,
	EV_SIGNAL,
	EV_WATCH,
	EV_WAKE
};

/* What an epoll event points at. */
struct evref {
	enum ev_kind	 kind;
	void		*ptr;
};

struct listener {
	int		 fd;
	struct evref	 ev;
	char		 name[64];
};

/* What a reload may change for running connections. */
struct limits {
	unsigned	 handshake_timeout;
	unsigned	 request_timeout;
	unsigned	 keepalive_timeout;
	unsigned	 connection_lifetime;
	unsigned	 max_connections;	/* over all workers */
};

/* A plain-HTTP listener for ACME challenges, run by its own daemon. */
struct acme {
	struct listener	 l;
	struct http	*http;
	struct evref	 ev;
};

/*
 * One client connection.  Two owners: the network side (until closed)
 * and libmicrohttpd (from the first request bytes until it says closed);
 * the struct, and the snapshot it holds, go when both are done.
 */
struct conn {
	struct evref		 ev_net, ev_app;
	int			 netfd;		/* client TCP socket */
	int			 appfd;		/* our end of the socketpair */
	int			 httpfd;	/* libmicrohttpd's end */
	struct tls_conn		*tls;
	struct store		*snap;		/* the snapshot it began with */
	struct http_site	 site;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	char			 addr[INET6_ADDRSTRLEN + 8];
	int64_t			 started;	/* monotonic milliseconds */
	int64_t			 req_start;	/* request bytes seen, no answer */
	int64_t			 last_active;	/* last answer */
	int			 refs;
	int			 closed;	/* network side done */
	unsigned		 net_ev;	/* TLS_* seen, not yet pumped */
	unsigned		 app_ev;
	struct conn		*prev, *next;	/* the live list */
};

/*
 * One event loop's state.  Each worker thread has its own (the main
 * thread is worker 0 and also handles signals, reloads and ACME).
 */
static _Thread_local struct {
	int			 epfd;
	int			 is_main;
	int			 wakefd;	/* eventfd: see refresh() */
	struct evref		 ev_wake;
	unsigned		 gen;		/* of W's snapshot held */
	struct limits		 lim;
	struct listener		 ls[CONFIG_MAX_LISTEN];
	size_t			 nls;
	int			 listen_paused;
	struct http		*http;
	struct evref		 ev_http;
	struct acme		 acme[CONFIG_MAX_LISTEN];
	size_t			 nacme;
	int			 watchfd;	/* inotify on cert_dir, or -1 */
	struct evref		 ev_watch;
	int64_t			 certs_due;	/* reload at, after changes */
	int			 sigfd;
	struct evref		 ev_sig;
	struct store		*snap;
	struct config		*cfg;
	const char		*cfg_path;
	struct conn		*live;
	struct conn		*dead;		/* to free after this turn */
	size_t			 nconns;
	struct conn		**byfd;		/* httpfd -> conn */
	size_t			 nbyfd;
	time_t			 now;		/* wall clock, for certificates */
	int64_t			 ms;		/* monotonic, for deadlines */
	int64_t			 next_sweep;
	time_t			 next_expiry;
	int			 stopping;
	time_t			 stop_deadline;
	int			 http_due;	/* run libmicrohttpd this turn */
	int			 foreground;	/* -d: log to stderr only */
	int			 trim_due;	/* memory freed since the last trim */
	int64_t			 next_trim;
	unsigned long		 refused;
} S;

/* A worker thread beyond the main one. */
struct worker {
	pthread_t		 tid;
	int			 wakefd;
	struct http		*http;
	int			 started;
};

/*
 * What the workers share: the snapshot and limits the main thread
 * published last (W.gen counts publications), the listeners made for
 * each before privileges were dropped, the connection count.
 */
static struct {
	pthread_mutex_t		 lock;
	struct store		*snap;		/* one reference held */
	struct limits		 lim;
	unsigned		 gen;
	int			 stopping;
	size_t			 n;		/* workers, the main one too */
	struct listener		(*ls)[CONFIG_MAX_LISTEN];
	size_t			 nls;
	struct worker		*w;		/* [n]; w[0] is unused */
	atomic_uint		 nconns;	/* over all workers */
} W = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void	conn_close(struct conn *, const char *);

/* ------------------------------------------------------------------ */
/* Listening                                                           */

/*
 * "ADDR:PORT", "[IPv6]:PORT", or ":PORT" / "*:PORT" for every address
 * (IPv6 and IPv4 on one socket).
 */
static int
listen_one(const char *spec, struct listener *l, int reuseport)
{
	struct addrinfo	 hints, *res = NULL;
	char		 host[64], port[8];
	int		 fd = -1, on = 1, off = 0, wild, rc;

	if (config_listen_parse(spec, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		log_error("listen: '%s': expected ADDRESS:PORT, [IPv6]:PORT "
		    "or :PORT", spec);
		return -1;
	}
	wild = host[0] == '\0' || strcmp(host, "*") == 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_family = wild ? AF_INET6 : AF_UNSPEC;
	if ((rc = getaddrinfo(wild ? "::" : host, port, &hints, &res)) != 0) {
		log_error("listen: '%s': %s", spec, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* One listener per worker on the same address: the kernel spreads. */
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1)
		goto fail;
	/* Accepted sockets inherit it: small answers go out at once. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (res->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, wild ? &off : &on,
		    sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 1024) == -1)
		goto fail;
	freeaddrinfo(res);
	l->fd = fd;
	l->ev.kind = EV_LISTEN;
	l->ev.ptr = l;
	snprintf(l->name, sizeof(l->name), "%s", spec);
	return 0;
fail:
	log_error("listen: %s: %s", spec, strerror(errno));
	if (fd != -1)
		close(fd);
	freeaddrinfo(res);
	return -1;
}

/* The CPUs this process may run on. */
static size_t
cpus(void)
{
	cpu_set_t	 set;
	int		 n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    (n = CPU_COUNT(&set)) > 0)
		return (size_t)n;
	return 1;
}

/* see server.h */
int
server_listen(const struct config *c)
{
	W.n = c->workers != 0 ? c->workers : cpus();
	if (W.n > WORKERS_MAX)
		W.n = WORKERS_MAX;
	if ((W.ls = calloc(W.n, sizeof(*W.ls))) == NULL ||
	    (W.w = calloc(W.n, sizeof(*W.w))) == NULL) {
		log_error("listen: out of memory");
		return -1;
	}
	W.nls = c->nlisten;
	for (size_t w = 0; w < W.n; w++)
		for (size_t i = 0; i < c->nlisten; i++)
			if (listen_one(c->listen[i], &W.ls[w][i], W.n > 1) ==
			    -1)
				return -1;
	memcpy(S.ls, W.ls[0], sizeof(S.ls));
	S.nls = W.nls;
	for (size_t i = 0; i < c->nacme_listen; i++, S.nacme++)
		if (listen_one(c->acme_listen[i], &S.acme[S.nacme].l, 0) == -1)
			return -1;
	return 0;
}

static void
listeners_arm(int on)
{
	struct epoll_event ev;

	if (S.listen_paused == !on)
		return;
	for (size_t i = 0; i < S.nls; i++) {
		ev.events = on ? EPOLLIN : 0;
		ev.data.ptr = &S.ls[i].ev;
		epoll_ctl(S.epfd, EPOLL_CTL_MOD, S.ls[i].fd, &ev);
	}
	S.listen_paused = !on;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

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

static void
free_dead(void)
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

static struct http_site *
site_of(void *arg, int fd)
{
	(void)arg;
	if (fd < 0 || (size_t)fd >= S.nbyfd || S.byfd[fd] == NULL)
		return NULL;
	return &S.byfd[fd]->site;
}

/*
 * libmicrohttpd closed its side of a socketpair: the current one, or
 * one released while idle (see conn_release()) after which the next
 * request already opened another.
 */
static void
site_closed(void *arg, struct http_site *site, int fd)
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

static void
conn_pump(struct conn *c)
{
	struct tls_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.net = c->net_ev;
	ev.app = c->app_ev;
	c->net_ev = c->app_ev = 0;
	if (tls_conn_pump(c->tls, c->netfd, &c->appfd, &ev) == -1) {
		conn_close(c, tls_conn_error(c->tls));
		return;
	}
	if (ev.established)
		log_debug("tls: %s: handshake done for '%s'", c->addr,
		    tls_conn_server_name(c->tls));
	if (ev.app_in > 0) {
		if (c->req_start == 0)
			c->req_start = S.ms;
		S.http_due = 1;
	}
	/*
	 * Reading the answer needs no libmicrohttpd run of its own: the room
	 * it makes on libmicrohttpd's side turns its epoll descriptor ready,
	 * and it runs on the next loop turn with whatever else is due.
	 */
	if (ev.app_out > 0) {
		c->req_start = 0;
		c->last_active = S.ms;
	}
	if (S.stopping && c->req_start == 0 && !tls_conn_pending(c->tls) &&
	    ev.app_out > 0)
		conn_close(c, "shutting down");
}

static void
conn_close(struct conn *c, const char *why)
{
	if (c->closed)
		return;
	c->closed = 1;
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

static void
format_addr(const struct sockaddr_storage *ss, char *buf, size_t bufsz)
{
	char	 a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], a,
			    sizeof(a));
		else
			inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
	} else if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
	} else
		snprintf(a, sizeof(a), "?");
	snprintf(buf, bufsz, "%s", a);
}

static void
accept_on(struct listener *l)
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
				listeners_arm(0);
			}
			return;
		}
		if (S.stopping || atomic_load(&W.nconns) >=
		    S.lim.max_connections) {
			/* Refused without harming the established ones. */
			close(fd);
			if (S.refused++ % 1000 == 0)
				log_warn("listen: %s: connection limit (%u) "
				    "reached; refusing (%lu so far)", l->name,
				    S.lim.max_connections, S.refused);
			continue;
		}
		if ((c = calloc(1, sizeof(*c))) == NULL ||
		    (c->tls = tls_conn_new()) == NULL ||
		    tls_conn_start(c->tls, conn_resolve, conn_open_app, c) ==
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
		c->peer = ss;
		c->peerlen = sl;
		format_addr(&ss, c->addr, sizeof(c->addr));
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
static void
sweep(void)
{
	const struct limits	*cf = &S.lim;
	struct conn		*c, *next;
	const char		*why;

	for (c = S.live; c != NULL; c = next) {
		next = c->next;
		why = NULL;
		if (S.ms - c->started >= cf->connection_lifetime * 1000LL)
			why = "connection lifetime reached";
		else if (!tls_conn_established(c->tls)) {
			if (S.ms - c->started >= cf->handshake_timeout * 1000LL)
				why = "handshake timeout";
		} else if (c->req_start != 0) {
			if (S.ms - c->req_start >= cf->request_timeout * 1000LL)
				why = "request timeout";
		} else if (S.ms - c->last_active >=
		    cf->keepalive_timeout * 1000LL)
			why = "idle timeout";
		else if (S.stopping && !tls_conn_pending(c->tls))
			why = "shutting down";
		if (why != NULL)
			conn_close(c, why);
		else if (c->req_start == 0 && !c->site.active &&
		    S.ms - c->last_active >= IDLE_RELEASE_MS &&
		    tls_conn_established(c->tls) && !tls_conn_pending(c->tls))
			conn_release(c);
	}
	if (S.listen_paused && !S.stopping)
		listeners_arm(1);
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

/* ------------------------------------------------------------------ */
/* TLS-RPT                                                             */

/*
 * The receiver, shared by the workers.  The directory, path and size
 * limit are fixed at start; the other limits follow reloads.  Each
 * worker unpacks and checks its reports on its own; the rate table and
 * the count of bytes stored are taken under the lock.
 */
static struct {
	pthread_mutex_t		 lock;
	int			 fd;		/* tlsrpt_dir, or -1: off */
	char			 dir[PATH_MAX];	/* for the log */
	char			 path[80];	/* tlsrpt_path */
	size_t			 max_size;
	struct tlsrpt_caps	 caps;
	unsigned		 per_hour;	/* tlsrpt_rate */
	int64_t			 max;		/* tlsrpt_dir_max, bytes */
	int64_t			 used;		/* bytes, or -1: count again */
	int64_t			 counted;	/* when last counted (ms) */
	struct tlsrpt_rate	 rate;
} R = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* The limits a reload may change; called with R.lock held or alone. */
static void
rpt_limits(const struct config *c)
{
	R.caps.max_size = R.max_size;
	R.caps.max_json = c->tlsrpt_max_json;
	R.caps.max_ratio = c->tlsrpt_max_ratio;
	R.per_hour = c->tlsrpt_rate;
	R.max = (int64_t)c->tlsrpt_dir_max * 1024 * 1024;
	R.used = -1;
}

/* Opens tlsrpt_dir, if set, at start.  Returns 0 or -1 after logging. */
static int
rpt_open(const struct config *c)
{
	if (c->tlsrpt_dir[0] == '\0')
		return 0;
	if ((R.fd = open(c->tlsrpt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		log_error("tlsrpt_dir %s: %s", c->tlsrpt_dir, strerror(errno));
		return -1;
	}
	if (access(c->tlsrpt_dir, W_OK) == -1)
		log_warn("tlsrpt_dir %s: not writable by this user: reports "
		    "will be refused", c->tlsrpt_dir);
	snprintf(R.dir, sizeof(R.dir), "%s", c->tlsrpt_dir);
	snprintf(R.path, sizeof(R.path), "%s", c->tlsrpt_path);
	R.max_size = c->tlsrpt_max_size;
	rpt_limits(c);
	tls_set_post_bodies(1);
	log_info("tlsrpt: receiving reports at %s into %s", R.path, R.dir);
	return 0;
}

/*
 * Would add more bytes take tlsrpt_dir past tlsrpt_dir_max?  The count is
 * kept as reports are stored, and made again from the disk after a
 * reload, and when the cap seems reached, at most once a minute (the
 * administrator may have removed old reports; a scan costs a directory
 * walk in the loop).  Called with R.lock held.
 */
static int
rpt_full(size_t add)
{
	if (R.used < 0 || (R.used + (int64_t)add > R.max &&
	    S.ms - R.counted >= 60000)) {
		R.used = tlsrpt_usage(R.fd);
		R.counted = S.ms;
	}
	if (R.used < 0) {
		log_error("tlsrpt: %s: %s", R.dir, strerror(errno));
		return 1;
	}
	if (R.used + (int64_t)add <= R.max)
		return 0;
	log_error("tlsrpt: %s: tlsrpt_dir_max (%lld MiB) reached; refusing "
	    "reports", R.dir, (long long)(R.max / 1024 / 1024));
	return 1;
}

static unsigned
rpt_admit(void *arg, struct http_site *site, unsigned *retry_after)
{
	unsigned	 per_hour, status = 0;

	(void)arg;
	pthread_mutex_lock(&R.lock);
	per_hour = R.per_hour;
	*retry_after = tlsrpt_rate_take(&R.rate, site->client, S.ms, per_hour);
	if (*retry_after != 0)
		status = 429;
	else if (rpt_full(0))
		status = 507;
	pthread_mutex_unlock(&R.lock);
	if (status == 429)
		log_warn("tlsrpt: %s: %s: more than %u reports an hour; "
		    "refused", site->host, site->client, per_hour);
	return status;
}

static long
us_since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

static unsigned
rpt_take(void *arg, struct http_site *site, int gzip, const char *body,
    size_t len, char *why, size_t whysz)
{
	struct tlsrpt_caps	 caps;
	struct tlsrpt_meta	 m;
	struct timespec		 t0;
	const char		*err, *domain = site->host + strlen("mta-sts.");
	char			*json = NULL;
	size_t			 jl;
	unsigned		 status;
	int			 big, full, rc;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&R.lock);
	caps = R.caps;
	pthread_mutex_unlock(&R.lock);
	if ((err = tlsrpt_unpack(body, len, gzip ? TLSRPT_GZIP : TLSRPT_JSON,
	    &caps, &json, &jl, &big)) != NULL ||
	    (err = tlsrpt_check(json, jl, &m)) != NULL) {
		snprintf(why, whysz, "malformed report: %s", err);
		status = big ? 413 : 400;
		log_info("tlsrpt: %s: %s: refused (%u, %ldus): %s", site->host,
		    site->client, status, us_since(&t0), err);
		goto out;
	}
	pthread_mutex_lock(&R.lock);
	full = rpt_full(jl);
	pthread_mutex_unlock(&R.lock);
	if (full) {
		snprintf(why, whysz, "report store full");
		status = 507;
		goto out;
	}
	/* Two workers may store at once: names are unique per thread. */
	if ((rc = tlsrpt_store(R.fd, domain, &m, json, jl)) == -1) {
		log_error("tlsrpt: %s/%s/%s: %s", R.dir, domain, m.name,
		    strerror(errno));
		snprintf(why, whysz, "cannot store the report");
		status = errno == ENOSPC || errno == EDQUOT ? 507 : 500;
		goto out;
	}
	if (rc == 1) {
		pthread_mutex_lock(&R.lock);
		if (R.used >= 0)
			R.used += (int64_t)jl;
		pthread_mutex_unlock(&R.lock);
	}
	snprintf(why, whysz, rc == 1 ? "stored" : "already stored");
	status = rc == 1 ? 201 : 200;
	log_info("tlsrpt: %s: %s: %s %s (%zu bytes of JSON, %ldus)",
	    site->host, site->client, why, m.name, jl, us_since(&t0));
out:
	free(json);
	return status;
}

/* Tells a worker's HTTP side where reports go (fixed from the start). */
static void
rpt_receiver(struct http *h)
{
	struct http_receiver	 rx;

	memset(&rx, 0, sizeof(rx));
	if (R.fd != -1) {
		rx.path = R.path;
		rx.max_size = R.max_size;
		rx.admit = rpt_admit;
		rx.take = rpt_take;
	}
	http_set_receiver(h, &rx);
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */

static int
same_listen(const struct config *a, const struct config *b)
{
	if (a->nlisten != b->nlisten)
		return 0;
	for (size_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i], b->listen[i]) != 0)
			return 0;
	return 1;
}

/*
 * Tells systemd (Type=notify) what the daemon is doing: READY=1,
 * RELOADING=1, STOPPING=1.  Nothing without $NOTIFY_SOCKET.
 */
static void
sd_notify(const char *state)
{
	struct sockaddr_un	 sun;
	const char		*path = getenv("NOTIFY_SOCKET");
	size_t			 len;
	int			 fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, len);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, (socklen_t)(offsetof(struct sockaddr_un,
	    sun_path) + len)) == -1)
		log_debug("systemd: notify: %s", strerror(errno));
	close(fd);
}

/* Adds inotify watches on dir and the directories below it. */
static void
watch_dir(const char *dir, int depth)
{
	DIR		*d;
	struct dirent	*de;
	char		 sub[4096];
	struct stat	 st;

	/* cert_dir itself may be a link; the directories below are not. */
	if (inotify_add_watch(S.watchfd, dir, IN_CLOSE_WRITE | IN_MOVED_TO |
	    IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB | IN_ONLYDIR |
	    (depth > 0 ? IN_DONT_FOLLOW : 0)) == -1) {
		log_warn("watch: %s: %s", dir, strerror(errno));
		return;
	}
	if (depth >= 8 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			watch_dir(sub, depth + 1);
	}
	closedir(d);
}

/*
 * Watches cert_dir, so that a renewed certificate is taken without a
 * signal.  The watches are made anew at each reload (new directories).
 */
static void
watch_certs(void)
{
	struct epoll_event ev;

	if (S.watchfd != -1)
		close(S.watchfd);
	S.watchfd = -1;
	if (!S.cfg->watch_certs)
		return;
	if ((S.watchfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("watch: inotify: %s", strerror(errno));
		return;
	}
	watch_dir(S.cfg->cert_dir, 0);
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_watch;
	epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.watchfd, &ev);
}

/*
 * Files in cert_dir changed: reload once they have been quiet for a
 * moment, as an ACME client writes several files one after the other.
 */
static void
on_watch(void)
{
	char	 buf[4096];

	while (read(S.watchfd, buf, sizeof(buf)) > 0)
		;
	S.certs_due = S.ms + CERTS_QUIET_MS;
}

static void
limits_of(const struct config *c, struct limits *l)
{
	l->handshake_timeout = c->handshake_timeout;
	l->request_timeout = c->request_timeout;
	l->keepalive_timeout = c->keepalive_timeout;
	l->connection_lifetime = c->connection_lifetime;
	l->max_connections = c->max_connections;
}

static void
wake_workers(void)
{
	uint64_t one = 1;

	for (size_t i = 1; i < W.n; i++)
		if (W.w[i].started)
			(void)!write(W.w[i].wakefd, &one, sizeof(one));
}

/*
 * Makes snap (whose reference it takes; NULL keeps the current one) and
 * the limits of S.cfg what every worker serves from now on.
 */
static void
publish(struct store *snap, int stopping)
{
	struct store *old = NULL;

	pthread_mutex_lock(&W.lock);
	if (snap != NULL) {
		old = W.snap;
		W.snap = snap;
	}
	limits_of(S.cfg, &W.lim);
	W.stopping |= stopping;
	W.gen++;
	pthread_mutex_unlock(&W.lock);
	store_unref(old);
	wake_workers();
}

static void	begin_stop(const char *);

/*
 * Takes what the main thread published, if anything new: the snapshot
 * for new connections (those open keep theirs), the limits, a stop.
 */
static void
refresh(void)
{
	struct store	*old = NULL;
	int		 stop = 0;

	pthread_mutex_lock(&W.lock);
	if (S.gen != W.gen) {
		old = S.snap;
		S.snap = W.snap;
		store_ref(S.snap);
		S.lim = W.lim;
		S.gen = W.gen;
		stop = W.stopping && !S.stopping;
	}
	pthread_mutex_unlock(&W.lock);
	store_unref(old);
	if (stop)
		begin_stop(NULL);
}

static void
reload(void)
{
	struct config	 nc;
	struct store	*ns;
	char		 err[512];
	size_t		 served, failed;

	sd_notify("RELOADING=1");
	log_info("reload: reading %s", S.cfg_path);
	if (config_load(S.cfg_path, &nc, err, sizeof(err)) == -1)
		log_error("reload: %s; keeping the running configuration",
		    err);
	else {
		if (!same_listen(&nc, S.cfg))
			log_warn("reload: listen changes take effect at the "
			    "next start");
		if (nc.max_connections != S.cfg->max_connections ||
		    nc.max_header_size != S.cfg->max_header_size ||
		    nc.keepalive_timeout != S.cfg->keepalive_timeout ||
		    nc.session_cache != S.cfg->session_cache ||
		    nc.workers != S.cfg->workers ||
		    strcmp(nc.user, S.cfg->user) != 0 ||
		    strcmp(nc.pid_file, S.cfg->pid_file) != 0 ||
		    strcmp(nc.acme_webroot, S.cfg->acme_webroot) != 0 ||
		    nc.nacme_listen != S.cfg->nacme_listen)
			log_warn("reload: max_connections, max_header_size, "
			    "keepalive_timeout, session_cache, workers, user, "
			    "pid_file and [acme] take effect at the next start");
		if (strcmp(nc.tlsrpt_dir, S.cfg->tlsrpt_dir) != 0 ||
		    strcmp(nc.tlsrpt_path, S.cfg->tlsrpt_path) != 0 ||
		    nc.tlsrpt_max_size != S.cfg->tlsrpt_max_size)
			log_warn("reload: tlsrpt_dir, tlsrpt_path and "
			    "tlsrpt_max_size take effect at the next start");
		nc.max_connections = S.cfg->max_connections;
		nc.max_header_size = S.cfg->max_header_size;
		nc.keepalive_timeout = S.cfg->keepalive_timeout;
		nc.session_cache = S.cfg->session_cache;
		nc.workers = S.cfg->workers;
		free(nc.user);
		free(nc.pid_file);
		nc.user = S.cfg->user;
		nc.pid_file = S.cfg->pid_file;
		S.cfg->user = S.cfg->pid_file = NULL;
		config_free(S.cfg);
		*S.cfg = nc;
		log_set_level((enum log_level)S.cfg->log_level);
		pthread_mutex_lock(&R.lock);
		rpt_limits(S.cfg);
		pthread_mutex_unlock(&R.lock);
	}
	/* Reopened for log rotation; -d keeps standard error. */
	if (!S.foreground && log_open(S.cfg->log_file) == -1)
		log_error("reload: log_file %s: %s", S.cfg->log_file,
		    strerror(errno));
	ns = store_load(S.cfg, S.snap, S.now, &served, &failed);
	if (ns == NULL)
		log_error("reload: failed; still serving the previous state");
	else {
		store_log_expiry(ns, S.now);
		log_info("reload: %zu domains served, %zu failed", served,
		    failed);
	}
	publish(ns, 0);
	refresh();
	/* What the previous snapshot alone held goes back to the system. */
	S.trim_due = 1;
	S.certs_due = 0;
	watch_certs();
	sd_notify("READY=1");
}

/* Stops accepting; open connections get STOP_GRACE seconds. */
static void
begin_stop(const char *why)
{
	if (why != NULL) {
		log_info("stopping on %s", why);
		sd_notify("STOPPING=1");
		publish(NULL, 1);
	}
	S.stopping = 1;
	S.stop_deadline = S.now + STOP_GRACE;
	for (size_t i = 0; i < S.nls; i++)
		close(S.ls[i].fd);
	S.nls = 0;
	S.next_sweep = S.ms;
}

static void
on_signal(void)
{
	struct signalfd_siginfo	 si;

	while (read(S.sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && !S.stopping)
			reload();
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop(si.ssi_signo == SIGTERM ? "SIGTERM" :
			    "SIGINT");
	}
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What every loop needs: its epoll set, libmicrohttpd, its listeners. */
static int
setup_loop(struct http *http)
{
	struct epoll_event	 ev;
	struct rlimit		 rl;

	if ((S.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	S.nbyfd = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : rl.rlim_cur;
	if ((S.byfd = calloc(S.nbyfd, sizeof(*S.byfd))) == NULL)
		return -1;
	S.http = http;
	S.ev_http.kind = EV_HTTP;
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_http;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, http_fd(S.http), &ev) == -1)
		return -1;
	for (size_t i = 0; i < S.nls; i++) {
		S.ls[i].ev.ptr = &S.ls[i];
		ev.data.ptr = &S.ls[i].ev;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.ls[i].fd, &ev) == -1)
			return -1;
	}
	if (S.wakefd != -1) {
		S.ev_wake.kind = EV_WAKE;
		ev.data.ptr = &S.ev_wake;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.wakefd, &ev) == -1)
			return -1;
	}
	S.now = time(NULL);
	S.ms = monotonic_ms();
	S.next_sweep = S.ms + SWEEP_MS;
	refresh();
	return 0;
}

static struct http *
start_http(void)
{
	struct http_limits	 lim;
	struct http		*h;

	lim.max_connections = S.cfg->max_connections;
	lim.max_header_size = S.cfg->max_header_size;
	lim.idle_timeout = S.cfg->keepalive_timeout;
	if ((h = http_start(&lim, site_of, site_closed, NULL)) == NULL)
		log_error("http: cannot start libmicrohttpd");
	else
		rpt_receiver(h);
	return h;
}

/* The main thread's part: signals, ACME, the certificate watch. */
static int
setup_main(void)
{
	struct epoll_event	 ev;

	S.ev_sig.kind = EV_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_sig;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.sigfd, &ev) == -1)
		return -1;
	for (size_t i = 0; i < S.nacme; i++) {
		struct acme *a = &S.acme[i];

		if ((a->http = http_acme_start(a->l.fd, S.cfg->acme_webroot)) ==
		    NULL) {
			log_error("acme: %s: cannot start", a->l.name);
			return -1;
		}
		a->ev.kind = EV_ACME;
		a->ev.ptr = a;
		ev.data.ptr = &a->ev;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, http_fd(a->http), &ev) ==
		    -1)
			return -1;
	}
	S.watchfd = -1;
	S.ev_watch.kind = EV_WATCH;
	watch_certs();
	S.next_expiry = S.now + EXPIRY_EVERY;
	return 0;
}

/* One event loop, until stopped and its connections are done. */
static void
loop(void)
{
	struct epoll_event	 evs[256];
	struct conn		*cn;
	long			 timeout, ht;
	uint64_t		 wake;
	int			 n;

	for (;;) {
		timeout = (long)(S.next_sweep - S.ms);
		if (timeout < 0)
			timeout = 0;
		if ((ht = http_timeout_ms(S.http)) >= 0 && ht < timeout)
			timeout = ht;
		/* Work libmicrohttpd holds already is done this turn. */
		if (ht == 0)
			S.http_due = 1;
		for (size_t i = 0; i < S.nacme; i++)
			if ((ht = http_timeout_ms(S.acme[i].http)) >= 0 &&
			    ht < timeout)
				timeout = ht;
		if (S.certs_due != 0 && S.certs_due - S.ms < timeout)
			timeout = S.certs_due > S.ms ? S.certs_due - S.ms : 0;
		n = epoll_wait(S.epfd, evs, 256, (int)timeout);
		if (n == -1 && errno != EINTR) {
			log_error("server: epoll_wait: %s", strerror(errno));
			break;
		}
		S.now = time(NULL);
		S.ms = monotonic_ms();
		for (int i = 0; i < n; i++) {
			struct evref *r = evs[i].data.ptr;

			switch (r->kind) {
			case EV_LISTEN:
				if (!S.stopping)
					accept_on(r->ptr);
				break;
			case EV_NET:
			case EV_APP:
				cn = r->ptr;
				if (cn->closed)
					break;
				if (r->kind == EV_NET)
					cn->net_ev |= tls_flags(evs[i].events);
				else
					cn->app_ev |= tls_flags(evs[i].events);
				conn_pump(cn);
				break;
			case EV_HTTP:
				S.http_due = 1;
				break;
			case EV_ACME:
				http_run(((struct acme *)r->ptr)->http);
				break;
			case EV_WATCH:
				on_watch();
				break;
			case EV_SIGNAL:
				on_signal();
				break;
			case EV_WAKE:
				(void)!read(S.wakefd, &wake, sizeof(wake));
				refresh();
				break;
			}
		}
		if (S.http_due || n == 0) {
			S.http_due = 0;
			http_run(S.http);
			for (size_t i = 0; n == 0 && i < S.nacme; i++)
				http_run(S.acme[i].http);
		}
		if (S.certs_due != 0 && S.ms >= S.certs_due && !S.stopping) {
			log_info("watch: %s changed: reloading",
			    S.cfg->cert_dir);
			reload();
		}
		if (S.ms >= S.next_sweep) {
			sweep();
			S.next_sweep = S.ms + SWEEP_MS;
		}
		if (S.is_main && S.now >= S.next_expiry) {
			store_log_expiry(S.snap, S.now);
			S.next_expiry = S.now + EXPIRY_EVERY;
		}
		free_dead();
		if (S.stopping && (S.nconns == 0 || S.now >= S.stop_deadline))
			break;
	}
	while (S.live != NULL)
		conn_close(S.live, NULL);
	http_stop(S.http);
	free_dead();
	tls_conn_release();
	store_unref(S.snap);
	S.snap = NULL;
	free(S.byfd);
	close(S.epfd);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	S.wakefd = w->wakefd;
	memcpy(S.ls, W.ls[w - W.w], sizeof(S.ls));
	S.nls = W.nls;
	if (setup_loop(w->http) == -1) {
		log_error("server: worker %zu: setup: %s", (size_t)(w - W.w),
		    strerror(errno));
		return NULL;
	}
	loop();
	return NULL;
}

/*
 * Starts the workers beyond the main thread, each with its own
 * listeners, epoll set and libmicrohttpd (made here, one thread at a
 * time).  A worker that cannot start is logged; the others serve.
 */
static void
start_workers(void)
{
	struct worker	*w;

	for (size_t i = 1; i < W.n; i++) {
		w = &W.w[i];
		if ((w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
		    (w->http = start_http()) == NULL) {
			log_error("server: worker %zu: %s", i, strerror(errno));
			continue;
		}
		if ((errno = pthread_create(&w->tid, NULL, worker_main, w)) !=
		    0) {
			log_error("server: worker %zu: %s", i, strerror(errno));
			http_stop(w->http);
			continue;
		}
		w->started = 1;
	}
}

/* see server.h */
int
server_run(const char *config_path, struct config *c, struct store *snap,
    int foreground)
{
	sigset_t		 set;
	const char		*raw;
	size_t			 rawlen;
	struct http		*http;

	S.cfg = c;
	S.cfg_path = config_path;
	S.foreground = foreground;
	S.is_main = 1;
	S.wakefd = -1;
	signal(SIGPIPE, SIG_IGN);
	/* Blocked in every thread: only the main one reads them. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (S.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_error("server: signals: %s", strerror(errno));
		return 1;
	}
	raw = http_raw_bad_request(&rawlen);
	tls_set_nul_reply(raw, rawlen);
	W.snap = snap;
	limits_of(c, &W.lim);
	W.gen = 1;
	if (rpt_open(c) == -1)
		return 1;
	if ((http = start_http()) == NULL || setup_loop(http) == -1 ||
	    setup_main() == -1) {
		log_error("server: setup: %s", strerror(errno));
		return 1;
	}
	start_workers();
	for (size_t i = 0; i < S.nls; i++)
		log_info("listening on %s%s", S.ls[i].name, W.n > 1 ?
		    " (one listener a worker)" : "");
	log_info("%zu worker%s", W.n, W.n == 1 ? "" : "s");
	for (size_t i = 0; i < S.nacme; i++)
		log_info("acme: listening on %s (plain HTTP, challenges only)",
		    S.acme[i].l.name);
	sd_notify("READY=1");
	loop();
	for (size_t i = 1; i < W.n; i++)
		if (W.w[i].started) {
			pthread_join(W.w[i].tid, NULL);
			close(W.w[i].wakefd);
		}
	for (size_t i = 0; i < S.nacme; i++)
		http_stop(S.acme[i].http);
	if (S.watchfd != -1)
		close(S.watchfd);
	store_unref(W.snap);
	W.snap = NULL;
	free(W.ls);
	free(W.w);
	if (R.fd != -1)
		close(R.fd);
	close(S.sigfd);
	log_info("stopped");
	return 0;
}
