/*
 * The flash interface: keys, CR/SR semantics, program checks and timing.
 *
 * Sources: CMSIS, OOCD stm32f2x.c (registers, keys); HAL (PSIZE vs
 * voltage); RM0090 §3.5.4 (standard programming), §3.6 (bus stall);
 * RM0090 §3.5.4, PM0059 §2.6 (what sets each flag); RM0090 §3.8 (OTP
 * semantics). RM0090 = F4, RM0033 = F2, RM0385/
 * RM0410/RM0431 = F7. Where the sources leave it UNCONFIRMED the choice is a
 * vp_mcu_params switch and the comment says so.
 */
#include <string.h>

#include "flashctl.h"
#include "wdg.h"

#define KEY1     0x45670123u /* FLASH_KEYR, CMSIS */
#define KEY2     0xCDEF89ABu
#define OPTKEY1  0x08192A3Bu /* FLASH_OPTKEYR, CMSIS */
#define OPTKEY2  0x4C5D6E7Fu
#define OPT_LOCK (1u << 0)
#define OPT_STRT (1u << 1)

#define REG_ACR     0x00
#define REG_KEYR    0x04
#define REG_OPTKEYR 0x08
#define REG_SR      0x0C
#define REG_CR      0x10
#define REG_OPTCR   0x14
#define REG_OPTCR1  0x18
#define REG_OPTCR2  0x1C

/* Program errors that, left set, refuse the next program (see
 * stale_errors_block below). */
#define SR_PROG_ERRORS (SR_PGSERR | SR_PGPERR | SR_PGAERR)

void vp_mcu_params_default(vp_mcu_params *p)
{
	/* tprog: "often quoted as 16 µs typ / 100 µs max for F4" (no
	 * source found; datasheet value UNCONFIRMED). Sector erase and option
	 * writes: the datasheet figures are UNCONFIRMED; 0.5 s and 20 ms are of
	 * the order OOCD's timeouts allow for (RM0090 §3.5.4). */
	p->tprog_us = 16;
	p->terase_us = 500000;
	p->topt_us = 20000;
	/* RM0444/RM0453 rule, UNCONFIRMED for F2/F4/F7 (RM0090 text not read);
	 * OOCD avoids the keys when unlocked "otherwise writing on KEYR will
	 * fail", which agrees with it. */
	p->wrong_key_bus_error = true;
	/* UNCONFIRMED (no source says). Hosts must not rely on EOP (HAL clears
	 * it after polling BSY), so the default sets it on every success: a
	 * host that polls BSY works either way. */
	p->eop_needs_eopie = false;
	/* UNCONFIRMED (no source says whether OPERR needs ERRIE = 1). */
	p->operr_needs_errie = true;
	/* UNCONFIRMED: stale PGSERR/PGPERR "make the first program fail unless
	 * they are cleared" (ST community 20564, community.st.com 20564,
	 * 351906). */
	p->stale_errors_block = true;
	/* UNCONFIRMED (RM0090 §3.5.4; OOCD and STL poll BSY per unit): RM0090
	 * §3.6 stalls the AHB for CR writes and flash reads while BSY; the
	 * model extends the stall to program writes, so several units
	 * back-to-back in one WRITEMEM all program. Quirk busy_write = drop /
	 * pgserr gives the other readings. */
	p->busy_write = VP_BUSY_STALL;
	/* UNCONFIRMED (RM0090 §3.8): no source says whether OTP reads are
	 * blocked at RDP level 1; left readable (quirk rdp1_otp). */
	p->rdp1_otp_fault = false;
	/* UNCONFIRMED (CMSIS FLASH_ACR): debug reads may meet stale data-cache
	 * lines; the harsher reading is the default (quirk dcache, dcache.h). */
	p->dcache_coherent = false;
}

static bool is_f7(const vp_part *p)
{
	return p->sr == VP_SR_F7 || p->sr == VP_SR_F7_RDERR;
}

