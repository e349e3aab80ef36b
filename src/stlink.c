/*
 * ST-Link session commands over a link: framing, versions and feature
 * gates, modes, voltage, SWD entry and clock, debug registers, halt/reset,
 * and the command trace. Memory commands are in stlink_mem.c. Every
 * command is one 16-byte bulk OUT, a write's data a second OUT, a reply
 * one bulk IN whose length the command fixes (OOCD stlink_usb.c, PYO usb.py);
 * every reply length is checked before it is read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stlink_cmd.h"

#define DHCSR        0xE000EDF0u
#define DHCSR_S_HALT (1u << 17)

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

/* The command log (stotp probe:trace()): bounded, so a forgotten trace
 * cannot grow without limit; later commands are counted as dropped. */
int stlink_trace_start(stlink *s, size_t cap)
{
	stlink_trace_stop(s);
	s->trace = calloc(cap, sizeof *s->trace);
	if (s->trace == NULL)
		return st_fail(&s->err, ST_ENOMEM, 0, "out of memory");
	s->trace_cap = cap;
	return 0;
}

void stlink_trace_stop(stlink *s)
{
	free(s->trace);
	s->trace = NULL;
	s->trace_n = s->trace_cap = 0;
	s->trace_dropped = 0;
}

/* RW_MISC_OUT (F2 51) carries its register reads and writes in the data
 * phase, the command only their count (OpenOCD 0.12.0
 * src/jtag/drivers/stlink_usb.c stlink_usb_rw_misc_out): without the data
 * a batched FLASH_KEYR or DBGMCU write would be invisible in the trace.
 * Other data phases are memory data whose address and length the command
 * already names. The data is recorded as handed to the link, also when its
 * transfer then fails: a trace errs towards what may have been written. */
