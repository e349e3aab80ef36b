/*
 * ST-Link memory commands (OOCD stlink_usb.c): 8/16/32-bit reads and writes
 * split into commands per the firmware's limits and the 1 KiB TAR block, each
 * followed by its last-rw status; WAIT re-issues the whole command with its
 * data (PRS PR #1406, OOCD stlink_usb.c) unless the caller falls back itself.
 */
#include <string.h>

#include "stlink_cmd.h"

#define MAX_MEM32 6144u /* ST-Link data buffer (OOCD stlink_usb.c) */
#define TAR_BLOCK 1024u /* ADIv5 auto-increment block (OOCD stlink_usb.c) */

/* Status of the last memory command: GETLASTRWSTATUS2 (12 bytes, fault
 * address at [4..7]) from V2J15, else GETLASTRWSTATUS (OOCD stlink_usb.c). */
static int rw_status(stlink *s, int *status)
{
	uint8_t cmd[CMD_LEN], r[12];
	int v2 = (s->features & STF_RWSTATUS2) != 0;

	stlink_cmd_init(cmd, DEBUG_CMD, v2 ? 0x3E : 0x3B);
	if (stlink_xfer(s, v2 ? "GETLASTRWSTATUS2" : "GETLASTRWSTATUS", cmd,
			NULL, 0, r, v2 ? 12 : 2)
	    != 0)
		return -1;
	*status = r[0];
	s->last_status = r[0];
	s->fault_addr = v2 ? st_le32_get(r + 4) : 0;
	return 0;
}

static const char *mem_name(int write, unsigned width)
{
	static const char *const names[2][3] = {
		{ "READMEM_8BIT", "READMEM_16BIT", "READMEM_32BIT" },
		{ "WRITEMEM_8BIT", "WRITEMEM_16BIT", "WRITEMEM_32BIT" },
	};

	return names[write][width == 1 ? 0 : width == 2 ? 1 : 2];
}

static uint8_t mem_sub(int write, unsigned width)
{
	static const uint8_t subs[2][3] = { { 0x0C, 0x47, 0x07 },
					    { 0x0D, 0x48, 0x08 } };

	return subs[write][width == 1 ? 0 : width == 2 ? 1 : 2];
}

/* One memory command and its status; the whole command, data included,
 * is re-issued on WAIT (PRS PR #1406, OOCD stlink_usb.c) unless
 * STW_NO_RETRY. */
static int mem_chunk(stlink *s, int write, uint32_t addr, uint8_t *buf,
		     size_t n, unsigned width, unsigned flags)
{
	uint8_t cmd[CMD_LEN], pad[2];
	const char *name = mem_name(write, width);
	unsigned attempt;
	int st = 0;

	stlink_cmd_init(cmd, DEBUG_CMD, mem_sub(write, width));
	st_le32_put(cmd + 2, addr);
	cmd[6] = (uint8_t)n;
	cmd[7] = (uint8_t)(n >> 8);
	for (attempt = 0;; attempt++) {
		int rc;
		if (write)
			rc = stlink_xfer(s, name, cmd, buf, n, NULL, 0);
		else if (n
			 == 1) /* a 1-byte read replies 2 bytes (OOCD, pyOCD) */
			rc = stlink_xfer(s, name, cmd, NULL, 0, pad, 2);
		else
			rc = stlink_xfer(s, name, cmd, NULL, 0, buf, n);
		if (rc != 0 || rw_status(s, &st) != 0
		    || (st != 0x80 && stlink_status_sane(s, name, st) != 0))
			return -1;
		if (st == 0x80) {
			s->wait_seen = 0;
			break;
		}
		if (!stlink_is_wait(st)) {
			int again = stlink_after_fault(s, st);
			if (again < 0)
				return -1;
			if (again && attempt < MAX_WAIT_RETRIES)
				continue;
			return st_fail(&s->err, ST_ETARGET, st,
				       "%s at 0x%08X returned 0x%02X (%s), "
				       "memory fault",
				       name, addr, st, stlink_status_name(st));
		}
		s->wait_seen = 1;
		if ((flags & STW_NO_RETRY) || attempt >= MAX_WAIT_RETRIES)
			return st_fail(&s->err, ST_EWAIT, st,
				       "%s at 0x%08X returned "
				       "0x%02X (%s)",
				       name, addr, st, stlink_status_name(st));
		s->wait_retries++;
		stlink_wait_backoff(attempt);
	}
	if (!write && n == 1)
		buf[0] = pad[0];
	return 0;
}

static size_t chunk_len(const stlink *s, int write, uint32_t addr, size_t n,
			unsigned width)
{
	size_t max =
		width == 1 ? (write ? s->max_write8 : s->max_read8) : MAX_MEM32;
	size_t to_block = TAR_BLOCK - (addr & (TAR_BLOCK - 1));

	/* Never cross a 1 KiB TAR auto-increment block (OOCD: M7 stays at
	 * 1 KiB; OOCD stlink_usb.c). */
	if (max > to_block)
		max = to_block;
	return n < max ? n : max;
}

