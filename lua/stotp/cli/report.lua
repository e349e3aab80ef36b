-- stotp.cli.report: `stotp report [CONFIG] [--journal PATH]`, the journal
-- as CSV or JSON, one row per board: MACs as text, times as ISO 8601 UTC,
-- boards a --sim run recorded marked as simulated. No hand-written SQL.
-- Read-only: a journal that does not exist is an error, never created.
-- Exit 0 rows written, 1 no board matches (as grep) or the journal cannot
-- be read, 2 usage or config error.

local argparse = require("argparse")
local common = require("stotp.cli.common")
local journal_mod = require("stotp.journal")

local M = {}

M.COLUMNS = { "product", "uid", "serial", "macs", "state", "reason", "part", "station", "probe_serial", "simulated",
  "tool_version", "created_at", "updated_at", "payload_sha256", "key_fingerprints" }

local function parser(prog)
  local p = argparse(prog, "Export a journal as CSV or JSON, one row per board.") :add_help(false)
  p:argument("config", "A recipe: its journal and product (or give --journal).") :args("?")
  p:option("--journal", "The journal to export: an SQLite file or postgresql://... URL (every product in it, " ..
    "unless --product)."):argname("PATH")
  p:option("--product", "Only this product's boards."):argname("NAME")
  p:option("--format", "csv or json (default csv)."):choices({ "csv", "json" }):default("csv")
  p:option("--state", "Only boards in this state: reserved, burned, verified, locked or failed."):argname("STATE")
  p:option("--since", "Only boards updated at or after this time (2026-11-29, 2026-11-29T08:00:00Z)."):argname("TIME")
  p:option("--until", "Only boards updated before this time."):argname("TIME")
  return common.finish_parser(p, "Exit status: 0 rows written; 1 no board matches, or the journal cannot be read; " ..
    "2 usage or config error.")
end

-- An ISO 8601 date or UTC time as epoch seconds, or nil.
function M.parse_time(s)
  local y, mo, d, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, sec = 0, 0, 0
  if rest ~= "" then
    h, mi, sec = rest:match("^T(%d%d):(%d%d):(%d%d)Z?$")
    if not h then return nil end
  end
  -- os.time reads local time: a UTC day's epoch is that minus the offset.
  local t = { year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h), min = tonumber(mi),
    sec = tonumber(sec) }
  local utc = os.time(t)
  local back = os.date("!*t", utc)
  back.isdst = false
  return utc + (utc - os.time(back))
end

-- A journal's time as ISO 8601 UTC. A value that is no time (a corrupted
-- row: text, a fraction, a number no date can show) is shown as such,
-- never as the current time and never as a raise (journal_fuzz).
function M.iso(t)
  if t == nil then return nil end
  local n = math.tointeger(tonumber(t))
  local ok, s = pcall(os.date, "!%Y-%m-%dT%H:%M:%SZ", n)
  if n == nil or not ok then return "(not a time: " .. tostring(t) .. ")" end
  return s
end
local iso = M.iso

