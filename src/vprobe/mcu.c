/*
 * The STM32 target behind the AHB-AP: the memory map, power, reset, and
 * dispatch to the flash interface (flashctl.c), core debug (core_debug.c),
 * PPB/DBGMCU (ppb.c) and RCC/PWR (periph.c).
 *
 * Memory map (RM0090 §2.3 Table 1/5, RM0385 §2.2, CMSIS, OOCD stm32f2x.c,
 * RM0090 §3.8, CMSIS FLASH_OTP_BASE):
 *   0x00000000  alias of main flash (BOOT0 = 0), read only here
 *   0x08000000  main flash, erased = 0xFF, programmed through flashctl
 *   0x20000000  SRAM (part->sram_kib contiguous)
 *   sysmem      system memory (bootloader), read only
 *   otp_base    OTP data, then lock bytes, then the info window with the
 *               UID, flash-size and package registers (image-backed)
 *   0x40023C00  flash interface; 0x40023800 RCC; 0x40007000 PWR;
 *               0x40003000 IWDG, 0x40002C00 WWDG (wdg.c)
 *   0xE0000000+ PPB (SCS, DWT, FPB, ITM, TPIU, ROM table), DBGMCU
 * A part that is not an F2/F4/F7 (VP_SR_NONE, parts.h) has no flash
 * interface, RCC or PWR here, and its flash areas fault on writes.
 * Anything else is a bus FAULT, as is a 2- or 4-byte access that is not
 * naturally aligned (except a flash program write, which flashctl judges:
 * PGAERR across a 128-bit row).
 */
#include <stdlib.h>
#include <string.h>

#include "mcu_internal.h"

#define FLASH_BASE 0x08000000u
#define SRAM_BASE  0x20000000u
#define AIRCR      0xE000ED0Cu
#define DEBUG_REGS 0xE000EDF0u /* DHCSR..DEMCR */
#define RDP_LEVEL0 0xAA        /* CMSIS FLASH_OPTCR */
#define RDP_LEVEL2 0xCC
/* Below this supply the part is held in reset by its power-down reset
 * (datasheet V_PDR about 1.7 V; exact value UNCONFIRMED): the DP does not
 * answer. */
#define VMIN_RUN 1.65

/* Kinds of flash-memory area an address can fall in. */
enum area { A_NONE, A_MAIN, A_ALIAS, A_SYSMEM, A_OTP, A_LOCK, A_INFO };

static bool in(uint32_t a, uint32_t base, uint32_t size)
{
	return a >= base && a - base < size;
}

static uint32_t otp_bytes(const vp_part *p)
{
	return VP_OTP_BLOCKS * p->otp_block_size;
}

/* The info window after the lock bytes: up to the last of the flash-size
 * and package registers, rounded to a 128-bit row. A part without lock
 * bytes (stm32l476rg) has its window from the row of the UID. */
static uint32_t info_base(const vp_part *p)
{
	if (p->otp_lock_base == 0)
		return (p->uid_addr < p->flash_size_reg ? p->uid_addr
							: p->flash_size_reg)
		       & ~15u;
	return p->otp_lock_base + 16;
}

static uint32_t info_size(const vp_part *p)
{
	uint32_t end = p->flash_size_reg + 2;
	if (p->package_reg + 2 > end)
		end = p->package_reg + 2;
	return ((end + 15u) & ~15u) - info_base(p);
}

static enum area area_of(const vp_mcu *m, uint32_t a)
{
	const vp_part *p = m->part;
	if (in(a, FLASH_BASE, p->flash_kib * 1024u))
		return A_MAIN;
	if (in(a, 0, p->flash_kib * 1024u))
		return A_ALIAS;
	if (in(a, p->sysmem_base, p->sysmem_size))
		return A_SYSMEM;
	if (in(a, p->otp_base, otp_bytes(p)))
		return A_OTP;
	if (p->otp_lock_base != 0 && in(a, p->otp_lock_base, 16))
		return A_LOCK;
	if (in(a, info_base(p), info_size(p)))
		return A_INFO;
	return A_NONE;
}

/* A plausible, fixed system-memory content: the bootloader's vector table
 * (initial SP in SRAM, reset handler in system memory), then code-like
 * bytes from a multiplicative hash of the offset. */
static uint8_t sysmem_byte(const vp_part *p, uint32_t off)
{
	uint32_t w = off < 4   ? 0x20001000u
		     : off < 8 ? (p->sysmem_base + 0x1000u) | 1u
			       : (off & ~3u) * 0x9E3779B1u;
	return (uint8_t)(w >> (8 * (off & 3u)));
}

