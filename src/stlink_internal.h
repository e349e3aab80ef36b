/*
 * The inside of an ST-Link handle (stlink.h). Only the C core includes this
 * header; the Lua binding sees stlink as an incomplete type and reads what
 * it may through probe.h's accessors.
 */
#ifndef STOTP_STLINK_INTERNAL_H
#define STOTP_STLINK_INTERNAL_H

#include "link_internal.h"
#include "stlink.h"

/* The longest data phase the trace keeps with its command: an RW_MISC_OUT
 * of a full batch, APNUM then ADDRESS+WRITE per item and a padding APNUM
 * (stlink_mem.c misc_once), as ALIGN4(items) op
 * bytes then a u32 per item (OpenOCD 0.12.0 src/jtag/drivers/stlink_usb.c
 * stlink_usb_misc_rw_segment). */
#define STLINK_MISC_ITEMS (2 + 2 * STLINK_BATCH_MAX)
#define STLINK_MISC_OUT_MAX                                                    \
	((STLINK_MISC_ITEMS + 3) / 4 * 4 + 4 * STLINK_MISC_ITEMS)

/* One command of the trace: its 16-byte packet and, for RW_MISC_OUT, the
 * data phase after it (the register accesses the packet only counts). */
typedef struct stlink_trace_entry {
	uint16_t len; /* bytes used */
	uint8_t bytes[16 + STLINK_MISC_OUT_MAX];
} stlink_trace_entry;

struct stlink {
	st_link *link; /* owned */
	st_error err;  /* last error of this handle */
	stlink_version ver;
	unsigned features;
	size_t max_read8, max_write8;
	int in_debug;          /* SWD debug mode entered */
	unsigned khz;          /* SWD clock in effect, 0 if unknown */
	uint64_t commands;     /* command packets sent: USB round trips */
	uint64_t writes;       /* of them, those that may change the target */
	uint64_t wait_retries; /* commands re-issued after a WAIT */
	int last_status;       /* status byte of the last memory command */
	int wait_seen;         /* the last status the probe gave was a WAIT */
	uint32_t fault_addr;   /* from GETLASTRWSTATUS2 on a fault */
	stlink_trace_entry *trace; /* one per command sent; NULL: off */
	size_t trace_n, trace_cap;
	uint64_t trace_dropped; /* commands past trace_cap */
	/* After a failed transfer the probe may still wait for the rest of a
	 * data phase (the next command packets would be written to the
	 * target as data) or hold a late reply (every later reply shifted):
	 * OOCD stlink_usb_usb_open. Nothing is sent until stlink_resync brings
	 * it back in step; if that fails the handle is dead for good. */
	int out_of_step;
	int dead;
	int resyncing;
	uint64_t resyncs; /* successful re-synchronisations */
	char dead_why[160];
};

#endif
