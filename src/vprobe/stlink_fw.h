/*
 * The ST-Link firmware: decodes 16-byte command packets (OOCD stlink_usb.c, PYO
 * usb.py, constants.py), keeps the probe's mode and last read/write status, and
 * runs the SWD/DAP engine over the target bus (mcu.h). It knows nothing of USB
 * transfers: board.c frames packets and replies around it.
 */
#ifndef STOTP_VPROBE_STLINK_FW_H
#define STOTP_VPROBE_STLINK_FW_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "mcu.h"
#include "parts.h"
#include "probe_kinds.h"

/* The ST-Link's internal data buffer, the largest reply and write data
 * phase (STLINK_DATA_SIZE 6144, OOCD stlink_usb.c). GET_COM_FREQ etc. are
 * smaller. */
#define VP_FW_BUF_MAX 6144
#define VP_FW_CMD_LEN 16
/* The longest reply: RW_MISC_IN of 1227 items, 8 bytes each (stlink_dap.h). */
#define VP_FW_REPLY_MAX (8 * 1227)

/* Status bytes (PYO constants.py). */
enum vp_fw_status {
	VP_ST_OK = 0x80,
	VP_ST_FAULT = 0x81,
	VP_ST_CMD_ERROR = 0x08,
	VP_ST_GET_IDCODE_ERROR = 0x09,
	VP_ST_ALIGNMENT_ERROR = 0x0A,
	VP_ST_AP_WAIT = 0x10,
	VP_ST_AP_FAULT = 0x11,
	VP_ST_DP_ERROR = 0x16,
	VP_ST_BAD_AP = 0x1D,
	VP_ST_CONF_CHANGED = 0x40,
	VP_ST_UNKNOWN_CMD = 0x42,
};

typedef struct vp_fw vp_fw;

typedef struct vp_fw_params {
	/* VPROBE_QUIRKS sticky=kept|cleared: whether the DP sticky error
	 * flags stay set until the host writes DP ABORT (kept, the default:
	 * the harsher reading) or the firmware clears them before each memory
	 * command. UNCONFIRMED (PYO stlink.py, BMP stlinkv2.c). Firmware
	 * without WRITE_DAP_REG always clears them. */
	bool sticky_kept;
	/* Status answered to a command this firmware lacks. UNCONFIRMED;
	 * PYO's status list suggests JTAG_UNKNOWN_CMD 0x42 (PYO
	 * constants.py). */
	uint8_t unknown_cmd_status;
} vp_fw_params;

vp_fw *vp_fw_new(const vp_probe_kind *kind, const vp_part *part, vp_mcu *mcu,
		 vp_clock *clock, const vp_fw_params *params);
void vp_fw_free(vp_fw *fw);

/* Run one command packet (len <= 16, zero-padded). On return, reply holds
 * *reply_len bytes to queue on the IN endpoint (0: the command has no
 * reply) and *data_len is the OUT data phase the command now waits for
 * (0: none). reply must hold VP_FW_REPLY_MAX bytes. */
/* VPROBE_HOSTILE idcode@N (hostile.h) for the command about to run. */
void vp_fw_hostile_idcode(vp_fw *fw, bool on);

void vp_fw_command(vp_fw *fw, const uint8_t *cmd, size_t len, uint8_t *reply,
		   size_t *reply_len, size_t *data_len);

/* The complete data phase of the last write command. */
void vp_fw_data(vp_fw *fw, const uint8_t *data, size_t len);

/* A write the AP accepted while the bus stalled lands (before a save). */
void vp_fw_settle(vp_fw *fw);

/* The SWD cable now leads to another target `mcu` of `part` (a board
 * swapped on the fixture, slot.h). The probe keeps its mode and settings;
 * the SWD link is lost, so every target access fails (DP_ERROR) until the
 * host enters debug mode again (F2 30), which connects to the new target. */
void vp_fw_retarget(vp_fw *fw, const vp_part *part, vp_mcu *mcu);

/* USB reset of the probe: back to the power-on mode; the target is untouched. */
void vp_fw_usb_reset(vp_fw *fw);

/* Fault injection (wait@N:K, faults.h): called just before the command
 * packet it belongs to. k target accesses answer SWD_AP_WAIT, starting with
 * that command's first one (its data phase included) and running on into
 * later commands; if that command makes no target access, the run is
 * dropped when the next command arrives. k = 0 arms nothing. */
void vp_fw_arm_waits(vp_fw *fw, uint64_t k);

#endif
