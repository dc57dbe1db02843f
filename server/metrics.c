/*
 * metrics.c: counters per worker, and the answers of the [metrics]
 * listener.  See metrics.h.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "lib/config.h"
#include "lib/map.h"
#include "lib/policy.h"
#include "loop.h"
#include "metrics.h"
#include "receiver.h"
#include "store.h"
#include "tls/tls.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* The status codes counted one by one, in this order; "other" last. */
static const unsigned codes[METRICS_CODES - 1] = {
	200, 201, 400, 404, 405, 408, 413, 414, 415, 421, 429, 431, 500, 503,
	507, 505
};

/* A report's result, by the status of the answer to its POST. */
static const char *
report_result(unsigned code)
{
	switch (code) {
	case 201:
		return "stored";
	case 200:
		return "duplicate";
	case 400:
		return "malformed";
	case 413:
		return "too_large";
	case 415:
		return "unsupported_media_type";
	case 429:
		return "rate_limited";
	case 507:
		return "store_full";
	default:
		return "error";
	}
}

static struct metrics_worker	*mw;	/* [nmw], or NULL: off */
static size_t			 nmw;

/* The domain ids: names, kept for the life of the process. */
static struct {
	struct map	 byname;	/* name -> (void *)(uintptr_t)id */
	uint32_t	 next;
} ids = { .next = 1 };

/* What the main thread said: loads, listeners, the stop. */
static struct {
	int		 first_done;
	int		 last_ok;
	char		 why[256];		/* of the last failure */
	uint64_t	 reloads_ok, reloads_failed;
	time_t		 last_ok_at;
	size_t		 served, failed;
	int		 listeners_up;
	char		 listeners_why[128];
	int		 stopping;
	time_t		 started;
} st = { .listeners_up = 1 };

/* see metrics.h */
int
metrics_init(size_t n)
{
	if ((mw = aligned_alloc(64, n * sizeof(*mw))) == NULL)
		return -1;
	memset(mw, 0, n * sizeof(*mw));
	for (size_t i = 0; i < n; i++)
		pthread_mutex_init(&mw[i].lock, NULL);
	nmw = n;
	st.started = time(NULL);
	return 0;
}

/* see metrics.h */
struct metrics_worker *
metrics_worker(size_t i)
{
	return mw != NULL && i < nmw ? &mw[i] : NULL;
}

/* see metrics.h */
void
metrics_worker_grow(struct metrics_worker *w, uint32_t maxid)
{
	_Atomic uint64_t	*nf, *old;
	uint32_t		 n;

	if (w == NULL || maxid < w->nfetches)
		return;
	/* Room to spare: reloads that add a few domains grow nothing. */
	n = maxid + 1 + maxid / 4;
	if ((nf = calloc(n, sizeof(*nf))) == NULL)
		return;
	for (uint32_t i = 0; i < w->nfetches; i++)
		atomic_init(&nf[i], atomic_load_explicit(&w->fetches[i],
		    memory_order_relaxed));
	pthread_mutex_lock(&w->lock);
	old = w->fetches;
	w->fetches = nf;
	w->nfetches = n;
	pthread_mutex_unlock(&w->lock);
	free(old);
}

/* see metrics.h */
void
metrics_free(void)
{
	for (size_t i = 0; i < nmw; i++) {
		free(mw[i].fetches);
		pthread_mutex_destroy(&mw[i].lock);
	}
	free(mw);
	mw = NULL;
	nmw = 0;
	for (size_t i = 0; i < ids.byname.cap; i++)
		free((char *)(uintptr_t)ids.byname.slots[i].key);
	map_free(&ids.byname);
}

/* see metrics.h */
uint32_t
metrics_domain_id(const char *name)
{
	void	*v;
	char	*k;

	if ((v = map_get(&ids.byname, name, strlen(name))) != NULL)
		return (uint32_t)(uintptr_t)v;
	if ((k = strdup(name)) == NULL)
		return 0;
	if (map_put(&ids.byname, k, (void *)(uintptr_t)ids.next) == -1) {
		free(k);
		return 0;
	}
	return ids.next++;
}

