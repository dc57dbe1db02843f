/*
 * cli.h: what mta-stsctl's commands share: the command table, usage and
 * help, the configuration given before the command, output helpers.
 */
#ifndef CLI_H
#define CLI_H

/* Exit statuses (mta-stsctl(8), EXIT STATUS). */
#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2
#define EX_PUBLISH	3	/* served, but publishing the record failed */

/* One sub-command: its function takes its own argc/argv. */
struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*usage;
	const char	*help;
};

/* The table, in main.c. */
extern const struct command	ctl_commands[];
extern const unsigned		ctl_ncommands;

/* The command named name, or NULL. */
const struct command *ctl_find(const char *name);
/* Every command's usage line on fp. */
void		 ctl_usage_all(void *fp);
/* Prints the command's usage line on stderr; returns the usage status. */
int		 ctl_usage(const char *cmd);
/* Prints the command's help on stdout; returns 0. */
int		 ctl_help(const char *cmd);
/* The -f given before the command (NULL: none), set by main(). */
const char	*ctl_config_path(void);
void		 ctl_set_config_path(const char *path);
/*
 * A mail domain given on the command line: checked as a host name (and
 * mta-sts.DOMAIN as one) and
 * lower-cased into out (POLICY_HOST_MAX + 1 bytes: names are compared,
 * and files named, in lower case).  Returns 0, or -1 after printing
 * "mta-stsctl CMD: invalid domain 'ARG': why" (cmd NULL: no CMD).
 */
int		 ctl_domain_arg(const char *cmd, const char *arg, char *out);
/*
 * A TLS-RPT report address given with --rua: a mailto: or https: URI
 * without white space, quotes or non-ASCII.  Returns 0, or -1 after
 * saying why.
 */
int		 ctl_check_rua(const char *uri);
/* strcmp() for qsort() over an array of strings. */
int		 ctl_strcmp(const void *a, const void *b);
/* Writes s on stdout as a JSON string, quotes and escapes included. */
void		 ctl_json_str(const char *s);

#endif /* CLI_H */
