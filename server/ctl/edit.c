/*
 * edit.c: changes to a policy source.  See edit.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/edit.h"

/* A growing output buffer. */
struct out {
	char	*v;
	size_t	 n, cap;
	int	 oom;
};

static void
put(struct out *o, const char *s, size_t len)
{
	char	*nv;

	if (o->oom)
		return;
	if (o->n + len + 1 > o->cap) {
		size_t cap = (o->n + len + 1) * 2;

		if ((nv = realloc(o->v, cap)) == NULL) {
			o->oom = 1;
			return;
		}
		o->v = nv;
		o->cap = cap;
	}
	memcpy(o->v + o->n, s, len);
	o->n += len;
	o->v[o->n] = '\0';
}

static char *
finish(struct out *o)
{
	if (o->oom) {
		free(o->v);
		return NULL;
	}
	if (o->v == NULL)
		put(o, "", 0);
	return o->v;
}

/* Does the line (without terminator) hold the field key? */
static int
is_field(const char *line, size_t len, const char *key)
{
	size_t kl = strlen(key);

	return len > kl && memcmp(line, key, kl) == 0 && line[kl] == ':';
}

/* The line terminator the source uses: CRLF if its first line has it. */
static const char *
eol_of(const char *src, size_t len)
{
	const char *nl = memchr(src, '\n', len);

	return nl != NULL && nl > src && nl[-1] == '\r' ? "\r\n" : "\n";
}

/*
 * Copies src, passing each line whose field is key to fn (the line
 * without its terminator, and the terminator to use), which writes its
 * replacement (or nothing).  Returns how many lines matched.
 */
static size_t
each_line(struct out *o, const char *src, size_t len, const char *key,
    void (*fn)(struct out *, const char *, size_t, const char *, void *),
    void *arg)
{
	const char	*eol = eol_of(src, len);
	size_t		 start = 0, end, next, n = 0;

	while (start < len) {
		const char *nl = memchr(src + start, '\n', len - start);

		next = nl ? (size_t)(nl - src) + 1 : len;
		end = nl ? (size_t)(nl - src) : len;
		if (end > start && src[end - 1] == '\r')
			end--;
		if (is_field(src + start, end - start, key)) {
			fn(o, src + start, end - start, eol, arg);
			n++;
		} else {
			put(o, src + start, next - start);
			if (nl == NULL)
				put(o, eol, strlen(eol));
		}
		start = next;
	}
	return n;
}

static void
put_value(struct out *o, const char *line, size_t len, const char *eol,
    void *arg)
{
	(void)line;
	(void)len;
	put(o, arg, strlen(arg));
	put(o, eol, strlen(eol));
}

/* see edit.h */
char *
edit_mode(const char *src, size_t len, enum policy_mode mode)
{
	struct out	 o;
	char		 line[32];

	memset(&o, 0, sizeof(o));
	snprintf(line, sizeof(line), "mode: %s", policy_mode_name(mode));
	each_line(&o, src, len, "mode", put_value, line);
	return finish(&o);
}

/* see edit.h */
char *
edit_max_age(const char *src, size_t len, unsigned long max_age)
{
	struct out	 o;
	char		 line[32];

	memset(&o, 0, sizeof(o));
	snprintf(line, sizeof(line), "max_age: %lu", max_age);
	each_line(&o, src, len, "max_age", put_value, line);
	return finish(&o);
}

struct mxlist {
	char *const	*mx;
	size_t		 n;
	int		 done;
};

static void
put_mx(struct out *o, const char *line, size_t len, const char *eol,
    void *arg)
{
	struct mxlist *l = arg;

	(void)line;
	(void)len;
	if (l->done)
		return;
	for (size_t i = 0; i < l->n; i++) {
		put(o, "mx: ", 4);
		put(o, l->mx[i], strlen(l->mx[i]));
		put(o, eol, strlen(eol));
	}
	l->done = 1;
}

/* The mode line kept, the new mx lines after it (a source without mx). */
static void
put_mode_then_mx(struct out *o, const char *line, size_t len, const char *eol,
    void *arg)
{
	put(o, line, len);
	put(o, eol, strlen(eol));
	put_mx(o, line, len, eol, arg);
}

/* see edit.h */
char *
edit_mx(const char *src, size_t len, char *const *mx, size_t n)
{
	struct out	 o;
	struct mxlist	 l = { mx, n, 0 };

	memset(&o, 0, sizeof(o));
	if (each_line(&o, src, len, "mx", put_mx, &l) == 0) {
		free(o.v);
		memset(&o, 0, sizeof(o));
		each_line(&o, src, len, "mode", put_mode_then_mx, &l);
	}
	return finish(&o);
}
