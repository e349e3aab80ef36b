/*
 * The rest of the drop-in libusb: version, capabilities, error names and
 * strings (libusb 1.0.26's texts), and what a virtual full/high-speed bus
 * does not have (hotplug, streams, BOS descriptors), as stubs.
 */
#include "shim.h"

#include <stdlib.h>

API const struct libusb_version *libusb_get_version(void)
{
	static const struct libusb_version v = {
		1, 0, 26, 11724, "", "vprobe"
	};
	return &v;
}

API int libusb_has_capability(uint32_t cap)
{
	return cap == LIBUSB_CAP_HAS_CAPABILITY
	       || cap == LIBUSB_CAP_SUPPORTS_DETACH_KERNEL_DRIVER;
}

API const char *libusb_error_name(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS:
		return "LIBUSB_SUCCESS / LIBUSB_TRANSFER_COMPLETED";
	case LIBUSB_ERROR_IO:
		return "LIBUSB_ERROR_IO";
	case LIBUSB_ERROR_INVALID_PARAM:
		return "LIBUSB_ERROR_INVALID_PARAM";
	case LIBUSB_ERROR_ACCESS:
		return "LIBUSB_ERROR_ACCESS";
	case LIBUSB_ERROR_NO_DEVICE:
		return "LIBUSB_ERROR_NO_DEVICE";
	case LIBUSB_ERROR_NOT_FOUND:
		return "LIBUSB_ERROR_NOT_FOUND";
	case LIBUSB_ERROR_BUSY:
		return "LIBUSB_ERROR_BUSY";
	case LIBUSB_ERROR_TIMEOUT:
		return "LIBUSB_ERROR_TIMEOUT";
	case LIBUSB_ERROR_OVERFLOW:
		return "LIBUSB_ERROR_OVERFLOW";
	case LIBUSB_ERROR_PIPE:
		return "LIBUSB_ERROR_PIPE";
	case LIBUSB_ERROR_INTERRUPTED:
		return "LIBUSB_ERROR_INTERRUPTED";
	case LIBUSB_ERROR_NO_MEM:
		return "LIBUSB_ERROR_NO_MEM";
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return "LIBUSB_ERROR_NOT_SUPPORTED";
	case LIBUSB_ERROR_OTHER:
		return "LIBUSB_ERROR_OTHER";
	case LIBUSB_TRANSFER_ERROR:
		return "LIBUSB_TRANSFER_ERROR";
	case LIBUSB_TRANSFER_TIMED_OUT:
		return "LIBUSB_TRANSFER_TIMED_OUT";
	case LIBUSB_TRANSFER_CANCELLED:
		return "LIBUSB_TRANSFER_CANCELLED";
	case LIBUSB_TRANSFER_STALL:
		return "LIBUSB_TRANSFER_STALL";
	case LIBUSB_TRANSFER_NO_DEVICE:
		return "LIBUSB_TRANSFER_NO_DEVICE";
	case LIBUSB_TRANSFER_OVERFLOW:
		return "LIBUSB_TRANSFER_OVERFLOW";
	default:
		return "**UNKNOWN**";
	}
}

API const char *libusb_strerror(int code)
{
	switch (code) {
	case LIBUSB_SUCCESS:
		return "Success";
	case LIBUSB_ERROR_IO:
		return "Input/Output Error";
	case LIBUSB_ERROR_INVALID_PARAM:
		return "Invalid parameter";
	case LIBUSB_ERROR_ACCESS:
		return "Access denied (insufficient permissions)";
	case LIBUSB_ERROR_NO_DEVICE:
		return "No such device (it may have been disconnected)";
	case LIBUSB_ERROR_NOT_FOUND:
		return "Entity not found";
	case LIBUSB_ERROR_BUSY:
		return "Resource busy";
	case LIBUSB_ERROR_TIMEOUT:
		return "Operation timed out";
	case LIBUSB_ERROR_OVERFLOW:
		return "Overflow";
	case LIBUSB_ERROR_PIPE:
		return "Pipe error";
	case LIBUSB_ERROR_INTERRUPTED:
		return "System call interrupted (perhaps due to signal)";
	case LIBUSB_ERROR_NO_MEM:
		return "Insufficient memory";
	case LIBUSB_ERROR_NOT_SUPPORTED:
		return "Operation not supported or unimplemented on this "
		       "platform";
	default:
		return "Other error";
	}
}

