/*
 * ST-Link firmware model: command decoder, modes, version gates, status
 * codes and the debug commands, over the SWD engine that turns accesses
 * into target bus cycles; the memory commands are in stlink_fw_mem.c.
 * Layouts, statuses, memory rules, gates: OOCD stlink_usb.c, PYO
 * constants.py and stlink.py, PRS mod.rs. Every target access goes through
 * vp_fw_bus_access(), which owns the mapping of bus WAIT/FAULT/no-power to
 * ST-Link statuses; the DP/AP register model for READ_DAP_REG/WRITE_DAP_REG
 * (45/46) sits on top of it (stlink_dap.c).
 */
#include "stlink_freq.h"
#include "stlink_fw_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Power-on mode: V2 comes up in DFU mode (the reason OOCD
 * stlink_usb_init_mode and STL stlink_open_usb send F3 07 when the mode is
 * DFU); V2-1 and V3 come up in MASS mode (their MSD interface). Which
 * firmware starts where is UNCONFIRMED beyond that; hosts handle both. */
static int power_on_mode(const vp_probe_kind *k)
{
	return k->hw == VP_HW_V2 ? MODE_DFU : MODE_MASS;
}

static vp_dap_bus dap_bus;

vp_fw *vp_fw_new(const vp_probe_kind *kind, const vp_part *part, vp_mcu *mcu,
		 vp_clock *clock, const vp_fw_params *params)
{
	vp_fw *fw = calloc(1, sizeof *fw);
	if (!fw)
		return NULL;
	fw->kind = *kind;
	fw->part = part;
	fw->mcu = mcu;
	fw->clock = clock;
	fw->params.unknown_cmd_status = VP_ST_UNKNOWN_CMD;
	fw->params.sticky_kept = true;
	if (params)
		fw->params = *params;
	vp_dap_setup(&fw->dap, part, mcu, dap_bus, fw);
	fw->swd.mcu = mcu;
	fw->swd.clock = clock;
	fw->swd.dap = &fw->dap;
	fw->swd.v3 = kind->hw == VP_HW_V3;
	/* sticky flags the host cannot clear would wedge the probe: firmware
	 * without WRITE_DAP_REG (V2 < J24, OOCD stlink_usb.c) must clear
	 * them */
	fw->swd.sticky_kept =
		fw->params.sticky_kept && vp_probe_has(kind, VP_F_DAP_REG);
	vp_fw_usb_reset(fw);
	return fw;
}

void vp_fw_retarget(vp_fw *fw, const vp_part *part, vp_mcu *mcu)
{
	fw->part = part;
	fw->mcu = mcu;
	fw->iface = IF_NONE;
	fw->pw.active = false;
	vp_dap_setup(&fw->dap, part, mcu, dap_bus, fw);
	fw->swd.mcu = mcu;
	fw->swd.posted.active = false; /* a write to the old board is gone */
	fw->swd.fault_next = false;
}

void vp_fw_hostile_idcode(vp_fw *fw, bool on)
{
	fw->dap.other_idcode = on;
}

void vp_fw_free(vp_fw *fw)
{
	free(fw);
}

void vp_fw_usb_reset(vp_fw *fw)
{
	fw->mode = power_on_mode(&fw->kind);
	fw->iface = IF_NONE;
	fw->last_status = VP_ST_OK;
	fw->last_fault_addr = 0;
	fw->swd.khz = VP_FREQ_DEFAULT_KHZ;
	fw->pw.active = false;
	vp_dap_reset(&fw->dap);
}

void vp_fw_arm_waits(vp_fw *fw, uint64_t k)
{
	fw->next_waits += k;
}

static void charge_swd(vp_fw *fw)
{
	vp_swd_charge(&fw->swd);
}

/* One target bus access through the AHB-AP (stlink_swd.c), after the WAIT
 * runs that wait@N:K injects (faults.h). */
uint8_t vp_fw_bus_access(vp_fw *fw, bool write, uint32_t addr, unsigned size,
			 uint32_t *val)
{
	if (fw->iface == IF_NONE)
		return VP_ST_DP_ERROR; /* SWD not started: no DP answers */
	fw->forced_waits += fw->armed_waits; /* this command starts its run */
	fw->armed_waits = 0;
	if (fw->forced_waits) {
		fw->forced_waits--;
		charge_swd(fw);
		fw->swd.fault_next =
			fw->swd.v3; /* as after a real busy AP (stlink_swd.c) */
		return VP_ST_AP_WAIT;
	}
	return vp_swd_access(&fw->swd, write, addr, size, val);
}

