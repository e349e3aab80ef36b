-- stotp.sources: where a field's value comes from. A field in board.cfg is
-- { encoder, value }; the value is either a literal or one of these sources.
-- Every source is checked against its encoder when the config is loaded
-- (check), long before a probe is opened; at run time it yields the value
-- for one board (resolve) from the run context:
--   ctx.serial      the serial reserved for this UID in the journal
--   ctx.first       the first serial of the pool (for from_serial)
--   ctx.uid_bytes   the chip's 96-bit unique ID (12 bytes)
--   ctx.now         the reservation time of this UID's journal record, so
--                   that a rerun computes exactly the same bytes
--   ctx.random_key(field) -> key bytes
--   ctx.master(path) -> master key bytes (loaded and checked by recipe.lua)

local fields = require("stotp.fields")
local keys = require("stotp.keys")

local M = {}

local Source = {}
Source.__index = Source
Source.__tostring = function(s) return "source " .. s.kind end

local function source(t) return setmetatable(t, Source) end

function M.is_source(v) return getmetatable(v) == Source end

-- serial: the next number of the product's pool, bound to the chip's UID.
M.serial = source {
  kind = "serial", describe = "serial",
  check = function(_, enc, recipe)
    if enc.takes ~= "integer" and enc.takes ~= "text" then
      return nil, "a serial needs an integer, bcd or ascii encoder, not " .. enc.name
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

-- MAC address = base + (serial - first): consecutive serials get consecutive
-- addresses, and the pool size bounds the range taken from the base.
function M.from_serial(base)
  local b, err = fields.parse_mac(base)
  if not b then error("from_serial(base): " .. err, 2) end
  return source {
    kind = "from_serial", base = b,
    describe = "from_serial(" .. tostring(base) .. ")",
    check = function(_, enc, recipe)
      if enc ~= fields.mac then return nil, "from_serial gives a MAC address: use the mac encoder" end
      if not recipe.serials then return nil, "from_serial needs serials = { first = ..., last = ... }" end
      -- The low 24 bits are the NIC-specific half (IEEE 802 OUI + NIC):
      -- running past them would change the OUI.
      if (b & 0xFFFFFF) + (recipe.serials.last - recipe.serials.first) > 0xFFFFFF then
        return nil, "the serial pool runs past the 24-bit NIC part of MAC base " .. tostring(base)
      end
      return true
    end,
    resolve = function(_, ctx) return b + (ctx.serial - ctx.first) end,
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

-- A fresh random key per board. It cannot be recomputed: a rerun after a
-- crash accepts it only if the whole field already holds a key whose
-- fingerprint the journal recorded (plan.lua), never a half-burnt one.
M.random_key = source {
  kind = "random_key", describe = "random_key", secret = true, random = true,
  check = bytes_only("random_key"),
  resolve = function(_, ctx, field) return fields.raw(ctx.random_key(field), true) end,
}

-- Per-device key: HMAC-SHA256(master key file, label, UID) (keys.derive).
function M.derived_key(file, label)
  if type(file) ~= "string" or file == "" then error("derived_key(file, label): file must be a path", 2) end
  if type(label) ~= "string" or label == "" then error("derived_key(file, label): label must be a non-empty string", 2) end
  return source {
    kind = "derived_key", file = file, label = label, secret = true,
    describe = string.format("derived_key(%q, %q)", file, label),
    check = bytes_only("derived_key", 32),
    resolve = function(self, ctx, field)
      return fields.raw(keys.derive(ctx.master(self.file), self.label, ctx.uid_bytes, field.size), true)
    end,
  }
end

-- The chip's own 96-bit unique ID (RM0090 §39.1; facts §5.1).
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
  check = function(_, enc)
    if enc.takes ~= "integer" or enc.size < 4 then return nil, "now needs unixtime or an integer encoder of 4 or 8 bytes" end
    return true
  end,
  resolve = function(_, ctx) return ctx.now end,
}

M.vocabulary = { "serial", "from_serial", "random_key", "derived_key", "uid", "now" }

return M
