/* Target identification; see target.h. Facts §5.1 unless noted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define DBGMCU_IDCODE 0xE0042000u
#define CPUID         0xE000ED00u
#define FLASH_OPTCR   0x40023C14u
/* FLASH_ACR (facts §5.2, §10.9; RM0090 §3.9.1): DCEN bit 10, DCRST bit 12
 * (written only while DCEN = 0). F2/F4 only: the F7's ACR has no DCEN. */
#define FLASH_ACR 0x40023C00u
#define ACR_DCEN  (1u << 10)
#define ACR_DCRST (1u << 12)
/* Core debug (ARMv7-M C1.6.2, facts §5.1): S_RESET_ST is sticky until
 * DHCSR is read. DBGMCU (facts §10.1, RM0090 §38.16): CR bits 0-2
 * DBG_SLEEP/STOP/STANDBY, APB1_FZ bit 11 DBG_WWDG_STOP, bit 12
 * DBG_IWDG_STOP; same addresses on F2, F4 and F7. */
#define DHCSR              0xE000EDF0u
#define DHCSR_DBGKEY_HALT  0xA05F0003u /* DBGKEY | C_HALT | C_DEBUGEN */
#define DEMCR              0xE000EDFCu
#define DEMCR_VC_CORERESET (1u << 0)
#define DHCSR_S_HALT       (1u << 17)
#define DHCSR_S_RESET_ST   (1u << 25)
#define DBGMCU_CR          0xE0042004u
#define DBGMCU_CR_LOWPOWER 0x7u
#define DBGMCU_APB1_FZ     0xE0042008u
#define DBGMCU_FZ_WDGS     0x1800u

/* OTP layouts (facts §6.1; CMSIS FLASH_OTP_BASE/END; RM0090 §3.8). The
 * F72x/F73x area is the F4-style one at 0x1FF07800, not 0x1FF0F000. */
static const otp_map otp_f4 = { 0x1FFF7800u, 16, 32, 0x1FFF7A00u,
				"STM32F2/F4" };
static const otp_map otp_f7 = { 0x1FF0F000u, 16, 64, 0x1FF0F400u,
				"STM32F74x-F77x" };
static const otp_map otp_f72 = { 0x1FF07800u, 16, 32, 0x1FF07A00u,
				 "STM32F72x/F73x" };

enum rev_set { REV_F2, REV_F4, REV_F401, REV_A, REV_F7 };

/* REV_ID -> revision, OOCD get_stm32x_info (facts §5.1). */
static const struct rev {
	int set;
	uint16_t rev;
	const char *name;
} revs[] = {
	{ REV_F2, 0x1000, "A" },   { REV_F2, 0x2000, "B" },
	{ REV_F2, 0x1001, "Z" },   { REV_F2, 0x2001, "Y" },
	{ REV_F2, 0x2003, "X" },   { REV_F2, 0x2007, "1" },
	{ REV_F2, 0x200F, "V" },   { REV_F2, 0x201F, "2" },
	{ REV_F4, 0x1000, "A" },   { REV_F4, 0x1001, "Z" },
	{ REV_F4, 0x1003, "Y" },   { REV_F4, 0x1007, "1" },
	{ REV_F4, 0x2001, "3" },   { REV_F401, 0x1000, "A" },
	{ REV_F401, 0x1001, "Z" }, { REV_F401, 0x2000, "B" },
	{ REV_F401, 0x3000, "C" }, { REV_A, 0x1000, "A" },
	{ REV_F7, 0x1000, "A" },   { REV_F7, 0x1001, "Z" },
};

/* F2/F4/F7 lines (facts §5.1 DEV_ID table). UID and flash-size register
 * addresses from CMSIS UID_BASE / FLASHSIZE_BASE. RDERR exists on the
 * F42x/43x/401/410/411/412/413/446/469 and F72x/F73x (facts §5.2 SR). */
