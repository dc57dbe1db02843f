/*
 * cert.c: mta-stsctl cert, a domain's certificate obtained with the
 * [acme] client, installed into cert_dir as one rename and confirmed
 * served over HTTPS; cert --renew, every domain due, one at a time.  See
 * cert.h and cmd.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/acme.h"
#include "ctl/cert.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/local.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/file.h"
#include "tls/tls.h"

#define CHAIN_FILE	"fullchain.pem"
#define KEY_FILE	"privkey.pem"
#define PEM_MAX		(1024 * 1024)	/* bytes of a chain or key file */
#define SERVE_MS	20000	/* to see the new certificate presented */
#define NUDGE_MS	8000	/* then a SIGHUP, if the watch has not acted */
#define POLL_MS		250

/* see cert.h */
int
cert_due(time_t not_after, time_t now, unsigned renew_days, long *renew_in)
{
	time_t	 until = not_after - now - (time_t)renew_days * 86400;

	if (renew_in != NULL)
		*renew_in = until > 0 ? (long)(until / 86400) : 0;
	return until <= 0;
}

/* "2027-03-01 09:00Z" */
static const char *
date(time_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;

	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%d %H:%MZ", &tm);
	return buf;
}

/* The group through which mta-stsd's user reads the key. */
static int
daemon_gid(const struct config *cfg, gid_t *gid, char *why, size_t whysz)
{
	struct passwd	*pw;

	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(why, whysz, "user %s (the server's) does not exist: "
		    "the key could not be made readable by it", cfg->user);
		return -1;
	}
	*gid = pw->pw_gid;
	return 0;
}

/*
 * What name is in cert_dir: 0 nothing, 1 a directory as cert_obtain()
 * makes it (nothing in it but the chain and the key, no links), -1
 * anything else, which is never replaced or removed (why).
 */
