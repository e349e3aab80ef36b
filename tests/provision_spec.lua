-- End to end: `lua5.4 provision.lua CONFIG --sim IMAGE` as a subprocess,
-- against the real stotp.core and its virtual boards; results checked by
-- reading the board back through stotp (a separate process) and the
-- journal. Also through the libusb drop-in (LD_LIBRARY_PATH=build/vprobe).
local testfiles = require("testfiles")
local slurp, write = testfiles.slurp, testfiles.spit
local journal = require("stotp.journal")
local pg_server = require("pg_server")
local bad = require("bad_configs")
local dkjson = require("dkjson")

local station = require("station")
local ROOT, BUILD = station.ROOT, testfiles.build
local sh_quote = testfiles.quote
local run, provision, readback = station.run, station.provision, station.readback

local crc32 = testfiles.crc32

-- What examples/sensor-mac.cfg must put in block 0 for serial n.
local function sensor_block0(n)
  local rec = string.pack("<I4I4B", 0x53454E43, n, 3) .. string.pack(">I6", 0x0280E1000000 + (n - 100000))
  return rec .. string.pack("<I4", crc32(rec))
end

local function core_ready()
  if not io.open(BUILD .. "/stotp/core.so") then return false, BUILD .. "/stotp/core.so is not built" end
  if not io.open(ROOT .. "/lua/stotp/init.lua") then return false, "lua/stotp/init.lua does not exist yet" end
  local ok = os.execute("cd " .. ROOT .. " && lua5.4 -e 'package.path=\"lua/?.lua;lua/?/init.lua;\"..package.path " ..
    "package.cpath=\"" .. BUILD .. "/?.so;\"..package.cpath require(\"stotp\")' >/dev/null 2>&1")
  if not ok then return false, "require('stotp') fails" end
  return true
end

local tmpdir = testfiles.sandbox

local copy_example = station.copy_example

local function records(url, product)
  local j = assert(journal.open(url, { product = product, serials = { first = 0, last = 0 } }))
  local rows = assert(j:all())
  j:close()
  return rows
end

