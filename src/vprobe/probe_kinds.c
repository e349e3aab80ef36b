/*
 * ST-Link kinds: USB identities and firmware feature gates.
 * Sources: OOCD stlink_usb.c, STL usb.c, PYO usb.py (PIDs, endpoints,
 * packet sizes, interface counts, serial quirk, GET_VERSION and
 * GET_VERSION_EX layouts); OOCD STLINK_F_* flags (gates).
 */
#include "probe_kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SWD_SET_FREQ (F2 43) exists from V2 J22 per OOCD STLINK_F_HAS_SWD_SET_FREQ;
 * PYO and PRS comments say "From V2J20" (OOCD STLINK_F_* flags, CONFLICT). We
 * follow OOCD, the peer that gates on it; change this switch to 20 for PYO's
 * view. */
#define VP_SWD_SET_FREQ_FROM_J 22

/* The V2 (PID 0x3748) serial descriptor is 12 raw bytes (bLength 26): OOCD
 * stlink_usb_get_alternate_serial blames "the buggy DFU"; V2 users report
 * non-ASCII serials with current firmware too (gethla README, OOCD
 * interface/stlink.cfg comment "ST-LINK/V2 devices seem to have serial
 * numbers with unreadable characters"). UNCONFIRMED from which firmware on,
 * if any, a V2 sends 24 hex characters: V2 firmware at or above this switch
 * does; by default none does. */
#define VP_V2_TEXT_SERIAL_FROM_J 64

/* Model parameters, not measurements: a full-speed bulk command+reply round
 * trip costs about a 1 ms frame; high speed (V3) about four microframes. */
#define VP_LATENCY_FS_US 1000
#define VP_LATENCY_HS_US 250

static const struct family {
	const char *name;
	enum vp_hw hw;
	uint16_t pid;             /* default identity */
	unsigned jtag, msd, swim; /* default firmware */
} families[] = {
	{ "v2", VP_HW_V2, 0x3748, 37, 0, 7 },
	{ "v2-1", VP_HW_V2_1, 0x374B, 40, 27, 0 },
	{ "v3", VP_HW_V3, 0x374E, 7, 3, 1 },
};

static const struct pid_info {
	enum vp_hw hw;
	uint16_t pid;
	uint8_t ep_out, ep_in, ep_trace;
	uint8_t interfaces;
	const char *product;
} pids[] = {
	/* OOCD stlink_usb.c, PYO usb.py: V2 1 interface, EPs 02/81/83 */
	{ VP_HW_V2, 0x3748, 0x02, 0x81, 0x83, 1, "STM32 STLink" },
	/* V2-1: debug, MSC, CDC x2; no-MSD variant: 3 interfaces (OOCD dump) */
	{ VP_HW_V2_1, 0x374B, 0x01, 0x81, 0x82, 4, "STM32 STLink" },
	{ VP_HW_V2_1, 0x3752, 0x01, 0x81, 0x82, 3, "STM32 STLink" },
	/* V3E debug+MSC+CDC(x2: comm+data) = 3; V3SET 5; 2VCP 6; 0x3754 has no
	 * OOCD dump: 3 (debug + CDC x2) is an UNCONFIRMED guess. */
	{ VP_HW_V3, 0x374E, 0x01, 0x81, 0x82, 3, "STLINK-V3" },
	{ VP_HW_V3, 0x374F, 0x01, 0x81, 0x82, 5, "STLINK-V3" },
	{ VP_HW_V3, 0x3753, 0x01, 0x81, 0x82, 6, "STLINK-V3" },
	{ VP_HW_V3, 0x3754, 0x01, 0x81, 0x82, 3, "STLINK-V3" },
};

static const struct pid_info *pid_find(uint16_t pid)
{
	for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++)
		if (pids[i].pid == pid)
			return &pids[i];
	return NULL;
}

/* "J40M27" / "J37S7" / "J28": letters J, M, S each followed by a number. */
static int parse_firmware(vp_probe_kind *k, const char *s, char *err,
			  size_t errlen)
{
	bool seen_j = false;
	while (*s) {
		char tag = *s++;
		char *end;
		if (*s < '0' || *s > '9')
			goto bad;
		unsigned long v = strtoul(s, &end, 10);
		s = end;
		if (v
		    > 63) /* 6-bit fields of the GET_VERSION word (OOCD, PYO) */
			goto bad;
		switch (tag) {
		case 'J':
		case 'j':
			k->jtag = (unsigned)v;
			seen_j = true;
			break;
		case 'M':
		case 'm':
			if (k->hw == VP_HW_V2)
				goto bad;
			k->msd = (unsigned)v;
			break;
		case 'S':
		case 's':
			k->swim = (unsigned)v;
			break;
		default:
			goto bad;
		}
	}
	if (!seen_j)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "bad firmware version in VPROBE_PROBE (want e.g. J28, J40M27, "
		 "J7M3)");
	return -1;
}

