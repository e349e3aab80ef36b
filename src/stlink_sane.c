/*
 * Replies a working ST-Link never gives (issue 13 item 3, a hostile probe):
 * a status no firmware defines, a command its own version has refused, a
 * mode that does not exist, a reply longer or shorter than the command's.
 * Each is named as the probe's fault (code "usb"), not the target's, and
 * leaves the handle out of step: the reply may belong to another command,
 * and a refused write's data phase may have been taken as commands, so
 * nothing more is sent before stlink_resync.
 */
#include <stdio.h>
#include <string.h>

#include "stlink_cmd.h"

/* libusb API, enum libusb_error (the link passes them through) */
#define LIBUSB_ERROR_OVERFLOW (-8)
#define LIBUSB_ERROR_PIPE     (-9)
#define UNKNOWN_CMD           0x42 /* JTAG_UNKNOWN_CMD, pyOCD constants.py */

/* Status bytes some firmware defines: OpenOCD 0.12.0
 * src/jtag/drivers/stlink_usb.c (STLINK_DEBUG_ERR_*, STLINK_SWD_*) and
 * pyOCD pyocd/probe/stlink/constants.py Status. */
static int defined_status(int st)
{
	return st == 0x80 || st == 0x81 || (st >= 0x01 && st <= 0x0E)
	       || (st >= 0x10 && st <= 0x1A) || st == 0x1D || st == 0x20
	       || (st >= 0x40 && st <= 0x42);
}

static int misbehaves(stlink *s, const char *fmt_name, int st, const char *what)
{
	s->out_of_step = 1;
	return st_fail(&s->err, ST_EUSB, st,
		       "the probe misbehaves: %s answered status 0x%02X, %s; "
		       "nothing more is sent before it is reset (a broken or "
		       "counterfeit ST-Link, or its cable)",
		       fmt_name, st, what);
}

int stlink_status_sane(stlink *s, const char *name, int st)
{
	char what[96];

	if (st == UNKNOWN_CMD) {
		snprintf(what, sizeof what,
			 "JTAG_UNKNOWN_CMD: firmware %s refused a command its "
			 "version has",
			 s->ver.str);
		return misbehaves(s, name, st, what);
	}
	if (!defined_status(st))
		return misbehaves(s, name, st,
				  "which no ST-Link firmware defines");
	return 0;
}

int stlink_mode_sane(stlink *s, int mode)
{
	/* 00 DFU, 01 MASS, 02 DEBUG, 03 SWIM, 04 BOOTLOADER: OpenOCD 0.12.0
	 * stlink_usb.c STLINK_DEV_*_MODE */
	if (mode <= 0x04)
		return 0;
	return misbehaves(s, "GET_CURRENT_MODE", mode,
			  "a mode no ST-Link firmware has (00-04)");
}

int stlink_xfer_failed(stlink *s, const char *name, const st_error *le,
		       int data_phase, size_t expect)
{
	s->out_of_step = 1;
	if (data_phase && le->sys == LIBUSB_ERROR_PIPE)
		return st_fail(&s->err, ST_EUSB, le->sys,
			       "the probe misbehaves: it stalled the data "
			       "phase of %s (%s), as a firmware that refused "
			       "the command would",
			       name, le->msg);
	if (le->sys == LIBUSB_ERROR_OVERFLOW)
		return st_fail(&s->err, ST_EUSB, le->sys,
			       "the probe misbehaves: its reply to %s is "
			       "longer than the %zu bytes that command "
			       "answers (%s)",
			       name, expect, le->msg);
	return st_fail(&s->err, le->code, le->sys, "%s during %s", le->msg,
		       name);
}

int stlink_short_reply(stlink *s, const char *name, const uint8_t *reply,
		       size_t got, size_t expect)
{
	s->out_of_step = 1; /* a reply of another command? */
	if (got == 2 && reply[0] == UNKNOWN_CMD)
		return st_fail(
			&s->err, ST_EUSB, UNKNOWN_CMD,
			"the probe misbehaves: short reply to %s, 2 of "
			"%zu bytes, 42 00: JTAG_UNKNOWN_CMD, firmware %s "
			"refused a command its version has",
			name, expect, s->ver.str);
	return st_fail(&s->err, ST_EUSB, 0,
		       "short reply to %s: %zu of %zu bytes", name, got,
		       expect);
}
