/*
 * ids.h: the record of policy ids issued for one domain.
 *
 * mta-stsctl keeps, per domain, the id it issued last, the SHA-256 of the
 * canonical body it was issued for, that body's max_age, and every id
 * issued before.  A new id is never one of those: a sender that cached a
 * policy under some id must see a different id for any other policy.
 *
 * The record is a small text file, "key: value" lines, in
 * POLICY_DIR/.ids/DOMAIN.id (mta-stsd skips names starting with '.').
 * Pure code: parsing and formatting only.
 */
#ifndef IDS_H
#define IDS_H

#include <stddef.h>
#include <time.h>

#include "lib/txt.h"

#define IDS_DIR		".ids"
#define IDS_HISTORY_MAX	256

/*
 * What an id was issued for, kept for the earlier ids too ("previous-body:
 * ID SHA256 MODE" lines), so that the body a TLS report says senders saw
 * names its id.  Records written before it have no such lines: "".
 */
struct idbody {
	char		 sha256[65];		/* of the canonical body, or "" */
	char		 mode[8];		/* "testing", ..., or "" */
};

struct idrec {
	char		 id[TXT_ID_MAX + 1];	/* "" when none issued yet */
	char		 sha256[65];		/* of the canonical body */
	unsigned long	 max_age;		/* of that body */
	char		 mode[8];		/* of that body, or "" */
	char		 issued[21];		/* YYYY-MM-DDTHH:MM:SSZ */
	char		 pending[65];		/* body being confirmed, or "" */
	char		 published[TXT_ID_MAX + 1];	/* see ids_published() */
	char		 published_at[21];	/* when, or "" */
	char		 cached_until[21];	/* see ids_issue(), or "" */
	char		 unpublished[21];	/* see ids_unpublished(), or "" */
	char		 history[IDS_HISTORY_MAX][TXT_ID_MAX + 1];
	struct idbody	 hbody[IDS_HISTORY_MAX];	/* of history[i] */
	size_t		 nhistory;		/* earlier ids, oldest first */
};

/*
 * Parses a record.  Returns 0, or -1 with "line N: why" in err: a damaged
 * record is reported, never silently replaced.
 */
int	 ids_parse(const char *src, size_t len, struct idrec *r, char *err,
	    size_t errsz);

/* The record as text (caller frees), or NULL on ENOMEM. */
char	*ids_format(const struct idrec *r, const char *domain);

/* Has id been issued for this domain, now or before? */
int	 ids_used(const struct idrec *r, const char *id);

/*
 * The id to issue at time now: "yyyymmddhh0000Z" for the hour, else the
 * same with the minutes, else with the seconds, else the first later
 * second not used.  Returns 0, or -1 if the clock is out of range.
 */
int	 ids_next(const struct idrec *r, time_t now, char out[16]);

/*
 * Records id as issued now for a body of that hash, max_age and mode
 * ("testing", "enforce" or "none"; NULL: unknown), and ends any pending
 * change; the id it replaces keeps its body's hash and mode.  "pending: SHA" in a record marks a body written
 * and being confirmed by mta-stsctl, not yet given an id: mta-stsd does
 * not warn about it; an interrupted run leaves it for status to report.
 */
void	 ids_issue(struct idrec *r, const char *id, const char *sha256,
	    unsigned long max_age, const char *mode, time_t now);

/*
 * Which id was issued for the body of that hash: 0 the current one, N the
 * one N changes before it; -1 when none (or the record does not know).
 * *id is set to it.
 */
int	 ids_find_body(const struct idrec *r, const char *sha256,
	    const char **id);
/*
 * ids_issue() also keeps cached_until: the time until which senders may
 * still apply a policy that an earlier id stood for.  A body replaced at
 * time now was fetched at now at the latest, so senders drop it by now +
 * its max_age, whatever the DNS says; the latest such time is kept.
 * Removing the TXT record before then would leave those senders with
 * that policy (RFC 8461 section 8.3 asks to wait it out).
 */

/*
 * Records that id was published at now: every authoritative server of
 * the zone answered it (mta-stsctl publish).  A later id is "not
 * published" until this is called for it.
 */
void	 ids_published(struct idrec *r, const char *id, time_t now);
/* Records that the _mta-sts record was removed at now (unpublish). */
void	 ids_unpublished(struct idrec *r, time_t now);
/* The time of a record's YYYY-MM-DDTHH:MM:SSZ field, or -1 for "". */
time_t	 ids_time(const char *stamp);

#endif /* IDS_H */
