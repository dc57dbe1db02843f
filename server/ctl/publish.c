/*
 * publish.c: the TXT records published by mta-stsctl itself (see
 * publish.h), and the commands publish and unpublish.
 *
 * A record is published when every authoritative server of its zone
 * answers it, not when the primary or the hook accepted it: until then
 * some senders still see the old one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/auth.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/hook.h"
#include "ctl/local.h"
#include "ctl/publish.h"
#include "ctl/replica.h"
#include "ctl/update.h"
#include "lib/config.h"
#include "lib/ids.h"
#include "lib/policy.h"
#include "lib/tsig.h"
#include "lib/txt.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define UPDATE_MS	5000	/* the primary's answer to an update */
#define RUA_MAX		8

/* see publish.h */
int
publish_wanted(const struct local *c, int flag)
{
	if (flag == 1 && c->cfg.dns_update == CONFIG_UPDATE_OFF) {
		fprintf(stderr, "mta-stsctl: --publish: [dns] update is not "
		    "set in %s (rfc2136 or exec: see mta-stsd.conf(5))\n",
		    c->cfgpath);
		return -1;
	}
	if (flag != -1)
		return flag;
	return c->cfg.dns_publish;
}

/*
 * Makes text the one record at name starting with tag (text NULL: no
 * such record), through [dns] update, then waits until every
 * authoritative server answers what: 0, or -1 after saying why.
 */
static int
publish_txt(struct local *c, const char *name, const char *tag,
    const char *text, const char *what, const struct hook_env *env)
{
	struct auth	*a;
	struct tsig_key	 key;
	struct update	 u;
	const char	*args[5];
	char		 err[600], ttl[16];
	int		 unchanged, rc = -1;

	if ((a = malloc(sizeof(*a))) == NULL) {
		fprintf(stderr, "mta-stsctl: out of memory\n");
		return -1;
	}
	/* Where to prove it, before changing anything. */
	if (auth_find(&c->cfg, name, a, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s; nothing was sent\n", name,
		    err);
		goto out;
	}
	if (c->cfg.dns_update == CONFIG_UPDATE_RFC2136) {
		if (tsig_read(c->cfg.dns_tsig_key, &key, err, sizeof(err)) ==
		    -1) {
			fprintf(stderr, "mta-stsctl: [dns] tsig_key %s; nothing "
			    "was sent\n", err);
			goto out;
		}
		memset(&u, 0, sizeof(u));
		u.server = c->cfg.dns_server;
		u.zone = a->zone;
		u.key = &key;
		u.name = name;
		u.tag = tag;
		u.text = text;
		u.ttl = c->cfg.dns_ttl;
		u.timeout_ms = UPDATE_MS;
		rc = update_txt(&u, &unchanged, err, sizeof(err));
		tsig_clear(&key);
		if (rc == -1) {
			fprintf(stderr, "mta-stsctl: %s: the update was not "
			    "accepted: %s\n", name, err);
			goto out;
		}
		if (unchanged)
			printf("%s: the primary %s already has it; no update "
			    "sent\n", name, c->cfg.dns_server);
		else
			printf("%s: update accepted by the primary %s (zone "
			    "%s)\n", name, c->cfg.dns_server, a->zone);
	} else {
		snprintf(ttl, sizeof(ttl), "%u", c->cfg.dns_ttl);
		args[0] = text != NULL ? "publish" : "remove";
		args[1] = name;
		args[2] = text != NULL ? ttl : tag;
		args[3] = text;
		args[4] = NULL;
		if (hook_run(c->cfg.dns_hook, args, env,
		    (int)c->cfg.dns_hook_timeout, err, sizeof(err)) == -1) {
			fprintf(stderr, "mta-stsctl: %s: %s (what it said, if "
			    "anything, is above)\n", name, err);
			rc = -1;
			goto out;
		}
		printf("%s: the hook accepted the change (zone %s)\n", name,
		    a->zone);
	}
	fflush(stdout);
	rc = auth_wait(a, name, tag, text, what, (int)c->cfg.dns_wait);
out:
	free(a);
	return rc;
}

