/*
 * libusb-1.0 link: the only file that includes libusb.h. Each link owns its
 * own libusb context, so there is no process-wide state, and the drop-in
 * build/vprobe libusb re-reads VPROBE_* at every open.
 */
#include <ctype.h>
#include <libusb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "link_internal.h"

/* Transfer timeout: STL uses 3000 ms, OOCD 6000 ms, PYO/PRS 1000 ms (OOCD
 * stlink_usb.c, PRS PR #1406). A flash-stalled memory command stays well below
 * 3 s. */
#define USB_TIMEOUT_MS 3000
#define ST_VID         0x0483

/* Debug-capable ST-Link PIDs and their endpoints (from OOCD
 * stlink_usb.c, STL usb.h, PYO usb.py, PRS usb_interface.rs). V1 (0x3744,
 * SCSI framing) and the V3 loaders (0x374D, 0x3755: DFU only) are left out:
 * they cannot debug over the 16-byte command framing stotp speaks. */
static const struct usb_pid {
	uint16_t pid;
	uint8_t ep_out, ep_in;
	uint16_t max_packet;
} usb_pids[] = {
	{ 0x3748, 0x02, 0x81, 64 },  /* ST-LINK/V2 */
	{ 0x374A, 0x01, 0x81, 64 },  /* V2-1 "audio" (PYO, STL) */
	{ 0x374B, 0x01, 0x81, 64 },  /* V2-1 */
	{ 0x3752, 0x01, 0x81, 64 },  /* V2-1 without MSD */
	{ 0x3742, 0x01, 0x81, 64 },  /* V2-1 no MSD (PRS only, UNCONFIRMED) */
	{ 0x374E, 0x01, 0x81, 512 }, /* V3E */
	{ 0x374F, 0x01, 0x81, 512 }, /* V3S / V3SET */
	{ 0x3753, 0x01, 0x81, 512 }, /* V3 2VCP */
	{ 0x3754, 0x01, 0x81, 512 }, /* V3E / V3MINIE without MSD */
	{ 0x3757, 0x01, 0x81, 512 }, /* V3PWR */
};

typedef struct usb_link {
	st_link base; /* first: a usb_link is an st_link */
	libusb_context *ctx;
	libusb_device_handle *h;
} usb_link;

static const struct usb_pid *usb_pid_lookup(uint16_t vid, uint16_t pid)
{
	size_t i;

	if (vid != ST_VID)
		return NULL;
	for (i = 0; i < sizeof usb_pids / sizeof usb_pids[0]; i++)
		if (usb_pids[i].pid == pid)
			return &usb_pids[i];
	return NULL;
}

/* libusb status -> stotp error, with the permission hint people need. */
static int usb_fail(st_error *e, int rc, const char *what)
{
	switch (rc) {
	case LIBUSB_ERROR_ACCESS:
		return st_fail(
			e, ST_EPERMISSION, rc,
			"no access to the ST-Link USB device (%s): install "
			"the udev rule " STOTP_UDEV_RULE
			" into /etc/udev/rules.d/ and replug the probe",
			what);
	case LIBUSB_ERROR_BUSY:
		return st_fail(
			e, ST_EBUSY, rc,
			"the ST-Link is in use (%s): another program (OpenOCD, "
			"st-util, CubeProgrammer?) holds it",
			what);
	case LIBUSB_ERROR_NO_DEVICE:
		return st_fail(e, ST_EUSB, rc, "device unplugged");
	case LIBUSB_ERROR_TIMEOUT:
		return st_fail(e, ST_EUSB, rc, "timeout (%s)", what);
	default:
		return st_fail(e, ST_EUSB, rc, "%s failed: %s", what,
			       libusb_error_name(rc));
	}
}

int link_serial_from_desc(const uint8_t *desc, size_t len, char out[25])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n, i;

	out[0] = '\0';
	if (len < 2 || desc[0] > len || desc[1] != LIBUSB_DT_STRING)
		return -1;
	n = (desc[0] - 2u) / 2u; /* UTF-16 code units */
	if (n == 12) {
		/* Old V2: each unit's low byte is a raw serial byte. */
		for (i = 0; i < 12; i++) {
			uint8_t b = desc[2 + 2 * i];
			out[2 * i] = hex[b >> 4];
			out[2 * i + 1] = hex[b & 15];
		}
		out[24] = '\0';
		return 0;
	}
	if (n == 0 || n > 24)
		return -1;
	for (i = 0; i < n; i++) {
		uint8_t c = desc[2 + 2 * i];
		if (desc[3 + 2 * i] != 0 || !isprint(c))
			break; /* trailing NUL (STL #318) or junk ends it */
		out[i] = (char)toupper(c);
	}
	out[i] = '\0';
	return i > 0 ? 0 : -1;
}

