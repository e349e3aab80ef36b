-- stotp.plan: what a recipe wants on one board, against what the board
-- holds. Pure data in, pure data out (no probe here), so every rule below is
-- testable without hardware:
--   each field is "same" (already there), "write", or "impossible";
--   any impossible field refuses the whole plan, before any write
--   (DESIGN.md OTP safety rules 1-3).
-- OTP programming only clears bits (facts §6.2: AND semantics, no erase),
-- and a block whose lock byte is 0x00 takes no more writes (RM0090 §3.8).

local fields = require("stotp.fields")
local keys = require("stotp.keys")

local M = {}

local function blank(s) return not s:find("[^\xFF]") end

-- The first byte where `new` needs a bit set that `old` has cleared.
local function needs_set_bit(old, new)
  for i = 1, #new do
    local o, n = old:byte(i), new:byte(i)
    if n & ~o ~= 0 then return i - 1, o, n end
  end
end

-- Wanted bytes for every field. A random key that the journal recorded
-- (by fingerprint) and that is already in OTP whole is kept: a rerun after
-- a crash must not try to burn a second key over the first.
local function wanted(recipe, ctx, otp, bs)
  local out, errs = {}, {}
  for _, fd in ipairs(recipe.fields) do
    local off = fd.block * bs + fd.at
    local old = otp:sub(off + 1, off + fd.size)
    local bytes, err
    if fd.literal then
      bytes = fd.literal
    elseif fd.source then
      local recorded = ctx.key_fingerprints and ctx.key_fingerprints[fd.name]
      if fd.source.random and not blank(old) and recorded == keys.fingerprint(old) then
        bytes = old
      else
        local value = fd.source:resolve(ctx, fd)
        bytes, err = fd.encoder:encode(value)
      end
    end
    out[fd.name] = { fd = fd, offset = off, old = old, new = bytes }
    if not bytes and not fd.over then errs[fd.name] = err end
  end
  for _, fd in ipairs(recipe.fields) do
    if fd.over then
      local covered = {}
      for i, name in ipairs(fd.over) do covered[i] = out[name].new or "" end
      out[fd.name].new = fd.encoder:encode(table.concat(covered))
    end
  end
  return out, errs
end

local function classify(entry, locked, err)
  if err then return "impossible", err end
  if entry.old == entry.new then return "same" end
  if locked then return "impossible", string.format("block %d is locked", entry.fd.block) end
  local at, o, n = needs_set_bit(entry.old, entry.new)
  if at then
    return "impossible", string.format("byte +%d needs a bit from 0 to 1 (holds %02X, wanted %02X)", at, o, n)
  end
  return "write"
end

-- SHA-256 over (offset u16be, bytes) of every field in OTP order: the same
-- payload gives the same hash on every run, whatever the field order.
local function payload_hash(entries)
  local parts = {}
  for i, e in ipairs(entries) do parts[i] = string.pack(">I2", e.offset) .. e.new end
  return keys.sha256_hex(table.concat(parts))
end

-- Build the plan. target = { otp = string of all data bytes,
-- locks = { [1..16] = locked? }, block_size = 32|64 }.
function M.build(recipe, ctx, target)
  local bs = target.block_size
  local p = { fields = {}, locks = {}, reasons = {}, writes = 0, key_fingerprints = {}, block_size = bs }
  for _, fd in ipairs(recipe.fields) do
    if fd.at + fd.size > bs then
      p.reasons[#p.reasons + 1] = string.format("field '%s' does not fit a %d-byte block", fd.name, bs)
    end
  end
  if #p.reasons > 0 then p.refused = true; return p end
  local out, errs = wanted(recipe, ctx, target.otp, bs)
  for _, fd in ipairs(recipe.fields) do
    local e = out[fd.name]
    e.name, e.size, e.secret = fd.name, fd.size, fd.source and fd.source.secret or false
    e.status, e.reason = classify(e, target.locks[fd.block + 1], errs[fd.name])
    if e.status == "impossible" then
      p.reasons[#p.reasons + 1] = string.format("field '%s': %s", fd.name, e.reason)
    elseif e.status == "write" then
      p.writes = p.writes + 1
    end
    if e.secret and e.new then p.key_fingerprints[fd.name] = keys.fingerprint(e.new) end
    p.fields[#p.fields + 1] = e
  end
  table.sort(p.fields, function(a, b) return a.offset < b.offset end)
  for _, n in ipairs(recipe.locks) do
    p.locks[#p.locks + 1] = { block = n, status = target.locks[n + 1] and "same" or "lock" }
  end
  p.refused = #p.reasons > 0
  if not p.refused then p.payload_sha256 = payload_hash(p.fields) end
  p.complete = not p.refused and p.writes == 0 and not M.pending_locks(p)[1]
  return p
end

function M.pending_locks(p)
  local out = {}
  for _, l in ipairs(p.locks) do if l.status == "lock" then out[#out + 1] = l.block end end
  return out
end

local function show(bytes, secret)
  if not bytes then return "?" end
  if blank(bytes) then return "(blank)" end
  if secret then return "key " .. keys.fingerprint(bytes) end
  return fields.tohex(bytes, " ")
end

-- Per-field diff, one line per field; keys only as fingerprints.
function M.diff_lines(p)
  local lines = {}
  for _, e in ipairs(p.fields) do
    local change = e.status == "same" and show(e.new, e.secret)
      or show(e.old, e.secret) .. " -> " .. show(e.new, e.secret)
    lines[#lines + 1] = string.format("  block %2d +%-3d %-12s %-12s %-10s %s%s", e.fd.block, e.fd.at, e.name,
      e.fd.encoder.name, e.status == "same" and "ok" or e.status, change, e.reason and "  (" .. e.reason .. ")" or "")
  end
  for _, l in ipairs(p.locks) do
    lines[#lines + 1] = string.format("  lock  %2d %-4s %-12s %-12s %-10s %s", l.block, "", "", "",
      l.status == "same" and "ok" or "lock", l.status == "same" and "already locked" or "FF -> 00")
  end
  return lines
end

-- Burn the "write" fields, then read back all of OTP and compare every
-- field (rule 5). `step(name)` is called after each stage (crash-test hook
-- and journal progress). Returns true or nil, message, code.
function M.burn(target, p, step)
  for _, e in ipairs(p.fields) do
    if e.status == "write" then
      local ok, err, code = target:otp_write(e.offset, e.new)
      if not ok then return nil, string.format("writing field '%s': %s", e.name, err), code end
      step("write:" .. e.name)
    end
  end
  return true
end

function M.verify(target, p)
  local otp, err, code = target:otp_read()
  if not otp then return nil, "reading back: " .. tostring(err), code end
  for _, e in ipairs(p.fields) do
    if otp:sub(e.offset + 1, e.offset + e.size) ~= e.new then
      return nil, string.format("field '%s' reads back different from what was burned", e.name), "verify"
    end
  end
  return true
end

-- Lock the listed blocks (their data verified before this is called), one
-- lock byte at a time (rule 4), then read all lock bytes back.
function M.lock(target, p, step)
  for _, n in ipairs(M.pending_locks(p)) do
    local ok, err, code = target:otp_lock(n)
    if not ok then return nil, string.format("locking block %d: %s", n, err), code end
    step("lock:" .. n)
  end
  local locks, err, code = target:otp_locks()
  if not locks then return nil, "reading lock bytes: " .. tostring(err), code end
  for _, l in ipairs(p.locks) do
    if not locks[l.block + 1] then return nil, string.format("block %d reads back unlocked", l.block), "verify" end
  end
  return true
end

return M
