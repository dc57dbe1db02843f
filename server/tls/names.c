/*
 * names.c: the name index of a certificate scan, and the choice of the
 * credentials that serve a host name.  See tls.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>

#include "lib/map.h"
#include "tls/internal.h"
#include "tls/tls.h"

/* Credentials sharing one name. */
struct namelist {
	size_t			 n;
	struct tls_cred		*v[];
};

/*
 * The name index's lists, in blocks of their own (larger than malloc's
 * mmap threshold): ten thousand small lists made at every reload would
 * pin heap pages among the reload's freed temporaries.  A list that grows
 * is made anew in the block; the old one stays until the scan is freed.
 */
#define NLBLOCK		(64 * 1024)

struct nlblock {
	struct nlblock		*next;
	size_t			 used;
	max_align_t		 v[];
};

/* Room for size bytes, aligned, until cs is freed; NULL on ENOMEM. */
static void *
nl_alloc(struct tls_certs *cs, size_t size)
{
	struct nlblock	*b = cs->nlblocks;
	size_t		 a = sizeof(max_align_t);
	size_t		 cap = NLBLOCK - sizeof(*b);
	void		*p;

	size = (size + a - 1) / a * a;
	if (size > cap)
		return NULL;
	if (b == NULL || cap - b->used < size) {
		if ((b = malloc(NLBLOCK)) == NULL)
			return NULL;
		b->used = 0;
		b->next = cs->nlblocks;
		cs->nlblocks = b;
	}
	p = (char *)b->v + b->used;
	b->used += size;
	return p;
}

/* see internal.h */
int
names_add(struct tls_certs *cs, struct tls_cred *c, const char *name)
{
	struct namelist	*nl = map_get(&cs->names, name, strlen(name)), *nn;
	size_t		 n = nl ? nl->n : 0;

	for (size_t i = 0; i < n; i++)
		if (nl->v[i] == c)
			return 0;
	if ((nn = nl_alloc(cs, sizeof(*nn) + (n + 1) * sizeof(nn->v[0]))) ==
	    NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		nn->v[i] = nl->v[i];
	nn->n = n + 1;
	nn->v[n] = c;
	return map_put(&cs->names, name, nn);
}

/* see internal.h */
void
names_free(struct tls_certs *cs)
{
	map_free(&cs->names);
	while (cs->nlblocks != NULL) {
		struct nlblock *b = cs->nlblocks;

		cs->nlblocks = b->next;
		free(b);
	}
}

static void
consider(const struct namelist *nl, time_t now, struct tls_cred **ec,
    struct tls_cred **rsa, const struct tls_cred **expired,
    const struct tls_cred **early)
{
	for (size_t i = 0; nl != NULL && i < nl->n; i++) {
		struct tls_cred *c = nl->v[i], **best;

		if (now > c->not_after) {
			if (*expired == NULL ||
			    c->not_after > (*expired)->not_after)
				*expired = c;
			continue;
		}
		if (now < c->not_before) {
			*early = c;
			continue;
		}
		best = c->type == BR_KEYTYPE_EC ? ec : rsa;
		/*
		 * The one that expires last; of the same certificate, the
		 * longest chain (certbot's fullchain.pem, not its cert.pem:
		 * clients need the intermediate).
		 */
		if (*best == NULL || c->not_after > (*best)->not_after ||
		    (c->not_after == (*best)->not_after &&
		    c->nchain > (*best)->nchain))
			*best = c;
	}
}

/* see tls.h */
void
tls_certs_find(const struct tls_certs *cs, const char *host, time_t now,
    struct tls_cred **ec, struct tls_cred **rsa, char *why, size_t whysz)
{
	const struct tls_cred	*expired = NULL, *early = NULL;
	const char		*dot = strchr(host, '.');
	char			 wild[260];
	struct tm		 tm;
	char			 date[32];

	*ec = *rsa = NULL;
	consider(map_get(&cs->names, host, strlen(host)), now, ec, rsa,
	    &expired, &early);
	if (dot != NULL && (size_t)snprintf(wild, sizeof(wild), "*%s", dot) <
	    sizeof(wild))
		consider(map_get(&cs->names, wild, strlen(wild)), now, ec, rsa,
		    &expired, &early);
	if (*ec != NULL || *rsa != NULL || why == NULL)
		return;
	if (expired != NULL) {
		gmtime_r(&expired->not_after, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
		snprintf(why, whysz, "certificate %s expired on %s",
		    expired->path, date);
	} else if (early != NULL) {
		gmtime_r(&early->not_before, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%SZ", &tm);
		snprintf(why, whysz, "certificate %s is not valid before %s",
		    early->path, date);
	} else
		snprintf(why, whysz, "no certificate with a key names %s", host);
}
