/*
 * Seeds for fuzz_replies: the replies vprobe gives the reply session
 * (reply_session.h), recorded in the fuzz input format.
 *   record_replies OUT IMAGE PART PROBE    e.g. stm32f407vg v2:J37
 * PROBE picks the vprobe firmware; the recorded PID byte is the one of
 * reply_pids[] that has the same PID as the model's probe.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link_internal.h"
#include "reply_session.h"

typedef struct rec_link {
	st_link base; /* first */
	st_link *inner;
	FILE *out;
} rec_link;

static int rec_out(st_link *l, const uint8_t *data, size_t len, st_error *e)
{
	rec_link *r = (rec_link *)l;

	return r->inner->ops->bulk_out(r->inner, data, len, e);
}

static int rec_in(st_link *l, uint8_t *data, size_t cap, size_t *got,
		  st_error *e)
{
	rec_link *r = (rec_link *)l;
	int rc = r->inner->ops->bulk_in(r->inner, data, cap, got, e);
	size_t n = rc == 0 ? *got : REPLY_FAIL;

	fputc((int)(n & 0xFF), r->out);
	fputc((int)(n >> 8), r->out);
	if (rc == 0)
		fwrite(data, 1, *got, r->out);
	return rc;
}

static int rec_reset(st_link *l, st_error *e)
{
	rec_link *r = (rec_link *)l;
	int rc = r->inner->ops->reset(r->inner, e);

	fputc(rc == 0 ? 0 : 1, r->out);
	return rc;
}

static int rec_stats(const st_link *l, st_link_stats *out)
{
	const rec_link *r = (const rec_link *)l;

	return r->inner->ops->stats(r->inner, out);
}

static void rec_close(st_link *l)
{
	rec_link *r = (rec_link *)l;

	link_close(r->inner);
	free(r);
}

static const struct st_link_ops rec_ops = {
	.bulk_out = rec_out,
	.bulk_in = rec_in,
	.reset = rec_reset,
	.stats = rec_stats,
	.close = rec_close,
};

int main(int argc, char **argv)
{
	st_sim_options o = { 0 };
	st_error e = { 0 };
	rec_link *r;
	FILE *out;
	int kind = 0, got;

	if (argc != 5) {
		fprintf(stderr, "usage: %s OUT IMAGE PART PROBE\n", argv[0]);
		return 2;
	}
	o.path = argv[2];
	o.part = argv[3];
	o.probe = argv[4];
	r = calloc(1, sizeof *r);
	if (r == NULL || link_sim_open(&r->inner, &o, &e) != 0) {
		fprintf(stderr, "record_replies: %s\n", e.msg);
		return 1;
	}
	for (int i = 0; i < 4; i++)
		if (reply_pids[i].pid == r->inner->id.pid)
			kind = i;
	r->base.ops = &rec_ops;
	r->base.id = r->inner->id;
	out = fopen(argv[1], "wb");
	if (out == NULL) {
		perror(argv[1]);
		return 1;
	}
	r->out = out;
	fputc(kind, out);
	got = reply_session(&r->base); /* closes r */
	fclose(out);
	printf("%s: session reached step %d of 5\n", argv[1], got);
	return 0;
}
