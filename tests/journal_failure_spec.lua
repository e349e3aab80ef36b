-- The journal when a run does not go to plan: a burn cut short (its
-- evidence against a twin chip), the journal's server stopped, restarted
-- or cut at each step of a run, an SQLite file that turns read-only or
-- whose disk fills, and two stations racing for the last serial.
local testfiles = require("testfiles")
local slurp, write = testfiles.slurp, testfiles.spit
local station = require("station")
local journal = require("stotp.journal")
local pg_server = require("pg_server")

local provision, readback = station.provision, station.readback

-- The image of a blank chip with the UID of `image`'s chip: its OTP and
-- lock bytes all FF, nothing else changed.
local function blank_twin(image, twin)
  local text = slurp(image):gsub("\n(otp %x+: )(%x+)", function(pre, hex) return "\n" .. pre .. hex:gsub("%x", "f") end)
  write(twin, (text:gsub("\nlock (%x+)", function(hex) return "\nlock " .. hex:gsub("%x", "f") end)))
end

local function events(path, uid)
  local j = assert(journal.open(path, { product = "sensor-mac" }))
  local rows = assert(j:rows("SELECT state FROM stotp_events WHERE uid = " .. j:q(uid) .. " ORDER BY rowid"))
  j:close()
  local out = {}
  for i, r in ipairs(rows) do out[i] = r.state end
  return out
end

describe("a burn cut short", function()
  local dir, cfg, jpath
  before_each(function()
    dir = testfiles.sandbox()
    cfg = station.copy_example(dir, "sensor-mac.cfg")
    jpath = dir .. "/j.db"
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  -- Issue 7 item 2: a burn cut short (here a cell of the magic that does
  -- not program, vprobe stuck@1:0x01, so the read-back differs) leaves the
  -- record `failed` only; the journal's "burning" event, committed because
  -- the board reads back changed, is the evidence that a chip with this
  -- UID can never be blank again; --after-cut does not lift it.
  it("refuses a blank chip whose UID's burn was cut short, and completes the chip itself", function()
    local img, twin = dir .. "/a.img", dir .. "/twin.img"
    local args = " --journal " .. jpath .. " --yes"
    assert.equal(1, (provision(dir, cfg .. " --sim " .. img .. args, "VPROBE_FAULT=stuck@1:0x01")))
    local uid = readback(dir, img).uid
    blank_twin(img, twin)
    assert.equal(uid, readback(dir, twin).uid)
    local before = slurp(twin)
    local code, out, err = provision(dir, cfg .. " --sim " .. twin .. args)
    assert.equal(1, code, out)
    assert.truthy(err:find("UID " .. uid .. " is recorded in journal " .. jpath .. " as burning (serial 100000), but " ..
      "this chip's OTP fields are all blank: a chip with that UID can never be blank again", 1, true), err)
    assert.equal(before, slurp(twin))
    local code1, _, err1 = provision(dir, cfg .. " --sim " .. twin .. args .. " --after-cut")
    assert.equal(1, code1)
    assert.truthy(err1:find("as burning (serial 100000)", 1, true), err1)
    assert.equal(before, slurp(twin))
    -- the chip cut short is no twin: its rerun completes it
    local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. args)
    assert.equal(0, code2, err2)
    assert.same({ "reserved", "burning", "failed", "burning", "burned", "verified", "locked" }, events(jpath, uid))
  end)

  -- The probe unplugged at each command of a run (vprobe unplug@N): the
  -- board cannot be read back. Before the write's program command went
  -- out nothing is noted and a plain rerun completes the board; from it
  -- on the chip may hold the record or nothing, so the journal notes
  -- "cut", and the chip, blank, is refused until the operator says with
  -- --after-cut that it is that very board.
  it("notes 'cut' when a write went out unread, and burns that UID blank only with --after-cut", function()
    local args = " --journal " .. jpath .. " --yes"
    local plain, cut = 0, 0
    for n = 1, 40 do
      local img = dir .. "/u" .. n .. ".img"
      local code = provision(dir, cfg .. " --sim " .. img .. args, "VPROBE_FAULT=unplug@" .. n)
      if code == 0 then break end
      local b = readback(dir, img)
      local notes = events(jpath, b.uid)
      local blank = b.otp:sub(1, 19) == ("\xFF"):rep(19)
      if notes[#notes] == "failed" and notes[#notes - 1] == "cut" and blank then
        cut = cut + 1
        local before = slurp(img)
        local code1, _, err1 = provision(dir, cfg .. " --sim " .. img .. args)
        assert.equal(1, code1, "unplug@" .. n)
        assert.truthy(err1:find("UID " .. b.uid .. " is noted in journal " .. jpath .. " as cut (serial ", 1, true), err1)
        assert.truthy(err1:find("run it again with --after-cut", 1, true), err1)
        assert.equal(before, slurp(img))
        local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. args .. " --after-cut")
        assert.equal(0, code2, "unplug@" .. n .. ": " .. err2)
      else
        if #notes <= 2 then plain = plain + 1 end -- reserved (or not even that), failed
        local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. args)
        assert.equal(0, code2, "unplug@" .. n .. ": " .. err2)
      end
      assert.equal("1000000000000000", readback(dir, img).locks, "unplug@" .. n)
    end
    assert.is_true(plain >= 5, plain .. " runs failed before the write")
    assert.is_true(cut >= 1, "no run was cut after its program command")
  end)