static const struct part {
	uint16_t dev_id;
	const char *family, *line, *name;
	unsigned max_kib;
	int revset;
	const otp_map *otp;
	uint32_t uid, fsize;
	int rderr, erserr;
} parts[] = {
	{ 0x411, "F2", "STM32F20x/21x", "STM32F205/207/215/217", 1024, REV_F2,
	  &otp_f4, 0x1FFF7A10u, 0x1FFF7A22u, 0, 0 },
	{ 0x413, "F4", "STM32F40x/41x", "STM32F405/407/415/417", 1024, REV_F4,
	  &otp_f4, 0x1FFF7A10u, 0x1FFF7A22u, 0, 0 },
	{ 0x419, "F4", "STM32F42xxx/43xxx", "STM32F427/429/437/439", 2048,
	  REV_F4, &otp_f4, 0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x434, "F4", "STM32F469/479", "STM32F469/479", 2048, REV_F4, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x423, "F4", "STM32F401xB/C", "STM32F401xB/C", 256, REV_F401, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x433, "F4", "STM32F401xD/E", "STM32F401xD/E", 512, REV_F401, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x431, "F4", "STM32F411xC/E", "STM32F411xC/E", 512, REV_F401, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x441, "F4", "STM32F412", "STM32F412", 512, REV_F401, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x458, "F4", "STM32F410", "STM32F410", 128, REV_F401, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x421, "F4", "STM32F446", "STM32F446", 512, REV_A, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x463, "F4", "STM32F413/423", "STM32F413/423", 1536, REV_A, &otp_f4,
	  0x1FFF7A10u, 0x1FFF7A22u, 1, 0 },
	{ 0x449, "F7", "STM32F74x/75x", "STM32F745/746/750/756", 1024, REV_F7,
	  &otp_f7, 0x1FF0F420u, 0x1FF0F442u, 0, 1 },
	{ 0x451, "F7", "STM32F76x/77x", "STM32F765/767/769/777/779", 2048,
	  REV_F7, &otp_f7, 0x1FF0F420u, 0x1FF0F442u, 0, 1 },
	{ 0x452, "F7", "STM32F72x/73x", "STM32F722/723/730/732/733", 512, REV_A,
	  &otp_f72, 0x1FF07A10u, 0x1FF07A22u, 1, 1 },
};

/* Parts stotp refuses, named so the user knows what is attached. DEV_IDs
 * from OOCD src/flash/nor/stm32f1x.c, stm32l4x.c, stm32h7x.c device
 * tables and STL config/chips (*.chip files). */
static const struct other {
	uint16_t dev_id;
	const char *family, *line;
} others[] = {
	{ 0x410, "F1", "STM32F10x medium-density" },
	{ 0x412, "F1", "STM32F10x low-density" },
	{ 0x414, "F1", "STM32F10x high-density" },
	{ 0x418, "F1", "STM32F105/107 connectivity line" },
	{ 0x420, "F1", "STM32F100 value line" },
	{ 0x430, "F1", "STM32F10x XL-density" },
	{ 0x422, "F3", "STM32F302xB/C, F303xB/C" },
	{ 0x438, "F3", "STM32F303x6/8, F334" },
	{ 0x446, "F3", "STM32F303xD/E" },
	{ 0x415, "L4", "STM32L47x/L48x" },
	{ 0x435, "L4", "STM32L43x/L44x" },
	{ 0x462, "L4", "STM32L45x/L46x" },
	{ 0x461, "L4", "STM32L496/4A6" },
	{ 0x468, "G4", "STM32G43x/G44x" },
	{ 0x469, "G4", "STM32G47x/G48x" },
	{ 0x450, "H7", "STM32H74x/H75x" },
};

static void decode_revision(target_ident *id, int set)
{
	size_t i;

	for (i = 0; i < sizeof revs / sizeof revs[0]; i++)
		if (revs[i].set == set && revs[i].rev == id->rev_id) {
			snprintf(id->revision, sizeof id->revision, "%s",
				 revs[i].name);
			return;
		}
	snprintf(id->revision, sizeof id->revision, "0x%04X", id->rev_id);
}

static void decode_other(target_ident *id)
{
	static char unknown_name[] = "unknown part";
	size_t i;

	id->family = "?";
	id->line = id->name = unknown_name;
	for (i = 0; i < sizeof others / sizeof others[0]; i++)
		if (others[i].dev_id == id->dev_id) {
			id->family = others[i].family;
			id->line = id->name = others[i].line;
		}
	snprintf(id->revision, sizeof id->revision, "0x%04X", id->rev_id);
}

