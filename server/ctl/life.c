/*
 * life.c: mta-stsctl's commands for a domain's policy life cycle: init,
 * mode, set, issue.  The order of a change is RFC 8461 section 8's: the
 * new policy is written, the server reloaded and asked over HTTPS until
 * it serves the new body, then every replica; only then is a new id
 * issued, and the TXT record published (publish.h) or printed.  Each
 * returns 0 done, 1 refused or failed (nothing changed on disk unless it
 * says so), 2 usage, 3 served but not published.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ctl/check.h"
#include "ctl/cert.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/dns.h"
#include "ctl/edit.h"
#include "ctl/local.h"
#include "ctl/mx.h"
#include "ctl/publish.h"
#include "ctl/replica.h"
#include "lib/config.h"
#include "lib/ids.h"
#include "lib/policy.h"
#include "lib/txt.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define MAX_MX		64	/* mx options on one command line */

static const char *
days(unsigned long secs, char *buf, size_t bufsz)
{
	if (secs >= 86400)
		snprintf(buf, bufsz, "%lu s, %.1f days", secs, secs / 86400.0);
	else
		snprintf(buf, bufsz, "%lu s, %.1f hours", secs, secs / 3600.0);
	return buf;
}

/*
 * Options common to every command: -f CONFIG, --dry-run, --help.  Others
 * are handled by the caller through extra (NULL when none).
 */
struct opts {
	const char	*config;
	int		 dry_run;
	int		 json;
	const char	*mx[MAX_MX];
	size_t		 nmx;
	const char	*add[MAX_MX];
	size_t		 nadd;
	const char	*del[MAX_MX];
	size_t		 ndel;
	const char	*rua[8];
	size_t		 nrua;
	long		 max_age;	/* -1: not given */
	int		 publish;	/* 1 --publish, 0 --no-publish, -1 */
	int		 force;		/* --force: past a failed pre-flight */
	int		 no_preflight;
	struct check_net net;		/* --resolver, --ca-file, --timeout */
	unsigned	 given;		/* G_* of the options given */
};

#define G_MX		0x01	/* --mx */
#define G_ADDDEL	0x02	/* --add-mx, --remove-mx */
#define G_AGE		0x04	/* --max-age */
#define G_RUA		0x08	/* --rua */
#define G_JSON		0x10	/* --json */
#define G_DNS		0x20	/* --resolver, --timeout */
#define G_TLS		0x40	/* --ca-file */
#define G_PRE		0x80	/* --force, --no-preflight */

enum {
	OPT_MX = 256,
	OPT_ADD_MX,
	OPT_REMOVE_MX,
	OPT_MAX_AGE,
	OPT_RUA,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_PUBLISH,
	OPT_NO_PUBLISH,
	OPT_RESOLVER,
	OPT_TIMEOUT,
	OPT_CA_FILE,
	OPT_FORCE,
	OPT_NO_PREFLIGHT
};

/* Puts the previous policy back after a failed confirmation. */
static void
restore(struct local *c, pid_t pid)
{
	local_mark_pending(c, NULL);
	/* Never an id for a policy that is not served everywhere. */
	if (local_write(c->dirfd, c->file, c->src, c->srclen, 0) == -1)
		fprintf(stderr, "mta-stsctl: %s: could not restore the previous "
		    "policy: %s\n", c->domain, strerror(errno));
	else if (kill(pid, SIGHUP) == -1)
		fprintf(stderr, "mta-stsctl: %s: the previous policy was "
		    "restored on disk, but the server could not be told (%s); "
		    "no new id\n", c->domain, strerror(errno));
	else
		fprintf(stderr, "mta-stsctl: %s: the previous policy was "
		    "restored; no new id\n", c->domain);
}

