-- stotp.journal: the serial pool and the audit record, over LuaSQL.
-- SQLite (a file path) is the embedded default; "postgresql://..." lets
-- several stations share one pool.
--
-- Invariants, each enforced by the database, not only by this code:
--   * a board (product, uid) has one record: PRIMARY KEY (product, uid);
--   * a serial belongs to at most one board: UNIQUE (product, serial); a
--     recipe without a serial pool draws none (serial NULL, keyed by UID);
--   * a MAC address (from_serial) belongs to at most one board of any
--     product: stotp_macs PRIMARY KEY (mac), written before any burn;
--   * a serial is bound to a UID in a committed transaction before any
--     byte is burned (reserve), and stays bound whatever happens next, so a
--     board that crashed gets its own serial back on the rerun;
--   * reservations are serialised: SQLite BEGIN IMMEDIATE (takes the write
--     lock at once; busy_timeout makes a second station wait, not fail),
--     PostgreSQL an exclusive table lock for the transaction.
-- Records hold key fingerprints, never keys.

local try_mod = require("stotp.try")
local try, protect = try_mod.try, try_mod.protect

local M = {}

M.STATES = { reserved = true, burned = true, verified = true, locked = true, failed = true }
-- States only an event takes, never a record. "burning": the first field
-- of a burn is in OTP (committed after the first otp_write that succeeded,
-- before the next one), so a burn cut short and then recorded only as
-- "failed" still says that this UID's chip can never be blank again.
-- "cut": a write went out (a program command reached the probe) and the
-- board could not be read back, so the chip may hold the record or
-- nothing: a blank chip with this UID is refused unless the operator says
-- it is that very board (provision --after-cut).
M.NOTES = { burning = true, cut = true }

-- Schema 2: serial nullable, stotp_macs. A journal of schema 1 (serial NOT
-- NULL, no MAC table) is refused rather than half used.
M.SCHEMA_VERSION = 2
local SCHEMA = {
  [[CREATE TABLE IF NOT EXISTS stotp_boards (
      product TEXT NOT NULL, uid TEXT NOT NULL, serial BIGINT,
      state TEXT NOT NULL, reason TEXT, part TEXT, payload_sha256 TEXT,
      key_fingerprints TEXT, probe_serial TEXT, station TEXT, tool_version TEXT,
      created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
      PRIMARY KEY (product, uid), UNIQUE (product, serial))]],
  [[CREATE TABLE IF NOT EXISTS stotp_events (
      product TEXT NOT NULL, uid TEXT NOT NULL, serial BIGINT,
      state TEXT NOT NULL, reason TEXT, station TEXT, at BIGINT NOT NULL)]],
  [[CREATE TABLE IF NOT EXISTS stotp_macs (
      mac BIGINT NOT NULL PRIMARY KEY, product TEXT NOT NULL, uid TEXT NOT NULL, field TEXT NOT NULL)]],
  [[CREATE TABLE IF NOT EXISTS stotp_schema (version INTEGER NOT NULL)]],
  -- Added without a version change: older journals gain them on open.
  require("stotp.escrow").SCHEMA,
  -- peek counts the events' serials too; additive, so schema 2 still.
  [[CREATE INDEX IF NOT EXISTS stotp_events_serial ON stotp_events (product, serial)]],
}

local Journal = {}
Journal.__index = Journal
Journal.__tostring = function(j) return "stotp.journal: " .. j.where end

local function is_pg(url) return url:find("^postgres") ~= nil end

