/*
 * file.h: reading small files that may be hostile, and writing files
 * atomically.
 */
#ifndef FILE_H
#define FILE_H

#include <sys/stat.h>

#include <stddef.h>

/*
 * Reads the regular file at path (relative to directory fd dirfd, or
 * AT_FDCWD) into a new NUL-terminated buffer, reading at most max + 1
 * bytes so that a huge file costs nothing.  Never blocks on a FIFO.
 * Flags: FILE_NOFOLLOW refuses a symlink; FILE_HEAD makes a larger file
 * no error: its first max + 1 bytes are read, so *len > max tells.
 * Returns 0 and sets *buf (caller frees) and *len; or -1 with errno set
 * (EFBIG when the file is larger than max, EINVAL when it is not a
 * regular file).
 */
#define FILE_NOFOLLOW	0x1
#define FILE_HEAD	0x2

int	file_read(int dirfd, const char *path, size_t max, int flags,
	    char **buf, size_t *len);
/* The same, and the file's status in *st (when it returns 0). */
int	file_read_stat(int dirfd, const char *path, size_t max, int flags,
	    char **buf, size_t *len, struct stat *st);
/*
 * The same into buf, of size bytes (max is size - 2), NUL-terminated:
 * reading thousands of files then makes no allocation.  The caller
 * clears what was read when it was secret.
 */
int	file_read_into(int dirfd, const char *path, char *buf, size_t size,
	    int flags, size_t *len, struct stat *st);

/*
 * Writing: data goes to a temporary file in the same directory
 * (".NAME.PID-TID.tmp"), is synced, then renamed over name, and the
 * directory synced: a crash leaves the old file or the new one, never
 * half of either.  Two threads or processes may write the same name at
 * once.  Flags:
 *   FILE_NOREPLACE   an existing name is not replaced: EEXIST;
 *   FILE_KEEP_MODE   a replaced file's owner, group and mode are kept
 *                    (a policy stays readable by the server);
 *   FILE_DIR_OWNER   the new file gets the directory's owner and group
 *                    (a store written by root stays the daemon's);
 *   FILE_UNDO_UNSYNCED  a rename the directory's fsync() cannot make
 *                    durable is undone and fails (without it the new
 *                    file stands: it is whole, only its durability is
 *                    in doubt).
 * The new file's mode is mode otherwise.
 */
#define FILE_NOREPLACE		0x10
#define FILE_KEEP_MODE		0x20
#define FILE_DIR_OWNER		0x40
#define FILE_UNDO_UNSYNCED	0x80

/*
 * The first half: writes and syncs the temporary file, whose name goes
 * to tmp (tmpsz bytes: FILE_TEMP_MAX after name's length).  Returns 0,
 * or -1 with errno set and nothing left behind.
 */
#define FILE_TEMP_MAX	48
int	file_write_temp(int dirfd, const char *name, const void *data,
	    size_t len, unsigned mode, int flags, char *tmp, size_t tmpsz);
/*
 * The second half: renames tmp to name (with FILE_NOREPLACE, never over
 * one) and syncs the directory.  On failure tmp is removed and -1
 * returned with errno set (EEXIST: name was there).
 */
int	file_commit(int dirfd, const char *tmp, const char *name, int flags);
/* Both halves. */
int	file_write_atomic(int dirfd, const char *name, const void *data,
	    size_t len, unsigned mode, int flags);

#endif /* FILE_H */
