/*
 * Test-only Lua binding of the STM32 target model (mcu.h, image.h,
 * parts.h), without the ST-Link firmware or USB: specs poke the bus the way
 * the SWD engine would.
 *
 *   local vm = require "vprobe_model"
 *   local m = vm.open{ image = path, part = "stm32f407vg", voltage = 3.3,
 *                      quirks = "busy_write=pgserr" }   (-> nil, message)
 *   m:read(addr, size)          -> value | nil, "fault"|"stall"|"nopower"
 *   m:write(addr, size, value)  -> true  | nil, reason
 *   m:reset()  m:advance(us)  m:now()  m:save()  m:powerloss(n)  m:close()
 *   m:powered()  m:voltage()  m:halted()  m:dirty()  m:program_count()
 *   m:core_reg(i)  m:set_core_reg(i, v)  m:params{...}
 *   vm.part(name) -> table | nil     vm.part_names() -> string
 *   vm.part_at(i) -> name | nil      (1-based)
 *   vm.quirks_valid() -> "busy_write=stall|drop|pgserr, ..."
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM < 504
#error "Lua 5.4 required"
#endif

#include "image.h"
#include "mcu.h"
#include "parts.h"
#include "quirks.h"

#define MT "vprobe_model.Mcu"

typedef struct model {
	vp_mcu *mcu; /* NULL once closed */
	vp_clock clock;
	vp_image img;
	vp_mcu_params prm;
	char path[1024];
} model;

static model *check_open(lua_State *L)
{
	model *m = luaL_checkudata(L, 1, MT);
	if (m->mcu == NULL)
		luaL_error(L, "closed vprobe model");
	return m;
}

static const char *bus_name(vp_bus b)
{
	switch (b) {
	case VP_BUS_FAULT:
		return "fault";
	case VP_BUS_STALL:
		return "stall";
	case VP_BUS_NOPOWER:
		return "nopower";
	default:
		return "ok";
	}
}

static int push_fail(lua_State *L, const char *msg)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	return 2;
}

/* Strict options: a misspelt key is an error (as luaposix checkfieldnames). */
static void check_keys(lua_State *L, int idx, const char *const *known)
{
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		lua_pop(L, 1);
		const char *k = lua_type(L, -1) == LUA_TSTRING
					? lua_tostring(L, -1)
					: NULL;
		bool ok = false;
		for (int i = 0; k != NULL && known[i] != NULL; i++)
			ok = ok || strcmp(k, known[i]) == 0;
		if (!ok)
			luaL_error(L, "unknown option '%s'",
				   k != NULL ? k : "?");
	}
}

static int m_open(lua_State *L)
{
	static const char *const keys[] = { "image", "part", "voltage",
					    "quirks", NULL };
	luaL_checktype(L, 1, LUA_TTABLE);
	check_keys(L, 1, keys);
	lua_getfield(L, 1, "image");
	const char *path = luaL_checkstring(L, -1);
	lua_getfield(L, 1, "part");
	const char *part = luaL_optstring(L, -1, NULL);
	lua_getfield(L, 1, "voltage");
	double volts = luaL_optnumber(L, -1, 3.3);
	lua_getfield(L, 1, "quirks");
	const char *quirks = luaL_optstring(L, -1, NULL);
	if (strlen(path) >= sizeof((model *)0)->path)
		return luaL_argerror(L, 1, "image path too long");
	model *m = lua_newuserdatauv(L, sizeof *m, 0);
	memset(m, 0, sizeof *m);
	luaL_setmetatable(L, MT);
	strcpy(m->path, path);
	char err[512];
	vp_mcu_params_default(&m->prm);
	if (vp_quirks_parse(quirks, &m->prm, err, sizeof err) != 0)
		return push_fail(L, err);
	if (vp_image_load(&m->img, path, part, err, sizeof err) != 0)
		return push_fail(L, err);
	m->mcu = vp_mcu_new(&m->img, m->img.part, &m->clock, volts);
	if (m->mcu == NULL)
		return push_fail(L, "out of memory");
	vp_mcu_set_params(m->mcu, &m->prm);
	return 1;
}

