/*
 * reports.c: mta-stsctl reports: the TLS-RPT store summed per domain, day
 * and organisation (the rows), its decisions (summary.h), the page
 * (html.h), and reports brought in from files or mail (mail.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/html.h"
#include "ctl/mail.h"
#include "ctl/summary.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/policy.h"
#include "lib/tlsrpt.h"

/* Prints "label: a, b, c" for the keys of o. */
static void
print_keys(const char *label, json_t *o)
{
	const char	**k = summary_keys(o);

	if (k == NULL || k[0] == NULL) {
		free(k);
		return;
	}
	printf("      %s:", label);
	for (size_t i = 0; k[i] != NULL; i++)
		printf("%s %s", i > 0 ? "," : "", k[i]);
	printf("\n");
	free(k);
}

/* One row: a domain, a day, an organisation. */
static json_t *
row(const char *domain, const char *day, const char *orgname, json_t *org)
{
	json_t		 *r, *fl, *t, *ft = json_object_get(org, "failures");
	const char	**types = summary_keys(ft);

	r = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "domain", domain,
	    "date", day, "organization", orgname, "reports",
	    summary_count(org, "reports"), "successful",
	    summary_count(org, "successful"), "failed",
	    summary_count(org, "failed"));
	fl = json_array();
	for (size_t i = 0; types != NULL && types[i] != NULL; i++) {
		t = json_object_get(ft, types[i]);
		json_array_append_new(fl, json_pack("{s:s, s:I, s:o, s:o, s:s}",
		    "result-type", types[i], "sessions",
		    summary_count(t, "sessions"),
		    "mx-hosts", summary_key_array(json_object_get(t, "mx")),
		    "sending-ips", summary_key_array(json_object_get(t, "ips")),
		    "hint", tlsrpt_hint(types[i])));
	}
	json_object_set_new(r, "failures", fl);
	free(types);
	return r;
}

static void
print_row(json_t *r)
{
	json_t	*f;
	size_t	 i;

	printf("  %s %s: %lld report%s, %lld sessions successful, %lld "
	    "failed\n", summary_str(r, "date"), summary_str(r, "organization"),
	    (long long)summary_count(r, "reports"),
	    summary_count(r, "reports") == 1 ? "" : "s",
	    (long long)summary_count(r, "successful"),
	    (long long)summary_count(r, "failed"));
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		json_t	*mx = json_object(), *ips = json_object(), *v;
		size_t	 j;

		printf("    %s: %lld session%s\n",
		    summary_str(f, "result-type"),
		    (long long)summary_count(f, "sessions"),
		    summary_count(f, "sessions") == 1 ? "" : "s");
		json_array_foreach(json_object_get(f, "mx-hosts"), j, v)
			json_object_set(mx, json_string_value(v), v);
		json_array_foreach(json_object_get(f, "sending-ips"), j, v)
			json_object_set(ips, json_string_value(v), v);
		print_keys("MX hosts", mx);
		print_keys("sending IPs", ips);
		printf("      hint: %s\n", summary_str(f, "hint"));
		json_decref(mx);
		json_decref(ips);
	}
}

/* Prints the rows, as text or as one JSON array. */
static void
print_rows(json_t *sums, int as_json)
{
	const char	**doms = summary_keys(sums), **days, **orgs;
	json_t		 *all = json_array(), *r, *dj, *oj;
	const char	 *last = NULL;

	for (size_t i = 0; doms != NULL && doms[i] != NULL; i++) {
		dj = json_object_get(json_object_get(sums, doms[i]), "days");
		days = summary_keys(dj);
		for (size_t j = 0; days != NULL && days[j] != NULL; j++) {
			oj = json_object_get(dj, days[j]);
			orgs = summary_keys(oj);
			for (size_t k = 0; orgs != NULL && orgs[k] != NULL;
			    k++) {
				r = row(doms[i], days[j], orgs[k],
				    json_object_get(oj, orgs[k]));
				if (!as_json) {
					if (last != doms[i])
						printf("%s\n", doms[i]);
					last = doms[i];
					print_row(r);
				}
				json_array_append_new(all, r);
			}
			free(orgs);
		}
		free(days);
	}
	if (as_json)
		json_dumpf(all, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (as_json)
		printf("\n");
	else if (json_array_size(all) == 0)
		printf("no reports\n");
	json_decref(all);
	free(doms);
}

/* Imports one report file into the store. */
static int
import_one(int top, const char *path, const struct config *c)
{
	struct tlsrpt_caps	 caps;
	struct tlsrpt_meta	 m;
	const char		*why;
	char			*raw, *json = NULL;
	size_t			 rawlen, len;
	int			 big, rc = -1;

	caps.max_size = c->tlsrpt_max_size;
	caps.max_json = c->tlsrpt_max_json;
	caps.max_ratio = c->tlsrpt_max_ratio;
	if (file_read(AT_FDCWD, path, caps.max_json > caps.max_size ?
	    caps.max_json : caps.max_size, 0, &raw, &rawlen) == -1) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", path,
		    errno == EFBIG ? "larger than tlsrpt_max_json" :
		    strerror(errno));
		return -1;
	}
	/* Saved from mail, a plain report may be larger than a POST. */
	if (rawlen > caps.max_size && !(rawlen >= 2 &&
	    (unsigned char)raw[0] == 0x1f && (unsigned char)raw[1] == 0x8b))
		caps.max_size = rawlen;
	if ((why = tlsrpt_unpack(raw, rawlen, TLSRPT_ANY, &caps, &json, &len,
	    &big)) != NULL || (why = tlsrpt_check(json, len, &m)) != NULL) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", path, why);
		goto out;
	}
	switch (tlsrpt_store(top, m.domain, &m, json, len)) {
	case 1:
		printf("%s: stored as %s/%s/%s\n", path, c->tlsrpt_dir,
		    m.domain, m.name);
		rc = 0;
		break;
	case 0:
		printf("%s: already stored (%s/%s/%s)\n", path, c->tlsrpt_dir,
		    m.domain, m.name);
		rc = 0;
		break;
	default:
		fprintf(stderr, "mta-stsctl reports: %s: cannot store in "
		    "%s/%s: %s\n", path, c->tlsrpt_dir, m.domain,
		    strerror(errno));
		break;
	}
