/*
 * The parts vprobe can be. Data only.
 *
 * Sources:
 *   DEV_ID, REV_ID codes, flash-size / UID addresses: CMSIS, OOCD stm32f2x.c
 *     (OOCD stm32f2x.c, STL chip files, CMSIS FLASHSIZE_BASE / UID_BASE).
 *     F401RE rev A: the observed IDCODE 0x10006433 (STL #710 log); its reserved
 *     bits 15:12 are not modelled (read as 0).
 *   CPUID, DPIDR, AHB-AP IDR: STL stm32.h.
 *   SR flavour: CMSIS FLASH_SR. OTP layout: RM0090 §3.8, CMSIS FLASH_OTP_BASE.
 *   Package register address: CMSIS PACKAGE_BASE; the value
 *     read is plausible only (UNCONFIRMED), hosts do not depend on it.
 *   SRAM: contiguous SRAM from 0x20000000 per datasheet memory maps
 *     (F40x SRAM1+SRAM2 112+16 KiB; F42x adds SRAM3 64 KiB; F74x DTCM 64 +
 *     SRAM1 240 + SRAM2 16; F76x DTCM 128 + 368 + 16; F72x DTCM 64 + 176 + 16).
 *   System memory: RM0090 §2.3 Table 5 / RM0033 Table 3 (0x1FFF0000,
 *     30 KiB), RM0385 Table 3 (0x1FF00000, 60 KiB up to 0x1FF0EDBF). F72x:
 *     the OTP at 0x1FF07800 (CMSIS) bounds it to 30 KiB (inferred).
 *   Minimum programming voltage: HAL FLASH_VOLTAGE_RANGE (HAL notes: byte
 *   program from
 *     1.8 V on F2/F4, 1.7 V on F7).
 *
 * stm32l476rg is here only so that hosts can be shown a part that is not
 * an F2/F4/F7 (and must refuse it for OTP work). Its flash interface is not
 * modelled (VP_SR_NONE). Sources, none of them about the F2/F4/F7 except
 * where said: DEV_ID 0x415 and REV_ID 0x1007 (rev 4) from OOCD
 * stm32l4x.c stm32l47_l48xx_revs; flash-size register 0x1FFF75E0 from the
 * STL chip table ("L47x/L48x", RM0351 §45.2) and OOCD stm32l4x.c;
 * UID 0x1FFF7590 from CMSIS stm32l476xx.h UID_BASE; SRAM1 96 KiB at
 * 0x20000000 (SRAM2 sits at 0x10000000, not modelled) and system memory
 * 0x1FFF0000, 28 KiB, from the STL chip table (RM0351 Tables 4-6); OTP
 * 0x1FFF7000, 1 KiB: STL config/chips gives it for the L45x/L46x and L49x/L4Ax
 * chip files; the L4 HAL (stm32l4xx_hal_flash.h IS_FLASH_OTP_ADDRESS,
 * 0x1FFF7000-0x1FFF73FF) gives it for every L4, the L47x included. It
 * has no lock bytes and no 16-block structure (128 double words, as L4
 * firmware uses it): stored as 16 x 64 bytes only so the image keeps it.
 * CPUID/DPIDR: the Cortex-M4 values (STL stm32.h). No package register.
 */
#include <stddef.h>
#include <string.h>

#include "parts.h"

/* Per-family constants, so each row below states only what differs. */
#define F24_OTP    0x1FFF7800u, 32u, 0x1FFF7A00u /* RM0090 §3.8 */
#define F24_IDS    0x1FFF7A22u, 0x1FFF7A10u      /* flash size, UID */
#define F24_SYSMEM 0x1FFF0000u, 30u * 1024u
#define F7_OTP     0x1FF0F000u, 64u, 0x1FF0F400u /* F74x-F77x */
#define F7_IDS     0x1FF0F442u, 0x1FF0F420u
#define F7_SYSMEM  0x1FF00000u, 0xEDC0u
#define F72_OTP    0x1FF07800u, 32u, 0x1FF07A00u /* F72x/F73x */
#define F72_IDS    0x1FF07A22u, 0x1FF07A10u
#define F72_SYSMEM 0x1FF00000u, 30u * 1024u
#define L47_IDS    0x1FFF75E0u, 0x1FFF7590u
#define L47_OTP    0x1FFF7000u, 64u, 0u /* no lock bytes */
#define L47_SYSMEM 0x1FFF0000u, 28u * 1024u

#define DP_M34 0x2BA01477u, 0x24770011u /* SW-DP DPIDR, AHB-AP IDR */
#define DP_M7                                                                  \
	0x5BA02477u,                                                           \
		0x74770001u /* AP IDR: F746 log; F76x/F72x UNCONFIRMED, same AP assumed */
#define CPUID_M3    0x412FC230u /* r2p0 */
#define CPUID_M4    0x410FC241u /* r0p1 */
#define CPUID_M7_01 0x410FC271u /* F74x r0p1 */
#define CPUID_M7_10                                                            \
	0x411FC270u /* F76x r1p0; F72x UNCONFIRMED, assumed r1p0 too */