-- Every serial at most one UID, every UID one record (the journal's job).
local function assert_consistent(rows)
  local serials, uids = {}, {}
  for _, r in ipairs(rows) do
    assert.is_nil(serials[r.serial], "serial " .. r.serial .. " twice")
    assert.is_nil(uids[r.uid], "uid " .. r.uid .. " twice")
    serials[r.serial], uids[r.uid] = r.uid, r.serial
  end
end

local ready, why = core_ready()

describe("provision.lua end to end", function()
  if not ready then
    pending("end-to-end specs need the C core: " .. why)
    return
  end

  local dir
  before_each(function() dir = tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("gives two fresh boards consecutive serials, exactly the planned bytes and locks; a rerun changes nothing", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local j = " --journal " .. dir .. "/sensor-mac.db"
    for i, img in ipairs({ "a.img", "b.img" }) do
      local code, out, err = provision(dir, cfg .. " --sim " .. dir .. "/" .. img .. j .. " --yes")
      assert.equal(0, code, err)
      assert.truthy(out:find("provisioned: serial " .. (99999 + i), 1, true), out)
    end
    for i, img in ipairs({ "a.img", "b.img" }) do
      local b = readback(dir, dir .. "/" .. img)
      assert.equal(32, b.block_size)
      assert.equal(sensor_block0(99999 + i) .. ("\xFF"):rep(512 - 19), b.otp)
      assert.equal("1000000000000000", b.locks)
    end
    local rows = records(dir .. "/sensor-mac.db", "sensor-mac")
    assert.same({ 100000, 100001, "locked", "locked" }, { rows[1].serial, rows[2].serial, rows[1].state, rows[2].state })
    local image = slurp(dir .. "/a.img")
    local code, out = provision(dir, cfg .. " --sim " .. dir .. "/a.img" .. j .. " --yes")
    assert.equal(0, code)
    assert.truthy(out:find("already provisioned: serial 100000", 1, true), out)
    assert.equal(image, slurp(dir .. "/a.img"))
    assert.equal(2, #records(dir .. "/sensor-mac.db", "sensor-mac"))
  end)

  it("provisions an F7 board in its 64-byte blocks", function()
    local cfg = copy_example(dir, "f7-gateway.cfg")
    local code, out, err = provision(dir, cfg .. " --sim " .. dir .. "/f7.img --sim-part stm32f767zi --yes --json")
    assert.equal(0, code, err)
    local r = dkjson.decode(out)
    assert.same({ "provisioned", 5000000, { 2 } }, { r.status, r.serial, r.blocks_locked })
    local b = readback(dir, dir .. "/f7.img")
    assert.equal(64, b.block_size)
    assert.equal("\x05\x00\x00\x00", b.otp:sub(129, 132)) -- bcd(4) of 5000000
    assert.equal("\x02\x00\x5E\x10\x00\x00", b.otp:sub(137, 142))
    assert.equal(("\xFF"):rep(128), b.otp:sub(1, 128))
    assert.equal(r.key_fingerprints.pairing_key, require("stotp.keys").fingerprint(b.otp:sub(129 + 42, 129 + 57)))
    assert.equal("0010000000000000", b.locks)
  end)

  it("refuses a recipe's part mismatch without writing", function()
    local cfg = copy_example(dir, "f7-gateway.cfg")
    local code, _, err = provision(dir, cfg .. " --sim " .. dir .. "/f4.img --sim-part stm32f429zi --yes")
    assert.equal(1, code)
    assert.truthy(err:find("is not one this recipe accepts", 1, true), err)
    assert.equal(("\xFF"):rep(512), readback(dir, dir .. "/f4.img").otp)
  end)

  it("shows no key bytes on the terminal, in --json or in the journal", function()
    local cfg = copy_example(dir, "keyed-node.cfg")
    local code1, out1, err1 = provision(dir, cfg .. " --sim " .. dir .. "/k.img --yes --json")
    local code2, out2, err2 = provision(dir, cfg .. " --sim " .. dir .. "/k2.img --yes")
    assert.same({ 0, 0 }, { code1, code2 }, err1 .. err2)
    local secrets = { (require("stotp.keys").load_master(dir .. "/keys/master.key")) }
    for _, img in ipairs({ "k.img", "k2.img" }) do
      local b = readback(dir, dir .. "/" .. img)
      assert.equal("1100000000000000", b.locks)
      secrets[#secrets + 1] = b.otp:sub(33, 48)
      secrets[#secrets + 1] = b.otp:sub(49, 64)
    end
    local hex = require("stotp.fields").tohex
    local haystacks = { out1, err1, out2, err2, slurp(dir .. "/k.img.journal.db"), slurp(dir .. "/k2.img.journal.db") }
    for _, secret in ipairs(secrets) do
      assert.not_equal(("\xFF"):rep(#secret), secret)
      for _, form in ipairs({ secret, hex(secret), hex(secret):lower(), hex(secret, " "), hex(secret, " "):lower() }) do
        for _, h in ipairs(haystacks) do assert.falsy(h:find(form, 1, true)) end
      end
    end
    assert.truthy(dkjson.decode(out1).key_fingerprints.device_key:find("^sha256:%x+$"))
  end)

  local STEPS = { "attached", "reserved", "planned", "confirmed", "recorded", "write:magic", "write:serial",
    "write:mac", "write:crc", "burned", "verified", "lock:0", "locked" }
  it("completes every board after a SIGKILL at each step of a run", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local j = " --journal " .. dir .. "/sensor-mac.db"
    for i, step in ipairs(STEPS) do
      local img = dir .. "/crash" .. i .. ".img"
      local code = provision(dir, cfg .. " --sim " .. img .. j .. " --yes", "STOTP_TEST_CRASH_AT=" .. step)
      assert.equal(137, code, step)
      local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. j .. " --yes")
      assert.equal(0, code2, step .. ": " .. tostring(err2))
    end
    local rows = records(dir .. "/sensor-mac.db", "sensor-mac")
    assert_consistent(rows)
    for _, r in ipairs(rows) do
      local i = tonumber(r.serial) - 99999
      assert.equal("locked", r.state)
      local b = readback(dir, dir .. "/crash" .. i .. ".img")
      assert.equal(r.uid, b.uid)
      assert.equal(sensor_block0(r.serial), b.otp:sub(1, 19))
    end
    assert.equal(#STEPS, #rows)
  end)

  -- Issue 7 item 12: Ctrl-C, as lua5.4 takes it, at the prompt and at each
  -- stage of a run (STOTP_TEST_CRASH_MODE=sigint: the run sends itself
  -- SIGINT at the step): one JSON object, exit 130, the journal whole.
  local one_object = require("one_json")

  it("prints one JSON object and exits 130 on Ctrl-C at the confirm prompt; nothing written", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local fifo = dir .. "/stdin"
    local script = string.format([[
mkfifo %s; exec 3<>%s
lua5.4 %s/provision.lua %s --sim %s/a.img --journal %s/j.db --json <%s >%s/.out 2>%s/.err & pid=$!
n=0; while ! grep -q "Type the product name" %s/.err && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done
kill -INT $pid; wait $pid; echo $? >%s/.rc; exec 3>&-]], fifo, fifo, ROOT, cfg, dir, dir, fifo, dir, dir, dir, dir)
    write(dir .. "/int.sh", script)
    os.execute(station.CLEAN .. "sh " .. dir .. "/int.sh")
    assert.equal("130\n", slurp(dir .. "/.rc"))
    local r = one_object(slurp(dir .. "/.out"))
    assert.same({ "interrupted", "interrupted (Ctrl-C); nothing written", {} }, { r.status, r.reason, r.fields_burned })
    assert.equal(("\xFF"):rep(512), readback(dir, dir .. "/a.img").otp)
    assert.equal("reserved", records(dir .. "/j.db", "sensor-mac")[1].state)
  end)

  -- The five fields of sensor-mac.cfg lie next to each other: one write,
  -- which also locks block 0 in its flash session; each field's step comes
  -- after it.
  local ALL = { "magic", "serial", "hw_rev", "mac", "crc" }
  local INTERRUPTS = {
    { "confirmed", {}, {} },
    { "write:serial", ALL, { 0 } },
    { "write:crc", ALL, { 0 } },
    { "verified", ALL, { 0 } },
    { "lock:0", ALL, { 0 } },
  }
  it("prints one JSON object listing the fields burned on Ctrl-C at each stage; a rerun completes", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local j = " --journal " .. dir .. "/sensor-mac.db"
    for i, row in ipairs(INTERRUPTS) do
      local img = dir .. "/int" .. i .. ".img"
      local code, out, err = provision(dir, cfg .. " --sim " .. img .. j .. " --yes --json",
        "STOTP_TEST_CRASH_AT=" .. row[1] .. " STOTP_TEST_CRASH_MODE=sigint")
      assert.equal(130, code, row[1] .. ": " .. err)
      local r = one_object(out)
      assert.same({ "interrupted", row[2], row[3] }, { r.status, r.fields_burned, r.blocks_locked }, row[1])
      local rec = records(dir .. "/sensor-mac.db", "sensor-mac")[i]
      assert.same({ 99999 + i, row[1] == "confirmed" and "reserved" or "failed" }, { rec.serial, rec.state }, row[1])
      local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. j .. " --yes")
      assert.equal(0, code2, row[1] .. ": " .. err2)
      local b = readback(dir, img)
      assert.same({ sensor_block0(99999 + i), "1000000000000000" }, { b.otp:sub(1, 19), b.locks }, row[1])
    end
    local rows = records(dir .. "/sensor-mac.db", "sensor-mac")
    assert_consistent(rows)
    for _, r in ipairs(rows) do assert.equal("locked", r.state) end
  end)

  -- Issue 7 item 14: a read-only directory is named as the cause, before
  -- any probe is opened. Root writes anywhere, so as root the run is made
  -- as "nobody" in directories root owns.
  local function as_user()
    local p = io.popen("id -u")
    local uid = p:read("l")
    p:close()
    return uid == "0" and "runuser -u nobody -- " or ""
  end
  local READ_ONLY = {
    { "a new journal", "ro/j.db", "rw/a.img", "ro", "the journal %s/ro/j.db cannot be created or updated there" },
    { "an existing journal", "ro/old.db", "rw/a.img", "ro",
      "the journal %s/ro/old.db cannot be created or updated there" },
    { "a --sim image", "rw/j.db", "ro/a.img", "ro", "the --sim image %s/ro/a.img cannot be saved there" },
  }
  for _, row in ipairs(READ_ONLY) do
    it("names the directory that is not writable for " .. row[1] .. ": exit 2, nothing written", function()
      local cfg = copy_example(dir, "sensor-mac.cfg")
      assert(os.execute(string.format("mkdir -p %s/ro %s/rw && chmod 755 %s %s/ro && chmod 777 %s/rw", dir, dir, dir,
        dir, dir)))
      local old = journal.open(dir .. "/ro/old.db", { product = "sensor-mac" })
      old:close()
      local before = slurp(dir .. "/ro/old.db")
      if as_user() == "" then assert(os.execute("chmod 555 " .. dir .. "/ro")) end
      os.execute("chmod 644 " .. dir .. "/ro/old.db")
      local code, out, err = run(string.format("%slua5.4 %s/provision.lua %s --sim %s/%s --journal %s/%s --yes --json",
        as_user(), ROOT, cfg, dir, row[3], dir, row[2]), dir)
      assert.equal(2, code, err)
      local want = string.format("directory %s/%s is not writable: " .. row[5], dir, row[4], dir)
      assert.same({ "config error", want }, { dkjson.decode(out).status, dkjson.decode(out).reason })
      assert.truthy(err:find(want, 1, true), err)
      assert.is_nil(io.open(dir .. "/" .. row[3]))
      assert.is_nil(io.open(dir .. "/rw/j.db"))
      assert.is_nil(io.open(dir .. "/ro/j.db"))
      assert.equal(before, slurp(dir .. "/ro/old.db"))
    end)
  end

  -- keyed-node.cfg steps through 6 field writes (block 0: serial, model,
  -- uid_copy, crc; block 1: device_key, boot_key) and 2 locks in 3 OTP
  -- calls: block 0's adjacent fields in one, each key alone, the last also
  -- locking blocks 0 and 1. PROGRAMMED[n]: the ranges and locks in place
  -- after step n.
  local KEYED_RANGES = { { 1, 2 }, { 3, 16 }, { 17, 28 }, { 29, 30 }, { 33, 48 }, { 49, 64 } }
  local PROGRAMMED = { 4, 4, 4, 4, 5, 8, 8, 8 }
  local function programmed(b)
    local n = 0
    for _, r in ipairs(KEYED_RANGES) do
      if b.otp:sub(r[1], r[2]) ~= ("\xFF"):rep(r[2] - r[1] + 1) then n = n + 1 end
    end
    return n + select(2, b.locks:gsub("1", ""))
  end

  it("completes every board after a SIGKILL right after each OTP write or lock step", function()
    local cfg = copy_example(dir, "keyed-node.cfg")
    local j = " --journal " .. dir .. "/keyed-node.db"
    for n = 1, 8 do
      local img = dir .. "/kill" .. n .. ".img"
      local code = provision(dir, cfg .. " --sim " .. img .. j .. " --yes", "STOTP_TEST_CRASH_AFTER_WRITES=" .. n)
      assert.equal(137, code, "kill after OTP step " .. n)
      assert.equal(PROGRAMMED[n], programmed(readback(dir, img)), "kill after OTP step " .. n)
      local code2, _, err = provision(dir, cfg .. " --sim " .. img .. j .. " --yes")
      assert.equal(0, code2, n .. ": " .. err)
      local b = readback(dir, img)
      assert.same({ 8, "1100000000000000" }, { programmed(b), b.locks })
    end
    -- there is no 9th step: the run completes untouched by the hook
    assert.equal(0, (provision(dir, cfg .. " --sim " .. dir .. "/kill9.img" .. j .. " --yes",
      "STOTP_TEST_CRASH_AFTER_WRITES=9")))
    local rows = records(dir .. "/keyed-node.db", "keyed-node")
    assert_consistent(rows)
    assert.equal(9, #rows)
    for _, r in ipairs(rows) do assert.equal("locked", r.state) end
  end)

  -- Power lost half-way through the Nth flash program operation (vprobe
  -- VPROBE_FAULT powerloss@N) leaves a field partly burned: its own
  -- journal completes it; another journal refuses it as foreign data.
  it("completes a field half burned by a power loss, through the journal that began it only", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local j = " --journal " .. dir .. "/sensor-mac.db"
    -- another line's journal: the same recipe, a pool that starts elsewhere
    local other = dir .. "/other.cfg"
    write(other, (slurp(cfg):gsub("first = 100000", "first = 150000"):gsub('"sensor%-mac.db"', '"other.db"')))
    local cut = 0
    for n = 1, 40 do
      local img = dir .. "/pl" .. n .. ".img"
      local code = provision(dir, cfg .. " --sim " .. img .. j .. " --yes", "VPROBE_FAULT=powerloss@" .. n)
      if code == 0 then break end
      assert.equal(1, code, "powerloss@" .. n)
      cut = n
      local half = slurp(img)
      if readback(dir, img).otp:sub(1, 19) ~= ("\xFF"):rep(19) then
        local code3, _, err3 = provision(dir, other .. " --sim " .. img .. " --journal " .. dir .. "/other.db --yes")
        assert.equal(1, code3, "powerloss@" .. n)
        assert.truthy(err3:find("this board was provisioned before (another journal?)", 1, true), err3)
        assert.equal(half, slurp(img))
      end
      local code2, _, err2 = provision(dir, cfg .. " --sim " .. img .. j .. " --yes")
      assert.equal(0, code2, "powerloss@" .. n .. ": " .. err2)
      local b = readback(dir, img)
      assert.same({ sensor_block0(100000 + n - 1), "1000000000000000" }, { b.otp:sub(1, 19), b.locks })
    end
    assert.is_true(cut >= 5, "only " .. cut .. " program operations were cut")
    assert_consistent(records(dir .. "/sensor-mac.db", "sensor-mac"))
  end)

  -- Review item S1, end to end: serial 100001 must not become 100000.
  -- The recipe without its lock: a locked block would be refused anyway,
  -- and boards are not always locked (a line may lock later, a run may die
  -- before its lock).
  it("refuses to re-burn a board another journal provisioned; image byte-identical", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local text, n = slurp(cfg):gsub("\nlock { 0 }\n", "\n")
    assert.equal(1, n)
    write(cfg, text)
    local a = " --journal " .. dir .. "/a.db"
    assert.equal(0, (provision(dir, cfg .. " --sim " .. dir .. "/x.img" .. a .. " --yes")))
    assert.equal(0, (provision(dir, cfg .. " --sim " .. dir .. "/y.img" .. a .. " --yes")))
    local image = slurp(dir .. "/y.img")
    local code, out, err = provision(dir, cfg .. " --sim " .. dir .. "/y.img --journal " .. dir .. "/b.db --yes")
    assert.equal(1, code)
    assert.falsy(out:find("provisioned:", 1, true))
    assert.truthy(err:find("plan refused, nothing written: field 'serial': block 0 holds A1 86 01 00, a different value " ..
      "than planned (A0 86 01 00); this board was provisioned before (another journal?)", 1, true), err)
    assert.equal(image, slurp(dir .. "/y.img"))
    -- the refused board keeps no serial of journal b (issue 10 item 5)
    assert.same({}, records(dir .. "/b.db", "sensor-mac"))
  end)

  -- Review item S6, in the form `make run` uses.
  it("keeps --sim runs out of the recipe's journal: IMAGE.journal.db instead", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    for _ = 1, 2 do
      local code, out, err = provision(dir, cfg .. " --sim " .. dir .. "/demo-board.img --yes")
      assert.equal(0, code, err)
      assert.truthy(out:find("journal " .. dir .. "/demo-board.img.journal.db (a --sim run's own", 1, true), out)
    end
    assert.is_nil(slurp(dir .. "/sensor-mac.db"))
    local rows = records(dir .. "/demo-board.img.journal.db", "sensor-mac")
    assert.same({ 1, 100000, "locked" }, { #rows, rows[1].serial, rows[1].state })
    local probe = readback(dir, dir .. "/demo-board.img")
    assert.equal(probe.uid, rows[1].uid)
    assert.truthy(rows[1].probe_serial:find("^sim:%x+$"), rows[1].probe_serial)
    local code, help = provision(dir, "--help")
    assert.equal(0, code)
    assert.truthy(help:find("IMAGE.journal.db", 1, true))
  end)

  it("exits 2 on every malformed config, opens no probe, creates no image", function()
    for _, row in ipairs(bad.rows) do
      if row.key then write(dir .. "/keys/k.key", row.key) end
      write(dir .. "/bad.cfg", bad.HEADER .. row[2])
      local code, out, err = provision(dir, dir .. "/bad.cfg --sim " .. dir .. "/never.img --yes")
      assert.equal(2, code, row[1])
      assert.equal("", out)
      assert.truthy(err:gsub(dir .. "/", ""):find(row[3], 1, true), row[1] .. ": " .. err)
      assert.is_nil(slurp(dir .. "/never.img"), row[1])
      assert.is_nil(slurp(dir .. "/t.db"), row[1])
      assert.is_nil(slurp(dir .. "/never.img.journal.db"), row[1])
      assert.is_nil(slurp(dir .. "/pwned"), row[1])
    end
  end)

  local function two_at_once(url)
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local cmds = {}
    for i = 1, 4 do
      cmds[i] = string.format("lua5.4 %s/provision.lua %s --sim %s/p%d.img --yes --json --journal %s > %s/p%d.json",
        ROOT, cfg, dir, i, sh_quote(url), dir, i)
    end
    assert.equal(0, (run("(" .. table.concat(cmds, " & ") .. " & wait)", dir)))
    local got = {}
    for i = 1, 4 do
      local r = dkjson.decode(slurp(dir .. "/p" .. i .. ".json"))
      assert.equal("provisioned", r.status)
      got[#got + 1] = r.serial
      assert.equal(sensor_block0(r.serial), readback(dir, dir .. "/p" .. i .. ".img").otp:sub(1, 19))
    end
    table.sort(got)
    assert.same({ 100000, 100001, 100002, 100003 }, got)
    assert_consistent(records(url, "sensor-mac"))
  end

  it("never gives one serial to two stations at once on one SQLite journal", function()
    two_at_once(dir .. "/shared.db")
  end)

  describe("with a PostgreSQL journal", function()
    local server, reason = pg_server.start()
    if not server then
      pending("PostgreSQL end-to-end skipped: " .. reason)
      return
    end
    teardown(function() pg_server.stop(server) end)
    it("never gives one serial to two stations at once", function()
      two_at_once(server.url)
    end)
  end)

  it("provisions through the libusb drop-in as well as --sim", function()
    local cfg = copy_example(dir, "sensor-mac.cfg")
    local img = dir .. "/usb.img"
    local env = "LD_LIBRARY_PATH=" .. BUILD .. "/vprobe VPROBE_STATE=" .. img .. " VPROBE_TARGET=stm32f407vg"
    local code, out, err = provision(dir, cfg .. " --yes", env)
    assert.equal(0, code, err)
    assert.truthy(out:find("provisioned: serial 100000", 1, true), out)
    local b = readback(dir, img)
    assert.equal(sensor_block0(100000), b.otp:sub(1, 19))
    assert.equal("1000000000000000", b.locks)
  end)
end)