static void usb_read_serial(libusb_device_handle *h, uint8_t idx, char out[25])
{
	uint8_t desc[64];
	int rc;

	out[0] = '\0';
	if (idx == 0)
		return;
	rc = libusb_get_string_descriptor(h, idx, 0x0409, desc, sizeof desc);
	if (rc >= 2 && link_serial_from_desc(desc, (size_t)rc, out) == 0)
		return;
	rc = libusb_get_string_descriptor_ascii(h, idx, desc, sizeof desc);
	if (rc > 0 && rc <= 24) {
		int i;
		for (i = 0; i < rc; i++)
			out[i] = (char)toupper(desc[i]);
		out[rc] = '\0';
	}
}

static void usb_fill_info(libusb_device *dev,
			  const struct libusb_device_descriptor *d,
			  st_usb_info *info)
{
	libusb_device_handle *h = NULL;
	st_error e = { 0 };
	int rc;

	memset(info, 0, sizeof *info);
	info->vid = d->idVendor;
	info->pid = d->idProduct;
	info->bus = libusb_get_bus_number(dev);
	info->address = libusb_get_device_address(dev);
	rc = libusb_open(dev, &h);
	if (rc != 0) {
		usb_fail(&e, rc, "open");
		info->open_code = e.code;
		snprintf(info->open_error, sizeof info->open_error, "%s",
			 e.msg);
		return;
	}
	usb_read_serial(h, d->iSerialNumber, info->serial);
	libusb_close(h);
}

int link_usb_list(st_usb_info *out, size_t cap, size_t *n, st_error *e)
{
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	ssize_t count, i;
	int rc = libusb_init(&ctx);

	*n = 0;
	if (rc != 0)
		return usb_fail(e, rc, "libusb_init");
	count = libusb_get_device_list(ctx, &list);
	if (count < 0) {
		libusb_exit(ctx);
		return usb_fail(e, (int)count, "libusb_get_device_list");
	}
	for (i = 0; i < count; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) != 0
		    || usb_pid_lookup(d.idVendor, d.idProduct) == NULL)
			continue;
		if (*n < cap)
			usb_fill_info(list[i], &d, &out[*n]);
		(*n)++;
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return 0;
}

static int usb_out(st_link *l, const uint8_t *data, size_t len, st_error *e)
{
	usb_link *u = (usb_link *)l;
	int done = 0;
	int rc = libusb_bulk_transfer(u->h, l->id.ep_out, (unsigned char *)data,
				      (int)len, &done, USB_TIMEOUT_MS);

	if (rc != 0)
		return usb_fail(e, rc, "bulk OUT");
	if ((size_t)done != len)
		return st_fail(e, ST_EUSB, 0,
			       "short bulk OUT (%d of %zu bytes)", done, len);
	return 0;
}

static int usb_in(st_link *l, uint8_t *data, size_t cap, size_t *got,
		  st_error *e)
{
	usb_link *u = (usb_link *)l;
	int done = 0;
	int rc = libusb_bulk_transfer(u->h, l->id.ep_in, data, (int)cap, &done,
				      USB_TIMEOUT_MS);

	if (rc != 0)
		return usb_fail(e, rc, "bulk IN");
	*got = (size_t)done;
	return 0;
}

static int usb_stats(const st_link *l, st_link_stats *out)
{
	(void)l;
	(void)out;
	return -1; /* a real cable has no model counters */
}

static void usb_close(st_link *l)
{
	usb_link *u = (usb_link *)l;

	libusb_release_interface(u->h, 0);
	libusb_close(u->h);
	libusb_exit(u->ctx);
	free(u);
}

static void usb_flush_in(usb_link *u);

/* libusb_reset_device, as OOCD does to recover a probe in a "funky state"
 * (stlink_usb_usb_open, OOCD stlink_usb.c, PYO usb.py): the firmware restarts,
 * so a data phase it was still waiting for and any late reply are dropped. A
 * device that re-enumerates (LIBUSB_ERROR_NOT_FOUND) leaves this handle
 * useless: the caller declares the probe dead and the user reopens it. */
static int usb_reset(st_link *l, st_error *e)
{
	usb_link *u = (usb_link *)l;
	int rc = libusb_reset_device(u->h);

	if (rc != 0)
		return usb_fail(e, rc, "USB reset");
	usb_flush_in(u);
	return 0;
}

static const struct st_link_ops usb_ops = {
	.bulk_out = usb_out,
	.bulk_in = usb_in,
	.reset = usb_reset,
	.stats = usb_stats,
	.close = usb_close,
};

/* Drops stale replies of an aborted session (PYO usb.py flushes the IN
 * endpoint on open). Bounded: at most a few short reads. */
