/*
 * records.c: mta-stsctl's commands on policies and records that need no
 * server: validate, id, txt, parse-txt.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/local.h"
#include "lib/ascii.h"
#include "lib/file.h"
#include "lib/policy.h"
#include "lib/txt.h"

#define TTL_DEFAULT	3600UL
#define TTL_MAX		2147483647UL	/* RFC 2181 section 8 */

/*
 * Reads a policy source for validate: at most one byte past the limit, so
 * that the policy module reports an oversized source (and the line where
 * it goes over) while a huge file costs nothing.
 */
static int
read_source(const char *path, char **buf, size_t *len)
{
	size_t	 cap = POLICY_SOURCE_MAX + 1, n = 0;
	ssize_t	 r;
	char	*b;

	if (strcmp(path, "-") != 0)
		return file_read(AT_FDCWD, path, POLICY_SOURCE_MAX, FILE_HEAD,
		    buf, len);
	if ((b = malloc(cap + 1)) == NULL)
		return -1;
	while (n < cap) {
		r = read(STDIN_FILENO, b + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(b);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

static int
validate_one(const char *path, int quiet, int print)
{
	struct policy		 p;
	struct policy_diags	 d;
	const char		*name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char			*src, line[512];
	size_t			 len;
	int			 rc;

	if (read_source(path, &src, &len) == -1) {
		if (quiet)
			return -1;
		fprintf(stderr, "%s: error: cannot read: %s\n", name,
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		return -1;
	}
	memset(&d, 0, sizeof(d));
	rc = policy_parse(src, len, &p, &d);
	free(src);
	if (!quiet) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", policy_diag_format(name,
			    &d.v[i], line, sizeof(line)));
		if (d.oom)
			fprintf(stderr, "%s: error: out of memory\n", name);
	}
	policy_diags_free(&d);
	if (rc == -1)
		return -1;
	if (print)
		fwrite(p.body, 1, p.bodylen, stdout);
	policy_free(&p);
	return 0;
}

/* see cmd.h */
int
cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "print", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch, quiet = 0, print = 0, rc = EX_OK;

	while ((ch = getopt_long(argc, argv, "qph", longopts, NULL)) != -1) {
		switch (ch) {
		case 'q':
			quiet = 1;
			break;
		case 'p':
			print = 1;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (optind == argc)
		return ctl_usage(argv[0]);
	for (int i = optind; i < argc; i++)
		if (validate_one(argv[i], quiet, print) == -1)
			rc = EX_FAIL;
	return rc;
}

/* see cmd.h */
int
cmd_id(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	time_t	 t = time(NULL);
	char	 id[16];
	int	 ch;

	while ((ch = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (txt_parse_time(optarg, &t) == -1) {
				fprintf(stderr, "mta-stsctl id: invalid time '%s': "
				    "expected YYYY-MM-DDTHH:MM:SSZ (UTC), e.g. "
				    "2022-01-01T08:30:00Z\n", optarg);
				return EX_FAIL;
			}
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (optind != argc)
		return ctl_usage(argv[0]);
	if (txt_id_for_time(t, id) == -1) {
		fprintf(stderr, "mta-stsctl id: time out of range\n");
		return EX_FAIL;
	}
	printf("%s\n", id);
	return EX_OK;
}

/* Parses a TTL: 1 to 10 digits, at most TTL_MAX. */
static int
parse_ttl(const char *s, unsigned long *ttl)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
		return -1;
	*ttl = strtoul(s, NULL, 10);
	return *ttl > TTL_MAX ? -1 : 0;
}

/* see cmd.h */
int
cmd_txt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*id = NULL, *why, *config = ctl_config_path();
	char		 recorded[TXT_ID_MAX + 1];
	unsigned long	 ttl = TTL_DEFAULT;
	char		 now[16], line[512], domain[POLICY_HOST_MAX + 1];
	int		 ch;

	while ((ch = getopt_long(argc, argv, "i:T:f:h", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'i':
			id = optarg;
			break;
		case 'f':
			config = optarg;
			break;
		case 'T':
			if (parse_ttl(optarg, &ttl) == -1) {
				fprintf(stderr, "mta-stsctl txt: invalid TTL '%s': "
				    "expected 0 to %lu seconds\n",
				    optarg, TTL_MAX);
				return EX_FAIL;
			}
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(argv[0]);
	if (ctl_domain_arg("txt", argv[optind], domain) == -1)
		return EX_FAIL;
	if (id == NULL) {
		switch (local_current_id(config, domain, recorded)) {
		case 1:
			id = recorded;
			break;
		case -1:
			return EX_FAIL;
		default:
			break;
		}
	}
	if (id == NULL) {
		if (txt_id_for_time(time(NULL), now) == -1) {
			fprintf(stderr, "mta-stsctl txt: clock out of range\n");
			return EX_FAIL;
		}
		id = now;
	} else if ((why = txt_check_id(id)) != NULL) {
		fprintf(stderr, "mta-stsctl txt: invalid id '%s': %s\n", id,
		    why);
		return EX_FAIL;
	}
	if (strncmp(domain, "mta-sts.", 8) == 0)
		fprintf(stderr, "mta-stsctl txt: note: '%s' looks like the policy "
		    "host; the record belongs to the mail domain '%s'\n", domain, domain + 8);
	txt_format(line, sizeof(line), domain, ttl, id);
	printf("%s\n", line);
	return EX_OK;
}

/* see cmd.h */
int
cmd_parse_txt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct txt_record	 r;
	char			 err[TXT_ERR_MAX];
	int			 ch;

	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (argc - optind != 1)
		return ctl_usage(argv[0]);
	if (txt_parse(argv[optind], strlen(argv[optind]), &r, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl parse-txt: invalid record: %s\n",
		    err);
		return EX_FAIL;
	}
	printf("%s\n", r.id);
	return EX_OK;
}
