/*
 * clock.h: deadlines on the monotonic clock, for the client sides that
 * bound each exchange by one (the HTTPS fetch in tls.c, SMTP in smtp.c).
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <limits.h>
#include <time.h>

/* Milliseconds until deadline (CLOCK_MONOTONIC), 0 once it has passed. */
static inline int
clock_left_ms(const struct timespec *deadline)
{
	struct timespec	 now;
	long long	 ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

#endif /* CLOCK_H */
