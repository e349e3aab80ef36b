/*
 * Releasing the board after stotp is done with it: run the firmware, or
 * reset the chip (running, or halted at the reset vector). Without this a
 * board on a test fixture stays halted until it is power-cycled, since
 * leaving debug mode does not clear C_HALT.
 *
 * Sources: ARMv7-M Architecture Reference Manual (DDI 0403E) C1.6.2 DHCSR
 * (DBGKEY 0xA05F in [31:16], C_DEBUGEN bit 0, C_HALT bit 1, S_HALT bit 17,
 * S_RESET_ST bit 25), C1.6.5 DEMCR (VC_CORERESET bit 0), B3.2.6 AIRCR
 * (VECTKEY 0x05FA in [31:16], SYSRESETREQ bit 2). A system reset leaves
 * the debug registers alone (ARMv7-M C1.4.1: they are reset by a power-on
 * reset only), so C_DEBUGEN and DEMCR survive it.
 */
#include "armv7m_regs.h"
#include "target_internal.h"

#define AIRCR             0xE000ED0Cu
#define AIRCR_SYSRESETREQ 0x05FA0004u

/* The core's run state after a release (dhcsr as read): halted or not, as
 * wanted. */
static int check_halted(target *t, uint32_t dhcsr, int halted, const char *what)
{
	if (!(dhcsr & DHCSR_S_HALT) == !halted)
		return 0;
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "%s: the core is %s (DHCSR 0x%08X)", what,
		       halted ? "running, not halted" : "still halted", dhcsr);
}

static int expect_halted(target *t, int halted, const char *what)
{
	uint32_t dhcsr;

	if (stlink_read_dbg(t->st, DHCSR, &dhcsr) != 0)
		return -1;
	return check_halted(t, dhcsr, halted, what);
}

int target_run(target *t)
{
	t->demcr_known = 0;
	if (stlink_write_dbg(t->st, DHCSR, DHCSR_RUN) != 0)
		return -1;
	return expect_halted(t, 0, "run");
}

/* Vector catch decides where the core stands once the reset is over;
 * DEMCR is put back afterwards, so a later reset by the firmware or the
 * watchdog does not halt the board. The writes go as one register batch
 * (one command each without RW_MISC). A core let run shows so at once:
 * DHCSR stays readable through a system reset (the debug logic is reset by
 * a power-on reset only, ARMv7-M C1.4.1) and S_HALT is clear while the core
 * is held in reset and after, so that read rides in the batch; a halt at
 * the reset vector shows only once the reset is over, so that check reads
 * DHCSR in a command of its own. */
int target_reset(target *t, int halt)
{
	stlink_batch b = { 0 };
	uint32_t demcr;
	uint32_t catch_;

	/* attach's batch read DEMCR, and the core has not run since */
	if (t->demcr_known)
		demcr = t->demcr;
	else if (stlink_read_dbg(t->st, DEMCR, &demcr) != 0)
		return -1;
	t->demcr_known = 0;
	catch_ =
		halt ? demcr | DEMCR_VC_CORERESET : demcr & ~DEMCR_VC_CORERESET;
	/* DEMCR is written only where it changes (two round trips fewer on a
	 * station's release, issue 12 item 3). */
	if (catch_ != demcr)
		stlink_batch_write(&b, DEMCR, catch_);
	if (!halt)
		stlink_batch_write(&b, DHCSR, DHCSR_RUN);
	stlink_batch_write(&b, AIRCR, AIRCR_SYSRESETREQ);
	if (!halt)
		stlink_batch_read(&b, DHCSR);
	if (stlink_batch_run(t->st, &b) != 0)
		return -1;
	if (!halt)
		return check_halted(t, b.item[b.n - 1].value, 0, "reset");
	if (expect_halted(t, 1, "reset (halt)") != 0)
		return -1;
	if (catch_ == (demcr & ~DEMCR_VC_CORERESET))
		return 0;
	return stlink_write_dbg(t->st, DEMCR, demcr & ~DEMCR_VC_CORERESET);
}
