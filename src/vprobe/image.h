/*
 * The board image: the persistent state of one virtual board, as a text file
 * a person can read and diff. Only what survives a power cycle is stored:
 * the part, its UID, the RDP level, OTP data and lock bytes.
 *
 * Saved atomically (temporary file, fsync, rename, fsync of the directory) so
 * that a crash never leaves a half-written image.
 */
#ifndef STOTP_VPROBE_IMAGE_H
#define STOTP_VPROBE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parts.h"

#define VP_OTP_MAX 1024 /* largest data area: F74x-F77x, 16 x 64 B */

typedef struct vp_image {
	const vp_part *part;
	uint8_t uid[12];
	uint8_t rdp; /* OPTCR[15:8]: 0xAA level 0, 0xCC level 2, other level 1 */
	uint8_t otp
		[VP_OTP_MAX]; /* only the first 16*block_size bytes are used */
	uint8_t lock[16];     /* 0xFF unlocked, 0x00 locked */
	bool dirty;           /* changed since load/save */
	/* Added by the target side: FLASH_SR error bits the part shows after
	 * power-up and reset (ST community 20564, 351906: PGSERR|PGPERR =
	 * 0xC0); image key "sr_at_reset", 0 when absent. */
	uint32_t sr_at_reset;
	/* Who starts the watchdogs (enum vp_wdg_start, wdg.h): image keys
	 * "iwdg off|firmware|option" and "wwdg off|firmware", off when
	 * absent. "option" is the hardware watchdog, option bit WDG_SW = 0. */
	uint8_t iwdg, wwdg;
	/* Image key "dcache firmware": the firmware enables the F2/F4 flash
	 * data cache (FLASH_ACR DCEN, as HAL_Init does) after each reset. */
	bool dcache;
	/* Image key "boot swd-off|sleep" (enum vp_boot, mcu.h): what the
	 * firmware does soon after it starts; absent: nothing to the debug
	 * port. */
	uint8_t boot;
} vp_image;

/* Load `path`; if it does not exist, make a fresh board of part `target`
 * (all OTP 0xFF, unlocked, RDP level 0, a new random UID) and save it.
 * Returns 0 or -1 with a message naming the file and line. */
int vp_image_load(vp_image *img, const char *path, const char *target,
		  char *err, size_t errlen);

/* A fresh board of `part` in memory only (random UID, OTP and locks 0xFF,
 * RDP level 0), marked dirty. Returns 0 or -1 when no randomness is
 * available. */
int vp_image_fresh(vp_image *img, const vp_part *part, char *err,
		   size_t errlen);

/* Write atomically. Returns 0 or -1 with a message. Clears img->dirty. */
int vp_image_save(vp_image *img, const char *path, char *err, size_t errlen);

#endif
