/*
 * The checks before every program pass and every lock (issue 8 item 1,
 * issue 7 item 1, issue 13 item 3), and unlocking the flash behind them:
 * - DHCSR, one round trip of its own and always first: the core is still
 *   halted and S_RESET_ST (sticky until read, cleared at attach) shows no
 *   reset since. A watchdog, NRST or a brown-out would have relocked
 *   FLASH_CR and let the firmware run; a swapped board is running and
 *   was reset. Nothing at all is written to a chip that fails it.
 * - DBGMCU_IDCODE: the part attach identified still answers.
 * - the UID in a read of its own (attach read it with the OTP area): a
 *   reply corrupted once, at attach or now, makes the two differ. The
 *   OTP area read that came just before (otp.c reads the UID with it) is
 *   that read, when nothing went out since.
 * Sources: ARMv7-M DDI 0403E C1.6.2 (DHCSR); RM0090 §3.5.1 (the key
 * sequence), §38.6.1 (DBGMCU_IDCODE), §39.1 (the UID).
 */
#include <string.h>

#include "armv7m_regs.h"
#include "flash.h"
#include "target_internal.h"

int target_uid_check(target *t, const uint8_t now[12], const char *before)
{
	char was[25], is[25];

	if (memcmp(now, t->uid, 12) == 0)
		return 0;
	target_uid_hex(t, was);
	target_uid_format(now, is);
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "the UID read differently (%s at attach, %s now): the "
		       "chip or the link is unreliable, or another chip is "
		       "attached; nothing more written before %s",
		       was, is, before);
}

/* The last command sent read the UID again with the OTP area and it
 * matched attach's (otp.c): no command since could have changed the chip
 * behind it. */
static int uid_fresh(const target *t)
{
	return t->uid_stamp != 0 && t->uid_stamp == t->st->commands;
}

static int guard_core(target *t, const char *before)
{
	uint32_t dhcsr;

	if (!t->have_uid)
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "the UID was never read: nothing done before %s",
			       before);
	if (stlink_read_dbg(t->st, DHCSR, &dhcsr) != 0)
		return -1;
	if (!(dhcsr & DHCSR_S_RESET_ST) && (dhcsr & DHCSR_S_HALT))
		return 0;
	t->demcr_known = 0; /* the firmware ran */
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "the chip %s since attach (DHCSR 0x%08X: a watchdog, "
		       "NRST or the supply?): nothing more written before %s; "
		       "attach again",
		       (dhcsr & DHCSR_S_RESET_ST) ? "was reset"
						  : "is no longer halted",
		       dhcsr, before);
}

/* IDCODE (item 0 of b) as attach read it; the UID (items 1-3, when
 * uid_words) as attach read it. */
static int guard_values(target *t, const stlink_batch *b, int uid_words,
			const char *before)
{
	uint8_t now[12];
	unsigned i;

	if (b->item[0].value != t->id.idcode)
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "DBGMCU_IDCODE reads 0x%08X now, 0x%08X at "
			       "attach: another chip answers, or the probe or "
			       "its cable misbehaves; nothing more written "
			       "before %s",
			       b->item[0].value, t->id.idcode, before);
	if (!uid_words)
		return 0;
	for (i = 0; i < 3; i++)
		st_le32_put(now + 4 * i, b->item[1 + i].value);
	return target_uid_check(t, now, before);
}

/* The guard's reads after DHCSR. With RW_MISC the UID words ride in the
 * batch; without it they are one memory read (two round trips, not
 * three). b may hold items to run after them (the key sequence and PG |
 * PSIZE, flash_batch_unlock): a WAIT goes on from the item that waited,
 * so no key is ever written twice (stlink_batch_run). */
static int guard_batch(target *t, stlink_batch *b, int fresh,
		       const char *before)
{
	int misc = (t->st->features & STF_RW_MISC) != 0;
	int uid_words = misc && !fresh;
	unsigned i, n = b->n;
	uint8_t now[12];
	stlink_batch head = { 0 };

	stlink_batch_read(&head, DBGMCU_IDCODE);
	for (i = 0; uid_words && i < 3; i++)
		stlink_batch_read(&head, t->id.uid_addr + 4 * i);
	/* the guard's reads go first, whatever the caller queued after */
	for (i = 0; i < n; i++)
		head.item[head.n++] = b->item[i];
	*b = head;
	if (stlink_batch_run(t->st, b) != 0
	    || guard_values(t, b, uid_words, before) != 0)
		return -1;
	if (misc || fresh)
		return 0;
	if (stlink_read_mem(t->st, t->id.uid_addr, now, sizeof now, 4) != 0)
		return -1;
	return target_uid_check(t, now, before);
}

int target_unlock(target *t, const char *before, unsigned width)
{
	stlink_batch b = { 0 };
	int fresh = uid_fresh(t), known = target_flash_known(t);
	int batched = known && (t->st->features & STF_RW_MISC);
	st_error first;

	if (guard_core(t, before) != 0)
		return -1;
	if (!batched)
		return guard_batch(t, &b, fresh, before) != 0
			       ? -1
			       : flash_begin(t->st, &t->id.flash, width, known);
	/* The flash is known locked and clean and the firmware queues
	 * register accesses: the key sequence and PG | PSIZE ride in the
	 * guard's batch, two round trips for what took five. They come after
	 * the IDCODE and UID reads, which are checked before anything is
	 * programmed; DHCSR, checked already, showed the core halted and not
	 * reset since attach, so unlocking writes nothing to OTP, and a
	 * failed check relocks at once. */
	flash_batch_unlock(&b, width);
	if (guard_batch(t, &b, fresh, before) == 0)
		return 0;
	first = t->st->err;
	flash_end(t->st);
	t->st->err = first;
	return -1;
}
