/*
 * The inside of a vp_mcu, shared by mcu.c (memory map, bus access) and
 * mcu_run.c (reset, NRST, watchdogs, what the firmware does while it
 * runs). Nothing outside those two includes this.
 */
#ifndef STOTP_VPROBE_MCU_INTERNAL_H
#define STOTP_VPROBE_MCU_INTERNAL_H

#include "core_debug.h"
#include "dcache.h"
#include "flashctl.h"
#include "mcu.h"
#include "periph.h"
#include "ppb.h"
#include "wdg.h"

#define CHUNK      0x4000u /* main flash stored in 16 KiB pieces */
#define MAX_CHUNKS (2048u * 1024u / CHUNK)

struct vp_mcu {
	vp_image *img;
	const vp_part *part;
	vp_clock *clock;
	double voltage;
	bool powered;
	vp_flashctl fc;
	vp_core core;
	vp_ppb ppb;
	vp_periph per;
	vp_wdg wdg;
	vp_dcache dcache;
	bool nrst_low;        /* the probe holds NRST low */
	bool fw_quiet;        /* the firmware did its "boot" thing */
	uint64_t fw_quiet_at; /* when it will, once running; 0: never */
	unsigned wdg_resets;  /* watchdog resets since creation */
	uint32_t aircr;       /* PRIGROUP */
	uint8_t *sram;
	uint8_t *flash[MAX_CHUNKS]; /* NULL: erased */
	uint8_t otp_stuck
		[VP_OTP_MAX]; /* weak-cell bits per OTP byte (model fault) */
};

/* Little-endian word of main flash at `off` (vector table reads). */
uint32_t vp_mcu_main_word(vp_mcu *m, uint32_t off);

/* Does the debug port acknowledge (mcu_run.c)? */
bool vp_mcu_dp_answers(const vp_mcu *m);

#endif