end)

-- Issue 13 item 4: the journal fails between two of a run's journal calls
-- (its steps: the reservation, the payload record, the "burning" note,
-- the burned, verified and locked records). The run goes in-process
-- (stotp.cli.provision over the real core and a --sim board), with a
-- journal whose Nth call first lets the failure happen.
local provision_cli = require("stotp.cli.provision")
local buffer = require("buffer")
local testenv = require("testenv")
local crc32 = testfiles.crc32

local STEPS = {
  { "reserve", function(name) return name == "reserve" end, blank = true },
  { "record", function(name, t) return name == "update" and t.payload_sha256 ~= nil end, blank = true },
  { "burning", function(name) return name == "note" end },
  { "burned", function(name, t) return name == "update" and t.state == "burned" end },
  { "verified", function(name, t) return name == "update" and t.state == "verified" end },
  { "locked", function(name, t) return name == "update" and t.state == "locked" end },
}

-- stotp.journal, its open giving a journal that calls fail() once, right
-- before the call `fires` picks.
local function failing(fires, fail)
  return { open = function(...)
    local j, err, code = journal.open(...)
    if not j then return nil, err, code end
    local fired = false
    for _, name in ipairs({ "reserve", "update", "note" }) do
      local real = j[name]
      j[name] = function(self, uid, t)
        if not fired and fires(name, t or {}) then
          fired = true
          assert(fail(), "the failure did not happen")
        end
        return real(self, uid, t)
      end
    end
    return j
  end }
end

local function provision_in(args, jm)
  local out, err = buffer(), buffer()
  local code = provision_cli.main(args, { prog = "provision.lua", out = out, err = err, input = buffer(), journal = jm,
    getenv = function(k) return k == "STOTP_STATION" and "line-1" or os.getenv(k) end })
  return code, out.text, err.text
end

-- What examples/sensor-mac.cfg puts in block 0 for serial n.
local function sensor_block0(n)
  local rec = string.pack("<I4I4B", 0x53454E43, n, 3) .. string.pack(">I6", 0x0280E1000000 + (n - 100000))
  return rec .. string.pack("<I4", crc32(rec))
end