/* OOCD stlink_usb_version reads a V2-1 word with (X <= 22 && Y == 7) or
 * (X >= 25 && 7 <= Y <= 12) as an STM8-only firmware (OOCD stlink_usb.c): such
 * a probe could not do SWD, so refuse to model it. */
static bool v21_reads_as_stm8(const vp_probe_kind *k)
{
	unsigned x = k->jtag, y = k->msd;
	return (x <= 22 && y == 7) || (x >= 25 && y >= 7 && y <= 12);
}

int vp_probe_parse(vp_probe_kind *k, const char *spec, char *err, size_t errlen)
{
	char buf[64];
	if (!spec || !*spec)
		spec = "v2-1";
	if (strlen(spec) >= sizeof buf) {
		snprintf(err, errlen, "VPROBE_PROBE too long");
		return -1;
	}
	strcpy(buf, spec);
	char *at = strchr(buf, '@');
	if (at)
		*at++ = '\0';
	char *colon = strchr(buf, ':');
	if (colon)
		*colon++ = '\0';
	const struct family *f = NULL;
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (strcmp(buf, families[i].name) == 0)
			f = &families[i];
	if (!f) {
		snprintf(err, errlen,
			 "unknown VPROBE_PROBE '%s' (want v2, v2-1 or v3)",
			 spec);
		return -1;
	}
	*k = (vp_probe_kind){ .hw = f->hw,
			      .pid = f->pid,
			      .jtag = f->jtag,
			      .msd = f->msd,
			      .swim = f->swim,
			      .latency_us = f->hw == VP_HW_V3
						    ? VP_LATENCY_HS_US
						    : VP_LATENCY_FS_US };
	if (colon && parse_firmware(k, colon, err, errlen) != 0)
		return -1;
	if (at) {
		char *end;
		unsigned long pid = strtoul(at, &end, 16);
		const struct pid_info *p = pid_find((uint16_t)pid);
		if (*at == '\0' || *end != '\0' || pid > 0xFFFF || !p
		    || p->hw != k->hw) {
			snprintf(err, errlen,
				 "VPROBE_PROBE '%s': PID @%s is not a %s "
				 "identity",
				 spec, at, f->name);
			return -1;
		}
		k->pid = (uint16_t)pid;
	}
	if (k->hw == VP_HW_V2_1 && v21_reads_as_stm8(k)) {
		snprintf(err, errlen,
			 "VPROBE_PROBE '%s': hosts would decode this V2-1 "
			 "version as an STM8 firmware",
			 spec);
		return -1;
	}
	if (k->hw != VP_HW_V3 && k->jtag < 11) {
		/* API v1 (below J11, OOCD stlink_usb.c) is not modelled. */
		snprintf(err, errlen,
			 "VPROBE_PROBE '%s': firmware below J11 (JTAG API v1) "
			 "is not modelled",
			 spec);
		return -1;
	}
	return 0;
}

bool vp_probe_has(const vp_probe_kind *k, enum vp_feature f)
{
	unsigned j = k->jtag;
	if (k->hw == VP_HW_V3) {
		switch (f) {
		case VP_F_SWD_FREQ:
		case VP_F_JTAG_FREQ:
			return false; /* V3 sets speeds with 61/62 (OOCD) */
		case VP_F_CSW:
			return j >= 2;
		case VP_F_RW8_512:
		case VP_F_BOARD_ID:
			return j >= 6;
		default:
			return true;
		}
	}
	switch (f) {
	case VP_F_TRACE:
		return j >= 13;
	case VP_F_RWSTATUS2:
		return j >= 15;
	case VP_F_SWD_FREQ:
		return j >= VP_SWD_SET_FREQ_FROM_J;
	case VP_F_JTAG_FREQ:
	case VP_F_DAP_REG:
		return j >= 24;
	case VP_F_MEM16:
		return j >= 26;
	case VP_F_AP_INIT:
		return j >= 28;
	case VP_F_CSW:
		return j >= 32;
	case VP_F_BOARD_ID:
		return j >= 36;
	case VP_F_RW8_512:
	case VP_F_V3_FREQ:
	case VP_F_VERSION_EX:
		return false;
	}
	return false;
}

unsigned vp_probe_rw8_max(const vp_probe_kind *k)
{
	/* 64 on full-speed probes; 512 on V3 from J6 (OOCD stlink_usb.c) */
	return vp_probe_has(k, VP_F_RW8_512) ? 512 : 64;
}