void vp_fw_settle(vp_fw *fw)
{
	vp_swd_settle(&fw->swd);
}

/* The DAP model's DRW/BDx accesses take the same path as memory commands. */
static uint8_t dap_bus(void *fw, bool write, uint32_t addr, unsigned size,
		       uint32_t *val)
{
	return vp_fw_bus_access(fw, write, addr, size, val);
}

bool vp_fw_has(const vp_fw *fw, enum vp_feature f)
{
	return vp_probe_has(&fw->kind, f);
}

/* ---- debug commands (F2 xx) ---- */

/* 2-byte replies: [0] status, [1] 0x00 (OOCD stlink_usb.c, PYO constants.py:
 * PYO unpacks "<H"). */
static void reply_status(uint8_t *reply, size_t *reply_len, uint8_t st)
{
	reply[0] = st;
	reply[1] = 0;
	*reply_len = 2;
}

/* 8-byte replies: [0..1] status, [4..7] value (READREG, READDEBUGREG,
 * READ_DAP_REG; OOCD stlink_usb.c). */
static void reply_value(uint8_t *reply, size_t *reply_len, uint8_t st,
			uint32_t v)
{
	memset(reply, 0, 8);
	reply[0] = st;
	put32(reply + 4, st == VP_ST_OK ? v : 0);
	*reply_len = 8;
}

static uint32_t idcode(const vp_fw *fw)
{
	if (fw->iface == IF_SWD)
		return fw->part->dpidr;
	/* JTAG-DP IDCODE (STL stm32.h): 0x5BA00477 for the M7's DPv2
	 * (DPIDR 0x5BA02477), 0x4BA00477 for M3/M4. For the F2 the table has
	 * a CONFLICT (0x0BA00477 per an STL comment): the F4 value is used. */
	return (fw->part->dpidr >> 28) == 5 ? 0x5BA00477u : 0x4BA00477u;
}

static void cmd_enter(vp_fw *fw, const uint8_t *cmd, uint8_t *reply,
		      size_t *reply_len)
{
	/* A3 = SWD, A4 = JTAG no reset, 00 = JTAG with reset (OOCD
	 * stlink_usb.c) */
	if (cmd[2] != 0xA3 && cmd[2] != 0xA4 && cmd[2] != 0x00) {
		reply_status(reply, reply_len, VP_ST_CMD_ERROR);
		return;
	}
	if (!vp_mcu_powered(fw->mcu)) {
		/* the DP never answers the IDCODE read: OOCD names this status
		 * STLINK_JTAG_GET_IDCODE_ERROR ("unable to connect") */
		reply_status(reply, reply_len, VP_ST_GET_IDCODE_ERROR);
		return;
	}
	if (cmd[2] == 0x00)
		vp_mcu_reset(fw->mcu);
	fw->iface = cmd[2] == 0xA3 ? IF_SWD : IF_JTAG;
	fw->mode = MODE_DEBUG;
	vp_dap_power_up(&fw->dap);
	charge_swd(fw);
	reply_status(reply, reply_len, VP_ST_OK);
}

static void cmd_read_idcodes(vp_fw *fw, uint8_t *reply, size_t *reply_len)
{
	memset(reply, 0, 12);
	*reply_len = 12;
	if (fw->iface == IF_NONE || !vp_mcu_powered(fw->mcu)) {
		reply[0] = VP_ST_GET_IDCODE_ERROR;
		return;
	}
	charge_swd(fw);
	reply[0] = VP_ST_OK;
	put32(reply + 4, idcode(fw)); /* [8..11] UNCONFIRMED: zero */
}

/* READDEBUGREG (36, 8-byte reply) / WRITEDEBUGREG (35, addr u32, val u32):
 * one word access on the AHB-AP (OOCD stlink_usb.c). An unaligned address is
 * refused like a memory command's (ALIGNMENT_ERROR, UNCONFIRMED, PYO
 * constants.py). */