/* The info window: UID (12 bytes), flash size (u16, KiB) and package
 * register (CMSIS, OOCD stm32f2x.c); other bytes read as erased flash. */
static uint8_t info_byte(const vp_mcu *m, uint32_t a)
{
	const vp_part *p = m->part;
	if (in(a, p->uid_addr, 12))
		return m->img->uid[a - p->uid_addr];
	if (in(a, p->flash_size_reg, 2))
		return (uint8_t)(p->flash_kib >> (8 * (a - p->flash_size_reg)));
	if (p->package_reg != 0 && in(a, p->package_reg, 2))
		return (uint8_t)(p->package_val >> (8 * (a - p->package_reg)));
	return 0xFF;
}

/* Storage for a main-flash byte; allocates the chunk when `make`. */
static uint8_t *main_cell(vp_mcu *m, uint32_t off, bool make)
{
	uint8_t **c = &m->flash[off / CHUNK];
	if (*c == NULL && make) {
		*c = malloc(CHUNK);
		if (*c != NULL)
			memset(*c, 0xFF, CHUNK);
	}
	return *c == NULL ? NULL : *c + off % CHUNK;
}

static uint8_t flash_byte(vp_mcu *m, enum area k, uint32_t a)
{
	const vp_part *p = m->part;
	switch (k) {
	case A_MAIN:
	case A_ALIAS: {
		uint8_t *c = main_cell(m, a & 0x00FFFFFFu, false);
		return c == NULL ? 0xFF : *c;
	}
	case A_SYSMEM:
		return sysmem_byte(p, a - p->sysmem_base);
	case A_OTP:
		return m->img->otp[a - p->otp_base];
	case A_LOCK:
		return m->img->lock[a - p->otp_lock_base];
	case A_INFO:
		return info_byte(m, a);
	default:
		return 0xFF;
	}
}

/* Main flash is closed to the debugger at RDP level 1 (RM0090 §3.7.3).
 * Whether OTP reads are blocked too is UNCONFIRMED (RM0090 §3.8): they are
 * left readable unless quirk rdp1_otp=fault, which closes the OTP data and
 * lock bytes as main flash is closed (reads and writes fault). The UID and
 * flash-size registers stay readable either way. */
static bool rdp_blocks(const vp_mcu *m, enum area k)
{
	if (m->img->rdp == RDP_LEVEL0)
		return false;
	return k == A_MAIN || k == A_ALIAS
	       || (m->fc.prm.rdp1_otp_fault && (k == A_OTP || k == A_LOCK));
}

/* Through the F2/F4 data cache while FLASH_ACR.DCEN (dcache.h; not on
 * the F7, whose ACR has no DCEN). */
static bool cached(const vp_mcu *m)
{
	return !m->fc.prm.dcache_coherent && m->part->sr != VP_SR_F7
	       && m->part->sr != VP_SR_F7_RDERR && (m->fc.acr & VP_ACR_DCEN);
}

static uint8_t cache_fill(void *ctx, uint32_t a)
{
	vp_mcu *m = ctx;
	return flash_byte(m, area_of(m, a), a);
}

static vp_bus flash_read(vp_mcu *m, enum area k, uint32_t a, unsigned size,
			 uint32_t *v)
{
	if (a % size != 0 || rdp_blocks(m, k))
		return VP_BUS_FAULT;
	/* "Reading or fetching flash during program/erase stalls the bus"
	 * (RM0090 §3.5.4, PM0059). */
	if (vp_flashctl_busy(&m->fc))
		return VP_BUS_STALL;
	*v = 0;
	for (unsigned i = 0; i < size; i++)
		*v |= (uint32_t)(cached(m) ? vp_dcache_read(&m->dcache, a + i,
							    cache_fill, m)
					   : flash_byte(m, k, a + i))
		      << (8 * i);
	return VP_BUS_OK;
}

/* Cells a program write would change; NULL for write-protected areas:
 * system memory, info window (PM0059 §2.6), a locked OTP block (lock byte
 * 0x00, RM0090 §3.8). A lock byte of any other value leaves its block
 * writable, as OOCD reads it (`is_protected = !lock`); RM0090 says values
 * other than 0x00/0xFF "might not be taken into account correctly". */
static uint8_t *program_cells(vp_mcu *m, enum area k, uint32_t a)
{
	const vp_part *p = m->part;
	switch (k) {
	case A_MAIN:
		return main_cell(m, a - FLASH_BASE, true);
	case A_OTP: {
		uint32_t off = a - p->otp_base;
		return m->img->lock[off / p->otp_block_size] == 0x00
			       ? NULL
			       : &m->img->otp[off];
	}
	case A_LOCK:
		return &m->img->lock[a - p->otp_lock_base];
	default:
		return NULL;
	}
}

