/*
 * dns.c: see dns.h.  ldns asks and parses; this file picks out what
 * mta-stsctl reads and bounds it.
 *
 * ldns resolvers keep state that would surprise here: a server that
 * failed once is marked unreachable for the life of the resolver (reset
 * before each question), the timeout is per try with retries per server
 * and whole-second sleeps between servers (one try, no sleep), and the
 * servers of resolv.conf are tried in random order (not here: in order,
 * as the C library does).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "lib/addr.h"
#include "lib/ascii.h"
#include "ctl/dns.h"

#define DNS_MSG_MAX	65535	/* a message over TCP */

struct dns {
	ldns_resolver	*r;
	int		 flags;
	int		 timeout_ms;
	char		 name[ADDR_TEXT_MAX];	/* for messages */
};

/* see dns.h */
struct dns *
dns_open(const char *server, int flags, int timeout_ms, char *err,
    size_t errsz)
{
	struct dns		*d;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	ldns_rdf		*addr;
	struct timeval		 tv;
	uint16_t		 port = 53;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	d->flags = flags;
	d->timeout_ms = timeout_ms;
	if (server == NULL) {
		snprintf(d->name, sizeof(d->name), "the system resolver");
		/* As the C library: no resolv.conf, or none in it: 127.0.0.1. */
		if (ldns_resolver_new_frm_file(&d->r, NULL) != LDNS_STATUS_OK)
			d->r = NULL;
		if (d->r == NULL && (d->r = ldns_resolver_new()) == NULL)
			goto nomem;
		if (ldns_resolver_nameserver_count(d->r) == 0) {
			addr = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A,
			    "127.0.0.1");
			if (addr == NULL || ldns_resolver_push_nameserver(d->r,
			    addr) != LDNS_STATUS_OK) {
				ldns_rdf_deep_free(addr);
				goto nomem;
			}
			ldns_rdf_deep_free(addr);
		}
	} else {
		if (addr_parse(server, 53, &ss, &sl) == -1) {
			snprintf(err, errsz, "invalid DNS server '%s': expected "
			    "an IPv4 or IPv6 address and optionally a port "
			    "(192.0.2.1:53, [2001:db8::1]:53)", server);
			free(d);
			return NULL;
		}
		addr_format((struct sockaddr *)&ss, 1, d->name,
		    sizeof(d->name));
		if ((d->r = ldns_resolver_new()) == NULL ||
		    (addr = ldns_sockaddr_storage2rdf(&ss, &port)) == NULL)
			goto nomem;
		if (ldns_resolver_push_nameserver(d->r, addr) !=
		    LDNS_STATUS_OK) {
			ldns_rdf_deep_free(addr);
			goto nomem;
		}
		ldns_rdf_deep_free(addr);
		ldns_resolver_set_port(d->r, port);
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000L;
	ldns_resolver_set_timeout(d->r, tv);
	ldns_resolver_set_retry(d->r, 1);
	ldns_resolver_set_retrans(d->r, 0);
	ldns_resolver_set_random(d->r, false);
	ldns_resolver_set_dnsrch(d->r, false);
	ldns_resolver_set_defnames(d->r, false);
	ldns_resolver_set_recursive(d->r, !(flags & DNS_NORECURSE));
	ldns_resolver_set_edns_udp_size(d->r, 1232);
	ldns_resolver_set_fallback(d->r, true);
	return d;
nomem:
	snprintf(err, errsz, "cannot set up a DNS resolver: out of memory");
	dns_close(d);
	return NULL;
}

/* see dns.h */
void
dns_close(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->r != NULL)
		ldns_resolver_deep_free(d->r);
	free(d);
}

/* see dns.h */
const char *
dns_name(const struct dns *d)
{
	return d->name;
}

/* see dns.h */
struct ldns_struct_resolver *
dns_resolver(struct dns *d)
{
	return d->r;
}

