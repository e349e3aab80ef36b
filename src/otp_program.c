/*
 * One OTP program pass (RM0090 §3.5.4, PM0059 §2.6): the bytes that
 * change, cut into pieces as wide as alignment and supply allow (or all
 * x8 when that costs fewer round trips), written behind the guard in
 * burst or unit mode, SR checked, CR relocked; or left open for a lock in
 * the same session (otp.c). Sources as otp.c's.
 */
#include <string.h>

#include "flash.h"
#include "otp_internal.h"
#include "target_internal.h"

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
		      size_t size, unsigned w, int mode, int open,
		      otp_stats *st)
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
		st->touched = 1;
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
	/* open: the caller reads back first, and checks SR after the locks
	 * (its error flags are sticky, RM0090 §3.9 FLASH_SR) */
	return unit || open
		       ? 0
		       : flash_finish_burst(t->st, &t->id.flash, "OTP program");
}

/* One pass per width present, widest first, switching PSIZE between
 * passes (an access must match PSIZE or PGPERR, RM0090 §3.5.4, PM0059 §2.6).
 * *psize is the width CR holds. Returns as write_pass. */
static int write_pieces(target *t, const uint8_t *val, const uint8_t *wid,
			size_t size, unsigned *psize, int mode, int open,
			otp_stats *st)
{
	unsigned w;
	int rc;

	for (w = 4; w >= 1; w /= 2) {
		if (memchr(wid, (int)w, size) == NULL)
			continue;
		if (w != *psize && flash_set_width(t->st, w) != 0)
			return -1;
		*psize = w;
		if ((rc = write_pass(t, val, wid, size, w, mode, open, st))
		    != 0)
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

int otp_program_pass(target *t, const otp_plan *p, const uint8_t *cur,
		     unsigned widest, int mode, int open, unsigned *psize,
		     otp_stats *st)
{
	size_t size = otp_map_size(t->id.otp);
	uint8_t val[OTP_MAX_DATA], chg[OTP_MAX_DATA], wid[OTP_MAX_DATA];
	int rc, n = changes(p, cur, val, chg, size);

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
	*psize = first_width(wid, size);
	if (target_unlock(t, "an OTP program pass", *psize) != 0)
		return -1;
	rc = write_pieces(t, val, wid, size, psize, mode, open, st);
	if (open && rc == 0)
		return 2;
	rc = flash_end_pass(t->st, &t->id.flash, rc);
	/* Every check of the pass found SR clean and CR was relocked. */
	if (rc == 0)
		target_flash_seen(t, 1, 1);
	return rc;
}

int otp_pass_close(target *t, int mode)
{
	int rc = mode == OTP_MODE_UNIT ? 0
				       : flash_finish_burst(t->st, &t->id.flash,
							    "OTP program");

	rc = flash_end_pass(t->st, &t->id.flash, rc);
	if (rc == 0)
		target_flash_seen(t, 1, 1);
	return rc;
}

int otp_pass_abort(target *t)
{
	return flash_end_pass(t->st, &t->id.flash, -1);
}