/* see publish.h */
int
publish_sts(struct local *c, const char *id, const char *mode)
{
	struct hook_env	 env = { c->domain, id, mode };
	char		 name[POLICY_HOST_MAX + 16], text[64];

	snprintf(name, sizeof(name), "_mta-sts.%s", c->domain);
	snprintf(text, sizeof(text), "v=STSv1; id=%s;", id);
	if (publish_txt(c, name, "v=STSv1", text, "the new id", &env) == -1)
		return -1;
	printf("published: %s TXT \"%s\"\n", name, text);
	ids_published(&c->rec, id, time(NULL));
	if (local_write_record(c) == -1)
		fprintf(stderr, "mta-stsctl: %s: published, but not recorded "
		    "as such: 'mta-stsctl publish %s' records it\n", c->domain,
		    c->domain);
	return 0;
}

/* see publish.h */
int
publish_tlsrpt(struct local *c, const char *text, const char *mode)
{
	struct hook_env	 env = { c->domain, c->rec.id, mode };
	char		 name[POLICY_HOST_MAX + 16];

	snprintf(name, sizeof(name), "_smtp._tls.%s", c->domain);
	if (publish_txt(c, name, "v=TLSRPTv1", text, "the TLS-RPT record",
	    &env) == -1) {
		fprintf(stderr, "mta-stsctl: %s: the TLS-RPT record is not "
		    "published: publish it by hand:\n", c->domain);
		printf("%s. %u IN TXT \"%s\"\n", name, c->cfg.dns_ttl, text);
		return -1;
	}
	printf("published: %s TXT \"%s\"\n", name, text);
	return 0;
}

/* see publish.h */
void
publish_by_hand(const struct local *c, const char *id)
{
	fprintf(stderr, "mta-stsctl: %s: the new policy is served, but id %s "
	    "is NOT published: publish this record by hand, replacing the "
	    "v=STSv1 record there, or run 'mta-stsctl publish %s' once the "
	    "cause is fixed:\n", c->domain, id, c->domain);
	local_print_txt(c->domain, id);
}

/* see publish.h */
int
publish_served(struct local *c)
{
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	char			 sha[65], why[512];
	pid_t			 pid;
	int			 rc = -1;

	tls_sha256_hex(c->pol.body, c->pol.bodylen, sha);
	if (!c->has_rec || c->rec.id[0] == '\0') {
		fprintf(stderr, "mta-stsctl: %s: no id issued yet ('mta-stsctl "
		    "issue %s' issues one)\n", c->domain, c->domain);
		return -1;
	}
	if (strcmp(sha, c->rec.sha256) != 0) {
		fprintf(stderr, "mta-stsctl: %s: the policy changed since id %s "
		    "was issued: 'mta-stsctl issue --publish %s' serves it "
		    "and publishes a new id\n", c->domain, c->rec.id,
		    c->domain);
		return -1;
	}
	if ((pid = local_server_pid(c)) == -1 ||
	    (cred = local_expected_cred(c, &cs)) == NULL)
		goto out;
	if (local_served(c, cred, c->pol.body, c->pol.bodylen, why,
	    sizeof(why)) != 1) {
		fprintf(stderr, "mta-stsctl: %s: the server does not serve the "
		    "policy of id %s: %s ('mta-stsctl issue %s' reloads it)\n",
		    c->host, c->rec.id, why, c->domain);
		goto out;
	}
	if (replica_wait(&c->cfg, c->host, c->pol.body, c->pol.bodylen,
	    (int)c->cfg.dns_wait) == -1)
		goto out;
	rc = 0;
out:
	tls_certs_free(cs);
	return rc;
}

/* Options of publish and unpublish. */
struct popts {
	const char	*config;
	int		 dry_run;
	int		 force;
	const char	*rua[RUA_MAX];
	size_t		 nrua;
};

