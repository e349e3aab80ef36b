/*
 * stotp.core, the Lua binding: probe:attach(), target objects
 * (stotp.Target) with their memory and OTP methods, and stotp.identify.
 * Probes are lstotp_probe.c's. This file only translates: ranges, plans,
 * refusals and the OTP area guard live in target.c and otp.c.
 */
#include <string.h>

#include "lstotp.h"
#include "otp.h"

/* ---- identity ---- */

static void push_ident(lua_State *L, const target_ident *id)
{
	const otp_map *m = id->otp;

	lua_createtable(L, 0, 16);
	lstotp_set_int(L, "idcode", id->idcode);
	lstotp_set_int(L, "dev_id", id->dev_id);
	lstotp_set_int(L, "rev_id", id->rev_id);
	lstotp_set_str(L, "revision", id->revision);
	lstotp_set_str(L, "family", id->family);
	lstotp_set_str(L, "line", id->line);
	lstotp_set_str(L, "name", id->name);
	lua_pushboolean(L, id->supported);
	lua_setfield(L, -2, "supported");
	if (m != NULL) {
		lua_createtable(L, 0, 5);
		lstotp_set_int(L, "base", m->base);
		lstotp_set_int(L, "blocks", m->blocks);
		lstotp_set_int(L, "block_size", m->block_size);
		lstotp_set_int(L, "lock_base", m->lock_base);
		lstotp_set_int(L, "size", (lua_Integer)otp_map_size(m));
		lua_setfield(L, -2, "otp");
	}
}

typedef struct ltarget {
	target *t; /* NULL once closed */
} ltarget;

/* probe:attach() */
static int target_attach_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	probe *p = lstotp_to_probe(L, 1);
	ltarget *lt;
	target *t;
	uint8_t uid[12];
	char hex[25];

	if (p == NULL)
		return luaL_error(L, "attempt to use a closed " PROBE_MT);
	lt = lua_newuserdatauv(L, sizeof *lt, 2);
	lt->t = NULL;
	luaL_setmetatable(L, TARGET_MT);
	if (probe_attach(p, &t) != 0)
		return lstotp_fail(L, probe_error(p));
	lt->t = t;
	lua_pushvalue(L, 1);
	lua_setiuservalue(L, -2, 1); /* a target keeps its probe alive */
	push_ident(L, target_id(t));
	if (target_uid(t, uid)) {
		target_uid_hex(t, hex);
		lstotp_set_str(L, "uid", hex);
		lua_pushlstring(L, (const char *)uid, sizeof uid);
		lua_setfield(L, -2, "uid_bytes");
		lstotp_set_int(L, "flash_kib", target_flash_kib(t));
	}
	if (target_rdp(t) >= 0)
		lstotp_set_int(L, "rdp", target_rdp(t));
	lstotp_set_int(L, "cpuid", target_cpuid(t));
	lua_setiuservalue(L, -2, 2); /* the fields table */
	return 1;
}

/* The probe behind the target at idx is open (its userdata is uservalue
 * 1, a stotp.Probe). */
static int probe_alive(lua_State *L, int idx)
{
	probe *p;

	lua_getiuservalue(L, idx, 1);
	p = lua_isnil(L, -1) ? NULL : lstotp_to_probe(L, -1);
	lua_pop(L, 1);
	return p != NULL;
}

/* The target, or raises if it is closed; *live = 0 when its probe is. */
static target *check_target(lua_State *L, int *live)
{
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);

	if (lt->t == NULL)
		luaL_error(L, "attempt to use a closed " TARGET_MT);
	*live = probe_alive(L, 1);
	return lt->t;
}

static int closed_probe(lua_State *L)
{
	st_error e = { ST_ECLOSED, 0, "the probe of this target was closed" };

	return lstotp_fail(L, &e);
}

#define TARGET_OR_CLOSED(L, t)                                                 \
	int live_;                                                             \
	target *t = check_target(L, &live_);                                   \
	if (!live_)                                                            \
	return closed_probe(L)

/* __gc and __close (which Lua calls with an error object too); safe twice. */
static int target_gc(lua_State *L)
{
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);

	target_free(lt->t);
	lt->t = NULL;
	return 0;
}

