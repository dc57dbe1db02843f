/*
 * txt.h: the _mta-sts TXT record (RFC 8461 section 3.1) and policy ids.
 *
 * Pure code, like policy.c: no DNS, no I/O, no global state.
 */
#ifndef TXT_H
#define TXT_H

#include <stddef.h>
#include <time.h>

#define TXT_ID_MAX	32	/* characters of an id */
#define TXT_ERR_MAX	160	/* size of an error buffer */

struct txt_record {
	char	id[TXT_ID_MAX + 1];
	size_t	extensions;		/* extension fields seen (ignored) */
};

/*
 * Parses one TXT record (the strings of the RR already concatenated):
 * "v=STSv1" first and case-sensitive, then ';'-separated fields with
 * optional white space around each ';', exactly one "id=" of 1 to 32
 * letters and digits, extensions "name=value" per the RFC grammar, an
 * optional final ';'.  Returns 0 and fills *r, or -1 with a message
 * naming the column and the rule in err (TXT_ERR_MAX bytes).
 */
int		 txt_parse(const char *s, size_t len, struct txt_record *r,
		    char *err, size_t errsz);

/* Returns NULL if id is 1 to 32 ASCII letters and digits, else why not. */
const char	*txt_check_id(const char *id);

/*
 * Writes the id for the UTC hour of t, "yyyymmddhh0000Z", into out (16
 * bytes with the NUL).  Returns 0, or -1 for a year outside 0-9999.
 */
int		 txt_id_for_time(time_t t, char out[16]);

/*
 * Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC) into *t.  Returns 0, or -1 for any
 * other form or an impossible date.
 */
int		 txt_parse_time(const char *s, time_t *t);

/*
 * Writes the zone-file line to publish:
 * _mta-sts.DOMAIN. TTL IN TXT "v=STSv1; id=ID;"
 * Returns the length written (as snprintf does).
 */
int		 txt_format(char *buf, size_t bufsz, const char *domain,
		    unsigned long ttl, const char *id);

/*
 * Writes the text of the TLS-RPT record for the n report URIs of rua,
 * "v=TLSRPTv1; rua=URI,URI;", with ',', ';' and '!' in a URI
 * percent-encoded (RFC 8460 section 3).  Returns the length, or -1 when
 * it does not fit in bufsz.
 */
int		 txt_tlsrpt_format(char *buf, size_t bufsz,
		    const char *const *rua, size_t n);

/*
 * Checks a TLS-RPT record (RFC 8460 section 3), "v=TLSRPTv1; rua=...":
 * the version first, exactly one rua of mailto: or https: URIs,
 * extensions per the grammar.  Returns 0, or -1 with why in err.  Pure.
 */
int		 txt_parse_tlsrpt(const char *s, size_t len, char *err,
		    size_t errsz);

#endif /* TXT_H */
