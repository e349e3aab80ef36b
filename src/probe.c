/* Finding and opening a probe; see probe.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "stlink_internal.h"

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

int probe_list(probe_desc *out, size_t cap, size_t *n, int open, st_error *e)
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
		out[i].err.code = info[i].open_code;
		snprintf(out[i].err.msg, sizeof out[i].err.msg, "%s",
			 info[i].open_error);
		if (open)
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

struct probe {
	stlink *st;
	unsigned khz;
	int under_reset; /* open{connect = "under-reset"} */
};

int probe_open(probe **out, const probe_options *o, st_error *e)
{
	st_link *link = NULL;
	probe *p = calloc(1, sizeof *p);

	*out = NULL;
	if (p == NULL)
		return st_fail(e, ST_ENOMEM, 0, "out of memory");
	p->khz = (unsigned)o->khz;
	p->under_reset =
		o->connect != NULL && strcmp(o->connect, "under-reset") == 0;
	if ((o->sim.path ? link_sim_open(&link, &o->sim, e)
			 : link_usb_open(&link, o->serial, 0, 0, e))
		    != 0
	    || stlink_open(&p->st, link, e) != 0) {
		free(p);
		return -1;
	}
	*out = p;
	return 0;
}

void probe_close(probe *p)
{
	if (p == NULL)
		return;
	stlink_close(p->st);
	free(p);
}

const st_error *probe_error(const probe *p)
{
	return &p->st->err;
}

void probe_describe(const probe *p, char *buf, size_t len)
{
	stlink_describe(p->st, buf, len);
}

const stlink_version *probe_version(const probe *p)
{
	return &p->st->ver;
}

const st_link_identity *probe_identity(const probe *p)
{
	return &p->st->link->id;
}

int probe_voltage(probe *p, double *volts)
{
	return stlink_voltage(p->st, volts);
}

void probe_stats(const probe *p, probe_counters *out)
{
	const st_link *l = p->st->link;

	memset(out, 0, sizeof *out);
	out->commands = p->st->commands;
	out->wait_retries = p->st->wait_retries;
	out->has_link = l->ops->stats(l, &out->link) == 0;
}

size_t probe_trace_count(const probe *p, uint64_t *dropped)
{
	*dropped = p->st->trace_dropped;
	return p->st->trace_n;
}

const uint8_t *probe_trace_entry(const probe *p, size_t i, size_t *len)
{
	const stlink_trace_entry *e = &p->st->trace[i];

	*len = e->len;
	return e->bytes;
}

void probe_trace_clear(probe *p)
{
	p->st->trace_n = 0;
	p->st->trace_dropped = 0;
}

int probe_trace_start(probe *p, size_t cap)
{
	return stlink_trace_start(p->st, cap);
}

void probe_trace_stop(probe *p)
{
	stlink_trace_stop(p->st);
}

int probe_attach(probe *p, target **out)
{
	return target_attach(out, p->st, p->khz, p->under_reset);
}
