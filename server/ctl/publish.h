/*
 * publish.h: a domain's TXT records published by mta-stsctl itself,
 * through [dns] update (an RFC 2136 update to the primary, or the hook),
 * then proved at every authoritative server of the zone (auth.h).
 *
 * These are steps 3 to 5 of a change (mta-stsctl(8), PUBLISHING): the
 * callers have made sure the policy the id stands for is served, here
 * and by every replica (RFC 8461 section 8: the policy first, the id
 * second).  Each function prints its progress on stdout and, when it
 * fails, what failed on stderr; the caller says what is left to do.
 */
#ifndef PUBLISH_H
#define PUBLISH_H

#include "ctl/local.h"

/*
 * Whether this run publishes: flag is 1 for --publish, 0 for
 * --no-publish, -1 for neither ([dns] publish decides).  Returns 1 or 0,
 * or -1 after saying that --publish needs [dns] update.
 */
int	publish_wanted(const struct local *c, int flag);

/*
 * Checks that the policy the recorded id stands for is what this server
 * serves (the local policy unchanged since the id, the server asked over
 * HTTPS) and every replica too (waiting for them up to [dns] wait).
 * Returns 0, or -1 after saying why not.
 */
int	publish_served(struct local *c);

/*
 * Publishes _mta-sts.DOMAIN "v=STSv1; id=ID;" for c's domain, mode being
 * the mode of the policy id stands for, and records id as published (the
 * caller holds the lock).  Returns 0 after printing "published: ...", or
 * -1.
 */
int	publish_sts(struct local *c, const char *id, const char *mode);

/*
 * Publishes _smtp._tls.DOMAIN with text, the TLS-RPT record (mode: of
 * the domain's policy, for the hook).  0, or -1 after printing the
 * record to publish by hand.
 */
int	publish_tlsrpt(struct local *c, const char *text, const char *mode);

/*
 * Tells what to do after a failed publish_sts() of id: the policy stays
 * served, the record below is to be published by hand or with
 * 'mta-stsctl publish' once fixed.
 */
void	publish_by_hand(const struct local *c, const char *id);

#endif /* PUBLISH_H */
