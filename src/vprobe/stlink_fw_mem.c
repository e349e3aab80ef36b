/*
 * The ST-Link firmware model's memory commands (07 08 0C 0D 47 48 50 54:
 * READMEM/WRITEMEM 8, 16, 32 bit, the 32-bit no-increment pair) and their
 * data phase: the checks a command gets before it runs, one bus access per
 * unit, the status the host reads with GETLASTRWSTATUS. Layouts and rules:
 * OOCD stlink_usb.c, PYO usb.py.
 */
#include <string.h>

#include "stlink_fw_internal.h"

static unsigned max_len(const vp_fw *fw, enum width w)
{
	return w == W8 ? vp_probe_rw8_max(&fw->kind) : VP_FW_BUF_MAX;
}

/* Checks a memory command can run; returns VP_ST_OK or the status it gets.
 * Refusals of alignment and length are UNCONFIRMED for real firmware
 * (no source gives it): modelled as JTAG_ALIGNMENT_ERROR / CMD_ERROR. */
static uint8_t mem_check(const vp_fw *fw, uint32_t addr, size_t len,
			 enum width w, uint8_t apsel)
{
	if (w != W8 && (addr % w || len % w))
		return VP_ST_ALIGNMENT_ERROR;
	if (len > max_len(fw, w))
		return VP_ST_CMD_ERROR;
	/* APSEL is honoured only with the CSW/multi-AP firmware (J32+/V3J2+,
	 * OOCD STLINK_F_HAS_CSW); these parts have only AP0. */
	if (apsel != 0 && vp_fw_has(fw, VP_F_CSW))
		return VP_ST_BAD_AP;
	return VP_ST_OK;
}

/* CSW bits [31:8] in bytes 9-11: honoured from V2 J32 / V3 J2 only, with
 * APSEL (OOCD STLINK_F_HAS_CSW, OOCD stlink_usb.c); older firmware ignores
 * them. */
static void mem_csw(vp_fw *fw, const uint8_t *cmd)
{
	if (vp_fw_has(fw, VP_F_CSW))
		vp_dap_mem_csw(&fw->dap, (uint32_t)cmd[9]
						 | (uint32_t)cmd[10] << 8
						 | (uint32_t)cmd[11] << 16);
}

static void set_rw(vp_fw *fw, uint8_t status, uint32_t addr)
{
	fw->last_status = status;
	fw->last_fault_addr = status == VP_ST_OK ? 0 : addr;
}

/* Reads run one bus access per unit of the command width. On failure the
 * reply keeps its length: what was read, then zeros (OOCD stlink_usb.c, PYO
 * usb.py: the reply length is fixed by the command). */
void vp_fw_mem_read(vp_fw *fw, const uint8_t *cmd, enum width w, bool inc,
		    uint8_t *reply, size_t *reply_len)
{
	uint32_t addr = le32(cmd + 2);
	size_t len = le16(cmd + 6);
	uint8_t st = mem_check(fw, addr, len, w, cmd[8]);
	mem_csw(fw, cmd);
	if (!fw->swd.sticky_kept)
		vp_dap_clear_sticky(&fw->dap);
	if (st == VP_ST_CMD_ERROR) {
		/* over the buffer: nothing is sent, the host times out (real
		 * behaviour UNCONFIRMED, no source gives it) */
		set_rw(fw, st, addr);
		*reply_len = 0;
		return;
	}
	/* 1-byte READMEM_8BIT answers 2 bytes, one target access (OOCD
	 * stlink_usb.c, PYO usb.py) */
	*reply_len = (w == W8 && len == 1) ? 2 : len;
	memset(reply, 0, *reply_len);
	uint32_t fault = addr;
	for (size_t off = 0; st == VP_ST_OK && off < len; off += w) {
		uint32_t a = inc ? addr + (uint32_t)off : addr, v = 0;
		st = vp_fw_bus_access(fw, false, a, w, &v);
		fault = a;
		if (st == VP_ST_OK)
			for (unsigned i = 0; i < (unsigned)w; i++)
				reply[off + i] = (uint8_t)(v >> 8 * i);
	}
	set_rw(fw, st, fault);
}

void vp_fw_mem_write_begin(vp_fw *fw, const uint8_t *cmd, enum width w,
			   bool inc, size_t *data_len)
{
	struct pending_write *pw = &fw->pw;
	pw->misc = false;
	mem_csw(fw, cmd);
	pw->addr = le32(cmd + 2);
	pw->len = le16(cmd + 6);
	pw->width = w;
	pw->inc = inc;
	pw->status = mem_check(fw, pw->addr, pw->len, w, cmd[8]);
	pw->active = pw->len > 0;
	/* the data phase is consumed even when the command is refused: hosts
	 * send it unconditionally after the command (OOCD stlink_usb.c, PYO
	 * usb.py) */
	*data_len = pw->len;
	if (!fw->swd.sticky_kept)
		vp_dap_clear_sticky(&fw->dap);
	if (!pw->active)
		set_rw(fw, pw->status, pw->addr);
}

void vp_fw_data(vp_fw *fw, const uint8_t *data, size_t len)
{
	struct pending_write *pw = &fw->pw;
	if (!pw->active)
		return;
	pw->active = false;
	if (pw->misc) {
		vp_dap_misc_data(&fw->dap, data, len);
		return;
	}
	uint8_t st = pw->status;
	uint32_t fault = pw->addr;
	unsigned w = pw->width;
	for (size_t off = 0; st == VP_ST_OK && off + w <= len && off < pw->len;
	     off += w) {
		uint32_t a = pw->inc ? pw->addr + (uint32_t)off : pw->addr,
			 v = 0;
		for (unsigned i = 0; i < w; i++)
			v |= (uint32_t)data[off + i] << 8 * i;
		st = vp_fw_bus_access(fw, true, a, w, &v);
		fault = a;
	}
	set_rw(fw, st, fault);
}
