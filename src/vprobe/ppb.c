/*
 * PPB and DBGMCU registers (see ppb.h). Values:
 *  - CPUID: per part (values seen in peers' logs). DBGMCU_IDCODE = REV_ID << 16
 *    | DEV_ID at 0xE0042000, CR/APB1_FZ/APB2_FZ after it (CMSIS, OOCD
 *    stm32f2x.c).
 *  - FPU identity MVFR0/MVFR1 (ARMv7-M B4.6, Cortex-M4 TRM 7.3: M4F
 *    0x10110021 / 0x11000011; Cortex-M7 TRM: DP FPU 0x10110221 /
 *    0x12000011, MVFR2 0x00000040). Absent on M3 (read as zero).
 *  - FP_CTRL: NUM_CODE 6, NUM_LIT 2 on M3/M4 (Cortex-M4 TRM 8.4.1); M7
 *    REV 1, 8 comparators (Cortex-M7 TRM). DWT_CTRL NUMCOMP 4 (M4 TRM 8.3).
 *    OpenOCD counts comparators from these at examine (ARMv7-M C1.8, C1.11;
 *    OOCD cortex_m.c).
 *  - ROM table and CoreSight IDs: ARMv7-M D1 / ADIv5 CIDR 0xB105x00D.
 *  - M7 cache identity CLIDR/CTR/CCSIDR (Cortex-M7 TRM 4.1.3): read by
 *    OpenOCD's armv7m cache code on M7.
 * Plausible values, not checked against silicon: UNCONFIRMED where the
 * sources read have no entry; hosts only count or print them.
 */
#include <string.h>

#include "ppb.h"

typedef struct reg {
	uint32_t addr;
	uint32_t reset;
	uint32_t wmask; /* 0: read-only */
} reg;

static bool is_m7(const vp_part *p)
{
	return (p->cpuid & 0xFFF0u) == 0xC270u;
}

static bool is_m3(const vp_part *p)
{
	return (p->cpuid & 0xFFF0u) == 0xC230u;
}

/* Registers whose reset value depends on the part. */
static bool part_reg(const vp_part *p, uint32_t addr, uint32_t *v)
{
	bool m7 = is_m7(p);
	switch (addr) {
	case 0xE000ED00:
		*v = p->cpuid;
		return true;
	case 0xE0042000:
		*v = (uint32_t)p->rev_id << 16 | p->dev_id;
		return true;
	case 0xE000EF40:
		*v = !p->fpu ? 0 : p->fpu == 2 ? 0x10110221u : 0x10110021u;
		return true;
	case 0xE000EF44:
		*v = !p->fpu ? 0 : p->fpu == 2 ? 0x12000011u : 0x11000011u;
		return true;
	case 0xE000EF48:
		*v = m7 ? 0x00000040u : 0;
		return true;
	case 0xE000EF34:
		*v = p->fpu ? 0xC0000000u : 0;
		return true; /* FPCCR ASPEN|LSPEN */
	case 0xE0002000:
		*v = m7 ? 0x10000080u : 0x00000260u;
		return true;
	case 0xE000ED78:
		*v = m7 ? 0x09000003u : 0;
		return true; /* CLIDR */
	case 0xE000ED7C:
		*v = m7 ? 0x8303C003u : 0;
		return true; /* CTR */
	case 0xE000ED80:
		*v = m7 ? 0xF003E019u : 0;
		return true; /* CCSIDR */
	default:
		return false;
	}
}

/* Fixed registers: address, reset value, writable bits. Anything else in a
 * modelled window reads as zero and ignores writes (RAZ/WI), as reserved
 * CoreSight space does. */
