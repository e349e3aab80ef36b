-- What the fuzzers (tests/fuzz/, README "Fuzzing") found, one spec each,
-- so the fix cannot be undone unseen. Each row is a journal corrupted as
-- the finding's input corrupted it.
local journal = require("stotp.journal")
local report = require("stotp.cli.report")
local testfiles = require("testfiles")
local station = require("station")

local UID = "11005E00114F343835383134"

-- A journal with one board (serial 100000, MAC bound), then `sql` run on it.
local function corrupted(dir, sql)
  local path = dir .. "/j.db"
  local j = assert(journal.open(path, { product = "sensor-mac", serials = { first = 100000, last = 100009 },
    station = "spec" }))
  assert(j:reserve(UID, { part = "STM32F405/407/415/417", probe_serial = "sim:X", tool_version = "t" }))
  assert(j:update(UID, { state = "locked", macs = { mac = 0x0280E1000000 } }))
  j:close()
  local env = require("luasql.sqlite3").sqlite3()
  local conn = assert(env:connect(path))
  assert(conn:execute(sql))
  conn:close()
  env:close()
  return path
end

describe("stotp report on a journal with corrupted rows (journal_fuzz findings)", function()
  local dir
  before_each(function() dir = testfiles.tmpdir("stotp-fuzzreg") end)
  after_each(function() os.execute("rm -rf " .. testfiles.quote(dir)) end)

  local rows = {
    { "a MAC that is not a number", "UPDATE stotp_macs SET mac = 'x'", "macs", "mac=(not a MAC: x)" },
    { "a MAC that is a fraction", "UPDATE stotp_macs SET mac = 1.5", "macs", "mac=(not a MAC: 1.5)" },
    { "a MAC past 48 bits", "UPDATE stotp_macs SET mac = 281474976710656", "macs",
      "mac=(not a MAC: 281474976710656)" },
    { "a time no date can show", "UPDATE stotp_boards SET updated_at = -9223372036854775808", "updated_at",
      "(not a time: -9223372036854775808)" },
    { "a time that is not a number", "UPDATE stotp_boards SET created_at = 'soon'", "created_at",
      "(not a time: soon)" },
  }
  for _, row in ipairs(rows) do
    it("shows " .. row[1] .. " as such instead of failing", function()
      local j = assert(journal.open(corrupted(dir, row[2]), { product = "sensor-mac", readonly = true }))
      local out = assert(report.rows(j, { product = "sensor-mac" }))
      j:close()
      assert.equal(1, #out)
      assert.equal(row[4], out[1][row[3]])
      assert.equal(UID, out[1].uid)
    end)
  end

  it("exits 0 with the row, not 'internal error', from the command", function()
    local path = corrupted(dir, "UPDATE stotp_macs SET mac = 'x'")
    local code, out, err = station.stotp(dir, "report --journal " .. testfiles.quote(path))
    assert.equal("", err)
    assert.equal(0, code)
    assert.truthy(out:find("mac=(not a MAC: x)", 1, true), out)
  end)
end)
