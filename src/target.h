/*
 * The STM32 behind the probe: DBGMCU_IDCODE -> family, line, revision
 * (CMSIS, OOCD stm32f2x.c), flash size, 96-bit UID, RDP level. Parts other than
 * F2/F4/F7 are named and refused for OTP work.
 */
#ifndef STOTP_TARGET_H
#define STOTP_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "flash.h"
#include "stlink.h"

typedef struct otp_map {
	uint32_t base;       /* first data byte */
	unsigned blocks;     /* 16 */
	unsigned block_size; /* 32 or 64 */
	uint32_t lock_base;  /* one lock byte per block, 0x00 = locked */
	const char *parts;   /* who has this layout, for messages */
} otp_map;

#define OTP_MAX_DATA 1024
#define OTP_BLOCKS   16

typedef struct target_ident {
	uint32_t idcode;
	uint16_t dev_id, rev_id;
	char revision[12];  /* "Y", "1", or "0x2005" when unknown */
	const char *family; /* "F2", "F4", "F7", "F1", ... or "?" */
	const char *line;   /* "STM32F42xxx/43xxx" */
	const char *name;   /* "STM32F427/429/437/439" */
	int supported;      /* F2/F4/F7: OTP work allowed */
	uint32_t uid_addr, fsize_addr;
	unsigned max_flash_kib;
	const otp_map *otp; /* NULL when unsupported */
	flash_regs flash;
} target_ident;

/* Pure: decode an IDCODE (cpuid for the F4 rev A errata; 0 if unknown). */
void target_decode(uint32_t idcode, uint32_t cpuid, target_ident *out);

/* A byte this handle never wrote; wrote and read back as wanted; or
 * meant to write in a write that failed or stopped part-way, so it may
 * hold anything between the old and the wanted value. */
enum otp_wstate { OTP_W_NONE, OTP_W_VERIFIED, OTP_W_UNVERIFIED };

/* Opaque above the C core: the fields are in target_internal.h. */
typedef struct target target;

/* Data bytes of a layout (blocks x block_size). */
static inline size_t otp_map_size(const otp_map *m)
{
	return (size_t)m->blocks * m->block_size;
}

/* 1 if [addr, addr + n) touches the data or lock bytes of m. */
int otp_map_touches(const otp_map *m, uint32_t addr, size_t n);

/* The layout whose data or lock bytes hold addr (any family), or NULL:
 * names whose OTP an address is when a user gives the wrong one. */
const otp_map *otp_map_at(uint32_t addr);

/* What a front end may read of a target handle (target_info.c): the
 * last error (the probe's, which the target shares), the identity found
 * at attach, the UID (0 when it could not be read), flash size in KiB,
 * RDP level (-1 unknown) and CPUID. */
const st_error *target_error(const target *t);
const target_ident *target_id(const target *t);
int target_uid(const target *t, uint8_t out[12]);
unsigned target_flash_kib(const target *t);
int target_rdp(const target *t);
uint32_t target_cpuid(const target *t);

/* Enter SWD at khz, halt the core, identify (under_reset: with NRST held
 * low until the core is set to halt at the reset vector); on an F2/F4/F7 freeze both
 * watchdogs and keep debug alive in low-power modes (DBGMCU). */
int target_attach(target **out, stlink *st, unsigned khz, int under_reset);
void target_free(target *t);

/* The UID as ST tools print it: hex of bytes 0..11 in memory order; "?"
 * when it could not be read. */
void target_uid_hex(const target *t, char out[25]);
/* "STM32F427/429/437/439 (STM32F42xxx/43xxx) rev Y, 2048 KiB flash, UID
 * ..., RDP 0" for messages and __tostring. */
void target_describe(const target *t, char *buf, size_t len);
/* Before each program pass and each lock: the core is still halted and
 * was not reset since attach, the chip is still the one attach
 * identified (IDCODE, and its UID read again), failing with ST_ETARGET
 * naming `before`; then FLASH_CR unlocked with PG and PSIZE for
 * width (flash_begin), in the fewest round trips the firmware allows. A
 * core that runs or was reset (DHCSR, always read first and alone) gets
 * nothing written; with RW_MISC the keys ride in the batch that reads
 * IDCODE and the UID again, and a mismatch there relocks at once. */
int target_unlock(target *t, const char *before, unsigned width);
/* A UID read again (now) against attach's: ST_ETARGET naming `before`. */
int target_uid_check(target *t, const uint8_t now[12], const char *before);
/* Around every read of the OTP (otp.c): with the F2/F4 flash data cache
 * on (FLASH_ACR.DCEN at attach), turn it off and reset it, so no line
 * cached before a program operation answers the read (CMSIS FLASH_ACR,
 * UNCONFIRMED whether it could: the reset removes the question), then
 * put FLASH_ACR back as it was. Nothing when the cache was off. */
int target_dcache_off(target *t);
int target_dcache_restore(target *t);
/* 1 when FLASH_CR is known locked and FLASH_SR clean (no write went to
 * the target since they were seen so); target_flash_seen records that. */
int target_flash_known(const target *t);
void target_flash_seen(target *t, int cr_locked, int sr_clean);
/* Reads for a user (target:read, read32): as stlink_read/read32, with
 * target_explain_fault on failure. */
int target_mem_read(target *t, uint32_t addr, uint8_t *buf, size_t n);
int target_mem_read32(target *t, uint32_t addr, uint32_t *value);
/* After a failed access (`what`: "read") at addr: a memory fault on a
 * chip at RDP level 1 or 2 is explained as read protection, the probe's
 * own words kept after it. Returns -1. */
int target_explain_fault(target *t, const char *what, uint32_t addr);
/* A plain 32-bit write anywhere but the OTP data and lock bytes: those
 * are written only through the checked primitives of otp.c. */
int target_write32(target *t, uint32_t addr, uint32_t value);

/* Let the core run the firmware (DHCSR C_HALT cleared). */
int target_run(target *t);
/* System reset (AIRCR SYSRESETREQ); halt: stop at the reset vector,
 * else the firmware runs. Either way the handle's guard then refuses
 * further OTP writes (the chip was reset since attach). */
int target_reset(target *t, int halt);

#endif
