-- provision.lua with the crash seam, for specs only: the same run, with a
-- `deps.step` (tests/support/crash_step.lua) set from STOTP_TEST_CRASH_AT,
-- STOTP_TEST_CRASH_AFTER_WRITES and STOTP_TEST_CRASH_MODE.
--   lua5.4 tests/support/crash_launcher.lua CONFIG ARGS...
local support = arg[0]:match("^(.*)/[^/]*$") or "."
local root = support .. "/../.."
local build = os.getenv("STOTP_BUILD") or "build"
if build:sub(1, 1) ~= "/" then build = root .. "/" .. build end
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. support .. "/?.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

local step = require("crash_step").step({ at = os.getenv("STOTP_TEST_CRASH_AT"),
  after_writes = os.getenv("STOTP_TEST_CRASH_AFTER_WRITES"), mode = os.getenv("STOTP_TEST_CRASH_MODE") })
os.exit(require("stotp.cli.provision").main({ table.unpack(arg, 1, #arg) }, { prog = "provision.lua", step = step }), true)
