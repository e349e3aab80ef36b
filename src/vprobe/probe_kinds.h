/*
 * The kinds of ST-Link vprobe can be: USB identity (PID, endpoints, packet
 * size, interfaces, serial descriptor), firmware version and the feature
 * gates that version opens (OOCD stlink_usb.c, PYO usb.py, OOCD STLINK_F_*
 * flags).
 */
#ifndef STOTP_VPROBE_PROBE_KINDS_H
#define STOTP_VPROBE_PROBE_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vprobe.h"

enum vp_hw {
	VP_HW_V2 = 2, /* ST-LINK/V2, PID 0x3748, full speed */
	VP_HW_V2_1,   /* ST-LINK/V2-1 (Nucleo, Discovery), full speed */
	VP_HW_V3,     /* STLINK-V3, high speed */
};

typedef struct vp_probe_kind {
	enum vp_hw hw;
	uint16_t pid;
	unsigned jtag;   /* the "J" version: the one every gate is keyed on */
	unsigned msd;    /* "M" (V2-1, V3): mass-storage version */
	unsigned swim;   /* "S" (V2): SWIM version */
	long latency_us; /* model parameter: one USB command+reply round trip */
} vp_probe_kind;

/* Feature gates (OOCD STLINK_F_* flags). */
enum vp_feature {
	VP_F_TRACE,      /* trace commands 40-42 and GET_TARGET_VOLTAGE */
	VP_F_RWSTATUS2,  /* GETLASTRWSTATUS2 (3E) */
	VP_F_SWD_FREQ,   /* SWD_SET_FREQ (43) */
	VP_F_JTAG_FREQ,  /* JTAG_SET_FREQ (44) */
	VP_F_DAP_REG,    /* READ_DAP_REG/WRITE_DAP_REG (45/46) */
	VP_F_MEM16,      /* READMEM_16BIT/WRITEMEM_16BIT (47/48), 50 */
	VP_F_AP_INIT,    /* INIT_AP/CLOSE_AP_DBG (4B/4C) */
	VP_F_CSW,        /* APSEL/CSW in memory commands, banked DP, 54 */
	VP_F_RW8_512,    /* 8-bit transfers up to 512 bytes */
	VP_F_BOARD_ID,   /* GET_BOARD_IDENTIFIERS (56) */
	VP_F_V3_FREQ,    /* APIV3_SET_COM_FREQ/GET_COM_FREQ (61/62) */
	VP_F_VERSION_EX, /* GET_VERSION_EX (FB) */
};

/*
 * Parse a VPROBE_PROBE value: "v2", "v2-1" or "v3", optionally with a
 * firmware version after ':' ("v2:J28", "v2:J37S7", "v2-1:J40M27",
 * "v3:J7M3"), optionally followed by "@PID" in hex to pick another USB
 * identity of the same family ("v2-1@3752", "v3:J7M3@374f"). NULL or ""
 * means "v2-1". Returns 0, or -1 with a message in err.
 */
int vp_probe_parse(vp_probe_kind *k, const char *spec, char *err,
		   size_t errlen);

bool vp_probe_has(const vp_probe_kind *k, enum vp_feature f);

/* Largest 8-bit memory transfer in bytes (OOCD stlink_usb.c). */
unsigned vp_probe_rw8_max(const vp_probe_kind *k);

/* The 6-byte GET_VERSION reply (OOCD stlink_usb.c). */
void vp_probe_version_reply(const vp_probe_kind *k, uint8_t out[6]);

/* The 12-byte GET_VERSION_EX reply (V3 only, OOCD stlink_usb.c). */
void vp_probe_version_ex_reply(const vp_probe_kind *k, uint8_t out[12]);

/* Fill the USB identity of a probe of this kind. `seed` (the probe's own,
 * vp_slot_serial_seed: never the target's UID) gives the serial, stable
 * for the probe whatever board is on its fixture and distinct between
 * probes; `index` places the probe at its own bus address. */
void vp_probe_identity(const vp_probe_kind *k, const uint8_t seed[12],
		       unsigned index, vp_usb_identity *id);

/* "V2J37S7", "V2-1J40M27", "V3J7M3": for messages. */
void vp_probe_name(const vp_probe_kind *k, char *out, size_t outlen);

#endif
