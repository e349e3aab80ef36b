/*
 * The simulated clock. It advances only by modelled costs (USB round trips,
 * SWD transfers, flash programming time), never by wall time, so a run's
 * sim_us is the same on every machine.
 */
#ifndef STOTP_VPROBE_CLOCK_H
#define STOTP_VPROBE_CLOCK_H

#include <stdint.h>

typedef struct vp_clock {
	uint64_t us;
} vp_clock;

static inline void vp_clock_advance(vp_clock *c, uint64_t us)
{
	c->us += us;
}

#endif
