/*
 * DP/AP register model for READ_DAP_REG/WRITE_DAP_REG (45/46) and
 * INIT_AP/CLOSE_AP_DBG (4B/4C), OOCD stlink_usb.c. Register layouts and bit
 * positions are those of the ARM Debug Interface v5 (ADIv5) SW-DP and
 * MEM-AP, the AHB-AP of every Cortex-M3/M4/M7 (its IDR as peers' logs show it).
 */
#include "stlink_dap.h"
#include "hostile.h"

#include "stlink_fw.h"

#include <string.h>

#define DBGMCU_IDCODE 0xE0042000u /* RM0090 §38.6.1 */

/* ADIv5 DP CTRL/STAT bits. */
#define CTRL_STICKYORUN   (1u << 1)
#define CTRL_STICKYCMP    (1u << 4)
#define CTRL_STICKYERR    (1u << 5)
#define CTRL_WDATAERR     (1u << 7)
#define CTRL_CDBGPWRUPREQ (1u << 28)
#define CTRL_CSYSPWRUPREQ (1u << 30)
#define CTRL_ACKS                                                              \
	0xA0000000u /* CDBGPWRUPACK b29, CSYSPWRUPACK b31: read-only */
#define CTRL_STICKY                                                            \
	(CTRL_STICKYORUN | CTRL_STICKYCMP | CTRL_STICKYERR | CTRL_WDATAERR)
/* ADIv5 DP ABORT bits: each clears one sticky flag. */
#define ABORT_STKCMPCLR  (1u << 1)
#define ABORT_STKERRCLR  (1u << 2)
#define ABORT_WDERRCLR   (1u << 3)
#define ABORT_ORUNERRCLR (1u << 4)
/* AHB-AP CSW: DeviceEn (b6), AddrInc single (b4), Size word; the value
 * after the firmware's own setup. Model choice. */
#define CSW_DEFAULT  0x03000052u
#define CSW_DEVICEEN (1u << 6)
#define CSW_TRINPROG (1u << 7)
/* MEM-AP BASE: a ROM table is present (bit 0) at 0xE00FF000, the
 * Cortex-M PPB ROM table (ARMv7-M D1.4) that ppb.c models. A real F74x
 * points at an ST ROM table at 0xE00FD000 first (a pyOCD log of an F746):
 * not modelled, UNCONFIRMED for the other F7 lines. */
#define AP_BASE_VALUE 0xE00FF003u

void vp_dap_setup(vp_dap *d, const vp_part *part, const vp_mcu *mcu,
		  vp_dap_bus *bus, void *bus_ctx)
{
	d->part = part;
	d->mcu = mcu;
	d->bus = bus;
	d->bus_ctx = bus_ctx;
	vp_dap_reset(d);
}

void vp_dap_reset(vp_dap *d)
{
	d->ctrl = d->select = d->rdbuff = d->tar = 0;
	d->csw = CSW_DEFAULT;
	d->ap0_open = false;
	d->misc_items = 0;
	d->misc_done = false;
}

/* HLA hosts (OOCD's hla path, STL) never touch CTRL/STAT, yet memory
 * accesses work: the firmware powers the debug domain up itself on ENTER. */
void vp_dap_power_up(vp_dap *d)
{
	d->ctrl |= CTRL_CDBGPWRUPREQ | CTRL_CSYSPWRUPREQ;
}

/* Under sticky=cleared memory commands start with clean sticky flags: OOCD's
 * HLA path and STL never write ABORT, yet both keep working after a
 * faulting read on real probes, which suggests the firmware clears them
 * itself (model inference, UNCONFIRMED: PYO stlink.py, BMP stlinkv2.c). */
void vp_dap_clear_sticky(vp_dap *d)
{
	d->ctrl &= ~CTRL_STICKY;
}
void vp_dap_set_stickyerr(vp_dap *d)
{
	d->ctrl |= CTRL_STICKYERR;
}
bool vp_dap_sticky(const vp_dap *d)
{
	return (d->ctrl & CTRL_STICKY) != 0;
}

