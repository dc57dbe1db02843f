/*
 * main.c: mta-stsctl, the companion tool of mta-stsd.
 *
 * main() only dispatches, through the table below; each sub-command is
 * one function taking its own argc/argv (cmd.h).  Exit status: 0
 * success, 1 invalid input or failure, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "lib/config.h"
#include "lib/log.h"
#include "tls/tls.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

/* The options init, mode, set and issue share, as help text. */
#define HELP_PUBLISH \
	"      --publish      publish the TXT record through [dns] update,\n" \
	"                     after every replica serves the policy\n" \
	"      --no-publish   only print it (overrides [dns] publish = yes)\n"
#define HELP_PREFLIGHT \
	"      --resolver IP[:PORT]  the pre-flight's DNS server\n" \
	"      --ca-file FILE     the pre-flight's trusted CAs (default the\n" \
	"                         system's)\n" \
	"      --timeout SECONDS  each pre-flight step (default 10)\n" \
	"      --force            enforce although the pre-flight fails\n" \
	"      --no-preflight     skip the pre-flight (port 25 unreachable)\n"

const struct command ctl_commands[] = {
	{ "init", cmd_init, "init [-f CONFIG] [--dry-run] [--[no-]publish] "
	  "DOMAIN [--mx HOST ...] [--max-age N] [--rua URI ...] "
	  "[--resolver IP[:PORT]] [--timeout SECONDS]",
	  "Create DOMAIN's policy in mode testing, issue its first id and print\n"
	  "every DNS record to publish (or publish the TXT records).  Without\n"
	  "--mx, the mx lines match DOMAIN's MX records.  Never overwrites a\n"
	  "policy.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n"
	  "      --mx HOST      an mx pattern (repeat for more); default: from\n"
	  "                     the MX records\n"
	  "      --resolver IP[:PORT]  ask this DNS server for them\n"
	  "      --timeout SECONDS     for each DNS question (default 10)\n"
	  "      --max-age N    max_age in seconds (default 86400)\n"
	  "      --rua URI      TLS-RPT report address, mailto: or https:\n"
	  "                     (with --publish, the _smtp._tls record too)\n"
	HELP_PUBLISH },
	{ "mode", cmd_mode, "mode [-f CONFIG] [--dry-run] [--[no-]publish] "
	  "[--force | --no-preflight] DOMAIN testing|enforce|none",
	  "Switch DOMAIN's mode in the safe order: write the policy, reload the\n"
	  "server, confirm over HTTPS that it and every replica serve it, then\n"
	  "issue a new id and publish or print the TXT record.  Before\n"
	  "enforce, a pre-flight checks the MX hosts against the policy.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n"
	HELP_PUBLISH
	HELP_PREFLIGHT },
	{ "set", cmd_set, "set [-f CONFIG] [--dry-run] [--[no-]publish] "
	  "[--force | --no-preflight] DOMAIN [--mx HOST ...] [--add-mx HOST "
	  "...] [--remove-mx HOST ...] [--max-age N]",
	  "Change DOMAIN's mx list or max_age, in the same order as mode (with\n"
	  "the pre-flight while enforcing).\n"
	  "  -f, --config FILE    mta-stsd.conf (default " CONFIG_DEFAULT_PATH
	  ")\n"
	  "  -n, --dry-run        say what would be done, change nothing\n"
	  "      --mx HOST        replace every mx by these (repeat)\n"
	  "      --add-mx HOST    add an mx pattern (repeat)\n"
	  "      --remove-mx HOST remove an mx pattern (repeat)\n"
	  "      --max-age N      set max_age in seconds\n"
	HELP_PUBLISH
	HELP_PREFLIGHT },
	{ "issue", cmd_issue, "issue [-f CONFIG] [--dry-run] [--[no-]publish] "
	  "DOMAIN",
	  "After a change by hand: reload, confirm the policy is served, issue\n"
	  "a new id if the policy changed since the last one, publish or print\n"
	  "the record.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n"
	HELP_PUBLISH },
	{ "adopt", cmd_adopt, "adopt [-f CONFIG] [--dry-run] [--resolver "
	  "IP[:PORT]] [--timeout SECONDS] [--ca-file FILE] DOMAIN | adopt "
	  "[-f CONFIG] [--dry-run] --from-file FILE --id ID DOMAIN",
	  "Take over the policy another host serves for DOMAIN today, fetched\n"
	  "as senders fetch it, with the id published at _mta-sts.DOMAIN: it\n"
	  "becomes the local policy and that id its current id, so that\n"
	  "pointing mta-sts.DOMAIN here changes nothing for senders.  Says how\n"
	  "the canonical body differs from the served bytes, and whether that\n"
	  "matters to senders.\n"
	  "  -f, --config FILE     mta-stsd.conf (default " CONFIG_DEFAULT_PATH
	  ")\n"
	  "  -n, --dry-run         say what would be done, change nothing\n"
	  "      --resolver IP[:PORT]  ask this DNS server, not the system's\n"
	  "      --timeout SECONDS     each DNS question and the fetch (10)\n"
	  "      --ca-file FILE        trusted CAs (default the system's)\n"
	  "      --from-file FILE      the policy as served, saved in FILE\n"
	  "      --id ID               its published id (with --from-file)\n" },
	{ "publish", cmd_publish, "publish [-f CONFIG] [--dry-run] "
	  "[--rua URI ...] DOMAIN",
	  "Publish the _mta-sts TXT record of DOMAIN's recorded id through\n"
	  "[dns] update, once this server and every replica serve its policy,\n"
	  "and wait until every authoritative server of the zone answers it.\n"
	  "Exit 3 when the policy is served but the record could not be\n"
	  "published.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be published, change nothing\n"
	  "      --rua URI      publish the _smtp._tls record too, with this\n"
	  "                     report address (repeat for more)\n" },
	{ "unpublish", cmd_unpublish, "unpublish [-f CONFIG] [--dry-run] "
	  "[--force] DOMAIN",
	  "Remove the _mta-sts TXT record of DOMAIN through [dns] update: the\n"
	  "last step of removing MTA-STS, once mode none has been published\n"
	  "and the previous max_age has run out (it says when that is).\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be removed, change nothing\n"
	  "      --force        remove it even before then\n" },
	{ "cert", cmd_cert, "cert [-f CONFIG] [--dry-run] [--force] DOMAIN | "
	  "--renew",
	  "Obtain the certificate of mta-sts.DOMAIN with the [acme] client\n"
	  "(lego or certbot; the challenge answered by mta-stsd's [acme]\n"
	  "listener), or renew it when it expires within renew_days; install\n"
	  "it into cert_dir as one rename, wait until mta-stsd serves it and\n"
	  "print its expiry.  A failure keeps the previous certificate served.\n"
	  "Only domains with a policy are ever requested.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "  -n, --dry-run      say what would be done, change nothing\n"
	  "      --force        renew even when not due\n"
	  "      --renew        every domain whose certificate is due, one at\n"
	  "                     a time, one line each; exit 1 if any failed\n" },
	{ "status", cmd_status, "status [-f CONFIG] [--json] [--dns] [DOMAIN]",
	  "For every domain (or one): mode, mx, max_age, current id, whether the\n"
	  "policy changed since that id (and, with [dns] update, whether the id\n"
	  "is published), certificate and days left, and whether the running\n"
	  "server serves this policy.  Exit 1 if anything needs attention.\n"
	  "  -f, --config FILE  mta-stsd.conf (default " CONFIG_DEFAULT_PATH ")\n"
	  "      --json         one JSON array, for scripts\n"
	  "      --dns          also the id each authoritative server answers,\n"
	  "                     and whether each replica serves the policy\n" },
	{ "reports", cmd_reports, "reports [-f CONFIG] [DOMAIN] [--since "
	  "YYYY-MM-DD] [--json] [--summary] [--fail-rate PERCENT] [--stale "
	  "DAYS] [--today YYYY-MM-DD] [--html FILE] | --import FILE... | "
	  "--import-mail [PATH...]",
	  "Sum the TLS-RPT reports (RFC 8460) stored in tlsrpt_dir per domain,\n"
	  "day and sending organisation: sessions successful and failed,\n"
	  "failures by result type with their MX hosts, sending IPs and a hint.\n"
	  "--summary: per domain and day, with the policy senders saw and hints\n"
	  "for the policy's life cycle.  --fail-rate and --stale exit 1 when a\n"
	  "domain needs attention (for a timer).\n"
	  "  -f, --config FILE     mta-stsd.conf (default " CONFIG_DEFAULT_PATH
	  ")\n"
	  "  -s, --since DAY       only reports from DAY (YYYY-MM-DD) on\n"
	  "  -j, --json            JSON, for scripts\n"
	  "  -S, --summary         per domain and day: decisions and hints\n"
	  "  -r, --fail-rate PERCENT  exit 1 when a domain's failure rate since\n"
	  "                        --since (default: the last 7 days) is above\n"
	  "  -a, --stale DAYS      exit 1 when a domain that asks for reports\n"
	  "                        has had none for DAYS days\n"
	  "  -t, --today DAY       judge as of DAY (default: today, UTC)\n"
	  "  -H, --html FILE       write the summary as one HTML page\n"
	  "  -i, --import FILE...  store reports saved from mail (.json, .gz,\n"
	  "                        .json.gz) in tlsrpt_dir instead\n"
	  "  -m, --import-mail [PATH...]  store the reports in mail messages:\n"
	  "                        a message file, an mbox, a Maildir; none or\n"
	  "                        '-': one message on standard input (an MTA\n"
	  "                        pipe: exit 0, or 75 to try again)\n" },
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
	{ "check", cmd_check, "check [-f CONFIG] [--json] [--resolver "
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
const unsigned ctl_ncommands = sizeof(ctl_commands) /
    sizeof(ctl_commands[0]);

int
main(int argc, char *argv[])
{
	const struct command *c;

	/* A -f before the command applies to it. */
	if (argc >= 3 && strcmp(argv[1], "-f") == 0) {
		ctl_set_config_path(argv[2]);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	log_set_level(LOG_LVL_ERROR);
	tls_init();
	if (argc < 2) {
		ctl_usage_all(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		if (argc > 2 && ctl_find(argv[2]) != NULL)
			return ctl_help(argv[2]);
		ctl_usage_all(stdout);
		return EX_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("mta-stsctl %s\n", VERSION);
		return EX_OK;
	}
	if ((c = ctl_find(argv[1])) == NULL) {
		fprintf(stderr, "%s: unknown command '%s'\n", "mta-stsctl", argv[1]);
		ctl_usage_all(stderr);
		return EX_USAGE;
	}
	optind = 0;	/* glibc: reinitialise completely */
	return c->run(argc - 1, argv + 1);
}
