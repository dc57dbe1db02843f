/*
 * config.c: mta-stsd.conf.  See config.h.
 */
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "lib/addr.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/policy.h"

enum type {
	T_STRING,	/* any non-empty text */
	T_PATH,		/* absolute path */
	T_OPTPATH,	/* absolute path, or empty for none */
	T_SECONDS,
	T_COUNT,
	T_BOOL,
	T_LEVEL,
	T_LISTEN,	/* repeatable, space-separated */
	T_ACME_LISTEN,	/* the same, for acme_listen; may stay empty */
	T_METRICS_LISTEN, /* the same, for metrics_listen; may stay empty */
	T_AUTO,		/* yes, no or auto */
	T_LOG_FORMAT,	/* text or json */
	T_DOMAIN,	/* a host name, or empty */
	T_URLPATH,	/* "/" and letters, digits, "-", "_", ".", "/" */
	T_UPDATE,	/* "", "rfc2136" or "exec" */
	T_ADDRESS,	/* "IPv4[:PORT]", "IPv6", "[IPv6]:PORT", or empty */
	T_REPLICAS,	/* repeatable, space-separated HOST[:PORT] */
	T_CLIENT,	/* an ACME client mta-stsctl runs, or empty */
	T_KEYTYPE,	/* a key type both clients make */
	T_URL,		/* an https:// URL */
	T_EMAIL		/* an address, or empty */
};

/* The words T_CLIENT and T_KEYTYPE take ("" also for T_CLIENT). */
static const char *const clients[] = { "lego", "certbot", NULL };
static const char *const keytypes[] = { "ec256", "rsa2048", NULL };

struct key {
	const char	*section;
	const char	*name;
	enum type	 type;
	size_t		 off;		/* in struct config */
	const char	*def;
	unsigned	 min, max;	/* for numbers */
	int		 restart;	/* R: a reload keeps the running value */
};

#define R	1	/* the key takes effect at the next start */

#define OFF(f)	offsetof(struct config, f)

