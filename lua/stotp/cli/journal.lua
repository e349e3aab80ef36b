-- stotp.cli.journal: journal tools. `stotp journal copy FROM TO` moves a
-- journal between SQLite and PostgreSQL (either way) with every board
-- record, event, MAC and escrowed key intact. It merges into an existing
-- journal only when nothing would collide: a UID, a serial of the same
-- product or a MAC the target already holds refuses the whole copy, and
-- nothing is written (one transaction). Exit 0 copied, 1 refused or
-- failed, 2 usage error (FROM missing, FROM = TO).

local argparse = require("argparse")
local common = require("stotp.cli.common")
local report = require("stotp.cli.report")

local M = {}

-- Copied in this order: a board before its events, MACs and keys.
M.TABLES = { "stotp_boards", "stotp_events", "stotp_macs", "stotp_escrow" }

local function parser(prog)
  local p = argparse(prog, "Journal tools."):add_help(false)
  p:argument("action", "copy: copy journal FROM into journal TO."):choices({ "copy" })
  p:argument("from", "The journal to copy: an SQLite file or postgresql://... URL.")
  p:argument("to", "The journal to copy into (created when absent; merged only when nothing collides).")
  return common.finish_parser(p, "Exit status: 0 copied; 1 refused (a collision) or failed, nothing written; " ..
    "2 usage error.")
end

local function dump(j)
  local all = {}
  for _, t in ipairs(M.TABLES) do
    local rows, err, code = j:rows("SELECT * FROM " .. t)
    if not rows then return nil, err, code end
    all[t] = rows
  end
  return all
end

-- What in `src` the journal `dst` already holds: the collisions, as text.
local function collisions(src, dst)
  local out, uids, serials, macs = {}, {}, {}, {}
  for _, b in ipairs(dst.stotp_boards) do
    uids[b.product .. "\0" .. b.uid] = true
    if b.serial then serials[b.product .. "\0" .. tostring(b.serial)] = b.uid end
  end
  for _, m in ipairs(dst.stotp_macs) do macs[tostring(m.mac)] = m.uid end
  for _, b in ipairs(src.stotp_boards) do
    if uids[b.product .. "\0" .. b.uid] then
      out[#out + 1] = string.format("product %s UID %s is already recorded", b.product, b.uid)
    elseif b.serial and serials[b.product .. "\0" .. tostring(b.serial)] then
      out[#out + 1] = string.format("product %s serial %s is already bound to UID %s", b.product, b.serial,
        serials[b.product .. "\0" .. tostring(b.serial)])
    end
  end
  for _, m in ipairs(src.stotp_macs) do
    if macs[tostring(m.mac)] then
      out[#out + 1] = string.format("MAC %s is already bound to UID %s", report.mac_text(m.mac), macs[tostring(m.mac)])
    end
  end
  return out
end

local function insert(j, t, row)
  local cols, vals = {}, {}
  for k, v in pairs(row) do
    cols[#cols + 1] = k
    -- Numbers as integers (an SQLite driver may give 5e6 as 5000000.0,
    -- which PostgreSQL would refuse for a BIGINT); text quoted as text,
    -- which both databases convert for an integer column.
    vals[#vals + 1] = j:q(type(v) == "number" and math.tointeger(v) or v)
  end
  return j:exec(string.format("INSERT INTO %s (%s) VALUES (%s)", t, table.concat(cols, ", "), table.concat(vals, ", ")))
end

local function copy(from, to)
  local src, err, code = dump(from)
  if not src then return nil, err, code end
  return to:transaction(function()
    local dst, derr, dcode = dump(to)
    if not dst then return nil, derr, dcode end
    local clash = collisions(src, dst)
    if #clash > 0 then
      return nil, string.format("journal %s already holds what journal %s records (%d collision(s)): %s; nothing " ..
        "copied", to.where, from.where, #clash, table.concat(clash, "; ", 1, math.min(#clash, 10)) ..
        (#clash > 10 and string.format("; and %d more", #clash - 10) or "")), "collision"
    end
    local n = {}
    for _, t in ipairs(M.TABLES) do
      for _, row in ipairs(src[t]) do
        local ok, ierr, icode = insert(to, t, row)
        if not ok then return nil, ierr, icode end
      end
      n[#n + 1] = string.format("%d %s", #src[t], t:gsub("^stotp_", ""))
    end
    return table.concat(n, ", ")
  end)
end

local function main(d, argv)
  local args, code = common.args(d, parser(d.prog), argv, false, function(a)
    if a.from == a.to then return "FROM and TO are the same journal" end
  end)
  if not args then return code end
  local from, err, ecode = report.open_existing(d, args.from)
  if not from then return common.early(d, false, ecode == "missing" and common.USAGE or common.REFUSED, "journal error",
    err) end
  local to, terr = d.journal.open(args.to, {})
  if not to then
    from:close()
    return common.early(d, false, common.REFUSED, "journal error", terr)
  end
  local what, cerr = copy(from, to)
  from:close()
  to:close()
  if not what then return common.early(d, false, common.REFUSED, "refused", cerr) end
  d.out:write(string.format("copied %s from %s to %s\n", what, from.where, to.where))
  return common.OK
end

M.main = common.command(main)

return M