/* What follows a new id of a changed policy: publish, or say what to. */
static int
announce(struct local *c, const struct policy *np, const char *id,
    unsigned long old_age, int publish)
{
	char	 buf[64];
	int	 rc = EX_OK;

	printf("%s now serves mode %s (max_age %lu); new id %s.\n", c->host,
	    policy_mode_name(np->mode), np->max_age, id);
	if (publish) {
		if (publish_sts(c, id, policy_mode_name(np->mode)) == -1) {
			publish_by_hand(c, id);
			rc = EX_PUBLISH;
		}
	} else {
		printf("Publish this record now, replacing the old one:\n");
		local_print_txt(c->domain, id);
	}
	printf("Senders that cached the previous policy keep it until they "
	    "see the new id, for at most its max_age (%s).\n",
	    days(old_age, buf, sizeof(buf)));
	if (np->mode == POLICY_MODE_NONE) {
		time_t until = time(NULL) + (time_t)old_age;
		struct tm tm;

		gmtime_r(&until, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%MZ", &tm);
		printf("To remove MTA-STS from %s:\n"
		    "  1. %s\n"
		    "  2. wait the previous max_age from the moment it is "
		    "published (not before %s), so that every sender has seen "
		    "mode none;\n", c->domain, rc == EX_OK && publish ?
		    "the record above (mode none, new id) is published;" :
		    "publish the record above (mode none, new id) now;", buf);
		if (c->cfg.dns_update != CONFIG_UPDATE_OFF)
			printf("  3. then 'mta-stsctl unpublish %s' removes the "
			    "_mta-sts.%s TXT record; only then delete %s/%s and "
			    "the mta-sts.%s address records.\n", c->domain,
			    c->domain, c->cfg.policy_dir, c->file, c->domain);
		else
			printf("  3. then delete the _mta-sts.%s TXT record, and "
			    "only then %s/%s and the mta-sts.%s address "
			    "records.\n", c->domain, c->cfg.policy_dir, c->file,
			    c->domain);
	}
	return rc;
}

/*
 * Before a policy in mode enforce is served: the MX half of check against
 * it (check.h).  Returns 0 to go on, or -1 after saying why not: a failed
 * pre-flight stops the change unless --force, which says what it
 * overrode; --no-preflight skips it, saying so.
 */
static int
preflight(const struct local *c, const struct policy *np,
    const struct opts *o)
{
	char	 failed[700];
	int	 rc;

	if (o->no_preflight) {
		printf("%s: pre-flight skipped (--no-preflight): the MX hosts "
		    "were not checked against the policy\n", c->domain);
		return 0;
	}
	rc = check_preflight(&o->net, c->domain, np, failed, sizeof(failed));
	if (rc == 0 || rc == 1)
		return 0;
	if (!o->force) {
		fprintf(stderr, "mta-stsctl: %s: the pre-flight %s; nothing "
		    "changed (fix what it says, or --force to enforce anyway, "
		    "or --no-preflight where port 25 cannot be reached)\n",
		    c->domain, rc == -1 ? "could not run" : "failed (FAIL "
		    "above)");
		return -1;
	}
	fprintf(stderr, "mta-stsctl: %s: --force: enforcing although the "
	    "pre-flight %s%s%s\n", c->domain, rc == -1 ? "could not run" :
	    "failed: ", rc == -1 ? "" : failed, rc == -1 ? "" : " (and any "
	    "other FAIL above)");
	return 0;
}

/*
 * The change flow shared by mode and set: validate the new source, write
 * it, reload, confirm here and on every replica, then issue the id and
 * publish or print the record.  On a failed confirmation the old source
 * is put back.
 */
static int
change(struct local *c, char *newsrc, const struct opts *o)
{
	struct policy		 np;
	struct policy_diags	 d;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	char			 id[16], line[600];
	/* What senders may have cached: the policy of the recorded id. */
	unsigned long		 old_age = c->has_rec ? c->rec.max_age :
				    c->pol.max_age;
	char			 sha[65];
	pid_t			 pid = -1;
	int			 rc = EX_FAIL;

	memset(&d, 0, sizeof(d));
	memset(&np, 0, sizeof(np));
	if (policy_parse(newsrc, strlen(newsrc), &np, &d) == -1) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", policy_diag_format(c->file,
			    &d.v[i], line, sizeof(line)));
		fprintf(stderr, "mta-stsctl: %s: the change makes an invalid "
		    "policy; nothing changed\n", c->domain);
		goto out;
	}
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", policy_diag_format(c->file, &d.v[i],
		    line, sizeof(line)));
	if (np.bodylen == c->pol.bodylen &&
	    memcmp(np.body, c->pol.body, np.bodylen) == 0) {
		tls_sha256_hex(np.body, np.bodylen, sha);
		if (c->has_rec && strcmp(sha, c->rec.sha256) == 0)
			printf("%s: the policy is unchanged; it keeps its id "
			    "%s\n", c->domain, c->rec.id);
		else
			printf("%s: nothing to change here, but the policy "
			    "changed since %s%s: run 'mta-stsctl issue %s'\n",
			    c->domain, c->has_rec ? "id " : "its last id",
			    c->has_rec ? c->rec.id : "", c->domain);
		rc = EX_OK;
		goto out;
	}
	if (np.mode == POLICY_MODE_ENFORCE && preflight(c, &np, o) == -1)
		goto out;
	if (c->dry_run) {
		ids_next(&c->rec, time(NULL), id);
		printf("%s: would serve:\n", c->domain);
		fwrite(np.body, 1, np.bodylen, stdout);
		printf("%s: would then issue id %s%s:\n", c->domain, id,
		    o->publish ? " and publish it" : "");
		local_print_txt(c->domain, id);
		rc = EX_OK;
		goto out;
	}
	if ((pid = local_server_pid(c)) == -1 ||
	    (cred = local_expected_cred(c, &cs)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: nothing changed\n", c->domain);
		goto out;
	}
	tls_sha256_hex(np.body, np.bodylen, sha);
	if (local_mark_pending(c, sha) == -1) {
		fprintf(stderr, "mta-stsctl: %s: nothing changed\n", c->domain);
		goto out;
	}
	if (local_write(c->dirfd, c->file, newsrc, strlen(newsrc), 0) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s: %s; nothing changed\n",
		    c->cfg.policy_dir, c->file, strerror(errno));
		local_mark_pending(c, NULL);
		goto out;
	}
	if (local_reload_until_served(c, pid, cred, np.body, np.bodylen) ==
	    -1 || replica_wait(&c->cfg, c->host, np.body, np.bodylen,
	    (int)c->cfg.dns_wait) == -1) {
		restore(c, pid);
		goto out;
	}
	if (local_issue_id(c, &np, id) == -1) {
		fprintf(stderr, "mta-stsctl: %s: the new policy is served but "
		    "no id could be recorded; run 'mta-stsctl issue %s'\n",
		    c->domain, c->domain);
		goto out;
	}
	rc = announce(c, &np, id, old_age, o->publish);
