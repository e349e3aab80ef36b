/*
 * VPROBE_QUIRKS parsing (quirks.h). A table of quirks, each a name, its
 * values (default first) and where the chosen value lands in
 * vp_mcu_params. Strict: an unknown name, an unknown value, a name given
 * twice or an empty item is an error, so a misspelt quirk cannot silently
 * test the default instead.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "quirks.h"

#define MAX_VALUES 3
#define ITEM_MAX   64 /* longer items cannot be valid: reported, not parsed */

typedef struct quirk {
	const char *name;
	const char *values[MAX_VALUES + 1]; /* NULL-terminated, default first */
	void (*set)(vp_mcu_params *p, unsigned value_index);
} quirk;

static void set_busy_write(vp_mcu_params *p, unsigned i)
{
	p->busy_write = i == 0   ? VP_BUSY_STALL
			: i == 1 ? VP_BUSY_DROP
				 : VP_BUSY_PGSERR;
}

static void set_rdp1_otp(vp_mcu_params *p, unsigned i)
{
	p->rdp1_otp_fault = i == 1;
}
static void set_eop(vp_mcu_params *p, unsigned i)
{
	p->eop_needs_eopie = i == 1;
}

/* tprog "often quoted as 16 µs typ / 100 µs max for F4", UNCONFIRMED
 * (RM0090 §3.5.4). At the default 1.8 MHz SWD clock one AP write takes about
 * 25 µs (stlink_fw.c charge_swd), so only with max does a burst of units
 * in one WRITEMEM meet BSY at every SWD speed: use it with busy_write. */
static void set_tprog(vp_mcu_params *p, unsigned i)
{
	p->tprog_us = i == 0 ? 16 : 100;
}

static void set_dcache(vp_mcu_params *p, unsigned i)
{
	p->dcache_coherent = i == 1;
}
/* Whether the ST-Link clears the DP sticky error flags by itself before the
 * next memory command is UNCONFIRMED (PYO stlink.py, BMP stlinkv2.c): kept
 * until the host writes DP ABORT by default, the harsher reading
 * (stlink_swd.c). */
static void set_sticky(vp_mcu_params *p, unsigned i)
{
	p->sticky_cleared = i == 1;
}

static const quirk quirks[] = {
	{ "busy_write", { "stall", "drop", "pgserr", NULL }, set_busy_write },
	{ "rdp1_otp", { "readable", "fault", NULL }, set_rdp1_otp },
	{ "eop", { "always", "eopie", NULL }, set_eop },
	{ "tprog", { "typ", "max", NULL }, set_tprog },
	{ "dcache", { "stale", "coherent", NULL }, set_dcache },
	{ "sticky", { "kept", "cleared", NULL }, set_sticky },
};

#define NQUIRKS (sizeof quirks / sizeof quirks[0])

/* Kept by hand in table order; tests/vprobe_quirks_spec.lua checks that
 * every value it lists is accepted. */
static const char valid[] =
	"busy_write=stall|drop|pgserr, rdp1_otp=readable|fault, "
	"eop=always|eopie, tprog=typ|max, "
	"dcache=stale|coherent, sticky=kept|cleared";

const char *vp_quirks_valid(void)
{
	return valid;
}

static const quirk *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NQUIRKS; i++)
		if (strlen(quirks[i].name) == len
		    && strncmp(quirks[i].name, name, len) == 0)
			return &quirks[i];
	return NULL;
}

static int value_index(const quirk *q, const char *v)
{
	for (int i = 0; q->values[i] != NULL; i++)
		if (strcmp(q->values[i], v) == 0)
			return i;
	return -1;
}

/* One "name=value" item of `len` bytes at `s`. */
static int parse_item(const char *s, size_t len, vp_mcu_params *prm, bool *seen,
		      char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	if (len == 0 || len >= ITEM_MAX || eq == NULL) {
		snprintf(err, errlen,
			 "VPROBE_QUIRKS: bad item '%.*s' (want name=value; "
			 "valid: %s)",
			 (int)(len < ITEM_MAX ? len : ITEM_MAX), s, valid);
		return -1;
	}
	const quirk *q = find(s, (size_t)(eq - s));
	if (q == NULL) {
		snprintf(err, errlen,
			 "VPROBE_QUIRKS: unknown quirk '%.*s' (valid: %s)",
			 (int)(eq - s), s, valid);
		return -1;
	}
	char v[ITEM_MAX];
	snprintf(v, sizeof v, "%.*s", (int)(len - (size_t)(eq - s) - 1),
		 eq + 1);
	int i = value_index(q, v);
	if (i < 0) {
		snprintf(err, errlen,
			 "VPROBE_QUIRKS: bad value '%s' for %s (valid: %s)", v,
			 q->name, valid);
		return -1;
	}
	if (seen[q - quirks]) {
		snprintf(err, errlen, "VPROBE_QUIRKS: %s given twice", q->name);
		return -1;
	}
	seen[q - quirks] = true;
	q->set(prm, (unsigned)i);
	return 0;
}

int vp_quirks_parse(const char *spec, vp_mcu_params *prm, char *err,
		    size_t errlen)
{
	bool seen[NQUIRKS] = { false };
	if (spec == NULL || *spec == '\0')
		return 0;
	for (const char *s = spec;;) {
		const char *comma = strchr(s, ',');
		size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
		if (parse_item(s, len, prm, seen, err, errlen) != 0)
			return -1;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}
