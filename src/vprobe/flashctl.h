/*
 * The embedded flash interface at 0x40023C00 (RM0090 §3, RM0033 §2,
 * RM0385 §3): key lock, PSIZE, PG, BSY timing, the SR error flags and the
 * option control registers. Internal to mcu.c, which resolves addresses to
 * flash cells and asks this module whether and how a write programs them.
 */
#ifndef STOTP_VPROBE_FLASHCTL_H
#define STOTP_VPROBE_FLASHCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "image.h"
#include "mcu.h"
#include "parts.h"

#define VP_FLASH_REGS      0x40023C00u /* CMSIS */
#define VP_FLASH_REGS_SIZE 0x400u

/* FLASH_SR bits (CMSIS FLASH_SR). */
#define SR_EOP    (1u << 0)
#define SR_OPERR  (1u << 1)
#define SR_WRPERR (1u << 4)
#define SR_PGAERR (1u << 5)
#define SR_PGPERR (1u << 6)
#define SR_PGSERR (1u << 7) /* ERSERR on F7: same bit, see flashctl.c */
#define SR_RDERR  (1u << 8)
#define SR_BSY    (1u << 16)

/* FLASH_CR bits (CMSIS FLASH_CR). */
#define CR_PG          (1u << 0)
#define CR_SER         (1u << 1)
#define CR_MER         (1u << 2)
#define CR_PSIZE_SHIFT 8
#define CR_MER2        (1u << 15)
#define CR_STRT        (1u << 16)
#define CR_EOPIE       (1u << 24)
#define CR_ERRIE       (1u << 25)
#define CR_RDERRIE     (1u << 26)
#define CR_LOCK        (1u << 31)

/* One program access as the flash sees it, resolved by mcu.c. */
typedef struct vp_flash_unit {
	uint32_t addr;
	unsigned size;  /* access width in bytes: 1, 2 or 4 */
	uint8_t *cells; /* the `size` bytes to program; NULL when wrp */
	bool wrp;       /* write-protected target: WRPERR (PM0059 §2.6) */
	uint32_t stuck; /* bits that do not program (model fault, stuck@ in
	                    faults.h): they keep their value, no flag */
} vp_flash_unit;

/* Erase request handed back to mcu.c, which owns main-flash storage:
 * `sector` as written in CR.SNB, or -1 mass erase (bank 1 on dual-bank
 * lines), -2 MER2 (bank 2). Returns false for a sector that does not
 * exist (WRPERR, PM0059 §2.6 "SNB invalid"). */
typedef bool (*vp_flash_erase_fn)(void *ctx, int sector);

typedef struct vp_flashctl {
	const vp_part *part;
	vp_clock *clock;
	vp_image *img; /* RDP lives there */
	vp_mcu_params prm;
	vp_flash_erase_fn erase;
	void *erase_ctx;
	uint32_t acr, sr, cr, optcr, optcr1, optcr2;
	unsigned key_stage, optkey_stage; /* 1 after the first key */
	bool key_dead, optkey_dead; /* wrong sequence: locked until reset */
	bool busy;                  /* an operation is running */
	bool opt_busy;              /* ... and it is an option write */
	uint64_t busy_until;        /* clock time at which it ends */
	uint32_t done_flags;        /* SR bits set when it ends */
	unsigned prog_count;        /* program units started */
	unsigned powerloss_at;      /* 0: disarmed */
	uint8_t *pend_cells;        /* the program unit BSY is for */
	unsigned pend_size;
	uint32_t pend_old, pend_clear; /* its value before, bits it clears */
	double voltage;
} vp_flashctl;

/* Power-up: registers at reset values, SR = the image's sr_at_reset. */
void vp_flashctl_init(vp_flashctl *fc, const vp_part *part, vp_clock *clock,
		      vp_image *img, const vp_mcu_params *prm, double voltage);

/* System reset: registers back to reset values, key state cleared. */
void vp_flashctl_reset(vp_flashctl *fc);

/* True while BSY (an operation is running at the clock's current time). */
bool vp_flashctl_busy(vp_flashctl *fc);

/* Register access at `off` from VP_FLASH_REGS. */
vp_bus vp_flashctl_read(vp_flashctl *fc, uint32_t off, unsigned size,
			uint32_t *value);
vp_bus vp_flashctl_write(vp_flashctl *fc, uint32_t off, unsigned size,
			 uint32_t value);

/* A write into flash memory (main, OTP, lock bytes, system memory):
 * VP_BUS_OK whether or not it programmed (errors land in SR),
 * VP_BUS_STALL while BSY, VP_BUS_NOPOWER when the armed power loss hit. */
vp_bus vp_flashctl_program(vp_flashctl *fc, const vp_flash_unit *u,
			   uint32_t value);

/* A reset at clock time `at` (a watchdog) cuts the program operation
 * still running then short, as a power loss does: only some of its bits
 * cleared (RM0090 §3.5.4: a program operation must not be interrupted;
 * what is left is undefined, the model clears about half). True when
 * cells changed. */
bool vp_flashctl_cut(vp_flashctl *fc, uint64_t at);

/* The program-unit count at which power is cut (see vp_mcu_arm_powerloss). */
void vp_flashctl_arm_powerloss(vp_flashctl *fc, unsigned nth);

#endif
