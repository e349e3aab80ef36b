/*
 * One virtual board: the USB side of an ST-Link (endpoints, packet framing,
 * pending replies, data phases), its firmware (stlink_fw.c) and target
 * (mcu.h), the persistent image, the simulated clock, stats and injected
 * faults. Implements vprobe.h.
 *
 * Framing (OOCD stlink_usb.c, PYO usb.py): every command is one 16-byte OUT
 * transfer; a write command's data follows as OUT transfers totalling exactly
 * len bytes; a reply is read by one IN transfer of the reply length.
 */
#include "vprobe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "claim_lock.h"
#include "faults.h"
#include "hostile.h"
#include "image.h"
#include "mcu.h"
#include "options.h"
#include "probe_kinds.h"
#include "quirks.h"
#include "realtime.h"
#include "slot.h"
#include "stlink_fw.h"

/* Model parameters, not measurements: the wire time of one byte on a
 * full-speed (12 Mbit/s, with protocol overhead) and a high-speed bus. */
#define NS_PER_BYTE_FS 1000
#define NS_PER_BYTE_HS 100
/* Replies a probe out of step can hold unread. UNCONFIRMED (no source gives
 * the firmware's buffering): a model parameter; beyond it the oldest is
 * lost, which keeps the host out of step either way. */
#define VP_REPLY_QUEUE 4

struct vp_board {
	char *state_path;
	char *stats_path;
	char *target; /* part of a new image (VPROBE_TARGET) */
	vp_image img;
	vp_slot slot; /* the image file last loaded or saved (slot.h) */
	bool absent;  /* no board on the fixture: img is a stand-in */
	double volts; /* the supply of a board on the fixture */
	vp_mcu_params prm;
	vp_realtime rt;
	vp_clock clock;
	vp_mcu *mcu;
	vp_fw *fw;
	vp_probe_kind kind;
	vp_usb_identity id;
	vp_faults faults;
	vp_hostile hostile;
	vp_stats stats;
	long latency_us;
	uint64_t ns_debt;
	double wallclock;      /* VPROBE_WALLCLOCK factor, 0: off */
	uint64_t wall_last_ns; /* host time of the last command packet */
	int lock_fd;           /* the claim (vp_board_claim); -1: not claimed */
	bool unplugged;
	bool dead; /* the image could not be saved: every transfer fails */
	/* Replies not yet read, oldest first. In step, the queue holds at
	 * most the last command's reply; after a framing fault (short@, late@)
	 * the probe is out of step and replies pile up behind the stale one. */
	struct vp_reply {
		uint8_t buf[VP_FW_REPLY_MAX];
		size_t len, off;
		bool late;        /* late@: the next IN misses it */
		bool short_armed; /* short@: the next IN gets short_bytes only */
		size_t short_bytes;
	} replies[VP_REPLY_QUEUE];
	size_t rq_head, rq_count;
	bool out_of_step; /* until a USB reset (faults.h short@, late@) */
	bool short_out;   /* short@ on the current write data phase */
	size_t short_out_left;
	size_t partial; /* bytes the last failed transfer moved */
	uint8_t data[VP_FW_BUF_MAX];
	size_t data_need, data_have;
};

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = malloc(strlen(s) + 1);
	if (d)
		strcpy(d, s);
	return d;
}

static void board_free(vp_board *b)
{
	vp_lock_drop(b->state_path, b->lock_fd);
	vp_fw_free(b->fw);
	vp_mcu_free(b->mcu);
	free(b->state_path);
	free(b->stats_path);
	free(b->target);
	free(b);
}

/* A stand-in image for a fixture with no board: never saved, and its
 * target is unpowered (0 V, no DP answer), as a probe with nothing on its
 * cable sees it. */
static int stand_in(vp_board *b, char *err, size_t errlen)
{
	const vp_part *part = vp_part_find(b->target);
	if (!part) {
		snprintf(err, errlen, "vprobe: unknown target '%s' (known: %s)",
			 b->target, vp_part_names());
		return -1;
	}
	if (vp_image_fresh(&b->img, part, err, errlen) != 0)
		return -1;
	b->img.dirty = false;
	b->absent = true;
	return 0;
}