/* A part whose flash interface is not modelled (VP_SR_NONE: stm32l476rg)
 * answers every write into its flash areas with a bus fault. Model choice,
 * UNCONFIRMED: a real L4 without PG set flags PGSERR in its own FLASH_SR
 * (RM0351 §3.7); a fault is the loud reading, so a host
 * that wrongly goes ahead learns it at once instead of reading back 0xFF. */
static vp_bus flash_write(vp_mcu *m, enum area k, uint32_t a, unsigned size,
			  uint32_t v)
{
	if (rdp_blocks(m, k) || !VP_PART_HAS_FLASHCTL(m->part))
		return VP_BUS_FAULT;
	if (k == A_ALIAS)
		return VP_BUS_FAULT; /* the boot alias is not writable here */
	bool crosses = (a & 15u) + size > 16u;
	vp_flash_unit u = { .addr = a, .size = size };
	u.cells = crosses ? NULL : program_cells(m, k, a);
	u.wrp = u.cells == NULL;
	for (unsigned i = 0; u.cells != NULL && k == A_OTP && i < size; i++)
		if (a - m->part->otp_base + i < otp_bytes(m->part))
			u.stuck |=
				(uint32_t)
					m->otp_stuck[a - m->part->otp_base + i]
				<< (8 * i);
	uint8_t before[4] = { 0 };
	if (u.cells != NULL)
		memcpy(before, u.cells, size);
	vp_bus r = vp_flashctl_program(&m->fc, &u, v);
	if (u.cells != NULL && (k == A_OTP || k == A_LOCK)
	    && memcmp(before, u.cells, size) != 0)
		m->img->dirty = true;
	if (r == VP_BUS_NOPOWER) {
		m->powered = false;
		m->voltage = 0;
	}
	return r;
}

static bool main_erase(void *ctx, int sector);

vp_mcu *vp_mcu_new(vp_image *img, const vp_part *part, vp_clock *clock,
		   double voltage)
{
	if (img == NULL || part == NULL || clock == NULL)
		return NULL;
	vp_mcu *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->sram = calloc(part->sram_kib, 1024);
	if (m->sram == NULL) {
		free(m);
		return NULL;
	}
	m->img = img;
	m->part = part;
	m->clock = clock;
	m->voltage = voltage;
	/* RDP level 2 disables the debug port for good (RM0090 §3.7.3): to the
	 * probe the target looks unpowered */
	m->powered = voltage >= VMIN_RUN && img->rdp != RDP_LEVEL2;
	vp_mcu_params prm;
	vp_mcu_params_default(&prm);
	vp_flashctl_init(&m->fc, part, clock, img, &prm, voltage);
	m->fc.erase = main_erase;
	m->fc.erase_ctx = m;
	vp_core_init(&m->core, part->fpu != 0);
	vp_ppb_init(&m->ppb, part);
	vp_periph_reset(&m->per, part);
	vp_mcu_reset(m);
	/* the board was powered before the probe connected: its firmware has
	 * long done what it does after reset */
	m->fw_quiet = m->img->boot != VP_BOOT_NORMAL;
	m->fw_quiet_at = 0;
	return m;
}

void vp_mcu_free(vp_mcu *m)
{
	if (m == NULL)
		return;
	for (unsigned i = 0; i < MAX_CHUNKS; i++)
		free(m->flash[i]);
	free(m->sram);
	free(m);
}

uint32_t vp_mcu_main_word(vp_mcu *m, uint32_t off)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)flash_byte(m, A_MAIN, FLASH_BASE + off + i)
		     << (8 * i);
	return v;
}

/* Sector layout (RM0090 §3.3 Table 6/7, RM0385 §3.3 Table 3/4,
 * RM0431 §3.3): 4 small sectors, one of 4 units, the rest of 8 units, where
 * a unit is 32 KiB on F74x-F77x and 16 KiB elsewhere. Dual-bank F42x:
 * SNB bit 4 selects bank 2 at 0x08100000 (CMSIS FLASH_CR). */
static bool sector_range(const vp_part *p, int snb, uint32_t *off,
			 uint32_t *len)
{
	uint32_t unit =
		(p->dev_id == 0x449 || p->dev_id == 0x451) ? 0x8000u : 0x4000u;
	uint32_t bank = p->flash_kib * 1024u, base = 0;
	if (p->dev_id == 0x419 || p->dev_id == 0x434) {
		bank /= 2;
		base = (snb & 0x10) ? bank : 0;
		snb &= 0x0F;
	}
	uint32_t s = (uint32_t)snb;
	*off = s < 4 ? s * unit : s == 4 ? 4 * unit : 8 * unit * (s - 4);
	*len = s < 4 ? unit : s == 4 ? 4 * unit : 8 * unit;
	*off += base;
	return *off + *len <= base + bank;
}