/* Error + EOP bits that exist in SR on this part (CMSIS FLASH_SR):
 * RDERR only on the lines that have it. */
static uint32_t sr_bits(const vp_part *p)
{
	uint32_t m = SR_EOP | SR_OPERR | SR_WRPERR | SR_PGAERR | SR_PGPERR
		     | SR_PGSERR;
	if (p->sr == VP_SR_F4_RDERR || p->sr == VP_SR_F7_RDERR)
		m |= SR_RDERR;
	return m;
}

/* CR bits software can write (CMSIS FLASH_CR). */
static uint32_t cr_writable(const vp_part *p)
{
	bool f2 = p->dev_id == 0x411;
	uint32_t m = CR_PG | CR_SER | CR_MER | (3u << CR_PSIZE_SHIFT) | CR_STRT
		     | CR_EOPIE | CR_LOCK;
	m |= f2 ? 0x78u : 0xF8u; /* SNB: 4 bits on F2, mask 0xF8 on F4/F7 */
	if (!f2)
		m |= CR_ERRIE; /* absent in F2 CMSIS */
	if (p->sr == VP_SR_F7_RDERR)
		m |= CR_RDERRIE; /* F72x only */
	if (p->dev_id == 0x419 || p->dev_id == 0x434 || p->dev_id == 0x451)
		m |= CR_MER2; /* dual-bank lines */
	return m;
}

/* OPTCR reset value with the image's RDP in [15:8] (CMSIS FLASH_OPTCR;
 * RM0090 §3.9.10 0x0FFFAAED F2/F4, RM0385 0xC0FFAAFD F74x/F72x, RM0410
 * 0xFFFFAAFD F76x: 12 nWRP bits, nDBANK = 1 single bank by default). */
static uint32_t optcr_reset(const vp_part *p, uint8_t rdp)
{
	uint32_t base = p->dev_id == 0x451 ? 0xFFFF00FDu
			: is_f7(p)         ? 0xC0FF00FDu
					   : 0x0FFF00EDu;
	return base | (uint32_t)rdp << 8;
}

static void regs_reset(vp_flashctl *fc)
{
	const vp_part *p = fc->part;
	fc->acr = 0;
	fc->cr = CR_LOCK; /* RM0090 §3.9.7: CR reset 0x80000000 */
	/* RM: SR resets to 0, but some parts show PGSERR|PGPERR after reset
	 * (ST community 20564, 351906); the image says which (sr_at_reset). */
	fc->sr = fc->img->sr_at_reset & sr_bits(p);
	fc->optcr = optcr_reset(p, fc->img->rdp);
	/* OPTCR bit 5 WDG_SW (IWDG_SW on F7), 0 = hardware watchdog (RM0090
	 * §3.9.10, RM0385 §3.7.5; OOCD stm32f4x.cfg, BMP stm32f4.c): the
	 * image's "iwdg option" */
	if (fc->img->iwdg == VP_WDG_OPTION)
		fc->optcr &= ~(1u << 5);
	fc->optcr1 = is_f7(p) ? 0x00400080u : (p->dual_bank ? 0x0FFF0000u : 0);
	fc->optcr2 = 0;
	fc->key_stage = fc->optkey_stage = 0;
	fc->key_dead = fc->optkey_dead = false;
	fc->busy = fc->opt_busy = false;
	fc->done_flags = 0;
	fc->pend_cells = NULL;
}

void vp_flashctl_init(vp_flashctl *fc, const vp_part *part, vp_clock *clock,
		      vp_image *img, const vp_mcu_params *prm, double voltage)
{
	memset(fc, 0, sizeof *fc);
	fc->part = part;
	fc->clock = clock;
	fc->img = img;
	fc->prm = *prm;
	fc->voltage = voltage;
	regs_reset(fc);
}

void vp_flashctl_reset(vp_flashctl *fc)
{
	regs_reset(fc);
}

