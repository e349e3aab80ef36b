/*
 * Devices of the drop-in libusb: the device list (one device per board of
 * the context), bus topology, and the device and configuration descriptors
 * built from the board's USB identity (vprobe.h, OOCD stlink_usb.c, PYO
 * usb.py).
 */
#include "shim.h"

#include <stdlib.h>
#include <string.h>

API ssize_t libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	libusb_context *c = shim_ctx_of(ctx);
	size_t n = 0;
	*list = calloc((c ? c->ndev : 0) + 1, sizeof **list);
	if (!*list)
		return LIBUSB_ERROR_NO_MEM;
	for (size_t i = 0; c && i < c->ndev; i++)
		if (!c->devs[i].gone) { /* an unplugged probe leaves the bus */
			c->devs[i].refs++;
			(*list)[n++] = &c->devs[i];
		}
	return (ssize_t)n;
}

API void libusb_free_device_list(libusb_device **list, int unref)
{
	for (size_t i = 0; list && unref && list[i]; i++)
		list[i]->refs--;
	free(list);
}

/* Devices live as long as their context; counting keeps the API honest. */
API libusb_device *libusb_ref_device(libusb_device *dev)
{
	dev->refs++;
	return dev;
}
API void libusb_unref_device(libusb_device *dev)
{
	if (dev)
		dev->refs--;
}
API libusb_device *libusb_get_parent(libusb_device *dev)
{
	(void)dev;
	return NULL;
}
API uint8_t libusb_get_bus_number(libusb_device *dev)
{
	return vp_board_usb(dev->board)->bus;
}
API uint8_t libusb_get_device_address(libusb_device *dev)
{
	return vp_board_usb(dev->board)->address;
}
API uint8_t libusb_get_port_number(libusb_device *dev)
{
	return vp_board_usb(dev->board)->port;
}
API int libusb_get_port_numbers(libusb_device *dev, uint8_t *ports, int len)
{
	if (len < 1)
		return LIBUSB_ERROR_OVERFLOW;
	ports[0] = vp_board_usb(dev->board)->port;
	return 1;
}
API int libusb_get_port_path(libusb_context *ctx, libusb_device *dev,
			     uint8_t *path, uint8_t len)
{
	(void)ctx;
	return libusb_get_port_numbers(dev, path, len);
}
API int libusb_get_device_speed(libusb_device *dev)
{
	return vp_board_usb(dev->board)->max_packet == 512 ? LIBUSB_SPEED_HIGH
							   : LIBUSB_SPEED_FULL;
}

API int libusb_get_device_descriptor(libusb_device *dev,
				     struct libusb_device_descriptor *d)
{
	const vp_usb_identity *id = vp_board_usb(dev->board);
	memset(d, 0, sizeof *d);
	d->bLength = LIBUSB_DT_DEVICE_SIZE;
	d->bDescriptorType = LIBUSB_DT_DEVICE;
	d->bcdUSB = id->bcd_usb;
	/* composite probes (V2-1, V3; OOCD doc/usb_adapters dumps) use the
	 * IAD class triple EF/02/01 of the USB Interface Association ECN;
	 * what the real ones report is UNCONFIRMED (no source says) */
	if (id->num_interfaces > 1) {
		d->bDeviceClass = 0xEF;
		d->bDeviceSubClass = 0x02;
		d->bDeviceProtocol = 0x01;
	}
	d->bMaxPacketSize0 =
		64; /* the only EP0 size USB 2.0 §5.5.3 allows at high speed */
	d->idVendor = id->vid;
	d->idProduct = id->pid;
	d->bcdDevice = id->bcd_device;
	d->iManufacturer = 1;
	d->iProduct = 2;
	d->iSerialNumber = 3;
	d->bNumConfigurations = 1;
	return 0;
}

/* Interface i of the probe: 0 is the vendor-class debug interface with
 * its endpoints (OOCD stlink_usb.c, PYO usb.py); the others (MSC, CDC, bridge)
 * are described by class only, no host here uses them. */
static void iface_class(unsigned i, uint8_t cls[3])
{
	static const uint8_t classes[][3] = {
		{ 0xFF, 0xFF, 0xFF }, { 0x08, 0x06, 0x50 },
		{ 0x02, 0x02, 0x01 }, { 0x0A, 0x00, 0x00 },
		{ 0xFF, 0x00, 0x00 }, { 0x02, 0x02, 0x01 },
		{ 0x0A, 0x00, 0x00 }, { 0xFF, 0x00, 0x00 },
	};
	memcpy(cls, classes[i % MAX_IFACES], 3);
}

