/*
 * The Cortex-M private peripheral bus and the STM32 DBGMCU as hosts touch
 * them at examine time: SCB identity and control registers, FPU identity,
 * DWT, FPB, ITM, TPIU, the ROM table, DBGMCU. Simple registers with
 * plausible reset values; core debug (DHCSR..DEMCR) and AIRCR's reset are
 * handled by mcu.c. Internal to mcu.c. Sources: ARMv7-M, CMSIS and OOCD
 * stm32f2x.c (see ppb.c).
 */
#ifndef STOTP_VPROBE_PPB_H
#define STOTP_VPROBE_PPB_H

#include <stdbool.h>
#include <stdint.h>

#include "parts.h"

#define VP_PPB_SLOTS 96 /* written registers remembered */

typedef struct vp_ppb {
	const vp_part *part;
	unsigned n;
	struct {
		uint32_t addr, value;
	} w[VP_PPB_SLOTS];
} vp_ppb;

void vp_ppb_init(vp_ppb *p, const vp_part *part);

/* System reset: SCB, SysTick and NVIC registers return to reset values;
 * debug-domain registers (DWT, FPB, ITM, TPIU, DBGMCU_CR/FZ) keep theirs
 * (RM0090 §38.16.3: DBGMCU_CR is reset by power-on only). */
void vp_ppb_reset(vp_ppb *p);

/* True when `addr` (word aligned) is a modelled register; then *value is
 * what it reads. */
bool vp_ppb_read(const vp_ppb *p, uint32_t addr, uint32_t *value);

/* True when `addr` is a modelled register (read-only ones ignore writes). */
bool vp_ppb_write(vp_ppb *p, uint32_t addr, uint32_t value);

#endif
