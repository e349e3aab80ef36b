/*
 * VPROBE_FAULT parsing and triggering (DESIGN.md "Environment"). A bad spec
 * is refused at open with the offending item named: a fault test that
 * silently injects nothing would pass for the wrong reason.
 */
#include "faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum vp_fault_kind kind;
} names[] = {
	{ "unplug", VP_FAULT_UNPLUG },
	{ "reset", VP_FAULT_RESET },
	{ "powerloss", VP_FAULT_POWERLOSS },
	{ "wait", VP_FAULT_WAIT },
};

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

static int parse_item(vp_fault *f, const char *s, size_t len)
{
	const char *end = s + len, *at = memchr(s, '@', len);
	if (!at)
		return -1;
	size_t i, nlen = (size_t)(at - s);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i].name) == nlen && memcmp(names[i].name, s, nlen) == 0)
			break;
	if (i == sizeof names / sizeof names[0])
		return -1;
	f->kind = names[i].kind;
	f->k = 0;
	const char *colon = memchr(at, ':', (size_t)(end - at));
	if (f->kind == VP_FAULT_WAIT) {
		if (!colon || parse_count(colon + 1, end, &f->k) != 0)
			return -1;
		end = colon;
	} else if (colon) {
		return -1;
	}
	return parse_count(at + 1, end, &f->n);
}

int vp_faults_parse(vp_faults *f, const char *spec, char *err, size_t errlen)
{
	f->count = 0;
	if (!spec)
		return 0;
	const char *s = spec;
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (f->count == VP_FAULTS_MAX) {
			snprintf(err, errlen, "VPROBE_FAULT: more than %d faults", VP_FAULTS_MAX);
			return -1;
		}
		if (parse_item(&f->list[f->count], s, len) != 0) {
			snprintf(err, errlen,
			         "VPROBE_FAULT: bad item '%.*s' (want unplug@N, reset@N, powerloss@N or wait@N:K, N >= 1)",
			         (int)len, s);
			return -1;
		}
		f->count++;
		s += len;
		if (*s == ',')
			s++;
	}
	return 0;
}

vp_fault_actions vp_faults_on_command(const vp_faults *f, uint64_t n)
{
	vp_fault_actions a = { 0, 0, 0 };
	for (size_t i = 0; i < f->count; i++) {
		const vp_fault *x = &f->list[i];
		switch (x->kind) {
		case VP_FAULT_UNPLUG: a.unplug |= n >= x->n; break;
		case VP_FAULT_RESET: a.reset |= n == x->n; break;
		case VP_FAULT_WAIT: if (n == x->n) a.waits += x->k; break;
		case VP_FAULT_POWERLOSS: break;
		}
	}
	return a;
}

unsigned vp_faults_powerloss_at(const vp_faults *f)
{
	uint64_t at = 0;
	for (size_t i = 0; i < f->count; i++)
		if (f->list[i].kind == VP_FAULT_POWERLOSS && (at == 0 || f->list[i].n < at))
			at = f->list[i].n;
	return at > 0xFFFFFFFFu ? 0xFFFFFFFFu : (unsigned)at;
}
