/*
 * The fixture behind one probe (slot.h): the identity of its image file,
 * what a connect finds there, the file a symlinked image really is, and
 * the seed of the probe's own serial.
 */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void vp_slot_note(vp_slot *s, const char *path)
{
	struct stat st;
	memset(s, 0, sizeof *s);
	if (stat(path, &st) != 0)
		return;
	s->known = true;
	s->dev = (uint64_t)st.st_dev;
	s->ino = (uint64_t)st.st_ino;
	s->size = (uint64_t)st.st_size;
	s->mtime_ns =
		(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

bool vp_slot_changed(const vp_slot *s, const char *path)
{
	vp_slot now;
	vp_slot_note(&now, path);
	return now.known != s->known || now.dev != s->dev || now.ino != s->ino
	       || now.size != s->size || now.mtime_ns != s->mtime_ns;
}

bool vp_slot_empty(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

enum vp_slot_holds vp_slot_load(const char *path, const char *target,
				vp_image *img, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return VP_SLOT_NONE; /* removed: not created again */
		snprintf(err, errlen, "vprobe: %s: %s", path, strerror(errno));
		return VP_SLOT_BAD;
	}
	if (st.st_size == 0)
		return VP_SLOT_NONE;
	return vp_image_load(img, path, target, err, errlen) == 0
		       ? VP_SLOT_BOARD
		       : VP_SLOT_BAD;
}

static char *dup_str(const char *s)
{
	char *d = malloc(strlen(s) + 1);
	if (d)
		strcpy(d, s);
	return d;
}

/* A saved image is a rename over the path: following a symlink makes the
 * save rewrite its target instead of replacing the link, and puts the
 * claim lock beside the real file, shared by every name of it (issue 7
 * item 10). A dangling link is refused: a fresh board there would break
 * the link. */
char *vp_slot_real_path(const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *real;

	if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
		return dup_str(path);
	real = realpath(path, NULL);
	if (!real)
		snprintf(err, errlen,
			 "vprobe: the board image %s is a symlink to nothing "
			 "usable: %s",
			 path, strerror(errno));
	return real;
}

/* The same temporary name vp_image_save writes, created and removed. A
 * real board never forgets a program operation; a model that silently
 * could would report a burn that the next run does not see (issue 7 item
 * 10), so such a board is refused at open instead. */
int vp_slot_check_writable(const char *path, char *err, size_t errlen)
{
	char tmp[PATH_MAX + 32];
	int fd;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path,
			     (long)getpid())
	    >= sizeof tmp) {
		snprintf(err, errlen, "vprobe: %s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, errlen,
			 "vprobe: the board image %s cannot be saved (%s: %s): "
			 "a board that cannot keep what it programs is refused",
			 path, tmp, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

/* FNV-1a over the slot's absolute path, salted per output byte. A real
 * ST-Link's serial is its own (the iSerial descriptor of the probe, OOCD
 * src/jtag/drivers/stlink_usb.c stlink_usb_get_alternate_serial), not the
 * target's: it must not change when the board on the fixture does. */
void vp_slot_serial_seed(const char *path, uint8_t out[12])
{
	char cwd[PATH_MAX] = "";
	if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
		cwd[0] = '\0';
	for (unsigned i = 0; i < 12; i++) {
		uint32_t h = 2166136261u ^ i;
		for (const char *p = cwd; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		h = (h ^ '/') * 16777619u;
		for (const char *p = path; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		h = (h ^ i) * 16777619u;
		out[i] = (uint8_t)(h ^ h >> 8 ^ h >> 16 ^ h >> 24);
	}
}
