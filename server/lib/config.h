/*
 * config.h: mta-stsd.conf, one INI file read with inih.
 *
 * Every key is one line of the table in config.c: its section, name,
 * type, default and limits.  Errors read "FILE:LINE: key: why".
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define CONFIG_DEFAULT_PATH	"/etc/mta-stsd/mta-stsd.conf"
#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_REPLICAS	16

/* [dns] update: how mta-stsctl publishes TXT records. */
enum config_update {
	CONFIG_UPDATE_OFF,	/* it prints them, the administrator publishes */
	CONFIG_UPDATE_RFC2136,	/* a TSIG-signed dynamic update to server */
	CONFIG_UPDATE_EXEC	/* hook, run for each change */
};

/* metrics_per_domain: no, yes, or yes up to CONFIG_PER_DOMAIN_AUTO. */
#define CONFIG_NO		0
#define CONFIG_YES		1
#define CONFIG_AUTO		2
#define CONFIG_PER_DOMAIN_AUTO	10000

struct config {
	char		*listen[CONFIG_MAX_LISTEN];	/* "ADDR:PORT" as written */
	size_t		 nlisten;
	char		*policy_dir;
	char		*cert_dir;
	char		*user;
	int		 allow_root;
	char		*pid_file;		/* "" for none */
	char		*log_file;		/* "" for stderr */
	int		 log_level;		/* enum log_level */
	char		*default_domain;	/* "" for none */
	unsigned	 handshake_timeout;	/* seconds */
	unsigned	 request_timeout;	/* seconds, whole request */
	unsigned	 keepalive_timeout;	/* seconds idle between requests */
	unsigned	 connection_lifetime;	/* seconds, absolute */
	unsigned	 max_connections;
	unsigned	 max_header_size;	/* bytes of request line + headers */
	unsigned	 session_cache;		/* TLS sessions kept */
	unsigned	 workers;		/* threads; 0: one a CPU */
	char		*acme_listen[CONFIG_MAX_LISTEN];	/* plain HTTP */
	size_t		 nacme_listen;
	char		*acme_webroot;		/* "" for none */
	int		 watch_certs;		/* reload on cert_dir changes */
	int		 watch_policies;	/* reload on policy_dir changes */
	int		 log_format;		/* enum log_format */
	int		 metrics_per_domain;	/* CONFIG_NO, _YES or _AUTO */
	char		*metrics_listen[CONFIG_MAX_LISTEN];	/* plain HTTP */
	size_t		 nmetrics_listen;
	int		 sandbox;		/* Landlock and seccomp */
	char		*tlsrpt_dir;		/* reports stored here; "" off */
	char		*tlsrpt_path;		/* where reports are POSTed */
	unsigned	 tlsrpt_max_size;	/* bytes of one report as sent */
	unsigned	 tlsrpt_max_json;	/* bytes once decompressed */
	unsigned	 tlsrpt_max_ratio;	/* decompressed / compressed */
	unsigned	 tlsrpt_dir_max;	/* MiB in tlsrpt_dir, all told */
	unsigned	 tlsrpt_rate;		/* reports per client an hour */
	/* [dns]: mta-stsctl's; mta-stsd -n checks it, mta-stsd ignores it. */
	int		 dns_update;		/* enum config_update */
	char		*dns_server;		/* "ADDRESS[:PORT]", or "" */
	char		*dns_zone;		/* "": found through the SOA */
	char		*dns_tsig_key;		/* key file, or "" */
	unsigned	 dns_ttl;		/* of a new TXT record set */
	char		*dns_hook;		/* program, or "" */
	unsigned	 dns_hook_timeout;	/* seconds a hook may take */
	char		*replicas[CONFIG_MAX_REPLICAS];	/* "HOST[:PORT]" */
	size_t		 nreplicas;
	int		 dns_publish;		/* every change publishes */
	unsigned	 dns_wait;		/* seconds to wait for agreement */
	char		*dns_ca_file;		/* replicas' CAs; "": the system's */
	/* [acme]: for mta-stsctl cert, which runs the client; not the daemon */
	char		*acme_client;		/* "", "lego" or "certbot" */
	char		*acme_state_dir;	/* the client's account and state */
	char		*acme_directory;	/* the ACME directory URL */
	char		*acme_email;		/* "" for none */
	char		*acme_key_type;		/* "ec256" or "rsa2048" */
	unsigned	 acme_renew_days;	/* renew when fewer days are left */
	char		*acme_ca_file;		/* the directory's CA; "" system */
	unsigned	 tlsrpt_max_mail;	/* bytes of one message read by
						   mta-stsctl --import-mail */
};

/* Let's Encrypt's production directory, the default of [acme] directory. */
#define CONFIG_ACME_DIRECTORY	\
	"https://acme-v02.api.letsencrypt.org/directory"


/*
 * Reads path into *c (defaults first).  Returns 0, or -1 with
 * "FILE:LINE: key: why" (or "FILE: why") in err.
 */
int	config_load(const char *path, struct config *c, char *err,
	    size_t errsz);
void	config_free(struct config *c);

/*
 * For a reload: the keys that take effect only at the next start (the
 * table's restart column) keep running's values in next, which takes
 * them over (next's own go to running, to be freed with it).  Lists
 * those that differed in names ("workers, acme listen") and returns how
 * many.
 */
size_t	config_keep_restart(struct config *running, struct config *next,
	    char *names, size_t namesz);

/*
 * Is path dir itself or below it?  As written: the caller resolves links
 * first if they matter.
 */
int	config_path_under(const char *path, const char *dir);

/*
 * Splits a listen address, "ADDR:PORT", "[IPv6]:PORT" or ":PORT", into
 * host ("" or "*" for every address) and port.  Returns 0, or -1 if spec
 * is none of these.
 */
int	config_listen_parse(const char *spec, char *host, size_t hostsz,
	    char *port, size_t portsz);

#endif /* CONFIG_H */
