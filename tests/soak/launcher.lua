-- provision.lua with the soak's seam: the same run, with a `deps.step`
-- (tests/support/crash_step.lua) that at a seeded step either kills the
-- process with SIGKILL or swaps the board: the image at the --sim path is
-- moved aside (the board pulled, its last saved state kept) and a fresh
-- board's image is renamed into its place, as an operator swapping boards
-- on a running station would.
--   STOTP_SOAK_AT=step | STOTP_SOAK_AFTER_WRITES=N
--   STOTP_SOAK_ACTION=kill | swap
--   STOTP_SOAK_SWAP=IMAGE:FRESH:PULLED (swap: the three paths)
--   lua5.4 tests/soak/launcher.lua CONFIG ARGS...
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local root = here .. "/../.."
local build = os.getenv("STOTP_BUILD") or "build"
if build:sub(1, 1) ~= "/" then build = root .. "/" .. build end
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/tests/support/?.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local crash_step = require("crash_step")
local action = os.getenv("STOTP_SOAK_ACTION")
local crash = crash_step.crash
if action == "swap" then
  local image, fresh, pulled = assert(os.getenv("STOTP_SOAK_SWAP")):match("^([^:]+):([^:]+):([^:]+)$")
  local done = false
  crash = function()
    if done then return end
    done = true
    assert(os.rename(image, pulled))
    assert(os.rename(fresh, image))
  end
end
local step = crash_step.step({ at = os.getenv("STOTP_SOAK_AT"), after_writes = os.getenv("STOTP_SOAK_AFTER_WRITES"),
  crash = crash })
os.exit(require("stotp.cli.provision").main({ table.unpack(arg, 1, #arg) }, { prog = "provision.lua", step = step }), true)
