/*
 * IWDG and WWDG (wdg.h). Sources:
 *  - IWDG (RM0090 §21.3-21.4): KR 0xCCCC starts it, 0xAAAA reloads,
 *    0x5555 opens PR/RLR; PR reset 0 (/4), RLR reset 0xFFF; the counter
 *    runs on the LSI (~32 kHz), so the reset timeout is 4096 x 4 / 32 kHz
 *    = 512 ms (OOCD stm32f4x.cfg, BMP stm32f4.c). Once started it cannot be
 *    stopped but by a reset.
 *  - WWDG (RM0090 §22.3-22.6): CR reset 0x7F, WDGA (bit 7) set by software
 *    and cleared only by reset; the 7-bit counter T counts down every
 *    4096 x 2^WDGTB PCLK1 cycles and resets the chip when it passes from
 *    0x40 to 0x3F. PCLK1 is taken as the 16 MHz HSI the part runs on after
 *    reset (RM0090 §6.2.2): the model does not follow the clock tree.
 *  - Freeze: DBGMCU_APB1_FZ DBG_IWDG_STOP / DBG_WWDG_STOP (RM0090 §38.16.4,
 *    OOCD stm32f4x.cfg, BMP stm32f4.c).
 */
#include "wdg.h"

#include <string.h>

#define LSI_HZ    32000u
#define PCLK1_MHZ 16u
#define IWDG_KR   0x0
#define IWDG_PR   0x4
#define IWDG_RLR  0x8
#define IWDG_SR   0xC
#define WWDG_CR   0x0
#define WWDG_CFR  0x4
#define WWDG_SR   0x8
#define WWDG_WDGA (1u << 7)

static uint64_t iwdg_timeout_us(const vp_wdg *w)
{
	uint32_t pr = w->iwdg_pr & 7u;
	uint64_t div = 4u << (pr > 6u ? 6u : pr); /* PR 6 and 7: /256 */
	return ((uint64_t)(w->iwdg_rlr & 0xFFFu) + 1) * div * 1000000u / LSI_HZ;
}

/* Until T passes from 0x40 to 0x3F. */
static uint64_t wwdg_timeout_us(const vp_wdg *w)
{
	uint32_t t = w->wwdg_cr & 0x7Fu, tb = (w->wwdg_cfr >> 7) & 3u;
	uint64_t tick = (4096u << tb) / PCLK1_MHZ;
	return t < 0x40 ? 0 : (uint64_t)(t - 0x3F) * tick;
}

void vp_wdg_reset(vp_wdg *w, enum vp_wdg_start iwdg, enum vp_wdg_start wwdg,
		  uint64_t now)
{
	memset(w, 0, sizeof *w);
	w->iwdg_start = iwdg;
	w->wwdg_start = wwdg == VP_WDG_OPTION ? VP_WDG_FIRMWARE : wwdg;
	w->iwdg_rlr = 0xFFFu;
	w->wwdg_cr = 0x7Fu;
	w->wwdg_cfr = 0x7Fu;
	w->iwdg_on = iwdg == VP_WDG_OPTION; /* hardware watchdog */
	w->iwdg_left_us = iwdg_timeout_us(w);
	w->last_us = now;
}

/* The firmware, running, starts the watchdogs the image gives it and
 * refreshes them: the largest WWDG window, the IWDG at its reset settings. */
static void firmware_runs(vp_wdg *w)
{
	if (w->iwdg_start != VP_WDG_OFF)
		w->iwdg_on = true;
	if (w->wwdg_start == VP_WDG_FIRMWARE && !w->wwdg_on) {
		w->wwdg_on = true;
		w->wwdg_cfr = 0x7Fu | 3u << 7; /* WDGTB = 3: 131 ms at 16 MHz */
	}
	w->wwdg_cr = WWDG_WDGA | 0x7Fu;
	w->iwdg_left_us = iwdg_timeout_us(w);
	w->wwdg_left_us = wwdg_timeout_us(w);
}

static uint64_t run_down(uint64_t *left, uint64_t from, uint64_t now)
{
	uint64_t dt = now - from;
	if (*left > dt) {
		*left -= dt;
		return 0;
	}
	uint64_t at = from + *left;
	*left = 0;
	return at > 0 ? at : 1;
}

uint64_t vp_wdg_tick(vp_wdg *w, uint64_t now, bool halted, uint32_t fz,
		     char *which)
{
	uint64_t from = w->last_us, at_i = 0, at_w = 0;
	w->last_us = now;
	if (!halted) {
		firmware_runs(w);
		return 0;
	}
	if (now <= from)
		return 0;
	if (w->iwdg_on && !(fz & VP_APB1_FZ_IWDG))
		at_i = run_down(&w->iwdg_left_us, from, now);
	if (w->wwdg_on && !(fz & VP_APB1_FZ_WWDG))
		at_w = run_down(&w->wwdg_left_us, from, now);
	if (at_i && (!at_w || at_i <= at_w)) {
		*which = 'I';
		return at_i;
	}
	if (at_w)
		*which = 'W';
	return at_w;
}

bool vp_wdg_read(vp_wdg *w, uint32_t addr, uint32_t *value)
{
	if (addr >= VP_IWDG_BASE && addr < VP_IWDG_BASE + 0x400u) {
		uint32_t off = addr - VP_IWDG_BASE;
		/* KR is write-only; SR PVU/RVU: updates are instant here */
		*value = off == IWDG_PR    ? w->iwdg_pr
			 : off == IWDG_RLR ? w->iwdg_rlr
					   : 0;
		return true;
	}
	if (addr >= VP_WWDG_BASE && addr < VP_WWDG_BASE + 0x400u) {
		uint32_t off = addr - VP_WWDG_BASE;
		*value = off == WWDG_CR    ? w->wwdg_cr
			 : off == WWDG_CFR ? w->wwdg_cfr
					   : 0;
		return true;
	}
	return false;
}

bool vp_wdg_write(vp_wdg *w, uint32_t addr, uint32_t value)
{
	if (addr >= VP_IWDG_BASE && addr < VP_IWDG_BASE + 0x400u) {
		uint32_t off = addr - VP_IWDG_BASE, key = value & 0xFFFFu;
		if (off == IWDG_KR) {
			w->iwdg_access = key == 0x5555u;
			if (key == 0xCCCCu)
				w->iwdg_on = true;
			if (key == 0xCCCCu || key == 0xAAAAu)
				w->iwdg_left_us = iwdg_timeout_us(w);
		} else if (off == IWDG_PR && w->iwdg_access) {
			w->iwdg_pr = value & 7u;
		} else if (off == IWDG_RLR && w->iwdg_access) {
			w->iwdg_rlr = value & 0xFFFu;
		}
		return true;
	}
	if (addr >= VP_WWDG_BASE && addr < VP_WWDG_BASE + 0x400u) {
		uint32_t off = addr - VP_WWDG_BASE;
		if (off == WWDG_CR) {
			w->wwdg_on =
				w->wwdg_on
				|| (value
				    & WWDG_WDGA); /* only reset clears it */
			w->wwdg_cr =
				(value & 0x7Fu) | (w->wwdg_on ? WWDG_WDGA : 0);
			w->wwdg_left_us = wwdg_timeout_us(w);
		} else if (off == WWDG_CFR) {
			w->wwdg_cfr = value & 0x3FFu;
		}
		return true;
	}
	return false;
}
