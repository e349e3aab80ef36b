/*
 * In-process link to the virtual probe (stotp.open{sim = "board.img"}).
 * Speaks to the model only through vprobe.h, in USB terms, exactly as the
 * drop-in libusb does: the host code above cannot tell the difference.
 */
#include <stdlib.h>
#include <string.h>

#include "link_internal.h"
#include "vprobe.h"

typedef struct sim_link {
	st_link base; /* first: a sim_link is an st_link */
	vp_board *board;
} sim_link;

static int sim_usb_error(st_error *e, int rc, const char *dir)
{
	switch (rc) {
	case VP_USB_NO_DEVICE:
		return st_fail(e, ST_EUSB, rc, "device unplugged");
	case VP_USB_TIMEOUT:
		return st_fail(e, ST_EUSB, rc, "timeout on bulk %s", dir);
	case VP_USB_OVERFLOW:
		return st_fail(e, ST_EUSB, rc, "reply overflow on bulk %s",
			       dir);
	case VP_USB_PIPE:
		return st_fail(e, ST_EUSB, rc, "endpoint stalled on bulk %s",
			       dir);
	default:
		return st_fail(e, ST_EUSB, rc, "I/O error %d on bulk %s", rc,
			       dir);
	}
}

static int sim_out(st_link *l, const uint8_t *data, size_t len, st_error *e)
{
	sim_link *s = (sim_link *)l;
	int rc = vp_board_bulk_out(s->board, l->id.ep_out, data, len);

	if (rc < 0)
		return sim_usb_error(e, rc, "OUT");
	if ((size_t)rc != len)
		return st_fail(e, ST_EUSB, 0,
			       "short bulk OUT (%d of %zu bytes)", rc, len);
	return 0;
}

static int sim_in(st_link *l, uint8_t *data, size_t cap, size_t *got,
		  st_error *e)
{
	sim_link *s = (sim_link *)l;
	int rc = vp_board_bulk_in(s->board, l->id.ep_in, data, cap);

	if (rc < 0)
		return sim_usb_error(e, rc, "IN");
	*got = (size_t)rc;
	return 0;
}

/* Open and claim the virtual probe as the USB path does, so that a sim
 * session and OpenOCD (or a second stotp) on one image exclude each other
 * like two programs on one real probe, instead of overwriting each other's
 * saves. */
static int sim_claim(vp_board *b, st_error *e)
{
	char err[200] = "";
	int rc = vp_board_usb_open(b);

	if (rc == VP_USB_OK)
		rc = vp_board_claim(b, err, sizeof err);
	switch (rc) {
	case VP_USB_OK:
		return 0;
	case VP_USB_ACCESS:
		return st_fail(
			e, ST_EPERMISSION, rc,
			"sim: no access to the virtual probe (access fault)");
	case VP_USB_BUSY:
		return st_fail(
			e, ST_EBUSY, rc,
			"sim: the board image is in use by another program %s",
			err);
	default:
		return st_fail(e, ST_EUSB, rc,
			       "sim: cannot claim the virtual probe %s", err);
	}
}

static int sim_reset(st_link *l, st_error *e)
{
	sim_link *s = (sim_link *)l;
	int rc = vp_board_usb_reset(s->board);

	return rc == VP_USB_OK ? 0 : sim_usb_error(e, rc, "reset");
}

static int sim_stats(const st_link *l, st_link_stats *out)
{
	const sim_link *s = (const sim_link *)l;
	vp_stats v = vp_board_stats(s->board);

	out->transactions = v.transactions;
	out->bytes_out = v.bytes_out;
	out->bytes_in = v.bytes_in;
	out->sim_us = v.sim_us;
	return 0;
}

static void sim_close(st_link *l)
{
	sim_link *s = (sim_link *)l;

	vp_board_close(s->board);
	free(s);
}

static const struct st_link_ops sim_ops = {
	.bulk_out = sim_out,
	.bulk_in = sim_in,
	.reset = sim_reset,
	.stats = sim_stats,
	.close = sim_close,
};

int link_sim_open(st_link **out, const st_sim_options *o, st_error *e)
{
	vp_options opt;
	/* As long as st_error's: a message the model had to cut then
	 * overflows "sim: %s" too, so st_fail marks it cut. */
	char err[ST_MSG_MAX] = "";
	sim_link *s;
	const vp_usb_identity *u;

	if (o == NULL || o->path == NULL || o->path[0] == '\0')
		return st_fail(e, ST_ESIM, 0, "sim: no board image path");
	/* Environment first (VPROBE_TARGET, VPROBE_PROBE, VPROBE_STATS...),
	 * then what the caller named explicitly. */
	vp_options_from_env(&opt, o->path, 0);
	if (o->part != NULL)
		opt.target = o->part;
	if (o->probe != NULL)
		opt.probe = o->probe;
	if (o->fault != NULL)
		opt.fault = o->fault;
	if (o->quirks != NULL)
		opt.quirks = o->quirks;
	if (o->voltage > 0)
		opt.voltage = o->voltage;
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return st_fail(e, ST_ENOMEM, 0, "out of memory");
	if (vp_board_open(&s->board, &opt, err, sizeof err) != 0) {
		free(s);
		return st_fail(e, ST_ESIM, 0, "sim: %s", err);
	}
	if (sim_claim(s->board, e) != 0) {
		vp_board_close(s->board);
		free(s);
		return -1;
	}
	u = vp_board_usb(s->board);
	s->base.ops = &sim_ops;
	s->base.id.vid = u->vid;
	s->base.id.pid = u->pid;
	s->base.id.ep_out = u->ep_out;
	s->base.id.ep_in = u->ep_in;
	s->base.id.max_packet = u->max_packet;
	s->base.id.bus = u->bus;
	s->base.id.address = u->address;
	s->base.id.sim = 1;
	/* Decode the raw descriptor as from a real device, rather than take
	 * the model's own rendering of it. */
	if (link_serial_from_desc(u->serial_desc, u->serial_desc_len,
				  s->base.id.serial)
	    != 0)
		s->base.id.serial[0] = '\0';
	*out = &s->base;
	return 0;
}
