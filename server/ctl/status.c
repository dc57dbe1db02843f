/*
 * status.c: mta-stsctl status, what each domain's policy, id,
 * certificate and server are doing now.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/auth.h"
#include "ctl/cert.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/local.h"
#include "ctl/replica.h"
#include "lib/config.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/policy.h"
#include "lib/txt.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define DNS_ASK_MS	3000	/* one authoritative server */

/*
 * status --dns for one domain: the id each authoritative server answers
 * and whether each replica serves the policy, as text or JSON members.
 * Returns the number of problems.
 */
static int
status_dns(const struct local *c, int json)
{
	struct auth		*a;
	struct replica_state	 rs[CONFIG_MAX_REPLICAS];
	struct txt_record	 t;
	char			 name[POLICY_HOST_MAX + 16], said[300];
	char			 err[600];
	int			 problems = 0, rc, nr;

	snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
	if ((a = malloc(sizeof(*a))) == NULL)
		return 1;
	if (auth_find(&c->cfg, name, a, err, sizeof(err)) == -1) {
		problems++;
		if (json) {
			printf(", \"dns\": {\"error\": ");
			ctl_json_str(err);
			printf("}");
		} else
			printf("  dns: %s\n", err);
	} else {
		if (json) {
			printf(", \"dns\": {\"zone\": ");
			ctl_json_str(a->zone);
			printf(", \"servers\": [");
		} else
			printf("  dns: zone %s, %zu name servers\n", a->zone,
			    a->n);
		for (size_t i = 0; i < a->n; i++) {
			rc = auth_ask(&a->v[i], name, "v=STSv1", NULL,
			    DNS_ASK_MS, said, sizeof(said));
			/* The id, when exactly one valid record came. */
			t.id[0] = '\0';
			if (rc == 0 && strchr(said, '|') == NULL &&
			    txt_parse(said, strlen(said), &t, err,
			    sizeof(err)) == -1)
				t.id[0] = '\0';
			if (t.id[0] == '\0' || !c->has_rec ||
			    strcmp(t.id, c->rec.id) != 0)
				problems++;
			if (json) {
				printf("%s{\"name\": ", i > 0 ? ", " : "");
				ctl_json_str(a->v[i].ns);
				printf(", \"address\": ");
				ctl_json_str(a->v[i].addr);
				printf(", \"id\": ");
				if (t.id[0] != '\0')
					ctl_json_str(t.id);
				else
					printf("null");
				printf(", \"answer\": ");
				ctl_json_str(rc == 1 ? "" : said);
				printf(", \"current\": %s}", t.id[0] != '\0' &&
				    c->has_rec && strcmp(t.id, c->rec.id) == 0 ?
				    "true" : "false");
			} else if (t.id[0] != '\0')
				printf("    %s (%s): id %s%s\n", a->v[i].ns,
				    a->v[i].addr, t.id, c->has_rec &&
				    strcmp(t.id, c->rec.id) == 0 ? "" :
				    ", not the current id");
			else
				printf("    %s (%s): %s\n", a->v[i].ns,
				    a->v[i].addr, rc == 1 ? "no v=STSv1 record" :
				    rc == -1 ? said : "no valid v=STSv1 record");
		}
		if (json)
			printf("]}");
	}
	free(a);
	nr = c->cfg.nreplicas == 0 ? 0 : replica_ask(&c->cfg, c->host,
	    c->pol.body, c->pol.bodylen, rs, err, sizeof(err));
	if (json)
		printf(", \"replicas\": [");
	for (size_t i = 0; nr >= 0 && i < c->cfg.nreplicas; i++) {
		if (rs[i].serves != 1)
			problems++;
		if (json) {
			printf("%s{\"replica\": ", i > 0 ? ", " : "");
			ctl_json_str(rs[i].replica);
			printf(", \"serves\": %s, \"why\": ", rs[i].serves ==
			    1 ? "true" : "false");
			ctl_json_str(rs[i].why);
			printf("}");
		} else
			printf("  replica %s: %s\n", rs[i].replica, rs[i].why);
	}
	if (nr == -1) {
		problems++;
		if (!json)
			printf("  replicas: trust store %s\n", err);
	}
	if (json)
		printf("]");
	return problems;
}

