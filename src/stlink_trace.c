/*
 * The command log behind stotp's probe:trace(): each command packet, and
 * for RW_MISC_OUT the register reads and writes of its data phase.
 */
#include <stdlib.h>
#include <string.h>

#include "stlink_cmd.h"
/* The command log (stotp probe:trace()): bounded, so a forgotten trace
 * cannot grow without limit; later commands are counted as dropped. */
int stlink_trace_start(stlink *s, size_t cap)
{
	stlink_trace_stop(s);
	s->trace = calloc(cap, sizeof *s->trace);
	if (s->trace == NULL)
		return st_fail(&s->err, ST_ENOMEM, 0, "out of memory");
	s->trace_cap = cap;
	return 0;
}

void stlink_trace_stop(stlink *s)
{
	free(s->trace);
	s->trace = NULL;
	s->trace_n = s->trace_cap = 0;
	s->trace_dropped = 0;
}

/* RW_MISC_OUT (F2 51) carries its register reads and writes in the data
 * phase, the command only their count (OpenOCD 0.12.0
 * src/jtag/drivers/stlink_usb.c stlink_usb_rw_misc_out): without the data
 * a batched FLASH_KEYR or DBGMCU write would be invisible in the trace.
 * Other data phases are memory data whose address and length the command
 * already names. The data is recorded as handed to the link, also when its
 * transfer then fails: a trace errs towards what may have been written. */
void stlink_trace_add(stlink *s, const uint8_t cmd[CMD_LEN],
		      const uint8_t *data, size_t dlen)
{
	stlink_trace_entry *e;
	size_t room = sizeof e->bytes - CMD_LEN;

	if (s->trace == NULL)
		return;
	if (s->trace_n >= s->trace_cap) {
		s->trace_dropped++;
		return;
	}
	e = &s->trace[s->trace_n++];
	memcpy(e->bytes, cmd, CMD_LEN);
	e->len = CMD_LEN;
	if (cmd[0] != DEBUG_CMD || cmd[1] != 0x51 || data == NULL)
		return;
	/* stlink_mem.c asserts a full batch fits; never more than room */
	dlen = dlen < room ? dlen : room;
	memcpy(e->bytes + CMD_LEN, data, dlen);
	e->len = (uint16_t)(CMD_LEN + dlen);
}