enum { OPT_RUA = 256, OPT_FORCE, OPT_DRY_RUN };

/* Parses argv; the index of DOMAIN, or -1 with the status in *rc. */
static int
popts_parse(int argc, char **argv, struct popts *o, int unpublish, int *rc)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "rua", required_argument, NULL, OPT_RUA },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->config = ctl_config_path();
	while ((ch = getopt_long(argc, argv, "f:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->config = optarg;
			break;
		case 'n':
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_RUA:
			if (unpublish || o->nrua == RUA_MAX) {
				*rc = ctl_usage(argv[0]);
				return -1;
			}
			if (ctl_check_rua(optarg) == -1) {
				*rc = EX_FAIL;
				return -1;
			}
			o->rua[o->nrua++] = optarg;
			break;
		case OPT_FORCE:
			if (!unpublish) {
				*rc = ctl_usage(argv[0]);
				return -1;
			}
			o->force = 1;
			break;
		case 'h':
			*rc = ctl_help(argv[0]);
			return -1;
		default:
			*rc = ctl_usage(argv[0]);
			return -1;
		}
	}
	if (argc - optind != 1) {
		*rc = ctl_usage(argv[0]);
		return -1;
	}
	return optind;
}

/* The domain under its lock, its policy and record: 0, or -1 (status 1). */
static int
open_domain(struct local *c, const struct popts *o, const char *domain)
{
	if (local_open(c, o->config, domain, o->dry_run) == -1 ||
	    local_read_policy(c, 1) == -1 || local_read_record(c) == -1)
		return -1;
	c->dry_run = o->dry_run;
	if (c->cfg.dns_update == CONFIG_UPDATE_OFF) {
		fprintf(stderr, "mta-stsctl: %s: [dns] update is not set in %s: "
		    "mta-stsctl cannot change the DNS (see mta-stsd.conf(5))\n",
		    c->domain, c->cfgpath);
		return -1;
	}
	return 0;
}

/* see cmd.h */
int
cmd_publish(int argc, char **argv)
{
	struct popts	 o;
	struct local	 c;
	char		 text[1024];
	int		 i, rc;

	memset(&c, 0, sizeof(c));
	c.dirfd = c.idsfd = -1;
	if ((i = popts_parse(argc, argv, &o, 0, &rc)) == -1)
		return rc;
	rc = EX_FAIL;
	if (o.nrua > 0 && txt_tlsrpt_format(text, sizeof(text), o.rua,
	    o.nrua) == -1) {
		fprintf(stderr, "mta-stsctl: --rua: the record would be too "
		    "long\n");
		goto out;
	}
	if (open_domain(&c, &o, argv[i]) == -1 || publish_served(&c) == -1)
		goto out;
	if (c.dry_run) {
		printf("%s: would publish, through %s:\n", c.domain,
		    c.cfg.dns_update == CONFIG_UPDATE_RFC2136 ? "an update to "
		    "the primary" : "the hook");
		local_print_txt(c.domain, c.rec.id);
		if (o.nrua > 0)
			printf("_smtp._tls.%s. %u IN TXT \"%s\"\n", c.domain,
			    c.cfg.dns_ttl, text);
		rc = EX_OK;
		goto out;
	}
	rc = EX_OK;
	if (publish_sts(&c, c.rec.id, policy_mode_name(c.pol.mode)) == -1) {
		publish_by_hand(&c, c.rec.id);
		rc = EX_PUBLISH;
	}
	if (o.nrua > 0 && publish_tlsrpt(&c, text,
	    policy_mode_name(c.pol.mode)) == -1)
		rc = EX_PUBLISH;
out:
	local_close(&c);
	return rc;
}

/*
 * When removing the _mta-sts record is safe: mode none is served under
 * the current id, and senders no longer hold a policy from before it.
 * Returns 1 (safe), or 0 after saying why not and when it will be.
 */
