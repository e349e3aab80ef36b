-- stotp.escrow: random keys that a rerun can finish burning.
--
-- A random key cannot be recomputed: if a burn is cut short (cable pulled,
-- power lost, station killed) half-way through a random_key field, the
-- bytes in OTP are part of a key nobody has any more, and the block can
-- never be completed. With `escrow = "keys/escrow.kek"` in the recipe,
-- each fresh key is wrapped (AES-256 key wrap with padding, RFC 5649) under
-- that key-encryption key and committed to the journal before its first
-- byte is burned; a rerun unwraps it and completes the field. The journal
-- holds only the wrapped key, the key's fingerprint and the KEK's
-- fingerprint; once the board has verified, the wrapped keys are deleted.

local keys = require("stotp.keys")
local fields = require("stotp.fields")

local M = {}

M.SCHEMA = [[CREATE TABLE IF NOT EXISTS stotp_escrow (
    product TEXT NOT NULL, uid TEXT NOT NULL, field TEXT NOT NULL,
    wrapped TEXT NOT NULL, key_fingerprint TEXT NOT NULL, kek_fingerprint TEXT NOT NULL,
    created_at BIGINT NOT NULL, PRIMARY KEY (product, uid, field))]]

local Escrow = {}
Escrow.__index = Escrow

-- journal: an open stotp.journal; kek: the 32-byte key-encryption key;
-- kek_path: its file, for messages.
function M.new(journal, kek, kek_path, uid)
  return setmetatable({ journal = journal, kek = kek, kek_fp = keys.fingerprint(kek), kek_path = kek_path, uid = uid },
    Escrow)
end

function Escrow:where(field)
  local j = self.journal
  return string.format("product = %s AND uid = %s%s", j:q(j.product), j:q(self.uid),
    field and " AND field = " .. j:q(field) or "")
end

-- Every escrowed key of this board, unwrapped and checked against its
-- fingerprint: { [field] = key }, or nil and why (no key is returned that
-- is not exactly the one escrowed).
function Escrow:load()
  local rows, err, code = self.journal:rows("SELECT field, wrapped, key_fingerprint, kek_fingerprint FROM stotp_escrow " ..
    "WHERE " .. self:where())
  if not rows then return nil, err, code end
  local out = {}
  for _, r in ipairs(rows) do
    if r.kek_fingerprint ~= self.kek_fp then
      return nil, string.format("the random key of field '%s' was escrowed under another key-encryption key (%s), " ..
        "not %s (%s): give the recipe the escrow file this board was started with", r.field, r.kek_fingerprint,
        self.kek_path, self.kek_fp), "escrow"
    end
    local key = keys.unwrap(self.kek, fields.fromhex(r.wrapped) or "")
    if not key or keys.fingerprint(key) ~= r.key_fingerprint then
      return nil, string.format("the escrowed key of field '%s' does not unwrap to the key it was stored as " ..
        "(the journal row was changed?): nothing burned", r.field), "escrow"
    end
    out[r.field] = key
  end
  return out
end

-- Commit the fresh keys ({ [field] = key }) before any of them is burned.
function Escrow:store(fresh)
  local j, now = self.journal, os.time()
  return j:transaction(function()
    for field, key in pairs(fresh) do
      local ok, err, code = j:exec(string.format("INSERT INTO stotp_escrow VALUES (%s, %s, %s, %s, %s, %s, %d)",
        j:q(j.product), j:q(self.uid), j:q(field), j:q(fields.tohex(keys.wrap(self.kek, key))),
        j:q(keys.fingerprint(key)), j:q(self.kek_fp), now))
      if not ok then return nil, err, code end
    end
    return true
  end)
end

-- The keys are in OTP and read back whole: the wrapped copies go.
function Escrow:forget()
  return self.journal:exec("DELETE FROM stotp_escrow WHERE " .. self:where())
end

return M
