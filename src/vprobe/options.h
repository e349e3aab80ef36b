/*
 * Board options from the environment (options.c).
 */
#ifndef STOTP_VPROBE_OPTIONS_H
#define STOTP_VPROBE_OPTIONS_H

#include <stddef.h>

#include "vprobe.h"

/* Refuse malformed or conflicting options before anything is created.
 * Returns 0, or -1 with a message in err. */
int vp_options_check(const vp_options *opt, char *err, size_t errlen);

#endif