/* The one table of every key: mta-stsd.conf(5) documents each. */
static const struct key keys[] = {
	{ "server", "listen",		T_LISTEN,  OFF(listen),	":443", 0, 0, R },
	{ "server", "policy_dir",	T_PATH,    OFF(policy_dir),
	    "/etc/mta-stsd/policies", 0, 0, 0 },
	{ "server", "cert_dir",		T_PATH,    OFF(cert_dir),
	    "/etc/mta-stsd/certs", 0, 0, 0 },
	{ "server", "user",		T_STRING,  OFF(user), "mta-stsd", 0, 0, R },
	{ "server", "allow_root",	T_BOOL,    OFF(allow_root), "no", 0, 0, R },
	{ "server", "pid_file",		T_OPTPATH, OFF(pid_file), "", 0, 0, R },
	{ "server", "log_file",		T_OPTPATH, OFF(log_file), "", 0, 0, 0 },
	{ "server", "log_level",	T_LEVEL,   OFF(log_level), "info", 0, 0, 0 },
	{ "server", "default_domain",	T_DOMAIN,  OFF(default_domain), "",
	    0, 0, 0 },
	{ "server", "handshake_timeout", T_SECONDS, OFF(handshake_timeout),
	    "10", 1, 300, 0 },
	{ "server", "request_timeout",	T_SECONDS, OFF(request_timeout), "10",
	    1, 300, 0 },
	{ "server", "keepalive_timeout", T_SECONDS, OFF(keepalive_timeout),
	    "15", 1, 3600, R },
	{ "server", "connection_lifetime", T_SECONDS,
	    OFF(connection_lifetime), "30", 1, 86400, 0 },
	{ "server", "max_connections",	T_COUNT,   OFF(max_connections),
	    "10000", 1, 1000000, R },
	{ "server", "max_header_size",	T_COUNT,   OFF(max_header_size),
	    "8192", 1024, 65536, R },
	{ "server", "session_cache",	T_COUNT,   OFF(session_cache), "16384",
	    0, 4194304, R },
	{ "server", "workers",		T_COUNT,   OFF(workers), "0", 0, 64, R },
	{ "server", "watch_certs",	T_BOOL,    OFF(watch_certs), "yes", 0, 0,
	    0 },
	{ "server", "watch_policies",	T_BOOL,    OFF(watch_policies), "yes", 0,
	    0, 0 },
	{ "server", "log_format",	T_LOG_FORMAT, OFF(log_format), "text", 0,
	    0, 0 },
	{ "server", "metrics_per_domain", T_AUTO,  OFF(metrics_per_domain),
	    "auto", 0, 0, 0 },
	{ "server", "sandbox",		T_BOOL,    OFF(sandbox), "yes", 0, 0, R },
	{ "server", "tlsrpt_dir",	T_OPTPATH, OFF(tlsrpt_dir), "", 0, 0, R },
	{ "server", "tlsrpt_path",	T_URLPATH, OFF(tlsrpt_path), "/tlsrpt",
	    0, 0, R },
	{ "server", "tlsrpt_max_size",	T_COUNT,   OFF(tlsrpt_max_size),
	    "1048576", 1024, 16777216, R },
	{ "server", "tlsrpt_max_json",	T_COUNT,   OFF(tlsrpt_max_json),
	    "1048576", 4096, 67108864, 0 },
	{ "server", "tlsrpt_max_ratio",	T_COUNT,   OFF(tlsrpt_max_ratio),
	    "100", 1, 1100, 0 },
	{ "server", "tlsrpt_dir_max",	T_COUNT,   OFF(tlsrpt_dir_max), "1024",
	    1, 1048576, 0 },
	{ "server", "tlsrpt_rate",	T_COUNT,   OFF(tlsrpt_rate), "60", 1,
	    100000, 0 },
	{ "server", "tlsrpt_max_mail",	T_COUNT,   OFF(tlsrpt_max_mail),
	    "4194304", 65536, 268435456, 0 },
	{ "acme", "listen",		T_ACME_LISTEN, OFF(acme_listen), "",
	    0, 0, R },
	{ "acme", "webroot",		T_OPTPATH, OFF(acme_webroot), "", 0, 0, R },
	{ "metrics", "listen",		T_METRICS_LISTEN, OFF(metrics_listen),
	    "", 0, 0, R },
	{ "dns", "update",		T_UPDATE,  OFF(dns_update), "", 0, 0, 0 },
	{ "dns", "server",		T_ADDRESS, OFF(dns_server), "", 0, 0, 0 },
	{ "dns", "zone",		T_DOMAIN,  OFF(dns_zone), "", 0, 0, 0 },
	{ "dns", "tsig_key",		T_OPTPATH, OFF(dns_tsig_key), "", 0, 0, 0 },
	{ "dns", "ttl",			T_SECONDS, OFF(dns_ttl), "3600", 60,
	    604800, 0 },
	{ "dns", "hook",		T_OPTPATH, OFF(dns_hook), "", 0, 0, 0 },
	{ "dns", "hook_timeout",	T_SECONDS, OFF(dns_hook_timeout), "30",
	    1, 600, 0 },
	{ "dns", "replicas",		T_REPLICAS, OFF(replicas), "", 0, 0, 0 },
	{ "dns", "publish",		T_BOOL,    OFF(dns_publish), "no", 0, 0,
	    0 },
	{ "dns", "wait",		T_SECONDS, OFF(dns_wait), "120", 1, 3600,
	    0 },
	{ "dns", "ca_file",		T_OPTPATH, OFF(dns_ca_file), "", 0, 0, 0 },
	/* Read by mta-stsctl cert only: the daemon never runs a client. */
	{ "acme", "client",		T_CLIENT,  OFF(acme_client), "", 0, 0, 0 },
	{ "acme", "state_dir",		T_PATH,    OFF(acme_state_dir),
	    "/var/lib/mta-stsd/acme-client", 0, 0, 0 },
	{ "acme", "directory",		T_URL,     OFF(acme_directory),
	    CONFIG_ACME_DIRECTORY, 0, 0, 0 },
	{ "acme", "email",		T_EMAIL,   OFF(acme_email), "", 0, 0, 0 },
	{ "acme", "key_type",		T_KEYTYPE, OFF(acme_key_type), "ec256",
	    0, 0, 0 },
	{ "acme", "renew_days",		T_COUNT,   OFF(acme_renew_days), "30",
	    1, 365, 0 },
	{ "acme", "ca_file",		T_OPTPATH, OFF(acme_ca_file), "", 0, 0, 0 },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

struct state {
	struct config	*c;
	char		 why[256];	/* the first error, without FILE:LINE */
	unsigned char	 list_set[4];	/* the file replaces the default list */
	FILE		*fp;
	int		 line;		/* of the line inih is reading */
	int		 err_line;	/* of the first error, or 0 */
};

/* An fgets() for inih that counts lines, so errors name the right one. */
static char *
reader(char *str, int num, void *stream)
{
	struct state	*st = stream;
	char		*r = fgets(str, num, st->fp);

	if (r == NULL)
		return NULL;
	st->line++;
	/*
	 * inih cuts lines at num bytes and would read the rest as another
	 * line: report the line instead, and skip what is left of it.
	 */
	if (strchr(r, '\n') == NULL && !feof(st->fp)) {
		int ch;

		/* Short of the buffer yet no newline: a NUL stopped strchr. */
		if (st->why[0] == '\0') {
			snprintf(st->why, sizeof(st->why), strlen(r) <
			    (size_t)num - 1 ? "NUL byte on the line" : "line "
			    "longer than %d characters", num - 2);
			st->err_line = st->line;
		}
		while ((ch = getc(st->fp)) != EOF && ch != '\n')
			;
	}
	return r;
}

static int
number(const char *v, unsigned min, unsigned max, unsigned *out)
{
	char		*end;
	unsigned long	 n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* see config.h */
int
config_listen_parse(const char *spec, char *host, size_t hostsz, char *port,
    size_t portsz)
{
	const char	*colon, *h;
	unsigned char	 buf[sizeof(struct in6_addr)];
	size_t		 hl, pl;

	if (spec[0] == '[') {
		h = spec + 1;
		if ((colon = strstr(spec, "]:")) == NULL)
			return -1;
		hl = (size_t)(colon - h);
		colon++;
		if (hl == 0 || strspn(h, "0123456789abcdefABCDEF:.") < hl)
			return -1;
	} else {
		h = spec;
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - spec);
		if (memchr(spec, ':', hl) != NULL)
			return -1;	/* IPv6 needs brackets */
	}
	pl = strlen(colon + 1);
	if (hl >= hostsz || pl == 0 || pl >= portsz || pl > 5 ||
	    strspn(colon + 1, "0123456789") != pl ||
	    strtoul(colon + 1, NULL, 10) > 65535)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, pl + 1);
	/* Addresses, not names: "", "*", or what inet_pton() reads. */
	if (host[0] != '\0' && strcmp(host, "*") != 0 &&
	    inet_pton(spec[0] == '[' ? AF_INET6 : AF_INET, host, buf) != 1)
		return -1;
	return 0;
}

