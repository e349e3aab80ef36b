-- stotp.cli.read: `stotp read CONFIG`, a board read back in its recipe's
-- terms (as `espefuse.py summary` shows eFuses): a map of the 16 blocks,
-- each field's block, offset, encoder, raw bytes, decoded value and state,
-- CRCs checked against the bytes they cover, keys only as whether their
-- fingerprint matches the journal's, and the journal's record of this UID
-- with every disagreement between board and journal called out.
-- Read-only: it never writes the board, never reserves a serial, never
-- creates a journal or a --sim image. Exit 0 board and journal agree,
-- 1 they disagree (or no board), 2 usage or config error.

local argparse = require("argparse")
local common = require("stotp.cli.common")
local recipe_mod = require("stotp.recipe")
local plan_mod = require("stotp.plan")
local keys = require("stotp.keys")
local fields = require("stotp.fields")
local after = require("stotp.cli.after")
local report = require("stotp.cli.report")

local M = {}
local OK, REFUSED, USAGE = common.OK, common.REFUSED, common.USAGE

local function parser(prog)
  local p = argparse(prog, "Read a board back in the terms of its recipe (board.cfg): the block map, every field " ..
    "decoded, the lock bytes and the journal's record. Writes nothing.") :add_help(false)
  p:argument("config", "The product line's recipe (board.cfg).")
  p:mutex(
    p:option("--probe", "Use the ST-Link with this serial number, or a unique prefix of it."):argname("SERIAL"),
    p:option("--sim", "Read the virtual board kept in this image file (it must exist)."):argname("IMAGE"))
  p:option("--journal", "Journal to compare with instead of the recipe's (with --sim: IMAGE.journal.db)."):argname("PATH")
  after.option(p)
  return common.finish_parser(p, "Exit status: 0 board and journal agree; 1 they disagree (or no board); 2 usage or " ..
    "config error.", true)
end

local function blank(s) return not s:find("[^\xFF]") end

-- The record's times as the journal stores them, shown as `stotp report`
-- shows them: a value that is no time (a corrupted row) as "(not a time:
-- ...)", never a raise. stotp.journal's find reads such a value as nil, so
-- the two columns are read again as stored.
local function times(j, product, uid)
  local rows = j:rows("SELECT created_at, updated_at FROM stotp_boards WHERE product = " .. j:q(product) ..
    " AND uid = " .. j:q(uid))
  local raw = rows and rows[1] or {}
  return report.iso(raw.created_at), report.iso(raw.updated_at)
end

-- The recipe's wanted bytes for this board (plan.build, never burned): with
-- the journal's serial, the keys the journal fingerprinted kept as on the
-- board; without a record, what cannot be computed stays unknown.
local function wanted(recipe, t, otp, locks, rec)
  local ctx = {
    serial = rec and rec.serial, uid_bytes = t.uid_bytes, recorded_payload = rec and rec.payload_sha256,
    now = rec and rec.created_at or os.time(), key_fingerprints = rec and rec.key_fingerprints or {},
    master = function(path) return recipe.master_keys[path] end,
    random_key = function() return nil end,
  }
  local ok, p = pcall(plan_mod.build, recipe, ctx, { otp = otp, locks = locks, block_size = t.otp.block_size })
  local by = {}
  if ok and p then for _, e in ipairs(p.fields) do by[e.name] = e end end
  return by
end

-- One field: { name, block, offset, encoder, raw, value, state, ... }.
local function field_row(recipe, fd, otp, bs, e, rec)
  local off = fd.block * bs + fd.at
  local raw = otp:sub(off + 1, off + fd.size)
  local secret = e and e.secret
  if secret == nil then
    secret = fd.source and fd.source.secret and "key" or false
    for _, name in ipairs(fd.over or {}) do
      local c = recipe.by_name[name]
      if c.source and c.source.secret then secret = secret or "derived" end
    end
  end
  local r = { name = fd.name, block = fd.block, offset = fd.at, encoder = fd.encoder.name }
  if not secret then r.raw, r.value = fields.tohex(raw, " "), (not blank(raw)) and common.decoded(fd.encoder, raw) or nil end
  if blank(raw) then r.state = "blank"
  elseif secret == "key" then
    local want = rec and rec.key_fingerprints and rec.key_fingerprints[fd.name]
    r.state = not want and "written (no fingerprint in the journal)"
      or keys.fingerprint(raw) == want and "as planned" or "differs"
    r.fingerprint_matches = want and keys.fingerprint(raw) == want or nil
  elseif e and e.new and raw == e.new then r.state = "as planned"
  elseif e and e.new then
    local completable = true
    for i = 1, #raw do if e.new:byte(i) & ~raw:byte(i) ~= 0 then completable = false end end
    r.state = completable and "partly written" or "differs"
  else r.state = "written" end
  if fd.over and not blank(raw) then
    local covered = {}
    for i, name in ipairs(fd.over) do
      local c = recipe.by_name[name]
      local co = c.block * bs + c.at
      covered[i] = otp:sub(co + 1, co + c.size)
    end
    r.crc_ok = fd.encoder:encode(table.concat(covered)) == raw
    if not r.crc_ok and r.state == "as planned" then r.state = "differs" end
  end
  return r
