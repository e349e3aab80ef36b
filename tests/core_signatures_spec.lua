-- Every function stotp.core binds, from one table of signatures (luaposix's
-- badargs specs): an argument of the wrong type and an argument too many
-- are each a raised "bad argument #n to 'f'" (issue 9 item 2: t:otp_read(32,
-- 16) must not quietly read all 512 bytes, p:attach{freq_khz = 100} must not
-- quietly attach at the old clock), and where the function writes, the
-- board image is byte-identical afterwards.
local env = require("testenv")
local kit = require("corekit")
local testfiles = require("testfiles")
local stotp = require("stotp.core")

local IMG = kit.TMP .. "/stotp-core-signatures.img"
local NEW = kit.TMP .. "/stotp-core-signatures-new.img" -- must never be created

-- on: where the function lives; args: its parameters ("?" = optional);
-- valid: a call that is right in every other way; writes: the image must
-- stay unchanged; variadic: takes any number of arguments (no extra row).
local SIGNATURES = {
  { "probes", on = "module", args = { "table?" }, valid = { { open = false } } },
  { "open", on = "module", args = { "table?" }, valid = { { sim = NEW } }, creates = NEW },
  { "identify", on = "module", args = { "integer", "integer?" }, valid = { 0x10076413, 0x410FC241 } },
  { "run_bounded", on = "module", args = { "function", "integer", "integer" }, valid = { function() end, 1 << 20, 1000 } },
  { "file_info", on = "module", args = { "string" }, valid = { "README.md" } },

  -- stotp.core.proc, the station's workers (no process with pid 2^31-1)
  { "sleep", on = "proc", args = { "number" }, valid = { 0 } },
  { "spawn", on = "proc", args = { "table", "string" }, valid = { { "true" }, "/dev/null" } },
  { "wait", on = "proc", args = { "integer", "boolean?" }, valid = { 0x7FFFFFFF, false } },
  { "kill", on = "proc", args = { "integer", "string" }, valid = { 0x7FFFFFFF, "TERM" } },
  { "cpu", on = "proc", args = {}, valid = {} },
  { "isatty", on = "proc", args = { "integer" }, valid = { 99 } },
  { "mkdir", on = "proc", args = { "string" }, valid = { "/nonexistent-stotp-signatures/ticket" } },

  { "close", on = "probe", args = {}, valid = {} },
  { "version", on = "probe", args = {}, valid = {} },
  { "voltage", on = "probe", args = {}, valid = {} },
  { "stats", on = "probe", args = {}, valid = {} },
  { "trace", on = "probe", args = { "boolean?" }, valid = { true } },
  { "attach", on = "probe", args = {}, valid = {} },

  { "close", on = "target", args = {}, valid = {} },
  { "read", on = "target", args = { "integer", "integer" }, valid = { 0x1FFF7A10, 4 } },
  { "read32", on = "target", args = { "integer" }, valid = { 0x1FFF7A10 } },
  { "write32", on = "target", args = { "integer", "integer" }, valid = { 0x20000000, 0 }, writes = true },
  { "otp_read", on = "target", args = {}, valid = {} },
  { "otp_locks", on = "target", args = {}, valid = {} },
  { "otp_check", on = "target", args = { "integer", "string" }, valid = { 0, "\0" } },
  { "otp_write", on = "target", args = { "integer", "string", "table?" }, valid = { 0, "\0", { mode = "unit" } },
    writes = true },
  { "otp_lock", on = "target", args = { "integer" }, valid = { 1 }, writes = true, variadic = true },
  { "run", on = "target", args = {}, valid = {}, writes = true },
  { "reset", on = "target", args = { "table?" }, valid = { { halt = true } }, writes = true },
}

-- Values of other types, none of which Lua would coerce to the wanted one.
local WRONG = {
  integer = { "x", true, {} },
  number = { "x", true, {} },
  string = { true, {} },
  table = { true, "x", 1 },
  boolean = { "x", 1, {} },
  ["function"] = { true, "x", {} },
}

