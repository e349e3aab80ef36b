/*
 * ST-Link command framing over a link: one transaction, status bytes,
 * sticky-error clearing and the WAIT retry of debug commands. Opening and
 * versions are in stlink_open.c, SWD and the core in stlink_swd.c, memory
 * commands in stlink_mem.c, the command trace in stlink_trace.c. Every
 * command is one 16-byte bulk OUT, a write's data a second OUT, a reply
 * one bulk IN whose length the command fixes (OOCD stlink_usb.c, PYO usb.py);
 * every reply length is checked before it is read.
 */
#include <string.h>
#include <time.h>

#include "stlink_cmd.h"

/* Status byte names (PYO constants.py Status). */
const char *stlink_status_name(int st)
{
	switch (st) {
	case 0x80:
		return "OK";
	case 0x81:
		return "DEBUG_ERR_FAULT";
	case 0x01:
		return "JTAG_UNKNOWN_ERROR";
	case 0x09:
		return "JTAG_GET_IDCODE_ERROR";
	case 0x0A:
		return "JTAG_ALIGNMENT_ERROR";
	case 0x0B:
		return "JTAG_DBG_POWER_ERROR";
	case 0x0C:
		return "JTAG_WRITE_ERROR";
	case 0x0D:
		return "JTAG_WRITE_VERIF_ERROR";
	case 0x10:
		return "SWD_AP_WAIT";
	case 0x11:
		return "SWD_AP_FAULT";
	case 0x12:
		return "SWD_AP_ERROR";
	case 0x13:
		return "SWD_AP_PARITY_ERROR";
	case 0x14:
		return "SWD_DP_WAIT";
	case 0x15:
		return "SWD_DP_FAULT";
	case 0x16:
		return "SWD_DP_ERROR";
	case 0x17:
		return "SWD_DP_PARITY_ERROR";
	case 0x18:
		return "SWD_AP_WDATA_ERROR";
	case 0x19:
		return "SWD_AP_STICKY_ERROR";
	case 0x1A:
		return "SWD_AP_STICKYORUN_ERROR";
	case 0x1D:
		return "BAD_AP";
	case 0x41:
		return "JTAG_FREQ_NOT_SUPPORTED";
	case 0x42:
		return "JTAG_UNKNOWN_CMD";
	default:
		return "unknown status";
	}
}

/* Bounded back-off before re-issuing after a WAIT: 1, 2, 4 ... 128 ms, as
 * OOCD stlink_cmd_allow_retry (OOCD stlink_usb.c, PRS PR #1406). */
void stlink_wait_backoff(unsigned attempt)
{
	struct timespec ts = { 0, (long)(1000000L
					 << (attempt < 7 ? attempt : 7)) };

	nanosleep(&ts, NULL);
}

/* Commands that only read (OOCD stlink_usb.c, STLINK_* codes): versions, mode, voltage,
 * debug register and memory reads, last-rw status, the clock list,
 * READ_DAP_REG and RW_MISC_IN. Any other may change the target, so it
 * counts in s->writes. */
static int is_read_only(const uint8_t cmd[CMD_LEN])
{
	static const uint8_t reads[] = { 0x36, 0x07, 0x0C, 0x47, 0x3E,
					 0x3B, 0x62, 0x33, 0x45, 0x52 };

	if (cmd[0] != DEBUG_CMD)
		return cmd[0] == 0xF1 || cmd[0] == 0xF5 || cmd[0] == 0xF7
		       || cmd[0] == 0xFB;
	return memchr(reads, cmd[1], sizeof reads) != NULL;
}

/* One transaction: command, optional OUT data, optional IN reply of exactly
 * `expect` bytes. A link failure is reported with the command's name. */
