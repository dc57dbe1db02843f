/*
 * check.c: mta-stsctl check.  See check.h.
 *
 * The order is the one a sender follows: the TXT record, the policy
 * host's address, the policy over HTTPS, then the MX hosts.  Each check
 * prints one line (OK, WARN or FAIL) and, for a problem, the fix.  What
 * senders would only report (the MX hosts: coverage, STARTTLS,
 * certificates) is a warning in mode testing or none and a failure in
 * enforce; what keeps senders from seeing the policy at all is always a
 * failure.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "lib/ascii.h"
#include "ctl/check.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/dns.h"
#include "ctl/local.h"
#include "ctl/mx.h"
#include "lib/policy.h"
#include "ctl/smtp.h"
#include "tls/client.h"
#include "lib/txt.h"

#define FETCH_CAP_MS	60000	/* what senders allow a policy fetch */
#define FETCH_SLOW_MS	4000	/* one sender allows 4 s in all */
#define EXPIRY_WARN	14	/* days of certificate left */
#define MX_MAX		16	/* MX hosts tried */
#define ITEM_MSG_MAX	600

enum sev {
	SEV_OK,
	SEV_WARN,
	SEV_FAIL
};

static const char *const sev_names[] = { "OK", "WARN", "FAIL" };

struct item {
	enum sev	 sev;
	char		 check[32];
	char		 msg[ITEM_MSG_MAX];
	char		 fix[ITEM_MSG_MAX];
};

struct run {
	const char		*config;
	const char		*expect_id;
	char			 domain[POLICY_HOST_MAX + 1];
	char			 host[POLICY_HOST_MAX + 10];	/* mta-sts.D */
	int			 json;
	int			 timeout_s;
	struct dns		*dns;
	struct tls_anchors	*ta;
	struct dns_answer	*ans;			/* scratch */
	struct resp	*fetch;
	int			 fetched;		/* fetch holds a 200 */
	struct policy		 pol;			/* the fetched policy */
	int			 have_pol;
	char			 txt_id[TXT_ID_MAX + 1];	/* "" if none */
	struct item		*items;
	size_t			 nitems, capitems;
	enum sev		 worst;
	int			 preflight;	/* every MX problem a FAIL */
	char			 first_fail[ITEM_MSG_MAX + 40];
};

