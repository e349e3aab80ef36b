/*
 * What the ST-Link firmware model's files share (stlink_fw.c: the command
 * decoder, modes and debug commands; stlink_fw_mem.c: the memory commands
 * and their data phase). Nothing outside them includes it.
 */
#ifndef STOTP_VPROBE_STLINK_FW_INTERNAL_H
#define STOTP_VPROBE_STLINK_FW_INTERNAL_H

#include <stdbool.h>

#include "stlink_dap.h"
#include "stlink_fw.h"
#include "stlink_swd.h"

/* Modes reported by GET_CURRENT_MODE (OOCD stlink_usb.c). */
enum { MODE_DFU = 0, MODE_MASS = 1, MODE_DEBUG = 2, MODE_SWIM = 3 };
enum iface { IF_NONE, IF_SWD, IF_JTAG };
enum width { W8 = 1, W16 = 2, W32 = 4 };

struct pending_write {
	bool active;
	bool misc; /* RW_MISC_OUT items, not memory data */
	uint32_t addr;
	size_t len;
	enum width width;
	bool inc;       /* false: WRITEMEM_32BIT_NO_ADDR_INC */
	uint8_t status; /* set when the command was refused: data is dropped */
};

struct vp_fw {
	vp_probe_kind kind;
	const vp_part *part;
	vp_mcu *mcu;
	vp_clock *clock;
	vp_fw_params params;
	int mode;
	enum iface iface;
	uint8_t last_status; /* of the last memory command (3B/3E) */
	uint32_t last_fault_addr;
	vp_swd swd;           /* the SWD engine: clock, WAITs, posted writes */
	uint64_t next_waits;  /* wait@N:K armed for the command about to run */
	uint64_t armed_waits; /* armed for the current command, not started */
	uint64_t
		forced_waits; /* a started run: accesses still to answer WAIT */
	struct pending_write pw;
	vp_dap dap;
};

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
	       | (uint32_t)p[3] << 24;
}

static inline uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* One target bus access through the AHB-AP, after the WAIT runs that
 * wait@N:K injects (stlink_fw.c). */
uint8_t vp_fw_bus_access(vp_fw *fw, bool write, uint32_t addr, unsigned size,
			 uint32_t *val);
bool vp_fw_has(const vp_fw *fw, enum vp_feature f);

/* stlink_fw_mem.c: READMEM_* (reply filled) and WRITEMEM_* (the data phase
 * of *data_len bytes then goes to vp_fw_data). */
void vp_fw_mem_read(vp_fw *fw, const uint8_t *cmd, enum width w, bool inc,
		    uint8_t *reply, size_t *reply_len);
void vp_fw_mem_write_begin(vp_fw *fw, const uint8_t *cmd, enum width w,
			   bool inc, size_t *data_len);

#endif
