/*
 * server.c: the event loops of mta-stsd.  See server.h and loop.h.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "http.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "loader.h"
#include "loop.h"
#include "metrics.h"
#include "notify.h"
#include "receiver.h"
#include "server.h"
#include "store.h"
#include "tls/tls.h"
#include "watch.h"

#define STOP_GRACE	5	/* seconds for in-flight requests at exit */
#define EXPIRY_EVERY	86400	/* seconds between certificate checks */
#define SWEEP_MS	250	/* milliseconds between deadline sweeps */

_Thread_local struct loop	 S;
struct shared			 W = { .lock = PTHREAD_MUTEX_INITIALIZER };

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

/* see server.h */
size_t
server_cpus(void)
{
	cpu_set_t	 set;
	int		 n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    (n = CPU_COUNT(&set)) > 0)
		return (size_t)n;
	/* Reloads would read on one thread, however many CPUs: say so. */
	log_warn("cpus: sched_getaffinity: %s; one CPU assumed",
	    strerror(errno));
	return 1;
}

/* see server.h */
int
server_listen(const struct config *c)
{
	W.n = c->workers != 0 ? c->workers : server_cpus();
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
	for (size_t i = 0; i < c->nacme_listen; i++, S.nplain++)
		if (listen_one(c->acme_listen[i], &S.plain[S.nplain].l, 0) == -1)
			return -1;
	for (size_t i = 0; i < c->nmetrics_listen; i++, S.nplain++) {
		S.plain[S.nplain].metrics = 1;
		if (listen_one(c->metrics_listen[i], &S.plain[S.nplain].l, 0) ==
		    -1)
			return -1;
	}
	return 0;
}

/* see loop.h */
void
server_listeners_arm(int on)
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
	if (S.snap != NULL)
		metrics_worker_grow(S.mw, store_max_id(S.snap));
	if (stop)
		begin_stop(NULL);
}

/*
 * A reload: the loader reads the configuration, policies and
 * certificates on its own thread (loader.h) while this loop serves;
 * reload_end() takes the result.  One asked for meanwhile comes next.
 */
static void
reload_begin(void)
{
	if (loader_busy()) {
		S.reload_again = 1;
		return;
	}
	notify_systemd("RELOADING=1");
	log_info("reload: reading %s", S.cfg_path);
	/*
	 * The watch's events read first: a policy whose writer began before
	 * the signal counts as being written, even within this loop turn.
	 */
	watch_event();
	store_ref(S.snap);
	if (loader_reload(S.cfg_path, S.cfg, S.snap, watch_writing()) == -1)
		S.reload_again = 1;
}

/* The loader is done: the new configuration and snapshot, published. */
static void
reload_end(void)
{
	struct loader_result	 r;
	char			 names[512];
	const char		*why = NULL;

	if (!loader_done(&r))
		return;
	if (!r.config_ok) {
		log_error("reload: %s; keeping the running configuration",
		    r.err);
		why = r.err;
	} else {
		if (config_keep_restart(S.cfg, &r.cfg, names, sizeof(names)) > 0)
			log_warn("reload: %s: take%s effect at the next start",
			    names, strchr(names, ',') != NULL ? "" : "s");
		config_free(S.cfg);
		*S.cfg = r.cfg;
		log_set_level((enum log_level)S.cfg->log_level);
		log_set_format((enum log_format)S.cfg->log_format);
		receiver_reload(S.cfg);
	}
	/* Reopened for log rotation; -d keeps standard error. */
	if (!S.foreground && log_open(S.cfg->log_file) == -1)
		log_error("reload: log_file %s: %s", S.cfg->log_file,
		    strerror(errno));
	if (r.snap == NULL) {
		log_error("reload: failed; still serving the previous state");
		why = "policy_dir or cert_dir could not be read (see the log)";
	} else {
		store_log_expiry(r.snap, S.now);
		log_info("reload: built in %ld ms beside the event loops "
		    "(%d CPUs)", r.ms, r.threads);
		log_info("reload: %zu domains served, %zu failed", r.served,
		    r.failed);
	}
	metrics_loaded(why == NULL, 0, why, r.served, r.failed, S.now);
	publish(r.snap, 0);
	refresh();
	watch_start(S.cfg);
	notify_systemd("READY=1");
	if (S.reload_again && !S.stopping) {
		S.reload_again = 0;
		reload_begin();
	}
}

/* Stops accepting; open connections get STOP_GRACE seconds. */
static void
begin_stop(const char *why)
{
	if (why != NULL) {
		log_info("stopping on %s", why);
		notify_systemd("STOPPING=1");
		metrics_stopping();
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
			reload_begin();
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			begin_stop(si.ssi_signo == SIGTERM ? "SIGTERM" :
			    "SIGINT");
	}
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
	S.ms = clock_ms();
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
	if ((h = http_start(&lim, conn_site_of, conn_site_closed,
	    conn_site_done, NULL)) == NULL)
		log_error("http: cannot start libmicrohttpd");
	else
		receiver_attach(h);
	return h;
}