static int mem_access(stlink *s, int write, uint32_t addr, uint8_t *buf,
		      size_t n, unsigned width, unsigned flags)
{
	if (width != 1 && width != 2 && width != 4)
		return st_fail(&s->err, ST_ERANGE, 0, "bad access width %u",
			       width);
	if (addr % width != 0 || n % width != 0)
		return st_fail(
			&s->err, ST_ERANGE, 0,
			"unaligned %u-bit access: 0x%08X, %zu bytes (ST-Link)",
			width * 8, addr, n);
	if (width == 2 && !(s->features & STF_MEM16))
		/* Never silently fall back to bytes: into flash with PSIZE x16
		 * that gives PGPERR (OOCD stlink_usb_write_ap_mem). */
		return st_fail(
			&s->err, ST_EUNSUPPORTED, 0,
			"firmware %s has no 16-bit memory access (needs J26+)",
			s->ver.str);
	if (!s->in_debug)
		return st_fail(&s->err, ST_ETARGET, 0,
			       "not attached (SWD not entered)");
	while (n > 0) {
		size_t c = chunk_len(s, write, addr, n, width);
		if (mem_chunk(s, write, addr, buf, c, width, flags) != 0)
			return -1;
		addr += (uint32_t)c;
		buf += c;
		n -= c;
	}
	return 0;
}

int stlink_read_mem(stlink *s, uint32_t addr, uint8_t *buf, size_t n,
		    unsigned width)
{
	return mem_access(s, 0, addr, buf, n, width, 0);
}

int stlink_write_mem(stlink *s, uint32_t addr, const uint8_t *buf, size_t n,
		     unsigned width, unsigned flags)
{
	/* mem_access never writes through buf when writing. */
	return mem_access(s, 1, addr, (uint8_t *)(uintptr_t)buf, n, width,
			  flags);
}

int stlink_read(stlink *s, uint32_t addr, uint8_t *buf, size_t n)
{
	size_t head = (4 - (addr & 3)) & 3, mid;

	if (head > n)
		head = n;
	if (head > 0 && stlink_read_mem(s, addr, buf, head, 1) != 0)
		return -1;
	addr += (uint32_t)head;
	buf += head;
	n -= head;
	mid = n & ~(size_t)3;
	if (mid > 0 && stlink_read_mem(s, addr, buf, mid, 4) != 0)
		return -1;
	if (n > mid)
		return stlink_read_mem(s, addr + (uint32_t)mid, buf + mid,
				       n - mid, 1);
	return 0;
}

int stlink_read32(stlink *s, uint32_t addr, uint32_t *value)
{
	uint8_t b[4];

	if (stlink_read_mem(s, addr, b, 4, 4) != 0)
		return -1;
	*value = st_le32_get(b);
	return 0;
}

int stlink_write32(stlink *s, uint32_t addr, uint32_t value)
{
	uint8_t b[4];

	st_le32_put(b, value);
	return stlink_write_mem(s, addr, b, 4, 4, 0);
}

/* ---- register batches ---- */

/* RW_MISC opcodes (OOCD stlink_usb.c RW_MISC_CMD_*): a read names its
 * address; a write is ADDRESS then WRITE; APNUM selects the AP. */
#define MISC_ADDRESS 1
#define MISC_WRITE   2
#define MISC_READ    3
#define MISC_APNUM   5
/* APNUM, up to two items per entry, and the padding APNUM (misc_once):
 * stlink_internal.h, where the trace sizes its entries by it */
#define MISC_ITEMS STLINK_MISC_ITEMS

void stlink_batch_read(stlink_batch *b, uint32_t addr)
{
	if (b->n < STLINK_BATCH_MAX) {
		b->item[b->n].addr = addr;
		b->item[b->n].value = 0;
		b->item[b->n++].write = 0;
	}
}

void stlink_batch_write(stlink_batch *b, uint32_t addr, uint32_t value)
{
	if (b->n < STLINK_BATCH_MAX) {
		b->item[b->n].addr = addr;
		b->item[b->n].value = value;
		b->item[b->n++].write = 1;
	}
}

/* The ops of entries [from, n) of b: the APNUM, then one op per read and
 * two (ADDRESS, WRITE) per write, and a padding APNUM where the reply
 * would end on a whole 64-byte packet: a reply of whole packets ends
 * without a short one, so a probe that answers more than asked would show
 * it only in the next command's reply, after that command went out (USB
 * 2.0 §5.8.3: a bulk transfer ends at a short packet or the length asked
 * for); with the pad the reply ends short, and an overlong one fails at
 * once. Returns the number of ops; out holds ALIGN4(ops) op bytes, then a
 * u32 operand per op. */
