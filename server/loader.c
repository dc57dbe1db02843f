/*
 * loader.c: the thread that builds new snapshots and frees old ones.
 * See loader.h.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "loader.h"
#include "server.h"
#include "store.h"
#include "watch.h"

/* A snapshot to free. */
struct reap {
	struct store	*s;
	struct reap	*next;
};

static struct {
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	pthread_t		 tid;
	int			 started;
	int			 efd;
	int			 stop;
	/* The reload asked for, then its result. */
	int			 job, busy, ready;
	const char		*config_path;
	const struct config	*running;
	struct store		*old;
	struct map		*writing;
	struct loader_result	 res;
	struct reap		*reap;
} L = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.efd = -1
};

/* The reload itself, on the loader's thread. */
static void
load(struct loader_result *r)
{
	const struct config	*c = L.running;
	struct store_opts	 opts;
	int64_t			 t0 = clock_ms();

	memset(r, 0, sizeof(*r));
	if (config_load(L.config_path, &r->cfg, r->err, sizeof(r->err)) == 0) {
		r->config_ok = 1;
		c = &r->cfg;
	}
	/* What changes after the watches are added is seen. */
	watch_certs(c);
	opts.writing = L.writing;
	opts.ids = c->nmetrics_listen > 0 ? c->metrics_per_domain :
	    CONFIG_NO;
	opts.threads = r->threads = (int)server_cpus();
	r->snap = store_load(c, L.old, &opts, time(NULL), &r->served,
	    &r->failed);
	r->ms = (long)(clock_ms() - t0);
}

/* Frees the snapshots handed over, then gives the memory back. */
static void
reap_all(struct reap *list)
{
	struct reap *next;

	if (list == NULL)
		return;
	for (; list != NULL; list = next) {
		next = list->next;
		store_free(list->s);
		free(list);
	}
	malloc_trim(0);
}

static void *
loader_main(void *arg)
{
	struct loader_result	 r;
	struct reap		*list;
	struct store		*old;
	struct map		*writing;
	uint64_t		 one = 1;
	int			 job;

	(void)arg;
	pthread_mutex_lock(&L.lock);
	for (;;) {
		while (!L.job && L.reap == NULL && !L.stop)
			pthread_cond_wait(&L.cond, &L.lock);
		job = L.job;
		L.job = 0;
		list = L.reap;
		L.reap = NULL;
		if (!job && list == NULL && L.stop)
			break;
		pthread_mutex_unlock(&L.lock);
		reap_all(list);
		if (job) {
			load(&r);
			pthread_mutex_lock(&L.lock);
			old = L.old;
			writing = L.writing;
			L.old = NULL;
			L.writing = NULL;
			L.res = r;
			L.ready = 1;
			pthread_mutex_unlock(&L.lock);
			/* Not under the lock: this may reap (a reference). */
			store_unref(old);
			watch_writing_free(writing);
			(void)!write(L.efd, &one, sizeof(one));
		}
		pthread_mutex_lock(&L.lock);
	}
	pthread_mutex_unlock(&L.lock);
	return NULL;
}

/* store.h's reaper: any thread hands a snapshot over. */
static void
reaper(struct store *s)
{
	struct reap *r;

	if ((r = malloc(sizeof(*r))) == NULL) {
		store_free(s);
		return;
	}
	r->s = s;
	pthread_mutex_lock(&L.lock);
	r->next = L.reap;
	L.reap = r;
	pthread_cond_signal(&L.cond);
	pthread_mutex_unlock(&L.lock);
}

/* see loader.h */
int
loader_start(void)
{
	if ((L.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_error("loader: eventfd: %s", strerror(errno));
		return -1;
	}
	if ((errno = pthread_create(&L.tid, NULL, loader_main, NULL)) != 0) {
		log_error("loader: %s", strerror(errno));
		close(L.efd);
		L.efd = -1;
		return -1;
	}
	L.started = 1;
	store_set_reaper(reaper);
	return 0;
}

/* see loader.h */
int
loader_fd(void)
{
	return L.efd;
}

/* see loader.h */
int
loader_busy(void)
{
	int busy;

	pthread_mutex_lock(&L.lock);
	busy = L.busy;
	pthread_mutex_unlock(&L.lock);
	return busy;
}

/* see loader.h */
int
loader_reload(const char *config_path, const struct config *running,
    struct store *old, struct map *writing)
{
	pthread_mutex_lock(&L.lock);
	if (L.busy) {
		pthread_mutex_unlock(&L.lock);
		store_unref(old);
		watch_writing_free(writing);
		return -1;
	}
	L.config_path = config_path;
	L.running = running;
	L.old = old;
	L.writing = writing;
	L.job = L.busy = 1;
	pthread_cond_signal(&L.cond);
	pthread_mutex_unlock(&L.lock);
	return 0;
}

/* see loader.h */
int
loader_done(struct loader_result *r)
{
	uint64_t	 n;
	int		 ready;

	(void)!read(L.efd, &n, sizeof(n));
	pthread_mutex_lock(&L.lock);
	if ((ready = L.ready)) {
		*r = L.res;
		L.ready = L.busy = 0;
	}
	pthread_mutex_unlock(&L.lock);
	return ready;
}

/* see loader.h */
void
loader_stop(void)
{
	struct loader_result r;

	if (!L.started)
		return;
	pthread_mutex_lock(&L.lock);
	L.stop = 1;
	pthread_cond_signal(&L.cond);
	pthread_mutex_unlock(&L.lock);
	pthread_join(L.tid, NULL);
	/* What the thread left: a result nobody took, the last reaps. */
	store_set_reaper(NULL);
	if (L.ready) {
		r = L.res;
		if (r.config_ok)
			config_free(&r.cfg);
		store_free(r.snap);
		L.ready = 0;
	}
	reap_all(L.reap);
	L.reap = NULL;
	close(L.efd);
	L.efd = -1;
	L.started = 0;
}
