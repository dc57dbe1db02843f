/*
 * update.c: see update.h.  ldns builds, signs and sends the message and
 * verifies the answer's signature; this file decides what the message
 * holds.
 *
 * Two resolvers talk to the primary: one without the key reads the
 * record set (a resolver with a key signs every question, and with a
 * wrong key even that read would fail), one with it sends the update.
 * ldns_send() is used rather than ldns_resolver_send_pkt(), which frees
 * an answer whose signature does not verify: a NOTAUTH with TSIG error
 * BADSIG comes unsigned, and its code must still be reported.  A
 * truncated answer makes the same signed bytes go again over TCP (the
 * resolver's own fallback would add EDNS after signing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "ctl/dns.h"
#include "ctl/update.h"
#include "lib/tsig.h"

#define TRIES		3	/* when the record set changed meanwhile */

/* The record's strings joined, for comparison with a tag or a text. */
static size_t
joined(const ldns_rr *rr, char *out, size_t outsz)
{
	const uint8_t	*p;
	size_t		 n = 0, k;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		p = ldns_rdf_data(ldns_rr_rdf(rr, i));
		if (ldns_rdf_size(ldns_rr_rdf(rr, i)) == 0)
			continue;
		k = p[0];
		if (k > ldns_rdf_size(ldns_rr_rdf(rr, i)) - 1)
			k = ldns_rdf_size(ldns_rr_rdf(rr, i)) - 1;
		for (size_t j = 0; j < k && n + 1 < outsz; j++)
			out[n++] = (char)p[1 + j];
	}
	out[n] = '\0';
	return n;
}

/* A TXT record of text, cut into strings of 255 bytes. */
static ldns_rr *
new_txt(const ldns_rdf *owner, uint32_t ttl, const char *text)
{
	ldns_rr		*rr;
	ldns_rdf	*f;
	uint8_t		 buf[256];
	size_t		 len = strlen(text), off = 0, k;

	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	ldns_rr_set_owner(rr, ldns_rdf_clone(owner));
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TXT);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	do {
		k = len - off > 255 ? 255 : len - off;
		buf[0] = (uint8_t)k;
		memcpy(buf + 1, text + off, k);
		if ((f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, k + 1,
		    buf)) == NULL || !ldns_rr_push_rdf(rr, f)) {
			ldns_rdf_deep_free(f);
			ldns_rr_free(rr);
			return NULL;
		}
		off += k;
	} while (off < len);
	return rr;
}

/* The name of an answer code, and what it means here. */
static void
explain(const ldns_pkt *ans, ldns_status st, const struct update *u,
    char *err, size_t errsz)
{
	const ldns_lookup_table	*lt;
	ldns_rr			*ts = ldns_pkt_tsig(ans);
	int			 rc = (int)ldns_pkt_get_rcode(ans);
	unsigned		 terr = 0;
	const char		*name = "?", *tname = NULL, *what = "";

	if ((lt = ldns_lookup_by_id(ldns_rcodes, rc)) != NULL)
		name = lt->name;
	if (ts != NULL && ldns_rr_rd_count(ts) > 5 &&
	    ldns_rdf_size(ldns_rr_rdf(ts, 5)) == 2)
		terr = ldns_rdf2native_int16(ldns_rr_rdf(ts, 5));
	switch (terr) {
	case 16:
		tname = "BADSIG";
		what = ": the server does not accept the signature (is the "
		    "secret in the key file the one the server has?)";
		break;
	case 17:
		tname = "BADKEY";
		what = ": the server does not know this key (its name and "
		    "algorithm must be those of the server's key statement)";
		break;
	case 18:
		tname = "BADTIME";
		what = ": this machine's clock and the server's differ by "
		    "more than 5 minutes";
		break;
	}
	if (tname == NULL && rc == LDNS_RCODE_REFUSED)
		what = ": the server does not let this key change this name "
		    "(see update-policy)";
	else if (tname == NULL && rc == LDNS_RCODE_NOTAUTH)
		what = ": the server is not the zone's primary, or does not "
		    "let this key change this name";
	else if (rc == LDNS_RCODE_NOTZONE)
		what = ": the name is not in the zone";
	else if (rc == LDNS_RCODE_NXRRSET || rc == LDNS_RCODE_YXRRSET)
		what = ": the records changed while the update was sent, "
		    "three times (does another program change them?)";
	else if (rc == LDNS_RCODE_NOERROR && st != LDNS_STATUS_OK)
		what = ", but the answer's signature does not verify: it is "
		    "not trusted";
	if (tname != NULL)
		snprintf(err, errsz, "%s answered %s, TSIG error %s%s",
		    u->server, name, tname, what);
	else
		snprintf(err, errsz, "%s answered %s%s", u->server, name, what);
}

