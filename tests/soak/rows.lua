-- The journal's rows as the soak reads them: straight SQL through LuaSQL,
-- not stotp.journal, so the check does not share the code it checks.
-- An SQLite reader waits for a station's commit (busy_timeout, as
-- stotp.journal sets it): without it a read that meets the write lock in
-- LuaSQL's fetch ends as "no rows", and a record seems to be missing.
local M = {}

local function sleep(s) os.execute("sleep " .. s) end

-- One connection per journal, kept between queries (a PostgreSQL
-- connection is a server process started; an SQLite one opens the file and
-- sets its busy timeout): every read is one autocommit statement whose
-- cursor is read to its end and closed, so no read holds a lock between
-- two queries.
local open = {}

local function connect(url)
  if open[url] then return open[url] end
  local env, conn
  if url:find("^postgres") then
    env = require("luasql.postgres").postgres()
    conn = assert(env:connect(url))
  else
    env = require("luasql.sqlite3").sqlite3()
    conn = assert(env:connect(url))
    local cur = assert(conn:execute("PRAGMA busy_timeout = 60000"))
    if type(cur) ~= "number" then cur:close() end
  end
  open[url] = { env = env, conn = conn }
  return open[url]
end

local function drop(url)
  local c = open[url]
  open[url] = nil
  if c then
    pcall(c.conn.close, c.conn)
    pcall(c.env.close, c.env)
  end
end

local function query(url, sql)
  local last
  for _ = 1, 50 do
    local conn = connect(url).conn
    local cur, err = conn:execute(sql)
    if cur then
      local out, row = {}, cur:fetch({}, "a")
      while row do
        out[#out + 1] = row
        row = cur:fetch({}, "a")
      end
      cur:close()
      return out
    end
    drop(url)
    last = err
    -- A journal no station has opened yet has no tables: no rows.
    if tostring(err):find("no such table") or tostring(err):find("does not exist") then return {} end
    sleep(0.05)
  end
  error("soak: cannot read the journal " .. url .. ": " .. tostring(last))
end

--- The journal's connection closed (a PostgreSQL server about to stop).
M.close = drop

local function q(s) return "'" .. s:gsub("'", "''") .. "'" end

--- { uid, serial (number or nil), state } of one board, or nil.
function M.record(url, product, uid)
  local r = query(url, "SELECT uid, serial, state FROM stotp_boards WHERE product = " .. q(product) ..
    " AND uid = " .. q(uid))[1]
  if r then r.serial = tonumber(r.serial) end
  return r
end

--- The records of `product` other than `uid`'s that hold `serial`.
function M.others_with_serial(url, product, serial, uid)
  local rows = query(url, "SELECT uid, serial, state FROM stotp_boards WHERE product = " .. q(product) ..
    " AND serial = " .. math.tointeger(serial) .. " AND uid <> " .. q(uid))
  for _, r in ipairs(rows) do r.serial = tonumber(r.serial) end
  return rows
end

--- The notes (events) of one board that say a burn began or perhaps
--- began: { cut = n, burning = n }.
function M.notes(url, product, uid)
  local n = { cut = 0, burning = 0 }
  for _, r in ipairs(query(url, "SELECT state FROM stotp_events WHERE product = " .. q(product) .. " AND uid = " ..
      q(uid) .. " AND state IN ('cut', 'burning')")) do
    n[r.state] = n[r.state] + 1
  end
  return n
end

--- Every board record of the product.
function M.all(url, product)
  local rows = query(url, "SELECT uid, serial, state FROM stotp_boards WHERE product = " .. q(product))
  for _, r in ipairs(rows) do r.serial = tonumber(r.serial) end
  return rows
end

--- Every MAC binding: { mac = number, uid }.
function M.macs(url)
  local rows = query(url, "SELECT mac, uid FROM stotp_macs")
  for _, r in ipairs(rows) do r.mac = math.tointeger(tonumber(r.mac)) end
  return rows
end

return M
