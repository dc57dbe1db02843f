/*
 * server.c: the event loop of mta-stsd.  See server.h.
 */
#include <sys/epoll.h>
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
#include <malloc.h>
#include <signal.h>
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

#define ACCEPT_BURST	64	/* accepts per listener per loop turn */
#define STOP_GRACE	5	/* seconds for in-flight requests at exit */
#define EXPIRY_EVERY	86400	/* seconds between certificate checks */
#define SWEEP_MS	250	/* milliseconds between deadline sweeps */
#define CERTS_QUIET_MS	2000	/* after the last change in cert_dir */

enum ev_kind {
	EV_LISTEN,
	EV_NET,
	EV_APP,
	EV_HTTP,
	EV_ACME,
	EV_SIGNAL,
	EV_WATCH
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

static struct {
	int			 epfd;
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
	unsigned long		 refused;
} S;

static void	conn_close(struct conn *, const char *);

/* ------------------------------------------------------------------ */
/* Listening                                                           */

/*
 * "ADDR:PORT", "[IPv6]:PORT", or ":PORT" / "*:PORT" for every address
 * (IPv6 and IPv4 on one socket).
 */
static int
listen_one(const char *spec, struct listener *l)
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

/* see server.h */
int
server_listen(const struct config *c)
{
	for (size_t i = 0; i < c->nlisten; i++, S.nls++)
		if (listen_one(c->listen[i], &S.ls[S.nls]) == -1)
			return -1;
	for (size_t i = 0; i < c->nacme_listen; i++, S.nacme++)
		if (listen_one(c->acme_listen[i], &S.acme[S.nacme].l) == -1)
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

static void
site_closed(void *arg, struct http_site *site)
{
	struct conn *c = (struct conn *)(void *)((char *)site -
	    offsetof(struct conn, site));

	(void)arg;
	if (c->httpfd >= 0 && (size_t)c->httpfd < S.nbyfd)
		S.byfd[c->httpfd] = NULL;
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
	if (ev.app_out > 0) {
		c->req_start = 0;
		c->last_active = S.ms;
		S.http_due = 1;
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
	tls_conn_free(c->tls);
	c->tls = NULL;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		S.live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	S.nconns--;
	S.http_due = 1;
	S.trim_due = 1;
	conn_unref(c);
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
		if (S.stopping || S.nconns >= S.cfg->max_connections) {
			/* Refused without harming the established ones. */
			close(fd);
			if (S.refused++ % 1000 == 0)
				log_warn("listen: %s: connection limit (%u) "
				    "reached; refusing (%lu so far)", l->name,
				    S.cfg->max_connections, S.refused);
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
	const struct config	*cf = S.cfg;
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
	}
	if (S.listen_paused && !S.stopping)
		listeners_arm(1);
	/*
	 * After a burst, give the freed connection memory back: glibc keeps
	 * it otherwise (2,000 connections left 17 MB behind).
	 */
	if (S.nconns == 0 && S.trim_due) {
		malloc_trim(0);
		S.trim_due = 0;
	}
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
		    strcmp(nc.user, S.cfg->user) != 0 ||
		    strcmp(nc.pid_file, S.cfg->pid_file) != 0 ||
		    strcmp(nc.acme_webroot, S.cfg->acme_webroot) != 0 ||
		    nc.nacme_listen != S.cfg->nacme_listen)
			log_warn("reload: max_connections, max_header_size, "
			    "keepalive_timeout, session_cache, user, pid_file "
			    "and [acme] take effect at the next start");
		nc.max_connections = S.cfg->max_connections;
		nc.max_header_size = S.cfg->max_header_size;
		nc.keepalive_timeout = S.cfg->keepalive_timeout;
		nc.session_cache = S.cfg->session_cache;
		free(nc.user);
		free(nc.pid_file);
		nc.user = S.cfg->user;
		nc.pid_file = S.cfg->pid_file;
		S.cfg->user = S.cfg->pid_file = NULL;
		config_free(S.cfg);
		*S.cfg = nc;
		log_set_level((enum log_level)S.cfg->log_level);
	}
	/* Reopened for log rotation; -d keeps standard error. */
	if (!S.foreground && log_open(S.cfg->log_file) == -1)
		log_error("reload: log_file %s: %s", S.cfg->log_file,
		    strerror(errno));
	ns = store_load(S.cfg, S.snap, S.now, &served, &failed);
	if (ns == NULL)
		log_error("reload: failed; still serving the previous state");
	else {
		store_unref(S.snap);
		S.snap = ns;
		S.trim_due = 1;		/* the old snapshot's memory */
		store_log_expiry(S.snap, S.now);
		log_info("reload: %zu domains served, %zu failed", served,
		    failed);
	}
	S.certs_due = 0;
	watch_certs();
	sd_notify("READY=1");
}

static void
begin_stop(int sig)
{
	log_info("stopping on signal %d", sig);
	sd_notify("STOPPING=1");
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
			begin_stop((int)si.ssi_signo);
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

static int
setup(void)
{
	struct epoll_event	 ev;
	struct http_limits	 lim;
	struct rlimit		 rl;
	sigset_t		 set;
	const char		*raw;
	size_t			 rawlen;

	signal(SIGPIPE, SIG_IGN);
	/*
	 * A connection's TLS state (about 21 kB) gets pages of its own, so
	 * that closing it gives them back at once rather than leaving holes
	 * in the heap after a burst.
	 */
	mallopt(M_MMAP_THRESHOLD, 16 * 1024);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (S.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	if ((S.epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	S.nbyfd = rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : rl.rlim_cur;
	if ((S.byfd = calloc(S.nbyfd, sizeof(*S.byfd))) == NULL)
		return -1;
	lim.max_connections = S.cfg->max_connections;
	lim.max_header_size = S.cfg->max_header_size;
	lim.idle_timeout = S.cfg->keepalive_timeout;
	if ((S.http = http_start(&lim, site_of, site_closed, NULL)) == NULL) {
		log_error("http: cannot start libmicrohttpd");
		return -1;
	}
	raw = http_raw_bad_request(&rawlen);
	tls_set_nul_reply(raw, rawlen);
	S.ev_http.kind = EV_HTTP;
	S.ev_sig.kind = EV_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_http;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, http_fd(S.http), &ev) == -1)
		return -1;
	ev.data.ptr = &S.ev_sig;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.sigfd, &ev) == -1)
		return -1;
	for (size_t i = 0; i < S.nls; i++) {
		ev.data.ptr = &S.ls[i].ev;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.ls[i].fd, &ev) == -1)
			return -1;
	}
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
	return 0;
}

