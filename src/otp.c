/*
 * OTP primitives; see otp.h. Layout facts §6.1, semantics §6.2 (RM0090
 * §3.8, PM0059 §2.7): programming only clears bits, a block is writable
 * until its lock byte is 0x00, lock bytes hold only 0x00 or 0xFF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otp.h"

#define AREA_MAX (OTP_MAX_DATA + OTP_BLOCKS)

static size_t area_size(const otp_map *m)
{
	return (size_t)m->blocks * m->block_size;
}

int otp_usable(target *t)
{
	if (t->id.supported && t->id.otp != NULL)
		return 0;
	return st_fail(&t->st->err, ST_EUNSUPPORTED, 0,
	               "%s (DEV_ID 0x%03X) is not an STM32F2/F4/F7: stotp does "
	               "not do OTP work on it", t->id.line, t->id.dev_id);
}

int otp_read_all(target *t, uint8_t *data, uint8_t *locks)
{
	const otp_map *m = t->id.otp;
	size_t size = area_size(m);
	uint8_t buf[AREA_MAX];

	if (otp_usable(t) != 0)
		return -1;
	/* Data and lock bytes are contiguous on every layout (lock_base ==
	 * base + size): one read, two round trips on an F4. */
	if (m->lock_base != m->base + size) {
		if (stlink_read_mem(t->st, m->base, data, size, 4) != 0)
			return -1;
		return stlink_read_mem(t->st, m->lock_base, locks, m->blocks, 4);
	}
	if (stlink_read_mem(t->st, m->base, buf, size + m->blocks, 4) != 0)
		return -1;
	memcpy(data, buf, size);
	memcpy(locks, buf + size, m->blocks);
	return 0;
}

/* Names the right area, and whose OTP an absolute address is (DESIGN
 * rule 6: 0x1FF0F000 is the F74x-F77x OTP, not the F4's). */
static int range_fail(target *t, size_t offset, size_t n)
{
	static const uint32_t others[][2] = {
		{ 0x1FFF7800u, 0 }, { 0x1FF0F000u, 1 }, { 0x1FF07800u, 2 } };
	static const char *const who[] = { "STM32F2/F4", "STM32F74x-F77x",
	                                   "STM32F72x/F73x" };
	const otp_map *m = t->id.otp;
	size_t size = area_size(m), i;
	char area[200], hint[120] = "";

	snprintf(area, sizeof area, "the %s OTP area is 0x%08X-0x%08zX (offsets "
	         "0-%zu); lock bytes 0x%08X-0x%08X go through otp_lock",
	         t->id.line, m->base, m->base + size - 1, size - 1, m->lock_base,
	         m->lock_base + m->blocks - 1);
	if (offset >= size + m->blocks) {
		for (i = 0; i < 3; i++)
			if (offset >= others[i][0] && offset < others[i][0] + 1024)
				snprintf(hint, sizeof hint, " (0x%08zX is in the OTP of "
				         "the %s)", offset, who[others[i][1]]);
		return st_fail(&t->st->err, ST_ERANGE, 0,
		               "offset 0x%zX is outside the OTP%s: %s", offset,
		               hint, area);
	}
	if (offset + n > size && offset < size + m->blocks)
		return st_fail(&t->st->err, ST_ERANGE, 0,
		               "bytes 0x%zX-0x%zX reach into the lock bytes: %s",
		               offset, offset + n - 1, area);
	return st_fail(&t->st->err, ST_ERANGE, 0,
	               "%zu bytes at offset 0x%zX do not fit: %s", n, offset, area);
}

static uint8_t classify(uint8_t old, uint8_t want, int locked)
{
	if (old == want)
		return OTP_SAME;
	if (locked)
		return OTP_LOCKED;
	if (want & ~old)
		return OTP_BITS;     /* needs a 0 -> 1: impossible (§6.2) */
	return OTP_PROGRAM;
}

