/*
 * Private to stlink.c and stlink_mem.c: command framing shared by the
 * session commands (versions, modes, SWD, registers) and the memory
 * commands. Nothing above the ST-Link layer includes this header.
 */
#ifndef STOTP_STLINK_CMD_H
#define STOTP_STLINK_CMD_H

#include "stlink_internal.h"

#define CMD_LEN          16   /* every command packet (OOCD stlink_usb.c) */
#define DEBUG_CMD        0xF2 /* DEBUG_COMMAND prefix (OOCD stlink_usb.c) */
#define MAX_WAIT_RETRIES 8    /* OOCD MAX_WAIT_RETRIES (OOCD stlink_usb.c) */

void stlink_cmd_init(uint8_t cmd[CMD_LEN], uint8_t b0, uint8_t b1);
/* One transaction: command, optional OUT data, optional IN reply of exactly
 * `expect` bytes. Counts the round trip. */
int stlink_xfer(stlink *s, const char *name, const uint8_t cmd[CMD_LEN],
		const uint8_t *data, size_t dlen, uint8_t *reply,
		size_t expect);
/* A command whose reply starts with a status byte; WAIT re-issues it. */
int stlink_debug_cmd(stlink *s, const char *name, const uint8_t cmd[CMD_LEN],
		     uint8_t *reply, size_t expect);
const char *stlink_status_name(int status);
/* After a status other than OK or WAIT: 1 when the command is worth
 * re-issuing at once (V3's one AP_FAULT after a WAIT), else 0; sticky
 * error flags are cleared either way. -1 when clearing them failed. */
int stlink_after_fault(stlink *s, int status);
void stlink_wait_backoff(unsigned attempt);
/* stlink_sane.c: replies no working probe gives. Each returns 0, or -1
 * with the handle out of step and an error naming the probe's fault. */
/* A status other than OK: one no firmware defines, or JTAG_UNKNOWN_CMD for
 * a command the firmware's version has (stotp sends no other). */
int stlink_status_sane(stlink *s, const char *name, int status);
/* GET_CURRENT_MODE's answer. */
int stlink_mode_sane(stlink *s, int mode);
/* A transfer that failed (le from the link; data_phase: a write's data
 * OUT): always -1. */
int stlink_xfer_failed(stlink *s, const char *name, const st_error *le,
		       int data_phase, size_t expect);
/* A reply of got < expect bytes: always -1. */
int stlink_short_reply(stlink *s, const char *name, const uint8_t *reply,
		       size_t got, size_t expect);
/* Records a command (while the trace is on), with its data phase when it
 * is an RW_MISC_OUT. */
void stlink_trace_add(stlink *s, const uint8_t cmd[CMD_LEN],
		      const uint8_t *data, size_t dlen);

#endif
