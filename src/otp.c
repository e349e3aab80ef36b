/*
 * OTP primitives; see otp.h. Layout and semantics: CMSIS FLASH_OTP_BASE (RM0090
 * §3.8, PM0059 §2.7): programming only clears bits, a block is writable
 * until its lock byte is 0x00, lock bytes hold only 0x00 or 0xFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp_internal.h"
#include "target_internal.h"

#define AREA_MAX (OTP_MAX_DATA + OTP_BLOCKS)

const char *const otp_action_names[] = { "same", "program", "bits", "locked",
					 NULL };
const char *const otp_mode_names[] = { "burst", "unit", NULL };

int otp_usable(target *t)
{
	if (t->id.supported && t->id.otp != NULL)
		return 0;
	return st_fail(&t->st->err, ST_EUNSUPPORTED, 0,
		       "%s (DEV_ID 0x%03X) is not an STM32F2/F4/F7: stotp does "
		       "not do OTP work on it",
		       t->id.line, t->id.dev_id);
}

static void cache_set(target *t, const uint8_t *data, const uint8_t *locks);
/* One read of the data area, the lock bytes, the UID and the flash size
 * (see read_area), with the data cache off. */
static int read_area_uncached(target *t, uint8_t *data, uint8_t *locks,
			      uint8_t uid[12], unsigned *kib);

/* Served from the handle's last read while no command went to the probe
 * since it (target.h cache_stamp); else read with the data cache off and
 * reset around it (target.h), the UID compared with attach's. */
int otp_read_all(target *t, uint8_t *data, uint8_t *locks)
{
	size_t size;
	uint8_t uid[12];
	unsigned kib;

	if (otp_usable(t) != 0)
		return -1;
	size = otp_map_size(t->id.otp);
	if (t->cache_stamp != 0 && t->cache_stamp == t->st->commands) {
		memcpy(data, t->cache_data, size);
		memcpy(locks, t->cache_locks, t->id.otp->blocks);
		return 0;
	}
	t->cache_stamp = 0;
	if (read_area_uncached(t, data, locks, uid, &kib) != 0)
		return -1;
	/* A UID that differs from attach's fails any OTP read: the chip or
	 * the link is not what attach saw (issue 7 item 1). */
	if (target_uid_check(t, uid, "any OTP work") != 0)
		return -1;
	cache_set(t, data, locks);
	t->uid_stamp = t->cache_stamp;
	return 0;
}

/* What the handle now knows the OTP holds, read with the UID that matched
 * attach's: otp_read_all serves it, and target_guard takes that read as its
 * own, until another command goes out. */
static void cache_set(target *t, const uint8_t *data, const uint8_t *locks)
{
	memcpy(t->cache_data, data, otp_map_size(t->id.otp));
	memcpy(t->cache_locks, locks, t->id.otp->blocks);
	t->cache_stamp = t->st->commands;
}

/* Data, lock bytes, UID and flash-size register lie one after the other
 * (lock_base == base + size, UID_BASE right after the 16 lock bytes on the
 * F2/F4/F72x, after 16 more reserved OTP bytes on the F74x-F77x: CMSIS
 * FLASH_OTP_END 0x1FF0F41F, UID_BASE 0x1FF0F420, FLASHSIZE_BASE 0x12 or
 * 0x22 past it at an address 2 mod 4): one memory command, two round
 * trips (four on the F7, whose area crosses a 1 KiB TAR block), whose UID
 * is the guard's fresh read (target_guard). *kib: the flash-size
 * register. */
static int read_area(target *t, uint8_t *data, uint8_t *locks, uint8_t uid[12],
		     unsigned *kib)
{
	const otp_map *m = t->id.otp;
	size_t size = otp_map_size(m), n, fs;
	uint8_t buf[AREA_MAX + 64];

	n = ((t->id.fsize_addr & ~3u) + 4) - m->base;
	fs = t->id.fsize_addr - m->base;
	if (m->lock_base != m->base + size || t->id.uid_addr < m->lock_base
	    || t->id.fsize_addr < t->id.uid_addr + 12 || n > sizeof buf)
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "bad OTP layout"); /* no part in target.c */
	if (stlink_read_mem(t->st, m->base, buf, n, 4) != 0)
		return target_explain_fault(t, "read", m->base);
	memcpy(data, buf, size);
	memcpy(locks, buf + size, m->blocks);
	memcpy(uid, buf + (t->id.uid_addr - m->base), 12);
	*kib = buf[fs] | (unsigned)buf[fs + 1] << 8;
	return 0;
}