static int
removal_safe(const struct local *c, time_t now)
{
	char		 sha[65], date[32];
	time_t		 until = ids_time(c->rec.cached_until);
	struct tm	 tm;

	tls_sha256_hex(c->pol.body, c->pol.bodylen, sha);
	if (c->pol.mode != POLICY_MODE_NONE || !c->has_rec ||
	    strcmp(sha, c->rec.sha256) != 0) {
		fprintf(stderr, "mta-stsctl: %s: the policy is in mode %s%s: "
		    "first 'mta-stsctl mode %s none' (with its new id "
		    "published), then wait out the previous max_age\n",
		    c->domain, policy_mode_name(c->pol.mode), c->has_rec &&
		    strcmp(sha, c->rec.sha256) != 0 ? " and changed since its "
		    "id" : "", c->domain);
		return 0;
	}
	if (strcmp(c->rec.published, c->rec.id) != 0) {
		fprintf(stderr, "mta-stsctl: %s: id %s of mode none is not "
		    "recorded as published: 'mta-stsctl publish %s' first, "
		    "then wait out the previous max_age\n", c->domain,
		    c->rec.id, c->domain);
		return 0;
	}
	if (until == -1 && c->rec.nhistory > 0) {
		fprintf(stderr, "mta-stsctl: %s: the id record does not say "
		    "when the previous policy was replaced (it predates this "
		    "version): wait the previous max_age from when id %s was "
		    "issued (%s), then use --force\n", c->domain, c->rec.id,
		    c->rec.issued);
		return 0;
	}
	if (until != -1 && now < until) {
		gmtime_r(&until, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d %H:%MZ", &tm);
		fprintf(stderr, "mta-stsctl: %s: not before %s: senders may "
		    "apply the policy mode none replaced until then, and "
		    "without the record they would keep it (RFC 8461 section "
		    "8.3); --force removes it now\n", c->domain, date);
		return 0;
	}
	return 1;
}

/* see cmd.h */
int
cmd_unpublish(int argc, char **argv)
{
	struct popts	 o;
	struct local	 c;
	struct hook_env	 env;
	char		 name[POLICY_HOST_MAX + 16];
	int		 i, rc;

	memset(&c, 0, sizeof(c));
	c.dirfd = c.idsfd = -1;
	if ((i = popts_parse(argc, argv, &o, 1, &rc)) == -1)
		return rc;
	rc = EX_FAIL;
	if (open_domain(&c, &o, argv[i]) == -1)
		goto out;
	if (!removal_safe(&c, time(NULL))) {
		if (!o.force)
			goto out;
		fprintf(stderr, "mta-stsctl: %s: --force: removing the record "
		    "anyway\n", c.domain);
	}
	snprintf(name, sizeof(name), "_mta-sts.%s", c.domain);
	if (c.dry_run) {
		printf("%s: would remove every v=STSv1 TXT record at %s\n",
		    c.domain, name);
		rc = EX_OK;
		goto out;
	}
	env.domain = c.domain;
	env.id = c.rec.id;
	env.mode = policy_mode_name(c.pol.mode);
	if (publish_txt(&c, name, "v=STSv1", NULL, "no v=STSv1 record",
	    &env) == -1) {
		fprintf(stderr, "mta-stsctl: %s: the v=STSv1 record is not "
		    "removed everywhere; remove it by hand, or run 'mta-stsctl "
		    "unpublish %s' again\n", c.domain, c.domain);
		rc = EX_PUBLISH;
		goto out;
	}
	ids_unpublished(&c.rec, time(NULL));
	if (local_write_record(&c) == -1)
		goto out;
	printf("unpublished: %s has no v=STSv1 record.\nNow delete %s/%s "
	    "and the mta-sts.%s address records; keep %s/%s/%s (it "
	    "remembers the ids used).\n", name, c.cfg.policy_dir, c.file,
	    c.domain, c.cfg.policy_dir, IDS_DIR, c.idfile);
	rc = EX_OK;
out:
	local_close(&c);
	return rc;
}
