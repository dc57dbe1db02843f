/*
 * mx.c: a mail domain's MX records.  See mx.h.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dns.h"
#include "ctl/mx.h"
#include "lib/policy.h"

static int
mx_cmp(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcmp(x->host, y->host);
}

/* see mx.h */
enum mx_status
mx_lookup(struct dns *d, const char *domain, struct mx_set *s,
    struct dns_answer *a, char *why, size_t whysz)
{
	memset(s, 0, sizeof(*s));
	if (dns_query(d, domain, DNS_T_MX, a) == -1) {
		if (a->status == DNS_NODATA)
			return MX_NONE;
		if (a->status == DNS_NXDOMAIN)
			return MX_NXDOMAIN;
		snprintf(why, whysz, "%s", a->why);
		return MX_FAIL;
	}
	for (size_t i = 0; i < a->n; i++) {
		s->v[i].pref = a->rr[i].pref;
		memcpy(s->v[i].host, a->rr[i].data, a->rr[i].len + 1);
	}
	s->n = a->n;
	s->more = a->more;
	qsort(s->v, s->n, sizeof(s->v[0]), mx_cmp);
	/* RFC 7505: a single MX whose exchange is the root. */
	if (s->n == 1 && s->more == 0 && s->v[0].host[0] == '\0')
		return MX_NULL;
	return MX_FOUND;
}

/* see mx.h */
int
mx_patterns(const struct mx_set *s, char pat[][POLICY_HOST_MAX + 1],
    size_t max, char *why, size_t whysz)
{
	unsigned char	 buf[16];
	const char	*h, *rule;
	size_t		 n = 0, exo = 0;

	if (s->more > 0) {
		snprintf(why, whysz, "more than %d MX records: not all could be "
		    "read", DNS_RR_MAX);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++) {
		h = s->v[i].host;
		if (inet_pton(AF_INET, h, buf) == 1 ||
		    inet_pton(AF_INET6, h, buf) == 1) {
			snprintf(why, whysz, "MX %u %s is an address, not a host "
			    "name: senders look it up as a name, and no policy "
			    "can match it", s->v[i].pref, h);
			return -1;
		}
		if ((rule = policy_check_host(h, strlen(h), 0)) != NULL) {
			snprintf(why, whysz, "MX %u '%s' is not a host name: %s",
			    s->v[i].pref, h[0] != '\0' ? h : ".", rule);
			return -1;
		}
		if (policy_mx_match(MX_EXO_PATTERN, h))
			exo++;
	}
	if (s->n > 0 && exo == s->n) {
		if (max < 1)
			goto many;
		memcpy(pat[0], MX_EXO_PATTERN, sizeof(MX_EXO_PATTERN));
		return 1;
	}
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < n; j++)
			if (strcmp(pat[j], s->v[i].host) == 0)
				goto next;
		if (n == max)
			goto many;
		/* A host name: policy_check_host() bounds its length. */
		memcpy(pat[n++], s->v[i].host, strlen(s->v[i].host) + 1);
	next:	;
	}
	return (int)n;
many:
	snprintf(why, whysz, "more than %zu MX hosts", max);
	return -1;
}
