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

/*
 * The transfer just done cost `sim_us` of simulated time: the probe is
 * busy that much longer. An OUT only owes it: the host sees a probe's
 * work when it reads the reply (a bulk OUT completes once the probe has
 * taken the data; a busy function NAKs what follows, USB 2.0 §8.5.1), so
 * OUTs sleep nothing and the next IN (or the end of the session) waits out
 * everything owed, in one sleep, not one per transfer. The host then sees
 * each reply at the same time as before; it saves the host CPU of the
 * sleeps, which on a virtual machine cost ~0.1 ms each.
 */
void vp_realtime_owe(vp_realtime *rt, uint64_t sim_us);

/* Waits until the probe is free: before an IN returns its reply, and when
 * the host lets go of the probe (release, close, USB reset), so a session
 * never takes less wall time than its simulated time. */
void vp_realtime_settle(vp_realtime *rt);

#endif