static int m_read(lua_State *L)
{
	model *m = check_open(L);
	uint32_t addr = (uint32_t)luaL_checkinteger(L, 2);
	unsigned size = (unsigned)luaL_checkinteger(L, 3);
	uint32_t v = 0;
	vp_bus b = vp_mcu_read(m->mcu, addr, size, &v);
	if (b != VP_BUS_OK)
		return push_fail(L, bus_name(b));
	lua_pushinteger(L, v);
	return 1;
}

static int m_write(lua_State *L)
{
	model *m = check_open(L);
	uint32_t addr = (uint32_t)luaL_checkinteger(L, 2);
	unsigned size = (unsigned)luaL_checkinteger(L, 3);
	uint32_t v = (uint32_t)luaL_checkinteger(L, 4);
	vp_bus b = vp_mcu_write(m->mcu, addr, size, v);
	if (b != VP_BUS_OK)
		return push_fail(L, bus_name(b));
	lua_pushboolean(L, 1);
	return 1;
}

static int m_reset(lua_State *L)
{
	vp_mcu_reset(check_open(L)->mcu);
	return 0;
}

static int m_advance(lua_State *L)
{
	model *m = check_open(L);
	lua_Integer us = luaL_checkinteger(L, 2);
	luaL_argcheck(L, us >= 0, 2, "time only moves forward");
	vp_clock_advance(&m->clock, (uint64_t)us);
	return 0;
}

static int m_now(lua_State *L)
{
	lua_pushinteger(L, (lua_Integer)check_open(L)->clock.us);
	return 1;
}