local function fresh()
  os.remove(IMG)
  env.setenv("VPROBE_FAULT", nil)
  local p = assert(stotp.open { sim = IMG, sim_part = "stm32f429zi", sim_probe = "v2-1:J40M27" })
  p:close()
  return testfiles.slurp(IMG)
end

-- The call as a user writes it (m.f(...), o:f(...)), so the message names
-- the function and counts arguments as the user does.
local function call(sig, obj, args)
  local form = (sig.on == "module" or sig.on == "proc") and "local m = ...; return m.%s(select(2, ...))"
    or "local o = ...; return o:%s(select(2, ...))"
  local f = assert(load(string.format(form, sig[1]), "=call"))
  return pcall(f, obj, table.unpack(args, 1, args.n or #args))
end

-- Runs one row's call on a board; returns pcall's results and whether the
-- image is unchanged.
local function run(sig, args)
  local before = fresh()
  if sig.creates then os.remove(sig.creates) end
  local p = assert(stotp.open { sim = IMG })
  local t = sig.on == "target" and assert(p:attach()) or nil
  local obj = ({ module = stotp, proc = stotp.proc, probe = p, target = t })[sig.on]
  local r = table.pack(call(sig, obj, args))
  if t then t:close() end
  p:close()
  local created = sig.creates and io.open(sig.creates)
  if created then created:close() end
  return r, testfiles.slurp(IMG) == before and not created
end

local function copy(t)
  local c = { n = #t }
  for i = 1, #t do c[i] = t[i] end
  return c
end

describe("stotp.core signatures", function()
  it("name every function the binding registers", function()
    local bound, known = {}, {}
    for _, sig in ipairs(SIGNATURES) do known[sig[1]] = true end
    local p = assert(io.popen("cat src/lstotp*.c"))
    local src = p:read("a")
    p:close()
    for name, fn in src:gmatch('{%s*"([%a_][%w_]*)"%s*,%s*([%a_][%w_]*)%s*}') do
      if fn ~= "NULL" and not name:match("^__") and not known[name] then bound[#bound + 1] = name end
    end
    assert.same({}, bound)
  end)

  for _, sig in ipairs(SIGNATURES) do
    local where = ({ module = "stotp.", proc = "stotp.proc." })[sig.on] or sig.on .. ":"
    local n = #sig.args

    if not sig.variadic then
      it(string.format("refuses an argument too many to %s%s, doing nothing", where, sig[1]), function()
        local args = copy(sig.valid)
        args.n = n + 1
        args[n + 1] = 32
        local r, unchanged = run(sig, args)
        assert.is_false(r[1])
        assert.matches(string.format("bad argument #%d to '%s' (no value expected)", n + 1, sig[1]), r[2], 1, true)
        assert.is_true(unchanged, "the board image changed")
      end)
    end

    for k, ty in ipairs(sig.args) do
      local base = ty:gsub("%?$", "")
      for _, bad in ipairs(WRONG[base]) do
        it(string.format("refuses a %s as argument #%d (%s) of %s%s, doing nothing", type(bad), k, ty, where, sig[1]),
          function()
            local args = copy(sig.valid)
            args[k] = bad
            local r, unchanged = run(sig, args)
            assert.is_false(r[1])
            assert.matches(string.format("bad argument #%d to '%s'", k, sig[1]), r[2], 1, true)
            assert.is_true(unchanged, "the board image changed")
          end)
      end
    end
  end

  -- The two cases of the issue, spelt out.
  it("refuses p:attach{freq_khz = 100}: the clock is stotp.open's option", function()
    fresh()
    local p = assert(stotp.open { sim = IMG })
    local ok, err = pcall(function() return p:attach { freq_khz = 100 } end)
    p:close()
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'attach' (no value expected)", err, 1, true)
  end)

  it("refuses t:otp_read(32, 16) instead of returning every byte", function()
    fresh()
    local p = assert(stotp.open { sim = IMG })
    local t = assert(p:attach())
    local ok, err = pcall(function() return t:otp_read(32, 16) end)
    p:close()
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'otp_read' (no value expected)", err, 1, true)
  end)
end)
