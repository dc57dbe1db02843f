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

/*
 * see map.h: the slots after the removed one move back into the hole
 * while it lies on their probe path (linear probing keeps no tombstones).
 */
void *
map_del(struct map *m, const char *key, size_t len)
{
	struct map_slot	*sl;
	size_t		 i, j, k, mask = m->cap - 1;
	void		*v;

	if (m->cap == 0 || (sl = find(m, key, len))->key == NULL)
		return NULL;
	v = sl->value;
	i = j = (size_t)(sl - m->slots);
	for (;;) {
		m->slots[i].key = NULL;
		m->slots[i].value = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (m->slots[j].key == NULL) {
				m->n--;
				return v;
			}
			k = (size_t)hash(m->slots[j].key,
			    strlen(m->slots[j].key)) & mask;
			/* Stays where it is when its home is in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}

/* see map.h */
void
map_free(struct map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
