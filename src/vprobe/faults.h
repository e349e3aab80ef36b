/*
 * Fault injection (VPROBE_FAULT, README): a comma-separated
 * list of
 *   unplug@N    the Nth command packet finds the probe gone: it and every
 *               later transfer fail with LIBUSB_ERROR_NO_DEVICE
 *   reset@N     target system reset just before the Nth command packet runs
 *   wait@N:K    K target accesses answer SWD_AP_WAIT (0x10), starting with
 *               the first access of the Nth command packet (its data phase
 *               included) and running on into later commands until K have
 *               answered; if command N makes no target access, nothing is
 *               injected (the run never starts later than command N)
 *   powerloss@N power is lost half-way through the Nth flash program
 *               operation (the Nth program unit written with PG set, counted
 *               by the flash controller; the smallest N of the list wins)
 *   access      libusb_open of the probe fails with LIBUSB_ERROR_ACCESS,
 *               "insufficient permissions" (libusb API docs): what a Linux
 *               user gets without the udev rule. The probe is still listed
 *               and its descriptors readable, as libusb reads those from
 *               sysfs without opening the device node. Only the drop-in
 *               libusb and hosts calling vp_board_usb_open see it.
 *   stuck@OFFSET:MASK
 *               a weak OTP cell: the bits MASK (1..0xFF) of byte OFFSET of
 *               the OTP data area (0-based, below 16 x block size) do not
 *               program. They stay 1 while the flash controller reports
 *               success (EOP, no error flag). A MODEL FAULT, not documented
 *               silicon behaviour: a defective or worn cell, which is why the
 *               direct-programming sequence ends with "Read back and verify"
 *               (RM0090 §3.5.4; OOCD stm32x_write) and why stotp reads every
 *               written byte back (README safety rule 5). Several items on one
 *               byte add their masks. OFFSET and MASK: decimal or 0x-hex.
 *   corrupt@N:OFFSET:XOR
 *               byte OFFSET (0-based) of the reply to the Nth command packet
 *               is XORed with XOR (1..0xFF) on its way to the host: one
 *               corrupted byte the USB CRC did not catch, or a bit flipped
 *               in the probe's buffer. A MODEL FAULT: what a host must
 *               survive (issue 7 item 1: a misread UID), not a documented
 *               probe behaviour. Nothing if the reply is shorter than
 *               OFFSET + 1 bytes. Several items on one byte XOR together.
 *   shortin@N:M the reply to the Nth command packet is cut to M bytes
 *               (0 <= M; nothing if the reply is not longer; M = 0 leaves
 *               no reply, so the host's IN transfer times out): the IN
 *               transfer completes with M bytes, as libusb reports a short
 *               packet (its `actual_length`), and the rest is lost. A MODEL
 *               FAULT: a host must refuse such a reply, never zero-fill it.
 *               Both apply where the drop-in libusb and the in-process link
 *               read the reply (board.c), after the probe firmware built it.
 *   short@N:M   USB framing fault (OOCD stlink_usb_usb_open): the data phase of
 *               command packet N delivers M bytes (0 <= M) and then the
 *               transfer fails with LIBUSB_ERROR_IO, transferred = M. The data
 *               phase is the write data (bulk OUT) of a write command, else the
 *               reply (bulk IN) of a command that has one. OUT: the probe
 *               keeps waiting for the rest of the length its command
 *               declared, so the next bulk OUT transfers (the host's next
 *               command packets) are taken as data and written to the
 *               target, as a real ST-Link does (OOCD stlink_usb_usb_open). IN:
 *               the rest of the reply stays queued and the next IN transfer
 *               gets it, so later replies are out of step. Both last until a
 *               USB reset (libusb_reset_device). If command N's data phase is
 *               not longer than M bytes, or it has none, nothing is
 *               injected.
 *   late@N      the reply to command packet N arrives after the host's
 *               timeout: the first IN transfer after command N fails with
 *               LIBUSB_ERROR_TIMEOUT, the reply arrives just after it, and
 *               from then on each IN transfer gets the oldest unread reply,
 *               so every later reply is shifted by one (OOCD
 *               stlink_usb_usb_open), until a USB reset. Nothing is injected if
 *               command N has no reply.
 *
 * N is 1-based and per board, counted from the board's opening (for the
 * drop-in libusb: each libusb_init opens its own boards, so each context
 * counts from 1). For unplug, reset, wait, short and late, N counts exactly what
 * VPROBE_STATS reports as "transactions": command packets the probe
 * received, i.e. 16-byte-or-shorter bulk OUT transfers that are not the
 * data phase of a write. Not counted: write data phases, IN transfers,
 * control transfers (descriptors), zero-length OUTs, over-long packets
 * (stalled) and anything after an unplug. So after unplug@N the stats
 * show N - 1 transactions.
 * "Target access" for wait: one bus access of a memory command, of
 * READDEBUGREG/WRITEDEBUGREG, or of a DAP DRW/BDx transfer.
 */
