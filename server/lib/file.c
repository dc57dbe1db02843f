/*
 * file.c: reading small files that may be hostile, writing atomically.
 * See file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/file.h"

/* see file.h */
int
file_read(int dirfd, const char *path, size_t max, int flags, char **buf,
    size_t *len)
{
	struct stat st;

	return file_read_stat(dirfd, path, max, flags, buf, len, &st);
}

/*
 * Opens the regular file at path, no larger than max unless FILE_HEAD:
 * its descriptor, with its status in *st, or -1 with errno set.
 */
static int
open_regular(int dirfd, const char *path, size_t max, int flags,
    struct stat *st)
{
	int fd, saved;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
	    ((flags & FILE_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1)
		goto fail;
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((size_t)st->st_size > max && !(flags & FILE_HEAD)) {
		errno = EFBIG;
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* see file.h */
int
file_read_into(int dirfd, const char *path, char *buf, size_t size,
    int flags, size_t *len, struct stat *st)
{
	size_t	 n = 0, max = size - 2, want;
	ssize_t	 r;
	int	 fd, saved;

	*len = 0;
	if ((fd = open_regular(dirfd, path, max, flags, st)) == -1)
		return -1;
	/* As file_read_stat(): a short read is the end of the file. */
	while (n < size - 1) {
		want = size - 1 - n;
		if ((r = read(fd, buf + n, want)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		n += (size_t)r;
		if (r == 0 || (size_t)r < want)
			break;
	}
	close(fd);
	if (n > max && !(flags & FILE_HEAD)) {
		errno = EFBIG;
		return -1;
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* see file.h */
int
file_read_stat(int dirfd, const char *path, size_t max, int flags,
    char **buf, size_t *len, struct stat *stp)
{
	struct stat	 st;
	char		*b = NULL;
	size_t		 n = 0, cap, want;
	ssize_t		 r;
	int		 fd, saved;

	*buf = NULL;
	*len = 0;
	if ((fd = open_regular(dirfd, path, max, flags, &st)) == -1)
		return -1;
	/*
	 * A buffer of the file's size, not of max: 20,000 files of 1 MB
	 * each would be as many mmap() and munmap() calls.  The size may
	 * change while we read: the buffer grows, up to max + 1 bytes.
	 */
	cap = (size_t)st.st_size < max ? (size_t)st.st_size + 2 : max + 2;
	if ((b = malloc(cap)) == NULL)
		goto fail;
	while (n <= max) {
		if (n + 1 >= cap) {
			size_t nc = cap > (max + 2) / 2 ? max + 2 : cap * 2;
			char *nb = realloc(b, nc);

			if (nb == NULL)
				goto fail;
			b = nb;
			cap = nc;
		}
		want = cap - 1 - n;
		r = read(fd, b + n, want);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		/*
		 * A regular file reads short only at its end: no read() to
		 * hear 0.  One that grows after is another file to the next
		 * scan (its size and times differ).
		 */
		if ((size_t)r < want)
			break;
	}
	if (n > max && !(flags & FILE_HEAD)) {
		errno = EFBIG;
		goto fail;
	}
	b[n] = '\0';
	close(fd);
	*stp = st;
	*buf = b;
	*len = n;
	return 0;
fail:
	saved = errno;
	free(b);
	close(fd);
	errno = saved;
	return -1;
}

/* see file.h */
int
file_write_temp(int dirfd, const char *name, const void *data, size_t len,
    unsigned mode, int flags, char *tmp, size_t tmpsz)
{
	const char	*p = data;
	struct stat	 st;
	ssize_t		 n;
	int		 fd, saved;

	if ((size_t)snprintf(tmp, tmpsz, ".%s.%ld-%ld.tmp", name,
	    (long)getpid(), (long)gettid()) >= tmpsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, (mode_t)mode);
	if (fd == -1)
		return -1;
	if ((flags & FILE_KEEP_MODE) &&
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (fchown(fd, st.st_uid, st.st_gid) == -1 ||
	    fchmod(fd, st.st_mode & 07777) == -1))
		goto fail;
	if ((flags & FILE_DIR_OWNER) && (fstat(dirfd, &st) == -1 ||
	    (geteuid() != st.st_uid && fchown(fd, st.st_uid, st.st_gid) ==
	    -1)))
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(dirfd, tmp, 0);
	errno = saved;
	return -1;
}

/* see file.h */
int
file_commit(int dirfd, const char *tmp, const char *name, int flags)
{
	int	 rc, saved;

	rc = (flags & FILE_NOREPLACE) ? renameat2(dirfd, tmp, dirfd, name,
	    RENAME_NOREPLACE) : renameat(dirfd, tmp, dirfd, name);
	if (rc == -1) {
		saved = errno;
		unlinkat(dirfd, tmp, 0);
		errno = saved;
		return -1;
	}
	if (fsync(dirfd) == -1 && (flags & FILE_UNDO_UNSYNCED)) {
		saved = errno;
		unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* see file.h */
int
file_write_atomic(int dirfd, const char *name, const void *data, size_t len,
    unsigned mode, int flags)
{
	char	 tmp[300];

	if (file_write_temp(dirfd, name, data, len, mode, flags, tmp,
	    sizeof(tmp)) == -1)
		return -1;
	return file_commit(dirfd, tmp, name, flags);
}
