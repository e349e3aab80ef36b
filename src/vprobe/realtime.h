/*
 * VPROBE_REALTIME=1: simulated time becomes wall time. Each transfer
 * sleeps for the simulated time it cost (round trip, SWD, flash program
 * operations), so the throughput of a station over several virtual probes
 * can be measured on a machine without them. The probe is a server: a
 * transfer starts when it arrives or when the previous one ends, whichever
 * is later, so host time between transfers is not slept again.
 */
#ifndef STOTP_VPROBE_REALTIME_H
#define STOTP_VPROBE_REALTIME_H

#include <stdbool.h>
#include <stdint.h>

typedef struct vp_realtime {
	bool on;
	uint64_t free_ns; /* CLOCK_MONOTONIC time the probe is free again */
} vp_realtime;

/* The transfer just done cost `sim_us` of simulated time: wait it out. */
void vp_realtime_wait(vp_realtime *rt, uint64_t sim_us);

#endif
