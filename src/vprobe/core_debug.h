/*
 * The Cortex-M core as a debugger sees it: run/halt state, the core debug
 * registers DHCSR/DCRSR/DCRDR/DEMCR (0xE000EDF0..0xE000EDFC) and the core
 * register file reached through DCRSR. Internal to mcu.c.
 */
#ifndef STOTP_VPROBE_CORE_DEBUG_H
#define STOTP_VPROBE_CORE_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#define VP_CORE_NREGS 0x60 /* DCRSR.REGSEL space 0..0x5F */

typedef struct vp_core {
	bool fpu; /* S0-S31, FPSCR present (M4F, M7) */
	bool halted;
	bool reset_st;  /* S_RESET_ST: reset since DHCSR was last read */
	bool retire_st; /* S_RETIRE_ST: instruction retired since last read */
	bool regrdy;    /* S_REGRDY */
	uint32_t ctrl;  /* C_* bits as last written (STL register.h) */
	uint32_t dcrsr, dcrdr, demcr;
	uint32_t regs[VP_CORE_NREGS];
} vp_core;

/* Power-up: running, debug disabled. */
void vp_core_init(vp_core *c, bool fpu);

/* System reset: the core restarts from the vector table (sp, pc given);
 * halts at once when debug is enabled and DEMCR.VC_CORERESET is set. The
 * debug registers (DHCSR C_*, DEMCR) keep their values: they are reset by
 * power-on only (ARMv7-M ARM C1.6). */
void vp_core_reset(vp_core *c, uint32_t sp, uint32_t pc);

/* DHCSR/DCRSR/DCRDR/DEMCR by offset from 0xE000EDF0 (0, 4, 8, 12). */
uint32_t vp_core_read_dbg(vp_core *c, uint32_t off);
void vp_core_write_dbg(vp_core *c, uint32_t off, uint32_t value);

/* Core registers for READREG/WRITEREG: false when running or the index is
 * not a register of this core. */
bool vp_core_get(const vp_core *c, unsigned regsel, uint32_t *value);
bool vp_core_set(vp_core *c, unsigned regsel, uint32_t value);

#endif
