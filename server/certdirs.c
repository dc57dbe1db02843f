/*
 * certdirs.c: where the certificates of cert_dir may live.  See
 * certdirs.h.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certdirs.h"

#define DEPTH_MAX	8	/* as the scan: directory levels */

/* The directories given so far. */
struct roots {
	char	*v[64];
	size_t	 n;
	void	(*fn)(void *, const char *);
	void	*arg;
};

/* Is dir one of the roots, or below one? */
static int
covered(const struct roots *r, const char *dir)
{
	for (size_t i = 0; i < r->n; i++) {
		size_t l = strlen(r->v[i]);

		if (strncmp(dir, r->v[i], l) == 0 && (dir[l] == '\0' ||
		    dir[l] == '/' || (l == 1 && r->v[i][0] == '/')))
			return 1;
	}
	return 0;
}

/* Gives dir (resolved), unless it is covered already. */
static void
give(struct roots *r, const char *dir)
{
	char *p;

	if (covered(r, dir) || r->n == sizeof(r->v) / sizeof(r->v[0]) ||
	    (p = strdup(dir)) == NULL)
		return;
	r->v[r->n++] = p;
	r->fn(r->arg, p);
}

/*
 * The targets of the links below dir: their directories.  Regular files
 * need no lstat (cert_dir may hold 200,000 of them): d_type says.
 */
static void
links(struct roots *r, const char *dir, int depth)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		 sub[PATH_MAX], *real, *slash;

	if (depth > DEPTH_MAX || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || de->d_type == DT_REG ||
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir,
		    de->d_name) >= sizeof(sub) || lstat(sub, &st) == -1)
			continue;
		if (S_ISDIR(st.st_mode))
			links(r, sub, depth + 1);
		else if (S_ISLNK(st.st_mode) &&
		    (real = realpath(sub, NULL)) != NULL) {
			if ((slash = strrchr(real, '/')) != NULL && slash != real)
				*slash = '\0';
			give(r, real);
			free(real);
		}
	}
	closedir(d);
}

/* see certdirs.h */
int
certdirs_each(const char *cert_dir, void (*fn)(void *, const char *),
    void *arg)
{
	struct roots	 r;
	struct stat	 st;
	char		*top, archive[PATH_MAX], *slash;

	memset(&r, 0, sizeof(r));
	r.fn = fn;
	r.arg = arg;
	if ((top = realpath(cert_dir, NULL)) == NULL)
		return -1;
	give(&r, top);
	/* certbot: live/NAME/cert.pem -> ../../archive/NAME/cert1.pem */
	if ((slash = strrchr(top, '/')) != NULL &&
	    strcmp(slash + 1, "live") == 0 &&
	    (size_t)snprintf(archive, sizeof(archive), "%.*s/archive",
	    (int)(slash - top), top) < sizeof(archive) &&
	    stat(archive, &st) == 0 && S_ISDIR(st.st_mode))
		give(&r, archive);
	links(&r, top, 0);
	free(top);
	for (size_t i = 0; i < r.n; i++)
		free(r.v[i]);
	return 0;
}
