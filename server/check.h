/*
 * check.h: mta-stsctl check, the deployment check that online validators
 * do: DNS records, the policy as senders fetch it, the MX hosts' STARTTLS
 * and certificates, and whether DNS, server and local policy agree.
 */
#ifndef CHECK_H
#define CHECK_H

/*
 * The command: argv[0] is "check".  Prints one OK, WARN or FAIL line per
 * check (or one JSON object with --json) and returns 0 when all are OK,
 * 1 when the worst is a warning, 2 for a failure (and for a usage error).
 */
int	check_main(int argc, char **argv);

#endif /* CHECK_H */
