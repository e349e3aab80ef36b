/*
 * libFuzzer target: stotp.core's handling of ST-Link replies. A link whose
 * every bulk IN returns bytes taken from the fuzz input (format:
 * reply_session.h) stands in for the cable, as link_sim.c stands in for a
 * real probe; bulk OUT always succeeds, and a USB reset succeeds or fails
 * as the next input byte says. Whatever the replies, the core must not
 * read past a reply, trust a length it did not check, or crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "link_internal.h"
#include "reply_session.h"

typedef struct fuzz_link {
	st_link base; /* first: a fuzz_link is an st_link */
	const uint8_t *p, *end;
} fuzz_link;

static int fz_out(st_link *l, const uint8_t *data, size_t len, st_error *e)
{
	(void)l;
	(void)data;
	(void)len;
	(void)e;
	return 0;
}

static int fz_in(st_link *l, uint8_t *data, size_t cap, size_t *got,
		 st_error *e)
{
	fuzz_link *f = (fuzz_link *)l;
	size_t n;

	if (f->end - f->p < 2)
		return st_fail(e, ST_EUSB, 0, "fuzz: input exhausted");
	n = (size_t)f->p[0] | (size_t)f->p[1] << 8;
	f->p += 2;
	if (n == REPLY_FAIL)
		return st_fail(e, ST_EUSB, 0, "fuzz: timeout on bulk IN");
	if (n > (size_t)(f->end - f->p))
		n = (size_t)(f->end - f->p);
	*got = n < cap ? n : cap;
	memcpy(data, f->p, *got);
	f->p += n;
	return 0;
}

static int fz_reset(st_link *l, st_error *e)
{
	fuzz_link *f = (fuzz_link *)l;

	if (f->p < f->end && (*f->p++ & 1) != 0)
		return st_fail(e, ST_EUSB, 0, "fuzz: reset failed");
	return 0;
}

static int fz_stats(const st_link *l, st_link_stats *out)
{
	(void)l;
	(void)out;
	return -1;
}

static void fz_close(st_link *l)
{
	free(l);
}

static const struct st_link_ops fuzz_ops = {
	.bulk_out = fz_out,
	.bulk_in = fz_in,
	.reset = fz_reset,
	.stats = fz_stats,
	.close = fz_close,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_link *f;
	const reply_pid *k;

	if (size < 1)
		return 0;
	f = calloc(1, sizeof *f);
	if (f == NULL)
		return 0;
	k = &reply_pids[data[0] % 4];
	f->base.ops = &fuzz_ops;
	f->base.id.vid = 0x0483;
	f->base.id.pid = k->pid;
	f->base.id.ep_out = k->ep_out;
	f->base.id.ep_in = 0x81;
	f->base.id.max_packet = k->max_packet;
	memcpy(f->base.id.serial, "0123456789ABCDEF01234567", 25);
	f->p = data + 1;
	f->end = data + size;
	reply_session(&f->base);
	return 0;
}
