-- The seeded soak (tests/soak/, README "Soak"): its invariants, one row
-- per way a board or the journal can be wrong, and a short soak run.
-- CI runs the longer one with `make soak`.
-- tests/soak/ is on the path only while its modules load: busted runs
-- every spec file in one process, and a later spec's require must not
-- find them.
local saved_path = package.path
package.path = "tests/soak/?.lua;" .. package.path
local model = require("model")
local inv = require("invariants")
package.path = saved_path
local json = require("dkjson")
local testfiles = require("testfiles")

local BLANK = ("\255"):rep(512)
local FREE = ("\255"):rep(16)

-- A board image as model.read_image gives it: block 0 = `b0`, locks.
local function board(b0, lock0)
  return { uid = "11005E00114F343835383134", otp = b0 .. BLANK:sub(#b0 + 1),
    lock = (lock0 or "\255") .. FREE:sub(2) }
end

describe("soak model", function()
  it("plans the bytes stotp burns for serial 100000 (README transcript)", function()
    assert.equal("434E4553A086010003" .. "0280E1000000" .. "C2E028C3", model.hex(model.planned(100000)):upper())
  end)

  it("reads the serial and MAC back from a whole block 0 only", function()
    local img = board((model.planned(100005)))
    assert.same({ 100005, 0x0280E1000005 }, { model.identity(img) })
    assert.is_nil(model.identity(board((model.planned(100005)):sub(1, 15))))
  end)
end)

describe("soak invariants", function()
  local plan = model.planned(100000)
  local rec = function(state) return { uid = "11005E00114F343835383134", serial = 100000, state = state } end
  local half = plan:sub(1, 8) .. BLANK:sub(1, 11)

  it("accept a blank board, a half-burned one with its record, and a complete locked one", function()
    assert.is_nil(inv.board(board(""), nil))
    assert.is_nil(inv.board(board(half), rec("failed")))
    assert.is_nil(inv.final(board(plan, "\0"), rec("locked"), 100000))
  end)

  local rows = {
    { "a bit cleared that the plan keeps", board(plan:sub(1, 18) .. "\0"), rec("burned"), "bits cleared that the plan" },
    { "a byte written outside the plan", board(plan .. "\0"), rec("burned"), "OTP byte 19 is 00" },
    { "a touched board without a record", board(half), nil, "OTP touched but the journal has no record" },
    { "a locked block whose data differs", board(half, "\0"), rec("failed"), "locked (lock byte 00) but its data differs" },
    { "another block locked", (function()
      local b = board(plan, "\0")
      b.lock = "\0\0" .. FREE:sub(3)
      return b
    end)(), rec("locked"), "lock byte 1 is 00" },
    { "a verified board that differs", board(half), rec("verified"), "calls the board verified but block 0 differs" },
    { "a locked board whose lock byte is not written", board(plan), rec("locked"), "lock byte 0 is FF" },
    { "a locked record of a blank board", board(""), rec("locked"), "calls the board locked but its OTP is blank" },
    { "a state stotp does not have", board(""), rec("done"), "journal state 'done'" },
  }
  for _, row in ipairs(rows) do
    it("report " .. row[1], function()
      local why = inv.board(row[2], row[3])
      assert.is_string(why)
      assert.truthy(why:find(row[4], 1, true), why)
    end)
  end

  it("report a rerun that completed a board with another serial", function()
    local img = board(model.planned(100001), "\0")
    local r = { uid = img.uid, serial = 100001, state = "locked" }
    assert.equal("rerun gave serial 100001, the interrupted run had 100000", inv.final(img, r, 100000))
  end)

  it("report a rerun that left the board unlocked", function()
    assert.equal("journal state after the closing rerun is verified", inv.final(board(plan), rec("verified"), 100000))
  end)

  local A, B = "11005E00114F343835383134", "12007F000454363230373933"
  local function img(uid, serial)
    local b = board(model.planned(serial), "\0")
    b.uid = uid
    return b
  end
  local globals = {
    { "a serial recorded for two UIDs", { [A] = img(A, 100000), [B] = img(B, 100001) },
      { { uid = A, serial = 100000, state = "locked" }, { uid = B, serial = 100000, state = "locked" } }, {},
      "serial 100000 recorded for two UIDs" },
    { "a MAC bound to two UIDs", { [A] = img(A, 100000), [B] = img(B, 100001) },
      { { uid = A, serial = 100000, state = "locked" }, { uid = B, serial = 100001, state = "locked" } },
      { { mac = 0x0280E1000000, uid = A }, { mac = 0x0280E1000000, uid = B } }, "MAC 0280E1000000 bound to two UIDs" },
    { "a serial burned on two chips", { [A] = img(A, 100000), [B] = img(B, 100000) },
      { { uid = A, serial = 100000, state = "locked" } }, {}, "serial 100000 burned on two UIDs" },
    { "a journal record of a board the soak never made", { [A] = img(A, 100000) },
      { { uid = A, serial = 100000, state = "locked" }, { uid = B, serial = 100001, state = "reserved" } }, {},
      "a record of UID " .. B .. ", which is none of the soak's boards" },
  }
  for _, row in ipairs(globals) do
    it("report " .. row[1] .. " at the end", function()
      local why = inv.global(row[2], row[3], row[4])
      assert.is_string(why)
      assert.truthy(why:find(row[5], 1, true), why)
    end)
  end
end)

describe("make soak", function()
  local dir
  before_each(function() dir = testfiles.tmpdir("stotp-soakspec") end)
  after_each(function() os.execute("rm -rf " .. testfiles.quote(dir)) end)

  local function soak(args)
    local p = assert(io.popen("lua5.4 tests/soak/soak.lua DIR=" .. dir .. "/w SUMMARY=" .. dir .. "/s.json " ..
      args .. " 2>&1"))
    local out = p:read("a")
    local ok, _, code = p:close()
    local f = io.open(dir .. "/s.json")
    local summary = f and json.decode(f:read("a"))
    if f then f:close() end
    return ok and 0 or code, out, summary
  end

  it("provisions boards under faults on two stations with no violation", function()
    local code, out, s = soak("SEED=3 STATIONS=2 BOARDS=12 JOURNALS=sqlite")
    assert.equal(0, code, out)
    assert.is_true(s.boards >= 12, out)
    assert.is_true(s.fault_runs >= 8, out)
    assert.equal(0, s.violations)
    assert.truthy(out:find("end check of %d+ board images against the journal: ok"), out)
  end)

  -- The processes still running whose command line names `path`.
  local function running_in(path)
    -- without `make check`'s preloaded ASan runtime, under which procps's
    -- ps was seen to hang for good in a futex wait
    local p = assert(io.popen("env -u LD_PRELOAD ps -eo args"))
    local n = 0
    for line in p:lines() do if line:find(path, 1, true) and not line:find("^ps ") then n = n + 1 end end
    p:close()
    return n
  end

  it("provisions boards under faults through `stotp station` with no violation, and stops its stations", function()
    local code, out, s = soak("SEED=7 STATIONS=2 BOARDS=10 JOURNALS=sqlite DRIVERS=provision,station")
    assert.equal(0, code, out)
    assert.is_true(s.drivers.station >= 5, out)
    assert.is_true(s.drivers.provision >= 5, out)
    assert.is_true(s.fault_runs >= 6, out)
    assert.equal(0, s.violations)
    assert.truthy(out:find("end check of %d+ board images against the journal: ok"), out)
    -- every board of the station driver went through a station's log
    local log = testfiles.slurp(dir .. "/w/sqlite/s2/clean/station.log")
    assert.truthy(log and log:find("%] OK serial"), log)
    assert.equal(0, running_in(dir .. "/w/"))
  end)

  -- The `tamper` drivers clear a bit the plan keeps on every board they run.
  for _, driver in ipairs({ "tamper", "tamper-station" }) do
    it("stops at a broken invariant (driver " .. driver .. ") and names the seed, board and drivers that reproduce " ..
      "it, its stations stopped", function()
      local code, out, s = soak("SEED=4 STATIONS=1 BOARDS=3 JOURNALS=sqlite DRIVERS=" .. driver)
      assert.equal(1, code, out)
      assert.equal(1, s.violations)
      assert.truthy(out:find("VIOLATION at station 1 board 0: [^\n]*OTP byte 40 is FE", 1), out)
      assert.truthy(out:find("reproduce: make soak SEED=4 STATIONS=1 BOARDS=3 DRIVERS=" .. driver .. " ONLY=1:0", 1,
        true), out)
      assert.equal(0, running_in(dir .. "/w/"))
    end)
  end

  it("refuses a driver it does not know", function()
    local code, out = soak("SEED=3 BOARDS=1 DRIVERS=provision,frob")
    assert.equal(2, code)
    assert.truthy(out:find("DRIVERS lists provision, station", 1, true), out)
  end)

  it("refuses arguments it does not know", function()
    local code, out = soak("SEEDS=3 BOARDS=1")
    assert.equal(2, code)
    assert.truthy(out:find("arguments are NAME=value", 1, true), out)
  end)
end)