static bool main_erase(void *ctx, int sector)
{
	vp_mcu *m = ctx;
	uint32_t off = 0, len = m->part->flash_kib * 1024u;
	if (sector >= 0) {
		if (!sector_range(m->part, sector, &off, &len))
			return false;
	} else if (m->part->dev_id == 0x419 || m->part->dev_id == 0x434) {
		len /= 2; /* MER bank 1, MER2 bank 2 */
		off = sector == -2 ? len : 0;
	}
	for (uint32_t c = off / CHUNK; c < (off + len) / CHUNK; c++) {
		free(m->flash[c]);
		m->flash[c] = NULL;
	}
	return true;
}

/* Word-wide registers reached with a narrower access: the byte lanes of
 * the word (AHB lane rules). */
static uint32_t lane_extract(uint32_t word, uint32_t a, unsigned size)
{
	return size == 4 ? word
			 : (word >> (8 * (a & 3u))) & ((1u << (8 * size)) - 1);
}

static uint32_t lane_merge(uint32_t word, uint32_t a, unsigned size, uint32_t v)
{
	if (size == 4)
		return v;
	uint32_t mask = ((1u << (8 * size)) - 1) << (8 * (a & 3u));
	return (word & ~mask) | ((v << (8 * (a & 3u))) & mask);
}

/* Flash interface, RCC and PWR are those of the F2/F4/F7; on any other
 * part (VP_SR_NONE) their addresses are empty (the L47x has its flash
 * interface at 0x40022000 and RCC at 0x40021000, RM0351 §2.2.2, neither
 * modelled). */
static bool f_regs(const vp_mcu *m, uint32_t a)
{
	return VP_PART_HAS_FLASHCTL(m->part) && in(a, 0x40000000u, 0x20000000u);
}

static vp_bus reg_read(vp_mcu *m, uint32_t a, unsigned size, uint32_t *v)
{
	uint32_t w = a & ~3u, word;
	bool f = f_regs(m, a);
	if (f && in(a, VP_FLASH_REGS, VP_FLASH_REGS_SIZE))
		return vp_flashctl_read(&m->fc, a - VP_FLASH_REGS, size, v);
	if (in(w, DEBUG_REGS, 16))
		word = vp_core_read_dbg(&m->core, w - DEBUG_REGS);
	else if (w == AIRCR)
		word = 0xFA050000u
		       | m->aircr; /* VECTKEYSTAT (ARMv7-M B3.2.6) */
	else if (!(f
		   && (vp_periph_read(&m->per, w, &word)
		       || vp_wdg_read(&m->wdg, w, &word)))
		 && !vp_ppb_read(&m->ppb, w, &word))
		return VP_BUS_FAULT;
	*v = lane_extract(word, a, size);
	return VP_BUS_OK;
}

/* AIRCR writes need VECTKEY 0x05FA (ARMv7-M B3.2.6). SYSRESETREQ resets
 * the system; VECTRESET resets the core alone. The model ignores
 * VECTRESET on the M7: a model choice, UNCONFIRMED (no source here). */
static void aircr_write(vp_mcu *m, uint32_t v)
{
	if ((v >> 16) != 0x05FAu)
		return;
	m->aircr = v & 0x700u;
	if (v & 4u)
		vp_mcu_reset(m);
	else if ((v & 1u) && (m->part->cpuid & 0xFFF0u) != 0xC270u)
		vp_core_reset(&m->core, vp_mcu_main_word(m, 0),
			      vp_mcu_main_word(m, 4));
}