out:
	free(raw);
	free(json);
	return rc;
}

/*
 * --import-mail: each PATH, or standard input.  The exit status is what
 * an MTA pipe understands: 0 when every message was dealt with (a
 * message without a report, or a hostile one, is logged and dropped:
 * bouncing it would only mail a report sender's no-reply address), 75
 * when the MTA should try again (nothing of that message is stored),
 * 66 for a PATH that cannot be read.
 */
static int
import_mail(int top, const struct config *c, int n, char **paths)
{
	struct mail_intake	 mi;
	char			*stdin_only[] = { "-" };

	memset(&mi, 0, sizeof(mi));
	mi.dirfd = top;
	mi.dir = c->tlsrpt_dir;
	mi.caps.max_size = c->tlsrpt_max_size;
	mi.caps.max_json = c->tlsrpt_max_json;
	mi.caps.max_ratio = c->tlsrpt_max_ratio;
	mi.max_mail = c->tlsrpt_max_mail;
	mi.dir_max = (int64_t)c->tlsrpt_dir_max * 1024 * 1024;
	if (n == 0) {
		n = 1;
		paths = stdin_only;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(paths[i], "-") == 0)
			mi.use_syslog = 1;	/* an MTA keeps no output */
	if (mail_begin(&mi) == -1) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", c->tlsrpt_dir,
		    strerror(errno));
		return MAIL_EX_TEMPFAIL;
	}
	for (int i = 0; i < n; i++)
		(void)mail_import(&mi, paths[i]);
	mail_end(&mi);
	if (mi.tempfail > 0)
		return MAIL_EX_TEMPFAIL;
	return mi.noinput > 0 ? MAIL_EX_NOINPUT : EX_OK;
}

/* YYYY-MM-DD, a day that exists. */
static int
day_ok(const char *s)
{
	long long	 t;
	time_t		 tt;
	struct tm	 tm;
	char		 back[11];

	if (strlen(s) != 10 || tlsrpt_time(s, &t) != 1)
		return 0;
	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(back, sizeof(back), "%Y-%m-%d", &tm);
	return strcmp(back, s) == 0;
}

static int
bad_day(const char *opt, const char *arg)
{
	fprintf(stderr, "mta-stsctl reports: --%s '%s': expected YYYY-MM-DD\n",
	    opt, arg);
	return EX_FAIL;
}

/* A whole number of days, or a percentage: 0 or more. */
static int
number_arg(const char *opt, const char *arg, double max, double *v)
{
	char	*end;

	errno = 0;
	*v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(*v >= 0) ||
	    *v > max) {
		fprintf(stderr, "mta-stsctl reports: --%s '%s': expected a "
		    "number from 0 to %g\n", opt, arg, max);
		return -1;
	}
	return 0;
}

enum what { ROWS, SUMMARY, IMPORT, IMPORT_MAIL, HTML };

