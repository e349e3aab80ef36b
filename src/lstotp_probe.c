/*
 * stotp.core, the Lua binding: stotp.probes, stotp.open and probe objects
 * (stotp.Probe). probe:attach() is lstotp_target.c's.
 */
#include <string.h>

#include "lstotp.h"

#define TRACE_CAP 4096 /* commands kept by probe:trace(true) */

typedef struct lprobe {
	probe *p; /* NULL once closed */
} lprobe;

static const char *opt_string(lua_State *L, int idx, const char *k)
{
	const char *v = NULL;

	if (lua_getfield(L, idx, k) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TSTRING)
			luaL_error(L, "option '%s' must be a string, got %s", k,
				   luaL_typename(L, -1));
		v = lua_tostring(L, -1);
	}
	lua_pop(L, 1); /* the options table keeps the string alive */
	return v;
}

/* A positive number (NaN is not), or dflt when absent. */
static double opt_number(lua_State *L, int idx, const char *k, double dflt)
{
	double v = dflt;

	if (lua_getfield(L, idx, k) != LUA_TNIL) {
		if (lua_type(L, -1) != LUA_TNUMBER
		    || !(lua_tonumber(L, -1) > 0))
			luaL_error(L, "option '%s' must be a positive number",
				   k);
		v = lua_tonumber(L, -1);
	}
	lua_pop(L, 1);
	return v;
}

/* ---- stotp.probes ---- */

static void push_probe_desc(lua_State *L, const probe_desc *d)
{
	lua_createtable(L, 0, 8);
	lstotp_set_int(L, "vid", d->usb.vid);
	lstotp_set_int(L, "pid", d->usb.pid);
	lstotp_set_int(L, "bus", d->usb.bus);
	lstotp_set_int(L, "address", d->usb.address);
	if (d->usb.serial[0])
		lstotp_set_str(L, "serial", d->usb.serial);
	if (d->err.code == ST_OK) {
		if (d->kind[0])
			lstotp_set_str(L, "kind", d->kind);
		if (d->firmware[0])
			lstotp_set_str(L, "firmware", d->firmware);
		return;
	}
	lua_pushfstring(L, "%s: %s", st_code_name(d->err.code), d->err.msg);
	lua_setfield(L, -2, "error");
	lstotp_set_str(L, "code", st_code_name(d->err.code));
}

/* stotp.probes([{open = false}]): open = false lists from the USB
 * descriptors alone, so a station's other channels keep their probes. */
static int l_probes(lua_State *L)
{
	static const char *const keys[] = { "open", NULL };
	lstotp_check_nargs(L, 1);
	probe_desc d[PROBE_MAX_LIST];
	st_error e = { 0 };
	size_t n, i;
	int open = 1;

	if (!lua_isnoneornil(L, 1)) {
		luaL_checktype(L, 1, LUA_TTABLE);
		lstotp_check_keys(L, 1, "probes", keys);
		if (lua_getfield(L, 1, "open") != LUA_TNIL) {
			if (!lua_isboolean(L, -1))
				luaL_argerror(
					L, 1,
					lua_pushfstring(L,
							"option 'open' must be "
							"a boolean, got %s",
							luaL_typename(L, -1)));
			open = lua_toboolean(L, -1);
		}
		lua_pop(L, 1);
	}
	if (probe_list(d, PROBE_MAX_LIST, &n, open, &e) != 0)
		return lstotp_fail(L, &e);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		push_probe_desc(L, &d[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/* ---- stotp.open ---- */

static probe *check_probe(lua_State *L)
{
	lprobe *lp = luaL_checkudata(L, 1, PROBE_MT);

	if (lp->p == NULL)
		luaL_error(L, "attempt to use a closed " PROBE_MT);
	return lp->p;
}

probe *lstotp_to_probe(lua_State *L, int idx)
{
	lprobe *lp = luaL_checkudata(L, idx, PROBE_MT);

	return lp->p;
}

static void read_options(lua_State *L, probe_options *o)
{
	const char *bad;

	memset(o, 0, sizeof *o);
	o->khz = PROBE_DEFAULT_KHZ;
	if (lua_isnoneornil(L, 1))
		return;
	luaL_checktype(L, 1, LUA_TTABLE);
	lstotp_check_keys(L, 1, "stotp.open", probe_option_names);
	o->serial = opt_string(L, 1, "serial");
	o->khz = opt_number(L, 1, "freq_khz", PROBE_DEFAULT_KHZ);
	o->connect = opt_string(L, 1, "connect");
	o->sim.path = opt_string(L, 1, "sim");
	o->sim.part = opt_string(L, 1, "sim_part");
	o->sim.probe = opt_string(L, 1, "sim_probe");
	o->sim.fault = opt_string(L, 1, "sim_fault");
	o->sim.quirks = opt_string(L, 1, "sim_quirks");
	o->sim.voltage = opt_number(L, 1, "sim_voltage", 0);
	if ((bad = probe_options_check(o)) != NULL)
		luaL_error(L, "stotp.open: %s", bad);
}

static int l_open(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	probe_options o;
	st_error e = { 0 };
	lprobe *lp;

	read_options(L, &o);
	lp = lua_newuserdatauv(L, sizeof *lp, 0);
	lp->p = NULL;
	luaL_setmetatable(L, PROBE_MT);
	if (probe_open(&lp->p, &o, &e) != 0)
		return lstotp_fail(L, &e);
	return 1;
}

/* ---- probe methods ---- */

/* __gc and __close (which Lua calls with an error object too); safe twice. */
static int probe_gc(lua_State *L)
{
	lprobe *lp = luaL_checkudata(L, 1, PROBE_MT);

	probe_close(lp->p);
	lp->p = NULL;
	return 0;
}

static int probe_close_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	return probe_gc(L);
}

static int probe_tostring(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	probe *p = lstotp_to_probe(L, 1);
	char d[128];

	if (p != NULL)
		probe_describe(p, d, sizeof d);
	return lstotp_push_name(L, PROBE_MT, p ? d : NULL);
}

static int probe_version_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	const probe *p = check_probe(L);
	const stlink_version *v = probe_version(p);
	const st_link_identity *id = probe_identity(p);

	lua_createtable(L, 0, 10);
	lstotp_set_int(L, "hw", v->hw);
	if (v->jtag >= 0)
		lstotp_set_int(L, "jtag", v->jtag);
	if (v->msd >= 0)
		lstotp_set_int(L, "msd", v->msd);
	if (v->swim >= 0)
		lstotp_set_int(L, "swim", v->swim);
	if (v->bridge >= 0)
		lstotp_set_int(L, "bridge", v->bridge);
	lstotp_set_str(L, "string", v->str);
	lstotp_set_str(L, "kind", v->kind);
	lstotp_set_int(L, "vid", id->vid);
	lstotp_set_int(L, "pid", id->pid);
	return 1;
}

static int probe_voltage_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	probe *p = check_probe(L);
	double v;

	if (probe_voltage(p, &v) != 0)
		return lstotp_fail(L, probe_error(p));
	lua_pushnumber(L, v);
	return 1;
}

