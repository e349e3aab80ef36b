/*
 * What the OTP files share inside the C core (otp.c, otp_program.c,
 * otp_lock.c); the binding never includes it.
 */
#ifndef STOTP_OTP_INTERNAL_H
#define STOTP_OTP_INTERNAL_H

#include "otp.h"

/* One program pass of the bytes where cur differs from the plan: behind
 * target_unlock's guard, in `mode`. Returns 0 (SR clean, CR relocked), 1
 * (a burst reported WAIT/FAULT or left an SR error flag: the flags are
 * cleared and CR relocked, the caller retries per unit), -1; or, with
 * open, 2: every piece went out and CR is still unlocked with PG and
 * PSIZE *psize, SR not yet checked after a burst (otp_pass_close,
 * otp_lock_open or otp_pass_abort ends it). */
int otp_program_pass(target *t, const otp_plan *p, const uint8_t *cur,
		     unsigned widest, int mode, int open, unsigned *psize,
		     otp_stats *st);
/* End an open pass whose read-back fell short: the SR check the burst
 * left for later, then as a closed pass ended (0 or 1, or -1). */
int otp_pass_close(target *t, int mode);
/* End an open pass after a failure: relock, keep the first error; -1. */
int otp_pass_abort(target *t);

/* otp_lock.c. In an open pass whose data read back as planned (data0,
 * locks0: that read-back): write the lock bytes of todo, check SR for the
 * whole session, relock, read all back, fall back per byte like
 * otp_lock. Returns 0 or -1. */
int otp_lock_open(target *t, uint32_t todo, unsigned psize,
		  const uint8_t *data0, const uint8_t *locks0, otp_stats *st);

#endif
