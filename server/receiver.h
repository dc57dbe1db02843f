/*
 * receiver.h: the TLS-RPT receiver (RFC 8460 section 3) in mta-stsd.
 *
 * tlsrpt_dir, tlsrpt_path and tlsrpt_max_size are fixed at start; the
 * other limits follow reloads.  Each worker unpacks and checks its
 * reports on its own; the rate table and the count of bytes stored are
 * shared under a lock.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <stdint.h>

struct config;
struct http;

/* Opens tlsrpt_dir, if set, at start.  Returns 0 or -1 after logging. */
int	receiver_open(const struct config *c);
/* Tells a worker's HTTP side where reports go (nothing when off). */
void	receiver_attach(struct http *h);
/* Takes the limits of a reloaded configuration. */
void	receiver_reload(const struct config *c);
void	receiver_close(void);

/*
 * Calls fn for each policy domain with the sessions of the reports
 * stored for it since the start (successful and failed), under the
 * receiver's lock: fn must not call back.  Only a served domain's own
 * reports count (those whose policy-domain is the host they were posted
 * to), so that a client cannot make up names.
 */
void	receiver_sessions(void (*fn)(void *arg, const char *domain,
	    uint64_t successful, uint64_t failed), void *arg);

#endif /* RECEIVER_H */
