/*
 * watch.c: policy_dir and cert_dir watched with inotify, so that changed
 * files are served without a signal.  See watch.h.
 */
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certdirs.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/map.h"
#include "loop.h"
#include "watch.h"

#define QUIET_MS	2000	/* after the last change */
#define BURST_MS	30000	/* after the first change, at most */
#define WRITING_MS	60000	/* a write never closed counts after it */
#define DEPTH_MAX	8	/* directory levels below a watched one */

/* IN_MASK_ADD: a directory watched both ways keeps both masks. */
#define POLICY_MASK	(IN_MASK_ADD | IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | \
			 IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ATTRIB | \
			 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define CERTS_MASK	(IN_MASK_ADD | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | \
			 IN_CREATE | IN_DELETE | IN_ATTRIB | IN_DELETE_SELF | \
			 IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)

/* A policy file being written: its last change. */
struct writing {
	int64_t	 ms;
	char	 name[];
};

static struct {
	atomic_int	 fd;		/* inotify, or -1 */
	int		 policy_wd;	/* policy_dir's watch, or -1 */
	int		 ids_wd;	/* policy_dir/.ids's, or -1 */
	int		 policies, certs;	/* what is watched */
	int		 shared;	/* policy_dir is in cert_dir's tree */
	char		*policy_dir, *cert_dir;	/* as watched */
	int		 changed;	/* WHAT_* since the last reload */
	struct map	 writing;	/* name -> struct writing */
	int64_t		 writing_next;	/* the first to end, or 0 */
} X = { .fd = -1, .policy_wd = -1, .ids_wd = -1 };

#define IDS_MASK	(IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_ONLYDIR | \
			 IN_DONT_FOLLOW)

/*
 * mta-stsctl's id records (policy_dir/.ids/DOMAIN.id): a new one makes a
 * reload too, so that what is served shows the id issued for it (the
 * metrics, the drift warning).
 */
static void
watch_ids(void)
{
	char path[PATH_MAX];

	if (X.fd == -1 || X.ids_wd != -1 || (size_t)snprintf(path,
	    sizeof(path), "%s/.ids", X.policy_dir) >= sizeof(path))
		return;
	X.ids_wd = inotify_add_watch(X.fd, path, IDS_MASK);
}

#define WHAT_POLICIES	1
#define WHAT_CERTS	2

/* A change: a reload QUIET_MS from now, BURST_MS after the first. */
static void
due(int what)
{
	if (S.reload_due == 0)
		S.reload_first = S.ms;
	S.reload_due = S.ms + QUIET_MS;
	if (S.reload_due > S.reload_first + BURST_MS)
		S.reload_due = S.reload_first + BURST_MS;
	X.changed |= what;
}

/* Forgets a file being written; returns whether it was tracked. */
static int
writing_end(const char *name)
{
	struct writing *w = map_del(&X.writing, name, strlen(name));

	free(w);
	return w != NULL;
}

static void
writing_clear(void)
{
	for (size_t i = 0; i < X.writing.cap; i++)
		free(X.writing.slots[i].value);
	map_free(&X.writing);
	X.writing_next = 0;
}

/* A policy file is being written: its last change is now. */
static void
writing_begin(const char *name)
{
	struct writing *w = map_get(&X.writing, name, strlen(name));

	if (w == NULL) {
		if ((w = malloc(sizeof(*w) + strlen(name) + 1)) == NULL)
			return;
		strcpy(w->name, name);
		if (map_put(&X.writing, w->name, w) == -1) {
			free(w);
			return;
		}
		log_debug("watch: %s/%s: being written", X.policy_dir, name);
	}
	w->ms = S.ms;
	if (X.writing_next == 0)
		X.writing_next = S.ms + WRITING_MS;
}

/* Files written WRITING_MS ago and never closed count as they are. */
static void
writing_expire(void)
{
	struct writing	*w;
	int64_t		 next = 0;
	size_t		 i;

	if (X.writing_next == 0 || S.ms < X.writing_next)
		return;
	for (i = 0; i < X.writing.cap; ) {
		w = X.writing.slots[i].value;
		if (X.writing.slots[i].key == NULL) {
			i++;
			continue;
		}
		if (S.ms - w->ms >= WRITING_MS) {
			log_warn("watch: %s/%s: changed %d s ago and never "
			    "closed by its writer: taken as it is",
			    X.policy_dir, w->name, WRITING_MS / 1000);
			/* Slots move back into the hole: look at i again. */
			writing_end(w->name);
			due(WHAT_POLICIES);
			continue;
		}
		if (next == 0 || w->ms + WRITING_MS < next)
			next = w->ms + WRITING_MS;
		i++;
	}
	X.writing_next = next;
}

