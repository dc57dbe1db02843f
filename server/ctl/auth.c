/*
 * auth.c: see auth.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/auth.h"
#include "ctl/dns.h"
#include "lib/clock.h"

#define QUERY_MS	2000	/* one question */

/* By name, then address: the same order every time. */
static int
server_cmp(const void *x, const void *y)
{
	const struct auth_server	*a = x, *b = y;
	int				 c = strcmp(a->ns, b->ns);

	return c != 0 ? c : strcmp(a->addr, b->addr);
}
#define POLL_MS		250	/* between rounds */

/* name's IPv4 and IPv6 addresses, from src, else from the system's. */
static void
addresses(struct dns *src, struct dns **sys, int src_auth, const char *ns,
    struct auth *a, struct dns_answer *ans)
{
	static const int	 types[] = { DNS_T_A, DNS_T_AAAA };
	char			 err[200];
	int			 rc;

	for (size_t t = 0; t < 2; t++) {
		rc = dns_query(src, ns, types[t], ans);
		/*
		 * The primary answers with authority for a name in its zone
		 * (no address is an answer too); another name is the
		 * system resolver's.
		 */
		if (src_auth && (!ans->aa || ans->status == DNS_FAIL)) {
			if (*sys == NULL && (*sys = dns_open(NULL, 0, QUERY_MS,
			    err, sizeof(err))) == NULL)
				return;
			rc = dns_query(*sys, ns, types[t], ans);
		}
		for (size_t i = 0; rc == 0 && i < ans->n && a->n < AUTH_MAX;
		    i++) {
			memcpy(a->v[a->n].ns, ns, strlen(ns) + 1);
			snprintf(a->v[a->n].addr, sizeof(a->v[a->n].addr), "%s",
			    ans->rr[i].data);
			a->n++;
		}
	}
}

