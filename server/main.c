/*
 * main.c: mta-stsd, the MTA-STS policy server.
 *
 * Start-up is the only place that dies on error: read the configuration,
 * bind, load policies and keys as root, drop to the configured user, and
 * hand over to the event loop.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/log.h"
#include "lib/tlsrpt.h"
#include "lib/tsig.h"
#include "sandbox.h"
#include "server.h"
#include "store.h"
#include "tls/tls.h"

#ifndef VERSION
#define VERSION "0.1"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: mta-stsd [-dhnv] [-f config]\n"
	    "  -d         stay in the foreground, log to stderr\n"
	    "  -f config  configuration file (default %s)\n"
	    "  -n         check configuration, policies and certificates;\n"
	    "             print what would be served and exit\n"
	    "  -v         print the version and exit\n", CONFIG_DEFAULT_PATH);
}

static void
print_domain(const struct domain *d)
{
	const struct policy	*p = &d->pol->p;
	struct tls_cred		*cv[2] = { d->ec, d->rsa };
	char			 date[32];
	struct tm		 tm;
	time_t			 t;

	printf("%s: mode %s, max_age %lu, mx", d->host,
	    policy_mode_name(p->mode), p->max_age);
	for (size_t i = 0; i < p->nmx; i++)
		printf(" %s", p->mx[i]);
	printf("\n");
	for (int j = 0; j < 2; j++) {
		if (cv[j] == NULL)
			continue;
		t = tls_cred_not_after(cv[j]);
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		printf("  certificate %s (%s), expires %s, %s\n",
		    tls_cred_subject(cv[j]), tls_cred_kind(cv[j]), date,
		    tls_cred_path(cv[j]));
	}
}

/*
 * -n: the [dns] section, which mta-stsctl reads and the server ignores:
 * the key file (unless only root may read it) and the hook.  Returns 0,
 * or -1 after saying what is wrong.
 */
static int
check_dns(const struct config *c)
{
	struct tsig_key	 k;
	char		 err[600];

	switch (c->dns_update) {
	case CONFIG_UPDATE_RFC2136:
		if (tsig_read(c->dns_tsig_key, &k, err, sizeof(err)) == -1) {
			if (errno != EACCES) {
				fprintf(stderr, "mta-stsd: [dns] tsig_key %s\n",
				    err);
				return -1;
			}
			printf("dns: update rfc2136 to %s; tsig_key %s is not "
			    "readable by this user (mta-stsctl reads it as "
			    "root)\n", c->dns_server, c->dns_tsig_key);
			break;
		}
		printf("dns: update rfc2136 to %s%s%s, key %s (%s)\n",
		    c->dns_server, c->dns_zone[0] != '\0' ? ", zone " : "",
		    c->dns_zone, k.name, k.algorithm);
		tsig_clear(&k);
		break;
	case CONFIG_UPDATE_EXEC:
		if (access(c->dns_hook, X_OK) == -1) {
			fprintf(stderr, "mta-stsd: [dns] hook %s: %s\n",
			    c->dns_hook, strerror(errno));
			return -1;
		}
		printf("dns: update exec %s\n", c->dns_hook);
		break;
	default:
		return 0;
	}
	if (c->nreplicas > 0) {
		printf("dns: %zu replicas:", c->nreplicas);
		for (size_t i = 0; i < c->nreplicas; i++)
			printf(" %s", c->replicas[i]);
		printf("\n");
	}
	return 0;
}

/* -n: load everything as the server would, say what would be served. */
static int
check(const struct config *c)
{
	struct store_opts opts;
	struct store	*s;
	size_t		 served, failed;

	if (check_dns(c) == -1)
		return 1;
	tls_init();
	memset(&opts, 0, sizeof(opts));
	opts.threads = (int)server_cpus();
	s = store_load(c, NULL, &opts, time(NULL), &served, &failed);
	if (s == NULL)
		return 1;
	for (size_t i = 0; i < store_count(s); i++)
		print_domain(store_at(s, i));
	store_log_expiry(s, time(NULL));
	printf("%zu domains served, %zu failed\n", served, failed);
	store_unref(s);
	return failed > 0 ? 1 : 0;
}

/*
 * Room for every connection: its client socket, and while a request is
 * being answered both ends of its socketpair.  Idle connections need only
 * the first, so the least acceptable limit is one per connection.
 */
static void
raise_nofile(struct config *c)
{
	struct rlimit	 rl;
	rlim_t		 want = (rlim_t)c->max_connections * 3 + 64;
	rlim_t		 least = (rlim_t)c->max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= least) {
		log_info("RLIMIT_NOFILE is %lu: room for %u idle connections, "
		    "fewer busy ones", (unsigned long)rl.rlim_cur,
		    c->max_connections);
		return;
	}
	if (rl.rlim_cur < 128)
		fatal("RLIMIT_NOFILE %lu is too low", (unsigned long)rl.rlim_cur);
	c->max_connections = (unsigned)(rl.rlim_cur - 64);
	log_warn("RLIMIT_NOFILE allows only %lu descriptors: "
	    "max_connections lowered to %u", (unsigned long)rl.rlim_cur,
	    c->max_connections);
}

