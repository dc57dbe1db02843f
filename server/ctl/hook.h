/*
 * hook.h: the program of [dns] hook, through which mta-stsctl publishes
 * TXT records at a DNS provider it has no protocol for (a cloud API).
 *
 * The contract (mta-stsctl(8), HOOK): the program is run without a
 * shell, as
 *
 *	HOOK publish NAME TTL VALUE	make VALUE the one TXT record at NAME
 *					that starts with VALUE's "v=" tag,
 *					keeping the others
 *	HOOK remove NAME TAG		remove the TXT records at NAME that
 *					start with TAG ("v=STSv1")
 *
 * with MTA_STS_DOMAIN, MTA_STS_ID and MTA_STS_MODE added to the
 * environment, standard input from /dev/null, its standard output and
 * error on mta-stsctl's standard error, in a process group of its own.
 * Exit status 0 means the provider accepted the change (mta-stsctl then
 * asks the authoritative servers until they answer it).
 */
#ifndef HOOK_H
#define HOOK_H

#include <stddef.h>

struct hook_env {
	const char	*domain;	/* MTA_STS_DOMAIN */
	const char	*id;		/* MTA_STS_ID */
	const char	*mode;		/* MTA_STS_MODE */
};

/*
 * Runs path with the arguments args (NULL-terminated, without argv[0]),
 * the environment above, for timeout_s seconds at most: then its process
 * group gets SIGTERM, and SIGKILL 2 s later.  Returns 0 when it exited
 * with status 0, else -1 with why in err ("exited with status 3",
 * "killed by signal 9", "did not finish within 30 s: stopped").
 */
int	hook_run(const char *path, const char *const *args,
	    const struct hook_env *env, int timeout_s, char *err,
	    size_t errsz);

#endif /* HOOK_H */