int otp_plan_make(target *t, size_t offset, const uint8_t *want, size_t n,
                  otp_plan *p)
{
	uint8_t data[OTP_MAX_DATA];
	const otp_map *m;
	size_t i;

	if (otp_usable(t) != 0)
		return -1;
	m = t->id.otp;
	if (offset > area_size(m) || n > area_size(m) - offset)
		return range_fail(t, offset, n);
	memset(p, 0, sizeof *p);
	p->offset = offset;
	p->n = n;
	if (otp_read_all(t, data, p->locks) != 0)
		return -1;
	memcpy(p->chip, data, area_size(m));
	for (i = 0; i < n; i++) {
		size_t off = offset + i;
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
		return st_fail(&t->st->err, ST_EBITS, 0,
		               "%u byte(s) would need a bit from 0 to 1, first at "
		               "0x%08zX (0x%02X -> 0x%02X): OTP bits only clear; "
		               "nothing written", p->bits, m->base + p->offset + i,
		               p->old[i], p->want[i]);
	return st_fail(&t->st->err, ST_ELOCKED, 0,
	               "%u byte(s) fall in a locked block, first at 0x%08zX "
	               "(block %zu): nothing written", p->locked,
	               m->base + p->offset + i, (p->offset + i) / m->block_size);
}

/* Supply -> program width; x8 when the probe cannot measure (flash.c). */
static int pick_width(target *t, otp_stats *st, unsigned *width)
{
	int has = (t->st->features & STF_VOLTAGE) != 0;

	st->volts = -1;
	if (has && stlink_voltage(t->st, &st->volts) != 0)
		return -1;
	return flash_width_for_supply(t->st, has, st->volts, width);
}

/* The program image over the whole data area: the wanted value where the
 * chip differs, 0xFF (programs nothing) elsewhere. Returns bytes to change;
 * a byte that would need 0 -> 1 (chip changed under us) returns -1. */
static int build_image(const otp_plan *p, const uint8_t *cur, uint8_t *img,
                       size_t size)
{
	size_t i;
	int changes = 0;

	memset(img, 0xFF, size);
	for (i = 0; i < p->n; i++) {
		size_t off = p->offset + i;
		if (cur[off] == p->want[i])
			continue;
		if (p->want[i] & ~cur[off])
			return -1;
		img[off] = p->want[i];
		changes++;
	}
	return changes;
}

static int unit_dirty(const uint8_t *img, size_t u, unsigned width)
{
	unsigned i;

	for (i = 0; i < width; i++)
		if (img[u * width + i] != 0xFF)
			return 1;
	return 0;
}

/* Runs of dirty units, each one memory command: the flash stalls the bus
 * while BSY (RM0090 §3.6), so back-to-back units program in order.
 * Returns 0, 1 when a command reported WAIT/FAULT (fall back), or -1. */
static int burst(target *t, const uint8_t *img, size_t size, unsigned width,
                 otp_stats *st)
{
	size_t u, n = size / width;

	for (u = 0; u < n;) {
		size_t end = u;
		if (!unit_dirty(img, u, width)) {
			u++;
			continue;
		}
		while (end < n && unit_dirty(img, end, width))
			end++;
		if (stlink_write_mem(t->st, t->id.otp->base + (uint32_t)(u * width),
		                     img + u * width, (end - u) * width, width,
		                     STW_NO_RETRY) != 0)
			return t->st->err.code == ST_EWAIT
			       || t->st->err.code == ST_ETARGET ? 1 : -1;
		st->units += (unsigned)(end - u);
		u = end;
	}
	return flash_finish_op(t->st, &t->id.flash, "OTP program");
}

/* One unit, then BSY poll and SR check (OOCD/STL style, facts §6.3). */
static int per_unit(target *t, const uint8_t *img, size_t size,
                    unsigned width, otp_stats *st)
{
	size_t u;

	for (u = 0; u < size / width; u++) {
		if (!unit_dirty(img, u, width))
			continue;
		if (stlink_write_mem(t->st, t->id.otp->base + (uint32_t)(u * width),
		                     img + u * width, width, width, 0) != 0
		    || flash_finish_op(t->st, &t->id.flash, "OTP program") != 0)
			return -1;
		st->units++;
	}
	return 0;
}

/* After a failed burst: settle the controller, re-read what the chip now
 * holds, and rebuild the image for the units still to do. */
static int fallback_image(target *t, const otp_plan *p, uint8_t *img,
                          size_t size, unsigned width)
{
	uint8_t cur[OTP_MAX_DATA], locks[OTP_BLOCKS];

	if (flash_recover(t->st, &t->id.flash) != 0
	    || flash_begin(t->st, &t->id.flash, width) != 0
	    || otp_read_all(t, cur, locks) != 0)
		return -1;
	if (build_image(p, cur, img, size) < 0)
		return st_fail(&t->st->err, ST_EVERIFY, 0,
		               "OTP holds unexpected bits after an interrupted burst");
	return 0;
}

static int program(target *t, const otp_plan *p, const uint8_t *cur,
                   unsigned width, int mode, otp_stats *st)
{
	size_t size = area_size(t->id.otp);
	uint8_t img[OTP_MAX_DATA];
	st_error keep;
	int rc;

	st->bytes = (unsigned)build_image(p, cur, img, size);
	if (flash_begin(t->st, &t->id.flash, width) != 0)
		rc = -1;
	else if (mode == OTP_MODE_UNIT)
		rc = per_unit(t, img, size, width, st);
	else if ((rc = burst(t, img, size, width, st)) == 1) {
		st->fell_back = 1;
		st->mode = OTP_MODE_UNIT;
		rc = fallback_image(t, p, img, size, width) != 0
		     ? -1 : per_unit(t, img, size, width, st);
	}
	/* Relock whatever happened; the first error is the one reported. */
	keep = t->st->err;
	if (flash_end(t->st) != 0 && rc == 0)
		return -1;
	if (rc != 0)
		t->st->err = keep;
	return rc;
}

/* Read the whole area back: the range must hold the wanted bytes and
 * nothing else may have moved (DESIGN rule 5). */
static int verify(target *t, const otp_plan *p, const uint8_t *before,
                  const uint8_t *locks_before)
{
	const otp_map *m = t->id.otp;
	uint8_t now[OTP_MAX_DATA], locks[OTP_BLOCKS];
	size_t i, size = area_size(m);

	if (otp_read_all(t, now, locks) != 0)
		return -1;
	for (i = 0; i < size; i++) {
		int in = i >= p->offset && i < p->offset + p->n;
		uint8_t want = in ? p->want[i - p->offset] : before[i];
		if (now[i] != want)
			return st_fail(&t->st->err, ST_EVERIFY, 0,
			               "read-back of 0x%08zX is 0x%02X, expected 0x%02X%s",
			               m->base + i, now[i], want,
			               in ? "" : " (outside the write)");
	}
	if (memcmp(locks, locks_before, m->blocks) != 0)
		return st_fail(&t->st->err, ST_EVERIFY, 0,
		               "lock bytes changed during a data write");
	return 0;
}

int otp_write(target *t, size_t offset, const uint8_t *want, size_t n,
              int mode, otp_stats *st)
{
	uint64_t c0 = t->st->commands;
	otp_plan *p = malloc(sizeof *p);
	unsigned width = 0;
	size_t i;
	int rc = -1;

	memset(st, 0, sizeof *st);
	st->mode = mode;
	st->volts = -1;
	if (p == NULL)
		return st_fail(&t->st->err, ST_EUSB, 0, "out of memory");
	/* Rules 1-2: the whole plan is checked before anything is written. */
	if (otp_plan_make(t, offset, want, n, p) != 0)
		goto out;
	if (p->bits || p->locked) {
		refuse(t, p);
		goto out;
	}
	rc = 0;
	if (p->program == 0)
		goto out;       /* rule 3: nothing differs, nothing written */
	if (pick_width(t, st, &width) != 0
	    || program(t, p, p->chip, width, mode, st) != 0
	    || verify(t, p, p->chip, p->locks) != 0) {
		rc = -1;
		goto out;
	}
	st->width = width;
	for (i = 0; i < n; i++) {
		t->written[offset + i] = want[i];
		t->written_set[offset + i] = 1;
	}
out:
	st->commands = t->st->commands - c0;
	free(p);
	return rc;
}

/* Rule 4: a block is locked only if its data reads back as this handle
 * wrote it (bytes it never wrote: the read itself must have succeeded). */
static int check_block_data(target *t, const uint8_t *data, unsigned b)
{
	const otp_map *m = t->id.otp;
	size_t i, first = (size_t)b * m->block_size;

	for (i = first; i < first + m->block_size; i++)
		if (t->written_set[i] && data[i] != t->written[i])
			return st_fail(&t->st->err, ST_EVERIFY, 0,
			               "block %u does not read back as written (0x%08zX "
			               "reads 0x%02X, wrote 0x%02X): not locking", b,
			               m->base + i, data[i], t->written[i]);
	return 0;
}

/* Lock bytes are written one byte wide, PSIZE x8 and 8-bit accesses, so
 * no neighbour is ever programmed (CubeProgrammer damaged F767 neighbours,
 * facts §6.2). A run of adjacent blocks is one 8-bit command of single-
 * byte accesses; on WAIT/FAULT each remaining byte goes alone. */
static int write_locks(target *t, uint32_t todo, otp_stats *st)
{
	const otp_map *m = t->id.otp;
	static const uint8_t zeros[OTP_BLOCKS] = { 0 };
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	unsigned b, e;

	for (b = 0; b < m->blocks;) {
		if (!(todo >> b & 1)) {
			b++;
			continue;
		}
		for (e = b; e < m->blocks && (todo >> e & 1); e++)
			;
		if (stlink_write_mem(t->st, m->lock_base + b, zeros, e - b, 1,
		                     STW_NO_RETRY) != 0)
			goto fallback;
		st->units += e - b;
		b = e;
	}
	return flash_finish_op(t->st, &t->id.flash, "OTP lock");
fallback:
	if (t->st->err.code != ST_EWAIT && t->st->err.code != ST_ETARGET)
		return -1;
	st->fell_back = 1;
	if (flash_recover(t->st, &t->id.flash) != 0
	    || flash_begin(t->st, &t->id.flash, 1) != 0
	    || otp_read_all(t, data, locks) != 0)
		return -1;
	for (b = 0; b < m->blocks; b++) {
		if (!(todo >> b & 1) || locks[b] == 0x00)
			continue;
		if (stlink_write_mem(t->st, m->lock_base + b, zeros, 1, 1, 0) != 0
		    || flash_finish_op(t->st, &t->id.flash, "OTP lock") != 0)
			return -1;
		st->units++;
	}
	return 0;
}

static int verify_locks(target *t, uint32_t todo, const uint8_t *data0,
                        const uint8_t *locks0)
{
	const otp_map *m = t->id.otp;
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	unsigned b;

	if (otp_read_all(t, data, locks) != 0)
		return -1;
	for (b = 0; b < m->blocks; b++) {
		uint8_t want = (todo >> b & 1) ? 0x00 : locks0[b];
		if (locks[b] != want)
			return st_fail(&t->st->err, ST_EVERIFY, 0,
			               "lock byte %u (0x%08X) reads 0x%02X, expected "
			               "0x%02X", b, m->lock_base + b, locks[b], want);
	}
	if (memcmp(data, data0, area_size(m)) != 0)
		return st_fail(&t->st->err, ST_EVERIFY, 0,
		               "OTP data changed while writing lock bytes");
	return 0;
}

int otp_lock(target *t, uint32_t blocks, otp_stats *st)
{
	uint64_t c0 = t->st->commands;
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	uint32_t todo = 0;
	unsigned b, width;
	st_error keep;
	int rc = -1;

	memset(st, 0, sizeof *st);
	st->volts = -1;
	st->width = 1;
	if (otp_usable(t) != 0)
		return -1;
	if (blocks >> t->id.otp->blocks)
		return st_fail(&t->st->err, ST_ERANGE, 0,
		               "OTP blocks are numbered 0-%u", t->id.otp->blocks - 1);
	if (otp_read_all(t, data, locks) != 0)
		goto out;
	for (b = 0; b < t->id.otp->blocks; b++) {
		if (!(blocks >> b & 1) || locks[b] == 0x00)
			continue;   /* already locked: rule 3, not written again */
		if (check_block_data(t, data, b) != 0)
			goto out;
		todo |= 1u << b;
	}
	rc = 0;
	if (todo == 0)
		goto out;
	/* x8 is allowed from 1.8 V; the supply check still applies. */
	if (pick_width(t, st, &width) != 0) {
		rc = -1;
		goto out;
	}
	rc = flash_begin(t->st, &t->id.flash, 1) != 0 ? -1
	                                              : write_locks(t, todo, st);
	keep = t->st->err;
	if (flash_end(t->st) != 0 && rc == 0)
		rc = -1;
	else if (rc != 0)
		t->st->err = keep;
	if (rc == 0)
		rc = verify_locks(t, todo, data, locks);
out:
	st->commands = t->st->commands - c0;
	return rc;
}
