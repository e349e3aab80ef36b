/*
 * Transfers of the drop-in libusb: synchronous bulk/interrupt transfers,
 * async transfers and the event loop. Sources: libusb 1.0.26 API (libusb.h).
 *
 * Async transfers run in submission order inside libusb_handle_events*,
 * which also delivers their callbacks, as libusb does. Nothing waits in
 * wall time: a transfer that cannot complete (an IN with no reply pending)
 * ends at once as LIBUSB_TRANSFER_TIMED_OUT.
 */
#include "shim.h"

#include <stdlib.h>

int shim_bulk(libusb_device *dev, unsigned char ep, unsigned char *data,
	      int len)
{
	if (dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	if (len < 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	int rc = ep & LIBUSB_ENDPOINT_IN
			 ? vp_board_bulk_in(dev->board, ep, data, (size_t)len)
			 : vp_board_bulk_out(dev->board, ep, data, (size_t)len);
	return shim_usb_err(dev, rc);
}

API int libusb_bulk_transfer(libusb_device_handle *h, unsigned char ep,
			     unsigned char *data, int len, int *transferred,
			     unsigned int timeout)
{
	(void)timeout; /* never waits: see the file comment */
	shim_run_pending(
		h->dev->ctx); /* keep submission order with async transfers */
	int rc = shim_bulk(h->dev, ep, data, len);
	/* libusb reports what a failed transfer moved (short@, faults.h) */
	if (transferred)
		*transferred =
			rc >= 0 ? rc : (int)vp_board_partial(h->dev->board);
	return rc < 0 ? rc : 0;
}

API int libusb_interrupt_transfer(libusb_device_handle *h, unsigned char ep,
				  unsigned char *data, int len,
				  int *transferred, unsigned int timeout)
{
	return libusb_bulk_transfer(h, ep, data, len, transferred, timeout);
}

/* ---- async transfers and events ---- */

API struct libusb_transfer *libusb_alloc_transfer(int iso_packets)
{
	if (iso_packets < 0)
		return NULL;
	size_t size = XFER_HDR + sizeof(struct libusb_transfer)
		      + (size_t)iso_packets
				* sizeof(struct libusb_iso_packet_descriptor);
	char *p = calloc(1, size);
	if (!p)
		return NULL;
	struct libusb_transfer *t = (struct libusb_transfer *)(p + XFER_HDR);
	t->num_iso_packets = iso_packets;
	return t;
}

API void libusb_free_transfer(struct libusb_transfer *t)
{
	if (!t)
		return;
	if (t->flags & LIBUSB_TRANSFER_FREE_BUFFER)
		free(t->buffer);
	free(XFER_OF(t));
}

API int libusb_submit_transfer(struct libusb_transfer *t)
{
	struct xfer *x = XFER_OF(t);
	if (x->queued)
		return LIBUSB_ERROR_BUSY;
	if (!t->dev_handle)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (t->dev_handle->dev->gone)
		return LIBUSB_ERROR_NO_DEVICE;
	if (t->type == LIBUSB_TRANSFER_TYPE_ISOCHRONOUS
	    || t->type == LIBUSB_TRANSFER_TYPE_BULK_STREAM)
		return LIBUSB_ERROR_NOT_SUPPORTED;
	libusb_context *c = t->dev_handle->dev->ctx;
	x->ctx = c;
	x->queued = 1;
	x->cancelled = 0;
	x->next = NULL;
	if (c->tail)
		c->tail->next = x;
	else
		c->head = x;
	c->tail = x;
	return 0;
}

API int libusb_cancel_transfer(struct libusb_transfer *t)
{
	struct xfer *x = XFER_OF(t);
	if (!x->queued || x->cancelled)
		return LIBUSB_ERROR_NOT_FOUND;
	x->cancelled = 1;
	return 0;
}

static enum libusb_transfer_status transfer_status(int rc)
{
	switch (rc) {
	case LIBUSB_ERROR_TIMEOUT:
		return LIBUSB_TRANSFER_TIMED_OUT;
	case LIBUSB_ERROR_NO_DEVICE:
		return LIBUSB_TRANSFER_NO_DEVICE;
	case LIBUSB_ERROR_OVERFLOW:
		return LIBUSB_TRANSFER_OVERFLOW;
	case LIBUSB_ERROR_PIPE:
		return LIBUSB_TRANSFER_STALL;
	default:
		return rc < 0 ? LIBUSB_TRANSFER_ERROR
			      : LIBUSB_TRANSFER_COMPLETED;
	}
}

static void run_one(struct libusb_transfer *t, int cancelled)
{
	libusb_device *dev = t->dev_handle->dev;
	int rc;
	t->actual_length = 0;
	if (cancelled) {
		t->status = LIBUSB_TRANSFER_CANCELLED;
	} else {
		if (t->type == LIBUSB_TRANSFER_TYPE_CONTROL) {
			struct libusb_control_setup *s =
				libusb_control_transfer_get_setup(t);
			rc = shim_usb_err(
				dev,
				shim_control(
					dev, s->bmRequestType, s->bRequest,
					libusb_le16_to_cpu(s->wValue),
					libusb_le16_to_cpu(s->wIndex),
					libusb_control_transfer_get_data(t),
					libusb_le16_to_cpu(s->wLength)));
		} else {
			rc = shim_bulk(dev, t->endpoint, t->buffer, t->length);
		}
		t->status = transfer_status(rc);
		t->actual_length =
			rc >= 0 ? rc : (int)vp_board_partial(dev->board);
		int want = t->type == LIBUSB_TRANSFER_TYPE_CONTROL
				   ? t->length - (int)LIBUSB_CONTROL_SETUP_SIZE
				   : t->length;
		if (t->status == LIBUSB_TRANSFER_COMPLETED
		    && (t->flags & LIBUSB_TRANSFER_SHORT_NOT_OK)
		    && t->actual_length < want)
			t->status = LIBUSB_TRANSFER_ERROR;
	}
	uint8_t free_it = t->flags & LIBUSB_TRANSFER_FREE_TRANSFER;
	if (t->callback)
		t->callback(t);
	if (free_it)
		libusb_free_transfer(t);
}

/* Runs what was submitted before the call, in order; transfers submitted
 * by callbacks wait for the next round, as with a real event loop. */
void shim_run_pending(libusb_context *c)
{
	struct xfer *last = c->tail;
	while (c->head && last) {
		struct xfer *x = c->head;
		c->head = x->next;
		if (!c->head)
			c->tail = NULL;
		x->queued = 0;
		x->next = NULL;
		int cancelled = x->cancelled;
		run_one((struct libusb_transfer *)((char *)x + XFER_HDR),
			cancelled);
		if (x == last)
			break;
	}
}

API int libusb_handle_events_timeout_completed(libusb_context *ctx,
					       struct timeval *tv,
					       int *completed)
{
	(void)tv;
	libusb_context *c = shim_ctx_of(ctx);
	if (!c)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (!(completed && *completed))
		shim_run_pending(c);
	return 0;
}

API int libusb_handle_events_timeout(libusb_context *ctx, struct timeval *tv)
{
	return libusb_handle_events_timeout_completed(ctx, tv, NULL);
}
API int libusb_handle_events(libusb_context *ctx)
{
	return libusb_handle_events_timeout_completed(ctx, NULL, NULL);
}
API int libusb_handle_events_completed(libusb_context *ctx, int *completed)
{
	return libusb_handle_events_timeout_completed(ctx, NULL, completed);
}
API int libusb_handle_events_locked(libusb_context *ctx, struct timeval *tv)
{
	return libusb_handle_events_timeout_completed(ctx, tv, NULL);
}

/* The event lock of a loop that never blocks: always available. */
API int libusb_try_lock_events(libusb_context *ctx)
{
	(void)ctx;
	return 0;
}
API void libusb_lock_events(libusb_context *ctx)
{
	(void)ctx;
}
API void libusb_unlock_events(libusb_context *ctx)
{
	(void)ctx;
}
API int libusb_event_handling_ok(libusb_context *ctx)
{
	(void)ctx;
	return 1;
}
API int libusb_event_handler_active(libusb_context *ctx)
{
	(void)ctx;
	return 0;
}
API void libusb_interrupt_event_handler(libusb_context *ctx)
{
	(void)ctx;
}
API void libusb_lock_event_waiters(libusb_context *ctx)
{
	(void)ctx;
}
API void libusb_unlock_event_waiters(libusb_context *ctx)
{
	(void)ctx;
}
API int libusb_wait_for_event(libusb_context *ctx, struct timeval *tv)
{
	(void)ctx;
	(void)tv;
	return 1;
}
API int libusb_pollfds_handle_timeouts(libusb_context *ctx)
{
	(void)ctx;
	return 1;
}
API int libusb_get_next_timeout(libusb_context *ctx, struct timeval *tv)
{
	(void)ctx;
	(void)tv;
	return 0;
}
API const struct libusb_pollfd **libusb_get_pollfds(libusb_context *ctx)
{
	(void)ctx;
	return calloc(
		1, sizeof(struct libusb_pollfd *)); /* no fds: an empty list */
}
API void libusb_free_pollfds(const struct libusb_pollfd **fds)
{
	free((void *)fds);
}
API void libusb_set_pollfd_notifiers(libusb_context *ctx,
				     libusb_pollfd_added_cb a,
				     libusb_pollfd_removed_cb r, void *u)
{
	(void)ctx;
	(void)a;
	(void)r;
	(void)u;
}
