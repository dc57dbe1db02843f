/*
 * summary.h: the TLS-RPT store read and summed (mta-stsctl reports), and
 * what the sums mean for each domain's life cycle: per domain and day the
 * sessions, failures and failure rate, failure types, failing MX hosts
 * and sending addresses, the reporting organisations, the policy the
 * senders saw (its id and mode, from policy-string, against the id
 * record) and the one in force; hints ("ready to enforce",
 * "certificate-expired on MX since DAY", "senders still report policy id
 * X"); alerts for a timer (failure rate, no reports).
 *
 * Everything is built as jansson values, so that the text, the JSON and
 * the HTML page (html.h) show the same thing.
 */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <jansson.h>

struct config;

/*
 * Reads the reports of tlsrpt_dir (top, named topname), of one domain or
 * of all, tolerantly (tlsrpt_read); a file that is no report is named on
 * stderr and *bad set.  Returns the sums (caller json_decref()s):
 *   { DOMAIN: { "days": { DAY (since on): { ORGANISATION: {
 *       "reports": N, "successful": N, "failed": N,
 *       "failures": { RESULT-TYPE: { "sessions": N,
 *         "mx": { HOST: N }, "ips": { IP: N } } },
 *       "seen": { KEY: { "mode": S, "sha256": S, "sessions": N } },
 *       "notes": { NOTE: REPORTS } } } } } }
 * "seen" is the policy the senders applied: the SHA-256 of the canonical
 * body their policy-string gives, and its mode.
 */
json_t		*summary_read(int top, const char *topname, const char *domain,
		    size_t max, const char *since, int *bad);

/* The keys of object o, sorted; NULL-terminated, caller frees. */
const char	**summary_keys(json_t *o);
/* The same keys as a JSON array of strings. */
json_t		*summary_key_array(json_t *o);
/* A member's whole number, or 0; a member's string, or NULL. */
json_int_t	 summary_count(json_t *o, const char *key);
const char	*summary_str(json_t *o, const char *key);

struct summary_opts {
	const char	*today;		/* YYYY-MM-DD, judged as of */
	const char	*since;		/* days shown from, or NULL */
	double		 fail_rate;	/* percent; < 0: no check */
	const char	*rate_since;	/* that check's window, from */
	long		 stale;		/* days; < 0: no check */
};

/*
 * The decisions for every domain of sums (and, without domain, every
 * domain with a policy in c's policy_dir; with it, that one only):
 *   { "today": DAY, "since": DAY|null, "domains": [ { "domain": S,
 *     "policy": { "mode": S, "id": S|null, "issued": DAY|null }|null,
 *     "first": DAY|null, "last": DAY|null (of every report up to today),
 *     "reports": N,
 *     "organizations": [S], "successful": N, "failed": N,
 *     "failure-rate": PERCENT|null,
 *     "days": [ { "date": DAY, "reports": N, "successful": N,
 *       "failed": N, "failure-rate": PERCENT|null, "organizations": [S],
 *       "failures": [ { "result-type": S, "sessions": N } ],
 *       "mx-hosts": [S], "sending-ips": [S],
 *       "policies": [ { "mode": S|null, "id": S|null,
 *         "current": BOOL|null, "changes-ago": N|null,
 *         "organizations": [S], "sessions": N } ],
 *       "in-force": { "mode": S|null, "id": S }|null } ],
 *     "notes": [ { "note": S, "reports": N } ], "hints": [S],
 *     "alerts": [S] } ],
 *   "alerts": N }
 * A policy id is found only through the id record (policy_dir/.ids).
 * Days after today are left out: the summary is as of that day.
 */
json_t		*summary_decide(json_t *sums, const struct config *c,
		    const char *domain, const struct summary_opts *o);
/*
 * (Each domain also has, over the days shown: "by-organization": [ {
 * "organization": S, "reports": N, "successful": N, "failed": N } ],
 * "failing-mx-hosts": [ { "mx-host": S, "sessions": N, "types": [S] } ]
 * and "failing-sending-ips": [ { "sending-ip": S, ... } ].)
 */

/* Prints the decisions as text, or as one JSON object. */
void		 summary_print(json_t *s, int as_json);

#endif /* SUMMARY_H */
