-- stotp.fields: the encoders of board.cfg. An encoder turns one value into
-- the exact bytes that go into OTP, or says why it cannot (nil, message);
-- its decode turns bytes read back into the value shown to a person (nil
-- when the bytes are not something the encoder writes).
-- Encoders never raise on bad values: a recipe error must reach the user as
-- "file:line: field 'x': ..." (recipe.lua adds the place).
--
-- Multi-byte integers and CRCs default to little endian, the byte order of
-- the Cortex-M3/M4/M7 cores that read them back (ARMv7-M is little endian
-- on all STM32F2/F4/F7). MAC and UUID use their network (RFC) byte order.

local M = {}

-- Encoders are read-only: board.cfg code gets these very objects, and a
-- config that could set `u8.encode` or `u8.size` would change what every
-- later field (and the plan, run outside the config's instruction budget)
-- computes. An encoder is an empty proxy over its definition; writes raise,
-- and the sandbox has no rawset or setmetatable to get around that.
local encoders = setmetatable({}, { __mode = "k" })

function M.read_only(def, what)
  return setmetatable({}, {
    __index = def,
    __newindex = function()
      error(string.format("%s is read-only: the recipe vocabulary cannot be changed", what), 2)
    end,
    __tostring = function() return what end,
    __metatable = false,
  })
end

local function encoder(t)
  local e = M.read_only(t, "encoder " .. t.name)
  encoders[e] = true
  return e
end

-- For encoders a recipe defines (stotp.compute.encoder): registered like
-- the built-in ones, so is_encoder knows them.
M.new_encoder = encoder

function M.is_encoder(v)
  return encoders[v] == true
end

-- Values that are bytes already: a chip UID, a key. `secret` values are
-- shown only as fingerprints (README, "Keys in output").
local Bytes = {}
Bytes.__index = Bytes
Bytes.__tostring = function(b)
  return b.secret and "<secret " .. #b.bytes .. " bytes>" or M.tohex(b.bytes)
end

function M.raw(bytes, secret)
  return setmetatable({ bytes = bytes, secret = secret or false }, Bytes)
end

function M.is_raw(v)
  return getmetatable(v) == Bytes
end

function M.tohex(s, sep)
  local t = {}
  for i = 1, #s do t[i] = string.format("%02X", s:byte(i)) end
  return table.concat(t, sep or "")
end

-- Hex text to bytes; spaces, ':' and '-' between digit pairs are allowed.
function M.fromhex(text)
  if type(text) ~= "string" then return nil, "expected a hex string" end
  local digits = text:gsub("^0[xX]", ""):gsub("[%s:%-]", "")
  if digits:find("[^%x]") then return nil, "not a hex string: " .. string.format("%q", text) end
  if #digits % 2 == 1 then return nil, "odd number of hex digits" end
  return (digits:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

local function as_integer(v)
  if type(v) == "number" then return math.tointeger(v) end
  return nil
end

-- Unsigned integers. u64 is limited to 0..2^63-1: Lua 5.4 integers are
-- signed 64-bit, and a silent wrap would burn the wrong value.
local function uint(size, endian)
  local fmt = (endian == "be" and ">" or "<") .. "I" .. size
  local max = size == 8 and math.maxinteger or (1 << (8 * size)) - 1
  local name = "u" .. (8 * size) .. (size > 1 and endian or "")
  return encoder {
    name = name, size = size, takes = "integer", max = max,
    encode = function(_, v)
      local i = as_integer(v)
      if not i then return nil, "expected an integer, got " .. type(v) end
      if i < 0 or i > max then
        return nil, string.format("value %d out of range 0..%d for %s", i, max, name)
      end
      return string.pack(fmt, i)
    end,
    -- u64 values past 2^63-1 cannot have been encoded; they read back as
    -- negative and are shown as such, never wrapped.
    decode = function(_, b) return (string.unpack(fmt, b)) end,
  }
end

M.u8 = uint(1, "le")
M.u16le, M.u16be = uint(2, "le"), uint(2, "be")
M.u32le, M.u32be = uint(4, "le"), uint(4, "be")
M.u64le, M.u64be = uint(8, "le"), uint(8, "be")

-- Unix time in seconds as u32le: wide enough until 2106.
M.unixtime = encoder {
  name = "unixtime", size = 4, takes = "integer", max = 0xFFFFFFFF,
  encode = function(_, v) return M.u32le:encode(v) end,
  decode = function(_, b) return M.u32le:decode(b) end,
}

local function check_length(n, what)
  local i = as_integer(n)
  if not i or i < 1 or i > 64 then
    error(string.format("%s: length must be an integer 1..64 (an OTP block holds at most 64 bytes)", what), 3)
  end
  return i
end

-- Fixed-length ASCII text, printable characters only, padded with `pad`
-- (a one-character string or a byte value; default NUL). Padding with 0xFF
-- leaves those bytes unprogrammed.
function M.ascii(n, pad)
  n = check_length(n, "ascii(n, pad)")
  if type(pad) == "number" then
    if not math.tointeger(pad) or pad < 0 or pad > 255 then error("ascii(n, pad): pad byte out of range 0..255", 2) end
    pad = string.char(pad)
  elseif pad == nil then
    pad = "\0"
  elseif type(pad) ~= "string" or #pad ~= 1 then
    error("ascii(n, pad): pad must be one character or a byte value", 2)
  end
  return encoder {
    name = string.format("ascii(%d)", n), size = n, takes = "text",
    encode = function(_, v)
      if math.type(v) == "integer" then v = tostring(v) end
      if type(v) ~= "string" then return nil, "expected a string, got " .. type(v) end
      if v:find("[^\32-\126]") then return nil, "text must be printable ASCII" end
      if #v > n then return nil, string.format("text of %d characters is too long for ascii(%d)", #v, n) end
      return v .. pad:rep(n - #v)
    end,
    -- The text without its padding; anything but printable text and pad
    -- is not what this encoder wrote, so it reads back as nil.
    decode = function(_, b)
      local text = b
      while #text > 0 and text:sub(-1) == pad do text = text:sub(1, -2) end
      if text:find("[^\32-\126]") then return nil end
      return text
    end,
  }
end

-- Raw bytes: from hex text in the config, or bytes from a source (key, UID).
function M.bytes(n)
  n = check_length(n, "bytes(n)")
  return encoder {
    name = string.format("bytes(%d)", n), size = n, takes = "bytes",
    encode = function(_, v)
      local b, err
      if M.is_raw(v) then b = v.bytes else b, err = M.fromhex(v) end
      if not b then return nil, err end
      if #b ~= n then return nil, string.format("%d bytes given, bytes(%d) needs exactly %d", #b, n, n) end
      return b
    end,
    decode = function(_, b) return M.tohex(b) end,
  }
end

-- Packed BCD, most significant digit first, zero-padded on the left.
function M.bcd(n)
  n = check_length(n, "bcd(n)")
  return encoder {
    name = string.format("bcd(%d)", n), size = n, takes = "integer",
    max = n >= 9 and math.maxinteger or tonumber(("9"):rep(2 * n)),
    encode = function(_, v)
      local digits
      if math.type(v) == "integer" and v >= 0 then digits = tostring(v)
      elseif type(v) == "string" and v:find("^%d+$") then digits = v
      else return nil, "expected a non-negative integer or a string of decimal digits" end
      if #digits > 2 * n then
        return nil, string.format("%s has %d digits, bcd(%d) holds %d", digits, #digits, n, 2 * n)
      end
      digits = ("0"):rep(2 * n - #digits) .. digits
      return (digits:gsub("(%d)(%d)", function(hi, lo) return string.char(tonumber(hi) * 16 + tonumber(lo)) end))
    end,
    -- The digits as an integer; a nibble above 9 is not BCD: nil.
    decode = function(_, b)
      local digits = M.tohex(b)
      if digits:find("%D") then return nil end
      return math.tointeger(tonumber(digits)) or digits
    end,
  }
end

-- A MAC-48 address, in transmission order: "02:80:E1:00:00:01" or an integer.
function M.parse_mac(v)
  if math.type(v) == "integer" then
    if v < 0 or v > 0xFFFFFFFFFFFF then return nil, "MAC value out of range 0..0xFFFFFFFFFFFF" end
    return v
  end
  if type(v) ~= "string" then return nil, "expected a MAC address string" end
  local parts = {}
  for p in (v .. ":"):gmatch("([^:%-]*)[:%-]") do parts[#parts + 1] = p end
  if #parts ~= 6 then return nil, "MAC address needs 6 bytes: " .. v end
  local n = 0
  for _, p in ipairs(parts) do
    if not p:find("^%x%x$") then return nil, "bad MAC address byte '" .. p .. "' in " .. v end
    n = n * 256 + tonumber(p, 16)
  end
  return n
end

M.mac = encoder {
  name = "mac", size = 6, takes = "mac",
  encode = function(_, v)
    local n, err = M.parse_mac(v)
    if not n then return nil, err end
    return string.pack(">I6", n)
  end,
  decode = function(_, b) return M.tohex(b, ":") end,
}

-- RFC 4122 textual form; bytes in the RFC's (big-endian) field order.
M.uuid = encoder {
  name = "uuid", size = 16, takes = "text",
  encode = function(_, v)
    if type(v) ~= "string" or not v:find("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") then
      return nil, "expected a UUID like 123e4567-e89b-12d3-a456-426614174000"
    end
    return (M.fromhex(v))
  end,
  decode = function(_, b)
    local h = M.tohex(b):lower()
    return string.format("%s-%s-%s-%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(13, 16), h:sub(17, 20), h:sub(21, 32))
  end,
}

-- CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no xorout;
-- check value 0x29B1 for "123456789" (Greg Cook's CRC catalogue).
function M.crc16_ccitt_of(s)
  local crc = 0xFFFF
  for i = 1, #s do
    crc = crc ~ (s:byte(i) << 8)
    for _ = 1, 8 do
      crc = (crc & 0x8000) ~= 0 and ((crc << 1) ~ 0x1021) or (crc << 1)
      crc = crc & 0xFFFF
    end
  end
  return crc
end

-- CRC-32 (ISO-HDLC, as zlib): reflected poly 0xEDB88320, init and xorout
-- 0xFFFFFFFF; check value 0xCBF43926 for "123456789".
function M.crc32_of(s)
  local crc = 0xFFFFFFFF
  for i = 1, #s do
    crc = crc ~ s:byte(i)
    for _ = 1, 8 do
      crc = (crc & 1) ~= 0 and ((crc >> 1) ~ 0xEDB88320) or (crc >> 1)
    end
  end
  return crc ~ 0xFFFFFFFF
end

-- CRC encoders take the concatenated bytes of the fields named in `over`
-- (recipe.lua resolves the names) and store the CRC little endian.
M.crc16_ccitt = encoder {
  name = "crc16_ccitt", size = 2, takes = "crc",
  encode = function(_, covered) return string.pack("<I2", M.crc16_ccitt_of(covered)) end,
  decode = function(_, b) return (string.unpack("<I2", b)) end,
}
M.crc32 = encoder {
  name = "crc32", size = 4, takes = "crc",
  encode = function(_, covered) return string.pack("<I4", M.crc32_of(covered)) end,
  decode = function(_, b) return (string.unpack("<I4", b)) end,
}

-- The names board.cfg sees. Constructors are functions; the rest encoders.
M.vocabulary = {
  "u8", "u16le", "u16be", "u32le", "u32be", "u64le", "u64be", "unixtime",
  "ascii", "bytes", "bcd", "mac", "uuid", "crc16_ccitt", "crc32",
}

return M
