-- libusb_init of the drop-in libusb-1.0 (build/vprobe) in a child process,
-- so that what the shim prints on stderr (what a user sees when a
-- VPROBE_* variable is wrong) is captured instead of printed amid the
-- suite's output.
local testfiles = require "testfiles"

local M = {}

-- the variables a child starts without unless env sets them
local VARS = { "VPROBE_STATE", "VPROBE_PROBE", "VPROBE_TARGET", "VPROBE_FAULT", "VPROBE_STATS" }

local function slurp(path)
  local f = assert(io.open(path))
  local s = f:read("a")
  f:close()
  return s
end

--- libusb_init's code and the child's stderr, with the VPROBE_* variables
--- of env; dir holds the child's script and output files.
function M.init(dir, env)
  local build = testfiles.build
  local script, out, err = dir .. "/child.lua", dir .. "/child.out", dir .. "/child.err"
  local f = assert(io.open(script, "w"))
  f:write(string.format("package.cpath = %q .. package.cpath\n", build .. "/test/?.so;"),
          string.format("io.write(require('vprobe_board').libusb_scenario(%q, 1).init)\n",
                        build .. "/vprobe/libusb-1.0.so.0"))
  f:close()
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = k .. "='" .. v .. "'" end
  os.execute("env -u " .. table.concat(VARS, " -u ") .. " " .. table.concat(vars, " ") ..
             " lua5.4 " .. script .. " >" .. out .. " 2>" .. err)
  return tonumber(slurp(out)), slurp(err)
end

return M
