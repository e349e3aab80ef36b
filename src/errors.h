/*
 * The error every stotp handle carries: a stable code (mapped to a short
 * string at the Lua boundary), the libusb/errno value behind it, and a
 * message for a person.
 */
#ifndef STOTP_ERRORS_H
#define STOTP_ERRORS_H

#include <stddef.h>

enum st_code {
	ST_OK = 0,
	ST_EUSB,         /* transfer failed, unplugged, protocol violation */
	ST_EPERMISSION,  /* no access to the USB device (udev rule missing) */
	ST_EBUSY,        /* interface claimed by another program */
	ST_ENOTFOUND,    /* no probe, or none with that serial */
	ST_EAMBIGUOUS,   /* several probes and none named */
	ST_ETARGET,      /* target did not answer as an STM32 should */
	ST_EUNSUPPORTED, /* probe firmware or part cannot do this */
	ST_ERANGE,       /* address outside the OTP area, bad block */
	ST_EBITS,        /* a wanted bit needs 0 -> 1 */
	ST_ELOCKED,      /* a wanted byte is in a locked block */
	ST_EVOLTAGE,     /* supply too low or implausible for programming */
	ST_EFLASH,       /* flash controller reported an error */
	ST_EVERIFY,      /* read-back differs from what was written */
	ST_EWAIT,        /* WAIT persisted through every retry */
	ST_ECLOSED,      /* the probe behind this handle was closed */
	ST_ENOMEM,       /* out of memory */
	ST_ESIM,         /* the virtual board cannot be made as asked */
	ST_EPROC,        /* a host process or file call failed (stotp.proc) */
	ST_EINTERNAL,    /* a code stotp does not know: a bug in stotp */
	ST_NCODES
};

/* Room for the longest message stotp writes (the list of parts or quirks
 * the model knows, a probe's words after ours); a longer one is cut with
 * an ellipsis at its end, never silently. */
#define ST_MSG_MAX 1024

typedef struct st_error {
	int code; /* enum st_code */
	int sys;  /* libusb or errno value, 0 if none */
	char msg[ST_MSG_MAX];
} st_error;

/* Record an error and return -1, so callers write `return st_fail(...)`.
 * A message longer than msg ends in "..." (U+2026). */
int st_fail(st_error *e, int code, int sys, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The short string a Lua caller branches on: "usb", "locked", ...;
 * "internal" for a code outside the enum (README "Error codes"). */
const char *st_code_name(int code);

#endif