/* see server.h */
int
server_run(const char *config_path, struct config *c, struct store *snap,
    int foreground)
{
	struct epoll_event	 evs[256];
	struct conn		*cn;
	long			 timeout, ht;
	int			 n;

	S.cfg = c;
	S.cfg_path = config_path;
	S.foreground = foreground;
	S.snap = snap;
	S.now = time(NULL);
	S.ms = monotonic_ms();
	if (setup() == -1) {
		log_error("server: setup: %s", strerror(errno));
		return 1;
	}
	S.next_sweep = S.ms + SWEEP_MS;
	S.next_expiry = S.now + EXPIRY_EVERY;
	for (size_t i = 0; i < S.nls; i++)
		log_info("listening on %s", S.ls[i].name);
	for (size_t i = 0; i < S.nacme; i++)
		log_info("acme: listening on %s (plain HTTP, challenges only)",
		    S.acme[i].l.name);
	sd_notify("READY=1");

	for (;;) {
		timeout = (long)(S.next_sweep - S.ms);
		if (timeout < 0)
			timeout = 0;
		if ((ht = http_timeout_ms(S.http)) >= 0 && ht < timeout)
			timeout = ht;
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
		if (S.now >= S.next_expiry) {
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
	for (size_t i = 0; i < S.nacme; i++)
		http_stop(S.acme[i].http);
	free_dead();
	if (S.watchfd != -1)
		close(S.watchfd);
	store_unref(S.snap);
	free(S.byfd);
	close(S.epfd);
	close(S.sigfd);
	log_info("stopped");
	return 0;
}
