/*
 * The F2/F4 flash data cache as a debugger's reads may meet it (CMSIS
 * FLASH_ACR; RM0090 §3.5.2 "ART accelerator": 8 lines of 128 bits, DCEN bit 10
 * and DCRST bit 12 of FLASH_ACR, DCRST acting only while DCEN = 0). Whether
 * debug reads of flash and OTP are served from it, and so can be stale after
 * programming, is UNCONFIRMED: quirk dcache=stale (default, the harsher
 * reading) or coherent. Internal to mcu.c.
 */
#ifndef STOTP_VPROBE_DCACHE_H
#define STOTP_VPROBE_DCACHE_H

#include <stdbool.h>
#include <stdint.h>

#define VP_DCACHE_LINES 8
#define VP_ACR_DCEN     (1u << 10)
#define VP_ACR_DCRST    (1u << 12)

typedef struct vp_dcache {
	struct {
		bool valid;
		uint32_t tag;
		uint8_t data[16];
	} line[VP_DCACHE_LINES];
	unsigned next; /* round-robin victim */
} vp_dcache;

void vp_dcache_invalidate(vp_dcache *c);

/* Byte at `addr` through the cache: a hit answers from the line, which
 * programming does not update; a miss fills the line with fill(ctx, a)
 * for its 16 bytes. */
uint8_t vp_dcache_read(vp_dcache *c, uint32_t addr,
		       uint8_t (*fill)(void *ctx, uint32_t a), void *ctx);

#endif
