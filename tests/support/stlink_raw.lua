-- Raw ST-Link traffic for the specs that drive the virtual probe in USB
-- terms through the test-only vprobe_board binding: 16-byte command
-- packets (facts §1.2) on the OUT endpoint, replies on the IN endpoint.
local M = {}

--- A 16-byte command packet from a string.pack format, zero-padded.
function M.cmd(fmt, ...)
  local s = string.pack(fmt, ...)
  return s .. string.rep("\0", 16 - #s)
end

--- Send a command packet (and its data phase, if any); return its reply
--- of at most cap bytes (or nil, err when no reply is pending), or nothing
--- without cap.
function M.xfer(b, packet, cap, data)
  local usb = b:usb()
  assert(b:out(usb.ep_out, packet))
  if data then assert(b:out(usb.ep_out, data)) end
  if cap then return b:in_(usb.ep_in, cap) end
end

return M
