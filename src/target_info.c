/* What a front end may read of a target handle; see target.h. The handle
 * itself stays opaque above the C core (target_internal.h). */
#include <string.h>

#include "target_internal.h"

const st_error *target_error(const target *t)
{
	return &t->st->err;
}

const target_ident *target_id(const target *t)
{
	return &t->id;
}

int target_uid(const target *t, uint8_t out[12])
{
	if (!t->have_uid)
		return 0;
	memcpy(out, t->uid, sizeof t->uid);
	return 1;
}

unsigned target_flash_kib(const target *t)
{
	return t->flash_kib;
}

int target_rdp(const target *t)
{
	return t->rdp;
}

uint32_t target_cpuid(const target *t)
{
	return t->cpuid;
}