-- A MAC as 02:80:E1:00:00:00; a stored value that is no 48-bit integer
-- (a corrupted row) is shown as such (journal_fuzz).
function M.mac_text(raw)
  local n = math.tointeger(tonumber(raw))
  if n == nil or n < 0 or n > 0xFFFFFFFFFFFF then return "(not a MAC: " .. tostring(raw) .. ")" end
  local b = {}
  for i = 5, 0, -1 do b[#b + 1] = string.format("%02X", (n >> (8 * i)) & 0xFF) end
  return table.concat(b, ":")
end

-- The rows, filtered; each a table of the COLUMNS.
function M.rows(j, filter)
  local where = {}
  if filter.product then where[#where + 1] = "product = " .. j:q(filter.product) end
  if filter.state then where[#where + 1] = "state = " .. j:q(filter.state) end
  if filter.since then where[#where + 1] = "updated_at >= " .. filter.since end
  if filter["until"] then where[#where + 1] = "updated_at < " .. filter["until"] end
  local boards, err, code = j:rows("SELECT * FROM stotp_boards" .. (#where > 0 and " WHERE " ..
    table.concat(where, " AND ") or "") .. " ORDER BY product, serial, uid")
  if not boards then return nil, err, code end
  local macs, merr, mcode = j:rows("SELECT * FROM stotp_macs ORDER BY field")
  if not macs then return nil, merr, mcode end
  local by = {}
  for _, m in ipairs(macs) do
    local k = m.product .. "\0" .. m.uid
    by[k] = by[k] or {}
    table.insert(by[k], m.field .. "=" .. M.mac_text(m.mac))
  end
  for _, b in ipairs(boards) do
    b.serial = math.tointeger(tonumber(b.serial))
    b.macs = table.concat(by[b.product .. "\0" .. b.uid] or {}, " ")
    b.simulated = (b.probe_serial or ""):find("^sim:") ~= nil
    b.created_at, b.updated_at = iso(b.created_at), iso(b.updated_at)
  end
  return boards
end

local function csv_cell(v)
  if v == nil then return "" end
  v = tostring(v)
  if v:find('[",\n\r]') then return '"' .. v:gsub('"', '""') .. '"' end
  return v
end

function M.csv(rows)
  local lines = { table.concat(M.COLUMNS, ",") }
  for _, r in ipairs(rows) do
    local cells = {}
    for i, c in ipairs(M.COLUMNS) do cells[i] = csv_cell(r[c]) end
    lines[#lines + 1] = table.concat(cells, ",")
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

-- A journal to read: it must exist (a report never creates one).
function M.open_existing(d, path, product)
  local j, err, code = d.journal.open(path, { product = product, readonly = true })
  if not j then return nil, err, code end
  if j.ephemeral then
    j:close()
    return nil, string.format("journal %s does not exist", path), "missing"
  end
  return j
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json, function(a)
    if not a.config and not a.journal then return "give a CONFIG or --journal PATH" end
    if a.state and not journal_mod.STATES[a.state] then
      local states = { "reserved", "burned", "verified", "locked", "failed" }
      local near = common.nearest(a.state, states)
      return string.format("unknown state '%s'%s; the states are %s", a.state, near and " (did you mean '" .. near ..
        "'?)" or "", table.concat(states, ", "))
    end
    for _, k in ipairs({ "since", "until" }) do
      if a[k] and not M.parse_time(a[k]) then return string.format("--%s %s is not a date (2026-11-29) or UTC time " ..
        "(2026-11-29T08:00:00Z)", k, a[k]) end
    end
  end)
  if not args then return code end
  local path, product = args.journal, args.product
  if args.config then
    local recipe
    recipe, code = require("stotp.cli.provision").load_recipe(d, args.config, false)
    if not recipe then return code end
    path, product = path or recipe.journal, product or recipe.product
  end
  local j, err, ecode = M.open_existing(d, path, product)
  if not j then return common.early(d, false, ecode == "missing" and common.USAGE or common.REFUSED, "journal error", err) end
  local rows, rerr = M.rows(j, { product = product, state = args.state, since = args.since and M.parse_time(args.since),
    ["until"] = args["until"] and M.parse_time(args["until"]) })
  j:close()
  if not rows then return common.early(d, false, common.REFUSED, "journal error", rerr) end
  if args.format == "json" then
    d.out:write(require("dkjson").encode(setmetatable(rows, { __jsontype = "array" }), { keyorder = M.COLUMNS }), "\n")
  else
    d.out:write(M.csv(rows))
  end
  if #rows == 0 then
    d.err:write(d.prog, ": no board in journal ", j.where, product and " of product " .. product or "",
      " matches\n")
    return common.REFUSED
  end
  return common.OK
end

M.main = common.command(main)

return M
