/*
 * Opening an ST-Link session: GET_VERSION (and V3's extended version) and
 * the feature gates it implies, leaving whatever mode the probe was left
 * in, the USB resynchronisation after a transfer error, and closing.
 * Sources: OOCD stlink_usb.c (stlink_usb_version, stlink_usb_exit_mode,
 * stlink_usb_usb_open), PYO stlink.py.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stlink_cmd.h"

/* OOCD stlink_usb_version: on V2-1 PIDs a (X, Y) pair in these ranges is
 * an STM8-only firmware (X = MSD, Y = SWIM). */
static int is_stm8_v21(unsigned x, unsigned y)
{
	return (x <= 22 && y == 7) || (x >= 25 && y >= 7 && y <= 12);
}

static void version_features(stlink *s)
{
	stlink_version *v = &s->ver;
	unsigned f = 0;

	s->max_read8 = s->max_write8 = 64; /* full-speed packet (OOCD) */
	if (v->hw >= 3) {
		f = STF_VOLTAGE | STF_RWSTATUS2 | STF_MEM16 | STF_AP_INIT
		    | STF_V3_FREQ | STF_DAP_REG;
		/* 512-byte 8-bit writes from V3J6 (OOCD); reads above 255
		 * fail on J5/J7 (PRS #553), so reads stay at 128; before J6
		 * the firmware crashes on 8-bit transfers above 64 bytes
		 * (OOCD 324a45e02). */
		f |= v->jtag >= 2 ? STF_RW_MISC : 0;
		if (v->jtag >= 6) {
			s->max_read8 = 128;
			s->max_write8 = 512;
		}
	} else {
		f |= v->jtag >= 13 ? STF_VOLTAGE : 0;
		f |= v->jtag >= 15 ? STF_RWSTATUS2 : 0;
		f |= v->jtag >= 22 ? STF_SWD_FREQ : 0;
		f |= v->jtag >= 24 ? STF_DAP_REG : 0;
		f |= v->jtag >= 26 ? STF_MEM16 : 0;
		f |= v->jtag >= 28 ? STF_AP_INIT : 0;
		f |= v->jtag >= 32 ? STF_RW_MISC : 0;
	}
	if (v->jtag > 0)
		f |= STF_SWD;
	s->features = f;
}

static int version_v3(stlink *s)
{
	uint8_t cmd[CMD_LEN], r[12];

	stlink_cmd_init(cmd, 0xFB, 0);
	if (stlink_xfer(s, "GET_VERSION_EX", cmd, NULL, 0, r, sizeof r) != 0)
		return -1;
	s->ver.hw = r[0];
	s->ver.swim = r[1];
	s->ver.jtag = r[2];
	s->ver.msd = r[3];
	s->ver.bridge = r[4];
	s->ver.power = r[5];
	s->ver.vid = (uint16_t)(r[8] | r[9] << 8);
	s->ver.pid = (uint16_t)(r[10] | r[11] << 8);
	return 0;
}

static void version_string(stlink_version *v)
{
	int n;

	if (v->hw >= 3) {
		n = snprintf(v->str, sizeof v->str, "V%dJ%dM%d", v->hw, v->jtag,
			     v->msd);
		if (v->bridge > 0 && n > 0 && (size_t)n < sizeof v->str)
			n += snprintf(v->str + n, sizeof v->str - (size_t)n,
				      "B%d", v->bridge);
		if (v->swim > 0 && n > 0 && (size_t)n < sizeof v->str)
			snprintf(v->str + n, sizeof v->str - (size_t)n, "S%d",
				 v->swim);
		v->kind = v->hw == 4 ? "V3PWR" : "V3";
	} else if (v->msd >= 0) {
		if (v->jtag > 0)
			snprintf(v->str, sizeof v->str, "V2J%dM%d", v->jtag,
				 v->msd);
		else
			snprintf(v->str, sizeof v->str, "V2M%dS%d", v->msd,
				 v->swim);
		v->kind = "V2-1";
	} else {
		snprintf(v->str, sizeof v->str, "V%dJ%dS%d", v->hw, v->jtag,
			 v->swim);
		v->kind = "V2";
	}
}

