/*
 * life.c: mta-stsctl's life-cycle commands.  See life.h.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "edit.h"
#include "file.h"
#include "ids.h"
#include "life.h"
#include "log.h"
#include "policy.h"
#include "tls.h"
#include "txt.h"

#define CONFIRM_MS	10000	/* to see the new body served */
#define FETCH_MS	3000	/* one HTTPS request */
#define MAX_MX		64	/* mx options on one command line */

/* One domain's state, read under its lock. */
struct ctx {
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

static void	clean_temps(int, const char *);

static const char *
cfg_path(const char *path)
{
	return path != NULL ? path : CONFIG_DEFAULT_PATH;
}

static void
ctx_free(struct ctx *c)
{
	free(c->src);
	policy_free(&c->pol);
	if (c->borrowed)
		return;
	if (c->idsfd != -1)
		close(c->idsfd);
	if (c->dirfd != -1)
		close(c->dirfd);	/* releases the lock */
	config_free(&c->cfg);
}

/*
 * Names the domain: checked, lower-cased (names are case-insensitive,
 * files are named in lower case), and its file names.  -1 after saying
 * why.
 */
static int
ctx_set_domain(struct ctx *c, const char *domain)
{
	const char *why;

	snprintf(c->name, sizeof(c->name), "%s", domain);
	for (char *p = c->name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	c->domain = c->name;
	if ((why = policy_check_host(c->name, strlen(c->name), 0)) != NULL) {
		fprintf(stderr, "mta-stsctl: invalid domain '%s': %s\n",
		    domain, why);
		return -1;
	}
	snprintf(c->host, sizeof(c->host), "mta-sts.%s", c->name);
	snprintf(c->file, sizeof(c->file), "%s.txt", c->name);
	snprintf(c->idfile, sizeof(c->idfile), "%s.id", c->name);
	return 0;
}

/*
 * Reads the configuration, opens the policy directory and its .ids
 * directory, and, with a domain, takes that domain's lock: two runs on the
 * same domain wait for each other instead of losing a change.
 */
static int
ctx_open(struct ctx *c, const char *path, const char *domain, int readonly)
{
	char		 err[512];

	memset(c, 0, sizeof(*c));
	c->dirfd = c->idsfd = -1;
	c->cfgpath = cfg_path(path);
	if (config_load(c->cfgpath, &c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s\n", err);
		return -1;
	}
	if (domain != NULL && ctx_set_domain(c, domain) == -1)
		return -1;
	c->dirfd = open(c->cfg.policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", c->cfg.policy_dir,
		    strerror(errno));
		return -1;
	}
	c->idsfd = openat(c->dirfd, IDS_DIR, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (domain == NULL || readonly)
		return 0;
	/*
	 * One lock on the policy directory itself: two runs wait for each
	 * other instead of losing a change, and no lock file is left.
	 */
	if (flock(c->dirfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			fprintf(stderr, "mta-stsctl: %s: lock: %s\n",
			    c->cfg.policy_dir, strerror(errno));
			return -1;
		}
		fprintf(stderr, "mta-stsctl: waiting for another mta-stsctl "
		    "working in %s\n", c->cfg.policy_dir);
		if (flock(c->dirfd, LOCK_EX) == -1)
			return -1;
	}
	/* Under the lock: what a killed run left is stale. */
	clean_temps(c->dirfd, c->file);
	if (c->idsfd != -1)
		clean_temps(c->idsfd, c->idfile);
	return 0;
}

/* Reads and parses the domain's policy.  want: it must exist. */
static int
read_policy(struct ctx *c, int want)
{
	struct policy_diags	 d;
	char			 line[600], name[4096];
	int			 rc;

	snprintf(name, sizeof(name), "%s/%s", c->cfg.policy_dir, c->file);
	if (file_read(c->dirfd, c->file, POLICY_SOURCE_MAX, FILE_HEAD, &c->src,
	    &c->srclen) == -1) {
		if (errno == ENOENT && !want)
			return 0;
		fprintf(stderr, "mta-stsctl: %s: %s%s\n", name,
		    errno == ENOENT ? "no such policy" : strerror(errno),
		    errno == ENOENT ? " (create it with 'mta-stsctl init')" :
		    "");
		return -1;
	}
	memset(&d, 0, sizeof(d));
	rc = policy_parse(c->src, c->srclen, &c->pol, &d);
	for (size_t i = 0; i < d.n; i++)
		if (d.v[i].severity == POLICY_ERROR)
			fprintf(stderr, "%s\n", policy_diag_format(name,
			    &d.v[i], line, sizeof(line)));
	policy_diags_free(&d);
	if (rc == -1)
		fprintf(stderr, "mta-stsctl: %s: fix the policy first\n", name);
	return rc;
}

/* Reads the id record; a damaged one is reported and left alone. */
static int
read_record(struct ctx *c)
{
	char	*buf, err[256];
	size_t	 len;

	if (c->idsfd == -1)
		return 0;
	if (file_read(c->idsfd, c->idfile, 65536, FILE_NOFOLLOW, &buf,
	    &len) == -1) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "mta-stsctl: %s/%s/%s: %s\n",
		    c->cfg.policy_dir, IDS_DIR, c->idfile, strerror(errno));
		return -1;
	}
	if (ids_parse(buf, len, &c->rec, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s/%s: damaged id record, %s; "
		    "nothing was changed (repair or remove it by hand: a "
		    "removed record forgets which ids were used)\n",
		    c->cfg.policy_dir, IDS_DIR, c->idfile, err);
		free(buf);
		return -1;
	}
	free(buf);
	c->has_rec = 1;
	return 0;
}

/*
 * Writes data as name in dirfd atomically: a temporary file in the same
 * directory, fsync, rename, fsync of the directory.  With noreplace, an
 * existing name is an error (EEXIST).  A crash leaves the old file or the
 * new one, never half of either.
 */
static int
write_atomic(int dirfd, const char *name, const char *data, size_t len,
    int noreplace)
{
	char		 tmp[512];
	const char	*fault;
	struct stat	 st;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved, rc;

	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644);
	if (fd == -1)
		return -1;
	/* A replaced file keeps its owner and mode (readable by the server). */
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (fchown(fd, st.st_uid, st.st_gid) == -1 ||
	    fchmod(fd, st.st_mode & 07777) == -1))
		goto fail;
	while (off < len) {
		if ((n = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/*
	 * Fault injection for the tests: a kill between the write and the
	 * rename of a policy ("rename") or of an id record ("rename-id").
	 */
	if ((fault = getenv("MTA_STSCTL_FAULT")) != NULL &&
	    ((strcmp(fault, "rename") == 0 && strstr(name, ".txt") != NULL) ||
	    (strcmp(fault, "rename-id") == 0 && strstr(name, ".id") != NULL)))
		raise(SIGKILL);
	rc = noreplace ? renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) :
	    renameat(dirfd, tmp, dirfd, name);
	if (rc == -1)
		goto fail;
	fsync(dirfd);
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

/* Removes temporary files a killed run left for this domain. */
static void
clean_temps(int dirfd, const char *name)
{
	DIR		*d;
	struct dirent	*de;
	char		 prefix[512];
	int		 fd;

	snprintf(prefix, sizeof(prefix), ".%s.", name);
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 &&
		    l > 4 && strcmp(de->d_name + l - 4, ".tmp") == 0)
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

/* Is pid an mta-stsd (not a process that reused a stale pid)? */
static int
is_mta_stsd(long pid)
{
	char	 path[64], *buf;
	size_t	 len;
	int	 yes;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (file_read(AT_FDCWD, path, 64, 0, &buf, &len) == -1)
		return 1;	/* no /proc: trust the pid file */
	yes = strncmp(buf, "mta-stsd", 8) == 0;
	free(buf);
	return yes;
}

/* The running server's pid, from pid_file; -1 after saying why not. */
static pid_t
server_pid(const struct ctx *c)
{
	char	*buf;
	size_t	 len;
	long	 pid;

	if (c->cfg.pid_file[0] == '\0') {
		fprintf(stderr, "mta-stsctl: %s sets no pid_file: the server "
		    "cannot be told to reload\n", c->cfgpath);
		return -1;
	}
	if (file_read(AT_FDCWD, c->cfg.pid_file, 64, 0, &buf, &len) == -1) {
		fprintf(stderr, "mta-stsctl: server not running (%s: %s)\n",
		    c->cfg.pid_file, strerror(errno));
		return -1;
	}
	pid = strtol(buf, NULL, 10);
	free(buf);
	if (pid <= 1 || kill((pid_t)pid, 0) == -1 || !is_mta_stsd(pid)) {
		fprintf(stderr, "mta-stsctl: server not running (pid %ld from "
		    "%s)\n", pid, c->cfg.pid_file);
		return -1;
	}
	return (pid_t)pid;
}

/* Where to reach the server: its first listen address, loopback for "*". */
static int
server_addr(const struct ctx *c, struct sockaddr_storage *ss, socklen_t *sl)
{
	struct addrinfo	 hints, *res;
	char		 host[64], port[8];
	const char	*h;

	if (config_listen_parse(c->cfg.listen[0], host, sizeof(host), port,
	    sizeof(port)) == -1)
		return -1;
	h = host;
	if (host[0] == '\0' || strcmp(host, "*") == 0 ||
	    strcmp(host, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(host, "::") == 0)
		h = "::1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(h, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sl = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * The certificate the server should present for the domain, from a scan
 * of cert_dir as the server does it.  NULL after saying why.
 */
static struct tls_cred *
expected_cred(const struct ctx *c, struct tls_certs **cs)
{
	struct tls_cred	*ec, *rsa;
	char		 why[512];

	if ((*cs = tls_certs_scan(c->cfg.cert_dir)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", c->cfg.cert_dir,
		    strerror(errno));
		return NULL;
	}
	tls_certs_find(*cs, c->host, time(NULL), &ec, &rsa, why, sizeof(why));
	if (ec == NULL && rsa == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s; the server does not serve "
		    "it\n", c->host, why);
		return NULL;
	}
	return ec != NULL ? ec : rsa;
}

/*
 * Asks the server over HTTPS what it serves for the domain.  Returns 1
 * when it is body, 0 when something else (reason in why), -1 on error.
 */
static int
served(const struct ctx *c, const struct tls_cred *cred, const char *body,
    size_t len, char *why, size_t whysz)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct tls_fetch	*f;
	int			 rc;

	if (server_addr(c, &ss, &sl) == -1) {
		snprintf(why, whysz, "cannot use listen address '%s'",
		    c->cfg.listen[0]);
		return -1;
	}
	if ((f = malloc(sizeof(*f))) == NULL)
		return -1;
	if (tls_fetch_policy((struct sockaddr *)&ss, sl, c->host, cred,
	    FETCH_MS, f, why, whysz) == -1)
		rc = -1;
	else if (f->status != 200) {
		snprintf(why, whysz, "status %u", f->status);
		rc = 0;
	} else if (f->bodylen != len || memcmp(f->body, body, len) != 0) {
		snprintf(why, whysz, "another policy body");
		rc = 0;
	} else
		rc = 1;
	free(f);
	return rc;
}

/* SIGHUP, then ask until the body is served or CONFIRM_MS passes. */
static int
reload_until_served(const struct ctx *c, pid_t pid,
    const struct tls_cred *cred, const char *body, size_t len)
{
	struct timespec	 ts = { 0, 100 * 1000000L };
	char		 why[512] = "";
	int		 rc = -1;

	if (kill(pid, SIGHUP) == -1) {
		fprintf(stderr, "mta-stsctl: cannot signal the server (pid "
		    "%ld): %s\n", (long)pid, strerror(errno));
		return -1;
	}
	for (int waited = 0; waited < CONFIRM_MS; waited += 100) {
		nanosleep(&ts, NULL);
		if ((rc = served(c, cred, body, len, why, sizeof(why))) == 1)
			return 0;
	}
	fprintf(stderr, "mta-stsctl: %s: the server does not serve the new "
	    "policy after %d s: %s\n", c->host, CONFIRM_MS / 1000, why);
	return -1;
}

static void
print_txt(const char *domain, const char *id)
{
	char line[512];

	txt_format(line, sizeof(line), domain, 3600, id);
	printf("%s\n", line);
}

static int
write_record(struct ctx *c)
{
	char	*text;
	int	 rc;

	if (c->idsfd == -1) {
		if (mkdirat(c->dirfd, IDS_DIR, 0755) == -1 && errno != EEXIST)
			goto fail;
		c->idsfd = openat(c->dirfd, IDS_DIR, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
		if (c->idsfd == -1)
			goto fail;
	}
	if ((text = ids_format(&c->rec, c->domain)) == NULL)
		return -1;
	rc = write_atomic(c->idsfd, c->idfile, text, strlen(text), 0);
	free(text);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "mta-stsctl: %s/%s/%s: %s\n", c->cfg.policy_dir,
	    IDS_DIR, c->idfile, strerror(errno));
	return -1;
}

/*
 * Marks the body about to be served as pending in the record (or ends the
 * mark with sha NULL), so that mta-stsd's reload does not warn of drift.
 * Only for a domain that has a record: init issues its id first.
 */
static int
mark_pending(struct ctx *c, const char *sha)
{
	if (!c->has_rec)
		return 0;
	if (sha != NULL)
		memcpy(c->rec.pending, sha, 65);
	else
		c->rec.pending[0] = '\0';
	return write_record(c);
}

/* Issues the next id for the served body and writes the record. */
static int
issue_id(struct ctx *c, const struct policy *p, char id[16])
{
	char	 sha[65];
	time_t	 now = time(NULL);

	tls_sha256_hex(p->body, p->bodylen, sha);
	if (ids_next(&c->rec, now, id) == -1)
		return -1;
	if (c->dry_run)
		return 0;
	ids_issue(&c->rec, id, sha, p->max_age, now);
	c->has_rec = 1;
	return write_record(c);
}

static const char *
days(unsigned long secs, char *buf, size_t bufsz)
{
	if (secs >= 86400)
		snprintf(buf, bufsz, "%lu s, %.1f days", secs, secs / 86400.0);
	else
		snprintf(buf, bufsz, "%lu s, %.1f hours", secs, secs / 3600.0);
	return buf;
}

/*
 * The change flow shared by mode and set: validate the new source, write
 * it, reload, confirm, then issue the id and print the record.  On a
 * failed confirmation the old source is put back.
 */
static int
change(struct ctx *c, char *newsrc)
{
	struct policy		 np;
	struct policy_diags	 d;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	char			 id[16], line[600], buf[64];
	/* What senders may have cached: the policy of the recorded id. */
	unsigned long		 old_age = c->has_rec ? c->rec.max_age :
				    c->pol.max_age;
	char			 sha[65];
	pid_t			 pid = -1;
	int			 rc = 1;

	memset(&d, 0, sizeof(d));
	memset(&np, 0, sizeof(np));
	if (policy_parse(newsrc, strlen(newsrc), &np, &d) == -1) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", policy_diag_format(c->file,
			    &d.v[i], line, sizeof(line)));
		fprintf(stderr, "mta-stsctl: %s: the change makes an invalid "
		    "policy; nothing changed\n", c->domain);
		goto out;
	}
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", policy_diag_format(c->file, &d.v[i],
		    line, sizeof(line)));
	if (np.bodylen == c->pol.bodylen &&
	    memcmp(np.body, c->pol.body, np.bodylen) == 0) {
		tls_sha256_hex(np.body, np.bodylen, sha);
		if (c->has_rec && strcmp(sha, c->rec.sha256) == 0)
			printf("%s: the policy is unchanged; it keeps its id "
			    "%s\n", c->domain, c->rec.id);
		else
			printf("%s: nothing to change here, but the policy "
			    "changed since %s%s: run 'mta-stsctl issue %s'\n",
			    c->domain, c->has_rec ? "id " : "its last id",
			    c->has_rec ? c->rec.id : "", c->domain);
		rc = 0;
		goto out;
	}
	if (c->dry_run) {
		ids_next(&c->rec, time(NULL), id);
		printf("%s: would serve:\n", c->domain);
		fwrite(np.body, 1, np.bodylen, stdout);
		printf("%s: would then issue id %s:\n", c->domain, id);
		print_txt(c->domain, id);
		rc = 0;
		goto out;
	}
	if ((pid = server_pid(c)) == -1 ||
	    (cred = expected_cred(c, &cs)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: nothing changed\n", c->domain);
		goto out;
	}
	tls_sha256_hex(np.body, np.bodylen, sha);
	if (mark_pending(c, sha) == -1) {
		fprintf(stderr, "mta-stsctl: %s: nothing changed\n", c->domain);
		goto out;
	}
	if (write_atomic(c->dirfd, c->file, newsrc, strlen(newsrc), 0) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s: %s; nothing changed\n",
		    c->cfg.policy_dir, c->file, strerror(errno));
		mark_pending(c, NULL);
		goto out;
	}
	if (reload_until_served(c, pid, cred, np.body, np.bodylen) == -1) {
		mark_pending(c, NULL);
		/* Put the old policy back: never an id for an unserved one. */
		if (write_atomic(c->dirfd, c->file, c->src, c->srclen, 0) == -1)
			fprintf(stderr, "mta-stsctl: %s: could not restore "
			    "the previous policy: %s\n", c->domain,
			    strerror(errno));
		else if (kill(pid, SIGHUP) == -1)
			fprintf(stderr, "mta-stsctl: %s: the previous policy "
			    "was restored on disk, but the server could not be "
			    "told (%s); no new id\n", c->domain,
			    strerror(errno));
		else
			fprintf(stderr, "mta-stsctl: %s: the previous policy "
			    "was restored; no new id\n", c->domain);
		goto out;
	}
	if (issue_id(c, &np, id) == -1) {
		fprintf(stderr, "mta-stsctl: %s: the new policy is served but "
		    "no id could be recorded; run 'mta-stsctl issue %s'\n",
		    c->domain, c->domain);
		goto out;
	}
	printf("%s now serves mode %s (max_age %lu); new id %s.\n"
	    "Publish this record now, replacing the old one:\n", c->host,
	    policy_mode_name(np.mode), np.max_age, id);
	print_txt(c->domain, id);
	printf("Senders that cached the previous policy keep it until they "
	    "see the new id, for at most its max_age (%s).\n",
	    days(old_age, buf, sizeof(buf)));
	if (np.mode == POLICY_MODE_NONE) {
		time_t until = time(NULL) + (time_t)old_age;
		struct tm tm;

		gmtime_r(&until, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%d %H:%MZ", &tm);
		printf("To remove MTA-STS from %s:\n"
		    "  1. publish the record above (mode none, new id) now;\n"
		    "  2. wait the previous max_age from the moment it is "
		    "published (not before %s), so that every sender has seen "
		    "mode none;\n"
		    "  3. then delete the _mta-sts.%s TXT record, and only "
		    "then %s/%s and the mta-sts.%s address records.\n",
		    c->domain, buf, c->domain, c->cfg.policy_dir, c->file,
		    c->domain);
	}
	rc = 0;
out:
	tls_certs_free(cs);
	policy_free(&np);
	policy_diags_free(&d);
	return rc;
}

