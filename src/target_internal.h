/*
 * The inside of a target handle (target.h). Only the C core includes this
 * header; the Lua binding sees target as an incomplete type and reads what
 * it may through target.h's accessors.
 */
#ifndef STOTP_TARGET_INTERNAL_H
#define STOTP_TARGET_INTERNAL_H

#include "stlink_internal.h"
#include "target.h"

struct target {
	stlink *st; /* borrowed: the probe owns it */
	target_ident id;
	uint32_t cpuid;
	uint8_t uid[12];
	int have_uid;
	unsigned flash_kib;
	int rdp;      /* 0, 1, 2; -1 unknown */
	uint32_t acr; /* FLASH_ACR at attach (F2/F4), else 0 */
	/* What this handle knows of each OTP data byte, so a lock can
	 * check a block's data was verified (safety rule 4): wstate[i] is
	 * an enum otp_wstate; written[i] the value when OTP_W_VERIFIED. */
	uint8_t written[OTP_MAX_DATA];
	uint8_t wstate[OTP_MAX_DATA];
	/* The OTP data and lock bytes as the handle last read them (with the
	 * UID, compared with attach's): trusted only while that read is the
	 * last command sent (cache_stamp == st->commands), so any other
	 * access, a failure, a resync or a reset throws it away. */
	uint64_t cache_stamp;
	uint8_t cache_data[OTP_MAX_DATA], cache_locks[OTP_BLOCKS];
	/* The last command sent read the UID again and it matched attach's
	 * (uid_stamp == st->commands): the guard takes that read as its
	 * own. Attach's own read fills the cache but is not a second read. */
	uint64_t uid_stamp;
	/* FLASH_CR locked and FLASH_SR free of error flags as last seen,
	 * trusted while no write went to the target since (st->writes). */
	uint64_t flash_stamp;
	int cr_locked, sr_clean;
	/* DEMCR as attach's register batch read it (RW_MISC only), for the
	 * release: trusted until the core runs (a release, or a reset the
	 * guard saw). */
	uint32_t demcr;
	int demcr_known;
	/* The supply, read once at attach (issue 12): 0 not read, 1 volts
	 * holds it, 2 the probe's reading was invalid. */
	int volts_state;
	double volts;
};

/* The UID as 24 hex digits, in memory order (target_uid_hex's form). */
void target_uid_format(const uint8_t uid[12], char out[25]);

#endif