static const reg regs[] = {
	{ 0xE0000E00, 0, 0xFFFFFFFFu },           /* ITM_TER */
	{ 0xE0000E40, 0, 0x0000000Fu },           /* ITM_TPR */
	{ 0xE0000E80, 0, 0x00FF0F3Fu },           /* ITM_TCR */
	{ 0xE0000FB4, 0x00000003u, 0 },           /* ITM_LSR: lock present */
	{ 0xE0001000, 0x40000000u, 0x03FFFFFFu }, /* DWT_CTRL: NUMCOMP 4 */
	{ 0xE0001004, 0, 0xFFFFFFFFu },           /* DWT_CYCCNT */
	{ 0xE0001020, 0, 0xFFFFFFFFu },
	{ 0xE0001024, 0, 0x1Fu },
	{ 0xE0001028, 0, 0xFFFFFFFFu },
	{ 0xE0001030, 0, 0xFFFFFFFFu },
	{ 0xE0001034, 0, 0x1Fu },
	{ 0xE0001038, 0, 0xFFFFFFFFu },
	{ 0xE0001040, 0, 0xFFFFFFFFu },
	{ 0xE0001044, 0, 0x1Fu },
	{ 0xE0001048, 0, 0xFFFFFFFFu },
	{ 0xE0001050, 0, 0xFFFFFFFFu },
	{ 0xE0001054, 0, 0x1Fu },
	{ 0xE0001058, 0, 0xFFFFFFFFu },
	{ 0xE0002000, 0, 0x00000001u }, /* FP_CTRL ENABLE (value per part) */
	{ 0xE000E010, 0, 0x00010007u }, /* SysTick CTRL */
	{ 0xE000E014, 0, 0x00FFFFFFu }, /* SysTick LOAD */
	{ 0xE000E018, 0, 0xFFFFFFFFu }, /* SysTick VAL */
	{ 0xE000ED04, 0, 0 },           /* ICSR */
	{ 0xE000ED08, 0, 0xFFFFFF80u }, /* VTOR */
	{ 0xE000ED10, 0, 0x16u },       /* SCR */
	{ 0xE000ED14, 0x00000200u, 0x0003031Bu }, /* CCR: STKALIGN */
	{ 0xE000ED24, 0, 0x0007FFFFu },           /* SHCSR */
	{ 0xE000ED28, 0, 0 },
	{ 0xE000ED2C, 0, 0 },
	{ 0xE000ED30, 0, 0 }, /* CFSR HFSR DFSR */
	{ 0xE000ED34, 0, 0 },
	{ 0xE000ED38, 0, 0 },           /* MMFAR BFAR */
	{ 0xE000ED84, 0, 0x0000000Fu }, /* CSSELR (M7) */
	{ 0xE000ED88, 0, 0x00F00000u }, /* CPACR CP10/CP11 */
	{ 0xE000EF38, 0, 0xFFFFFFF8u }, /* FPCAR */
	{ 0xE000EF3C, 0, 0x07C00000u }, /* FPDSCR */
	{ 0xE0040000, 0x0000000Fu, 0 }, /* TPIU_SSPSR: port sizes 1-4 */
	{ 0xE0040004, 0x00000001u, 0x0000000Fu }, /* TPIU_CSPSR */
	{ 0xE0040010, 0, 0x00001FFFu },           /* TPIU_ACPR */
	{ 0xE00400F0, 0x00000001u, 0x00000003u }, /* TPIU_SPPR */
	{ 0xE0040304, 0x00000102u, 0x00000102u }, /* TPIU_FFCR */
	{ 0xE0040FC8, 0x00000CA0u, 0 },           /* TPIU_DEVID */
	{ 0xE0042004, 0, 0x000000E7u },           /* DBGMCU_CR */
	{ 0xE0042008, 0, 0xFFFFFFFFu },           /* DBGMCU_APB1_FZ */
	{ 0xE004200C, 0, 0xFFFFFFFFu },           /* DBGMCU_APB2_FZ */
	/* ROM table (ARMv7-M D1.4): SCS, DWT, FPB, ITM, TPIU, ETM, end. */
	{ 0xE00FF000, 0xFFF0F003u, 0 },
	{ 0xE00FF004, 0xFFF02003u, 0 },
	{ 0xE00FF008, 0xFFF03003u, 0 },
	{ 0xE00FF00C, 0xFFF01003u, 0 },
	{ 0xE00FF010, 0xFFF41003u, 0 },
	{ 0xE00FF014, 0xFFF42002u, 0 },
	{ 0xE00FFFCC, 0x00000001u, 0 }, /* MEMTYPE: system memory present */
	{ 0xE00FFFD0, 0x00000004u, 0 }, /* PIDR4 */
	{ 0xE00FFFE0, 0x000000C4u, 0 },
	{ 0xE00FFFE4, 0x000000B4u, 0 },
	{ 0xE00FFFE8, 0x0000000Bu, 0 },
	{ 0xE00FFFF0, 0x0000000Du, 0 },
	{ 0xE00FFFF4, 0x00000010u, 0 },
	{ 0xE00FFFF8, 0x00000005u, 0 },
	{ 0xE00FFFFC, 0x000000B1u, 0 },
};

