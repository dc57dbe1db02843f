/*
 * dns.h: the DNS questions mta-stsctl asks (TXT, A, AAAA, MX, NS, SOA),
 * through ldns: of the system's resolvers (/etc/resolv.conf), or of one
 * given server, recursively or not (an authoritative server asked about
 * its own zone, RD clear).
 *
 * Answers are hostile bytes: dns_parse() is pure, bounds every record,
 * keeps at most DNS_RR_MAX records of the type asked (CNAMEs the
 * resolver followed are skipped) and never fails on a record it cannot
 * use, it counts it.
 *
 * dns.c and update.c are the only files that include ldns.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#define DNS_RR_MAX	16	/* records kept from one answer */
#define DNS_DATA_MAX	1024	/* bytes of one record's text */

/* The question's types, as numbered in the protocol. */
#define DNS_T_A		1
#define DNS_T_NS	2
#define DNS_T_SOA	6
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28

enum dns_status {
	DNS_OK,		/* records of the type asked in *a */
	DNS_NODATA,	/* the name exists, no records of that type */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_FAIL	/* timeout, SERVFAIL, refused, malformed: see why */
};

struct dns_rr {
	unsigned	 pref;			/* MX preference */
	char		 data[DNS_DATA_MAX + 1];/* see below */
	size_t		 len;			/* of data, without the NUL */
	int		 nul;			/* TXT: data holds a NUL byte */
};

/*
 * data: for TXT the record's strings concatenated (RFC 8461 section
 * 3.1), cut at DNS_DATA_MAX (then len says so: it is the full length);
 * for MX the exchange and for NS the name server, lower-cased, without
 * the trailing dot ("" for the null MX "."); for A and AAAA the address
 * in text form; for SOA the zone (the record's owner, from the answer or
 * else the authority section, as in a negative answer), lower-cased,
 * without the trailing dot.
 */
struct dns_answer {
	enum dns_status	 status;
	int		 aa;			/* authoritative answer */
	char		 rcode[12];		/* "NOERROR", "REFUSED", ... */
	struct dns_rr	 rr[DNS_RR_MAX];
	size_t		 n;			/* records in rr */
	size_t		 more;			/* further records not kept */
	char		 why[160];		/* for DNS_FAIL */
};

struct dns;

/* dns_open() flags. */
#define DNS_NORECURSE	0x1	/* RD clear: ask a server about its zone */

/*
 * A resolver: the system's (server NULL: the name servers of
 * /etc/resolv.conf, 127.0.0.1 when it names none) or the one at server,
 * "IPv4[:PORT]", "IPv6" or "[IPv6]:PORT" (port 53 by default), asked
 * once per question with a timeout of timeout_ms milliseconds, over UDP
 * with EDNS, then TCP when the answer is truncated.  Returns NULL with
 * why in err.
 */
struct dns	*dns_open(const char *server, int flags, int timeout_ms,
		    char *err, size_t errsz);
void		 dns_close(struct dns *d);
/* "127.0.0.1:53", "[::1]:53" or "the system resolver", for messages. */
const char	*dns_name(const struct dns *d);

/*
 * Asks for name's records of type (DNS_T_*) and fills *a.  Returns 0
 * when a->status is DNS_OK, else -1.
 */
int		 dns_query(struct dns *d, const char *name, int type,
		    struct dns_answer *a);

/*
 * Parses a DNS response message (len bytes at msg) for records of type,
 * into *a.  Returns 0 (a->status DNS_OK; DNS_NODATA when none of that
 * type; DNS_NXDOMAIN), or -1 for a malformed message or an error answer
 * (a->status DNS_FAIL, a->why says which).  Pure.
 */
int		 dns_parse(const unsigned char *msg, size_t len, int type,
		    struct dns_answer *a);

/* The ldns resolver behind d, for update.c. */
struct ldns_struct_resolver;
struct ldns_struct_resolver *dns_resolver(struct dns *d);

#endif /* DNS_H */
