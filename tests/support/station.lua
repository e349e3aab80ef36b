-- Running `lua5.4 provision.lua ...` as a station would, from specs: the
-- command as a subprocess, a virtual board read back through stotp in a
-- separate process, the journal's rows, and a search for secrets in
-- everything a run left behind.
local testfiles = require("testfiles")
local slurp, write = testfiles.slurp, testfiles.spit

local M = {}
local ROOT, BUILD = testfiles.root, testfiles.build
M.ROOT = ROOT
M.BUILD = BUILD

-- VPROBE_* and test switches other specs may have left in this process's
-- environment are dropped, so each board is what its command line says.
M.CLEAN = "unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_VOLTAGE VPROBE_STATS VPROBE_LATENCY_US " ..
  "VPROBE_FAULT VPROBE_QUIRKS STOTP_TEST_CRASH_AT STOTP_TEST_CRASH_MODE STOTP_TEST_CRASH_AFTER_WRITES; "

--- Runs a shell command in `dir`'s scratch files: exit status, stdout, stderr.
function M.run(cmd, dir)
  local out, err = dir .. "/.out", dir .. "/.err"
  local ok, how, code = os.execute(M.CLEAN .. cmd .. " >" .. out .. " 2>" .. err)
  if how == "signal" then code = 128 + code end
  return ok and 0 or code, slurp(out), slurp(err)
end

--- `provision.lua ARGS` with `env` (a "VAR=value ..." prefix) in front.
--- An env that sets STOTP_TEST_CRASH_* runs the same command through the
--- test launcher that has the crash seam (provision.lua has none).
function M.provision(dir, args, env)
  local launcher = (env or ""):find("STOTP_TEST_CRASH_", 1, true) and "/tests/support/crash_launcher.lua" or
    "/provision.lua"
  return M.run((env or "") .. " lua5.4 " .. ROOT .. launcher .. " " .. args, dir)
end

--- `stotp ARGS` from the source tree (build/bin/stotp), `env` in front.
function M.stotp(dir, args, env)
  return M.run((env or "") .. " " .. BUILD .. "/bin/stotp " .. args, dir)
end

--- Copies examples/NAME and the demo key into dir; the copy's path.
function M.copy_example(dir, name)
  write(dir .. "/" .. name, slurp(ROOT .. "/examples/" .. name))
  write(dir .. "/keys/master.key", slurp(ROOT .. "/examples/keys/master.key"))
  os.execute("chmod 600 " .. testfiles.quote(dir .. "/keys/master.key"))
  return dir .. "/" .. name
end

local READBACK = [[
package.path = "%s/lua/?.lua;%s/lua/?/init.lua;" .. package.path
package.cpath = "%s/?.so;" .. package.cpath
local stotp = require("stotp")
local p = assert(stotp.open({ sim = arg[1] }))
local t = assert(p:attach())
local otp, locks = assert(t:otp_read()), assert(t:otp_locks())
local l = {}
for i = 1, 16 do l[i] = locks[i] and "1" or "0" end
io.write(t.uid, "\n", t.otp.block_size, "\n", (otp:gsub(".", function(c) return string.format("%%02X", c:byte()) end)), "\n",
  table.concat(l), "\n")
t:close()
p:close()
]]

--- A virtual board as stotp reads it: { uid, block_size, otp = bytes,
--- locks = "0100..." }.
function M.readback(dir, image)
  local script = dir .. "/readback.lua"
  write(script, READBACK:format(ROOT, ROOT, BUILD))
  local code, out, err = M.run("lua5.4 " .. script .. " " .. testfiles.quote(image), dir)
  assert(code == 0, "readback failed: " .. tostring(err))
  local uid, bs, otp, locks = out:match("^(%x+)\n(%d+)\n(%x+)\n([01]+)\n$")
  return { uid = uid, block_size = tonumber(bs), locks = locks,
    otp = (otp:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) }
end

--- Every row of the journal's boards and events tables, as text.
function M.journal_text(path)
  local env = require("luasql.sqlite3").sqlite3()
  local conn = assert(env:connect(path))
  local parts = {}
  for _, tbl in ipairs({ "stotp_boards", "stotp_events" }) do
    local cur = assert(conn:execute("SELECT * FROM " .. tbl))
    local row = cur:fetch({}, "a")
    while row do
      for k, v in pairs(row) do parts[#parts + 1] = k .. "=" .. tostring(v) end
      row = cur:fetch({}, "a")
    end
    cur:close()
  end
  conn:close()
  env:close()
  return table.concat(parts, "\n")
end

--- The forms in which a secret could show: raw, hex with and without
--- spaces, both cases, and the "0xAB" of single bytes of it.
function M.secret_forms(secret)
  local hex = require("stotp.fields").tohex
  return { secret, hex(secret), hex(secret):lower(), hex(secret, " "), hex(secret, " "):lower() }
end

return M