unsigned shim_endpoints(const vp_usb_identity *id, uint8_t eps[3])
{
	unsigned n = 0;
	eps[n++] = id->ep_in;
	eps[n++] = id->ep_out;
	if (id->ep_trace)
		eps[n++] = id->ep_trace;
	return n;
}

API int libusb_get_config_descriptor(libusb_device *dev, uint8_t index,
				     struct libusb_config_descriptor **out)
{
	const vp_usb_identity *id = vp_board_usb(dev->board);
	if (index != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	unsigned ni = id->num_interfaces > MAX_IFACES ? MAX_IFACES
						      : id->num_interfaces;
	uint8_t eps[3];
	unsigned ne = shim_endpoints(id, eps);
	struct block {
		struct libusb_config_descriptor c;
		struct libusb_interface i[MAX_IFACES];
		struct libusb_interface_descriptor a[MAX_IFACES];
		struct libusb_endpoint_descriptor e[3];
	} *b = calloc(1, sizeof *b);
	if (!b)
		return LIBUSB_ERROR_NO_MEM;
	b->c = (struct libusb_config_descriptor){
		.bLength = LIBUSB_DT_CONFIG_SIZE,
		.bDescriptorType = LIBUSB_DT_CONFIG,
		.wTotalLength = (uint16_t)(LIBUSB_DT_CONFIG_SIZE
					   + ni * LIBUSB_DT_INTERFACE_SIZE
					   + ne * LIBUSB_DT_ENDPOINT_SIZE),
		.bNumInterfaces = (uint8_t)ni,
		.bConfigurationValue = 1,
		.bmAttributes = 0x80,
		.MaxPower = 150,
		.interface = b->i
	}; /* bus powered, 300 mA: UNCONFIRMED */
	for (unsigned i = 0; i < ni; i++) {
		uint8_t cls[3];
		iface_class(i, cls);
		b->a[i] = (struct libusb_interface_descriptor){
			.bLength = LIBUSB_DT_INTERFACE_SIZE,
			.bDescriptorType = LIBUSB_DT_INTERFACE,
			.bInterfaceNumber = (uint8_t)i,
			.bInterfaceClass = cls[0],
			.bInterfaceSubClass = cls[1],
			.bInterfaceProtocol = cls[2]
		};
		b->i[i] = (struct libusb_interface){ .altsetting = &b->a[i],
						     .num_altsetting = 1 };
	}
	for (unsigned e = 0; e < ne; e++)
		b->e[e] = (struct libusb_endpoint_descriptor){
			.bLength = LIBUSB_DT_ENDPOINT_SIZE,
			.bDescriptorType = LIBUSB_DT_ENDPOINT,
			.bEndpointAddress = eps[e],
			.bmAttributes = LIBUSB_TRANSFER_TYPE_BULK,
			.wMaxPacketSize = id->max_packet
		};
	b->a[0].bNumEndpoints = (uint8_t)ne;
	b->a[0].endpoint = b->e;
	*out = &b->c; /* first member: libusb_free_config_descriptor frees the block */
	return 0;
}

API int
libusb_get_active_config_descriptor(libusb_device *dev,
				    struct libusb_config_descriptor **out)
{
	return libusb_get_config_descriptor(dev, 0, out);
}

API int
libusb_get_config_descriptor_by_value(libusb_device *dev, uint8_t value,
				      struct libusb_config_descriptor **out)
{
	return value == 1 ? libusb_get_config_descriptor(dev, 0, out)
			  : LIBUSB_ERROR_NOT_FOUND;
}

API void libusb_free_config_descriptor(struct libusb_config_descriptor *config)
{
	free(config);
}

API int libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint)
{
	uint8_t eps[3];
	unsigned n = shim_endpoints(vp_board_usb(dev->board), eps);
	for (unsigned i = 0; i < n; i++)
		if (eps[i] == endpoint)
			return vp_board_usb(dev->board)->max_packet;
	return LIBUSB_ERROR_NOT_FOUND;
}

API int libusb_get_max_iso_packet_size(libusb_device *dev,
				       unsigned char endpoint)
{
	return libusb_get_max_packet_size(dev, endpoint);
}