/* One domain of status: human text or a JSON object. */
static int
status_one(const struct local *base, const char *domain,
    const struct tls_certs *cs, pid_t pid, int json, int dns, int *printed)
{
	const struct config *cfg = &base->cfg;
	struct local	 c;
	struct tls_cred	*ec, *rsa, *cred;
	char		 sha[65], next[16], why[512] = "", served_s[600];
	char		 issuer[80] = "", expires[32] = "", agewhy[128];
	const char	*drift = NULL, *short_age;
	long		 left = 0, renew_in = 0;
	time_t		 now = time(NULL), na;
	struct tm	 tm;
	int		 ok, due = 0, problems = 0, published = -1;

	/* The configuration and directories status opened once, shared. */
	memset(&c, 0, sizeof(c));
	c.cfg = base->cfg;
	c.cfgpath = base->cfgpath;
	c.dirfd = base->dirfd;
	c.idsfd = base->idsfd;
	c.borrowed = 1;
	if (local_set_domain(&c, domain) == -1 ||
	    local_read_policy(&c, 1) == -1 || local_read_record(&c) == -1) {
		if (json) {
			printf("%s\n  {\"domain\": ", *printed ? "," : "");
			ctl_json_str(domain);
			printf(", \"error\": \"unreadable policy or id "
			    "record\"}");
			(*printed)++;
		} else
			printf("%s: unreadable policy or id record (see "
			    "above)\n", domain);
		local_close(&c);
		return 1;
	}
	tls_sha256_hex(c.pol.body, c.pol.bodylen, sha);
	if (!c.has_rec)
		drift = "no id issued yet";
	else if (strcmp(sha, c.rec.sha256) != 0)
		drift = strcmp(sha, c.rec.pending) == 0 ? "changed by an "
		    "unfinished mta-stsctl run" : "changed since the id was "
		    "issued";
	ids_next(&c.rec, time(NULL), next);
	/* Known only when mta-stsctl publishes ([dns] update). */
	if (cfg->dns_update != CONFIG_UPDATE_OFF && c.has_rec)
		published = strcmp(c.rec.published, c.rec.id) == 0;
	tls_certs_find(cs, c.host, time(NULL), &ec, &rsa, why, sizeof(why));
	cred = ec != NULL ? ec : rsa;
	if (cred != NULL) {
		na = tls_cred_not_after(cred);
		left = (long)((na - now) / 86400);
		due = cert_due(na, now, cfg->acme_renew_days, &renew_in);
		tls_cred_issuer(cred, issuer, sizeof(issuer));
		gmtime_r(&na, &tm);
		strftime(expires, sizeof(expires), "%Y-%m-%d %H:%MZ", &tm);
	}
	if (pid == -1)
		snprintf(served_s, sizeof(served_s), cfg->pid_file[0] ?
		    "server not running" : "unknown (no pid_file set)");
	else if (cred == NULL)
		snprintf(served_s, sizeof(served_s), "not served (%s)", why);
	else {
		ok = local_served(&c, cred, c.pol.body, c.pol.bodylen, served_s,
		    sizeof(served_s));
		if (ok == 1)
			snprintf(served_s, sizeof(served_s), "serves this "
			    "policy");
		else {
			char tmp[600];

			snprintf(tmp, sizeof(tmp), "serves %.500s", served_s);
			memcpy(served_s, tmp, sizeof(tmp));
		}
	}
	short_age = policy_short_max_age(&c.pol, agewhy, sizeof(agewhy));
	problems = drift != NULL || cred == NULL || left < 14 ||
	    strcmp(served_s, "serves this policy") != 0 || published == 0 ||
	    short_age != NULL;
	if (json) {
		printf("%s\n  {\"domain\": ", *printed ? "," : "");
		(*printed)++;
		ctl_json_str(c.domain);
		printf(", \"mode\": \"%s\", \"max_age\": %lu, \"mx\": [",
		    policy_mode_name(c.pol.mode), c.pol.max_age);
		for (size_t k = 0; k < c.pol.nmx; k++) {
			if (k > 0)
				printf(", ");
			ctl_json_str(c.pol.mx[k]);
		}
		printf("], \"id\": ");
		if (c.has_rec)
			ctl_json_str(c.rec.id);
		else
			printf("null");
		printf(", \"max_age_warning\": ");
		if (short_age != NULL)
			ctl_json_str(short_age);
		else
			printf("null");
		printf(", \"published\": %s", published == -1 ? "null" :
		    published ? "true" : "false");
		printf(", \"changed_since_id\": %s, \"next_id\": ",
		    drift != NULL ? "true" : "false");
		if (drift != NULL)
			ctl_json_str(next);
		else
			printf("null");
		printf(", \"certificate\": ");
		if (cred != NULL) {
			printf("{\"subject\": ");
			ctl_json_str(tls_cred_subject(cred));
			printf(", \"kind\": ");
			ctl_json_str(tls_cred_kind(cred));
			printf(", \"days_left\": %ld, \"issuer\": ", left);
			ctl_json_str(issuer);
			printf(", \"expires\": ");
			ctl_json_str(expires);
			printf(", \"renewal_due\": %s, \"renew_in_days\": %ld}",
			    due ? "true" : "false", renew_in);
		} else
			printf("null");
		printf(", \"server\": ");
		ctl_json_str(served_s);
		if (dns && status_dns(&c, 1) > 0)
			problems = 1;
		printf("}");
	} else {
		printf("%s: mode %s, max_age %lu, mx", c.domain,
		    policy_mode_name(c.pol.mode), c.pol.max_age);
		for (size_t k = 0; k < c.pol.nmx; k++)
			printf(" %s", c.pol.mx[k]);
		if (short_age != NULL)
			printf("\n  warning: %s", short_age);
		printf("\n  id: %s", c.has_rec ? c.rec.id : "(none)");
		if (published == 1)
			printf(" (published %s)", c.rec.published_at);
		else if (published == 0 && drift == NULL)
			printf(" -- not published: run 'mta-stsctl publish %s'",
			    c.domain);
		if (drift != NULL)
			printf(" -- policy %s: run 'mta-stsctl issue %s' and "
			    "publish id %s", drift, c.domain, next);
		printf("\n  certificate: ");
		if (cred != NULL) {
			printf("%s (%s), %ld days left, expires %s, issuer "
			    "%s\n", tls_cred_subject(cred), tls_cred_kind(cred),
			    left, expires, issuer);
			if (!due)
				printf("  renewal: in %ld days (renew_days %u)\n",
				    renew_in, cfg->acme_renew_days);
			else
				printf("  renewal: due (renew_days %u): %s\n",
				    cfg->acme_renew_days, cfg->acme_client[0] ?
				    "'mta-stsctl cert --renew' renews it" :
				    "renew it, or set [acme] client for "
				    "'mta-stsctl cert --renew'");
		} else
			printf("none: %s\n", why);
		printf("  server: %s\n", served_s);
		if (dns && status_dns(&c, 0) > 0)
			problems = 1;
	}
	local_close(&c);
	return problems;
}

