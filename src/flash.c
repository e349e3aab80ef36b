/* Flash-controller sequence; see flash.h. Register facts: CMSIS. */
#include <time.h>

#include "flash.h"
#include "stlink_internal.h"

#define FLASH_R_BASE 0x40023C00u /* F2, F4, F7 (CMSIS FLASH_R_BASE) */
#define FLASH_KEYR   (FLASH_R_BASE + 0x04)
#define FLASH_SR     (FLASH_R_BASE + 0x0C)
#define FLASH_CR     (FLASH_R_BASE + 0x10)
#define KEY1         0x45670123u
#define KEY2         0xCDEF89ABu
#define CR_PG        0x1u
#define CR_LOCK      0x80000000u
#define SR_EOP       (1u << 0)
#define SR_OPERR     (1u << 1)
#define SR_WRPERR    (1u << 4)
#define SR_PGAERR    (1u << 5)
#define SR_PGPERR    (1u << 6)
#define SR_PGSERR    (1u << 7) /* ERSERR on F7 */
#define SR_RDERR     (1u << 8)
#define SR_BSY       (1u << 16)
#define BSY_POLLS    200 /* bounded: never hang on a dead BSY */

/* Margins around the HAL voltage ranges (HAL FLASH_VOLTAGE_RANGE), so a reading
 * a little high never picks a width the real supply does not allow; and
 * limits against absurd readings (STL #1335 "1 mV", STL #1340). */
#define V_MIN 1.85 /* byte program from 1.8 V (F4) */
#define V_X16 2.15 /* half-word from 2.1 V */
#define V_X32 2.75 /* word from 2.7 V */
#define V_MAX 3.70 /* 3.6 V max, plus reading error */

int flash_width_for_supply(stlink *s, int has_volts, double volts,
			   unsigned *width)
{
	if (!has_volts) {
		/* No GET_TARGET_VOLTAGE (V2 < J13): bytes are allowed over the
		 * whole 1.8-3.6 V range, so x8 is the one safe choice. */
		*width = 1;
		return 0;
	}
	/* Clone probes have been seen to report a constant or garbage
	 * reading (STL #1335 "1 mV", #1340): the message says
	 * so, and names the option that narrows the width by hand. */
	if (volts < V_MIN)
		return st_fail(
			&s->err, ST_EVOLTAGE, 0,
			"target supply %.2f V is below %.2f V: too low to "
			"program flash/OTP safely (no target power? or the "
			"probe's reading is wrong, as clone probes' can be: "
			"measure the supply)",
			volts, V_MIN);
	if (volts > V_MAX)
		return st_fail(
			&s->err, ST_EVOLTAGE, 0,
			"target supply reads %.2f V, above the 3.6 V maximum: "
			"the probe's voltage reading is absurd (clone probes "
			"report constant or garbage values); refusing to "
			"program on it",
			volts);
	if (volts >= V_X32)
		*width = 4;
	else if (volts >= V_X16 && (s->features & STF_MEM16))
		*width = 2;
	else
		*width =
			1; /* PSIZE must match an access width we really have */
	return 0;
}

static uint32_t sr_errors(const flash_regs *f)
{
	return SR_OPERR | SR_WRPERR | SR_PGAERR | SR_PGPERR | SR_PGSERR
	       | (f->has_rderr ? SR_RDERR : 0);
}

/* SR error flags -> one message (RM0090 §3.5.4, PM0059 §2.6). */
static int sr_fail(stlink *s, const flash_regs *f, uint32_t sr,
		   const char *what)
{
	const char *why = "error";

	if (sr & SR_WRPERR)
		why = "WRPERR: write protection (a locked OTP block or "
		      "protected area)";
	else if (sr & SR_PGPERR)
		why = "PGPERR: access width does not match PSIZE";
	else if (sr & SR_PGAERR)
		why = "PGAERR: programming crosses a 128-bit row";
	else if (sr & SR_PGSERR)
		why = f->erserr ? "ERSERR: programming sequence error"
				: "PGSERR: programming sequence error (PG not "
				  "set?)";
	else if (sr & SR_OPERR)
		why = "OPERR: operation error";
	else if (sr & SR_RDERR)
		why = "RDERR: read protection error";
	return st_fail(&s->err, ST_EFLASH, (int)sr,
		       "%s failed: FLASH_SR 0x%08X, %s", what, sr, why);
}

