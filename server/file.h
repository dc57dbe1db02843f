/*
 * file.h: reading small files that may be hostile.
 */
#ifndef FILE_H
#define FILE_H

#include <stddef.h>

/*
 * Reads the regular file at path (relative to directory fd dirfd, or
 * AT_FDCWD) into a new NUL-terminated buffer, reading at most max + 1
 * bytes so that a huge file costs nothing.  Never blocks on a FIFO and
 * never follows a symlink when nofollow is set.  Returns 0 and sets
 * *buf (caller frees) and *len; or -1 with errno set (EFBIG when the
 * file is larger than max, EINVAL when it is not a regular file).
 */
int	file_read(int dirfd, const char *path, size_t max, int nofollow,
	    char **buf, size_t *len);

#endif /* FILE_H */