static uint32_t misc_ops(const stlink_batch *b, unsigned from, uint8_t *out)
{
	uint32_t items = 1, i, k;
	uint8_t *val;

	for (i = from; i < b->n; i++)
		items += b->item[i].write ? 2 : 1;
	if (items % 8 == 0)
		items++;
	memset(out, 0, (items + 3) / 4 * 4);
	val = out + (items + 3) / 4 * 4;
	out[0] = out[items - 1] = MISC_APNUM;
	st_le32_put(val, 0); /* AP0, the AHB-AP of the Cortex-M */
	st_le32_put(val + 4 * (items - 1), 0);
	for (i = from, k = 1; i < b->n; i++) {
		if (b->item[i].write) {
			out[k] = MISC_ADDRESS;
			st_le32_put(val + 4 * k++, b->item[i].addr);
			out[k] = MISC_WRITE;
			st_le32_put(val + 4 * k++, b->item[i].value);
		} else {
			out[k] = MISC_READ;
			st_le32_put(val + 4 * k++, b->item[i].addr);
		}
	}
	return items;
}

/* One RW_MISC_OUT with the entries [from, n) of b and the RW_MISC_IN of
 * their results: values, then one u32 status per op (OOCD
 * stlink_usb_misc_rw_segment). Returns 0, or -1 (transfer failed);
 * *status the first op status that is not OK (0x80 when all are), *done
 * the entries up to the one whose op failed (n when none did): their
 * reads hold their values. */
static int misc_once(stlink *s, stlink_batch *b, unsigned from, int *status,
		     unsigned *done)
{
	uint8_t cmd[CMD_LEN], out[(MISC_ITEMS + 3) / 4 * 4 + 4 * MISC_ITEMS];
	uint8_t in[8 * MISC_ITEMS];
	uint32_t items = misc_ops(b, from, out), i, k, bad;

	stlink_cmd_init(cmd, DEBUG_CMD, 0x51);
	st_le32_put(cmd + 2, items);
	if (stlink_xfer(s, "RW_MISC_OUT", cmd, out,
			(items + 3) / 4 * 4 + 4 * items, NULL, 0)
	    != 0)
		return -1;
	stlink_cmd_init(cmd, DEBUG_CMD, 0x52);
	if (stlink_xfer(s, "RW_MISC_IN", cmd, NULL, 0, in, 8 * items) != 0)
		return -1;
	*status = 0x80;
	for (bad = 0; bad < items && *status == 0x80; bad++)
		*status = (int)st_le32_get(in + 4 * (items + bad));
	bad = *status == 0x80 ? items : bad - 1;
	for (i = from, k = 1; i < b->n; i++) {
		k += b->item[i].write ? 2 : 1;
		if (k - 1 >= bad)
			break;
		if (!b->item[i].write)
			b->item[i].value = st_le32_get(in + 4 * (k - 1));
	}
	*done = i;
	return 0;
}

/* A WAIT (or V3's AP_FAULT after one) stops the batch at an op that was
 * not performed; the ops after it were not run (vprobe stlink_dap.c; OOCD
 * fails the queue on the first status that is not OK). So the batch goes
 * on from that entry: no op ever runs twice, which a key sequence needs
 * (a repeated key locks FLASH_CR until reset, RM0090 §3.5.1). Any other
 * fault stops it with ST_ETARGET. */
static int batch_misc(stlink *s, stlink_batch *b)
{
	unsigned attempt, from = 0;
	int st = 0;

	for (attempt = 0;; attempt++) {
		if (misc_once(s, b, from, &st, &from) != 0)
			return -1;
		if (st == 0x80 || from >= b->n) {
			s->wait_seen = 0;
			return 0;
		}
		if (!stlink_is_wait(st)) {
			int again = stlink_after_fault(s, st);
			if (again < 0)
				return -1;
			if (!again || attempt >= MAX_WAIT_RETRIES)
				return st_fail(&s->err, ST_ETARGET, st,
					       "RW_MISC item returned 0x%02X "
					       "(%s)",
					       st, stlink_status_name(st));
			continue;
		}
		s->wait_seen = 1;
		if (attempt >= MAX_WAIT_RETRIES)
			return st_fail(&s->err, ST_EWAIT, st,
				       "RW_MISC item returned 0x%02X (%s)", st,
				       stlink_status_name(st));
		s->wait_retries++;
		stlink_wait_backoff(attempt);
	}
}

int stlink_batch_run(stlink *s, stlink_batch *b)
{
	unsigned i;
	uint64_t writes = s->writes;
	int any_write = 0, rc;

	if (!s->in_debug)
		return st_fail(&s->err, ST_ETARGET, 0,
			       "not attached (SWD not entered)");
	for (i = 0; i < b->n; i++)
		any_write |= b->item[i].write;
	if (s->features & STF_RW_MISC) {
		rc = batch_misc(s, b);
		/* RW_MISC_OUT counts as a write; a batch of reads is none. */
		if (!any_write)
			s->writes = writes;
		return rc;
	}
	for (i = 0; i < b->n; i++)
		if (b->item[i].write ? stlink_write_dbg(s, b->item[i].addr,
							b->item[i].value)
				     : stlink_read_dbg(s, b->item[i].addr,
						       &b->item[i].value))
			return -1;
	return 0;
}
