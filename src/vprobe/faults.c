/*
 * VPROBE_FAULT parsing and triggering (README, vprobe variables). A bad spec
 * is refused at open with the offending item named: a fault test that
 * silently injects nothing would pass for the wrong reason.
 */
#include "faults.h"
#include "speclist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum vp_fault_kind kind;
} names[] = {
	{ "unplug", VP_FAULT_UNPLUG },       { "reset", VP_FAULT_RESET },
	{ "powerloss", VP_FAULT_POWERLOSS }, { "wait", VP_FAULT_WAIT },
	{ "stuck", VP_FAULT_STUCK },         { "corrupt", VP_FAULT_CORRUPT },
	{ "shortin", VP_FAULT_SHORTIN },     { "short", VP_FAULT_SHORT },
	{ "late", VP_FAULT_LATE },
};

#define ITEMS                                                                  \
	"unplug@N, reset@N, powerloss@N, wait@N:K (N, K >= 1), short@N:M (M "  \
	">= 0), late@N, "                                                      \
	"access, stuck@OFFSET:MASK, corrupt@N:OFFSET:XOR or shortin@N:M"

/* A decimal count >= 1 that fills [s, end). */
static int parse_count(const char *s, const char *end, uint64_t *out)
{
	if (s == end || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	if (errno || e != end || v == 0)
		return -1;
	*out = v;
	return 0;
}

/* A number that fills [s, end): decimal, or hexadecimal after "0x" (no
 * octal: "010" is ten), at most `max`. */
static int parse_number(const char *s, const char *end, uint64_t max,
			uint64_t *out)
{
	int base = 10;
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s == end
	    || !(base == 16 ? strchr("0123456789abcdefABCDEF", *s)
			    : strchr("0123456789", *s)))
		return -1;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, base);
	if (errno || e != end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* stuck@OFFSET:MASK; the range of OFFSET is checked against the part at
 * open (vp_faults_apply_stuck). */
static int parse_stuck(vp_fault *f, const char *at, const char *end)
{
	const char *colon = memchr(at, ':', (size_t)(end - at));
	if (!colon || parse_number(at + 1, colon, 0xFFFFFFFFu, &f->n) != 0
	    || parse_number(colon + 1, end, 0xFF, &f->k) != 0 || f->k == 0)
		return -1;
	return 0;
}

/* corrupt@N:OFFSET:XOR (XOR 1..0xFF) and shortin@N:M: the reply faults. */
static int parse_reply_fault(vp_fault *f, const char *at, const char *end)
{
	const char *c1 = memchr(at, ':', (size_t)(end - at)), *c2;
	uint64_t x = 0;

	if (!c1 || parse_count(at + 1, c1, &f->n) != 0)
		return -1;
	c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
	if (f->kind == VP_FAULT_SHORTIN)
		return c2 ? -1 : parse_number(c1 + 1, end, 0xFFFF, &f->k);
	if (!c2 || parse_number(c1 + 1, c2, 0xFFFF, &f->k) != 0
	    || parse_number(c2 + 1, end, 0xFF, &x) != 0 || x == 0)
		return -1;
	f->x = (uint8_t)x;
	return 0;
}

static int parse_item(vp_fault *f, const char *s, size_t len)
{
	const char *end = s + len, *at = memchr(s, '@', len);
	if (len == 6 && memcmp(s, "access", 6) == 0) {
		f->kind = VP_FAULT_ACCESS;
		f->n = f->k = 0;
		return 0;
	}
	if (!at)
		return -1;
	size_t i, nlen = (size_t)(at - s);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == nlen
		    && memcmp(names[i].name, s, nlen) == 0)
			break;
	if (i == sizeof names / sizeof names[0])
		return -1;
	f->kind = names[i].kind;
	f->k = 0;
	f->x = 0;
	if (f->kind == VP_FAULT_STUCK)
		return parse_stuck(f, at, end);
	if (f->kind == VP_FAULT_CORRUPT || f->kind == VP_FAULT_SHORTIN)
		return parse_reply_fault(f, at, end);
	const char *colon = memchr(at, ':', (size_t)(end - at));
	if (f->kind == VP_FAULT_SHORT) {
		/* M may be 0: not one byte of the data phase gets through */
		if (!colon
		    || parse_number(colon + 1, end, 0xFFFFFFFFu, &f->k) != 0)
			return -1;
		end = colon;
	} else if (f->kind == VP_FAULT_WAIT) {
		if (!colon || parse_count(colon + 1, end, &f->k) != 0)
			return -1;
		end = colon;
	} else if (colon) {
		return -1;
	}
	return parse_count(at + 1, end, &f->n);
}