static int target_close(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	return target_gc(L);
}

static int target_index(lua_State *L)
{
	lstotp_check_nargs(L, 2);
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

/* "(open)", "(closed)", or "(probe closed)": a target whose probe was
 * closed still describes the chip it met, but can do nothing more. */
static int target_tostring(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	ltarget *lt = luaL_checkudata(L, 1, TARGET_MT);
	char d[256];

	if (lt->t == NULL)
		return lstotp_push_name(L, TARGET_MT, NULL);
	target_describe(lt->t, d, sizeof d);
	if (!probe_alive(L, 1)) {
		lua_pushfstring(L, "%s: %s (probe closed)", TARGET_MT, d);
		return 1;
	}
	return lstotp_push_name(L, TARGET_MT, d);
}

/* ---- memory ---- */

/* Addresses and offsets are numbers: a string is not coerced. */
static uint32_t check_addr(lua_State *L, int idx, unsigned align)
{
	lua_Integer a;

	luaL_checktype(L, idx, LUA_TNUMBER);
	a = luaL_checkinteger(L, idx);

	luaL_argcheck(L, a >= 0 && a <= 0xFFFFFFFF, idx,
		      "address out of range");
	luaL_argcheck(L, a % align == 0, idx,
		      align == 4 ? "address not 4-byte aligned"
				 : "address not aligned");
	return (uint32_t)a;
}

static int target_read(lua_State *L)
{
	lstotp_check_nargs(L, 3);
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2, 1);
	lua_Integer n = luaL_checkinteger(L, 3);
	luaL_Buffer b;
	uint8_t *buf;

	luaL_argcheck(L, n >= 0 && n <= STLINK_READ_MAX, 3,
		      "length out of range");
	buf = (uint8_t *)luaL_buffinitsize(L, &b, (size_t)n);
	if (n > 0 && target_mem_read(t, addr, buf, (size_t)n) != 0)
		return lstotp_fail(L, target_error(t));
	luaL_pushresultsize(&b, (size_t)n);
	return 1;
}

static int target_read32(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2, 4), v;

	if (target_mem_read32(t, addr, &v) != 0)
		return lstotp_fail(L, target_error(t));
	lua_pushinteger(L, v);
	return 1;
}

static int target_write32_m(lua_State *L)
{
	lstotp_check_nargs(L, 3);
	TARGET_OR_CLOSED(L, t);
	uint32_t addr = check_addr(L, 2, 4);
	lua_Integer v = luaL_checkinteger(L, 3);

	luaL_argcheck(L, v >= 0 && v <= 0xFFFFFFFF, 3, "value out of range");
	if (target_write32(t, addr, (uint32_t)v) != 0)
		return lstotp_fail(L, target_error(t));
	lua_pushboolean(L, 1);
	return 1;
}

/* ---- OTP ---- */

/* OTP bytes must be a real string: a number would be coerced silently. */
static const uint8_t *check_bytes(lua_State *L, int idx, size_t *n)
{
	luaL_checktype(L, idx, LUA_TSTRING);
	return (const uint8_t *)lua_tolstring(L, idx, n);
}

/* An integer offset (no string coercion); its range is otp.c's call. */
static long long check_offset(lua_State *L, int idx)
{
	luaL_checktype(L, idx, LUA_TNUMBER);
	return (long long)luaL_checkinteger(L, idx);
}

static int target_otp_read(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	TARGET_OR_CLOSED(L, t);
	uint8_t data[OTP_MAX_DATA], locks[OTP_BLOCKS];

	if (otp_read_all(t, data, locks) != 0)
		return lstotp_fail(L, target_error(t));
	lua_pushlstring(L, (const char *)data, otp_map_size(target_id(t)->otp));
	return 1;
}

/* 16 booleans (true: the lock byte is 0x00), and the 16 raw lock bytes:
 * a byte neither 00 nor FF (a lock write cut short) can be shown as it
 * is instead of as "unlocked" (issue 7 item 14). */