static int
ours(int cfd, const char *name, char *why, size_t whysz)
{
	struct stat	 st;
	struct dirent	*de;
	DIR		*d;
	int		 fd, rc = 1;

	if (fstatat(cfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whysz, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || (fd = openat(cfd, name, O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		snprintf(why, whysz, "cert_dir holds %s, which is not a "
		    "directory mta-stsctl made: move it away", name);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") ==
		    0)
			continue;
		if ((strcmp(de->d_name, CHAIN_FILE) != 0 &&
		    strcmp(de->d_name, KEY_FILE) != 0) ||
		    (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)) {
			snprintf(why, whysz, "cert_dir/%s holds %.100s: not a "
			    "directory mta-stsctl made; move it away", name,
			    de->d_name);
			rc = -1;
			break;
		}
	}
	closedir(d);
	return rc;
}

/* Removes a directory ours() accepts (only its two files, then it). */
static void
remove_ours(int cfd, const char *name)
{
	char	 why[512];
	int	 fd;

	if (ours(cfd, name, why, sizeof(why)) != 1)
		return;
	if ((fd = openat(cfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		unlinkat(fd, KEY_FILE, 0);
		unlinkat(fd, CHAIN_FILE, 0);
		close(fd);
	}
	if (unlinkat(cfd, name, AT_REMOVEDIR) == -1)
		fprintf(stderr, "mta-stsctl: cert_dir/%s: %s\n", name,
		    strerror(errno));
	fsync(cfd);
}

/* Copies the file at src into dfd as name, mode and group gid. */
static int
put(int dfd, const char *name, const char *src, unsigned mode, gid_t gid,
    char *why, size_t whysz)
{
	char	*buf = NULL, tmp[64];
	size_t	 len;
	int	 rc = -1;

	if (file_read(AT_FDCWD, src, PEM_MAX, 0, &buf, &len) == -1) {
		snprintf(why, whysz, "%.600s: %s", src, strerror(errno));
		return -1;
	}
	if (file_write_temp(dfd, name, buf, len, mode, 0, tmp, sizeof(tmp)) ==
	    -1)
		goto fail;
	/* The mode whatever the umask; the group mta-stsd reads through. */
	if ((gid != getegid() && fchownat(dfd, tmp, (uid_t)-1, gid,
	    AT_SYMLINK_NOFOLLOW) == -1) || fchmodat(dfd, tmp, mode, 0) == -1) {
		unlinkat(dfd, tmp, 0);
		goto fail;
	}
	if (file_commit(dfd, tmp, name, FILE_NOREPLACE) == -1)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(why, whysz, "cert_dir: %s: %s%s", name, strerror(errno),
	    errno == EPERM ? " (run as root: the key's group must be the "
	    "server's)" : "");
out:
	explicit_bzero(buf, len);
	free(buf);
	return rc;
}

/*
 * Makes the directory name in cert_dir with the client's chain and key:
 * the directory 0750 and the key 0640, both of group gid, the chain 0644.
 */
static int
build(int cfd, const char *name, const struct acme_result *r, gid_t gid,
    char *why, size_t whysz)
{
	int	 dfd, rc = -1;

	if (mkdirat(cfd, name, 0700) == -1 || (dfd = openat(cfd, name,
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "cert_dir: %s: %s", name, strerror(errno));
		return -1;
	}
	if ((gid != getegid() && fchown(dfd, (uid_t)-1, gid) == -1) ||
	    fchmod(dfd, 0750) == -1)
		snprintf(why, whysz, "cert_dir: %s: %s", name, strerror(errno));
	else if (put(dfd, CHAIN_FILE, r->chain, 0644, gid, why, whysz) == 0 &&
	    put(dfd, KEY_FILE, r->key, 0640, gid, why, whysz) == 0)
		rc = 0;
	close(dfd);
	return rc;
}

/*
 * Puts the directory tmp in place as name.  Over an existing one, the two
 * are exchanged in one rename (the previous then at tmp); where the file
 * system cannot exchange, the previous goes to ".NAME.prev" first and the
 * name is missing for a moment (mta-stsd, were it to reload just then,
 * keeps serving the certificate it had).  prev gets where the previous
 * one is ("" when there was none).  0, or -1 with errno and nothing moved.
 */
static int
swap_in(int cfd, const char *tmp, const char *name, int exists, char *prev,
    size_t prevsz)
{
	prev[0] = '\0';
	if (!exists) {
		if (renameat2(cfd, tmp, cfd, name, RENAME_NOREPLACE) == -1)
			return -1;
	} else if (renameat2(cfd, tmp, cfd, name, RENAME_EXCHANGE) == 0)
		snprintf(prev, prevsz, "%s", tmp);
	else if (errno == EINVAL || errno == ENOSYS) {
		snprintf(prev, prevsz, ".%s.prev", name);
		remove_ours(cfd, prev);
		if (renameat(cfd, name, cfd, prev) == -1)
			return -1;
		if (renameat(cfd, tmp, cfd, name) == -1) {
			int saved = errno;

			renameat(cfd, prev, cfd, name);
			errno = saved;
			return -1;
		}
	} else
		return -1;
	fsync(cfd);
	return 0;
}

/* Undoes swap_in(): the previous one back as name, the new one gone. */
static void
swap_out(int cfd, const char *tmp, const char *name, const char *prev)
{
	if (prev[0] == '\0')
		renameat(cfd, name, cfd, tmp);
	else if (strcmp(prev, tmp) == 0)
		renameat2(cfd, tmp, cfd, name, RENAME_EXCHANGE);
	else if (renameat(cfd, name, cfd, tmp) == 0)
		renameat(cfd, prev, cfd, name);
	fsync(cfd);
	remove_ours(cfd, tmp);
}

/*
 * Waits until the server presents cred for c->host: the certificate
 * watch reloads it, or SIGHUP (at once when watch_certs is off, after
 * NUDGE_MS when the watch has not acted).  SERVE_MS in all, however long
 * each fetch takes.  0, or -1 with why.
 */
static int
wait_served(const struct local *c, pid_t pid, const struct tls_cred *cred,
    char *why, size_t whysz)
{
	struct timespec	 ts = { 0, POLL_MS * 1000000L }, deadline, nudge;
	char		 w[512] = "";
	int		 hup = 0;

	if (!c->cfg.watch_certs) {
		if (kill(pid, SIGHUP) == -1) {
			snprintf(why, whysz, "cannot signal the server (pid "
			    "%ld): %s", (long)pid, strerror(errno));
			return -1;
		}
		hup = 1;
	}
	clock_deadline(&deadline, SERVE_MS);
	clock_deadline(&nudge, NUDGE_MS);
	while (clock_left_ms(&deadline) > 0) {
		nanosleep(&ts, NULL);
		if (local_served(c, cred, NULL, 0, w, sizeof(w)) == 1)
			return 0;
		if (!hup && clock_left_ms(&nudge) == 0) {
			fprintf(stderr, "mta-stsctl: %s: the certificate watch "
			    "has not reloaded mta-stsd after %d s; sending "
			    "SIGHUP\n", c->host, NUDGE_MS / 1000);
			kill(pid, SIGHUP);
			hup = 1;
		}
	}
	snprintf(why, whysz, "mta-stsd does not present the new certificate "
	    "after %d s: %s", SERVE_MS / 1000, w);
	return -1;
}

/* The credential of scan cs for host, of the configured key type first. */
static struct tls_cred *
find(const struct tls_certs *cs, const struct local *c, char *why,
    size_t whysz)
{
	struct tls_cred	*ec, *rsa;

	tls_certs_find(cs, c->host, time(NULL), &ec, &rsa, why, whysz);
	if (strcmp(c->cfg.acme_key_type, "rsa2048") == 0)
		return rsa != NULL ? rsa : ec;
	return ec != NULL ? ec : rsa;
}

/* see cert.h */
int
cert_obtain(struct local *c, pid_t pid, int confirm, struct cert_done *d,
    char *why, size_t whysz)
{
	struct acme_result	*r = NULL;
	struct tls_certs	*cs_old = NULL, *cs_new = NULL, *cs_all = NULL;
	struct tls_cred		*old, *nc, *expect, *ec, *rsa, *other;
	char			 tmp[POLICY_HOST_MAX + 24], prev[sizeof(tmp)];
	char			 path[PATH_MAX], w[512], buf[32];
	const char		*fault;
	gid_t			 gid;
	int			 cfd, exists, rc = -1;

	memset(d, 0, sizeof(*d));
	if (daemon_gid(&c->cfg, &gid, why, whysz) == -1)
		return -1;
	if ((cfd = open(c->cfg.cert_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		snprintf(why, whysz, "%s: %s", c->cfg.cert_dir, strerror(errno));
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".%s.swap", c->host);
	/* Under the lock: what a killed run left is stale. */
	remove_ours(cfd, tmp);
	if ((exists = ours(cfd, tmp, why, whysz)) != 0) {
		if (exists == 1)
			snprintf(why, whysz, "cert_dir/%s, left by a killed run, "
			    "cannot be removed", tmp);
		goto out;
	}
	if ((exists = ours(cfd, c->host, why, whysz)) == -1)
		goto out;
	/* What is served now, to tell the new certificate from it. */
	if ((cs_old = tls_certs_scan(c->cfg.cert_dir)) == NULL) {
		snprintf(why, whysz, "%s: %s", c->cfg.cert_dir, strerror(errno));
		goto out;
	}
	old = find(cs_old, c, w, sizeof(w));

	if ((r = malloc(sizeof(*r))) == NULL) {
		snprintf(why, whysz, "%s", strerror(errno));
		goto out;
	}
	if (acme_obtain(&c->cfg, c->host, r) == -1) {
		snprintf(why, whysz, "%s%s%.600s%s", r->why, r->log[0] ?
		    " (the client's output: " : "", r->log, r->log[0] ? ")" :
		    "");
		goto out;
	}
	if (build(cfd, tmp, r, gid, why, whysz) == -1)
		goto fail_tmp;

	/* The server's own scan of the new pair must take it for host. */
	if (snprintf(path, sizeof(path), "%s/%s", c->cfg.cert_dir, tmp) >=
	    (int)sizeof(path) || (cs_new = tls_certs_scan(path)) == NULL) {
		snprintf(why, whysz, "%s: cannot read it back", tmp);
		goto fail_tmp;
	}
	if ((nc = find(cs_new, c, w, sizeof(w))) == NULL) {
		snprintf(why, whysz, "the certificate %s wrote is not usable "
		    "for %s: %s", c->cfg.acme_client, c->host, w);
		goto fail_tmp;
	}
	if (old != NULL && tls_cred_same_leaf(old, nc)) {
		snprintf(why, whysz, "%s gave the certificate already served "
		    "(%s), not a new one", c->cfg.acme_client,
		    tls_cred_path(old));
		goto fail_tmp;
	}

	if (swap_in(cfd, tmp, c->host, exists, prev, sizeof(prev)) == -1) {
		snprintf(why, whysz, "cert_dir: %s: %s", c->host,
		    strerror(errno));
		goto fail_tmp;
	}
	/* Of a name's certificates, the server picks the one expiring last. */
	if ((cs_all = tls_certs_scan(c->cfg.cert_dir)) == NULL ||
	    (expect = find(cs_all, c, w, sizeof(w))) == NULL ||
	    !tls_cred_same_leaf(expect, nc)) {
		if (cs_all != NULL && (expect = find(cs_all, c, w,
		    sizeof(w))) != NULL)
			snprintf(why, whysz, "%s expires later (%s) and would "
			    "still be served instead: move it out of cert_dir",
			    tls_cred_path(expect), date(tls_cred_not_after(
			    expect), buf, sizeof(buf)));
		else
			snprintf(why, whysz, "cert_dir: the new certificate "
			    "is not found there: %s", w);
		goto fail_swap;
	}
	d->not_after = tls_cred_not_after(nc);
	tls_cred_issuer(nc, d->issuer, sizeof(d->issuer));
	snprintf(d->kind, sizeof(d->kind), "%s", tls_cred_kind(nc));
	snprintf(d->dir, sizeof(d->dir), "%s/%s", c->cfg.cert_dir, c->host);
	d->created = !exists;
	/*
	 * The tests make the confirmation fail (MTA_STSCTL_FAULT=confirm)
	 * to see the previous certificate put back.
	 */
	if (confirm && ((fault = getenv("MTA_STSCTL_FAULT")) != NULL &&
	    strcmp(fault, "confirm") == 0)) {
		snprintf(why, whysz, "not confirmed (MTA_STSCTL_FAULT)");
		goto fail_swap;
	}
	if (confirm && wait_served(c, pid, expect, why, whysz) == -1)
		goto fail_swap;
	if (prev[0] != '\0')
		remove_ours(cfd, prev);
	/* A certificate of the other key type: served to whom prefers it. */
	tls_certs_find(cs_all, c->host, time(NULL), &ec, &rsa, NULL, 0);
	if ((other = expect == ec ? rsa : ec) != NULL)
		fprintf(stderr, "mta-stsctl: %s: note: %s (%s, expires %s) also "
		    "covers it, and is served to clients that prefer %s\n",
		    c->host, tls_cred_path(other), tls_cred_kind(other),
		    date(tls_cred_not_after(other), buf, sizeof(buf)),
		    other == ec ? "ECDSA" : "RSA");
	rc = 0;
	goto out;
fail_swap:
	/* The previous certificate back: a failed renewal changes nothing. */
	swap_out(cfd, tmp, c->host, prev);
	if (confirm && !c->cfg.watch_certs && pid != -1)
		kill(pid, SIGHUP);
	goto out;
fail_tmp:
	remove_ours(cfd, tmp);
out:
	tls_certs_free(cs_all);
	tls_certs_free(cs_new);
	tls_certs_free(cs_old);
	free(r);
	close(cfd);
	return rc;
}

/* see cert.h */
int
cert_remove(struct local *c)
{
	char	 why[512];
	int	 cfd;

	if ((cfd = open(c->cfg.cert_dir, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || ours(cfd, c->host, why, sizeof(why)) != 1) {
		fprintf(stderr, "mta-stsctl: %s/%s: not removed\n",
		    c->cfg.cert_dir, c->host);
		if (cfd != -1)
			close(cfd);
		return -1;
	}
	remove_ours(cfd, c->host);
	close(cfd);
	return 0;
}

enum outcome {
	O_DONE,		/* obtained, or renewed */
	O_NOT_DUE,
	O_NO_CERT,	/* --renew: none to renew */
	O_FAILED
};

/*
 * One domain: its certificate obtained or renewed as due (or forced),
 * one line said.  With renew, that line goes to standard output whatever
 * happened; otherwise a failure goes to standard error.
 */
static enum outcome
cert_domain(const char *config, const char *domain, int force, int dry_run,
    int renew)
{
	struct local		 c;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cur = NULL;
	struct cert_done	 d;
	char			 why[1536] = "", w[512], b1[32];
	FILE			*err = renew ? stdout : stderr;
	const char		*pre = renew ? "" : "mta-stsctl: ";
	time_t			 now = time(NULL), na = 0;
	long			 left = 0;
	pid_t			 pid;
	enum outcome		 o = O_FAILED;

	if (local_open(&c, config, domain, dry_run) == -1 ||
	    local_read_policy(&c, 1) == -1) {
		fprintf(err, "%s%s: failed: no usable policy (see above); no "
		    "certificate is requested for a domain without one\n", pre,
		    domain);
		goto out;
	}
	if ((cs = tls_certs_scan(c.cfg.cert_dir)) == NULL) {
		fprintf(err, "%s%s: failed: %s: %s\n", pre, c.host,
		    c.cfg.cert_dir, strerror(errno));
		goto out;
	}
	if ((cur = find(cs, &c, w, sizeof(w))) != NULL) {
		na = tls_cred_not_after(cur);
		left = (long)((na - now) / 86400);
	}
	if (renew && cur == NULL) {
		printf("%s: no certificate: 'mta-stsctl cert %s' obtains one\n",
		    c.host, c.domain);
		o = O_NO_CERT;
		goto out;
	}
	if (cur != NULL && !force && !cert_due(na, now,
	    c.cfg.acme_renew_days, NULL)) {
		printf("%s: not due: expires %s, %ld days left (renew_days "
		    "%u)%s\n", c.host, date(na, b1, sizeof(b1)), left,
		    c.cfg.acme_renew_days, renew ? "" :
		    "; --force renews it now");
		o = O_NOT_DUE;
		goto out;
	}
	if (dry_run) {
		printf("%s: would %s a certificate with %s from %s\n", c.host,
		    cur != NULL ? "renew" : "obtain", c.cfg.acme_client,
		    c.cfg.acme_directory);
		o = O_DONE;
		goto out;
	}
	if ((pid = local_server_pid(&c)) == -1)
		snprintf(why, sizeof(why), "mta-stsd is not running, and its "
		    "[acme] listener answers the ACME challenge");
	else if (cert_obtain(&c, pid, 1, &d, why, sizeof(why)) == 0) {
		printf("%s: %s: certificate from %s served now; expires %s "
		    "(%ld days)\n", c.host, cur != NULL ? "renewed" :
		    "obtained", d.issuer, date(d.not_after, b1, sizeof(b1)),
		    (long)((d.not_after - time(NULL)) / 86400));
		o = O_DONE;
		goto out;
	}
	if (cur != NULL)
		fprintf(err, "%s%s: failed: %s; still serving the previous "
		    "certificate (expires %s, %ld days left)\n", pre, c.host,
		    why, date(na, b1, sizeof(b1)), left);
	else
		fprintf(err, "%s%s: failed: %s\n", pre, c.host, why);
out:
	fflush(stdout);
	tls_certs_free(cs);
	local_close(&c);
	return o;
}

/* see cmd.h */
int
cmd_cert(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "renew", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct local	 c;
	const char	*config = ctl_config_path();
	char		**names = NULL;
	long		 n = 0;
	unsigned	 count[O_FAILED + 1] = { 0 };
	int		 ch, force = 0, renew = 0, dry_run = 0, rc = EX_FAIL;

	while ((ch = getopt_long(argc, argv, "f:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			config = optarg;
			break;
		case 'F':
			force = 1;
			break;
		case 'r':
			renew = 1;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	if (argc - optind != (renew ? 0 : 1) || (renew && force))
		return ctl_usage(argv[0]);
	if (local_open(&c, config, NULL, 1) == -1)
		goto out;
	if (c.cfg.acme_client[0] == '\0') {
		fprintf(stderr, "mta-stsctl: %s sets no [acme] client: set "
		    "client = lego (or certbot) there, with [acme] listen and "
		    "webroot\n", c.cfgpath);
		goto out;
	}
	if (!renew) {
		rc = cert_domain(config, argv[optind], force, dry_run, 0) ==
		    O_FAILED ? EX_FAIL : EX_OK;
		goto out;
	}
	/* Only names with a policy file: nothing else is ever requested. */
	if ((n = local_domains(&c, &names)) == -1)
		goto out;
	for (long i = 0; i < n; i++)
		count[cert_domain(config, names[i], 0, dry_run, 1)]++;
	printf("cert --renew: %u renewed, %u not due, %u without a "
	    "certificate, %u failed\n", count[O_DONE], count[O_NOT_DUE],
	    count[O_NO_CERT], count[O_FAILED]);
	rc = count[O_FAILED] > 0 ? EX_FAIL : EX_OK;
out:
	local_domains_free(names, n);
	local_close(&c);
	return rc;
}
