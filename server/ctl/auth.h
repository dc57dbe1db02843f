/*
 * auth.h: the authoritative servers of the zone a record is in, found
 * and asked directly, without recursion, as the rest of the world will
 * ask them: a record is published once every one of them answers it.
 *
 * The zone is [dns] zone, or the owner of the SOA record answered for
 * the name; its servers are its NS records, each at every IPv4 and IPv6
 * address of its name.  With update = rfc2136 these are asked of the
 * primary ([dns] server, without recursion; a name server outside the
 * zone is looked up through the system resolver), otherwise of the
 * system resolver.
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#include "lib/addr.h"
#include "lib/config.h"
#include "lib/policy.h"

#define AUTH_MAX	32	/* server addresses asked */

struct auth_server {
	char	 ns[POLICY_HOST_MAX + 1];	/* the NS record's name */
	char	 addr[ADDR_TEXT_MAX];		/* one of its addresses */
};

struct auth {
	char			 zone[POLICY_HOST_MAX + 1];
	struct auth_server	 v[AUTH_MAX];
	size_t			 n;
};

/*
 * Finds name's zone and its authoritative servers, per cfg.  Returns 0,
 * or -1 with why in err.
 */
int	auth_find(const struct config *cfg, const char *name, struct auth *a,
	    char *err, size_t errsz);

/*
 * Asks s for name's TXT records, without recursion.  In out, the text of
 * the records that start with tag, " | " between them ("" for none), or
 * why there is no answer.  Returns 1 when the answer has authority and
 * its tagged records are exactly text (text NULL: there are none), 0
 * when it has others, -1 when no answer with authority came.
 */
int	auth_ask(const struct auth_server *s, const char *name,
	    const char *tag, const char *text, int timeout_ms, char *out,
	    size_t outsz);

/*
 * Asks every server of a until all agree (auth_ask() returns 1) or
 * wait_s seconds pass, printing "N of M name servers answer WHAT" as N
 * changes, and the servers once all agree.  Returns 0, or -1 after
 * naming on stderr each server that does not and what it answers.
 */
int	auth_wait(const struct auth *a, const char *name, const char *tag,
	    const char *text, const char *what, int wait_s);

#endif /* AUTH_H */