static int probe_stats_m(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	probe_counters c;

	probe_stats(check_probe(L), &c);
	lua_createtable(L, 0, 6);
	lstotp_set_int(L, "commands", (lua_Integer)c.commands);
	lstotp_set_int(L, "wait_retries", (lua_Integer)c.wait_retries);
	if (c.has_link) {
		lstotp_set_int(L, "transactions",
			       (lua_Integer)c.link.transactions);
		lstotp_set_int(L, "bytes_out", (lua_Integer)c.link.bytes_out);
		lstotp_set_int(L, "bytes_in", (lua_Integer)c.link.bytes_in);
		lstotp_set_int(L, "sim_us", (lua_Integer)c.link.sim_us);
	}
	return 1;
}

/* probe:trace([on]) -> the commands recorded so far, one string each
 * (the 16-byte packet; an RW_MISC_OUT's data phase after it), with
 * .dropped when the record was full; clears the record, then switches
 * recording on or off when `on` is given. */
static int probe_trace_m(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	probe *p = check_probe(L);
	int given = !lua_isnoneornil(L, 2), on;
	uint64_t dropped;
	size_t i, n, len;

	if (given)
		luaL_checktype(L, 2, LUA_TBOOLEAN);
	on = lua_toboolean(L, 2);
	n = probe_trace_count(p, &dropped);
	lua_createtable(L, (int)n, 1);
	for (i = 0; i < n; i++) {
		const uint8_t *e = probe_trace_entry(p, i, &len);
		lua_pushlstring(L, (const char *)e, len);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	if (dropped > 0)
		lstotp_set_int(L, "dropped", (lua_Integer)dropped);
	probe_trace_clear(p);
	if (given && !on)
		probe_trace_stop(p);
	else if (given && probe_trace_start(p, TRACE_CAP) != 0)
		return lstotp_fail(L, probe_error(p));
	return 1;
}

static int probe_field(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	probe *p = lstotp_to_probe(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (p != NULL && strcmp(k, "serial") == 0) {
		lua_pushstring(L, probe_identity(p)->serial);
		return 1;
	}
	if (p != NULL && strcmp(k, "sim") == 0) {
		lua_pushboolean(L, probe_identity(p)->sim);
		return 1;
	}
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "methods");
	lua_getfield(L, -1, k);
	return 1;
}

void lstotp_open_probe(lua_State *L)
{
	static const luaL_Reg meta[] = { { "__index", probe_field },
					 { "__gc", probe_gc },
					 { "__close", probe_gc },
					 { "__tostring", probe_tostring },
					 { NULL, NULL } };
	static const luaL_Reg methods[] = {
		{ "close", probe_close_m },     { "version", probe_version_m },
		{ "voltage", probe_voltage_m }, { "stats", probe_stats_m },
		{ "trace", probe_trace_m },     { NULL, NULL }
	};
	static const luaL_Reg fns[] = { { "probes", l_probes },
					{ "open", l_open },
					{ NULL, NULL } };

	lstotp_new_class(L, PROBE_MT, meta, methods);
	luaL_setfuncs(L, fns, 0);
}