int stlink_xfer(stlink *s, const char *name, const uint8_t cmd[CMD_LEN],
		const uint8_t *data, size_t dlen, uint8_t *reply, size_t expect)
{
	st_error le = { 0 };
	size_t got = 0;

	if (s->dead)
		return st_fail(
			&s->err, ST_EUSB, 0,
			"%s not sent: the probe is out of step since a failed "
			"transfer and could not be re-synchronised (%s); "
			"replug it and open it again",
			name, s->dead_why);
	if (s->out_of_step && !s->resyncing && stlink_resync(s) != 0)
		return -1;
	s->commands++;
	s->writes += !is_read_only(cmd);
	stlink_trace_add(s, cmd, data, dlen);
	if (s->link->ops->bulk_out(s->link, cmd, CMD_LEN, &le) != 0)
		return stlink_xfer_failed(s, name, &le, 0, expect);
	if ((dlen > 0 && s->link->ops->bulk_out(s->link, data, dlen, &le) != 0))
		return stlink_xfer_failed(s, name, &le, 1, expect);
	if (expect > 0
	    && s->link->ops->bulk_in(s->link, reply, expect, &got, &le) != 0)
		return stlink_xfer_failed(s, name, &le, 0, expect);
	if (got
	    != expect) /* a reply of another command? (OOCD stlink_usb.c, PYO usb.py) */
		return stlink_short_reply(s, name, reply, got, expect);
	return 0;
}

void stlink_cmd_init(uint8_t cmd[CMD_LEN], uint8_t b0, uint8_t b1)
{
	memset(cmd, 0, CMD_LEN);
	cmd[0] = b0;
	cmd[1] = b1;
}

static int status_fail(stlink *s, const char *name, int st)
{
	int code = stlink_is_wait(st) ? ST_EWAIT : ST_ETARGET;

	return st_fail(&s->err, code, st, "%s returned 0x%02X (%s)", name, st,
		       stlink_status_name(st));
}

int stlink_clear_sticky(stlink *s)
{
	uint8_t cmd[CMD_LEN], r[2];

	if (!(s->features & STF_DAP_REG))
		return 0;
	/* WRITE_DAP_REG, port 0xFFFF = DP, register 0 = ABORT (OOCD
	 * stlink_usb.c); STKCMPCLR|STKERRCLR|WDERRCLR|ORUNERRCLR (ADIv5), as
	 * PYO stlink.py and BMP do after a FAULT and OOCD after STICKYERR (BMP
	 * stlinkv2.c) */
	stlink_cmd_init(cmd, DEBUG_CMD, 0x46);
	cmd[2] = 0xFF;
	cmd[3] = 0xFF;
	st_le32_put(cmd + 6, 0x1Eu);
	if (stlink_xfer(s, "WRITE_DAP_REG ABORT", cmd, NULL, 0, r, sizeof r)
	    != 0)
		return -1;
	if (r[0] != 0x80)
		return st_fail(&s->err, ST_ETARGET, r[0],
			       "DP ABORT returned 0x%02X (%s)", r[0],
			       stlink_status_name(r[0]));
	return 0;
}

int stlink_after_fault(stlink *s, int status)
{
	/* "ST-Link v3 while AP is busy answers once with ERROR_WAIT, then with
	 * AP_FAULT and finally with ERROR_OK" (BMP stlinkv2.c):
	 * that one FAULT is not the target's answer */
	int again = status == 0x11 && s->wait_seen && s->ver.hw >= 3;
	st_error keep = s->err;

	s->wait_seen = 0;
	if (stlink_clear_sticky(s) != 0)
		return -1;
	s->err = keep;
	return again;
}

/* A debug command whose reply starts with a status byte; WAIT re-issues it
 * with back-off (OOCD stlink_usb.c, PRS PR #1406); a FAULT clears the sticky
 * flags. */
int stlink_debug_cmd(stlink *s, const char *name, const uint8_t cmd[CMD_LEN],
		     uint8_t *reply, size_t expect)
{
	unsigned attempt;

	for (attempt = 0;; attempt++) {
		if (stlink_xfer(s, name, cmd, NULL, 0, reply, expect) != 0)
			return -1;
		if (reply[0] == 0x80) {
			s->wait_seen = 0;
			return 0;
		}
		if (stlink_status_sane(s, name, reply[0]) != 0)
			return -1;
		if (!stlink_is_wait(reply[0])) {
			int st = reply[0], again = stlink_after_fault(s, st);
			if (again < 0)
				return -1;
			if (again && attempt < MAX_WAIT_RETRIES)
				continue;
			return status_fail(s, name, st);
		}
		s->wait_seen = 1;
		if (attempt >= MAX_WAIT_RETRIES)
			return status_fail(s, name, reply[0]);
		s->wait_retries++;
		stlink_wait_backoff(attempt);
	}
}
