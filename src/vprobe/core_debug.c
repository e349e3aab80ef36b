/*
 * Core debug: DHCSR run/halt, DCRSR register transfers, DEMCR.
 *
 * Bit positions (STL register.h, OOCD
 * stlink_usb_run/halt). Behaviour: ARMv7-M Architecture Reference Manual
 * C1.6 (Debug system registers). The program itself is not executed: a
 * running core changes no state except S_RETIRE_ST.
 */
#include <string.h>

#include "core_debug.h"

#define DHCSR_KEY          0xA05F0000u /* upper half of a DHCSR write */
#define C_DEBUGEN          (1u << 0)
#define C_HALT             (1u << 1)
#define C_STEP             (1u << 2)
#define C_MASKINTS         (1u << 3)
#define C_SNAPSTALL        (1u << 5)
#define C_MASK             (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL)
#define S_REGRDY           (1u << 16)
#define S_HALT             (1u << 17)
#define S_RETIRE_ST        (1u << 24)
#define S_RESET_ST         (1u << 25)
#define DCRSR_REGWNR       (1u << 16)
#define DEMCR_VC_CORERESET (1u << 0)
/* DEMCR writable bits: VC_* [10:0] (bit 0, 4-10), MON_* [19:16], TRCENA 24. */
#define DEMCR_MASK 0x010F07F1u

#define REG_XPSR 16
#define REG_MSP  17
#define REG_PSP  18
#define REG_SPECIAL                                                            \
	20 /* CONTROL[31:24] FAULTMASK[23:16] BASEPRI[15:8] PRIMASK[7:0] */
#define REG_FPSCR 0x21

void vp_core_init(vp_core *c, bool fpu)
{
	memset(c, 0, sizeof *c);
	c->fpu = fpu;
	c->reset_st = true;
	c->retire_st = true;
	c->regs[REG_XPSR] = 0x01000000u; /* T bit */
}

/* Register indices DCRSR accepts (ARMv7-M C1.6.3): r0-r15, xPSR, MSP, PSP,
 * the special-register word, and with an FPU FPSCR and S0-S31. The
 * reserved indices in between (19, 21..0x20) are accepted too and hold
 * what is written: hosts such as OpenOCD and the ST-Link's READALLREGS
 * walk the range, and a real core does not fault them. */
static bool valid_reg(const vp_core *c, unsigned regsel)
{
	if (regsel < REG_FPSCR)
		return true;
	return c->fpu
	       && (regsel == REG_FPSCR || (regsel >= 0x40 && regsel <= 0x5F));
}

void vp_core_reset(vp_core *c, uint32_t sp, uint32_t pc)
{
	bool fpu = c->fpu;
	uint32_t ctrl = c->ctrl, demcr = c->demcr;
	memset(c->regs, 0, sizeof c->regs);
	c->fpu = fpu;
	c->regs[13] = sp & ~3u;
	c->regs[REG_MSP] = sp & ~3u;
	c->regs[15] = pc & ~1u;
	c->regs[14] = 0xFFFFFFFFu; /* LR reset value (ARMv7-M B1.5.5) */
	c->regs[REG_XPSR] = (pc & 1u) << 24;
	c->reset_st = true;
	c->regrdy = false;
	/* Vector catch on reset halts before the first instruction. The C_HALT
	 * bit is shown set then, because STL tests C_HALT, not S_HALT
	 * (STL register.h). */
	c->halted = (ctrl & C_DEBUGEN) && (demcr & DEMCR_VC_CORERESET);
	c->ctrl = c->halted ? (ctrl | C_HALT) : (ctrl & ~C_HALT);
	c->retire_st = !c->halted;
}

uint32_t vp_core_read_dbg(vp_core *c, uint32_t off)
{
	switch (off) {
	case 0: {
		uint32_t v = c->ctrl | (c->regrdy ? S_REGRDY : 0)
			     | (c->halted ? S_HALT : 0)
			     | (c->retire_st ? S_RETIRE_ST : 0)
			     | (c->reset_st ? S_RESET_ST : 0);
		/* S_RESET_ST and S_RETIRE_ST clear on read (ARMv7-M C1.6.2); a
		 * running core retires instructions again at once. */
		c->reset_st = false;
		c->retire_st = !c->halted;
		return v;
	}
	case 4:
		return 0; /* DCRSR is write-only */
	case 8:
		return c->dcrdr;
	case 12:
		return c->demcr;
	default:
		return 0;
	}
}

static void dhcsr_write(vp_core *c, uint32_t v)
{
	/* Writes without the key are ignored (ARMv7-M C1.6.2). */
	if ((v & 0xFFFF0000u) != DHCSR_KEY)
		return;
	c->ctrl = v & C_MASK;
	if (!(c->ctrl & C_DEBUGEN)) {
		c->ctrl = 0;
		c->halted = false;
		return;
	}
	if (c->ctrl & C_HALT) {
		c->halted = true;
	} else if (c->halted && (c->ctrl & C_STEP)) {
		c->retire_st = true; /* one instruction, then halted again */
	} else {
		c->halted = false;
		c->retire_st = true;
	}
}

/* A DCRSR write moves one register between DCRDR and the core; S_REGRDY is
 * clear while it runs and set when done. Transfers are instant here. While
 * running the result is UNPREDICTABLE (ARMv7-M C1.6.3): nothing moves and
 * S_REGRDY stays clear. Unknown indices move nothing (DCRDR reads 0). */
static void dcrsr_write(vp_core *c, uint32_t v)
{
	unsigned regsel = v & 0x7Fu;
	c->dcrsr = v;
	c->regrdy = false;
	if (!c->halted)
		return;
	if (v & DCRSR_REGWNR) {
		if (valid_reg(c, regsel))
			c->regs[regsel] = c->dcrdr;
	} else {
		c->dcrdr = valid_reg(c, regsel) ? c->regs[regsel] : 0;
	}
	c->regrdy = true;
}

void vp_core_write_dbg(vp_core *c, uint32_t off, uint32_t value)
{
	switch (off) {
	case 0:
		dhcsr_write(c, value);
		break;
	case 4:
		dcrsr_write(c, value);
		break;
	case 8:
		c->dcrdr = value;
		break;
	case 12:
		c->demcr = value & DEMCR_MASK;
		break;
	default:
		break;
	}
}

bool vp_core_get(const vp_core *c, unsigned regsel, uint32_t *value)
{
	if (!c->halted || regsel >= VP_CORE_NREGS || !valid_reg(c, regsel))
		return false;
	*value = c->regs[regsel];
	return true;
}

bool vp_core_set(vp_core *c, unsigned regsel, uint32_t value)
{
	if (!c->halted || regsel >= VP_CORE_NREGS || !valid_reg(c, regsel))
		return false;
	c->regs[regsel] = value;
	if (regsel == 13)
		c->regs[REG_MSP] =
			value; /* SP is MSP with CONTROL.SPSEL=0 (ARMv7-M B1.4.1) */
	else if (regsel == REG_MSP)
		c->regs[13] = value;
	return true;
}
