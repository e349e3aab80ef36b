/*
 * Device handles of the drop-in libusb: open/close, interfaces,
 * configuration, kernel drivers (never bound to a virtual probe) and
 * libusb_reset_device. Sources: libusb 1.0.26 API (libusb.h).
 */
#include "shim.h"

#include <stdio.h>
#include <stdlib.h>

/* The debug interface whose claim is exclusive across programs
 * (vp_board_claim); the others only exist in the descriptors. */
#define DEBUG_IFACE 0

API int libusb_open(libusb_device *dev, libusb_device_handle **out)
{
	if (dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	int rc = vp_board_usb_open(dev->board); /* the "access" fault */
	if (rc != VP_USB_OK)
		return shim_usb_err(dev, rc);
	libusb_device_handle *h = calloc(1, sizeof *h);
	if (!h)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	*out = h;
	return 0;
}

/* Closing the usbfs file releases the interfaces it claimed (Linux
 * drivers/usb/core/devio.c, usbdev_release), so the probe is free again. */
API void libusb_close(libusb_device_handle *h)
{
	if (!h)
		return;
	if (h->claimed & 1u << DEBUG_IFACE)
		vp_board_release(h->dev->board);
	libusb_unref_device(h->dev);
	free(h);
}

API libusb_device *libusb_get_device(libusb_device_handle *h)
{
	return h->dev;
}

API libusb_device_handle *
libusb_open_device_with_vid_pid(libusb_context *ctx, uint16_t vid, uint16_t pid)
{
	libusb_context *c = shim_ctx_of(ctx);
	libusb_device_handle *h = NULL;
	for (size_t i = 0; c && i < c->ndev && !h; i++) {
		const vp_usb_identity *id = vp_board_usb(c->devs[i].board);
		if (!c->devs[i].gone && id->vid == vid && id->pid == pid
		    && libusb_open(&c->devs[i], &h) != 0)
			h = NULL;
	}
	return h;
}

static int iface_ok(libusb_device_handle *h, int iface)
{
	if (h->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	return iface >= 0 && iface < vp_board_usb(h->dev->board)->num_interfaces
		       ? 0
		       : LIBUSB_ERROR_NOT_FOUND;
}

/* "It is legal to attempt to claim an already-claimed interface, in which
 * case libusb just returns 0 without doing anything" (libusb API docs).
 * Interface 0 is held exclusively: LIBUSB_ERROR_BUSY "if another program or
 * driver has claimed the interface" (libusb API docs; vp_board_claim). */
API int libusb_claim_interface(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	if (rc != 0 || h->claimed & 1u << iface)
		return rc;
	if (iface == DEBUG_IFACE) {
		char err[512];
		rc = vp_board_claim(h->dev->board, err, sizeof err);
		if (rc == VP_USB_IO)
			fprintf(stderr, "%s\n", err);
		if (rc != VP_USB_OK)
			return shim_usb_err(h->dev, rc);
	}
	h->claimed |= 1u << iface;
	return 0;
}

API int libusb_release_interface(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	if (rc == 0 && !(h->claimed & 1u << iface))
		rc = LIBUSB_ERROR_NOT_FOUND;
	if (rc == 0) {
		h->claimed &= ~(1u << iface);
		if (iface == DEBUG_IFACE)
			vp_board_release(h->dev->board);
	}
	return rc;
}

API int libusb_set_interface_alt_setting(libusb_device_handle *h, int iface,
					 int alt)
{
	int rc = iface_ok(h, iface);
	return rc ? rc : alt == 0 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

API int libusb_get_configuration(libusb_device_handle *h, int *config)
{
	if (h->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	*config = 1;
	return 0;
}

API int libusb_set_configuration(libusb_device_handle *h, int config)
{
	if (h->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	return config == 1 || config == -1 || config == 0
		       ? 0
		       : LIBUSB_ERROR_NOT_FOUND;
}

/* No kernel driver is ever bound to a virtual probe. */
API int libusb_kernel_driver_active(libusb_device_handle *h, int iface)
{
	return iface_ok(h, iface);
}
API int libusb_detach_kernel_driver(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	return rc ? rc : LIBUSB_ERROR_NOT_FOUND;
}
API int libusb_attach_kernel_driver(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	return rc ? rc : LIBUSB_ERROR_NOT_FOUND;
}
API int libusb_set_auto_detach_kernel_driver(libusb_device_handle *h,
					     int enable)
{
	(void)h;
	(void)enable;
	return 0;
}

API int libusb_clear_halt(libusb_device_handle *h, unsigned char endpoint)
{
	(void)endpoint;
	return h->dev->gone ? LIBUSB_ERROR_NO_DEVICE : 0;
}

API int libusb_reset_device(libusb_device_handle *h)
{
	if (h->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	return shim_usb_err(h->dev, vp_board_usb_reset(h->dev->board));
}
