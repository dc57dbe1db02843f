/*
 * receiver.c: the TLS-RPT receiver's part in mta-stsd: where reports go,
 * the per-client rate and the store's size cap, shared by the workers.
 * The HTTP side (http.c) reads the POST; lib/tlsrpt.c checks and stores
 * the report.  See receiver.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/map.h"
#include "lib/tlsrpt.h"
#include "loop.h"
#include "receiver.h"

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
	struct map		 sessions;	/* domain -> struct sessions */
} R = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

/* The sessions of the reports stored for one policy domain. */
struct sessions {
	uint64_t	 successful, failed;
	char		 domain[];
};

/* More policy domains than anyone serves: the table stops growing. */
#define SESSIONS_MAX	1000000

/* Adds a stored report's sessions; called with R.lock held. */
static void
sessions_add(const char *domain, const struct tlsrpt_meta *m)
{
	struct sessions	*s = map_get(&R.sessions, domain, strlen(domain));

	if (s == NULL) {
		if (R.sessions.n >= SESSIONS_MAX ||
		    (s = calloc(1, sizeof(*s) + strlen(domain) + 1)) == NULL)
			return;
		strcpy(s->domain, domain);
		if (map_put(&R.sessions, s->domain, s) == -1) {
			free(s);
			return;
		}
	}
	s->successful += m->successful;
	s->failed += m->failed;
}

/* The limits a reload may change; called with R.lock held or alone. */
static void
limits_set(const struct config *c)
{
	R.caps.max_size = R.max_size;
	R.caps.max_json = c->tlsrpt_max_json;
	R.caps.max_ratio = c->tlsrpt_max_ratio;
	R.per_hour = c->tlsrpt_rate;
	R.max = (int64_t)c->tlsrpt_dir_max * 1024 * 1024;
	R.used = -1;
}

/* see receiver.h */
int
receiver_open(const struct config *c)
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
	limits_set(c);
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
store_full(size_t add)
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
admit(void *arg, struct http_site *site, unsigned *retry_after)
{
	unsigned	 per_hour, status = 0;

	(void)arg;
	pthread_mutex_lock(&R.lock);
	per_hour = R.per_hour;
	*retry_after = tlsrpt_rate_take(&R.rate, site->client, S.ms, per_hour);
	if (*retry_after != 0)
		status = 429;
	else if (store_full(0))
		status = 507;
	pthread_mutex_unlock(&R.lock);
	if (status == 429)
		log_warn("tlsrpt: %s: %s: more than %u reports an hour; "
		    "refused", site->host, site->client, per_hour);
	return status;
}

static unsigned
take(void *arg, struct http_site *site, int gzip, const char *body,
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
		    site->client, status, clock_us_since(&t0), err);
		goto out;
	}
	pthread_mutex_lock(&R.lock);
	full = store_full(jl);
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
		if (strcmp(m.domain, domain) == 0)
			sessions_add(domain, &m);
		pthread_mutex_unlock(&R.lock);
	}
	snprintf(why, whysz, rc == 1 ? "stored" : "already stored");
	status = rc == 1 ? 201 : 200;
	log_info("tlsrpt: %s: %s: %s %s (%zu bytes of JSON, %ldus)",
	    site->host, site->client, why, m.name, jl, clock_us_since(&t0));
out:
	free(json);
	return status;
}

/* see receiver.h */
void
receiver_attach(struct http *h)
{
	struct http_receiver	 rx;

	memset(&rx, 0, sizeof(rx));
	if (R.fd != -1) {
		rx.path = R.path;
		rx.max_size = R.max_size;
		rx.admit = admit;
		rx.take = take;
	}
	http_set_receiver(h, &rx);
}

/* see receiver.h */
void
receiver_reload(const struct config *c)
{
	pthread_mutex_lock(&R.lock);
	limits_set(c);
	pthread_mutex_unlock(&R.lock);
}

/* see receiver.h */
void
receiver_close(void)
{
	if (R.fd != -1)
		close(R.fd);
	R.fd = -1;
	for (size_t i = 0; i < R.sessions.cap; i++)
		free(R.sessions.slots[i].value);
	map_free(&R.sessions);
}

/* see receiver.h */
void
receiver_sessions(void (*fn)(void *arg, const char *domain,
    uint64_t successful, uint64_t failed), void *arg)
{
	pthread_mutex_lock(&R.lock);
	for (size_t i = 0; i < R.sessions.cap; i++) {
		const struct sessions *s = R.sessions.slots[i].value;

		if (R.sessions.slots[i].key != NULL)
			fn(arg, s->domain, s->successful, s->failed);
	}
	pthread_mutex_unlock(&R.lock);
}