static int read_version(stlink *s)
{
	uint8_t cmd[CMD_LEN], r[6];
	unsigned v, x, y;
	uint16_t pid = s->link->id.pid;

	stlink_cmd_init(cmd, 0xF1, 0);
	if (stlink_xfer(s, "GET_VERSION", cmd, NULL, 0, r, sizeof r) != 0)
		return -1;
	v = (unsigned)r[0] << 8 | r[1]; /* big-endian (OOCD stlink_usb.c) */
	x = (v >> 6) & 0x3F;
	y = v & 0x3F;
	memset(&s->ver, 0xFF, sizeof s->ver); /* every field -1 */
	s->ver.hw = (int)(v >> 12);
	s->ver.vid = (uint16_t)(r[2] | r[3] << 8);
	s->ver.pid = (uint16_t)(r[4] | r[5] << 8);
	if (s->ver.hw < 2)
		return st_fail(&s->err, ST_EUNSUPPORTED, 0,
			       "ST-Link/V%d is not supported (SCSI framing)",
			       s->ver.hw);
	if (s->ver.hw >= 3 && x == 0 && y == 0) {
		if (version_v3(s) != 0)
			return -1;
	} else if (pid == 0x374B || pid == 0x3752 || pid == 0x374A
		   || pid == 0x3742) {
		int stm8 = is_stm8_v21(x, y);
		s->ver.jtag = stm8 ? 0 : (int)x;
		s->ver.msd = stm8 ? (int)x : (int)y;
		s->ver.swim = stm8 ? (int)y : -1;
	} else {
		s->ver.jtag = (int)x;
		s->ver.swim = (int)y;
	}
	version_string(&s->ver);
	version_features(s);
	return 0;
}

/* Leave whatever mode the probe is in (OOCD stlink_usb_exit_mode). None of
 * the exits has a reply. */
static int leave_mode(stlink *s)
{
	uint8_t cmd[CMD_LEN], r[2];

	stlink_cmd_init(cmd, 0xF5, 0);
	if (stlink_xfer(s, "GET_CURRENT_MODE", cmd, NULL, 0, r, sizeof r) != 0
	    || stlink_mode_sane(s, r[0]) != 0)
		return -1;
	switch (r[0]) {
	case 0x00:
		stlink_cmd_init(cmd, 0xF3, 0x07);
		return stlink_xfer(s, "DFU_EXIT", cmd, NULL, 0, NULL, 0);
	case 0x02:
		stlink_cmd_init(cmd, DEBUG_CMD, 0x21);
		return stlink_xfer(s, "DEBUG_EXIT", cmd, NULL, 0, NULL, 0);
	case 0x03:
		stlink_cmd_init(cmd, 0xF4, 0x01);
		return stlink_xfer(s, "SWIM_EXIT", cmd, NULL, 0, NULL, 0);
	default:
		return 0; /* MASS, BOOTLOADER: debug can be entered directly */
	}
}

int stlink_open(stlink **out, st_link *link, st_error *e)
{
	stlink *s = calloc(1, sizeof *s);

	if (s == NULL) {
		link_close(link);
		return st_fail(e, ST_ENOMEM, 0, "out of memory");
	}
	s->link = link;
	if (read_version(s) != 0 || leave_mode(s) != 0) {
		*e = s->err;
		link_close(link);
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int resync_steps(stlink *s)
{
	stlink_version was = s->ver;
	st_error le = { 0 };
	int debug = s->in_debug;

	if (s->link->ops->reset(s->link, &le) != 0) {
		s->err = le;
		return -1;
	}
	/* the firmware restarted: the same one must answer, in step */
	if (read_version(s) != 0)
		return -1;
	if (s->ver.hw != was.hw || s->ver.jtag != was.jtag
	    || s->ver.msd != was.msd)
		return st_fail(&s->err, ST_EUSB, 0,
			       "another firmware (%s, was %s) "
			       "answers after the USB reset",
			       s->ver.str, was.str);
	if (leave_mode(s) != 0)
		return -1;
	s->in_debug = 0;
	return debug ? stlink_enter_swd(s, s->khz) : 0;
}

/* OOCD stlink_usb_usb_open: OOCD resets the device and asks GET_VERSION again
 * (stlink_usb_usb_open); PYO drains stale replies. A failure on the way
 * leaves the handle dead rather than half in step. */
int stlink_resync(stlink *s)
{
	int rc;

	s->resyncing = 1;
	s->out_of_step = 0;
	s->writes++; /* a USB reset: assume the worst of the target */
	rc = resync_steps(s);
	s->resyncing = 0;
	if (rc != 0 || s->out_of_step) {
		s->dead = 1;
		snprintf(s->dead_why, sizeof s->dead_why, "%.150s", s->err.msg);
		return st_fail(
			&s->err, ST_EUSB, s->err.sys,
			"the probe is out of step after a failed transfer "
			"and could not be re-synchronised (%s); replug it "
			"and open it again",
			s->dead_why);
	}
	s->resyncs++;
	return 0;
}

void stlink_describe(const stlink *s, char *buf, size_t len)
{
	snprintf(buf, len, "ST-Link/%s %s %s", s->ver.kind, s->ver.str,
		 s->link->id.serial);
}

void stlink_close(stlink *s)
{
	uint8_t cmd[CMD_LEN];

	if (s == NULL)
		return;
	if (s->in_debug && !s->dead) {
		/* The core is left halted: releasing it is the caller's call. */
		stlink_cmd_init(cmd, DEBUG_CMD, 0x21);
		stlink_xfer(s, "DEBUG_EXIT", cmd, NULL, 0, NULL, 0);
	}
	link_close(s->link);
	stlink_trace_stop(s);
	free(s);
}
