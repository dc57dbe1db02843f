/*
 * adopt.c: mta-stsctl adopt, taking over a policy another host serves
 * today (a static site, a cloud function), so that pointing
 * mta-sts.DOMAIN at this server changes nothing for senders: the policy
 * it serves becomes the local one, and the id published in the DNS its
 * current id, never to be issued again.
 *
 * The policy is fetched as senders fetch it (check.c does the same with
 * a verdict for every step): the _mta-sts TXT record, exactly one valid;
 * the first address of mta-sts.DOMAIN; HTTPS with the certificate
 * verified; status 200, no redirect followed.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl/check.h"
#include "ctl/cli.h"
#include "ctl/cmd.h"
#include "ctl/dns.h"
#include "ctl/local.h"
#include "lib/file.h"
#include "lib/ids.h"
#include "lib/policy.h"
#include "lib/resp.h"
#include "lib/txt.h"
#include "tls/client.h"
#include "tls/digest.h"
#include "tls/tls.h"

struct served {
	char	*body;			/* the bytes as served (or read) */
	size_t	 len;
	char	 id[TXT_ID_MAX + 1];
	char	 from[POLICY_HOST_MAX + 64];	/* for messages */
};

/* The one v=STSv1 record of _mta-sts.DOMAIN, as senders filter them. */
static int
fetch_id(struct dns *d, struct dns_answer *a, const char *domain,
    char id[TXT_ID_MAX + 1])
{
	struct txt_record	 t;
	const struct dns_rr	*one = NULL;
	char			 name[POLICY_HOST_MAX + 16], err[TXT_ERR_MAX];
	size_t			 n = 0;

	snprintf(name, sizeof(name), "_mta-sts.%s", domain);
	if (dns_query(d, name, DNS_T_TXT, a) == -1 && a->status == DNS_FAIL) {
		fprintf(stderr, "mta-stsctl: %s TXT: %s\n", name, a->why);
		return -1;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->rr[i].len >= 7 && memcmp(a->rr[i].data, "v=STSv1", 7) ==
		    0) {
			one = &a->rr[i];
			n++;
		}
	n += a->more;
	if (n != 1) {
		fprintf(stderr, "mta-stsctl: %s: %s: senders see no MTA-STS "
		    "policy there; nothing to adopt (%s)\n", name, n == 0 ?
		    "no v=STSv1 record" : "more than one v=STSv1 record",
		    n == 0 ? "use init" : "keep exactly one first");
		return -1;
	}
	if (one->nul || one->len > DNS_DATA_MAX || txt_parse(one->data,
	    one->len, &t, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: invalid record (RFC 8461 "
		    "section 3.1): %s; senders see no policy\n", name,
		    one->nul ? "NUL byte" : err);
		return -1;
	}
	memcpy(id, t.id, sizeof(t.id));
	return 0;
}

/* The first address of host, as mailauth takes it: A, else AAAA. */
static int
fetch_addr(struct dns *d, struct dns_answer *a, const char *host,
    struct sockaddr_storage *ss, socklen_t *sl)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (dns_query(d, host, DNS_T_A, a) == 0) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(443);
		inet_pton(AF_INET, a->rr[0].data, &s4->sin_addr);
		*sl = sizeof(*s4);
		return 0;
	}
	if (a->status != DNS_FAIL && dns_query(d, host, DNS_T_AAAA, a) == 0) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(443);
		inet_pton(AF_INET6, a->rr[0].data, &s6->sin6_addr);
		*sl = sizeof(*s6);
		return 0;
	}
	fprintf(stderr, "mta-stsctl: %s: %s\n", host, a->status == DNS_FAIL ?
	    a->why : "no address record");
	return -1;
}

/* The served policy and published id, as senders see them: 0 or -1. */
static int
fetch_served(const char *domain, const struct check_net *net,
    struct served *s)
{
	struct dns		*d = NULL;
	struct dns_answer	*a = NULL;
	struct tls_anchors	*ta = NULL;
	struct resp		*f = NULL;
	struct tls_peer		 peer;
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 host[POLICY_HOST_MAX + 10], err[600];
	int			 rc = -1;

