/*
 * Locking OTP blocks (safety rule 4; RM0090 §3.8): a block's lock byte is
 * written 0x00, one byte wide, only after the block's data reads back as
 * this handle wrote and verified it, or as the caller's `expect` says,
 * and all lock bytes are read back afterwards.
 */
#include <string.h>

#include "flash.h"
#include "otp_internal.h"
#include "target_internal.h"

/* The caller's own statement of what block b holds (otp_lock's expect):
 * every byte must read back so, whatever this handle did before. */
static int check_expect(target *t, const uint8_t *data, unsigned b,
			const uint8_t *expect)
{
	const otp_map *m = t->id.otp;
	size_t i, first = (size_t)b * m->block_size;

	for (i = 0; i < m->block_size; i++)
		if (data[first + i] != expect[i])
			return st_fail(
				&t->st->err, ST_EVERIFY, 0,
				"block %u differs from expect at offset 0x%zX "
				"(0x%08zX): reads 0x%02X, expected 0x%02X; "
				"nothing locked",
				b, first + i, m->base + first + i,
				data[first + i], expect[i]);
	return 0;
}

/* Rule 4 without expect: this handle wrote the block and read it back as
 * wanted, no write of it has failed since, and what it verified still
 * reads back so. A block it never wrote was verified by nobody here. */
static int check_block_data(target *t, const uint8_t *data, unsigned b)
{
	const otp_map *m = t->id.otp;
	size_t i, first = (size_t)b * m->block_size;
	int verified = 0;

	for (i = first; i < first + m->block_size; i++) {
		if (t->wstate[i] == OTP_W_UNVERIFIED)
			return st_fail(
				&t->st->err, ST_EVERIFY, 0,
				"block %u holds data a failed write left "
				"unverified (0x%08zX): nothing locked; pass "
				"its "
				"whole contents as expect = { [%u] = ... } to "
				"lock what it holds",
				b, m->base + i, b);
		if (t->wstate[i] != OTP_W_VERIFIED)
			continue;
		verified = 1;
		if (data[i] != t->written[i])
			return st_fail(
				&t->st->err, ST_EVERIFY, 0,
				"block %u does not read back as written "
				"(0x%08zX "
				"reads 0x%02X, wrote 0x%02X): nothing locked",
				b, m->base + i, data[i], t->written[i]);
	}
	if (!verified)
		return st_fail(
			&t->st->err, ST_EVERIFY, 0,
			"block %u was not written and verified through this "
			"handle: nothing locked; pass its whole contents as "
			"expect = { [%u] = ... } to lock it",
			b, b);
	return 0;
}

/* Lock bytes are written one byte wide, PSIZE x8 and 8-bit accesses, so
 * no neighbour is ever programmed (CubeProgrammer damaged F767 neighbours,
 * RM0090 §3.8). Burst: a run of adjacent blocks is one 8-bit command of
 * single-byte accesses, each its own program operation, relying on the
 * bus stall while BSY (RM0090 §3.5.4; OOCD and STL poll BSY per unit,
 * UNCONFIRMED); one SR check at the end. Unit: each byte alone, then BSY poll
 * and SR check. Returns 0, 1 when a burst reported WAIT/FAULT or left an SR
 * error flag, -1. */
static int write_locks(target *t, uint32_t todo, int unit, otp_stats *st)
{
	const otp_map *m = t->id.otp;
	static const uint8_t zeros[OTP_BLOCKS] = { 0 };
	unsigned b, e;

	for (b = 0; b < m->blocks;) {
		if (!(todo >> b & 1)) {
			b++;
			continue;
		}
		for (e = b + 1; !unit && e < m->blocks && (todo >> e & 1); e++)
			;
		st->touched = 1;
		if (stlink_write_mem(t->st, m->lock_base + b, zeros, e - b, 1,
				     unit ? 0 : STW_NO_RETRY)
		    != 0)
			return !unit
					       && (t->st->err.code == ST_EWAIT
						   || t->st->err.code
							      == ST_ETARGET)
				       ? 1
				       : -1;
		if (unit
		    && flash_finish_op(t->st, &t->id.flash, "OTP lock") != 0)
			return -1;
		st->units += e - b;
		b = e;
	}
	return unit ? 0 : flash_finish_burst(t->st, &t->id.flash, "OTP lock");
}