/* The ACK bits mirror the requests one cycle later; the model answers at
 * once. An unpowered target never acknowledges (OOCD forces a reconnect
 * when the ACKs are missing, PYO constants.py). */
static uint32_t ctrl_read(const vp_dap *d)
{
	uint32_t c = d->ctrl;
	if (vp_mcu_powered(d->mcu))
		c |= (c & CTRL_CDBGPWRUPREQ) << 1
		     | (c & CTRL_CSYSPWRUPREQ) << 1;
	return c;
}

static void abort_write(vp_dap *d, uint32_t v)
{
	if (v & ABORT_STKCMPCLR)
		d->ctrl &= ~CTRL_STICKYCMP;
	if (v & ABORT_STKERRCLR)
		d->ctrl &= ~CTRL_STICKYERR;
	if (v & ABORT_WDERRCLR)
		d->ctrl &= ~CTRL_WDATAERR;
	if (v & ABORT_ORUNERRCLR)
		d->ctrl &= ~CTRL_STICKYORUN;
}

/* DLCR after reset: WIREMODE [7:6] = 0b01, synchronous SWD (ADIv5.0
 * B2.2.4; the register ADIv5.2 keeps at bank 1 of 0x4). */
#define DLCR_RESET 0x00000040u

/* Banked registers at 0x4 (DPBANKSEL, ADIv5.2 B2.2): 1 DLCR; on a DPv2
 * (the M7's DPIDR version 2) 2 TARGETID, 3 DLPIDR, 4 EVENTSTAT. */
static uint8_t dp_banked(vp_dap *d, unsigned bank, bool write, uint32_t *v)
{
	bool dpv2 = ((d->part->dpidr >> 12) & 0xF) >= 2;
	if (write)
		return bank == 1 ? VP_ST_OK
				 : VP_ST_FAULT; /* only DLCR is writable */
	switch (bank) {
	case 1:
		*v = DLCR_RESET;
		return VP_ST_OK;
	/* TARGETID: TDESIGNER = ST's JEP106 code 0x20 (bits 11:1, bit 0 = 1)
	 * and TPARTNO = the DEV_ID: UNCONFIRMED for F7 (no RM0385/RM0410 text
	 * read), the pattern of ST's multidrop parts. */
	case 2:
		*v = dpv2 ? (uint32_t)d->part->dev_id << 12 | 0x20u << 1 | 1u
			  : 0;
		return VP_ST_OK;
	case 3:
		*v = dpv2 ? 1u : 0;
		return VP_ST_OK; /* DLPIDR: PROTVSN 1 = SWD v2 */
	case 4:
		*v = 0;
		return VP_ST_OK; /* EVENTSTAT: no event */
	default:
		*v = 0;
		return VP_ST_OK; /* reserved: RAZ (UNCONFIRMED) */
	}
}

/* SW-DP registers by address[3:2] (ADIv5): 0 DPIDR/ABORT, 4 CTRL/STAT,
 * 8 RESEND/SELECT, C RDBUFF. With DPBANKSEL firmware, address bits 7:4 are
 * the bank of 0x4 (OOCD sends BANK_REG(bank, reg), refuses them below J32,
 * OOCD stlink_usb.c); older firmware looks at bits 3:2 only (model choice). */
static uint8_t dp_reg(vp_dap *d, uint16_t addr, bool write, uint32_t *v,
		      bool dpbanksel)
{
	unsigned bank = (addr >> 4) & 0xF;
	if (dpbanksel && bank != 0 && (addr & 0xC) == 0x4)
		return dp_banked(d, bank, write, v);
	switch (addr & 0xC) {
	case 0x0:
		if (write)
			abort_write(d, *v);
		else
			*v = d->part->dpidr;
		break;
	case 0x4: /* the sticky flags are read-only over SWD, cleared by ABORT */
		if (write)
			d->ctrl = (*v & ~(CTRL_STICKY | CTRL_ACKS))
				  | (d->ctrl & CTRL_STICKY);
		else
			*v = ctrl_read(d);
		break;
	case 0x8:
		if (write)
			d->select = *v;
		else
			*v = d->rdbuff;
		break;
	default: /* RDBUFF is read-only */
		if (write)
			return VP_ST_FAULT;
		*v = d->rdbuff;
		break;
	}
	return VP_ST_OK;
}