/*
 * Runs as the configured user from here on.  Keys were read as root;
 * reloads read them as this user (see mta-stsd(8), FILES).
 */
static void
drop_privileges(const struct config *c, int foreground)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return;
	if (strcmp(c->user, "root") == 0) {
		if (!c->allow_root)
			fatal("refusing to run as root: set 'user' to an "
			    "unprivileged account (or allow_root = yes)");
		log_warn("running as root (allow_root = yes)");
		return;
	}
	if ((pw = getpwnam(c->user)) == NULL)
		fatal("user %s: no such user (create it with 'useradd "
		    "--system --no-create-home --shell /usr/sbin/nologin %s')",
		    c->user, c->user);
	/* The log file is reopened on reloads, as the user. */
	if (!foreground && c->log_file[0] != '\0' &&
	    chown(c->log_file, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("log_file %s: %s", c->log_file, strerror(errno));
	/* Supplementary groups too: keys may be readable by any of them. */
	if (initgroups(c->user, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
		fatal("cannot switch to user %s: %s", c->user,
		    strerror(errno));
	if (setuid(0) == 0)
		fatal("could regain root after dropping privileges");

	if (access(c->policy_dir, R_OK | X_OK) == -1)
		log_warn("%s is not readable by %s: reloads will fail",
		    c->policy_dir, c->user);
	if (access(c->cert_dir, R_OK | X_OK) == -1)
		log_warn("%s is not readable by %s: reloads will fail",
		    c->cert_dir, c->user);
}

static void
daemonize(void)
{
	pid_t	 pid;
	int	 fd;

	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		fatal("setsid: %s", strerror(errno));
	if ((pid = fork()) == -1)
		fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

static int
write_pid(const char *path)
{
	char	 buf[32];
	int	 fd, n;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd == -1)
		return -1;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	struct store_opts opts;
	struct store	*snap;
	const char	*path = CONFIG_DEFAULT_PATH;
	char		 err[512], *abspath, *pidfile;
	size_t		 served, failed;
	int		 ch, foreground = 0, check_only = 0, rc;

	while ((ch = getopt(argc, argv, "df:hnv")) != -1) {
		switch (ch) {
		case 'd':
			foreground = 1;
			break;
		case 'f':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			check_only = 1;
			break;
		case 'v':
			printf("mta-stsd %s\n", VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	/*
	 * Large blocks get pages of their own from the start (the first load
	 * too), so that freeing them (connections after a burst, the
	 * previous snapshot after a reload) gives them back at once rather
	 * than leaving holes in the heap.
	 */
	mallopt(M_MMAP_THRESHOLD, 16 * 1024);
	tlsrpt_seed();
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsd: %s\n", err);
		return 1;
	}
	/* Reloads happen after chdir("/"): keep the absolute path. */
	if ((abspath = realpath(path, NULL)) == NULL ||
	    (pidfile = strdup(cfg.pid_file)) == NULL) {
		fprintf(stderr, "mta-stsd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	log_set_level((enum log_level)cfg.log_level);
	log_set_format((enum log_format)cfg.log_format);
	if (check_only) {
		rc = check(&cfg);
		config_free(&cfg);
		free(abspath);
		free(pidfile);
		return rc;
	}
	if (!foreground && log_open(cfg.log_file) == -1)
		fatal("log_file %s: %s", cfg.log_file, strerror(errno));
	raise_nofile(&cfg);
	tls_init();
	if (tls_cache_init(cfg.session_cache) == -1)
		fatal("tls: out of memory");
	if (server_listen(&cfg) == -1)
		fatal("cannot listen; stopping");
	opts.writing = NULL;
	opts.ids = cfg.nmetrics_listen > 0 ? cfg.metrics_per_domain :
	    CONFIG_NO;
	opts.threads = (int)server_cpus();
	snap = store_load(&cfg, NULL, &opts, time(NULL), &served, &failed);
	if (snap == NULL)
		fatal("cannot load policies and certificates; stopping");
	/* What the load used for a while goes back to the system. */
	malloc_trim(0);
	store_log_expiry(snap, time(NULL));
	log_info("mta-stsd %s: %zu domains served, %zu failed", VERSION,
	    served, failed);
	if (!foreground)
		daemonize();
	/* Written as root; removed at exit if its directory lets the user. */
	if (cfg.pid_file[0] != '\0' && write_pid(cfg.pid_file) == -1)
		log_warn("pid_file %s: %s", cfg.pid_file, strerror(errno));
	drop_privileges(&cfg, foreground);
	if (cfg.sandbox && sandbox_enter(&cfg, abspath) == -1)
		fatal("cannot confine the process; stopping (sandbox = no "
		    "turns this off)");
	rc = server_run(abspath, &cfg, snap, served, failed, foreground);
	if (pidfile[0] != '\0' && unlink(pidfile) == -1 && errno != ENOENT)
		log_warn("pid_file %s: %s", pidfile, strerror(errno));
	config_free(&cfg);
	free(abspath);
	free(pidfile);
	return rc;
}