/* One check's verdict: printed now, or kept for the JSON object. */
static void
report(struct run *r, enum sev sev, const char *check, const char *fix,
    const char *fmt, ...)
{
	struct item	*it, *nv;
	va_list		 ap;

	if (r->nitems == r->capitems) {
		size_t cap = r->capitems ? r->capitems * 2 : 32;

		if ((nv = reallocarray(r->items, cap, sizeof(*nv))) == NULL) {
			fprintf(stderr, "mta-stsctl check: out of memory\n");
			exit(2);
		}
		r->items = nv;
		r->capitems = cap;
	}
	it = &r->items[r->nitems++];
	it->sev = sev;
	snprintf(it->check, sizeof(it->check), "%s", check);
	va_start(ap, fmt);
	vsnprintf(it->msg, sizeof(it->msg), fmt, ap);
	va_end(ap);
	snprintf(it->fix, sizeof(it->fix), "%s", sev != SEV_OK &&
	    fix != NULL ? fix : "");
	/* Names and texts from the network reach a terminal: printable. */
	for (char *c = it->msg; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	if (sev > r->worst)
		r->worst = sev;
	if (sev == SEV_FAIL && r->first_fail[0] == '\0')
		snprintf(r->first_fail, sizeof(r->first_fail), "%s: %s",
		    it->check, it->msg);
	if (r->json)
		return;
	printf("%-4s %s: %s\n", sev_names[sev], it->check, it->msg);
	if (it->fix[0] != '\0')
		printf("     fix: %s\n", it->fix);
	fflush(stdout);
}

/* The severity of a problem senders would only report in mode testing. */
static enum sev
sender_sev(const struct run *r)
{
	return r->have_pol && r->pol.mode != POLICY_MODE_ENFORCE ? SEV_WARN :
	    SEV_FAIL;
}

/* ------------------------------------------------------------------ */
/* DNS                                                                 */

/* Asks, and turns a failure into a FAIL line; 0 when records came. */
static int
ask(struct run *r, const char *check, const char *name, int type,
    const char *what)
{
	if (dns_query(r->dns, name, type, r->ans) == 0)
		return 0;
	if (r->ans->status == DNS_FAIL) {
		report(r, SEV_FAIL, check, "check the DNS server (or give "
		    "--resolver, --timeout)", "%s %s: %s", name, what,
		    r->ans->why);
		return -1;
	}
	return -1;	/* NXDOMAIN or NODATA: the caller says what it means */
}

/*
 * The TXT records of name that start with tag, as senders filter them:
 * returns how many there are (-1 when the question failed, after a FAIL
 * line) with *one the last of them.
 */
static long
tagged(struct run *r, const char *check, const char *name, const char *tag,
    const struct dns_rr **one)
{
	size_t	 n = 0, k = strlen(tag);

	*one = NULL;
	if (ask(r, check, name, DNS_T_TXT, "TXT") == -1)
		return r->ans->status == DNS_FAIL ? -1 : 0;
	for (size_t i = 0; i < r->ans->n; i++)
		if (r->ans->rr[i].len >= k &&
		    memcmp(r->ans->rr[i].data, tag, k) == 0) {
			*one = &r->ans->rr[i];
			n++;
		}
	return (long)(n + r->ans->more);
}

static void
check_txt(struct run *r)
{
	struct txt_record	 t;
	char			 name[POLICY_HOST_MAX + 16], err[TXT_ERR_MAX];
	const struct dns_rr	*one;
	long			 n;

	snprintf(name, sizeof(name), "_mta-sts.%s", r->domain);
	if ((n = tagged(r, "dns.txt", name, "v=STSv1", &one)) == -1)
		return;
	if (n == 0) {
		report(r, SEV_FAIL, "dns.txt", "publish the record "
		    "'mta-stsctl txt DOMAIN' prints", "%s: no record starting "
		    "with v=STSv1: senders see no MTA-STS policy", name);
		return;
	}
	if (n > 1) {
		report(r, SEV_FAIL, "dns.txt", "remove all but one v=STSv1 "
		    "record", "%s: %ld v=STSv1 records: senders require "
		    "exactly one and see no policy", name, n);
		return;
	}
	if (one->nul || one->len > DNS_DATA_MAX || txt_parse(one->data,
	    one->len, &t, err, sizeof(err)) == -1) {
		report(r, SEV_FAIL, "dns.txt", "publish the record "
		    "'mta-stsctl txt DOMAIN' prints", "%s: invalid record "
		    "(RFC 8461 section 3.1): %s", name, one->nul ? "NUL byte" :
		    one->len > DNS_DATA_MAX ? "too long" : err);
		return;
	}
	memcpy(r->txt_id, t.id, sizeof(t.id));
	report(r, SEV_OK, "dns.txt", NULL, "%s: v=STSv1, id=%s%s", name,
	    t.id, t.extensions > 0 ? " (with extension fields, which "
	    "senders ignore)" : "");
}

/*
 * The addresses of the policy host; sets *sa to the one a sender
 * connects to (the first A: mailauth takes no other).  0, or -1.
 */
static int
check_addr(struct run *r, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 v4[DNS_DATA_MAX + 1] = "";
	char			 v6[DNS_DATA_MAX + 1] = "";
	size_t			 n4 = 0, n6 = 0;

	memset(ss, 0, sizeof(*ss));
	if (ask(r, "dns.address", r->host, DNS_T_A, "A") == 0) {
		snprintf(v4, sizeof(v4), "%s", r->ans->rr[0].data);
		n4 = r->ans->n + r->ans->more;
	} else if (r->ans->status == DNS_FAIL)
		return -1;
	if (ask(r, "dns.address", r->host, DNS_T_AAAA, "AAAA") == 0) {
		snprintf(v6, sizeof(v6), "%s", r->ans->rr[0].data);
		n6 = r->ans->n + r->ans->more;
	} else if (r->ans->status == DNS_FAIL)
		return -1;
	if (n4 > 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(443);
		inet_pton(AF_INET, v4, &sin->sin_addr);
		*sl = sizeof(*sin);
		report(r, SEV_OK, "dns.address", NULL, "%s: A %s%s%s%s", r->host,
		    v4, n4 > 1 ? " (first of several: senders may use only "
		    "this one)" : "", n6 > 0 ? ", AAAA " : "", v6);
		return 0;
	}
	if (n6 > 0) {
		report(r, SEV_FAIL, "dns.address", "add an A record for the "
		    "policy host", "%s: AAAA %s but no A record: senders on "
		    "IPv4 (and mailauth, which connects to the first A record "
		    "only) cannot fetch the policy", r->host, v6);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(443);
		inet_pton(AF_INET6, v6, &sin6->sin6_addr);
		*sl = sizeof(*sin6);
		return 0;
	}
	report(r, SEV_FAIL, "dns.address", "publish an A record for the policy "
	    "host (a CNAME to your provider's host is fine)", "%s: no address "
	    "record", r->host);
	return -1;
}

/* ------------------------------------------------------------------ */
/* HTTPS                                                               */

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long
days_left(time_t not_after)
{
	double d = difftime(not_after, time(NULL)) / 86400.0;

	return d < 0 ? -1 : (long)d;
}

/* The certificate line of a verified handshake: OK, or WARN near expiry. */
static void
report_cert(struct run *r, const char *check, const char *host,
    const struct tls_peer *p, int sev_problem)
{
	long	 days = p->have_leaf ? days_left(p->not_after) : 0;

	report(r, p->have_leaf && days < EXPIRY_WARN ? (enum sev)sev_problem :
	    SEV_OK, check, "renew the certificate (is the ACME client's "
	    "timer running?)", "%s: TLS %u.%u %s, certificate for %s valid "
	    "%ld more days", host, (p->version >> 8) - 2, (p->version & 0xff)
	    - 1, p->suite, p->have_leaf ? p->names : "?", days);
}

/* The fix for a failed handshake, from what the client saw. */
static const char *
tls_fix(const struct tls_peer *p)
{
	switch (p->verify) {
	case TLS_VERIFY_UNTRUSTED:
		return "use a certificate from a public CA, with its "
		    "intermediate certificates (or test with --ca-file)";
	case TLS_VERIFY_NAME:
		return "get a certificate whose subjectAltName holds this host "
		    "name";
	case TLS_VERIFY_EXPIRED:
		return "renew the certificate (is the ACME client's timer "
		    "running?)";
	default:
		return "make the host answer TLS 1.2 with a valid certificate";
	}
}

/* A policy line problem, from policy_served_hazards(). */
static void
hazard(void *arg, unsigned line, const char *msg)
{
	struct run *r = arg;

	report(r, SEV_WARN, "policy.compat", "serve the canonical body "
	    "('mta-stsctl validate --print FILE')", "line %u: %s", line, msg);
}

static void
check_policy_body(struct run *r)
{
	struct policy_diags	 d;
	const char		*body = r->fetch->body;
	size_t			 len = r->fetch->bodylen;
	int			 rc;

	memset(&d, 0, sizeof(d));
	rc = policy_parse(body, len, &r->pol, &d);
	for (size_t i = 0; i < d.n && i < 10; i++)
		report(r, d.v[i].severity == POLICY_ERROR ? SEV_FAIL :
		    SEV_WARN, "policy", d.v[i].severity == POLICY_ERROR ?
		    "fix the policy ('mta-stsctl validate' names the rules)" :
		    "see RFC 8461 section 3.2", "line %u: %s", d.v[i].line,
		    d.v[i].msg);
	if (d.n > 10)
		report(r, rc == -1 ? SEV_FAIL : SEV_WARN, "policy", "run "
		    "'mta-stsctl validate' on the policy", "%zu more "
		    "problems", d.n - 10);
	if (d.oom)
		report(r, SEV_FAIL, "policy", NULL, "out of memory");
	policy_diags_free(&d);
	if (rc == -1) {
		report(r, SEV_FAIL, "policy", "fix the policy: senders "
		    "ignore a policy they cannot parse", "the served policy "
		    "is invalid");
		return;
	}
	r->have_pol = 1;
	if (policy_served_hazards(body, len, hazard, r) == 0 &&
	    (len != r->pol.bodylen || memcmp(body, r->pol.body, len) != 0))
		report(r, SEV_WARN, "policy.compat", "serve the canonical body "
		    "('mta-stsctl validate --print FILE')", "the body is not "
		    "in the canonical form every sender reads the same way "
		    "(key order, spacing, duplicates)");
	report(r, SEV_OK, "policy", NULL, "mode %s, %zu mx, max_age %lu",
	    policy_mode_name(r->pol.mode), r->pol.nmx, r->pol.max_age);
}

/* Is the Content-Type text/plain, whatever its parameters? */
static int
is_text_plain(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == 10 && strncasecmp(ct, "text/plain", 10) == 0;
}

static void
check_https(struct run *r, const struct sockaddr_storage *ss, socklen_t sl)
{
	struct tls_peer	 peer;
	char		 err[600];
	long long	 t0, ms;
	int		 tmo = r->timeout_s * 1000, rc;

	if (tmo > FETCH_CAP_MS)
		tmo = FETCH_CAP_MS;
	t0 = now_ms();
	rc = tls_fetch_verified((const struct sockaddr *)ss, sl, r->host, r->ta,
	    tmo, r->fetch, &peer, err, sizeof(err));
	ms = now_ms() - t0;
	if (peer.established)
		report_cert(r, "https.tls", r->host, &peer, SEV_WARN);
	if (rc == -1) {
		report(r, SEV_FAIL, "https", peer.established ?
		    (r->fetch->toolarge ? "keep the policy under 64 KiB, "
		    "headers included" : "serve the policy with "
		    "status 200 and a Content-Length (or a chunked body)") :
		    tls_fix(&peer), "https://%s/.well-known/mta-sts.txt: %s",
		    r->host, err);
		return;
	}
	if (r->fetch->status >= 300 && r->fetch->status < 400) {
		report(r, SEV_FAIL, "https.status", "serve the policy itself "
		    "at this URL: senders do not follow redirects", "status %u "
		    "redirects to '%s'", r->fetch->status,
		    r->fetch->location);
		return;
	}
	if (r->fetch->status != 200) {
		report(r, SEV_FAIL, "https.status", "serve the policy at "
		    "/.well-known/mta-sts.txt with status 200", "status %u: "
		    "only 200 is a policy", r->fetch->status);
		return;
	}
	report(r, ms > FETCH_SLOW_MS ? SEV_WARN : SEV_OK, "https.status",
	    "make the policy host answer faster: one sender allows 4 s",
	    "status 200, %zu bytes in %lld ms", r->fetch->bodylen, ms);
	if (r->fetch->ctype[0] == '\0')
		report(r, SEV_FAIL, "https.type", "send Content-Type: "
		    "text/plain", "no Content-Type: postfix-mta-sts-resolver "
		    "and go-mtasts reject the policy");
	else if (!is_text_plain(r->fetch->ctype))
		report(r, SEV_FAIL, "https.type", "send Content-Type: "
		    "text/plain", "Content-Type '%s', not text/plain: "
		    "postfix-mta-sts-resolver and go-mtasts reject the policy",
		    r->fetch->ctype);
	else
		report(r, SEV_OK, "https.type", NULL, "Content-Type %s",
		    r->fetch->ctype);
	r->fetched = 1;
	check_policy_body(r);
}

/* ------------------------------------------------------------------ */
/* Consistency with the local policy and its id                        */

static void
check_local(struct run *r)
{
	struct policy	 lp;
	char		 id[TXT_ID_MAX + 1], fix[420], line[400];
	const char	*want;
	int		 local;

	memset(&lp, 0, sizeof(lp));
	local = local_policy(r->config, r->domain, &lp, id);
	if (local == -1)
		report(r, SEV_WARN, "local", "fix the configuration given "
		    "with -f", "cannot read the local policy (see above)");
	want = r->expect_id != NULL ? r->expect_id : local == 1 &&
	    id[0] != '\0' ? id : NULL;
	if (want != NULL && r->txt_id[0] != '\0') {
		txt_format(line, sizeof(line), r->domain, 3600, want);
		snprintf(fix, sizeof(fix), "publish %s", line);
		if (strcmp(want, r->txt_id) == 0)
			report(r, SEV_OK, "id", NULL, "DNS has id %s, %s", want,
			    r->expect_id != NULL ? "as expected" :
			    "the one recorded for the local policy");
		else
			report(r, SEV_FAIL, "id", fix, "DNS has id %s, the %s "
			    "is %s: senders that cached the old policy keep "
			    "it until its max_age runs out", r->txt_id,
			    r->expect_id != NULL ? "expected id" :
			    "current policy's id", want);
	}
	if (local == 1 && r->fetched && r->have_pol) {
		if (lp.bodylen == r->fetch->bodylen && memcmp(lp.body,
		    r->fetch->body, lp.bodylen) == 0)
			report(r, SEV_OK, "local", NULL, "the served policy is "
			    "the local one");
		else
			report(r, SEV_FAIL, "local", "reload mta-stsd and "
			    "confirm: 'mta-stsctl issue DOMAIN'", "the served "
			    "policy differs from the local one");
	}
	policy_free(&lp);
}

/* ------------------------------------------------------------------ */
/* MX hosts                                                            */

static void
check_mx_cover(struct run *r, const char *host)
{
	char	 fix[400];

	for (size_t i = 0; i < r->pol.nmx; i++)
		if (policy_mx_match(r->pol.mx[i], host)) {
			report(r, SEV_OK, "mx.policy", NULL, "%s matches mx "
			    "%s", host, r->pol.mx[i]);
			return;
		}
	snprintf(fix, sizeof(fix), "add it to the policy: 'mta-stsctl set "
	    "%s --add-mx %s'", r->domain, host);
	report(r, sender_sev(r), "mx.policy", fix, "%s matches no mx pattern "
	    "of the policy: in enforce mode senders refuse to deliver to it",
	    host);
}

static void
check_mx_tls(struct run *r, const char *host, const char *helo)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;
	struct tls_peer		 peer;
	socklen_t		 sl;
	char			 err[600];
	int			 fd;

	memset(&ss, 0, sizeof(ss));
	if (ask(r, "mx.tls", host, DNS_T_A, "A") == 0) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		inet_pton(AF_INET, r->ans->rr[0].data, &sin->sin_addr);
		sl = sizeof(*sin);
	} else if (r->ans->status == DNS_FAIL)
		return;
	else if (ask(r, "mx.tls", host, DNS_T_AAAA, "AAAA") == 0) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
		inet_pton(AF_INET6, r->ans->rr[0].data, &sin6->sin6_addr);
		sl = sizeof(*sin6);
	} else {
		if (r->ans->status != DNS_FAIL)
			report(r, sender_sev(r), "mx.tls", "publish an "
			    "address record for the MX host", "%s: no "
			    "address record", host);
		return;
	}
	if ((fd = smtp_starttls((struct sockaddr *)&ss, sl, helo,
	    r->timeout_s * 1000, err, sizeof(err))) == -1) {
		report(r, sender_sev(r), "mx.tls", "offer STARTTLS on port "
		    "25", "%s port 25: %s", host, err);
		return;
	}
	if (tls_starttls_verify(fd, host, r->ta, r->timeout_s * 1000, &peer,
	    err, sizeof(err)) == -1) {
		report(r, sender_sev(r), "mx.tls", tls_fix(&peer), "%s: %s",
		    host, err);
		return;
	}
	/* About to enforce: a certificate that expires soon fails too. */
	report_cert(r, "mx.tls", host, &peer, r->preflight ? SEV_FAIL :
	    SEV_WARN);
}

