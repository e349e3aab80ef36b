/*
 * vprobe: the virtual probe, i.e. what sits on the far side of the USB cable:
 * an ST-Link (V2, V2-1 or V3 firmware) wired over SWD to an STM32F2/F4/F7.
 *
 * This header is the whole public face of the model. Two clients use it:
 *   - src/vprobe/shim/, the drop-in libusb-1.0.so.0 that OpenOCD, st-info and
 *     stotp load through LD_LIBRARY_PATH=build/vprobe;
 *   - stotp's in-process link (src/link_sim.c), for `stotp.open{sim=...}`.
 * Both speak to a board only in USB terms (bulk OUT / bulk IN on endpoints),
 * so the model cannot agree with a host by sharing code with it.
 *
 * No global state: every board is an object; several may exist at once.
 */
#ifndef STOTP_VPROBE_H
#define STOTP_VPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Transfer outcomes, numerically equal to libusb's LIBUSB_ERROR_* so the shim
 * can pass them straight through. */
enum vp_usb_status {
	VP_USB_OK = 0,
	VP_USB_IO = -1,
	VP_USB_ACCESS = -3,    /* open refused: the "access" fault (faults.h) */
	VP_USB_NO_DEVICE = -4, /* unplugged: every later transfer fails so */
	VP_USB_BUSY = -6,      /* interface 0 claimed by another holder */
	VP_USB_TIMEOUT = -7,   /* IN with no reply pending */
	VP_USB_OVERFLOW = -8,  /* reply longer than the host's buffer */
	VP_USB_PIPE = -9,      /* endpoint stalled / not present */
};

typedef struct vp_board vp_board;

/* What a USB host sees in the descriptors of one probe. */
typedef struct vp_usb_identity {
	uint16_t vid, pid;
	uint16_t bcd_usb; /* 0x0200 */
	uint16_t bcd_device;
	uint8_t ep_out;      /* command + write data */
	uint8_t ep_in;       /* replies + read data */
	uint8_t ep_trace;    /* SWO trace IN endpoint, 0 if none */
	uint16_t max_packet; /* 64 (full speed) or 512 (high speed) */
	uint8_t num_interfaces;
	uint8_t bus, address, port;
	const char *manufacturer; /* "STMicroelectronics" */
	const char *product;      /* e.g. "STM32 STLink" */
	/* The raw iSerial string descriptor, bLength and bDescriptorType
	 * included. Old V2 firmware gives 12 raw bytes (bLength 26), others 24
	 * hex characters in UTF-16 (bLength 50): OOCD stlink_usb.c, PYO
	 * usb.py. */
	uint8_t serial_desc[64];
	size_t serial_desc_len;
	char serial[25]; /* the 24-hex-digit serial people see */
} vp_usb_identity;

typedef struct vp_stats {
	uint64_t transactions; /* USB round trips: command packets received */
	uint64_t bytes_out, bytes_in;
	uint64_t sim_us; /* simulated clock */
	uint64_t
		watchdog_resets; /* resets by a watchdog that ran out (wdg.h) */
} vp_stats;

/* One board's settings. Strings are borrowed for the duration of
 * vp_board_open only. NULL / negative fields mean "default". */
typedef struct vp_options {
	const char
		*state_path; /* board image; created on first use (required) */
	const char *target;  /* part for a new image, default "stm32f429zi" */
	const char *probe; /* "v2", "v2-1:J40M27", "v3:J7M3"; default "v2-1" */
	double voltage;    /* target supply in volts; <= 0: 3.3 */
	long latency_us;   /* cost of one USB round trip; < 0: by probe kind */
	const char *fault; /* VPROBE_FAULT syntax, or NULL */
	const char *
		stats_path; /* where vp_board_close writes JSON stats, or NULL */
	const char *quirks;  /* VPROBE_QUIRKS syntax: comma-separated
	                             name=value choosing the model's reading of
	                             an UNCONFIRMED behaviour (src/vprobe/quirks.h
	                             lists them); NULL or "": every default.
	                             A bad name or value fails vp_board_open
	                             with a message listing the valid ones. */
	double wallclock;    /* VPROBE_WALLCLOCK: > 0 adds the host's wall
	                             time between command packets, times this
	                             factor, to the simulated clock (a host
	                             waiting at a prompt lets the target's
	                             watchdogs run); 0: the clock advances by
	                             modelled costs only (the default) */
	bool realtime;       /* VPROBE_REALTIME=1: each transfer takes its
	                             simulated time in wall time (realtime.h) */
	const char *hostile; /* VPROBE_HOSTILE syntax (src/vprobe/hostile.h):
	                             a broken probe, or NULL/"" */
	unsigned index;      /* position among the boards of one process:
	                             gives each a distinct bus address */
} vp_options;