/* Unlock with PSIZE x8, write_locks, and relock whatever happened
 * (flash_end_pass). Returns as write_locks. */
static int lock_pass(target *t, uint32_t todo, int unit, otp_stats *st)
{
	int rc;

	/* Still the chip attach identified: nothing is written otherwise. */
	if (target_unlock(t, "an OTP lock", 1) != 0)
		return -1;
	rc = flash_end_pass(t->st, &t->id.flash,
			    write_locks(t, todo, unit, st));
	if (rc == 0) /* SR found clean, CR relocked */
		target_flash_seen(t, 1, 1);
	return rc;
}

/* The blocks of todo whose lock byte does not read 0x00. */
static uint32_t not_locked(const otp_map *m, uint32_t todo,
			   const uint8_t *locks)
{
	uint32_t left = 0;
	unsigned b;

	for (b = 0; b < m->blocks; b++)
		if ((todo >> b & 1) && locks[b] != 0x00)
			left |= 1u << b;
	return left;
}

/* Rule 4: all lock bytes as read back: exactly the wanted ones 0x00, the
 * others as before, and the data untouched. */
static int check_locks(target *t, uint32_t todo, const uint8_t *data,
		       const uint8_t *locks, const uint8_t *data0,
		       const uint8_t *locks0)
{
	const otp_map *m = t->id.otp;
	unsigned b;

	for (b = 0; b < m->blocks; b++) {
		uint8_t want = (todo >> b & 1) ? 0x00 : locks0[b];
		if (locks[b] != want)
			return st_fail(
				&t->st->err, ST_EVERIFY, 0,
				"lock byte %u (0x%08X) reads 0x%02X, expected "
				"0x%02X",
				b, m->lock_base + b, locks[b], want);
	}
	if (memcmp(data, data0, otp_map_size(m)) != 0)
		return st_fail(&t->st->err, ST_EVERIFY, 0,
			       "OTP data changed while writing lock bytes");
	return 0;
}

/* After a first pass over todo that returned rc: read all back, and as
 * for data (otp.c burn), after a burst that reported WAIT/FAULT, left an
 * SR error, or did not read back whole, write each lock byte not yet 0x00
 * alone; those already 0x00 are not written again (rule 3). */
static int lock_finish(target *t, uint32_t todo, int rc, const uint8_t *data0,
		       const uint8_t *locks0, otp_stats *st)
{
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	uint32_t left;

	if (rc < 0 || otp_read_all(t, data, locks) != 0)
		return -1;
	left = not_locked(t->id.otp, todo, locks);
	if (rc == 1 || left != 0) {
		st->fell_back = 1;
		st->mode = OTP_MODE_UNIT;
		if ((left != 0 && lock_pass(t, left, 1, st) != 0)
		    || otp_read_all(t, data, locks) != 0)
			return -1;
	}
	return check_locks(t, todo, data, locks, data0, locks0);
}

static int lock_blocks(target *t, uint32_t todo, const uint8_t *data0,
		       const uint8_t *locks0, otp_stats *st)
{
	return lock_finish(t, todo, lock_pass(t, todo, 0, st), data0, locks0,
			   st);
}

int otp_lock_open(target *t, uint32_t todo, unsigned psize,
		  const uint8_t *data0, const uint8_t *locks0, otp_stats *st)
{
	/* lock bytes are x8 (write_locks); the data pass may have left
	 * PSIZE wider */
	int rc = psize != 1 && flash_set_width(t->st, 1) != 0
			 ? -1
			 : write_locks(t, todo, 0, st);

	rc = flash_end_pass(t->st, &t->id.flash, rc);
	if (rc == 0) /* SR found clean for the session, CR relocked */
		target_flash_seen(t, 1, 1);
	return lock_finish(t, todo, rc, data0, locks0, st);
}