out:
	tls_certs_free(cs);
	policy_free(&np);
	policy_diags_free(&d);
	return rc;
}

static int
add_opt(const char **v, size_t *n, size_t max, const char *s)
{
	if (*n == max) {
		fprintf(stderr, "mta-stsctl: too many values\n");
		return -1;
	}
	v[(*n)++] = s;
	return 0;
}

/* Parses argv; returns the index of the first operand, or -1 (usage). */
static int
parse_opts(int argc, char **argv, struct opts *o, int *helped)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "mx", required_argument, NULL, OPT_MX },
		{ "add-mx", required_argument, NULL, OPT_ADD_MX },
		{ "remove-mx", required_argument, NULL, OPT_REMOVE_MX },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "rua", required_argument, NULL, OPT_RUA },
		{ "publish", no_argument, NULL, OPT_PUBLISH },
		{ "no-publish", no_argument, NULL, OPT_NO_PUBLISH },
		{ "resolver", required_argument, NULL, OPT_RESOLVER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "ca-file", required_argument, NULL, OPT_CA_FILE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-preflight", no_argument, NULL, OPT_NO_PREFLIGHT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->max_age = -1;
	o->publish = -1;
	o->net.timeout_s = CHECK_TIMEOUT_DEFAULT;
	o->config = ctl_config_path();
	*helped = 0;
	while ((ch = getopt_long(argc, argv, "f:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->config = optarg;
			break;
		case 'n':
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_JSON:
			o->given |= G_JSON;
			o->json = 1;
			break;
		case OPT_MX:
			o->given |= G_MX;
			if (add_opt(o->mx, &o->nmx, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_ADD_MX:
			o->given |= G_ADDDEL;
			if (add_opt(o->add, &o->nadd, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_REMOVE_MX:
			o->given |= G_ADDDEL;
			if (add_opt(o->del, &o->ndel, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_RUA:
			o->given |= G_RUA;
			if (add_opt(o->rua, &o->nrua, 8, optarg) == -1)
				return -1;
			break;
		case OPT_MAX_AGE:
			o->given |= G_AGE;
			errno = 0;
			o->max_age = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg < '0' ||
			    *optarg > '9' || o->max_age > (long)POLICY_MAX_AGE_MAX) {
				fprintf(stderr, "mta-stsctl: --max-age: '%s' is "
				    "not 0 to 31557600 seconds\n", optarg);
				return -1;
			}
			break;
		case OPT_PUBLISH:
		case OPT_NO_PUBLISH:
			o->publish = ch == OPT_PUBLISH;
			break;
		case OPT_RESOLVER:
			o->given |= G_DNS;
			o->net.resolver = optarg;
			break;
		case OPT_TIMEOUT:
			o->given |= G_DNS;
			if (check_timeout_arg(argv[0], optarg,
			    &o->net.timeout_s) == -1)
				return -1;
			break;
		case OPT_CA_FILE:
			o->given |= G_TLS;
			o->net.ca_file = optarg;
			break;
		case OPT_FORCE:
			o->given |= G_PRE;
			o->force = 1;
			break;
		case OPT_NO_PREFLIGHT:
			o->given |= G_PRE;
			o->no_preflight = 1;
			break;
		case 'h':
			*helped = 1;
			return -1;
		default:
			return -1;
		}
	}
	return optind;
}

/*
 * The start every domain command shares: its options (only those in
 * allowed), nargs operands, the domain's context under its lock, and with
 * read, its policy and id record.  Returns the index of the first operand,
 * or -1 with the exit status in *rc.
 */
static int
begin(int argc, char **argv, struct opts *o, struct local *c, int nargs,
    unsigned allowed, int read, int *rc)
{
	int	 i, helped;

	memset(c, 0, sizeof(*c));
	c->dirfd = c->idsfd = -1;
	if ((i = parse_opts(argc, argv, o, &helped)) == -1) {
		*rc = helped ? ctl_help(argv[0]) : ctl_usage(argv[0]);
		return -1;
	}
	if (argc - i != nargs || (o->given & ~allowed) != 0) {
		*rc = ctl_usage(argv[0]);
		return -1;
	}
	*rc = 1;
	if (local_open(c, o->config, argv[i], o->dry_run) == -1 ||
	    (read && (local_read_policy(c, 1) == -1 || local_read_record(c) == -1)))
		return -1;
	c->dry_run = o->dry_run;
	if ((o->publish = publish_wanted(c, o->publish)) == -1)
		return -1;
	return i;
}

/* This host's fully qualified name, or -1 when it has none (no dot). */
static int
fqdn(char *buf, size_t bufsz)
{
	struct addrinfo	 hints, *res;
	char		 h[256];

	if (gethostname(h, sizeof(h)) == -1)
		return -1;
	h[sizeof(h) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (strchr(h, '.') == NULL && getaddrinfo(h, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL)
			snprintf(h, sizeof(h), "%s", res->ai_canonname);
		freeaddrinfo(res);
	}
	if (strchr(h, '.') == NULL || policy_check_host(h, strlen(h), 0))
		return -1;
	snprintf(buf, bufsz, "%s", h);
	return 0;
}

/*
 * init without --mx: the mx lines derived from the domain's MX records
 * (mx.h), printed with the records they come from.  Returns how many, or
 * -1 after saying why there are none to derive.
 */
static int
derive_mx(const struct local *c, const struct opts *o,
    char pat[][POLICY_HOST_MAX + 1])
{
	struct dns		*d = NULL;
	struct dns_answer	*a = NULL;
	struct mx_set		*s = NULL;
	char			 why[600];
	int			 n = -1;

	if ((a = malloc(sizeof(*a))) == NULL ||
	    (s = malloc(sizeof(*s))) == NULL) {
		fprintf(stderr, "mta-stsctl: out of memory\n");
		goto out;
	}
	if ((d = dns_open(o->net.resolver, 0, o->net.timeout_s * 1000, why,
	    sizeof(why))) == NULL) {
		fprintf(stderr, "mta-stsctl init: %s\n", why);
		goto out;
	}
	switch (mx_lookup(d, c->domain, s, a, why, sizeof(why))) {
	case MX_FAIL:
		fprintf(stderr, "mta-stsctl: %s: cannot look up its MX records: "
		    "%s; give --mx\n", c->domain, why);
		goto out;
	case MX_NONE:
		fprintf(stderr, "mta-stsctl: %s: no MX records: its mail goes "
		    "to its address records, which MTA-STS does not cover; "
		    "publish MX records first, or give --mx\n", c->domain);
		goto out;
	case MX_NXDOMAIN:
		fprintf(stderr, "mta-stsctl: %s: the name does not exist in the "
		    "DNS (NXDOMAIN from %s); give --mx\n", c->domain,
		    dns_name(d));
		goto out;
	case MX_NULL:
		fprintf(stderr, "mta-stsctl: %s: a null MX (RFC 7505): the "
		    "domain takes no mail, so there is nothing for MTA-STS to "
		    "protect\n", c->domain);
		goto out;
	case MX_FOUND:
		break;
	}
	printf("%s: MX records from %s:", c->domain, dns_name(d));
	for (size_t i = 0; i < s->n; i++)
		printf(" %u %s%s", s->v[i].pref, s->v[i].host, i + 1 < s->n ?
		    "," : "");
	printf("\n");
	if ((n = mx_patterns(s, pat, MAX_MX, why, sizeof(why))) == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s; fix the MX records, or "
		    "give --mx\n", c->domain, why);
		goto out;
	}
	printf("%s: mx lines derived from them:", c->domain);
	for (int i = 0; i < n; i++)
		printf(" %s", pat[i]);
	printf("%s\n", n == 1 && strcmp(pat[0], MX_EXO_PATTERN) == 0 ?
	    " (every MX host is Exchange Online's: the pattern Microsoft "
	    "documents)" : "");
out:
	dns_close(d);
	free(s);
	free(a);
	return n;
}

/*
 * init's certificate, with [acme] client set: obtained first when none
 * in cert_dir covers the policy host, so that a policy is never written
 * without one.  Returns 1 when one was installed, 0 when none was needed
 * (or, in a dry run, would be), -1 after saying why (nothing changed).
 */
static int
init_cert(struct local *c, struct cert_done *d)
{
	struct tls_certs	*cs;
	struct tls_cred		*ec, *rsa;
	char			 why[1536], until[32];
	struct tm		 tm;
	pid_t			 pid;

	if (c->cfg.acme_client[0] == '\0')
		return 0;
	if ((cs = tls_certs_scan(c->cfg.cert_dir)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s; nothing created\n",
		    c->cfg.cert_dir, strerror(errno));
		return -1;
	}
	tls_certs_find(cs, c->host, time(NULL), &ec, &rsa, NULL, 0);
	tls_certs_free(cs);
	if (ec != NULL || rsa != NULL)
		return 0;
	if (c->dry_run) {
		printf("%s: would obtain a certificate with %s from %s\n",
		    c->host, c->cfg.acme_client, c->cfg.acme_directory);
		return 0;
	}
	if ((pid = local_server_pid(c)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: no certificate covers it, and "
		    "mta-stsd, whose [acme] listener answers the ACME "
		    "challenge, is not running; nothing created\n", c->host);
		return -1;
	}
	if (cert_obtain(c, pid, 0, d, why, sizeof(why)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: no certificate: %s; nothing "
		    "created\n", c->host, why);
		return -1;
	}
	gmtime_r(&d->not_after, &tm);
	strftime(until, sizeof(until), "%Y-%m-%d %H:%MZ", &tm);
	printf("%s: certificate from %s installed in %s; expires %s.\n",
	    c->host, d->issuer, d->dir, until);
	return 1;
}

/* see cmd.h */
int
cmd_init(int argc, char **argv)
{
	struct opts	 o;
	struct local	 c;
	struct policy	 p;
	struct policy_diags d;
	struct cert_done cd;
	char		 src[8192], id[16], line[600], host[256], date[16];
	char		 rpt[1024], derived[MAX_MX][POLICY_HOST_MAX + 1];
	size_t		 n;
	int		 rc, served = 0, nmx = 0, got;
	time_t		 now = time(NULL);
	struct tm	 tm;

	if (begin(argc, argv, &o, &c, 1, G_MX | G_AGE | G_RUA | G_DNS, 0,
	    &rc) == -1)
		goto out;
	rc = 1;
	for (size_t k = 0; k < o.nrua; k++)
		if (ctl_check_rua(o.rua[k]) == -1)
			goto out;
	if (o.nrua > 0 && txt_tlsrpt_format(rpt, sizeof(rpt), o.rua,
	    o.nrua) == -1) {
		fprintf(stderr, "mta-stsctl: --rua: the TLS-RPT record would be "
		    "too long\n");
		goto out;
	}
	if (local_read_policy(&c, 0) == -1)
		goto out;
	if (c.src != NULL) {
		fprintf(stderr, "mta-stsctl: %s/%s exists; init never "
		    "overwrites a policy (use mode or set)\n",
		    c.cfg.policy_dir, c.file);
		goto out;
	}
	if (local_read_record(&c) == -1)
		goto out;
	/* Without --mx: the mx lines that match the live MX records. */
	if (o.nmx == 0 && (nmx = derive_mx(&c, &o, derived)) == -1)
		goto out;
	if (o.nmx == 0)
		for (int k = 0; k < nmx; k++)
			o.mx[o.nmx++] = derived[k];
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	n = (size_t)snprintf(src, sizeof(src), "# %s, created by mta-stsctl "
	    "init on %s.\n# Change it with 'mta-stsctl mode' and 'mta-stsctl "
	    "set'.\nversion: STSv1\nmode: testing\n", c.domain, date);
	for (size_t k = 0; k < o.nmx && n < sizeof(src); k++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "mx: %s\n",
		    o.mx[k]);
	if (n < sizeof(src))
		n += (size_t)snprintf(src + n, sizeof(src) - n,
		    "max_age: %ld\n", o.max_age >= 0 ? o.max_age : 86400L);
	if (n >= sizeof(src)) {
		fprintf(stderr, "mta-stsctl: too many mx\n");
		goto out;
	}
	memset(&d, 0, sizeof(d));
	if (policy_parse(src, n, &p, &d) == -1) {
		for (size_t k = 0; k < d.n; k++)
			fprintf(stderr, "%s\n", policy_diag_format(c.file,
			    &d.v[k], line, sizeof(line)));
		fprintf(stderr, "mta-stsctl: %s: nothing created\n", c.domain);
		policy_diags_free(&d);
		goto out;
	}
	for (size_t k = 0; k < d.n; k++)
		fprintf(stderr, "%s\n", policy_diag_format(c.file, &d.v[k],
		    line, sizeof(line)));
	policy_diags_free(&d);
	if ((got = init_cert(&c, &cd)) == -1) {
		policy_free(&p);
		goto out;
	}
	if (c.dry_run) {
		printf("%s: would create %s/%s:\n%s", c.domain,
		    c.cfg.policy_dir, c.file, src);
		policy_free(&p);
		rc = 0;
		goto out;
	}
	if (local_write(c.dirfd, c.file, src, n, 1) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s: %s; nothing created\n",
		    c.cfg.policy_dir, c.file, strerror(errno));
		if (got == 1 && cd.created)
			cert_remove(&c);
		policy_free(&p);
		goto out;
	}
	if (local_issue_id(&c, &p, id) == -1) {
		policy_free(&p);
		goto out;
	}
	printf("%s: created %s/%s in mode testing (senders report problems "
	    "but deliver anyway).\n", c.domain, c.cfg.policy_dir, c.file);
	{
		struct tls_certs *cs = NULL;
		struct tls_cred *cred;
		pid_t pid;

		pid = local_server_pid(&c);
		cred = pid != -1 ? local_expected_cred(&c, &cs) : NULL;
		served = pid != -1 && cred != NULL &&
		    local_reload_until_served(&c, pid, cred, p.body,
		    p.bodylen) == 0 && replica_wait(&c.cfg, c.host, p.body,
		    p.bodylen, (int)c.cfg.dns_wait) == 0;
		if (served)
			printf("%s: served now.\n", c.host);
		else
			printf("%s: not served yet (%s); the records below "
			    "can wait until it is: 'mta-stsctl status' "
			    "tells.\n", c.host, pid == -1 ?
			    "the server is not running" : cred == NULL ?
			    "no certificate" : "see above");
		tls_certs_free(cs);
	}
	rc = 0;
	if (o.publish && !served) {
		fprintf(stderr, "mta-stsctl: %s: nothing published: the policy "
		    "is not served everywhere yet ('mta-stsctl publish %s%s%s' "
		    "publishes once it is)\n", c.domain, c.domain,
		    o.nrua > 0 ? " --rua " : "", o.nrua > 0 ? o.rua[0] : "");
		rc = 1;
	}
	if (o.publish && served) {
		if (publish_sts(&c, id, "testing") == -1) {
			publish_by_hand(&c, id);
			rc = EX_PUBLISH;
		}
		if (o.nrua > 0 && publish_tlsrpt(&c, rpt, "testing") == -1)
			rc = EX_PUBLISH;
		printf("mta-stsctl does not publish the policy host's "
		    "records (guide, step 2):\n");
	} else {
		printf("Publish these DNS records:\n");
		local_print_txt(c.domain, id);
	}
	if (fqdn(host, sizeof(host)) == 0)
		printf("mta-sts.%s. 3600 IN CNAME %s.\n", c.domain, host);
	else
		printf("; mta-sts.%s. 3600 IN CNAME <this server's full host "
		    "name>.\n", c.domain);
	printf("; (or A and AAAA records with this server's addresses; an A "
	    "record is needed: some senders use IPv4 only)\n");
	if (o.nrua > 0 && !(o.publish && served))
		printf("_smtp._tls.%s. 3600 IN TXT \"%s\"\n", c.domain, rpt);
	/* A report address on this server that nothing would answer. */
	for (size_t k = 0; k < o.nrua; k++)
		if (c.cfg.tlsrpt_dir[0] == '\0' &&
		    strncmp(o.rua[k], "https://mta-sts.", 16) == 0 &&
		    strncasecmp(o.rua[k] + 16, c.domain, strlen(c.domain)) == 0)
			fprintf(stderr, "mta-stsctl: note: %s: tlsrpt_dir is not "
			    "set in %s, so mta-stsd will not receive these "
			    "reports\n", o.rua[k], c.cfgpath);
	policy_free(&p);
out:
	local_close(&c);
	return rc;
}

/* see cmd.h */
int
cmd_mode(int argc, char **argv)
{
	struct opts		 o;
	struct local		 c;
	enum policy_mode	 m;
	char			*newsrc;
	int			 i, rc;

	if ((i = begin(argc, argv, &o, &c, 2, G_DNS | G_TLS | G_PRE, 1,
	    &rc)) != -1) {
		if (policy_mode_parse(argv[i + 1], &m) == -1)
			fprintf(stderr, "mta-stsctl: mode '%s': testing, "
			    "enforce or none\n", argv[i + 1]);
		else if ((newsrc = edit_mode(c.src, c.srclen, m)) != NULL) {
			rc = change(&c, newsrc, &o);
			free(newsrc);
		}
	}
	local_close(&c);
	return rc;
}

/* see cmd.h */
int
cmd_set(int argc, char **argv)
{
	struct opts	 o;
	struct local	 c;
	char		**mx = NULL, *s1 = NULL, *s2 = NULL;
	size_t		 n = 0;
	int		 rc, keep;

	if (begin(argc, argv, &o, &c, 1, G_MX | G_ADDDEL | G_AGE | G_DNS |
	    G_TLS | G_PRE, 1, &rc) == -1)
		goto out;
	/* Room for every mx the policy has and every one added. */
	if ((mx = calloc(c.pol.nmx + o.nmx + o.nadd + 1, sizeof(*mx))) ==
	    NULL) {
		rc = 1;
		goto out;
	}
	if ((o.given & G_MX && o.given & G_ADDDEL) ||
	    (o.given & (G_MX | G_ADDDEL | G_AGE)) == 0) {
		rc = ctl_usage(argv[0]);
		goto out;
	}
	rc = 1;
	if (o.nmx > 0) {
		for (size_t k = 0; k < o.nmx; k++)
			mx[n++] = (char *)(uintptr_t)o.mx[k];
	} else {
		for (size_t k = 0; k < c.pol.nmx; k++) {
			keep = 1;
			for (size_t j = 0; j < o.ndel; j++)
				if (strcasecmp(c.pol.mx[k], o.del[j]) == 0)
					keep = 0;
			if (keep)
				mx[n++] = c.pol.mx[k];
		}
		for (size_t j = 0; j < o.ndel; j++) {
			int found = 0;

			for (size_t k = 0; k < c.pol.nmx; k++)
				if (strcasecmp(c.pol.mx[k], o.del[j]) == 0)
					found = 1;
			if (!found) {
				fprintf(stderr, "mta-stsctl: --remove-mx %s: "
				    "not in the policy; nothing changed\n",
				    o.del[j]);
				goto out;
			}
		}
		for (size_t k = 0; k < o.nadd; k++)
			mx[n++] = (char *)(uintptr_t)o.add[k];
	}
	if (o.nmx > 0 || o.nadd > 0 || o.ndel > 0) {
		if ((s1 = edit_mx(c.src, c.srclen, mx, n)) == NULL)
			goto out;
	} else if ((s1 = strdup(c.src)) == NULL)
		goto out;
	if (o.max_age >= 0) {
		if ((s2 = edit_max_age(s1, strlen(s1),
		    (unsigned long)o.max_age)) == NULL)
			goto out;
	} else {
		s2 = s1;
		s1 = NULL;
	}
	rc = change(&c, s2, &o);
out:
	free(mx);
	free(s1);
	free(s2);
	local_close(&c);
	return rc;
}

/* see cmd.h */
int
cmd_issue(int argc, char **argv)
{
	struct opts		 o;
	struct local		 c;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	char			 sha[65], id[16];
	pid_t			 pid;
	int			 rc;

	if (begin(argc, argv, &o, &c, 1, 0, 1, &rc) == -1)
		goto out;
	rc = 1;
	tls_sha256_hex(c.pol.body, c.pol.bodylen, sha);
	if (c.has_rec && strcmp(sha, c.rec.sha256) == 0) {
		if (!o.publish || c.dry_run ||
		    strcmp(c.rec.published, c.rec.id) == 0) {
			printf("%s: unchanged since id %s was issued%s\n",
			    c.domain, c.rec.id, strcmp(c.rec.published,
			    c.rec.id) == 0 ? ", and published:" : "; publish:");
			local_print_txt(c.domain, c.rec.id);
			rc = 0;
			goto out;
		}
		/* Unchanged, not published yet: as 'mta-stsctl publish'. */
		if (publish_served(&c) == -1)
			goto out;
		rc = 0;
		if (publish_sts(&c, c.rec.id, policy_mode_name(c.pol.mode)) ==
		    -1) {
			publish_by_hand(&c, c.rec.id);
			rc = EX_PUBLISH;
		}
		goto out;
	}
	if (c.dry_run) {
		ids_next(&c.rec, time(NULL), id);
		printf("%s: would issue id %s%s\n", c.domain, id, o.publish ?
		    " and publish it" : "");
		local_print_txt(c.domain, id);
		rc = 0;
		goto out;
	}
	if ((pid = local_server_pid(&c)) == -1 ||
	    (cred = local_expected_cred(&c, &cs)) == NULL ||
	    local_mark_pending(&c, sha) == -1) {
		fprintf(stderr, "mta-stsctl: %s: no id issued\n", c.domain);
		goto out;
	}
	if (local_reload_until_served(&c, pid, cred, c.pol.body,
	    c.pol.bodylen) == -1 || replica_wait(&c.cfg, c.host, c.pol.body,
	    c.pol.bodylen, (int)c.cfg.dns_wait) == -1) {
		local_mark_pending(&c, NULL);
		fprintf(stderr, "mta-stsctl: %s: no id issued\n", c.domain);
		goto out;
	}
	if (local_issue_id(&c, &c.pol, id) == -1)
		goto out;
	rc = 0;
	if (o.publish) {
		printf("%s serves the policy; new id %s.\n", c.host, id);
		if (publish_sts(&c, id, policy_mode_name(c.pol.mode)) == -1) {
			publish_by_hand(&c, id);
			rc = EX_PUBLISH;
		}
	} else {
		printf("%s serves the policy; new id %s. Publish this record "
		    "now:\n", c.host, id);
		local_print_txt(c.domain, id);
	}
out:
	tls_certs_free(cs);
	local_close(&c);
	return rc;
}

