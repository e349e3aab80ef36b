/*
 * The inside of a link (link.h): its operations and identity. Only the C
 * core includes this header (link_*.c, stlink*.c through stlink_internal.h);
 * the Lua binding sees st_link as an incomplete type.
 */
#ifndef STOTP_LINK_INTERNAL_H
#define STOTP_LINK_INTERNAL_H

#include "link.h"

struct st_link_ops {
	/* Whole transfer or failure: returns 0, or -1 with e set. */
	int (*bulk_out)(st_link *l, const uint8_t *data, size_t len,
			st_error *e);
	/* Reads one reply of at most cap bytes; *got is its length. */
	int (*bulk_in)(st_link *l, uint8_t *data, size_t cap, size_t *got,
		       st_error *e);
	/* Brings the probe back in step after a failed transfer (OOCD
	 * stlink_usb_usb_open): a USB reset of the device (the firmware
	 * restarts: a half-received data phase and unread replies are gone),
	 * then stale replies drained. 0, or -1 with e set when the probe cannot
	 * be reset. */
	int (*reset)(st_link *l, st_error *e);
	/* 0 and *out filled if the link knows the model's counters, else -1. */
	int (*stats)(const st_link *l, st_link_stats *out);
	void (*close)(st_link *l);
};

struct st_link {
	const struct st_link_ops *ops;
	st_link_identity id;
};

static inline void link_close(st_link *l)
{
	if (l != NULL)
		l->ops->close(l);
}

#endif