static int target_otp_locks(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	TARGET_OR_CLOSED(L, t);
	int locked[OTP_BLOCKS];
	uint8_t raw[OTP_BLOCKS];
	unsigned i;

	if (otp_read_locks(t, locked, raw) != 0)
		return lstotp_fail(L, target_error(t));
	lua_createtable(L, (int)target_id(t)->otp->blocks, 0);
	for (i = 0; i < target_id(t)->otp->blocks; i++) {
		lua_pushboolean(L, locked[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_pushlstring(L, (const char *)raw, target_id(t)->otp->blocks);
	return 2;
}

static int target_otp_check(lua_State *L)
{
	lstotp_check_nargs(L, 3);
	TARGET_OR_CLOSED(L, t);
	long long off = check_offset(L, 2);
	size_t n, i;
	const uint8_t *want = check_bytes(L, 3, &n);
	otp_plan *p = lua_newuserdatauv(L, sizeof *p, 0); /* freed by GC */

	if (otp_plan_make(t, off, want, n, p) != 0)
		return lstotp_fail(L, target_error(t));
	lua_createtable(L, 0, 6);
	lua_pushboolean(L, otp_plan_ok(p));
	lua_setfield(L, -2, "ok");
	lstotp_set_int(L, "same", p->same);
	lstotp_set_int(L, "program", p->program);
	lstotp_set_int(L, "bits", p->bits);
	lstotp_set_int(L, "locked", p->locked);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_createtable(L, 0, 4);
		lstotp_set_int(L, "offset", (lua_Integer)(p->offset + i));
		lstotp_set_int(L, "old", p->old[i]);
		lstotp_set_int(L, "new", p->want[i]);
		lstotp_set_str(L, "action", otp_action_names[p->action[i]]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	lua_setfield(L, -2, "bytes");
	return 1;
}

static int push_done(lua_State *L, const otp_stats *st)
{
	lua_pushboolean(L, 1);
	lua_createtable(L, 0, 8);
	lstotp_set_int(L, "commands", (lua_Integer)st->commands);
	lstotp_set_int(L, "bytes", st->bytes);
	lstotp_set_int(L, "units", st->units);
	lstotp_set_int(L, "width", st->width);
	lstotp_set_str(L, "mode", otp_mode_names[st->mode]);
	lua_pushboolean(L, st->fell_back);
	lua_setfield(L, -2, "fell_back");
	if (st->locked > 0)
		lstotp_set_int(L, "locked", st->locked);
	if (st->fell_back) { /* why: stotp hwtest's field report */
		lstotp_set_str(L, "burst_error", st->burst.msg);
		lstotp_set_str(L, "burst_code", st_code_name(st->burst.code));
		lstotp_set_int(L, "burst_sys", st->burst.sys);
	}
	if (st->volts >= 0) {
		lua_pushnumber(L, st->volts);
		lua_setfield(L, -2, "volts");
	}
	return 2;
}

/* A failed otp_write or otp_lock: nil, message, code, touched (a program
 * command went out, so the chip may hold part of it: a caller that cannot
 * read the board back must take it as possibly burned). */
static int push_failed(lua_State *L, target *t, const otp_stats *st)
{
	int n = lstotp_fail(L, target_error(t));

	lua_pushboolean(L, st->touched);
	return n + 1;
}

static int check_mode(lua_State *L, int idx)
{
	const char *m =
		lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : "";
	int i;

	for (i = 0; otp_mode_names[i] != NULL; i++)
		if (strcmp(m, otp_mode_names[i]) == 0)
			return i;
	return luaL_error(L, "otp_write: option 'mode' must be \"burst\" or "
			     "\"unit\"");
}

/* Option `width` (bits: 8, 16, 32) at the top of the stack -> bytes. */
static unsigned check_width(lua_State *L, const char *fn)
{
	int isint;
	lua_Integer w = lua_tointegerx(L, -1, &isint);

	if (lua_type(L, -1) != LUA_TNUMBER || !isint
	    || (w != 8 && w != 16 && w != 32))
		return (unsigned)luaL_error(
			L, "%s: option 'width' must be 8, 16 or 32 (bits)", fn);
	return (unsigned)(w / 8);
}

/* A table of block = bytes at the top of the stack (otp_lock's expect,
 * otp_write's lock), as otp_expect entries in a userdata left on the stack
 * under it. Types are checked here (a mistake raises); which blocks and
 * how many bytes are otp.c's call. The strings stay alive in the caller's
 * table for the call. */
static otp_expect *check_block_table(lua_State *L, const char *fn,
				     const char *opt, size_t *n)
{
	int et = lua_gettop(L);
	otp_expect *ex;
	size_t i = 0;

	if (!lua_istable(L, et))
		luaL_error(L,
			   "%s: option '%s' must be a table of block = bytes, "
			   "got %s",
			   fn, opt, luaL_typename(L, et));
	*n = 0;
	for (lua_pushnil(L); lua_next(L, et) != 0; lua_pop(L, 1))
		(*n)++;
	ex = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *ex, 0);
	lua_insert(L, et);
	et++;
	for (lua_pushnil(L); lua_next(L, et) != 0; lua_pop(L, 1), i++) {
		int isint;
		ex[i].block = (long long)lua_tointegerx(L, -2, &isint);
		if (lua_type(L, -2) != LUA_TNUMBER || !isint)
			luaL_error(L,
				   "%s: %s keys must be block numbers "
				   "(integers), got %s",
				   fn, opt, luaL_typename(L, -2));
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L,
				   "%s: %s[%d] must be a string of the "
				   "block's bytes, got %s",
				   fn, opt, (int)ex[i].block,
				   luaL_typename(L, -1));
		ex[i].bytes = (const uint8_t *)lua_tolstring(L, -1, &ex[i].len);
	}
	return ex;
}

/* otp_lock's options table at idx (0: none given), { expect = { [block]
 * = bytes }, width = bits }. */
static otp_expect *check_lock_options(lua_State *L, int idx, size_t *nex,
				      unsigned *width)
{
	static const char *const keys[] = { "expect", "width", NULL };

	*nex = 0;
	*width = 0;
	if (idx == 0 || lua_isnil(L, idx))
		return NULL;
	luaL_checktype(L, idx, LUA_TTABLE);
	lstotp_check_keys(L, idx, "otp_lock", keys);
	if (lua_getfield(L, idx, "width") != LUA_TNIL)
		*width = check_width(L, "otp_lock");
	lua_pop(L, 1);
	if (lua_getfield(L, idx, "expect") == LUA_TNIL)
		return NULL;
	return check_block_table(L, "otp_lock", "expect", nex);
}

static int target_otp_write(lua_State *L)
{
	static const char *const keys[] = { "mode", "width", "lock", NULL };
	lstotp_check_nargs(L, 4);
	TARGET_OR_CLOSED(L, t);
	long long off = check_offset(L, 2);
	size_t n, nlock = 0;
	const uint8_t *want = check_bytes(L, 3, &n);
	int mode = OTP_MODE_BURST;
	unsigned width = 0;
	otp_expect *lock = NULL;
	otp_stats st;

	if (!lua_isnoneornil(L, 4)) {
		luaL_checktype(L, 4, LUA_TTABLE);
		lstotp_check_keys(L, 4, "otp_write", keys);
		if (lua_getfield(L, 4, "mode") != LUA_TNIL)
			mode = check_mode(L, -1);
		if (lua_getfield(L, 4, "width") != LUA_TNIL)
			width = check_width(L, "otp_write");
		lua_pop(L, 2);
		if (lua_getfield(L, 4, "lock") != LUA_TNIL)
			lock = check_block_table(L, "otp_write", "lock",
						 &nlock);
	}
	if (otp_write(t, off, want, n, mode, width, lock, nlock, &st) != 0)
		return push_failed(L, t, &st);
	return push_done(L, &st);
}

/* Block numbers as arguments (2, 5, 7) or one table {2, 5, 7}: integers
 * (2.0 too, not "2"); their range and uniqueness are otp.c's call. A
 * table after the numbers, or after the list, holds the options. */
static int target_otp_lock(lua_State *L)
{
	TARGET_OR_CLOSED(L, t);
	int top = lua_gettop(L), tbl = lua_istable(L, 2), isint, opt;
	lua_Integer i, n;
	long long *blocks;
	otp_expect *ex;
	size_t nex;
	unsigned width;
	otp_stats st;

	if (tbl) {
		if (top > 3
		    || (top == 3 && !lua_istable(L, 3) && !lua_isnil(L, 3)))
			return luaL_argerror(
				L, 3,
				"a block list cannot be followed "
				"by more blocks (only an options table)");
		opt = top == 3 ? 3 : 0;
		n = luaL_len(L, 2);
	} else {
		opt = top >= 3 && (lua_istable(L, top) || lua_isnil(L, top))
			      ? top
			      : 0;
		n = (opt ? opt : top + 1) - 2;
	}
	luaL_argcheck(L, n > 0, 2, "block number(s) expected");
	blocks = lua_newuserdatauv(L, (size_t)n * sizeof *blocks, 0);
	for (i = 1; i <= n; i++) {
		if (tbl)
			lua_geti(L, 2, i);
		else
			lua_pushvalue(L, (int)i + 1);
		blocks[i - 1] = (long long)lua_tointegerx(L, -1, &isint);
		if (lua_type(L, -1) != LUA_TNUMBER || !isint)
			return luaL_argerror(
				L, tbl ? 2 : (int)i + 1,
				"block number (an integer) expected");
		lua_pop(L, 1);
	}
	ex = check_lock_options(L, opt, &nex, &width);
	if (otp_lock_list(t, blocks, (size_t)n, ex, nex, width, &st) != 0)
		return push_failed(L, t, &st);
	return push_done(L, &st);
}

/* target:run() -> true; the firmware runs. */
static int target_run_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	TARGET_OR_CLOSED(L, t);
	if (target_run(t) != 0)
		return lstotp_fail(L, target_error(t));
	lua_pushboolean(L, 1);
	return 1;
}

/* target:reset([{halt = bool}]) -> true. */
static int target_reset_m(lua_State *L)
{
	static const char *const keys[] = { "halt", NULL };
	lstotp_check_nargs(L, 2);
	TARGET_OR_CLOSED(L, t);
	int halt = 0;

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lstotp_check_keys(L, 2, "reset", keys);
		if (lua_getfield(L, 2, "halt") != LUA_TNIL) {
			luaL_argexpected(L, lua_isboolean(L, -1), 2,
					 "option 'halt' as a boolean");
			halt = lua_toboolean(L, -1);
		}
		lua_pop(L, 1);
	}
	if (target_reset(t, halt) != 0)
		return lstotp_fail(L, target_error(t));
	lua_pushboolean(L, 1);
	return 1;
}

