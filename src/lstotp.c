/*
 * stotp.core, the Lua binding's opener: one line per file of the binding,
 * each adding its functions and classes (lstotp.h). Recoverable failures
 * return nil, "<code>: message", code; misuse raises through lauxlib.
 */
#include "lstotp.h"

__attribute__((visibility("default"))) int luaopen_stotp_core(lua_State *L)
{
	lua_newtable(L);
	lstotp_open_probe(L);
	lstotp_open_target(L);
	lstotp_open_sandbox(L);
	lstotp_open_proc(L);
	lstotp_set_str(L, "udev_rule", STOTP_UDEV_RULE);
	return 1;
}
