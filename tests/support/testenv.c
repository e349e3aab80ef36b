/*
 * Test-only: lets a spec set the process environment, so the drop-in libusb
 * (which reads VPROBE_* at every libusb_init) sees the board a spec made.
 * Lua has no setenv of its own.
 */
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

static int testenv_setenv(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	int rc = lua_isnoneornil(L, 2)
			 ? unsetenv(name)
			 : setenv(name, luaL_checkstring(L, 2), 1);
	if (rc != 0)
		return luaL_error(L, "setenv %s failed", name);
	return 0;
}

__attribute__((visibility("default"))) int luaopen_testenv(lua_State *L)
{
	static const luaL_Reg fns[] = { { "setenv", testenv_setenv },
					{ NULL, NULL } };
	luaL_newlib(L, fns);
	return 1;
}
