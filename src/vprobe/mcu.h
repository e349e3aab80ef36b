/*
 * The STM32 target as the ST-Link's SWD engine sees it: an AHB bus reached
 * through the AHB-AP, plus the core's debug state. The ST-Link firmware model
 * (stlink_fw.c) calls only this; the memory map, the flash controller and the
 * OTP live behind it (mcu.c, flashctl.c).
 */
#ifndef STOTP_VPROBE_MCU_H
#define STOTP_VPROBE_MCU_H

#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "image.h"
#include "parts.h"

typedef struct vp_mcu vp_mcu;

/* Outcome of one AHB access. */
typedef enum vp_bus {
	VP_BUS_OK = 0,
	VP_BUS_FAULT,   /* no slave / bus error: the AP reports a FAULT ack */
	VP_BUS_STALL,   /* the slave holds HREADY low (flash BSY, RM0090 §3.6):
	                   the access did not happen; retry after time passes */
	VP_BUS_NOPOWER, /* target unpowered: the DP does not answer */
} vp_bus;

/* The image is owned by the caller and must outlive the mcu; the mcu reads
 * and changes it (OTP, locks) and sets img->dirty when it does. */
vp_mcu *vp_mcu_new(vp_image *img, const vp_part *part, vp_clock *clock,
		   double voltage);
void vp_mcu_free(vp_mcu *m);

/* One bus access of `size` bytes (1, 2 or 4) at `addr`. A size that does
 * not match the address alignment is never issued by the SWD engine. For
 * writes, the value is in the low `size` bytes. */
vp_bus vp_mcu_read(vp_mcu *m, uint32_t addr, unsigned size, uint32_t *value);
vp_bus vp_mcu_write(vp_mcu *m, uint32_t addr, unsigned size, uint32_t value);

/* System reset (NRST, SYSRESETREQ, or injected): peripherals and the flash
 * controller return to their reset values (CR.LOCK = 1, key sequence state
 * cleared); the core halts afterwards if DEMCR.VC_CORERESET was set. */
void vp_mcu_reset(vp_mcu *m);

/* What the firmware does soon after it starts running (image key "boot"):
 * nothing to the debug port; turn the SWD pins into GPIOs; or enter STOP
 * mode. Either of the last two leaves a debugger that connects normally
 * without an answer (the DP does not acknowledge; in STOP mode unless
 * DBGMCU_CR.DBG_STOP, RM0090 §38.16.3), which is why hosts connect under
 * reset (OOCD `reset_config connect_assert_srst`). */
enum vp_boot { VP_BOOT_NORMAL = 0, VP_BOOT_SWD_OFF, VP_BOOT_SLEEP };
/* "Soon": a model choice, UNCONFIRMED (firmware-specific). */
#define VP_BOOT_DELAY_US 1000u

/* The NRST pin as the probe drives it (DRIVE_NRST, OOCD stlink_usb.c): low
 * holds the chip in reset: the core does not run, the debug port answers (the
 * SWD pins have their reset function), the debug registers (0xE0000000
 * and up) are accessible and any other bus access faults (UNCONFIRMED:
 * the system bus is in reset). Releasing it is a system reset: the core
 * halts at the reset vector when C_DEBUGEN and DEMCR.VC_CORERESET are set. */
void vp_mcu_set_nrst(vp_mcu *m, bool low);

/* Bring the watchdogs up to the clock's time (wdg.h): one that ran out
 * while the core was halted and not frozen resets the chip. Called before
 * every bus access and every command packet. */
void vp_mcu_tick(vp_mcu *m);

/* Cut power in the middle of the next flash program operation: the unit being
 * programmed ends with only some of its bits cleared; the target then stays
 * unpowered (every access gives VP_BUS_NOPOWER). */
void vp_mcu_arm_powerloss(vp_mcu *m, unsigned nth_program_op);

bool vp_mcu_powered(const vp_mcu *m);
double vp_mcu_voltage(const vp_mcu *m); /* 0 once power is lost */

/* Core registers for the ST-Link's READREG/WRITEREG/READALLREGS: index as in
 * DCRSR.REGSEL (0..15 r0-pc, 16 xPSR, 17 MSP, 18 PSP, 20 CONTROL/PRIMASK...).
 * Only valid while halted; returns false otherwise. */
bool vp_mcu_core_reg(vp_mcu *m, unsigned regsel, uint32_t *value);
bool vp_mcu_set_core_reg(vp_mcu *m, unsigned regsel, uint32_t value);
bool vp_mcu_halted(const vp_mcu *m);

/* --- Added by the target side --- */

/* What a flash/OTP program write does when it arrives while BSY (RM0090 §3.5.4;
 * OOCD and STL poll BSY per unit, UNCONFIRMED; VPROBE_QUIRKS busy_write,
 * quirks.h). */
enum vp_busy_write {
	VP_BUSY_STALL,  /* the AHB access waits until BSY clears (default) */
	VP_BUSY_DROP,   /* the write is lost, no flag */
	VP_BUSY_PGSERR, /* not performed, SR bit 7 (PGSERR; ERSERR on F7) set */
};

/* Model switches for behaviour the sources leave UNCONFIRMED (CMSIS, RM0090
 * §3.5.4, PM0059 §2.6, RM0090 §3.8, OOCD stm32x_write), so a host can be tried
 * against either reading. Those a host could depend on are also VPROBE_QUIRKS
 * (quirks.h). */
typedef struct vp_mcu_params {
	uint32_t
		tprog_us; /* BSY time per program unit x8/x16/x32 (16 typ, UNCONFIRMED) */
	uint32_t terase_us; /* BSY time per sector erase (UNCONFIRMED) */
	uint32_t topt_us;   /* BSY time of an option-byte write (UNCONFIRMED) */
	bool wrong_key_bus_error; /* bad KEYR/OPTKEYR write answers a bus error (RM0444 rule) */
	bool eop_needs_eopie;   /* EOP set only when CR.EOPIE = 1 */
	bool operr_needs_errie; /* OPERR set only when CR.ERRIE = 1 */
	bool stale_errors_block; /* PGSERR/PGPERR/PGAERR left set refuse the next program */
	enum vp_busy_write busy_write; /* quirk busy_write */
	bool rdp1_otp_fault; /* OTP data/lock reads and writes fault at RDP 1 (quirk rdp1_otp) */
	bool dcache_coherent; /* debug reads bypass the F2/F4 data cache (quirk dcache, dcache.h) */
	bool sticky_cleared; /* quirk sticky: read by the probe (stlink_fw.h), not the mcu */
} vp_mcu_params;

/* The defaults, each explained in flashctl.c. */
void vp_mcu_params_default(vp_mcu_params *p);

/* Change the switches of a live mcu (takes effect at the next access). */
void vp_mcu_set_params(vp_mcu *m, const vp_mcu_params *p);

/* Model fault (VPROBE_FAULT stuck@, faults.h): bits `mask` of OTP data
 * byte `otp_offset` (below 16 x block size) no longer program; a program
 * write leaves them as they were and still reports success. Masks of
 * several calls add up. */
void vp_mcu_set_stuck(vp_mcu *m, uint32_t otp_offset, uint8_t mask);

/* Resets by a watchdog that ran out, since creation (VPROBE_STATS). */
unsigned vp_mcu_watchdog_resets(const vp_mcu *m);

/* Number of flash program units started since creation (what
 * vp_mcu_arm_powerloss counts). */
unsigned vp_mcu_program_count(const vp_mcu *m);

#endif
