/*
 * The STM32F2/F4/F7 flash-controller sequence for programming (RM0090
 * §3.5.4, CMSIS, HAL FLASH_VOLTAGE_RANGE, PM0059 §2.6, OOCD stm32x_write):
 * keys, stale-flag clearing, PSIZE, PG, BSY polling, SR decoding, relock.
 * Register access only; no OTP policy.
 */
#ifndef STOTP_FLASH_H
#define STOTP_FLASH_H

#include <stdint.h>

#include "stlink.h"

/* What differs between lines of one controller design (CMSIS FLASH_SR). */
typedef struct flash_regs {
	int has_rderr; /* SR bit 8 RDERR exists */
	int erserr;    /* SR bit 7 is ERSERR (F7), else PGSERR */
} flash_regs;

/* Programming width for a measured supply (HAL FLASH_VOLTAGE_RANGE, STL #1335,
 * #1340): 4, 2 or 1 bytes; 2 only if the probe has 16-bit memory commands.
 * Refuses implausible or too-low readings. has_volts = 0: no reading
 * possible. */
int flash_width_for_supply(stlink *s, int has_volts, double volts,
			   unsigned *width);

/* From SR and CR as read: whether CR is locked and SR free of error flags
 * (and BSY). */
void flash_state_of(const flash_regs *f, uint32_t sr, uint32_t cr,
		    int *cr_locked, int *sr_clean);
/* SR, CR and OPTCR in one read (adjacent, RM0090 §3.9): whether CR is
 * locked and SR free of error flags, and OPTCR. */
int flash_read_state(stlink *s, const flash_regs *f, int *cr_locked,
		     int *sr_clean, uint32_t *optcr);
/* Unlock CR, wait BSY = 0, clear stale error flags, set PG | PSIZE.
 * known_clean: CR is known locked and SR free of error flags (seen so with
 * no write since): the keys go in at once and SR is left alone. */
int flash_begin(stlink *s, const flash_regs *f, unsigned width,
		int known_clean);
/* The key sequence and CR = PG | PSIZE for width appended to a batch, for
 * a CR known locked and an SR known clean (flash_begin's known_clean). No
 * key may go out twice (a repeated key locks CR until reset, RM0090
 * §3.5.1): stlink_batch_run never runs an item twice. */
void flash_batch_unlock(stlink_batch *b, unsigned width);
/* CR = PG | PSIZE for width, CR already unlocked and BSY = 0: a CR write
 * while BSY stalls the bus until the operation ends (RM0090 §3.6). */
int flash_set_width(stlink *s, unsigned width);
/* Poll SR until BSY = 0 (bounded), then decode its error flags. */
int flash_finish_op(stlink *s, const flash_regs *f, const char *what);
/* The same after a burst (several units in one memory command), whose
 * outcome is UNCONFIRMED (RM0090 §3.5.4; OOCD and STL poll BSY per unit): 1
 * when SR holds an error flag (the message in s->err; the caller clears it and
 * retries per unit), 0, or -1 when SR cannot be read or BSY never clears. */
int flash_finish_burst(stlink *s, const flash_regs *f, const char *what);
/* Clear SR flags left by a failed burst; fails if BSY never clears. */
int flash_recover(stlink *s, const flash_regs *f);
/* CR = LOCK (PG cleared). */
int flash_end(stlink *s);
/* End a programming pass that returned rc (1 burst trouble, 0, -1):
 * after burst trouble let the flash settle and clear its SR flags, so a
 * per-unit pass starts clean; then relock whatever happened, keeping the
 * first error in s->err. Returns rc, or -1 when the ending fails. */
int flash_end_pass(stlink *s, const flash_regs *f, int rc);

#endif
