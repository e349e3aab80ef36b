-- What the soak knows about a board without asking stotp: the board image
-- read as vprobe's text file (README, "vprobe, the virtual probe"), a fresh image
-- written with a seeded UID, and the bytes examples/sensor-mac.cfg plans
-- for a serial, computed here from the recipe's text (encoders written
-- apart from stotp.fields, so a shared mistake cannot pass the soak).
local M = {}

M.PRODUCT = "sensor-mac"
M.RECIPE = "examples/sensor-mac.cfg"
-- F4 parts vprobe models (src/vprobe/parts.c); the recipe takes "stm32f4".
M.PARTS = { "stm32f401re", "stm32f405rg", "stm32f407vg", "stm32f411re", "stm32f429zi", "stm32f439zi", "stm32f446re" }
M.PROBES = { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" }
M.BLOCK = 32 -- F2/F4 OTP block size (RM0090 rev 19 §3.7.5: 16 blocks of 32 bytes)

local function hex(s) return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end
M.hex, M.unhex = hex, unhex

--- A fresh board image (all OTP and lock bytes 0xFF, RDP level 0) as text.
function M.fresh_image(part, uid_hex)
  local t = { "# vprobe board image: " .. part .. " (soak)", "part " .. part, "uid " .. uid_hex:lower(), "rdp aa" }
  for off = 0, 16 * M.BLOCK - 1, 32 do t[#t + 1] = ("otp %04x: %s"):format(off, ("ff"):rep(32)) end
  t[#t + 1] = "lock " .. ("ff"):rep(16)
  return table.concat(t, "\n") .. "\n"
end

--- { part, uid (upper-case hex), otp = bytes, lock = 16 bytes } or nil, why.
function M.read_image(path)
  local f = io.open(path, "rb")
  if not f then return nil, "no image " .. path end
  local text = f:read("a")
  f:close()
  local img, otp = { otp_lines = {} }, {}
  for line in text:gmatch("[^\n]+") do
    local k, v = line:match("^(%S+)%s+(.-)%s*$")
    if k == "part" then img.part = v
    elseif k == "uid" then img.uid = v:upper()
    elseif k == "otp" then
      local off, data = v:match("^(%x+):%s*(%x+)$")
      if not off then return nil, "bad otp line in " .. path end
      otp[tonumber(off, 16) // 32 + 1] = unhex(data)
    elseif k == "lock" then img.lock = unhex(v)
    end
  end
  img.otp = table.concat(otp)
  if not img.uid or not img.lock or #img.otp ~= 16 * M.BLOCK then return nil, "incomplete image " .. path end
  return img
end

-- CRC-32 (zlib polynomial, reflected), bitwise.
local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = c ~ s:byte(i)
    for _ = 1, 8 do c = (c >> 1) ~ (0xEDB88320 & -(c & 1)) end
  end
  return c ~ 0xFFFFFFFF
end

local function le32(v) return string.char(v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, (v >> 24) & 0xFF) end

--- The MAC sensor-mac.cfg gives a serial: 02:80:E1:00:00:00 + (serial - 100000).
function M.mac(serial) return 0x0280E1000000 + (serial - 100000) end

--- Block 0 as the recipe plans it for `serial`: 19 bytes at offset 0, the
--- rest of the block blank; block 0 locked.
function M.planned(serial)
  local m = M.mac(serial)
  local mac = ""
  for i = 5, 0, -1 do mac = mac .. string.char((m >> (8 * i)) & 0xFF) end
  local body = le32(0x53454E43) .. le32(serial) .. "\3" .. mac
  return body .. le32(crc32(body)), { [0] = true }
end

--- The serial and MAC bytes a board holds, when its block 0 is whole.
function M.identity(img)
  local b = img.otp:sub(1, 19)
  local body = b:sub(1, 15)
  if b:sub(1, 4) ~= le32(0x53454E43) or b:sub(16, 19) ~= le32(crc32(body)) then return nil end
  local s = string.unpack("<I4", b, 5)
  return s, (string.unpack(">I6", b, 10))
end

return M
