/*
 * OTP primitives over a target: read data and lock bytes, the per-byte
 * feasibility check, program (burst relying on the bus stall, or one unit
 * at a time), verify, lock. The safety rules of README.md hold here: an
 * infeasible write is refused whole before the chip is touched.
 * Sources: RM0090 §3.5.4 (programming), §3.8 (OTP, lock bytes); PM0059
 * §2.6, §2.7; CMSIS FLASH_OTP_BASE (areas per family).
 */
#ifndef STOTP_OTP_H
#define STOTP_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "target.h"

enum otp_action { OTP_SAME, OTP_PROGRAM, OTP_BITS, OTP_LOCKED };

typedef struct otp_plan {
	size_t offset, n;          /* relative to otp->base */
	uint8_t old[OTP_MAX_DATA]; /* indexed by offset - plan.offset */
	uint8_t want[OTP_MAX_DATA];
	uint8_t action[OTP_MAX_DATA];
	uint8_t chip[OTP_MAX_DATA]; /* whole data area as read */
	uint8_t locks[OTP_BLOCKS];
	unsigned same, program, bits, locked;
} otp_plan;

enum otp_mode { OTP_MODE_BURST, OTP_MODE_UNIT };

typedef struct otp_stats {
	uint64_t commands; /* USB round trips this call */
	unsigned bytes;    /* bytes that changed */
	unsigned units;    /* program units written */
	unsigned width;    /* 1, 2, 4 bytes: PSIZE */
	double volts;      /* < 0 when not measured */
	int mode;          /* enum otp_mode actually used at the end */
	int fell_back;     /* a burst reported WAIT/FAULT */
	unsigned locked;   /* blocks otp_write's lock option locked */
	/* A program command (data or lock bytes, PG set) went to the probe:
	 * after a failure the chip may hold some of it, whatever a later
	 * read says or cannot say (a journal's twin check needs to know). */
	int touched;
	/* Why the burst fell back (stotp hwtest's field report): the
	 * handle's error at that moment, code 0 when the burst ended cleanly
	 * but did not read back whole. sys: the status byte of a WAIT/FAULT,
	 * FLASH_SR for a flash error. */
	st_error burst;
} otp_stats;

/* Names of enum otp_action and enum otp_mode, NULL-terminated. */
extern const char *const otp_action_names[];
extern const char *const otp_mode_names[];

/* Fails (ST_EUNSUPPORTED) for a part without an OTP stotp knows. */
int otp_usable(target *t);
/* data: otp->blocks * block_size bytes; locks: otp->blocks bytes. */
int otp_read_all(target *t, uint8_t *data, uint8_t *locks);
/* attach's read: OTP data, lock bytes, the UID (kept as attach's) and the
 * flash-size register (*kib, raw) in one command; the data serve the next
 * otp_read_all while no other command goes out. */
int otp_attach_read(target *t, unsigned *kib);
/* locked[i] = 1 when block i's lock byte is 0x00; locks: the raw bytes
 * (otp->blocks of them). */
int otp_read_locks(target *t, int *locked, uint8_t *locks);
/* Range-checks (offset relative to otp->base; negative, empty, or past
 * the data area is refused naming the area), reads the chip, classifies
 * every byte. */
int otp_plan_make(target *t, long long offset, const uint8_t *want, size_t n,
		  otp_plan *p);
/* 1 when the plan can be carried out: no byte is "bits" or "locked". */
static inline int otp_plan_ok(const otp_plan *p)
{
	return p->bits == 0 && p->locked == 0;
}
/* The widest program width the measured supply allows (x8 when the probe
 * cannot measure it), no wider than cap (bytes; 0: no cap), st->volts the
 * reading; refuses a low or absurd one. */
int otp_supply_width(target *t, otp_stats *st, unsigned cap, unsigned *width);

/* otp_lock.c. A caller's statement of a whole block's contents. */
typedef struct otp_expect {
	long long block;
	const uint8_t *bytes;
	size_t len; /* must be the block size */
} otp_expect;

/* blocks: bit i set = lock block i. A block is locked only if expect[i]
 * (block_size bytes, or NULL) reads back exactly, or without it if this
 * handle wrote and verified the block and no write of it failed since. */
int otp_lock(target *t, uint32_t blocks, const uint8_t *const *expect,
	     unsigned max_width, otp_stats *st);
/* Block numbers as a user gives them: each must exist and be named once,
 * each expect must name one of them with block_size bytes, or nothing is
 * locked. */
int otp_lock_list(target *t, const long long *blocks, size_t n,
		  const otp_expect *ex, size_t nex, unsigned max_width,
		  otp_stats *st);

/* max_width: the widest program unit in bytes (1, 2, 4), 0 for what the
 * supply allows; it only narrows. lock (nlock entries, or none): blocks
 * to lock once the write read back as planned, each with its whole
 * contents as it must read then; checked with the write before anything
 * is written, and locked in the same flash session (rule 4 holds: the
 * data are read back and compared first). */
int otp_write(target *t, long long offset, const uint8_t *want, size_t n,
	      int mode, unsigned max_width, const otp_expect *lock,
	      size_t nlock, otp_stats *st);

#endif
