/*
 * life.h: mta-stsctl's commands for a domain's policy life cycle.
 *
 * Each takes its own argc/argv (argv[0] is the command's name), reads
 * mta-stsd.conf (-f) to find the policy directory and the running server,
 * and returns the exit status: 0 done, 1 refused or failed (nothing
 * changed on disk unless it says so), 2 usage.
 *
 * The order of a change is RFC 8461 section 8's: the new policy is
 * written, the server reloaded and asked over HTTPS until it serves the
 * new body; only then is a new id issued and the TXT record printed.
 */
#ifndef LIFE_H
#define LIFE_H

#include "policy.h"

int	life_init(int argc, char **argv);
int	life_mode(int argc, char **argv);
int	life_set(int argc, char **argv);
int	life_issue(int argc, char **argv);
int	life_status(int argc, char **argv);

/*
 * The id currently recorded for domain, per the configuration at path
 * (NULL: the default).  Returns 1 with id set, 0 when there is no record
 * (or no configuration at the default path), -1 after printing why.
 */
int	life_current_id(const char *path, const char *domain, char id[33]);

/*
 * The local policy of domain, per the configuration at path (NULL: the
 * default), parsed into *p (the caller frees it with policy_free()), and
 * its recorded id ("" when none).  Returns 1, 0 when there is none (or no
 * configuration at the default path), -1 after printing why.
 */
int	life_local_policy(const char *path, const char *domain,
	    struct policy *p, char id[33]);

#endif /* LIFE_H */
