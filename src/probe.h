/*
 * Finding and opening a probe, for any front end (the Lua binding is one):
 * the attached ST-Links described with their firmware, and one probe opened
 * by serial number or as the in-process virtual probe, with the open
 * options checked first (a misspelt or orphaned option is an error).
 */
#ifndef STOTP_PROBE_H
#define STOTP_PROBE_H

#include "link.h"
#include "stlink.h"
#include "target.h"

#define PROBE_DEFAULT_KHZ 1800 /* OOCD's default SWD clock */
#define PROBE_MAX_LIST    16

/* One attached probe as stotp.probes() shows it. */
typedef struct probe_desc {
	st_usb_info usb;
	char kind[8];      /* "V2", "V2-1", "V3"; "" when not opened */
	char firmware[32]; /* "V2J40M27"; "" when not opened */
	st_error err; /* why it could not be opened, code ST_OK if it was */
} probe_desc;

/* Lists the probes from their USB descriptors (serial included); with
 * open, opens each briefly to read its firmware version, which a probe
 * another process holds refuses (ST_EBUSY in its err). */
int probe_list(probe_desc *out, size_t cap, size_t *n, int open, st_error *e);

/* Everything stotp.open accepts; NULL / 0 = not given. */
typedef struct probe_options {
	const char *serial;
	double khz;          /* 0: PROBE_DEFAULT_KHZ */
	const char *connect; /* NULL or "normal", "under-reset" */
	st_sim_options sim;  /* sim.path set: the in-process virtual probe */
} probe_options;

/* Option names, NULL-terminated, for strict option tables. */
extern const char *const probe_option_names[];

/* NULL when the options make sense together, else why not (a caller's
 * mistake: the binding raises it). Checked before anything is opened. */
const char *probe_options_check(const probe_options *o);

/* An open probe: the ST-Link session and how to attach (the SWD clock and
 * connect mode stotp.open was given). Opaque; the accessors below are
 * all a front end sees of it. */
typedef struct probe probe;

/* Opens the probe the options name (checked by probe_options_check). */
int probe_open(probe **out, const probe_options *o, st_error *e);
/* Leaves debug mode, closes the link, frees. NULL is fine. */
void probe_close(probe *p);

/* The last error of this probe and of every target attached through it. */
const st_error *probe_error(const probe *p);
/* "ST-Link/V2-1 V2J40M27 066DFF..." */
void probe_describe(const probe *p, char *buf, size_t len);
const stlink_version *probe_version(const probe *p);
/* Serial, VID/PID, and whether it is the in-process virtual probe. */
const st_link_identity *probe_identity(const probe *p);
int probe_voltage(probe *p, double *volts);

/* The counters of probe:stats(); has_link: the link knows the model's own
 * counters (sim and vprobe only), in link. */
typedef struct probe_counters {
	uint64_t commands, wait_retries;
	int has_link;
	st_link_stats link;
} probe_counters;
void probe_stats(const probe *p, probe_counters *out);

/* The commands recorded since the last clear: how many entries (one per
 * command sent), and in *dropped how many did not fit. Entry i < count is
 * the 16-byte command packet, for an RW_MISC_OUT followed by its data
 * phase; *len its length. probe_trace_clear empties the record. start/stop
 * switch recording on (at most cap commands) and off. */
size_t probe_trace_count(const probe *p, uint64_t *dropped);
const uint8_t *probe_trace_entry(const probe *p, size_t i, size_t *len);
void probe_trace_clear(probe *p);
int probe_trace_start(probe *p, size_t cap);
void probe_trace_stop(probe *p);

/* Enters SWD at the probe's clock and meets the target (target_attach);
 * the target borrows the probe's session: close it before the probe. */
int probe_attach(probe *p, target **out);

#endif