void vp_flashctl_arm_powerloss(vp_flashctl *fc, unsigned nth)
{
	fc->powerloss_at = nth;
}

/* Finish the running operation if its time has come. */
static void settle(vp_flashctl *fc)
{
	if (!fc->busy || fc->clock->us < fc->busy_until)
		return;
	fc->busy = false;
	fc->sr |= fc->done_flags;
	fc->done_flags = 0;
	if (fc->opt_busy) {
		fc->optcr &= ~OPT_STRT;
		fc->opt_busy = false;
	}
}

bool vp_flashctl_busy(vp_flashctl *fc)
{
	settle(fc);
	return fc->busy;
}

static void start_busy(vp_flashctl *fc, uint32_t us, uint32_t done)
{
	fc->busy = true;
	fc->busy_until = fc->clock->us + us;
	fc->done_flags = done;
}

/* EOP on success: see eop_needs_eopie. */
static uint32_t eop_flag(const vp_flashctl *fc)
{
	return (!fc->prm.eop_needs_eopie || (fc->cr & CR_EOPIE)) ? SR_EOP : 0;
}

/* Record an error: the flag, plus OPERR (RM0090 §3.5.5: "set when an
 * operation request cannot run because of a parallelism, alignment or WRP
 * error", ERRIE condition UNCONFIRMED: operr_needs_errie). */
static void error(vp_flashctl *fc, uint32_t flag)
{
	fc->sr |= flag;
	bool operr_cause = flag & (SR_PGPERR | SR_PGAERR | SR_WRPERR);
	bool has_errie = fc->part->dev_id != 0x411;
	if (operr_cause
	    && (!fc->prm.operr_needs_errie
		|| (has_errie && (fc->cr & CR_ERRIE))))
		fc->sr |= SR_OPERR;
}

vp_bus vp_flashctl_read(vp_flashctl *fc, uint32_t off, unsigned size,
			uint32_t *value)
{
	settle(fc);
	uint32_t v;
	switch (off & ~3u) {
	case REG_ACR:
		v = fc->acr;
		break;
	case REG_SR:
		v = fc->sr | (fc->busy ? SR_BSY : 0);
		break;
	case REG_CR:
		v = fc->cr;
		break;
	case REG_OPTCR:
		v = fc->optcr;
		break;
	case REG_OPTCR1:
		v = fc->part->dual_bank ? fc->optcr1 : 0;
		break;
	case REG_OPTCR2:
		v = fc->part->sr == VP_SR_F7_RDERR ? fc->optcr2 : 0;
		break;
	default:
		v = 0;
		break; /* KEYR/OPTKEYR are write-only; reserved read 0 */
	}
	unsigned shift = (off & 3u) * 8;
	*value = size == 4 ? v : (v >> shift) & ((1u << (size * 8)) - 1);
	return VP_BUS_OK;
}

/* A key register write. Sequence per CMSIS; any other value, or a
 * key while already unlocked, locks until reset (wrong_key_bus_error). */
static vp_bus key_write(vp_flashctl *fc, bool opt, uint32_t v)
{
	unsigned *stage = opt ? &fc->optkey_stage : &fc->key_stage;
	bool *dead = opt ? &fc->optkey_dead : &fc->key_dead;
	uint32_t *reg = opt ? &fc->optcr : &fc->cr;
	uint32_t lockbit = opt ? OPT_LOCK : CR_LOCK;
	uint32_t k1 = opt ? OPTKEY1 : KEY1, k2 = opt ? OPTKEY2 : KEY2;
	if (!*dead && (*reg & lockbit)) {
		if (*stage == 0 && v == k1) {
			*stage = 1;
			return VP_BUS_OK;
		}
		if (*stage == 1 && v == k2) {
			*stage = 0;
			*reg &= ~lockbit;
			return VP_BUS_OK;
		}
	}
	*dead = true;
	*stage = 0;
	*reg |= lockbit;
	return fc->prm.wrong_key_bus_error ? VP_BUS_FAULT : VP_BUS_OK;
}

