/*
 * cmd.h: mta-stsctl's commands, one function each, taking its own
 * argc/argv (argv[0] is the command's name) and returning the exit
 * status (cli.h).  mta-stsctl(8) is their manual.
 */
#ifndef CMD_H
#define CMD_H

/* life.c: a domain's policy life cycle, in RFC 8461 section 8's order. */
int	cmd_init(int argc, char **argv);
int	cmd_mode(int argc, char **argv);
int	cmd_set(int argc, char **argv);
int	cmd_issue(int argc, char **argv);
/* adopt.c: a policy another host serves, taken over with its id */
int	cmd_adopt(int argc, char **argv);
/* publish.c: the TXT records through [dns] update */
int	cmd_publish(int argc, char **argv);
int	cmd_unpublish(int argc, char **argv);
/* cert.c: a domain's certificate from the [acme] client */
int	cmd_cert(int argc, char **argv);
/* status.c */
int	cmd_status(int argc, char **argv);
/* reports.c: the TLS-RPT store */
int	cmd_reports(int argc, char **argv);
/* check.c: a deployment as senders see it */
int	cmd_check(int argc, char **argv);
/* records.c: policies and records, without a server */
int	cmd_validate(int argc, char **argv);
int	cmd_id(int argc, char **argv);
int	cmd_txt(int argc, char **argv);
int	cmd_parse_txt(int argc, char **argv);

#endif /* CMD_H */
