/*
 * The STM32 parts vprobe can be: identity registers, memory sizes, where the
 * UID / flash-size / OTP sit, and which flash SR bits exist. Data only; every
 * value cites its source in parts.c.
 */
#ifndef STOTP_VPROBE_PARTS_H
#define STOTP_VPROBE_PARTS_H

#include <stdint.h>

/* FLASH_SR bit 7 is PGSERR on F2/F4 and ERSERR on F7; bit 8 (RDERR) exists
 * only on some lines (CMSIS). */
enum vp_sr_flavour {
	VP_SR_F2F40X,   /* EOP OPERR WRPERR PGAERR PGPERR PGSERR BSY */
	VP_SR_F4_RDERR, /* as above + RDERR (bit 8) */
	VP_SR_F7,       /* bit 7 = ERSERR, no RDERR */
	VP_SR_F7_RDERR, /* F72x/F73x: ERSERR + RDERR */
	VP_SR_NONE,     /* not an F2/F4/F7: no flash interface is modelled
	                   (identity, SRAM and memory reads only; mcu.c) */
};

/* Whether the part has the F2/F4/F7 flash interface at 0x40023C00 and the
 * RCC/PWR of those lines, i.e. whether the model programs it at all. */
#define VP_PART_HAS_FLASHCTL(p) ((p)->sr != VP_SR_NONE)

typedef struct vp_part {
	const char *name;   /* lower case, as VPROBE_TARGET: "stm32f429zi" */
	const char *line;   /* "STM32F42xxx/43xxx" */
	uint16_t dev_id;    /* DBGMCU_IDCODE[11:0] */
	uint16_t rev_id;    /* DBGMCU_IDCODE[31:16] */
	uint32_t cpuid;     /* SCB CPUID at 0xE000ED00 */
	uint32_t dpidr;     /* SW-DP DPIDR */
	uint32_t ap_idr;    /* AHB-AP IDR */
	uint32_t flash_kib; /* main flash, what the flash-size register reads */
	uint32_t sram_kib;  /* contiguous SRAM at 0x20000000 */
	uint32_t flash_size_reg; /* address of the u16 flash-size register */
	uint32_t uid_addr;       /* 96-bit unique ID */
	uint32_t otp_base;       /* OTP data area of VP_OTP_BLOCKS blocks */
	uint32_t otp_block_size; /* 32 or 64 */
	uint32_t otp_lock_base;  /* 16 lock bytes; 0: the part has none */
	uint32_t sysmem_base,
		sysmem_size; /* system memory (bootloader), readable */
	enum vp_sr_flavour sr;
	int dual_bank; /* OPTCR1 present (F42x/43x/469/479, F7) */
	/* Added by the target side (mcu.c reads them): */
	uint32_t package_reg; /* u16 package register, 0 if the line has none */
	uint16_t package_val; /* what it reads */
	uint8_t fpu; /* 0 none (M3), 1 single precision, 2 double (F76x/F77x) */
	uint32_t vmin_prog_mv; /* lowest supply at which x8 programming works */
} vp_part;

#define VP_OTP_BLOCKS 16

/* NULL when the name is unknown. */
const vp_part *vp_part_find(const char *name);

/* For error messages: the known names, comma separated. */
const char *vp_part_names(void);

/* Iteration over the table (for tests and listings): NULL past the end. */
const vp_part *vp_part_at(unsigned i);

#endif
