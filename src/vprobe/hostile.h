/*
 * VPROBE_HOSTILE: a probe whose firmware or cable is broken (issue 13 item
 * 3). Not documented behaviour of any real ST-Link: what a host must
 * survive without writing a byte after a reply it did not expect. A
 * comma-separated list of kind@N, N the command packet (1-based, counted as
 * VPROBE_FAULT counts it, src/vprobe/faults.h):
 *   short@N   the reply to command N comes with half its bytes (at least
 *             one missing); the rest is lost
 *   long@N    the reply to command N comes with 4 bytes more than the
 *             command's reply length (80 00 00 00, which reads as an OK
 *             status to a host that takes it for the next reply)
 *   status@N  the status byte of command N's reply is 0x37, a value no
 *             status table defines (OpenOCD 0.12.0 stlink_usb.c
 *             stlink_usb_error_check, pyOCD constants.py Status); only
 *             commands whose reply starts with a status (or a mode)
 *   refuse@N  the firmware refuses command N although its version has it:
 *             the command does not run, the reply is JTAG_UNKNOWN_CMD
 *             (0x42, pyOCD constants.py) with a 00, and a write command's
 *             data phase is not taken as data (the host's next OUT
 *             transfers are read as command packets)
 *   idcode@N  from command N on, the target's DBGMCU_IDCODE (0xE0042000:
 *             OpenOCD 0.12.0 src/flash/nor/stm32f2x.c stm32x_get_device_id,
 *             CMSIS DBGMCU_BASE) reads as another part's, through
 *             READDEBUGREG or READMEM_32BIT: a board swapped or a cable
 *             moved mid-session
 * A reply the hostile probe sent, and any reply queued behind it, stays
 * queued until the host reads it or resets the USB device: a reply a probe
 * sent sits in its IN endpoint (pyOCD pyocd/probe/stlink/usb.py drains it
 * on open; OpenOCD 0.12.0 src/jtag/drivers/stlink_usb.c
 * stlink_usb_usb_open resets the device to recover).
 */
#ifndef STOTP_VPROBE_HOSTILE_H
#define STOTP_VPROBE_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

enum vp_hostile_kind {
	VP_HOSTILE_SHORT,
	VP_HOSTILE_LONG,
	VP_HOSTILE_STATUS,
	VP_HOSTILE_REFUSE,
	VP_HOSTILE_IDCODE,
};

#define VP_HOSTILE_MAX 8

typedef struct vp_hostile {
	struct {
		enum vp_hostile_kind kind;
		uint64_t n;
	} list[VP_HOSTILE_MAX];
	size_t count;
} vp_hostile;

/* NULL or "" gives a healthy probe. Returns 0, or -1 with a message in err
 * naming the bad item. */
int vp_hostile_parse(vp_hostile *h, const char *spec, char *err, size_t errlen);

/* Before the firmware runs command packet n (cmd, len bytes): 1 when the
 * probe refuses it: reply and *reply_len hold the refusal, and the command
 * must not run. */
int vp_hostile_refuse(const vp_hostile *h, uint64_t n, const uint8_t *cmd,
		      size_t len, uint8_t *reply, size_t *reply_len);

/* After the firmware built the reply (*reply_len bytes, the buffer holds
 * cap) to command packet n: 1 when the probe changed it, which leaves the
 * probe out of step until a USB reset. */
int vp_hostile_on_reply(const vp_hostile *h, uint64_t n, const uint8_t *cmd,
			size_t len, uint8_t *reply, size_t *reply_len,
			size_t cap);

/* idcode@ armed for command packet n (from its N on): the firmware
 * answers a DBGMCU_IDCODE read inside an RW_MISC batch with
 * vp_hostile_other_idcode, as the reply layer does for READDEBUGREG and
 * READMEM (an RW_MISC_IN reply does not say which item read what). */
int vp_hostile_idcode_armed(const vp_hostile *h, uint64_t n);
/* Another part's DBGMCU_IDCODE: an F767 (DEV_ID 0x451) for any other
 * part, an F429 (0x419) for an F76x/F77x; REV_ID kept. */
uint32_t vp_hostile_other_idcode(uint32_t v);

#endif