/*
 * Options common to every command: -f CONFIG, --dry-run, --help.  Others
 * are handled by the caller through extra (NULL when none).
 */
struct opts {
	const char	*config;
	int		 dry_run;
	int		 json;
	const char	*mx[MAX_MX];
	size_t		 nmx;
	const char	*add[MAX_MX];
	size_t		 nadd;
	const char	*del[MAX_MX];
	size_t		 ndel;
	const char	*rua[8];
	size_t		 nrua;
	long		 max_age;	/* -1: not given */
	unsigned	 given;		/* G_* of the options given */
};

#define G_MX		0x01	/* --mx */
#define G_ADDDEL	0x02	/* --add-mx, --remove-mx */
#define G_AGE		0x04	/* --max-age */
#define G_RUA		0x08	/* --rua */
#define G_JSON		0x10	/* --json */

enum {
	OPT_MX = 256,
	OPT_ADD_MX,
	OPT_REMOVE_MX,
	OPT_MAX_AGE,
	OPT_RUA,
	OPT_DRY_RUN,
	OPT_JSON
};

static int
add_opt(const char **v, size_t *n, size_t max, const char *s)
{
	if (*n == max) {
		fprintf(stderr, "mta-stsctl: too many values\n");
		return -1;
	}
	v[(*n)++] = s;
	return 0;
}

