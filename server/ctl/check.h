/*
 * check.h: what of mta-stsctl check other commands run: the pre-flight
 * before a policy in mode enforce is served, the MX half of check
 * (dns.mx, mx.policy, mx.tls) against the policy about to be served.
 */
#ifndef CHECK_H
#define CHECK_H

#include <stddef.h>

#include "lib/policy.h"

#define CHECK_TIMEOUT_DEFAULT	10	/* seconds, each network step */
#define CHECK_TIMEOUT_MAX	600

/* How check reaches the network: check's --resolver, --ca-file, --timeout. */
struct check_net {
	const char	*resolver;	/* IP[:PORT]; NULL: the system's */
	const char	*ca_file;	/* NULL: the system's trust store */
	int		 timeout_s;	/* each DNS question and connection */
};

/*
 * The pre-flight of p, the policy about to be served for domain: every
 * live MX host covered by an mx pattern of p, STARTTLS on port 25, a
 * certificate that verifies for the MX host's name and does not expire
 * within 14 days.  Prints one check line per step, as check does, each
 * problem a FAIL.  Returns 0 all OK, 1 warnings only, 2 failures (the
 * first of them, "check: message", in failed), or -1 when it could not
 * run (why printed).
 */
int	check_preflight(const struct check_net *net, const char *domain,
	    const struct policy *p, char *failed, size_t failedsz);

/*
 * A --timeout argument: 1 to CHECK_TIMEOUT_MAX seconds into *out.
 * Returns 0, or -1 after saying why (cmd names the command).
 */
int	check_timeout_arg(const char *cmd, const char *arg, int *out);

#endif /* CHECK_H */