static vp_bus reg_write(vp_mcu *m, uint32_t a, unsigned size, uint32_t v)
{
	uint32_t w = a & ~3u, word = 0;
	bool f = f_regs(m, a);
	if (f && in(a, VP_FLASH_REGS, VP_FLASH_REGS_SIZE)) {
		vp_bus r =
			vp_flashctl_write(&m->fc, a - VP_FLASH_REGS, size, v);
		/* DCRST empties the data cache, only while DCEN = 0 (RM0090 §3.9.1) */
		if ((m->fc.acr & (VP_ACR_DCRST | VP_ACR_DCEN)) == VP_ACR_DCRST)
			vp_dcache_invalidate(&m->dcache);
		return r;
	}
	if (in(w, DEBUG_REGS, 16)) {
		/* Narrow writes to the debug registers are UNPREDICTABLE
		 * (ARMv7-M C1.6): ignored. */
		if (size == 4)
			vp_core_write_dbg(&m->core, w - DEBUG_REGS, v);
		return VP_BUS_OK;
	}
	if (w == AIRCR) {
		if (size == 4)
			aircr_write(m, v);
		return VP_BUS_OK;
	}
	if (f && vp_periph_read(&m->per, w, &word))
		return vp_periph_write(&m->per, w, lane_merge(word, a, size, v))
			       ? VP_BUS_OK
			       : VP_BUS_FAULT;
	if (f && vp_wdg_read(&m->wdg, w, &word))
		return vp_wdg_write(&m->wdg, w, lane_merge(word, a, size, v))
			       ? VP_BUS_OK
			       : VP_BUS_FAULT;
	if (vp_ppb_read(&m->ppb, w, &word))
		return vp_ppb_write(&m->ppb, w, lane_merge(word, a, size, v))
			       ? VP_BUS_OK
			       : VP_BUS_FAULT;
	return VP_BUS_FAULT;
}

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4;
}

static void sram_access(vp_mcu *m, uint32_t off, unsigned size, bool write,
			uint32_t *v)
{
	if (!write)
		*v = 0;
	for (unsigned i = 0; i < size; i++) {
		if (write)
			m->sram[off + i] = (uint8_t)(*v >> (8 * i));
		else
			*v |= (uint32_t)m->sram[off + i] << (8 * i);
	}
}

/* One access, routed by address (the memory map in the file comment). */
static vp_bus access(vp_mcu *m, uint32_t addr, unsigned size, bool write,
		     uint32_t *v)
{
	if (!m->powered)
		return VP_BUS_NOPOWER;
	vp_mcu_tick(m);
	if (!vp_mcu_dp_answers(m))
		return VP_BUS_NOPOWER; /* to the probe: no acknowledge, as unpowered */
	if (m->nrst_low && addr < 0xE0000000u)
		return VP_BUS_FAULT;
	if (!valid_size(size) || addr > UINT32_MAX - (size - 1))
		return VP_BUS_FAULT;
	enum area k = area_of(m, addr);
	if (k != A_NONE)
		return write ? flash_write(m, k, addr, size, *v)
			     : flash_read(m, k, addr, size, v);
	if (addr % size != 0)
		return VP_BUS_FAULT;
	if (in(addr, SRAM_BASE, m->part->sram_kib * 1024u)) {
		sram_access(m, addr - SRAM_BASE, size, write, v);
		return VP_BUS_OK;
	}
	return write ? reg_write(m, addr, size, *v)
		     : reg_read(m, addr, size, v);
}

vp_bus vp_mcu_read(vp_mcu *m, uint32_t addr, unsigned size, uint32_t *value)
{
	return access(m, addr, size, false, value);
}

vp_bus vp_mcu_write(vp_mcu *m, uint32_t addr, unsigned size, uint32_t value)
{
	return access(m, addr, size, true, &value);
}

void vp_mcu_arm_powerloss(vp_mcu *m, unsigned nth_program_op)
{
	/* Counted from creation; a count already passed means the next one. */
	vp_flashctl_arm_powerloss(&m->fc,
				  nth_program_op == 0 ? 1 : nth_program_op);
}

bool vp_mcu_powered(const vp_mcu *m)
{
	return m->powered && vp_mcu_dp_answers(m);
}

double vp_mcu_voltage(const vp_mcu *m)
{
	return m->voltage;
}

bool vp_mcu_core_reg(vp_mcu *m, unsigned regsel, uint32_t *value)
{
	return m->powered && vp_core_get(&m->core, regsel, value);
}

bool vp_mcu_set_core_reg(vp_mcu *m, unsigned regsel, uint32_t value)
{
	return m->powered && vp_core_set(&m->core, regsel, value);
}

bool vp_mcu_halted(const vp_mcu *m)
{
	return m->core.halted;
}

void vp_mcu_set_params(vp_mcu *m, const vp_mcu_params *p)
{
	m->fc.prm = *p;
}

void vp_mcu_set_stuck(vp_mcu *m, uint32_t otp_offset, uint8_t mask)
{
	if (otp_offset < otp_bytes(m->part))
		m->otp_stuck[otp_offset] |= mask;
}

unsigned vp_mcu_watchdog_resets(const vp_mcu *m)
{
	return m->wdg_resets;
}

unsigned vp_mcu_program_count(const vp_mcu *m)
{
	return m->fc.prog_count;
}
