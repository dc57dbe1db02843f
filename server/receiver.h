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

struct config;
struct http;

/* Opens tlsrpt_dir, if set, at start.  Returns 0 or -1 after logging. */
int	receiver_open(const struct config *c);
/* Tells a worker's HTTP side where reports go (nothing when off). */
void	receiver_attach(struct http *h);
/* Takes the limits of a reloaded configuration. */
void	receiver_reload(const struct config *c);
void	receiver_close(void);

#endif /* RECEIVER_H */