static int fault_item(void *ctx, size_t i, const char *s, size_t len)
{
	return parse_item(&((vp_faults *)ctx)->list[i], s, len);
}

int vp_faults_parse(vp_faults *f, const char *spec, char *err, size_t errlen)
{
	int n = vp_spec_each(spec, "VPROBE_FAULT", ITEMS, VP_FAULTS_MAX,
			     fault_item, f, err, errlen);

	f->count = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

vp_fault_actions vp_faults_on_command(const vp_faults *f, uint64_t n)
{
	vp_fault_actions a = { 0, 0, 0 };
	for (size_t i = 0; i < f->count; i++) {
		const vp_fault *x = &f->list[i];
		switch (x->kind) {
		case VP_FAULT_UNPLUG:
			a.unplug |= n >= x->n;
			break;
		case VP_FAULT_RESET:
			a.reset |= n == x->n;
			break;
		case VP_FAULT_WAIT:
			if (n == x->n)
				a.waits += x->k;
			break;
		default:
			break;
		}
	}
	return a;
}

void vp_faults_on_reply(const vp_faults *f, uint64_t n, uint8_t *reply,
			size_t *len)
{
	for (size_t i = 0; i < f->count; i++) {
		const vp_fault *x = &f->list[i];
		if (x->n != n)
			continue;
		if (x->kind == VP_FAULT_CORRUPT && x->k < *len)
			reply[x->k] ^= x->x;
		else if (x->kind == VP_FAULT_SHORTIN && x->k < *len)
			*len = (size_t)x->k;
	}
}

vp_fault_framing vp_faults_framing(const vp_faults *f, uint64_t n)
{
	vp_fault_framing a = { 0, 0, 0 };
	for (size_t i = 0; i < f->count; i++) {
		const vp_fault *x = &f->list[i];
		if (x->n != n)
			continue;
		if (x->kind == VP_FAULT_SHORT
		    && (!a.short_armed || x->k < a.short_bytes)) {
			a.short_armed = 1;
			a.short_bytes = (size_t)x->k;
		}
		a.late |= x->kind == VP_FAULT_LATE;
	}
	return a;
}

unsigned vp_faults_powerloss_at(const vp_faults *f)
{
	uint64_t at = 0;
	for (size_t i = 0; i < f->count; i++)
		if (f->list[i].kind == VP_FAULT_POWERLOSS
		    && (at == 0 || f->list[i].n < at))
			at = f->list[i].n;
	return at > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)at;
}

int vp_faults_open_denied(const vp_faults *f)
{
	for (size_t i = 0; i < f->count; i++)
		if (f->list[i].kind == VP_FAULT_ACCESS)
			return 1;
	return 0;
}

int vp_faults_apply_stuck(const vp_faults *f, vp_mcu *m, const vp_part *part,
			  char *err, size_t errlen)
{
	uint32_t size = VP_OTP_BLOCKS * part->otp_block_size;
	for (size_t i = 0; i < f->count; i++) {
		const vp_fault *x = &f->list[i];
		if (x->kind != VP_FAULT_STUCK)
			continue;
		if (x->n >= size) {
			snprintf(err, errlen,
				 "VPROBE_FAULT: stuck offset 0x%llx is beyond "
				 "the OTP data area of %s (0x%x bytes)",
				 (unsigned long long)x->n, part->name,
				 (unsigned)size);
			return -1;
		}
		vp_mcu_set_stuck(m, (uint32_t)x->n, (uint8_t)x->k);
	}
	return 0;
}
