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
