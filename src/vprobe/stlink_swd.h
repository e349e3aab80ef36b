/*
 * The ST-Link's SWD engine as a target sees it: one AHB-AP transfer per
 * target access, WAIT ACKs retried a handful of times, posted writes that
 * complete after the firmware has given up, V3's status after a busy AP,
 * and the DP sticky error flags. stlink_fw.c runs every memory, debug
 * register and DRW/BDx access through vp_swd_access.
 */
#ifndef STOTP_VPROBE_STLINK_SWD_H
#define STOTP_VPROBE_STLINK_SWD_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "mcu.h"
#include "stlink_dap.h"

/* WAIT ACKs the firmware retries before it answers SWD_AP_WAIT: it gives
 * up when an access got WAIT "more than 4 times in a row" (OOCD commit
 * 9fce8a21c): tens of microseconds, not milliseconds. */
#define VP_SWD_WAIT_RETRIES 4

typedef struct vp_swd {
	vp_mcu *mcu;
	vp_clock *clock;
	vp_dap *dap;      /* CTRL/STAT sticky flags */
	unsigned khz;     /* SWD clock */
	uint64_t ns_debt; /* sub-microsecond SWD time not yet on the clock */
	bool v3;          /* a busy AP: WAIT, then AP_FAULT once (BMP) */
	bool sticky_kept; /* VPROBE_QUIRKS sticky=kept (the default) */
	bool fault_next;  /* V3: the next access answers AP_FAULT */
	struct {
		bool active; /* accepted by the AP, stalled on the AHB */
		uint32_t addr, val;
		unsigned size;
	} posted;
} vp_swd;

/* One SWD packet of time at the current clock. */
void vp_swd_charge(vp_swd *w);

/* One target access of `size` bytes; returns an ST-Link status
 * (stlink_fw.h): OK, AP_WAIT, AP_FAULT or DP_ERROR (no power). */
uint8_t vp_swd_access(vp_swd *w, bool write, uint32_t addr, unsigned size,
		      uint32_t *val);

/* A posted write lands once the bus frees (the board is about to be saved
 * or closed): simulated time runs until it does, bounded. */
void vp_swd_settle(vp_swd *w);

#endif