static void
check_mx(struct run *r)
{
	struct mx_set	*mx;
	char		 helo[256], list[400] = "", why[200];
	size_t		 n;

	if ((mx = malloc(sizeof(*mx))) == NULL) {
		report(r, SEV_FAIL, "dns.mx", NULL, "out of memory");
		return;
	}
	switch (mx_lookup(r->dns, r->domain, mx, r->ans, why, sizeof(why))) {
	case MX_FAIL:
		report(r, SEV_FAIL, "dns.mx", "check the DNS server (or give "
		    "--resolver, --timeout)", "%s MX: %s", r->domain, why);
		goto out;
	case MX_NONE:
	case MX_NXDOMAIN:
		report(r, SEV_FAIL, "dns.mx", "publish MX records: MTA-STS "
		    "protects MX hosts only", "%s: no MX records", r->domain);
		goto out;
	case MX_NULL:
		report(r, SEV_FAIL, "dns.mx", "remove the MTA-STS records of a "
		    "domain that takes no mail", "%s: null MX (RFC 7505): the "
		    "domain takes no mail", r->domain);
		goto out;
	case MX_FOUND:
		break;
	}
	n = mx->n;
	for (size_t i = 0, len = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s "
		    "(%u)", i > 0 ? ", " : "", mx->v[i].host, mx->v[i].pref);
	report(r, SEV_OK, "dns.mx", NULL, "%s: %zu MX: %s", r->domain,
	    n + mx->more, list);
	if (n + mx->more > MX_MAX)
		report(r, SEV_WARN, "dns.mx", "check the others by hand",
		    "only the first %d MX hosts are checked", MX_MAX);
	if (gethostname(helo, sizeof(helo)) == -1 || strchr(helo, '.') ==
	    NULL || policy_check_host(helo, strlen(helo), 0) != NULL)
		snprintf(helo, sizeof(helo), "mta-stsctl.invalid");
	for (size_t i = 0; i < n && i < MX_MAX; i++) {
		if (policy_check_host(mx->v[i].host, strlen(mx->v[i].host),
		    0) != NULL) {
			report(r, SEV_FAIL, "dns.mx", "point MX records at "
			    "host names", "MX '%s' is not a host name",
			    mx->v[i].host);
			continue;
		}
		if (r->have_pol)
			check_mx_cover(r, mx->v[i].host);
		check_mx_tls(r, mx->v[i].host, helo);
	}
out:
	free(mx);
}

