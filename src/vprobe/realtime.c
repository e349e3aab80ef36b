/* VPROBE_REALTIME (realtime.h). */
#include "realtime.h"

#include <errno.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void vp_realtime_owe(vp_realtime *rt, uint64_t sim_us)
{
	if (!rt->on || sim_us == 0)
		return;
	uint64_t now = now_ns();
	if (rt->free_ns < now)
		rt->free_ns = now; /* the probe was idle until this transfer */
	rt->free_ns += sim_us * 1000u;
}

void vp_realtime_settle(vp_realtime *rt)
{
	if (!rt->on || rt->free_ns <= now_ns())
		return;
	struct timespec until = { .tv_sec = (time_t)(rt->free_ns / 1000000000u),
				  .tv_nsec =
					  (long)(rt->free_ns % 1000000000u) };
	/* absolute: a signal that cuts the sleep short resumes it */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL)
	       == EINTR)
		;
}
