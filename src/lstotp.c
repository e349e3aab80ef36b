/*
 * stotp.core: the Lua binding. The only file that includes lua.h; it only
 * translates between Lua values and the C layers below. Recoverable
 * failures return nil, "<code>: message", code; misuse raises through
 * lauxlib.
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "otp.h"
#include "stlink.h"
#include "target.h"

#if LUA_VERSION_NUM < 504
#error "stotp needs Lua 5.4"
#endif

#define PROBE_MT "stotp.Probe"
#define TARGET_MT "stotp.Target"
#define DEFAULT_KHZ 1800   /* OOCD's default SWD clock (facts §2.2) */
#define READ_MAX (1u << 20)

typedef struct lprobe {
	stlink *st;              /* NULL once closed */
	unsigned khz;
} lprobe;

typedef struct ltarget {
	target *t;               /* NULL once closed */
} ltarget;

static int push_fail(lua_State *L, const st_error *e)
{
	const char *code = st_code_name(e->code);

	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", code, e->msg);
	lua_pushstring(L, code);
	return 3;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

/* Strict option tables: a misspelt key is an error (STYLE §6). */
static void check_keys(lua_State *L, int idx, const char *fn,
                       const char *const *keys)
{
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		const char *k = lua_type(L, -2) == LUA_TSTRING
		                ? lua_tostring(L, -2) : NULL;
		size_t i;
		for (i = 0; k != NULL && keys[i] != NULL; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (k == NULL || keys[i] == NULL)
			luaL_error(L, "%s: unknown option '%s'", fn,
			           k ? k : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
}

static const char *opt_string(lua_State *L, int idx, const char *k)
{
	const char *v = NULL;

	if (lua_getfield(L, idx, k) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "option '%s' must be a string, got %s", k,
			           luaL_typename(L, -1));
		v = lua_tostring(L, -1);
	}
	lua_pop(L, 1);   /* the options table keeps the string alive */
	return v;
}

static double opt_number(lua_State *L, int idx, const char *k, double dflt)
{
	double v = dflt;

	if (lua_getfield(L, idx, k) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) <= 0)
			luaL_error(L, "option '%s' must be a positive number", k);
		v = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

/* ---- stotp.probes ---- */

static void push_version(lua_State *L, const stlink *s)
{
	const stlink_version *v = &s->ver;

	lua_createtable(L, 0, 10);
	set_int(L, "hw", v->hw);
	if (v->jtag >= 0)
		set_int(L, "jtag", v->jtag);
	if (v->msd >= 0)
		set_int(L, "msd", v->msd);
	if (v->swim >= 0)
		set_int(L, "swim", v->swim);
	if (v->bridge >= 0)
		set_int(L, "bridge", v->bridge);
	set_str(L, "string", v->str);
	set_str(L, "kind", v->kind);
	set_int(L, "vid", s->link->id.vid);
	set_int(L, "pid", s->link->id.pid);
}

static void push_probe_info(lua_State *L, const st_usb_info *u)
{
	st_link *link = NULL;
	stlink *s = NULL;
	st_error e = { 0 };

	lua_createtable(L, 0, 8);
	set_int(L, "vid", u->vid);
	set_int(L, "pid", u->pid);
	set_int(L, "bus", u->bus);
	set_int(L, "address", u->address);
	if (u->serial[0])
		set_str(L, "serial", u->serial);
	if (u->open_code == ST_OK
	    && link_usb_open(&link, NULL, u->bus, u->address, &e) == 0
	    && stlink_open(&s, link, &e) == 0) {
		set_str(L, "kind", s->ver.kind);
		set_str(L, "firmware", s->ver.str);
		stlink_close(s);
		return;
	}
	if (u->open_code != ST_OK) {
		e.code = u->open_code;
		snprintf(e.msg, sizeof e.msg, "%s", u->open_error);
	}
	lua_pushfstring(L, "%s: %s", st_code_name(e.code), e.msg);
	lua_setfield(L, -2, "error");
	set_str(L, "code", st_code_name(e.code));
}

static int l_probes(lua_State *L)
{
	st_usb_info info[16];
	st_error e = { 0 };
	size_t n, i;

	if (link_usb_list(info, 16, &n, &e) != 0)
		return push_fail(L, &e);
	if (n > 16)
		n = 16;
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		push_probe_info(L, &info[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ---- stotp.open ---- */

static lprobe *check_probe(lua_State *L)
{
	lprobe *p = luaL_checkudata(L, 1, PROBE_MT);

	if (p->st == NULL)
		luaL_error(L, "attempt to use a closed " PROBE_MT);
	return p;
}

static int l_open(lua_State *L)
{
	static const char *const keys[] = { "serial", "freq_khz", "sim",
		"sim_part", "sim_probe", "sim_voltage", "sim_fault", NULL };
	st_sim_options so = { 0 };
	const char *serial = NULL;
	double khz = DEFAULT_KHZ;
	st_link *link = NULL;
	st_error e = { 0 };
	lprobe *p;

	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		check_keys(L, 1, "stotp.open", keys);
		serial = opt_string(L, 1, "serial");
		khz = opt_number(L, 1, "freq_khz", DEFAULT_KHZ);
		so.path = opt_string(L, 1, "sim");
		so.part = opt_string(L, 1, "sim_part");
		so.probe = opt_string(L, 1, "sim_probe");
		so.fault = opt_string(L, 1, "sim_fault");
		so.voltage = opt_number(L, 1, "sim_voltage", 0);
	}
	p = lua_newuserdatauv(L, sizeof *p, 0);
	p->st = NULL;
	p->khz = (unsigned)khz;
	luaL_setmetatable(L, PROBE_MT);
	if ((so.path ? link_sim_open(&link, &so, &e)
	             : link_usb_open(&link, serial, 0, 0, &e)) != 0
	    || stlink_open(&p->st, link, &e) != 0)
		return push_fail(L, &e);
	return 1;
}

/* ---- probe methods ---- */

static int probe_close(lua_State *L)
{
	lprobe *p = luaL_checkudata(L, 1, PROBE_MT);

	stlink_close(p->st);
	p->st = NULL;
	return 0;
}

static int probe_tostring(lua_State *L)
{
	lprobe *p = luaL_checkudata(L, 1, PROBE_MT);

	if (p->st == NULL)
		lua_pushstring(L, PROBE_MT ": (closed)");
	else
		lua_pushfstring(L, PROBE_MT ": ST-Link/%s %s %s (open)",
		                p->st->ver.kind, p->st->ver.str,
		                p->st->link->id.serial);
	return 1;
}

static int probe_version(lua_State *L)
{
	push_version(L, check_probe(L)->st);
	return 1;
}

static int probe_voltage(lua_State *L)
{
	lprobe *p = check_probe(L);
	double v;

	if (stlink_voltage(p->st, &v) != 0)
		return push_fail(L, &p->st->err);
	lua_pushnumber(L, v);
	return 1;
}

static int probe_stats(lua_State *L)
{
	lprobe *p = check_probe(L);
	st_link_stats ls;

	lua_createtable(L, 0, 6);
	set_int(L, "commands", (lua_Integer)p->st->commands);
	set_int(L, "wait_retries", (lua_Integer)p->st->wait_retries);
	if (p->st->link->ops->stats(p->st->link, &ls) == 0) {
		set_int(L, "transactions", (lua_Integer)ls.transactions);
		set_int(L, "bytes_out", (lua_Integer)ls.bytes_out);
		set_int(L, "bytes_in", (lua_Integer)ls.bytes_in);
		set_int(L, "sim_us", (lua_Integer)ls.sim_us);
	}
	return 1;
}

static int probe_field(lua_State *L)
{
	lprobe *p = luaL_checkudata(L, 1, PROBE_MT);
	const char *k = luaL_checkstring(L, 2);

	if (p->st != NULL && strcmp(k, "serial") == 0) {
		lua_pushstring(L, p->st->link->id.serial);
		return 1;
	}
	if (p->st != NULL && strcmp(k, "sim") == 0) {
		lua_pushboolean(L, p->st->link->id.sim);
		return 1;
	}
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

/* ---- target ---- */

static void push_hex(lua_State *L, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char s[64];
	size_t i;

	for (i = 0; i < n && 2 * i + 1 < sizeof s; i++) {
		s[2 * i] = hex[b[i] >> 4];
		s[2 * i + 1] = hex[b[i] & 15];
	}
	lua_pushlstring(L, s, 2 * i);
}

static void push_ident(lua_State *L, const target_ident *id)
{
	const otp_map *m = id->otp;

	lua_createtable(L, 0, 16);
	set_int(L, "idcode", id->idcode);
	set_int(L, "dev_id", id->dev_id);
	set_int(L, "rev_id", id->rev_id);
	set_str(L, "revision", id->revision);
	set_str(L, "family", id->family);
	set_str(L, "line", id->line);
	set_str(L, "name", id->name);
	lua_pushboolean(L, id->supported);
	lua_setfield(L, -2, "supported");
	if (m != NULL) {
		lua_createtable(L, 0, 5);
		set_int(L, "base", m->base);
		set_int(L, "blocks", m->blocks);
		set_int(L, "block_size", m->block_size);
		set_int(L, "lock_base", m->lock_base);
		set_int(L, "size", (lua_Integer)m->blocks * m->block_size);
		lua_setfield(L, -2, "otp");
	}
}

static int probe_attach(lua_State *L)
{
	lprobe *p = check_probe(L);
	ltarget *lt = lua_newuserdatauv(L, sizeof *lt, 2);
	target *t;

	lt->t = NULL;
	luaL_setmetatable(L, TARGET_MT);
	if (target_attach(&t, p->st, p->khz) != 0)
		return push_fail(L, &p->st->err);
	lt->t = t;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1);   /* a target keeps its probe alive */
	push_ident(L, &t->id);
	if (t->have_uid) {
		push_hex(L, t->uid, 12);
		lua_setfield(L, -2, "uid");
		lua_pushlstring(L, (const char *)t->uid, 12);
		lua_setfield(L, -2, "uid_bytes");
		set_int(L, "flash_kib", t->flash_kib);
	}
	if (t->rdp >= 0)
		set_int(L, "rdp", t->rdp);
	set_int(L, "cpuid", t->cpuid);
	lua_setiuservalue(L, -2, 2);   /* the fields table */
	return 1;
}

/* The target, or raises if it is closed; *live = 0 when its probe is. */
static target *check_target(lua_State *L, int *live)
{
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);
	lprobe *p;

	if (lt->t == NULL)
		luaL_error(L, "attempt to use a closed " TARGET_MT);
	lua_getiuservalue(L, 1, 1);
	p = lua_touserdata(L, -1);
	lua_pop(L, 1);
	*live = p != NULL && p->st != NULL;
	return lt->t;
}

static int closed_probe(lua_State *L)
{
	st_error e = { ST_ECLOSED, 0, "the probe of this target was closed" };

	return push_fail(L, &e);
}

#define TARGET_OR_CLOSED(L, t)                                  \
	int live_;                                              \
	target *t = check_target(L, &live_);                    \
	if (!live_)                                             \
		return closed_probe(L)

static int target_close(lua_State *L)
{
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);

	target_free(lt->t);
	lt->t = NULL;
	return 0;
}

static int target_index(lua_State *L)
{
	luaL_checkudata(L, 1, TARGET_MT);
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "methods");
	if (lua_getfield(L, -1, luaL_checkstring(L, 2)) != LUA_TNIL)
		return 1;
	lua_getiuservalue(L, 1, 2);
	if (lua_type(L, -1) != LUA_TTABLE)
		return 0;
	lua_pushvalue(L, 2);
	lua_gettable(L, -2);
	return 1;
}

static int target_tostring(lua_State *L)
{
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);
	const target *t = lt->t;
	char uid[25] = "?";
	size_t i;

	if (t == NULL) {
		lua_pushstring(L, TARGET_MT ": (closed)");
		return 1;
	}
	for (i = 0; t->have_uid && i < 12; i++)
		snprintf(uid + 2 * i, 3, "%02X", t->uid[i]);
	lua_pushfstring(L, TARGET_MT ": %s (%s) rev %s, %d KiB flash, UID %s, "
	                "RDP %d (open)", t->id.name, t->id.line, t->id.revision,
	                (int)t->flash_kib, uid, t->rdp);
	return 1;
}

