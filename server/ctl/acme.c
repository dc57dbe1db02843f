/*
 * acme.c: the ACME client mta-stsctl runs, lego or certbot, forked and
 * executed without a shell, its output kept and read for what the ACME
 * server answered.  See acme.h.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/acme.h"
#include "lib/clock.h"
#include "lib/config.h"
#include "lib/file.h"

#define OUT_MAX		(256 * 1024)	/* bytes of the client's output kept */
#define ARGV_MAX	40
#define KILL_GRACE_MS	5000		/* from SIGTERM to SIGKILL */

extern char	**environ;

/*
 * snprintf() for paths: -1 when the result would not fit (a path cut
 * short would name another file).
 */
static int __attribute__((format(printf, 3, 4)))
pathf(char *buf, size_t bufsz, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, bufsz, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= bufsz) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

/*
 * Makes path and its missing parents: the parents 0755, path itself with
 * mode (an existing path keeps its own).  0, or -1 with errno.
 */
static int
mkdirs(const char *path, mode_t mode)
{
	char	 buf[PATH_MAX];
	size_t	 n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* argv and the files the client leaves, per client. */
struct run {
	const char	*argv[ARGV_MAX];
	size_t		 argc;
	char		 dir[PATH_MAX];		/* STATE/CLIENT */
	char		 ca_env[PATH_MAX + 32];	/* its CA variable, or "" */
	char		 paths[4][PATH_MAX];	/* what argv points to */
};

static void
arg(struct run *r, const char *a)
{
	if (r->argc < ARGV_MAX - 1)
		r->argv[r->argc++] = a;
	r->argv[r->argc] = NULL;
}

/*
 * lego run: a new order and a new key each time; it keeps the account
 * under --path and writes certificates/HOST.crt (leaf and issuer) and
 * certificates/HOST.key.
 */
static int
lego_argv(const struct config *cfg, const char *host, struct run *r,
    struct acme_result *res)
{
	arg(r, "lego");
	arg(r, "--path");
	arg(r, r->dir);
	arg(r, "--server");
	arg(r, cfg->acme_directory);
	arg(r, "--email");
	arg(r, cfg->acme_email);
	arg(r, "--accept-tos");
	arg(r, "--key-type");
	arg(r, cfg->acme_key_type);
	arg(r, "--domains");
	arg(r, host);
	arg(r, "--http");
	arg(r, "--http.webroot");
	arg(r, cfg->acme_webroot);
	arg(r, "run");
	if (cfg->acme_ca_file[0] != '\0' && pathf(r->ca_env,
	    sizeof(r->ca_env), "LEGO_CA_CERTIFICATES=%s", cfg->acme_ca_file) ==
	    -1)
		return -1;
	return pathf(res->chain, sizeof(res->chain), "%s/certificates/%s.crt",
	    r->dir, host) == -1 || pathf(res->key, sizeof(res->key),
	    "%s/certificates/%s.key", r->dir, host) == -1 ? -1 : 0;
}

/*
 * certbot certonly, its three directories under STATE/certbot (so that
 * the system's certbot.timer, which renews /etc/letsencrypt, never
 * touches it), --force-renewal since mta-stsctl decides when; it writes
 * config/live/HOST/fullchain.pem and privkey.pem.
 */
static int
certbot_argv(const struct config *cfg, const char *host, struct run *r,
    struct acme_result *res)
{
	int	 ec = strcmp(cfg->acme_key_type, "ec256") == 0;

	if (pathf(r->paths[0], sizeof(r->paths[0]), "%s/config", r->dir) ==
	    -1 || pathf(r->paths[1], sizeof(r->paths[1]), "%s/work",
	    r->dir) == -1 || pathf(r->paths[2], sizeof(r->paths[2]), "%s/logs",
	    r->dir) == -1)
		return -1;
	arg(r, "certbot");
	arg(r, "certonly");
	arg(r, "--non-interactive");
	arg(r, "--agree-tos");
	arg(r, "--config-dir");
	arg(r, r->paths[0]);
	arg(r, "--work-dir");
	arg(r, r->paths[1]);
	arg(r, "--logs-dir");
	arg(r, r->paths[2]);
	arg(r, "--server");
	arg(r, cfg->acme_directory);
	if (cfg->acme_email[0] != '\0') {
		arg(r, "--email");
		arg(r, cfg->acme_email);
		arg(r, "--no-eff-email");
	} else
		arg(r, "--register-unsafely-without-email");
	arg(r, "--webroot");
	arg(r, "--webroot-path");
	arg(r, cfg->acme_webroot);
	arg(r, "--domains");
	arg(r, host);
	arg(r, "--cert-name");
	arg(r, host);
	arg(r, "--key-type");
	arg(r, ec ? "ecdsa" : "rsa");
	arg(r, ec ? "--elliptic-curve" : "--rsa-key-size");
	arg(r, ec ? "secp256r1" : "2048");
	arg(r, "--force-renewal");
	if (cfg->acme_ca_file[0] != '\0' && pathf(r->ca_env,
	    sizeof(r->ca_env), "REQUESTS_CA_BUNDLE=%s", cfg->acme_ca_file) ==
	    -1)
		return -1;
	return pathf(res->chain, sizeof(res->chain),
	    "%s/live/%s/fullchain.pem", r->paths[0], host) == -1 ||
	    pathf(res->key, sizeof(res->key), "%s/live/%s/privkey.pem",
	    r->paths[0], host) == -1 ? -1 : 0;
}

/*
 * The environment of the client: ours (a proxy, the locale), with its CA
 * variable set to ca_file when there is one.  NULL when out of memory.
 */
static char **
client_env(const char *ca_env)
{
	size_t	 n = 0, k = 0, namelen;
	char	**env;

	while (environ[n] != NULL)
		n++;
	if ((env = calloc(n + 2, sizeof(*env))) == NULL)
		return NULL;
	namelen = strcspn(ca_env, "=") + 1;
	for (size_t i = 0; i < n; i++)
		if (ca_env[0] == '\0' || strncmp(environ[i], ca_env,
		    namelen) != 0)
			env[k++] = environ[i];
	if (ca_env[0] != '\0')
		env[k++] = (char *)(uintptr_t)ca_env;
	env[k] = NULL;
	return env;
}

/*
 * Runs argv in dir with env, its standard output and error into *out
 * (OUT_MAX bytes kept, NUL-terminated), standard input /dev/null, at
 * most ACME_TIMEOUT_S seconds.  Returns its exit status, 128 + the signal
 * that ended it, or -1 with why (it could not run, or timed out).
 */
static int
spawn(const char *dir, const char *const *argv, char **env, char **out,
    size_t *outlen, char *why, size_t whysz)
{
	struct timespec	 deadline;
	struct pollfd	 pfd;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 n;
	pid_t		 pid;
	int		 fds[2], status, ms, timedout = 0;

	*out = NULL;
	*outlen = 0;
	if ((buf = malloc(OUT_MAX + 1)) == NULL || pipe2(fds, O_CLOEXEC) == -1) {
		snprintf(why, whysz, "%s", strerror(errno));
		free(buf);
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(why, whysz, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		free(buf);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null == -1 || dup2(null, 0) == -1 || dup2(fds[1], 1) == -1 ||
		    dup2(fds[1], 2) == -1 || chdir(dir) == -1)
			_exit(126);
		/* Challenge files must be readable by mta-stsd's user. */
		umask(022);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], (char *const *)(uintptr_t)argv, env);
		dprintf(2, "mta-stsctl: cannot run %s: %s\n", argv[0],
		    strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(fds[1]);
	clock_deadline(&deadline, ACME_TIMEOUT_S * 1000);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((ms = clock_left_ms(&deadline)) == 0) {
			timedout = 1;
			break;
		}
		if (poll(&pfd, 1, ms) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (len < OUT_MAX)
			n = read(fds[0], buf + len, OUT_MAX - len);
		else {
			char	 sink[4096];

			n = read(fds[0], sink, sizeof(sink));
		}
		if (n == 0 || (n == -1 && errno != EINTR && errno != EAGAIN))
			break;
		if (n > 0 && len < OUT_MAX)
			len += (size_t)n;
	}
	close(fds[0]);
	if (timedout) {
		kill(pid, SIGTERM);
		for (ms = 0; ms < KILL_GRACE_MS; ms += 100) {
			struct timespec ts = { 0, 100 * 1000000L };

			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (ms >= KILL_GRACE_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
	} else
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	if (timedout) {
		snprintf(why, whysz, "%s did not finish within %d s: stopped",
		    argv[0], ACME_TIMEOUT_S);
		return -1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Writes the client's output to r->log (mode 0600); errors are only said. */
static void
keep_log(const char *state, const char *host, const char *out, size_t len,
    struct acme_result *r)
{
	char	 dir[PATH_MAX], name[300];
	int	 dfd;

	if (pathf(dir, sizeof(dir), "%s/logs", state) == -1 ||
	    pathf(r->log, sizeof(r->log), "%s/%s.log", dir, host) == -1 ||
	    pathf(name, sizeof(name), "%s.log", host) == -1)
		return;
	if (mkdirs(dir, 0700) == -1 || (dfd = open(dir, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", dir, strerror(errno));
		r->log[0] = '\0';
		return;
	}
	if (file_write_atomic(dfd, name, out, len, 0600, 0) == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", r->log, strerror(errno));
		r->log[0] = '\0';
	}
	close(dfd);
}

/*
 * The state directory must not be reached through a link into what
 * mta-stsd reads: the configuration checked the names, this the places.
 */
static int
state_apart(const struct config *cfg, const char *state, char *why,
    size_t whysz)
{
	char	 rs[PATH_MAX], rc[PATH_MAX], rp[PATH_MAX];

	if (realpath(state, rs) == NULL) {
		snprintf(why, whysz, "%s: %s", state, strerror(errno));
		return -1;
	}
	if ((realpath(cfg->cert_dir, rc) != NULL &&
	    (config_path_under(rs, rc) || config_path_under(rc, rs))) ||
	    (realpath(cfg->policy_dir, rp) != NULL &&
	    config_path_under(rs, rp))) {
		snprintf(why, whysz, "state_dir %.300s is %.300s, inside or "
		    "around cert_dir or policy_dir: the client's account key "
		    "must stay out of what mta-stsd reads", state, rs);
		return -1;
	}
	return 0;
}

/* see acme.h */
int
acme_obtain(const struct config *cfg, const char *host,
    struct acme_result *r)
{
	struct run	*run = NULL;
	struct stat	 st;
	char		**env = NULL, *out = NULL, reason[768];
	size_t		 outlen = 0;
	int		 rc = -1, status, server;

	memset(r, 0, sizeof(*r));
	if ((run = calloc(1, sizeof(*run))) == NULL) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		goto out;
	}
	if (mkdirs(cfg->acme_state_dir, 0700) == -1) {
		snprintf(r->why, sizeof(r->why), "%.500s: %s",
		    cfg->acme_state_dir, strerror(errno));
		goto out;
	}
	if (state_apart(cfg, cfg->acme_state_dir, r->why, sizeof(r->why)) ==
	    -1)
		goto out;
	if (pathf(run->dir, sizeof(run->dir), "%s/%s", cfg->acme_state_dir,
	    cfg->acme_client) == -1 || (strcmp(cfg->acme_client, "lego") == 0 ?
	    lego_argv(cfg, host, run, r) : certbot_argv(cfg, host, run, r)) ==
	    -1) {
		snprintf(r->why, sizeof(r->why), "state_dir or ca_file: path "
		    "too long");
		goto out;
	}
	if (mkdirs(run->dir, 0700) == -1) {
		snprintf(r->why, sizeof(r->why), "%.500s: %s", run->dir,
		    strerror(errno));
		goto out;
	}
	if ((env = client_env(run->ca_env)) == NULL) {
		snprintf(r->why, sizeof(r->why), "%s", strerror(errno));
		goto out;
	}
	status = spawn(run->dir, run->argv, env, &out, &outlen, r->why,
	    sizeof(r->why));
	if (out != NULL)
		keep_log(cfg->acme_state_dir, host, out, outlen, r);
	if (status == -1)
		goto out;
	if (status == 127) {
		snprintf(r->why, sizeof(r->why), "%s is not installed (apt-get "
		    "install %s)", cfg->acme_client, cfg->acme_client);
		goto out;
	}
	if (status != 0) {
		server = acme_reason(out, outlen, reason, sizeof(reason));
		snprintf(r->why, sizeof(r->why), "%s exit %d%s%s",
		    cfg->acme_client, status, server ? "; the ACME server "
		    "answered: " : ": ", reason);
		goto out;
	}
	if (stat(r->chain, &st) == -1 || stat(r->key, &st) == -1) {
		snprintf(r->why, sizeof(r->why), "%s succeeded but wrote no "
		    "%.500s: %s", cfg->acme_client, stat(r->chain, &st) == -1 ?
		    r->chain : r->key, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(out);
	free(env);
	free(run);
	return rc;
}

/* Appends the n bytes at s to why (printable ASCII only), "; " first. */
static void
add_reason(char *why, size_t whysz, const char *s, size_t n)
{
	size_t	 len = strlen(why);

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
	    s[n - 1] == '\r'))
		n--;
	while (n > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	if (n == 0 || len + 3 >= whysz)
		return;
	if (len > 0) {
		memcpy(why + len, "; ", 2);
		len += 2;
	}
	for (size_t i = 0; i < n && len + 1 < whysz; i++)
		why[len++] = (unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] < 0x7f ? s[i] : '?';
	why[len] = '\0';
}

/* The value after "KEY:" at the start of line l (spaces first), or NULL. */
static const char *
field(const char *l, const char *le, const char *key)
{
	size_t	 kl = strlen(key);

	while (l < le && (*l == ' ' || *l == '\t'))
		l++;
	if ((size_t)(le - l) < kl || memcmp(l, key, kl) != 0)
		return NULL;
	return l + kl;
}

#define URN	"urn:ietf:params:acme:error:"

/* see acme.h */
int
acme_reason(const char *out, size_t len, char *why, size_t whysz)
{
	const char	*p = out, *end = out + len, *l, *le, *u, *v;
	const char	*type = NULL, *last[3] = { NULL, NULL, NULL };
	char		 buf[512];
	size_t		 tl = 0;
	int		 unexpected = 0;

	why[0] = '\0';
	for (l = p; l < end; l = le + 1) {
		if ((le = memchr(l, '\n', (size_t)(end - l))) == NULL)
			le = end;
		if (le == l || (le - l == 1 && *l == '\r'))
			continue;
		last[0] = last[1];
		last[1] = last[2];
		last[2] = l;
		/* lego: "... :: urn:ietf:params:acme:error:TYPE :: DETAIL" */
		if ((u = memmem(l, (size_t)(le - l), URN, strlen(URN))) != NULL) {
			u += strlen(URN);
			for (tl = 0; u + tl < le && u[tl] != ' ' &&
			    u[tl] != '\t' && u[tl] != '\r'; tl++)
				;
			v = memmem(u + tl, (size_t)(le - (u + tl)), " :: ", 4);
			v = v != NULL ? v + 4 : u + tl;
			snprintf(buf, sizeof(buf), "%.*s: %.*s", (int)(tl > 64 ?
			    64 : tl), u, (int)(le - v > 400 ? 400 : le - v), v);
			add_reason(why, whysz, buf, strlen(buf));
			continue;
		}
		/* certbot: "  Type:   TYPE" then "  Detail: DETAIL" */
		if ((v = field(l, le, "Type:")) != NULL) {
			type = v;
			tl = (size_t)(le - v);
			continue;
		}
		if ((v = field(l, le, "Detail:")) != NULL) {
			while (type != NULL && tl > 0 && (*type == ' ' ||
			    *type == '\t')) {
				type++;
				tl--;
			}
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(buf, sizeof(buf), "%.*s%s%.*s", type != NULL ?
			    (int)(tl > 64 ? 64 : tl) : 0, type != NULL ? type :
			    "", type != NULL ? ": " : "", (int)(le - v > 400 ?
			    400 : le - v), v);
			add_reason(why, whysz, buf, strlen(buf));
			type = NULL;
			continue;
		}
		/* certbot: "An unexpected error occurred:", then the text. */
		if (field(l, le, "An unexpected error occurred:") != NULL) {
			unexpected = 1;
			continue;
		}
		if (unexpected) {
			add_reason(why, whysz, l, (size_t)(le - l));
			unexpected = 0;
		}
	}
	if (why[0] != '\0')
		return 1;
	/* Nothing the server said: the end of what the client said. */
	for (int i = 0; i < 3; i++) {
		if (last[i] == NULL)
			continue;
		le = memchr(last[i], '\n', (size_t)(end - last[i]));
		add_reason(why, whysz, last[i], (size_t)((le != NULL ? le :
		    end) - last[i]));
	}
	if (why[0] == '\0')
		snprintf(why, whysz, "no output");
	return 0;
}