#ifndef STOTP_VPROBE_FAULTS_H
#define STOTP_VPROBE_FAULTS_H

#include <stddef.h>
#include <stdint.h>

#include "mcu.h"
#include "parts.h"

enum vp_fault_kind {
	VP_FAULT_UNPLUG,
	VP_FAULT_RESET,
	VP_FAULT_POWERLOSS,
	VP_FAULT_WAIT,
	VP_FAULT_ACCESS,
	VP_FAULT_STUCK,
	VP_FAULT_CORRUPT,
	VP_FAULT_SHORTIN,
	VP_FAULT_SHORT,
	VP_FAULT_LATE,
};

#define VP_FAULTS_MAX 16

typedef struct vp_fault {
	enum vp_fault_kind kind;
	uint64_t n; /* stuck: the OTP offset */
	uint64_t k; /* wait: how many accesses; stuck: the mask; short: M;
	                 corrupt: the reply offset; shortin: the length kept */
	uint8_t x;  /* corrupt: the XOR mask */
} vp_fault;

typedef struct vp_faults {
	vp_fault list[VP_FAULTS_MAX];
	size_t count;
} vp_faults;

/* NULL or "" gives no faults. Returns 0, or -1 with a message in err. */
int vp_faults_parse(vp_faults *f, const char *spec, char *err, size_t errlen);

/* What happens when command packet number `n` (1-based, as counted in
 * vp_stats.transactions once it is received) arrives. */
typedef struct vp_fault_actions {
	int unplug;     /* the probe is gone from now on */
	int reset;      /* reset the target before this command runs */
	uint64_t waits; /* the WAIT run this command starts (0: none) */
} vp_fault_actions;

vp_fault_actions vp_faults_on_command(const vp_faults *f, uint64_t n);

/* corrupt@ and shortin@: change the reply (`*len` bytes) the Nth
 * command packet produced, before the host can read it. */
void vp_faults_on_reply(const vp_faults *f, uint64_t n, uint8_t *reply,
			size_t *len);

/* USB framing faults (short@N:M, late@N) of command packet n. */
typedef struct vp_fault_framing {
	int short_armed; /* command n's data phase stops after short_bytes */
	size_t short_bytes;
	int late; /* command n's reply misses the host's IN */
} vp_fault_framing;

vp_fault_framing vp_faults_framing(const vp_faults *f, uint64_t n);

/* True when the list holds "access": libusb_open is refused. */
int vp_faults_open_denied(const vp_faults *f);

/* Apply the stuck@ items to `m`, a target of `part`. An OFFSET beyond the
 * part's OTP data area is refused here (the parser does not know the
 * part): returns -1 with a message naming VPROBE_FAULT. */
int vp_faults_apply_stuck(const vp_faults *f, vp_mcu *m, const vp_part *part,
			  char *err, size_t errlen);

/* The program operation to arm with vp_mcu_arm_powerloss: the smallest
 * powerloss N (power stays lost after the first cut), or 0 for none. */
unsigned vp_faults_powerloss_at(const vp_faults *f);

#endif