/* see auth.h */
int
auth_find(const struct config *cfg, const char *name, struct auth *a,
    char *err, size_t errsz)
{
	struct dns		*src = NULL, *sys = NULL;
	struct dns_answer	*ans = NULL;
	char			 ns[DNS_RR_MAX][POLICY_HOST_MAX + 1];
	size_t			 nns = 0;
	int			 src_auth, rc = -1;

	memset(a, 0, sizeof(*a));
	src_auth = cfg->dns_update == CONFIG_UPDATE_RFC2136;
	if ((ans = malloc(sizeof(*ans))) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	if ((src = dns_open(src_auth ? cfg->dns_server : NULL,
	    src_auth ? DNS_NORECURSE : 0, QUERY_MS, err, errsz)) == NULL)
		goto out;
	if (cfg->dns_zone[0] != '\0')
		snprintf(a->zone, sizeof(a->zone), "%s", cfg->dns_zone);
	else {
		dns_query(src, name, DNS_T_SOA, ans);
		if (ans->n == 0 || (src_auth && !ans->aa)) {
			snprintf(err, errsz, "cannot find the zone of %s: %s "
			    "%s", name, dns_name(src), ans->status == DNS_FAIL ?
			    ans->why : "answered no SOA record with authority "
			    "(is it the zone's primary? [dns] zone names the "
			    "zone)");
			goto out;
		}
		if (ans->rr[0].len >= sizeof(a->zone)) {
			snprintf(err, errsz, "the zone of %s has too long a "
			    "name", name);
			goto out;
		}
		memcpy(a->zone, ans->rr[0].data, ans->rr[0].len + 1);
	}
	if (dns_query(src, a->zone, DNS_T_NS, ans) == -1) {
		snprintf(err, errsz, "no NS records of zone %s from %s%s%s",
		    a->zone, dns_name(src), ans->why[0] != '\0' ? ": " : "",
		    ans->why);
		goto out;
	}
	for (size_t i = 0; i < ans->n; i++)
		if (ans->rr[i].len < sizeof(ns[0]))
			memcpy(ns[nns++], ans->rr[i].data, ans->rr[i].len + 1);
	for (size_t i = 0; i < nns; i++)
		addresses(src, &sys, src_auth, ns[i], a, ans);
	if (a->n == 0) {
		snprintf(err, errsz, "no address for the name servers of "
		    "zone %s", a->zone);
		goto out;
	}
	qsort(a->v, a->n, sizeof(a->v[0]), server_cmp);
	rc = 0;
out:
	free(ans);
	dns_close(src);
	dns_close(sys);
	return rc;
}

/* see auth.h */
int
auth_ask(const struct auth_server *s, const char *name, const char *tag,
    const char *text, int timeout_ms, char *out, size_t outsz)
{
	struct dns		*d;
	struct dns_answer	*ans;
	size_t			 n = 0, len = 0, taglen = strlen(tag);
	int			 rc = -1, same = 0;

	out[0] = '\0';
	if ((ans = malloc(sizeof(*ans))) == NULL) {
		snprintf(out, outsz, "out of memory");
		return -1;
	}
	if ((d = dns_open(s->addr, DNS_NORECURSE, timeout_ms, out, outsz)) ==
	    NULL)
		goto out;
	dns_query(d, name, DNS_T_TXT, ans);
	if (ans->status == DNS_FAIL) {
		snprintf(out, outsz, "%s", ans->why);
		goto out;
	}
	if (!ans->aa) {
		snprintf(out, outsz, "answers without authority: not a "
		    "server of the zone");
		goto out;
	}
	for (size_t i = 0; i < ans->n; i++) {
		if (ans->rr[i].len < taglen || strncmp(ans->rr[i].data, tag,
		    taglen) != 0)
			continue;
		n++;
		if (text != NULL && strcmp(ans->rr[i].data, text) == 0)
			same = 1;
		if (len < outsz)
			len += (size_t)snprintf(out + len, outsz - len, "%s%s",
			    len > 0 ? " | " : "", ans->rr[i].data);
	}
	rc = text == NULL ? n == 0 : n == 1 && same && ans->more == 0;
out:
	dns_close(d);
	free(ans);
	return rc;
}

/* see auth.h */
int
auth_wait(const struct auth *a, const char *name, const char *tag,
    const char *text, const char *what, int wait_s)
{
	struct timespec	 deadline, ts = { 0, POLL_MS * 1000000L };
	char		 said[AUTH_MAX][300];
	int		 agree[AUTH_MAX], rc[AUTH_MAX], left;
	size_t		 n = 0, last = (size_t)-1;

	memset(agree, 0, sizeof(agree));
	clock_deadline(&deadline, wait_s * 1000);
	for (;;) {
		for (size_t i = 0; i < a->n; i++) {
			if (agree[i])
				continue;
			left = clock_left_ms(&deadline);
			rc[i] = auth_ask(&a->v[i], name, tag, text,
			    left < QUERY_MS && left > 100 ? left : QUERY_MS,
			    said[i], sizeof(said[i]));
			if (rc[i] == 1) {
				agree[i] = 1;
				n++;
			}
		}
		if (n == a->n)
			break;
		if (n != last)
			printf("%s: %zu of %zu name servers answer %s\n", name,
			    n, a->n, what);
		fflush(stdout);
		last = n;
		if (clock_left_ms(&deadline) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	printf("%s: %zu of %zu name servers answer %s%s", name, n, a->n, what,
	    n == a->n ? ": " : "\n");
	for (size_t i = 0; n == a->n && i < a->n; i++)
		printf("%s%s (%s)", i > 0 ? ", " : "", a->v[i].ns,
		    a->v[i].addr);
	if (n == a->n) {
		printf("\n");
		return 0;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (agree[i])
			continue;
		fprintf(stderr, "mta-stsctl: %s: after %d s, name server %s "
		    "(%s) ", name, wait_s, a->v[i].ns, a->v[i].addr);
		if (rc[i] == -1)
			fprintf(stderr, "gives no answer: %s\n", said[i]);
		else if (said[i][0] == '\0')
			fprintf(stderr, "has no %s record\n", tag);
		else
			fprintf(stderr, "answers '%s'\n", said[i]);
	}
	return -1;
}