/* Adds watches on dir and the directories below it (not links). */
static void
watch_tree(int fd, const char *dir, int depth, int *warned)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 sub[PATH_MAX];

	if (inotify_add_watch(fd, dir, CERTS_MASK) == -1) {
		if (!*warned)
			log_warn("watch: %s: %s%s", dir, strerror(errno),
			    errno == ENOSPC ? " (raise "
			    "fs.inotify.max_user_watches)" : "");
		*warned = 1;
		return;
	}
	if (depth >= DEPTH_MAX || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		/* Files need nothing: no lstat for each of 200,000. */
		if (de->d_name[0] == '.' || de->d_type == DT_REG ||
		    de->d_type == DT_LNK ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
		    de->d_name) >= sizeof(sub))
			continue;
		if (de->d_type == DT_DIR || (lstat(sub, &st) == 0 &&
		    S_ISDIR(st.st_mode)))
			watch_tree(fd, sub, depth + 1, warned);
	}
	closedir(d);
}

struct tree_arg {
	int	 fd;
	int	 warned;
};

static void
watch_root(void *arg, const char *dir)
{
	struct tree_arg *a = arg;

	watch_tree(a->fd, dir, 0, &a->warned);
}

/* see watch.h */
void
watch_certs(const struct config *c)
{
	struct tree_arg	 a;

	a.fd = atomic_load(&X.fd);
	a.warned = 0;
	if (a.fd == -1 || !c->watch_certs)
		return;
	if (certdirs_each(c->cert_dir, watch_root, &a) == -1)
		log_warn("watch: %s: %s", c->cert_dir, strerror(errno));
}

/* Is dir (resolved) cert_dir or below it? */
static int
inside(const char *dir, const char *top)
{
	char	*a = realpath(dir, NULL), *b = realpath(top, NULL);
	size_t	 l = b != NULL ? strlen(b) : 0;
	int	 r;

	r = a != NULL && b != NULL && strncmp(a, b, l) == 0 &&
	    (a[l] == '\0' || a[l] == '/');
	free(a);
	free(b);
	return r;
}

/* Does the watch of c differ from what is watched? */
static int
differs(const struct config *c)
{
	return X.policies != c->watch_policies || X.certs != c->watch_certs ||
	    X.policy_dir == NULL || strcmp(X.policy_dir, c->policy_dir) != 0 ||
	    strcmp(X.cert_dir, c->cert_dir) != 0;
}

/* see watch.h */
void
watch_start(const struct config *c)
{
	struct epoll_event	 ev;
	int			 fd;

	if (X.fd != -1 && !differs(c)) {
		/* policy_dir gone and back (moved, or made anew). */
		if (X.policies && X.policy_wd == -1 &&
		    (X.policy_wd = inotify_add_watch(X.fd, c->policy_dir,
		    POLICY_MASK)) == -1)
			log_warn("watch: %s: %s", c->policy_dir,
			    strerror(errno));
		if (X.policies)
			watch_ids();
		return;
	}
	if (X.fd != -1) {
		close(X.fd);
		X.fd = -1;
		writing_clear();
	}
	free(X.policy_dir);
	free(X.cert_dir);
	X.policy_dir = strdup(c->policy_dir);
	X.cert_dir = strdup(c->cert_dir);
	X.policies = c->watch_policies;
	X.certs = c->watch_certs;
	X.policy_wd = X.ids_wd = -1;
	X.shared = inside(c->policy_dir, c->cert_dir);
	if ((!c->watch_policies && !c->watch_certs) || X.policy_dir == NULL ||
	    X.cert_dir == NULL)
		return;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("watch: inotify: %s", strerror(errno));
		return;
	}
	S.ev_watch.kind = EV_WATCH;
	ev.events = EPOLLIN;
	ev.data.ptr = &S.ev_watch;
	if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		log_warn("watch: epoll: %s", strerror(errno));
		close(fd);
		return;
	}
	atomic_store(&X.fd, fd);
	if (c->watch_policies && (X.policy_wd = inotify_add_watch(fd,
	    c->policy_dir, POLICY_MASK)) == -1)
		log_warn("watch: %s: %s", c->policy_dir, strerror(errno));
	if (c->watch_policies)
		watch_ids();
	watch_certs(c);
}

/* Does name end in ".txt", as a policy's? */
static int
txt_name(const char *name)
{
	size_t l = strlen(name);

	return l > 4 && strcmp(name + l - 4, ".txt") == 0;
}

