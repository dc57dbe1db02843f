/*
 * reports.c: mta-stsctl reports.  See reports.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/ascii.h"
#include "lib/config.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "lib/file.h"
#include "lib/policy.h"
#include "lib/tlsrpt.h"

#define EX_OK		0
#define EX_FAIL		1

/*
 * The sums, as nested JSON objects: domain -> day -> organisation ->
 * { reports, successful, failed, failures: type -> { sessions, mx: {host:
 * sessions}, ips: {ip: sessions} } }.
 */

/* The member key of o, made an empty object if missing. */
static json_t *
child(json_t *o, const char *key)
{
	json_t	*c = json_object_get(o, key);

	if (c == NULL) {
		c = json_object();
		json_object_set_new(o, key, c);
	}
	return c;
}

/* Adds n to the whole number at o.key (0 if missing). */
static void
add(json_t *o, const char *key, json_int_t n)
{
	json_t	*v = json_object_get(o, key);

	json_object_set_new(o, key, json_integer((v != NULL ?
	    json_integer_value(v) : 0) + n));
}

/* A member's whole number, or 0. */
static json_int_t
count(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* A member's string, or NULL. */
static const char *
string(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static void
sum_report(json_t *sums, const char *domain, json_t *r)
{
	json_t		*org, *pol, *f, *t;
	const char	*s;
	char		 day[11];
	size_t		 i, j;

	snprintf(day, sizeof(day), "%s", string(json_object_get(r,
	    "date-range"), "start-datetime"));
	org = child(child(child(sums, domain), day), string(r,
	    "organization-name"));
	add(org, "reports", 1);
	json_array_foreach(json_object_get(r, "policies"), i, pol) {
		add(org, "successful", count(json_object_get(pol, "summary"),
		    "total-successful-session-count"));
		add(org, "failed", count(json_object_get(pol, "summary"),
		    "total-failure-session-count"));
		json_array_foreach(json_object_get(pol, "failure-details"), j,
		    f) {
			t = child(child(org, "failures"), string(f,
			    "result-type"));
			add(t, "sessions", count(f, "failed-session-count"));
			if ((s = string(f, "receiving-mx-hostname")) != NULL ||
			    (s = string(f, "receiving-ip")) != NULL)
				add(child(t, "mx"), s, count(f,
				    "failed-session-count"));
			if ((s = string(f, "sending-mta-ip")) != NULL)
				add(child(t, "ips"), s, count(f,
				    "failed-session-count"));
		}
	}
}

/*
 * Reads one stored report; a file that is not one is named on stderr
 * and skipped.  Returns 0, or -1 for such a file.
 */
static int
read_report(int dfd, const char *dir, const char *name, size_t max,
    const char *domain, const char *since, json_t *sums)
{
	struct tlsrpt_meta	 m;
	const char		*why;
	char			*buf;
	size_t			 len;
	json_t			*r;

	if (file_read(dfd, name, max, FILE_NOFOLLOW, &buf, &len) == -1) {
		fprintf(stderr, "mta-stsctl reports: %s/%s: %s\n", dir, name,
		    strerror(errno));
		return -1;
	}
	if ((why = tlsrpt_check(buf, len, &m)) != NULL) {
		fprintf(stderr, "mta-stsctl reports: %s/%s: %s\n", dir, name,
		    why);
		free(buf);
		return -1;
	}
	if (since == NULL || strcmp(m.day, since) >= 0) {
		r = json_loadb(buf, len, 0, NULL);
		sum_report(sums, domain, r);
		json_decref(r);
	}
	free(buf);
	return 0;
}

/* Sums the reports of one domain directory. */
static int
read_domain(int top, const char *topname, const char *domain, size_t max,
    const char *since, json_t *sums)
{
	DIR		*d;
	struct dirent	*de;
	char		 dir[4096];
	size_t		 n;
	int		 dfd, rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", topname, domain);
	if ((dfd = openat(top, domain, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;	/* no report yet */
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n <= strlen(TLSRPT_SUFFIX) ||
		    strcmp(de->d_name + n - strlen(TLSRPT_SUFFIX),
		    TLSRPT_SUFFIX) != 0)
			continue;
		if (read_report(dfd, dir, de->d_name, max, domain, since,
		    sums) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

/* The keys of object o, sorted; NULL-terminated, caller frees. */
static const char **
sorted_keys(json_t *o)
{
	const char	**v, *k;
	json_t		 *x;
	size_t		  n = 0;

	if ((v = calloc(json_object_size(o) + 1, sizeof(*v))) == NULL)
		return NULL;
	json_object_foreach(o, k, x)
		v[n++] = k;
	qsort(v, n, sizeof(*v), ctl_strcmp);
	return v;
}

/* The keys of o as a JSON array, in order. */
static json_t *
key_array(json_t *o)
{
	const char	**k = sorted_keys(o);
	json_t		 *a = json_array();

	for (size_t i = 0; k != NULL && k[i] != NULL; i++)
		json_array_append_new(a, json_string(k[i]));
	free(k);
	return a;
}

/* Prints "label: a, b, c" for the keys of o. */
static void
print_keys(const char *label, json_t *o)
{
	const char	**k = sorted_keys(o);

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
	const char	**types = sorted_keys(ft);

	r = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "domain", domain,
	    "date", day, "organization", orgname, "reports", count(org,
	    "reports"), "successful", count(org, "successful"), "failed",
	    count(org, "failed"));
	fl = json_array();
	for (size_t i = 0; types != NULL && types[i] != NULL; i++) {
		t = json_object_get(ft, types[i]);
		json_array_append_new(fl, json_pack("{s:s, s:I, s:o, s:o, s:s}",
		    "result-type", types[i], "sessions", count(t, "sessions"),
		    "mx-hosts", key_array(json_object_get(t, "mx")),
		    "sending-ips", key_array(json_object_get(t, "ips")),
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
	    "failed\n", string(r, "date"), string(r, "organization"),
	    (long long)count(r, "reports"), count(r, "reports") == 1 ? "" :
	    "s", (long long)count(r, "successful"),
	    (long long)count(r, "failed"));
	json_array_foreach(json_object_get(r, "failures"), i, f) {
		json_t	*mx = json_object(), *ips = json_object(), *v;
		size_t	 j;

		printf("    %s: %lld session%s\n", string(f, "result-type"),
		    (long long)count(f, "sessions"), count(f, "sessions") ==
		    1 ? "" : "s");
		json_array_foreach(json_object_get(f, "mx-hosts"), j, v)
			json_object_set(mx, json_string_value(v), v);
		json_array_foreach(json_object_get(f, "sending-ips"), j, v)
			json_object_set(ips, json_string_value(v), v);
		print_keys("MX hosts", mx);
		print_keys("sending IPs", ips);
		printf("      hint: %s\n", string(f, "hint"));
		json_decref(mx);
		json_decref(ips);
	}
}

/* Prints the sums, as text or as one JSON array. */
static void
print_sums(json_t *sums, int as_json)
{
	const char	**doms = sorted_keys(sums), **days, **orgs;
	json_t		 *all = json_array(), *r, *dj;
	const char	 *last = NULL;

	for (size_t i = 0; doms != NULL && doms[i] != NULL; i++) {
		dj = json_object_get(sums, doms[i]);
		days = sorted_keys(dj);
		for (size_t j = 0; days != NULL && days[j] != NULL; j++) {
			orgs = sorted_keys(json_object_get(dj, days[j]));
			for (size_t k = 0; orgs != NULL && orgs[k] != NULL;
			    k++) {
				r = row(doms[i], days[j], orgs[k],
				    json_object_get(json_object_get(dj,
				    days[j]), orgs[k]));
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

/* YYYY-MM-DD. */
static int
day_ok(const char *s)
{
	if (strlen(s) != 10)
		return 0;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* see cmd.h */
int
cmd_reports(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "import", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct config	 c;
	const char	*path = ctl_config_path(), *since = NULL;
	const char	*domain = NULL;
	char		 err[512], dom[POLICY_HOST_MAX + 1];
	json_t		*sums = NULL;
	DIR		*d = NULL;
	struct dirent	*de;
	int		 ch, as_json = 0, import = 0, top = -1, rc = EX_OK;

	while ((ch = getopt_long(argc, argv, "f:s:jih", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'f':
			path = optarg;
			break;
		case 's':
			if (!day_ok(optarg)) {
				fprintf(stderr, "mta-stsctl reports: --since "
				    "'%s': expected YYYY-MM-DD\n", optarg);
				return EX_FAIL;
			}
			since = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'i':
			import = 1;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (import ? optind == argc || since != NULL || as_json :
	    argc - optind > 1)
		return ctl_usage(argv[0]);
	if (!import && optind < argc) {
		if (ctl_domain_arg("reports", argv[optind], dom) == -1)
			return EX_FAIL;
		domain = dom;
	}
	if (config_load(path != NULL ? path : CONFIG_DEFAULT_PATH, &c, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s\n", err);
		return EX_FAIL;
	}
	if (c.tlsrpt_dir[0] == '\0') {
		fprintf(stderr, "mta-stsctl reports: tlsrpt_dir is not set in "
		    "%s\n", path != NULL ? path : CONFIG_DEFAULT_PATH);
		rc = EX_FAIL;
		goto out;
	}
	if ((top = open(c.tlsrpt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		fprintf(stderr, "mta-stsctl reports: %s: %s\n", c.tlsrpt_dir,
		    strerror(errno));
		rc = EX_FAIL;
		goto out;
	}
	if (import) {
		for (int i = optind; i < argc; i++)
			if (import_one(top, argv[i], &c) == -1)
				rc = EX_FAIL;
		goto out;
	}
	sums = json_object();
	if (domain != NULL) {
		if (read_domain(top, c.tlsrpt_dir, domain, c.tlsrpt_max_json,
		    since, sums) == -1)
			rc = EX_FAIL;
	} else {
		if ((d = fdopendir(dup(top))) == NULL) {
			fprintf(stderr, "mta-stsctl reports: %s: %s\n",
			    c.tlsrpt_dir, strerror(errno));
			rc = EX_FAIL;
			goto out;
		}
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.' && (de->d_type == DT_DIR ||
			    de->d_type == DT_UNKNOWN) &&
			    read_domain(top, c.tlsrpt_dir, de->d_name,
			    c.tlsrpt_max_json, since, sums) == -1)
				rc = EX_FAIL;
	}
	print_sums(sums, as_json);
out:
	if (d != NULL)
		closedir(d);
	if (top != -1)
		close(top);
	json_decref(sums);
	config_free(&c);
	return rc;
}
