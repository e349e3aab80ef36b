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
#include "target_internal.h"

#define DHCSR              0xE000EDF0u
#define DHCSR_RUN          0xA05F0001u /* DBGKEY | C_DEBUGEN, C_HALT clear */
#define DHCSR_S_HALT       (1u << 17)
#define DEMCR              0xE000EDFCu
#define DEMCR_VC_CORERESET (1u << 0)
#define AIRCR              0xE000ED0Cu
#define AIRCR_SYSRESETREQ  0x05FA0004u

/* The core's run state after a release: halted or not, as wanted. */
static int expect_halted(target *t, int halted, const char *what)
{
	uint32_t dhcsr;

	if (stlink_read_dbg(t->st, DHCSR, &dhcsr) != 0)
		return -1;
	if (!(dhcsr & DHCSR_S_HALT) == !halted)
		return 0;
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "%s: the core is %s (DHCSR 0x%08X)", what,
		       halted ? "running, not halted" : "still halted", dhcsr);
}

int target_run(target *t)
{
	if (stlink_write_dbg(t->st, DHCSR, DHCSR_RUN) != 0)
		return -1;
	return expect_halted(t, 0, "run");
}

/* Vector catch decides where the core stands once the reset is over;
 * DEMCR is put back afterwards, so a later reset by the firmware or the
 * watchdog does not halt the board. */
int target_reset(target *t, int halt)
{
	uint32_t demcr;
	uint32_t catch_;

	if (stlink_read_dbg(t->st, DEMCR, &demcr) != 0)
		return -1;
	catch_ =
		halt ? demcr | DEMCR_VC_CORERESET : demcr & ~DEMCR_VC_CORERESET;
	/* DEMCR is written only where it changes (two round trips fewer on a
	 * station's release, issue 12 item 3). */
	if ((catch_ != demcr && stlink_write_dbg(t->st, DEMCR, catch_) != 0)
	    || (!halt && stlink_write_dbg(t->st, DHCSR, DHCSR_RUN) != 0)
	    || stlink_write_dbg(t->st, AIRCR, AIRCR_SYSRESETREQ) != 0)
		return -1;
	if (expect_halted(t, halt, halt ? "reset (halt)" : "reset") != 0)
		return -1;
	if (catch_ == (demcr & ~DEMCR_VC_CORERESET))
		return 0;
	return stlink_write_dbg(t->st, DEMCR, demcr & ~DEMCR_VC_CORERESET);
}
