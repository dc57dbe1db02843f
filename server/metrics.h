/*
 * metrics.h: what mta-stsd counts, and the plain-HTTP answers of its
 * [metrics] listener: GET /metrics (the Prometheus text format, version
 * 0.0.4), /healthz and /readyz.
 *
 * Counters live per worker, in a struct of its own a cache line apart
 * from the others', written only by that worker's thread (a relaxed load
 * and store: no lock, no locked instruction, no shared cache line on the
 * request path).  The main thread sums them when /metrics is scraped.
 * Without [metrics] nothing is counted: each hook is one branch.
 *
 * Per-domain series (metrics_per_domain) are kept by a domain id, stable
 * across reloads for as long as the process lives (metrics_domain_id()):
 * a worker's fetch counters are an array by id, which only the worker
 * grows (metrics_worker_grow(), when it takes a new snapshot), under a
 * lock of its own that only the scrape takes besides.
 */
#ifndef METRICS_H
#define METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct http_site;

/* Why a TLS handshake failed (mta_stsd_tls_handshake_failures_total). */
enum metrics_hs_failure {
	MHF_NO_SERVER_NAME,	/* no SNI, and no default_domain */
	MHF_UNKNOWN_NAME,	/* an SNI name not served */
	MHF_PROTOCOL,		/* anything else the TLS layer refused */
	MHF_TIMEOUT,		/* handshake_timeout, or the lifetime */
	MHF_N
};

/* The status codes counted one by one; others count as "other". */
#define METRICS_CODES	17

/* What one worker counts.  Only its thread writes it. */
struct metrics_worker {
	_Alignas(64) _Atomic uint64_t requests[METRICS_CODES];
	_Atomic uint64_t	 hs_full, hs_resumed;
	_Atomic uint64_t	 hs_failed[MHF_N];
	_Atomic uint64_t	 refused;
	_Atomic uint64_t	 reports[METRICS_CODES];	/* POST to tlsrpt_path */
	/* Policy fetches (200 to GET or HEAD) by domain id. */
	pthread_mutex_t		 lock;		/* for fetches and nfetches */
	_Atomic uint64_t	*fetches;
	uint32_t		 nfetches;
};

/*
 * Sets up counters for n workers (before they start), if c has a
 * [metrics] listener.  Returns 0, or -1 when out of memory.
 */
int	metrics_init(size_t n);
/* The counters of worker i (0 the main thread), or NULL when off. */
struct metrics_worker *metrics_worker(size_t i);
/*
 * In worker mw's thread, after it took a snapshot whose highest domain
 * id is maxid: makes room for the fetch counters of every id.
 */
void	metrics_worker_grow(struct metrics_worker *mw, uint32_t maxid);
void	metrics_free(void);

/*
 * The id of the domain name ("example.com"): the same for as long as the
 * process lives, from 1.  Called by the loader only (one load at a time),
 * never concurrently.  0 when out of memory (then not counted).
 */
uint32_t metrics_domain_id(const char *name);

/*
 * Hooks for the request path, in a worker's thread (mw its counters,
 * NULL when off).
 */
static inline void
metrics_inc(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + 1, memory_order_relaxed);
}

/*
 * A request answered (s->status): counted by status; a 200 to GET or
 * HEAD as a fetch of domain_id's policy; a POST not refused with 405 as
 * a TLS-RPT report, by its result.
 */
void	metrics_request(struct metrics_worker *mw, const struct http_site *s,
	    uint32_t domain_id);
void	metrics_handshake(struct metrics_worker *mw, int resumed);
void	metrics_handshake_failed(struct metrics_worker *mw,
	    enum metrics_hs_failure why);
void	metrics_refused(struct metrics_worker *mw);

/*
 * What the main thread tells, for the answers: a load's result (ok 0
 * for a failed reload, with why in words), whether every listener is
 * up, and the stop.
 */
void	metrics_loaded(int ok, int first, const char *why, size_t served,
	    size_t failed, time_t when);
void	metrics_listeners(int up, const char *why);
void	metrics_stopping(void);

/*
 * The [metrics] listener's answers (an http_answer_fn, in the main
 * thread): /metrics, /healthz, /readyz; 404 otherwise.
 */
unsigned metrics_answer(void *arg, const char *path, char **body,
	    size_t *len, const char **type);

#endif /* METRICS_H */
