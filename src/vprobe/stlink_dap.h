/*
 * The DP/AP register model behind READ_DAP_REG/WRITE_DAP_REG (45/46) and
 * INIT_AP/CLOSE_AP_DBG (4B/4C): an ADIv5 SW-DP and the AHB-AP (AP0) of the
 * Cortex-M (ADIv5 CTRL/STAT, ABORT, SELECT, RDBUFF; AP CSW, TAR, DRW, BD0-3).
 * Target accesses through DRW/BDx go out through the firmware's SWD engine
 * (the `bus` callback), which owns the WAIT/FAULT/no-power mapping.
 */
#ifndef STOTP_VPROBE_STLINK_DAP_H
#define STOTP_VPROBE_STLINK_DAP_H

#include <stdbool.h>
#include <stdint.h>

#include "mcu.h"
#include "parts.h"

/* Port number of the DP in READ_DAP_REG/WRITE_DAP_REG (facts §2.2). */
#define VP_DAP_DP_PORT 0xFFFF

/* One target access of `size` bytes; returns an ST-Link status (stlink_fw.h). */
typedef uint8_t vp_dap_bus(void *ctx, bool write, uint32_t addr, unsigned size, uint32_t *val);

typedef struct vp_dap {
	const vp_part *part;  /* DPIDR, AP IDR */
	const vp_mcu *mcu;    /* power: whether CTRL/STAT acknowledges */
	vp_dap_bus *bus;
	void *bus_ctx;
	uint32_t ctrl;        /* DP CTRL/STAT */
	uint32_t select;      /* DP SELECT */
	uint32_t rdbuff;      /* DP RDBUFF: the last AP read */
	uint32_t csw, tar;    /* AHB-AP (AP0) */
	bool ap0_open;        /* INIT_AP done (J28+) */
} vp_dap;

/* Wire the DAP to its part, target and bus, then vp_dap_reset. */
void vp_dap_setup(vp_dap *d, const vp_part *part, const vp_mcu *mcu, vp_dap_bus *bus, void *bus_ctx);

/* Registers to their values after the firmware's own setup; APs closed. */
void vp_dap_reset(vp_dap *d);

/* ENTER: the firmware sets CDBGPWRUPREQ and CSYSPWRUPREQ itself. */
void vp_dap_power_up(vp_dap *d);

/* Before every memory command under sticky=cleared (stlink_fw.h): the
 * sticky error flags are cleared. */
void vp_dap_clear_sticky(vp_dap *d);

/* CTRL/STAT.STICKYERR: set by a FAULT response (ADIv5); whether any sticky
 * error flag is set. */
void vp_dap_set_stickyerr(vp_dap *d);
bool vp_dap_sticky(const vp_dap *d);

/* One READ_DAP_REG/WRITE_DAP_REG on `port` (VP_DAP_DP_PORT or an AP
 * number). `need_init`: the firmware requires INIT_AP before an AP is used
 * (J28+). Returns an ST-Link status; *v holds the value read. The caller
 * has checked that SWD is up and the target powered. */
uint8_t vp_dap_reg(vp_dap *d, uint16_t port, uint16_t addr, bool write, uint32_t *v, bool need_init);

/* INIT_AP (open) / CLOSE_AP_DBG (!open) of AP `apsel`; returns a status. */
uint8_t vp_dap_ap_init(vp_dap *d, uint8_t apsel, bool open);

#endif