/* The strings of a TXT record, joined; len counts what did not fit. */
static int
txt_join(const ldns_rr *rr, struct dns_rr *o)
{
	const uint8_t	*p;
	size_t		 n, k;

	o->len = 0;
	o->nul = 0;
	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		p = ldns_rdf_data(ldns_rr_rdf(rr, i));
		n = ldns_rdf_size(ldns_rr_rdf(rr, i));
		if (n == 0 || (k = p[0]) > n - 1)
			return -1;
		for (size_t j = 1; j <= k; j++) {
			if (p[j] == '\0')
				o->nul = 1;
			if (o->len < DNS_DATA_MAX)
				o->data[o->len] = (char)p[j];
			o->len++;
		}
	}
	o->data[o->len < DNS_DATA_MAX ? o->len : DNS_DATA_MAX] = '\0';
	return 0;
}

/* A domain name as text: lower case, no trailing dot ("" for the root). */
static int
name_text(const ldns_rdf *rdf, struct dns_rr *o)
{
	char	*s;

	if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME ||
	    (s = ldns_rdf2str(rdf)) == NULL)
		return -1;
	o->len = strlen(s);
	if (o->len > 0 && s[o->len - 1] == '.')
		s[--o->len] = '\0';
	if (o->len > DNS_DATA_MAX) {
		free(s);
		return -1;
	}
	memcpy(o->data, s, o->len + 1);
	ascii_lower_str(o->data);
	free(s);
	return 0;
}

static int
addr_text(const ldns_rr *rr, int type, struct dns_rr *o)
{
	const ldns_rdf	*f = ldns_rr_rdf(rr, 0);
	size_t		 want = type == DNS_T_A ? 4 : 16;

	if (ldns_rr_rd_count(rr) != 1 || ldns_rdf_size(f) != want ||
	    inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, ldns_rdf_data(f),
	    o->data, sizeof(o->data)) == NULL)
		return -1;
	o->len = strlen(o->data);
	return 0;
}

/* One record of the type asked into *o; -1 for malformed data. */
static int
take(const ldns_rr *rr, int type, struct dns_rr *o)
{
	switch (type) {
	case DNS_T_TXT:
		return txt_join(rr, o);
	case DNS_T_A:
	case DNS_T_AAAA:
		return addr_text(rr, type, o);
	case DNS_T_MX:
		if (ldns_rr_rd_count(rr) != 2 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 0)) != 2)
			return -1;
		o->pref = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
		return name_text(ldns_rr_rdf(rr, 1), o);
	case DNS_T_NS:
		if (ldns_rr_rd_count(rr) != 1)
			return -1;
		return name_text(ldns_rr_rdf(rr, 0), o);
	case DNS_T_SOA:
		return name_text(ldns_rr_owner(rr), o);
	}
	return -1;
}

/* What a parsed message says about type: see dns_parse(). */
static int
extract(const ldns_pkt *p, int type, struct dns_answer *a)
{
	const ldns_lookup_table	*lt;
	ldns_rr_list		*sec[2];
	ldns_rr			*rr;
	ldns_pkt_rcode		 rc = ldns_pkt_get_rcode(p);

	a->aa = ldns_pkt_aa(p);
	lt = ldns_lookup_by_id(ldns_rcodes, (int)rc);
	if (lt != NULL)
		snprintf(a->rcode, sizeof(a->rcode), "%s", lt->name);
	else
		snprintf(a->rcode, sizeof(a->rcode), "RCODE%d", (int)rc);
	if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
		snprintf(a->why, sizeof(a->why), "answered %s", a->rcode);
		return -1;
	}
	/* A name that does not exist has no records, whatever comes. */
	sec[0] = rc == LDNS_RCODE_NXDOMAIN ? NULL : ldns_pkt_answer(p);
	/* A negative answer names the zone in its authority section. */
	sec[1] = type == DNS_T_SOA ? ldns_pkt_authority(p) : NULL;
	for (int s = 0; s < 2 && a->n == 0; s++)
		for (size_t i = 0; sec[s] != NULL &&
		    i < ldns_rr_list_rr_count(sec[s]); i++) {
			rr = ldns_rr_list_rr(sec[s], i);
			if ((int)ldns_rr_get_type(rr) != type ||
			    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
				continue;	/* a CNAME on the way, or noise */
			if (a->n == DNS_RR_MAX) {
				a->more++;
				continue;
			}
			memset(&a->rr[a->n], 0, sizeof(a->rr[a->n]));
			if (take(rr, type, &a->rr[a->n]) == -1) {
				snprintf(a->why, sizeof(a->why), "malformed "
				    "record data in answer record %zu",
				    a->n + a->more + 1);
				a->n = a->more = 0;
				return -1;
			}
			a->n++;
		}
	if (rc == LDNS_RCODE_NXDOMAIN)
		a->status = DNS_NXDOMAIN;
	else
		a->status = a->n > 0 || a->more > 0 ? DNS_OK : DNS_NODATA;
	return 0;
}

