/*
 * Internal header of the drop-in libusb-1.0 (build/vprobe/libusb-1.0.so.0):
 * the objects behind libusb's opaque handles and the helpers the shim's
 * files share. Only libusb_* entry points are exported (API); everything
 * declared here stays hidden (-fvisibility=hidden).
 *
 * The real <libusb.h> is included so every struct and signature is
 * ABI-identical. All 90 symbols of libusb 1.0.26 are defined; the ones a
 * virtual bus cannot do report LIBUSB_ERROR_NOT_SUPPORTED.
 */
#ifndef STOTP_VPROBE_SHIM_H
#define STOTP_VPROBE_SHIM_H

#include <libusb.h>

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "vprobe.h"

#define API        __attribute__((visibility("default")))
#define MAX_IFACES 8

struct xfer { /* private head of every libusb_transfer we allocate */
	struct xfer *next;
	libusb_context *ctx;
	int queued, cancelled;
};
#define XFER_HDR                                                               \
	((sizeof(struct xfer) + alignof(max_align_t) - 1)                      \
	 / alignof(max_align_t) * alignof(max_align_t))
#define XFER_OF(t) ((struct xfer *)((char *)(t)-XFER_HDR))

struct libusb_device {
	libusb_context *ctx;
	vp_board *board;
	int refs, gone;
};

struct libusb_device_handle {
	libusb_device *dev;
	unsigned claimed;
};

struct libusb_context {
	libusb_device *devs;
	size_t ndev;
	struct xfer *head, *tail; /* submitted, not yet run */
	int refs; /* libusb_init(NULL) calls on the default one */
	char *stats_path;
};

/* context.c: `ctx`, or the default context when NULL (may be NULL). */
libusb_context *shim_ctx_of(libusb_context *ctx);

/* context.c: passes a vp_usb_status / libusb error through, marking the
 * device gone on LIBUSB_ERROR_NO_DEVICE. */
int shim_usb_err(libusb_device *dev, int rc);

/* devices.c: the probe's endpoint addresses (IN, OUT, trace); returns how many. */
unsigned shim_endpoints(const vp_usb_identity *id, uint8_t eps[3]);

/* control.c: one standard control request; the data length or an error. */
int shim_control(libusb_device *dev, uint8_t type, uint8_t req, uint16_t value,
		 uint16_t index, uint8_t *data, uint16_t len);

/* transfers.c: one bulk transfer on the board; the length or an error. */
int shim_bulk(libusb_device *dev, unsigned char ep, unsigned char *data,
	      int len);

/* transfers.c: runs the async transfers submitted so far, in order. */
void shim_run_pending(libusb_context *c);

#endif