int otp_lock(target *t, uint32_t blocks, const uint8_t *const *expect,
	     unsigned max_width, otp_stats *st)
{
	uint64_t c0 = t->st->commands;
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	uint32_t todo = 0;
	unsigned b, width;
	int rc = -1;

	memset(st, 0, sizeof *st);
	st->volts = -1;
	st->width = 1;
	if (otp_usable(t) != 0)
		return -1;
	if (blocks >> t->id.otp->blocks)
		return st_fail(&t->st->err, ST_ERANGE, 0,
			       "OTP blocks are numbered 0-%u",
			       t->id.otp->blocks - 1);
	if (otp_read_all(t, data, locks) != 0)
		goto out;
	/* Rule 1: every named block is checked before any lock byte is
	 * written; expect is checked on already locked blocks too. */
	for (b = 0; b < t->id.otp->blocks; b++) {
		if (!(blocks >> b & 1))
			continue;
		if (expect[b] != NULL
			    ? check_expect(t, data, b, expect[b]) != 0
			    : locks[b] != 0x00
				      && check_block_data(t, data, b) != 0)
			goto out;
		/* An already locked block is not written again (rule 3). */
		if (locks[b] != 0x00)
			todo |= 1u << b;
	}
	rc = 0;
	if (todo == 0)
		goto out;
	/* Lock bytes are always x8, allowed from 1.8 V; the supply check
	 * (and a caller's max_width) still apply. */
	if (otp_supply_width(t, st, max_width, &width) != 0) {
		rc = -1;
		goto out;
	}
	rc = lock_blocks(t, todo, data, locks, st);
out:
	st->commands = t->st->commands - c0;
	return rc;
}

int otp_lock_list(target *t, const long long *blocks, size_t n,
		  const otp_expect *ex, size_t nex, unsigned max_width,
		  otp_stats *st)
{
	const uint8_t *expect[OTP_BLOCKS] = { NULL };
	uint32_t mask = 0;
	size_t i;

	memset(st, 0, sizeof *st);
	st->volts = -1;
	if (otp_usable(t) != 0)
		return -1;
	/* Rule 1: every number is checked before any lock byte is written. */
	for (i = 0; i < n; i++) {
		long long b = blocks[i];
		if (b < 0 || b >= (long long)t->id.otp->blocks)
			return st_fail(
				&t->st->err, ST_ERANGE, 0,
				"no OTP block %lld: blocks are numbered 0-%u; "
				"nothing locked",
				b, t->id.otp->blocks - 1);
		if (mask >> b & 1)
			/* A lock cannot be undone: a repeated number more likely
			 * stands where another block was meant. */
			return st_fail(
				&t->st->err, ST_ERANGE, 0,
				"block %lld is named twice; nothing locked", b);
		mask |= 1u << b;
	}
	for (i = 0; i < nex; i++) {
		long long b = ex[i].block;
		/* An expect for a block not named is a slip in the numbers. */
		if (b < 0 || b >= (long long)t->id.otp->blocks
		    || !(mask >> b & 1))
			return st_fail(
				&t->st->err, ST_ERANGE, 0,
				"expect names block %lld, which this call does "
				"not lock; nothing locked",
				b);
		if (ex[i].len != t->id.otp->block_size)
			return st_fail(&t->st->err, ST_ERANGE, 0,
				       "expect for block %lld is %zu bytes; a "
				       "block is "
				       "%u bytes on this part; nothing locked",
				       b, ex[i].len, t->id.otp->block_size);
		expect[b] = ex[i].bytes;
	}
	return otp_lock(t, mask, expect, max_width, st);
}
