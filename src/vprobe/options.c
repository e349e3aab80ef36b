/*
 * The VPROBE_* environment of one board (vprobe.h vp_options_from_env,
 * README, "vprobe, the virtual probe") and the checks made before a board is opened.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vp_options_from_env(vp_options *opt, const char *path, unsigned index)
{
	const char *v;
	memset(opt, 0, sizeof *opt);
	opt->state_path = path;
	opt->target = getenv("VPROBE_TARGET");
	opt->probe = getenv("VPROBE_PROBE");
	opt->fault = getenv("VPROBE_FAULT");
	/* VPROBE_FAULT_<N>: the faults of the Nth probe of VPROBE_STATE
	 * only, in place of VPROBE_FAULT (one channel of a station) */
	char name[32];
	snprintf(name, sizeof name, "VPROBE_FAULT_%u", index + 1);
	if ((v = getenv(name)) != NULL)
		opt->fault = v;
	opt->realtime = (v = getenv("VPROBE_REALTIME")) && strcmp(v, "1") == 0;
	opt->stats_path = getenv("VPROBE_STATS");
	opt->quirks = getenv("VPROBE_QUIRKS");
	opt->hostile = getenv("VPROBE_HOSTILE");
	opt->index = index;
	opt->voltage = -1;
	opt->latency_us = -1;
	if ((v = getenv("VPROBE_VOLTAGE")) && *v) {
		char *end;
		double d = strtod(v, &end);
		/* NaN tells vp_board_open the variable was malformed */
		opt->voltage = (*end || !(d > 0) || d > 6) ? NAN : d;
	}
	if ((v = getenv("VPROBE_WALLCLOCK")) && *v) {
		char *end;
		double d = strtod(v, &end);
		opt->wallclock = (*end || !(d > 0) || d > 1e6) ? NAN : d;
	}
	if ((v = getenv("VPROBE_LATENCY_US")) && *v) {
		char *end;
		errno = 0;
		long l = strtol(v, &end, 10);
		opt->latency_us = (*end || errno || l < 0) ? -2 : l;
	}
}

int vp_options_check(const vp_options *opt, char *err, size_t errlen)
{
	if (!opt->state_path || !*opt->state_path) {
		snprintf(err, errlen,
			 "vprobe: no board image path (VPROBE_STATE)");
		return -1;
	}
	if (isnan(opt->voltage)) {
		snprintf(err, errlen,
			 "vprobe: bad target voltage (VPROBE_VOLTAGE: volts, 0 "
			 "< V <= 6)");
		return -1;
	}
	if (isnan(opt->wallclock)) {
		snprintf(err, errlen,
			 "vprobe: bad VPROBE_WALLCLOCK (a factor, 0 < F <= "
			 "1000000)");
		return -1;
	}
	if (opt->realtime && opt->wallclock > 0) {
		snprintf(err, errlen,
			 "vprobe: VPROBE_REALTIME and VPROBE_WALLCLOCK cannot "
			 "both be set (each would count the host's waits)");
		return -1;
	}
	if (opt->latency_us < -1) {
		snprintf(err, errlen,
			 "vprobe: bad latency (VPROBE_LATENCY_US: microseconds "
			 ">= 0)");
		return -1;
	}
	return 0;
}
