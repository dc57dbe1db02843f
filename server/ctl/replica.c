/*
 * replica.c: see replica.h.
 */
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/replica.h"
#include "lib/addr.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/policy.h"
#include "tls/client.h"

#define FETCH_MS	3000	/* one HTTPS request */
#define POLL_MS		500	/* between rounds */

/* One replica, once: 1 it serves body, 0 something else, -1 unknown. */
static int
ask_one(const char *replica, const char *host, const struct tls_anchors *ta,
    const char *body, size_t len, struct resp *f, char *why, size_t whysz)
{
	struct addrinfo	 hints, *res;
	struct tls_peer	 peer;
	char		 name[POLICY_HOST_MAX + 1], port[8];
	unsigned	 p;
	int		 rc;

	if (addr_split(replica, name, sizeof(name), &p, 443) == -1) {
		snprintf(why, whysz, "not HOST[:PORT]");
		return -1;
	}
	snprintf(port, sizeof(port), "%u", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
		snprintf(why, whysz, "%s: %s", name, gai_strerror(rc));
		return -1;
	}
	rc = tls_fetch_verified(res->ai_addr, res->ai_addrlen, host, ta,
	    FETCH_MS, f, &peer, why, whysz);
	freeaddrinfo(res);
	if (rc == -1)
		return -1;
	if (f->status != 200) {
		snprintf(why, whysz, "status %u", f->status);
		return 0;
	}
	if (f->bodylen != len || memcmp(f->body, body, len) != 0) {
		snprintf(why, whysz, "serves another policy body");
		return 0;
	}
	snprintf(why, whysz, "serves this policy");
	return 1;
}

/* see replica.h */
int
replica_ask(const struct config *cfg, const char *host, const char *body,
    size_t len, struct replica_state *st, char *err, size_t errsz)
{
	struct tls_anchors	*ta;
	struct resp		*f;
	const char		*ca = cfg->dns_ca_file[0] != '\0' ?
				    cfg->dns_ca_file : TLS_CA_FILE_DEFAULT;
	int			 n = 0;

	if ((ta = tls_anchors_load(ca, err, errsz)) == NULL)
		return -1;
	if ((f = malloc(sizeof(*f))) == NULL) {
		snprintf(err, errsz, "out of memory");
		tls_anchors_free(ta);
		return -1;
	}
	for (size_t i = 0; i < cfg->nreplicas; i++) {
		st[i].replica = cfg->replicas[i];
		st[i].serves = ask_one(cfg->replicas[i], host, ta, body, len, f,
		    st[i].why, sizeof(st[i].why));
		if (st[i].serves == 1)
			n++;
	}
	free(f);
	tls_anchors_free(ta);
	return n;
}

/* see replica.h */
int
replica_wait(const struct config *cfg, const char *host, const char *body,
    size_t len, int wait_s)
{
	struct replica_state	 st[CONFIG_MAX_REPLICAS];
	struct timespec		 deadline, ts = { 0, POLL_MS * 1000000L };
	char			 err[600];
	int			 n, last = -1;

	if (cfg->nreplicas == 0)
		return 0;
	clock_deadline(&deadline, wait_s * 1000);
	for (;;) {
		if ((n = replica_ask(cfg, host, body, len, st, err,
		    sizeof(err))) == -1) {
			fprintf(stderr, "mta-stsctl: replicas: trust store %s\n",
			    err);
			return -1;
		}
		if ((size_t)n == cfg->nreplicas) {
			printf("%s: every replica serves it too (", host);
			for (size_t i = 0; i < cfg->nreplicas; i++)
				printf("%s%s", i > 0 ? ", " : "",
				    cfg->replicas[i]);
			printf(").\n");
			return 0;
		}
		if (n != last)
			printf("%s: %d of %zu replicas serve the new policy\n",
			    host, n, cfg->nreplicas);
		fflush(stdout);
		last = n;
		if (clock_left_ms(&deadline) == 0)
			break;
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < cfg->nreplicas; i++)
		if (st[i].serves != 1)
			fprintf(stderr, "mta-stsctl: %s: replica %s does not "
			    "serve the new policy after %d s: %s\n", host,
			    st[i].replica, wait_s, st[i].why);
	return -1;
}
