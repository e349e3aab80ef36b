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

/* Port number of the DP in READ_DAP_REG/WRITE_DAP_REG (OOCD stlink_usb.c). */
#define VP_DAP_DP_PORT 0xFFFF

/* One target access of `size` bytes; returns an ST-Link status (stlink_fw.h). */
typedef uint8_t vp_dap_bus(void *ctx, bool write, uint32_t addr, unsigned size,
			   uint32_t *val);

/* RW_MISC_OUT (51) / RW_MISC_IN (52), V2 J32+ / V3 J2+ (OOCD stlink_usb.c;
 * layout from OOCD stlink_usb_misc_rw_segment): OUT carries `items` one-byte
 * opcodes padded to 4, then one u32 operand per item; IN returns one u32 value
 * per item, then one u32 status per item. At most 64 items on V2, 1227 on V3
 * (OOCD STLINK_V2/V3_RW_MISC_SIZE; 1227 fills the 6144-byte buffer). */
#define VP_MISC_OP_ADDRESS 1
#define VP_MISC_OP_WRITE   2
#define VP_MISC_OP_READ    3
#define VP_MISC_OP_APNUM   5
#define VP_MISC_MAX_V2     64u
#define VP_MISC_MAX_V3     1227u
#define VP_MISC_REPLY_MAX  (8 * VP_MISC_MAX_V3)

typedef struct vp_dap {
	const vp_part *part; /* DPIDR, AP IDR */
	const vp_mcu *mcu;   /* power: whether CTRL/STAT acknowledges */
	vp_dap_bus *bus;
	void *bus_ctx;
	uint32_t ctrl;     /* DP CTRL/STAT */
	uint32_t select;   /* DP SELECT */
	uint32_t rdbuff;   /* DP RDBUFF: the last AP read */
	uint32_t csw, tar; /* AHB-AP (AP0) */
	bool ap0_open;     /* INIT_AP done (J28+) */
	uint32_t
		misc_items; /* RW_MISC_OUT announced / run, reply not yet read */
	bool misc_done;
	uint8_t misc_reply[VP_MISC_REPLY_MAX];
	/* VPROBE_HOSTILE idcode@N armed for the current command (hostile.h):
	 * an RW_MISC read of DBGMCU_IDCODE answers another part's. */
	bool other_idcode;
} vp_dap;

/* Wire the DAP to its part, target and bus, then vp_dap_reset. */
void vp_dap_setup(vp_dap *d, const vp_part *part, const vp_mcu *mcu,
		  vp_dap_bus *bus, void *bus_ctx);

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

/* What a firmware version handles in READ/WRITE_DAP_REG (OOCD STLINK_F_*
 * flags). */
typedef struct vp_dap_caps {
	bool need_init; /* INIT_AP required before an AP is used (J28+) */
	bool dpbanksel; /* DP address bits 7:4 select the bank (V2 J32+, V3 J2+) */
} vp_dap_caps;

/* One READ_DAP_REG/WRITE_DAP_REG on `port` (VP_DAP_DP_PORT or an AP
 * number). Returns an ST-Link status; *v holds the value read. The caller
 * has checked that SWD is up and the target powered. */
uint8_t vp_dap_reg(vp_dap *d, uint16_t port, uint16_t addr, bool write,
		   uint32_t *v, vp_dap_caps caps);

/* A memory command's CSW bits [31:8] (bytes 9-11, V2 J32+ / V3 J2+, OOCD
 * stlink_usb.c): the firmware programs them into the AHB-AP CSW for the
 * transfer, so READ_DAP_REG of CSW shows them afterwards. 0 keeps the
 * firmware's own (model choice, UNCONFIRMED: OOCD always sends its
 * csw_default). */
void vp_dap_mem_csw(vp_dap *d, uint32_t csw_hi);

/* RW_MISC_OUT of `items` (at most `max`): returns the length of the data
 * phase it waits for. None or more than `max`: refused with no data phase,
 * so the host's data arrives as a bad command packet (UNCONFIRMED: OOCD
 * never sends more). */
size_t vp_dap_misc_out(vp_dap *d, uint32_t items, uint32_t max);

/* The data phase: the items run through the DAP's bus. */
void vp_dap_misc_data(vp_dap *d, const uint8_t *buf, size_t len);

/* RW_MISC_IN: the reply (8 * items bytes) into `out`, its length returned;
 * 0 (nothing sent, the host times out: UNCONFIRMED) when no RW_MISC_OUT
 * ran since the last one was read. */
size_t vp_dap_misc_in(vp_dap *d, uint8_t *out);

/* INIT_AP (open) / CLOSE_AP_DBG (!open) of AP `apsel`; returns a status. */
uint8_t vp_dap_ap_init(vp_dap *d, uint8_t apsel, bool open);

#endif
