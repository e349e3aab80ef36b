-- Raw ST-Link traffic for the specs that drive the virtual probe in USB
-- terms through the test-only vprobe_board binding: 16-byte command
-- packets (OOCD stlink_usb.c, PYO usb.py) on the OUT endpoint, replies on the
-- IN endpoint.
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

--- Leave DFU if there, enter SWD (OOCD stlink_usb.c); the USB identity.
function M.enter_swd(b)
  M.xfer(b, M.cmd("BB", 0xF3, 0x07))
  assert(M.xfer(b, M.cmd("BBB", 0xF2, 0x30, 0xA3), 2) == "\x80\0", "ENTER_SWD refused")
  return b:usb()
end

--- GETLASTRWSTATUS2 (OOCD stlink_usb.c): status and fault address.
function M.rwstatus2(b)
  local r = M.xfer(b, M.cmd("BB", 0xF2, 0x3E), 12)
  local st, _, addr = string.unpack("<HHI4", r)
  return st, addr
end

return M
