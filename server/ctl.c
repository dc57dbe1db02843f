/*
 * ctl.c: mta-stsctl, the companion tool of mta-stsd.
 *
 * main() only dispatches; each sub-command is one function taking its own
 * argc/argv (argv[0] is the sub-command's name).  Exit status: 0 success,
 * 1 invalid input or failure, 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "ctl.h"
#include "file.h"
#include "life.h"
#include "log.h"
#include "policy.h"
#include "reports.h"
#include "tls.h"
#include "txt.h"

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

#define TTL_DEFAULT	3600UL
#define TTL_MAX		2147483647UL	/* RFC 2181 section 8 */

#ifndef VERSION
#define VERSION "0.1"
#endif

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
	const char	*help;
};

static int	cmd_validate(int, char **);
static int	cmd_id(int, char **);
static int	cmd_txt(int, char **);
static int	cmd_parse_txt(int, char **);

static const struct command commands[] = {
	{ "init", life_init, "init [-f CONFIG] [--dry-run] DOMAIN --mx HOST "
	  "[--mx HOST ...] [--max-age N] [--rua URI ...]",
	  "Create DOMAIN's policy in mode testing, issue its first id and print\n"
	  "every DNS record to publish.  Never overwrites a policy.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n"
	  "      --mx HOST      an mx pattern (repeat for more)\n"
	  "      --max-age N    max_age in seconds (default 86400)\n"
	  "      --rua URI      TLS-RPT report address, mailto: or https:\n" },
	{ "mode", life_mode, "mode [-f CONFIG] [--dry-run] DOMAIN "
	  "testing|enforce|none",
	  "Switch DOMAIN's mode in the safe order: write the policy, reload the\n"
	  "server, confirm over HTTPS that it serves it, then issue a new id\n"
	  "and print the TXT record to publish.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n" },
	{ "set", life_set, "set [-f CONFIG] [--dry-run] DOMAIN [--mx HOST ...] "
	  "[--add-mx HOST ...] [--remove-mx HOST ...] [--max-age N]",
	  "Change DOMAIN's mx list or max_age, in the same order as mode.\n"
	  "  -f, --config FILE    mta-stsd.conf (default " CONFIG_DEFAULT_PATH
	  ")\n"
	  "  -n, --dry-run        say what would be done, change nothing\n"
	  "      --mx HOST        replace every mx by these (repeat)\n"
	  "      --add-mx HOST    add an mx pattern (repeat)\n"
	  "      --remove-mx HOST remove an mx pattern (repeat)\n"
	  "      --max-age N      set max_age in seconds\n" },
	{ "issue", life_issue, "issue [-f CONFIG] [--dry-run] DOMAIN",
	  "After a change by hand: reload, confirm the policy is served, issue\n"
	  "a new id if the policy changed since the last one, print the record.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n" },
	{ "status", life_status, "status [-f CONFIG] [--json] [DOMAIN]",
	  "For every domain (or one): mode, mx, max_age, current id, whether the\n"
	  "policy changed since that id, certificate and days left, and whether\n"
	  "the running server serves this policy.  Exit 1 if anything needs\n"
	  "attention.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "      --json         one JSON array, for scripts\n" },
	{ "reports", reports_main, "reports [-f CONFIG] [DOMAIN] [--since "
	  "YYYY-MM-DD] [--json] | --import FILE...",
	  "Sum the TLS-RPT reports (RFC 8460) stored in tlsrpt_dir per domain,\n"
	  "day and sending organisation: sessions successful and failed,\n"
	  "failures by result type with their MX hosts, sending IPs and a hint.\n"
	  "  -f, --config FILE     mta-stsd.conf (default " CONFIG_DEFAULT_PATH
	  ")\n"
	  "  -s, --since DAY       only reports from DAY (YYYY-MM-DD) on\n"
	  "  -j, --json            one JSON array, for scripts\n"
	  "  -i, --import FILE...  store reports saved from mail (.json, .gz,\n"
	  "                        .json.gz) in tlsrpt_dir instead\n" },
	{ "validate", cmd_validate, "validate [-q] [--print] FILE...",
	  "Check policy source files; print every problem as\n"
	  "FILE:LINE: error|warning: message.  '-' reads standard input.\n"
	  "  -q, --quiet   print nothing, only set the exit status\n"
	  "  -p, --print   write the canonical body of each valid file\n" },
	{ "id", cmd_id, "id [--time YYYY-MM-DDTHH:MM:SSZ]",
	  "Print the policy id for a UTC time (default: now), as\n"
	  "yyyymmddhh0000Z.\n"
	  "  -t, --time T  the time, e.g. 2022-01-01T08:30:00Z\n" },
	{ "txt", cmd_txt, "txt [-f CONFIG] DOMAIN [--id ID] [--ttl SECONDS]",
	  "Print the _mta-sts TXT record to publish for DOMAIN, as a zone\n"
	  "file line.\n"
	  "  -f, --config FILE  mta-stsd.conf, for the recorded id\n"
	  "  -i, --id ID        the policy id (default: the id recorded for\n"
	  "                     DOMAIN, else the id for now)\n"
	  "  -T, --ttl SECONDS  the record's TTL (default: 3600)\n" },
	{ "check", check_main, "check [-f CONFIG] [--json] [--resolver "
	  "IP[:PORT]] [--timeout SECONDS] [--ca-file FILE] [--expect-id ID] "
	  "DOMAIN",
	  "Check DOMAIN's deployment as senders see it: the _mta-sts TXT\n"
	  "record, the policy host's addresses, the policy fetched over HTTPS\n"
	  "(certificate, status, Content-Type, every sender-compatibility\n"
	  "hazard of the body), the id against the local policy's, every MX\n"
	  "host (covered by the policy; STARTTLS on port 25 and its\n"
	  "certificate) and the TLS-RPT record.  One OK, WARN or FAIL line per\n"
	  "check, with the fix.  In mode testing, MX problems are warnings.\n"
	  "Exit 0 all OK, 1 warnings, 2 failures.\n"
	  "  -f, --config FILE      mta-stsd.conf, for the local policy and id\n"
	  "  -j, --json             one JSON object, for scripts\n"
	  "  -r, --resolver IP[:PORT]  ask this DNS server (IPv4), not the\n"
	  "                         system's\n"
	  "  -t, --timeout SECONDS  for each DNS question and connection\n"
	  "                         (default 10)\n"
	  "  -c, --ca-file FILE     trusted CAs, PEM (default\n"
	  "                         /etc/ssl/certs/ca-certificates.crt)\n"
	  "  -e, --expect-id ID     the id DNS should hold (default: the id\n"
	  "                         recorded for the local policy)\n" },
	{ "parse-txt", cmd_parse_txt, "parse-txt RECORD",
	  "Check an _mta-sts TXT record (RFC 8461 section 3.1) and print its\n"
	  "id.\n" },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static const char *progname = "mta-stsctl";
static const char *config_path;		/* -f before the command */

static void
usage_all(FILE *fp)
{
	fprintf(fp, "usage: %s COMMAND [OPTIONS] [ARGS]\n\ncommands:\n",
	    progname);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %s\n", commands[i].usage);
	fprintf(fp, "\n'%s COMMAND --help' describes one command.\n",
	    progname);
}

static const struct command *
find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* see ctl.h */
int
ctl_usage(const char *cmd)
{
	fprintf(stderr, "usage: %s %s\n", progname, find(cmd)->usage);
	return EX_USAGE;
}

/* see ctl.h */
int
ctl_help(const char *cmd)
{
	const struct command *c = find(cmd);

	printf("usage: %s %s\n\n%s", progname, c->usage, c->help);
	return EX_OK;
}

/* see ctl.h */
const char *
ctl_config_path(void)
{
	return config_path;
}

/* see ctl.h */
int
ctl_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* see ctl.h */
void
ctl_json_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void
reset_opts(void)
{
	optind = 0;	/* glibc: reinitialise completely */
	opterr = 1;
}

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

static int
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

static int
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
				fprintf(stderr, "%s id: invalid time '%s': "
				    "expected YYYY-MM-DDTHH:MM:SSZ (UTC), e.g. "
				    "2022-01-01T08:30:00Z\n", progname, optarg);
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
		fprintf(stderr, "%s id: time out of range\n", progname);
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

static int
cmd_txt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "ttl", required_argument, NULL, 'T' },
		{ "config", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*id = NULL, *why, *config = config_path;
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
				fprintf(stderr, "%s txt: invalid TTL '%s': "
				    "expected 0 to %lu seconds\n", progname,
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
	if ((why = policy_check_host(argv[optind], strlen(argv[optind]),
	    0)) != NULL) {
		fprintf(stderr, "%s txt: invalid domain '%s': %s\n", progname,
		    argv[optind], why);
		return EX_FAIL;
	}
	for (size_t i = 0; i <= strlen(argv[optind]); i++) {
		char c = argv[optind][i];

		domain[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (id == NULL) {
		switch (life_current_id(config, domain, recorded)) {
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
			fprintf(stderr, "%s txt: clock out of range\n",
			    progname);
			return EX_FAIL;
		}
		id = now;
	} else if ((why = txt_check_id(id)) != NULL) {
		fprintf(stderr, "%s txt: invalid id '%s': %s\n", progname, id,
		    why);
		return EX_FAIL;
	}
	if (strncmp(domain, "mta-sts.", 8) == 0)
		fprintf(stderr, "%s txt: note: '%s' looks like the policy "
		    "host; the record belongs to the mail domain '%s'\n",
		    progname, domain, domain + 8);
	txt_format(line, sizeof(line), domain, ttl, id);
	printf("%s\n", line);
	return EX_OK;
}

static int
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
		fprintf(stderr, "%s parse-txt: invalid record: %s\n", progname,
		    err);
		return EX_FAIL;
	}
	printf("%s\n", r.id);
	return EX_OK;
}

int
main(int argc, char *argv[])
{
	const struct command *c;

	/* A -f before the command applies to it. */
	if (argc >= 3 && strcmp(argv[1], "-f") == 0) {
		config_path = argv[2];
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	log_set_level(LOG_LVL_ERROR);
	if (tls_init(0) == -1) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EX_FAIL;
	}
	if (argc < 2) {
		usage_all(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && find(argv[2]) != NULL)
			return ctl_help(argv[2]);
		usage_all(stdout);
		return EX_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("mta-stsctl %s\n", VERSION);
		return EX_OK;
	}
	if ((c = find(argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n", progname, argv[1]);
		usage_all(stderr);
		return EX_USAGE;
	}
	reset_opts();
	return c->run(argc - 1, argv + 1);
}