/* The index of code in the counters: codes[], else the last ("other"). */
static size_t
code_index(unsigned code)
{
	for (size_t i = 0; i < METRICS_CODES - 1; i++)
		if (codes[i] == code)
			return i;
	return METRICS_CODES - 1;
}

/* see metrics.h */
void
metrics_request(struct metrics_worker *w, const struct http_site *s,
    uint32_t domain_id)
{
	if (w == NULL)
		return;
	metrics_inc(&w->requests[code_index(s->status)]);
	if (s->method[0] == 'P') {
		/* POST: a report, unless refused for its path (405). */
		if (s->status != 405)
			metrics_inc(&w->reports[code_index(s->status)]);
	} else if (s->status == 200 && domain_id < w->nfetches)
		metrics_inc(&w->fetches[domain_id]);
}

/* see metrics.h */
void
metrics_handshake(struct metrics_worker *w, int resumed)
{
	if (w != NULL)
		metrics_inc(resumed ? &w->hs_resumed : &w->hs_full);
}

/* see metrics.h */
void
metrics_handshake_failed(struct metrics_worker *w, enum metrics_hs_failure why)
{
	if (w != NULL)
		metrics_inc(&w->hs_failed[why]);
}

/* see metrics.h */
void
metrics_refused(struct metrics_worker *w)
{
	if (w != NULL)
		metrics_inc(&w->refused);
}

/* see metrics.h */
void
metrics_loaded(int ok, int first, const char *why, size_t served,
    size_t failed, time_t when)
{
	if (first)
		st.first_done = 1;
	else if (ok)
		st.reloads_ok++;
	else
		st.reloads_failed++;
	st.last_ok = ok;
	if (ok) {
		st.last_ok_at = when;
		st.served = served;
		st.failed = failed;
		st.why[0] = '\0';
	} else
		snprintf(st.why, sizeof(st.why), "%s", why);
}

/* see metrics.h */
void
metrics_listeners(int up, const char *why)
{
	st.listeners_up = up;
	snprintf(st.listeners_why, sizeof(st.listeners_why), "%s", why);
}

/* see metrics.h */
void
metrics_stopping(void)
{
	st.stopping = 1;
}

/* ---- the text ------------------------------------------------------ */

