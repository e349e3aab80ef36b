/*
 * The SWD engine of the ST-Link firmware model (stlink_swd.h). Sources:
 * ADIv5 (SW-DP ACKs, posted AP writes, sticky flags), OOCD commit
 * 9fce8a21c (the WAIT threshold), BMP stlinkv2.c (V3's answer
 * to a busy AP), PYO stlink.py and OOCD stlink_dap_run_finalize
 * (hosts clear sticky flags with DP ABORT).
 */
#include "stlink_swd.h"

#include "stlink_fw.h"

/* Simulated time a posted write may still take at settle: longer than any
 * program or erase the flash model runs (a mass erase is terase x 16). */
#define SETTLE_MAX_US 60000000ull

/* One SWD packet: 8 request + turnaround + 3 ACK + turnaround + 32 data +
 * parity = 46 clocks at the chosen SWD frequency (ADIv5 SWD protocol). */
void vp_swd_charge(vp_swd *w)
{
	w->ns_debt += 46ull * 1000000ull / w->khz;
	vp_clock_advance(w->clock, w->ns_debt / 1000);
	w->ns_debt %= 1000;
}

static uint8_t bus_status(vp_swd *w, vp_bus r)
{
	switch (r) {
	case VP_BUS_OK:
		return VP_ST_OK;
	case VP_BUS_NOPOWER:
		return VP_ST_DP_ERROR; /* no ACK at all */
	case VP_BUS_STALL:
		return VP_ST_AP_WAIT;
	case VP_BUS_FAULT:
		break;
	}
	/* ADIv5: a FAULT response sets CTRL/STAT.STICKYERR */
	vp_dap_set_stickyerr(w->dap);
	return VP_ST_AP_FAULT;
}

/* The AP finishes the transfer it accepted before it takes another (ADIv5
 * MEM-AP): while the AHB stalls, every new access is answered WAIT. */
static vp_bus finish_posted(vp_swd *w)
{
	if (!w->posted.active)
		return VP_BUS_OK;
	uint32_t v = w->posted.val;
	vp_bus r = vp_mcu_write(w->mcu, w->posted.addr, w->posted.size, v);
	if (r != VP_BUS_STALL)
		w->posted.active = false;
	return r;
}

uint8_t vp_swd_access(vp_swd *w, bool write, uint32_t addr, unsigned size,
		      uint32_t *val)
{
	if (w->fault_next) {
		/* "ST-Link v3 while AP is busy answers once with ERROR_WAIT,
		 * then with AP_FAULT and finally with ERROR_OK" (BMP
		 * stlinkv2.c): nothing is accessed */
		w->fault_next = false;
		vp_swd_charge(w);
		return VP_ST_AP_FAULT;
	}
	if (w->sticky_kept && vp_dap_sticky(w->dap)) {
		/* ADIv5: with a sticky error set, AP accesses FAULT until the
		 * host writes DP ABORT (PYO stlink.py, BMP stlinkv2.c; quirk
		 * sticky=kept) */
		vp_swd_charge(w);
		return VP_ST_AP_FAULT;
	}
	for (unsigned waits = 0;; waits++) {
		vp_swd_charge(w);
		vp_bus r = finish_posted(w);
		if (r == VP_BUS_OK) {
			r = write ? vp_mcu_write(w->mcu, addr, size, *val)
				  : vp_mcu_read(w->mcu, addr, size, val);
			if (r == VP_BUS_STALL && write) {
				/* the AP took the write (OK ACK); it completes
				 * on the AHB once the stall ends (OOCD commit
				 * 9fce8a21c) */
				w->posted.active = true;
				w->posted.addr = addr;
				w->posted.size = size;
				w->posted.val = *val;
				return VP_ST_OK;
			}
		}
		if (r != VP_BUS_STALL)
			return bus_status(w, r);
		if (waits == VP_SWD_WAIT_RETRIES) {
			w->fault_next = w->v3;
			return VP_ST_AP_WAIT;
		}
	}
}

void vp_swd_settle(vp_swd *w)
{
	uint64_t start = w->clock->us;
	while (w->posted.active && w->clock->us - start < SETTLE_MAX_US) {
		vp_swd_charge(w);
		if (finish_posted(w) == VP_BUS_FAULT)
			vp_dap_set_stickyerr(w->dap);
	}
}