/*
 * The main thread's part: signals, the plain-HTTP listeners (ACME,
 * metrics), the watch, the loader's news.
 */
static int
setup_main(void)
{
	struct epoll_event	 ev;

	S.ev_sig.kind = EV_SIGNAL;
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_sig;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.sigfd, &ev) == -1)
		return -1;
	for (size_t i = 0; i < S.nplain; i++) {
		struct plain *a = &S.plain[i];

		a->http = a->metrics ? http_plain_start(a->l.fd, "metrics",
		    metrics_answer, NULL) : http_acme_start(a->l.fd,
		    S.cfg->acme_webroot);
		if (a->http == NULL) {
			log_error("%s: %s: cannot start", a->metrics ?
			    "metrics" : "acme", a->l.name);
			return -1;
		}
		a->ev.kind = EV_PLAIN;
		a->ev.ptr = a;
		ev.data.ptr = &a->ev;
		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, http_fd(a->http), &ev) ==
		    -1)
			return -1;
	}
	if (loader_start() == -1)
		return -1;
	S.ev_loader.kind = EV_LOADER;
	ev.data.ptr = &S.ev_loader;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, loader_fd(), &ev) == -1)
		return -1;
	watch_start(S.cfg);
	S.next_expiry = S.now + EXPIRY_EVERY;
	return 0;
}

/* One event loop, until stopped and its connections are done. */
static void
loop(void)
{
	struct epoll_event	 evs[256];
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
		for (size_t i = 0; i < S.nplain; i++)
			if ((ht = http_timeout_ms(S.plain[i].http)) >= 0 &&
			    ht < timeout)
				timeout = ht;
		if (S.is_main && (ht = watch_timeout_ms()) >= 0 &&
		    ht < timeout)
			timeout = ht;
		n = epoll_wait(S.epfd, evs, 256, (int)timeout);
		if (n == -1 && errno != EINTR) {
			log_error("server: epoll_wait: %s", strerror(errno));
			break;
		}
		S.now = time(NULL);
		S.ms = clock_ms();
		for (int i = 0; i < n; i++) {
			struct evref *r = evs[i].data.ptr;

			switch (r->kind) {
			case EV_LISTEN:
				if (!S.stopping)
					conn_accept(r->ptr);
				break;
			case EV_NET:
			case EV_APP:
				conn_event(r->ptr, r->kind == EV_APP,
				    evs[i].events);
				break;
			case EV_HTTP:
				S.http_due = 1;
				break;
			case EV_PLAIN:
				http_run(((struct plain *)r->ptr)->http);
				break;
			case EV_LOADER:
				reload_end();
				break;
			case EV_WATCH:
				watch_event();
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
			for (size_t i = 0; n == 0 && i < S.nplain; i++)
				http_run(S.plain[i].http);
		}
		if (S.is_main && !S.stopping && watch_due())
			reload_begin();
		if (S.ms >= S.next_sweep) {
			conn_sweep();
			S.next_sweep = S.ms + SWEEP_MS;
		}
		if (S.is_main && S.now >= S.next_expiry) {
			store_log_expiry(S.snap, S.now);
			S.next_expiry = S.now + EXPIRY_EVERY;
		}
		conn_free_dead();
		if (S.stopping && (S.nconns == 0 || S.now >= S.stop_deadline))
			break;
	}
	conn_close_all();
	http_stop(S.http);
	conn_free_dead();
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
	S.mw = metrics_worker((size_t)(w - W.w));
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
    size_t served, size_t failed, int foreground)
{
	sigset_t		 set;
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
	W.snap = snap;
	limits_of(c, &W.lim);
	W.gen = 1;
	if (receiver_open(c) == -1)
		return 1;
	if (c->nmetrics_listen > 0 && metrics_init(W.n) == -1) {
		log_error("metrics: out of memory");
		return 1;
	}
	S.mw = metrics_worker(0);
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
	for (size_t i = 0; i < S.nplain; i++)
		log_info(S.plain[i].metrics ? "metrics: listening on %s "
		    "(plain HTTP: /metrics, /healthz, /readyz)" : "acme: "
		    "listening on %s (plain HTTP, challenges only)",
		    S.plain[i].l.name);
	metrics_loaded(1, 1, NULL, served, failed, S.now);
	for (size_t i = 1; i < W.n; i++)
		if (!W.w[i].started) {
			char why[64];

			snprintf(why, sizeof(why), "worker %zu did not start",
			    i);
			metrics_listeners(0, why);
		}
	notify_systemd("READY=1");
	loop();
	for (size_t i = 1; i < W.n; i++)
		if (W.w[i].started) {
			pthread_join(W.w[i].tid, NULL);
			close(W.w[i].wakefd);
		}
	for (size_t i = 0; i < S.nplain; i++)
		http_stop(S.plain[i].http);
	watch_stop();
	store_unref(W.snap);
	W.snap = NULL;
	/* After the last snapshot went to it: the loader frees it. */
	loader_stop();
	metrics_free();
	free(W.ls);
	free(W.w);
	receiver_close();
	close(S.sigfd);
	log_info("stopped");
	return 0;
}