static uint32_t check_addr(lua_State *L, int idx)
{
	lua_Integer a = luaL_checkinteger(L, idx);

	luaL_argcheck(L, a >= 0 && a <= 0xFFFFFFFF, idx, "address out of range");
	return (uint32_t)a;
}

static int target_read(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2);
	lua_Integer n = luaL_checkinteger(L, 3);
	luaL_Buffer b;
	uint8_t *buf;

	luaL_argcheck(L, n >= 0 && n <= READ_MAX, 3, "length out of range");
	buf = (uint8_t *)luaL_buffinitsize(L, &b, (size_t)n);
	if (n > 0 && stlink_read(t->st, addr, buf, (size_t)n) != 0)
		return push_fail(L, &t->st->err);
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static int target_read32(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2);
	uint8_t b[4];

	luaL_argcheck(L, addr % 4 == 0, 2, "address not 4-byte aligned");
	if (stlink_read_mem(t->st, addr, b, 4, 4) != 0)
		return push_fail(L, &t->st->err);
	lua_pushinteger(L, (lua_Integer)b[0] | (lua_Integer)b[1] << 8
	                   | (lua_Integer)b[2] << 16 | (lua_Integer)b[3] << 24);
	return 1;
}

static int target_write32(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2);
	lua_Integer v = luaL_checkinteger(L, 3);
	const otp_map *m = t->id.otp;
	uint8_t b[4];
	st_error e = { ST_ERANGE, 0, "" };

	luaL_argcheck(L, addr % 4 == 0, 2, "address not 4-byte aligned");
	luaL_argcheck(L, v >= 0 && v <= 0xFFFFFFFF, 3, "value out of range");
	if (m != NULL && addr + 4 > m->base && addr < m->lock_base + m->blocks) {
		/* The OTP is only written through the checked primitives. */
		snprintf(e.msg, sizeof e.msg, "0x%08X is in the OTP area: use "
		         "otp_write or otp_lock", (unsigned)addr);
		return push_fail(L, &e);
	}
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
	if (stlink_write_mem(t->st, addr, b, 4, 4, 0) != 0)
		return push_fail(L, &t->st->err);
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- OTP methods ---- */