void target_decode(uint32_t idcode, uint32_t cpuid, target_ident *id)
{
	size_t i;

	memset(id, 0, sizeof *id);
	id->idcode = idcode;
	id->dev_id = idcode & 0xFFF;
	id->rev_id = (uint16_t)(idcode >> 16);
	/* Errata: early F4 rev A reads 0x411; OOCD forces 0x10000413 when
	 * the core is a Cortex-M4 (CPUID PARTNO 0xC24). */
	if (id->dev_id == 0x411 && ((cpuid >> 4) & 0xFFF) == 0xC24) {
		id->dev_id = 0x413;
		id->rev_id = 0x1000;
	}
	for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		const struct part *p = &parts[i];
		if (p->dev_id != id->dev_id)
			continue;
		id->family = p->family;
		id->line = p->line;
		id->name = p->name;
		id->supported = 1;
		id->uid_addr = p->uid;
		id->fsize_addr = p->fsize;
		id->max_flash_kib = p->max_kib;
		id->otp = p->otp;
		id->flash.has_rderr = p->rderr;
		id->flash.erserr = p->erserr;
		decode_revision(id, p->revset);
		return;
	}
	decode_other(id);
}

/* UID (12 bytes) and the 16-bit flash-size register in one aligned
 * 32-bit read: the register sits 0x12 (F2/F4/F72x) or 0x22 (F74x-F77x)
 * past the UID, at an address that is 2 mod 4 (facts §5.1). */
static int read_uid_fsize(target *t)
{
	uint8_t buf[40];
	uint32_t end = (t->id.fsize_addr & ~3u) + 4;
	size_t n = end - t->id.uid_addr,
	       off = t->id.fsize_addr - t->id.uid_addr;
	unsigned kib;

	if (n > sizeof buf)
		return st_fail(&t->st->err, ST_ETARGET, 0, "bad UID layout");
	if (stlink_read_mem(t->st, t->id.uid_addr, buf, n, 4) != 0)
		return -1;
	memcpy(t->uid, buf, 12);
	t->have_uid = 1;
	kib = buf[off] | (unsigned)buf[off + 1] << 8;
	/* 0xFFFF or 0: early silicon, use the line's maximum (OOCD). */
	t->flash_kib = (kib == 0 || kib == 0xFFFF) ? t->id.max_flash_kib : kib;
	return 0;
}

/* A UID of all 00 or all FF is what a bus that answered nothing, a reply
 * zero-filled by a broken link or an erased/unreadable system area gives;
 * no ST part is programmed with one. Keys and records derived from it
 * would be shared by every such chip, so it is refused. */
static int check_uid_plausible(target *t)
{
	size_t i, zeros = 0, ones = 0;

	for (i = 0; i < sizeof t->uid; i++) {
		zeros += t->uid[i] == 0x00;
		ones += t->uid[i] == 0xFF;
	}
	if (zeros == sizeof t->uid || ones == sizeof t->uid)
		return st_fail(
			&t->st->err, ST_ETARGET, 0,
			"the unique ID at 0x%08X reads all %s: no chip carries "
			"that UID, so the chip or the link is unreliable; "
			"nothing done",
			t->id.uid_addr, zeros ? "00" : "FF");
	return 0;
}

/* Set bits in a debug-domain register (read, or, write): other bits, set
 * by another tool, stay. */
static int dbg_set_bits(stlink *st, uint32_t addr, uint32_t bits)
{
	uint32_t v;

	if (stlink_read_dbg(st, addr, &v) != 0)
		return -1;
	return (v & bits) == bits ? 0 : stlink_write_dbg(st, addr, v | bits);
}

/* Every peer does this at attach (OOCD stm32f4x.cfg examine-end `mmw
 * 0xE0042004 7` and `mmw 0xE0042008 0x1800`, BMP stm32f4.c
 * stm32f4_configure_dbgmcu; facts §10.1): with the core halted, an IWDG
 * started by the firmware or by the WDG_SW option bit resets the chip
 * about 0.5 s later, in the middle of a confirm prompt or of a program
 * operation. The bits survive a system reset (power-on reset only). */
