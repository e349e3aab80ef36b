-- stotp: the public Lua API. stotp.core (C) holds the ST-Link transport and
-- the OTP primitives; this file extends that same table with conveniences
-- written in Lua (the LuaSocket split). Nothing here touches USB.
local core = require("stotp.core")

local stotp = core

stotp._VERSION = require("stotp.version")

-- Installed (make install, luarocks), the udev rule lies in PREFIX/share/
-- stotp next to PREFIX/lib/lua/5.4/stotp/core.so: name that file. (make
-- install also builds the C core with that path, STOTP_UDEV_RULE, for its
-- permission-denied message; this covers a core built without it.)
do
  local so = package.searchpath("stotp.core", package.cpath)
  local prefix = so and so:match("^(.*)/lib/lua/5%.4/stotp/core%.so$")
  local rule = prefix and prefix .. "/share/stotp/49-stotp-stlink.rules"
  local f = rule and io.open(rule)
  if f then
    f:close()
    stotp.udev_rule = rule
  end
end

--- Hex of a byte string, upper case: stotp.hex("\1\171") == "01AB".
function stotp.hex(s)
  if type(s) ~= "string" then
    error("bad argument #1 to 'hex' (string expected, got " .. type(s) .. ")", 2)
  end
  return (s:gsub(".", function(c) return string.format("%02X", c:byte()) end))
end

--- Opens a probe and attaches to its target in one step.
-- Returns target, probe or nil, message, code; the probe is closed again
-- when attaching fails.
function stotp.connect(opts)
  local probe, msg, code = core.open(opts)
  if not probe then return nil, msg, code end
  local target
  target, msg, code = probe:attach()
  if not target then
    probe:close()
    return nil, msg, code
  end
  return target, probe
end

--- Blocks (0-based) whose lock byte is 0x00, as a sorted list.
function stotp.locked_blocks(target)
  local locks, msg, code = target:otp_locks()
  if not locks then return nil, msg, code end
  local out = {}
  for i, locked in ipairs(locks) do
    if locked then out[#out + 1] = i - 1 end
  end
  return out
end

--- stotp.help() lists the API; stotp.help(probe or target) its methods.
function stotp.help(obj)
  print(require("stotp.help").text(obj))
end

--- Prints v as the REPL does: bytes in hex, OTP maps, addresses in hex.
function stotp.show(v)
  print(require("stotp.help").show(v))
end

return stotp