-- One row: the run fails at `step` (or, for a failure the journal rides
-- out, goes through), the board holds nothing without a committed
-- reservation, the message says what to do, and a rerun once the journal
-- is back completes the board with its serial.
local function row(url, where, step, kind, dir)
  local cfg = station.copy_example(dir, "sensor-mac.cfg")
  local img = dir .. "/b.img"
  local args = { cfg, "--sim", img, "--sim-part", "stm32f429zi", "--journal", url, "--yes" }
  local code, out, err = provision_in(args, failing(step[2], kind.fail))
  local b = readback(dir, img)
  if kind.rides_out then
    assert.equal(0, code, err)
    assert.truthy(out:find("provisioned: serial 100000 on UID " .. b.uid, 1, true), out)
  else
    assert.equal(1, code, out)
    assert.truthy(err:find("UID " .. b.uid, 1, true), err)
    assert.truthy(err:find("journal " .. where, 1, true), err)
    assert.truthy(err:find("run this board again once journal " .. where .. " answers (server up, network, disk " ..
      "space, file writable)", 1, true), err)
    if step[1] ~= "reserve" then assert.truthy(err:find("serial 100000 on UID " .. b.uid, 1, true), err) end
    if step.blank then
      assert.equal(("\xFF"):rep(512), b.otp, "a byte burned before its reservation was committed")
    end
    assert(kind.heal())
    local code2, out2, err2 = provision_in(args)
    assert.equal(0, code2, err2)
    assert.truthy(out2:find("serial 100000 on UID " .. b.uid, 1, true), out2)
  end
  b = readback(dir, img)
  assert.same({ sensor_block0(100000), "1000000000000000" }, { b.otp:sub(1, 19), b.locks })
  local j = assert(journal.open(url, { product = "sensor-mac" }))
  local rows = assert(j:all())
  j:close()
  assert.same({ 1, b.uid, 100000, "locked" }, { #rows, rows[1].uid, rows[1].serial, rows[1].state })
end

local function clean_env()
  for _, v in ipairs({ "VPROBE_STATE", "VPROBE_TARGET", "VPROBE_PROBE", "VPROBE_VOLTAGE", "VPROBE_STATS",
    "VPROBE_LATENCY_US", "VPROBE_FAULT", "VPROBE_QUIRKS" }) do
    testenv.setenv(v, nil)
  end
end

local function sh(cmd) return os.execute(cmd .. " >/dev/null 2>&1") == true end

describe("the journal failing at each step of a run (SQLite)", function()
  -- A journal on a small tmpfs of its own, made read-only or filled to
  -- the last byte by another file (a real full disk, not SQLite's
  -- max_page_count). Mounting needs root.
  local dir, mnt
  local probe_dir = testfiles.sandbox()
  local can_mount = sh("mkdir -p " .. probe_dir .. "/m && mount -t tmpfs -o size=1m tmpfs " .. probe_dir .. "/m && umount " ..
    probe_dir .. "/m")
  os.execute("rm -rf " .. probe_dir)
  if not can_mount then
    pending("SQLite journal failures need a tmpfs mount (root)")
    return
  end
  setup(clean_env)
  before_each(function()
    dir = testfiles.sandbox()
    mnt = dir .. "/mnt"
    assert(sh("mkdir -p " .. mnt .. " && mount -t tmpfs -o size=1m tmpfs " .. mnt))
  end)
  after_each(function()
    sh("umount " .. mnt)
    os.execute("rm -rf " .. dir)
  end)

  local KINDS = {
    -- Read-only as root sees it: the file and its directory immutable
    -- (chattr +i; root writes through permission bits, and a file system
    -- with the journal open for writing cannot be remounted read-only).
    { "a journal turned read-only",
      fail = function() return sh("chattr +i " .. mnt .. "/j.db " .. mnt) end,
      heal = function() return sh("chattr -i " .. mnt .. "/j.db " .. mnt) end },
    { "a full disk",
      fail = function()
        sh("dd if=/dev/zero of=" .. mnt .. "/filler bs=4096")
        return not sh("dd if=/dev/zero of=" .. mnt .. "/more bs=4096 count=1")
      end,
      heal = function() return sh("rm -f " .. mnt .. "/filler " .. mnt .. "/more") end },
  }
  for _, step in ipairs(STEPS) do
    for _, kind in ipairs(KINDS) do
      it("stops at the " .. step[1] .. " step on " .. kind[1] .. ", says what to do, and a rerun completes", function()
        row(mnt .. "/j.db", mnt .. "/j.db", step, kind, dir)
      end)
    end
  end
end)

describe("the journal failing at each step of a run (PostgreSQL)", function()
  local server, why = pg_server.start()
  if not server then
    pending("PostgreSQL journal failures skipped: " .. why)
    return
  end
  setup(clean_env)
  teardown(function() pg_server.stop(server) end)
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function()
    os.execute("rm -rf " .. dir)
    -- a row that failed before its heal leaves no server down for the next
    if not pg_server.running(server) then pg_server.resume(server) end
  end)

  -- Stopped: down for the rest of the run, the run stops; restarted or its
  -- session cut: the journal opens a new session between two transactions
  -- and the run goes through.
  local KINDS = {
    { "a server stopped", fail = function() return pg_server.halt(server) end,
      heal = function() return pg_server.resume(server) end },
    { "a server restarted", rides_out = true, fail = function() return pg_server.restart(server) end },
    { "a session cut", rides_out = true, fail = function() return pg_server.cut(server) end },
  }
  local n = 0
  for _, step in ipairs(STEPS) do
    for _, kind in ipairs(KINDS) do
      local verb = kind.rides_out and "goes through" or "stops, says what to do, and a rerun completes"
      it("at the " .. step[1] .. " step on " .. kind[1] .. " " .. verb, function()
        n = n + 1
        local url = pg_server.database(server, "row" .. n)
        row(url, url, step, kind, dir)
      end)
    end
  end
end)

-- Issue 13 item 4: two stations (two processes) race for the last serial
-- of a pool. One board gets it; the other stops with the pool's message,
-- its chip untouched, and keeps no record.
local function race_last_serial(dir, url)
  local cfg = station.copy_example(dir, "sensor-mac.cfg")
  write(cfg, (slurp(cfg):gsub("last = 199999", "last = 100000")))
  local cmds = {}
  for _, s in ipairs({ "a", "b" }) do
    cmds[#cmds + 1] = string.format("(lua5.4 %s/provision.lua %s --sim %s/%s.img --sim-part stm32f429zi --journal '%s' " ..
      "--yes --station %s >%s/%s.out 2>&1; echo $? >%s/%s.rc)", station.ROOT, cfg, dir, s, url, s, dir, s, dir, s)
  end
  assert.equal(0, (station.run(table.concat(cmds, " & ") .. " & wait", dir)))
  local won, lost, outs = {}, {}, ""
  for _, s in ipairs({ "a", "b" }) do
    local rc = tonumber(slurp(dir .. "/" .. s .. ".rc"))
    local t = rc == 0 and won or lost
    t[#t + 1] = { s = s, rc = rc, out = slurp(dir .. "/" .. s .. ".out"), board = readback(dir, dir .. "/" .. s .. ".img") }
    outs = outs .. t[#t].out
  end
  assert.same({ 1, 1 }, { #won, #lost }, outs)
  assert.equal(1, lost[1].rc)
  assert.truthy(lost[1].out:find("pool exhausted: serial pool 100000..100000 of product sensor-mac is exhausted: every " ..
    "serial in it is bound to a board in journal " .. url, 1, true), lost[1].out)
  assert.equal(("\xFF"):rep(512), lost[1].board.otp)
  assert.equal(sensor_block0(100000), won[1].board.otp:sub(1, 19))
  local j = assert(journal.open(url, { product = "sensor-mac" }))
  local rows = assert(j:all())
  j:close()
  assert.same({ 1, won[1].board.uid, 100000, "locked" }, { #rows, rows[1].uid, rows[1].serial, rows[1].state })
end

describe("two stations racing for the last serial", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("gives it to one; the other stops clearly, its chip untouched (SQLite)", function()
    race_last_serial(dir, dir .. "/j.db")
  end)

  local server, why = pg_server.start()
  if not server then
    pending("PostgreSQL race skipped: " .. why)
    return
  end
  teardown(function() pg_server.stop(server) end)
  it("gives it to one; the other stops clearly, its chip untouched (PostgreSQL)", function()
    race_last_serial(dir, pg_server.database(server, "race"))
  end)
end)
