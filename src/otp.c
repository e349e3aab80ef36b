/*
 * OTP primitives; see otp.h. Layout and semantics: CMSIS FLASH_OTP_BASE (RM0090
 * §3.8, PM0059 §2.7): programming only clears bits, a block is writable
 * until its lock byte is 0x00, lock bytes hold only 0x00 or 0xFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"
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
/* One read of the data area, the lock bytes and the UID (see read_area). */
static int read_area(target *t, uint8_t *data, uint8_t *locks, uint8_t uid[12]);

/* Served from the handle's last read while no command went to the probe
 * since it (target.h cache_stamp); else read with the data cache off and
 * reset around it (target.h), the UID compared with attach's. */
int otp_read_all(target *t, uint8_t *data, uint8_t *locks)
{
	size_t size;
	uint8_t uid[12];
	int rc;

	if (otp_usable(t) != 0)
		return -1;
	size = otp_map_size(t->id.otp);
	if (t->cache_stamp != 0 && t->cache_stamp == t->st->commands) {
		memcpy(data, t->cache_data, size);
		memcpy(locks, t->cache_locks, t->id.otp->blocks);
		return 0;
	}
	t->cache_stamp = 0;
	if (target_dcache_off(t) != 0)
		return -1;
	rc = read_area(t, data, locks, uid);
	if (rc == 0) {
		if (target_dcache_restore(t) != 0)
			return -1;
		/* A UID that differs from attach's fails any OTP read: the
		 * chip or the link is not what attach saw (issue 7 item 1). */
		if (target_uid_check(t, uid, "any OTP work") != 0)
			return -1;
		cache_set(t, data, locks);
		return 0;
	}
	/* put FLASH_ACR back even after a failed read; its error is the one
	 * reported */
	st_error first = t->st->err;
	target_dcache_restore(t);
	t->st->err = first;
	return rc;
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

/* Data, lock bytes and UID lie one after the other (lock_base == base +
 * size, UID_BASE right after the 16 lock bytes on the F2/F4/F72x, after 16
 * more reserved OTP bytes on the F74x-F77x: CMSIS FLASH_OTP_END 0x1FF0F41F,
 * UID_BASE 0x1FF0F420): one memory command, two round trips, whose UID is
 * the guard's fresh read (target_guard). */
static int read_area(target *t, uint8_t *data, uint8_t *locks, uint8_t uid[12])
{
	const otp_map *m = t->id.otp;
	size_t size = otp_map_size(m), n;
	uint8_t buf[AREA_MAX + 32];

	if (m->lock_base != m->base + size || t->id.uid_addr < m->lock_base
	    || t->id.uid_addr + 12 - m->base > sizeof buf)
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "bad OTP layout"); /* no part in target.c */
	n = t->id.uid_addr + 12 - m->base;
	if (stlink_read_mem(t->st, m->base, buf, n, 4) != 0)
		return target_explain_fault(t, "read", m->base);
	memcpy(data, buf, size);
	memcpy(locks, buf + size, m->blocks);
	memcpy(uid, buf + (t->id.uid_addr - m->base), 12);
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

/* What to program over the whole data area: val[i] the wanted byte
 * where the chip (cur) differs, chg[i] = 1 there. Returns the number of
 * bytes to change, or -1 if one would need 0 -> 1 (the chip changed under
 * us since the plan was checked). */
static int changes(const otp_plan *p, const uint8_t *cur, uint8_t *val,
		   uint8_t *chg, size_t size)
{
	size_t i;
	int n = 0;

	memset(chg, 0, size);
	memcpy(val, cur, size);
	for (i = 0; i < p->n; i++) {
		size_t off = p->offset + i;
		if (cur[off] == p->want[i])
			continue;
		if (p->want[i] & ~cur[off])
			return -1;
		val[off] = p->want[i];
		chg[off] = 1;
		n++;
	}
	return n;
}

/* Widths programming may use: the widest the supply allows, x8 always,
 * x16 only with a 16-bit memory command (V2 >= J26: a byte fallback into
 * PSIZE x16 gives PGPERR, OOCD stlink_usb_write_ap_mem). Bit w set = width w
 * usable. */
static unsigned usable_widths(const stlink *s, unsigned widest)
{
	return 1u | (widest >= 2 && (s->features & STF_MEM16) ? 2u : 0u)
	       | (widest >= 4 ? 4u : 0u);
}

/* safety rule 3: only bytes that change are written, never a neighbour
 * that already holds its value (not even as 0xFF in a wider unit). Each
 * run of changing bytes is cut into aligned pieces, each as wide as its
 * alignment, the run's end and the usable widths allow: run 0x01-0x0A ->
 * byte 1, half-word 2, word 4, half-word 8, byte 10. wid[i] = the width
 * of byte i's piece, 0 where nothing is written. */
static void cut_pieces(const uint8_t *chg, size_t size, unsigned widths,
		       uint8_t *wid)
{
	size_t i = 0, end;
	unsigned w;

	memset(wid, 0, size);
	while (i < size) {
		if (!chg[i]) {
			i++;
			continue;
		}
		for (end = i; end < size && chg[end]; end++)
			;
		while (i < end) {
			for (w = 4; w > 1; w /= 2)
				if ((widths & w) && i % w == 0 && i + w <= end)
					break;
			memset(wid + i, (int)w, w);
			i += w;
		}
	}
}

static int is_retryable(const stlink *s)
{
	return s->err.code == ST_EWAIT || s->err.code == ST_ETARGET;
}

/* Every piece of width w (PSIZE already w). Burst: adjacent pieces are
 * one memory command, relying on the flash stalling the bus while BSY
 * (RM0090 §3.6) so back-to-back units program in order, one BSY/SR check
 * at the end. Unit: one unit, then BSY poll and SR check (OOCD/STL style,
 * RM0090 §3.5.4, OOCD stm32x_write). Returns 0, 1 when a burst reported
 * WAIT/FAULT or left an SR error flag (the caller retries per unit), -1. */
static int write_pass(target *t, const uint8_t *val, const uint8_t *wid,
		      size_t size, unsigned w, int mode, otp_stats *st)
{
	uint32_t base = t->id.otp->base;
	int unit = mode == OTP_MODE_UNIT;
	size_t i = 0, end;

	while (i < size) {
		if (wid[i] != w) {
			i++;
			continue;
		}
		for (end = i; end < size && wid[end] == w && !(unit && end > i);
		     end += w)
			;
		if (stlink_write_mem(t->st, base + (uint32_t)i, val + i,
				     end - i, w, unit ? 0 : STW_NO_RETRY)
		    != 0)
			return !unit && is_retryable(t->st) ? 1 : -1;
		if (unit
		    && flash_finish_op(t->st, &t->id.flash, "OTP program") != 0)
			return -1;
		st->units += (unsigned)((end - i) / w);
		i = end;
	}
	return unit ? 0
		    : flash_finish_burst(t->st, &t->id.flash, "OTP program");
}

/* One pass per width present, widest first, switching PSIZE between
 * passes (an access must match PSIZE or PGPERR, RM0090 §3.5.4, PM0059 §2.6).
 * *psize is the width CR holds. Returns as write_pass. */
static int write_pieces(target *t, const uint8_t *val, const uint8_t *wid,
			size_t size, unsigned *psize, int mode, otp_stats *st)
{
	unsigned w;
	int rc;

	for (w = 4; w >= 1; w /= 2) {
		if (memchr(wid, (int)w, size) == NULL)
			continue;
		if (w != *psize && flash_set_width(t->st, w) != 0)
			return -1;
		*psize = w;
		if ((rc = write_pass(t, val, wid, size, w, mode, st)) != 0)
			return rc;
	}
	return 0;
}

/* Round trips a burst of the pieces wid costs (write_pieces): per width
 * a CR write (but the first, which flash_begin sets) and an SR check, and
 * per memory command its data and its status; a command ends where the
 * width changes, at the firmware's limit or at a 1 KiB TAR block (as
 * stlink_mem.c splits it). */
static unsigned burst_cost(const stlink *s, uint32_t base, const uint8_t *wid,
			   size_t size)
{
	unsigned cost = 0, w, first = 1;
	size_t i, end, max, c;

	for (w = 4; w >= 1; w /= 2) {
		if (memchr(wid, (int)w, size) == NULL)
			continue;
		cost += (first ? 0 : 1) + 1;
		first = 0;
		max = w == 1 ? s->max_write8 : 6144;
		for (i = 0; i < size;) {
			if (wid[i] != w) {
				i++;
				continue;
			}
			for (end = i; end < size && wid[end] == w; end++)
				;
			for (; i < end; i += c, cost += 2) {
				uint32_t a = base + (uint32_t)i;
				c = end - i < max ? end - i : max;
				if (c > 1024 - (a & 1023))
					c = 1024 - (a & 1023);
			}
		}
	}
	return cost;
}

/* Pieces for a burst: the widest cut (cut_pieces), or every byte x8 in
 * one pass when that costs fewer round trips (19 bytes at offset 0 are
 * x32, x16 and x8 passes, or one x8 command). Narrower never breaks a
 * rule: x8 is allowed over the whole supply range (STM32F4 HAL
 * FLASH_VOLTAGE_RANGE_1, byte program from 1.8 V) and only
 * the changing bytes are written either way (rule 3). */
static void cut_burst(const stlink *s, uint32_t base, const uint8_t *chg,
		      size_t size, unsigned widths, uint8_t *wid)
{
	uint8_t one[OTP_MAX_DATA];

	cut_pieces(chg, size, widths, wid);
	cut_pieces(chg, size, 1, one);
	if (burst_cost(s, base, one, size) < burst_cost(s, base, wid, size))
		memcpy(wid, one, size);
}

/* The first width write_pieces will use, so flash_begin sets it at once. */
static unsigned first_width(const uint8_t *wid, size_t size)
{
	return memchr(wid, 4, size) ? 4 : memchr(wid, 2, size) ? 2 : 1;
}

/* Plan the pieces against what the chip holds now (cur), unlock, and
 * write them in `mode`. Returns as write_pass. */
static int program_from(target *t, const otp_plan *p, const uint8_t *cur,
			unsigned widest, int mode, otp_stats *st)
{
	size_t size = otp_map_size(t->id.otp);
	uint8_t val[OTP_MAX_DATA], chg[OTP_MAX_DATA], wid[OTP_MAX_DATA];
	unsigned psize;
	int n = changes(p, cur, val, chg, size);

	if (n < 0)
		return st_fail(
			&t->st->err, ST_EVERIFY, 0,
			"OTP holds unexpected bits (changed since checked, "
			"or after an interrupted burst)");
	if (st->bytes == 0)
		st->bytes = (unsigned)n;
	if (n == 0)
		return 0;
	if (mode == OTP_MODE_UNIT)
		cut_pieces(chg, size, usable_widths(t->st, widest), wid);
	else
		cut_burst(t->st, t->id.otp->base, chg, size,
			  usable_widths(t->st, widest), wid);
	psize = first_width(wid, size);
	if (flash_begin(t->st, &t->id.flash, psize, target_flash_known(t)) != 0)
		return -1;
	return write_pieces(t, val, wid, size, &psize, mode, st);
}

/* program_from, then relock whatever happened (flash_end_pass). */
static int program_pass(target *t, const otp_plan *p, const uint8_t *cur,
			unsigned widest, int mode, otp_stats *st)
{
	/* Still the chip attach identified: nothing is written otherwise. */
	int rc;

	if (target_guard(t, "an OTP program pass") != 0)
		return -1;
	rc = flash_end_pass(t->st, &t->id.flash,
			    program_from(t, p, cur, widest, mode, st));
	/* Every check of the pass found SR clean and CR was relocked. */
	if (rc == 0)
		target_flash_seen(t, 1, 1);
	return rc;
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
 * again one unit at a time; bytes already right are not written (rule 3). */
static int burn(target *t, const otp_plan *p, unsigned widest, int mode,
		otp_stats *st)
{
	uint8_t now[OTP_MAX_DATA], locks[OTP_BLOCKS];
	int rc = program_pass(t, p, p->chip, widest, mode, st);

	if (rc < 0 || otp_read_all(t, now, locks) != 0)
		return -1;
	if (rc == 0 && (mode == OTP_MODE_UNIT || in_place(p, now)))
		return check_read_back(t, p, now, locks);
	note_burst(t, rc, st);
	st->fell_back = 1;
	st->mode = OTP_MODE_UNIT;
	if (program_pass(t, p, now, widest, OTP_MODE_UNIT, st) != 0
	    || otp_read_all(t, now, locks) != 0)
		return -1;
	return check_read_back(t, p, now, locks);
}

int otp_write(target *t, long long offset, const uint8_t *want, size_t n,
	      int mode, unsigned max_width, otp_stats *st)
{
	uint64_t c0 = t->st->commands;
	otp_plan *p = malloc(sizeof *p);
	unsigned width = 0;
	int rc = -1;

	memset(st, 0, sizeof *st);
	st->mode = mode;
	st->volts = -1;
	if (p == NULL)
		return st_fail(&t->st->err, ST_ENOMEM, 0, "out of memory");
	/* Rules 1-2: the whole plan is checked before anything is written. */
	if (otp_plan_make(t, offset, want, n, p) != 0)
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
		if (burn(t, p, width, mode, st) != 0) {
			/* Failed or partial: the range may hold anything between
			 * old and wanted; a lock now needs `expect` (rule 4). */
			memset(t->wstate + p->offset, OTP_W_UNVERIFIED, n);
			goto out;
		}
		st->width = width;
	}
	rc = 0;
	memcpy(t->written + p->offset, want, n);
	memset(t->wstate + p->offset, OTP_W_VERIFIED, n);
out:
	st->commands = t->st->commands - c0;
	free(p);
	return rc;
}