/* The read in the data cache's shadow (target.h), as otp_read_all and
 * attach do it. */
static int read_area_uncached(target *t, uint8_t *data, uint8_t *locks,
			      uint8_t uid[12], unsigned *kib)
{
	st_error first;

	if (target_dcache_off(t) != 0)
		return -1;
	if (read_area(t, data, locks, uid, kib) == 0)
		return target_dcache_restore(t);
	/* put FLASH_ACR back even after a failed read; its error is the one
	 * reported */
	first = t->st->err;
	target_dcache_restore(t);
	t->st->err = first;
	return -1;
}

int otp_attach_read(target *t, unsigned *kib)
{
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];

	if (read_area_uncached(t, data, locks, t->uid, kib) != 0)
		return -1;
	t->have_uid = 1;
	cache_set(t, data, locks);
	return 0;
}

int otp_read_locks(target *t, int *locked, uint8_t *locks)
{
	uint8_t data[OTP_MAX_DATA];
	unsigned i;

	if (otp_read_all(t, data, locks) != 0)
		return -1;
	for (i = 0; i < t->id.otp->blocks; i++)
		locked[i] =
			locks[i] == 0x00; /* any other value: unlocked (OOCD) */
	return 0;
}

/* What an out-of-range offset probably is, for the message: an absolute
 * address in this part's OTP, a lock byte, or another family's OTP
 * (safety rule 6: 0x1FF0F000 is the F74x-F77x OTP, not the F4's). */
static void range_hint(const otp_map *m, long long offset, char *hint,
		       size_t len)
{
	const otp_map *other;

	hint[0] = '\0';
	if (offset < 0 || offset > 0xFFFFFFFFll)
		return;
	other = otp_map_at((uint32_t)offset);
	if (other == m && (uint32_t)offset < m->lock_base)
		snprintf(hint, len,
			 " (an absolute address: offsets count from "
			 "0x%08X, so this is offset 0x%X)",
			 m->base, (unsigned)offset - m->base);
	else if (other == m)
		snprintf(hint, len, " (a lock byte: use otp_lock)");
	else if (other != NULL)
		snprintf(hint, len,
			 " (0x%08X is in the OTP of the %s, not this "
			 "part's)",
			 (unsigned)offset, other->parts);
}

static int range_fail(target *t, long long offset, size_t n)
{
	const otp_map *m = t->id.otp;
	size_t size = otp_map_size(m);
	char area[200], hint[120];

	snprintf(area, sizeof area,
		 "the %s OTP area is 0x%08X-0x%08zX (offsets "
		 "0-%zu); lock bytes 0x%08X-0x%08X go through otp_lock",
		 t->id.line, m->base, m->base + size - 1, size - 1,
		 m->lock_base, m->lock_base + m->blocks - 1);
	if (n == 0)
		return st_fail(&t->st->err, ST_ERANGE, 0,
			       "no bytes given at offset "
			       "%lld: nothing to write; %s",
			       offset, area);
	if (offset < 0)
		return st_fail(&t->st->err, ST_ERANGE, 0,
			       "offset %lld is negative: "
			       "offsets count from the OTP base; %s",
			       offset, area);
	if ((unsigned long long)offset >= size + m->blocks) {
		range_hint(m, offset, hint, sizeof hint);
		return st_fail(&t->st->err, ST_ERANGE, 0,
			       "offset 0x%llX is outside the OTP%s: %s",
			       (unsigned long long)offset, hint, area);
	}
	/* Starts in the data area, ends past it: into the lock bytes. */
	return st_fail(&t->st->err, ST_ERANGE, 0,
		       "bytes 0x%llX-0x%llX reach into the lock bytes: %s",
		       offset, offset + (long long)n - 1, area);
}

