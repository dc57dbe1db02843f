/*
 * loader.h: reloads built beside the event loops.
 *
 * A reload reads the configuration, cert_dir and policy_dir into a new
 * snapshot on a thread of its own, at the lowest priority (nice 19: the
 * event loops take the CPU first), while every loop keeps serving the
 * current snapshot; the main loop learns that the snapshot is ready
 * through an eventfd (loader_fd()) and publishes it (a pointer swap under
 * W.lock).  The same thread frees the snapshots no one holds any more
 * (it is store.h's reaper) and gives the memory back: freeing 100,000
 * domains takes longer than a request may wait.
 *
 * One reload at a time: the main thread asks for the next once this one
 * is done.
 */
#ifndef LOADER_H
#define LOADER_H

#include <stddef.h>

#include "lib/config.h"

struct map;
struct store;

/* What a reload gives back to the main thread. */
struct loader_result {
	int		 config_ok;	/* cfg holds the new configuration */
	struct config	 cfg;
	char		 err[512];	/* why the configuration was refused */
	struct store	*snap;		/* the new snapshot; NULL: failed */
	size_t		 served, failed;
	long		 ms;		/* how long it took */
	int		 threads;	/* the CPUs it was read on */
};

/* Starts the thread.  Returns 0, or -1 after logging why. */
int	loader_start(void);
/* The eventfd to watch for reading: a reload is done. */
int	loader_fd(void);
/* Is a reload in progress? */
int	loader_busy(void);

/*
 * Starts a reload from config_path.  running is the configuration in
 * force (read while the new one does not load; the caller keeps it
 * unchanged until loader_done()); old is the snapshot served (a
 * reference, taken over); writing the policy files still being written
 * (watch_writing(), taken over; may be NULL).  Returns 0, or -1 when one
 * is in progress.
 */
int	loader_reload(const char *config_path, const struct config *running,
	    struct store *old, struct map *writing);
/*
 * After loader_fd() was readable: moves the result into *r and returns
 * 1, or returns 0 when none is ready.
 */
int	loader_done(struct loader_result *r);
/* Waits for a reload in progress, frees what is left, ends the thread. */
void	loader_stop(void);

#endif /* LOADER_H */
