/*
 * The Lua binding of stotp.core, shared by its files: src/lstotp.c (the
 * module opener), lstotp_probe.c (stotp.probes/open, probe objects),
 * lstotp_target.c (probe:attach, target objects, stotp.identify),
 * lstotp_sandbox.c (run_bounded, file_info), and lstotp_util.c (the
 * helpers below).
 *
 * Only these files include lua.h; below them nothing does. They only
 * translate between Lua values and the C core, and see its handles
 * (probe, target) as incomplete types through the public headers: the
 * structs are in *_internal.h headers the binding never includes, so the
 * compiler keeps it out of the C internals.
 */
#ifndef STOTP_LSTOTP_H
#define STOTP_LSTOTP_H

#include <lauxlib.h>
#include <lua.h>

#include "errors.h"
#include "probe.h"
#include "target.h"

#if LUA_VERSION_NUM < 504
#error "stotp needs Lua 5.4"
#endif

#define PROBE_MT  "stotp.Probe"
#define TARGET_MT "stotp.Target"

/* ---- lstotp_util.c ---- */

/* Raises "bad argument #n to 'f' (no value expected)" when the call has
 * more than max arguments (self counted), as luaposix's checknargs: an
 * extra argument is a caller's mistake (t:otp_read(32, 16) does not read
 * 16 bytes at 32), never ignored. */
void lstotp_check_nargs(lua_State *L, int max);
/* nil, "<code>: message", code */
int lstotp_fail(lua_State *L, const st_error *e);
void lstotp_set_int(lua_State *L, const char *k, lua_Integer v);
void lstotp_set_str(lua_State *L, const char *k, const char *v);
/* __tostring: "<mt>: <desc> (open)", or "<mt>: (closed)" for desc NULL. */
int lstotp_push_name(lua_State *L, const char *mt, const char *desc);
/* Strict option tables: a key not in keys raises (as luaposix
 * checkfieldnames). */
void lstotp_check_keys(lua_State *L, int idx, const char *fn,
		       const char *const *keys);
/* A class: metatable `name` with meta, and its methods in meta.methods
 * (__index looks there). */
void lstotp_new_class(lua_State *L, const char *name, const luaL_Reg *meta,
		      const luaL_Reg *methods);
/* Adds fns to the methods of class `name` (made by lstotp_new_class). */
void lstotp_add_methods(lua_State *L, const char *name, const luaL_Reg *fns);

/* ---- the openers: each adds its functions to the module table on top of
 * the stack, and registers its classes ---- */
void lstotp_open_probe(lua_State *L);   /* lstotp_probe.c */
void lstotp_open_target(lua_State *L);  /* lstotp_target.c; after probe */
void lstotp_open_sandbox(lua_State *L); /* lstotp_sandbox.c */
void lstotp_open_proc(lua_State *L);    /* lstotp_proc.c: the table proc */

/* lstotp_probe.c: the probe of the stotp.Probe at idx, NULL once closed. */
probe *lstotp_to_probe(lua_State *L, int idx);

#endif