void stlink_trace_add(stlink *s, const uint8_t cmd[CMD_LEN],
		      const uint8_t *data, size_t dlen)
{
	stlink_trace_entry *e;
	size_t room = sizeof e->bytes - CMD_LEN;

	if (s->trace == NULL)
		return;
	if (s->trace_n >= s->trace_cap) {
		s->trace_dropped++;
		return;
	}
	e = &s->trace[s->trace_n++];
	memcpy(e->bytes, cmd, CMD_LEN);
	e->len = CMD_LEN;
	if (cmd[0] != DEBUG_CMD || cmd[1] != 0x51 || data == NULL)
		return;
	/* stlink_mem.c asserts a full batch fits; never more than room */
	dlen = dlen < room ? dlen : room;
	memcpy(e->bytes + CMD_LEN, data, dlen);
	e->len = (uint16_t)(CMD_LEN + dlen);
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

/* ---- version and modes ---- */

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

/* ---- voltage, SWD, core ---- */

int stlink_voltage(stlink *s, double *volts)
{
	uint8_t cmd[CMD_LEN], r[8];
	uint32_t a0, a1;

	if (!(s->features & STF_VOLTAGE))
		return st_fail(
			&s->err, ST_EUNSUPPORTED, 0,
			"firmware %s cannot read the target voltage (needs "
			"J13+)",
			s->ver.str);
	stlink_cmd_init(cmd, 0xF7, 0);
	if (stlink_xfer(s, "GET_TARGET_VOLTAGE", cmd, NULL, 0, r, sizeof r)
	    != 0)
		return -1;
	a0 = st_le32_get(r);
	a1 = st_le32_get(r + 4);
	if (a0 == 0) /* reference reading 0: invalid (OOCD stlink_usb.c) */
		return st_fail(&s->err, ST_EVOLTAGE, 0,
			       "the probe returned an invalid voltage reading");
	*volts = 2.0 * a1 * 1.2 / a0; /* OOCD, PYO */
	return 0;
}

/* SWD_SET_FREQ divisors, OOCD stlink_khz_to_speed_map_swd (= STL). */
static const struct {
	unsigned khz, div;
} swd_div[] = {
	{ 4000, 0 }, { 1800, 1 }, { 1200, 2 }, { 950, 3 },
	{ 480, 7 },  { 240, 15 }, { 125, 31 }, { 100, 40 },
	{ 50, 79 },  { 25, 158 }, { 15, 265 }, { 5, 798 },
};

static int set_freq_v2(stlink *s, unsigned khz)
{
	uint8_t cmd[CMD_LEN], r[2];
	size_t i, n = sizeof swd_div / sizeof swd_div[0];

	if (!(s->features & STF_SWD_FREQ))
		return 0; /* older firmware: its default clock */
	for (i = 0; i + 1 < n && swd_div[i].khz > khz; i++)
		;
	stlink_cmd_init(cmd, DEBUG_CMD, 0x43);
	/* u16 LE (OOCD); PYO/PRS read one byte: both see the same < 256. */
	cmd[2] = (uint8_t)swd_div[i].div;
	cmd[3] = (uint8_t)(swd_div[i].div >> 8);
	if (stlink_debug_cmd(s, "SWD_SET_FREQ", cmd, r, sizeof r) != 0)
		return -1;
	s->khz = swd_div[i].khz;
	return 0;
}

/* V3: pick the fastest listed clock not above the request (OOCD
 * stlink_speed_v3 via GET_COM_FREQ), then set it. */
static int set_freq_v3(stlink *s, unsigned khz)
{
	uint8_t cmd[CMD_LEN], r[52];
	unsigned i, count, best = 0, lowest = 0;

	stlink_cmd_init(cmd, DEBUG_CMD, 0x62);
	if (stlink_debug_cmd(s, "APIV3_GET_COM_FREQ", cmd, r, sizeof r) != 0)
		return -1;
	count = r[8] > 10 ? 10 : r[8];
	for (i = 0; i < count; i++) {
		unsigned f = st_le32_get(r + 12 + 4 * i);
		if (f <= khz && f > best)
			best = f;
		if (lowest == 0 || f < lowest)
			lowest = f;
	}
	if (best == 0)
		best = lowest ? lowest : khz;
	stlink_cmd_init(cmd, DEBUG_CMD, 0x61);
	st_le32_put(cmd + 4, best);
	if (stlink_debug_cmd(s, "APIV3_SET_COM_FREQ", cmd, r, 8) != 0)
		return -1;
	s->khz = st_le32_get(r + 4);
	return 0;
}

int stlink_enter_swd(stlink *s, unsigned khz)
{
	uint8_t cmd[CMD_LEN], r[2];

	if (!(s->features & STF_SWD))
		return st_fail(&s->err, ST_EUNSUPPORTED, 0,
			       "firmware %s has no SWD (STM8-only ST-Link)",
			       s->ver.str);
	if (s->in_debug) {
		stlink_cmd_init(cmd, DEBUG_CMD, 0x21);
		if (stlink_xfer(s, "DEBUG_EXIT", cmd, NULL, 0, NULL, 0) != 0)
			return -1;
		s->in_debug = 0;
	}
	if ((s->features & STF_V3_FREQ) ? set_freq_v3(s, khz)
					: set_freq_v2(s, khz))
		return -1;
	stlink_cmd_init(cmd, DEBUG_CMD, 0x30);
	cmd[2] = 0xA3; /* SWD (OOCD stlink_usb.c) */
	if (stlink_debug_cmd(s, "APIV2_ENTER_SWD", cmd, r, sizeof r) != 0)
		return -1;
	s->in_debug = 1;
	if (s->features & STF_AP_INIT) {
		/* Required before AP access from J28 (OOCD STLINK_F_HAS_AP_INIT). */
		stlink_cmd_init(cmd, DEBUG_CMD, 0x4B);
		cmd[2] = 0;
		if (stlink_debug_cmd(s, "INIT_AP", cmd, r, sizeof r) != 0)
			return -1;
	}
	return 0;
}

int stlink_read_dbg(stlink *s, uint32_t addr, uint32_t *value)
{
	uint8_t cmd[CMD_LEN], r[8];

	stlink_cmd_init(cmd, DEBUG_CMD, 0x36);
	st_le32_put(cmd + 2, addr);
	if (stlink_debug_cmd(s, "READDEBUGREG", cmd, r, sizeof r) != 0)
		return -1;
	*value = st_le32_get(r + 4);
	return 0;
}

int stlink_write_dbg(stlink *s, uint32_t addr, uint32_t value)
{
	uint8_t cmd[CMD_LEN], r[2];

	stlink_cmd_init(cmd, DEBUG_CMD, 0x35);
	st_le32_put(cmd + 2, addr);
	st_le32_put(cmd + 6, value);
	return stlink_debug_cmd(s, "WRITEDEBUGREG", cmd, r, sizeof r);
}

/* Halt = DHCSR key | C_HALT | C_DEBUGEN, then check S_HALT (STL register.h). */
int stlink_halt(stlink *s)
{
	uint32_t dhcsr;

	if (stlink_write_dbg(s, DHCSR, 0xA05F0003u) != 0
	    || stlink_read_dbg(s, DHCSR, &dhcsr) != 0)
		return -1;
	if (!(dhcsr & DHCSR_S_HALT))
		return st_fail(&s->err, ST_ETARGET, 0,
			       "the core did not halt (DHCSR 0x%08X)", dhcsr);
	return 0;
}

int stlink_drive_nrst(stlink *s, int high)
{
	uint8_t cmd[CMD_LEN], r[2];

	stlink_cmd_init(cmd, DEBUG_CMD, 0x3C); /* DRIVE_NRST (OOCD) */
	cmd[2] = high ? 0x01 : 0x00;
	return stlink_debug_cmd(s, "DRIVE_NRST", cmd, r, sizeof r);
}

int stlink_reset(stlink *s)
{
	uint8_t cmd[CMD_LEN], r[2];

	stlink_cmd_init(cmd, DEBUG_CMD, 0x32);
	return stlink_debug_cmd(s, "APIV2_RESETSYS", cmd, r, sizeof r);
}
