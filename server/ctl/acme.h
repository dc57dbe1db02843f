/*
 * acme.h: the ACME client mta-stsctl runs for a certificate, Debian's
 * lego or certbot ([acme] client), never through a shell: argv built here,
 * its own state directory under state_dir (the account key stays there,
 * never in cert_dir), its HTTP-01 challenge files written into the [acme]
 * webroot that mta-stsd's listener serves.  mta-stsctl does no ACME of
 * its own.
 */
#ifndef ACME_H
#define ACME_H

#include <limits.h>
#include <stddef.h>

#include "lib/config.h"

/* Seconds one run of the client may take, all told. */
#define ACME_TIMEOUT_S	300

struct acme_result {
	char	 chain[PATH_MAX];	/* the chain it wrote, leaf first (PEM) */
	char	 key[PATH_MAX];		/* the leaf's private key (PEM) */
	char	 log[PATH_MAX];		/* the client's whole output, kept */
	char	 why[1024];		/* on failure: the ACME server's answer,
					   or what else went wrong */
};

/*
 * Runs cfg's client for a new certificate for host (a new order and a
 * new key, due or not: the caller decides), at most ACME_TIMEOUT_S
 * seconds, after making state_dir and the client's directory in it
 * (mode 0700).  The client's output goes to r->log.  Returns 0 with the
 * files it wrote named in *r, or -1 with r->why set.
 */
int	acme_obtain(const struct config *cfg, const char *host,
	    struct acme_result *r);

/*
 * What the ACME server answered, read from a client's output (len bytes
 * at out, hostile: the server's text is in it): each problem as "TYPE:
 * DETAIL" ("unauthorized: Non-200 status code from HTTP: http://...
 * returned 404", "rateLimited: ..."), "; " between, printable ASCII, in
 * why (whysz > 0), from lego's "urn:ietf:params:acme:error:TYPE ::
 * DETAIL" lines, certbot's "Type:" and "Detail:" lines and its "An
 * unexpected error occurred:" paragraph.  Returns 1; or 0 when none is
 * there, with the last lines of the output in why instead.  Pure;
 * exposed for the unit test and the fuzzer.
 */
int	acme_reason(const char *out, size_t len, char *why, size_t whysz);

#endif /* ACME_H */