static void cmd_debugreg(vp_fw *fw, const uint8_t *cmd, bool write,
			 uint8_t *reply, size_t *reply_len)
{
	uint32_t addr = le32(cmd + 2), v = write ? le32(cmd + 6) : 0;
	uint8_t st = addr % 4 ? VP_ST_ALIGNMENT_ERROR
			      : vp_fw_bus_access(fw, write, addr, 4, &v);
	if (write)
		reply_status(reply, reply_len, st);
	else
		reply_value(reply, reply_len, st, v);
}

/* READALLREGS (3A): 88 bytes, [0..3] status then 21 words (OOCD stlink_usb.c):
 * r0-r15, xPSR, MSP, PSP, then CONTROL/FAULTMASK/BASEPRI/PRIMASK (DCRSR
 * REGSEL 0x14, ARMv7-M C1.6.3) and a zero word; which register fills
 * words 19-20 is UNCONFIRMED. A core that is not halted cannot complete
 * DCRSR transfers (ARMv7-M C1.6.3): FAULT, a model choice of status. */
static void cmd_readallregs(vp_fw *fw, uint8_t *reply, size_t *reply_len)
{
	static const unsigned sel[21] = { 0,  1,  2,  3,  4,  5,  6,
					  7,  8,  9,  10, 11, 12, 13,
					  14, 15, 16, 17, 18, 20, 0xFF };
	memset(reply, 0, 88);
	*reply_len = 88;
	uint8_t st = fw->iface == IF_NONE || !vp_mcu_powered(fw->mcu)
			     ? VP_ST_DP_ERROR
			     : VP_ST_OK;
	for (unsigned i = 0; st == VP_ST_OK && i < 21; i++) {
		uint32_t v = 0;
		charge_swd(fw);
		if (sel[i] != 0xFF && !vp_mcu_core_reg(fw->mcu, sel[i], &v))
			st = VP_ST_FAULT; /* not halted: DCRSR does not complete */
		put32(reply + 4 + 4 * i, v);
	}
	reply[0] = st;
}

/* READREG (33: index u8; 8-byte reply) / WRITEREG (34: index u8, value
 * u32 at [3..6]), OOCD stlink_usb.c; the index is the DCRSR REGSEL (ARMv7-M
 * C1.6.3). Not halted: FAULT, as for READALLREGS. */
static void cmd_reg(vp_fw *fw, const uint8_t *cmd, bool write, uint8_t *reply,
		    size_t *reply_len)
{
	uint32_t v = write ? le32(cmd + 3) : 0;
	uint8_t st = VP_ST_OK;
	if (fw->iface == IF_NONE || !vp_mcu_powered(fw->mcu))
		st = VP_ST_DP_ERROR;
	else if (!(write ? vp_mcu_set_core_reg(fw->mcu, cmd[2], v)
			 : vp_mcu_core_reg(fw->mcu, cmd[2], &v)))
		st = VP_ST_FAULT;
	charge_swd(fw);
	if (write)
		reply_status(reply, reply_len, st);
	else
		reply_value(reply, reply_len, st, v);
}

/* GETLASTRWSTATUS (3B, 2 bytes) / GETLASTRWSTATUS2 (3E, 12 bytes with the
 * faulting address at [4..7]): OOCD stlink_usb.c. */
static void cmd_rwstatus(vp_fw *fw, bool v2, uint8_t *reply, size_t *reply_len)
{
	if (!v2) {
		reply_status(reply, reply_len, fw->last_status);
		return;
	}
	memset(reply, 0, 12);
	reply[0] = fw->last_status;
	put32(reply + 4, fw->last_fault_addr); /* [8..11] UNCONFIRMED: zero */
	*reply_len = 12;
}

/* GET_TARGET_VOLTAGE: a0 = the probe ADC's reading of its 1.2 V reference,
 * a1 = the target supply through a /2 divider, V = 2*a1*1.2/a0 (OOCD
 * stlink_usb.c). Modelled as a 12-bit ADC referenced to a 3.3 V probe
 * supply. */
