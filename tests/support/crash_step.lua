-- The crash seam of the provisioning specs: a `deps.step` for stotp.cli
-- that stops a run right after a named step, as a power cut, a kill -9, an
-- exit without cleanup or a Ctrl-C would. The station's code has no such
-- switch: only tests/support/crash_launcher.lua and the in-process specs
-- pass it.
--   at = "<step>"     stop right after that step (attached, reserved,
--                     planned, confirmed, recorded, write:<field>, burned,
--                     verified, lock:<block>, locked)
--   after_writes = N  stop right after the Nth call that programs OTP (an
--                     otp_write of a field or an otp_lock of a block)
--   crash(mode)       how to stop (default: M.crash)
local M = {}

local function self_pid()
  local f = io.open("/proc/self/stat")
  local pid = f and f:read("l"):match("^(%d+)")
  if f then f:close() end
  return pid
end

-- Die now, as a power cut or a kill -9 would: nothing flushed, no close.
-- Mode "exit": os.exit(137) without cleanup. Mode "sigint": Ctrl-C at this
-- step, as lua5.4 takes it: the signal is caught and the next Lua
-- instruction raises "interrupted!" (io.popen, not os.execute: system()
-- ignores SIGINT in the caller while the child runs).
function M.crash(mode)
  local pid = self_pid()
  if mode == "sigint" then
    if pid then io.popen("kill -INT " .. pid):close() end
    return
  end
  if mode ~= "exit" and pid then os.execute("kill -KILL " .. pid) end
  os.exit(137, false)
end

function M.step(opts)
  local calls = 0
  local crash = opts.crash or M.crash
  return function(name)
    local hit = opts.at ~= nil and opts.at == name
    if name:find("^write:") or name:find("^lock:") then
      calls = calls + 1
      hit = hit or (opts.after_writes ~= nil and tonumber(opts.after_writes) == calls)
    end
    if hit then crash(opts.mode) end
  end
end

return M