/*
 * One read and one update.  Returns the answer code (>= 0), or -1 with
 * why in err.
 */
static int
attempt(struct dns *rd, struct dns *wr, const struct update *u,
    int *unchanged, char *err, size_t errsz)
{
	ldns_resolver	*r = dns_resolver(rd), *w = dns_resolver(wr);
	const ldns_lookup_table *lt;
	ldns_rdf	*owner = NULL, *zone = NULL;
	ldns_rr_list	*cur = NULL, *pre = NULL, *up = NULL;
	ldns_pkt	*p = NULL, *msg = NULL, *ans = NULL;
	ldns_rr		*rr, *x;
	ldns_status	 st;
	char		 text[4096];
	size_t		 tagged = 0, same = 0, taglen = strlen(u->tag);
	uint32_t	 ttl = u->ttl;
	int		 rc = -1, prc;

	*unchanged = 0;
	if ((owner = ldns_dname_new_frm_str(u->name)) == NULL ||
	    (zone = ldns_dname_new_frm_str(u->zone)) == NULL ||
	    (pre = ldns_rr_list_new()) == NULL ||
	    (up = ldns_rr_list_new()) == NULL) {
		snprintf(err, errsz, "out of memory, or a bad name");
		goto out;
	}
	/* The record set as the primary holds it, asked without the key. */
	for (size_t i = 0; i < ldns_resolver_nameserver_count(r); i++)
		ldns_resolver_set_nameserver_rtt(r, i, LDNS_RESOLV_RTT_MIN);
	st = ldns_resolver_send(&p, r, owner, LDNS_RR_TYPE_TXT,
	    LDNS_RR_CLASS_IN, 0);
	if (st != LDNS_STATUS_OK || p == NULL) {
		snprintf(err, errsz, "%s: no answer to the TXT question: %s",
		    u->server, ldns_get_errorstr_by_id(st));
		goto out;
	}
	prc = (int)ldns_pkt_get_rcode(p);
	if (!ldns_pkt_aa(p) || (prc != LDNS_RCODE_NOERROR &&
	    prc != LDNS_RCODE_NXDOMAIN)) {
		lt = ldns_lookup_by_id(ldns_rcodes, prc);
		snprintf(err, errsz, "%s is not authoritative for %s (it "
		    "answered %s%s): is it the zone's primary?", u->server,
		    u->name, lt != NULL ? lt->name : "?", ldns_pkt_aa(p) ? "" :
		    " without authority");
		goto out;
	}
	cur = ldns_pkt_rr_list_by_name_and_type(p, owner, LDNS_RR_TYPE_TXT,
	    LDNS_SECTION_ANSWER);
	if (cur == NULL && (cur = ldns_rr_list_new()) == NULL)
		goto nomem;

	for (size_t i = 0; i < ldns_rr_list_rr_count(cur); i++) {
		rr = ldns_rr_list_rr(cur, i);
		/* RFC 2136 2.4.2: the whole set as read, TTL 0. */
		if ((x = ldns_rr_clone(rr)) == NULL)
			goto nomem;
		ldns_rr_set_ttl(x, 0);
		ldns_rr_list_push_rr(pre, x);
		if (joined(rr, text, sizeof(text)) < taglen ||
		    strncmp(text, u->tag, taglen) != 0)
			continue;	/* another record: kept */
		tagged++;
		if (u->text != NULL && strcmp(text, u->text) == 0 &&
		    same == 0) {
			same++;		/* kept rather than deleted and added */
			continue;
		}
		/* RFC 2136 2.5.4: delete this record, class NONE, TTL 0. */
		if ((x = ldns_rr_clone(rr)) == NULL)
			goto nomem;
		ldns_rr_set_class(x, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(x, 0);
		ldns_rr_list_push_rr(up, x);
	}
	if ((u->text != NULL && tagged == 1 && same == 1) ||
	    (u->text == NULL && tagged == 0)) {
		*unchanged = 1;
		rc = LDNS_RCODE_NOERROR;
		goto out;
	}
	/* One TTL for the whole set: the others keep theirs. */
	if (ldns_rr_list_rr_count(cur) > tagged)
		ttl = ldns_rr_ttl(ldns_rr_list_rr(cur, 0));
	if (u->text != NULL && same == 0) {
		if ((x = new_txt(owner, ttl, u->text)) == NULL)
			goto nomem;
		ldns_rr_list_push_rr(up, x);	/* 2.5.1: add */
	}
	if (ldns_rr_list_rr_count(cur) == 0) {
		/* 2.4.3: the set does not exist, class NONE, no data. */
		if ((x = ldns_rr_new()) == NULL)
			goto nomem;
		ldns_rr_set_owner(x, ldns_rdf_clone(owner));
		ldns_rr_set_type(x, LDNS_RR_TYPE_TXT);
		ldns_rr_set_class(x, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(x, 0);
		ldns_rr_list_push_rr(pre, x);
	}

	/* Takes the zone, copies the lists; RD set and id 0 to undo. */
	if ((msg = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, pre, up,
	    NULL)) == NULL)
		goto nomem;
	zone = NULL;
	ldns_pkt_set_rd(msg, false);
	ldns_pkt_set_random_id(msg);	/* before signing: the MAC covers it */
	if ((st = ldns_update_pkt_tsig_add(msg, w)) != LDNS_STATUS_OK) {
		snprintf(err, errsz, "cannot sign the update: %s",
		    ldns_get_errorstr_by_id(st));
		goto out;
	}
	for (size_t i = 0; i < ldns_resolver_nameserver_count(w); i++)
		ldns_resolver_set_nameserver_rtt(w, i, LDNS_RESOLV_RTT_MIN);
	ldns_resolver_set_usevc(w, false);
	st = ldns_send(&ans, w, msg);
	if (ans != NULL && ldns_pkt_tc(ans)) {
		ldns_pkt_free(ans);
		ans = NULL;
		ldns_resolver_set_usevc(w, true);
		for (size_t i = 0; i < ldns_resolver_nameserver_count(w); i++)
			ldns_resolver_set_nameserver_rtt(w, i,
			    LDNS_RESOLV_RTT_MIN);
		st = ldns_send(&ans, w, msg);
	}
	if (ans == NULL) {
		snprintf(err, errsz, "%s: no answer to the update: %s",
		    u->server, st == LDNS_STATUS_NETWORK_ERR ? "timed out or "
		    "unreachable" : ldns_get_errorstr_by_id(st));
		goto out;
	}
	rc = (int)ldns_pkt_get_rcode(ans);
	if (rc != LDNS_RCODE_NOERROR || st != LDNS_STATUS_OK) {
		explain(ans, st, u, err, errsz);
		/* Only a verified NOERROR is a success. */
		if (rc == LDNS_RCODE_NOERROR)
			rc = -1;
	}
	goto out;
nomem:
	snprintf(err, errsz, "out of memory");
	rc = -1;
out:
	ldns_rdf_deep_free(owner);
	ldns_rdf_deep_free(zone);
	ldns_rr_list_deep_free(cur);
	ldns_rr_list_deep_free(pre);
	ldns_rr_list_deep_free(up);
	ldns_pkt_free(p);
	ldns_pkt_free(msg);
	ldns_pkt_free(ans);
	return rc;
}

/* see update.h */
int
update_txt(const struct update *u, int *unchanged, char *err, size_t errsz)
{
	struct dns	*rd = NULL, *wr = NULL;
	ldns_resolver	*w;
	char		 alg[24];
	int		 rc = -1;

	*unchanged = 0;
	if ((rd = dns_open(u->server, DNS_NORECURSE, u->timeout_ms, err,
	    errsz)) == NULL || (wr = dns_open(u->server, DNS_NORECURSE,
	    u->timeout_ms, err, errsz)) == NULL)
		goto out;
	/* ldns names the algorithms as domain names. */
	snprintf(alg, sizeof(alg), "%s.", u->key->algorithm);
	w = dns_resolver(wr);
	ldns_resolver_set_tsig_keyname(w, u->key->name);
	ldns_resolver_set_tsig_keydata(w, u->key->secret);
	ldns_resolver_set_tsig_algorithm(w, alg);
	for (int i = 0; i < TRIES; i++) {
		rc = attempt(rd, wr, u, unchanged, err, errsz);
		/* The set changed between the read and the update. */
		if (rc != LDNS_RCODE_NXRRSET && rc != LDNS_RCODE_YXRRSET)
			break;
	}
	rc = rc == LDNS_RCODE_NOERROR ? 0 : -1;
out:
	dns_close(rd);
	dns_close(wr);
	return rc;
}
