/*
 * A drop-in libusb-1.0 whose only devices are virtual ST-Links (vprobe.h).
 * Built as build/vprobe/libusb-1.0.so.0: OpenOCD, st-info/st-flash and
 * stotp run unchanged on virtual boards with LD_LIBRARY_PATH=build/vprobe.
 *
 * The real <libusb.h> is included so every struct and signature is
 * ABI-identical. All 90 symbols of libusb 1.0.26 are defined; the ones a
 * virtual bus cannot do report LIBUSB_ERROR_NOT_SUPPORTED.
 *
 * libusb_init reads VPROBE_STATE (image paths separated by ':'; unset: the
 * file "vprobe-board.img" in the current directory, so burned bits persist
 * where the user ran the tool) and opens one board per image; libusb_exit
 * closes them and writes the summed stats to VPROBE_STATS.
 *
 * Async transfers run in submission order inside libusb_handle_events*,
 * which also delivers their callbacks, as libusb does. Nothing waits in
 * wall time: a transfer that cannot complete (an IN with no reply pending)
 * ends at once as LIBUSB_TRANSFER_TIMED_OUT.
 */
#include <libusb.h>

#include <pthread.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vprobe.h"

#define API __attribute__((visibility("default")))
#define DEFAULT_STATE "vprobe-board.img"
#define MAX_IFACES 8

struct xfer { /* private head of every libusb_transfer we allocate */
	struct xfer *next;
	libusb_context *ctx;
	int queued, cancelled;
};
#define XFER_HDR ((sizeof(struct xfer) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))
#define XFER_OF(t) ((struct xfer *)((char *)(t) - XFER_HDR))

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
	int refs;                 /* libusb_init(NULL) calls on the default one */
	char *stats_path;
};

/* libusb's API makes NULL mean "the default context", which therefore has
 * to live in a process-wide variable (as in libusb itself). It is the only
 * mutable static of the model, guarded by its mutex. */
static libusb_context *default_ctx;
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;

static libusb_context *ctx_of(libusb_context *ctx)
{
	if (ctx)
		return ctx;
	pthread_mutex_lock(&default_lock);
	ctx = default_ctx;
	pthread_mutex_unlock(&default_lock);
	return ctx;
}

/* vp_usb_status values are libusb's error codes (vprobe.h). */
static int usb_err(libusb_device *dev, int rc)
{
	if (rc == VP_USB_NO_DEVICE)
		dev->gone = 1;
	return rc;
}

/* ---- contexts ---- */

static void ctx_free(libusb_context *c)
{
	vp_stats sum = { 0, 0, 0, 0 };
	for (size_t i = 0; i < c->ndev; i++) {
		vp_stats s = vp_board_stats(c->devs[i].board);
		sum.transactions += s.transactions;
		sum.bytes_out += s.bytes_out;
		sum.bytes_in += s.bytes_in;
		sum.sim_us += s.sim_us;
		vp_board_close(c->devs[i].board);
	}
	FILE *f = c->stats_path ? fopen(c->stats_path, "w") : NULL;
	if (f) {
		fprintf(f, "{\"transactions\": %llu, \"bytes_out\": %llu, \"bytes_in\": %llu, \"sim_us\": %llu}\n",
		        (unsigned long long)sum.transactions, (unsigned long long)sum.bytes_out,
		        (unsigned long long)sum.bytes_in, (unsigned long long)sum.sim_us);
		fclose(f);
	} else if (c->stats_path) {
		fprintf(stderr, "vprobe: cannot write stats to %s\n", c->stats_path);
	}
	free(c->stats_path);
	free(c->devs);
	free(c);
}

static int ctx_open_boards(libusb_context *c)
{
	const char *env = getenv("VPROBE_STATE");
	char *paths = strdup(env && *env ? env : DEFAULT_STATE);
	size_t n = 1;
	if (!paths)
		return LIBUSB_ERROR_NO_MEM;
	for (const char *p = paths; *p; p++)
		n += *p == ':';
	c->devs = calloc(n, sizeof *c->devs);
	int rc = c->devs ? 0 : LIBUSB_ERROR_NO_MEM;
	char *save = NULL;
	for (char *path = strtok_r(paths, ":", &save); path && rc == 0; path = strtok_r(NULL, ":", &save)) {
		vp_options opt;
		char err[512];
		vp_options_from_env(&opt, path, (unsigned)c->ndev);
		opt.stats_path = NULL; /* summed over the boards at libusb_exit */
		if (vp_board_open(&c->devs[c->ndev].board, &opt, err, sizeof err) != 0) {
			fprintf(stderr, "vprobe: %s\n", err);
			rc = LIBUSB_ERROR_OTHER;
			break;
		}
		c->devs[c->ndev].ctx = c;
		c->ndev++;
	}
	free(paths);
	return rc;
}

