/*
 * cache.c: the TLS session cache, shared by the worker threads.  See
 * tls.h and internal.h.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/ascii.h"
#include "tls/internal.h"
#include "tls/tls.h"

#define SESSION_LIFE	7200		/* seconds a session may resume */

static struct {
	pthread_mutex_t		 lock;
	struct tls_session	*v;
	size_t			 mask;		/* entries - 1, a power of two */
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* see tls.h */
int
tls_cache_init(unsigned entries)
{
	size_t n = 1;

	free(cache.v);
	cache.v = NULL;
	cache.mask = 0;
	if (entries == 0)
		return 0;
	while (n < entries)
		n <<= 1;
	if ((cache.v = calloc(n, sizeof(*cache.v))) == NULL)
		return -1;
	cache.mask = n - 1;
	return 0;
}

/* see internal.h */
int
cache_on(void)
{
	return cache.v != NULL;
}

/* see internal.h: FNV-1a over the lower-cased name. */
uint64_t
cache_name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)ascii_lower(*s);
		h *= 0x100000001b3ULL;
	}
	return h;
}

static struct tls_session *
slot(const unsigned char *id, size_t len)
{
	uint64_t h = 0;

	/* Session ids are random bytes from our own engine. */
	memcpy(&h, id, len < sizeof(h) ? len : sizeof(h));
	return &cache.v[h & cache.mask];
}

/* see internal.h */
void
cache_save(const char *name, const br_ssl_session_parameters *p)
{
	struct tls_session	*s;
	uint64_t		 h = cache_name_hash(name);
	time_t			 expires = time(NULL) + SESSION_LIFE;

	if (cache.v == NULL || p->session_id_len == 0 ||
	    p->session_id_len > sizeof(s->id))
		return;
	pthread_mutex_lock(&cache.lock);
	s = slot(p->session_id, p->session_id_len);
	memcpy(s->id, p->session_id, p->session_id_len);
	s->idlen = p->session_id_len;
	s->version = p->version;
	s->suite = p->cipher_suite;
	memcpy(s->master, p->master_secret, sizeof(s->master));
	s->name = h;
	s->expires = expires;
	pthread_mutex_unlock(&cache.lock);
}

/* see internal.h */
int
cache_peek(const char *name, const unsigned char *id, size_t len,
    struct tls_session *out)
{
	const struct tls_session	*s;
	uint64_t			 h = cache_name_hash(name);
	int				 found = 0;

	if (len == 0 || len > sizeof(s->id) || cache.v == NULL)
		return 0;
	pthread_mutex_lock(&cache.lock);
	s = slot(id, len);
	if (s->idlen == len && memcmp(s->id, id, len) == 0 &&
	    s->expires >= time(NULL) && s->name == h) {
		*out = *s;
		found = 1;
	}
	pthread_mutex_unlock(&cache.lock);
	return found;
}
