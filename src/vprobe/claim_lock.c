/*
 * The claim lock file of a board image (claim_lock.h).
 *
 * The holder removes the file when it lets go, so no lock files are left
 * beside images. That is safe with the usual check: a taker that locked a
 * file which was removed (or replaced) in the meantime sees that the path
 * no longer names the inode it locked, and starts again on the new file.
 * A holder that dies leaves its file, unlocked, for the next taker.
 */
#include "claim_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX    ".lock"
#define MAX_TRIES 8 /* each retry means another holder came and went */

static char *lock_path(const char *image_path)
{
	size_t n = strlen(image_path) + sizeof SUFFIX;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s%s", image_path, SUFFIX);
	return path;
}

static int open_lock_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	/* an existing lock file beside a read-only image is still lockable:
	 * flock needs no write access */
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

/* Does `path` still name the file open as `fd`? */
static int still_named(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev
	       && a.st_ino == b.st_ino;
}

/* One attempt: VP_LOCK_HELD, VP_LOCK_BUSY, VP_LOCK_ERROR, or -1 to retry. */
static int try_once(const char *path, int *fd, char *err, size_t errlen)
{
	int f = open_lock_file(path);
	if (f < 0) {
		snprintf(err, errlen,
			 "vprobe: cannot open the claim lock %s: %s", path,
			 strerror(errno));
		return VP_LOCK_ERROR;
	}
	int rc;
	do
		rc = flock(f, LOCK_EX | LOCK_NB);
	while (rc != 0 && errno == EINTR);
	int e = errno;
	if (rc == 0 && still_named(f, path)) {
		*fd = f;
		return VP_LOCK_HELD;
	}
	close(f);
	if (rc == 0)
		return -1;
	if (e == EWOULDBLOCK) {
		snprintf(err, errlen,
			 "vprobe: the probe of %.*s is claimed by another "
			 "program (lock %s)",
			 (int)(strlen(path) - strlen(SUFFIX)), path, path);
		return VP_LOCK_BUSY;
	}
	snprintf(err, errlen, "vprobe: cannot lock %s: %s", path, strerror(e));
	return VP_LOCK_ERROR;
}

enum vp_lock_result vp_lock_take(const char *image_path, int *fd, char *err,
				 size_t errlen)
{
	*fd = -1;
	char *path = lock_path(image_path);
	if (!path) {
		snprintf(err, errlen, "vprobe: out of memory");
		return VP_LOCK_ERROR;
	}
	int r = -1;
	for (int i = 0; i < MAX_TRIES && r < 0; i++)
		r = try_once(path, fd, err, errlen);
	if (r < 0) {
		snprintf(err, errlen,
			 "vprobe: the claim lock %s keeps changing hands",
			 path);
		r = VP_LOCK_BUSY;
	}
	free(path);
	return (enum vp_lock_result)r;
}

void vp_lock_drop(const char *image_path, int fd)
{
	if (fd < 0)
		return;
	/* removed while still held, so nobody can lock it in between and keep
	 * a lock on a name that is gone (see still_named) */
	char *path = lock_path(image_path);
	if (path && still_named(fd, path))
		unlink(path); /* may fail beside a read-only image: then it stays */
	free(path);
	close(fd);
}