static void
reset(struct dns_answer *a)
{
	a->status = DNS_FAIL;
	a->aa = 0;
	a->rcode[0] = '\0';
	a->n = a->more = 0;
	a->why[0] = '\0';
}

/* see dns.h */
int
dns_parse(const unsigned char *msg, size_t len, int type,
    struct dns_answer *a)
{
	ldns_pkt	*p = NULL;
	int		 rc;

	reset(a);
	if (type != DNS_T_TXT && type != DNS_T_A && type != DNS_T_AAAA &&
	    type != DNS_T_MX && type != DNS_T_NS && type != DNS_T_SOA) {
		snprintf(a->why, sizeof(a->why), "type %d not supported",
		    type);
		return -1;
	}
	if (len > DNS_MSG_MAX || ldns_wire2pkt(&p, msg, len) !=
	    LDNS_STATUS_OK) {
		snprintf(a->why, sizeof(a->why), "malformed response");
		return -1;
	}
	rc = extract(p, type, a);
	ldns_pkt_free(p);
	return rc;
}

/* see dns.h */
int
dns_query(struct dns *d, const char *name, int type, struct dns_answer *a)
{
	ldns_pkt	*p = NULL;
	ldns_rdf	*q;
	ldns_status	 st;
	char		 why[sizeof(a->why)];

	reset(a);
	if ((q = ldns_dname_new_frm_str(name)) == NULL) {
		snprintf(a->why, sizeof(a->why), "'%.100s' is not a domain "
		    "name", name);
		return -1;
	}
	/* A server that failed before is tried again (see above). */
	for (size_t i = 0; i < ldns_resolver_nameserver_count(d->r); i++)
		ldns_resolver_set_nameserver_rtt(d->r, i, LDNS_RESOLV_RTT_MIN);
	st = ldns_resolver_send(&p, d->r, q, (ldns_rr_type)type,
	    LDNS_RR_CLASS_IN, d->flags & DNS_NORECURSE ? 0 : LDNS_RD);
	ldns_rdf_deep_free(q);
	if (st != LDNS_STATUS_OK || p == NULL) {
		if (st == LDNS_STATUS_NETWORK_ERR ||
		    st == LDNS_STATUS_RES_NO_NS)
			snprintf(a->why, sizeof(a->why), d->timeout_ms % 1000 ?
			    "no answer from %s within %d ms" : "no answer from "
			    "%s within %d s", d->name, d->timeout_ms % 1000 ?
			    d->timeout_ms : d->timeout_ms / 1000);
		else
			snprintf(a->why, sizeof(a->why), "%s: %s", d->name,
			    ldns_get_errorstr_by_id(st));
		ldns_pkt_free(p);
		return -1;
	}
	if (extract(p, type, a) == -1) {
		memcpy(why, a->why, sizeof(why));
		snprintf(a->why, sizeof(a->why), "%s %.90s", d->name, why);
	}
	ldns_pkt_free(p);
	return a->status == DNS_OK ? 0 : -1;
}
