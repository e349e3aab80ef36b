/* Target identification; see target.h. Sources: CMSIS, OOCD stm32f2x.c unless
 * noted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armv7m_regs.h"
#include "otp.h"
#include "target_internal.h"

#define FLASH_SR    0x40023C0Cu /* RM0090 §3.9 */
#define FLASH_CR    0x40023C10u
#define FLASH_OPTCR 0x40023C14u
/* FLASH_ACR (CMSIS, FLASH_ACR; RM0090 §3.9.1): DCEN bit 10, DCRST bit 12
 * (written only while DCEN = 0). F2/F4 only: the F7's ACR has no DCEN. */
#define FLASH_ACR 0x40023C00u
#define ACR_DCEN  (1u << 10)
#define ACR_DCRST (1u << 12)
/* Core debug (ARMv7-M C1.6.2, STL register.h): S_RESET_ST is sticky until
 * DHCSR is read. DBGMCU (OOCD stm32f4x.cfg, BMP stm32f4.c, RM0090 §38.16): CR
 * bits 0-2 DBG_SLEEP/STOP/STANDBY, APB1_FZ bit 11 DBG_WWDG_STOP, bit 12
 * DBG_IWDG_STOP; same addresses on F2, F4 and F7. */
#define DBGMCU_CR          0xE0042004u
#define DBGMCU_CR_LOWPOWER 0x7u
#define DBGMCU_APB1_FZ     0xE0042008u
#define DBGMCU_FZ_WDGS     0x1800u

/* OTP layouts (CMSIS FLASH_OTP_BASE/END; RM0090 §3.8). The
 * F72x/F73x area is the F4-style one at 0x1FF07800, not 0x1FF0F000. */
static const otp_map otp_f4 = { 0x1FFF7800u, 16, 32, 0x1FFF7A00u,
				"STM32F2/F4" };
static const otp_map otp_f7 = { 0x1FF0F000u, 16, 64, 0x1FF0F400u,
				"STM32F74x-F77x" };
static const otp_map otp_f72 = { 0x1FF07800u, 16, 32, 0x1FF07A00u,
				 "STM32F72x/F73x" };

enum rev_set { REV_F2, REV_F4, REV_F401, REV_A, REV_F7 };

/* REV_ID -> revision, OOCD get_stm32x_info (CMSIS, OOCD stm32f2x.c). */
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

/* F2/F4/F7 lines (OOCD stm32f2x.c). UID and flash-size register
 * addresses from CMSIS UID_BASE / FLASHSIZE_BASE. RDERR exists on the
 * F42x/43x/401/410/411/412/413/446/469 and F72x/F73x (CMSIS FLASH_SR). */
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
 * past the UID, at an address that is 2 mod 4 (CMSIS, OOCD stm32f2x.c). */
static int read_uid_fsize(target *t, unsigned *kib)
{
	uint8_t buf[40];
	uint32_t end = (t->id.fsize_addr & ~3u) + 4;
	size_t n = end - t->id.uid_addr,
	       off = t->id.fsize_addr - t->id.uid_addr;

	if (n > sizeof buf)
		return st_fail(&t->st->err, ST_ETARGET, 0, "bad UID layout");
	if (stlink_read_mem(t->st, t->id.uid_addr, buf, n, 4) != 0)
		return -1;
	memcpy(t->uid, buf, 12);
	t->have_uid = 1;
	*kib = buf[off] | (unsigned)buf[off + 1] << 8;
	return 0;
}

/* The OTP area, the UID and the flash-size register in one read, the
 * last command of attach so that a plan's first read of the OTP is served
 * from it (otp.c otp_attach_read). At RDP level 1 an OTP read may fault
 * (RM0090 §3.7.3; vprobe quirk rdp1_otp) while the UID still reads: there
 * the UID and flash size alone, so the board still attaches and shows its
 * level. */