static void usb_flush_in(usb_link *u)
{
	uint8_t buf[512];
	int done, i;

	for (i = 0; i < 4; i++)
		if (libusb_bulk_transfer(u->h, u->base.id.ep_in, buf,
					 sizeof buf, &done, 1)
		    != 0)
			break;
}

static int usb_claim(usb_link *u, libusb_device *dev, st_error *e)
{
	int rc = libusb_open(dev, &u->h);

	if (rc != 0)
		return usb_fail(e, rc, "open");
	/* STL detaches a kernel driver from interface 0 (OOCD stlink_usb.c, PYO
	 * usb.py). */
	if (libusb_kernel_driver_active(u->h, 0) == 1)
		libusb_detach_kernel_driver(u->h, 0);
	rc = libusb_claim_interface(u->h, 0);
	if (rc != 0) {
		libusb_close(u->h);
		u->h = NULL;
		return usb_fail(e, rc, "claim interface 0");
	}
	usb_flush_in(u);
	return 0;
}

typedef struct usb_pick {
	libusb_device *dev;
	st_usb_info info;
	size_t seen;
	char serials[160];
	st_error denied; /* first open failure, reported if no match */
} usb_pick;

static void usb_consider(usb_pick *p, libusb_device *dev,
			 const struct libusb_device_descriptor *d,
			 const char *serial, int bus, int address)
{
	st_usb_info info;
	size_t used = strlen(p->serials);

	usb_fill_info(dev, d, &info);
	if (info.open_code != ST_OK && p->denied.code == ST_OK)
		st_fail(&p->denied, info.open_code, 0, "%s", info.open_error);
	if (serial != NULL && strcasecmp(serial, info.serial) != 0)
		return;
	if (bus > 0 && (info.bus != bus || info.address != address))
		return;
	p->seen++;
	if (used < sizeof p->serials - 1)
		snprintf(p->serials + used, sizeof p->serials - used, "%s%s",
			 used ? ", " : "", info.serial[0] ? info.serial : "?");
	if (p->dev == NULL) {
		p->dev = dev;
		p->info = info;
	}
}

static int usb_pick_one(usb_pick *p, const char *serial, st_error *e)
{
	if (p->seen == 1)
		return 0;
	if (p->seen > 1 && serial == NULL)
		return st_fail(
			e, ST_EAMBIGUOUS, 0,
			"%zu ST-Link probes attached (%s): name one with "
			"serial",
			p->seen, p->serials);
	if (p->seen > 1)
		return st_fail(e, ST_EAMBIGUOUS, 0,
			       "%zu ST-Link probes carry serial %s", p->seen,
			       serial);
	if (p->denied.code != ST_OK) {
		*e = p->denied;
		return -1;
	}
	if (serial != NULL)
		return st_fail(e, ST_ENOTFOUND, 0,
			       "no ST-Link with serial %s is attached", serial);
	return st_fail(e, ST_ENOTFOUND, 0, "no ST-Link probe is attached");
}

int link_usb_open(st_link **out, const char *serial, int bus, int address,
		  st_error *e)
{
	usb_link *u = calloc(1, sizeof *u);
	libusb_device **list = NULL;
	usb_pick p;
	ssize_t count, i;
	int rc;

	if (u == NULL)
		return st_fail(e, ST_ENOMEM, 0, "out of memory");
	memset(&p, 0, sizeof p);
	rc = libusb_init(&u->ctx);
	if (rc != 0) {
		free(u);
		return usb_fail(e, rc, "libusb_init");
	}
	count = libusb_get_device_list(u->ctx, &list);
	for (i = 0; i < count; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) == 0
		    && usb_pid_lookup(d.idVendor, d.idProduct) != NULL)
			usb_consider(&p, list[i], &d, serial, bus, address);
	}
	rc = count < 0 ? usb_fail(e, (int)count, "libusb_get_device_list")
		       : usb_pick_one(&p, serial, e);
	if (rc == 0) {
		const struct usb_pid *k =
			usb_pid_lookup(p.info.vid, p.info.pid);
		u->base.ops = &usb_ops;
		u->base.id.vid = p.info.vid;
		u->base.id.pid = p.info.pid;
		u->base.id.ep_out = k->ep_out;
		u->base.id.ep_in = k->ep_in;
		u->base.id.max_packet = k->max_packet;
		u->base.id.bus = p.info.bus;
		u->base.id.address = p.info.address;
		memcpy(u->base.id.serial, p.info.serial,
		       sizeof u->base.id.serial);
		rc = usb_claim(u, p.dev, e);
	}
	if (list != NULL)
		libusb_free_device_list(list, 1);
	if (rc != 0) {
		libusb_exit(u->ctx);
		free(u);
		return -1;
	}
	*out = &u->base;
	return 0;
}