static int wait_idle(stlink *s, uint32_t *sr)
{
	int i;

	for (i = 0; i < BSY_POLLS; i++) {
		if (stlink_read_dbg(s, FLASH_SR, sr) != 0)
			return -1;
		if (!(*sr & SR_BSY))
			return 0;
		if (i >= 2) { /* tprog is ~16-100 us; sleep only if slower */
			struct timespec ts = { 0, 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	return st_fail(&s->err, ST_EFLASH, (int)*sr,
		       "flash stays busy (FLASH_SR 0x%08X, BSY after %d polls)",
		       *sr, BSY_POLLS);
}

static uint32_t psize_bits(unsigned width);

/* The key sequence (RM0090 §3.5.1), on a CR read or known locked. */
static int keys(stlink *s)
{
	return stlink_write_dbg(s, FLASH_KEYR, KEY1) != 0
			       || stlink_write_dbg(s, FLASH_KEYR, KEY2) != 0
		       ? -1
		       : 0;
}

void flash_batch_unlock(stlink_batch *b, unsigned width)
{
	stlink_batch_write(b, FLASH_KEYR, KEY1);
	stlink_batch_write(b, FLASH_KEYR, KEY2);
	stlink_batch_write(b, FLASH_CR, CR_PG | psize_bits(width));
}

static int unlock(stlink *s)
{
	uint32_t cr;

	if (stlink_read_dbg(s, FLASH_CR, &cr) != 0)
		return -1;
	if (!(cr & CR_LOCK))
		return 0; /* keys on an unlocked CR would fail (OOCD) */
	if (keys(s) != 0 || stlink_read_dbg(s, FLASH_CR, &cr) != 0)
		return -1;
	if (cr & CR_LOCK)
		return st_fail(&s->err, ST_EFLASH, (int)cr,
			       "FLASH_CR stays locked after the key sequence "
			       "(CR 0x%08X)",
			       cr);
	return 0;
}

int flash_recover(stlink *s, const flash_regs *f)
{
	uint32_t sr;

	if (wait_idle(s, &sr) != 0)
		return -1;
	/* Error flags are write-1-to-clear (CMSIS). */
	if (sr & (sr_errors(f) | SR_EOP))
		return stlink_write_dbg(s, FLASH_SR, sr_errors(f) | SR_EOP);
	return 0;
}

/* PSIZE: x8 00, x16 01, x32 10 in FLASH_CR[9:8] (RM0090 §3.9, FLASH_CR). */
static uint32_t psize_bits(unsigned width)
{
	return (width == 4 ? 2u : width == 2 ? 1u : 0u) << 8;
}

int flash_set_width(stlink *s, unsigned width)
{
	return stlink_write_dbg(s, FLASH_CR, CR_PG | psize_bits(width));
}

int flash_read_state(stlink *s, const flash_regs *f, int *cr_locked,
		     int *sr_clean, uint32_t *optcr)
{
	uint8_t r[12];
	uint32_t sr;

	/* FLASH_SR 0x0C, FLASH_CR 0x10, FLASH_OPTCR 0x14 (RM0090 §3.9,
	 * the register map): one memory command instead of three register reads. */
	if (stlink_read_mem(s, FLASH_SR, r, sizeof r, 4) != 0)
		return -1;
	sr = st_le32_get(r);
	flash_state_of(f, sr, st_le32_get(r + 4), cr_locked, sr_clean);
	*optcr = st_le32_get(r + 8);
	return 0;
}

void flash_state_of(const flash_regs *f, uint32_t sr, uint32_t cr,
		    int *cr_locked, int *sr_clean)
{
	*cr_locked = (cr & CR_LOCK) != 0;
	*sr_clean = !(sr & (sr_errors(f) | SR_BSY));
}

int flash_begin(stlink *s, const flash_regs *f, unsigned width, int known_clean)
{
	/* Known locked and clean: no CR read first. A CR the keys failed
	 * to unlock ignores PG, so the program operation fails with PGSERR
	 * and nothing is written (RM0090, FLASH_SR PGSERR): the SR check
	 * after it reports that. */
	if (known_clean)
		return keys(s) != 0 ? -1 : flash_set_width(s, width);
	/* Stale PGSERR/PGPERR after reset make the first program fail
	 * (RM0090 §3.5.4, PM0059 §2.6, ST community 20564): clear them before
	 * setting PG. */
	if (unlock(s) != 0 || flash_recover(s, f) != 0)
		return -1;
	return flash_set_width(s, width);
}

int flash_finish_op(stlink *s, const flash_regs *f, const char *what)
{
	uint32_t sr;

	if (wait_idle(s, &sr) != 0)
		return -1;
	if (sr & sr_errors(f))
		return sr_fail(s, f, sr, what);
	return 0;
}

int flash_finish_burst(stlink *s, const flash_regs *f, const char *what)
{
	uint32_t sr;

	if (wait_idle(s, &sr) != 0)
		return -1;
	if (sr & sr_errors(f)) {
		sr_fail(s, f, sr, what);
		return 1;
	}
	return 0;
}

int flash_end(stlink *s)
{
	return stlink_write_dbg(s, FLASH_CR, CR_LOCK);
}

int flash_end_pass(stlink *s, const flash_regs *f, int rc)
{
	st_error keep;

	if (rc == 1 && flash_recover(s, f) != 0)
		rc = -1;
	keep = s->err;
	if (flash_end(s) != 0 && rc >= 0)
		return -1;
	if (rc < 0)
		s->err = keep;
	return rc;
}
