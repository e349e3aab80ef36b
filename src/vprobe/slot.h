/*
 * The fixture behind one probe: the board image file at the probe's path,
 * as the probe sees it. Whatever lies at that path is the board on the
 * fixture; an operator swapping a board is that file being replaced (for
 * example by an atomic rename), removing it is the file becoming empty (or
 * going away after the probe was opened).
 *
 * Why a swap is only seen as "the old target is gone": on real hardware
 * the ST-Link stays on USB while boards come and go on its SWD cable; the
 * board that is plugged in next powers up with its debug port in reset,
 * which answers nothing until a debugger sends the line reset and reads
 * DPIDR ("the connection sequence", ADIv5.2 IHI0031 §B4.3.4, B4.3.5): what
 * the ST-Link does on DEBUG_ENTER (F2 30, OOCD stlink_usb.c
 * stlink_usb_mode_enter). So after a swap every target access of the old
 * session fails, and the new board appears at the next connect.
 */
#ifndef STOTP_VPROBE_SLOT_H
#define STOTP_VPROBE_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image.h"

/* The identity of the image file last loaded or saved: a rename over
 * the path, another holder's save, an emptied or removed file all change
 * it. */
typedef struct vp_slot {
	bool known;
	uint64_t dev, ino, size;
	int64_t mtime_ns;
} vp_slot;

/* Record what is at `path` now (unknown when it cannot be stat'ed). */
void vp_slot_note(vp_slot *s, const char *path);

/* True when the file at `path` is no longer the one last noted. */
bool vp_slot_changed(const vp_slot *s, const char *path);

/* What a connect finds at `path`: VP_SLOT_BOARD with the image loaded
 * into *img, VP_SLOT_NONE when the fixture holds no board (the file is
 * empty, or missing once the probe is open), VP_SLOT_BAD (message in err)
 * when the image cannot be read. */
enum vp_slot_holds { VP_SLOT_BOARD, VP_SLOT_NONE, VP_SLOT_BAD };
enum vp_slot_holds vp_slot_load(const char *path, const char *target,
				vp_image *img, char *err, size_t errlen);

/* True when `path` is an existing, empty file: a fixture with no board. */
bool vp_slot_empty(const char *path);

/* The file the image really is (a symlink followed, so saves rewrite its
 * target and the claim lock is shared by every name of it); a dangling
 * link is refused. Returns a malloc'd path, or NULL with err. */
char *vp_slot_real_path(const char *path, char *err, size_t errlen);

/* Can the image be saved where it lives? Returns 0, or -1 with err. */
int vp_slot_check_writable(const char *path, char *err, size_t errlen);

/* 12 bytes that name the probe on `path`, for its USB serial: the same
 * for the same slot whatever board is on it, different between slots.
 * A relative path is taken from the current directory. */
void vp_slot_serial_seed(const char *path, uint8_t out[12]);

#endif
