/*
 * A link: the USB cable between stotp and one ST-Link, reduced to what the
 * ST-Link protocol needs (OOCD stlink_usb.c, PYO usb.py): bulk OUT of a command
 * or its data, bulk IN of a reply, and the identity read from the descriptors.
 *
 * Two implementations:
 *   link_usb.c  libusb-1.0 (a real probe, or build/vprobe's drop-in libusb);
 *   link_sim.c  the virtual probe in process, through src/vprobe/vprobe.h.
 * Above this header nothing knows which one it talks to.
 */
#ifndef STOTP_LINK_H
#define STOTP_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

/* Opaque above the C core: its ops and fields are in link_internal.h. */
typedef struct st_link st_link;

typedef struct st_link_identity {
	uint16_t vid, pid;
	uint8_t ep_out,
		ep_in;       /* OOCD, pyOCD: 0x02/0x81 on V2, 0x01/0x81 after */
	uint16_t max_packet; /* 64 full speed, 512 high speed (V3) */
	uint8_t bus, address;
	char serial[25]; /* 24 hex digits, normalised (OOCD stlink_usb.c) */
	int sim;         /* 1 for the in-process virtual probe */
} st_link_identity;

/* The model's own counters, when the link can see them (sim only). */
typedef struct st_link_stats {
	uint64_t transactions, bytes_out, bytes_in, sim_us;
} st_link_stats;

/* ---- libusb (link_usb.c) ---- */

/* One attached ST-Link as the descriptors show it, before any command. */
typedef struct st_usb_info {
	uint16_t vid, pid;
	uint8_t bus, address;
	char serial[25]; /* "" when the device could not be opened */
	int open_code;   /* ST_OK, or why opening it failed */
	char open_error[ST_MSG_MAX];
} st_usb_info;

/* Lists ST-Link debug probes (every PID of OOCD stlink_usb.c, PYO usb.py).
 * Fills at most cap entries; *n is how many were found. */
int link_usb_list(st_usb_info *out, size_t cap, size_t *n, st_error *e);

/* Opens one probe: by serial (case-insensitive), or by bus/address when
 * bus > 0, or the only one attached. Several and none named: ambiguous. */
int link_usb_open(st_link **out, const char *serial, int bus, int address,
		  st_error *e);

/* The 24-hex-digit serial from a raw iSerial string descriptor (bLength
 * included): 24 UTF-16 hex characters, or the old V2's 12 raw bytes
 * (bLength 26) turned into hex (OOCD stlink_usb.c, PYO usb.py, OOCD
 * stlink_usb_get_alternate_serial). Returns 0 or -1. */
int link_serial_from_desc(const uint8_t *desc, size_t len, char out[25]);

/* Where the udev rule ships; named in the permission-denied message and
 * stotp.udev_rule. The in-tree build names the source tree's copy; `make
 * install` (and the rockspec, through it) defines the installed path,
 * PREFIX/share/stotp/49-stotp-stlink.rules. */
#ifndef STOTP_UDEV_RULE
#define STOTP_UDEV_RULE "examples/udev/49-stotp-stlink.rules"
#endif

/* ---- in-process virtual probe (link_sim.c) ---- */

typedef struct st_sim_options {
	const char *path;   /* board image (required) */
	const char *part;   /* NULL: VPROBE_TARGET or the model's default */
	const char *probe;  /* NULL: VPROBE_PROBE or the model's default */
	const char *fault;  /* NULL: VPROBE_FAULT */
	const char *quirks; /* NULL: VPROBE_QUIRKS (the model's reading
	                            of UNCONFIRMED behaviour, vprobe.h) */
	double voltage;     /* <= 0: VPROBE_VOLTAGE or 3.3 */
} st_sim_options;

int link_sim_open(st_link **out, const st_sim_options *o, st_error *e);

#endif