/* see cmd.h */
int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "dns", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct local		 c;
	struct tls_certs	*cs;
	const char		*config = ctl_config_path();
	char			**names = NULL;
	size_t			 n = 0;
	long			 nl;
	pid_t			 pid;
	int			 i, ch, json = 0, dns = 0, rc = 0;
	int			 printed = 0;

	while ((ch = getopt_long(argc, argv, "f:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			config = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			dns = 1;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	i = optind;
	if (argc - i > 1)
		return ctl_usage(argv[0]);
	if (local_open(&c, config, NULL, 1) == -1) {
		local_close(&c);
		return 1;
	}
	log_set_level(LOG_LVL_ERROR);
	if ((cs = tls_certs_scan(c.cfg.cert_dir)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", c.cfg.cert_dir,
		    strerror(errno));
		local_close(&c);
		return 1;
	}
	/* Quietly: status reports a stopped server per domain. */
	pid = -1;
	if (c.cfg.pid_file[0] != '\0') {
		int saved = dup(STDERR_FILENO), null = open("/dev/null",
		    O_WRONLY | O_CLOEXEC);

		if (saved != -1 && null != -1) {
			dup2(null, STDERR_FILENO);
			pid = local_server_pid(&c);
			dup2(saved, STDERR_FILENO);
		}
		if (saved != -1)
			close(saved);
		if (null != -1)
			close(null);
	}
	if (argc - i == 1) {
		names = malloc(sizeof(*names));
		if (names != NULL && (names[0] = strdup(argv[i])) != NULL)
			n = 1;
	} else if ((nl = local_domains(&c, &names)) == -1)
		rc = 1;
	else
		n = (size_t)nl;
	if (json)
		printf("[");
	for (size_t k = 0; k < n; k++)
		if (status_one(&c, names[k], cs, pid, json, dns, &printed) != 0)
			rc = 1;
	if (json)
		printf("%s]\n", n > 0 ? "\n" : "");
	local_domains_free(names, (long)n);
	tls_certs_free(cs);
	local_close(&c);
	return rc;
}

