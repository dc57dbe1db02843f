/*
 * store.h: the served state, an immutable snapshot.
 *
 * A snapshot holds every served domain: its policy, its prepared HTTP
 * response and its certificates.  A reload builds a new snapshot and
 * swaps it in; connections keep the snapshot they began with until they
 * end (a reference each).  Domains are isolated: one whose new policy or
 * certificate is broken keeps its previous good version, and the log says
 * why; one whose policy file is gone is dropped.
 */
#ifndef STORE_H
#define STORE_H

#include <sys/types.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/policy.h"

struct config;
struct http_body;
struct tls_cred;

struct domain {
	char			*name;		/* "example.com" */
	char			*host;		/* "mta-sts.example.com" */
	struct dompolicy	*pol;		/* shared across snapshots */
	struct tls_cred		*ec, *rsa;	/* references; either may be NULL */
	const char		*policy_id;	/* mta-stsctl's id, or NULL */
	time_t			 mode_since;	/* the mode's, at the latest */
	uint32_t		 id;		/* metrics_domain_id(), or 0 */
};

/* A loaded policy and its response, shared by snapshots while unchanged. */
struct dompolicy {
	atomic_int		 refs;
	struct policy		 p;
	struct http_body	*body;
	/*
	 * The file it came from: a reload takes it again while device,
	 * inode, size, modification and change times are the same, without
	 * reading the file, and logs its warnings again from warnings
	 * ("LINE: warning: RULE" lines, each ending in a newline; NULL when
	 * there were none).  Not reusable if a diagnostic was lost.
	 */
	int			 reusable;
	char			*warnings;
	dev_t			 dev;
	ino_t			 ino;
	off_t			 size;
	struct timespec		 mtim, ctim;
};

struct map;
struct store;

/* What a load is told besides the configuration. */
struct store_opts {
	/*
	 * Policy file names ("example.com.txt") still being written (see
	 * watch.h), or NULL: such a file is not read; its domain keeps the
	 * previous version, or is not served yet.
	 */
	const struct map	*writing;
	/* Give domains their metrics id: CONFIG_NO, _YES or _AUTO. */
	int			 ids;
	/*
	 * Threads the load may use: with 2 or more, cert_dir is scanned on
	 * a thread of its own while policy_dir is read.
	 */
	int			 threads;
};

/*
 * Loads policy_dir and cert_dir as configured.  With old, a domain whose
 * new policy or certificate fails keeps old's version.  Logs every
 * problem; counts served and failed domains in *served and *failed.
 * Returns NULL only when a directory cannot be read or memory runs out.
 * opts may be NULL.  One load at a time (a scan is kept for the next);
 * old may be served meanwhile by other threads.
 */
struct store	*store_load(const struct config *c, const struct store *old,
		    const struct store_opts *opts, time_t now, size_t *served,
		    size_t *failed);
void		 store_ref(struct store *s);
/*
 * Drops a reference; the last one frees the snapshot, or hands it to
 * the reaper when one is set (store_set_reaper()), so that freeing a
 * large one never holds an event loop up.
 */
void		 store_unref(struct store *s);
void		 store_set_reaper(void (*reap)(struct store *s));
/* Frees a snapshot no one holds any more (the reaper's end). */
void		 store_free(struct store *s);

/* The domain served as host ("mta-sts.DOMAIN", any case), or NULL. */
const struct domain *store_find(const struct store *s, const char *host);
/* The default domain (for clients without SNI), or NULL. */
const struct domain *store_default(const struct store *s);
size_t		 store_count(const struct store *s);
const struct domain *store_at(const struct store *s, size_t i);
/* The highest metrics id of a domain of s (0: none). */
uint32_t	 store_max_id(const struct store *s);
/* The domains with a policy file that failed to load ("example.com"). */
size_t		 store_failed_count(const struct store *s);
const char	*store_failed_at(const struct store *s, size_t i);
/* Logs certificates that expire within 14 days of now. */
void		 store_log_expiry(const struct store *s, time_t now);

#endif /* STORE_H */