/* A growing text; oom once memory ran out (the answer is then 503). */
struct text {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

static void __attribute__((format(printf, 2, 3)))
add(struct text *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*np;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if ((np = realloc(t->p, t->cap * 2 + (size_t)n)) == NULL) {
			t->oom = 1;
			return;
		}
		t->p = np;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

/* "# HELP" and "# TYPE" of a family. */
static void
family(struct text *t, const char *name, const char *type, const char *help)
{
	add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A label value: domain names, ids and words only, from files an
 * administrator wrote; escaped all the same (backslash, quote, newline).
 */
static void
add_label(struct text *t, const char *v)
{
	char	 out[600];
	size_t	 n = 0;

	for (; *v != '\0' && n < sizeof(out) - 3; v++) {
		if (*v == '\\' || *v == '"')
			out[n++] = '\\';
		if (*v == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
			continue;
		}
		out[n++] = *v;
	}
	out[n] = '\0';
	add(t, "%s", out);
}

/* The start of a per-domain sample: NAME{domain="DOMAIN" (open). */
static void
domain_series(struct text *t, const char *name, const char *domain)
{
	add(t, "%s{domain=\"", name);
	add_label(t, domain);
	add(t, "\"");
}

/* The sum over the workers of the counter at offset off of each. */
static uint64_t
sum(size_t off)
{
	uint64_t total = 0;

	for (size_t i = 0; i < nmw; i++)
		total += atomic_load_explicit((_Atomic uint64_t *)(void *)
		    ((char *)&mw[i] + off), memory_order_relaxed);
	return total;
}

#define SUM(field)	sum(offsetof(struct metrics_worker, field))

/* A domain's fetches over the workers. */
static uint64_t
fetches(uint32_t id)
{
	uint64_t total = 0;

	for (size_t i = 0; i < nmw; i++) {
		pthread_mutex_lock(&mw[i].lock);
		if (id < mw[i].nfetches)
			total += atomic_load_explicit(&mw[i].fetches[id],
			    memory_order_relaxed);
		pthread_mutex_unlock(&mw[i].lock);
	}
	return total;
}

static void
session_line(void *arg, const char *domain, uint64_t ok, uint64_t failed)
{
	struct text *t = arg;

	add(t, "mta_stsd_tlsrpt_sessions_total{policy_domain=\"");
	add_label(t, domain);
	add(t, "\",result=\"successful\"} %llu\n", (unsigned long long)ok);
	add(t, "mta_stsd_tlsrpt_sessions_total{policy_domain=\"");
	add_label(t, domain);
	add(t, "\",result=\"failed\"} %llu\n", (unsigned long long)failed);
}

/* Is a domain served now: a certificate not expired since the load. */
static int
served_now(const struct domain *d, time_t now)
{
	return (d->ec != NULL && tls_cred_not_after(d->ec) >= now) ||
	    (d->rsa != NULL && tls_cred_not_after(d->rsa) >= now);
}

/* Every per-domain family, for the domains of snapshot s. */
static void
per_domain(struct text *t, const struct store *s, time_t now)
{
	size_t	 n = store_count(s);

	family(t, "mta_stsd_domain_served", "gauge", "1 for a domain with a "
	    "policy file that is served, 0 for one that is not (invalid "
	    "policy, no valid certificate; see the log).");
	for (size_t i = 0; i < n; i++) {
		const struct domain *d = store_at(s, i);

		domain_series(t, "mta_stsd_domain_served", d->name);
		add(t, "} %d\n", served_now(d, now));
	}
	for (size_t i = 0; i < store_failed_count(s); i++) {
		domain_series(t, "mta_stsd_domain_served",
		    store_failed_at(s, i));
		add(t, "} 0\n");
	}
	family(t, "mta_stsd_certificate_not_after_timestamp_seconds", "gauge",
	    "When the certificate served for the domain expires (Unix time), "
	    "by key type.");
	for (size_t i = 0; i < n; i++) {
		const struct domain *d = store_at(s, i);
		struct tls_cred *cv[2] = { d->ec, d->rsa };

		for (int j = 0; j < 2; j++) {
			if (cv[j] == NULL)
				continue;
			domain_series(t, "mta_stsd_certificate_not_after_"
			    "timestamp_seconds", d->name);
			add(t, ",key_type=\"%s\"} %lld\n", j == 0 ? "ecdsa" :
			    "rsa", (long long)tls_cred_not_after(cv[j]));
		}
	}
	family(t, "mta_stsd_policy_info", "gauge", "The policy served for the "
	    "domain: its mode, the id mta-stsctl issued for this very body "
	    "(empty when none) and max_age.");
	for (size_t i = 0; i < n; i++) {
		const struct domain *d = store_at(s, i);

		domain_series(t, "mta_stsd_policy_info", d->name);
		add(t, ",mode=\"%s\",id=\"", policy_mode_name(d->pol->p.mode));
		add_label(t, d->policy_id != NULL ? d->policy_id : "");
		add(t, "\",max_age=\"%lu\"} 1\n", d->pol->p.max_age);
	}
	family(t, "mta_stsd_policy_mode_since_timestamp_seconds", "gauge",
	    "Since when the domain's policy has had its mode, at the latest "
	    "(Unix time: the policy file's last change that set it).");
	for (size_t i = 0; i < n; i++) {
		const struct domain *d = store_at(s, i);

		domain_series(t, "mta_stsd_policy_mode_since_timestamp_seconds",
		    d->name);
		add(t, ",mode=\"%s\"} %lld\n", policy_mode_name(d->pol->p.mode),
		    (long long)d->mode_since);
	}
	family(t, "mta_stsd_policy_fetches_total", "counter", "Policies "
	    "served (200 to GET or HEAD of /.well-known/mta-sts.txt), by "
	    "domain, since the start.");
	for (size_t i = 0; i < n; i++) {
		const struct domain *d = store_at(s, i);

		domain_series(t, "mta_stsd_policy_fetches_total", d->name);
		add(t, "} %llu\n", (unsigned long long)(d->id != 0 ?
		    fetches(d->id) : 0));
	}
}

/* The whole exposition. */
static void
render(struct text *t)
{
	time_t		 now = time(NULL);
	uint64_t	 other;
	size_t		 ndom = S.snap != NULL ? store_count(S.snap) : 0;
	int		 per;

	family(t, "mta_stsd_build_info", "gauge", "The version of mta-stsd "
	    "running (always 1).");
	add(t, "mta_stsd_build_info{version=\"%s\"} 1\n", VERSION);
	family(t, "mta_stsd_start_time_seconds", "gauge", "When this process "
	    "started (Unix time).");
	add(t, "mta_stsd_start_time_seconds %lld\n", (long long)st.started);

	family(t, "mta_stsd_requests_total", "counter", "HTTPS requests "
	    "answered, by status code (\"other\" for codes not listed).");
	for (size_t i = 0; i < METRICS_CODES; i++) {
		uint64_t n = sum(offsetof(struct metrics_worker, requests) +
		    i * sizeof(mw[0].requests[0]));

		if (i < METRICS_CODES - 1)
			add(t, "mta_stsd_requests_total{code=\"%u\"} %llu\n",
			    codes[i], (unsigned long long)n);
		else
			other = n;
	}
	add(t, "mta_stsd_requests_total{code=\"other\"} %llu\n",
	    (unsigned long long)other);

	family(t, "mta_stsd_tls_handshakes_total", "counter", "TLS handshakes "
	    "completed, full or resumed (a session from the cache).");
	add(t, "mta_stsd_tls_handshakes_total{kind=\"full\"} %llu\n",
	    (unsigned long long)SUM(hs_full));
	add(t, "mta_stsd_tls_handshakes_total{kind=\"resumed\"} %llu\n",
	    (unsigned long long)SUM(hs_resumed));
	family(t, "mta_stsd_tls_handshake_failures_total", "counter", "TLS "
	    "handshakes that failed, by reason.");
	{
		static const char *const reasons[MHF_N] = {
			"no_server_name", "unknown_name", "protocol", "timeout"
		};

		for (int i = 0; i < MHF_N; i++)
			add(t, "mta_stsd_tls_handshake_failures_total"
			    "{reason=\"%s\"} %llu\n", reasons[i],
			    (unsigned long long)sum(offsetof(struct
			    metrics_worker, hs_failed) + (size_t)i *
			    sizeof(mw[0].hs_failed[0])));
	}
	family(t, "mta_stsd_connections_open", "gauge", "Client connections "
	    "open now, over all workers.");
	add(t, "mta_stsd_connections_open %u\n", atomic_load(&W.nconns));
	family(t, "mta_stsd_connections_refused_total", "counter",
	    "Connections closed at once because max_connections were open.");
	add(t, "mta_stsd_connections_refused_total %llu\n",
	    (unsigned long long)SUM(refused));

	family(t, "mta_stsd_reloads_total", "counter", "Reloads (SIGHUP or the "
	    "watch), by result: a failed one keeps serving the previous "
	    "state.");
	add(t, "mta_stsd_reloads_total{result=\"success\"} %llu\n",
	    (unsigned long long)st.reloads_ok);
	add(t, "mta_stsd_reloads_total{result=\"failure\"} %llu\n",
	    (unsigned long long)st.reloads_failed);
	family(t, "mta_stsd_last_reload_successful", "gauge", "1 when the last "
	    "load (the start, or a reload) succeeded, 0 when it failed.");
	add(t, "mta_stsd_last_reload_successful %d\n", st.last_ok);
	family(t, "mta_stsd_last_reload_success_timestamp_seconds", "gauge",
	    "When the last successful load ended (Unix time).");
	add(t, "mta_stsd_last_reload_success_timestamp_seconds %lld\n",
	    (long long)st.last_ok_at);
	family(t, "mta_stsd_domains", "gauge", "Domains with a policy file, "
	    "served or failed (invalid policy, no valid certificate), at the "
	    "last successful load.");
	add(t, "mta_stsd_domains{state=\"served\"} %zu\n", st.served);
	add(t, "mta_stsd_domains{state=\"failed\"} %zu\n", st.failed);

	family(t, "mta_stsd_tlsrpt_reports_total", "counter", "TLS-RPT reports "
	    "POSTed to tlsrpt_path, by result.");
	{
		static const unsigned rc[] = { 201, 200, 400, 413, 415, 429,
		    507 };
		uint64_t errors = 0;

		for (size_t i = 0; i < METRICS_CODES; i++) {
			uint64_t n = sum(offsetof(struct metrics_worker,
			    reports) + i * sizeof(mw[0].reports[0]));
			int listed = 0;

			for (size_t j = 0; j < sizeof(rc) / sizeof(rc[0]); j++)
				if (i < METRICS_CODES - 1 && codes[i] == rc[j])
					listed = 1;
			if (!listed)
				errors += n;
		}
		for (size_t j = 0; j < sizeof(rc) / sizeof(rc[0]); j++)
			add(t, "mta_stsd_tlsrpt_reports_total{result=\"%s\"} "
			    "%llu\n", report_result(rc[j]), (unsigned long long)
			    sum(offsetof(struct metrics_worker, reports) +
			    code_index(rc[j]) * sizeof(mw[0].reports[0])));
		add(t, "mta_stsd_tlsrpt_reports_total{result=\"error\"} "
		    "%llu\n", (unsigned long long)errors);
	}
	family(t, "mta_stsd_tlsrpt_sessions_total", "counter", "Sessions in "
	    "the TLS-RPT reports stored since the start, by policy domain (a "
	    "domain served) and result.");
	receiver_sessions(session_line, t);

	per = S.cfg->metrics_per_domain == CONFIG_YES ||
	    (S.cfg->metrics_per_domain == CONFIG_AUTO &&
	    ndom <= CONFIG_PER_DOMAIN_AUTO);
	if (per && S.snap != NULL)
		per_domain(t, S.snap, now);
}

/* The text of /healthz: "ok", or why not; its status. */
static unsigned
health(char *buf, size_t size)
{
	if (st.stopping)
		snprintf(buf, size, "stopping\n");
	else if (!st.listeners_up)
		snprintf(buf, size, "listeners: %s\n", st.listeners_why);
	else if (!st.last_ok)
		snprintf(buf, size, "last reload failed: %s\n", st.why);
	else {
		snprintf(buf, size, "ok\n");
		return 200;
	}
	return 503;
}

/* see metrics.h */
unsigned
metrics_answer(void *arg, const char *path, char **body, size_t *len,
    const char **type)
{
	struct text	 t;
	char		 buf[512];
	unsigned	 status;

	(void)arg;
	*type = "text/plain; charset=utf-8";
	if (strcmp(path, "/metrics") == 0) {
		memset(&t, 0, sizeof(t));
		if ((t.p = malloc(64 * 1024)) == NULL)
			return 503;
		t.cap = 64 * 1024;
		render(&t);
		if (t.oom) {
			free(t.p);
			*body = NULL;
			*len = 0;
			return 503;
		}
		*body = t.p;
		*len = t.len;
		*type = PROM_TYPE;
		return 200;
	}
	if (strcmp(path, "/healthz") == 0)
		status = health(buf, sizeof(buf));
	else if (strcmp(path, "/readyz") == 0) {
		status = st.first_done && !st.stopping ? 200 : 503;
		snprintf(buf, sizeof(buf), "%s\n", status == 200 ? "ready" :
		    st.stopping ? "stopping" : "loading");
	} else {
		status = 404;
		snprintf(buf, sizeof(buf), "not found\n");
	}
	*len = strlen(buf);
	*body = strdup(buf);
	if (*body == NULL)
		*len = 0;
	return status;
}