API int libusb_init(libusb_context **out)
{
	if (!out) {
		pthread_mutex_lock(&default_lock);
		int rc = 0;
		if (default_ctx) {
			default_ctx->refs++;
		} else {
			libusb_context *c = NULL;
			pthread_mutex_unlock(&default_lock);
			rc = libusb_init(&c);
			pthread_mutex_lock(&default_lock);
			if (rc == 0 && default_ctx) { /* another thread won */
				ctx_free(c);
				default_ctx->refs++;
			} else if (rc == 0) {
				default_ctx = c;
				c->refs = 1;
			}
		}
		pthread_mutex_unlock(&default_lock);
		return rc;
	}
	libusb_context *c = calloc(1, sizeof *c);
	if (!c)
		return LIBUSB_ERROR_NO_MEM;
	const char *stats = getenv("VPROBE_STATS");
	c->stats_path = stats && *stats ? strdup(stats) : NULL;
	int rc = ctx_open_boards(c);
	if (rc != 0) {
		free(c->stats_path);
		c->stats_path = NULL;
		ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

API void libusb_exit(libusb_context *ctx)
{
	if (!ctx) {
		pthread_mutex_lock(&default_lock);
		libusb_context *c = default_ctx;
		if (c && --c->refs == 0)
			default_ctx = NULL;
		else
			c = NULL;
		pthread_mutex_unlock(&default_lock);
		if (c)
			ctx_free(c);
		return;
	}
	ctx_free(ctx);
}

API void libusb_set_debug(libusb_context *ctx, int level) { (void)ctx; (void)level; }
API void libusb_set_log_cb(libusb_context *ctx, libusb_log_cb cb, int mode) { (void)ctx; (void)cb; (void)mode; }
API int libusb_set_option(libusb_context *ctx, enum libusb_option option, ...)
{
	(void)ctx;
	return option == LIBUSB_OPTION_LOG_LEVEL || option == LIBUSB_OPTION_WEAK_AUTHORITY
	       ? LIBUSB_SUCCESS : LIBUSB_ERROR_NOT_SUPPORTED;
}

API const struct libusb_version *libusb_get_version(void)
{
	static const struct libusb_version v = { 1, 0, 26, 11724, "", "vprobe" };
	return &v;
}

API int libusb_has_capability(uint32_t cap)
{
	return cap == LIBUSB_CAP_HAS_CAPABILITY || cap == LIBUSB_CAP_SUPPORTS_DETACH_KERNEL_DRIVER;
}

API const char *libusb_error_name(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS: return "LIBUSB_SUCCESS / LIBUSB_TRANSFER_COMPLETED";
	case LIBUSB_ERROR_IO: return "LIBUSB_ERROR_IO";
	case LIBUSB_ERROR_INVALID_PARAM: return "LIBUSB_ERROR_INVALID_PARAM";
	case LIBUSB_ERROR_ACCESS: return "LIBUSB_ERROR_ACCESS";
	case LIBUSB_ERROR_NO_DEVICE: return "LIBUSB_ERROR_NO_DEVICE";
	case LIBUSB_ERROR_NOT_FOUND: return "LIBUSB_ERROR_NOT_FOUND";
	case LIBUSB_ERROR_BUSY: return "LIBUSB_ERROR_BUSY";
	case LIBUSB_ERROR_TIMEOUT: return "LIBUSB_ERROR_TIMEOUT";
	case LIBUSB_ERROR_OVERFLOW: return "LIBUSB_ERROR_OVERFLOW";
	case LIBUSB_ERROR_PIPE: return "LIBUSB_ERROR_PIPE";
	case LIBUSB_ERROR_INTERRUPTED: return "LIBUSB_ERROR_INTERRUPTED";
	case LIBUSB_ERROR_NO_MEM: return "LIBUSB_ERROR_NO_MEM";
	case LIBUSB_ERROR_NOT_SUPPORTED: return "LIBUSB_ERROR_NOT_SUPPORTED";
	case LIBUSB_ERROR_OTHER: return "LIBUSB_ERROR_OTHER";
	case LIBUSB_TRANSFER_ERROR: return "LIBUSB_TRANSFER_ERROR";
	case LIBUSB_TRANSFER_TIMED_OUT: return "LIBUSB_TRANSFER_TIMED_OUT";
	case LIBUSB_TRANSFER_CANCELLED: return "LIBUSB_TRANSFER_CANCELLED";
	case LIBUSB_TRANSFER_STALL: return "LIBUSB_TRANSFER_STALL";
	case LIBUSB_TRANSFER_NO_DEVICE: return "LIBUSB_TRANSFER_NO_DEVICE";
	case LIBUSB_TRANSFER_OVERFLOW: return "LIBUSB_TRANSFER_OVERFLOW";
	default: return "**UNKNOWN**";
	}
}

API const char *libusb_strerror(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS: return "Success";
	case LIBUSB_ERROR_IO: return "Input/Output Error";
	case LIBUSB_ERROR_INVALID_PARAM: return "Invalid parameter";
	case LIBUSB_ERROR_ACCESS: return "Access denied (insufficient permissions)";
	case LIBUSB_ERROR_NO_DEVICE: return "No such device (it may have been disconnected)";
	case LIBUSB_ERROR_NOT_FOUND: return "Entity not found";
	case LIBUSB_ERROR_BUSY: return "Resource busy";
	case LIBUSB_ERROR_TIMEOUT: return "Operation timed out";
	case LIBUSB_ERROR_OVERFLOW: return "Overflow";
	case LIBUSB_ERROR_PIPE: return "Pipe error";
	case LIBUSB_ERROR_INTERRUPTED: return "System call interrupted (perhaps due to signal)";
	case LIBUSB_ERROR_NO_MEM: return "Insufficient memory";
	case LIBUSB_ERROR_NOT_SUPPORTED: return "Operation not supported or unimplemented on this platform";
	default: return "Other error";
	}
}

