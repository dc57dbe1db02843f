/*
 * store.c: the served state.  See store.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/file.h"
#include "http.h"
#include "lib/ids.h"
#include "lib/log.h"
#include "lib/map.h"
#include "lib/txt.h"
#include "metrics.h"
#include "store.h"
#include "tls/digest.h"
#include "tls/tls.h"

#define EXPIRY_WARN	(14 * 86400)

/*
 * The last certificate scan: the next one takes from it what files that
 * did not change gave, instead of reading them again.  Only store_load()
 * touches it, and reloads are one at a time.
 */
static struct tls_certs	*last_scan;

/*
 * The names of a snapshot's domains, in blocks of their own (larger than
 * malloc's mmap threshold): thousands of small strings per reload would
 * otherwise pin heap pages among the reload's freed temporaries, and the
 * memory after a few reloads would not come back to where it started.
 */
#define NAMES_BLOCK	(64 * 1024)

struct names {
	struct names	*next;
	size_t		 used, cap;
	char		 v[];
};

struct store {
	struct names	*names;
	atomic_int	 refs;
	struct domain	*v;
	size_t		 n;
	struct map	 hosts;		/* host -> struct domain */
	struct domain	*def;
	const char	**failed;	/* domains not served, in names */
	size_t		 nfailed, capfailed;
	uint32_t	 maxid;
};

static void	(*reaper)(struct store *);

/*
 * The warnings of policies, shared: 100,000 domains with a short max_age
 * have one text between them.  Policies are freed by the loader or at
 * exit, and loaded by one load at a time; the lock is for the rare
 * other thread that frees (without a reaper).
 */
struct warntext {
	int	 refs;
	char	 s[];
};

static struct {
	pthread_mutex_t	 lock;
	struct map	 m;		/* text -> struct warntext */
} warns = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The shared copy of w (which it takes over), or NULL on ENOMEM. */
static char *
warn_intern(char *w)
{
	struct warntext	*t;
	size_t		 l;
	int		 shared;

	if (w == NULL)
		return NULL;
	l = strlen(w);
	pthread_mutex_lock(&warns.lock);
	if ((t = map_get(&warns.m, w, l)) != NULL && strcmp(t->s, w) == 0)
		t->refs++;
	else if ((shared = t == NULL, t = malloc(sizeof(*t) + l + 1)) !=
	    NULL) {
		/* The map ignores case: one differing only so stays apart. */
		t->refs = 1;
		memcpy(t->s, w, l + 1);
		if (shared && map_put(&warns.m, t->s, t) == -1) {
			free(t);
			t = NULL;
		}
	}
	pthread_mutex_unlock(&warns.lock);
	free(w);
	return t != NULL ? t->s : NULL;
}

static void
warn_release(char *w)
{
	struct warntext *t;

	if (w == NULL)
		return;
	t = (struct warntext *)(void *)(w - offsetof(struct warntext, s));
	pthread_mutex_lock(&warns.lock);
	if (--t->refs == 0) {
		if (map_get(&warns.m, t->s, strlen(t->s)) == t)
			map_del(&warns.m, t->s, strlen(t->s));
		free(t);
	}
	pthread_mutex_unlock(&warns.lock);
}

static void
dompolicy_unref(struct dompolicy *dp)
{
	if (dp == NULL || --dp->refs > 0)
		return;
	/* The response reads the policy's body: it goes first. */
	http_body_unref(dp->body);
	policy_free(&dp->p);
	warn_release(dp->warnings);
	free(dp);
}

