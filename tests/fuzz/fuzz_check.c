/*
 * fuzz_check.c: libFuzzer target for what mta-stsctl check reads from the
 * network: DNS responses (TXT, A, AAAA, MX, NS, SOA), SMTP replies, HTTP responses, TLS-RPT records,
 * served policy bodies (their hazards and layout).
 *
 * The first byte picks the parser; the rest is its input.  Every parser
 * must stay within its input and say why it refuses one: a DNS answer
 * keeps at most DNS_RR_MAX records, each NUL-terminated within bounds; an
 * SMTP reply never claims more bytes than it was given; an HTTP response
 * that parses has a status code and a NUL-terminated body within the cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/dns.h"
#include "lib/policy.h"
#include "ctl/smtp.h"
#include "lib/resp.h"
#include "lib/txt.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
count(void *arg, unsigned line, const char *msg)
{
	size_t *n = arg;

	if (line == 0 || msg == NULL)
		abort();
	(*n)++;
}

static void
fuzz_dns(const uint8_t *data, size_t size, int type)
{
	static struct dns_answer	 a;

	if (dns_parse(data, size, type, &a) == -1) {
		if (a.why[0] == '\0' || a.n != 0)
			abort();
		return;
	}
	/* A negative answer names its zone: SOA records with NXDOMAIN. */
	if (a.n > DNS_RR_MAX || (a.status == DNS_OK && a.n + a.more == 0) ||
	    (a.n + a.more > 0 && a.status != DNS_OK &&
	    !(type == DNS_T_SOA && a.status == DNS_NXDOMAIN)))
		abort();
	for (size_t i = 0; i < a.n; i++)
		if (strlen(a.rr[i].data) > DNS_DATA_MAX ||
		    (type != DNS_T_TXT && strlen(a.rr[i].data) != a.rr[i].len))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The high bit picks the second half: NS, SOA (and TXT, A again). */
	static const int	 types[] = { DNS_T_TXT, DNS_T_A, DNS_T_AAAA,
				    DNS_T_MX, DNS_T_NS, DNS_T_SOA, DNS_T_TXT,
				    DNS_T_A };
	static struct resp	 f;
	struct policy_shape	 sh;
	struct smtp_reply	 r;
	char			 why[256];
	size_t			 n = 0;
	int			 used;

	if (size < 1)
		return 0;
	switch (data[0] % 8) {
	case 0: case 1: case 2: case 3:
		fuzz_dns(data + 1, size - 1, types[data[0] % 8 +
		    (data[0] & 0x80 ? 4 : 0)]);
		break;
	case 4:
		used = smtp_reply_parse((const char *)data + 1, size - 1, &r,
		    why, sizeof(why));
		if (used > (int)(size - 1) || (used > 0 && (r.code < 200 ||
		    r.code > 559 || r.lines == 0 ||
		    strlen(r.text) > SMTP_TEXT_MAX)))
			abort();
		break;
	case 5:
		if (txt_parse_tlsrpt((const char *)data + 1, size - 1, why,
		    sizeof(why)) == -1 && why[0] == '\0')
			abort();
		break;
	case 6:
		if (resp_parse(data + 1, size - 1, data[0] & 0x80, &f, why,
		    sizeof(why)) == 0 && (f.status < 200 || f.status > 599 ||
		    f.bodylen > RESP_BODY_MAX || f.body[f.bodylen] != '\0' ||
		    strlen(f.ctype) >= sizeof(f.ctype)))
			abort();
		break;
	default:
		if (policy_served_hazards((const char *)data + 1, size - 1,
		    count, &n) != n)
			abort();
		policy_served_shape((const char *)data + 1, size - 1, &sh);
		if (sh.lf > sh.lines || sh.blank + sh.comment + sh.spacing >
		    sh.lines || strlen(sh.order) >= sizeof(sh.order) ||
		    (size > 1 && sh.lines == 0))
			abort();
		break;
	}
	return 0;
}
