/*
 * local.c: mta-stsctl's side of the machine it runs on: the policy
 * directory and its id records under a lock, and the running server,
 * found through its pid file, reloaded and asked over HTTPS what it
 * serves.  See local.h.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/cli.h"
#include "ctl/local.h"
#include "lib/ascii.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/file.h"
#include "lib/ids.h"
#include "lib/policy.h"
#include "lib/txt.h"
#include "tls/client.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define CONFIRM_MS	10000	/* to see the new body served */
#define FETCH_MS	3000	/* one HTTPS request */

static void	clean_temps(int, const char *);

static const char *
cfg_path(const char *path)
{
	return path != NULL ? path : CONFIG_DEFAULT_PATH;
}

void
local_close(struct local *c)
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
int
local_set_domain(struct local *c, const char *domain)
{
	if (ctl_domain_arg(NULL, domain, c->name) == -1)
		return -1;
	c->domain = c->name;
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
int
local_open(struct local *c, const char *path, const char *domain, int readonly)
{
	char		 err[512];

	memset(c, 0, sizeof(*c));
	c->dirfd = c->idsfd = -1;
	c->cfgpath = cfg_path(path);
	if (config_load(c->cfgpath, &c->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s\n", err);
		return -1;
	}
	if (domain != NULL && local_set_domain(c, domain) == -1)
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
int
local_read_policy(struct local *c, int want)
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
int
local_read_record(struct local *c)
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
 * see local.h.  The tests inject a kill between the write and the rename
 * of a policy (MTA_STSCTL_FAULT=rename) or of an id record ("rename-id").
 */
int
local_write(int dirfd, const char *name, const char *data, size_t len,
    int noreplace)
{
	char		 tmp[POLICY_HOST_MAX + 16 + FILE_TEMP_MAX];
	const char	*fault;

	if (file_write_temp(dirfd, name, data, len, 0644, FILE_KEEP_MODE, tmp,
	    sizeof(tmp)) == -1)
		return -1;
	if ((fault = getenv("MTA_STSCTL_FAULT")) != NULL &&
	    ((strcmp(fault, "rename") == 0 && strstr(name, ".txt") != NULL) ||
	    (strcmp(fault, "rename-id") == 0 && strstr(name, ".id") != NULL)))
		raise(SIGKILL);
	return file_commit(dirfd, tmp, name, noreplace ? FILE_NOREPLACE : 0);
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
pid_t
local_server_pid(const struct local *c)
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
server_addr(const struct local *c, struct sockaddr_storage *ss, socklen_t *sl)
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
struct tls_cred *
local_expected_cred(const struct local *c, struct tls_certs **cs)
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
/* local_served(), with the fetch bounded by timeout_ms. */
static int
served_within(const struct local *c, const struct tls_cred *cred,
    const char *body, size_t len, int timeout_ms, char *why, size_t whysz)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	struct resp		*f;
	int			 rc;

	if (server_addr(c, &ss, &sl) == -1) {
		snprintf(why, whysz, "cannot use listen address '%s'",
		    c->cfg.listen[0]);
		return -1;
	}
	if ((f = malloc(sizeof(*f))) == NULL)
		return -1;
	if (tls_fetch_policy((struct sockaddr *)&ss, sl, c->host, cred,
	    timeout_ms, f, why, whysz) == -1)
		rc = -1;
	else if (body == NULL)
		rc = 1;
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

/* see local.h */
int
local_served(const struct local *c, const struct tls_cred *cred,
    const char *body, size_t len, char *why, size_t whysz)
{
	return served_within(c, cred, body, len, FETCH_MS, why, whysz);
}

/*
 * SIGHUP, then ask until the body is served or CONFIRM_MS passes: the
 * fetches count, and none outlasts the deadline (a server that accepts
 * and never answers would otherwise take a fetch's time per turn).
 */
int
local_reload_until_served(const struct local *c, pid_t pid,
    const struct tls_cred *cred, const char *body, size_t len)
{
	struct timespec	 ts = { 0, 100 * 1000000L }, deadline;
	char		 why[512] = "", last[512];
	int		 left, rc;

	clock_deadline(&deadline, CONFIRM_MS);
	if (kill(pid, SIGHUP) == -1) {
		fprintf(stderr, "mta-stsctl: cannot signal the server (pid "
		    "%ld): %s\n", (long)pid, strerror(errno));
		return -1;
	}
	for (;;) {
		nanosleep(&ts, NULL);
		if ((left = clock_left_ms(&deadline)) == 0)
			break;
		rc = served_within(c, cred, body, len, left < FETCH_MS ? left :
		    FETCH_MS, last, sizeof(last));
		if (rc == 1)
			return 0;
		/*
		 * What the server answered says why; a fetch the deadline cut
		 * short says only that time ran out.
		 */
		if (rc == 0 || left >= FETCH_MS || why[0] == '\0')
			memcpy(why, last, sizeof(why));
	}
	fprintf(stderr, "mta-stsctl: %s: the server does not serve the new "
	    "policy after %d s: %s\n", c->host, CONFIRM_MS / 1000, why);
	return -1;
}

/* see local.h */
long
local_domains(const struct local *c, char ***names)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, **nv;
	long		 n = 0;
	int		 fd;

	*names = NULL;
	if ((fd = dup(c->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", c->cfg.policy_dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.' || l < 5 ||
		    strcmp(de->d_name + l - 4, ".txt") != 0)
			continue;
		if ((nv = realloc(v, (size_t)(n + 1) * sizeof(*nv))) == NULL ||
		    (nv[n] = strndup(de->d_name, l - 4)) == NULL) {
			if (nv != NULL)
				v = nv;
			fprintf(stderr, "mta-stsctl: %s\n", strerror(ENOMEM));
			closedir(d);
			local_domains_free(v, n);
			return -1;
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, (size_t)n, sizeof(*v), ctl_strcmp);
	*names = v;
	return n;
}

/* see local.h */
void
local_domains_free(char **names, long n)
{
	for (long i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void
local_print_txt(const char *domain, const char *id)
{
	char line[512];

	txt_format(line, sizeof(line), domain, 3600, id);
	printf("%s\n", line);
}

int
local_write_record(struct local *c)
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
	rc = local_write(c->idsfd, c->idfile, text, strlen(text), 0);
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
int
local_mark_pending(struct local *c, const char *sha)
{
	if (!c->has_rec)
		return 0;
	if (sha != NULL)
		memcpy(c->rec.pending, sha, 65);
	else
		c->rec.pending[0] = '\0';
	return local_write_record(c);
}

/* Issues the next id for the served body and writes the record. */
int
local_issue_id(struct local *c, const struct policy *p, char id[16])
{
	char	 sha[65];
	time_t	 now = time(NULL);

	tls_sha256_hex(p->body, p->bodylen, sha);
	if (ids_next(&c->rec, now, id) == -1)
		return -1;
	if (c->dry_run)
		return 0;
	ids_issue(&c->rec, id, sha, p->max_age, policy_mode_name(p->mode), now);
	c->has_rec = 1;
	return local_write_record(c);
}

/* see local.h */
int
local_current_id(const char *path, const char *domain, char id[33])
{
	struct local	 c;
	int		 rc;

	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == -1)
		return 0;
	if (local_open(&c, path, NULL, 1) == -1) {
		local_close(&c);
		return -1;
	}
	rc = local_set_domain(&c, domain) == -1 ? -1 : local_read_record(&c);
	if (rc == 0 && c.has_rec) {
		memcpy(id, c.rec.id, sizeof(c.rec.id));
		rc = 1;
	}
	local_close(&c);
	return rc;
}

/* see local.h */
int
local_policy(const char *path, const char *domain, struct policy *p,
    char id[33])
{
	struct local	 c;
	int		 rc;

	id[0] = '\0';
	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == -1)
		return 0;
	if (local_open(&c, path, domain, 1) == -1) {
		local_close(&c);
		return -1;
	}
	if ((rc = local_read_policy(&c, 0)) == 0 && c.src != NULL)
		rc = local_read_record(&c) == -1 ? -1 : 1;
	if (rc == 1) {
		if (c.has_rec)
			memcpy(id, c.rec.id, sizeof(c.rec.id));
		*p = c.pol;
		memset(&c.pol, 0, sizeof(c.pol));
	}
	local_close(&c);
	return rc;
}