/* ------------------------------------------------------------------ */
/* TLS-RPT                                                             */

static void
check_tlsrpt_dns(struct run *r)
{
	char			 name[POLICY_HOST_MAX + 16], err[200];
	const struct dns_rr	*one;
	long			 n;

	snprintf(name, sizeof(name), "_smtp._tls.%s", r->domain);
	if ((n = tagged(r, "dns.tlsrpt", name, "v=TLSRPTv1", &one)) == -1)
		return;
	if (n == 0) {
		report(r, SEV_WARN, "dns.tlsrpt", "publish a TLS-RPT record: "
		    "'mta-stsctl init --rua' prints one", "%s: no TLS-RPT "
		    "record: nobody reports failures to you", name);
		return;
	}
	/* Reports are lost, but MTA-STS itself still protects mail. */
	if (n > 1) {
		report(r, SEV_WARN, "dns.tlsrpt", "publish exactly one "
		    "v=TLSRPTv1 record", "%s: %ld v=TLSRPTv1 records: senders "
		    "report only with exactly one (reports are lost; MTA-STS "
		    "still protects mail)", name, n);
		return;
	}
	if (one->nul || one->len > DNS_DATA_MAX || txt_parse_tlsrpt(one->data,
	    one->len, err, sizeof(err)) == -1) {
		report(r, SEV_WARN, "dns.tlsrpt", "publish v=TLSRPTv1; "
		    "rua=mailto:ADDRESS (RFC 8460 section 3)", "%s: invalid "
		    "record: %s (reports are lost; MTA-STS still protects "
		    "mail)", name, one->nul ? "NUL byte" : one->len >
		    DNS_DATA_MAX ? "too long" : err);
		return;
	}
	report(r, SEV_OK, "dns.tlsrpt", NULL, "%s: %s", name, one->data);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */

static void
print_json(const struct run *r)
{
	printf("{\"domain\": ");
	ctl_json_str(r->domain);
	printf(", \"mode\": ");
	if (r->have_pol)
		ctl_json_str(policy_mode_name(r->pol.mode));
	else
		printf("null");
	printf(", \"id\": ");
	if (r->txt_id[0] != '\0')
		ctl_json_str(r->txt_id);
	else
		printf("null");
	printf(", \"result\": ");
	ctl_json_str(sev_names[r->worst]);
	printf(", \"checks\": [");
	for (size_t i = 0; i < r->nitems; i++) {
		printf("%s\n  {\"check\": ", i > 0 ? "," : "");
		ctl_json_str(r->items[i].check);
		printf(", \"status\": ");
		ctl_json_str(sev_names[r->items[i].sev]);
		printf(", \"message\": ");
		ctl_json_str(r->items[i].msg);
		if (r->items[i].fix[0] != '\0') {
			printf(", \"fix\": ");
			ctl_json_str(r->items[i].fix);
		}
		printf("}");
	}
	printf("\n]}\n");
}

/* see check.h */
int
check_timeout_arg(const char *cmd, const char *arg, int *out)
{
	unsigned long	 t;
	char		*end;

	errno = 0;
	t = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    t == 0 || t > CHECK_TIMEOUT_MAX) {
		fprintf(stderr, "mta-stsctl %s: invalid timeout '%s': 1 to %d "
		    "seconds\n", cmd, arg, CHECK_TIMEOUT_MAX);
		return -1;
	}
	*out = (int)t;
	return 0;
}