void vp_probe_version_reply(const vp_probe_kind *k, uint8_t out[6])
{
	unsigned word;
	if (k->hw == VP_HW_V3) /* hw 3, X = Y = 0: the host must send FB */
		word = 3u << 12;
	else /* V2: X = JTAG, Y = SWIM; V2-1: X = JTAG, Y = MSD (OOCD) */
		word = 2u << 12 | (k->jtag & 63) << 6
		       | ((k->hw == VP_HW_V2 ? k->swim : k->msd) & 63);
	out[0] = (uint8_t)(word >> 8); /* the one big-endian field */
	out[1] = (uint8_t)word;
	out[2] = 0x83;
	out[3] = 0x04; /* VID 0x0483 LE */
	out[4] = (uint8_t)k->pid;
	out[5] = (uint8_t)(k->pid >> 8);
}

void vp_probe_version_ex_reply(const vp_probe_kind *k, uint8_t out[12])
{
	memset(out, 0, 12);
	out[0] = 3; /* hw version */
	out[1] = (uint8_t)k->swim;
	out[2] = (uint8_t)k->jtag;
	out[3] = (uint8_t)k->msd;
	out[4] = 3; /* bridge version: any value, no bridge modelled */
	out[8] = 0x83;
	out[9] = 0x04;
	out[10] = (uint8_t)k->pid;
	out[11] = (uint8_t)(k->pid >> 8);
}

/* 12 serial bytes from the probe's seed (its slot, slot.h): FNV-1a with a
 * per-byte salt, so a probe keeps its serial whatever board is on its
 * fixture, and two probes differ. */
static void serial_bytes(const uint8_t seed[12], uint8_t out[12])
{
	for (unsigned i = 0; i < 12; i++) {
		uint32_t h = 2166136261u ^ i;
		for (unsigned j = 0; j < 12; j++)
			h = (h ^ seed[j]) * 16777619u;
		h = (h ^ i) * 16777619u;
		out[i] = (uint8_t)(h ^ h >> 8 ^ h >> 16 ^ h >> 24);
	}
}

static void put_string_desc(vp_usb_identity *id, const char *ascii)
{
	size_t n = strlen(ascii);
	id->serial_desc[0] = (uint8_t)(2 + 2 * n);
	id->serial_desc[1] = 3; /* STRING */
	for (size_t i = 0; i < n; i++) {
		id->serial_desc[2 + 2 * i] = (uint8_t)ascii[i];
		id->serial_desc[3 + 2 * i] = 0;
	}
	id->serial_desc_len = 2 + 2 * n;
}

void vp_probe_identity(const vp_probe_kind *k, const uint8_t seed[12],
		       unsigned index, vp_usb_identity *id)
{
	const struct pid_info *p = pid_find(k->pid);
	uint8_t raw[12];
	memset(id, 0, sizeof *id);
	id->vid = 0x0483;
	id->pid = k->pid;
	id->bcd_usb = 0x0200;
	id->bcd_device = 0x0100;
	id->ep_out = p->ep_out;
	id->ep_in = p->ep_in;
	id->ep_trace = p->ep_trace;
	id->max_packet = k->hw == VP_HW_V3 ? 512 : 64;
	id->num_interfaces = p->interfaces;
	id->bus = 1;
	id->address = (uint8_t)(2 + index % 120);
	id->port = (uint8_t)(1 + index % 7);
	id->manufacturer = "STMicroelectronics";
	id->product = p->product;
	serial_bytes(seed, raw);
	for (unsigned i = 0; i < 12; i++)
		snprintf(id->serial + 2 * i, 3, "%02X", raw[i]);
	if (k->hw == VP_HW_V2 && k->jtag < VP_V2_TEXT_SERIAL_FROM_J) {
		/* bLength 26: each raw byte is the low byte of a UTF-16 unit */
		id->serial_desc[0] = 26;
		id->serial_desc[1] = 3;
		for (unsigned i = 0; i < 12; i++) {
			id->serial_desc[2 + 2 * i] = raw[i];
			id->serial_desc[3 + 2 * i] = 0;
		}
		id->serial_desc_len = 26;
	} else {
		put_string_desc(id, id->serial); /* bLength 50 */
	}
}

void vp_probe_name(const vp_probe_kind *k, char *out, size_t outlen)
{
	switch (k->hw) {
	case VP_HW_V2:
		snprintf(out, outlen, "V2J%uS%u", k->jtag, k->swim);
		break;
	case VP_HW_V2_1:
		snprintf(out, outlen, "V2-1J%uM%u", k->jtag, k->msd);
		break;
	case VP_HW_V3:
		snprintf(out, outlen, "V3J%uM%u", k->jtag, k->msd);
		break;
	}
}
