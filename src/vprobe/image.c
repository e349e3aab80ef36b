/*
 * The board image: load, create and atomically save the text file that
 * holds what survives a power cycle on a virtual board.
 *
 *   # vprobe board image
 *   part stm32f429zi
 *   uid 3a0028001951363036383438
 *   rdp aa
 *   sr_at_reset 00000000
 *   otp 0000: <32 bytes as 64 hex digits>     (one line per 32 bytes:
 *   ...                                         16 lines, 32 on F74x-F77x)
 *   lock ffffffffffffffffffffffffffffffff
 *
 *   iwdg firmware                              (optional: off, firmware, option)
 *   wwdg firmware                              (optional: off, firmware)
 *   dcache firmware                            (optional: off, firmware)
 *   boot swd-off                               (optional: normal, swd-off, sleep)
 *
 * Every key appears exactly once (each otp offset once); "sr_at_reset",
 * "iwdg" and "wwdg" are optional; "lock" is absent, and refused, on a part without OTP lock
 * bytes (stm32l476rg, parts.c). Blank lines and lines starting with '#' are ignored. A bad
 * line is an error naming file and line: a model that guessed would hide
 * a damaged image, and an OTP image is exactly what must not be guessed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "image.h"
#include "wdg.h"

#define LINE_BYTES   32            /* OTP bytes per "otp" line */
#define DEFAULT_PART "stm32f429zi" /* vprobe.h: default target */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static size_t otp_size(const vp_part *p)
{
	return (size_t)VP_OTP_BLOCKS * p->otp_block_size;
}

static bool has_lock(const vp_part *p)
{
	return p->otp_lock_base != 0;
}

/* Format of a plausible F2/F4/F7 UID (RM0090 §39.1: X/Y wafer coordinates
 * as two u16, the wafer number, then the lot number as 7 ASCII bytes),
 * e.g. 3a002800 19 "Q606848". */
int vp_image_fresh(vp_image *img, const vp_part *part, char *err, size_t errlen)
{
	uint8_t rnd[12];
	if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		return fail(err, errlen, "no random bytes for a new UID: %s",
			    strerror(errno));
	memset(img, 0, sizeof *img);
	img->part = part;
	img->uid[0] = rnd[0] & 0x7F;              /* X */
	img->uid[2] = rnd[1] & 0x7F;              /* Y */
	img->uid[4] = (uint8_t)(1 + rnd[2] % 25); /* wafer 1..25 */
	img->uid[5] = (uint8_t)('A' + rnd[3] % 26);
	for (int i = 6; i < 12; i++)
		img->uid[i] = (uint8_t)('0' + rnd[i] % 10);
	img->rdp = 0xAA; /* level 0, OPTCR reset state of a new part */
	memset(img->otp, 0xFF, sizeof img->otp);
	memset(img->lock, 0xFF, sizeof img->lock);
	img->sr_at_reset = 0;
	img->dirty = true;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly n bytes of hex in s (nothing more). Returns 0 or -1. */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Parser state: which keys have been seen, for "exactly once". */
typedef struct parse_state {
	const char *path;
	unsigned line;
	bool seen_part, seen_uid, seen_rdp, seen_sr, seen_lock, seen_iwdg,
		seen_wwdg, seen_dcache, seen_boot;
	bool seen_otp[VP_OTP_MAX / LINE_BYTES];
} parse_state;

__attribute__((format(printf, 4, 5))) static int
line_fail(const parse_state *ps, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return fail(err, errlen, "%s:%u: %s", ps->path, ps->line, msg);
}

static int parse_otp(parse_state *ps, vp_image *img, const char *val, char *err,
		     size_t errlen)
{
	if (!ps->seen_part)
		return line_fail(ps, err, errlen, "otp before part");
	char *end;
	unsigned long off = strtoul(val, &end, 16);
	if (end == val || end - val != 4 || *end != ':' || end[1] != ' ')
		return line_fail(ps, err, errlen,
				 "otp line must be 'otp OOOO: <%d hex bytes>'",
				 LINE_BYTES);
	if (off % LINE_BYTES != 0 || off >= otp_size(img->part))
		return line_fail(
			ps, err, errlen,
			"otp offset %04lx is not a multiple of %d below %04zx",
			off, LINE_BYTES, otp_size(img->part));
	if (ps->seen_otp[off / LINE_BYTES])
		return line_fail(ps, err, errlen,
				 "otp offset %04lx given twice", off);
	if (parse_hex(end + 2, img->otp + off, LINE_BYTES) != 0)
		return line_fail(ps, err, errlen,
				 "otp %04lx: want exactly %d bytes as hex", off,
				 LINE_BYTES);
	ps->seen_otp[off / LINE_BYTES] = true;
	return 0;
}

static int once(parse_state *ps, bool *seen, const char *key, char *err,
		size_t errlen)
{
	if (*seen)
		return line_fail(ps, err, errlen, "'%s' given twice", key);
	*seen = true;
	return 0;
}

/* A key whose value is exactly n bytes of hex, given once. */
static int hex_key(parse_state *ps, bool *seen, const char *key,
		   const char *val, uint8_t *out, size_t n, const char *want,
		   char *err, size_t errlen)
{
	if (once(ps, seen, key, err, errlen))
		return -1;
	if (parse_hex(val, out, n) != 0)
		return line_fail(ps, err, errlen, "%s: want %s", key, want);
	return 0;
}

/* No message quotes the file: a key file or a config given as an image
 * by mistake (`--sim examples/keys/master.key`) would otherwise print its
 * secret bytes (issue 7 item 7). file:line says where to look. */
#define NOT_SHOWN " (line not shown)"

static const char *const wdg_names[] = { "off", "firmware", "option" };

/* iwdg/wwdg/dcache: who starts it (wdg.h); "option" for the IWDG only. */
static int wdg_key(parse_state *ps, bool *seen, const char *key,
		   const char *val, uint8_t *out, unsigned n, char *err,
		   size_t errlen)
{
	if (once(ps, seen, key, err, errlen))
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(val, wdg_names[i]) == 0) {
			*out = (uint8_t)i;
			return 0;
		}
	return line_fail(ps, err, errlen, "%s: want %s", key,
			 n == 3 ? "off, firmware or option"
				: "off or firmware");
}

