/*
 * The exclusive hold on a board that claiming the probe's debug interface
 * gives (vp_board_claim, vprobe.h): an flock(2) on "<image>.lock", beside
 * the board image. flock locks belong to an open file description, so a
 * second claim conflicts whether it comes from another process, another
 * libusb context of the same process, or another handle: as on Linux, where
 * usbfs gives each open of the device node its own claim and
 * usb_driver_claim_interface answers -EBUSY to the second
 * (drivers/usb/core/driver.c), which libusb reports as LIBUSB_ERROR_BUSY.
 * The kernel drops the lock when the descriptor closes, so a process that
 * exits or crashes holding a probe frees it, as closing the usbfs file
 * releases its interfaces (drivers/usb/core/devio.c, usbdev_release).
 */
#ifndef STOTP_VPROBE_CLAIM_LOCK_H
#define STOTP_VPROBE_CLAIM_LOCK_H

#include <stddef.h>

enum vp_lock_result { VP_LOCK_HELD = 0, VP_LOCK_BUSY = 1, VP_LOCK_ERROR = 2 };

/* Take the lock of image `image_path` without waiting. VP_LOCK_HELD puts
 * the descriptor that holds it in *fd; VP_LOCK_BUSY: someone else holds
 * it; VP_LOCK_ERROR: the lock file cannot be opened (message in err). */
enum vp_lock_result vp_lock_take(const char *image_path, int *fd, char *err,
				 size_t errlen);

/* Release a lock taken by vp_lock_take on the same image (fd < 0:
 * nothing); the lock file is removed. */
void vp_lock_drop(const char *image_path, int fd);

#endif