/* Parses argv; returns the index of the first operand, or -1 (usage). */
static int
parse_opts(int argc, char **argv, struct opts *o, int *helped)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "mx", required_argument, NULL, OPT_MX },
		{ "add-mx", required_argument, NULL, OPT_ADD_MX },
		{ "remove-mx", required_argument, NULL, OPT_REMOVE_MX },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "rua", required_argument, NULL, OPT_RUA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	char	*end;
	int	 ch;

	memset(o, 0, sizeof(*o));
	o->max_age = -1;
	o->config = ctl_config_path();
	*helped = 0;
	while ((ch = getopt_long(argc, argv, "f:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			o->config = optarg;
			break;
		case 'n':
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_JSON:
			o->given |= G_JSON;
			o->json = 1;
			break;
		case OPT_MX:
			o->given |= G_MX;
			if (add_opt(o->mx, &o->nmx, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_ADD_MX:
			o->given |= G_ADDDEL;
			if (add_opt(o->add, &o->nadd, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_REMOVE_MX:
			o->given |= G_ADDDEL;
			if (add_opt(o->del, &o->ndel, MAX_MX, optarg) == -1)
				return -1;
			break;
		case OPT_RUA:
			o->given |= G_RUA;
			if (add_opt(o->rua, &o->nrua, 8, optarg) == -1)
				return -1;
			break;
		case OPT_MAX_AGE:
			o->given |= G_AGE;
			errno = 0;
			o->max_age = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg < '0' ||
			    *optarg > '9' || o->max_age > (long)POLICY_MAX_AGE_MAX) {
				fprintf(stderr, "mta-stsctl: --max-age: '%s' is "
				    "not 0 to 31557600 seconds\n", optarg);
				return -1;
			}
			break;
		case 'h':
			*helped = 1;
			return -1;
		default:
			return -1;
		}
	}
	return optind;
}

/*
 * The start every domain command shares: its options (only those in
 * allowed), nargs operands, the domain's context under its lock, and with
 * read, its policy and id record.  Returns the index of the first operand,
 * or -1 with the exit status in *rc.
 */
static int
begin(int argc, char **argv, struct opts *o, struct ctx *c, int nargs,
    unsigned allowed, int read, int *rc)
{
	int	 i, helped;

	memset(c, 0, sizeof(*c));
	c->dirfd = c->idsfd = -1;
	if ((i = parse_opts(argc, argv, o, &helped)) == -1) {
		*rc = helped ? ctl_help(argv[0]) : ctl_usage(argv[0]);
		return -1;
	}
	if (argc - i != nargs || (o->given & ~allowed) != 0) {
		*rc = ctl_usage(argv[0]);
		return -1;
	}
	*rc = 1;
	if (ctx_open(c, o->config, argv[i], o->dry_run) == -1 ||
	    (read && (read_policy(c, 1) == -1 || read_record(c) == -1)))
		return -1;
	c->dry_run = o->dry_run;
	return i;
}

/*
 * The TLS-RPT record for the rua URIs (RFC 8460): "," ";" and "!" inside
 * a URI are percent-encoded.  Returns -1 for a URI that is neither
 * mailto: nor https:.
 */
static int
print_tlsrpt(const char *domain, const char *const *rua, size_t n)
{
	printf("_smtp._tls.%s. 3600 IN TXT \"v=TLSRPTv1; rua=", domain);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			putchar(',');
		for (const char *p = rua[i]; *p != '\0'; p++) {
			if (*p == ',' || *p == ';' || *p == '!')
				printf("%%%02X", (unsigned char)*p);
			else
				putchar(*p);
		}
	}
	printf(";\"\n");
	return 0;
}

static int
check_rua(const char *u)
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

/* This host's fully qualified name, or -1 when it has none (no dot). */
static int
fqdn(char *buf, size_t bufsz)
{
	struct addrinfo	 hints, *res;
	char		 h[256];

	if (gethostname(h, sizeof(h)) == -1)
		return -1;
	h[sizeof(h) - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	if (strchr(h, '.') == NULL && getaddrinfo(h, NULL, &hints, &res) == 0) {
		if (res->ai_canonname != NULL)
			snprintf(h, sizeof(h), "%s", res->ai_canonname);
		freeaddrinfo(res);
	}
	if (strchr(h, '.') == NULL || policy_check_host(h, strlen(h), 0))
		return -1;
	snprintf(buf, bufsz, "%s", h);
	return 0;
}

/* see life.h */
int
life_init(int argc, char **argv)
{
	struct opts	 o;
	struct ctx	 c;
	struct policy	 p;
	struct policy_diags d;
	char		 src[8192], id[16], line[600], host[256], date[16];
	size_t		 n;
	int		 rc;
	time_t		 now = time(NULL);
	struct tm	 tm;

	if (begin(argc, argv, &o, &c, 1, G_MX | G_AGE | G_RUA, 0, &rc) == -1)
		goto out;
	rc = 1;
	if (o.nmx == 0) {
		rc = ctl_usage(argv[0]);
		goto out;
	}
	for (size_t k = 0; k < o.nrua; k++)
		if (check_rua(o.rua[k]) == -1)
			goto out;
	if (read_policy(&c, 0) == -1)
		goto out;
	if (c.src != NULL) {
		fprintf(stderr, "mta-stsctl: %s/%s exists; init never "
		    "overwrites a policy (use mode or set)\n",
		    c.cfg.policy_dir, c.file);
		goto out;
	}
	if (read_record(&c) == -1)
		goto out;
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	n = (size_t)snprintf(src, sizeof(src), "# %s, created by mta-stsctl "
	    "init on %s.\n# Change it with 'mta-stsctl mode' and 'mta-stsctl "
	    "set'.\nversion: STSv1\nmode: testing\n", c.domain, date);
	for (size_t k = 0; k < o.nmx && n < sizeof(src); k++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, "mx: %s\n",
		    o.mx[k]);
	if (n < sizeof(src))
		n += (size_t)snprintf(src + n, sizeof(src) - n,
		    "max_age: %ld\n", o.max_age >= 0 ? o.max_age : 86400L);
	if (n >= sizeof(src)) {
		fprintf(stderr, "mta-stsctl: too many mx\n");
		goto out;
	}
	memset(&d, 0, sizeof(d));
	if (policy_parse(src, n, &p, &d) == -1) {
		for (size_t k = 0; k < d.n; k++)
			fprintf(stderr, "%s\n", policy_diag_format(c.file,
			    &d.v[k], line, sizeof(line)));
		fprintf(stderr, "mta-stsctl: %s: nothing created\n", c.domain);
		policy_diags_free(&d);
		goto out;
	}
	for (size_t k = 0; k < d.n; k++)
		fprintf(stderr, "%s\n", policy_diag_format(c.file, &d.v[k],
		    line, sizeof(line)));
	policy_diags_free(&d);
	if (c.dry_run) {
		printf("%s: would create %s/%s:\n%s", c.domain,
		    c.cfg.policy_dir, c.file, src);
		policy_free(&p);
		rc = 0;
		goto out;
	}
	if (write_atomic(c.dirfd, c.file, src, n, 1) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s: %s; nothing created\n",
		    c.cfg.policy_dir, c.file, strerror(errno));
		policy_free(&p);
		goto out;
	}
	if (issue_id(&c, &p, id) == -1) {
		policy_free(&p);
		goto out;
	}
	printf("%s: created %s/%s in mode testing (senders report problems "
	    "but deliver anyway).\n", c.domain, c.cfg.policy_dir, c.file);
	{
		struct tls_certs *cs = NULL;
		struct tls_cred *cred;
		pid_t pid;

		pid = server_pid(&c);
		cred = pid != -1 ? expected_cred(&c, &cs) : NULL;
		if (pid != -1 && cred != NULL && reload_until_served(&c, pid,
		    cred, p.body, p.bodylen) == 0)
			printf("%s: served now.\n", c.host);
		else
			printf("%s: not served yet (%s); the records below "
			    "can wait until it is: 'mta-stsctl status' "
			    "tells.\n", c.host, pid == -1 ?
			    "the server is not running" : cred == NULL ?
			    "no certificate" : "see above");
		tls_certs_free(cs);
	}
	printf("Publish these DNS records:\n");
	print_txt(c.domain, id);
	if (fqdn(host, sizeof(host)) == 0)
		printf("mta-sts.%s. 3600 IN CNAME %s.\n", c.domain, host);
	else
		printf("; mta-sts.%s. 3600 IN CNAME <this server's full host "
		    "name>.\n", c.domain);
	printf("; (or A and AAAA records with this server's addresses; an A "
	    "record is needed: some senders use IPv4 only)\n");
	if (o.nrua > 0)
		print_tlsrpt(c.domain, o.rua, o.nrua);
	/* A report address on this server that nothing would answer. */
	for (size_t k = 0; k < o.nrua; k++)
		if (c.cfg.tlsrpt_dir[0] == '\0' &&
		    strncmp(o.rua[k], "https://mta-sts.", 16) == 0 &&
		    strncasecmp(o.rua[k] + 16, c.domain, strlen(c.domain)) == 0)
			fprintf(stderr, "mta-stsctl: note: %s: tlsrpt_dir is not "
			    "set in %s, so mta-stsd will not receive these "
			    "reports\n", o.rua[k], c.cfgpath);
	policy_free(&p);
	rc = 0;
out:
	ctx_free(&c);
	return rc;
}

/* see life.h */
int
life_mode(int argc, char **argv)
{
	struct opts		 o;
	struct ctx		 c;
	enum policy_mode	 m;
	char			*newsrc;
	int			 i, rc;

	if ((i = begin(argc, argv, &o, &c, 2, 0, 1, &rc)) != -1) {
		if (policy_mode_parse(argv[i + 1], &m) == -1)
			fprintf(stderr, "mta-stsctl: mode '%s': testing, "
			    "enforce or none\n", argv[i + 1]);
		else if ((newsrc = edit_mode(c.src, c.srclen, m)) != NULL) {
			rc = change(&c, newsrc);
			free(newsrc);
		}
	}
	ctx_free(&c);
	return rc;
}

/* see life.h */
int
life_set(int argc, char **argv)
{
	struct opts	 o;
	struct ctx	 c;
	char		**mx = NULL, *s1 = NULL, *s2 = NULL;
	size_t		 n = 0;
	int		 rc, keep;

	if (begin(argc, argv, &o, &c, 1, G_MX | G_ADDDEL | G_AGE, 1, &rc) ==
	    -1)
		goto out;
	/* Room for every mx the policy has and every one added. */
	if ((mx = calloc(c.pol.nmx + o.nmx + o.nadd + 1, sizeof(*mx))) ==
	    NULL) {
		rc = 1;
		goto out;
	}
	if ((o.given & G_MX && o.given & G_ADDDEL) || o.given == 0) {
		rc = ctl_usage(argv[0]);
		goto out;
	}
	rc = 1;
	if (o.nmx > 0) {
		for (size_t k = 0; k < o.nmx; k++)
			mx[n++] = (char *)(uintptr_t)o.mx[k];
	} else {
		for (size_t k = 0; k < c.pol.nmx; k++) {
			keep = 1;
			for (size_t j = 0; j < o.ndel; j++)
				if (strcasecmp(c.pol.mx[k], o.del[j]) == 0)
					keep = 0;
			if (keep)
				mx[n++] = c.pol.mx[k];
		}
		for (size_t j = 0; j < o.ndel; j++) {
			int found = 0;

			for (size_t k = 0; k < c.pol.nmx; k++)
				if (strcasecmp(c.pol.mx[k], o.del[j]) == 0)
					found = 1;
			if (!found) {
				fprintf(stderr, "mta-stsctl: --remove-mx %s: "
				    "not in the policy; nothing changed\n",
				    o.del[j]);
				goto out;
			}
		}
		for (size_t k = 0; k < o.nadd; k++)
			mx[n++] = (char *)(uintptr_t)o.add[k];
	}
	if (o.nmx > 0 || o.nadd > 0 || o.ndel > 0) {
		if ((s1 = edit_mx(c.src, c.srclen, mx, n)) == NULL)
			goto out;
	} else if ((s1 = strdup(c.src)) == NULL)
		goto out;
	if (o.max_age >= 0) {
		if ((s2 = edit_max_age(s1, strlen(s1),
		    (unsigned long)o.max_age)) == NULL)
			goto out;
	} else {
		s2 = s1;
		s1 = NULL;
	}
	rc = change(&c, s2);
out:
	free(mx);
	free(s1);
	free(s2);
	ctx_free(&c);
	return rc;
}

/* see life.h */
int
life_issue(int argc, char **argv)
{
	struct opts		 o;
	struct ctx		 c;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	char			 sha[65], id[16];
	pid_t			 pid;
	int			 rc;

	if (begin(argc, argv, &o, &c, 1, 0, 1, &rc) == -1)
		goto out;
	rc = 1;
	tls_sha256_hex(c.pol.body, c.pol.bodylen, sha);
	if (c.has_rec && strcmp(sha, c.rec.sha256) == 0) {
		printf("%s: unchanged since id %s was issued; publish:\n",
		    c.domain, c.rec.id);
		print_txt(c.domain, c.rec.id);
		rc = 0;
		goto out;
	}
	if (c.dry_run) {
		ids_next(&c.rec, time(NULL), id);
		printf("%s: would issue id %s\n", c.domain, id);
		print_txt(c.domain, id);
		rc = 0;
		goto out;
	}
	if ((pid = server_pid(&c)) == -1 ||
	    (cred = expected_cred(&c, &cs)) == NULL ||
	    mark_pending(&c, sha) == -1) {
		fprintf(stderr, "mta-stsctl: %s: no id issued\n", c.domain);
		goto out;
	}
	if (reload_until_served(&c, pid, cred, c.pol.body, c.pol.bodylen) ==
	    -1) {
		mark_pending(&c, NULL);
		fprintf(stderr, "mta-stsctl: %s: no id issued\n", c.domain);
		goto out;
	}
	if (issue_id(&c, &c.pol, id) == -1)
		goto out;
	printf("%s serves the policy; new id %s. Publish this record now:\n",
	    c.host, id);
	print_txt(c.domain, id);
	rc = 0;
out:
	tls_certs_free(cs);
	ctx_free(&c);
	return rc;
}

/* see life.h */
int
life_current_id(const char *path, const char *domain, char id[33])
{
	struct ctx	 c;
	int		 rc;

	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == -1)
		return 0;
	if (ctx_open(&c, path, NULL, 1) == -1) {
		ctx_free(&c);
		return -1;
	}
	rc = ctx_set_domain(&c, domain) == -1 ? -1 : read_record(&c);
	if (rc == 0 && c.has_rec) {
		memcpy(id, c.rec.id, sizeof(c.rec.id));
		rc = 1;
	}
	ctx_free(&c);
	return rc;
}

/* see life.h */
int
life_local_policy(const char *path, const char *domain, struct policy *p,
    char id[33])
{
	struct ctx	 c;
	int		 rc;

	id[0] = '\0';
	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == -1)
		return 0;
	if (ctx_open(&c, path, domain, 1) == -1) {
		ctx_free(&c);
		return -1;
	}
	if ((rc = read_policy(&c, 0)) == 0 && c.src != NULL)
		rc = read_record(&c) == -1 ? -1 : 1;
	if (rc == 1) {
		if (c.has_rec)
			memcpy(id, c.rec.id, sizeof(c.rec.id));
		*p = c.pol;
		memset(&c.pol, 0, sizeof(c.pol));
	}
	ctx_free(&c);
	return rc;
}