/* Sector number as written in SNB (F2 4 bits, else 5; CMSIS). */
static int cr_sector(uint32_t cr)
{
	return (int)((cr >> 3) & 0x1F);
}

/* CR.STRT: erase (RM0090 §3.5.3). Sector/mass erase of main flash only;
 * SER together with MER is a WRPERR (PM0059 §2.6 erase list). */
static void start_erase(vp_flashctl *fc)
{
	uint32_t cr = fc->cr;
	fc->cr &= ~CR_STRT;
	bool mass = cr & (CR_MER | CR_MER2);
	if ((cr & CR_SER) && mass) {
		error(fc, SR_WRPERR);
		return;
	}
	if (!(cr & CR_SER) && !mass)
		return;
	int sector = (cr & CR_SER) ? cr_sector(cr) : (cr & CR_MER) ? -1 : -2;
	if (fc->erase == NULL || !fc->erase(fc->erase_ctx, sector)) {
		error(fc, SR_WRPERR);
		return;
	}
	start_busy(fc, mass ? fc->prm.terase_us * 16 : fc->prm.terase_us,
		   eop_flag(fc));
}

static vp_bus cr_write(vp_flashctl *fc, uint32_t v)
{
	/* RM0090 §3.6: "The FLASH_CR register is not accessible in write mode
	 * when the BSY bit ... is set ... the AHB bus [stalls] until the BSY
	 * bit is cleared." */
	if (fc->busy)
		return VP_BUS_STALL;
	if (fc->cr & CR_LOCK)
		return VP_BUS_OK; /* locked: the write is ignored (RM0090 §3.5.1) */
	fc->cr = v & cr_writable(fc->part);
	if (fc->cr & CR_LOCK)
		fc->key_stage = 0;
	if (fc->cr & CR_STRT)
		start_erase(fc);
	return VP_BUS_OK;
}

/* OPTCR.OPTSTRT: the option bytes are written; RDP is the only one that
 * persists (in the image). A change of RDP 1 -> 0 would mass-erase main
 * flash (RM0090 §3.7.3), which is not persisted anyway. */
static vp_bus optcr_write(vp_flashctl *fc, uint32_t v)
{
	if (fc->optcr & OPT_LOCK)
		return VP_BUS_OK;
	if ((v & OPT_STRT) && fc->busy)
		return VP_BUS_STALL;
	uint32_t mask = is_f7(fc->part) ? 0xFFFFFFFFu
					: (fc->part->dual_bank ? 0xCFFFFFFFu
							       : 0x0FFFFFEFu);
	fc->optcr = (fc->optcr & ~mask) | (v & mask);
	if (fc->optcr & OPT_STRT) {
		uint8_t rdp = (uint8_t)(fc->optcr >> 8);
		if (fc->img->rdp != rdp) {
			fc->img->rdp = rdp;
			fc->img->dirty = true;
		}
		fc->opt_busy = true;
		start_busy(fc, fc->prm.topt_us, eop_flag(fc));
	}
	return VP_BUS_OK;
}

