-- stotp.journal: serial pool and audit records, SQLite and PostgreSQL.
local journal = require("stotp.journal")
local pg_server = require("pg_server")

local ROOT = io.popen("pwd"):read("l")

local function tmp()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d))
  return d
end

-- A worker process: reserves serials for `n` UIDs named <tag><i>.
local WORKER = [[
package.path = "%s/lua/?.lua;" .. package.path
local j = assert(require("stotp.journal").open(arg[1], { product = "p", serials = { first = 1, last = 1000 }, station = arg[2] }))
for i = 1, tonumber(arg[3]) do assert(j:reserve(arg[2] .. i, { part = "stm32f429zi" })) end
j:close()
]]

-- Two (or more) processes reserving at the same time against one journal.
local function race(dir, url, tags, n)
  local script = dir .. "/worker.lua"
  local f = assert(io.open(script, "w"))
  f:write(WORKER:format(ROOT))
  f:close()
  local cmds = {}
  for _, tag in ipairs(tags) do
    cmds[#cmds + 1] = string.format("lua5.4 %s '%s' %s %d || echo FAIL", script, url, tag, n)
  end
  local p = io.popen("(" .. table.concat(cmds, " & ") .. " & wait) 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

local function check_race(url, dir, tags, n)
  local out = race(dir, url, tags, n)
  assert.equal("", out)
  local j = assert(journal.open(url, { product = "p", serials = { first = 1, last = 1000 } }))
  local rows = j:all()
  j:close()
  local serials, uids = {}, {}
  for i, r in ipairs(rows) do
    serials[i] = r.serial
    assert.is_nil(uids[r.uid])
    uids[r.uid] = true
  end
  local want = {}
  for i = 1, #tags * n do want[i] = i end
  assert.same(want, serials)
end

describe("stotp.journal", function()
  local dir, j
  before_each(function()
    dir = tmp()
    j = assert(journal.open(dir .. "/j.db", { product = "p", serials = { first = 100, last = 102 }, station = "st1" }))
  end)
  after_each(function()
    j:close()
    os.execute("rm -rf " .. dir)
  end)

  it("hands out consecutive serials from the first and keeps each UID's own", function()
    local a, new_a = j:reserve("AA", { part = "stm32f429zi", probe_serial = "sim:x", tool_version = "t" })
    local b = j:reserve("BB", {})
    local a2, new_a2 = j:reserve("AA", {})
    assert.same({ 100, true, 101, 100, false }, { a.serial, new_a, b.serial, a2.serial, new_a2 })
    assert.same({ "reserved", "stm32f429zi", "sim:x", "t", "st1" }, { a.state, a.part, a.probe_serial, a.tool_version, a.station })
  end)

  it("says when the pool is exhausted and reserves nothing more", function()
    for _, u in ipairs({ "A", "B", "C" }) do assert(j:reserve(u, {})) end
    assert.same({ nil, "serial pool 100..102 of product p is exhausted: every serial in it is bound to a board in " ..
      "journal " .. dir .. "/j.db; give the recipe a new range (serials = { first = ..., last = ... })", "pool" },
      { j:reserve("D", {}) })
    assert.same({ nil, "pool" }, { j:peek(), select(3, j:peek()) })
    assert.same(false, j:find("D"))
  end)

  -- Issue 7 item 13: what peek shows is what reserve gives, and neither is
  -- ever a serial the journal saw on a board.
  it("never shows or gives a serial the events show on a board whose row is gone", function()
    assert(j:reserve("AA", {}))
    assert(j:update("AA", { state = "burned" }))
    assert(j:exec("DELETE FROM stotp_boards WHERE uid = 'AA'"))
    assert.equal(101, j:peek())
    assert.equal(101, j:reserve("BB", {}).serial)
  end)

  -- A journal on <dir>/<file> with the pool first..last; next_is: what
  -- peek shows is what reserve then gives.
  local function pool(file, first, last)
    return assert(journal.open(dir .. "/" .. file, { product = "p", serials = { first = first, last = last } }))
  end
  local function next_is(jj, uid, n) assert.same({ n, n }, { jj:peek(), jj:reserve(uid, {}).serial }) end

  it("gives the free serials of a pool moved below the serials used, lowest first, then says it is exhausted", function()
    local big = pool("m.db", 500, 599)
    next_is(big, "A", 500)
    big:close()
    local low = pool("m.db", 50, 51)
    next_is(low, "C", 50)
    next_is(low, "D", 51)
    assert.same({ nil, "pool" }, { low:peek(), select(3, low:peek()) })
    low:close()
    local wide = pool("m.db", 50, 500)
    next_is(wide, "E", 52)
    wide:close()
  end)

  it("keeps handing out serials in order after the highest one used in the pool", function()
    local raised = pool("j.db", 101, 110)
    next_is(raised, "A", 101)
    raised:close()
    local back = pool("j.db", 100, 110)
    next_is(back, "B", 102)
    back:close()
  end)

  it("moves a record through its states and keeps an event for each", function()
    assert(j:reserve("AA", {}))
    assert.is_true(j:update("AA", { payload_sha256 = "ab", key_fingerprints = { k = "sha256:0011", z = "sha256:22" } }))
    for _, s in ipairs({ "burned", "verified", "locked" }) do assert.is_true(j:update("AA", { state = s })) end
    local r = j:find("AA")
    assert.same({ "locked", "ab", { k = "sha256:0011", z = "sha256:22" } }, { r.state, r.payload_sha256, r.key_fingerprints })
    local ev = j:rows("SELECT state FROM stotp_events WHERE uid = 'AA' ORDER BY rowid")
    local states = {}
    for i, e in ipairs(ev) do states[i] = e.state end
    assert.same({ "reserved", "burned", "verified", "locked" }, states)
    assert.has_error(function() j:update("AA", { state = "done" }) end)
  end)

  it("lets the database refuse a second UID for one serial", function()
    assert(j:reserve("AA", {}))
    local ok, err, code = j:exec("INSERT INTO stotp_boards (product, uid, serial, state, created_at, updated_at) " ..
      "VALUES ('p', 'ZZ', 100, 'reserved', 0, 0)")
    assert.same({ nil, "journal", true }, { ok, code, err:find("UNIQUE constraint failed: stotp_boards.product, " ..
      "stotp_boards.serial", 1, true) ~= nil }, err)
  end)

  it("lets the database refuse a second board for one MAC address, of any product", function()
    assert(j:reserve("AA", {}))
    assert.is_true(j:update("AA", { macs = { mac = 0x0280E1000001 } }))
    assert.is_true(j:update("AA", { macs = { mac = 0x0280E1000001 } })) -- the same board again
    local ok, err, code = j:exec("INSERT INTO stotp_macs VALUES (" .. 0x0280E1000001 .. ", 'q', 'ZZ', 'mac')")
    assert.same({ nil, "journal", true }, { ok, code, err:find("UNIQUE constraint failed: stotp_macs.mac", 1, true) ~= nil },
      err)
    assert(j:reserve("BB", {}))
    assert.same({ nil, "MAC 02:80:E1:00:00:01 (field 'mac') already belongs to UID AA of p in journal " .. dir .. "/j.db",
      "journal" }, { j:update("BB", { macs = { mac = 0x0280E1000001 } }) })
  end)

  it("draws no serial for a recipe without a pool, and keys the record by UID", function()
    local u = assert(journal.open(dir .. "/u.db", { product = "u" }))
    local a, new = u:reserve("AA", {})
    local b = u:reserve("BB", {})
    assert.same({ nil, true, nil, 2, false }, { a.serial, new, b.serial, #u:all(), u:peek() })
    assert.is_true(u:update("AA", { state = "locked" }))
    assert.equal("locked", u:find("AA").state)
    u:close()
  end)

  it("refuses a journal made by an earlier stotp instead of half using it", function()
    local old = dir .. "/old.db"
    local env = require("luasql.sqlite3").sqlite3()
    local conn = env:connect(old)
    assert(conn:execute("CREATE TABLE stotp_boards (product TEXT NOT NULL, uid TEXT NOT NULL, serial BIGINT NOT NULL, " ..
      "state TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)"))
    conn:close()
    env:close()
    assert.same({ nil, "journal " .. old .. " was made by an earlier stotp (schema 1: serial NOT NULL, no MAC table); " ..
      "keep it as a record and start a new journal, or copy its rows into one made by this stotp", "journal" },
      { journal.open(old, { product = "p" }) })
  end)

  it("peeks without reserving, and a read-only open creates no file", function()
    assert.equal(100, j:peek())
    assert.equal(100, j:peek())
    local ro = assert(journal.open(dir .. "/none.db", { product = "p", serials = { first = 7, last = 9 }, readonly = true }))
    assert.equal(7, ro:peek())
    ro:close()
    assert.is_nil(io.open(dir .. "/none.db"))
  end)

  it("never gives one serial to two processes reserving at once (SQLite)", function()
    check_race(dir .. "/race.db", dir, { "A", "B", "C" }, 15)
  end)
end)

-- Issue 9 item 6: every statement of every journal call can fail (a
-- connection cut, a dropped table, a full disk); the call then returns
-- nil, "journal <where>: <why>", "journal", never raises, and leaves the
-- journal as it was. The connection is wrapped so that its Nth execute
-- fails; N runs from 1 until the call goes through untouched.
local function cut_at(j, n)
  local real, count = j.conn, 0
  j.conn = setmetatable({
    execute = function(_, sql)
      count = count + 1
      if count == n then return nil, "connection cut at statement " .. n end
      return real:execute(sql)
    end,
  }, { __index = function(_, k) return function(_, ...) return real[k](real, ...) end end })
  return function()
    j.conn = real
    return count
  end
end

local function snapshot(j)
  local out = {}
  for _, t in ipairs({ "stotp_boards", "stotp_events", "stotp_macs" }) do
    local rows = assert(j:rows("SELECT * FROM " .. t))
    local lines = {}
    for i, r in ipairs(rows) do
      local kv = {}
      for k, v in pairs(r) do kv[#kv + 1] = k .. "=" .. tostring(v) end
      table.sort(kv)
      lines[i] = table.concat(kv, " ")
    end
    table.sort(lines)
    out[t] = lines
  end
  return out
end

describe("stotp.journal when a statement fails", function()
  local calls = {
    { "reserve of a new UID", function(j) return j:reserve("BB", { part = "stm32f429zi" }) end },
    { "reserve of a known UID", function(j) return j:reserve("AA", {}) end },
    { "update with a state and MACs", function(j) return j:update("AA", { state = "burned", macs = { mac = 42 } }) end },
    { "peek", function(j) return j:peek() end },
    { "find", function(j) return j:find("AA") end },
    { "burned_state", function(j) return j:burned_state("AA") end },
    { "all", function(j) return j:all() end },
  }
  for _, c in ipairs(calls) do
    it("returns the failure of any statement of " .. c[1] .. ", and changes nothing", function()
      local dir = tmp()
      local path = dir .. "/j.db"
      local j = assert(journal.open(path, { product = "p", serials = { first = 1, last = 9 } }))
      assert(j:reserve("AA", {}))
      local n = 0
      repeat
        n = n + 1
        local before = snapshot(j)
        local restore = cut_at(j, n)
        local r = table.pack(pcall(c[2], j))
        local count = restore()
        if count < n then break end
        assert.same({ true, nil, "journal " .. path .. ": connection cut at statement " .. n, "journal" },
          { r[1], r[2], r[3], r[4] }, "statement " .. n)
        assert.same(before, snapshot(j), "statement " .. n)
      until n > 50
      j:close()
      os.execute("rm -rf " .. dir)
      assert.is_true(n > 1 and n <= 50)
    end)
  end
end)

-- Issue 7 item 8: a password in a PostgreSQL URL appears in no message,
-- libpq's own error text included (it echoes a bad percent-encoding, or the
-- whole URI when it cannot parse a host).
local PW_FORMS = {
  { "userinfo", "postgresql://stotp:s3cretPW@HOST/postgres" },
  { "?password=", "postgresql://stotp@HOST/postgres?password=s3cretPW" },
  { "&password= later in the query", "postgresql://stotp@HOST/postgres?sslmode=disable&password=s3cretPW" },
  { "a percent-encoded key", "postgresql://stotp@HOST/postgres?pass%77ord=s3cretPW" },
  { "a percent-encoded value", "postgresql://stotp:%733cret%50W@HOST/postgres" },
}
local PW_BAD = {
  { "a bad percent-encoding in userinfo", "postgresql://stotp:s3cret%zzPW@HOST/postgres" },
  { "a bad percent-encoding in the query", "postgresql://stotp@HOST/postgres?password=s3cret%zzPW" },
  { "a second = in the query", "postgresql://stotp@HOST/postgres?password=s3cret=PW" },
  { "an unparsable host", "postgresql://stotp:s3cretPW@[::1:1/postgres" },
}

local function no_secret(text)
  for _, form in ipairs({ "s3cret", "%733cret", "%50W", "cret%zz", "cret=PW", "cretPW" }) do
    assert.falsy(text:find(form, 1, true), "'" .. form .. "' in: " .. text)
  end
end

describe("stotp.journal on PostgreSQL", function()
  local server, why = pg_server.start()
  if not server then
    pending("PostgreSQL journal specs skipped: " .. why)
    return
  end
  teardown(function() pg_server.stop(server) end)

  it("never gives one serial to two processes reserving at once", function()
    local dir = tmp()
    check_race(server.url, dir, { "A", "B", "C" }, 15)
    os.execute("rm -rf " .. dir)
  end)

  it("keeps a UID's serial across connections", function()
    local j1 = assert(journal.open(server.url, { product = "q", serials = { first = 5, last = 9 } }))
    local j2 = assert(journal.open(server.url, { product = "q", serials = { first = 5, last = 9 } }))
    assert.equal(5, j1:reserve("U1", {}).serial)
    assert.equal(5, j2:reserve("U1", {}).serial)
    assert.equal(6, j2:reserve("U2", {}).serial)
    j1:close()
    j2:close()
  end)

  for _, f in ipairs(PW_FORMS) do
    it("connects with a password given as " .. f[1] .. " and names the journal without it", function()
      local url = f[2]:gsub("HOST", "127.0.0.1:" .. server.port)
      local j = assert(journal.open(url, { product = "pw" }))
      local ok, err, code = j:exec("SELEC 1")
      j:close()
      assert.same({ nil, "journal" }, { ok, code })
      assert.truthy(err:find("journal postgresql://stotp@127.0.0.1:" .. server.port .. "/postgres", 1, true), err)
      assert.truthy(err:find("syntax error", 1, true), err)
      no_secret(err)
      no_secret(tostring(j))
      no_secret(j.where)
    end)
  end
  it("keeps the password out of a database error on open", function()
    local ok, err = journal.open("postgresql://stotp:s3cretPW@127.0.0.1:" .. server.port .. "/nodb", { product = "p" })
    assert.is_nil(ok)
    assert.truthy(err:find('database "nodb" does not exist', 1, true), err)
    no_secret(err)
  end)
end)

describe("stotp.journal names", function()
  local names = {
    { "", "is SQLite's temporary database, deleted when the run ends" },
    { ":memory:", "is SQLite's in-memory database, gone when the run ends" },
    { "\t:memory:\n", "is SQLite's in-memory database, gone when the run ends", label = ":memory: in blanks" },
    { "file::memory:", "is an SQLite URI" },
    { "file:x.db?mode=memory&cache=shared", "is an SQLite URI" },
    { "file:/tmp/m?vfs=memdb", "is an SQLite URI" },
  }
  for _, n in ipairs(names) do
    it(string.format("refuses to open %s, a journal that would not persist, and creates nothing", n.label or
      string.format("%q", n[1])), function()
      local before = io.popen("ls -A"):read("a")
      local want = string.format("journal %q %s: the serials and MACs it binds would be lost, and the next board " ..
        "would draw them again; give an SQLite file path or a postgresql:// URL", n[1], n[2])
      assert.same({ nil, want, "config" }, { journal.check_name(n[1]) })
      assert.same({ nil, want, "config" }, { journal.open(n[1], { product = "p" }) })
      assert.same({ nil, want, "config" }, { journal.open(n[1], { product = "p", readonly = true }) })
      assert.equal(before, io.popen("ls -A"):read("a"))
    end)
  end
end)

describe("stotp.journal PostgreSQL passwords", function()
  if not pcall(require, "luasql.postgres") then
    pending("lua-sql-postgres is not installed")
    return
  end
  for _, f in ipairs(PW_FORMS) do
    it("keeps a password given as " .. f[1] .. " out of the message when the server is down", function()
      local ok, err, code = journal.open(f[2]:gsub("HOST", "127.0.0.1:1"), { product = "p" })
      assert.same({ nil, "journal" }, { ok, code })
      assert.truthy(err:find("cannot open journal postgresql://stotp@127.0.0.1:1/postgres", 1, true), err)
      assert.truthy(err:find("Connection refused", 1, true), err)
      no_secret(err)
    end)
  end
  for _, f in ipairs(PW_BAD) do
    it("keeps a password out of libpq's own error text on " .. f[1], function()
      local ok, err, code = journal.open(f[2]:gsub("HOST", "127.0.0.1:1"), { product = "p" })
      assert.same({ nil, "journal" }, { ok, code })
      assert.truthy(err:find("cannot open journal postgresql://stotp@", 1, true), err)
      no_secret(err)
    end)
  end
end)
