/* Walking VPROBE_FAULT / VPROBE_HOSTILE item lists; see speclist.h. */
#include "speclist.h"

#include <stdio.h>
#include <string.h>

int vp_spec_each(const char *spec, const char *var, const char *want,
		 size_t max, vp_spec_item item, void *ctx, char *err,
		 size_t errlen)
{
	const char *s = spec;
	size_t n = 0;

	while (s && *s) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (n == max) {
			snprintf(err, errlen, "%s: more than %zu items", var,
				 max);
			return -1;
		}
		if (item(ctx, n, s, len) != 0) {
			snprintf(err, errlen, "%s: bad item '%.*s' (want %s)",
				 var, (int)len, s, want);
			return -1;
		}
		n++;
		s += len;
		if (*s == ',')
			s++;
	}
	return (int)n;
}
