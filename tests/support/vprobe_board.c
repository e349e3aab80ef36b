/*
 * Test-only Lua binding of vprobe.h: lets specs drive a virtual board in
 * raw USB terms (16-byte command packets, IN replies), without any host
 * code in between.
 *
 *   local vb = require "vprobe_board"
 *   local b = assert(vb.open{ state = "x.img", target = "stm32f407vg",
 *                             probe = "v2:J28", voltage = 3.0,
 *                             fault = "wait@3:2", stats = "s.json",
 *                             latency = 1000, index = 0, quirks = "eop=eopie",
 *                             realtime = true })
 *   b:out(ep, bytes) -> n | nil, err, code
 *   b:in_(ep, cap)   -> bytes | nil, err, code
 *   b:usb()          -> { vid=, pid=, ep_out=, ..., serial=, serial_desc= }
 *   b:stats()        -> { transactions=, bytes_out=, bytes_in=, sim_us= }
 *   b:reset()        -> true | nil, err, code   (libusb_reset_device)
 *   b:usb_open()     -> true | nil, err, code   (vp_board_usb_open)
 *   b:claim()        -> true | nil, err, code, message   (vp_board_claim)
 *   b:release()
 *   b:close()
 *   vb.libusb_scenario(libpath, sends) -> table   (see below)
 *   vb.libusb_session(libpath) -> s: one libusb context of that library
 *     s:open(i) -> handle number | nil, code   (i: device in the list)
 *     s:claim(h, iface), s:release(h, iface) -> libusb return code
 *     s:close(h);  s:exit() (also __gc, __close)
 * err is "timeout", "no_device", "overflow", "pipe", "access", "busy" or
 * "io"; code is the libusb error number.
 */
#include <dlfcn.h>
#include <string.h>

#include <lauxlib.h>
#include <libusb.h>
#include <lua.h>

#include "vprobe.h"

#if LUA_VERSION_NUM < 504
#error "Lua 5.4 required"
#endif

#define BOARD_MT "vprobe_board.Board"

typedef struct {
	vp_board *b;
} ud_board;

static vp_board *check_open(lua_State *L)
{
	ud_board *u = luaL_checkudata(L, 1, BOARD_MT);
	if (!u->b)
		luaL_error(L, "closed board");
	return u->b;
}

static const char *status_name(int rc)
{
	switch (rc) {
	case VP_USB_TIMEOUT:
		return "timeout";
	case VP_USB_NO_DEVICE:
		return "no_device";
	case VP_USB_OVERFLOW:
		return "overflow";
	case VP_USB_PIPE:
		return "pipe";
	case VP_USB_ACCESS:
		return "access";
	case VP_USB_BUSY:
		return "busy";
	default:
		return "io";
	}
}

static int push_fail(lua_State *L, int rc)
{
	lua_pushnil(L);
	lua_pushstring(L, status_name(rc));
	lua_pushinteger(L, rc);
	return 3;
}

static const char *opt_string(lua_State *L, const char *key)
{
	lua_getfield(L, 1, key);
	const char *s = lua_isnil(L, -1) ? NULL : luaL_checkstring(L, -1);
	lua_pop(L, 1); /* the option table keeps the string alive */
	return s;
}

