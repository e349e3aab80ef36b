/*
 * SWD clock settings of the ST-Link (see stlink_freq.h), OOCD stlink_usb.c.
 */
#include "stlink_freq.h"

#include <stddef.h>
#include <string.h>

#include "stlink_fw.h"

/* OOCD stlink_khz_to_speed_map_swd (identical in STL inc/stlink.h, OOCD
 * stlink_usb.c); divisor 0 is 4000 per OOCD/STL, 4600 per PYO/PRS: CONFLICT, we
 * follow OOCD. Other divisors: about 3600/(d+1) kHz (model choice). */
unsigned vp_freq_swd_divisor_khz(unsigned d)
{
	static const struct {
		unsigned d, khz;
	} map[] = {
		{ 0, 4000 }, { 1, 1800 }, { 2, 1200 }, { 3, 950 },
		{ 7, 480 },  { 15, 240 }, { 31, 125 }, { 40, 100 },
		{ 79, 50 },  { 158, 25 }, { 265, 15 }, { 798, 5 },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].d == d)
			return map[i].khz;
	return 3600 / (d + 1) ? 3600 / (d + 1) : 1;
}

/* V3 SWD frequencies in kHz, highest first: the list GET_COM_FREQ reports
 * (at most 10 entries, OOCD stlink_usb.c). Values as STLINK-V3 reports them
 * (UNCONFIRMED: no source has a dump). */
static const unsigned v3_swd_khz[] = { 24000, 8000, 3300, 1000, 200, 50, 5 };
#define V3_NFREQ (sizeof v3_swd_khz / sizeof v3_swd_khz[0])

/* The fastest listed speed not above the request, else the slowest
 * (model choice). */
unsigned vp_freq_v3_pick(uint32_t want)
{
	for (size_t i = 0; i < V3_NFREQ; i++)
		if (v3_swd_khz[i] <= want)
			return v3_swd_khz[i];
	return v3_swd_khz[V3_NFREQ - 1];
}

static void put32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

void vp_freq_v3_list_reply(unsigned current_khz, uint8_t out[52])
{
	memset(out, 0, 52);
	out[0] = VP_ST_OK;
	put32(out + 4, current_khz);
	out[8] = (uint8_t)V3_NFREQ;
	for (size_t i = 0; i < V3_NFREQ; i++)
		put32(out + 12 + 4 * i, v3_swd_khz[i]);
}
