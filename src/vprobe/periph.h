/*
 * The few STM32 peripherals a debugger's reset-init scripts touch: RCC at
 * 0x40023800 (clock tree: OpenOCD's stm32f4x.cfg/stm32f7x.cfg raise the
 * clock before flashing) and PWR at 0x40007000. Internal to mcu.c.
 */
#ifndef STOTP_VPROBE_PERIPH_H
#define STOTP_VPROBE_PERIPH_H

#include <stdbool.h>
#include <stdint.h>

#include "parts.h"

#define VP_RCC_BASE  0x40023800u
#define VP_PWR_BASE  0x40007000u
#define VP_RCC_WORDS 0x24 /* 0x00..0x8C */

typedef struct vp_periph {
	const vp_part *part;
	uint32_t rcc[VP_RCC_WORDS];
	uint32_t pwr_cr, pwr_csr;
} vp_periph;

/* Power-up and system reset: reset values. */
void vp_periph_reset(vp_periph *p, const vp_part *part);

/* After a watchdog reset: RCC_CSR IWDGRSTF (bit 29) or WWDGRSTF (bit 30)
 * (RM0090 §6.3.21), so a host can tell why the chip restarted. */
void vp_periph_reset_flag(vp_periph *p, uint32_t bit);

/* True when `addr` (word aligned) belongs to a modelled peripheral. */
bool vp_periph_read(vp_periph *p, uint32_t addr, uint32_t *value);
bool vp_periph_write(vp_periph *p, uint32_t addr, uint32_t value);

#endif