/*
 * Where the count of a list type's values is (listen, acme listen,
 * metrics listen, replicas: the key's offset is the array), and the list's index for
 * state.list_set.
 */
static size_t
list_count(enum type t, int *which)
{
	switch (t) {
	case T_LISTEN:
		*which = 0;
		return OFF(nlisten);
	case T_ACME_LISTEN:
		*which = 1;
		return OFF(nacme_listen);
	case T_METRICS_LISTEN:
		*which = 2;
		return OFF(nmetrics_listen);
	default:
		*which = 3;
		return OFF(nreplicas);
	}
}

static int
is_list(enum type t)
{
	return t == T_LISTEN || t == T_ACME_LISTEN || t == T_METRICS_LISTEN ||
	    t == T_REPLICAS;
}

/* Is the n-byte word at p a replica, HOST[:PORT]? */
static int
replica_ok(const char *p, size_t n)
{
	char			 spec[300], host[POLICY_HOST_MAX + 1];
	unsigned		 port;
	unsigned char		 buf[sizeof(struct in6_addr)];

	if (n >= sizeof(spec))
		return -1;
	memcpy(spec, p, n);
	spec[n] = '\0';
	if (addr_split(spec, host, sizeof(host), &port, 443) == -1)
		return -1;
	if (inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1)
		return 0;
	return spec[0] == '[' || policy_check_host(host, strlen(host), 0) !=
	    NULL ? -1 : 0;
}

