/*
 * dns.h: the few DNS questions mta-stsctl check asks (TXT, A, AAAA, MX),
 * through the C library's resolver (res_nquery), optionally of one given
 * server and port.
 *
 * Answers are hostile bytes: dns_parse() is pure, bounds every record,
 * keeps at most DNS_RR_MAX records of the type asked (CNAMEs the
 * resolver followed are skipped) and never fails on a record it cannot
 * use, it counts it.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#define DNS_RR_MAX	16	/* records kept from one answer */
#define DNS_DATA_MAX	1024	/* bytes of one record's text */

/* The question's types, as numbered in the protocol. */
#define DNS_T_A		1
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
 * for MX the exchange, lower-cased, without the trailing dot ("" for
 * the null MX "."); for A and AAAA the address in text form.
 */
struct dns_answer {
	enum dns_status	 status;
	struct dns_rr	 rr[DNS_RR_MAX];
	size_t		 n;			/* records in rr */
	size_t		 more;			/* further records not kept */
	char		 why[160];		/* for DNS_FAIL */
};

struct dns;

/*
 * A resolver: the system's (server NULL) or the one at server,
 * "IPv4[:PORT]" (port 53 by default), asked once per question with a
 * timeout of timeout_s seconds.  Returns NULL with why in err.
 */
struct dns	*dns_open(const char *server, int timeout_s, char *err,
		    size_t errsz);
void		 dns_close(struct dns *d);

/*
 * Asks for name's records of type (DNS_T_*) and fills *a.  Returns 0
 * when a->status is DNS_OK, else -1.
 */
int		 dns_query(struct dns *d, const char *name, int type,
		    struct dns_answer *a);

/*
 * Parses a DNS response message (len bytes at msg) for records of type,
 * into *a.  Returns 0 (a->status DNS_OK, or DNS_NODATA when none of that
 * type), or -1 for a malformed message (a->why says where).  Pure.
 */
int		 dns_parse(const unsigned char *msg, size_t len, int type,
		    struct dns_answer *a);

#endif /* DNS_H */