vp_bus vp_flashctl_write(vp_flashctl *fc, uint32_t off, unsigned size,
			 uint32_t value)
{
	settle(fc);
	unsigned shift = (off & 3u) * 8;
	uint32_t lane =
		size == 4 ? 0xFFFFFFFFu : ((1u << (size * 8)) - 1) << shift;
	uint32_t v = size == 4 ? value : (value << shift) & lane;
	switch (off & ~3u) {
	case REG_ACR: {
		/* F2/F4: LATENCY, PRFTEN, ICEN, DCEN, ICRST, DCRST; F7: LATENCY,
		 * PRFTEN, ARTEN, ARTRST (CMSIS FLASH_ACR). */
		uint32_t m = (is_f7(fc->part) ? 0x0B0Fu : 0x1F0Fu) & lane;
		fc->acr = (fc->acr & ~m) | (v & m);
		return VP_BUS_OK;
	}
	case REG_KEYR:
		return key_write(fc, false, v);
	case REG_OPTKEYR:
		return key_write(fc, true, v);
	case REG_SR:
		/* Error flags and EOP are write-1-to-clear (CMSIS). */
		fc->sr &= ~(v & sr_bits(fc->part));
		return VP_BUS_OK;
	case REG_CR:
		return cr_write(fc, (fc->cr & ~lane) | v);
	case REG_OPTCR:
		return optcr_write(fc, (fc->optcr & ~lane) | v);
	case REG_OPTCR1:
		if (fc->part->dual_bank && !(fc->optcr & OPT_LOCK))
			fc->optcr1 = (fc->optcr1 & ~lane) | v;
		return VP_BUS_OK;
	case REG_OPTCR2:
		if (fc->part->sr == VP_SR_F7_RDERR && !(fc->optcr & OPT_LOCK))
			fc->optcr2 = (fc->optcr2 & ~lane) | v;
		return VP_BUS_OK;
	default:
		return VP_BUS_OK; /* reserved: writes ignored */
	}
}

/* Which bits of the unit actually clear. AND semantics (RM0090 §3.5.4: bits
 * only go 1 -> 0, no flag for 1 over 0). Two degraded cases, both
 * deterministic and both UNCONFIRMED as to the exact bits:
 *  - supply below the PSIZE's range (HAL FLASH_VOLTAGE_RANGE: x32 needs 2.7 V,
 *    x16 2.1 V): silicon raises no flag; we model the worst
 *    documented-plausible outcome, a weak program: only the bits to clear at
 *    even positions clear, and EOP is still set;
 *  - supply below the part's minimum (1.8 V F2/F4, 1.7 V F7): nothing
 *    programs, no flag. */
static uint32_t bits_to_clear(const vp_flashctl *fc, unsigned size,
			      uint32_t old, uint32_t val)
{
	uint32_t clear = old & ~val;
	double mv = fc->voltage * 1000.0;
	if (mv < fc->part->vmin_prog_mv)
		return 0;
	if ((size == 4 && mv < 2700.0) || (size == 2 && mv < 2100.0))
		return clear & 0x55555555u;
	return clear;
}

/* Power cut mid-program: only the lower-numbered half (rounded up) of the
 * bits that should clear do (a deterministic stand-in for a cell array
 * losing its supply partway). */
static uint32_t half_of(uint32_t clear)
{
	unsigned n = (unsigned)__builtin_popcount(clear), keep = (n + 1) / 2;
	uint32_t out = 0;
	for (unsigned b = 0; b < 32 && keep > 0; b++)
		if (clear & (1u << b)) {
			out |= 1u << b;
			keep--;
		}
	return out;
}

/* The checks of RM0090 §3.5.4 / PM0059 §2.6, in this order (the order among
 * several simultaneous errors is UNCONFIRMED). Returns 0 when the write may
 * program. */