	snprintf(host, sizeof(host), "mta-sts.%s", domain);
	snprintf(s->from, sizeof(s->from), "https://%s/.well-known/"
	    "mta-sts.txt", host);
	if ((a = malloc(sizeof(*a))) == NULL ||
	    (f = malloc(sizeof(*f))) == NULL) {
		fprintf(stderr, "mta-stsctl: out of memory\n");
		goto out;
	}
	if ((ta = tls_anchors_load(net->ca_file != NULL ? net->ca_file :
	    TLS_CA_FILE_DEFAULT, err, sizeof(err))) == NULL ||
	    (d = dns_open(net->resolver, 0, net->timeout_s * 1000, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "mta-stsctl adopt: %s\n", err);
		goto out;
	}
	if (fetch_id(d, a, domain, s->id) == -1 ||
	    fetch_addr(d, a, host, &ss, &sl) == -1)
		goto out;
	if (tls_fetch_verified((struct sockaddr *)&ss, sl, host, ta,
	    net->timeout_s * 1000, f, &peer, err, sizeof(err)) == -1) {
		fprintf(stderr, "mta-stsctl: %s: %s\n", s->from, err);
		goto out;
	}
	if (f->status >= 300 && f->status < 400) {
		fprintf(stderr, "mta-stsctl: %s: status %u redirects to '%s': "
		    "senders do not follow redirects, so they have no policy "
		    "to keep; nothing to adopt (use init)\n", s->from,
		    f->status, f->location);
		goto out;
	}
	if (f->status != 200) {
		fprintf(stderr, "mta-stsctl: %s: status %u: senders see no "
		    "policy; nothing to adopt (use init)\n", s->from,
		    f->status);
		goto out;
	}
	if (strncasecmp(f->ctype, "text/plain", 10) != 0)
		fprintf(stderr, "mta-stsctl: %s: note: Content-Type '%s': "
		    "postfix-mta-sts-resolver and go-mtasts reject that; "
		    "mta-stsd sends text/plain\n", s->from, f->ctype);
	if ((s->body = malloc(f->bodylen + 1)) == NULL)
		goto out;
	memcpy(s->body, f->body, f->bodylen + 1);
	s->len = f->bodylen;
	printf("%s: id %s published at _mta-sts.%s; policy fetched from %s "
	    "(%zu bytes)\n", domain, s->id, domain, s->from, s->len);
	rc = 0;
out:
	free(f);
	free(a);
	tls_anchors_free(ta);
	dns_close(d);
	return rc;
}

/*
 * How the served bytes differ from the canonical body, and whether that
 * matters to senders: the canonical form (CRLF, version, mode, mx,
 * max_age, "key: value") is read the same way by every sender; LF line
 * ends, another order and other spacing read the same in all five known
 * senders; blank and comment lines, and a last line without an end, do
 * not (RFC8461 notes: mox and go-mtasts reject them, Stalwart misreads).
 */
static void
compare(const char *domain, const struct served *s, const struct policy *p)
{
	static const char	 order[] = "version mode mx max_age";
	struct policy_shape	 sh;
	int			 matters;

	if (s->len == p->bodylen && memcmp(s->body, p->body, s->len) == 0) {
		printf("%s: the served body is already the canonical one: "
		    "mta-stsd will serve the same bytes\n", domain);
		return;
	}
	policy_served_shape(s->body, s->len, &sh);
	printf("%s: the served body differs from the canonical body mta-stsd "
	    "will serve:\n", domain);
	if (sh.lf > 0)
		printf("  %zu of %zu lines end with LF, not CRLF (RFC 8461 asks "
		    "for CRLF; every known sender reads both)\n", sh.lf,
		    sh.lines);
	if (strcmp(sh.order, order) != 0)
		printf("  the keys come in the order '%s', not '%s'\n",
		    sh.order, order);
	if (sh.spacing > 0)
		printf("  %zu lines are not spaced as 'key: value'\n",
		    sh.spacing);
	if (sh.blank > 0 || sh.comment > 0)
		printf("  %zu blank and %zu comment lines: go-mtasts and mox "
		    "reject such a policy, Stalwart may misread it\n", sh.blank,
		    sh.comment);
	if (sh.no_final_eol)
		printf("  the last line has no line end: senders that split on "
		    "CRLF may drop it\n");
	matters = sh.blank > 0 || sh.comment > 0 || sh.no_final_eol;
	if (matters)
		printf("%s: this matters to some senders: those that rejected "
		    "or misread the served body will read the canonical one as "
		    "mode %s, %zu mx, max_age %lu when they next fetch it\n",
		    domain, policy_mode_name(p->mode), p->nmx, p->max_age);
	else
		printf("%s: this does not matter to senders: they read both as "
		    "the same policy (mode %s, %zu mx, max_age %lu), and keep "
		    "the copy they cached under the same id\n", domain,
		    policy_mode_name(p->mode), p->nmx, p->max_age);
}

/* see cmd.h */
int
cmd_adopt(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'c' },
		{ "from-file", required_argument, NULL, 'F' },
		{ "id", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct check_net	 net = { NULL, NULL, CHECK_TIMEOUT_DEFAULT };
	struct served		 s;
	struct local		 c;
	struct policy		 p;
	struct policy_diags	 d;
	struct tls_certs	*cs = NULL;
	struct tls_cred		*cred;
	const char		*config = ctl_config_path(), *file = NULL;
	const char		*why;
	char			*src = NULL, line[600], sha[65], date[32];
	size_t			 srclen;
	time_t			 now = time(NULL);
	struct tm		 tm;
	pid_t			 pid;
	int			 ch, rc = EX_FAIL, dry = 0, net_given = 0;

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	memset(&d, 0, sizeof(d));
	c.dirfd = c.idsfd = -1;
	while ((ch = getopt_long(argc, argv, "f:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			config = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'r':
			net.resolver = optarg;
			net_given = 1;
			break;
		case 't':
			if (check_timeout_arg("adopt", optarg,
			    &net.timeout_s) == -1)
				return EX_USAGE;
			net_given = 1;
			break;
		case 'c':
			net.ca_file = optarg;
			net_given = 1;
			break;
		case 'F':
			file = optarg;
			break;
		case 'i':
			if ((why = txt_check_id(optarg)) != NULL) {
				fprintf(stderr, "mta-stsctl adopt: invalid id "
				    "'%s': %s\n", optarg, why);
				return EX_USAGE;
			}
			snprintf(s.id, sizeof(s.id), "%s", optarg);
			break;
		case 'h':
			return ctl_help(argv[0]);
		default:
			return ctl_usage(argv[0]);
		}
	}
	/* Offline needs both; the network options mean nothing then. */
	if (argc - optind != 1 || (file != NULL) != (s.id[0] != '\0') ||
	    (file != NULL && net_given))
		return ctl_usage(argv[0]);
	if (local_open(&c, config, argv[optind], dry) == -1 ||
	    local_read_policy(&c, 0) == -1)
		goto out;
	c.dry_run = dry;
	if (c.src != NULL) {
		fprintf(stderr, "mta-stsctl: %s/%s exists; adopt never "
		    "overwrites a policy\n", c.cfg.policy_dir, c.file);
		goto out;
	}
	if (local_read_record(&c) == -1)
		goto out;
	if (file != NULL) {
		if (file_read(AT_FDCWD, file, POLICY_SOURCE_MAX, 0, &s.body,
		    &s.len) == -1) {
			fprintf(stderr, "mta-stsctl: %s: %s\n", file, errno ==
			    EFBIG ? "larger than a policy" : strerror(errno));
			goto out;
		}
		snprintf(s.from, sizeof(s.from), "%s", file);
	} else if (fetch_served(c.domain, &net, &s) == -1) {
		fprintf(stderr, "mta-stsctl: %s: nothing adopted\n", c.domain);
		goto out;
	}
	if (policy_parse(s.body, s.len, &p, &d) == -1) {
		for (size_t i = 0; i < d.n; i++)
			fprintf(stderr, "%s\n", policy_diag_format(s.from,
			    &d.v[i], line, sizeof(line)));
		fprintf(stderr, "mta-stsctl: %s: the served policy is invalid "
		    "(errors above); nothing adopted\n", c.domain);
		goto out;
	}
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "%s\n", policy_diag_format(s.from, &d.v[i],
		    line, sizeof(line)));
	compare(c.domain, &s, &p);

	/* The source: a header, then the bytes as they were served. */
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	srclen = strlen(c.domain) + strlen(s.from) + s.len + 256;
	if ((src = malloc(srclen)) == NULL)
		goto out;
	srclen = (size_t)snprintf(src, srclen, "# %s: adopted by mta-stsctl "
	    "on %s from %s, id %s.\n# Change it with 'mta-stsctl mode' and "
	    "'mta-stsctl set'.\n", c.domain, date, s.from, s.id);
	memcpy(src + srclen, s.body, s.len);
	srclen += s.len;
	if (s.len > 0 && s.body[s.len - 1] != '\n')
		src[srclen++] = '\n';
	if (c.dry_run) {
		printf("%s: would write %s/%s and record id %s as its current "
		    "id\n", c.domain, c.cfg.policy_dir, c.file, s.id);
		rc = EX_OK;
		goto out;
	}
	if (local_write(c.dirfd, c.file, src, srclen, 1) == -1) {
		fprintf(stderr, "mta-stsctl: %s/%s: %s; nothing adopted\n",
		    c.cfg.policy_dir, c.file, strerror(errno));
		goto out;
	}
	tls_sha256_hex(p.body, p.bodylen, sha);
	ids_issue(&c.rec, s.id, sha, p.max_age, policy_mode_name(p.mode), now);
	/* Fetched from the DNS: published there (a file: not known). */
	if (file == NULL)
		ids_published(&c.rec, s.id, now);
	c.has_rec = 1;
	if (local_write_record(&c) == -1) {
		fprintf(stderr, "mta-stsctl: %s: the policy is written but its "
		    "id is not recorded; remove %s/%s and adopt again\n",
		    c.domain, c.cfg.policy_dir, c.file);
		goto out;
	}
	printf("%s: adopted into %s/%s, current id %s (never to be issued "
	    "again)\n", c.domain, c.cfg.policy_dir, c.file, s.id);
	pid = local_server_pid(&c);
	cred = pid != -1 ? local_expected_cred(&c, &cs) : NULL;
	if (pid != -1 && cred != NULL && local_reload_until_served(&c, pid,
	    cred, p.body, p.bodylen) == 0)
		printf("%s: served here now: point %s at this server when "
		    "ready; senders will see the same policy under the same "
		    "id\n", c.host, c.host);
	else
		printf("%s: not served here yet (%s): it must be, with a "
		    "certificate for %s, before %s points here\n", c.host,
		    pid == -1 ? "the server is not running" : cred == NULL ?
		    "no certificate" : "see above", c.host, c.host);
	rc = EX_OK;
out:
	tls_certs_free(cs);
	policy_free(&p);
	policy_diags_free(&d);
	free(src);
	free(s.body);
	local_close(&c);
	return rc;
}