/* Is the n-byte word at p a listen address? */
static int
listen_ok(const char *p, size_t n)
{
	char	 spec[80], host[64], port[8];

	memcpy(spec, p, n);
	spec[n] = '\0';
	return config_listen_parse(spec, host, sizeof(host), port,
	    sizeof(port));
}

static int
add_list(struct state *st, const struct key *k, const char *v)
{
	const char	*p = v;
	char		*base = (char *)st->c;
	enum type	 t = k->type;
	char		**list = (char **)(void *)(base + k->off);
	size_t		*nlist, n, max;
	int		 which;

	nlist = (size_t *)(void *)(base + list_count(t, &which));
	max = t == T_REPLICAS ? CONFIG_MAX_REPLICAS : CONFIG_MAX_LISTEN;
	if (!st->list_set[which]) {
		for (size_t i = 0; i < *nlist; i++)
			free(list[i]);
		*nlist = 0;
		st->list_set[which] = 1;
	}
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t");
		if (t == T_REPLICAS && replica_ok(p, n) == -1) {
			snprintf(st->why, sizeof(st->why), "'%.*s' is not "
			    "HOST, HOST:PORT or [IPv6]:PORT", (int)(n < 80 ?
			    n : 80), p);
			return -1;
		}
		if (t != T_REPLICAS && (n >= 80 || listen_ok(p, n) == -1)) {
			snprintf(st->why, sizeof(st->why), "'%.*s' is not "
			    "ADDRESS:PORT, [IPv6]:PORT or :PORT", (int)(n < 80 ?
			    n : 80), p);
			return -1;
		}
		if (*nlist == max) {
			snprintf(st->why, sizeof(st->why), "more than %zu "
			    "%s", max, t == T_REPLICAS ? "replicas" :
			    "addresses");
			return -1;
		}
		if ((list[*nlist] = strndup(p, n)) == NULL)
			return -1;
		(*nlist)++;
		p += n;
	}
	return 0;
}

/* Is v one of words (or empty, with empty_ok)? */
static int
one_of(const char *v, const char *const *words, int empty_ok)
{
	if (*v == '\0')
		return empty_ok;
	for (size_t i = 0; words[i] != NULL; i++)
		if (strcmp(v, words[i]) == 0)
			return 1;
	return 0;
}

/*
 * The checks of the [acme] client's keys: their values end up on the
 * client's command line (never through a shell, but a value starting
 * with '-' would still be read as an option).  0, or -1 with st->why.
 */
