/*
 * The ST-Link's SWD clock settings: the SWD_SET_FREQ (F2 43) divisor table
 * of V2/V2-1 and the kHz list of STLINK-V3's APIV3_SET/GET_COM_FREQ
 * (F2 61/62), OOCD stlink_usb.c. The firmware model charges SWD time at the
 * speed chosen here.
 */
#ifndef STOTP_VPROBE_STLINK_FREQ_H
#define STOTP_VPROBE_STLINK_FREQ_H

#include <stdint.h>

/* The power-on SWD speed: the OOCD/STL default divisor 1 (OOCD
 * stlink_usb.c). */
#define VP_FREQ_DEFAULT_KHZ 1800

/* SWD_SET_FREQ divisor -> kHz. */
unsigned vp_freq_swd_divisor_khz(unsigned divisor);

/* APIV3_SET_COM_FREQ: the speed a V3 sets for a request of want_khz. */
unsigned vp_freq_v3_pick(uint32_t want_khz);

/* The 52-byte APIV3_GET_COM_FREQ reply: [0] status OK, [4..7] current kHz,
 * [8] count, the list from [12] (OOCD stlink_usb.c). */
void vp_freq_v3_list_reply(unsigned current_khz, uint8_t out[52]);

#endif
