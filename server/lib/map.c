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
static uint32_t
hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)ascii_lower(s[i]);
		h *= 0x100000001b3ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int
same(const char *key, const char *s, size_t len)
{
	return strncasecmp(key, s, len) == 0 && key[len] == '\0';
}

/* The slot of s (hash h), or the empty one where it would go. */
static size_t
find(const struct map *m, const char *s, size_t len, uint32_t h)
{
	size_t i = h & (m->cap - 1);

	while (m->slots[i].key != NULL && (m->hashes[i] != h ||
	    !same(m->slots[i].key, s, len)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

/* Moves every key into cap slots (a power of two). */
static int
resize(struct map *m, size_t cap)
{
	struct map	 old = *m;
	size_t		 j;

	if ((m->slots = calloc(cap, sizeof(*m->slots))) == NULL ||
	    (m->hashes = malloc(cap * sizeof(*m->hashes))) == NULL) {
		free(m->slots);
		m->slots = old.slots;
		m->hashes = old.hashes;
		return -1;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.slots[i].key == NULL)
			continue;
		/* Keys differ: the first empty slot on the path is theirs. */
		for (j = old.hashes[i] & (cap - 1); m->slots[j].key != NULL;
		    j = (j + 1) & (cap - 1))
			;
		m->slots[j] = old.slots[i];
		m->hashes[j] = old.hashes[i];
	}
	free(old.slots);
	free(old.hashes);
	return 0;
}

/* see map.h */
int
map_reserve(struct map *m, size_t n)
{
	size_t cap = m->cap ? m->cap : 16;

	/* Keep the load under 1/2 so that probes stay short. */
	while (n * 2 > cap)
		cap *= 2;
	return cap == m->cap ? 0 : resize(m, cap);
}

/* see map.h */
int
map_put(struct map *m, const char *key, void *value)
{
	size_t		 len = strlen(key), i;
	uint32_t	 h = hash(key, len);

	if ((m->n + 1) * 2 > m->cap && map_reserve(m, m->n + 1) == -1)
		return -1;
	i = find(m, key, len, h);
	if (m->slots[i].key == NULL)
		m->n++;
	m->slots[i].key = key;
	m->slots[i].value = value;
	m->hashes[i] = h;
	return 0;
}

/* see map.h */
void *
map_get(const struct map *m, const char *key, size_t len)
{
	if (m->cap == 0)
		return NULL;
	return m->slots[find(m, key, len, hash(key, len))].value;
}

/*
 * see map.h: the slots after the removed one move back into the hole
 * while it lies on their probe path (linear probing keeps no tombstones).
 */
void *
map_del(struct map *m, const char *key, size_t len)
{
	size_t		 i, j, k, mask = m->cap - 1;
	void		*v;

	if (m->cap == 0)
		return NULL;
	i = find(m, key, len, hash(key, len));
	if (m->slots[i].key == NULL)
		return NULL;
	v = m->slots[i].value;
	j = i;
	for (;;) {
		m->slots[i].key = NULL;
		m->slots[i].value = NULL;
		for (;;) {
			j = (j + 1) & mask;
			if (m->slots[j].key == NULL) {
				m->n--;
				return v;
			}
			k = m->hashes[j] & mask;
			/* Stays where it is when its home is in (i, j]. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		m->slots[i] = m->slots[j];
		m->hashes[i] = m->hashes[j];
		i = j;
	}
}

/* see map.h */
void
map_free(struct map *m)
{
	free(m->slots);
	free(m->hashes);
	memset(m, 0, sizeof(*m));
}
