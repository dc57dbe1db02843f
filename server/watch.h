/*
 * watch.h: policy_dir and cert_dir watched with inotify (watch_policies,
 * watch_certs), so that files synced by rsync, git or a Kubernetes
 * volume, and certificates renewed by an ACME client, are served
 * without a signal.  One inotify descriptor for the process, read by the
 * main thread's loop.
 *
 * A change makes a reload due once the directories have been quiet for
 * QUIET_MS (2 s; a burst such as a git checkout of 10,000 files gives
 * one or two reloads), and never later than BURST_MS (30 s) after the
 * first change of a burst that does not end.
 *
 * Policy files written in place (git, cp, an editor without a temporary
 * file) are tracked from their first write (IN_CREATE of a new regular
 * file, IN_MODIFY) to their close (IN_CLOSE_WRITE): until then a reload
 * does not read them (watch_writing()), and their domain keeps the
 * version it had.  A file changed without being opened (truncate(2))
 * is taken as it is WRITING_MS (60 s) after its last change.  Renames
 * (rsync, mta-stsctl, Kubernetes' ..data) are atomic already.
 *
 * Only names that can be policies count in policy_dir (DOMAIN.txt, not
 * hidden), and ..data, which a Kubernetes volume renames to switch to a
 * new version.  In cert_dir every name counts but hidden ones, ..data
 * again excepted.
 */
#ifndef WATCH_H
#define WATCH_H

struct config;
struct map;

/*
 * Opens the inotify descriptor if c watches anything, or closes it; adds
 * it to S's epoll set and watches policy_dir (cert_dir's watches are
 * added by watch_certs()).  Called at start and after each reload; a
 * watched directory that changed in c is watched anew, and a reload made
 * due so that cert_dir's watches follow.
 */
void	 watch_start(const struct config *c);
/*
 * Watches cert_dir (with watch_certs), the directories its certificates
 * live in (certdirs.h) and the directories below them.  Called before
 * each scan of cert_dir, so that what changes after is seen; from the
 * loader's thread too (inotify_add_watch() on an existing directory
 * only finds its watch).
 */
void	 watch_certs(const struct config *c);
/* The descriptor is readable: reads the events, makes a reload due. */
void	 watch_event(void);
/*
 * Each loop turn: when S.reload_due has passed, returns 1 (and logs what
 * changed) and clears it; also ends the tracking of files written too
 * long ago.  Returns 0 otherwise.
 */
int	 watch_due(void);
/* Milliseconds until watch_due() has something to do, or -1. */
long	 watch_timeout_ms(void);

/*
 * The policy files being written now ("example.com.txt" -> non-NULL),
 * a copy for a load; NULL when there are none or memory ran out.
 * watch_writing_free() frees it.
 */
struct map *watch_writing(void);
void	 watch_writing_free(struct map *m);
void	 watch_stop(void);

#endif /* WATCH_H */