/* A DRW/BDx transfer at `addr` of CSW.Size, the value on its byte lanes. */
static uint8_t drw(vp_dap *d, uint32_t addr, bool write, uint32_t *v, bool inc)
{
	unsigned size = (d->csw & 7) == 0 ? 1 : (d->csw & 7) == 1 ? 2 : 4;
	uint32_t lane = 8 * (addr & 3 & ~(size - 1)),
		 x = write ? *v >> lane : 0;
	if (size < 4)
		addr &= ~(uint32_t)(size - 1);
	uint8_t st = d->bus(d->bus_ctx, write, addr, size, &x);
	if (st == VP_ST_AP_FAULT)
		d->ctrl |= CTRL_STICKYERR;
	if (st != VP_ST_OK)
		return st;
	if (!write)
		*v = size == 4 ? x : (x & ((1u << 8 * size) - 1)) << lane;
	/* TAR auto-increment stays within a 1 KiB block (ADIv5 minimum, OOCD
	 * stlink_usb.c) */
	if (inc && ((d->csw >> 4) & 3) != 0)
		d->tar = (d->tar & ~0x3FFu) | ((d->tar + size) & 0x3FFu);
	return VP_ST_OK;
}

/* MEM-AP registers (ADIv5): 00 CSW, 04 TAR, 0C DRW, 10-1C BD0-BD3,
 * F8 BASE, FC IDR. */
static uint8_t ap_reg(vp_dap *d, uint16_t addr, bool write, uint32_t *v)
{
	if (d->ctrl & CTRL_STICKYERR)
		return VP_ST_AP_FAULT; /* ADIv5: AP accesses FAULT until ABORT */
	uint8_t st = VP_ST_OK;
	switch (addr & 0xFC) {
	case 0x00:
		if (write)
			d->csw = (*v & ~CSW_TRINPROG) | CSW_DEVICEEN;
		else
			*v = d->csw;
		break;
	case 0x04:
		if (write)
			d->tar = *v;
		else
			*v = d->tar;
		break;
	case 0x0C:
		st = drw(d, d->tar, write, v, true);
		break;
	case 0x10:
	case 0x14:
	case 0x18:
	case 0x1C: {
		uint32_t a = (d->tar & ~0xFu) + (addr & 0xC);
		uint32_t csw = d->csw;
		d->csw = (csw & ~7u) | 2u; /* banked data is word-wide */
		st = drw(d, a, write, v, false);
		d->csw = csw;
		break;
	}
	case 0xF8:
		if (!write)
			*v = AP_BASE_VALUE;
		break;
	case 0xFC:
		if (!write)
			*v = d->part->ap_idr;
		break;
	default:
		if (!write)
			*v = 0;
		break;
	}
	if (st == VP_ST_OK && !write)
		d->rdbuff = *v;
	return st;
}

uint8_t vp_dap_reg(vp_dap *d, uint16_t port, uint16_t addr, bool write,
		   uint32_t *v, vp_dap_caps caps)
{
	bool need_init = caps.need_init;
	if (port == VP_DAP_DP_PORT)
		return dp_reg(d, addr, write, v, caps.dpbanksel);
	/* from J28 an AP must be opened with INIT_AP first (OOCD
	 * STLINK_F_HAS_AP_INIT, OOCD stlink_usb.c); the status a real probe
	 * gives is UNCONFIRMED: BAD_AP */
	if (need_init && !(port == 0 && d->ap0_open))
		return VP_ST_BAD_AP;
	if (port != 0)
		return VP_ST_BAD_AP; /* only AP0, the AHB-AP, exists on F2/F4/F7 */
	return ap_reg(d, addr, write, v);
}

