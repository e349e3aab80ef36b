-- stotp.sources: where a field's value comes from. A field in board.cfg is
-- { encoder, value }; the value is either a literal or one of these sources.
-- Every source is checked against its encoder when the config is loaded
-- (check), long before a probe is opened; at run time it yields the value
-- for one board (resolve) from the run context:
--   ctx.serial      the serial reserved for this UID in the journal
--   ctx.uid_bytes   the chip's 96-bit unique ID (12 bytes)
--   ctx.now         the reservation time of this UID's journal record, so
--                   that a rerun computes exactly the same bytes
--   ctx.random_key(field) -> key bytes, and true when that is the key
--                   escrowed for this board (a rerun), not a fresh one
--   ctx.master(path) -> master key bytes (loaded and checked by recipe.lua)

local fields = require("stotp.fields")
local keys = require("stotp.keys")

local M = {}

-- Read-only, like the encoders (fields.read_only): a config must not be
-- able to replace `serial.resolve`.
local sources = setmetatable({}, { __mode = "k" })

local function source(t)
  local s = fields.read_only(t, "source " .. t.kind)
  sources[s] = true
  return s
end

function M.is_source(v) return sources[v] == true end

-- serial: the next number of the product's pool, bound to the chip's UID.
M.serial = source {
  kind = "serial", describe = "serial",
  check = function(_, enc, recipe)
    if enc.takes ~= "integer" and enc.takes ~= "text" and enc.takes ~= "custom" then
      return nil, "a serial needs an integer, bcd, ascii or recipe-defined encoder, not " .. enc.name
    end
    if not recipe.serials then
      return nil, "uses the serial pool, but the config sets no serials = { first = ..., last = ... }"
    end
    for _, n in ipairs({ recipe.serials.first, recipe.serials.last }) do
      local ok, err = enc:encode(n)
      if not ok then return nil, "serials up to " .. recipe.serials.last .. " do not fit: " .. err end
    end
    return true
  end,
  resolve = function(_, ctx) return ctx.serial end,
}

-- MAC address = base + (serial - at_serial): serial `at_serial` gets the
-- base address, each later serial the next address. The anchor is written
-- in the field itself, not taken from the pool, so editing `serials` (a new
-- `first` for the next batch) can never hand out an address twice.
function M.from_serial(base, at_serial)
  local b, err = fields.parse_mac(base)
  if not b then error("from_serial(base, at_serial): " .. err, 2) end
  if math.type(at_serial) ~= "integer" or at_serial < 0 then
    error("from_serial(base, at_serial): at_serial must be the serial that gets the base address, " ..
      "e.g. from_serial(\"02:80:E1:00:00:00\", 100000)", 2)
  end
  return source {
    kind = "from_serial", base = b, at_serial = at_serial,
    describe = string.format("from_serial(%s, %d)", tostring(base), at_serial),
    check = function(_, enc, recipe)
      if enc ~= fields.mac then return nil, "from_serial gives a MAC address: use the mac encoder" end
      if not recipe.serials then return nil, "from_serial needs serials = { first = ..., last = ... }" end
      if recipe.serials.first < at_serial then
        return nil, string.format("serial %d (the pool's first) is below %d, the serial that gets the base address",
          recipe.serials.first, at_serial)
      end
      -- The low 24 bits are the NIC-specific half (IEEE 802 OUI + NIC):
      -- running past them would change the OUI.
      if recipe.serials.last - at_serial > 0xFFFFFF - (b & 0xFFFFFF) then
        return nil, string.format("serials up to %d run past the 24-bit NIC part of MAC base %s",
          recipe.serials.last, tostring(base))
      end
      return true
    end,
    resolve = function(_, ctx) return b + (ctx.serial - at_serial) end,
  }
end

local function bytes_only(what, max)
  return function(_, enc)
    if enc.takes ~= "bytes" then return nil, what .. " needs a bytes(n) encoder, not " .. enc.name end
    if max and enc.size > max then
      return nil, string.format("%s gives at most %d bytes, the field is %s", what, max, enc.name)
    end
    return true
  end
end

-- A key is journaled by its fingerprint (64 bits of its SHA-256) and a
-- derived key also enters the payload hash: a key much shorter than 128
-- bits could be found from either by trying every value. README "Keys in
-- output" has the arithmetic.
M.KEY_MIN_BYTES = 16
local function key_check(what, max)
  local bytes_ok = bytes_only(what, max)
  return function(self, enc)
    local ok, err = bytes_ok(self, enc)
    if not ok then return nil, err end
    if enc.size < M.KEY_MIN_BYTES then
      return nil, string.format("%s needs at least %d bytes (a shorter key could be recovered from its " ..
        "journaled fingerprint by trying every value), the field is %s", what, M.KEY_MIN_BYTES, enc.name)
    end
    return true
  end
end

-- A fresh random key per board. It cannot be recomputed: a rerun after a
-- crash accepts it only if the whole field already holds a key whose
-- fingerprint the journal recorded (plan.lua), never a half-burnt one.
M.random_key = source {
  kind = "random_key", describe = "random_key", secret = true, random = true,
  check = key_check("random_key"),
  -- ctx.random_key gives the key and true when it is the board's escrowed
  -- one (stotp.escrow) rather than freshly drawn.
  resolve = function(_, ctx, field)
    local key, kept = ctx.random_key(field)
    return fields.raw(key, true), kept
  end,
}

-- Per-device key: HMAC-SHA256(master key file, label, UID) (keys.derive).
function M.derived_key(file, label)
  if type(file) ~= "string" or file == "" then error("derived_key(file, label): file must be a path", 2) end
  if type(label) ~= "string" or label == "" then error("derived_key(file, label): label must be a non-empty string", 2) end
  return source {
    kind = "derived_key", file = file, label = label, secret = true,
    describe = string.format("derived_key(%q, %q)", file, label),
    check = key_check("derived_key", 32),
    resolve = function(self, ctx, field)
      return fields.raw(keys.derive(ctx.master(self.file), self.label, ctx.uid_bytes, field.size), true)
    end,
  }
end

-- The chip's own 96-bit unique ID (RM0090 §39.1; CMSIS, OOCD stm32f2x.c).
M.uid = source {
  kind = "uid", describe = "uid",
  check = function(_, enc)
    if enc.takes ~= "bytes" or enc.size ~= 12 then return nil, "the UID is 12 bytes: use bytes(12)" end
    return true
  end,
  resolve = function(_, ctx) return fields.raw(ctx.uid_bytes) end,
}

-- Provisioning time: the moment the journal first saw this board.
M.now = source {
  kind = "now", describe = "now",
  -- Capacity, not size: bcd(4) is 4 bytes but holds only 8 digits, less
  -- than today's time. 0xFFFFFFFF seconds reach 2106.
  check = function(_, enc)
    if enc.takes ~= "integer" or not enc.max or enc.max < 0xFFFFFFFF then
      return nil, "now needs an encoder that holds times up to 2106 (0xFFFFFFFF seconds): unixtime, u32le, " ..
        "u32be, u64le, u64be or bcd(5) and wider, not " .. enc.name
    end
    return true
  end,
  resolve = function(_, ctx) return ctx.now end,
}

M.vocabulary = { "serial", "from_serial", "random_key", "derived_key", "uid", "now" }

return M