static int freeze_watchdogs(target *t)
{
	return dbg_set_bits(t->st, DBGMCU_APB1_FZ, DBGMCU_FZ_WDGS) != 0
			       || dbg_set_bits(t->st, DBGMCU_CR,
					       DBGMCU_CR_LOWPOWER)
					  != 0
		       ? -1
		       : 0;
}

/* FLASH_ACR, once: the core is halted, so the firmware cannot change it
 * behind stotp's back (a reset would, and the guard catches that). */
static int read_acr(target *t)
{
	t->acr = 0;
	if (strcmp(t->id.family, "F7") == 0)
		return 0;
	return stlink_read_dbg(t->st, FLASH_ACR, &t->acr);
}

int target_dcache_off(target *t)
{
	uint32_t off = t->acr & ~ACR_DCEN;

	if (!(t->acr & ACR_DCEN))
		return 0;
	return stlink_write_dbg(t->st, FLASH_ACR, off) != 0
			       || stlink_write_dbg(t->st, FLASH_ACR,
						   off | ACR_DCRST)
					  != 0
		       ? -1
		       : 0;
}

int target_dcache_restore(target *t)
{
	if (!(t->acr & ACR_DCEN))
		return 0;
	return stlink_write_dbg(t->st, FLASH_ACR, t->acr & ~ACR_DCRST);
}

static int read_rdp(target *t)
{
	uint32_t optcr;
	unsigned rdp;

	if (stlink_read_dbg(t->st, FLASH_OPTCR, &optcr) != 0)
		return -1;
	rdp = (optcr >> 8) & 0xFF; /* OPTCR[15:8]: 0xAA level 0 */
	t->rdp = rdp == 0xAA ? 0 : rdp == 0xCC ? 2 : 1;
	return 0;
}

/* Connect under reset (OOCD `reset_config srst_only connect_assert_srst`,
 * stlink_usb.c: NRST asserted before the debug mode is entered): with NRST
 * low the SWD pins have their reset function whatever the firmware does
 * with them later, so the debug port answers; DEMCR.VC_CORERESET and a
 * halt request make the core stop at the reset vector when NRST is
 * released (ARMv7-M C1.6.5), before one instruction of the firmware runs.
 * DEMCR is then put back. */
static int attach_under_reset(stlink *st, unsigned khz)
{
	uint32_t demcr;
	int rc;

	if (stlink_drive_nrst(st, 0) != 0)
		return -1;
	rc = stlink_enter_swd(st, khz) != 0
			     || stlink_read_dbg(st, DEMCR, &demcr) != 0
			     || stlink_write_dbg(st, DEMCR,
						 demcr | DEMCR_VC_CORERESET)
					!= 0
			     || stlink_write_dbg(st, DHCSR, DHCSR_DBGKEY_HALT)
					!= 0
		     ? -1
		     : 0;
	/* released whatever happened: a board must not stay in reset */
	if (stlink_drive_nrst(st, 1) != 0 || rc != 0)
		return -1;
	return stlink_halt(st) != 0
			       || stlink_write_dbg(st, DEMCR,
						   demcr & ~DEMCR_VC_CORERESET)
					  != 0
		       ? -1
		       : 0;
}

/* A normal attach that found no debug port: say what else it may be. */
static int attach_hint(stlink *st)
{
	char was[sizeof st->err.msg];

	if (st->err.code != ST_ETARGET)
		return -1;
	snprintf(was, sizeof was, "%s", st->err.msg);
	return st_fail(
		&st->err, ST_ETARGET, st->err.sys,
		"%.100s: the target does not answer over SWD (power, wiring, "
		"or firmware that disables SWD or sleeps soon after reset: "
		"then connect under reset, stotp.open{connect = "
		"\"under-reset\"})",
		was);
}

