/*
 * The independent and window watchdogs (IWDG at 0x40003000, WWDG at
 * 0x40002C00; RM0090 §21, §22, RM0385 §27, §28) in simulated time, and
 * what a debugger does to them (OOCD stm32f4x.cfg, BMP stm32f4.c): they count
 * while the core is halted unless DBGMCU_APB1_FZ freezes them (bit 12
 * DBG_IWDG_STOP, bit 11 DBG_WWDG_STOP). The firmware is not executed: a running
 * core is taken to refresh the watchdogs it started (firmware that did not
 * would reset-loop in the field), so they only run out while the core is
 * halted. Internal to mcu.c.
 */
#ifndef STOTP_VPROBE_WDG_H
#define STOTP_VPROBE_WDG_H

#include <stdbool.h>
#include <stdint.h>

#define VP_IWDG_BASE    0x40003000u
#define VP_WWDG_BASE    0x40002C00u
#define VP_APB1_FZ_WWDG (1u << 11)
#define VP_APB1_FZ_IWDG (1u << 12)

/* Who starts a watchdog (board image keys "iwdg", "wwdg"). */
enum vp_wdg_start {
	VP_WDG_OFF = 0,  /* never started */
	VP_WDG_FIRMWARE, /* the firmware starts it soon after each reset */
	VP_WDG_OPTION,   /* IWDG only: option bit WDG_SW = 0, started by
	                       hardware at every reset (RM0090 §3.7.1) */
};

typedef struct vp_wdg {
	enum vp_wdg_start iwdg_start, wwdg_start;
	bool iwdg_on, wwdg_on;
	bool iwdg_access;           /* KR 0x5555 given: PR/RLR writable */
	uint32_t iwdg_pr, iwdg_rlr; /* prescaler code, reload value */
	uint32_t wwdg_cr, wwdg_cfr;
	uint64_t iwdg_left_us, wwdg_left_us; /* time until it runs out */
	uint64_t last_us; /* clock time of the last vp_wdg_tick */
} vp_wdg;

/* Power-up and every system reset at clock time `now`: registers at their
 * reset values; the IWDG runs at once under VP_WDG_OPTION, and a watchdog
 * the firmware starts runs when the core runs after the reset. */
void vp_wdg_reset(vp_wdg *w, enum vp_wdg_start iwdg, enum vp_wdg_start wwdg,
		  uint64_t now);

/* Advance to clock time `now`. `halted`: the core was halted over the
 * interval; `fz`: DBGMCU_APB1_FZ. Returns 0, or the time (> 0, at most
 * now) at which a watchdog ran out (*which = 'I' or 'W'). */
uint64_t vp_wdg_tick(vp_wdg *w, uint64_t now, bool halted, uint32_t fz,
		     char *which);

/* Registers, by address; false when `addr` is not a watchdog's. */
bool vp_wdg_read(vp_wdg *w, uint32_t addr, uint32_t *value);
bool vp_wdg_write(vp_wdg *w, uint32_t addr, uint32_t value);

#endif