static int m_save(lua_State *L)
{
	model *m = check_open(L);
	char err[512];
	if (vp_image_save(&m->img, m->path, err, sizeof err) != 0)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int m_powerloss(lua_State *L)
{
	model *m = check_open(L);
	vp_mcu_arm_powerloss(m->mcu, (unsigned)luaL_checkinteger(L, 2));
	return 0;
}

/* One close for close/__close/__gc; safe twice. Saves the image. */
static int m_close(lua_State *L)
{
	model *m = luaL_checkudata(L, 1, MT);
	if (m->mcu == NULL)
		return 0;
	vp_mcu_free(m->mcu);
	m->mcu = NULL;
	char err[512];
	if (m->img.part != NULL
	    && vp_image_save(&m->img, m->path, err, sizeof err) != 0)
		return push_fail(L, err);
	lua_pushboolean(L, 1);
	return 1;
}

static int m_powered(lua_State *L)
{
	lua_pushboolean(L, vp_mcu_powered(check_open(L)->mcu));
	return 1;
}

static int m_voltage(lua_State *L)
{
	lua_pushnumber(L, vp_mcu_voltage(check_open(L)->mcu));
	return 1;
}

static int m_halted(lua_State *L)
{
	lua_pushboolean(L, vp_mcu_halted(check_open(L)->mcu));
	return 1;
}

static int m_dirty(lua_State *L)
{
	lua_pushboolean(L, check_open(L)->img.dirty);
	return 1;
}

static int m_program_count(lua_State *L)
{
	lua_pushinteger(L, vp_mcu_program_count(check_open(L)->mcu));
	return 1;
}

static int m_core_reg(lua_State *L)
{
	model *m = check_open(L);
	uint32_t v;
	if (!vp_mcu_core_reg(m->mcu, (unsigned)luaL_checkinteger(L, 2), &v))
		return push_fail(L, "unavailable");
	lua_pushinteger(L, v);
	return 1;
}

static int m_set_core_reg(lua_State *L)
{
	model *m = check_open(L);
	bool ok = vp_mcu_set_core_reg(m->mcu, (unsigned)luaL_checkinteger(L, 2),
				      (uint32_t)luaL_checkinteger(L, 3));
	if (!ok)
		return push_fail(L, "unavailable");
	lua_pushboolean(L, 1);
	return 1;
}

/* m:params{ tprog_us = 100, eop_needs_eopie = true, ... }: changes only
 * the keys given. */
static int m_params(lua_State *L)
{
	static const char *const keys[] = { "tprog_us",
					    "terase_us",
					    "topt_us",
					    "wrong_key_bus_error",
					    "eop_needs_eopie",
					    "operr_needs_errie",
					    "stale_errors_block",
					    NULL };
	model *m = check_open(L);
	luaL_checktype(L, 2, LUA_TTABLE);
	check_keys(L, 2, keys);
	uint32_t *nums[] = { &m->prm.tprog_us, &m->prm.terase_us,
			     &m->prm.topt_us };
	bool *flags[] = { &m->prm.wrong_key_bus_error, &m->prm.eop_needs_eopie,
			  &m->prm.operr_needs_errie,
			  &m->prm.stale_errors_block };
	for (int i = 0; i < 3; i++)
		if (lua_getfield(L, 2, keys[i]) != LUA_TNIL)
			*nums[i] = (uint32_t)luaL_checkinteger(L, -1);
	for (int i = 0; i < 4; i++)
		if (lua_getfield(L, 2, keys[3 + i]) != LUA_TNIL)
			*flags[i] = lua_toboolean(L, -1);
	vp_mcu_set_params(m->mcu, &m->prm);
	return 0;
}

static int m_tostring(lua_State *L)
{
	model *m = luaL_checkudata(L, 1, MT);
	lua_pushfstring(L, MT ": %s %s (%s)",
			m->img.part ? m->img.part->name : "?", m->path,
			m->mcu ? "open" : "closed");
	return 1;
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

static void push_part(lua_State *L, const vp_part *p)
{
	lua_newtable(L);
	lua_pushstring(L, p->name);
	lua_setfield(L, -2, "name");
	set_int(L, "dev_id", p->dev_id);
	set_int(L, "rev_id", p->rev_id);
	set_int(L, "cpuid", p->cpuid);
	set_int(L, "flash_kib", p->flash_kib);
	set_int(L, "sram_kib", p->sram_kib);
	set_int(L, "flash_size_reg", p->flash_size_reg);
	set_int(L, "uid_addr", p->uid_addr);
	set_int(L, "otp_base", p->otp_base);
	set_int(L, "otp_block_size", p->otp_block_size);
	set_int(L, "otp_lock_base", p->otp_lock_base);
	set_int(L, "sysmem_base", p->sysmem_base);
	set_int(L, "sr", p->sr);
}

static int l_part(lua_State *L)
{
	const vp_part *p = vp_part_find(luaL_checkstring(L, 1));
	if (p == NULL)
		return push_fail(L, vp_part_names());
	push_part(L, p);
	return 1;
}

static int l_part_at(lua_State *L)
{
	lua_Integer i = luaL_checkinteger(L, 1);
	const vp_part *p = i >= 1 ? vp_part_at((unsigned)(i - 1)) : NULL;
	if (p == NULL)
		return 0;
	lua_pushstring(L, p->name);
	return 1;
}

static int l_part_names(lua_State *L)
{
	lua_pushstring(L, vp_part_names());
	return 1;
}

static int l_quirks_valid(lua_State *L)
{
	lua_pushstring(L, vp_quirks_valid());
	return 1;
}

__attribute__((visibility("default"))) int luaopen_vprobe_model(lua_State *L)
{
	static const luaL_Reg methods[] = { { "read", m_read },
					    { "write", m_write },
					    { "reset", m_reset },
					    { "advance", m_advance },
					    { "now", m_now },
					    { "save", m_save },
					    { "powerloss", m_powerloss },
					    { "close", m_close },
					    { "powered", m_powered },
					    { "voltage", m_voltage },
					    { "halted", m_halted },
					    { "dirty", m_dirty },
					    { "program_count",
					      m_program_count },
					    { "core_reg", m_core_reg },
					    { "set_core_reg", m_set_core_reg },
					    { "params", m_params },
					    { NULL, NULL } };
	static const luaL_Reg meta[] = { { "__gc", m_close },
					 { "__close", m_close },
					 { "__tostring", m_tostring },
					 { NULL, NULL } };
	static const luaL_Reg fns[] = { { "open", m_open },
					{ "part", l_part },
					{ "part_at", l_part_at },
					{ "part_names", l_part_names },
					{ "quirks_valid", l_quirks_valid },
					{ NULL, NULL } };
	luaL_newmetatable(L, MT);
	luaL_setfuncs(L, meta, 0);
	luaL_newlib(L, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	luaL_newlib(L, fns);
	return 1;
}