/* Fill `opt` for board number `index` from the VPROBE_* environment.
 * `path` is that board's entry of VPROBE_STATE (the caller splits on ':'). */
void vp_options_from_env(vp_options *opt, const char *path, unsigned index);

/* Open (or create) the board. Returns 0, or -1 with a message in err. */
int vp_board_open(vp_board **out, const vp_options *opt, char *err,
		  size_t errlen);

/* Save the image (atomically), write stats if asked, free. NULL is fine. */
void vp_board_close(vp_board *b);

const vp_usb_identity *vp_board_usb(const vp_board *b);

/* libusb_open of the probe. VP_USB_OK, VP_USB_ACCESS under the "access"
 * fault (what a Linux user without the udev rule gets: libusb_open "returns
 * LIBUSB_ERROR_ACCESS if the user has insufficient permissions", libusb API
 * docs), VP_USB_NO_DEVICE once unplugged. Holds nothing. */
int vp_board_usb_open(const vp_board *b);

/* Claim the probe's debug interface (libusb_claim_interface(h, 0)): an
 * exclusive, non-blocking hold on the board image, shared by every client
 * of the model: the drop-in libusb in any process and the in-process link.
 * Real libusb_claim_interface returns LIBUSB_ERROR_BUSY "if another program
 * or driver has claimed the interface" (libusb API docs); so does this,
 * whether the holder is another process, another libusb context, another
 * handle, or another vp_board on the same image. Mechanism: claim_lock.h.
 * On success the board first re-reads its image (unless it has unsaved
 * changes), since another holder may have burned bits since it was opened.
 * Returns VP_USB_OK, VP_USB_BUSY (also when this board already holds the
 * claim: the second of two libusb handles on one device), VP_USB_NO_DEVICE once unplugged, or VP_USB_IO when the lock
 * file cannot be made (the message in err). Transfers do not require the
 * claim; hosts that skip it are not kept apart. */
int vp_board_claim(vp_board *b, char *err, size_t errlen);

/* Give the claim up (libusb_release_interface, libusb_close). Nothing if
 * not claimed. vp_board_close releases it too, after the final save. */
void vp_board_release(vp_board *b);

/* A bulk OUT transfer of `len` bytes to endpoint `ep`. Returns the number of
 * bytes accepted (>= 0) or a vp_usb_status. VP_USB_IO when the image could
 * not be saved after the transfer changed it: the board is dead from then
 * on (every transfer fails so), as a real board never forgets a program
 * operation. vp_board_open refuses an image that cannot be saved, and
 * follows a symlinked image to its file (saves and the claim lock are the
 * real file's). */
int vp_board_bulk_out(vp_board *b, uint8_t ep, const uint8_t *data, size_t len);

/* A bulk IN transfer from endpoint `ep` into a buffer of `cap` bytes. Returns
 * the reply length (>= 0) or a vp_usb_status. */
int vp_board_bulk_in(vp_board *b, uint8_t ep, uint8_t *data, size_t cap);

/* How many bytes the last failed bulk transfer moved before it failed
 * (libusb's `transferred` on error): M for short@N:M (faults.h), else 0. */
size_t vp_board_partial(const vp_board *b);

/* libusb_reset_device: the probe firmware restarts (mode back to its power-on
 * mode, pending replies dropped); the target is not reset. */
int vp_board_usb_reset(vp_board *b);

vp_stats vp_board_stats(const vp_board *b);

/* Write stats as the VPROBE_STATS JSON object ({"transactions": N,
 * "bytes_out": N, "bytes_in": N, "sim_us": N}, plus "watchdog_resets": N
 * when a watchdog reset the target); on failure say so on stderr. */
void vp_stats_write(const vp_stats *s, const char *path);

#endif