static uint8_t classify(uint8_t old, uint8_t want, int locked)
{
	if (old == want)
		return OTP_SAME;
	if (locked)
		return OTP_LOCKED;
	if (want & ~old)
		return OTP_BITS; /* needs a 0 -> 1: impossible (RM0090 §3.8) */
	return OTP_PROGRAM;
}

int otp_plan_make(target *t, long long offset, const uint8_t *want, size_t n,
		  otp_plan *p)
{
	uint8_t data[OTP_MAX_DATA];
	const otp_map *m;
	size_t i, size;

	if (otp_usable(t) != 0)
		return -1;
	m = t->id.otp;
	size = otp_map_size(m);
	/* Compared as unsigned so offset + n cannot overflow. */
	if (n == 0 || offset < 0 || (unsigned long long)offset > size
	    || n > size - (size_t)offset)
		return range_fail(t, offset, n);
	memset(p, 0, sizeof *p);
	p->offset = (size_t)offset;
	p->n = n;
	if (otp_read_all(t, data, p->locks) != 0)
		return -1;
	memcpy(p->chip, data, size);
	for (i = 0; i < n; i++) {
		size_t off = p->offset + i;
		int locked = p->locks[off / m->block_size] == 0x00;
		p->old[i] = data[off];
		p->want[i] = want[i];
		p->action[i] = classify(data[off], want[i], locked);
		p->same += p->action[i] == OTP_SAME;
		p->program += p->action[i] == OTP_PROGRAM;
		p->bits += p->action[i] == OTP_BITS;
		p->locked += p->action[i] == OTP_LOCKED;
	}
	return 0;
}

static int refuse(target *t, const otp_plan *p)
{
	const otp_map *m = t->id.otp;
	size_t i;
	int what = p->bits ? OTP_BITS : OTP_LOCKED;

	for (i = 0; p->action[i] != what; i++)
		;
	if (what == OTP_BITS)
		return st_fail(
			&t->st->err, ST_EBITS, 0,
			"%u byte(s) would need a bit from 0 to 1, first at "
			"0x%08zX (0x%02X -> 0x%02X): OTP bits only clear; "
			"nothing written",
			p->bits, m->base + p->offset + i, p->old[i],
			p->want[i]);
	return st_fail(&t->st->err, ST_ELOCKED, 0,
		       "%u byte(s) fall in a locked block, first at 0x%08zX "
		       "(block %zu): nothing written",
		       p->locked, m->base + p->offset + i,
		       (p->offset + i) / m->block_size);
}

int otp_supply_width(target *t, otp_stats *st, unsigned cap, unsigned *width)
{
	int has = (t->st->features & STF_VOLTAGE) != 0;

	st->volts = -1;
	/* Read once at attach (target.c read_volts); again only if that did
	 * not happen. */
	if (has && t->volts_state == 0 && stlink_voltage(t->st, &t->volts) == 0)
		t->volts_state = 1;
	else if (has && t->volts_state == 0)
		return -1;
	if (has && t->volts_state == 2)
		return st_fail(&t->st->err, ST_EVOLTAGE, 0,
			       "the probe returned an invalid voltage reading");
	if (has)
		st->volts = t->volts;
	if (flash_width_for_supply(t->st, has, st->volts, width) != 0)
		return -1;
	/* The caller's widest width narrows what the reading allows, never
	 * widens it: a reading can be wrong high (STL #1335, #1340), and a
	 * station that knows its boards' supply says so. */
	if (cap != 0 && cap < *width)
		*width = cap;
	/* x16 only with 16-bit memory commands (flash_width_for_supply) */
	if (*width == 2 && !(t->st->features & STF_MEM16))
		*width = 1;
	return 0;
}

/* 1 when every byte of the range reads back as wanted. */
static int in_place(const otp_plan *p, const uint8_t *now)
{
	return memcmp(now + p->offset, p->want, p->n) == 0;
}