static int read_ident(target *t)
{
	unsigned kib;

	if (t->rdp == 0 ? otp_attach_read(t, &kib) != 0
			: read_uid_fsize(t, &kib) != 0)
		return -1;
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

/* Halt (a normal attach: under reset the core is halted already) and read
 * what identifies the chip and its DBGMCU bits, as one batch (two round
 * trips with RW_MISC). dbg: DBGMCU_CR, DBGMCU_APB1_FZ. */
static int attach_reads(target *t, int halt, uint32_t *idcode, uint32_t *dbg)
{
	stlink_batch b = { 0 };
	unsigned k = halt ? 1 : 0;

	if (halt)
		stlink_batch_write(&b, DHCSR, DHCSR_DBGKEY_HALT);
	stlink_batch_read(&b, DHCSR);
	stlink_batch_read(&b, DBGMCU_IDCODE);
	stlink_batch_read(&b, CPUID);
	stlink_batch_read(&b, DBGMCU_CR);
	stlink_batch_read(&b, DBGMCU_APB1_FZ);
	if (stlink_batch_run(t->st, &b) != 0)
		return -1;
	/* Halted (ARMv7-M C1.6.2 DHCSR S_HALT); the read cleared a stale
	 * S_RESET_ST. */
	if (halt && !(b.item[k].value & DHCSR_S_HALT))
		return st_fail(&t->st->err, ST_ETARGET, 0,
			       "the core did not halt (DHCSR 0x%08X)",
			       b.item[k].value);
	*idcode = b.item[k + 1].value;
	t->cpuid = b.item[k + 2].value;
	dbg[0] = b.item[k + 3].value;
	dbg[1] = b.item[k + 4].value;
	return 0;
}

static void set_rdp(target *t, uint32_t optcr)
{
	unsigned rdp = (optcr >> 8) & 0xFF; /* OPTCR[15:8]: 0xAA level 0 */

	t->rdp = rdp == 0xAA ? 0 : rdp == 0xCC ? 2 : 1;
}

static int read_rdp(target *t);
static int read_acr(target *t);

/* Freeze both watchdogs and keep debug alive in low-power modes: every
 * peer does this at attach (OOCD stm32f4x.cfg examine-end `mmw
 * 0xE0042004 7` and `mmw 0xE0042008 0x1800`, BMP stm32f4.c
 * stm32f4_configure_dbgmcu): with the core halted, an IWDG
 * started by the firmware or by the WDG_SW option bit resets the chip
 * about 0.5 s later, in the middle of a confirm prompt or of a program
 * operation. The bits survive a system reset (power-on reset only); other
 * bits, set by another tool, stay. With RW_MISC the same batch reads
 * FLASH_SR, CR, OPTCR and (F2/F4) ACR; without it they take one memory
 * read and one register read. */
static int attach_flash(target *t, const uint32_t dbg[2])
{
	stlink_batch b = { 0 };
	int misc = (t->st->features & STF_RW_MISC) != 0, locked, clean;
	int f7 = strcmp(t->id.family, "F7") == 0;
	unsigned k;

	if ((dbg[1] & DBGMCU_FZ_WDGS) != DBGMCU_FZ_WDGS)
		stlink_batch_write(&b, DBGMCU_APB1_FZ, dbg[1] | DBGMCU_FZ_WDGS);
	if ((dbg[0] & DBGMCU_CR_LOWPOWER) != DBGMCU_CR_LOWPOWER)
		stlink_batch_write(&b, DBGMCU_CR, dbg[0] | DBGMCU_CR_LOWPOWER);
	k = b.n;
	if (misc) {
		stlink_batch_read(&b, FLASH_SR);
		stlink_batch_read(&b, FLASH_CR);
		stlink_batch_read(&b, FLASH_OPTCR);
		if (!f7)
			stlink_batch_read(&b, FLASH_ACR);
		/* for the release (target_run.c): one round trip fewer */
		stlink_batch_read(&b, DEMCR);
	}
	if (b.n > 0 && stlink_batch_run(t->st, &b) != 0)
		return -1;
	if (!misc)
		return read_rdp(t) != 0 || read_acr(t) != 0 ? -1 : 0;
	flash_state_of(&t->id.flash, b.item[k].value, b.item[k + 1].value,
		       &locked, &clean);
	target_flash_seen(t, locked, clean);
	set_rdp(t, b.item[k + 2].value);
	t->acr = f7 ? 0 : b.item[k + 3].value;
	t->demcr = b.item[b.n - 1].value;
	t->demcr_known = 1;
	return 0;
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

/* RDP from OPTCR, read with SR and CR (flash_read_state), whose state a
 * first program pass then need not read again. */
static int read_rdp(target *t)
{
	uint32_t optcr;
	int cr_locked, sr_clean;

	if (flash_read_state(t->st, &t->id.flash, &cr_locked, &sr_clean, &optcr)
	    != 0)
		return -1;
	target_flash_seen(t, cr_locked, sr_clean);
	set_rdp(t, optcr);
	return 0;
}

void target_flash_seen(target *t, int cr_locked, int sr_clean)
{
	t->flash_stamp = t->st->writes;
	t->cr_locked = cr_locked;
	t->sr_clean = sr_clean;
}

int target_flash_known(const target *t)
{
	return t->flash_stamp == t->st->writes && t->cr_locked && t->sr_clean;
}

/* The supply, once per attach (issue 12): a program pass needs it; an
 * invalid reading is kept as such and refused when a pass asks. */
static int read_volts(target *t)
{
	if (!(t->st->features & STF_VOLTAGE))
		return 0;
	if (stlink_voltage(t->st, &t->volts) == 0) {
		t->volts_state = 1;
		return 0;
	}
	if (t->st->err.code != ST_EVOLTAGE)
		return -1;
	t->volts_state = 2;
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
	uint32_t idcode = 0, dbg[2] = { 0, 0 };

	if (t == NULL)
		return st_fail(&st->err, ST_ENOMEM, 0, "out of memory");
	t->st = st;
	t->rdp = -1;
	if (under_reset ? attach_under_reset(st, khz) != 0
				  || attach_reads(t, 0, &idcode, dbg) != 0
			: (stlink_enter_swd(st, khz) != 0
			   || attach_reads(t, 1, &idcode, dbg) != 0)
				  && attach_hint(st))
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
	/* attach_reads read DHCSR after halting, which cleared a stale
	 * S_RESET_ST: from here on it means "reset since attach". */
	if (t->id.supported
	    && (attach_flash(t, dbg) != 0 || read_volts(t) != 0
		|| read_ident(t) != 0 || check_uid_plausible(t) != 0))
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

void target_uid_format(const uint8_t uid[12], char out[25])
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
		target_uid_format(t->uid, out);
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
	 * there too on some silicon (unconfirmed by any source; quirk
	 * rdp1_otp). A bare "SWD_AP_FAULT" would send the user looking at the
	 * cable. */
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
