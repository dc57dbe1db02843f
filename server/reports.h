/*
 * reports.h: mta-stsctl reports, reading the TLS-RPT store.
 *
 * The store is mta-stsd.conf's tlsrpt_dir, laid out as tlsrpt.h says:
 * DIR/DOMAIN/HASH.json.  The command sums its reports per domain, day
 * (of start-datetime) and sending organisation, or imports reports saved
 * from mail into it.
 */
#ifndef REPORTS_H
#define REPORTS_H

/*
 * reports [-f CONFIG] [DOMAIN] [--since YYYY-MM-DD] [--json]
 * reports [-f CONFIG] --import FILE...
 * Returns the exit status: 0, 1 on failure (a report that cannot be read
 * or imported is named on stderr), 2 usage.
 */
int	reports_main(int argc, char **argv);

#endif /* REPORTS_H */