/* The target for b->img: a new mcu with the model's switches and the
 * board's injected faults, or NULL (message in err). */
static vp_mcu *new_target(vp_board *b, char *err, size_t errlen)
{
	vp_mcu *m = vp_mcu_new(&b->img, b->img.part, &b->clock,
			       b->absent ? 0 : b->volts);
	if (!m) {
		snprintf(err, errlen, "vprobe: out of memory");
		return NULL;
	}
	vp_mcu_set_params(m, &b->prm);
	if (vp_faults_apply_stuck(&b->faults, m, b->img.part, err, errlen)
	    != 0) {
		vp_mcu_free(m);
		return NULL;
	}
	unsigned powerloss_at = vp_faults_powerloss_at(&b->faults);
	if (powerloss_at)
		vp_mcu_arm_powerloss(m, powerloss_at);
	return m;
}

int vp_board_open(vp_board **out, const vp_options *opt, char *err,
		  size_t errlen)
{
	*out = NULL;
	vp_mcu_params prm;
	vp_mcu_params_default(&prm);
	prm.sticky_cleared =
		false; /* the probe's quirk (stlink_fw.h), not the mcu's */
	/* before the image is made: a bad option creates no file */
	if (vp_options_check(opt, err, errlen) != 0
	    || vp_quirks_parse(opt->quirks, &prm, err, errlen) != 0)
		return -1;
	vp_board *b = calloc(1, sizeof *b);
	if (!b) {
		snprintf(err, errlen, "vprobe: out of memory");
		return -1;
	}
	b->lock_fd = -1;
	b->prm = prm;
	b->volts = opt->voltage > 0 ? opt->voltage : 3.3;
	b->rt.on = opt->realtime;
	snprintf(err, errlen, "vprobe: out of memory");
	b->state_path = vp_slot_real_path(opt->state_path, err, errlen);
	b->target = dup_or_null(opt->target ? opt->target : "stm32f429zi");
	b->stats_path = dup_or_null(
		opt->stats_path && *opt->stats_path ? opt->stats_path : NULL);
	if (!b->state_path || !b->target
	    || vp_probe_parse(&b->kind, opt->probe, err, errlen) != 0
	    || vp_faults_parse(&b->faults, opt->fault, err, errlen) != 0
	    || vp_hostile_parse(&b->hostile, opt->hostile, err, errlen) != 0)
		goto fail;
	/* an empty file: the fixture holds no board (slot.h); a missing one
	 * is a new board, created on first use (README, vprobe) */
	if (vp_slot_empty(b->state_path) ? stand_in(b, err, errlen) != 0
					 : vp_image_load(&b->img, b->state_path,
							 b->target, err, errlen)
						   != 0)
		goto fail;
	if (vp_slot_check_writable(b->state_path, err, errlen) != 0)
		goto fail;
	vp_slot_note(&b->slot, b->state_path);
	b->mcu = new_target(b, err, errlen);
	if (!b->mcu)
		goto fail;
	vp_fw_params fwp = { .unknown_cmd_status = VP_ST_UNKNOWN_CMD,
			     .sticky_kept = !prm.sticky_cleared };
	b->fw = vp_fw_new(&b->kind, b->img.part, b->mcu, &b->clock, &fwp);
	if (!b->fw) {
		snprintf(err, errlen, "vprobe: out of memory");
		goto fail;
	}
	uint8_t seed[12];
	vp_slot_serial_seed(opt->state_path, seed);
	vp_probe_identity(&b->kind, seed, opt->index, &b->id);
	b->latency_us =
		opt->latency_us >= 0 ? opt->latency_us : b->kind.latency_us;
	b->wallclock = opt->wallclock > 0 ? opt->wallclock : 0;
	*out = b;
	return 0;
fail:
	board_free(b);
	return -1;
}

/* Has the board been taken off the fixture since it was last loaded or
 * saved (another board, or none, at its path)? Its burned bits went with
 * it: saving them would overwrite the board that is there now. */
