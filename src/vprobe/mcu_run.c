/*
 * The chip's run state over time (mcu_internal.h): system reset, the NRST
 * pin the probe drives, the watchdogs (wdg.c) and what the firmware does
 * after it starts (image key "boot"). Sources beside each behaviour.
 */
#include "mcu_internal.h"

void vp_mcu_reset(vp_mcu *m)
{
	vp_flashctl_reset(&m->fc);
	vp_periph_reset(&m->per, m->part);
	vp_ppb_reset(&m->ppb);
	vp_wdg_reset(&m->wdg, m->img->iwdg, m->img->wwdg, m->clock->us);
	m->aircr = 0;
	/* Boot from main flash (BOOT0 = 0): SP and PC from its vector table
	 * (ARMv7-M B1.5.5). */
	vp_core_reset(&m->core, vp_mcu_main_word(m, 0), vp_mcu_main_word(m, 4));
	vp_dcache_invalidate(&m->dcache);
	/* firmware that runs turns the caches and prefetch on (HAL_Init:
	 * PRFTEN bit 8, ICEN 9, DCEN 10) */
	if (m->img->dcache && !m->core.halted)
		m->fc.acr |= 0x700u;
	m->fw_quiet = false;
	m->fw_quiet_at = m->img->boot != VP_BOOT_NORMAL && !m->core.halted
				 ? m->clock->us + VP_BOOT_DELAY_US
				 : 0;
}

void vp_mcu_set_nrst(vp_mcu *m, bool low)
{
	if (m->nrst_low && !low)
		vp_mcu_reset(m);
	else if (low)
		m->fw_quiet =
			false; /* the SWD pins take their reset function */
	m->nrst_low = low;
}

/* Does the debug port acknowledge? Not once the firmware turned SWD off,
 * nor while it sleeps in STOP mode without DBGMCU_CR.DBG_STOP (bit 1). */
bool vp_mcu_dp_answers(const vp_mcu *m)
{
	uint32_t cr = 0;
	if (m->nrst_low || !m->fw_quiet)
		return true;
	if (m->img->boot == VP_BOOT_SLEEP) {
		vp_ppb_read(&m->ppb, 0xE0042004u, &cr);
		return (cr & 2u) != 0;
	}
	return false;
}

/* Let the watchdogs see the time that passed (OOCD stm32f4x.cfg, BMP
 * stm32f4.c): one that runs out resets the chip as NRST would, at the time it
 * ran out: a program operation still running then is cut short, FLASH_CR locks
 * again, the core runs the firmware (or halts at the reset vector under
 * DEMCR.VC_CORERESET) and DHCSR shows S_RESET_ST. A hardware watchdog
 * starts again at the reset, so a halted core can see several. */
void vp_mcu_tick(vp_mcu *m)
{
	uint32_t fz = 0;
	char which = 0;
	uint64_t now = m->clock->us, at;

	if (!m->powered)
		return;
	if (m->nrst_low)
		return; /* held in reset: nothing runs or counts */
	if (m->fw_quiet_at && !m->core.halted && now >= m->fw_quiet_at) {
		m->fw_quiet = true;
		m->fw_quiet_at = 0;
	}
	vp_ppb_read(&m->ppb, 0xE0042008u, &fz); /* DBGMCU_APB1_FZ */
	while ((at = vp_wdg_tick(&m->wdg, now, m->core.halted, fz, &which))
	       != 0) {
		if (vp_flashctl_cut(&m->fc, at))
			m->img->dirty = true;
		m->clock->us = at; /* the reset happens then ... */
		vp_mcu_reset(m);
		m->clock->us =
			now; /* ... and the rest of the interval after it */
		vp_periph_reset_flag(&m->per,
				     which == 'I' ? 1u << 29 : 1u << 30);
		m->wdg_resets++;
	}
}
