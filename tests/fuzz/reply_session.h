/*
 * The host session the reply fuzzer drives over a link: what one
 * `stotp provision` asks of stotp.core (open, attach, read the OTP, write
 * a few bytes, lock their block), each step only after the one before it
 * succeeded. Shared by fuzz_replies.c (replies from the fuzz input) and
 * record_replies.c (replies from vprobe, written out as seed inputs).
 *
 * Input format: one byte that picks the probe's USB identity (reply_pids[]
 * modulo its length), then one record per bulk IN the host makes: a 2-byte
 * little-
 * endian length L, then L reply bytes. L = 0xFFFF makes that transfer fail
 * (a timeout); an input that ends makes every later one fail. The host
 * gets min(L, cap) bytes, as libusb reports a short or full packet; the
 * rest of a longer record is skipped.
 */
#ifndef STOTP_FUZZ_REPLY_SESSION_H
#define STOTP_FUZZ_REPLY_SESSION_H

#include <stdint.h>

#include "link.h"

#define REPLY_FAIL 0xFFFFu

/* PID, OUT endpoint, max packet of the probe kinds stotp opens (OpenOCD
 * 0.12.0 src/jtag/drivers/stlink_usb.c, as src/link_usb.c lists them). */
typedef struct reply_pid {
	uint16_t pid;
	uint8_t ep_out;
	uint16_t max_packet;
} reply_pid;
extern const reply_pid reply_pids[4];

/* Runs the session; takes ownership of link. Returns how far it got
 * (0 open failed ... 5 locked). */
int reply_session(st_link *link);

#endif