/* stotp.identify(idcode[, cpuid]): what a DBGMCU_IDCODE names, without
 * a probe. */
static int l_identify(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	lua_Integer id = luaL_checkinteger(L, 1);
	lua_Integer cpuid = luaL_optinteger(L, 2, 0);
	target_ident ident;

	target_decode((uint32_t)id, (uint32_t)cpuid, &ident);
	push_ident(L, &ident);
	return 1;
}

/* Registers stotp.Target, adds probe:attach() to stotp.Probe (made by
 * lstotp_open_probe, which runs first) and stotp.identify. */
void lstotp_open_target(lua_State *L)
{
	static const luaL_Reg meta[] = { { "__index", target_index },
					 { "__gc", target_gc },
					 { "__close", target_gc },
					 { "__tostring", target_tostring },
					 { NULL, NULL } };
	static const luaL_Reg methods[] = { { "close", target_close },
					    { "read", target_read },
					    { "read32", target_read32 },
					    { "write32", target_write32_m },
					    { "otp_read", target_otp_read },
					    { "otp_locks", target_otp_locks },
					    { "otp_check", target_otp_check },
					    { "otp_write", target_otp_write },
					    { "otp_lock", target_otp_lock },
					    { "run", target_run_m },
					    { "reset", target_reset_m },
					    { NULL, NULL } };
	static const luaL_Reg probe_methods[] = { { "attach", target_attach_m },
						  { NULL, NULL } };
	static const luaL_Reg fns[] = { { "identify", l_identify },
					{ NULL, NULL } };

	lstotp_new_class(L, TARGET_MT, meta, methods);
	lstotp_add_methods(L, PROBE_MT, probe_methods);
	luaL_setfuncs(L, fns, 0);
}
