/*
 * cert.h: a domain's certificate, obtained with the [acme] client
 * (acme.h) and installed into cert_dir, for the commands cert and init.
 *
 * What is installed: cert_dir/mta-sts.DOMAIN/, a directory holding
 * fullchain.pem (the chain, leaf first, mode 0644) and privkey.pem (mode
 * 0640), owned by root and the group of mta-stsd's user, made whole under
 * a hidden name (which neither mta-stsd's scan nor its watch reads) and
 * then exchanged with the previous one in a single rename: the server
 * sees the old pair or the new pair, never one file of each.
 */
#ifndef CERT_H
#define CERT_H

#include <sys/types.h>

#include <limits.h>
#include <time.h>

struct local;

/* What cert_obtain() installed. */
struct cert_done {
	time_t	 not_after;
	char	 issuer[80];		/* the leaf's issuer, its common name */
	char	 kind[24];		/* "ECDSA P-256" */
	char	 dir[PATH_MAX];		/* cert_dir/mta-sts.DOMAIN */
	int	 created;		/* there was none before */
};

/*
 * Obtains a new certificate for c->host with the [acme] client (the
 * caller checked that c->domain has a policy, or is the one init
 * creates, and that the server pid runs: its [acme] listener answers the
 * challenge) and installs it.  With confirm, then waits until the server
 * presents it, byte for byte, over HTTPS (its certificate watch; a SIGHUP
 * when watch_certs is off, or when the watch has not acted in time), and
 * puts the previous certificate back if it never does.  Returns 0 with
 * *d filled in, or -1 with why (whysz bytes) and nothing changed in
 * cert_dir.
 */
int	cert_obtain(struct local *c, pid_t pid, int confirm,
	    struct cert_done *d, char *why, size_t whysz);

/*
 * Is a certificate that expires at not_after due for renewal at now, with
 * renew_days: does it expire within that many days?  *renew_in (may be
 * NULL) gets the whole days until it is due, 0 when it is.
 */
int	cert_due(time_t not_after, time_t now, unsigned renew_days,
	    long *renew_in);

/*
 * Removes cert_dir/mta-sts.DOMAIN as cert_obtain() made it, when init
 * fails after it.  0, or -1 after saying why.
 */
int	cert_remove(struct local *c);

#endif /* CERT_H */
