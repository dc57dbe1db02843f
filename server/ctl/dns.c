/*
 * dns.c: see dns.h.  The C library's stub resolver asks; dns_parse()
 * reads what came back with ns_initparse() and checks every length.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ascii.h"
#include "ctl/dns.h"

#define DNS_MSG_MAX	65536	/* a response over TCP */

struct dns {
	struct __res_state	 st;
	char			 server[64];	/* for messages */
	int			 timeout_s;
};

/* see dns.h */
struct dns *
dns_open(const char *server, int timeout_s, char *err, size_t errsz)
{
	struct dns		*d;
	struct sockaddr_in	 sin;
	char			 addr[INET_ADDRSTRLEN];
	const char		*colon;
	unsigned long		 port = 53;
	size_t			 alen;
	char			*end;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "%s", strerror(errno));
		return NULL;
	}
	if (res_ninit(&d->st) == -1) {
		snprintf(err, errsz, "cannot initialise the resolver");
		free(d);
		return NULL;
	}
	d->timeout_s = timeout_s;
	d->st.retrans = timeout_s;
	d->st.retry = 1;
	d->st.options &= ~(RES_DNSRCH | RES_DEFNAMES);
	d->st.options |= RES_USE_EDNS0;
	snprintf(d->server, sizeof(d->server), "the system resolver");
	if (server == NULL)
		return d;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	colon = strchr(server, ':');
	alen = colon != NULL ? (size_t)(colon - server) : strlen(server);
	if (alen >= sizeof(addr))
		goto bad;
	memcpy(addr, server, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		goto bad;
	if (colon != NULL) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (colon[1] < '0' || colon[1] > '9' || *end != '\0' ||
		    errno != 0 || port == 0 || port > 65535)
			goto bad;
	}
	sin.sin_port = htons((unsigned short)port);
	d->st.nsaddr_list[0] = sin;
	d->st.nscount = 1;
	snprintf(d->server, sizeof(d->server), "%s:%lu", addr, port);
	return d;
bad:
	snprintf(err, errsz, "invalid resolver '%s': expected an IPv4 "
	    "address and optionally :PORT", server);
	dns_close(d);
	return NULL;
}

/* see dns.h */
void
dns_close(struct dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->st);
	free(d);
}

/* The strings of a TXT record, joined; len counts what did not fit. */
static int
txt_join(const unsigned char *p, size_t n, struct dns_rr *rr)
{
	size_t	 i = 0, k;

	rr->len = 0;
	rr->nul = 0;
	while (i < n) {
		k = p[i++];
		if (k > n - i)
			return -1;
		for (size_t j = 0; j < k; j++) {
			if (p[i + j] == '\0')
				rr->nul = 1;
			if (rr->len < DNS_DATA_MAX)
				rr->data[rr->len] = (char)p[i + j];
			rr->len++;
		}
		i += k;
	}
	rr->data[rr->len < DNS_DATA_MAX ? rr->len : DNS_DATA_MAX] = '\0';
	return 0;
}

/* see dns.h */
int
dns_parse(const unsigned char *msg, size_t len, int type,
    struct dns_answer *a)
{
	ns_msg			 h;
	ns_rr			 rr;
	const unsigned char	*rd;
	struct dns_rr		*o;
	char			 name[NS_MAXDNAME];
	size_t			 rdlen;
	int			 count;

	a->status = DNS_FAIL;
	a->n = a->more = 0;
	a->why[0] = '\0';
	if (len > DNS_MSG_MAX || ns_initparse(msg, (int)len, &h) == -1) {
		snprintf(a->why, sizeof(a->why), "malformed response");
		return -1;
	}
	count = ns_msg_count(h, ns_s_an);
	for (int i = 0; i < count; i++) {
		if (ns_parserr(&h, ns_s_an, i, &rr) == -1) {
			snprintf(a->why, sizeof(a->why), "malformed answer "
			    "record %d", i + 1);
			a->n = a->more = 0;
			return -1;
		}
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;	/* a CNAME on the way, or noise */
		if (a->n == DNS_RR_MAX) {
			a->more++;
			continue;
		}
		o = &a->rr[a->n];
		memset(o, 0, sizeof(*o));
		rd = ns_rr_rdata(rr);
		rdlen = ns_rr_rdlen(rr);
		switch (type) {
		case DNS_T_TXT:
			if (txt_join(rd, rdlen, o) == -1)
				goto bad;
			break;
		case DNS_T_A:
		case DNS_T_AAAA:
			if (rdlen != (type == DNS_T_A ? 4U : 16U) ||
			    inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, rd,
			    o->data, sizeof(o->data)) == NULL)
				goto bad;
			o->len = strlen(o->data);
			break;
		case DNS_T_MX:
			if (rdlen < 3)
				goto bad;
			o->pref = ns_get16(rd);
			if (dn_expand(ns_msg_base(h), ns_msg_end(h), rd + 2,
			    name, sizeof(name)) != (int)rdlen - 2)
				goto bad;
			ascii_lower_str(name);
			o->len = strlen(name);
			if (o->len > 0 && name[o->len - 1] == '.')
				name[--o->len] = '\0';
			if (o->len > DNS_DATA_MAX)
				goto bad;
			memcpy(o->data, name, o->len + 1);
			break;
		default:
			snprintf(a->why, sizeof(a->why), "type %d not supported",
			    type);
			return -1;
		}
		a->n++;
	}
	a->status = a->n > 0 || a->more > 0 ? DNS_OK : DNS_NODATA;
	return 0;
bad:
	snprintf(a->why, sizeof(a->why), "malformed record data in answer "
	    "record %zu", a->n + a->more + 1);
	a->n = a->more = 0;
	return -1;
}

/* see dns.h */
int
dns_query(struct dns *d, const char *name, int type, struct dns_answer *a)
{
	unsigned char	*msg;
	int		 n, err;

	a->status = DNS_FAIL;
	a->n = a->more = 0;
	if ((msg = malloc(DNS_MSG_MAX)) == NULL) {
		snprintf(a->why, sizeof(a->why), "%s", strerror(errno));
		return -1;
	}
	errno = 0;
	n = res_nquery(&d->st, name, ns_c_in, type, msg, DNS_MSG_MAX);
	err = errno;
	if (n >= 0)
		(void)dns_parse(msg, (size_t)n, type, a);
	else {
		switch (d->st.res_h_errno) {
		case HOST_NOT_FOUND:
			a->status = DNS_NXDOMAIN;
			break;
		case NO_DATA:
			a->status = DNS_NODATA;
			break;
		case TRY_AGAIN:
			if (err == ECONNREFUSED) {
				snprintf(a->why, sizeof(a->why), "%s refused "
				    "the connection", d->server);
				break;
			}
			snprintf(a->why, sizeof(a->why), err == ETIMEDOUT ?
			    "no answer from %s within %d s" : "%s answered "
			    "SERVFAIL (or did not answer within %d s)",
			    d->server, d->timeout_s);
			break;
		default:
			snprintf(a->why, sizeof(a->why), "%s refused the "
			    "question or answered garbage", d->server);
			break;
		}
	}
	free(msg);
	return a->status == DNS_OK ? 0 : -1;
}