/* One domain of status: human text or a JSON object. */
static int
status_one(const struct ctx *base, const char *domain,
    const struct tls_certs *cs, pid_t pid, int json, int *printed)
{
	const struct config *cfg = &base->cfg;
	struct ctx	 c;
	struct tls_cred	*ec, *rsa, *cred;
	char		 sha[65], next[16], why[512] = "", served_s[600];
	const char	*drift = NULL;
	long		 left = 0;
	int		 ok, problems = 0;

	/* The configuration and directories status opened once, shared. */
	memset(&c, 0, sizeof(c));
	c.cfg = base->cfg;
	c.cfgpath = base->cfgpath;
	c.dirfd = base->dirfd;
	c.idsfd = base->idsfd;
	c.borrowed = 1;
	if (ctx_set_domain(&c, domain) == -1 ||
	    read_policy(&c, 1) == -1 || read_record(&c) == -1) {
		if (json) {
			printf("%s\n  {\"domain\": ", *printed ? "," : "");
			ctl_json_str(domain);
			printf(", \"error\": \"unreadable policy or id "
			    "record\"}");
			(*printed)++;
		} else
			printf("%s: unreadable policy or id record (see "
			    "above)\n", domain);
		ctx_free(&c);
		return 1;
	}
	tls_sha256_hex(c.pol.body, c.pol.bodylen, sha);
	if (!c.has_rec)
		drift = "no id issued yet";
	else if (strcmp(sha, c.rec.sha256) != 0)
		drift = strcmp(sha, c.rec.pending) == 0 ? "changed by an "
		    "unfinished mta-stsctl run" : "changed since the id was "
		    "issued";
	ids_next(&c.rec, time(NULL), next);
	tls_certs_find(cs, c.host, time(NULL), &ec, &rsa, why, sizeof(why));
	cred = ec != NULL ? ec : rsa;
	if (cred != NULL)
		left = (long)((tls_cred_not_after(cred) - time(NULL)) / 86400);
	if (pid == -1)
		snprintf(served_s, sizeof(served_s), cfg->pid_file[0] ?
		    "server not running" : "unknown (no pid_file set)");
	else if (cred == NULL)
		snprintf(served_s, sizeof(served_s), "not served (%s)", why);
	else {
		ok = served(&c, cred, c.pol.body, c.pol.bodylen, served_s,
		    sizeof(served_s));
		if (ok == 1)
			snprintf(served_s, sizeof(served_s), "serves this "
			    "policy");
		else {
			char tmp[600];

			snprintf(tmp, sizeof(tmp), "serves %.500s", served_s);
			memcpy(served_s, tmp, sizeof(tmp));
		}
	}
	problems = drift != NULL || cred == NULL || left < 14 ||
	    strcmp(served_s, "serves this policy") != 0;
	if (json) {
		printf("%s\n  {\"domain\": ", *printed ? "," : "");
		(*printed)++;
		ctl_json_str(c.domain);
		printf(", \"mode\": \"%s\", \"max_age\": %lu, \"mx\": [",
		    policy_mode_name(c.pol.mode), c.pol.max_age);
		for (size_t k = 0; k < c.pol.nmx; k++) {
			if (k > 0)
				printf(", ");
			ctl_json_str(c.pol.mx[k]);
		}
		printf("], \"id\": ");
		if (c.has_rec)
			ctl_json_str(c.rec.id);
		else
			printf("null");
		printf(", \"changed_since_id\": %s, \"next_id\": ",
		    drift != NULL ? "true" : "false");
		if (drift != NULL)
			ctl_json_str(next);
		else
			printf("null");
		printf(", \"certificate\": ");
		if (cred != NULL) {
			printf("{\"subject\": ");
			ctl_json_str(tls_cred_subject(cred));
			printf(", \"kind\": ");
			ctl_json_str(tls_cred_kind(cred));
			printf(", \"days_left\": %ld}", left);
		} else
			printf("null");
		printf(", \"server\": ");
		ctl_json_str(served_s);
		printf("}");
	} else {
		printf("%s: mode %s, max_age %lu, mx", c.domain,
		    policy_mode_name(c.pol.mode), c.pol.max_age);
		for (size_t k = 0; k < c.pol.nmx; k++)
			printf(" %s", c.pol.mx[k]);
		printf("\n  id: %s", c.has_rec ? c.rec.id : "(none)");
		if (drift != NULL)
			printf(" -- policy %s: run 'mta-stsctl issue %s' and "
			    "publish id %s", drift, c.domain, next);
		printf("\n  certificate: ");
		if (cred != NULL)
			printf("%s (%s), %ld days left\n",
			    tls_cred_subject(cred), tls_cred_kind(cred), left);
		else
			printf("none: %s\n", why);
		printf("  server: %s\n", served_s);
	}
	ctx_free(&c);
	return problems;
}

