/*
 * replica.h: the other servers that serve the same policies ([dns]
 * replicas: a fleet behind one name), asked over HTTPS as a sender asks:
 * at the replica's address, with server name mta-sts.DOMAIN, the
 * certificate verified against [dns] ca_file (default the system's trust
 * store) and the name, the body compared with the canonical one.
 */
#ifndef REPLICA_H
#define REPLICA_H

#include <stddef.h>

#include "lib/config.h"

struct replica_state {
	const char	*replica;	/* as configured: HOST[:PORT] */
	int		 serves;	/* 1 the body, 0 another, -1 unknown */
	char		 why[300];	/* what it serves instead, or why not */
};

/*
 * Asks every replica of cfg once whether it serves body for host
 * ("mta-sts.DOMAIN"), into st (cfg->nreplicas entries).  Returns how
 * many do, or -1 when the trust store cannot be read (why in err).
 */
int	replica_ask(const struct config *cfg, const char *host,
	    const char *body, size_t len, struct replica_state *st,
	    char *err, size_t errsz);

/*
 * Asks until every replica serves body, or wait_s seconds pass,
 * printing how many do as that changes.  Returns 0, or -1 after naming
 * on stderr each replica that does not, and why.
 */
int	replica_wait(const struct config *cfg, const char *host,
	    const char *body, size_t len, int wait_s);

#endif /* REPLICA_H */
