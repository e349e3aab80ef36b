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

#define PROBE_DEFAULT_KHZ 1800 /* OOCD's default SWD clock */
#define PROBE_MAX_LIST    16

/* One attached probe as stotp.probes() shows it. */
typedef struct probe_desc {
	st_usb_info usb;
	char kind[8];      /* "V2", "V2-1", "V3"; "" when not opened */
	char firmware[32]; /* "V2J40M27"; "" when not opened */
	st_error err; /* why it could not be opened, code ST_OK if it was */
} probe_desc;

/* Lists and opens each probe briefly to read its firmware version. */
int probe_list(probe_desc *out, size_t cap, size_t *n, st_error *e);

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

/* Opens the probe the options name. */
int probe_open(stlink **out, const probe_options *o, st_error *e);

#endif
