/*
 * Locking OTP blocks (DESIGN rule 4; facts §6.2): a block's lock byte is
 * written 0x00, one byte wide, only after the block's data reads back as
 * this handle wrote it, and all lock bytes are read back afterwards.
 */
#include <string.h>

#include "otp.h"

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
	if (memcmp(data, data0, otp_map_size(m)) != 0)
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
	if (otp_supply_width(t, st, &width) != 0) {
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

int otp_lock_list(target *t, const long long *blocks, size_t n,
                  otp_stats *st)
{
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
			return st_fail(&t->st->err, ST_ERANGE, 0,
			               "no OTP block %lld: blocks are numbered 0-%u; "
			               "nothing locked", b, t->id.otp->blocks - 1);
		if (mask >> b & 1)
			/* A lock cannot be undone: a repeated number more likely
			 * stands where another block was meant. */
			return st_fail(&t->st->err, ST_ERANGE, 0,
			               "block %lld is named twice; nothing locked", b);
		mask |= 1u << b;
	}
	return otp_lock(t, mask, st);
}
