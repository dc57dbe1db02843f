/*
 * map.c: a string-keyed hash table.  See map.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/ascii.h"
#include "lib/map.h"

/* FNV-1a over the lower-cased bytes. */
static uint64_t
hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)ascii_lower(s[i]);
		h *= 0x100000001b3ULL;
	}
	return h;
}

static int
same(const char *key, const char *s, size_t len)
{
	return strncasecmp(key, s, len) == 0 && key[len] == '\0';
}

static struct map_slot *
find(const struct map *m, const char *s, size_t len)
{
	size_t i = (size_t)hash(s, len) & (m->cap - 1);

	while (m->slots[i].key != NULL && !same(m->slots[i].key, s, len))
		i = (i + 1) & (m->cap - 1);
	return &m->slots[i];
}

static int
grow(struct map *m)
{
	struct map	 old = *m;
	size_t		 cap = m->cap ? m->cap * 2 : 16;

	if ((m->slots = calloc(cap, sizeof(*m->slots))) == NULL) {
		m->slots = old.slots;
		return -1;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key != NULL)
			*find(m, old.slots[i].key, strlen(old.slots[i].key)) =
			    old.slots[i];
	free(old.slots);
	return 0;
}

/* see map.h */
int
map_put(struct map *m, const char *key, void *value)
{
	struct map_slot	*sl;

	/* Keep the load under 1/2 so that probes stay short. */
	if ((m->n + 1) * 2 > m->cap && grow(m) == -1)
		return -1;
	sl = find(m, key, strlen(key));
	if (sl->key == NULL)
		m->n++;
	sl->key = key;
	sl->value = value;
	return 0;
}

/* see map.h */
void *
map_get(const struct map *m, const char *key, size_t len)
{
	if (m->cap == 0)
		return NULL;
	return find(m, key, len)->value;
}

/* see map.h */
void
map_free(struct map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
