/*
 * Control transfers of the drop-in libusb: the standard requests a host
 * sends (GET_DESCRIPTOR, GET/SET_CONFIGURATION, ...), answered from the
 * board's USB identity as the device would put them on the wire.
 * Sources: USB 2.0 §9.4, §9.6; OOCD doc/usb_adapters/stlink dumps.
 */
#include "shim.h"

#include <string.h>

static size_t put_utf16(uint8_t *out, const char *s)
{
	size_t n = strlen(s);
	out[0] = (uint8_t)(2 + 2 * n);
	out[1] = LIBUSB_DT_STRING;
	for (size_t i = 0; i < n; i++) {
		out[2 + 2 * i] = (uint8_t)s[i];
		out[3 + 2 * i] = 0;
	}
	return 2 + 2 * n;
}

static size_t raw_config(libusb_device *dev, uint8_t *out)
{
	struct libusb_config_descriptor *c;
	size_t n = 0;
	if (libusb_get_config_descriptor(dev, 0, &c) != 0)
		return 0;
	uint8_t hdr[9] = { 9,
			   LIBUSB_DT_CONFIG,
			   (uint8_t)c->wTotalLength,
			   (uint8_t)(c->wTotalLength >> 8),
			   c->bNumInterfaces,
			   1,
			   0,
			   c->bmAttributes,
			   c->MaxPower };
	memcpy(out, hdr, 9);
	n = 9;
	for (int i = 0; i < c->bNumInterfaces; i++) {
		const struct libusb_interface_descriptor *a =
			c->interface[i].altsetting;
		uint8_t d[9] = { 9,
				 LIBUSB_DT_INTERFACE,
				 a->bInterfaceNumber,
				 0,
				 a->bNumEndpoints,
				 a->bInterfaceClass,
				 a->bInterfaceSubClass,
				 a->bInterfaceProtocol,
				 0 };
		memcpy(out + n, d, 9);
		n += 9;
		for (int e = 0; e < a->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep =
				&a->endpoint[e];
			uint8_t x[7] = { 7,
					 LIBUSB_DT_ENDPOINT,
					 ep->bEndpointAddress,
					 ep->bmAttributes,
					 (uint8_t)ep->wMaxPacketSize,
					 (uint8_t)(ep->wMaxPacketSize >> 8),
					 0 };
			memcpy(out + n, x, 7);
			n += 7;
		}
	}
	libusb_free_config_descriptor(c);
	return n;
}

static int get_descriptor(libusb_device *dev, uint16_t value, uint8_t *out)
{
	const vp_usb_identity *id = vp_board_usb(dev->board);
	uint8_t idx = (uint8_t)value;
	switch (value >> 8) {
	case LIBUSB_DT_DEVICE: {
		struct libusb_device_descriptor d;
		libusb_get_device_descriptor(dev, &d);
		uint8_t r[18] = { 18,
				  1,
				  (uint8_t)d.bcdUSB,
				  (uint8_t)(d.bcdUSB >> 8),
				  d.bDeviceClass,
				  d.bDeviceSubClass,
				  d.bDeviceProtocol,
				  d.bMaxPacketSize0,
				  (uint8_t)d.idVendor,
				  (uint8_t)(d.idVendor >> 8),
				  (uint8_t)d.idProduct,
				  (uint8_t)(d.idProduct >> 8),
				  (uint8_t)d.bcdDevice,
				  (uint8_t)(d.bcdDevice >> 8),
				  1,
				  2,
				  3,
				  1 };
		memcpy(out, r, 18);
		return 18;
	}
	case LIBUSB_DT_CONFIG:
		return idx == 0 ? (int)raw_config(dev, out) : LIBUSB_ERROR_PIPE;
	case LIBUSB_DT_STRING:
		switch (idx) {
		case 0:
			memcpy(out, "\x04\x03\x09\x04", 4);
			return 4; /* LANGID en-US (USB 2.0 §9.6.7) */
		case 1:
			return (int)put_utf16(out, id->manufacturer);
		case 2:
			return (int)put_utf16(out, id->product);
		case 3:
			memcpy(out, id->serial_desc, id->serial_desc_len);
			return (int)id->serial_desc_len;
		default:
			return LIBUSB_ERROR_PIPE;
		}
	default:
		return LIBUSB_ERROR_PIPE; /* the device stalls what it lacks (USB 2.0 §9.2.7) */
	}
}

/* Runs one standard request (USB 2.0 §9.4): GET_DESCRIPTOR, GET_CONFIGURATION,
 * GET_STATUS; SET_* and *_FEATURE are accepted; the rest stall. Returns the
 * data length or an error. */
int shim_control(libusb_device *dev, uint8_t type, uint8_t req, uint16_t value,
		 uint16_t index, uint8_t *data, uint16_t len)
{
	uint8_t buf[256];
	int n;
	(void)index;
	if (dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	if (type == 0x80 && req == LIBUSB_REQUEST_GET_DESCRIPTOR)
		n = get_descriptor(dev, value, buf);
	else if (type == 0x80 && req == LIBUSB_REQUEST_GET_CONFIGURATION)
		n = (buf[0] = 1, 1);
	else if ((type & 0x9F) == 0x80 && req == LIBUSB_REQUEST_GET_STATUS)
		n = (buf[0] = buf[1] = 0, 2);
	else if ((type & 0x9F) <= 2
		 && (req == LIBUSB_REQUEST_SET_CONFIGURATION
		     || req == LIBUSB_REQUEST_SET_INTERFACE
		     || req == LIBUSB_REQUEST_CLEAR_FEATURE
		     || req == LIBUSB_REQUEST_SET_FEATURE))
		return 0;
	else
		return LIBUSB_ERROR_PIPE;
	if (n < 0)
		return n;
	n = n < len ? n : len;
	memcpy(data, buf, (size_t)n);
	return n;
}

/* libusb 1.0.26's conversion (descriptor.c): one byte per UTF-16 unit,
 * '?' for non-ASCII. Hosts match the V2's raw serial through it (OOCD
 * stlink_usb.c, PYO usb.py). */
API int libusb_get_string_descriptor_ascii(libusb_device_handle *h,
					   uint8_t index, unsigned char *data,
					   int length)
{
	uint8_t buf[256];
	if (index == 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	int n = shim_control(h->dev, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
			     (uint16_t)(LIBUSB_DT_STRING << 8 | index), 0x0409,
			     buf, sizeof buf);
	if (n < 0)
		return n;
	if (n < 2 || buf[1] != LIBUSB_DT_STRING || buf[0] > n)
		return LIBUSB_ERROR_IO;
	int di = 0;
	for (int si = 2; si + 1 < buf[0] && di < length - 1; si += 2)
		data[di++] = (buf[si] & 0x80 || buf[si + 1]) ? '?' : buf[si];
	if (length > 0)
		data[di] = 0;
	return di;
}

API int libusb_control_transfer(libusb_device_handle *h, uint8_t type,
				uint8_t req, uint16_t value, uint16_t index,
				unsigned char *data, uint16_t len,
				unsigned int timeout)
{
	(void)timeout;
	return shim_usb_err(h->dev, shim_control(h->dev, type, req, value,
						 index, data, len));
}
