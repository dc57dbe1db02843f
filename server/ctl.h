/*
 * ctl.h: what mta-stsctl's commands share with its dispatcher.
 */
#ifndef CTL_H
#define CTL_H

/* Prints the command's usage line on stderr; returns the usage status. */
int		 ctl_usage(const char *cmd);
/* Prints the command's help on stdout; returns 0. */
int		 ctl_help(const char *cmd);
/* The -f given before the command, or NULL. */
const char	*ctl_config_path(void);
/* strcmp() for qsort() over an array of strings. */
int		 ctl_strcmp(const void *a, const void *b);

/* Writes s on stdout as a JSON string, quotes and escapes included. */
void		 ctl_json_str(const char *s);

#endif /* CTL_H */