/* OTP bytes must be a real string: a number would be coerced silently. */
static const uint8_t *check_bytes(lua_State *L, int idx, size_t *n)
{
	luaL_checktype(L, idx, LUA_TSTRING);
	return (const uint8_t *)lua_tolstring(L, idx, n);
}

static int target_otp_read(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];

	if (otp_read_all(t, data, locks) != 0)
		return push_fail(L, &t->st->err);
	lua_pushlstring(L, (const char *)data,
	                (size_t)t->id.otp->blocks * t->id.otp->block_size);
	return 1;
}

static int target_otp_locks(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];
	unsigned i;

	if (otp_read_all(t, data, locks) != 0)
		return push_fail(L, &t->st->err);
	lua_createtable(L, (int)t->id.otp->blocks, 0);
	for (i = 0; i < t->id.otp->blocks; i++) {
		/* 0x00 locks; any other value reads as unlocked (OOCD). */
		lua_pushboolean(L, locks[i] == 0x00);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* Offsets are relative to otp.base; a negative one cannot be anything. */
static size_t check_offset(lua_State *L, int idx)
{
	lua_Integer o;

	luaL_checktype(L, idx, LUA_TNUMBER);   /* no string coercion */
	o = luaL_checkinteger(L, idx);

	return o < 0 ? (size_t)-1 / 2 : (size_t)o;
}

static int target_otp_check(lua_State *L)
{
	static const char *const actions[] = { "same", "program", "bits",
	                                       "locked" };
	TARGET_OR_CLOSED(L, t);
	size_t off = check_offset(L, 2), n, i;
	const uint8_t *want = check_bytes(L, 3, &n);
	otp_plan *p = lua_newuserdatauv(L, sizeof *p, 0);  /* freed by GC */

	if (otp_plan_make(t, off, want, n, p) != 0)
		return push_fail(L, &t->st->err);
	lua_createtable(L, 0, 6);
	lua_pushboolean(L, p->bits == 0 && p->locked == 0);
	lua_setfield(L, -2, "ok");
	set_int(L, "same", p->same);
	set_int(L, "program", p->program);
	set_int(L, "bits", p->bits);
	set_int(L, "locked", p->locked);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 4);
		set_int(L, "offset", (lua_Integer)(off + i));
		set_int(L, "old", p->old[i]);
		set_int(L, "new", p->want[i]);
		set_str(L, "action", actions[p->action[i]]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "bytes");
	return 1;
}

