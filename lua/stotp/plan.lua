-- stotp.plan: what a recipe wants on one board, against what the board
-- holds. Pure data in, pure data out (no probe here), so every rule below is
-- testable without hardware:
--   each field is "same" (already there), "write", or "impossible";
--   any impossible field refuses the whole plan, before any write
--   (README's OTP safety rules 1-3).
-- OTP programming only clears bits (RM0090 §3.8: AND semantics, no erase),
-- and a block whose lock byte is 0x00 takes no more writes (RM0090 §3.8).
--
-- Data that is neither blank nor the wanted value is never built on unless
-- this journal started burning exactly this payload on this board: a value
-- that only has extra 1s relative to the wanted one (A1 -> A0) could be
-- "completed" by clearing bits, which would turn another journal's serial
-- 100001 into this journal's 100000 and give one serial to two boards.
-- The one field that may be completed is one a crash cut short, and only
-- the journal knows that (ctx.recorded_payload == this plan's payload).

local fields = require("stotp.fields")
local keys = require("stotp.keys")
local compute = require("stotp.compute")
local sandbox = require("stotp.sandbox")

local M = {}

local function blank(s) return not s:find("[^\xFF]") end

-- The first byte where `new` needs a bit set that `old` has cleared.
local function needs_set_bit(old, new)
  for i = 1, #new do
    local o, n = old:byte(i), new:byte(i)
    if n & ~o ~= 0 then return i - 1, o, n end
  end
end

-- A field whose bytes a rerun cannot recompute: a random key, or a CRC
-- over one. They stay out of the payload hash (keys are journaled by
-- fingerprint), so the hash is the same on every run for one record.
local function is_random(fd, by_name)
  if fd.source and fd.source.random then return true end
  for _, name in ipairs(fd.over or {}) do
    local c = by_name[name]
    if c.source and c.source.random then return true end
  end
  return false
end

-- "key" for a key field; "derived" for a CRC over one (its bytes are a
-- function of the key: never shown, README "Keys in output"); false.
local function secrecy(fd, by_name)
  if fd.source and fd.source.secret then return "key" end
  for _, name in ipairs(fd.over or {}) do
    local c = by_name[name]
    if c.source and c.source.secret then return "derived" end
  end
  return false
end

-- Bits (and bytes) where `a` and `b` differ, and the first such offset.
local function differences(a, b)
  local bits, bytes, first = 0, 0, nil
  for i = 1, math.min(#a, #b) do
    local x = a:byte(i) ~ b:byte(i)
    if x ~= 0 then
      first, bytes = first or i - 1, bytes + 1
      while x ~= 0 do bits, x = bits + (x & 1), x >> 1 end
    end
  end
  return bits, bytes, first
end
M.differences = differences

-- stotp.core prints byte values as 0x%02X (addresses and registers are
-- wider): a message about bytes of a key keeps its shape, not the values.
function M.redact(msg)
  return (tostring(msg):gsub("0x%x%x%f[^%x]", "0x??"))
end

-- Wanted bytes for every field. A random key that the journal recorded
-- (by fingerprint) and that is already in OTP whole is kept: a rerun after
-- a crash must not try to burn a second key over the first.
local function wanted(recipe, ctx, otp, bs)
  local out, errs, earlier = {}, {}, {}
  for _, fd in ipairs(recipe.fields) do
    local off = fd.block * bs + fd.at
    local old = otp:sub(off + 1, off + fd.size)
    local bytes, err, value, kept
    local recorded = ctx.key_fingerprints and ctx.key_fingerprints[fd.name]
    if fd.source and fd.source.random and not blank(old) and recorded == keys.fingerprint(old) then
      bytes = old
    elseif not fd.over then
      value, kept = compute.resolve(fd, ctx, earlier)
      if fd.compute and value == nil then
        errs[fd.name], kept = { config = string.format("%s:%d: field '%s': %s", fd.file or recipe.file, fd.line, fd.name,
          kept) }, nil
      else
        bytes, err = fd.encoder:encode(value)
        -- A recipe's own encoder failing is the recipe's fault (exit 2).
        if not bytes and fd.encoder.custom then
          errs[fd.name] = { config = string.format("%s:%d: field '%s': %s", fd.file or recipe.file, fd.line,
            fd.name, err) }
        end
      end
      compute.remember(earlier, fd, value)
    end
    -- random: left out of the payload hash; fresh: a key drawn by this
    -- very run (or a CRC over one), which no earlier run can have burned
    -- (an escrowed key is not fresh: an earlier run drew it).
    out[fd.name] = { fd = fd, offset = off, old = old, new = bytes, value = value,
      random = is_random(fd, recipe.by_name),
      fresh = fd.source and fd.source.random and not kept and bytes ~= old or false }
    if not bytes and not fd.over and not errs[fd.name] then errs[fd.name] = err end
  end
  for _, fd in ipairs(recipe.fields) do
    if fd.over then
      local covered = {}
      for i, name in ipairs(fd.over) do
        covered[i] = out[name].new or ""
        out[fd.name].fresh = out[fd.name].fresh or out[name].fresh
      end
      out[fd.name].new = fd.encoder:encode(table.concat(covered))
    end
  end
  return out, errs
end

local show, holds_secret

-- resume: nil (this journal never started a burn on this board), true
-- (it started this very payload) or false (it started another payload).
local function classify(entry, locked, err, resume)
  if err then return "impossible", err end
  if entry.old == entry.new then return "same" end
  if not blank(entry.old) and not resume then
    return "impossible", string.format("block %d holds %s, a different value than planned (%s); %s", entry.fd.block,
      show(entry.old, entry.secret), show(entry.new, entry.secret), resume == nil
        and "this board was provisioned before (another journal?)"
        or "the journal's record of this board planned another payload (was the recipe changed?)")
  end
  if entry.fresh and not blank(entry.old) then
    return "impossible", string.format("block %d holds part of a random key (or of a value that depends on one) " ..
      "that a burn cut short, and no escrowed copy of that key exists, so it can never be completed: the " ..
      "block is spent. Set the board aside (do not lock it); a recipe with escrow = \"...\" lets a rerun " ..
      "finish such a burn (README, \"Random keys and escrow\")", entry.fd.block)
  end
  if locked then return "impossible", string.format("block %d is locked", entry.fd.block) end
  local at, o, n = needs_set_bit(entry.old, entry.new)
  if at and entry.secret then
    local bits = 0
    for i = 1, #entry.new do
      local x = entry.new:byte(i) & ~entry.old:byte(i)
      while x ~= 0 do bits, x = bits + (x & 1), x >> 1 end
    end
    return "impossible", string.format("%d bit(s) would need to go from 0 to 1, first at byte +%d (values of a key " ..
      "are not shown)", bits, at)
  elseif at then
    return "impossible", string.format("byte +%d needs a bit from 0 to 1 (holds %02X, wanted %02X)", at, o, n)
  end
  return "write"
end

-- SHA-256 over (offset u16be, bytes) of every field in OTP order but the
-- random ones (is_random): the same journal record gives the same hash on
-- every run, whatever the field order.
local function payload_hash(recipe, out)
  local list = {}
  for _, fd in ipairs(recipe.fields) do
    local e = out[fd.name]
    if not e.random then list[#list + 1] = e end
  end
  table.sort(list, function(a, b) return a.offset < b.offset end)
  local parts = {}
  for i, e in ipairs(list) do parts[i] = string.pack(">I2", e.offset) .. e.new end
  return keys.sha256_hex(table.concat(parts))
end

-- What block n must read back as once its fields are burned: its current
-- bytes with every planned field in place (otp_lock's `expect`).
local function block_image(otp, bs, n, fields_)
  local img = otp:sub(n * bs + 1, (n + 1) * bs)
  for _, e in ipairs(fields_) do
    if e.fd.block == n then
      local at = e.fd.at
      img = img:sub(1, at) .. e.new .. img:sub(at + e.size + 1)
    end
  end
  return img
end

local function empty_plan(bs)
  return { fields = {}, locks = {}, reasons = {}, notes = {}, writes = 0, key_fingerprints = {}, block_size = bs,
    macs = {} }
end

-- A recipe function that fails on this board is the recipe's fault: the
-- plan is refused as a config error (exit 2), before anything is burned.
local function config_errors(p, recipe, errs)
  for _, fd in ipairs(recipe.fields) do
    local e = errs[fd.name]
    if type(e) == "table" then p.reasons[#p.reasons + 1], p.config_error = e.config, true end
  end
  p.refused = p.config_error or nil
  return p.config_error
end

-- The plan. target = { otp = string of all data bytes,
-- locks = { [1..16] = locked? }, lock_bytes = the 16 raw lock bytes
-- (optional, for showing them), block_size = 32|64 }.
-- ctx.recorded_payload: the payload hash this journal recorded for this
-- board before burning it (nil: it never started a burn on this board).
local function build(recipe, ctx, target)
  local bs = target.block_size
  local p = empty_plan(bs)
  for _, fd in ipairs(recipe.fields) do
    if fd.at + fd.size > bs then
      p.reasons[#p.reasons + 1] = string.format("field '%s' does not fit a %d-byte block", fd.name, bs)
    end
  end
  if #p.reasons > 0 then p.refused = true; return p end
  local out, errs = wanted(recipe, ctx, target.otp, bs)
  if config_errors(p, recipe, errs) then return p end
  if not next(errs) then p.payload_sha256 = payload_hash(recipe, out) end
  local resume = nil
  if ctx.recorded_payload then resume = ctx.recorded_payload == p.payload_sha256 end
  for _, fd in ipairs(recipe.fields) do
    local e = out[fd.name]
    e.name, e.size, e.secret = fd.name, fd.size, secrecy(fd, recipe.by_name)
    e.status, e.reason = classify(e, target.locks[fd.block + 1], errs[fd.name], resume)
    if e.status == "impossible" then
      p.reasons[#p.reasons + 1] = string.format("field '%s': %s", fd.name, e.reason)
    elseif e.status == "write" then
      p.writes = p.writes + 1
    end
    if e.secret == "key" and e.new then p.key_fingerprints[fd.name] = keys.fingerprint(e.new) end
    if fd.source and fd.source.kind == "from_serial" then p.macs[fd.name] = e.value end
    p.fields[#p.fields + 1] = e
  end
  table.sort(p.fields, function(a, b) return a.offset < b.offset end)
  for _, e in ipairs(p.fields) do
    if e.status == "write" and e.fd.source and e.fd.source.random and not recipe.escrow then
      p.notes[#p.notes + 1] = string.format("field '%s' is a random key without escrow: if this burn is cut short " ..
        "while it is written, block %d can never be completed", e.name, e.fd.block)
    end
  end
  p.refused = #p.reasons > 0
  if p.refused then p.payload_sha256 = nil end
  for _, n in ipairs(recipe.locks) do
    -- The lock byte as the chip holds it: FF, or something a lock cut
    -- short left (neither 00 nor FF); nil when the caller gave no bytes.
    local byte = target.lock_bytes and target.lock_bytes:byte(n + 1)
    p.locks[#p.locks + 1] = { block = n, status = target.locks[n + 1] and "same" or "lock",
      expect = not p.refused and block_image(target.otp, bs, n, p.fields) or nil, secret = holds_secret(p, n),
      byte = byte }
  end
  p.complete = not p.refused and p.writes == 0 and not M.pending_locks(p)[1]
  return p
end

function holds_secret(p, block)
  for _, e in ipairs(p.fields) do
    if e.fd.block == block and e.secret then return true end
  end
  return false
end

-- The random keys this plan draws fresh and burns: { [field] = key },
-- what stotp.escrow must hold before the burn starts.
function M.fresh_keys(p)
  local out = {}
  for _, e in ipairs(p.fields) do
    if e.status == "write" and e.fresh and e.fd.source and e.fd.source.random then out[e.name] = e.new end
  end
  return out
end

-- Build the plan; a recipe with functions of its own runs them within the
-- memory and time budgets of stotp.sandbox (a string bomb in a value
-- function is a config error, not a killed station).
function M.build(recipe, ctx, target)
  if not recipe.has_code then return build(recipe, ctx, target) end
  -- A config error in the child stops here: the station's own process
  -- must not run the function that failed (a string bomb would allocate
  -- here without a budget).
  local p, err = sandbox.bounded(function()
    local child = build(recipe, ctx, target)
    if child.config_error then return nil, table.concat(child.reasons, "; ") end
    return child
  end, recipe.file)
  if p then return p end
  p = empty_plan(target.block_size)
  p.reasons[1], p.refused, p.config_error = err, true, true
  return p
end

function M.pending_locks(p)
  local out = {}
  for _, l in ipairs(p.locks) do if l.status == "lock" then out[#out + 1] = l.block end end
  return out
end

-- Keys as fingerprints (64 bits of SHA-256 of at least 128 secret bits);
-- a CRC over a key not at all: a 2- or 4-byte value's fingerprint is
-- reversed by trying every value.
function show(bytes, secret)
  if not bytes then return "?" end
  if blank(bytes) then return "(blank)" end
  if secret == "key" then return "key " .. keys.fingerprint(bytes) end
  if secret then return "(depends on a key)" end
  return fields.tohex(bytes, " ")
end

-- Per-field diff, one line per field; keys only as fingerprints.
function M.diff_lines(p)
  local lines = {}
  for _, e in ipairs(p.fields) do
    local change = e.status == "same" and show(e.new, e.secret)
      or show(e.old, e.secret) .. " -> " .. show(e.new, e.secret)
    lines[#lines + 1] = string.format("  block %2d +%-3d %-12s %-12s %-10s %s%s%s", e.fd.block, e.fd.at, e.name,
      e.fd.encoder.name, e.status == "same" and "ok" or e.status, change, e.reason and "  (" .. e.reason .. ")" or "",
      e.fd.from and "  [" .. e.fd.from .. "]" or "")
  end
  for _, l in ipairs(p.locks) do
    lines[#lines + 1] = string.format("  lock  %2d %-4s %-12s %-12s %-10s %s", l.block, "", "", "",
      l.status == "same" and "ok" or "lock", l.status == "same" and "already locked"
        or string.format("%02X -> 00%s", l.byte or 0xFF, (l.byte or 0xFF) ~= 0xFF and "  (a lock cut short?)" or ""))
  end
  if not p.refused then
    for _, note in ipairs(p.notes) do lines[#lines + 1] = "  note: " .. note end
  end
  return lines
end

-- Burn the "write" fields, then read back all of OTP and compare every
-- field (rule 5). `step(name)` is called after each stage (crash-test hook
-- and journal progress). Returns true or nil, message, code.
-- Why writing a secret field failed, with offsets and bit counts from a
-- fresh read-back, never the values (the core's message names them).
local function secret_failure(target, e, err, code)
  local what = string.format("writing field '%s' (%s; values not shown): %s", e.name,
    e.secret == "key" and "a key" or "depends on a key", M.redact(err))
  local otp = target:otp_read()
  if otp then
    local bits, bytes, first = differences(otp:sub(e.offset + 1, e.offset + e.size), e.new)
    what = bits == 0 and what .. "; the field reads back as planned"
      or string.format("%s; %d bit(s) in %d byte(s) differ from the plan, first at byte +%d", what, bits, bytes, first)
  end
  return nil, what, code
end

-- A random key (or a CRC over one) is written in one program pass at one
-- width: the widest unit its offset and length allow. Mixed widths would
-- mean several passes with register writes between them, a wider window
-- in which a cut leaves a key no rerun can finish (without an escrow).
-- p.width (the station's --width) caps every width, as the core's option
-- only ever narrows.
local function one_pass(e, cap)
  if not e.random then return cap and { width = cap } or nil end
  for _, w in ipairs({ 32, 16 }) do
    local unit = w // 8
    if w <= (cap or 32) and e.offset % unit == 0 and e.size % unit == 0 then return { width = w } end
  end
  return { width = 8 }
end
M.one_pass = one_pass

-- The writes of a plan as otp_write calls: a run of fields next to each
-- other in OTP goes out as one write (one unlock, one burst, one
-- read-back for the whole record). A random key, or a field that is or
-- depends on a secret, is a write of its own: one program pass at one
-- width (one_pass), and a failure message about it alone, redacted.
local function writes(p)
  local out, cur = {}, nil
  for _, e in ipairs(p.fields) do
    if e.status == "write" then
      local alone = e.random or e.secret and true or false
      if cur and not alone and not cur.alone and cur.offset + #cur.bytes == e.offset then
        cur.bytes, cur.fields[#cur.fields + 1] = cur.bytes .. e.new, e
      else
        cur = { offset = e.offset, bytes = e.new, fields = { e }, alone = alone }
        out[#out + 1] = cur
      end
    end
  end
  return out
end

-- The pending locks as otp_write's `lock` option: each block as it must
-- read back once every field is in place (rule 4: the core compares the
-- whole area read back after the write before it writes a lock byte).
local function lock_option(p)
  local opt, secret = nil, false
  for _, l in ipairs(p.locks or {}) do
    if l.status == "lock" then
      opt = opt or {}
      opt[l.block], secret = l.expect, secret or l.secret
    end
  end
  return opt, secret
end

-- Burn the "write" fields, then (the last write, in the same flash
-- session) lock the blocks the plan locks. `step(name)` is called after
-- each write for each of its fields (crash-test hook and journal
-- progress); plan.lock then finds the blocks locked and writes nothing.
function M.burn(target, p, step)
  local list = writes(p)
  for i, w in ipairs(list) do
    local opts = one_pass(w.fields[1], p.width) or {}
    local lock, secret_lock = nil, false
    if i == #list then lock, secret_lock = lock_option(p) end
    opts.lock = lock
    local ok, err, code = target:otp_write(w.offset, w.bytes, next(opts) and opts or nil)
    local e = w.fields[1]
    if not ok and e.secret then return secret_failure(target, e, err, code) end
    if not ok and secret_lock then err = M.redact(err) end
    if not ok then
      local names = {}
      for k, f in ipairs(w.fields) do names[k] = f.name end
      return nil, string.format("writing field%s '%s'%s: %s", #names > 1 and "s" or "", table.concat(names, "', '"),
        lock and " and locking" or "", err), code
    end
    for _, l in ipairs(lock and p.locks or {}) do l.locked_by_burn = l.status == "lock" or nil end
    for _, f in ipairs(w.fields) do step("write:" .. f.name) end
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
-- lock byte at a time (rule 4), then read all lock bytes back. A block the
-- last write of plan.burn locked in its flash session is not locked again;
-- its step still comes here, and the read-back below still covers it. Each lock
-- passes the whole block as it must read back (`expect`): stotp.core locks
-- a block it did not itself write and verify in this session (a board
-- completed after a crash) only against the caller's statement of it.
function M.lock(target, p, step)
  for _, l in ipairs(p.locks) do
    if l.status == "lock" and not l.locked_by_burn then
      local ok, err, code = target:otp_lock({ l.block }, { expect = { [l.block] = l.expect }, width = p.width })
      if not ok then
        return nil, string.format("locking block %d: %s", l.block, l.secret and M.redact(err) or err), code
      end
    end
    if l.status == "lock" then step("lock:" .. l.block) end
  end
  local locks, err, code = target:otp_locks()
  if not locks then return nil, "reading lock bytes: " .. tostring(err), code end
  for _, l in ipairs(p.locks) do
    if not locks[l.block + 1] then return nil, string.format("block %d reads back unlocked", l.block), "verify" end
  end
  return true
end

return M
