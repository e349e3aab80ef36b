/*
 * VPROBE_QUIRKS: the model's reading of behaviours the sources leave
 * UNCONFIRMED and hosts could depend on (README,
 * vprobe: unconfirmed behaviours are switches). Syntax: comma-separated
 * name=value, e.g.
 *   VPROBE_QUIRKS=busy_write=pgserr,rdp1_otp=fault
 * An absent name keeps its default (the first value listed):
 *   busy_write=stall|drop|pgserr  a flash/OTP write arriving while BSY
 *                                 (RM0090 §3.5.4; OOCD and STL poll BSY per
 *                                 unit)
 *   rdp1_otp=readable|fault       OTP data and lock bytes at RDP level 1
 *                                 (unconfirmed by any source)
 *   eop=always|eopie              whether EOP needs CR.EOPIE (no source says)
 *   tprog=typ|max                 BSY time of one program unit, 16 or
 *                                 100 µs (no source; often quoted)
 *   sticky=kept|cleared           DP sticky error flags kept until the host
 *                                 writes ABORT, or cleared by the firmware
 *                                 before each memory command (PYO stlink.py,
 *                                 BMP stlinkv2.c)
 * Each is explained where it acts (flashctl.c, mcu.c, stlink_swd.c).
 */
#ifndef STOTP_VPROBE_QUIRKS_H
#define STOTP_VPROBE_QUIRKS_H

#include <stddef.h>

#include "mcu.h"

/* Apply `spec` (NULL or "": nothing) over *prm, which holds the defaults
 * (vp_mcu_params_default). Returns 0, or -1 with a message in err naming
 * the bad item and listing the valid names and values; *prm is then
 * unspecified. */
int vp_quirks_parse(const char *spec, vp_mcu_params *prm, char *err,
		    size_t errlen);

/* "busy_write=stall|drop|pgserr, rdp1_otp=readable|fault, ...": every
 * quirk with its values, default first (error messages, docs). */
const char *vp_quirks_valid(void);

#endif