/* see life.h */
int
life_status(int argc, char **argv)
{
	struct opts		 o;
	struct ctx		 c;
	struct tls_certs	*cs;
	DIR			*d;
	struct dirent		*de;
	char			**names = NULL;
	size_t			 n = 0;
	pid_t			 pid;
	int			 i, helped, rc = 0, fd, printed = 0;

	if ((i = parse_opts(argc, argv, &o, &helped)) == -1)
		return helped ? ctl_help(argv[0]) : ctl_usage(argv[0]);
	if (argc - i > 1 || (o.given & ~G_JSON) != 0 || o.dry_run)
		return ctl_usage(argv[0]);
	if (ctx_open(&c, o.config, NULL, 1) == -1) {
		ctx_free(&c);
		return 1;
	}
	log_set_level(LOG_LVL_ERROR);
	if ((cs = tls_certs_scan(c.cfg.cert_dir)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", c.cfg.cert_dir,
		    strerror(errno));
		ctx_free(&c);
		return 1;
	}
	/* Quietly: status reports a stopped server per domain. */
	pid = -1;
	if (c.cfg.pid_file[0] != '\0') {
		int saved = dup(STDERR_FILENO), null = open("/dev/null",
		    O_WRONLY | O_CLOEXEC);

		if (saved != -1 && null != -1) {
			dup2(null, STDERR_FILENO);
			pid = server_pid(&c);
			dup2(saved, STDERR_FILENO);
		}
		if (saved != -1)
			close(saved);
		if (null != -1)
			close(null);
	}
	if (argc - i == 1) {
		names = malloc(sizeof(*names));
		if (names != NULL && (names[0] = strdup(argv[i])) != NULL)
			n = 1;
	} else if ((fd = dup(c.dirfd)) != -1 && (d = fdopendir(fd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);
			char **nv;

			if (de->d_name[0] == '.' || l < 5 ||
			    strcmp(de->d_name + l - 4, ".txt") != 0)
				continue;
			if ((nv = realloc(names, (n + 1) * sizeof(*nv))) ==
			    NULL)
				break;
			names = nv;
			if ((names[n] = strndup(de->d_name, l - 4)) != NULL)
				n++;
		}
		closedir(d);
	}
	qsort(names, n, sizeof(*names), ctl_strcmp);
	if (o.json)
		printf("[");
	for (size_t k = 0; k < n; k++) {
		if (status_one(&c, names[k], cs, pid, o.json, &printed) != 0)
			rc = 1;
		free(names[k]);
	}
	if (o.json)
		printf("%s]\n", n > 0 ? "\n" : "");
	free(names);
	tls_certs_free(cs);
	ctx_free(&c);
	return rc;
}