static const char *const boot_names[] = { "normal", "swd-off", "sleep" };

static int parse_line(parse_state *ps, vp_image *img, char *s, char *err,
		      size_t errlen)
{
	char *sp = strchr(s, ' ');
	if (sp == NULL)
		return line_fail(ps, err, errlen,
				 "not a 'key value' line" NOT_SHOWN);
	*sp = '\0';
	const char *key = s, *val = sp + 1;
	uint8_t b[4];
	if (strcmp(key, "part") == 0) {
		if (once(ps, &ps->seen_part, key, err, errlen))
			return -1;
		img->part = vp_part_find(val);
		if (img->part == NULL)
			return line_fail(
				ps, err, errlen,
				"unknown part name (known: %s)" NOT_SHOWN,
				vp_part_names());
	} else if (strcmp(key, "uid") == 0) {
		return hex_key(ps, &ps->seen_uid, key, val, img->uid, 12,
			       "exactly 12 bytes as hex", err, errlen);
	} else if (strcmp(key, "rdp") == 0) {
		return hex_key(ps, &ps->seen_rdp, key, val, &img->rdp, 1,
			       "one byte as hex (aa = level 0)", err, errlen);
	} else if (strcmp(key, "sr_at_reset") == 0) {
		if (hex_key(ps, &ps->seen_sr, key, val, b, 4,
			    "a 32-bit value as 8 hex digits", err, errlen)
		    != 0)
			return -1;
		img->sr_at_reset = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16
				   | (uint32_t)b[2] << 8 | b[3];
	} else if (strcmp(key, "lock") == 0) {
		return hex_key(ps, &ps->seen_lock, key, val, img->lock, 16,
			       "exactly 16 bytes as hex", err, errlen);
	} else if (strcmp(key, "otp") == 0) {
		return parse_otp(ps, img, val, err, errlen);
	} else if (strcmp(key, "iwdg") == 0) {
		return wdg_key(ps, &ps->seen_iwdg, key, val, &img->iwdg, 3, err,
			       errlen);
	} else if (strcmp(key, "wwdg") == 0) {
		return wdg_key(ps, &ps->seen_wwdg, key, val, &img->wwdg, 2, err,
			       errlen);
	} else if (strcmp(key, "dcache") == 0) {
		uint8_t on = 0;
		if (wdg_key(ps, &ps->seen_dcache, key, val, &on, 2, err, errlen)
		    != 0)
			return -1;
		img->dcache = on != 0;
	} else if (strcmp(key, "boot") == 0) {
		if (once(ps, &ps->seen_boot, key, err, errlen))
			return -1;
		for (img->boot = 0;
		     img->boot < 3 && strcmp(val, boot_names[img->boot]) != 0;
		     img->boot++)
			;
		if (img->boot == 3)
			return line_fail(ps, err, errlen,
					 "boot: want normal, swd-off or sleep");
	} else {
		return line_fail(ps, err, errlen,
				 "unknown key (keys: part, uid, rdp, "
				 "sr_at_reset, otp, lock)" NOT_SHOWN);
	}
	return 0;
}

