/*
 * RCC and PWR with their reset values (RM0090 §6.3 / §5.4, RM0385 §5.3 /
 * §4.4). Oscillators and PLLs are ready as soon as they are switched on,
 * and SWS follows SW at once: the model has no analog settling time, and a
 * script that polls the ready bits must see them.
 */
#include <string.h>

#include "periph.h"

#define RCC_CR      0x00
#define RCC_PLLCFGR 0x04
#define RCC_CFGR    0x08
#define RCC_BDCR    0x70
#define RCC_CSR     0x74

/* RM0090 §6.3 register map reset values (F4; F2 and F7 agree on those a
 * debugger touches). CR: HSITRIM 16, HSION, HSIRDY. AHB1ENR: CCMDATARAMEN. */
static const struct {
	uint8_t off;
	uint32_t reset;
} rcc_reset[] = {
	{ RCC_CR, 0x00000083u },  { RCC_PLLCFGR, 0x24003010u },
	{ 0x30, 0x00100000u },    /* AHB1ENR */
	{ 0x50, 0x7E6791FFu },    /* AHB1LPENR */
	{ 0x54, 0x000000F1u },    /* AHB2LPENR */
	{ 0x58, 0x00000001u },    /* AHB3LPENR */
	{ 0x60, 0x36FEC9FFu },    /* APB1LPENR */
	{ 0x64, 0x00075F33u },    /* APB2LPENR */
	{ RCC_CSR, 0x0E000000u }, /* reset flags: PORRSTF, PINRSTF, BORRSTF */
	{ 0x84, 0x20003000u },    /* PLLI2SCFGR */
};

void vp_periph_reset(vp_periph *p, const vp_part *part)
{
	memset(p, 0, sizeof *p);
	p->part = part;
	for (size_t i = 0; i < sizeof rcc_reset / sizeof rcc_reset[0]; i++)
		p->rcc[rcc_reset[i].off / 4] = rcc_reset[i].reset;
	/* PWR_CR: VOS reset value (RM0090 §5.4.1: 0x4000 on F40x, 0xC000 on
	 * F42x/F7 where VOS is two bits). */
	p->pwr_cr = part->dev_id == 0x413 || part->dev_id == 0x411
			    ? 0x00004000u
			    : 0x0000C000u;
	p->pwr_csr = 0;
}

void vp_periph_reset_flag(vp_periph *p, uint32_t bit)
{
	p->rcc[RCC_CSR / 4] |= bit;
}

/* Ready bits follow their enables: HSI 0->1, HSE 16->17, PLL 24->25,
 * PLLI2S 26->27, PLLSAI 28->29 (RM0090 §6.3.1). */
static uint32_t rcc_cr(uint32_t v)
{
	static const uint8_t on[] = { 0, 16, 24, 26, 28 };
	v &= ~(0x2u | 1u << 17 | 1u << 25 | 1u << 27 | 1u << 29);
	for (size_t i = 0; i < sizeof on; i++)
		if (v & (1u << on[i]))
			v |= 1u << (on[i] + 1);
	return v;
}

bool vp_periph_read(vp_periph *p, uint32_t addr, uint32_t *value)
{
	if (addr >= VP_RCC_BASE && addr < VP_RCC_BASE + 0x400u) {
		uint32_t off = addr - VP_RCC_BASE;
		*value = off / 4 < VP_RCC_WORDS ? p->rcc[off / 4] : 0;
		return true;
	}
	if (addr >= VP_PWR_BASE && addr < VP_PWR_BASE + 0x400u) {
		uint32_t off = addr - VP_PWR_BASE;
		*value = off == 0 ? p->pwr_cr : off == 4 ? p->pwr_csr : 0;
		return true;
	}
	return false;
}

bool vp_periph_write(vp_periph *p, uint32_t addr, uint32_t value)
{
	if (addr >= VP_RCC_BASE && addr < VP_RCC_BASE + 0x400u) {
		uint32_t off = addr - VP_RCC_BASE;
		if (off / 4 >= VP_RCC_WORDS)
			return true;
		if (off == RCC_CR)
			value = rcc_cr(value);
		else if (off == RCC_CFGR) /* SWS [3:2] follows SW [1:0] */
			value = (value & ~0xCu) | (value & 3u) << 2;
		p->rcc[off / 4] = value;
		return true;
	}
	if (addr >= VP_PWR_BASE && addr < VP_PWR_BASE + 0x400u) {
		uint32_t off = addr - VP_PWR_BASE;
		if (off == 0) {
			p->pwr_cr = value;
			/* Over-drive ready flags follow ODEN/ODSWEN (bits 16/17 ->
			 * CSR 16/17) and VOSRDY (CSR 14) is set (RM0090 §5.4.2). */
			p->pwr_csr = (p->pwr_csr & ~0x30000u)
				     | (value & 0x30000u) | (1u << 14);
		}
		return true;
	}
	return false;
}
