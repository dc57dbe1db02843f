/*
 * map.h: a string-keyed hash table (open addressing, linear probing).
 *
 * Keys are borrowed: the caller keeps each key alive and unchanged while
 * it is in the map.  Lookups cost O(1) on average whatever the size, so
 * a server name is found as fast among 10,000 domains as among one.
 * Each slot's hash is kept beside it: a probe compares 32 bits before it
 * compares strings (paths share long prefixes), and growing rehashes
 * nothing.
 */
#ifndef MAP_H
#define MAP_H

#include <stddef.h>
#include <stdint.h>

struct map_slot {
	const char	*key;
	void		*value;
};

struct map {
	struct map_slot	*slots;
	uint32_t	*hashes;	/* of each slot's key: compared first */
	size_t		 cap;		/* a power of two, or 0 */
	size_t		 n;
};

/* Makes room for n keys in all.  Returns 0, or -1 on ENOMEM. */
int	 map_reserve(struct map *m, size_t n);
/* Sets or replaces key's value.  Returns 0, or -1 on ENOMEM. */
int	 map_put(struct map *m, const char *key, void *value);
/* The value for the len bytes of key, compared without case, or NULL. */
void	*map_get(const struct map *m, const char *key, size_t len);
/*
 * Removes the len bytes of key and returns its value (the caller frees
 * what key and value point to), or NULL when it is not there.
 */
void	*map_del(struct map *m, const char *key, size_t len);
void	 map_free(struct map *m);

#endif /* MAP_H */