static int
word_check(struct state *st, enum type t, const char *v)
{
	const char	*at;
	size_t		 n = strlen(v);

	switch (t) {
	case T_CLIENT:
		if (one_of(v, clients, 1))
			return 0;
		snprintf(st->why, sizeof(st->why), "'%.100s' is not lego or "
		    "certbot (or empty: none)", v);
		return -1;
	case T_KEYTYPE:
		if (one_of(v, keytypes, 0))
			return 0;
		snprintf(st->why, sizeof(st->why), "'%.100s' is not ec256 or "
		    "rsa2048", v);
		return -1;
	case T_URL:
		if (strncmp(v, "https://", 8) == 0 && n > 8 && n <= 512 &&
		    v[8] != '/' && strcspn(v, " \t\"'<>\\") == n)
			return 0;
		snprintf(st->why, sizeof(st->why), "'%.100s' is not an "
		    "https:// URL", v);
		return -1;
	case T_EMAIL:
		at = strchr(v, '@');
		if (n == 0 || (n <= 254 && at != NULL && at != v &&
		    at[1] != '\0' && strchr(at + 1, '@') == NULL && *v != '-' &&
		    strcspn(v, " \t\"'<>()[]\\,;:") == n))
			return 0;
		snprintf(st->why, sizeof(st->why), "'%.100s' is not an "
		    "address such as you@example.com", v);
		return -1;
	default:
		return 0;
	}
}

/* see config.h */
int
config_path_under(const char *path, const char *dir)
{
	size_t	 n = strlen(dir);

	if (n == 0)
		return 0;
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' ||
	    path[n] == '/');
}

/* Sets one key; returns 0, or -1 with st->why set. */
static int
set(struct state *st, const struct key *k, const char *v)
{
	char		*base = (char *)st->c;
	char		**sp = (char **)(void *)(base + k->off);
	unsigned	*up = (unsigned *)(void *)(base + k->off);
	int		*ip = (int *)(void *)(base + k->off);
	enum log_level	 lvl;
	const char	*why;
	struct sockaddr_storage ss;
	socklen_t	 sl;

	switch (k->type) {
	case T_LISTEN:
	case T_ACME_LISTEN:
	case T_METRICS_LISTEN:
	case T_REPLICAS:
		if (add_list(st, k, v) == -1 && st->why[0] == '\0')
			snprintf(st->why, sizeof(st->why), "out of memory");
		return st->why[0] ? -1 : 0;
	case T_UPDATE:
		if (*v == '\0')
			*ip = CONFIG_UPDATE_OFF;
		else if (strcmp(v, "rfc2136") == 0)
			*ip = CONFIG_UPDATE_RFC2136;
		else if (strcmp(v, "exec") == 0)
			*ip = CONFIG_UPDATE_EXEC;
		else {
			snprintf(st->why, sizeof(st->why), "'%s' is not "
			    "rfc2136, exec or empty", v);
			return -1;
		}
		return 0;
	case T_STRING:
	case T_PATH:
	case T_OPTPATH:
	case T_DOMAIN:
	case T_URLPATH:
	case T_CLIENT:
	case T_KEYTYPE:
	case T_URL:
	case T_EMAIL:
	case T_ADDRESS:
		if (word_check(st, k->type, v) == -1)
			return -1;
		if (k->type == T_ADDRESS && *v != '\0' &&
		    addr_parse(v, 53, &ss, &sl) == -1) {
			snprintf(st->why, sizeof(st->why), "'%s' is not an "
			    "IPv4 or IPv6 address with an optional port "
			    "(192.0.2.1:53, [2001:db8::1]:53)", v);
			return -1;
		}
		if (k->type == T_STRING && *v == '\0') {
			snprintf(st->why, sizeof(st->why), "empty value");
			return -1;
		}
		if ((k->type == T_PATH && *v != '/') ||
		    (k->type == T_OPTPATH && *v != '\0' && *v != '/')) {
			snprintf(st->why, sizeof(st->why), "'%s' is not an "
			    "absolute path", v);
			return -1;
		}
		if (k->type == T_URLPATH && (*v != '/' || strlen(v) > 64 ||
		    strspn(v, "/-_.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
		    "QRSTUVWXYZ0123456789") != strlen(v) ||
		    strcmp(v, "/.well-known/mta-sts.txt") == 0)) {
			snprintf(st->why, sizeof(st->why), "'%s' is not a path "
			    "of letters, digits and -_./ starting with '/' "
			    "(other than the policy's)", v);
			return -1;
		}
		if (k->type == T_DOMAIN && *v != '\0' &&
		    (why = policy_check_host(v, strlen(v), 0)) != NULL) {
			snprintf(st->why, sizeof(st->why), "'%s': %s", v, why);
			return -1;
		}
		free(*sp);
		if ((*sp = strdup(v)) == NULL) {
			snprintf(st->why, sizeof(st->why), "out of memory");
			return -1;
		}
		return 0;
	case T_SECONDS:
	case T_COUNT:
		if (number(v, k->min, k->max, up) == -1) {
			snprintf(st->why, sizeof(st->why), "'%s' is not a "
			    "whole number from %u to %u%s", v, k->min, k->max,
			    k->type == T_SECONDS ? " (seconds)" : "");
			return -1;
		}
		return 0;
	case T_BOOL:
	case T_AUTO:
		if (k->type == T_AUTO && strcmp(v, "auto") == 0)
			*ip = CONFIG_AUTO;
		else if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			*ip = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			*ip = 0;
		else {
			snprintf(st->why, sizeof(st->why), "'%s' is not yes "
			    "or no%s", v, k->type == T_AUTO ? " or auto" : "");
			return -1;
		}
		return 0;
	case T_LOG_FORMAT:
		if (strcmp(v, "text") == 0)
			*ip = LOG_FORMAT_TEXT;
		else if (strcmp(v, "json") == 0)
			*ip = LOG_FORMAT_JSON;
		else {
			snprintf(st->why, sizeof(st->why), "'%s' is not text "
			    "or json", v);
			return -1;
		}
		return 0;
	case T_LEVEL:
		if (log_level_parse(v, &lvl) == -1) {
			snprintf(st->why, sizeof(st->why), "'%s' is not one "
			    "of error, warn, info, debug", v);
			return -1;
		}
		*ip = (int)lvl;
		return 0;
	}
	return -1;
}