#define NREGS (sizeof regs / sizeof regs[0])

/* Windows in which unlisted addresses are RAZ/WI rather than a fault. */
static bool in_window(uint32_t a)
{
	return (a >= 0xE0000000u && a < 0xE0003000u)     /* ITM, DWT, FPB */
	       || (a >= 0xE000E000u && a < 0xE000F000u)  /* SCS */
	       || (a >= 0xE0040000u && a < 0xE0043000u)  /* TPIU, ETM, DBGMCU */
	       || (a >= 0xE00FD000u && a < 0xE0100000u); /* ROM tables */
}

/* CoreSight component IDs of the SCS, DWT, FPB, ITM, TPIU blocks:
 * CIDR 0xB105E00D (class 0xE, generic IP). */
static bool cidr(uint32_t a, uint32_t *v)
{
	uint32_t blk = a & 0xFFFFF000u, off = a & 0xFFFu;
	bool comp = blk == 0xE000E000u || blk == 0xE0001000u
		    || blk == 0xE0002000u || blk == 0xE0000000u
		    || blk == 0xE0040000u;
	if (!comp || off < 0xFF0u)
		return false;
	static const uint8_t c[4] = { 0x0D, 0xE0, 0x05, 0xB1 };
	*v = c[(off - 0xFF0u) / 4];
	return true;
}

static const reg *find(uint32_t addr)
{
	for (size_t i = 0; i < NREGS; i++)
		if (regs[i].addr == addr)
			return &regs[i];
	return NULL;
}

static int slot(const vp_ppb *p, uint32_t addr)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->w[i].addr == addr)
			return (int)i;
	return -1;
}

void vp_ppb_init(vp_ppb *p, const vp_part *part)
{
	memset(p, 0, sizeof *p);
	p->part = part;
}

void vp_ppb_reset(vp_ppb *p)
{
	unsigned k = 0;
	for (unsigned i = 0; i < p->n; i++) {
		uint32_t a = p->w[i].addr;
		bool sys = a >= 0xE000E000u
			   && a < 0xE000EF00u; /* SysTick, NVIC, SCB */
		if (!sys)
			p->w[k++] = p->w[i];
	}
	p->n = k;
}

bool vp_ppb_read(const vp_ppb *p, uint32_t addr, uint32_t *value)
{
	if (!in_window(addr))
		return false;
	uint32_t v = 0;
	const reg *r = find(addr);
	if (!part_reg(p->part, addr, &v) && !cidr(addr, &v) && r != NULL)
		v = r->reset;
	if (is_m3(p->part) && addr >= 0xE000EF34u && addr <= 0xE000EF48u)
		v = 0; /* no FPU on the M3 */
	int s = slot(p, addr);
	if (s >= 0 && r != NULL)
		v = (v & ~r->wmask) | (p->w[s].value & r->wmask);
	*value = v;
	return true;
}

bool vp_ppb_write(vp_ppb *p, uint32_t addr, uint32_t value)
{
	if (!in_window(addr))
		return false;
	const reg *r = find(addr);
	if (r == NULL || r->wmask == 0)
		return true; /* RAZ/WI or read-only */
	/* FP_CTRL: the write takes effect only with KEY (bit 1) set (ARMv7-M
	 * C1.11.2). */
	if (addr == 0xE0002000u && !(value & 2u))
		return true;
	int s = slot(p, addr);
	if (s < 0) {
		if (p->n == VP_PPB_SLOTS)
			return true; /* table full: ignore rather than abort */
		s = (int)p->n++;
		p->w[s].addr = addr;
	}
	p->w[s].value = value;
	return true;
}
