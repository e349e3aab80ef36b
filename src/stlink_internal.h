/*
 * The inside of an ST-Link handle (stlink.h). Only the C core includes this
 * header; the Lua binding sees stlink as an incomplete type and reads what
 * it may through probe.h's accessors.
 */
#ifndef STOTP_STLINK_INTERNAL_H
#define STOTP_STLINK_INTERNAL_H

#include "link_internal.h"
#include "stlink.h"

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
	uint8_t *trace;        /* command packets, 16 bytes each; NULL: off */
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
