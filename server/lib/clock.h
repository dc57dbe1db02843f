/*
 * clock.h: deadlines on the monotonic clock, for the client sides that
 * bound each exchange by one (the HTTPS fetch in tls/client.c, SMTP in
 * ctl/smtp.c), and milliseconds for the daemon's timers.
 */
#ifndef CLOCK_H
#define CLOCK_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

/* Sets *deadline to ms milliseconds from now (CLOCK_MONOTONIC). */
static inline void
clock_deadline(struct timespec *deadline, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, deadline);
	deadline->tv_sec += ms / 1000;
	deadline->tv_nsec += (long)(ms % 1000) * 1000000;
	if (deadline->tv_nsec >= 1000000000) {
		deadline->tv_sec++;
		deadline->tv_nsec -= 1000000000;
	}
}

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

/* The monotonic clock in milliseconds. */
static inline int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Microseconds since t0 (CLOCK_MONOTONIC). */
static inline long
clock_us_since(const struct timespec *t0)
{
	struct timespec	 t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000000L +
	    (t1.tv_nsec - t0->tv_nsec) / 1000;
}

#endif /* CLOCK_H */
