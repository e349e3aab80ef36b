/*
 * Private to the Lua binding of stotp.core: src/lstotp.c (the module,
 * stotp.probes/open/identify, probe objects) and src/lstotp_target.c
 * (target objects and the OTP methods).
 *
 * DESIGN.md's boundary was "src/lstotp.c is the only file that includes
 * lua.h". The binding outgrew STYLE's ~600-line limit even after every
 * piece of logic that does not need Lua moved down into plain C (probe.c,
 * target.c, otp.c, stlink*.c), so it is split in two, and the rule reads:
 * only the lstotp*.c binding files (and this header, which they alone
 * include) include lua.h; below them nothing does. Both files only
 * translate between Lua values and the C layers.
 */
#ifndef STOTP_LSTOTP_H
#define STOTP_LSTOTP_H

#include <lauxlib.h>
#include <lua.h>

#include "errors.h"
#include "stlink.h"
#include "target.h"

#if LUA_VERSION_NUM < 504
#error "stotp needs Lua 5.4"
#endif

#define PROBE_MT  "stotp.Probe"
#define TARGET_MT "stotp.Target"

typedef struct lprobe {
	stlink *st; /* NULL once closed */
	unsigned khz;
	int under_reset; /* open{connect = "under-reset"} */
} lprobe;

typedef struct ltarget {
	target *t; /* NULL once closed */
} ltarget;

/* nil, "<code>: message", code */
int lstotp_fail(lua_State *L, const st_error *e);
void lstotp_set_int(lua_State *L, const char *k, lua_Integer v);
void lstotp_set_str(lua_State *L, const char *k, const char *v);
/* __tostring: "<mt>: <desc> (open)", or "<mt>: (closed)" for desc NULL. */
int lstotp_push_name(lua_State *L, const char *mt, const char *desc);
/* Strict option tables: a key not in keys raises (STYLE §6). */
void lstotp_check_keys(lua_State *L, int idx, const char *fn,
		       const char *const *keys);

/* lstotp_target.c */
int lstotp_attach(lua_State *L); /* probe:attach() */
void lstotp_push_ident(lua_State *L, const target_ident *id);
extern const luaL_Reg lstotp_target_meta[], lstotp_target_methods[];

/* Adds run_bounded (lstotp_sandbox.c) to the module table on the stack. */
void lstotp_sandbox_register(lua_State *L);
/* Adds the table proc (lstotp_proc.c) to the module table on the stack. */
void lstotp_proc_register(lua_State *L);

#endif
