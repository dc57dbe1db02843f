/*
 * cli.c: what mta-stsctl's commands share.  See cli.h.
 */
#include <stdio.h>
#include <string.h>

#include "ctl/cli.h"
#include "lib/ascii.h"
#include "lib/policy.h"

static const char	*config_path;	/* -f before the command */

/* see cli.h */
const struct command *
ctl_find(const char *name)
{
	for (unsigned i = 0; i < ctl_ncommands; i++)
		if (strcmp(ctl_commands[i].name, name) == 0)
			return &ctl_commands[i];
	return NULL;
}

/* see cli.h */
void
ctl_usage_all(void *stream)
{
	FILE *fp = stream;

	fprintf(fp, "usage: mta-stsctl COMMAND [OPTIONS] [ARGS]\n\n"
	    "commands:\n");
	for (unsigned i = 0; i < ctl_ncommands; i++)
		fprintf(fp, "  %s\n", ctl_commands[i].usage);
	fprintf(fp, "\n'mta-stsctl COMMAND --help' describes one command.\n");
}

/* see cli.h */
int
ctl_usage(const char *cmd)
{
	fprintf(stderr, "usage: mta-stsctl %s\n", ctl_find(cmd)->usage);
	return EX_USAGE;
}

/* see cli.h */
int
ctl_help(const char *cmd)
{
	const struct command *c = ctl_find(cmd);

	printf("usage: mta-stsctl %s\n\n%s", c->usage, c->help);
	return EX_OK;
}

/* see cli.h */
const char *
ctl_config_path(void)
{
	return config_path;
}

/* see cli.h */
void
ctl_set_config_path(const char *path)
{
	config_path = path;
}

/* see cli.h */
int
ctl_domain_arg(const char *cmd, const char *arg, char *out)
{
	const char	*why;
	size_t		 len = strlen(arg);

	/* mta-sts.DOMAIN must be a host name too. */
	if ((why = policy_check_host(arg, len, 0)) != NULL ||
	    (len > POLICY_HOST_MAX - 8 && (why = "too long") != NULL)) {
		fprintf(stderr, "mta-stsctl%s%s: invalid domain '%s': %s\n",
		    cmd != NULL ? " " : "", cmd != NULL ? cmd : "", arg, why);
		return -1;
	}
	ascii_lower_copy(out, arg, len);
	return 0;
}

/* see cli.h */
int
ctl_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* see cli.h */
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

/* see cli.h */
int
ctl_check_rua(const char *u)
{
	if (strncmp(u, "mailto:", 7) != 0 && strncmp(u, "https://", 8) != 0) {
		fprintf(stderr, "mta-stsctl: --rua '%s': a mailto: or https: "
		    "URI is required\n", u);
		return -1;
	}
	for (const char *p = u; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    *p == '"' || *p == '\\') {
			fprintf(stderr, "mta-stsctl: --rua '%s': white space, "
			    "quotes and non-ASCII are not allowed\n", u);
			return -1;
		}
	return 0;
}