static int board_open(lua_State *L)
{
	static const char *const keys[] = { "state",    "target", "probe",
					    "voltage",  "fault",  "stats",
					    "latency",  "index",  "quirks",
					    "realtime", NULL };
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_pushnil(L);
	while (lua_next(L,
			1)) { /* strict options: a misspelt key is an error */
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING
					? lua_tostring(L, -1)
					: NULL;
		int known = 0;
		for (int i = 0; k && keys[i]; i++)
			known |= strcmp(k, keys[i]) == 0;
		if (!known)
			return luaL_argerror(
				L, 1,
				lua_pushfstring(L, "unknown option '%s'",
						k ? k : "?"));
	}
	vp_options opt;
	memset(&opt, 0, sizeof opt);
	opt.state_path = opt_string(L, "state");
	if (!opt.state_path)
		return luaL_argerror(L, 1,
				     "option 'state' (image path) is required");
	opt.target = opt_string(L, "target");
	opt.probe = opt_string(L, "probe");
	opt.fault = opt_string(L, "fault");
	opt.stats_path = opt_string(L, "stats");
	opt.quirks = opt_string(L, "quirks");
	lua_getfield(L, 1, "voltage");
	opt.voltage = lua_isnil(L, -1) ? -1 : luaL_checknumber(L, -1);
	lua_getfield(L, 1, "latency");
	opt.latency_us = lua_isnil(L, -1) ? -1 : (long)luaL_checkinteger(L, -1);
	lua_getfield(L, 1, "index");
	opt.index = lua_isnil(L, -1) ? 0 : (unsigned)luaL_checkinteger(L, -1);
	lua_getfield(L, 1, "realtime");
	opt.realtime = lua_toboolean(L, -1);
	lua_pop(L, 4);
	ud_board *u = lua_newuserdatauv(L, sizeof *u, 0);
	u->b = NULL;
	luaL_setmetatable(L, BOARD_MT);
	char err[512];
	if (vp_board_open(&u->b, &opt, err, sizeof err) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	return 1;
}

static int board_out(lua_State *L)
{
	vp_board *b = check_open(L);
	lua_Integer ep = luaL_checkinteger(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	int rc = vp_board_bulk_out(b, (uint8_t)ep, (const uint8_t *)data, len);
	if (rc < 0)
		return push_fail(L, rc);
	lua_pushinteger(L, rc);
	return 1;
}

static int board_in(lua_State *L)
{
	vp_board *b = check_open(L);
	lua_Integer ep = luaL_checkinteger(L, 2);
	lua_Integer cap = luaL_checkinteger(L, 3);
	luaL_argcheck(L, cap >= 0 && cap <= 65536, 3, "capacity out of range");
	luaL_Buffer buf;
	char *p = luaL_buffinitsize(L, &buf, (size_t)cap);
	int rc = vp_board_bulk_in(b, (uint8_t)ep, (uint8_t *)p, (size_t)cap);
	if (rc < 0)
		return push_fail(L, rc);
	luaL_pushresultsize(&buf, (size_t)rc);
	return 1;
}

static int board_usb(lua_State *L)
{
	const vp_usb_identity *id = vp_board_usb(check_open(L));
	lua_createtable(L, 0, 16);
#define INT(f) (lua_pushinteger(L, id->f), lua_setfield(L, -2, #f))
	INT(vid);
	INT(pid);
	INT(bcd_usb);
	INT(bcd_device);
	INT(ep_out);
	INT(ep_in);
	INT(ep_trace);
	INT(max_packet);
	INT(num_interfaces);
	INT(bus);
	INT(address);
	INT(port);
#undef INT
	lua_pushstring(L, id->manufacturer);
	lua_setfield(L, -2, "manufacturer");
	lua_pushstring(L, id->product);
	lua_setfield(L, -2, "product");
	lua_pushstring(L, id->serial);
	lua_setfield(L, -2, "serial");
	lua_pushlstring(L, (const char *)id->serial_desc, id->serial_desc_len);
	lua_setfield(L, -2, "serial_desc");
	return 1;
}

static int board_stats(lua_State *L)
{
	vp_stats s = vp_board_stats(check_open(L));
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, (lua_Integer)s.transactions);
	lua_setfield(L, -2, "transactions");
	lua_pushinteger(L, (lua_Integer)s.bytes_out);
	lua_setfield(L, -2, "bytes_out");
	lua_pushinteger(L, (lua_Integer)s.bytes_in);
	lua_setfield(L, -2, "bytes_in");
	lua_pushinteger(L, (lua_Integer)s.sim_us);
	lua_setfield(L, -2, "sim_us");
	return 1;
}

/* true, or the failure triple */
static int push_rc(lua_State *L, int rc)
{
	if (rc < 0)
		return push_fail(L, rc);
	lua_pushboolean(L, 1);
	return 1;
}

static int board_reset(lua_State *L)
{
	return push_rc(L, vp_board_usb_reset(check_open(L)));
}
static int board_usb_open(lua_State *L)
{
	return push_rc(L, vp_board_usb_open(check_open(L)));
}

static int board_claim(lua_State *L)
{
	char err[512] = "";
	int rc = vp_board_claim(check_open(L), err, sizeof err);
	if (rc < 0) {
		push_fail(L, rc);
		lua_pushstring(L, err);
		return 4;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int board_release(lua_State *L)
{
	vp_board_release(check_open(L));
	return 0;
}

/* One idempotent close for close, __close and __gc. */
static int board_close(lua_State *L)
{
	ud_board *u = luaL_checkudata(L, 1, BOARD_MT);
	vp_board_close(u->b);
	u->b = NULL;
	return 0;
}

static int board_tostring(lua_State *L)
{
	ud_board *u = luaL_checkudata(L, 1, BOARD_MT);
	if (u->b)
		lua_pushfstring(L, "vprobe_board: %s (open)",
				vp_board_usb(u->b)->serial);
	else
		lua_pushstring(L, "vprobe_board: (closed)");
	return 1;
}

/* ---- libusb_scenario: drives a libusb-1.0 (the drop-in one) through
 * dlopen, as a host would, and returns what it saw. The test module is not
 * linked against libusb: the library under test is exactly `libpath`. ---- */

struct usb_api {
	int (*init)(libusb_context **);
	void (*exit)(libusb_context *);
	ssize_t (*get_device_list)(libusb_context *, libusb_device ***);
	void (*free_device_list)(libusb_device **, int);
	int (*get_device_descriptor)(libusb_device *,
				     struct libusb_device_descriptor *);
	int (*get_config_descriptor)(libusb_device *, uint8_t,
				     struct libusb_config_descriptor **);
	void (*free_config_descriptor)(struct libusb_config_descriptor *);
	uint8_t (*get_bus_number)(libusb_device *);
	uint8_t (*get_device_address)(libusb_device *);
	int (*open)(libusb_device *, libusb_device_handle **);
	void (*close)(libusb_device_handle *);
	int (*claim_interface)(libusb_device_handle *, int);
	int (*get_string_descriptor_ascii)(libusb_device_handle *, uint8_t,
					   unsigned char *, int);
	int (*control_transfer)(libusb_device_handle *, uint8_t, uint8_t,
				uint16_t, uint16_t, unsigned char *, uint16_t,
				unsigned int);
	int (*bulk_transfer)(libusb_device_handle *, unsigned char,
			     unsigned char *, int, int *, unsigned int);
	struct libusb_transfer *(*alloc_transfer)(int);
	void (*free_transfer)(struct libusb_transfer *);
	int (*submit_transfer)(struct libusb_transfer *);
	int (*cancel_transfer)(struct libusb_transfer *);
	int (*handle_events_completed)(libusb_context *, int *);
	int (*release_interface)(libusb_device_handle *, int);
};

static int usb_api_load(void *lib, struct usb_api *u)
{
	static const char *const names[] = {
		"libusb_init",
		"libusb_exit",
		"libusb_get_device_list",
		"libusb_free_device_list",
		"libusb_get_device_descriptor",
		"libusb_get_config_descriptor",
		"libusb_free_config_descriptor",
		"libusb_get_bus_number",
		"libusb_get_device_address",
		"libusb_open",
		"libusb_close",
		"libusb_claim_interface",
		"libusb_get_string_descriptor_ascii",
		"libusb_control_transfer",
		"libusb_bulk_transfer",
		"libusb_alloc_transfer",
		"libusb_free_transfer",
		"libusb_submit_transfer",
		"libusb_cancel_transfer",
		"libusb_handle_events_completed",
		"libusb_release_interface"
	};
	void **slots = (void **)u; /* struct of same-sized function pointers */
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!(slots[i] = dlsym(lib, names[i])))
			return -1;
	return 0;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void push_device(lua_State *L, const struct usb_api *u, libusb_device *d)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg;
	lua_newtable(L);
	u->get_device_descriptor(d, &dd);
	set_int(L, "vid", dd.idVendor);
	set_int(L, "pid", dd.idProduct);
	set_int(L, "bus", u->get_bus_number(d));
	set_int(L, "address", u->get_device_address(d));
	if (u->get_config_descriptor(d, 0, &cfg) == 0) {
		const struct libusb_interface_descriptor *a =
			cfg->interface[0].altsetting;
		set_int(L, "interfaces", cfg->bNumInterfaces);
		set_int(L, "class", a->bInterfaceClass);
		lua_newtable(L);
		for (int e = 0; e < a->bNumEndpoints; e++) {
			lua_pushinteger(L, a->endpoint[e].bEndpointAddress);
			lua_rawseti(L, -2, e + 1);
		}
		lua_setfield(L, -2, "endpoints");
		set_int(L, "max_packet",
			a->bNumEndpoints ? a->endpoint[0].wMaxPacketSize : 0);
		u->free_config_descriptor(cfg);
	}
	libusb_device_handle *h;
	if (u->open(d, &h) == 0) {
		unsigned char buf[256];
		int n = u->get_string_descriptor_ascii(h, dd.iSerialNumber, buf,
						       sizeof buf);
		lua_pushlstring(L, (const char *)buf, n > 0 ? (size_t)n : 0);
		lua_setfield(L, -2, "serial_ascii");
		n = u->control_transfer(
			h, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR,
			(uint16_t)(LIBUSB_DT_STRING << 8 | dd.iSerialNumber),
			0x0409, buf, sizeof buf, 1000);
		lua_pushlstring(L, (const char *)buf, n > 0 ? (size_t)n : 0);
		lua_setfield(L, -2, "serial_desc");
		n = u->get_string_descriptor_ascii(h, dd.iProduct, buf,
						   sizeof buf);
		lua_pushlstring(L, (const char *)buf, n > 0 ? (size_t)n : 0);
		lua_setfield(L, -2, "product");
		u->close(h);
	}
}

struct cb_log {
	struct libusb_transfer *t[4];
	char order[8];
	int n;
};

/* Records which transfer completed, in callback order ("1234"). */
static void LIBUSB_CALL on_done(struct libusb_transfer *t)
{
	struct cb_log *log = t->user_data;
	for (int i = 0; i < 4 && log->n < 7; i++)
		if (log->t[i] == t)
			log->order[log->n++] = (char)('1' + i);
}

/* Three transfers submitted at once (command OUT, reply IN, an IN with no
 * reply pending), one cancelled, then events; statuses in callback order. */
static void async_part(lua_State *L, const struct usb_api *u,
		       libusb_context *ctx, libusb_device_handle *h,
		       const struct libusb_device_descriptor *dd,
		       uint8_t ep_out, uint8_t ep_in)
{
	(void)dd;
	unsigned char cmdbuf[16] = { 0xF1 }, in1[64], in2[64], in3[64];
	struct cb_log log = { { NULL }, { 0 }, 0 };
	struct libusb_transfer **t = log.t;
	unsigned char *bufs[4] = { cmdbuf, in1, in2, in3 };
	int lens[4] = { 16, 64, 64, 64 };
	uint8_t eps[4] = { ep_out, ep_in, ep_in, ep_in };
	for (int i = 0; i < 4; i++) {
		t[i] = u->alloc_transfer(0);
		libusb_fill_bulk_transfer(t[i], h, eps[i], bufs[i], lens[i],
					  on_done, &log, 1000);
		u->submit_transfer(t[i]);
	}
	int cancel_rc = u->cancel_transfer(t[3]);
	int done = 0;
	for (int k = 0; k < 4 && log.n < 4; k++)
		u->handle_events_completed(ctx, &done);
	lua_newtable(L);
	for (int i = 0; i < 4; i++) {
		lua_newtable(L);
		set_int(L, "status", t[i]->status);
		set_int(L, "actual", t[i]->actual_length);
		lua_rawseti(L, -2, i + 1);
		u->free_transfer(t[i]);
	}
	lua_pushstring(L, log.order);
	lua_setfield(L, -2, "order");
	set_int(L, "cancel_rc", cancel_rc);
	lua_pushlstring(L, (const char *)in1, 6);
	lua_setfield(L, -2, "reply");
	lua_setfield(L, -2, "async");
}

/* Sends GET_CURRENT_MODE up to `sends` times; records how many round trips
 * worked and the first error, then what the bus looks like afterwards. */
static void unplug_part(lua_State *L, const struct usb_api *u,
			libusb_context *ctx, libusb_device_handle *h,
			uint8_t ep_out, uint8_t ep_in, lua_Integer sends)
{
	unsigned char c[16] = { 0xF5 }, r[64];
	int got, rc = 0, ok = 0;
	for (lua_Integer i = 0; i < sends && rc == 0; i++) {
		rc = u->bulk_transfer(h, ep_out, c, 16, &got, 1000);
		if (rc == 0)
			rc = u->bulk_transfer(h, ep_in, r, sizeof r, &got,
					      1000);
		ok += rc == 0;
	}
	set_int(L, "round_trips", ok);
	set_int(L, "error", rc);
	set_int(L, "claim_after", u->claim_interface(h, 0));
	libusb_device **list;
	ssize_t n = u->get_device_list(ctx, &list);
	u->free_device_list(list, 1);
	set_int(L, "devices_after", n);
}

static int libusb_scenario(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	lua_Integer sends = luaL_optinteger(L, 2, 3);
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return luaL_error(L, "dlopen %s: %s", path, dlerror());
	struct usb_api u;
	if (usb_api_load(lib, &u) != 0) {
		dlclose(lib);
		return luaL_error(L, "%s lacks a libusb symbol", path);
	}
	lua_newtable(L);
	libusb_context *ctx = NULL;
	int rc = u.init(&ctx);
	set_int(L, "init", rc);
	if (rc == 0) {
		libusb_device **list;
		ssize_t n = u.get_device_list(ctx, &list);
		lua_newtable(L);
		for (ssize_t i = 0; i < n; i++) {
			push_device(L, &u, list[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "devices");
		libusb_device_handle *h;
		struct libusb_config_descriptor *cfg;
		if (n > 0 && u.open(list[0], &h) == 0) {
			struct libusb_device_descriptor dd;
			u.get_device_descriptor(list[0], &dd);
			u.get_config_descriptor(list[0], 0, &cfg);
			const struct libusb_interface_descriptor *a =
				cfg->interface[0].altsetting;
			uint8_t ep_in = a->endpoint[0].bEndpointAddress,
				ep_out = a->endpoint[1].bEndpointAddress;
			u.free_config_descriptor(cfg);
			set_int(L, "claim", u.claim_interface(h, 0));
			async_part(L, &u, ctx, h, &dd, ep_out, ep_in);
			unplug_part(L, &u, ctx, h, ep_out, ep_in, sends);
			u.close(h);
		}
		u.free_device_list(list, 1);
		u.exit(ctx);
	}
	dlclose(lib);
	return 1;
}

/* ---- libusb_session: one context of a libusb loaded by path, with a few
 * handles, so specs can hold a probe in one context while another (or
 * another process) tries to claim it. ---- */

#define SESSION_MT      "vprobe_board.Session"
#define SESSION_HANDLES 4

typedef struct {
	void *lib;
	struct usb_api u;
	libusb_context *ctx;
	libusb_device **list;
	ssize_t n;
	libusb_device_handle *h[SESSION_HANDLES];
} ud_session;

static ud_session *check_session(lua_State *L)
{
	ud_session *s = luaL_checkudata(L, 1, SESSION_MT);
	if (!s->ctx)
		luaL_error(L, "closed session");
	return s;
}

static libusb_device_handle **session_handle(lua_State *L, ud_session *s)
{
	lua_Integer i = luaL_checkinteger(L, 2);
	luaL_argcheck(L, i >= 1 && i <= SESSION_HANDLES && s->h[i - 1], 2,
		      "no such handle");
	return &s->h[i - 1];
}

static int session_exit(lua_State *L)
{
	ud_session *s = luaL_checkudata(L, 1, SESSION_MT);
	for (int i = 0; s->ctx && i < SESSION_HANDLES; i++)
		if (s->h[i])
			s->u.close(s->h[i]);
	if (s->list)
		s->u.free_device_list(s->list, 1);
	if (s->ctx)
		s->u.exit(s->ctx);
	if (s->lib)
		dlclose(s->lib);
	memset(s, 0, sizeof *s);
	return 0;
}

static int session_open(lua_State *L)
{
	ud_session *s = check_session(L);
	lua_Integer d = luaL_checkinteger(L, 2);
	luaL_argcheck(L, d >= 1 && d <= s->n, 2, "no such device");
	int slot = 0;
	while (slot < SESSION_HANDLES && s->h[slot])
		slot++;
	luaL_argcheck(L, slot < SESSION_HANDLES, 1, "too many handles");
	int rc = s->u.open(s->list[d - 1], &s->h[slot]);
	if (rc != 0) {
		s->h[slot] = NULL;
		lua_pushnil(L);
		lua_pushinteger(L, rc);
		return 2;
	}
	lua_pushinteger(L, slot + 1);
	return 1;
}

/* claim and release (upvalue true: release) */
static int session_iface(lua_State *L)
{
	ud_session *s = check_session(L);
	libusb_device_handle **h = session_handle(L, s);
	int iface = (int)luaL_optinteger(L, 3, 0);
	int release = lua_toboolean(L, lua_upvalueindex(1));
	lua_pushinteger(L, release ? s->u.release_interface(*h, iface)
				   : s->u.claim_interface(*h, iface));
	return 1;
}

static int session_close(lua_State *L)
{
	ud_session *s = check_session(L);
	libusb_device_handle **h = session_handle(L, s);
	s->u.close(*h);
	*h = NULL;
	return 0;
}

/* vb.libusb_session(libpath) -> session | nil, libusb_init's code */
static int libusb_session(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	ud_session *s = lua_newuserdatauv(L, sizeof *s, 0);
	memset(s, 0, sizeof *s);
	luaL_setmetatable(L, SESSION_MT);
	s->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!s->lib)
		return luaL_error(L, "dlopen %s: %s", path, dlerror());
	if (usb_api_load(s->lib, &s->u) != 0)
		return luaL_error(L, "%s lacks a libusb symbol", path);
	int rc = s->u.init(&s->ctx);
	if (rc != 0) {
		s->ctx = NULL;
		lua_pushnil(L);
		lua_pushinteger(L, rc);
		return 2;
	}
	s->n = s->u.get_device_list(s->ctx, &s->list);
	if (s->n < 0) {
		s->list = NULL;
		s->n = 0;
	}
	return 1;
}

static void register_session(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "open", session_open },
		{ "close", session_close },
		{ "exit", session_exit },
		{ NULL, NULL },
	};
	static const luaL_Reg meta[] = { { "__gc", session_exit },
					 { "__close", session_exit },
					 { NULL, NULL } };
	luaL_newmetatable(L, SESSION_MT);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	for (int release = 0; release < 2; release++) {
		lua_pushboolean(L, release);
		lua_pushcclosure(L, session_iface, 1);
		lua_setfield(L, -2, release ? "release" : "claim");
	}
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

__attribute__((visibility("default"))) int luaopen_vprobe_board(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "out", board_out },     { "in_", board_in },
		{ "usb", board_usb },     { "stats", board_stats },
		{ "reset", board_reset }, { "usb_open", board_usb_open },
		{ "claim", board_claim }, { "release", board_release },
		{ "close", board_close }, { NULL, NULL },
	};
	static const luaL_Reg meta[] = {
		{ "__gc", board_close },
		{ "__close", board_close },
		{ "__tostring", board_tostring },
		{ NULL, NULL },
	};
	luaL_newmetatable(L, BOARD_MT);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	register_session(L);
	static const luaL_Reg fns[] = { { "open", board_open },
					{ "libusb_scenario", libusb_scenario },
					{ "libusb_session", libusb_session },
					{ NULL, NULL } };
	luaL_newlib(L, fns);
	return 1;
}