static bool board_gone(vp_board *b)
{
	vp_image now;
	char err[256];
	if (!vp_slot_changed(&b->slot, b->state_path))
		return false;
	enum vp_slot_holds h =
		vp_slot_load(b->state_path, b->target, &now, err, sizeof err);
	return h == VP_SLOT_NONE
	       || (h == VP_SLOT_BOARD
		   && (now.part != b->img.part
		       || memcmp(now.uid, b->img.uid, sizeof now.uid) != 0));
}

/* Persist burned bits at once: a host killed after this transfer must
 * find them in the image (README, "The board image"). A save that fails
 * kills the board: the transfer that programmed fails and so does every
 * later one, said once on stderr. A real board never silently forgets a
 * program operation; a model that did would let a host report a burn
 * that is not there (issue 7 item 10). Returns 0 or VP_USB_IO. */
static int save_if_dirty(vp_board *b)
{
	char err[256];
	if (b->dead)
		return VP_USB_IO;
	if (!b->img.dirty)
		return 0;
	if (b->absent || board_gone(b)) {
		b->img.dirty = false;
		return 0;
	}
	if (vp_image_save(&b->img, b->state_path, err, sizeof err) == 0) {
		vp_slot_note(&b->slot, b->state_path);
		return 0;
	}
	b->dead = true;
	fprintf(stderr,
		"vprobe: %s: the board is dead (what it programmed is lost), "
		"every transfer fails from now on\n",
		err);
	return VP_USB_IO;
}

void vp_stats_write(const vp_stats *s, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "vprobe: cannot write stats to %s: %s\n", path,
			strerror(errno));
		return;
	}
	fprintf(f,
		"{\"transactions\": %llu, \"bytes_out\": %llu, \"bytes_in\": "
		"%llu, \"sim_us\": %llu",
		(unsigned long long)s->transactions,
		(unsigned long long)s->bytes_out,
		(unsigned long long)s->bytes_in, (unsigned long long)s->sim_us);
	/* only when there were some: the four fields above are the fixed
	 * format (README, VPROBE_STATS) */
	if (s->watchdog_resets)
		fprintf(f, ", \"watchdog_resets\": %llu",
			(unsigned long long)s->watchdog_resets);
	fputs("}\n", f);
	fclose(f);
}

void vp_board_close(vp_board *b)
{
	if (!b)
		return;
	vp_realtime_settle(&b->rt);
	vp_fw_settle(b->fw); /* a posted write lands within microseconds */
	save_if_dirty(b);
	if (b->stats_path) {
		vp_stats s = vp_board_stats(b);
		vp_stats_write(&s, b->stats_path);
	}
	board_free(b);
}

const vp_usb_identity *vp_board_usb(const vp_board *b)
{
	return &b->id;
}

int vp_board_usb_open(const vp_board *b)
{
	if (b->unplugged)
		return VP_USB_NO_DEVICE;
	return vp_faults_open_denied(&b->faults) ? VP_USB_ACCESS : VP_USB_OK;
}

/* What is on the fixture now (slot.h). Called at each command packet,
 * where the file's identity decides (one stat), and at each connect and
 * claim, where the image is read again (identity alone could miss a save
 * made within one tick of a coarse file clock). The same board (part and
 * UID) saved by another holder: its persistent state is taken up, unless
 * this board has unsaved changes. Another board, or none: the old target
 * is gone and the probe's SWD link with it (vp_fw_retarget). An image
 * that cannot be read leaves the board as it is. */