/* The whole area as read back (now, locks) against the plan: the range
 * must hold the wanted bytes and nothing else may have moved (safety
 * rule 5). */
static int check_read_back(target *t, const otp_plan *p, const uint8_t *now,
			   const uint8_t *locks)
{
	const otp_map *m = t->id.otp;
	size_t i, size = otp_map_size(m), bad = size;

	for (i = size; i-- > 0;) {
		int in = i >= p->offset && i < p->offset + p->n;
		if (now[i] != (in ? p->want[i - p->offset] : p->chip[i])) {
			/* A byte that moved outside the write is no longer
			 * what this handle verified either (rule 4). */
			t->wstate[i] = OTP_W_UNVERIFIED;
			bad = i;
		}
	}
	if (bad < size) {
		int in = bad >= p->offset && bad < p->offset + p->n;
		return st_fail(
			&t->st->err, ST_EVERIFY, 0,
			"read-back of 0x%08zX is 0x%02X, expected 0x%02X%s",
			m->base + bad, now[bad],
			in ? p->want[bad - p->offset] : p->chip[bad],
			in ? "" : " (outside the write)");
	}
	if (memcmp(locks, p->locks, m->blocks) != 0)
		return st_fail(&t->st->err, ST_EVERIFY, 0,
			       "lock bytes changed during a data write");
	return 0;
}

/* What made a burst fall back, kept for the caller (rc as program_pass):
 * the silicon's answer is the evidence a field report needs. */
static void note_burst(const target *t, int rc, otp_stats *st)
{
	if (rc == 1)
		st->burst = t->st->err;
	else
		st_fail(&st->burst, ST_OK, 0,
			"the burst ended without error but did not read back "
			"whole");
}

/* Program, read back, verify. Whether one memory command may carry
 * several units while BSY stalls the bus is UNCONFIRMED (RM0090 §3.5.4; OOCD
 * and STL poll BSY per unit): real silicon might stall (the burst works), drop
 * the units that arrive while BSY, or flag PGSERR. So after a burst that
 * reported WAIT/ FAULT, left an SR error, or did not read back whole, every
 * byte still wrong and still programmable (only 1 -> 0 needed) is programmed
 * again one unit at a time; bytes already right are not written (rule 3).
 * lock: blocks to lock in the same session once the whole area read back
 * as planned (rule 4: verified first); *locked = 1 when that was tried. */
static int burn(target *t, const otp_plan *p, unsigned widest, int mode,
		uint32_t lock, int *locked, otp_stats *st)
{
	uint8_t now[OTP_MAX_DATA], locks[OTP_BLOCKS];
	unsigned psize = 0;
	int rc = otp_program_pass(t, p, p->chip, widest, mode, lock != 0,
				  &psize, st);

	if (rc < 0)
		return -1;
	if (otp_read_all(t, now, locks) != 0)
		return rc == 2 ? otp_pass_abort(t) : -1;
	if (rc == 2 && in_place(p, now)) {
		*locked = 1;
		return check_read_back(t, p, now, locks) != 0
			       ? otp_pass_abort(t)
			       : otp_lock_open(t, lock, psize, now, locks, st);
	}
	if (rc == 2 && (rc = otp_pass_close(t, mode)) < 0)
		return -1;
	if (rc == 0 && (mode == OTP_MODE_UNIT || in_place(p, now)))
		return check_read_back(t, p, now, locks);
	note_burst(t, rc, st);
	st->fell_back = 1;
	st->mode = OTP_MODE_UNIT;
	if (otp_program_pass(t, p, now, widest, OTP_MODE_UNIT, 0, &psize, st)
		    != 0
	    || otp_read_all(t, now, locks) != 0)
		return -1;
	return check_read_back(t, p, now, locks);
}

/* Rule 1 for the locks a write asks for: each block, as the write leaves
 * it (the chip as read with the plan's bytes in place), must be exactly
 * the caller's statement of it; a block already locked is not written
 * again (rule 3). Returns the blocks to lock, or fails. */
