/*
 * update.h: one TXT record of a name replaced, or removed, by a dynamic
 * update (RFC 2136) signed with TSIG (RFC 8945), sent to the zone's
 * primary through ldns.
 *
 * The records at the name that do not start with the tag ("v=STSv1",
 * "v=TLSRPTv1") are kept.  The update is one message whose prerequisite
 * is the record set as it was read just before (RFC 2136 section 2.4.2,
 * or 2.4.3 when there was none): a change made meanwhile makes the
 * server refuse it (NXRRSET), and it is read and sent again, three times
 * at most.  The same prerequisite makes a resent update harmless.
 */
#ifndef UPDATE_H
#define UPDATE_H

#include <stddef.h>

struct tsig_key;

struct update {
	const char		*server;	/* the primary, ADDRESS[:PORT] */
	const char		*zone;		/* the zone to update */
	const struct tsig_key	*key;
	const char		*name;		/* "_mta-sts.example.com" */
	const char		*tag;		/* "v=STSv1" */
	const char		*text;		/* the record; NULL: remove */
	unsigned		 ttl;		/* of a new record set */
	int			 timeout_ms;	/* each exchange */
};

/*
 * Sends the update u describes, unless the records are already as
 * wanted (*unchanged set, nothing sent).  Returns 0 once the server
 * answered NOERROR with a verified signature, else -1 with why in err:
 * the server's answer code by name and what it means ("NOTAUTH, TSIG
 * error BADSIG: ..."), or why no answer came.
 */
int	update_txt(const struct update *u, int *unchanged, char *err,
	    size_t errsz);

#endif /* UPDATE_H */
