/* Helpers every file of the Lua binding uses; see lstotp.h. */
#include <string.h>

#include "lstotp.h"

void lstotp_check_nargs(lua_State *L, int max)
{
	if (lua_gettop(L) > max)
		luaL_argerror(L, max + 1, "no value expected");
}

int lstotp_fail(lua_State *L, const st_error *e)
{
	const char *code = st_code_name(e->code);

	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", code, e->msg);
	lua_pushstring(L, code);
	return 3;
}

void lstotp_set_int(lua_State *L, const char *k, lua_Integer v)
{
	lua_pushinteger(L, v);
	lua_setfield(L, -2, k);
}

void lstotp_set_str(lua_State *L, const char *k, const char *v)
{
	if (v == NULL)
		return;
	lua_pushstring(L, v);
	lua_setfield(L, -2, k);
}

int lstotp_push_name(lua_State *L, const char *mt, const char *desc)
{
	if (desc == NULL)
		lua_pushfstring(L, "%s: (closed)", mt);
	else
		lua_pushfstring(L, "%s: %s (open)", mt, desc);
	return 1;
}

void lstotp_check_keys(lua_State *L, int idx, const char *fn,
		       const char *const *keys)
{
	lua_pushnil(L);
	while (lua_next(L, idx) != 0) {
		const char *k = lua_type(L, -2) == LUA_TSTRING
					? lua_tostring(L, -2)
					: NULL;
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

void lstotp_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		      const luaL_Reg *methods)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, meta, 0);
	lua_newtable(L);
	luaL_setfuncs(L, methods, 0);
	lua_setfield(L, -2, "methods");
	lua_pop(L, 1);
}

void lstotp_add_methods(lua_State *L, const char *name, const luaL_Reg *fns)
{
	luaL_getmetatable(L, name);
	lua_getfield(L, -1, "methods");
	luaL_setfuncs(L, fns, 0);
	lua_pop(L, 2);
}