static void cmd_voltage(vp_fw *fw, uint8_t *reply, size_t *reply_len)
{
	double v = vp_mcu_voltage(fw->mcu);
	uint32_t a0 = (uint32_t)(1.2 / 3.3 * 4095.0 + 0.5);
	uint32_t a1 = (uint32_t)(v / 2.0 / 3.3 * 4095.0 + 0.5);
	if (a1 > 4095)
		a1 = 4095;
	put32(reply, a0);
	put32(reply + 4, a1);
	*reply_len = 8;
}

/* APIV3_SET_COM_FREQ (61): [2] 0 SWD / 1 JTAG, [4..7] kHz wanted; replies
 * the kHz actually set (OOCD stlink_usb.c). JTAG speed is accepted but
 * unused. */
static void cmd_set_com_freq(vp_fw *fw, const uint8_t *cmd, uint8_t *reply,
			     size_t *reply_len)
{
	unsigned got = vp_freq_v3_pick(le32(cmd + 4));
	if (cmd[2] == 0)
		fw->swd.khz = got;
	reply_value(reply, reply_len, VP_ST_OK, got);
}

static void cmd_dap(vp_fw *fw, const uint8_t *cmd, bool write, uint8_t *reply,
		    size_t *reply_len)
{
	uint16_t port = le16(cmd + 2), addr = le16(cmd + 4);
	uint32_t v = write ? le32(cmd + 6) : 0;
	uint8_t st;
	if (fw->iface == IF_NONE || !vp_mcu_powered(fw->mcu))
		st = VP_ST_DP_ERROR;
	else
		st = vp_dap_reg(&fw->dap, port, addr, write, &v,
				(vp_dap_caps){ vp_fw_has(fw, VP_F_AP_INIT),
					       vp_fw_has(fw, VP_F_CSW) });
	charge_swd(fw);
	if (write)
		reply_status(reply, reply_len, st);
	else
		reply_value(reply, reply_len, st, v);
}

static void cmd_ap_init(vp_fw *fw, const uint8_t *cmd, bool open,
			uint8_t *reply, size_t *reply_len)
{
	uint8_t st = vp_dap_ap_init(&fw->dap, cmd[2], open);
	/* below J29 CLOSE_AP_DBG answers a wrong status (OOCD ignores it; PYO
	 * saw an "undocumented 0x1d"): OOCD stlink_usb.c, STLINK_F_* flags */
	if (st == VP_ST_OK && !open && fw->kind.hw != VP_HW_V3
	    && fw->kind.jtag < 29)
		st = VP_ST_BAD_AP;
	reply_status(reply, reply_len, st);
}

/* The feature gate of each F2 subcommand (OOCD STLINK_F_* flags); -1: every
 * firmware. */
static int sub_gate(uint8_t sub)
{
	switch (sub) {
	case 0x3E:
		return VP_F_RWSTATUS2;
	case 0x40:
	case 0x41:
	case 0x42:
		return VP_F_TRACE;
	case 0x43:
		return VP_F_SWD_FREQ;
	case 0x44:
		return VP_F_JTAG_FREQ;
	case 0x45:
	case 0x46:
		return VP_F_DAP_REG;
	case 0x47:
	case 0x48:
	case 0x50:
		return VP_F_MEM16;
	case 0x4B:
	case 0x4C:
		return VP_F_AP_INIT;
	case 0x51:
	case 0x52:
	case 0x54:
		return VP_F_CSW;
	case 0x56:
		return VP_F_BOARD_ID;
	case 0x61:
	case 0x62:
	case 0x63:
		return VP_F_V3_FREQ;
	default:
		return -1;
	}
}

static bool debug_cmd_mem(vp_fw *fw, const uint8_t *cmd, uint8_t *reply,
			  size_t *reply_len, size_t *data_len)
{
	switch (cmd[1]) {
	case 0x07:
		vp_fw_mem_read(fw, cmd, W32, true, reply, reply_len);
		return true;
	case 0x47:
		vp_fw_mem_read(fw, cmd, W16, true, reply, reply_len);
		return true;
	case 0x0C:
		vp_fw_mem_read(fw, cmd, W8, true, reply, reply_len);
		return true;
	case 0x54:
		vp_fw_mem_read(fw, cmd, W32, false, reply, reply_len);
		return true;
	case 0x08:
		vp_fw_mem_write_begin(fw, cmd, W32, true, data_len);
		return true;
	case 0x48:
		vp_fw_mem_write_begin(fw, cmd, W16, true, data_len);
		return true;
	case 0x0D:
		vp_fw_mem_write_begin(fw, cmd, W8, true, data_len);
		return true;
	case 0x50:
		vp_fw_mem_write_begin(fw, cmd, W32, false, data_len);
		return true;
	default:
		return false;
	}
}