/* The core the CPUID names must be the family's (CPUID PARTNO [15:4]: 0xC23
 * Cortex-M3 on the F2, 0xC24 M4 on the F4, 0xC27 M7 on the F7; ARMv7-M
 * B3.2.3, stlink-org src/stlink-lib/register.h): a DBGMCU_IDCODE of
 * another family is a probe, cable or chip that does not answer straight
 * (issue 13 item 3), and its OTP map must not be used. */
static int check_core(target *t)
{
	unsigned part = (t->cpuid >> 4) & 0xFFF;
	const char *f = t->id.family;
	unsigned want = strcmp(f, "F2") == 0   ? 0xC23
			: strcmp(f, "F4") == 0 ? 0xC24
			: strcmp(f, "F7") == 0 ? 0xC27
					       : part;

	if (part == want)
		return 0;
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "DBGMCU_IDCODE 0x%08X names an %s (%s) but CPUID "
		       "0x%08X is not its core: the probe, its cable or the "
		       "chip does not answer straight; nothing written",
		       t->id.idcode, t->id.name, f, t->cpuid);
}

int target_attach(target **out, stlink *st, unsigned khz, int under_reset)
{
	target *t = calloc(1, sizeof *t);
	uint32_t idcode;

	if (t == NULL)
		return st_fail(&st->err, ST_EUSB, 0, "out of memory");
	t->st = st;
	t->rdp = -1;
	if (under_reset
		    ? attach_under_reset(st, khz) != 0
		    : (stlink_enter_swd(st, khz) != 0 || stlink_halt(st) != 0)
			      && attach_hint(st))
		goto fail;
	if (stlink_read_dbg(st, DBGMCU_IDCODE, &idcode) != 0
	    || stlink_read_dbg(st, CPUID, &t->cpuid) != 0)
		goto fail;
	if ((idcode & 0xFFF) == 0 || idcode == 0xFFFFFFFFu) {
		st_fail(&st->err, ST_ETARGET, 0,
			"DBGMCU_IDCODE reads 0x%08X: no STM32 answering",
			idcode);
		goto fail;
	}
	target_decode(idcode, t->cpuid, &t->id);
	if (t->id.supported && check_core(t) != 0)
		goto fail;
	/* stlink_halt read DHCSR after halting, which cleared a stale
	 * S_RESET_ST: from here on it means "reset since attach". */
	if (t->id.supported
	    && (freeze_watchdogs(t) != 0 || read_uid_fsize(t) != 0
		|| check_uid_plausible(t) != 0 || read_rdp(t) != 0
		|| read_acr(t) != 0))
		goto fail;
	*out = t;
	return 0;
fail:
	free(t);
	return -1;
}

void target_free(target *t)
{
	free(t);
}

const otp_map *otp_map_at(uint32_t addr)
{
	static const otp_map *const maps[] = { &otp_f4, &otp_f7, &otp_f72 };
	size_t i;

	for (i = 0; i < sizeof maps / sizeof maps[0]; i++)
		if (otp_map_touches(maps[i], addr, 1))
			return maps[i];
	return NULL;
}

int otp_map_touches(const otp_map *m, uint32_t addr, size_t n)
{
	uint64_t end = (uint64_t)addr + n;

	return m != NULL && n > 0 && end > m->base
	       && addr < (uint64_t)m->lock_base + m->blocks;
}

static void uid_hex(const uint8_t uid[12], char out[25])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < 12; i++) {
		out[2 * i] = hex[uid[i] >> 4];
		out[2 * i + 1] = hex[uid[i] & 15];
	}
	out[24] = '\0';
}

void target_uid_hex(const target *t, char out[25])
{
	if (!t->have_uid)
		snprintf(out, 25, "?");
	else
		uid_hex(t->uid, out);
}

/* Two checks, 3 round trips (issue 8 item 1, issue 7 item 1):
 * - DHCSR: the core is still halted and S_RESET_ST (sticky until read,
 *   cleared at attach) shows no reset since: a watchdog, NRST or a brown-
 *   out would have relocked FLASH_CR and let the firmware run;
 * - the UID read again, as its own 12-byte memory command (attach read it
 *   with the flash-size register in one longer command): a reply
 *   corrupted once, at attach or now, makes the two differ. */
