/* Error recording for every stotp handle; see errors.h. */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Ends a cut message with an ellipsis at a UTF-8 character boundary, so
 * the reader sees it was cut and the text stays valid UTF-8. */
static void mark_cut(char *msg, size_t size)
{
	static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */
	size_t end = size - sizeof ellipsis;

	while (end > 0 && ((unsigned char)msg[end] & 0xC0) == 0x80)
		end--;
	memcpy(msg + end, ellipsis, sizeof ellipsis);
}

int st_fail(st_error *e, int code, int sys, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (e == NULL)
		return -1;
	e->code = code;
	e->sys = sys;
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof e->msg)
		mark_cut(e->msg, sizeof e->msg);
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
		[ST_ENOMEM] = "nomem",
		[ST_ESIM] = "sim",
		[ST_EPROC] = "proc",
		[ST_EINTERNAL] = "internal",
	};

	/* Not "usb": a code nobody defined is stotp's bug, not the cable's. */
	if (code < 0 || code >= ST_NCODES)
		return "internal";
	return names[code];
}