static int lock_plan(target *t, const otp_plan *p, const otp_expect *ex,
		     size_t nex, uint32_t *todo)
{
	const otp_map *m = t->id.otp;
	uint8_t after[OTP_MAX_DATA];
	size_t i, j;

	*todo = 0;
	memcpy(after, p->chip, otp_map_size(m));
	memcpy(after + p->offset, p->want, p->n);
	for (i = 0; i < nex; i++) {
		long long b = ex[i].block;
		const uint8_t *now;
		if (b < 0 || b >= (long long)m->blocks
		    || ex[i].len != m->block_size)
			return st_fail(&t->st->err, ST_ERANGE, 0,
				       "lock: block %lld with %zu bytes: "
				       "blocks are 0-%u of %u bytes; "
				       "nothing written",
				       b, ex[i].len, m->blocks - 1,
				       m->block_size);
		now = after + (size_t)b * m->block_size;
		for (j = 0; j < m->block_size; j++)
			if (now[j] != ex[i].bytes[j])
				return st_fail(
					&t->st->err, ST_EVERIFY, 0,
					"lock: block %lld would hold 0x%02X at "
					"0x%08zX after this write, not 0x%02X "
					"as given: nothing written",
					b, now[j],
					m->base + (size_t)b * m->block_size + j,
					ex[i].bytes[j]);
		if (p->locks[b] != 0x00)
			*todo |= 1u << b;
	}
	return 0;
}

/* The locks of a write that had nothing to program, or whose burn ended
 * its session early (a fallback): an otp_lock of their own. */
static int lock_after(target *t, uint32_t todo, const otp_expect *ex,
		      size_t nex, unsigned max_width, otp_stats *st)
{
	const uint8_t *expect[OTP_BLOCKS] = { NULL };
	otp_stats ls;
	size_t i;
	int rc;

	for (i = 0; i < nex; i++)
		expect[ex[i].block] = ex[i].bytes;
	rc = otp_lock(t, todo, expect, max_width, &ls);
	st->units += ls.units;
	st->fell_back |= ls.fell_back;
	st->touched |= ls.touched;
	return rc;
}

int otp_write(target *t, long long offset, const uint8_t *want, size_t n,
	      int mode, unsigned max_width, const otp_expect *lock,
	      size_t nlock, otp_stats *st)
{
	uint64_t c0 = t->st->commands;
	otp_plan *p = malloc(sizeof *p);
	unsigned width = 0;
	uint32_t todo = 0;
	int rc = -1, locked = 0;

	memset(st, 0, sizeof *st);
	st->mode = mode;
	st->volts = -1;
	if (p == NULL)
		return st_fail(&t->st->err, ST_ENOMEM, 0, "out of memory");
	/* Rules 1-2: the whole plan is checked before anything is written. */
	if (otp_plan_make(t, offset, want, n, p) != 0
	    || lock_plan(t, p, lock, nlock, &todo) != 0)
		goto out;
	if (p->bits || p->locked) {
		refuse(t, p);
		goto out;
	}
	/* Rule 3: nothing differs, nothing written; the plan's read just
	 * showed every byte of the range holds its wanted value. */
	if (p->program > 0) {
		if (otp_supply_width(t, st, max_width, &width) != 0)
			goto out; /* nothing touched yet */
		if (burn(t, p, width, mode, todo, &locked, st) != 0) {
			/* Failed or partial: the range may hold anything between
			 * old and wanted; a lock now needs `expect` (rule 4). */
			memset(t->wstate + p->offset, OTP_W_UNVERIFIED, n);
			goto out;
		}
		st->width = width;
	}
	memcpy(t->written + p->offset, want, n);
	memset(t->wstate + p->offset, OTP_W_VERIFIED, n);
	rc = todo && !locked ? lock_after(t, todo, lock, nlock, max_width, st)
			     : 0;
	st->locked = rc == 0 ? (unsigned)__builtin_popcount(todo) : 0;
out:
	st->commands = t->st->commands - c0;
	free(p);
	return rc;
}