uint8_t vp_dap_ap_init(vp_dap *d, uint8_t apsel, bool open)
{
	if (apsel != 0)
		return VP_ST_BAD_AP; /* only AP0, the AHB-AP, exists on F2/F4/F7 */
	d->ap0_open = open;
	return VP_ST_OK;
}

void vp_dap_mem_csw(vp_dap *d, uint32_t csw_hi)
{
	if (csw_hi != 0)
		d->csw = (csw_hi << 8) | (d->csw & 0xFFu) | CSW_DEVICEEN;
}

size_t vp_dap_misc_out(vp_dap *d, uint32_t items, uint32_t max)
{
	d->misc_done = false;
	d->misc_items = items > 0 && items <= max ? items : 0;
	return d->misc_items ? ((size_t)items + 3) / 4 * 4 + 4 * (size_t)items
			     : 0;
}

size_t vp_dap_misc_in(vp_dap *d, uint8_t *out)
{
	size_t n = d->misc_done ? 8 * (size_t)d->misc_items : 0;
	memcpy(out, d->misc_reply, n);
	d->misc_done = false;
	d->misc_items = 0;
	return n;
}

static uint32_t misc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
	       | (uint32_t)p[3] << 24;
}

static void misc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* One item: its status; *out the value read (0 for the others). Reads and
 * writes are word accesses through the current AP (OOCD queues only
 * CMD_MEM_AP_READ32/WRITE32 there). */
static uint8_t misc_item(vp_dap *d, uint8_t op, uint32_t arg, uint32_t *ap,
			 uint32_t *addr, uint32_t *out)
{
	*out = 0;
	switch (op) {
	case VP_MISC_OP_APNUM:
		*ap = arg;
		return arg == 0 ? VP_ST_OK
				: VP_ST_BAD_AP; /* only AP0 on F2/F4/F7 */
	case VP_MISC_OP_ADDRESS:
		*addr = arg;
		return VP_ST_OK;
	case VP_MISC_OP_WRITE:
	case VP_MISC_OP_READ: {
		uint32_t a = op == VP_MISC_OP_READ ? arg : *addr, v = arg;
		if (*ap != 0)
			return VP_ST_BAD_AP;
		if (a % 4)
			return VP_ST_ALIGNMENT_ERROR;
		uint8_t st =
			d->bus(d->bus_ctx, op == VP_MISC_OP_WRITE, a, 4, &v);
		if (st == VP_ST_OK && op == VP_MISC_OP_READ)
			*out = d->other_idcode && a == DBGMCU_IDCODE
				       ? vp_hostile_other_idcode(v)
				       : v;
		return st;
	}
	default:
		return VP_ST_CMD_ERROR; /* no other opcode is known (UNCONFIRMED) */
	}
}

/* Items after a failed one are not run and report its status: what the
 * firmware does there is UNCONFIRMED; OOCD fails the queue on the first
 * status that is not OK. A WRITE does not advance the address (OOCD sends
 * ADDRESS before each WRITE; UNCONFIRMED). */
void vp_dap_misc_data(vp_dap *d, const uint8_t *buf, size_t len)
{
	uint32_t items = d->misc_items;
	uint8_t *out = d->misc_reply;
	const uint8_t *args = buf + (items + 3) / 4 * 4;
	if (len < (size_t)(items + 3) / 4 * 4 + 4 * (size_t)items)
		return; /* board.c delivers a data phase whole */
	d->misc_done = true;
	uint32_t ap = 0, addr = 0;
	uint8_t st = VP_ST_OK;
	for (uint32_t i = 0; i < items; i++) {
		uint32_t v = 0;
		if (st == VP_ST_OK)
			st = misc_item(d, buf[i], misc_le32(args + 4 * i), &ap,
				       &addr, &v);
		misc_put32(out + 4 * i, v);
		misc_put32(out + 4 * (items + i), st);
	}
}