/* The part attach identified still answers: a DBGMCU_IDCODE that reads
 * differently is another chip, or a probe or cable that misbehaves (issue
 * 13 item 3); either way nothing more is written. */
static int guard_idcode(target *t, const char *before)
{
	uint32_t now;

	if (stlink_read_dbg(t->st, DBGMCU_IDCODE, &now) != 0)
		return -1;
	if (now == t->id.idcode)
		return 0;
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "DBGMCU_IDCODE reads 0x%08X now, 0x%08X at attach: "
		       "another chip answers, or the probe or its cable "
		       "misbehaves; nothing more written before %s",
		       now, t->id.idcode, before);
}

int target_guard(target *t, const char *before)
{
	uint8_t now[12];
	char was[25], is[25];
	uint32_t dhcsr;

	if (!t->have_uid)
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "the UID was never read: nothing done before %s",
			       before);
	if (stlink_read_dbg(t->st, DHCSR, &dhcsr) != 0)
		return -1;
	if ((dhcsr & DHCSR_S_RESET_ST) || !(dhcsr & DHCSR_S_HALT))
		return st_fail(
			&t->st->err, ST_ETARGET, 0,
			"the chip %s since attach (DHCSR 0x%08X: a watchdog, "
			"NRST or the supply?): nothing more written before "
			"%s; attach again",
			(dhcsr & DHCSR_S_RESET_ST) ? "was reset"
						   : "is no longer halted",
			dhcsr, before);
	if (guard_idcode(t, before) != 0
	    || stlink_read_mem(t->st, t->id.uid_addr, now, sizeof now, 4) != 0)
		return -1;
	if (memcmp(now, t->uid, sizeof now) == 0)
		return 0;
	uid_hex(t->uid, was);
	uid_hex(now, is);
	return st_fail(&t->st->err, ST_ETARGET, 0,
		       "the UID read differently (%s at attach, %s now): the "
		       "chip or the link is unreliable, or another chip is "
		       "attached; nothing more written before %s",
		       was, is, before);
}

void target_describe(const target *t, char *buf, size_t len)
{
	char uid[25];

	target_uid_hex(t, uid);
	snprintf(buf, len, "%s (%s) rev %s, %u KiB flash, UID %s, RDP %d",
		 t->id.name, t->id.line, t->id.revision, t->flash_kib, uid,
		 t->rdp);
}

int target_explain_fault(target *t, const char *what, uint32_t addr)
{
	char probe[sizeof t->st->err.msg];

	/* RM0090 §3.7.3: at level 1 "no access (read, erase, program) to
	 * Flash memory" while a debugger is connected; the OTP reads fault
	 * there too on some silicon (facts, quirk rdp1_otp). A bare
	 * "SWD_AP_FAULT" would send the user looking at the cable. */
	if (t->st->err.code != ST_ETARGET || t->rdp < 1)
		return -1;
	snprintf(probe, sizeof probe, "%s", t->st->err.msg);
	return st_fail(
		&t->st->err, ST_ETARGET, t->st->err.sys,
		"%s of 0x%08X faulted: the chip is at RDP level %d (read "
		"protection: the debugger may not read flash or OTP; only "
		"a level change back to 0, which erases the flash, lifts "
		"it) [%.80s]",
		what, addr, t->rdp, probe);
}

int target_mem_read(target *t, uint32_t addr, uint8_t *buf, size_t n)
{
	if (stlink_read(t->st, addr, buf, n) != 0)
		return target_explain_fault(t, "read", addr);
	return 0;
}

int target_mem_read32(target *t, uint32_t addr, uint32_t *value)
{
	if (stlink_read32(t->st, addr, value) != 0)
		return target_explain_fault(t, "read", addr);
	return 0;
}

int target_write32(target *t, uint32_t addr, uint32_t value)
{
	if (otp_map_touches(t->id.otp, addr, 4))
		return st_fail(&t->st->err, ST_ERANGE, 0,
			       "0x%08X is in the OTP area: use otp_write or "
			       "otp_lock",
			       addr);
	return stlink_write32(t->st, addr, value);
}