/* Is dp, reusable, from the file st describes, unchanged? */
static int
same_file(const struct dompolicy *dp, const struct stat *st)
{
	return dp->reusable && dp->dev == st->st_dev &&
	    dp->ino == st->st_ino &&
	    dp->size == st->st_size &&
	    dp->mtim.tv_sec == st->st_mtim.tv_sec &&
	    dp->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	    dp->ctim.tv_sec == st->st_ctim.tv_sec &&
	    dp->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* Logs again the warnings of a policy taken from the last load. */
static void
relog_warnings(const struct dompolicy *dp, const char *path)
{
	const char *p, *nl;

	for (p = dp->warnings; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		log_warn("policy: %s:%.*s", path, (int)(nl - p), p);
	}
}

/*
 * The warnings of d as relog_warnings() reads them, or NULL when there
 * are none or memory ran out (*lost set then).
 */
static char *
keep_warnings(const struct policy_diags *d, int *lost)
{
	char	*w, line[600];
	size_t	 len = 0, cap = 0, l;

	*lost = 0;
	if (d->n == 0)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		cap += strlen(d->v[i].msg) + 32;
	if ((w = malloc(cap)) == NULL) {
		*lost = 1;
		return NULL;
	}
	for (size_t i = 0; i < d->n; i++) {
		/* The same text as policy_diag_format(), after the name. */
		policy_diag_format("", &d->v[i], line, sizeof(line));
		l = strlen(line + 1);
		memcpy(w + len, line + 1, l);
		len += l;
		w[len++] = '\n';
	}
	w[len] = '\0';
	return w;
}

/*
 * Parses one policy file, read into src (POLICY_SOURCE_MAX + 2 bytes);
 * logs every diagnostic.  NULL on failure.  The result remembers which
 * file it came from, and its warnings.
 */
static struct dompolicy *
load_policy(int dirfd, const char *file, const char *path, char *src)
{
	struct policy_diags	 d;
	struct dompolicy	*dp;
	struct stat		 st;
	char			 line[600];
	size_t			 len;
	int			 rc;

	if (file_read_into(dirfd, file, src, POLICY_SOURCE_MAX + 2, FILE_HEAD,
	    &len, &st) == -1) {
		log_error("policy: %s: cannot read: %s", path, errno == EINVAL ?
		    "not a regular file" : strerror(errno));
		return NULL;
	}
	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		return NULL;
	memset(&d, 0, sizeof(d));
	rc = policy_parse(src, len, &dp->p, &d);
	for (size_t i = 0; i < d.n; i++) {
		policy_diag_format(path, &d.v[i], line, sizeof(line));
		if (d.v[i].severity == POLICY_ERROR)
			log_error("policy: %s", line);
		else
			log_warn("policy: %s", line);
	}
	if (rc == 0) {
		int lost;

		dp->warnings = keep_warnings(&d, &lost);
		if (dp->warnings != NULL && (dp->warnings =
		    warn_intern(dp->warnings)) == NULL)
			lost = 1;
		dp->reusable = !d.oom && !lost;
	}
	policy_diags_free(&d);
	if (rc == -1 ||
	    (dp->body = http_body_new(dp->p.body, dp->p.bodylen)) == NULL) {
		policy_free(&dp->p);
		warn_release(dp->warnings);
		free(dp);
		return NULL;
	}
	dp->refs = 1;
	dp->dev = st.st_dev;
	dp->ino = st.st_ino;
	dp->size = st.st_size;
	dp->mtim = st.st_mtim;
	dp->ctim = st.st_ctim;
	return dp;
}

/*
 * The names of the id records in POLICY_DIR/.ids ("DOMAIN.id"), listed
 * once a load: a domain without one costs no open() then.
 */
struct idfiles {
	struct map	 m;		/* name -> non-NULL */
	char		*names;		/* NUL after each */
	size_t		 len, cap;
};

static void
idfiles_read(int dirfd, struct idfiles *f)
{
	struct dirent	*de;
	DIR		*d;
	char		*nb;
	size_t		 l, off;
	int		 fd;

	memset(f, 0, sizeof(*f));
	if ((fd = openat(dirfd, IDS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		l = strlen(de->d_name) + 1;
		if (f->len + l > f->cap) {
			size_t cap = f->cap ? f->cap * 2 : 4096;

			while (cap < f->len + l)
				cap *= 2;
			if ((nb = realloc(f->names, cap)) == NULL)
				break;
			f->names = nb;
			f->cap = cap;
		}
		memcpy(f->names + f->len, de->d_name, l);
		f->len += l;
	}
	closedir(d);
	/* Keys point into names: only once it stopped moving. */
	for (off = 0; off < f->len; off += strlen(f->names + off) + 1)
		if (map_put(&f->m, f->names + off, f->names + off) == -1)
			break;
}

static void
idfiles_free(struct idfiles *f)
{
	map_free(&f->m);
	free(f->names);
}

/*
 * The drift warning mta-stsctl status gives too: a policy that changed
 * since its id was issued is served, but senders that cached the old one
 * will not fetch it until a new id is published.  The id issued for
 * the body served goes to id (idsz bytes; "" when none, or when the id
 * recorded was issued for another body).
 */
static void
check_drift(int dirfd, const struct idfiles *f, const struct domain *d,
    char *id, size_t idsz)
{
	struct idrec	*r;
	char		 name[POLICY_HOST_MAX + 16], *buf, err[256], sha[65];
	size_t		 len;

	id[0] = '\0';
	snprintf(name, sizeof(name), "%s/%s.id", IDS_DIR, d->name);
	if (map_get(&f->m, name + strlen(IDS_DIR) + 1,
	    strlen(name + strlen(IDS_DIR) + 1)) == NULL) {
		log_debug("store: %s: no id issued by mta-stsctl yet", d->host);
		return;
	}
	if (file_read(dirfd, name, 65536, FILE_NOFOLLOW, &buf, &len) == -1) {
		if (errno == ENOENT)
			log_debug("store: %s: no id issued by mta-stsctl yet",
			    d->host);
		return;
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		free(buf);
		return;
	}
	if (ids_parse(buf, len, r, err, sizeof(err)) == -1)
		log_warn("store: %s: damaged id record %s: %s", d->host, name,
		    err);
	else {
		tls_sha256_hex(d->pol->p.body, d->pol->p.bodylen, sha);
		/* The id is this body's only if issued for it. */
		if (strcmp(sha, r->sha256) == 0)
			snprintf(id, idsz, "%s", r->id);
		if (strcmp(sha, r->pending) == 0)
			log_info("store: %s: mta-stsctl is confirming a change "
			    "before it issues a new id", d->host);
		else if (strcmp(sha, r->sha256) != 0)
			log_warn("store: %s: the policy changed since id %s "
			    "was issued: senders keep the old one until a new "
			    "id is published ('mta-stsctl issue %s')", d->host,
			    r->id, d->name);
	}
	free(r);
	free(buf);
}

static int
domain_cmp(const void *a, const void *b)
{
	return strcmp(((const struct domain *)a)->name,
	    ((const struct domain *)b)->name);
}

/*
 * A copy of the n bytes at p after prefix, NUL-terminated, lower-cased
 * (a host name) unless asis (an id), kept until s is freed.
 */
static char *
names_add(struct store *s, const char *prefix, const char *p, size_t n,
    int asis)
{
	struct names	*b = s->names;
	size_t		 pl = strlen(prefix), need = pl + n + 1;
	char		*r;

	if (b == NULL || b->cap - b->used < need) {
		size_t cap = need > NAMES_BLOCK ? need : NAMES_BLOCK;

		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = s->names;
		s->names = b;
	}
	r = b->v + b->used;
	memcpy(r, prefix, pl);
	for (size_t i = 0; i < n; i++)
		r[pl + i] = !asis && p[i] >= 'A' && p[i] <= 'Z' ?
		    (char)(p[i] + 32) : p[i];
	r[pl + n] = '\0';
	b->used += need;
	return r;
}

/* Records name (in s's names) as a domain that is not served. */
static int
add_failed(struct store *s, const char *name)
{
	if (s->nfailed == s->capfailed) {
		size_t cap = s->capfailed ? s->capfailed * 2 : 16;
		const char **nv = realloc(s->failed, cap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		s->failed = nv;
		s->capfailed = cap;
	}
	s->failed[s->nfailed++] = name;
	return 0;
}

static void
free_domain(struct domain *d)
{
	dompolicy_unref(d->pol);
	tls_cred_unref(d->ec);
	tls_cred_unref(d->rsa);
}

/*
 * The credentials for one domain: the new scan's, else (on a reload) the
 * old snapshot's while still valid, else none and the log says why.
 */
static void
choose_creds(struct domain *d, const struct tls_certs *cs,
    const struct domain *old, time_t now)
{
	char	 why[512];

	tls_certs_find(cs, d->host, now, &d->ec, &d->rsa, why, sizeof(why));
	if (d->ec == NULL && d->rsa == NULL && old != NULL) {
		if (old->ec != NULL && tls_cred_not_after(old->ec) >= now)
			d->ec = old->ec;
		if (old->rsa != NULL && tls_cred_not_after(old->rsa) >= now)
			d->rsa = old->rsa;
		if (d->ec != NULL || d->rsa != NULL)
			log_warn("store: %s: %s; keeping the previous "
			    "certificate", d->host, why);
	}
	if (d->ec == NULL && d->rsa == NULL) {
		log_error("store: %s: not served: %s", d->host, why);
		return;
	}
	if (d->ec != NULL)
		tls_cred_ref(d->ec);
	if (d->rsa != NULL)
		tls_cred_ref(d->rsa);
}

/*
 * The policy of the domain of file (path for the log): the file's, the
 * previous load's while the file is unchanged or being written, or when
 * the new one is invalid.  NULL when the domain cannot be served (*why
 * says whether that is a failure).  Sets d->mode_since.
 */
static struct dompolicy *
choose_policy(int dirfd, const char *file, const char *path,
    const struct domain *d, const struct domain *od,
    const struct store_opts *opts, char *src, int *failure)
{
	struct dompolicy	*dp;
	struct stat		 st;

	*failure = 0;
	if (opts != NULL && opts->writing != NULL &&
	    map_get(opts->writing, file, strlen(file)) != NULL) {
		if (od == NULL) {
			log_info("policy: %s: still being written; not served "
			    "until it is closed", path);
			return NULL;
		}
		log_info("policy: %s: still being written; serving the "
		    "previous version", path);
		od->pol->refs++;
		return od->pol;
	}
	/* An unchanged file is not read again. */
	if (od != NULL && fstatat(dirfd, file, &st, 0) == 0 &&
	    same_file(od->pol, &st)) {
		od->pol->refs++;
		log_debug("policy: %s: unchanged since the last load, not read "
		    "again", path);
		relog_warnings(od->pol, path);
		return od->pol;
	}
	if ((dp = load_policy(dirfd, file, path, src)) == NULL) {
		if (od == NULL) {
			log_error("store: %s: not served: invalid policy",
			    d->host);
			*failure = 1;
			return NULL;
		}
		log_warn("store: %s: keeping the previous policy", d->host);
		od->pol->refs++;
		return od->pol;
	}
	return dp;
}

/*
 * The certificate scan, on a thread of its own while the policies are
 * read (store_opts.threads): the two take about as long as each other.
 */
struct scanjob {
	const char		*dir;
	struct tls_certs	*prev;
	int			 threads;
	struct tls_certs	*cs;	/* NULL: failed, errno in err */
	int			 err;
};

static void *
scan_run(void *arg)
{
	struct scanjob *j = arg;

	j->cs = tls_certs_rescan_n(j->dir, j->prev, j->threads);
	j->err = errno;
	return NULL;
}

/*
 * Reads policy_dir into s->v, each domain without its certificates yet;
 * counts failures.  Returns 0, or -1 when the directory cannot be read
 * or memory runs out.
 */
static int
read_policies(const struct config *c, struct store *s,
    const struct store *old, const struct store_opts *opts, size_t *failed)
{
	struct idfiles	 idf;
	DIR		*dir = NULL;
	struct dirent	*de;
	int		 dfd, failure, rc = -1;
	size_t		 cap = 0;
	char		 path[4096], id[TXT_ID_MAX + 1], *src;

	memset(&idf, 0, sizeof(idf));
	/* Each policy is read here in turn. */
	if ((src = malloc(POLICY_SOURCE_MAX + 2)) == NULL)
		return -1;
	if ((dfd = open(c->policy_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (dir = fdopendir(dfd)) == NULL) {
		log_error("store: %s: %s", c->policy_dir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		goto out;
	}
	idfiles_read(dirfd(dir), &idf);
	/* The last load's size: the tables do not grow step by step. */
	if (old != NULL) {
		if ((s->v = malloc((old->n + 16) * sizeof(*s->v))) == NULL)
			goto out;
		cap = old->n + 16;
	}
	while ((de = readdir(dir)) != NULL) {
		size_t		 nl = strlen(de->d_name);
		struct domain	 d, *od = NULL, *nv;
		const char	*why;

		/* Hidden: temporary files, ..data and ..TIMESTAMP (k8s). */
		if (de->d_name[0] == '.' || nl < 5 ||
		    strcmp(de->d_name + nl - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", c->policy_dir,
		    de->d_name);
		memset(&d, 0, sizeof(d));
		if ((why = policy_check_host(de->d_name, nl - 4, 0)) != NULL) {
			log_error("policy: %s: file name is not DOMAIN.txt: %s",
			    path, why);
			(*failed)++;
			continue;
		}
		/* The name is the end of the host's. */
		if ((d.host = names_add(s, "mta-sts.", de->d_name, nl - 4,
		    0)) == NULL)
			goto out;
		d.name = d.host + strlen("mta-sts.");
		if (old != NULL)
			od = (struct domain *)store_find(old, d.host);
		d.pol = choose_policy(dirfd(dir), de->d_name, path, &d, od,
		    opts, src, &failure);
		if (d.pol == NULL) {
			if (failure) {
				(*failed)++;
				if (add_failed(s, d.name) == -1)
					goto out;
			}
			continue;
		}
		/*
		 * The mode is as old as the file's change that set it: the
		 * previous load's when it is the same mode.
		 */
		if (od != NULL && od->pol->p.mode == d.pol->p.mode)
			d.mode_since = od->mode_since;
		else
			d.mode_since = d.pol->mtim.tv_sec;
		check_drift(dirfd(dir), &idf, &d, id, sizeof(id));
		if (id[0] != '\0' && (d.policy_id = names_add(s, "", id,
		    strlen(id), 1)) == NULL) {
			free_domain(&d);
			goto out;
		}
		if (s->n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(s->v, cap * sizeof(*nv))) == NULL) {
				free_domain(&d);
				goto out;
			}
			s->v = nv;
		}
		s->v[s->n++] = d;
	}
	rc = 0;
out:
	if (dir != NULL)
		closedir(dir);
	idfiles_free(&idf);
	free(src);
	return rc;
}

/*
 * Gives each domain of s its certificates from cs; those left without
 * any are dropped (counted in *failed).  Returns 0, or -1 on ENOMEM.
 */
static int
attach_creds(struct store *s, const struct store *old,
    const struct tls_certs *cs, time_t now, size_t *failed)
{
	size_t	 n = 0;
	int	 rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct domain d = s->v[i];

		choose_creds(&d, cs, old != NULL ? store_find(old, d.host) :
		    NULL, now);
		if (d.ec == NULL && d.rsa == NULL) {
			free_domain(&d);
			(*failed)++;
			if (add_failed(s, d.name) == -1)
				rc = -1;
			continue;
		}
		s->v[n++] = d;
	}
	s->n = n;
	return rc;
}

/* see store.h */
struct store *
store_load(const struct config *c, const struct store *old,
    const struct store_opts *opts, time_t now, size_t *served,
    size_t *failed)
{
	struct store	*s;
	struct scanjob	 job;
	pthread_t	 tid;
	int		 threaded = 0, rc;

	*served = *failed = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->refs = 1;
	job.dir = c->cert_dir;
	job.prev = last_scan;
	job.threads = opts != NULL ? opts->threads : 1;
	job.cs = NULL;
	if (opts != NULL && opts->threads > 1)
		threaded = pthread_create(&tid, NULL, scan_run, &job) == 0;
	if (!threaded)
		scan_run(&job);
	rc = read_policies(c, s, old, opts, failed);
	if (threaded)
		pthread_join(tid, NULL);
	if (job.cs == NULL) {
		log_error("store: %s: %s", c->cert_dir, strerror(job.err));
		goto fail;
	}
	if (rc == -1 || attach_creds(s, old, job.cs, now, failed) == -1)
		goto fail;
	/* Kept for the next scan, which does not look names up in it. */
	tls_certs_forget_names(job.cs);
	/* Sorted, so that listings and -n are stable. */
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), domain_cmp);
	/* No room to spare: the snapshot is kept as it is. */
	if (s->n > 0) {
		struct domain *nv = realloc(s->v, s->n * sizeof(*nv));

		if (nv != NULL)
			s->v = nv;
	}
	if (map_reserve(&s->hosts, s->n) == -1)
		goto fail;
	for (size_t i = 0; i < s->n; i++)
		if (map_put(&s->hosts, s->v[i].host, &s->v[i]) == -1)
			goto fail;
	/* Metrics ids only for domains whose series are shown. */
	if (opts != NULL && (opts->ids == CONFIG_YES || (opts->ids ==
	    CONFIG_AUTO && s->n <= CONFIG_PER_DOMAIN_AUTO)))
		for (size_t i = 0; i < s->n; i++)
			if ((s->v[i].id = metrics_domain_id(s->v[i].name)) >
			    s->maxid)
				s->maxid = s->v[i].id;
	if (c->default_domain[0] != '\0') {
		char host[300];

		snprintf(host, sizeof(host), "mta-sts.%s", c->default_domain);
		if ((s->def = (struct domain *)store_find(s, host)) == NULL)
			log_warn("store: default_domain %s is not served",
			    c->default_domain);
	}
	*served = s->n;
	tls_certs_free(last_scan);
	last_scan = job.cs;
	return s;
fail:
	tls_certs_free(job.cs);
	store_free(s);
	return NULL;
}

/* see store.h */
void
store_ref(struct store *s)
{
	s->refs++;
}

/* see store.h */
void
store_set_reaper(void (*reap)(struct store *))
{
	reaper = reap;
}

/* see store.h */
void
store_unref(struct store *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	if (reaper != NULL)
		reaper(s);
	else
		store_free(s);
}

/* see store.h */
void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		free_domain(&s->v[i]);
	free(s->v);
	free(s->failed);
	map_free(&s->hosts);
	while (s->names != NULL) {
		struct names *b = s->names;

		s->names = b->next;
		free(b);
	}
	free(s);
}

/* see store.h */
const struct domain *
store_find(const struct store *s, const char *host)
{
	size_t len = strlen(host);

	if (len > 0 && host[len - 1] == '.')
		len--;
	return map_get(&s->hosts, host, len);
}

/* see store.h */
const struct domain *
store_default(const struct store *s)
{
	return s->def;
}

/* see store.h */
size_t
store_count(const struct store *s)
{
	return s->n;
}

/* see store.h */
const struct domain *
store_at(const struct store *s, size_t i)
{
	return &s->v[i];
}

/* see store.h */
uint32_t
store_max_id(const struct store *s)
{
	return s->maxid;
}

/* see store.h */
size_t
store_failed_count(const struct store *s)
{
	return s->nfailed;
}

/* see store.h */
const char *
store_failed_at(const struct store *s, size_t i)
{
	return s->failed[i];
}

/* see store.h */
void
store_log_expiry(const struct store *s, time_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct domain *d = &s->v[i];
		struct tls_cred *cv[2] = { d->ec, d->rsa };

		for (int j = 0; j < 2; j++) {
			time_t left;

			if (cv[j] == NULL)
				continue;
			left = tls_cred_not_after(cv[j]) - now;
			if (left < EXPIRY_WARN)
				log_warn("store: %s: %s certificate %s expires "
				    "in %lld days", d->host,
				    tls_cred_kind(cv[j]), tls_cred_path(cv[j]),
				    (long long)(left / 86400));
		}
	}
}
