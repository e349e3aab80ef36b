/*
 * libFuzzer target: vprobe's board image loader (src/vprobe/image.c) on
 * arbitrary bytes. An image is a file a person edits, so the loader must
 * refuse anything malformed with a message and never read past a buffer.
 * Property checked beyond "no sanitizer report": an image the loader takes
 * is saved and loaded again unchanged (vp_image_save's text is a fixed
 * point of vp_image_load), so a saved board never loses or gains a bit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

static void fuzz_paths(char *in, char *out, size_t len)
{
	const char *dir = getenv("TMPDIR");

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	snprintf(in, len, "%s/stotp-fuzz-image.%ld.img", dir, (long)getpid());
	snprintf(out, len, "%s/stotp-fuzz-image.%ld.out.img", dir,
		 (long)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[512], out[512], err[512];
	vp_image a, b;
	FILE *f;

	fuzz_paths(in, out, sizeof in);
	f = fopen(in, "wb");
	if (f == NULL)
		return 0;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	if (vp_image_load(&a, in, NULL, err, sizeof err) == 0) {
		if (vp_image_save(&a, out, err, sizeof err) != 0)
			abort();
		if (vp_image_load(&b, out, NULL, err, sizeof err) != 0)
			abort();
		if (a.part != b.part || memcmp(a.uid, b.uid, sizeof a.uid) != 0
		    || a.rdp != b.rdp || memcmp(a.otp, b.otp, sizeof a.otp) != 0
		    || memcmp(a.lock, b.lock, sizeof a.lock) != 0
		    || a.sr_at_reset != b.sr_at_reset || a.iwdg != b.iwdg
		    || a.wwdg != b.wwdg || a.dcache != b.dcache
		    || a.boot != b.boot)
			abort();
	} else if (err[0] == '\0') {
		abort(); /* a refusal must say why */
	}
	unlink(in);
	unlink(out);
	return 0;
}
