/*
 * Contexts of the drop-in libusb: libusb_init reads VPROBE_STATE (image
 * paths separated by ':'; unset: the file "vprobe-board.img" in the current
 * directory, so burned bits persist where the user ran the tool) and opens
 * one board per image; libusb_exit closes them and writes the summed stats
 * to VPROBE_STATS. Also the logging/option entry points that act on a
 * context. Sources: libusb 1.0.26 API (libusb.h).
 */
#include "shim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_STATE "vprobe-board.img"

/* libusb's API makes NULL mean "the default context", which therefore has
 * to live in a process-wide variable (as in libusb itself). It is the only
 * mutable static of the model, guarded by its mutex. */
static libusb_context *default_ctx;
static pthread_mutex_t default_lock = PTHREAD_MUTEX_INITIALIZER;

libusb_context *shim_ctx_of(libusb_context *ctx)
{
	if (ctx)
		return ctx;
	pthread_mutex_lock(&default_lock);
	ctx = default_ctx;
	pthread_mutex_unlock(&default_lock);
	return ctx;
}

/* vp_usb_status values are libusb's error codes (vprobe.h). */
int shim_usb_err(libusb_device *dev, int rc)
{
	if (rc == VP_USB_NO_DEVICE)
		dev->gone = 1;
	return rc;
}

static void ctx_free(libusb_context *c)
{
	vp_stats sum = { 0 };
	for (size_t i = 0; i < c->ndev; i++) {
		vp_stats s = vp_board_stats(c->devs[i].board);
		sum.transactions += s.transactions;
		sum.bytes_out += s.bytes_out;
		sum.bytes_in += s.bytes_in;
		sum.sim_us += s.sim_us;
		sum.watchdog_resets += s.watchdog_resets;
		vp_board_close(c->devs[i].board);
	}
	if (c->stats_path)
		vp_stats_write(&sum, c->stats_path);
	free(c->stats_path);
	free(c->devs);
	free(c);
}

static int ctx_open_boards(libusb_context *c)
{
	const char *env = getenv("VPROBE_STATE");
	char *paths = strdup(env && *env ? env : DEFAULT_STATE);
	size_t n = 1;
	if (!paths)
		return LIBUSB_ERROR_NO_MEM;
	for (const char *p = paths; *p; p++)
		n += *p == ':';
	c->devs = calloc(n, sizeof *c->devs);
	int rc = c->devs ? 0 : LIBUSB_ERROR_NO_MEM;
	char *save = NULL;
	for (char *path = strtok_r(paths, ":", &save); path && rc == 0;
	     path = strtok_r(NULL, ":", &save)) {
		vp_options opt;
		char err[512];
		vp_options_from_env(&opt, path, (unsigned)c->ndev);
		opt.stats_path =
			NULL; /* summed over the boards at libusb_exit */
		if (vp_board_open(&c->devs[c->ndev].board, &opt, err,
				  sizeof err)
		    != 0) {
			fprintf(stderr, "vprobe: %s\n", err);
			rc = LIBUSB_ERROR_OTHER;
			break;
		}
		c->devs[c->ndev].ctx = c;
		c->ndev++;
	}
	free(paths);
	return rc;
}

API int libusb_init(libusb_context **out)
{
	if (!out) {
		pthread_mutex_lock(&default_lock);
		int rc = 0;
		if (default_ctx) {
			default_ctx->refs++;
		} else {
			libusb_context *c = NULL;
			pthread_mutex_unlock(&default_lock);
			rc = libusb_init(&c);
			pthread_mutex_lock(&default_lock);
			if (rc == 0 && default_ctx) { /* another thread won */
				ctx_free(c);
				default_ctx->refs++;
			} else if (rc == 0) {
				default_ctx = c;
				c->refs = 1;
			}
		}
		pthread_mutex_unlock(&default_lock);
		return rc;
	}
	libusb_context *c = calloc(1, sizeof *c);
	if (!c)
		return LIBUSB_ERROR_NO_MEM;
	const char *stats = getenv("VPROBE_STATS");
	c->stats_path = stats && *stats ? strdup(stats) : NULL;
	int rc = ctx_open_boards(c);
	if (rc != 0) {
		free(c->stats_path);
		c->stats_path = NULL;
		ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

API void libusb_exit(libusb_context *ctx)
{
	if (!ctx) {
		pthread_mutex_lock(&default_lock);
		libusb_context *c = default_ctx;
		if (c && --c->refs == 0)
			default_ctx = NULL;
		else
			c = NULL;
		pthread_mutex_unlock(&default_lock);
		if (c)
			ctx_free(c);
		return;
	}
	ctx_free(ctx);
}

API void libusb_set_debug(libusb_context *ctx, int level)
{
	(void)ctx;
	(void)level;
}
API void libusb_set_log_cb(libusb_context *ctx, libusb_log_cb cb, int mode)
{
	(void)ctx;
	(void)cb;
	(void)mode;
}
API int libusb_set_option(libusb_context *ctx, enum libusb_option option, ...)
{
	(void)ctx;
	return option == LIBUSB_OPTION_LOG_LEVEL
			       || option == LIBUSB_OPTION_WEAK_AUTHORITY
		       ? LIBUSB_SUCCESS
		       : LIBUSB_ERROR_NOT_SUPPORTED;
}