API int libusb_setlocale(const char *locale) { (void)locale; return LIBUSB_SUCCESS; }

/* ---- devices and descriptors ---- */

API ssize_t libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	libusb_context *c = ctx_of(ctx);
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
API libusb_device *libusb_ref_device(libusb_device *dev) { dev->refs++; return dev; }
API void libusb_unref_device(libusb_device *dev) { if (dev) dev->refs--; }
API libusb_device *libusb_get_parent(libusb_device *dev) { (void)dev; return NULL; }
API uint8_t libusb_get_bus_number(libusb_device *dev) { return vp_board_usb(dev->board)->bus; }
API uint8_t libusb_get_device_address(libusb_device *dev) { return vp_board_usb(dev->board)->address; }
API uint8_t libusb_get_port_number(libusb_device *dev) { return vp_board_usb(dev->board)->port; }
API int libusb_get_port_numbers(libusb_device *dev, uint8_t *ports, int len)
{
	if (len < 1)
		return LIBUSB_ERROR_OVERFLOW;
	ports[0] = vp_board_usb(dev->board)->port;
	return 1;
}
API int libusb_get_port_path(libusb_context *ctx, libusb_device *dev, uint8_t *path, uint8_t len)
{
	(void)ctx;
	return libusb_get_port_numbers(dev, path, len);
}
API int libusb_get_device_speed(libusb_device *dev)
{
	return vp_board_usb(dev->board)->max_packet == 512 ? LIBUSB_SPEED_HIGH : LIBUSB_SPEED_FULL;
}