/* inih calls this for each "name = value"; 0 stops with an error. */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct state	*st = user;
	char		 why[sizeof(st->why)];
	int		 known_section = 0;

	if (st->why[0] != '\0')
		return 0;	/* only the first error is reported */
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		known_section = 1;
		if (strcmp(keys[i].name, name) != 0)
			continue;
		if (set(st, &keys[i], value) == 0)
			return 1;
		memcpy(why, st->why, sizeof(why));
		snprintf(st->why, sizeof(st->why), "%.40s: %.200s", name, why);
		st->err_line = st->line;
		return 0;
	}
	st->err_line = st->line;
	if (!known_section)
		snprintf(st->why, sizeof(st->why), "%s: key in unknown "
		    "section [%s]", name, section);
	else
		snprintf(st->why, sizeof(st->why), "%s: unknown key in "
		    "[%s]", name, section);
	return 0;
}

/* see config.h */
int
config_load(const char *path, struct config *c, char *err, size_t errsz)
{
	struct state	 st;
	struct stat	 sb;
	int		 line;

	memset(c, 0, sizeof(*c));
	memset(&st, 0, sizeof(st));
	st.c = c;
	for (size_t i = 0; i < NKEYS; i++)
		if (set(&st, &keys[i], keys[i].def) == -1) {
			snprintf(err, errsz, "%s: default of %s: %s", path,
			    keys[i].name, st.why);
			goto fail;
		}
	memset(st.list_set, 0, sizeof(st.list_set));
	if ((st.fp = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fstat(fileno(st.fp), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		fclose(st.fp);
		goto fail;
	}
	line = ini_parse_stream(reader, &st, handler, &st);
	fclose(st.fp);
	if (line != 0) {
		if (line == -1 || line == -2)
			snprintf(err, errsz, "%s: cannot read", path);
		else if (st.why[0] != '\0' && st.err_line <= line)
			snprintf(err, errsz, "%s:%d: %s", path, st.err_line,
			    st.why);
		else
			snprintf(err, errsz, "%s:%d: syntax error (expected "
			    "'[section]' or 'key = value')", path, line);
		goto fail;
	}
	if (st.why[0] != '\0') {
		/* An error inih did not stop at (a long comment line). */
		snprintf(err, errsz, "%s:%d: %s", path, st.err_line, st.why);
		goto fail;
	}
	if (c->nlisten == 0) {
		snprintf(err, errsz, "%s: listen: no address", path);
		goto fail;
	}
	if ((c->nacme_listen > 0) != (c->acme_webroot[0] != '\0')) {
		snprintf(err, errsz, "%s: [acme] listen and webroot go together",
		    path);
		goto fail;
	}
	if (c->dns_update == CONFIG_UPDATE_RFC2136 && (c->dns_server[0] ==
	    '\0' || c->dns_tsig_key[0] == '\0')) {
		snprintf(err, errsz, "%s: [dns] update = rfc2136 needs server "
		    "(the primary) and tsig_key (unsigned updates are not "
		    "sent)", path);
		goto fail;
	}
	if (c->dns_update == CONFIG_UPDATE_EXEC && c->dns_hook[0] == '\0') {
		snprintf(err, errsz, "%s: [dns] update = exec needs hook",
		    path);
		goto fail;
	}
	if (c->dns_publish && c->dns_update == CONFIG_UPDATE_OFF) {
		snprintf(err, errsz, "%s: [dns] publish = yes needs update "
		    "(rfc2136 or exec)", path);
		goto fail;
	}
	if (c->acme_client[0] != '\0' && c->nacme_listen == 0) {
		snprintf(err, errsz, "%s: [acme] client needs listen and "
		    "webroot: mta-stsd answers the client's challenges", path);
		goto fail;
	}
	if (strcmp(c->acme_client, "lego") == 0 && c->acme_email[0] == '\0') {
		snprintf(err, errsz, "%s: [acme] client = lego needs email (lego "
		    "registers its account with it)", path);
		goto fail;
	}
	/* The client's account key never where mta-stsd reads or serves. */
	if (c->acme_client[0] != '\0' &&
	    (config_path_under(c->acme_state_dir, c->cert_dir) ||
	    config_path_under(c->acme_state_dir, c->policy_dir) ||
	    config_path_under(c->acme_state_dir, c->acme_webroot) ||
	    config_path_under(c->cert_dir, c->acme_state_dir) ||
	    config_path_under(c->acme_webroot, c->acme_state_dir))) {
		snprintf(err, errsz, "%s: [acme] state_dir %s must be apart "
		    "from cert_dir, policy_dir and webroot (it holds the "
		    "client's account key)", path, c->acme_state_dir);
		goto fail;
	}
	return 0;
fail:
	config_free(c);
	return -1;
}

/* Are the values of key k in a and b the same? */
static int
same(const struct key *k, const struct config *a, const struct config *b)
{
	const char	*pa = (const char *)a + k->off;
	const char	*pb = (const char *)b + k->off;
	char *const	*la, *const *lb;
	size_t		 na, nb;
	int		 w;

	switch (k->type) {
	case T_LISTEN:
	case T_ACME_LISTEN:
	case T_METRICS_LISTEN:
	case T_REPLICAS:
		la = (char *const *)(const void *)pa;
		lb = (char *const *)(const void *)pb;
		na = *(const size_t *)(const void *)((const char *)a +
		    list_count(k->type, &w));
		nb = *(const size_t *)(const void *)((const char *)b +
		    list_count(k->type, &w));
		if (na != nb)
			return 0;
		for (size_t i = 0; i < na; i++)
			if (strcmp(la[i], lb[i]) != 0)
				return 0;
		return 1;
	case T_STRING:
	case T_PATH:
	case T_OPTPATH:
	case T_DOMAIN:
	case T_URLPATH:
	case T_ADDRESS:
	case T_CLIENT:
	case T_KEYTYPE:
	case T_URL:
	case T_EMAIL:
		return strcmp(*(char *const *)(const void *)pa,
		    *(char *const *)(const void *)pb) == 0;
	case T_SECONDS:
	case T_COUNT:
		return *(const unsigned *)(const void *)pa ==
		    *(const unsigned *)(const void *)pb;
	case T_BOOL:
	case T_LEVEL:
	case T_UPDATE:
	case T_AUTO:
	case T_LOG_FORMAT:
		return *(const int *)(const void *)pa ==
		    *(const int *)(const void *)pb;
	}
	return 0;
}

/* Swaps the values of key k between a and b. */
static void
swap(const struct key *k, struct config *a, struct config *b)
{
	char	*pa = (char *)a + k->off, *pb = (char *)b + k->off;
	char	 tmp[sizeof(a->listen) > sizeof(a->replicas) ?
		    sizeof(a->listen) : sizeof(a->replicas)];
	size_t	*na, *nb, n, size;
	int	 w;

	if (is_list(k->type)) {
		na = (size_t *)(void *)((char *)a + list_count(k->type, &w));
		nb = (size_t *)(void *)((char *)b + list_count(k->type, &w));
		n = *na;
		*na = *nb;
		*nb = n;
		size = k->type == T_REPLICAS ? sizeof(a->replicas) :
		    sizeof(a->listen);
	} else if (k->type == T_SECONDS || k->type == T_COUNT)
		size = sizeof(unsigned);
	else if (k->type == T_BOOL || k->type == T_LEVEL ||
	    k->type == T_UPDATE || k->type == T_AUTO ||
	    k->type == T_LOG_FORMAT)
		size = sizeof(int);
	else
		size = sizeof(char *);
	memcpy(tmp, pa, size);
	memcpy(pa, pb, size);
	memcpy(pb, tmp, size);
}

/* see config.h */
size_t
config_keep_restart(struct config *running, struct config *next, char *names,
    size_t namesz)
{
	size_t	 n = 0, len = 0;

	if (namesz > 0)
		names[0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		if (!keys[i].restart || same(&keys[i], running, next))
			continue;
		swap(&keys[i], running, next);
		if (len < namesz)
			len += (size_t)snprintf(names + len, namesz - len,
			    "%s%s%s%s", n > 0 ? ", " : "", strcmp(keys[i].section,
			    "server") != 0 ? keys[i].section : "",
			    strcmp(keys[i].section, "server") != 0 ? " " : "",
			    keys[i].name);
		n++;
	}
	return n;
}

/* see config.h */
void
config_free(struct config *c)
{
	for (size_t i = 0; i < c->nlisten; i++)
		free(c->listen[i]);
	for (size_t i = 0; i < c->nacme_listen; i++)
		free(c->acme_listen[i]);
	for (size_t i = 0; i < c->nmetrics_listen; i++)
		free(c->metrics_listen[i]);
	for (size_t i = 0; i < c->nreplicas; i++)
		free(c->replicas[i]);
	free(c->dns_server);
	free(c->dns_zone);
	free(c->dns_tsig_key);
	free(c->dns_hook);
	free(c->dns_ca_file);
	free(c->acme_webroot);
	free(c->policy_dir);
	free(c->cert_dir);
	free(c->user);
	free(c->pid_file);
	free(c->log_file);
	free(c->default_domain);
	free(c->tlsrpt_dir);
	free(c->tlsrpt_path);
	free(c->acme_client);
	free(c->acme_state_dir);
	free(c->acme_directory);
	free(c->acme_email);
	free(c->acme_key_type);
	free(c->acme_ca_file);
	memset(c, 0, sizeof(*c));
}
