/* Finding and opening a probe; see probe.h. */
#include <stdio.h>
#include <string.h>

#include "probe.h"

/* The V3's APIV3_SET_COM_FREQ takes any u32 kHz and the probe picks the
 * nearest clock it has (OOCD stlink_usb.c); above this no ST-Link goes. */
#define MAX_KHZ 100000.0

const char *const probe_option_names[] = {
	"serial",      "freq_khz",  "sim",        "sim_part", "sim_probe",
	"sim_voltage", "sim_fault", "sim_quirks", "connect",  NULL
};

static void describe_one(probe_desc *d)
{
	st_link *link = NULL;
	stlink *s = NULL;

	d->err.code = d->usb.open_code;
	if (d->usb.open_code != ST_OK) {
		snprintf(d->err.msg, sizeof d->err.msg, "%s",
			 d->usb.open_error);
		return;
	}
	if (link_usb_open(&link, NULL, d->usb.bus, d->usb.address, &d->err) != 0
	    || stlink_open(&s, link, &d->err) != 0)
		return;
	snprintf(d->kind, sizeof d->kind, "%s", s->ver.kind);
	snprintf(d->firmware, sizeof d->firmware, "%s", s->ver.str);
	stlink_close(s);
}

int probe_list(probe_desc *out, size_t cap, size_t *n, st_error *e)
{
	st_usb_info info[PROBE_MAX_LIST];
	size_t i;

	if (link_usb_list(info, PROBE_MAX_LIST, n, e) != 0)
		return -1;
	if (*n > PROBE_MAX_LIST)
		*n = PROBE_MAX_LIST;
	if (*n > cap)
		*n = cap;
	for (i = 0; i < *n; i++) {
		memset(&out[i], 0, sizeof out[i]);
		out[i].usb = info[i];
		describe_one(&out[i]);
	}
	return 0;
}

const char *probe_options_check(const probe_options *o)
{
	const st_sim_options *s = &o->sim;

	/* Written so that a NaN fails too: it passes no comparison. */
	if (!(o->khz > 0 && o->khz <= MAX_KHZ))
		return "option 'freq_khz' must be a positive number of kHz up "
		       "to "
		       "100000";
	if (!(s->voltage >= 0 && s->voltage <= 10))
		return "option 'sim_voltage' must be a positive number of "
		       "volts up "
		       "to 10";
	if (s->path == NULL
	    && (s->part || s->probe || s->fault || s->quirks || s->voltage > 0))
		/* Without sim these would be ignored and a real probe opened:
		 * on an OTP tool that is the worst way to misread an option. */
		return "options 'sim_part', 'sim_probe', 'sim_voltage', "
		       "'sim_fault' and 'sim_quirks' need 'sim' (a board image "
		       "path)";
	if (o->connect != NULL && strcmp(o->connect, "normal") != 0
	    && strcmp(o->connect, "under-reset") != 0)
		return "option 'connect' must be \"normal\" or \"under-reset\"";
	if (s->path != NULL && o->serial != NULL)
		return "options 'sim' and 'serial' exclude each other";
	if (s->path != NULL && s->path[0] == '\0')
		return "option 'sim' must name a board image file";
	return NULL;
}

int probe_open(stlink **out, const probe_options *o, st_error *e)
{
	st_link *link = NULL;

	if ((o->sim.path ? link_sim_open(&link, &o->sim, e)
			 : link_usb_open(&link, o->serial, 0, 0, e))
	    != 0)
		return -1;
	return stlink_open(out, link, e);
}
