/*
 * mx.h: a mail domain's MX records as mta-stsctl reads them (check, init,
 * the pre-flight before enforce), and the mx lines of a policy that
 * match them.
 */
#ifndef MX_H
#define MX_H

#include <stddef.h>

#include "ctl/dns.h"
#include "lib/policy.h"

/* What Exchange Online's MX hosts end in, and the pattern for them. */
#define MX_EXO_SUFFIX	".mail.protection.outlook.com"
#define MX_EXO_PATTERN	"*.mail.protection.outlook.com"

struct mx_host {
	unsigned	 pref;
	char		 host[DNS_DATA_MAX + 1];	/* lower case, no dot */
};

struct mx_set {
	struct mx_host	 v[DNS_RR_MAX];
	size_t		 n;		/* sorted by preference, then name */
	size_t		 more;		/* further records not kept */
};

enum mx_status {
	MX_FOUND,	/* s->n records */
	MX_NONE,	/* the name exists, it has no MX record */
	MX_NXDOMAIN,	/* the name does not exist */
	MX_NULL,	/* one MX "." (RFC 7505): the domain takes no mail */
	MX_FAIL		/* no answer: why says so */
};

/*
 * Asks d for domain's MX records into *s, using *scratch for the answer.
 * Returns what it found; why is set for MX_FAIL.
 */
enum mx_status	 mx_lookup(struct dns *d, const char *domain,
		    struct mx_set *s, struct dns_answer *scratch, char *why,
		    size_t whysz);

/*
 * The mx patterns that match the hosts of s: each host exactly, or, when
 * every host is one label under MX_EXO_SUFFIX (Exchange Online: one
 * organisation per domain there), MX_EXO_PATTERN alone, as Microsoft
 * documents.  Writes up to max patterns into pat; returns how many, or
 * -1 with why when a host is not a host name (an address, say) or there
 * are more than max.
 */
int		 mx_patterns(const struct mx_set *s,
		    char pat[][POLICY_HOST_MAX + 1], size_t max, char *why,
		    size_t whysz);

#endif /* MX_H */
