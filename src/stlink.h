/*
 * ST-Link protocol over a link (OOCD stlink_usb.c, PYO usb.py): versions and
 * the features each firmware has, modes, SWD entry and clock, target voltage,
 * memory reads and writes in 8/16/32-bit accesses, status checks, WAIT retries,
 * core halt/reset and debug registers. Knows nothing of flash or OTP.
 */
#ifndef STOTP_STLINK_H
#define STOTP_STLINK_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "link.h"

typedef struct stlink_version {
	int hw;                             /* 2 V2/V2-1, 3 V3, 4 V3PWR */
	int jtag, swim, msd, bridge, power; /* -1 when the firmware has none */
	uint16_t vid, pid;                  /* as the probe reports them */
	char str[32];     /* "V2J37S7", "V2J40M27", "V3J7M3" */
	const char *kind; /* "V2", "V2-1", "V3", "V3PWR" */
} stlink_version;

/* Feature gates per firmware (OOCD STLINK_F_* flags). */
enum stlink_feature {
	STF_VOLTAGE = 1u << 0,   /* GET_TARGET_VOLTAGE: V2 >= J13, V3 */
	STF_RWSTATUS2 = 1u << 1, /* GETLASTRWSTATUS2: V2 >= J15, V3 */
	STF_SWD_FREQ = 1u << 2,  /* SWD_SET_FREQ: V2 >= J22 (OOCD) */
	STF_MEM16 = 1u << 3,     /* READ/WRITEMEM_16BIT: V2 >= J26, V3 */
	STF_AP_INIT = 1u << 4,   /* INIT_AP needed: V2 >= J28, V3 */
	STF_V3_FREQ = 1u << 5,   /* APIV3_SET/GET_COM_FREQ: V3 only */
	STF_SWD = 1u << 6,       /* a JTAG/SWD firmware (not STM8-only) */
	STF_DAP_REG = 1u << 7,   /* READ/WRITE_DAP_REG: V2 >= J24, V3 */
	STF_RW_MISC = 1u << 8,   /* RW_MISC_OUT/IN: V2 >= J32, V3 >= J2 */
};

/* stlink_write_mem flags */
#define STW_NO_RETRY 1u /* report WAIT at once: the caller falls back */

/* Opaque above the C core: the fields are in stlink_internal.h. */
typedef struct stlink stlink;

/* Takes ownership of link (closed on failure too). Reads the version and
 * leaves DFU/SWIM/debug mode so SWD can be entered. */
int stlink_open(stlink **out, st_link *link, st_error *e);
/* Leaves debug mode (core stays halted), closes the link, frees. */
void stlink_close(stlink *s);

/* "ST-Link/V2-1 V2J40M27 066DFF..." for messages and __tostring. */
void stlink_describe(const stlink *s, char *buf, size_t len);

/* Record every command packet sent from now on (at most cap); stop frees
 * the record. The record is what went to the probe, byte for byte. */
int stlink_trace_start(stlink *s, size_t cap);
void stlink_trace_stop(stlink *s);

/* Clears the DP sticky error flags (WRITE_DAP_REG DP ABORT) after a FAULT,
 * where the firmware has the command (PYO stlink.py, BMP stlinkv2.c); nothing
 * otherwise. */
int stlink_clear_sticky(stlink *s);

/* USB reset, GET_VERSION (the same firmware must answer), a mode check,
 * and SWD re-entered if it was: the target is not touched. Done by
 * itself before the first command after a transfer error. */
int stlink_resync(stlink *s);

int stlink_voltage(stlink *s, double *volts);
int stlink_enter_swd(stlink *s, unsigned khz);
int stlink_read_dbg(stlink *s, uint32_t addr, uint32_t *value);
int stlink_write_dbg(stlink *s, uint32_t addr, uint32_t value);
int stlink_halt(stlink *s);
int stlink_reset(stlink *s);
/* DRIVE_NRST: hold the target's NRST low (high = 0) or release it. */
int stlink_drive_nrst(stlink *s, int high);

/* Exactly `width`-byte bus accesses (1, 2 or 4); addr and n must be
 * multiples of width. Split into commands per the firmware's limits. */
int stlink_read_mem(stlink *s, uint32_t addr, uint8_t *buf, size_t n,
		    unsigned width);
int stlink_write_mem(stlink *s, uint32_t addr, const uint8_t *buf, size_t n,
		     unsigned width, unsigned flags);
/* Any address and length: 8-bit head and tail, 32-bit middle (PYO). */
int stlink_read(stlink *s, uint32_t addr, uint8_t *buf, size_t n);
/* One aligned 32-bit access; the value in host order. */
int stlink_read32(stlink *s, uint32_t addr, uint32_t *value);
int stlink_write32(stlink *s, uint32_t addr, uint32_t value);

/* Word reads and writes of target registers run in order as one batch:
 * RW_MISC_OUT/IN, two round trips, where the firmware has them (V2 J32+,
 * V3 J2+: OOCD stlink_usb.c stlink_usb_misc_rw_segment), else one READDEBUGREG/WRITEDEBUGREG each. */
#define STLINK_BATCH_MAX 12
typedef struct stlink_batch {
	unsigned n;
	struct {
		uint32_t addr, value; /* value: written, or read back */
		int write;
	} item[STLINK_BATCH_MAX];
} stlink_batch;

/* Appends an item (a batch holds at most STLINK_BATCH_MAX). */
void stlink_batch_read(stlink_batch *b, uint32_t addr);
void stlink_batch_write(stlink_batch *b, uint32_t addr, uint32_t value);
/* Runs every item in order: 0, or -1 with s->err. A WAIT goes on from
 * the item that waited (OOCD stlink_usb.c re-issues on ERROR_WAIT; no
 * item runs twice, so a batch may carry the key sequence); a fault stops
 * it with ST_ETARGET, and which items ran is then not known. */
int stlink_batch_run(stlink *s, stlink_batch *b);

/* Longest read stotp does in one call (a REPL typo must not allocate GiB). */
#define STLINK_READ_MAX (1u << 20)

/* The probe and the Cortex-M bus are little-endian (OOCD stlink_usb.c, PYO
 * usb.py). */
static inline uint32_t st_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
	       | (uint32_t)p[3] << 24;
}

static inline void st_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* WAIT status bytes (PYO constants.py): SWD_AP_WAIT, SWD_DP_WAIT. */
static inline int stlink_is_wait(int status)
{
	return status == 0x10 || status == 0x14;
}

#endif