static int program_checks(vp_flashctl *fc, const vp_flash_unit *u)
{
	/* PGSERR: "a write access to the Flash memory is performed by the code
	 * while the control register has not been correctly configured" (RM0090
	 * §3.5.4, PM0059 §2.6). On F7 bit 7 is ERSERR, whose RM0385 §3.7.5
	 * description is the same sentence; so a write without PG sets bit 7 on
	 * every family. */
	if (!(fc->cr & CR_PG) || (fc->cr & CR_LOCK)
	    || (fc->cr & (CR_SER | CR_MER | CR_MER2))) {
		fc->sr |= SR_PGSERR;
		return -1;
	}
	if (fc->prm.stale_errors_block && (fc->sr & SR_PROG_ERRORS)) {
		fc->sr |= SR_PGSERR;
		return -1;
	}
	/* PGPERR: "The write access type ... must correspond to the type of
	 * parallelism chosen ... If not, the write operation is not performed"
	 * (RM0090 §3.5.4). x64 needs two successive word writes and VPP (HAL
	 * FLASH_VOLTAGE_RANGE): not modelled, every access with PSIZE x64 is a
	 * PGPERR. */
	unsigned psize = (fc->cr >> CR_PSIZE_SHIFT) & 3u;
	if (psize == 3 || u->size != (1u << psize)) {
		error(fc, SR_PGPERR);
		return -1;
	}
	/* PGAERR: data "that would cross the 128-bit row boundary" (RM0090
	 * §3.5.4, PM0059 §2.6). */
	if ((u->addr & 15u) + u->size > 16u) {
		error(fc, SR_PGAERR);
		return -1;
	}
	/* WRPERR: system memory, reserved areas, a locked OTP block (PM0059
	 * §2.6); nothing is written. */
	if (u->wrp || u->cells == NULL) {
		error(fc, SR_WRPERR);
		return -1;
	}
	return 0;
}

/* A program write while BSY, per quirk busy_write (see the default in
 * vp_mcu_params_default). pgserr: "a write access to the Flash memory is
 * performed by the code while the control register has not been correctly
 * configured" is the nearest documented flag (RM0090 §3.5.4, PM0059 §2.6); on
 * F7 bit 7 is ERSERR with the same description (RM0385 §3.7.5). */
static vp_bus busy_program(vp_flashctl *fc)
{
	switch (fc->prm.busy_write) {
	case VP_BUSY_DROP:
		return VP_BUS_OK;
	case VP_BUSY_PGSERR:
		fc->sr |= SR_PGSERR;
		return VP_BUS_OK;
	case VP_BUSY_STALL:
		break;
	}
	return VP_BUS_STALL; /* RM0090 §3.6 / RM0090 §3.5.4 bus stall */
}

vp_bus vp_flashctl_program(vp_flashctl *fc, const vp_flash_unit *u,
			   uint32_t value)
{
	settle(fc);
	if (fc->busy)
		return busy_program(fc);
	if (program_checks(fc, u) != 0)
		return VP_BUS_OK;
	uint32_t old = 0;
	for (unsigned i = 0; i < u->size; i++)
		old |= (uint32_t)u->cells[i] << (8 * i);
	/* a weak cell (u->stuck) keeps its bits and the controller does not
	 * notice: only a read-back finds it */
	uint32_t clear = bits_to_clear(fc, u->size, old, value) & ~u->stuck;
	fc->prog_count++;
	bool cut = fc->powerloss_at != 0 && fc->prog_count >= fc->powerloss_at;
	if (cut)
		clear = half_of(clear);
	uint32_t now = old & ~clear;
	for (unsigned i = 0; i < u->size; i++)
		u->cells[i] = (uint8_t)(now >> (8 * i));
	if (cut) {
		fc->powerloss_at = 0;
		return VP_BUS_NOPOWER;
	}
	start_busy(fc, fc->prm.tprog_us, eop_flag(fc));
	fc->pend_cells = u->cells;
	fc->pend_size = u->size;
	fc->pend_old = old;
	fc->pend_clear = clear;
	return VP_BUS_OK;
}

bool vp_flashctl_cut(vp_flashctl *fc, uint64_t at)
{
	if (!fc->busy || fc->opt_busy || at >= fc->busy_until
	    || fc->pend_cells == NULL)
		return false;
	/* as the power loss above: some of the bits it was clearing are */
	uint32_t now = fc->pend_old & ~half_of(fc->pend_clear);
	for (unsigned i = 0; i < fc->pend_size; i++)
		fc->pend_cells[i] = (uint8_t)(now >> (8 * i));
	fc->pend_cells = NULL;
	return true;
}