static void push_stats(lua_State *L, const otp_stats *st)
{
	lua_createtable(L, 0, 8);
	set_int(L, "commands", (lua_Integer)st->commands);
	set_int(L, "bytes", st->bytes);
	set_int(L, "units", st->units);
	set_int(L, "width", st->width);
	set_str(L, "mode", st->mode == OTP_MODE_UNIT ? "unit" : "burst");
	lua_pushboolean(L, st->fell_back);
	lua_setfield(L, -2, "fell_back");
	if (st->volts >= 0) {
		lua_pushnumber(L, st->volts);
		lua_setfield(L, -2, "volts");
	}
}

static int target_otp_write(lua_State *L)
{
	static const char *const keys[] = { "mode", NULL };
	static const char *const modes[] = { "burst", "unit", NULL };
	TARGET_OR_CLOSED(L, t);
	size_t off = check_offset(L, 2), n;
	const uint8_t *want = check_bytes(L, 3, &n);
	int mode = OTP_MODE_BURST;
	otp_stats st;

	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		check_keys(L, 4, "otp_write", keys);
		lua_getfield(L, 4, "mode");
		mode = lua_isnil(L, -1) ? OTP_MODE_BURST
		                        : luaL_checkoption(L, -1, NULL, modes);
		lua_pop(L, 1);
	}
	if (otp_write(t, off, want, n, mode, &st) != 0)
		return push_fail(L, &t->st->err);
	lua_pushboolean(L, 1);
	push_stats(L, &st);
	return 2;
}