static void debug_cmd(vp_fw *fw, const uint8_t *cmd, uint8_t *reply,
		      size_t *reply_len, size_t *data_len)
{
	int gate = sub_gate(cmd[1]);
	/* A DFU-mode probe must be left with F3 07 first (OOCD
	 * stlink_usb_exit_mode); what it answers to debug commands is
	 * UNCONFIRMED: the unknown-command status. */
	if ((gate >= 0 && !vp_fw_has(fw, (enum vp_feature)gate))
	    || fw->mode == MODE_DFU) {
		reply_status(reply, reply_len, fw->params.unknown_cmd_status);
		return;
	}
	if (debug_cmd_mem(fw, cmd, reply, reply_len, data_len))
		return;
	switch (cmd[1]) {
	case 0x21: /* EXIT: no reply; closes the opened APs on J28+ (OOCD) */
		fw->mode = MODE_MASS;
		fw->iface = IF_NONE;
		vp_dap_reset(&fw->dap);
		return;
	case 0x30:
		cmd_enter(fw, cmd, reply, reply_len);
		return;
	case 0x31:
		cmd_read_idcodes(fw, reply, reply_len);
		return;
	case 0x32: /* APIV2_RESETSYS: system reset, 2-byte status (OOCD) */
		if (fw->iface == IF_NONE || !vp_mcu_powered(fw->mcu)) {
			reply_status(reply, reply_len, VP_ST_DP_ERROR);
			return;
		}
		vp_mcu_reset(fw->mcu);
		reply_status(reply, reply_len, VP_ST_OK);
		return;
	case 0x33:
		cmd_reg(fw, cmd, false, reply, reply_len);
		return;
	case 0x34:
		cmd_reg(fw, cmd, true, reply, reply_len);
		return;
	case 0x35:
		cmd_debugreg(fw, cmd, true, reply, reply_len);
		return;
	case 0x36:
		cmd_debugreg(fw, cmd, false, reply, reply_len);
		return;
	case 0x3A:
		cmd_readallregs(fw, reply, reply_len);
		return;
	case 0x3B:
		cmd_rwstatus(fw, false, reply, reply_len);
		return;
	case 0x3E:
		cmd_rwstatus(fw, true, reply, reply_len);
		return;
	case 0x3C: /* DRIVE_NRST: 00 low (held until 01), 01 high, 02 pulse
		    * (OOCD stlink_usb.c; mcu.h vp_mcu_set_nrst) */
		if (cmd[2] <= 0x02)
			vp_mcu_set_nrst(fw->mcu, cmd[2] != 0x01);
		if (cmd[2] == 0x02)
			vp_mcu_set_nrst(fw->mcu, false);
		reply_status(reply, reply_len,
			     cmd[2] <= 2 ? VP_ST_OK : VP_ST_CMD_ERROR);
		return;
	case 0x40:
	case 0x41: /* trace start/stop (OOCD): accepted, no SWO modelled */
	case 0x44: /* JTAG_SET_FREQ (OOCD): accepted; JTAG timing not modelled */
		reply_status(reply, reply_len, VP_ST_OK);
		return;
	case 0x42: /* GET_TRACE_NB: u16 count (OOCD stlink_usb.c), always 0 */
		reply_status(reply, reply_len, 0);
		return;
	case 0x43: /* SWD_SET_FREQ: divisor u16 at [2..3] as OOCD sends it */
		fw->swd.khz = vp_freq_swd_divisor_khz(le16(cmd + 2));
		reply_status(reply, reply_len, VP_ST_OK);
		return;
	case 0x45:
		cmd_dap(fw, cmd, false, reply, reply_len);
		return;
	case 0x46:
		cmd_dap(fw, cmd, true, reply, reply_len);
		return;
	case 0x4B:
		cmd_ap_init(fw, cmd, true, reply, reply_len);
		return;
	case 0x4C:
		cmd_ap_init(fw, cmd, false, reply, reply_len);
		return;
	case 0x51: /* RW_MISC_OUT: V3 takes 1227 items, V2 64 (stlink_dap.h) */
		*data_len = fw->iface == IF_NONE
				    ? 0
				    : vp_dap_misc_out(&fw->dap, le32(cmd + 2),
						      fw->kind.hw == VP_HW_V3
							      ? VP_MISC_MAX_V3
							      : VP_MISC_MAX_V2);
		fw->pw.active = fw->pw.misc = *data_len > 0;
		fw->pw.len = *data_len;
		return;
	case 0x52:
		*reply_len = vp_dap_misc_in(&fw->dap, reply);
		return;
	case 0x56: /* GET_BOARD_IDENTIFIERS, 128 bytes (OOCD): a bare
		    * probe has no Mbed board ID, so [2..5] stay zero */
		memset(reply, 0, 128);
		reply[0] = VP_ST_OK;
		*reply_len = 128;
		return;
	case 0x61:
		cmd_set_com_freq(fw, cmd, reply, reply_len);
		return;
	case 0x62: /* APIV3_GET_COM_FREQ */
		vp_freq_v3_list_reply(fw->swd.khz, reply);
		*reply_len = 52;
		return;
	case 0x63: /* SWITCH_STLINK_FREQ answers JTAG_CONF_CHANGED (PYO, OOCD) */
		memset(reply, 0, 8);
		reply[0] = VP_ST_CONF_CHANGED;
		*reply_len = 8;
		return;
	default:
		/* API v1 commands (below J11, not modelled, OOCD stlink_usb.c)
		 * and unknown ones: 0x42 by default (PYO constants.py,
		 * UNCONFIRMED) */
		reply_status(reply, reply_len, fw->params.unknown_cmd_status);
		return;
	}
}

