/* The flash data cache (dcache.h). Sources: RM0090 §3.5.2, CMSIS FLASH_ACR. */
#include "dcache.h"

#include <string.h>

void vp_dcache_invalidate(vp_dcache *c)
{
	memset(c, 0, sizeof *c);
}

uint8_t vp_dcache_read(vp_dcache *c, uint32_t addr,
		       uint8_t (*fill)(void *ctx, uint32_t a), void *ctx)
{
	uint32_t tag = addr & ~15u;
	for (unsigned i = 0; i < VP_DCACHE_LINES; i++)
		if (c->line[i].valid && c->line[i].tag == tag)
			return c->line[i].data[addr & 15u];
	unsigned v = c->next;
	c->next = (c->next + 1) % VP_DCACHE_LINES;
	c->line[v].valid = true;
	c->line[v].tag = tag;
	for (unsigned i = 0; i < 16; i++)
		c->line[v].data[i] = fill(ctx, tag + i);
	return c->line[v].data[addr & 15u];
}