static int check_complete(const parse_state *ps, const vp_image *img, char *err,
			  size_t errlen)
{
	const char *missing = !ps->seen_part                          ? "part"
			      : !ps->seen_uid                         ? "uid"
			      : !ps->seen_rdp                         ? "rdp"
			      : !ps->seen_lock && has_lock(img->part) ? "lock"
								      : NULL;
	if (missing != NULL)
		return fail(err, errlen, "%s: no '%s' line", ps->path, missing);
	if (ps->seen_lock && !has_lock(img->part))
		return fail(err, errlen,
			    "%s: a 'lock' line, but %s has no OTP lock bytes",
			    ps->path, img->part->name);
	for (size_t off = 0; off < otp_size(img->part); off += LINE_BYTES)
		if (!ps->seen_otp[off / LINE_BYTES])
			return fail(err, errlen, "%s: no 'otp %04zx:' line",
				    ps->path, off);
	return 0;
}

/* Printable ASCII only: an image is written by write_image, or by a person
 * in an editor; anything else is a damaged file or not an image at all. */
static bool is_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			return false;
	return true;
}

static int parse_file(FILE *f, const char *path, vp_image *img, char *err,
		      size_t errlen)
{
	parse_state ps = { .path = path };
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	memset(img, 0, sizeof *img);
	memset(img->otp, 0xFF,
	       sizeof img->otp); /* bytes past the part's area */
	memset(img->lock, 0xFF,
	       sizeof img->lock); /* a part without lock bytes */
	while (rc == 0 && (n = getline(&buf, &cap, f)) >= 0) {
		ps.line++;
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (memchr(buf, '\0', (size_t)n) != NULL
		    || !is_text(buf, (size_t)n)) {
			/* junk after a NUL would otherwise be cut off unseen by
			 * the string functions below (issue 7 item 14) */
			rc = line_fail(&ps, err, errlen,
				       "holds a byte that is not printable "
				       "text" NOT_SHOWN);
			break;
		}
		if (n == 0 || buf[0] == '#')
			continue;
		rc = parse_line(&ps, img, buf, err, errlen);
	}
	free(buf);
	if (rc == 0 && ferror(f))
		rc = fail(err, errlen, "%s: read error: %s", path,
			  strerror(errno));
	if (rc == 0)
		rc = check_complete(&ps, img, err, errlen);
	img->dirty = false;
	return rc;
}

int vp_image_load(vp_image *img, const char *path, const char *target,
		  char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (f != NULL) {
		int rc = parse_file(f, path, img, err, errlen);
		fclose(f);
		return rc;
	}
	if (errno != ENOENT)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	const char *name =
		target != NULL && *target != '\0' ? target : DEFAULT_PART;
	const vp_part *part = vp_part_find(name);
	if (part == NULL)
		return fail(
			err, errlen,
			"%s: unknown target '%s' for a new image (known: %s)",
			path, name, vp_part_names());
	if (vp_image_fresh(img, part, err, errlen) != 0)
		return -1;
	return vp_image_save(img, path, err, errlen);
}

static void put_hex(FILE *f, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
}

static void write_image(FILE *f, const vp_image *img)
{
	fprintf(f, "# vprobe board image: %s (%s)\n", img->part->name,
		img->part->line);
	fprintf(f, "part %s\nuid ", img->part->name);
	put_hex(f, img->uid, 12);
	fprintf(f, "\nrdp %02x\nsr_at_reset %08x\n", img->rdp,
		(unsigned)img->sr_at_reset);
	if (img->iwdg != VP_WDG_OFF)
		fprintf(f, "iwdg %s\n", wdg_names[img->iwdg]);
	if (img->wwdg != VP_WDG_OFF)
		fprintf(f, "wwdg %s\n", wdg_names[img->wwdg]);
	if (img->dcache)
		fputs("dcache firmware\n", f);
	if (img->boot != 0)
		fprintf(f, "boot %s\n", boot_names[img->boot]);
	for (size_t off = 0; off < otp_size(img->part); off += LINE_BYTES) {
		fprintf(f, "otp %04zx: ", off);
		put_hex(f, img->otp + off, LINE_BYTES);
		fputc('\n', f);
	}
	if (has_lock(img->part)) {
		fputs("lock ", f);
		put_hex(f, img->lock, 16);
		fputc('\n', f);
	}
}

/* fsync the directory holding `path`, so the rename itself is durable. */
static int sync_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

int vp_image_save(vp_image *img, const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	if (img->part == NULL)
		return fail(err, errlen, "%s: image has no part", path);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
			     (long)getpid())
	    >= sizeof tmp)
		return fail(err, errlen, "%s: path too long", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return fail(err, errlen, "%s: %s", tmp, strerror(errno));
	write_image(f, img);
	int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;
	int saved_errno = errno;
	if (fclose(f) != 0 && !bad) {
		bad = 1;
		saved_errno = errno;
	}
	if (bad || rename(tmp, path) != 0) {
		if (!bad)
			saved_errno = errno;
		unlink(tmp);
		return fail(err, errlen, "%s: cannot save: %s", path,
			    strerror(saved_errno));
	}
	if (sync_dir(path) != 0)
		return fail(err, errlen,
			    "%s: saved, but fsync of its directory failed: %s",
			    path, strerror(errno));
	img->dirty = false;
	return 0;
}
