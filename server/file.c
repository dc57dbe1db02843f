/*
 * file.c: reading small files that may be hostile.  See file.h.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "file.h"

/* see file.h */
int
file_read(int dirfd, const char *path, size_t max, int flags, char **buf,
    size_t *len)
{
	struct stat st;

	return file_read_stat(dirfd, path, max, flags, buf, len, &st);
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
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY |
	    ((flags & FILE_NOFOLLOW) ? O_NOFOLLOW : 0));
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max && !(flags & FILE_HEAD)) {
		errno = EFBIG;
		goto fail;
	}
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