/* see check.h */
int
check_preflight(const struct check_net *net, const char *domain,
    const struct policy *p, char *failed, size_t failedsz)
{
	struct run	 r;
	char		 err[600];
	int		 rc = -1;

	memset(&r, 0, sizeof(r));
	snprintf(r.domain, sizeof(r.domain), "%s", domain);
	r.timeout_s = net->timeout_s;
	r.preflight = 1;
	/* The policy about to be served, borrowed: never freed here. */
	r.pol = *p;
	r.have_pol = 1;
	failed[0] = '\0';
	if ((r.ta = tls_anchors_load(net->ca_file != NULL ? net->ca_file :
	    TLS_CA_FILE_DEFAULT, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mta-stsctl: pre-flight: trust store: %s\n",
		    err);
		goto out;
	}
	if ((r.dns = dns_open(net->resolver, 0, r.timeout_s * 1000, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mta-stsctl: pre-flight: %s\n", err);
		goto out;
	}
	if ((r.ans = malloc(sizeof(*r.ans))) == NULL) {
		fprintf(stderr, "mta-stsctl: pre-flight: out of memory\n");
		goto out;
	}
	printf("%s: pre-flight of the policy about to be served (the MX "
	    "checks of 'mta-stsctl check'):\n", domain);
	check_mx(&r);
	rc = (int)r.worst;
	snprintf(failed, failedsz, "%s", r.first_fail);
out:
	free(r.items);
	free(r.ans);
	dns_close(r.dns);
	tls_anchors_free(r.ta);
	return rc;
}

/* see cmd.h */
int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "expect-id", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct run		 r;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = 0;
	const char		*resolver = NULL, *ca = TLS_CA_FILE_DEFAULT, *why;
	char			 err[600];
	int			 ch, rc = 2;

	memset(&r, 0, sizeof(r));
	r.config = ctl_config_path();
	r.timeout_s = CHECK_TIMEOUT_DEFAULT;
	while ((ch = getopt_long(argc, argv, "f:jr:t:c:e:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			r.config = optarg;
			break;
		case 'j':
			r.json = 1;
			break;
		case 'r':
			resolver = optarg;
			break;
		case 't':
			if (check_timeout_arg("check", optarg,
			    &r.timeout_s) == -1)
				return 2;
			break;
		case 'c':
			ca = optarg;
			break;
		case 'e':
			if ((why = txt_check_id(optarg)) != NULL) {
				fprintf(stderr, "mta-stsctl check: invalid id "
				    "'%s': %s\n", optarg, why);
				return 2;
			}
			r.expect_id = optarg;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(argv[0]);
	if (ctl_domain_arg("check", argv[optind], r.domain) == -1)
		return 2;
	snprintf(r.host, sizeof(r.host), "mta-sts.%s", r.domain);
	if ((r.ta = tls_anchors_load(ca, err, sizeof(err))) == NULL) {
		fprintf(stderr, "mta-stsctl check: trust store: %s\n", err);
		goto out;
	}
	if ((r.dns = dns_open(resolver, 0, r.timeout_s * 1000, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mta-stsctl check: %s\n", err);
		goto out;
	}
	if ((r.ans = malloc(sizeof(*r.ans))) == NULL ||
	    (r.fetch = malloc(sizeof(*r.fetch))) == NULL) {
		fprintf(stderr, "mta-stsctl check: out of memory\n");
		goto out;
	}

	check_txt(&r);
	if (check_addr(&r, &ss, &sl) == 0)
		check_https(&r, &ss, sl);
	check_local(&r);
	check_mx(&r);
	check_tlsrpt_dns(&r);
	if (r.json)
		print_json(&r);
	else
		printf("%s: %s\n", r.domain, r.worst == SEV_OK ? "all checks "
		    "passed" : r.worst == SEV_WARN ? "warnings" : "failures");
	rc = (int)r.worst;
out:
	policy_free(&r.pol);
	free(r.items);
	free(r.fetch);
	free(r.ans);
	dns_close(r.dns);
	tls_anchors_free(r.ta);
	return rc;
}