end

-- The map: one letter per block. L locked, W written, . blank, ! a field
-- in it differs from the recipe (or is partly written).
local function block_map(otp, locks, bs, rows)
  local map = {}
  for n = 0, 15 do
    local data = otp:sub(n * bs + 1, (n + 1) * bs)
    map[n + 1] = locks[n + 1] and "L" or blank(data) and "." or "W"
  end
  for _, r in ipairs(rows) do
    if r.state == "differs" or r.state == "partly written" or r.crc_ok == false then map[r.block + 1] = "!" end
  end
  return map
end

-- Every way the board and the journal disagree, as sentences.
local function disagreements(recipe, rows, locks, rec)
  local out = {}
  local written = false
  for _, r in ipairs(rows) do
    if r.state ~= "blank" then written = true end
    if r.state == "differs" or r.state == "partly written" then
      out[#out + 1] = string.format("field '%s' %s the journal's plan for this UID", r.name, r.state == "differs" and
        "differs from" or "is only partly written against")
    end
    if r.crc_ok == false then out[#out + 1] = string.format("field '%s': the CRC does not match the bytes it covers", r.name) end
  end
  if not rec then
    if written then out[#out + 1] = "the board holds data but the journal has no record of its UID" end
    return out
  end
  local done = rec.state == "verified" or rec.state == "locked"
  for _, r in ipairs(rows) do
    if done and r.state == "blank" then
      out[#out + 1] = string.format("field '%s' is blank but the journal says %s", r.name, rec.state)
    end
  end
  if rec.state == "locked" then
    for _, n in ipairs(recipe.locks) do
      if not locks[n + 1] then out[#out + 1] = string.format("block %d is not locked but the journal says locked", n) end
    end
  end
  return out
end

local function read_board(d, args, recipe)
  local stotp = d.stotp()
  local opts = args.sim and { sim = args.sim } or { serial = args.probe }
  local probe, perr = common.open_probe(stotp, opts)
  if not probe then return nil, "no board", perr end
  local t, terr = probe:attach()
  if not t then probe:close(); return nil, "no board", "cannot attach to the target: " .. tostring(terr) end
  local board = { probe = probe, target = t }
  if not recipe_mod.accepts(recipe, t.name) then
    return nil, "config error", string.format("the board is a %s, not a part this recipe accepts (%s); nothing read " ..
      "further", t.name, table.concat(recipe.parts, ", ")), board
  end
  local otp, oerr = t:otp_read()
  if not otp then return nil, "failed", "reading OTP: " .. tostring(oerr), board end
  local locks, lerr = t:otp_locks()
  if not locks then return nil, "failed", "reading lock bytes: " .. tostring(lerr), board end
  board.otp, board.locks = otp, locks
  return board
end

-- The board released as --after says (issue 10 item 9: attach halted it),
-- then closed. Returns what the board was left doing.
local function close(d, board, j, how)
  if j then pcall(j.close, j) end
  if not board then return nil end
  local left, warning
  if board.target then
    left, warning = after.release(board.target, how)
    if warning then d.err:write(d.prog, ": ", warning, "\n") end
    pcall(board.target.close, board.target)
  end
  pcall(board.probe.close, board.probe)
  return left
end

local function show(d, res)
  local o = d.out
  o:write(string.format("%s: %s, UID %s, OTP 16 x %d bytes\n", res.product, res.part, res.uid, res.block_size))
  o:write("blocks  ", table.concat({ "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14",
    "15" }, " "):gsub("(%d+)", function(n) return ("%-2s"):format(n) end), "\n")
  o:write("        ", (table.concat(res.block_map, "  ")), "   (L locked, W written, . blank, ! differs)\n")
  for _, r in ipairs(res.fields) do
    local value = r.value ~= nil and tostring(r.value) or r.fingerprint_matches ~= nil and
      ("key: fingerprint " .. (r.fingerprint_matches and "matches the journal" or "DIFFERS from the journal")) or
      r.raw == nil and r.state ~= "blank" and "key (not shown)" or ""
    if r.crc_ok ~= nil then value = value .. (r.crc_ok and "  (CRC ok)" or "  (CRC BAD)") end
    o:write(string.format("  block %2d +%-3d %-12s %-12s %-15s %s%s\n", r.block, r.offset, r.name, r.encoder, r.state,
      r.raw and r.state ~= "blank" and r.raw .. "  " or "", value))
  end
  o:write("locked blocks: ", #res.locked_blocks > 0 and table.concat(res.locked_blocks, ", ") or "none", "\n")
  local j = res.journal
  if j.record then
    local rcd = j.record
    o:write(string.format("journal %s: serial %s, %s%s, station %s, %s\n", j.path, tostring(rcd.serial or "none"),
      rcd.state, rcd.reason and " (" .. rcd.reason .. ")" or "", tostring(rcd.station), tostring(rcd.updated_at)))
  else
    o:write(string.format("journal %s: no record of this UID\n", j.path))
  end
  for _, w in ipairs(res.disagreements) do o:write("DISAGREES: ", w, "\n") end
  o:write(#res.disagreements == 0 and "board and journal agree\n" or "board and journal disagree\n")
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json)
  if not args then return code end
  local recipe
  recipe, code = require("stotp.cli.provision").load_recipe(d, args.config, json)
  if not recipe then return code end
  local fok, ferr = common.check_files(args, recipe, true)
  if fok and args.sim and not io.open(args.sim, "rb") then
    fok, ferr = false, "no --sim image " .. args.sim .. ": read never creates a board"
  end
  if not fok then return common.early(d, json, USAGE, "config error", ferr) end
  local path = common.journal_path(args, recipe)
  local j, jerr = d.journal.open(path, { product = recipe.product, serials = recipe.serials, readonly = true })
  if not j then return common.early(d, json, USAGE, "journal error", jerr) end
  local board, status, why, partial = read_board(d, args, recipe)
  if not board then
    close(d, partial, j, args.after)
    return common.early(d, json, status == "config error" and USAGE or REFUSED, status, why)
  end
  local t = board.target
  local rec, rerr = j:find(t.uid)
  if rec == nil then close(d, board, j, args.after); return common.early(d, json, REFUSED, "journal error", rerr) end
  rec = rec or nil
  local bs = t.otp.block_size
  local want = wanted(recipe, t, board.otp, board.locks, rec)
  local created_at, updated_at
  if rec then created_at, updated_at = times(j, recipe.product, t.uid) end
  local rows = {}
  for _, fd in ipairs(recipe.fields) do rows[#rows + 1] = field_row(recipe, fd, board.otp, bs, want[fd.name], rec) end
  table.sort(rows, function(a, b) return a.block * bs + a.offset < b.block * bs + b.offset end)
  local locked = {}
  for i = 1, 16 do if board.locks[i] then locked[#locked + 1] = i - 1 end end
  local res = { product = recipe.product, part = t.name, uid = t.uid, block_size = bs, fields = rows,
    block_map = block_map(board.otp, board.locks, bs, rows), locked_blocks = setmetatable(locked, { __jsontype = "array" }),
    journal = { path = j.where, exists = not j.ephemeral, record = rec and { serial = rec.serial, state = rec.state,
      reason = rec.reason, station = rec.station, updated_at = updated_at, created_at = created_at,
      key_fingerprints = rec.key_fingerprints } or nil },
    disagreements = setmetatable(disagreements(recipe, rows, board.locks, rec), { __jsontype = "array" }) }
  res.after = close(d, board, j, args.after)
  res.status = #res.disagreements == 0 and "agree" or "disagree"
  if json then common.json_line(d, res) else show(d, res) end
  return #res.disagreements == 0 and OK or REFUSED
end

M.main = common.command(main)

return M