/* Blocks as arguments (2, 5, 7) or one table {2, 5, 7}. */
static int target_otp_lock(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	int top = lua_gettop(L), i, n, tbl = lua_istable(L, 2);
	uint32_t mask = 0;
	otp_stats st;

	n = tbl ? (int)luaL_len(L, 2) : top - 1;
	luaL_argcheck(L, n > 0, 2, "block number(s) expected");
	for (i = 1; i <= n; i++) {
		lua_Integer b;
		if (tbl)
			lua_geti(L, 2, i);
		else
			lua_pushvalue(L, i + 1);
		if (!lua_isinteger(L, -1))
			return luaL_argerror(L, tbl ? 2 : i + 1, "block number expected");
		b = lua_tointeger(L, -1);
		lua_pop(L, 1);
		if (b < 0 || b >= 32) {
			st_error e = { ST_ERANGE, 0, "" };
			snprintf(e.msg, sizeof e.msg, "no OTP block %lld: blocks are "
			         "numbered 0-15", (long long)b);
			return push_fail(L, &e);
		}
		mask |= 1u << b;
	}
	if (otp_lock(t, mask, &st) != 0)
		return push_fail(L, &t->st->err);
	lua_pushboolean(L, 1);
	push_stats(L, &st);
	return 2;
}

/* ---- module ---- */

static int l_identify(lua_State *L)
{
	lua_Integer id = luaL_checkinteger(L, 1);
	lua_Integer cpuid = luaL_optinteger(L, 2, 0);
	target_ident ident;

	target_decode((uint32_t)id, (uint32_t)cpuid, &ident);
	push_ident(L, &ident);
	return 1;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *meta,
                      const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}

__attribute__((visibility("default"))) int luaopen_stotp_core(lua_State *L)
{
	static const luaL_Reg probe_meta[] = {
		{ "__index", probe_field }, { "__gc", probe_close },
		{ "__close", probe_close }, { "__tostring", probe_tostring },
		{ NULL, NULL } };
	static const luaL_Reg probe_methods[] = {
		{ "close", probe_close }, { "version", probe_version },
		{ "voltage", probe_voltage }, { "attach", probe_attach },
		{ "stats", probe_stats }, { NULL, NULL } };
	static const luaL_Reg target_meta[] = {
		{ "__index", target_index }, { "__gc", target_close },
		{ "__close", target_close }, { "__tostring", target_tostring },
		{ NULL, NULL } };
	static const luaL_Reg target_methods[] = {
		{ "close", target_close }, { "read", target_read },
		{ "read32", target_read32 }, { "write32", target_write32 },
		{ "otp_read", target_otp_read }, { "otp_locks", target_otp_locks },
		{ "otp_check", target_otp_check }, { "otp_write", target_otp_write },
		{ "otp_lock", target_otp_lock }, { NULL, NULL } };
	static const luaL_Reg fns[] = {
		{ "probes", l_probes }, { "open", l_open },
		{ "identify", l_identify }, { NULL, NULL } };

	new_class(L, PROBE_MT, probe_meta, probe_methods);
	new_class(L, TARGET_MT, target_meta, target_methods);
	luaL_newlib(L, fns);
	lua_pushstring(L, STOTP_UDEV_RULE);
	lua_setfield(L, -2, "udev_rule");
	return 1;
}