/* see cmd.h */
int
cmd_reports(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "import", no_argument, NULL, 'i' },
		{ "import-mail", no_argument, NULL, 'm' },
		{ "summary", no_argument, NULL, 'S' },
		{ "fail-rate", required_argument, NULL, 'r' },
		{ "stale", required_argument, NULL, 'a' },
		{ "today", required_argument, NULL, 't' },
		{ "html", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct summary_opts	 o;
	struct config		 c;
	enum what		 what = ROWS;
	const char		*path = ctl_config_path(), *domain = NULL;
	const char		*html = NULL;
	char			 err[512], dom[POLICY_HOST_MAX + 1];
	char			 today[11], rate_since[11];
	json_t			*sums = NULL, *dec = NULL;
	time_t			 now = time(NULL);
	double			 v;
	int			 ch, as_json = 0, top = -1, rc = EX_OK, bad;
	int			 fail = EX_FAIL, modes = 0;

	memset(&o, 0, sizeof(o));
	o.fail_rate = -1;
	o.stale = -1;
	strftime(today, sizeof(today), "%Y-%m-%d", gmtime(&now));
	o.today = today;
	while ((ch = getopt_long(argc, argv, "f:s:jimSr:a:t:H:h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 's':
			if (!day_ok(optarg))
				return bad_day("since", optarg);
			o.since = optarg;
			break;
		case 't':
			if (!day_ok(optarg))
				return bad_day("today", optarg);
			o.today = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'i':
			what = IMPORT;
			modes++;
			break;
		case 'm':
			what = IMPORT_MAIL;
			modes++;
			break;
		case 'H':
			what = HTML;
			html = optarg;
			modes++;
			break;
		case 'S':
			if (what == ROWS)
				what = SUMMARY;
			break;
		case 'r':
			if (number_arg("fail-rate", optarg, 100, &o.fail_rate)
			    == -1)
				return EX_USAGE;
			break;
		case 'a':
			if (number_arg("stale", optarg, 3650, &v) == -1)
				return EX_USAGE;
			o.stale = (long)v;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (what == ROWS && (o.fail_rate >= 0 || o.stale >= 0))
		what = SUMMARY;
	/* One mode; the imports take paths and nothing else. */
	if (modes > 1 || (what == IMPORT && optind == argc) ||
	    ((what == IMPORT || what == IMPORT_MAIL) && (o.since != NULL ||
	    as_json || o.fail_rate >= 0 || o.stale >= 0 || o.today != today)) ||
	    (what == HTML && as_json) ||
	    (what != IMPORT && what != IMPORT_MAIL && argc - optind > 1))
		return ctl_usage(argv[0]);
	/* An MTA pipe: whatever keeps the report from being stored is 75. */
	if (what == IMPORT_MAIL)
		fail = MAIL_EX_TEMPFAIL;
	if (what != IMPORT && what != IMPORT_MAIL && optind < argc) {
		if (ctl_domain_arg("reports", argv[optind], dom) == -1)
			return EX_FAIL;
		domain = dom;
	}
	if (config_load(path != NULL ? path : CONFIG_DEFAULT_PATH, &c, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s\n", err);
		return fail;
	}
	if (c.tlsrpt_dir[0] == '\0') {
		fprintf(stderr, "mta-stsctl reports: tlsrpt_dir is not set in "
		    "%s\n", path != NULL ? path : CONFIG_DEFAULT_PATH);
		rc = fail;
		goto out;
	}
	if ((top = open(c.tlsrpt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", c.tlsrpt_dir,
		    strerror(errno));
		rc = fail;
		goto out;
	}
	if (what == IMPORT) {
		for (int i = optind; i < argc; i++)
			if (import_one(top, argv[i], &c) == -1)
				rc = EX_FAIL;
		goto out;
	}
	if (what == IMPORT_MAIL) {
		rc = import_mail(top, &c, argc - optind, argv + optind);
		goto out;
	}
	/* The summary's hints look before --since too. */
	sums = summary_read(top, c.tlsrpt_dir, domain, c.tlsrpt_max_json,
	    what == ROWS ? o.since : NULL, &bad);
	if (bad)
		rc = EX_FAIL;
	if (what == ROWS) {
		print_rows(sums, as_json);
		goto out;
	}
	/* The failure rate over the days asked, else the last week. */
	if (o.since == NULL) {
		time_t	 t = now;
		long long tt;

		if (tlsrpt_time(o.today, &tt) != -1)
			t = (time_t)tt;
		t -= 6 * 86400;
		strftime(rate_since, sizeof(rate_since), "%Y-%m-%d",
		    gmtime(&t));
		o.rate_since = rate_since;
	} else
		o.rate_since = o.since;
	dec = summary_decide(sums, &c, domain, &o);
	if (what == HTML) {
		if (html_write(html, dec) == -1) {
			fprintf(stderr, "mta-stsctl reports: %s: %s\n", html,
			    strerror(errno));
			rc = EX_FAIL;
		}
	} else
		summary_print(dec, as_json);
	if (summary_count(dec, "alerts") > 0)
		rc = EX_FAIL;
out:
	if (top != -1)
		close(top);
	json_decref(sums);
	json_decref(dec);
	config_free(&c);
	return rc;
}
