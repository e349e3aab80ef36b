/* The host session of the reply fuzzer: see reply_session.h. */
#include <stdint.h>
#include <string.h>

#include "otp.h"
#include "probe.h"
#include "reply_session.h"
#include "stlink.h"
#include "target.h"

const reply_pid reply_pids[4] = {
	{ 0x3748, 0x02, 64 },  /* ST-LINK/V2 */
	{ 0x374B, 0x01, 64 },  /* V2-1 */
	{ 0x374F, 0x01, 512 }, /* V3 */
	{ 0x3753, 0x01, 512 }, /* V3 2VCP */
};

int reply_session(st_link *link)
{
	static const uint8_t want[4] = { 0x12, 0x34, 0x56, 0x78 };
	const uint8_t *const expect[16] = { NULL }; /* lock by this write */
	uint8_t data[1024], locks[16];
	st_error e;
	stlink *st = NULL;
	target *t = NULL;
	otp_stats stats;
	int got = 0;

	memset(&e, 0, sizeof e);
	if (stlink_open(&st, link, &e) != 0)
		return 0;
	got = 1;
	if (target_attach(&t, st, PROBE_DEFAULT_KHZ, 0) != 0)
		goto out;
	got = 2;
	if (otp_usable(t) != 0 || otp_read_all(t, data, locks) != 0)
		goto out;
	got = 3;
	memset(&stats, 0, sizeof stats);
	if (otp_write(t, 0, want, sizeof want, OTP_MODE_BURST, 0, NULL, 0,
		      &stats)
	    != 0)
		goto out;
	got = 4;
	memset(&stats, 0, sizeof stats);
	if (otp_lock(t, 1u, expect, 0, &stats) != 0)
		goto out;
	got = 5;
out:
	if (t != NULL)
		target_free(t);
	stlink_close(st);
	return got;
}
