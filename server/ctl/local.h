/*
 * local.h: mta-stsctl's side of the machine it runs on: mta-stsd.conf,
 * the policy directory and its id records (ids.h) under a lock, and the
 * running server, found through pid_file, reloaded with SIGHUP and asked
 * over HTTPS what it serves.
 *
 * Functions that can fail print why on stderr ("mta-stsctl: ...") and
 * return -1 (or NULL); the caller adds what it did not change.
 */
#ifndef LOCAL_H
#define LOCAL_H

#include <sys/types.h>

#include <stddef.h>

#include "lib/config.h"
#include "lib/ids.h"
#include "lib/policy.h"

struct tls_certs;
struct tls_cred;

/* One domain's state, read under its lock. */
struct local {
	struct config	 cfg;
	const char	*cfgpath;
	const char	*domain;
	char		 name[POLICY_HOST_MAX + 1];	/* DOMAIN, lower case */
	char		 host[POLICY_HOST_MAX + 10];	/* mta-sts.DOMAIN */
	char		 file[POLICY_HOST_MAX + 8];	/* DOMAIN.txt */
	char		 idfile[POLICY_HOST_MAX + 8];	/* DOMAIN.id */
	int		 dirfd;		/* policy_dir */
	int		 idsfd;		/* policy_dir/.ids */
	int		 dry_run;
	char		*src;		/* the policy source, if any */
	size_t		 srclen;
	struct policy	 pol;		/* parsed, if src */
	struct idrec	 rec;
	int		 has_rec;
	int		 borrowed;	/* cfg and fds belong to another ctx */
};

/*
 * Reads the configuration at path (NULL: the default), opens the policy
 * directory and its .ids directory, and with a domain (unless readonly)
 * takes the lock on the policy directory: two runs wait for each other
 * instead of losing a change.  Returns 0, or -1 (then local_close()).
 */
int	local_open(struct local *c, const char *path, const char *domain,
	    int readonly);
void	local_close(struct local *c);
/* Names the domain: checked, lower-cased, its file names.  0 or -1. */
int	local_set_domain(struct local *c, const char *domain);
/* Reads and parses the policy (want: it must exist).  0 or -1. */
int	local_read_policy(struct local *c, int want);
/* Reads the id record; a damaged one is reported, never rewritten. */
int	local_read_record(struct local *c);
int	local_write_record(struct local *c);
/*
 * Writes data as name in dirfd atomically (file.h), keeping a replaced
 * file's owner and mode; with noreplace an existing name is EEXIST.
 * Returns 0, or -1 with errno set and nothing changed.
 */
int	local_write(int dirfd, const char *name, const char *data,
	    size_t len, int noreplace);
/*
 * Marks the body about to be served as pending in the record (sha), or
 * ends the mark (NULL), so that mta-stsd's reload does not warn of
 * drift.  Only for a domain that has a record.
 */
int	local_mark_pending(struct local *c, const char *sha);
/* Issues the next id for p's body and records it (not in a dry run). */
int	local_issue_id(struct local *c, const struct policy *p, char id[16]);

/* The running server's pid, from pid_file; -1 after saying why not. */
pid_t	local_server_pid(const struct local *c);
/*
 * The credential the server should present for the domain, from a scan
 * of cert_dir as the server does it (*cs, to free).  NULL after saying
 * why.
 */
struct tls_cred *local_expected_cred(const struct local *c,
	    struct tls_certs **cs);
/*
 * Asks the server over HTTPS (its first listen address) what it serves
 * for the domain, taking only the very certificate of cred (its leaf,
 * byte for byte, and a handshake proving its key).  Returns 1 when it is
 * the len bytes of body (body NULL: whatever it serves), 0 when something
 * else (why says what), -1 when it cannot be asked or presents another
 * certificate (why).
 */
int	local_served(const struct local *c, const struct tls_cred *cred,
	    const char *body, size_t len, char *why, size_t whysz);
/*
 * SIGHUP to pid, then asks until body is served (10 s at most).
 * Returns 0, or -1 after saying what the server serves instead.
 */
int	local_reload_until_served(const struct local *c, pid_t pid,
	    const struct tls_cred *cred, const char *body, size_t len);
/*
 * The domains of the policy directory (DOMAIN of each DOMAIN.txt, hidden
 * files left out), sorted, in *names (free each and the array).
 * Returns how many, or -1 after saying why.
 */
long	local_domains(const struct local *c, char ***names);
void	local_domains_free(char **names, long n);
/* Prints the _mta-sts TXT record for domain and id. */
void	local_print_txt(const char *domain, const char *id);

/*
 * The id recorded for domain, per the configuration at path (NULL: the
 * default).  Returns 1 with id set, 0 when there is none (or no
 * configuration at the default path), -1 after printing why.
 */
int	local_current_id(const char *path, const char *domain, char id[33]);
/*
 * The local policy of domain, parsed into *p (free with policy_free()),
 * and its recorded id ("" when none).  Returns 1, 0 when there is none
 * (or no configuration at the default path), -1 after printing why.
 */
int	local_policy(const char *path, const char *domain, struct policy *p,
	    char id[33]);

#endif /* LOCAL_H */
