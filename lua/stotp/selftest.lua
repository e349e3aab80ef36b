-- stotp.selftest: a recipe's own examples, run with no probe.
--
--   example { serial = 100000, uid = "11005E00114F343835383134",
--             fields = { label = "SN-100000", hw = 2 },      -- values
--             bytes  = { crc = "C2 E0 28 C3" } }             -- OTP bytes
--
-- Each example is planned on a blank board of the recipe's first part (or
-- `part = "stm32f767zi"`) with that serial and UID, and what the fields
-- would hold is compared with what the example says. Keys are never
-- named in an example: a recipe file is not a place for key bytes.

local plan = require("stotp.plan")
local fields = require("stotp.fields")
local parts = require("stotp.parts")

local M = {}

local KEYS = { serial = true, uid = true, now = true, part = true, fields = true, bytes = true }

-- Load-time shape of one example; nil or why it is malformed.
function M.check_shape(ex)
  if type(ex) ~= "table" then return "example needs a table: example { serial = ..., uid = ..., fields = { ... } }" end
  for k in pairs(ex) do
    if not KEYS[k] then
      return "example: unknown key " .. string.format("%q", tostring(k)) .. " (keys: serial, uid, now, part, fields, bytes)"
    end
  end
  if ex.serial ~= nil and math.type(ex.serial) ~= "integer" then return "example: serial must be an integer" end
  if type(ex.uid) ~= "string" or not ex.uid:find("^%x+$") or #ex.uid ~= 24 then
    return "example: uid must be 24 hex digits, e.g. uid = \"11005E00114F343835383134\""
  end
  if ex.now ~= nil and math.type(ex.now) ~= "integer" then return "example: now must be an integer (seconds)" end
  if ex.part ~= nil and not parts.covered(ex.part) then return "example: unknown part " .. tostring(ex.part) end
  if ex.fields == nil and ex.bytes == nil then return "example: give fields = { ... } or bytes = { ... } to check" end
  for _, k in ipairs({ "fields", "bytes" }) do
    if ex[k] ~= nil and type(ex[k]) ~= "table" then return "example: " .. k .. " must be a table of field = value" end
  end
end

-- After the layout is known: every name an example checks is a field and
-- not a key. Returns nil or why not.
function M.check_names(recipe, ex)
  for _, k in ipairs({ "fields", "bytes" }) do
    for name in pairs(ex[k] or {}) do
      local fd = recipe.by_name[name]
      if not fd then return string.format("example: %s names no field '%s'", k, tostring(name)) end
      if fd.source and fd.source.secret then
        return string.format("example: field '%s' is a key; examples never hold key bytes", name)
      end
      if k == "fields" and fd.over then
        return string.format("example: field '%s' is a CRC: check it with bytes = { %s = \"...\" }", name, name)
      end
    end
  end
end

local function block_size(part)
  local sizes = parts.block_sizes(part)
  return sizes[32] and 32 or 64
end

-- One example: a list of mismatches ("field 'x': wanted ..., got ...").
local function run_one(recipe, ex)
  local part = ex.part or recipe.parts[1]
  local bs = block_size(part)
  local ctx = { serial = ex.serial, uid_bytes = fields.fromhex(ex.uid), now = ex.now or 0, product = recipe.product,
    part = part, station = "check", key_fingerprints = {},
    master = function(path) return recipe.master_keys[path] end,
    random_key = function(fd) return ("\0"):rep(fd.size) end }
  local locks = {}
  for i = 1, 16 do locks[i] = false end
  local p = plan.build(recipe, ctx, { otp = ("\xFF"):rep(16 * bs), locks = locks, block_size = bs })
  if p.config_error then return p.reasons end
  local got, bad = {}, {}
  for _, e in ipairs(p.fields) do got[e.name] = e end
  for name, want in pairs(ex.fields or {}) do
    local e = got[name]
    local v = fields.is_raw(e.value) and fields.tohex(e.value.bytes) or e.value
    -- The same value, or one written another way that encodes the same
    -- ("02:80:E1:00:00:05" for a MAC the source gives as an integer).
    if v ~= want and (e.new == nil or e.fd.encoder:encode(want) ~= e.new) then
      bad[#bad + 1] = string.format("field '%s': example says %s, the recipe gives %s", name, string.format("%q", want),
        v == nil and "nothing" or string.format("%q", v))
    end
  end
  for name, want in pairs(ex.bytes or {}) do
    local wb = fields.fromhex(want)
    local new = got[name].new
    if new ~= wb then
      bad[#bad + 1] = string.format("field '%s': example says bytes %s, the recipe gives %s", name,
        wb and fields.tohex(wb, " ") or tostring(want), new and fields.tohex(new, " ") or "nothing")
    end
  end
  table.sort(bad)
  return bad
end

-- Every example of the recipe: { { where =, ok =, problems = {...} } ... }.
function M.run(recipe)
  local out = {}
  for _, ex in ipairs(recipe.examples) do
    local problems = run_one(recipe, ex.spec)
    out[#out + 1] = { where = ex.where, ok = #problems == 0, problems = problems }
  end
  return out
end

return M
