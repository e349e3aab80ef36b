/*
 * The comma-separated lists of VPROBE_FAULT and VPROBE_HOSTILE, walked the
 * same way: each item handed to a parser, the first bad one named in the
 * error with what the variable accepts.
 */
#ifndef STOTP_VPROBE_SPECLIST_H
#define STOTP_VPROBE_SPECLIST_H

#include <stddef.h>

/* item(ctx, index, s, len): 0, or -1 when the item is malformed. */
typedef int (*vp_spec_item)(void *ctx, size_t index, const char *s, size_t len);

/* Calls item for each item of spec (NULL or "": none), at most max of them.
 * Returns how many, or -1 with "VAR: bad item '...' (want WANT)" or "VAR:
 * more than MAX items" in err. */
int vp_spec_each(const char *spec, const char *var, const char *want,
		 size_t max, vp_spec_item item, void *ctx, char *err,
		 size_t errlen);

#endif