static const vp_part parts[] = {
	/* name, line, dev, rev, cpuid, dpidr, apidr, flash KiB, sram KiB,
	 * flash-size reg, uid, otp base, block, lock base, sysmem, sr,
	 * dual/OPTCR1, package reg, package value, fpu, vmin mV */
	{ "stm32f205rg", "STM32F20xxx/21xxx", 0x411, 0x2000 /* rev B */,
	  CPUID_M3, DP_M34, 1024, 128, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F2F40X, 0, 0, 0, 0, 1800 },
	{ "stm32f207zg", "STM32F20xxx/21xxx", 0x411, 0x2003 /* rev X */,
	  CPUID_M3, DP_M34, 1024, 128, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F2F40X, 0, 0, 0, 0, 1800 },
	{ "stm32f401re", "STM32F401xD/E", 0x433,
	  0x1000 /* rev A (STL #710 log) */, CPUID_M4, DP_M34, 512, 96, F24_IDS,
	  F24_OTP, F24_SYSMEM, VP_SR_F4_RDERR, 0, 0x1FFF7BF0, 0x0100, 1, 1800 },
	{ "stm32f405rg", "STM32F40xxx/41xxx", 0x413, 0x1007 /* rev 1 */,
	  CPUID_M4, DP_M34, 1024, 128, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F2F40X, 0, 0x1FFF7BF0, 0x0100, 1, 1800 },
	{ "stm32f407vg", "STM32F40xxx/41xxx", 0x413, 0x1007 /* rev 1 */,
	  CPUID_M4, DP_M34, 1024, 128, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F2F40X, 0, 0x1FFF7BF0, 0x0200, 1, 1800 },
	{ "stm32f411re", "STM32F411xC/E", 0x431, 0x1000 /* rev A */, CPUID_M4,
	  DP_M34, 512, 128, F24_IDS, F24_OTP, F24_SYSMEM, VP_SR_F4_RDERR, 0,
	  0x1FFF7BF0, 0x0100, 1, 1800 },
	{ "stm32f429zi", "STM32F42xxx/43xxx", 0x419, 0x2001 /* rev 3 */,
	  CPUID_M4, DP_M34, 2048, 192, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F4_RDERR, 1, 0x1FFF7BF0, 0x0300, 1, 1800 },
	{ "stm32f439zi", "STM32F42xxx/43xxx", 0x419, 0x1003 /* rev Y */,
	  CPUID_M4, DP_M34, 2048, 192, F24_IDS, F24_OTP, F24_SYSMEM,
	  VP_SR_F4_RDERR, 1, 0x1FFF7BF0, 0x0300, 1, 1800 },
	{ "stm32f446re", "STM32F446xx", 0x421, 0x1000 /* rev A */, CPUID_M4,
	  DP_M34, 512, 128, F24_IDS, F24_OTP, F24_SYSMEM, VP_SR_F4_RDERR, 0,
	  0x1FFF7BF0, 0x0100, 1, 1800 },
	{ "stm32f722ze", "STM32F72xxx/73xxx", 0x452, 0x1000 /* rev A */,
	  CPUID_M7_10, DP_M7, 512, 256, F72_IDS, F72_OTP, F72_SYSMEM,
	  VP_SR_F7_RDERR, 1, 0x1FF07BF0, 0x0300, 1, 1700 },
	{ "stm32f746zg", "STM32F74xxx/75xxx", 0x449, 0x1001 /* rev Z */,
	  CPUID_M7_01, DP_M7, 1024, 320, F7_IDS, F7_OTP, F7_SYSMEM, VP_SR_F7, 1,
	  0x1FF0F7E0, 0x0300, 1, 1700 },
	{ "stm32f767zi", "STM32F76xxx/77xxx", 0x451, 0x1001 /* rev Z */,
	  CPUID_M7_10, DP_M7, 2048, 512, F7_IDS, F7_OTP, F7_SYSMEM, VP_SR_F7, 1,
	  0x1FF0F7E0, 0x0300, 2, 1700 },
	{ "stm32l476rg", "STM32L47x/L48x", 0x415, 0x1007 /* rev 4 */, CPUID_M4,
	  DP_M34, 1024, 96, L47_IDS, L47_OTP, L47_SYSMEM, VP_SR_NONE, 0, 0, 0,
	  1, 0 /* never programs */ },
};

#define NPARTS (sizeof parts / sizeof parts[0])

/* Kept by hand in table order; tests/vprobe_mcu_spec.lua checks that it
 * names exactly the parts vp_part_at() yields. */
static const char part_names[] =
	"stm32f205rg, stm32f207zg, stm32f401re, stm32f405rg, stm32f407vg, "
	"stm32f411re, stm32f429zi, stm32f439zi, stm32f446re, stm32f722ze, "
	"stm32f746zg, stm32f767zi, stm32l476rg";

const vp_part *vp_part_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NPARTS; i++)
		if (strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

const char *vp_part_names(void)
{
	return part_names;
}

const vp_part *vp_part_at(unsigned i)
{
	return i < NPARTS ? &parts[i] : NULL;
}