static void follow_slot(vp_board *b, bool reread)
{
	vp_image fresh;
	char err[256];

	if (!reread && !vp_slot_changed(&b->slot, b->state_path))
		return;
	enum vp_slot_holds h =
		vp_slot_load(b->state_path, b->target, &fresh, err, sizeof err);
	if (h == VP_SLOT_BAD)
		return;
	if (h == VP_SLOT_BOARD && !b->absent && fresh.part == b->img.part
	    && memcmp(fresh.uid, b->img.uid, sizeof fresh.uid) == 0) {
		if (!b->img.dirty) {
			memcpy(b->img.otp, fresh.otp, sizeof fresh.otp);
			memcpy(b->img.lock, fresh.lock, sizeof fresh.lock);
			b->img.rdp = fresh.rdp;
			b->img.sr_at_reset = fresh.sr_at_reset;
			b->img.iwdg = fresh.iwdg;
			b->img.wwdg = fresh.wwdg;
			b->img.dcache = fresh.dcache;
			b->img.boot = fresh.boot;
		}
		vp_slot_note(&b->slot, b->state_path);
		return;
	}
	vp_slot_note(&b->slot, b->state_path);
	if (h == VP_SLOT_NONE && b->absent)
		return;
	vp_mcu *old = b->mcu;
	if (h == VP_SLOT_BOARD) {
		b->img = fresh;
		b->absent = false;
	} else if (stand_in(b, err, sizeof err) != 0) {
		return;
	}
	b->mcu = new_target(b, err, sizeof err);
	if (!b->mcu) {
		b->mcu = old;
		b->dead = true;
		return;
	}
	vp_fw_retarget(b->fw, b->img.part, b->mcu);
	vp_mcu_free(old);
}

int vp_board_claim(vp_board *b, char *err, size_t errlen)
{
	if (b->unplugged) {
		snprintf(err, errlen, "vprobe: the probe of %s is unplugged",
			 b->state_path);
		return VP_USB_NO_DEVICE;
	}
	if (b->lock_fd >= 0) {
		snprintf(err, errlen,
			 "vprobe: %s is already claimed by this board",
			 b->state_path);
		return VP_USB_BUSY;
	}
	switch (vp_lock_take(b->state_path, &b->lock_fd, err, errlen)) {
	case VP_LOCK_HELD:
		break;
	case VP_LOCK_BUSY:
		return VP_USB_BUSY;
	case VP_LOCK_ERROR:
		return VP_USB_IO;
	}
	follow_slot(b, true);
	return VP_USB_OK;
}

void vp_board_release(vp_board *b)
{
	vp_realtime_settle(&b->rt);
	vp_fw_settle(b->fw);
	save_if_dirty(
		b); /* what this holder burned is on disk before the next */
	vp_lock_drop(b->state_path, b->lock_fd);
	b->lock_fd = -1;
}

vp_stats vp_board_stats(const vp_board *b)
{
	vp_stats s = b->stats;
	s.sim_us = b->clock.us;
	s.watchdog_resets = vp_mcu_watchdog_resets(b->mcu);
	return s;
}

static void charge_bytes(vp_board *b, size_t n)
{
	b->ns_debt += n
		      * (uint64_t)(b->kind.hw == VP_HW_V3 ? NS_PER_BYTE_HS
							  : NS_PER_BYTE_FS);
	vp_clock_advance(&b->clock, b->ns_debt / 1000);
	b->ns_debt %= 1000;
}

static void data_phase(vp_board *b, const uint8_t *data, size_t len)
{
	size_t take = len < b->data_need - b->data_have
			      ? len
			      : b->data_need - b->data_have;
	/* a refused over-long write is swallowed whole but not stored */
	if (b->data_have < sizeof b->data) {
		size_t room = sizeof b->data - b->data_have;
		memcpy(b->data + b->data_have, data, take < room ? take : room);
	}
	b->data_have += take;
	if (b->data_have < b->data_need)
		return;
	vp_fw_data(b->fw, b->data,
		   b->data_need < sizeof b->data ? b->data_need
						 : sizeof b->data);
	b->data_need = b->data_have = 0;
}

/* VPROBE_WALLCLOCK: the host's idle time since the previous command
 * packet, scaled, in microseconds (0 when off). The target's oscillators
 * run while a host waits (an operator at a prompt); with the factor a
 * spec can make 0.1 s of waiting stand for 10 s. */
