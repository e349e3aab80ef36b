-- stotp.compute: values a recipe computes for itself.
--
--   field "label" { ascii(10), function(board) return ("SN-%05d"):format(board.serial) end }
--
-- The function gets a read-only view of the board being provisioned and
-- returns a value for the field's encoder. It runs as recipe code does
-- (stotp.sandbox: instruction budget, the safe library, and the memory and
-- time budgets of the bounded child around the whole plan), and it must be
-- deterministic: a rerun after a crash has to compute the very same bytes,
-- so every call is made twice and two different answers are refused. It
-- never sees a key: keys come only from the key sources.

local sandbox = require("stotp.sandbox")
local fields = require("stotp.fields")

local M = {}

local VIEW_KEYS = { serial = true, uid = true, uid_bytes = true, now = true, product = true, part = true,
  station = true, fields = true }

-- A value as recipe code may see it: raw bytes (a UID) as a byte string.
local function visible(v)
  if fields.is_raw(v) then return v.bytes end
  return v
end

-- The read-only board view. board = { serial, uid_bytes, now, product,
-- part, station }; earlier = { [name] = { value =, secret = } } for the
-- fields laid out before this one.
function M.view(board, earlier, field)
  local values = setmetatable({}, {
    __index = function(_, name)
      local e = earlier[name]
      if not e then
        error(string.format("board.fields.%s: no field '%s' comes before '%s' in the layout", tostring(name),
          tostring(name), field), 2)
      end
      if e.secret then error(string.format("board.fields.%s is a key: computed values never see keys", name), 2) end
      return visible(e.value)
    end,
    __newindex = function() error("the board view is read-only", 2) end,
    __metatable = false,
  })
  local t = { serial = board.serial, uid_bytes = board.uid_bytes, now = board.now, product = board.product,
    part = board.part, station = board.station, fields = values,
    uid = board.uid_bytes and fields.tohex(board.uid_bytes) }
  return setmetatable({}, {
    __index = function(_, k)
      if not VIEW_KEYS[k] then
        error(string.format("board.%s: the board view has serial, uid, uid_bytes, now, product, part, station and " ..
          "fields", tostring(k)), 2)
      end
      return t[k]
    end,
    __newindex = function() error("the board view is read-only", 2) end,
    __metatable = false,
  })
end

local function once(fn, view)
  local ok, v = sandbox.counted(fn, view)
  if not ok then return nil, v end
  local kind = type(v)
  if kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
    return nil, "the function returned " .. (v == nil and "nothing" or "a " .. kind) ..
      "; a computed value is a number or a string"
  end
  return v
end

-- The field's value for this board, or nil and why. Called twice: a
-- counter in an upvalue or anything else that changes between calls is
-- caught here, before the value can reach a board.
function M.value(fn, board, earlier, field)
  local view = M.view(board, earlier, field)
  local a, err = once(fn, view)
  if a == nil then return nil, err end
  local b, err2 = once(fn, view)
  if b == nil then return nil, err2 end
  if a ~= b or math.type(a) ~= math.type(b) then
    return nil, string.format("the function is not deterministic: it gave %s, then %s for the same board (a rerun " ..
      "after a crash must compute the same bytes)", string.format("%q", a), string.format("%q", b))
  end
  return a
end

-- An encoder the recipe defines:
--   encoder { name = "rev", size = 2, encode = function(v) ... end,
--             decode = function(bytes) ... end, samples = { 1, 2 } }
-- encode gives exactly `size` bytes for a value (or nil, why), decode gives
-- the value back, so a read-back can show it. Both run as recipe code
-- (instruction budget, safe library) and, like value functions, twice: an
-- encoder that answers differently the second time is refused. Checked at
-- load: decode(encode(v)) == v for every sample (and every literal the
-- recipe gives it, recipe.lua).
local function run_twice(fn, arg, what)
  local ok, a, why = sandbox.counted(fn, arg)
  if not ok then return nil, a end
  local ok2, b = sandbox.counted(fn, arg)
  if not ok2 then return nil, b end
  if a ~= b or math.type(a) ~= math.type(b) then
    return nil, what .. " is not deterministic: two calls gave two answers"
  end
  if a == nil and why ~= nil then return nil, tostring(why) end
  return a
end

local function check_def(def)
  if type(def) ~= "table" then return "encoder { name = ..., size = ..., encode = ..., decode = ..., samples = {...} }" end
  for k in pairs(def) do
    if k ~= "name" and k ~= "size" and k ~= "encode" and k ~= "decode" and k ~= "samples" then
      return "encoder: unknown key " .. string.format("%q", tostring(k)) .. " (keys: name, size, encode, decode, samples)"
    end
  end
  if type(def.name) ~= "string" or not def.name:find("^[%a_][%w_]*$") then return "encoder: name must be an identifier" end
  if math.type(def.size) ~= "integer" or def.size < 1 or def.size > 64 then
    return "encoder " .. def.name .. ": size must be an integer 1..64 (an OTP block holds at most 64 bytes)"
  end
  if type(def.encode) ~= "function" or type(def.decode) ~= "function" then
    return "encoder " .. def.name .. ": encode and decode must be functions"
  end
  if type(def.samples) ~= "table" or def.samples[1] == nil then
    return "encoder " .. def.name .. ": samples must list values to check encode and decode on, e.g. samples = { 1, 42 }"
  end
end

function M.encoder(def)
  local problem = check_def(def)
  if problem then return nil, problem end
  local name, size = def.name, def.size
  local enc = fields.new_encoder {
    name = name, size = size, takes = "custom", custom = true,
    encode = function(_, v)
      local b, err = run_twice(def.encode, v, "encoder " .. name)
      if b == nil then return nil, err or ("encoder " .. name .. " gave nothing for " .. tostring(v)) end
      if type(b) ~= "string" or #b ~= size then
        return nil, string.format("encoder %s gave %s for %s, not a string of %d bytes", name,
          type(b) == "string" and #b .. " bytes" or "a " .. type(b), tostring(v), size)
      end
      return b
    end,
    decode = function(_, bytes) return run_twice(def.decode, bytes, "decoder " .. name) end,
  }
  return enc, def.samples
end

-- decode(encode(v)) == v, or why not.
function M.round_trip(enc, v)
  local b, err = enc:encode(v)
  if not b then return nil, err end
  local back, derr = enc:decode(b)
  if back == nil and derr then return nil, derr end
  if back ~= v or math.type(back) ~= math.type(v) then
    return nil, string.format("decode(encode(%s)) gives %s, not the value back", string.format("%q", v),
      type(back) == "string" and string.format("%q", back) or tostring(back))
  end
  return true
end

-- The value of one field for a board: its literal, its source's value, or
-- what its function computes. Returns value and, for a source, whether it
-- is a kept (escrowed) key; for a function, nil and the error instead.
-- ctx: serial, uid_bytes, now, product, part, station and what the sources
-- need (stotp.sources); earlier: the values of the fields before it.
function M.resolve(fd, ctx, earlier)
  if fd.literal then return fd.literal_value end
  if fd.compute then return M.value(fd.compute, ctx, earlier, fd.name) end
  if fd.source then return fd.source:resolve(ctx, fd) end
  return nil
end

-- What a later field's function may read of this one.
function M.remember(earlier, fd, value)
  earlier[fd.name] = { value = value, secret = fd.source and fd.source.secret or false }
end

return M
