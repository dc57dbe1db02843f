/*
 * file.h: reading small files that may be hostile.
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

#endif /* FILE_H */