static uint64_t wall_gap_us(vp_board *b)
{
	struct timespec ts;
	uint64_t now, gap;

	if (b->wallclock <= 0 || clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	gap = b->wall_last_ns ? now - b->wall_last_ns : 0;
	b->wall_last_ns = now;
	return (uint64_t)((double)gap / 1000.0 * b->wallclock);
}

/* One command packet. Its number, 1-based from vp_board_open, is the one
 * VPROBE_STATS reports as transactions and the N of unplug@N, reset@N and
 * wait@N:K (faults.h): a single counter, so the two cannot drift apart.
 * Packets the probe never accepts as commands do not count: an over-long
 * one (stalled) and any sent after the unplug. */
static int command(vp_board *b, const uint8_t *data, size_t len)
{
	if (len > VP_FW_CMD_LEN)
		return VP_USB_PIPE; /* UNCONFIRMED: an over-long command packet stalls */
	/* DEBUG_ENTER (F2 30; F2 20 on API v1: OOCD
	 * src/jtag/drivers/stlink_usb.c STLINK_DEBUG_APIV2_ENTER) is the
	 * connect: the image is read again */
	follow_slot(b, len >= 2 && data[0] == 0xF2
			       && (data[1] == 0x30 || data[1] == 0x20));
	uint64_t n = b->stats.transactions + 1;
	vp_fault_actions a = vp_faults_on_command(&b->faults, n);
	if (a.unplug) {
		b->unplugged = true;
		return VP_USB_NO_DEVICE;
	}
	b->stats.transactions = n;
	if (a.reset)
		vp_mcu_reset(b->mcu);
	vp_fw_arm_waits(b->fw, a.waits);
	vp_clock_advance(&b->clock, (uint64_t)b->latency_us + wall_gap_us(b));
	vp_mcu_tick(b->mcu);
	/* In step, an unread reply is dropped by the next command.
	 * UNCONFIRMED: PYO flushes the IN endpoint on open (OOCD stlink_usb.c,
	 * PYO usb.py), so a real probe keeps a stale reply at least until then;
	 * out of step (short@, late@) it is kept, the harsher reading (OOCD
	 * stlink_usb_usb_open). */
	if (!b->out_of_step)
		b->rq_count = 0;
	if (b->rq_count == VP_REPLY_QUEUE) {
		b->rq_head = (b->rq_head + 1) % VP_REPLY_QUEUE;
		b->rq_count--;
	}
	struct vp_reply *r =
		&b->replies[(b->rq_head + b->rq_count) % VP_REPLY_QUEUE];
	vp_fw_hostile_idcode(b->fw, vp_hostile_idcode_armed(&b->hostile, n));
	if (!vp_hostile_refuse(&b->hostile, n, data, len, r->buf, &r->len))
		vp_fw_command(b->fw, data, len, r->buf, &r->len, &b->data_need);
	vp_faults_on_reply(&b->faults, n, r->buf, &r->len);
	if (vp_hostile_on_reply(&b->hostile, n, data, len, r->buf, &r->len,
				sizeof r->buf))
		b->out_of_step = true;
	b->data_have = 0;
	vp_fault_framing fr = vp_faults_framing(&b->faults, n);
	b->short_out = fr.short_armed && b->data_need > fr.short_bytes;
	b->short_out_left = fr.short_bytes;
	if (r->len > 0) {
		r->off = 0;
		r->late = fr.late != 0;
		r->short_armed = fr.short_armed && !b->data_need
				 && r->len > fr.short_bytes;
		r->short_bytes = fr.short_bytes;
		b->rq_count++;
	}
	return (int)len;
}

/* short@N:M on a write's data phase (faults.h): M bytes reach the probe,
 * the transfer fails, and the probe goes on waiting for the rest (OOCD
 * stlink_usb_usb_open), so the host's next OUT transfers become data. */
static int short_data(vp_board *b, const uint8_t *data, size_t len)
{
	size_t take = len < b->short_out_left ? len : b->short_out_left;
	if (take > 0)
		data_phase(b, data, take);
	b->short_out_left -= take;
	b->stats.bytes_out += take;
	charge_bytes(b, take);
	if (take == len)
		return (int)len;
	b->short_out = false;
	b->out_of_step = true;
	b->partial = take;
	return VP_USB_IO;
}

static int bulk_out(vp_board *b, uint8_t ep, const uint8_t *data, size_t len)
{
	if (b->unplugged)
		return VP_USB_NO_DEVICE;
	if (b->dead)
		return VP_USB_IO;
	if (ep != b->id.ep_out)
		return VP_USB_PIPE;
	int rc = (int)len;
	b->partial = 0;
	if (b->data_need && b->short_out) {
		rc = short_data(b, data, len);
		save_if_dirty(b);
		return rc;
	}
	if (b->data_need)
		data_phase(b, data, len);
	else if (len > 0)
		rc = command(b, data, len);
	if (rc >= 0) {
		b->stats.bytes_out += len;
		charge_bytes(b, len);
	}
	if (save_if_dirty(b) != 0)
		return VP_USB_IO;
	return rc;
}

static void reply_pop(vp_board *b)
{
	b->rq_head = (b->rq_head + 1) % VP_REPLY_QUEUE;
	b->rq_count--;
}

/* A reply longer than the buffer: whole packets fit and the rest stays
 * queued; a packet that does not fit is a babble, which libusb reports as
 * LIBUSB_ERROR_OVERFLOW (PRS #609). */
static int bulk_in(vp_board *b, uint8_t ep, uint8_t *data, size_t cap)
{
	if (b->unplugged)
		return VP_USB_NO_DEVICE;
	if (b->dead)
		return VP_USB_IO;
	if (b->id.ep_trace && ep == b->id.ep_trace)
		return VP_USB_TIMEOUT; /* no SWO trace data is ever produced */
	if (ep != b->id.ep_in)
		return VP_USB_PIPE;
	b->partial = 0;
	if (b->rq_count == 0)
		return VP_USB_TIMEOUT;
	struct vp_reply *r = &b->replies[b->rq_head];
	if (r->late) {
		/* late@ (faults.h): this IN times out, the reply comes just
		 * after it and waits for the next IN (OOCD
		 * stlink_usb_usb_open) */
		r->late = false;
		b->out_of_step = true;
		return VP_USB_TIMEOUT;
	}
	size_t left = r->len - r->off;
	size_t n = left;
	bool cut = r->short_armed;
	if (cut) {
		/* short@ on a reply: part of it, then the transfer fails */
		r->short_armed = false;
		b->out_of_step = true;
		n = r->short_bytes < cap ? r->short_bytes : cap;
	} else if (cap < left) {
		if (cap % b->id.max_packet) {
			reply_pop(b);
			return VP_USB_OVERFLOW;
		}
		n = cap;
	}
	memcpy(data, r->buf + r->off, n);
	r->off += n;
	b->stats.bytes_in += n;
	charge_bytes(b, n);
	if (r->off == r->len)
		reply_pop(b);
	if (cut) {
		b->partial = n;
		return VP_USB_IO;
	}
	return (int)n;
}

int vp_board_bulk_out(vp_board *b, uint8_t ep, const uint8_t *data, size_t len)
{
	uint64_t t0 = b->clock.us;
	int rc = bulk_out(b, ep, data, len);
	vp_realtime_owe(&b->rt, b->clock.us - t0); /* seen at the next IN */
	return rc;
}

int vp_board_bulk_in(vp_board *b, uint8_t ep, uint8_t *data, size_t cap)
{
	uint64_t t0 = b->clock.us;
	int rc = bulk_in(b, ep, data, cap);
	vp_realtime_owe(&b->rt, b->clock.us - t0);
	vp_realtime_settle(&b->rt);
	return rc;
}

size_t vp_board_partial(const vp_board *b)
{
	return b->partial;
}

int vp_board_usb_reset(vp_board *b)
{
	if (b->unplugged)
		return VP_USB_NO_DEVICE;
	vp_realtime_settle(&b->rt);
	vp_fw_usb_reset(b->fw);
	/* the probe restarts: pending replies and a half-received data phase
	 * are gone, so the host is back in step (OOCD resets
	 * the device to recover, stlink_usb_usb_open) */
	b->rq_count = b->rq_head = 0;
	b->out_of_step = b->short_out = false;
	b->data_need = b->data_have = 0;
	return VP_USB_OK;
}