local function unpercent(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Issue 7 item 8: a PostgreSQL URL may carry a password, as userinfo
-- (user:pw@, the userinfo ending at the last @ of the authority) or as a
-- query parameter (?password=, &password= later, the key itself
-- percent-encoded: libpq decodes keys and values, libpq-connect "Connection
-- URIs"; sslpassword too). Returns the URL without any of them, for every
-- message, and the passwords, raw and decoded, to scrub from libpq's own
-- error text: it quotes a bad percent-encoding ("invalid percent-encoded
-- token") and, for a host it cannot parse, the whole URI.
local function split_secrets(url)
  local scheme, rest = url:match("^(%a[%w+.-]*://)(.*)$")
  if not scheme then return url, {} end
  local secrets = {}
  local function secret(v)
    if v ~= "" then secrets[#secrets + 1], secrets[#secrets + 2] = v, unpercent(v) end
  end
  local q = rest:find("?", 1, true)
  local pre, query = rest:sub(1, (q or 0) - 1), q and rest:sub(q + 1) or nil
  local userinfo, hostpath = pre:match("^(.*)@(.*)$")
  if userinfo then
    local user = userinfo:match("^[^:]*")
    secret(userinfo:sub(#user + 2))
    pre = (user ~= "" and user .. "@" or "") .. hostpath
  end
  local kept = {}
  for param in (query or ""):gmatch("[^&]+") do
    local key = param:match("^[^=]*")
    if unpercent(key):lower():find("password", 1, true) then secret(param:sub(#key + 2))
    else kept[#kept + 1] = param end
  end
  table.sort(secrets, function(a, b) return #a > #b end)
  return scheme .. pre .. (kept[1] and "?" .. table.concat(kept, "&") or ""), secrets
end

local function scrub(text, secrets)
  text = tostring(text)
  for _, v in ipairs(secrets) do
    local out, at = {}, 1
    while true do
      local i, j = text:find(v, at, true)
      if not i then break end
      out[#out + 1] = text:sub(at, i - 1) .. "***"
      at = j + 1
    end
    text = table.concat(out) .. text:sub(at)
  end
  return text
end

-- Execute a statement (a cursor it returns, e.g. for a PRAGMA, is closed:
-- LuaSQL will not close a connection with open cursors). Returns true or
-- nil, message, "journal".
function Journal:exec(sql, keep)
  local res, err = self.conn:execute(sql)
  if not res and self.pg and not self.in_tx then res, err = self:again(sql, err) end
  if not res then
    -- SQLite says "unable to open database file" for a directory it can no
    -- longer write its rollback journal in: the cause, named (issue 13).
    local cause
    if not (self.pg or self.ephemeral) then cause = select(2, M.check_writable(self.where)) end
    -- libpq's text runs over several lines (and ends in one): one line.
    local text = scrub(err, self.secrets):gsub("%s*\n%s*", " "):gsub("%s+$", "")
    return nil, "journal " .. self.where .. ": " .. text .. (cause and " (" .. cause .. ")" or ""), "journal"
  end
  if keep then return res end
  if type(res) ~= "number" then res:close() end
  return true
end

-- Issue 13 item 4: a PostgreSQL session ends under a station that holds it
-- (the server restarted, an administrator or the network cut it), and its
-- next statement fails ("server closed the connection unexpectedly",
-- "terminating connection due to administrator command"). A statement
-- outside a transaction, BEGIN included, is tried once more on a new
-- session when the old one no longer answers SELECT 1; a statement inside
-- a transaction never is (the transaction is gone with the session: it
-- fails, rolled back, and the caller's step with it). Returns what
-- execute returns.
function Journal:again(sql, err)
  local alive = self.conn:execute("SELECT 1")
  if alive then
    if type(alive) ~= "number" then alive:close() end
    return nil, err
  end
  local conn, cerr = self.env:connect(self.dsn)
  -- Without a new session the old one stays: every later call fails with
  -- the journal's own message, none raises on a closed connection.
  if not conn then return nil, tostring(err):gsub("%s+$", "") .. "; a new session failed too: " .. tostring(cerr) end
  pcall(self.conn.close, self.conn)
  self.conn = conn
  return conn:execute(sql)
end

function Journal:q(v)
  if v == nil then return "NULL" end
  if math.type(v) == "integer" then return tostring(v) end
  return "'" .. self.conn:escape(tostring(v)) .. "'"
end

-- Every row of a query, or nil, message, "journal".
Journal.rows = protect(function(self, sql)
  local cur = try(self:exec(sql, true))
  local out = {}
  while true do
    local row = cur:fetch({}, "a")
    if not row then break end
    out[#out + 1] = row
  end
  cur:close()
  return out
end)

function Journal:begin(schema)
  if self.pg then
    try(self:exec("BEGIN"))
    self.in_tx = true
    -- The schema step runs before the table may exist: an advisory lock
    -- keeps two stations from creating it at once.
    if schema then return self:exec("SELECT pg_advisory_xact_lock(7401)") end
    return self:exec("LOCK TABLE stotp_boards IN EXCLUSIVE MODE")
  end
  return self:exec("BEGIN IMMEDIATE")
end

-- Run fn inside a transaction, the journal's protect: fn's steps use
-- try, and its results are committed when the first is not nil. A failure
-- (one fn raised through try, or returned as nil, msg, code) rolls back
-- and comes back as nil, msg, code; any other error rolls back and raises.
function Journal:transaction(fn, schema)
  local ok, err, code = protect(self.begin)(self, schema)
  if not ok then
    self:rollback()
    return nil, err, code
  end
  local r = table.pack(pcall(fn))
  if r[1] and r[2] ~= nil then
    local c, cerr, ccode = self:exec("COMMIT")
    self.in_tx = false
    if not c then self:rollback(); return nil, cerr, ccode end
    return table.unpack(r, 2, r.n)
  end
  self:rollback()
  if not r[1] then
    local msg, fcode = try_mod.failure(r[2])
    if msg then return nil, msg, fcode end
    error(r[2], 0)
  end
  return table.unpack(r, 2, r.n)
end

-- ROLLBACK, never tried again on a new session (there is nothing to roll
-- back there).
function Journal:rollback()
  self.in_tx = true
  self:exec("ROLLBACK")
  self.in_tx = false
end

-- Roll back a transaction that an error raised outside transaction()'s
-- pcall left open (Ctrl-C between BEGIN and COMMIT): the connection can
-- then take the next one. Without an open transaction it does nothing.
function Journal:abort()
  if self.conn then pcall(self.conn.execute, self.conn, "ROLLBACK") end
  self.in_tx = false
end

local function normalise(row)
  if not row then return nil end
  for _, k in ipairs({ "serial", "created_at", "updated_at" }) do
    local n = tonumber(row[k])
    row[k] = n and math.tointeger(n)
  end
  local fps = {}
  for name, fp in (row.key_fingerprints or ""):gmatch("([%w_]+)=([%w:]+)") do fps[name] = fp end
  row.key_fingerprints = fps
  return row
end

local function encode_fps(fps)
  local t = {}
  for name, fp in pairs(fps or {}) do t[#t + 1] = name .. "=" .. fp end
  table.sort(t)
  return table.concat(t, ",")
end

-- The board's record, false when it has none, or nil, message, code.
Journal.find = protect(function(self, uid)
  local rows = try(self:rows(string.format("SELECT * FROM stotp_boards WHERE product = %s AND uid = %s",
    self:q(self.product), self:q(uid))))
  return normalise(rows[1]) or false
end)

-- The serial a new board would get now (dry runs; nothing is reserved;
-- reserve takes the same one inside its transaction); false when the
-- recipe draws no serials. A serial is used once any record or event of
-- this product names it: the events outlive a row someone deleted. Issue
-- 7 item 13: the serial after the highest used one in the pool, in order;
-- once that passes `last` (or a pool moved below the used serials), the
-- lowest free one in the pool; exhausted only when none is free.
Journal.peek = protect(function(self)
  if not self.serials then return false end
  local first, last = self.serials.first, self.serials.last
  local used = string.format("SELECT serial AS s FROM stotp_boards WHERE product = %s AND serial BETWEEN %d AND %d " ..
    "UNION SELECT serial FROM stotp_events WHERE product = %s AND serial BETWEEN %d AND %d",
    self:q(self.product), first, last, self:q(self.product), first, last)
  local rows = try(self:rows("SELECT MAX(s) AS m FROM (" .. used .. ") u"))
  local max = rows[1] and math.tointeger(tonumber(rows[1].m))
  local nxt = max and max + 1 or first
  if nxt > last then
    rows = try(self:rows(string.format("WITH used AS (%s) SELECT MIN(c) AS n FROM (SELECT %d AS c UNION ALL " ..
      "SELECT s + 1 FROM used) cand WHERE c <= %d AND c NOT IN (SELECT s FROM used)", used, first, last)))
    nxt = rows[1] and math.tointeger(tonumber(rows[1].n))
  end
  if not nxt then
    return nil, string.format("serial pool %d..%d of product %s is exhausted: every serial in it is bound to a board " ..
      "in journal %s; give the recipe a new range (serials = { first = ..., last = ... })", first, last, self.product,
      self.where), "pool"
  end
  return nxt
end)

-- The furthest a burn of this board ever got ("locked", "verified",
-- "burned", "burning": begun; "cut": perhaps begun) by the events, which
-- keep the history a record's later "failed" hides; false when no byte of
-- it was ever burned.
local PROGRESS = { cut = -1, burning = 0, burned = 1, verified = 2, locked = 3 }
Journal.burned_state = protect(function(self, uid)
  local rows = try(self:rows(string.format("SELECT DISTINCT state FROM stotp_events WHERE product = %s AND " ..
    "uid = %s AND state IN ('cut', 'burning', 'burned', 'verified', 'locked')", self:q(self.product), self:q(uid))))
  local best = false
  for _, r in ipairs(rows) do
    if not best or PROGRESS[r.state] > PROGRESS[best] then best = r.state end
  end
  return best
end)

function Journal:event(uid, serial, state, reason, now)
  return self:exec(string.format("INSERT INTO stotp_events VALUES (%s, %s, %s, %s, %s, %s, %d)", self:q(self.product),
    self:q(uid), self:q(serial), self:q(state), self:q(reason), self:q(self.station), now))
end

-- Bind a serial to `uid`: the board's own record if it has one, else the
-- next serial of the pool, committed before this returns.
-- info = { part=, probe_serial=, tool_version=, now= (created_at: the time
-- the plan used; default now) }. Returns record, is_new.
function Journal:reserve(uid, info)
  return self:transaction(function()
    local rec = try(self:find(uid))
    if rec then return rec, false end
    local serial = try(self:peek())
    local now = math.tointeger(info.now) or os.time()
    try(self:exec(string.format(
      "INSERT INTO stotp_boards (product, uid, serial, state, part, probe_serial, station, tool_version, " ..
      "created_at, updated_at) VALUES (%s, %s, %s, 'reserved', %s, %s, %s, %s, %d, %d)",
      self:q(self.product), self:q(uid), self:q(serial or nil), self:q(info.part), self:q(info.probe_serial),
      self:q(self.station), self:q(info.tool_version), now, now)))
    try(self:event(uid, serial, "reserved", nil, now))
    return try(self:find(uid)), true
  end)
end

local function mac_text(n)
  local b = string.pack(">I6", n)
  return (b:gsub(".", function(c) return string.format("%02X:", c:byte()) end):sub(1, -2))
end

-- Bind the board's MAC addresses (macs = { [field] = integer }) to it:
-- its old bindings are replaced, another board's are refused.
-- Inside a transaction: raises its failures (try).
function Journal:bind_macs(uid, macs)
  try(self:exec(string.format("DELETE FROM stotp_macs WHERE product = %s AND uid = %s", self:q(self.product),
    self:q(uid))))
  local names = {}
  for name in pairs(macs) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local rows = try(self:rows("SELECT product, uid FROM stotp_macs WHERE mac = " .. macs[name]))
    if rows[1] then
      try_mod.fail(string.format("MAC %s (field '%s') already belongs to UID %s of %s in journal %s", mac_text(macs[name]),
        name, rows[1].uid, rows[1].product, self.where), "journal")
    end
    try(self:exec(string.format("INSERT INTO stotp_macs VALUES (%d, %s, %s, %s)", macs[name], self:q(self.product),
      self:q(uid), self:q(name))))
  end
end

-- Move a record on: t = { state=, reason=, payload_sha256=, key_fingerprints=,
-- probe_serial=, tool_version=, macs= } (absent keys keep their value).
function Journal:update(uid, t)
  if t.state and not M.STATES[t.state] then error("unknown journal state " .. tostring(t.state), 2) end
  return self:transaction(function()
    local rec = try(self:find(uid))
    if not rec then try_mod.fail("no journal record for UID " .. uid, "journal") end
    local now, sets = os.time(), {}
    for _, k in ipairs({ "state", "reason", "payload_sha256", "probe_serial", "tool_version", "station", "part" }) do
      if t[k] ~= nil then sets[#sets + 1] = k .. " = " .. self:q(t[k]) end
    end
    -- A board that moves on from a failure (recovered, then verified or
    -- locked) shows no old reason as its current one; the events keep it.
    if t.state and t.state ~= "failed" and t.reason == nil then sets[#sets + 1] = "reason = NULL" end
    if t.key_fingerprints then sets[#sets + 1] = "key_fingerprints = " .. self:q(encode_fps(t.key_fingerprints)) end
    sets[#sets + 1] = "updated_at = " .. now
    try(self:exec(string.format("UPDATE stotp_boards SET %s WHERE product = %s AND uid = %s", table.concat(sets, ", "),
      self:q(self.product), self:q(uid))))
    if t.macs then self:bind_macs(uid, t.macs) end
    if t.state then try(self:event(uid, rec.serial, t.state, t.reason, now)) end
    return true
  end)
end

-- An event that changes no record (M.NOTES), with the record's serial,
-- committed before this returns: true, or nil, message, code.
function Journal:note(uid, state, reason)
  if not M.NOTES[state] then error("unknown journal note " .. tostring(state), 2) end
  return self:transaction(function()
    local rec = try(self:find(uid))
    if not rec then try_mod.fail("no journal record for UID " .. uid, "journal") end
    try(self:event(uid, rec.serial, state, reason, os.time()))
    return true
  end)
end

Journal.all = protect(function(self)
  local rows = try(self:rows(string.format("SELECT * FROM stotp_boards WHERE product = %s ORDER BY serial, uid",
    self:q(self.product))))
  for i, r in ipairs(rows) do rows[i] = normalise(r) end
  return rows
end)

function Journal:close()
  if self.conn then self.conn:close(); self.env:close(); self.conn = nil end
end
Journal.__close, Journal.__gc = Journal.close, Journal.close

local function connect(url, where, secrets)
  if is_pg(url) then
    local ok, driver = pcall(require, "luasql.postgres")
    if not ok then return nil, "PostgreSQL journal needs lua-sql-postgres (Debian package)", "journal" end
    local env = driver.postgres()
    -- libpq takes a URI where a database name is expected (PQsetdbLogin).
    local conn, err = env:connect(url)
    if not conn then
      env:close()
      return nil, "cannot open journal " .. where .. ": " .. scrub(err, secrets):gsub("%s+$", ""), "journal"
    end
    return env, conn
  end
  local env = require("luasql.sqlite3").sqlite3()
  local conn, err = env:connect(url)
  if not conn then env:close(); return nil, "cannot open journal " .. url .. ": " .. tostring(err), "journal" end
  return env, conn
end

function Journal:has_table(name)
  local sql = self.pg and ("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema() " ..
    "AND table_name = " .. self:q(name)) or ("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = " ..
    self:q(name))
  return tonumber(try(self:rows(sql))[1].n) > 0
end

-- Create the tables, or check that an existing journal has this schema
-- (inside open's transaction: raises its failures).
function Journal:schema()
  local boards, versioned = self:has_table("stotp_boards"), self:has_table("stotp_schema")
  if boards and not versioned then
    try_mod.fail(string.format("journal %s was made by an earlier stotp (schema 1: serial NOT NULL, no MAC table); " ..
      "keep it as a record and start a new journal, or copy its rows into one made by this stotp", self.where), "journal")
  end
  for _, sql in ipairs(SCHEMA) do try(self:exec(sql)) end
  local rows = try(self:rows("SELECT version FROM stotp_schema"))
  if not rows[1] then return try(self:exec("INSERT INTO stotp_schema VALUES (" .. M.SCHEMA_VERSION .. ")")) end
  if tonumber(rows[1].version) ~= M.SCHEMA_VERSION then
    try_mod.fail(string.format("journal %s has schema %s; this stotp reads schema %d", self.where, rows[1].version,
      M.SCHEMA_VERSION), "journal")
  end
  return true
end

local function volatile(name, why)
  return nil, string.format("journal %q %s: the serials and MACs it binds would be lost, and the next board would " ..
    "draw them again; give an SQLite file path or a postgresql:// URL", name, why), "config"
end

-- Issue 7 item 3: a journal must outlive the run, or two boards get one
-- serial. LuaSQL's sqlite3 driver hands the name to sqlite3_open_v2, and
-- Debian's SQLite takes URIs there (SQLITE_USE_URI): "" is a temporary
-- database deleted at close, ":memory:" (blanks around it too, as tried
-- with lua-sql-sqlite3 2.6 / SQLite 3.40), "file::memory:",
-- "file:x?mode=memory" and "file:x?vfs=memdb" live in memory. A URI is
-- refused whole rather than parsed: a plain path says the same thing.
-- Returns true, or nil, message, "config".
function M.check_name(url)
  if type(url) ~= "string" then error("journal name must be a string", 2) end
  if is_pg(url) then return true end
  local bare = url:match("^%s*(.-)%s*$")
  if bare == "" then return volatile(url, "is SQLite's temporary database, deleted when the run ends") end
  if bare == ":memory:" then return volatile(url, "is SQLite's in-memory database, gone when the run ends") end
  if bare:lower():find("^file:") then return volatile(url, "is an SQLite URI") end
  return true
end

-- Without a shell or luaposix: a directory is writable when a file can be
-- made in it (made and removed at once), a file when it opens for update
-- ("r+" neither creates nor truncates).
local function dir_writable(d)
  local name = string.format("%s/.stotp-write-test-%d-%d", d, os.time(), math.random(1 << 30))
  local f = io.open(name, "wb")
  if not f then return false end
  f:close()
  os.remove(name)
  return true
end

local function file_writable(path)
  local f = io.open(path, "r+b")
  if not f then return false end
  f:close()
  return true
end

-- Issue 7 item 14: a journal SQLite cannot write, named by its cause
-- rather than by SQLite's "attempt to write a readonly database" or
-- "unable to open database file" half-way through a run. SQLite creates
-- the file, and its rollback journal (<file>-journal) beside it on every
-- write transaction, so the directory must be writable, not only the file.
-- `what` names the file in the message (a PostgreSQL URL passes). Returns
-- true, or nil, message, code.
function M.check_writable(path, what, code)
  if is_pg(path) then return true end
  what = what or "the journal " .. path .. " cannot be created or updated there"
  local d = path:match("^(.*)/[^/]*$") or "."
  if d == "" then d = "/" end
  if not dir_writable(d) then return nil, string.format("directory %s is not writable: %s", d, what), code or "journal" end
  local f = io.open(path, "rb")
  if f then
    f:close()
    if not file_writable(path) then return nil, string.format("file %s is not writable: %s", path, what), code or "journal" end
  end
  return true
end

-- Whatever the name said, the database SQLite opened must be a file.
Journal.persists = protect(function(self, name)
  for _, r in ipairs(try(self:rows("PRAGMA database_list"))) do
    if r.name == "main" and (r.file or "") ~= "" then return true end
  end
  return volatile(name, "is not a file")
end)

-- opts = { product=, serials={first,last} (nil: draw none), station=, readonly= }.
-- readonly: a dry run; a journal file that does not exist is not created
-- (returns an empty in-memory journal instead, with j.ephemeral set).
function M.open(url, opts)
  local ok0, err0, code0 = M.check_name(url)
  if not ok0 then return nil, err0, code0 end
  local where, secrets = url, {}
  if is_pg(url) then where, secrets = split_secrets(url) end
  local name, ephemeral = url, false
  if opts.readonly and not is_pg(url) then
    local f = io.open(url, "rb")
    if f then f:close() else url, ephemeral = ":memory:", true end
  else
    local ok, err, code = M.check_writable(url)
    if not ok then return nil, err, code end
  end
  local env, conn, code = connect(url, where, secrets)
  if not env then return nil, conn, code end
  local j = setmetatable({ env = env, conn = conn, pg = is_pg(url), where = where, secrets = secrets, dsn = url,
    product = opts.product, serials = opts.serials, station = opts.station, ephemeral = ephemeral }, Journal)
  if not j.pg then
    local ok, err, c = j:exec("PRAGMA busy_timeout = 60000")
    if ok and not ephemeral then ok, err, c = j:persists(name) end
    if not ok then j:close(); return nil, err, c end
  end
  local ok, err, c = j:transaction(function() return j:schema() end, true)
  if not ok then j:close(); return nil, err, c end
  return j
end

return M
