/*
 * sandbox.h: what mta-stsd may still do once it serves.
 *
 * After start-up (sockets bound, keys read, privileges dropped) the
 * process confines itself to serving: reading the policy, certificate
 * and ACME directories and its configuration file, appending to its log,
 * removing its pid file, writing TLS-RPT reports below tlsrpt_dir; no
 * program run, no network socket made, bound or connected (those it needs exist already).  On Linux: Landlock for
 * paths, seccomp for system calls.  Elsewhere, or on a kernel without
 * them, it does nothing and says so.
 */
#ifndef SANDBOX_H
#define SANDBOX_H

struct config;

/*
 * Enters the sandbox.  Returns 0, or -1 after logging why (the process
 * may then be partly confined; the caller stops).
 */
int	sandbox_enter(const struct config *c, const char *config_path);

#endif /* SANDBOX_H */
