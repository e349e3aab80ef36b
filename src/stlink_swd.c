/*
 * The target side of an ST-Link session: its supply voltage, SWD entry and
 * clock, debug-register access, halt, NRST and reset (OOCD stlink_usb.c,
 * STL usb.c and register.h).
 */

#include "armv7m_regs.h"
#include "stlink_cmd.h"

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
