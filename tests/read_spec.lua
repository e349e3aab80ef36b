-- `stotp read CONFIG`: a board read back in its recipe's terms, compared
-- with the journal; read-only (board, journal and image unchanged).
local testfiles = require("testfiles")
local station = require("station")
local dkjson = require("dkjson")
local slurp = testfiles.slurp

describe("stotp read", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function read(cfg, img, extra)
    local code, out, err = station.stotp(dir, "read " .. cfg .. " --sim " .. img .. (extra or "") .. " --json")
    return code, dkjson.decode(out) or {}, err
  end

  local function by_name(r)
    local t = {}
    for _, f in ipairs(r.fields or {}) do t[f.name] = f end
    return t
  end

  local examples = {
    { "sensor-mac.cfg", "", function(f, rec)
      assert.same({ 100000, "02:80:E1:00:00:00", "as planned" }, { f.serial.value, f.mac.value, f.mac.state })
      assert.same({ true, "A0 86 01 00" }, { f.crc.crc_ok, f.serial.raw })
      assert.equal(100000, rec.serial)
    end },
    { "keyed-node.cfg", "", function(f)
      assert.same({ 1, "KN-200", "as planned" }, { f.serial.value, f.model.value, f.device_key.state })
      assert.same({ true, true }, { f.device_key.fingerprint_matches, f.boot_key.fingerprint_matches })
      assert.is_nil(f.device_key.raw)
      assert.is_nil(f.device_key.value)
    end },
    { "f7-gateway.cfg", " --sim-part stm32f767zi", function(f)
      assert.same({ 5000000, "02:00:5E:10:00:00", "GW-7-PRO" }, { f.serial.value, f.mac_wan.value, f.model.value })
      assert.truthy(f.made.value:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), f.made.value)
      assert.truthy(f.board_uuid.value:find("^%x+%-%x+%-%x+%-%x+%-%x+$"), f.board_uuid.value)
      assert.is_nil(f.pairing_key.raw)
    end },
  }
  for _, ex in ipairs(examples) do
    it("reads a board of " .. ex[1] .. " back decoded, agreeing with the journal: exit 0, nothing changed", function()
      local cfg = station.copy_example(dir, ex[1])
      local img = dir .. "/a.img"
      local pcode, pout, perr = station.provision(dir, cfg .. " --sim " .. img .. ex[2] .. " --yes --json")
      assert.equal(0, pcode, perr)
      local burned = dkjson.decode(pout)
      local before, jbefore = slurp(img), slurp(img .. ".journal.db")
      local code, r, err = read(cfg, img)
      assert.equal(0, code, err)
      assert.same({ "agree", burned.uid }, { r.status, r.uid })
      assert.same({}, r.disagreements)
      ex[3](by_name(r), r.journal.record)
      assert.equal("locked", r.journal.record.state)
      local locked = {}
      for _, n in ipairs(r.locked_blocks) do locked[n + 1] = true end
      assert.truthy(#r.locked_blocks > 0)
      for n, c in ipairs(r.block_map) do assert.equal(locked[n] and "L" or ".", c) end
      assert.equal(before, slurp(img))
      assert.equal(jbefore, slurp(img .. ".journal.db"))
    end)
  end

  it("shows a block map and every field in text, keys never", function()
    local cfg = station.copy_example(dir, "keyed-node.cfg")
    local img = dir .. "/k.img"
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --yes")))
    local code, out = station.stotp(dir, "read " .. cfg .. " --sim " .. img)
    assert.equal(0, code)
    assert.truthy(out:find("\n        L  L  .  .  .", 1, true), out)
    assert.truthy(out:find("device_key   bytes(16)    as planned      key: fingerprint matches the journal", 1, true), out)
    assert.truthy(out:find("board and journal agree", 1, true))
    local b = station.readback(dir, img)
    for _, form in ipairs(station.secret_forms(b.otp:sub(33, 48))) do assert.falsy(out:find(form, 1, true)) end
  end)

  it("exits 1 and says so when the journal has no record of a written board", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/a.img"
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --yes")))
    local code, r = read(cfg, img, " --journal " .. dir .. "/other.db")
    assert.equal(1, code)
    assert.same({ "disagree", { "the board holds data but the journal has no record of its UID" } },
      { r.status, r.disagreements })
    assert.is_nil(io.open(dir .. "/other.db"))
  end)

  it("calls out a field that differs from the journal's record: exit 1", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/a.img"
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --yes")))
    local env = require("luasql.sqlite3").sqlite3()
    local conn = assert(env:connect(img .. ".journal.db"))
    assert(conn:execute("UPDATE stotp_boards SET serial = 100007"))
    conn:close()
    env:close()
    local code, r = read(cfg, img)
    assert.equal(1, code)
    local f = by_name(r)
    assert.same({ "differs", "differs", 100000 }, { f.serial.state, f.mac.state, f.serial.value })
    assert.equal("!", r.block_map[1])
    assert.truthy(table.concat(r.disagreements, "\n"):find("field 'serial' differs from the journal's plan", 1, true))
  end)

  -- A journal row whose time is no time (a corrupted row, as
  -- tests/fuzz/journal_fuzz.lua makes them): shown as such, as `stotp
  -- report` shows it, never an internal error and never the current time.
  local bad_times = {
    { "a time that is not a number", "created_at = 'soon', updated_at = 'later'", "(not a time: soon)",
      "(not a time: later)" },
    { "a time no date can show", "updated_at = -9223372036854775808", nil, "(not a time: -9223372036854775808)" },
    { "a time that is a fraction", "updated_at = 1.5", nil, "(not a time: 1.5)" },
  }
  for _, row in ipairs(bad_times) do
    it("shows " .. row[1] .. " in the journal's record as such: exit 0, nothing changed", function()
      local cfg = station.copy_example(dir, "sensor-mac.cfg")
      local img = dir .. "/a.img"
      assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --yes")))
      local env = require("luasql.sqlite3").sqlite3()
      local conn = assert(env:connect(img .. ".journal.db"))
      assert(conn:execute("UPDATE stotp_boards SET " .. row[2]))
      conn:close()
      env:close()
      local before, jbefore = slurp(img), slurp(img .. ".journal.db")
      local code, r, err = read(cfg, img)
      assert.equal(0, code, err)
      assert.same({ "agree", 100000, "locked" }, { r.status, r.journal.record.serial, r.journal.record.state })
      if row[3] then assert.equal(row[3], r.journal.record.created_at) end
      assert.equal(row[4], r.journal.record.updated_at)
      local tcode, out, terr = station.stotp(dir, "read " .. cfg .. " --sim " .. img)
      assert.equal(0, tcode, terr)
      assert.truthy(out:find("serial 100000, locked, station [^\n]*, " .. row[4]:gsub("%p", "%%%0") .. "\n"), out)
      assert.equal(before, slurp(img))
      assert.equal(jbefore, slurp(img .. ".journal.db"))
    end)
  end

  it("reads a blank board with no journal: exit 0, reserves no serial, creates no journal", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/b.img"
    assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --dry-run")))
    os.remove(img .. ".journal.db")
    local code, r = read(cfg, img)
    assert.equal(0, code)
    assert.same({ "blank", false }, { by_name(r).serial.state, r.journal.exists })
    assert.is_nil(r.journal.record)
    assert.is_nil(io.open(img .. ".journal.db"))
  end)

  it("refuses a board of another part: exit 2, names the part, image unchanged", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/f7.img"
    station.copy_example(dir, "f7-gateway.cfg")
    assert.equal(0, (station.provision(dir, dir .. "/f7-gateway.cfg --sim " .. img .. " --sim-part stm32f767zi --yes")))
    local before = slurp(img)
    local code, r, err = read(cfg, img)
    assert.equal(2, code)
    assert.equal("config error", r.status)
    assert.truthy(err:find("the board is a STM32F765/767/769/777/779, not a part this recipe accepts (stm32f4)", 1, true))
    assert.equal(before, slurp(img))
  end)

  -- --after (issue 10 item 9): attach halted the core; the board is
  -- released as asked once it has been read, whatever the result.
  local function read_in_process(cfg, img, extra)
    local calls = {}
    local real = require("stotp")
    local wrapped = setmetatable({ open = function(opts)
      local p, e, c = real.open(opts)
      if not p then return p, e, c end
      return setmetatable({ attach = function()
        local t, te, tc = p:attach()
        if not t then return t, te, tc end
        local proxy = setmetatable({}, { __index = function(_, k)
          local v = t[k]
          if type(v) ~= "function" then return v end
          return function(_, ...)
            local r = table.pack(v(t, ...))
            if k == "run" or k == "reset" then
              -- the real effect, read on the same handle: DHCSR S_HALT (bit 17)
              calls[#calls + 1] = { k, r[1], t:read32(0xE000EDF0) & (1 << 17) == 0 }
            end
            return table.unpack(r, 1, r.n)
          end
        end })
        return proxy
      end }, { __index = function(_, k)
        local v = p[k]
        if type(v) == "function" then return function(_, ...) return v(p, ...) end end
        return v
      end })
    end }, { __index = real })
    local out, err = require("buffer")(), require("buffer")()
    local argv = { "read", cfg, "--sim", img, "--json" }
    for _, a in ipairs(extra or {}) do argv[#argv + 1] = a end
    local code = require("stotp.cli").main(argv, { stotp = function() return wrapped end, out = out, err = err })
    return code, dkjson.decode(out.text) or {}, err.text, calls
  end

  for _, row in ipairs({ { {}, "reset", { { "reset", true, true } } },
    { { "--after", "run" }, "run", { { "run", true, true } } }, { { "--after", "halt" }, "halted", {} } }) do
    it("leaves the board as --after " .. row[2] .. " says once it is read, image unchanged", function()
      local cfg = station.copy_example(dir, "sensor-mac.cfg")
      local img = dir .. "/a.img"
      assert.equal(0, (station.provision(dir, cfg .. " --sim " .. img .. " --yes --after halt")))
      local before = slurp(img)
      local code, r, err, calls = read_in_process(cfg, img, row[1])
      assert.equal(0, code, err)
      assert.same({ "agree", row[2] }, { r.status, r.after })
      assert.same(row[3], calls)
      assert.equal(before, slurp(img))
    end)
  end

  it("releases a board of another part too, and refuses an unknown --after before opening anything", function()
    local cfg = station.copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/f7.img"
    station.copy_example(dir, "f7-gateway.cfg")
    assert.equal(0, (station.provision(dir, dir .. "/f7-gateway.cfg --sim " .. img .. " --sim-part stm32f767zi --yes")))
    local code, _, err, calls = read_in_process(cfg, img, { "--after", "run" })
    assert.equal(2, code, err)
    assert.same({ { "run", true, true } }, calls)
    code, _, err, calls = read_in_process(cfg, dir .. "/none.img", { "--after", "reboot" })
    assert.equal(2, code)
    assert.truthy(err:find("argument for option '--after' must be one of 'reset', 'run', 'halt'", 1, true), err)
    assert.same({}, calls)
    assert.is_nil(io.open(dir .. "/none.img"))
  end)

  local usage = {
    { "no config", "read", "usage error" },
    { "a missing --sim image", "read CFG --sim " .. "NOIMG", "no --sim image" },
    { "both --probe and --sim", "read CFG --probe A --sim NOIMG", "usage error" },
    { "an unknown option", "read CFG --sim NOIMG --frob", "unknown option '--frob'" },
  }
  for _, u in ipairs(usage) do
    it("exits 2 on " .. u[1] .. " and creates no board", function()
      local cfg = station.copy_example(dir, "sensor-mac.cfg")
      local code, _, err = station.stotp(dir, (u[2]:gsub("CFG", cfg):gsub("NOIMG", dir .. "/none.img")))
      assert.equal(2, code)
      assert.truthy(err:find(u[3], 1, true), err)
      assert.is_nil(io.open(dir .. "/none.img"))
    end)
  end
end)