void vp_fw_command(vp_fw *fw, const uint8_t *cmd_in, size_t len, uint8_t *reply,
		   size_t *reply_len, size_t *data_len)
{
	uint8_t cmd[VP_FW_CMD_LEN] = { 0 };
	memcpy(cmd, cmd_in, len < VP_FW_CMD_LEN ? len : VP_FW_CMD_LEN);
	*reply_len = 0;
	*data_len = 0;
	fw->pw.active = false;
	/* a run armed for the previous command that it never started is dropped */
	fw->armed_waits = fw->next_waits;
	fw->next_waits = 0;
	switch (cmd[0]) {
	case 0xF1: /* GET_VERSION (OOCD stlink_usb.c) */
		vp_probe_version_reply(&fw->kind, reply);
		*reply_len = 6;
		return;
	case 0xFB: /* GET_VERSION_EX: V3 only (OOCD stlink_usb.c) */
		if (!vp_fw_has(fw, VP_F_VERSION_EX))
			break;
		vp_probe_version_ex_reply(&fw->kind, reply);
		*reply_len = 12;
		return;
	case 0xF5: /* GET_CURRENT_MODE (OOCD stlink_usb.c) */
		reply[0] = (uint8_t)fw->mode;
		reply[1] = 0;
		*reply_len = 2;
		return;
	case 0xF3: /* DFU commands: only the exit (07) is modelled; no reply (OOCD) */
		if (cmd[1] != 0x07)
			break;
		if (fw->mode == MODE_DFU)
			fw->mode = MODE_MASS;
		return;
	case 0xF4: /* SWIM: only the exit (01) is modelled; no reply (OOCD) */
		if (cmd[1] != 0x01)
			break;
		if (fw->mode == MODE_SWIM)
			fw->mode = MODE_MASS;
		return;
	case 0xF7: /* GET_TARGET_VOLTAGE: V2 >= J13, all V3, not in DFU (OOCD) */
		if (!vp_fw_has(fw, VP_F_TRACE) || fw->mode == MODE_DFU)
			break;
		cmd_voltage(fw, reply, reply_len);
		return;
	case 0xF2:
		debug_cmd(fw, cmd, reply, reply_len, data_len);
		return;
	default:
		break;
	}
	reply_status(reply, reply_len, fw->params.unknown_cmd_status);
}