API int libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *d)
{
	const vp_usb_identity *id = vp_board_usb(dev->board);
	memset(d, 0, sizeof *d);
	d->bLength = LIBUSB_DT_DEVICE_SIZE;
	d->bDescriptorType = LIBUSB_DT_DEVICE;
	d->bcdUSB = id->bcd_usb;
	/* composite probes (V2-1, V3) use the IAD class triple EF/02/01 */
	if (id->num_interfaces > 1) {
		d->bDeviceClass = 0xEF;
		d->bDeviceSubClass = 0x02;
		d->bDeviceProtocol = 0x01;
	}
	d->bMaxPacketSize0 = 64;
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
 * its endpoints (facts §1.1); the others (MSC, CDC, bridge) are described
 * by class only, no host here uses them. */
static void iface_class(unsigned i, uint8_t cls[3])
{
	static const uint8_t classes[][3] = {
		{ 0xFF, 0xFF, 0xFF }, { 0x08, 0x06, 0x50 }, { 0x02, 0x02, 0x01 }, { 0x0A, 0x00, 0x00 },
		{ 0xFF, 0x00, 0x00 }, { 0x02, 0x02, 0x01 }, { 0x0A, 0x00, 0x00 }, { 0xFF, 0x00, 0x00 },
	};
	memcpy(cls, classes[i % MAX_IFACES], 3);
}

static unsigned endpoints(const vp_usb_identity *id, uint8_t eps[3])
{
	unsigned n = 0;
	eps[n++] = id->ep_in;
	eps[n++] = id->ep_out;
	if (id->ep_trace)
		eps[n++] = id->ep_trace;
	return n;
}

API int libusb_get_config_descriptor(libusb_device *dev, uint8_t index, struct libusb_config_descriptor **out)
{
	const vp_usb_identity *id = vp_board_usb(dev->board);
	if (index != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	unsigned ni = id->num_interfaces > MAX_IFACES ? MAX_IFACES : id->num_interfaces;
	uint8_t eps[3];
	unsigned ne = endpoints(id, eps);
	struct block {
		struct libusb_config_descriptor c;
		struct libusb_interface i[MAX_IFACES];
		struct libusb_interface_descriptor a[MAX_IFACES];
		struct libusb_endpoint_descriptor e[3];
	} *b = calloc(1, sizeof *b);
	if (!b)
		return LIBUSB_ERROR_NO_MEM;
	b->c = (struct libusb_config_descriptor){ .bLength = LIBUSB_DT_CONFIG_SIZE,
		.bDescriptorType = LIBUSB_DT_CONFIG,
		.wTotalLength = (uint16_t)(LIBUSB_DT_CONFIG_SIZE + ni * LIBUSB_DT_INTERFACE_SIZE + ne * LIBUSB_DT_ENDPOINT_SIZE),
		.bNumInterfaces = (uint8_t)ni, .bConfigurationValue = 1, .bmAttributes = 0x80,
		.MaxPower = 150, .interface = b->i };
	for (unsigned i = 0; i < ni; i++) {
		uint8_t cls[3];
		iface_class(i, cls);
		b->a[i] = (struct libusb_interface_descriptor){ .bLength = LIBUSB_DT_INTERFACE_SIZE,
			.bDescriptorType = LIBUSB_DT_INTERFACE, .bInterfaceNumber = (uint8_t)i,
			.bInterfaceClass = cls[0], .bInterfaceSubClass = cls[1], .bInterfaceProtocol = cls[2] };
		b->i[i] = (struct libusb_interface){ .altsetting = &b->a[i], .num_altsetting = 1 };
	}
	for (unsigned e = 0; e < ne; e++)
		b->e[e] = (struct libusb_endpoint_descriptor){ .bLength = LIBUSB_DT_ENDPOINT_SIZE,
			.bDescriptorType = LIBUSB_DT_ENDPOINT, .bEndpointAddress = eps[e],
			.bmAttributes = LIBUSB_TRANSFER_TYPE_BULK, .wMaxPacketSize = id->max_packet };
	b->a[0].bNumEndpoints = (uint8_t)ne;
	b->a[0].endpoint = b->e;
	*out = &b->c; /* first member: libusb_free_config_descriptor frees the block */
	return 0;
}

API int libusb_get_active_config_descriptor(libusb_device *dev, struct libusb_config_descriptor **out)
{
	return libusb_get_config_descriptor(dev, 0, out);
}

API int libusb_get_config_descriptor_by_value(libusb_device *dev, uint8_t value, struct libusb_config_descriptor **out)
{
	return value == 1 ? libusb_get_config_descriptor(dev, 0, out) : LIBUSB_ERROR_NOT_FOUND;
}

API void libusb_free_config_descriptor(struct libusb_config_descriptor *config) { free(config); }

API int libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint)
{
	uint8_t eps[3];
	unsigned n = endpoints(vp_board_usb(dev->board), eps);
	for (unsigned i = 0; i < n; i++)
		if (eps[i] == endpoint)
			return vp_board_usb(dev->board)->max_packet;
	return LIBUSB_ERROR_NOT_FOUND;
}

API int libusb_get_max_iso_packet_size(libusb_device *dev, unsigned char endpoint)
{
	return libusb_get_max_packet_size(dev, endpoint);
}

/* ---- handles ---- */

API int libusb_open(libusb_device *dev, libusb_device_handle **out)
{
	if (dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	libusb_device_handle *h = calloc(1, sizeof *h);
	if (!h)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	*out = h;
	return 0;
}

API void libusb_close(libusb_device_handle *h)
{
	if (!h)
		return;
	libusb_unref_device(h->dev);
	free(h);
}

API libusb_device *libusb_get_device(libusb_device_handle *h) { return h->dev; }

API libusb_device_handle *libusb_open_device_with_vid_pid(libusb_context *ctx, uint16_t vid, uint16_t pid)
{
	libusb_context *c = ctx_of(ctx);
	libusb_device_handle *h = NULL;
	for (size_t i = 0; c && i < c->ndev && !h; i++) {
		const vp_usb_identity *id = vp_board_usb(c->devs[i].board);
		if (!c->devs[i].gone && id->vid == vid && id->pid == pid && libusb_open(&c->devs[i], &h) != 0)
			h = NULL;
	}
	return h;
}

static int iface_ok(libusb_device_handle *h, int iface)
{
	if (h->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	return iface >= 0 && iface < vp_board_usb(h->dev->board)->num_interfaces ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

API int libusb_claim_interface(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	if (rc == 0)
		h->claimed |= 1u << iface;
	return rc;
}

API int libusb_release_interface(libusb_device_handle *h, int iface)
{
	int rc = iface_ok(h, iface);
	if (rc == 0 && !(h->claimed & 1u << iface))
		rc = LIBUSB_ERROR_NOT_FOUND;
	if (rc == 0)
		h->claimed &= ~(1u << iface);
	return rc;
}

API int libusb_set_interface_alt_setting(libusb_device_handle *h, int iface, int alt)
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
	return config == 1 || config == -1 || config == 0 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

/* No kernel driver is ever bound to a virtual probe. */
API int libusb_kernel_driver_active(libusb_device_handle *h, int iface) { return iface_ok(h, iface); }
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
API int libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int enable)
{
	(void)h; (void)enable;
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
	return usb_err(h->dev, vp_board_usb_reset(h->dev->board));
}

/* ---- control transfers: the standard requests a host sends ---- */

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
	uint8_t hdr[9] = { 9, LIBUSB_DT_CONFIG, (uint8_t)c->wTotalLength, (uint8_t)(c->wTotalLength >> 8),
	                   c->bNumInterfaces, 1, 0, c->bmAttributes, c->MaxPower };
	memcpy(out, hdr, 9);
	n = 9;
	for (int i = 0; i < c->bNumInterfaces; i++) {
		const struct libusb_interface_descriptor *a = c->interface[i].altsetting;
		uint8_t d[9] = { 9, LIBUSB_DT_INTERFACE, a->bInterfaceNumber, 0, a->bNumEndpoints,
		                 a->bInterfaceClass, a->bInterfaceSubClass, a->bInterfaceProtocol, 0 };
		memcpy(out + n, d, 9);
		n += 9;
		for (int e = 0; e < a->bNumEndpoints; e++) {
			const struct libusb_endpoint_descriptor *ep = &a->endpoint[e];
			uint8_t x[7] = { 7, LIBUSB_DT_ENDPOINT, ep->bEndpointAddress, ep->bmAttributes,
			                 (uint8_t)ep->wMaxPacketSize, (uint8_t)(ep->wMaxPacketSize >> 8), 0 };
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
		uint8_t r[18] = { 18, 1, (uint8_t)d.bcdUSB, (uint8_t)(d.bcdUSB >> 8), d.bDeviceClass,
		                  d.bDeviceSubClass, d.bDeviceProtocol, d.bMaxPacketSize0,
		                  (uint8_t)d.idVendor, (uint8_t)(d.idVendor >> 8), (uint8_t)d.idProduct,
		                  (uint8_t)(d.idProduct >> 8), (uint8_t)d.bcdDevice, (uint8_t)(d.bcdDevice >> 8),
		                  1, 2, 3, 1 };
		memcpy(out, r, 18);
		return 18;
	}
	case LIBUSB_DT_CONFIG:
		return idx == 0 ? (int)raw_config(dev, out) : LIBUSB_ERROR_PIPE;
	case LIBUSB_DT_STRING:
		switch (idx) {
		case 0: memcpy(out, "\x04\x03\x09\x04", 4); return 4; /* LANGID en-US */
		case 1: return (int)put_utf16(out, id->manufacturer);
		case 2: return (int)put_utf16(out, id->product);
		case 3: memcpy(out, id->serial_desc, id->serial_desc_len); return (int)id->serial_desc_len;
		default: return LIBUSB_ERROR_PIPE;
		}
	default:
		return LIBUSB_ERROR_PIPE; /* the device stalls what it lacks */
	}
}

/* Runs one control request; returns the data length or an error. */
static int control(libusb_device *dev, uint8_t type, uint8_t req, uint16_t value, uint16_t index,
                   uint8_t *data, uint16_t len)
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
	else if ((type & 0x9F) <= 2 && (req == LIBUSB_REQUEST_SET_CONFIGURATION ||
	         req == LIBUSB_REQUEST_SET_INTERFACE || req == LIBUSB_REQUEST_CLEAR_FEATURE ||
	         req == LIBUSB_REQUEST_SET_FEATURE))
		return 0;
	else
		return LIBUSB_ERROR_PIPE;
	if (n < 0)
		return n;
	n = n < len ? n : len;
	memcpy(data, buf, (size_t)n);
	return n;
}

/* libusb's conversion: one byte per UTF-16 unit, '?' for non-ASCII. */
API int libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t index, unsigned char *data, int length)
{
	uint8_t buf[256];
	if (index == 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	int n = control(h->dev, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, (uint16_t)(LIBUSB_DT_STRING << 8 | index),
	                0x0409, buf, sizeof buf);
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

API int libusb_control_transfer(libusb_device_handle *h, uint8_t type, uint8_t req, uint16_t value,
                                uint16_t index, unsigned char *data, uint16_t len, unsigned int timeout)
{
	(void)timeout;
	return usb_err(h->dev, control(h->dev, type, req, value, index, data, len));
}

/* ---- bulk transfers ---- */

static int bulk(libusb_device *dev, unsigned char ep, unsigned char *data, int len)
{
	if (dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	if (len < 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	int rc = ep & LIBUSB_ENDPOINT_IN ? vp_board_bulk_in(dev->board, ep, data, (size_t)len)
	                                 : vp_board_bulk_out(dev->board, ep, data, (size_t)len);
	return usb_err(dev, rc);
}

static void run_pending(libusb_context *c);

API int libusb_bulk_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int len,
                             int *transferred, unsigned int timeout)
{
	(void)timeout; /* never waits: see the file comment */
	run_pending(h->dev->ctx); /* keep submission order with async transfers */
	int rc = bulk(h->dev, ep, data, len);
	if (transferred)
		*transferred = rc > 0 ? rc : 0;
	return rc < 0 ? rc : 0;
}

API int libusb_interrupt_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int len,
                                  int *transferred, unsigned int timeout)
{
	return libusb_bulk_transfer(h, ep, data, len, transferred, timeout);
}

/* ---- async transfers and events ---- */

API struct libusb_transfer *libusb_alloc_transfer(int iso_packets)
{
	if (iso_packets < 0)
		return NULL;
	size_t size = XFER_HDR + sizeof(struct libusb_transfer) +
	              (size_t)iso_packets * sizeof(struct libusb_iso_packet_descriptor);
	char *p = calloc(1, size);
	if (!p)
		return NULL;
	struct libusb_transfer *t = (struct libusb_transfer *)(p + XFER_HDR);
	t->num_iso_packets = iso_packets;
	return t;
}

API void libusb_free_transfer(struct libusb_transfer *t)
{
	if (!t)
		return;
	if (t->flags & LIBUSB_TRANSFER_FREE_BUFFER)
		free(t->buffer);
	free(XFER_OF(t));
}

API int libusb_submit_transfer(struct libusb_transfer *t)
{
	struct xfer *x = XFER_OF(t);
	if (x->queued)
		return LIBUSB_ERROR_BUSY;
	if (!t->dev_handle)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (t->dev_handle->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	if (t->type == LIBUSB_TRANSFER_TYPE_ISOCHRONOUS || t->type == LIBUSB_TRANSFER_TYPE_BULK_STREAM)
		return LIBUSB_ERROR_NOT_SUPPORTED;
	libusb_context *c = t->dev_handle->dev->ctx;
	x->ctx = c;
	x->queued = 1;
	x->cancelled = 0;
	x->next = NULL;
	if (c->tail)
		c->tail->next = x;
	else
		c->head = x;
	c->tail = x;
	return 0;
}

API int libusb_cancel_transfer(struct libusb_transfer *t)
{
	struct xfer *x = XFER_OF(t);
	if (!x->queued || x->cancelled)
		return LIBUSB_ERROR_NOT_FOUND;
	x->cancelled = 1;
	return 0;
}

static enum libusb_transfer_status transfer_status(int rc)
{
	switch (rc) {
	case LIBUSB_ERROR_TIMEOUT: return LIBUSB_TRANSFER_TIMED_OUT;
	case LIBUSB_ERROR_NO_DEVICE: return LIBUSB_TRANSFER_NO_DEVICE;
	case LIBUSB_ERROR_OVERFLOW: return LIBUSB_TRANSFER_OVERFLOW;
	case LIBUSB_ERROR_PIPE: return LIBUSB_TRANSFER_STALL;
	default: return rc < 0 ? LIBUSB_TRANSFER_ERROR : LIBUSB_TRANSFER_COMPLETED;
	}
}

static void run_one(struct libusb_transfer *t, int cancelled)
{
	libusb_device *dev = t->dev_handle->dev;
	int rc;
	t->actual_length = 0;
	if (cancelled) {
		t->status = LIBUSB_TRANSFER_CANCELLED;
	} else {
		if (t->type == LIBUSB_TRANSFER_TYPE_CONTROL) {
			struct libusb_control_setup *s = libusb_control_transfer_get_setup(t);
			rc = usb_err(dev, control(dev, s->bmRequestType, s->bRequest, libusb_le16_to_cpu(s->wValue),
			                          libusb_le16_to_cpu(s->wIndex), libusb_control_transfer_get_data(t),
			                          libusb_le16_to_cpu(s->wLength)));
		} else {
			rc = bulk(dev, t->endpoint, t->buffer, t->length);
		}
		t->status = transfer_status(rc);
		t->actual_length = rc > 0 ? rc : 0;
		int want = t->type == LIBUSB_TRANSFER_TYPE_CONTROL ? t->length - (int)LIBUSB_CONTROL_SETUP_SIZE : t->length;
		if (t->status == LIBUSB_TRANSFER_COMPLETED && (t->flags & LIBUSB_TRANSFER_SHORT_NOT_OK) &&
		    t->actual_length < want)
			t->status = LIBUSB_TRANSFER_ERROR;
	}
	uint8_t free_it = t->flags & LIBUSB_TRANSFER_FREE_TRANSFER;
	if (t->callback)
		t->callback(t);
	if (free_it)
		libusb_free_transfer(t);
}

/* Runs what was submitted before the call, in order; transfers submitted
 * by callbacks wait for the next round, as with a real event loop. */
static void run_pending(libusb_context *c)
{
	struct xfer *last = c->tail;
	while (c->head && last) {
		struct xfer *x = c->head;
		c->head = x->next;
		if (!c->head)
			c->tail = NULL;
		x->queued = 0;
		x->next = NULL;
		int cancelled = x->cancelled;
		run_one((struct libusb_transfer *)((char *)x + XFER_HDR), cancelled);
		if (x == last)
			break;
	}
}

API int libusb_handle_events_timeout_completed(libusb_context *ctx, struct timeval *tv, int *completed)
{
	(void)tv;
	libusb_context *c = ctx_of(ctx);
	if (!c)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (!(completed && *completed))
		run_pending(c);
	return 0;
}

API int libusb_handle_events_timeout(libusb_context *ctx, struct timeval *tv)
{
	return libusb_handle_events_timeout_completed(ctx, tv, NULL);
}
API int libusb_handle_events(libusb_context *ctx) { return libusb_handle_events_timeout_completed(ctx, NULL, NULL); }
API int libusb_handle_events_completed(libusb_context *ctx, int *completed)
{
	return libusb_handle_events_timeout_completed(ctx, NULL, completed);
}
API int libusb_handle_events_locked(libusb_context *ctx, struct timeval *tv)
{
	return libusb_handle_events_timeout_completed(ctx, tv, NULL);
}

/* The event lock of a loop that never blocks: always available. */
API int libusb_try_lock_events(libusb_context *ctx) { (void)ctx; return 0; }
API void libusb_lock_events(libusb_context *ctx) { (void)ctx; }
API void libusb_unlock_events(libusb_context *ctx) { (void)ctx; }
API int libusb_event_handling_ok(libusb_context *ctx) { (void)ctx; return 1; }
API int libusb_event_handler_active(libusb_context *ctx) { (void)ctx; return 0; }
API void libusb_interrupt_event_handler(libusb_context *ctx) { (void)ctx; }
API void libusb_lock_event_waiters(libusb_context *ctx) { (void)ctx; }
API void libusb_unlock_event_waiters(libusb_context *ctx) { (void)ctx; }
API int libusb_wait_for_event(libusb_context *ctx, struct timeval *tv) { (void)ctx; (void)tv; return 1; }
API int libusb_pollfds_handle_timeouts(libusb_context *ctx) { (void)ctx; return 1; }
API int libusb_get_next_timeout(libusb_context *ctx, struct timeval *tv) { (void)ctx; (void)tv; return 0; }
API const struct libusb_pollfd **libusb_get_pollfds(libusb_context *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct libusb_pollfd *)); /* no fds: an empty list */
}
API void libusb_free_pollfds(const struct libusb_pollfd **fds) { free((void *)fds); }
API void libusb_set_pollfd_notifiers(libusb_context *ctx, libusb_pollfd_added_cb a, libusb_pollfd_removed_cb r, void *u)
{
	(void)ctx; (void)a; (void)r; (void)u;
}

/* ---- what a virtual full/high-speed bus does not have ---- */

API int libusb_hotplug_register_callback(libusb_context *ctx, int events, int flags, int vid, int pid,
                                         int cls, libusb_hotplug_callback_fn cb, void *user,
                                         libusb_hotplug_callback_handle *handle)
{
	(void)ctx; (void)events; (void)flags; (void)vid; (void)pid; (void)cls; (void)cb; (void)user; (void)handle;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API void libusb_hotplug_deregister_callback(libusb_context *ctx, libusb_hotplug_callback_handle h) { (void)ctx; (void)h; }
API void *libusb_hotplug_get_user_data(libusb_context *ctx, libusb_hotplug_callback_handle h) { (void)ctx; (void)h; return NULL; }
API int libusb_wrap_sys_device(libusb_context *ctx, intptr_t fd, libusb_device_handle **h)
{
	(void)ctx; (void)fd; (void)h;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API int libusb_alloc_streams(libusb_device_handle *h, uint32_t n, unsigned char *eps, int neps)
{
	(void)h; (void)n; (void)eps; (void)neps;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API int libusb_free_streams(libusb_device_handle *h, unsigned char *eps, int neps)
{
	(void)h; (void)eps; (void)neps;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API void libusb_transfer_set_stream_id(struct libusb_transfer *t, uint32_t id) { (void)t; (void)id; }
API uint32_t libusb_transfer_get_stream_id(struct libusb_transfer *t) { (void)t; return 0; }
API unsigned char *libusb_dev_mem_alloc(libusb_device_handle *h, size_t len) { (void)h; (void)len; return NULL; }
API int libusb_dev_mem_free(libusb_device_handle *h, unsigned char *b, size_t len)
{
	(void)h; (void)b; (void)len;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
/* USB 2.0 full/high-speed probes have no BOS descriptor: GET_DESCRIPTOR stalls. */
API int libusb_get_bos_descriptor(libusb_device_handle *h, struct libusb_bos_descriptor **bos)
{
	(void)bos;
	return h->dev->gone ? LIBUSB_ERROR_NO_DEVICE : LIBUSB_ERROR_PIPE;
}
API void libusb_free_bos_descriptor(struct libusb_bos_descriptor *bos) { free(bos); }
API int libusb_get_usb_2_0_extension_descriptor(libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
                                                struct libusb_usb_2_0_extension_descriptor **out)
{
	(void)ctx; (void)c; (void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_usb_2_0_extension_descriptor(struct libusb_usb_2_0_extension_descriptor *d) { free(d); }
API int libusb_get_ss_usb_device_capability_descriptor(libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
                                                       struct libusb_ss_usb_device_capability_descriptor **out)
{
	(void)ctx; (void)c; (void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_ss_usb_device_capability_descriptor(struct libusb_ss_usb_device_capability_descriptor *d) { free(d); }
API int libusb_get_container_id_descriptor(libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
                                           struct libusb_container_id_descriptor **out)
{
	(void)ctx; (void)c; (void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_container_id_descriptor(struct libusb_container_id_descriptor *d) { free(d); }
API int libusb_get_ss_endpoint_companion_descriptor(libusb_context *ctx, const struct libusb_endpoint_descriptor *e,
                                                    struct libusb_ss_endpoint_companion_descriptor **out)
{
	(void)ctx; (void)e; (void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_ss_endpoint_companion_descriptor(struct libusb_ss_endpoint_companion_descriptor *d) { free(d); }
