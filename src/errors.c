/* Error recording for every stotp handle; see errors.h. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

int st_fail(st_error *e, int code, int sys, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	e->sys = sys;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

const char *st_code_name(int code)
{
	/* One table, so the binding and the docs cannot drift apart. */
	static const char *const names[ST_NCODES] = {
		[ST_OK] = "ok",
		[ST_EUSB] = "usb",
		[ST_EPERMISSION] = "permission",
		[ST_EBUSY] = "busy",
		[ST_ENOTFOUND] = "notfound",
		[ST_EAMBIGUOUS] = "ambiguous",
		[ST_ETARGET] = "target",
		[ST_EUNSUPPORTED] = "unsupported",
		[ST_ERANGE] = "range",
		[ST_EBITS] = "bits",
		[ST_ELOCKED] = "locked",
		[ST_EVOLTAGE] = "voltage",
		[ST_EFLASH] = "flash",
		[ST_EVERIFY] = "verify",
		[ST_EWAIT] = "wait",
		[ST_ECLOSED] = "closed",
	};

	if (code < 0 || code >= ST_NCODES)
		return "usb";
	return names[code];
}
