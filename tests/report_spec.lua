-- `stotp report` (the journal as CSV or JSON) and `stotp journal copy`
-- (SQLite <-> PostgreSQL, refusing collisions), through the command.
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")
local pg_server = require("pg_server")
local slurp = testfiles.slurp

-- Three boards of sensor-mac in one journal: dir/j.db.
local function three_boards(dir)
  local cfg = station.copy_example(dir, "sensor-mac.cfg")
  local uids = {}
  for i = 1, 3 do
    local code, out, err = station.provision(dir, cfg .. " --sim " .. dir .. "/b" .. i .. ".img --journal " .. dir ..
      "/j.db --station line-" .. i .. " --yes --json")
    assert(code == 0, err)
    uids[i] = dkjson.decode(out).uid
  end
  return cfg, uids
end

local function report(dir, args)
  local code, out, err = station.stotp(dir, "report " .. args)
  return code, out, err
end

describe("stotp report", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("exports every board with MACs as text, ISO 8601 times and --sim boards marked simulated", function()
    local cfg, uids = three_boards(dir)
    local code, out, err = report(dir, cfg .. " --journal " .. dir .. "/j.db --format json")
    assert.equal(0, code, err)
    local rows = dkjson.decode(out)
    assert.equal(3, #rows)
    for i, r in ipairs(rows) do
      assert.same({ "sensor-mac", uids[i], 99999 + i, "locked", "line-" .. i, true, (require("stotp.version")) },
        { r.product, r.uid, r.serial, r.state, r.station, r.simulated, r.tool_version })
      assert.equal(string.format("mac=02:80:E1:00:00:%02X", i - 1), r.macs)
      assert.truthy(r.created_at:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), r.created_at)
      assert.truthy(r.probe_serial:find("^sim:%x+$"), r.probe_serial)
      assert.truthy(r.payload_sha256:find("^%x+$"))
    end
    local ccode, csv = report(dir, "--journal " .. dir .. "/j.db")
    assert.equal(0, ccode)
    local lines = {}
    for l in csv:gmatch("([^\r\n]+)\r\n") do lines[#lines + 1] = l end
    assert.equal("product,uid,serial,macs,state,reason,part,station,probe_serial,simulated,tool_version,created_at," ..
      "updated_at,payload_sha256,key_fingerprints", lines[1])
    assert.equal(4, #lines)
    assert.truthy(lines[2]:find("^sensor%-mac," .. uids[1] .. ",100000,mac=02:80:E1:00:00:00,locked,,"), lines[2])
  end)

  it("filters by state and by time", function()
    local cfg = three_boards(dir)
    local env = require("luasql.sqlite3").sqlite3()
    local conn = assert(env:connect(dir .. "/j.db"))
    assert(conn:execute("UPDATE stotp_boards SET state = 'failed', updated_at = 1000000000 WHERE serial = 100001"))
    conn:close()
    env:close()
    local _, out = report(dir, cfg .. " --journal " .. dir .. "/j.db --format json --state failed")
    local rows = dkjson.decode(out)
    assert.same({ 1, 100001, "2001-09-09T01:46:40Z" }, { #rows, rows[1].serial, rows[1].updated_at })
    _, out = report(dir, "--journal " .. dir .. "/j.db --format json --since 2002-01-01")
    assert.equal(2, #dkjson.decode(out))
    _, out = report(dir, "--journal " .. dir .. "/j.db --format json --until 2001-09-09T01:46:41Z")
    assert.equal(100001, dkjson.decode(out)[1].serial)
  end)

  local bad = {
    { "a journal that does not exist", "--journal DIR/none.db", 2, "journal error: journal DIR/none.db does not exist" },
    { "a PostgreSQL server that is down", "--journal postgresql://stotp:s3cret@127.0.0.1:1/x", 1, "journal error" },
    { "an empty journal", "--journal DIR/empty.db", 1, "no board in journal DIR/empty.db matches" },
    { "a misspelt state", "--journal DIR/empty.db --state lockd", 2, "unknown state 'lockd' (did you mean 'locked'?)" },
    { "a time that is no date", "--journal DIR/empty.db --since yesterday", 2, "--since yesterday is not a date" },
    { "neither CONFIG nor --journal", "", 2, "give a CONFIG or --journal PATH" },
  }
  for _, b in ipairs(bad) do
    it("says so clearly on " .. b[1] .. ": exit " .. b[3] .. ", nothing created", function()
      local jr = require("stotp.journal").open(dir .. "/empty.db", { product = "x" })
      jr:close()
      local before = slurp(dir .. "/empty.db")
      local code, out, err = report(dir, (b[2]:gsub("DIR", dir)))
      assert.equal(b[3], code)
      assert.truthy(err:find((b[4]:gsub("DIR", dir)), 1, true), err)
      assert.falsy(err:find("s3cret", 1, true))
      assert.falsy(out:find("\n.", 1))
      assert.is_nil(io.open(dir .. "/none.db"))
      assert.equal(before, slurp(dir .. "/empty.db"))
    end)
  end
end)

describe("stotp journal copy", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("copies a journal with its records, events and MACs; the next board continues the serials", function()
    local cfg = three_boards(dir)
    local code, out, err = station.stotp(dir, "journal copy " .. dir .. "/j.db " .. dir .. "/k.db")
    assert.equal(0, code, err)
    assert.equal("copied 3 boards, 15 events, 3 macs, 0 escrow from " .. dir .. "/j.db to " .. dir .. "/k.db\n", out)
    local _, a = report(dir, "--journal " .. dir .. "/j.db")
    local _, b = report(dir, "--journal " .. dir .. "/k.db")
    assert.equal(a, b)
    local pcode, pout = station.provision(dir, cfg .. " --sim " .. dir .. "/b4.img --journal " .. dir .. "/k.db --yes --json")
    assert.equal(0, pcode)
    assert.equal(100003, dkjson.decode(pout).serial)
  end)

  it("refuses to merge a journal whose serials or MACs would collide: exit 1, target unchanged", function()
    local cfg = three_boards(dir)
    -- another journal that gave serial 100000 and its MAC to another board
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. dir .. "/x.img --journal " .. dir .. "/o.db --yes")))
    local before = slurp(dir .. "/j.db")
    local code, out, err = station.stotp(dir, "journal copy " .. dir .. "/o.db " .. dir .. "/j.db")
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("product sensor-mac serial 100000 is already bound to UID", 1, true), err)
    assert.truthy(err:find("MAC 02:80:E1:00:00:00 is already bound to UID", 1, true), err)
    assert.truthy(err:find("nothing copied", 1, true))
    assert.equal(before, slurp(dir .. "/j.db"))
  end)

  it("refuses a FROM that does not exist, and FROM = TO: exit 2, nothing created", function()
    local code, _, err = station.stotp(dir, "journal copy " .. dir .. "/none.db " .. dir .. "/k.db")
    assert.equal(2, code)
    assert.truthy(err:find("journal " .. dir .. "/none.db does not exist", 1, true), err)
    assert.is_nil(io.open(dir .. "/k.db"))
    code, _, err = station.stotp(dir, "journal copy " .. dir .. "/k.db " .. dir .. "/k.db")
    assert.equal(2, code)
    assert.truthy(err:find("FROM and TO are the same journal", 1, true), err)
  end)

  describe("with PostgreSQL", function()
    local server, why = pg_server.start()
    if not server then
      pending("skipped: " .. why)
      return
    end
    teardown(function() pg_server.stop(server) end)

    it("moves a journal from SQLite to PostgreSQL and back with serials, MACs and events intact", function()
      three_boards(dir)
      local code, _, err = station.stotp(dir, "journal copy " .. dir .. "/j.db " .. server.url)
      assert.equal(0, code, err)
      code, _, err = station.stotp(dir, "journal copy " .. server.url .. " " .. dir .. "/back.db")
      assert.equal(0, code, err)
      local _, a = report(dir, "--journal " .. dir .. "/j.db")
      local _, p = report(dir, "--journal " .. server.url)
      local _, b = report(dir, "--journal " .. dir .. "/back.db")
      assert.equal(a, p)
      assert.equal(a, b)
      assert.equal(station.journal_text(dir .. "/j.db"):len(), station.journal_text(dir .. "/back.db"):len())
      code, _, err = station.stotp(dir, "journal copy " .. dir .. "/j.db " .. server.url)
      assert.equal(1, code)
      assert.truthy(err:find("already recorded", 1, true), err)
    end)
  end)
end)
