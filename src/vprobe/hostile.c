/*
 * VPROBE_HOSTILE, a broken probe (hostile.h). A bad spec is refused at open
 * with the item named, as VPROBE_FAULT's: a hostile test that silently
 * injects nothing would pass for the wrong reason.
 */
#include "hostile.h"

#include "speclist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS         "short@N, long@N, status@N, refuse@N or idcode@N (N >= 1)"
#define BAD_STATUS    0x37 /* in no status table (hostile.h) */
#define UNKNOWN_CMD   0x42 /* JTAG_UNKNOWN_CMD (pyOCD constants.py) */
#define DBGMCU_IDCODE 0xE0042000u
#define LONG_EXTRA    4

/* indexed by enum vp_hostile_kind */
static const char *const names[] = {
	[VP_HOSTILE_SHORT] = "short",   [VP_HOSTILE_LONG] = "long",
	[VP_HOSTILE_STATUS] = "status", [VP_HOSTILE_REFUSE] = "refuse",
	[VP_HOSTILE_IDCODE] = "idcode",
};

static int parse_item(vp_hostile *h, const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	char num[24], *end;
	size_t i, nlen;

	if (!at || (size_t)(s + len - at - 1) >= sizeof num
	    || s + len - at - 1 == 0)
		return -1;
	nlen = (size_t)(at - s);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == nlen && memcmp(names[i], s, nlen) == 0)
			break;
	if (i == sizeof names / sizeof names[0])
		return -1;
	memcpy(num, at + 1, (size_t)(s + len - at - 1));
	num[s + len - at - 1] = '\0';
	if (num[0] < '0' || num[0] > '9')
		return -1;
	errno = 0;
	unsigned long long n = strtoull(num, &end, 10);
	if (errno || *end || n == 0)
		return -1;
	h->list[h->count].kind = (enum vp_hostile_kind)i;
	h->list[h->count].n = n;
	return 0;
}

static int hostile_item(void *ctx, size_t i, const char *s, size_t len)
{
	vp_hostile *h = ctx;

	h->count = i;
	return parse_item(h, s, len);
}

int vp_hostile_parse(vp_hostile *h, const char *spec, char *err, size_t errlen)
{
	int n = vp_spec_each(spec, "VPROBE_HOSTILE", ITEMS, VP_HOSTILE_MAX,
			     hostile_item, h, err, errlen);

	h->count = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

/* kind armed exactly at n (idcode: from n on) */
static int armed(const vp_hostile *h, enum vp_hostile_kind kind, uint64_t n)
{
	for (size_t i = 0; i < h->count; i++)
		if (h->list[i].kind == kind
		    && (kind == VP_HOSTILE_IDCODE ? n >= h->list[i].n
						  : n == h->list[i].n))
			return 1;
	return 0;
}

/* The command packet zero-padded to 16 bytes, as every command is sent
 * (OpenOCD 0.12.0 src/jtag/drivers/stlink_usb.c STLINK_CMD_SIZE_V2). */
static void padded(const uint8_t *cmd, size_t len, uint8_t out[16])
{
	memset(out, 0, 16);
	memcpy(out, cmd, len < 16 ? len : 16);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
	       | (uint32_t)p[3] << 24;
}

/* Replies whose byte 0 is a status (or GET_CURRENT_MODE's mode): the F2
 * subcommands of OpenOCD 0.12.0 stlink_usb.c that answer a status, and F5.
 * Memory reads answer raw data (their status comes from 3B/3E). */
static int has_status(const uint8_t c[16])
{
	static const uint8_t subs[] = { 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
					0x36, 0x3A, 0x3B, 0x3C, 0x3E, 0x40,
					0x41, 0x43, 0x44, 0x45, 0x46, 0x4B,
					0x4C, 0x56, 0x61, 0x62, 0x63 };
	if (c[0] == 0xF5)
		return 1;
	return c[0] == 0xF2 && memchr(subs, c[1], sizeof subs) != NULL;
}

uint32_t vp_hostile_other_idcode(uint32_t v)
{
	uint32_t dev = (v & 0xFFFu) == 0x451u ? 0x419u : 0x451u;

	return (v & ~0xFFFu) | dev;
}

int vp_hostile_idcode_armed(const vp_hostile *h, uint64_t n)
{
	return armed(h, VP_HOSTILE_IDCODE, n);
}

static void swap_idcode(uint8_t *p)
{
	uint32_t v = vp_hostile_other_idcode(le32(p));

	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* idcode@: READDEBUGREG 0xE0042000 ([4..7] of its reply) or a READMEM_32BIT
 * that covers it (address at [2..5], length at [6..7]: OpenOCD 0.12.0
 * stlink_usb.c stlink_usb_read_mem32). */
static void idcode_reply(const uint8_t c[16], uint8_t *reply, size_t len)
{
	uint32_t addr = le32(c + 2);
	size_t n = (size_t)(c[6] | c[7] << 8);

	if (c[0] != 0xF2)
		return;
	if (c[1] == 0x36 && addr == DBGMCU_IDCODE && len >= 8)
		swap_idcode(reply + 4);
	if (c[1] == 0x07 && addr <= DBGMCU_IDCODE
	    && DBGMCU_IDCODE + 4 <= (uint64_t)addr + n
	    && DBGMCU_IDCODE - addr + 4 <= len)
		swap_idcode(reply + (DBGMCU_IDCODE - addr));
}

int vp_hostile_refuse(const vp_hostile *h, uint64_t n, const uint8_t *cmd,
		      size_t len, uint8_t *reply, size_t *reply_len)
{
	(void)cmd;
	(void)len;
	if (!armed(h, VP_HOSTILE_REFUSE, n))
		return 0;
	reply[0] = UNKNOWN_CMD;
	reply[1] = 0;
	*reply_len = 2;
	return 1;
}

int vp_hostile_on_reply(const vp_hostile *h, uint64_t n, const uint8_t *cmd,
			size_t len, uint8_t *reply, size_t *reply_len,
			size_t cap)
{
	uint8_t c[16];
	int changed = 0;

	padded(cmd, len, c);
	if (armed(h, VP_HOSTILE_REFUSE, n))
		return 1; /* its reply stays queued (hostile.h) */
	if (armed(h, VP_HOSTILE_IDCODE, n))
		idcode_reply(c, reply, *reply_len);
	if (*reply_len == 0)
		return 0;
	if (armed(h, VP_HOSTILE_STATUS, n) && has_status(c)) {
		reply[0] = BAD_STATUS;
		changed = 1;
	}
	if (armed(h, VP_HOSTILE_SHORT, n)) {
		*reply_len /= 2;
		changed = 1;
	}
	if (armed(h, VP_HOSTILE_LONG, n) && *reply_len + LONG_EXTRA <= cap) {
		static const uint8_t extra[LONG_EXTRA] = { 0x80, 0, 0, 0 };
		memcpy(reply + *reply_len, extra, LONG_EXTRA);
		*reply_len += LONG_EXTRA;
		changed = 1;
	}
	return changed;
}