API int libusb_setlocale(const char *locale)
{
	(void)locale;
	return LIBUSB_SUCCESS;
}

/* ---- what a virtual full/high-speed bus does not have ---- */

API int libusb_hotplug_register_callback(libusb_context *ctx, int events,
					 int flags, int vid, int pid, int cls,
					 libusb_hotplug_callback_fn cb,
					 void *user,
					 libusb_hotplug_callback_handle *handle)
{
	(void)ctx;
	(void)events;
	(void)flags;
	(void)vid;
	(void)pid;
	(void)cls;
	(void)cb;
	(void)user;
	(void)handle;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API void libusb_hotplug_deregister_callback(libusb_context *ctx,
					    libusb_hotplug_callback_handle h)
{
	(void)ctx;
	(void)h;
}
API void *libusb_hotplug_get_user_data(libusb_context *ctx,
				       libusb_hotplug_callback_handle h)
{
	(void)ctx;
	(void)h;
	return NULL;
}
API int libusb_wrap_sys_device(libusb_context *ctx, intptr_t fd,
			       libusb_device_handle **h)
{
	(void)ctx;
	(void)fd;
	(void)h;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API int libusb_alloc_streams(libusb_device_handle *h, uint32_t n,
			     unsigned char *eps, int neps)
{
	(void)h;
	(void)n;
	(void)eps;
	(void)neps;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API int libusb_free_streams(libusb_device_handle *h, unsigned char *eps,
			    int neps)
{
	(void)h;
	(void)eps;
	(void)neps;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
API void libusb_transfer_set_stream_id(struct libusb_transfer *t, uint32_t id)
{
	(void)t;
	(void)id;
}
API uint32_t libusb_transfer_get_stream_id(struct libusb_transfer *t)
{
	(void)t;
	return 0;
}
API unsigned char *libusb_dev_mem_alloc(libusb_device_handle *h, size_t len)
{
	(void)h;
	(void)len;
	return NULL;
}
API int libusb_dev_mem_free(libusb_device_handle *h, unsigned char *b,
			    size_t len)
{
	(void)h;
	(void)b;
	(void)len;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}
/* USB 2.0 full/high-speed probes have no BOS descriptor: GET_DESCRIPTOR stalls. */
API int libusb_get_bos_descriptor(libusb_device_handle *h,
				  struct libusb_bos_descriptor **bos)
{
	(void)bos;
	return h->dev->gone ? LIBUSB_ERROR_NO_DEVICE : LIBUSB_ERROR_PIPE;
}
API void libusb_free_bos_descriptor(struct libusb_bos_descriptor *bos)
{
	free(bos);
}
API int libusb_get_usb_2_0_extension_descriptor(
	libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
	struct libusb_usb_2_0_extension_descriptor **out)
{
	(void)ctx;
	(void)c;
	(void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_usb_2_0_extension_descriptor(
	struct libusb_usb_2_0_extension_descriptor *d)
{
	free(d);
}
API int libusb_get_ss_usb_device_capability_descriptor(
	libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
	struct libusb_ss_usb_device_capability_descriptor **out)
{
	(void)ctx;
	(void)c;
	(void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_ss_usb_device_capability_descriptor(
	struct libusb_ss_usb_device_capability_descriptor *d)
{
	free(d);
}
API int libusb_get_container_id_descriptor(
	libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *c,
	struct libusb_container_id_descriptor **out)
{
	(void)ctx;
	(void)c;
	(void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void
libusb_free_container_id_descriptor(struct libusb_container_id_descriptor *d)
{
	free(d);
}
API int libusb_get_ss_endpoint_companion_descriptor(
	libusb_context *ctx, const struct libusb_endpoint_descriptor *e,
	struct libusb_ss_endpoint_companion_descriptor **out)
{
	(void)ctx;
	(void)e;
	(void)out;
	return LIBUSB_ERROR_NOT_FOUND;
}
API void libusb_free_ss_endpoint_companion_descriptor(
	struct libusb_ss_endpoint_companion_descriptor *d)
{
	free(d);
}