/* An event in policy_dir. */
static void
policy_event(const struct inotify_event *e)
{
	struct stat	 st;
	char		 path[PATH_MAX];

	if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
		/* The directory itself: watched again after the reload. */
		if (e->mask & IN_IGNORED)
			X.policy_wd = -1;
		due(WHAT_POLICIES);
		return;
	}
	if (e->len == 0)
		return;
	if (strcmp(e->name, "..data") == 0) {
		due(WHAT_POLICIES);
		return;
	}
	if (strcmp(e->name, ".ids") == 0 && (e->mask & IN_ISDIR)) {
		/* Made by mta-stsctl's first record, written at once. */
		watch_ids();
		due(WHAT_POLICIES);
		return;
	}
	if (e->name[0] == '.' || !txt_name(e->name))
		return;
	if (e->mask & IN_MODIFY)
		writing_begin(e->name);
	else if ((e->mask & IN_CREATE) && !(e->mask & IN_ISDIR)) {
		/*
		 * A new regular file with one link was made by open(2):
		 * written next (a link or a hard link is whole already).
		 */
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
		    X.policy_dir, e->name) < sizeof(path) &&
		    lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_nlink == 1)
			writing_begin(e->name);
	} else if (e->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) {
		if (writing_end(e->name))
			log_debug("watch: %s/%s: %s", X.policy_dir, e->name,
			    e->mask & IN_CLOSE_WRITE ? "written" : "gone");
	}
	due(WHAT_POLICIES);
}

/* see watch.h */
void
watch_event(void)
{
	char				 buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*e;
	ssize_t				 n;
	int				 fd = atomic_load(&X.fd);

	/* Nothing watched (reload_begin calls this all the same). */
	if (fd == -1)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(void *)p;
			if (e->mask & IN_Q_OVERFLOW) {
				/*
				 * Events were lost: which files are being
				 * written is not known; the quiet period
				 * lets writers end before the reload.
				 */
				log_warn("watch: too many changes at once: "
				    "events lost");
				due(WHAT_POLICIES | WHAT_CERTS);
			} else if (X.policies && e->wd == X.ids_wd) {
				if (e->mask & IN_IGNORED)
					X.ids_wd = -1;
				else if (e->len > 0 && e->name[0] != '.')
					due(WHAT_POLICIES);
			} else if (X.policies && e->wd == X.policy_wd) {
				policy_event(e);
				/* policy_dir is below cert_dir: both. */
				if (X.certs && X.shared && e->len > 0 &&
				    e->name[0] != '.' && !txt_name(e->name))
					due(WHAT_CERTS);
			} else if (X.certs && (e->len == 0 ||
			    e->name[0] != '.' ||
			    strcmp(e->name, "..data") == 0))
				due(WHAT_CERTS);
		}
	}
}

/* see watch.h */
int
watch_due(void)
{
	writing_expire();
	if (S.reload_due == 0 || S.ms < S.reload_due)
		return 0;
	S.reload_due = 0;
	if ((X.changed & WHAT_POLICIES) && (X.changed & WHAT_CERTS))
		log_info("watch: %s and %s changed: reloading", X.policy_dir,
		    X.cert_dir);
	else
		log_info("watch: %s changed: reloading", X.changed &
		    WHAT_POLICIES ? X.policy_dir : X.cert_dir);
	X.changed = 0;
	return 1;
}

/* see watch.h */
long
watch_timeout_ms(void)
{
	int64_t next = S.reload_due;

	if (X.writing_next != 0 && (next == 0 || X.writing_next < next))
		next = X.writing_next;
	if (next == 0)
		return -1;
	return next > S.ms ? (long)(next - S.ms) : 0;
}

/* see watch.h */
struct map *
watch_writing(void)
{
	struct map	*m;
	char		*k;

	if (X.writing.n == 0 || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	for (size_t i = 0; i < X.writing.cap; i++) {
		if (X.writing.slots[i].key == NULL)
			continue;
		if ((k = strdup(X.writing.slots[i].key)) == NULL ||
		    map_put(m, k, k) == -1) {
			free(k);
			watch_writing_free(m);
			return NULL;
		}
	}
	return m;
}

/* see watch.h */
void
watch_writing_free(struct map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free((char *)(uintptr_t)m->slots[i].key);
	map_free(m);
	free(m);
}

/* see watch.h */
void
watch_stop(void)
{
	if (X.fd != -1)
		close(X.fd);
	X.fd = -1;
	writing_clear();
	free(X.policy_dir);
	free(X.cert_dir);
	X.policy_dir = X.cert_dir = NULL;
}
