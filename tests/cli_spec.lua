-- stotp.cli in-process, over the pure-Lua fake core (tests/support/fake_target.lua):
-- arguments, exit codes, confirmation, output, journal records, crash/rerun.
local testfiles = require("testfiles")
local write = testfiles.spit
local cli = require("stotp.cli")
local crash_step = require("crash_step")
local fake = require("fake_target")
local journal = require("stotp.journal")
local bad = require("bad_configs")
local dkjson = require("dkjson")

local buffer = require("buffer")

local CFG = [[
product = "widget"
parts = { "stm32f4" }
journal = "w.db"
serials = { first = 500, last = 599 }
block(0) {
  field "serial" { u32le, serial },
  field "mac"    { mac, from_serial("02:00:00:00:10:00", 500) },
  field "crc"    { crc16_ccitt, over = { "serial", "mac" } },
}
block(1) { field "key" { bytes(16), derived_key("k.key", "dev") } }
block(2) { field "rnd" { bytes(16), random_key } }
lock { 0, 1 }
]]
local MASTER = ("3c"):rep(32)
local RANDOM = ("\xA5"):rep(16)

describe("stotp.cli", function()
  local dir, boards, core, env, randoms, crash_at

  local function run(argv, opts)
    opts = opts or {}
    local out, err = buffer(), buffer()
    local code = cli.main({ "provision", table.unpack(argv) }, {
      journal = opts.journal,
      stotp = function() return core end, out = out, err = err, input = buffer(opts.input),
      getenv = function(k) return env[k] end, random = function(n)
        -- RANDOM first, then other bytes: a rerun must keep a recorded key
        randoms = randoms + 1
        return randoms == 1 and RANDOM:sub(1, n) or string.char(0xB0 + randoms):rep(n)
      end,
      step = crash_step.step({ at = crash_at, crash = opts.crash or function() error("CRASH", 0) end }),
    })
    return code, out.text, err.text
  end


  local function records()
    local j = assert(journal.open(dir .. "/w.db", { product = "widget", serials = { first = 500, last = 599 } }))
    local rows = j:all()
    j:close()
    return rows
  end

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    write(dir .. "/w.cfg", CFG)
    write(dir .. "/k.key", MASTER)
    -- private, as a master key must be: no exposure warning in the output
    os.execute("chmod 600 " .. dir .. "/k.key")
    boards = { b1 = fake.board(), b2 = fake.board() }
    core = fake.core(boards)
    env = { STOTP_STATION = "bench-1" }
    randoms = 0
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("documents every option in --help", function()
    local code, out = run({ "--help" })
    assert.equal(0, code)
    for _, o in ipairs({ "--probe SERIAL", "--sim IMAGE", "--sim-part PART", "--journal PATH", "--station NAME",
      "--dry-run", "--yes", "--json", "--version", "--help", "Exit status" }) do
      assert.truthy(out:find(o, 1, true), o)
    end
  end)

  local usage = {
    { "no config", {} },
    { "an unknown option", { "x.cfg", "--frobnicate" } },
    { "both --probe and --sim", { "x.cfg", "--probe", "A", "--sim", "b.img" } },
    { "an option without its value", { "x.cfg", "--journal" } },
    { "--sim-part without --sim", { "x.cfg", "--sim-part", "stm32f767zi" } },
    { "--sim-part with --probe", { "x.cfg", "--probe", "b1", "--sim-part", "stm32f767zi" } },
  }
  for _, u in ipairs(usage) do
    it("exits 2 on " .. u[1] .. " and opens no probe", function()
      local code, _, err = run(u[2])
      assert.equal(2, code)
      assert.truthy(err:find("Usage: stotp provision", 1, true))
      assert.equal(0, core.opened)
    end)
  end

  for _, row in ipairs(bad.rows) do
    it("exits 2 on a config with " .. row[1] .. ", opens no probe, writes nothing", function()
      assert(os.execute("mkdir -p " .. dir .. "/keys"))
      if row.key then write(dir .. "/keys/k.key", row.key) end
      write(dir .. "/bad.cfg", bad.HEADER .. row[2])
      local code, out, err = run({ dir .. "/bad.cfg", "--probe", "b1", "--yes" })
      assert.equal(2, code)
      assert.equal("", out)
      assert.truthy(err:find(row[3], 1, true), err)
      assert.equal(0, core.opened)
      assert.same({}, boards.b1.log)
      assert.is_nil(io.open(dir .. "/t.db"))
    end)
  end

  it("provisions a board: diff, exact bytes, locks, journal record", function()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    assert.equal(0, code)
    assert.truthy(out:find("serial 500", 1, true))
    assert.truthy(out:find("provisioned: serial 500 on UID " .. fake.uid_hex(boards.b1), 1, true))
    local otp = boards.b1.otp
    assert.equal(string.pack("<I4", 500) .. "\x02\x00\x00\x00\x10\x00", otp:sub(1, 10))
    assert.same({ true, true, false }, { boards.b1.locks[1], boards.b1.locks[2], boards.b1.locks[3] })
    assert.equal(RANDOM, otp:sub(65, 80))
    local r = records()
    assert.same({ 1, 500, "locked", "bench-1", "STM32F427/429/437/439", require("stotp.version"), "b1" },
      { #r, r[1].serial, r[1].state, r[1].station, r[1].part, r[1].tool_version, r[1].probe_serial })
    assert.equal(64, #r[1].payload_sha256)
  end)

  it("gives the next board the next serial and a rerun says already provisioned", function()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
    assert.equal(string.pack("<I4", 501), boards.b2.otp:sub(1, 4))
    local before, nlog = boards.b1.otp, #boards.b1.log
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    assert.equal(0, code)
    assert.truthy(out:find("already provisioned: serial 500", 1, true))
    assert.same({ before, nlog }, { boards.b1.otp, #boards.b1.log })
    assert.equal(2, #records())
  end)

  it("burns only after the product name is typed", function()
    local code, _, err = run({ dir .. "/w.cfg", "--probe", "b1" }, { input = { "widgte" } })
    assert.same({ 1, {} }, { code, boards.b1.log })
    assert.truthy(err:find("not confirmed", 1, true))
    code = run({ dir .. "/w.cfg", "--probe", "b1" }, { input = { "widget" } })
    assert.equal(0, code)
    assert.equal(string.pack("<I4", 500), boards.b1.otp:sub(1, 4))
  end)

  it("stops after the plan on --dry-run: nothing burned, no journal made", function()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--dry-run" })
    assert.equal(0, code)
    assert.truthy(out:find("dry run: nothing written", 1, true))
    assert.same({}, boards.b1.log)
    assert.is_nil(io.open(dir .. "/w.db"))
  end)

  -- Issue 10 item 5: a serial is reserved only once the plan is accepted.
  local function failed_events()
    local j = assert(journal.open(dir .. "/w.db", { product = "widget" }))
    local ev = j:rows("SELECT uid, serial, state, reason FROM stotp_events WHERE state = 'failed'")
    j:close()
    return ev
  end

  it("refuses a board that holds other data: exit 1, nothing written, no serial kept, the refusal an event", function()
    boards.b1.otp = "\x00" .. boards.b1.otp:sub(2) -- serial's low byte already 00, 500 needs F4
    local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    assert.equal(1, code)
    assert.truthy(out:find("impossible", 1, true))
    assert.truthy(err:find("plan refused, nothing written: field 'serial': block 0 holds 00 FF FF FF, a different " ..
      "value than planned (F4 01 00 00); this board was provisioned before (another journal?)", 1, true), err)
    assert.same({}, boards.b1.log)
    assert.same({}, records())
    local ev = failed_events()
    assert.same({ 1, fake.uid_hex(boards.b1), nil }, { #ev, ev[1].uid, ev[1].serial })
    assert.truthy(ev[1].reason:find("^plan refused: field 'serial'"))
    -- the serial the refused board was shown goes to the next board
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
    assert.same({ 500, fake.uid_hex(boards.b2) }, { records()[1].serial, records()[1].uid })
  end)

  it("shows no old failure reason once a failed board is recovered and locked; the events keep it", function()
    boards.b1.fail_write = "flash error"
    assert.equal(1, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.same({ "failed", true }, { records()[1].state, records()[1].reason ~= nil })
    boards.b1.fail_write = nil
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.same({ "locked" }, { records()[1].state, records()[1].reason })
    assert.truthy(failed_events()[1].reason:find("flash error", 1, true))
  end)

  -- Review item S1: serial 501 (F5 01 00 00) -> 500 (F4 01 00 00) only
  -- clears a bit; a second journal must still not re-burn the board.
  it("never re-burns a board another journal provisioned, even where only bits would be cleared", function()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.equal(string.pack("<I4", 501), boards.b1.otp:sub(1, 4))
    local before, nlog = boards.b1.otp, #boards.b1.log
    local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--journal", dir .. "/other.db" })
    assert.equal(1, code)
    assert.falsy(out:find("provisioned:", 1, true))
    local why = "field 'serial': block 0 holds F5 01 00 00, a different value than planned (F4 01 00 00); " ..
      "this board was provisioned before (another journal?)"
    assert.truthy(err:find("plan refused, nothing written: " .. why, 1, true), err)
    assert.same({ before, nlog }, { boards.b1.otp, #boards.b1.log })
    local j = assert(journal.open(dir .. "/other.db", { product = "widget" }))
    local r = j:all()
    local ev = j:rows("SELECT uid, serial, reason FROM stotp_events")
    j:close()
    assert.same({ 0, 1, fake.uid_hex(boards.b1), nil }, { #r, #ev, ev[1].uid, ev[1].serial })
    assert.truthy(ev[1].reason:find("plan refused: " .. why, 1, true))
  end)

  -- Review item S2: a journal that stops taking updates half-way (or,
  -- with method "note", notes: when gets the note's state).
  local function failing_journal(when, method)
    method = method or "update"
    return { open = function(...)
      local j, e = journal.open(...)
      if not j then return nil, e end
      local real = j[method]
      j[method] = function(self, uid, t, ...)
        if when(t) then return nil, "journal " .. dir .. "/w.db: disk I/O error", "journal" end
        return real(self, uid, t, ...)
      end
      return j
    end }
  end
  local unrecorded = {
    { "burned", "board burned but the journal was not updated" },
    { "verified", "board burned and verified but the journal was not updated" },
    { "locked", "board locked but the journal was not updated" },
  }
  for _, u in ipairs(unrecorded) do
    it("exits 1 and says so when the journal does not take the '" .. u[1] .. "' record", function()
      local jm = failing_journal(function(t) return t.state == u[1] end)
      local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" }, { journal = jm })
      assert.equal(1, code)
      local r = dkjson.decode(out)
      assert.same({ "journal not updated", true }, { r.status, r.reason:find(u[2] .. ": journal " .. dir .. "/w.db: disk I/O " ..
        "error; keep serial 500 on UID " .. fake.uid_hex(boards.b1) .. " apart and run this board again", 1, true) == 1 }, r.reason)
      assert.equal(string.pack("<I4", 500), boards.b1.otp:sub(1, 4))
      assert.not_equal("locked", records()[1].state)
      local code2, out2 = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
      assert.equal(0, code2)
      assert.truthy(out2:find("serial 500", 1, true))
      assert.equal("locked", records()[1].state)
    end)
  end

  it("writes nothing when the journal does not take the payload record", function()
    local jm = failing_journal(function(t) return t.payload_sha256 ~= nil end)
    local code, _, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" }, { journal = jm })
    assert.equal(1, code)
    assert.truthy(err:find("stotp provision: failed: nothing written: journal " .. dir .. "/w.db: disk I/O error", 1, true), err)
    assert.same({}, boards.b1.log)
  end)

  -- Review item S5: the MAC offset is anchored in the field, not in `first`.
  it("keeps MAC addresses unique when the serial pool is edited", function()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    write(dir .. "/w.cfg", (CFG:gsub("first = 500", "first = 550")))
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
    assert.equal(string.pack("<I4", 550) .. "\x02\x00\x00\x00\x10\x32", boards.b2.otp:sub(1, 10))
    assert.equal("\x02\x00\x00\x00\x10\x00", boards.b1.otp:sub(5, 10))
    local j = assert(journal.open(dir .. "/w.db", { product = "widget" }))
    local macs = j:rows("SELECT mac, uid, field FROM stotp_macs ORDER BY mac")
    j:close()
    assert.same({ { 0x020000001000, fake.uid_hex(boards.b1), "mac" }, { 0x020000001032, fake.uid_hex(boards.b2), "mac" } },
      { { math.tointeger(tonumber(macs[1].mac)), macs[1].uid, macs[1].field },
        { math.tointeger(tonumber(macs[2].mac)), macs[2].uid, macs[2].field } })
  end)

  it("refuses, before any write, a MAC address the journal gave another board", function()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    write(dir .. "/g.cfg", (CFG:gsub('product = "widget"', 'product = "gadget"')))
    local code, _, err = run({ dir .. "/g.cfg", "--probe", "b2", "--yes" })
    assert.equal(1, code)
    assert.truthy(err:find("nothing written: MAC 02:00:00:00:10:00 (field 'mac') already belongs to UID " ..
      fake.uid_hex(boards.b1) .. " of widget in journal " .. dir .. "/w.db", 1, true), err)
    assert.same({}, boards.b2.log)
  end)

  -- Review item S6: simulated boards keep out of the production journal.
  it("gives a --sim run a journal of its own next to the image unless --journal is given", function()
    local code, out = run({ dir .. "/w.cfg", "--sim", dir .. "/s.img", "--yes" })
    assert.equal(0, code)
    assert.truthy(out:find("journal " .. dir .. "/s.img.journal.db (a --sim run's own; give --journal to share one)",
      1, true), out)
    assert.is_nil(io.open(dir .. "/w.db"))
    local j = assert(journal.open(dir .. "/s.img.journal.db", { product = "widget" }))
    assert.same({ 500, fake.uid_hex(boards[dir .. "/s.img"]) }, { j:all()[1].serial, j:all()[1].uid })
    j:close()
    assert.equal(0, (run({ dir .. "/w.cfg", "--sim", dir .. "/t.img", "--yes", "--journal", dir .. "/w.db" })))
    assert.equal(1, #records())
  end)

  -- Review item S7: no `serials`, no serial drawn: one record per UID.
  it("provisions any number of boards with a recipe that draws no serials", function()
    write(dir .. "/u.cfg", [[
product = "tag"
parts = { "stm32f4" }
journal = "u.db"
block(0) { field "uid" { bytes(12), uid } }
lock { 0 }
]])
    boards.b3 = fake.board()
    for _, b in ipairs({ "b1", "b2", "b3" }) do
      local code, out = run({ dir .. "/u.cfg", "--probe", b, "--yes" })
      assert.equal(0, code)
      assert.truthy(out:find("provisioned: UID " .. fake.uid_hex(boards[b]) .. " (no serial)", 1, true), out)
      assert.equal(boards[b].uid_bytes, boards[b].otp:sub(1, 12))
    end
    local j = assert(journal.open(dir .. "/u.db", { product = "tag" }))
    local r = j:all()
    j:close()
    assert.equal(3, #r)
    for _, rec in ipairs(r) do assert.same({ "locked", nil }, { rec.state, rec.serial }) end
    local code, out = run({ dir .. "/u.cfg", "--probe", "b2", "--yes" })
    assert.equal(0, code)
    assert.truthy(out:find("already provisioned: UID " .. fake.uid_hex(boards.b2) .. " (no serial)", 1, true), out)
  end)

  -- Review item S9: the probe the run really used, not "auto".
  it("records the serial of the probe it found when none is named", function()
    boards.b2 = nil
    assert.equal(0, (run({ dir .. "/w.cfg", "--yes" })))
    assert.equal("b1", records()[1].probe_serial)
  end)

  it("refuses a part the recipe does not accept", function()
    boards.f7 = fake.board("stm32f767zi")
    local code, _, err = run({ dir .. "/w.cfg", "--probe", "f7", "--yes" })
    assert.equal(1, code)
    assert.truthy(err:find("part STM32F765/767/769/777/779 is not one this recipe accepts (stm32f4)", 1, true))
    assert.is_nil(io.open(dir .. "/w.db"))
  end)

  it("records a failed burn with its reason and exits 1", function()
    boards.b1.fail_write = "flash error PGSERR"
    local code = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    assert.equal(1, code)
    local r = records()[1]
    -- serial, mac and crc lie next to each other: one write
    assert.same({ "failed", "writing fields 'serial', 'mac', 'crc': flash error PGSERR" }, { r.state, r.reason })
    boards.b1.fail_write = nil
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.same({ 500, "locked" }, { records()[1].serial, records()[1].state })
  end)

  it("prints one JSON object with --json and keys only as fingerprints", function()
    local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" })
    assert.equal(0, code)
    local r = dkjson.decode(out)
    assert.same({ "provisioned", 500, fake.uid_hex(boards.b1), { "serial", "mac", "crc", "key", "rnd" }, { 0, 1 } },
      { r.status, r.serial, r.uid, r.fields_written, r.blocks_locked })
    assert.truthy(r.key_fingerprints.key:find("^sha256:%x+$"))
    local derived = boards.b1.otp:sub(33, 48)
    for _, text in ipairs({ out, err }) do
      for _, secret in ipairs({ derived, RANDOM, MASTER }) do
        for _, form in ipairs({ secret, require("stotp.fields").tohex(secret), require("stotp.fields").tohex(secret):lower() }) do
          assert.falsy(text:find(form, 1, true))
        end
      end
    end
  end)

  it("carries each field's decoded value, keys as fingerprints, the MACs, probe, station and duration in --json", function()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" })
    assert.equal(0, code)
    local r = dkjson.decode(out)
    assert.same({ 500, "02:00:00:00:10:00", r.key_fingerprints.key, r.key_fingerprints.rnd },
      { r.values.serial, r.values.mac, r.values.key, r.values.rnd })
    assert.equal(math.type(r.values.crc), "integer")
    assert.same({ mac = "02:00:00:00:10:00" }, r.macs)
    assert.same({ "b1", "bench-1" }, { r.probe_serial, r.station })
    assert.equal("integer", math.type(r.duration_ms))
    assert.truthy(r.duration_ms >= 0)
  end)

  it("releases the board as --after says once the run is recorded: reset by default, run, or halt", function()
    for _, row in ipairs({ { {}, "reset" }, { { "--after", "run" }, "run" }, { { "--after", "halt" }, nil } }) do
      local b = row[2] and "b1" or "b2"
      boards[b].released = nil
      local code, out = run({ dir .. "/w.cfg", "--probe", b, "--yes", "--json", table.unpack(row[1]) })
      assert.equal(0, code)
      assert.same({ row[2] or "halted", row[2] and { row[2] } or nil }, { dkjson.decode(out).after, boards[b].released })
    end
    assert.equal("locked", records()[1].state)
  end)

  it("says the board stays halted when the core has no target:reset(), and refuses an unknown --after", function()
    local open = core.open
    core.open = function(opts)
      local probe = open(opts)
      local attach = probe.attach
      probe.attach = function(...)
        local t = attach(...)
        return setmetatable({ reset = false }, { __index = t })
      end
      return probe
    end
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" })
    assert.equal(0, code)
    assert.equal("halted (this stotp.core has no target:reset())", dkjson.decode(out).after)
    local ucode, _, err = run({ dir .. "/w.cfg", "--probe", "b2", "--after", "reboot" })
    assert.equal(2, ucode)
    assert.truthy(err:find("argument for option '--after' must be one of 'reset', 'run', 'halt'", 1, true), err)
    assert.same({}, boards.b2.log)
  end)

  it("says fields_planned and blocks_planned in a dry run's JSON, never fields_written", function()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--dry-run", "--json" })
    assert.equal(0, code)
    local r = dkjson.decode(out)
    assert.same({ "dry-run", { "serial", "mac", "crc", "key", "rnd" }, { 0, 1 } },
      { r.status, r.fields_planned, r.blocks_planned })
    assert.is_nil(r.fields_written)
    assert.is_nil(r.blocks_locked)
    assert.same({}, boards.b1.log)
  end)

  -- Issue 7 item 2: a chip with this UID can never be blank again once its
  -- record says burned, verified or locked.
  local function events()
    local j = assert(journal.open(dir .. "/w.db", { product = "widget" }))
    local ev = j:rows("SELECT state FROM stotp_events")
    j:close()
    return #ev
  end
  for _, state in ipairs({ "burned", "verified", "locked" }) do
    it("refuses a blank chip whose UID the journal records as " .. state .. ": exit 1, nothing written", function()
      crash_at = state ~= "locked" and state or nil
      run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
      crash_at = nil
      assert.equal(state, records()[1].state)
      boards.twin = fake.board(nil, { uid_bytes = boards.b1.uid_bytes })
      local nev = events()
      for _, extra in ipairs({ {}, { "--dry-run" }, { "--json" } }) do
        local code, out, err = run({ dir .. "/w.cfg", "--probe", "twin", "--yes", table.unpack(extra) })
        assert.equal(1, code)
        local text = extra[1] == "--json" and dkjson.decode(out).reason or err
        assert.truthy(text:find("UID " .. fake.uid_hex(boards.b1) .. " is recorded in journal " .. dir .. "/w.db as " ..
          state .. " (serial 500), but this chip's OTP fields are all blank: a chip with that UID can never be blank " ..
          "again. Check for a counterfeit chip (a copied UID), a misread UID (probe, cable, reread) or the wrong " ..
          "journal; nothing written", 1, true), text)
        assert.falsy(out:find("provisioned", 1, true))
      end
      assert.same({}, boards.twin.log)
      local r = records()
      assert.same({ 1, state, 500 }, { #r, r[1].state, r[1].serial })
      assert.equal(nev, events())
    end)
  end

  it("still completes a blank chip whose record was only reserved or failed", function()
    crash_at = "reserved"
    run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    crash_at = nil
    boards.b1.fail_write = "flash error PGSERR"
    assert.equal(1, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.equal("failed", records()[1].state)
    boards.b1.fail_write = nil
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.same({ 500, "locked" }, { records()[1].serial, records()[1].state })
  end)

  -- A write that went out (touched) on a board that then cannot be read
  -- back may hold the record or nothing: noted "cut", its blank chip is
  -- refused until --after-cut; --after-cut is no key to anything else.
  it("notes 'cut' for a write that went out unread, refusing the blank UID until --after-cut", function()
    boards.b1.fail_write, boards.b1.unreadable_after_fail = "flash: power lost", true
    assert.equal(1, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    boards.b1.fail_write, boards.b1.unreadable = nil, nil
    local j = assert(journal.open(dir .. "/w.db", { product = "widget" }))
    assert.equal("cut", j:burned_state(fake.uid_hex(boards.b1)))
    j:close()
    for _, extra in ipairs({ {}, { "--json" } }) do
      local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", table.unpack(extra) })
      assert.equal(1, code)
      local text = extra[1] and dkjson.decode(out).reason or err
      assert.truthy(text:find("UID " .. fake.uid_hex(boards.b1) .. " is noted in journal " .. dir .. "/w.db as cut " ..
        "(serial 500): a write to it went out and the board could not be read back", 1, true), text)
      assert.truthy(text:find("run it again with --after-cut", 1, true), text)
    end
    assert.same({}, boards.b1.log)
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--after-cut" })))
    assert.same({ 500, "locked" }, { records()[1].serial, records()[1].state })
  end)

  it("says to keep the board apart when the journal does not take the 'cut' note", function()
    local jm = failing_journal(function(state) return state == "cut" end, "note")
    boards.b1.fail_write, boards.b1.unreadable_after_fail = "flash: power lost", true
    local code, _, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" }, { journal = jm })
    assert.equal(1, code)
    assert.truthy(err:find("and the journal did not take the note that a write to serial 500 on UID " ..
      fake.uid_hex(boards.b1) .. " went out and was not read back (journal " .. dir .. "/w.db: disk I/O error): keep " ..
      "this board apart", 1, true), err)
    assert.equal("failed", records()[1].state)
  end)

  it("burns nothing more with --after-cut on a blank chip whose UID was noted burning", function()
    crash_at = "burned"
    run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
    crash_at = nil
    boards.twin = fake.board(nil, { uid_bytes = boards.b1.uid_bytes })
    local code, _, err = run({ dir .. "/w.cfg", "--probe", "twin", "--yes", "--after-cut" })
    assert.equal(1, code)
    assert.truthy(err:find("as burned (serial 500), but this chip's OTP fields are all blank", 1, true), err)
    assert.same({}, boards.twin.log)
  end)

  -- Issue 7 item 3: a journal that does not persist would let two boards
  -- draw the same serial and MAC.
  local volatile = {
    { '""', "", "is SQLite's temporary database, deleted when the run ends" },
    { ":memory:", ":memory:", "is SQLite's in-memory database, gone when the run ends" },
    { "' :memory: '", " :memory: ", "is SQLite's in-memory database, gone when the run ends" },
    { "file::memory:", "file::memory:", "is an SQLite URI" },
    { "a URI with mode=memory", "file:DIR/w.db?mode=memory", "is an SQLite URI" },
    { "a file: URI", "FILE:DIR/w.db", "is an SQLite URI" },
  }
  for _, v in ipairs(volatile) do
    for _, extra in ipairs({ { "--probe", "b1" }, { "--sim", "s.img" }, { "--probe", "b1", "--dry-run" } }) do
      it("refuses --journal " .. v[1] .. " with " .. extra[1] .. (extra[3] and " " .. extra[3] or "") ..
        ": exit 2, no probe opened, nothing created", function()
        if extra[1] == "--sim" then extra = { "--sim", dir .. "/s.img" } end
        local name = v[2]:gsub("DIR", dir)
        local argv = { dir .. "/w.cfg", "--journal", name, "--yes", "--json", table.unpack(extra) }
        local code, out, err = run(argv)
        assert.equal(2, code)
        local r = dkjson.decode(out)
        local want = string.format("journal %q %s: the serials and MACs it binds would be lost, and the next board " ..
          "would draw them again; give an SQLite file path or a postgresql:// URL", name, v[3])
        assert.same({ "config error", want }, { r.status, r.reason })
        assert.truthy(err:find(want, 1, true), err)
        assert.same({ 0, {} }, { core.opened, boards.b1.log })
        local ls = io.popen("ls -A " .. dir):read("a")
        assert.equal("k.key\nw.cfg\n", ls)
      end)
    end
  end

  it("says a dry run on a journal file that does not exist yet uses an empty one in memory and saves nothing", function()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--dry-run", "--journal", dir .. "/new.db" })
    assert.equal(0, code)
    assert.truthy(out:find("journal " .. dir .. "/new.db does not exist yet: the dry run reads an empty journal " ..
      "in memory and saves nothing", 1, true), out)
    assert.truthy(out:find("serial 500 (next free", 1, true), out)
    assert.is_nil(io.open(dir .. "/new.db"))
  end)

  -- Issue 7 item 8, at the command: stdout, stderr and --json.
  it("names a PostgreSQL journal that is down without its password, in text and in --json", function()
    if not pcall(require, "luasql.postgres") then return pending("lua-sql-postgres is not installed") end
    for _, json in ipairs({ false, true }) do
      local url = "postgresql://op:s3cret%zzPW@127.0.0.1:1/stations?password=Other%50W&sslmode=disable"
      local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--journal", url, json and "--json" or nil })
      assert.equal(1, code)
      local text = json and dkjson.decode(out).reason or err
      assert.truthy(text:find("cannot open journal postgresql://op@127.0.0.1:1/stations?sslmode=disable: ", 1, true), text)
      for _, form in ipairs({ "s3cret", "cret%zz", "OtherPW", "Other%50W" }) do
        assert.falsy((out .. err):find(form, 1, true), form)
      end
      assert.same({}, boards.b1.log)
    end
  end)

  -- Issue 7 item 12: with --json, stdout is exactly one JSON object.
  local one_object = require("one_json")
  for _, u in ipairs(usage) do
    it("prints one JSON object on " .. u[1] .. " with --json, exit 2", function()
      local argv = { "--json", table.unpack(u[2]) }
      local code, out, err = run(argv)
      assert.equal(2, code)
      local r = one_object(out)
      assert.equal("usage error", r.status)
      assert.truthy(err:find(r.reason, 1, true), err)
      assert.equal(0, core.opened)
    end)
  end

  it("prints one JSON object with --json --version and --json --help", function()
    for _, a in ipairs({ "--version", "--help" }) do
      local code, out, err = run({ "--json", a })
      assert.equal(0, code)
      assert.truthy(one_object(out).status:find("^" .. (a == "--help" and "help" or "stotp 0")), out)
      assert.truthy(err:find(a == "--help" and "Exit status" or "stotp 0.1.0", 1, true))
    end
  end)

  it("prints one JSON object on an internal error (a raised Lua error), exit 1", function()
    core.open = function() error("boom in the core") end
    local code, out, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" })
    assert.equal(1, code)
    local r = one_object(out)
    assert.same({ "internal error", {} }, { r.status, r.fields_burned })
    assert.truthy(r.reason:find("boom in the core", 1, true))
    assert.equal("", err)
  end)

  local function interrupt() error("interrupted!", 0) end
  it("prints one JSON object on Ctrl-C at the confirm prompt, exit 130, nothing written", function()
    local input = buffer()
    input.read = interrupt
    local out, err = buffer(), buffer()
    local code = cli.main({ "provision", dir .. "/w.cfg", "--probe", "b1", "--json" }, { stotp = function() return core end,
      out = out, err = err, input = input, getenv = function(k) return env[k] end })
    assert.equal(130, code)
    local r = one_object(out.text)
    assert.same({ "interrupted", "interrupted (Ctrl-C); nothing written", {} }, { r.status, r.reason, r.fields_burned })
    assert.same({}, boards.b1.log)
    assert.equal("reserved", records()[1].state)
  end)

  it("prints one JSON object on Ctrl-C during the burn, lists the fields burned and records it", function()
    crash_at = "write:mac"
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" }, { crash = interrupt })
    crash_at = nil
    assert.equal(130, code)
    local r = one_object(out)
    -- the step of mac comes after the one write of serial, mac and crc
    assert.same({ "interrupted", { "serial", "mac", "crc" }, "read-back" }, { r.status, r.fields_burned, r.burned_by })
    assert.equal("interrupted (Ctrl-C)", r.reason)
    crash_at = "write:crc"
    local _, _, err = run({ dir .. "/w.cfg", "--probe", "b2", "--yes" }, { crash = interrupt })
    crash_at = nil
    assert.equal("stotp provision: interrupted: interrupted (Ctrl-C)\nthis run burned field(s) serial, mac, crc and locked " ..
      "block(s) none\n", err)
    local rec = records()[1]
    assert.same({ "failed", "interrupted (Ctrl-C); burned: serial, mac, crc" }, { rec.state, rec.reason })
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.same({ 500, "locked" }, { records()[1].serial, records()[1].state })
  end)

  it("records a Ctrl-C that cut a journal transaction short, after rolling that transaction back", function()
    local jm = { open = function(...)
      local j, e = journal.open(...)
      if not j then return nil, e end
      local update, exec, armed = j.update, j.exec, false
      j.update = function(self, uid, t)
        armed = t.state == "burned"
        return update(self, uid, t)
      end
      j.exec = function(self, sql, keep)
        if armed and sql == "COMMIT" then armed = false; error("interrupted!", 0) end
        return exec(self, sql, keep)
      end
      return j
    end }
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" }, { journal = jm })
    assert.equal(130, code)
    local r = one_object(out)
    assert.same({ "interrupted", "interrupted (Ctrl-C)", { "serial", "mac", "crc", "key", "rnd" } },
      { r.status, r.reason, r.fields_burned })
    local rec = records()[1]
    assert.same({ "failed", "interrupted (Ctrl-C); burned: serial, mac, crc, key, rnd" }, { rec.state, rec.reason })
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.equal("locked", records()[1].state)
  end)

  it("prints no second JSON object when Ctrl-C lands after the result", function()
    local jm = { open = function(...)
      local j, e = journal.open(...)
      if not j then return nil, e end
      local close = j.close
      j.close = function(self) close(self); error("interrupted!", 0) end
      return j
    end }
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" }, { journal = jm })
    assert.equal(0, code)
    assert.equal("provisioned", one_object(out).status)
  end)

  it("lists the fields in fact burned when a field no longer reads back as burned", function()
    -- block 0 changes after its write; the last write, which also locks
    -- blocks 0 and 1, finds block 0 other than planned and writes nothing
    boards.b1.corrupt_after_write = true
    local code, out = run({ dir .. "/w.cfg", "--probe", "b1", "--yes", "--json" })
    assert.equal(1, code)
    local r = one_object(out)
    assert.same({ "failed", { "serial", "mac", "crc", "key" }, {} }, { r.status, r.fields_burned, r.blocks_locked })
    assert.truthy(r.reason:find("^writing field 'rnd' %(a key; values not shown%): lock: block %d would differ"), r.reason)
  end)

  -- Issue 7 item 13.
  it("says the serial pool is exhausted, naming its range and product: exit 1, nothing written", function()
    write(dir .. "/w.cfg", (CFG:gsub("last = 599", "last = 501")))
    boards.b3 = fake.board()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
    local want = "serial pool 500..501 of product widget is exhausted: every serial in it is bound to a board in " ..
      "journal " .. dir .. "/w.db; give the recipe a new range (serials = { first = ..., last = ... })"
    for _, extra in ipairs({ {}, { "--dry-run" } }) do
      local code, out, err = run({ dir .. "/w.cfg", "--probe", "b3", "--yes", table.unpack(extra) })
      assert.equal(1, code)
      assert.equal("stotp provision: pool exhausted: " .. want .. "\n", err)
      assert.falsy(out:find("serial 50", 1, true), out)
    end
    assert.same({}, boards.b3.log)
    assert.equal(2, #records())
  end)

  it("never shows a serial a board was burned with as the next free one in a dry run", function()
    assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
    local j = assert(journal.open(dir .. "/w.db", { product = "widget" }))
    assert(j:exec("DELETE FROM stotp_boards"))
    j:close()
    local code, out = run({ dir .. "/w.cfg", "--probe", "b2", "--dry-run" })
    assert.equal(0, code)
    assert.truthy(out:find("serial 501 (next free now; a dry run reserves nothing, and another station may take it " ..
      "first)", 1, true), out)
  end)

  -- In-process, a "crash" is an error raised at the step (cli.main's pcall
  -- catches it and closes the handles): the journal and the fake board are
  -- left exactly as a kill there would leave them. The real SIGKILLs, of
  -- the named steps and after each OTP write, are in provision_spec.
  local steps = { "attached", "reserved", "planned", "confirmed", "recorded", "write:serial", "write:mac", "write:crc",
    "write:key",
    "write:rnd", "burned", "verified", "lock:0", "lock:1", "locked" }
  for _, step in ipairs(steps) do
    it("completes the board on a rerun after the run is cut off at " .. step, function()
      crash_at = step
      local code, _, err = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
      assert.equal(1, code)
      assert.truthy(err:find("CRASH", 1, true))
      crash_at = nil
      assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })))
      assert.equal(0, (run({ dir .. "/w.cfg", "--probe", "b2", "--yes" })))
      assert.equal(string.pack("<I4", 500), boards.b1.otp:sub(1, 4))
      assert.equal(string.pack("<I4", 501), boards.b2.otp:sub(1, 4))
      local r = records()
      assert.same({ 2, "locked", "locked" }, { #r, r[1].state, r[2].state })
      local keys = require("stotp.keys")
      assert.equal(r[1].key_fingerprints.rnd, keys.fingerprint(boards.b1.otp:sub(65, 80)))
      assert.not_equal(boards.b1.otp:sub(65, 80), boards.b2.otp:sub(65, 80))
      local code3, out3 = run({ dir .. "/w.cfg", "--probe", "b1", "--yes" })
      assert.equal(0, code3)
      assert.truthy(out3:find("already provisioned", 1, true))
    end)
  end
end)
