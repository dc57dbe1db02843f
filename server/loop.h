/*
 * loop.h: the state of mta-stsd's event loops, shared by the files of
 * the daemon (server.c runs the loops; conn.c, receiver.c and watch.c
 * work in them).  Nothing outside server/ includes it.
 *
 * Each worker thread has its own loop state, S (thread-local: the main
 * thread is worker 0 and also handles signals, reloads, the plain-HTTP
 * listeners (ACME, metrics) and the watch); W is what the workers share,
 * under W.lock but for the connection count.
 */
#ifndef LOOP_H
#define LOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/config.h"

#define WORKERS_MAX	64

enum ev_kind {
	EV_LISTEN,
	EV_NET,
	EV_APP,
	EV_HTTP,
	EV_PLAIN,
	EV_SIGNAL,
	EV_WATCH,
	EV_LOADER,
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

/*
 * A plain-HTTP listener, run by its own daemon in the main loop: ACME
 * challenges, or the metrics.
 */
struct plain {
	struct listener	 l;
	int		 metrics;	/* [metrics], else [acme] */
	struct http	*http;
	struct evref	 ev;
};

struct conn;
struct metrics_worker;
struct store;

/* One event loop's state. */
struct loop {
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
	struct plain		 plain[2 * CONFIG_MAX_LISTEN];
	size_t			 nplain;
	struct evref		 ev_watch;
	int64_t			 reload_due;	/* after changes (watch.c), or 0 */
	int64_t			 reload_first;	/* the burst's first change */
	struct evref		 ev_loader;
	int			 reload_again;	/* asked for during a reload */
	struct metrics_worker	*mw;		/* this loop's, or NULL */
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
};

/*
 * The executable's own: local-exec, as when S was static to server.c (a
 * thread-local defined elsewhere is reached through the GOT otherwise, a
 * load more at each use: +0.5% of a keep-alive request's instructions).
 */
extern _Thread_local struct loop S __attribute__((tls_model("local-exec")));

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
struct shared {
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
};

extern struct shared W;

/* Pauses (on 0) or resumes this loop's listeners (server.c). */
void	server_listeners_arm(int on);

#endif /* LOOP_H */
