-- Issue 7 item 1: a misread UID. One corrupted or cut reply at attach must
-- not let stotp burn or lock bytes for a UID the chip does not have: the
-- UID is read again before every program pass and every lock, and a UID of
-- all 00 or all FF is refused at attach. Faults: corrupt@N:OFFSET:XOR and
-- shortin@N:M (src/vprobe/faults.h), through both transports and through
-- provision.lua.
local kit = require("corekit")
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit

local ROOT = io.popen("pwd"):read("l")
local BUILD = ROOT .. "/" .. (os.getenv("STOTP_BUILD") or "build")
local IMG = kit.TMP .. "/stotp-uid-misread.img"
local PART, PROBE = "stm32f429zi", "v2-1:J40M27"
local UID_ADDR = 0x1FFF7A10 -- F4 UID_BASE (CMSIS; OOCD stm32f2x.c)

-- A fresh board image (made by a clean attach) and its UID.
local function fresh(img)
  os.remove(img)
  local p = assert(kit.open("sim", img, PART, PROBE))
  local t = assert(p:attach())
  local uid = t.uid
  p:close()
  return uid
end

-- The number (as VPROBE_FAULT counts, from the board's opening) of the
-- command packet whose reply carries the UID at attach, and where in that
-- reply the UID starts (attach reads it with the OTP area, issue 12).
local function uid_command(img)
  local p = assert(kit.open("sim", img, PART, PROBE))
  local before = p:stats().commands
  p:trace(true)
  assert(p:attach())
  local n, at
  for _, r in ipairs(kit.reads(p:trace(false))) do
    if r.addr <= UID_ADDR and UID_ADDR + 12 <= r.addr + r.n and not n then n, at = before + r.index, UID_ADDR - r.addr end
  end
  p:close()
  return assert(n, "no UID read at attach"), at
end

local function hexbytes(s) return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)) end

describe("a misread UID", function()
  local n_uid, at
  setup(function()
    fresh(IMG)
    n_uid, at = uid_command(IMG)
  end)
  teardown(function() os.remove(IMG); os.remove(IMG .. ".lock") end)

  for _, transport in ipairs { "usb", "sim" } do
    describe("(" .. transport .. ")", function()
      it("refuses otp_write when the attach-time UID read was corrupted; nothing written", function()
        local uid = fresh(IMG)
        local before = slurp(IMG)
        local p = assert(kit.open(transport, IMG, PART, PROBE, { fault = ("corrupt@%d:%d:0x40"):format(n_uid, at + 3) }))
        local t = assert(p:attach())
        assert.are_not.equal(uid, t.uid) -- the fault did hit the UID
        local ok, msg, code = t:otp_write(0, "\x12\x34\x56\x78")
        p:close()
        assert.is_nil(ok)
        assert.equal("target", code)
        assert.matches("^target: the UID read differently", msg)
        assert.matches("unreliable", msg)
        assert.matches(uid, msg, 1, true)
        assert.equal(before, slurp(IMG))
      end)

      it("refuses otp_lock when the attach-time UID read was corrupted; nothing locked", function()
        local uid = fresh(IMG)
        local block = string.rep("\x5A", 32)
        do -- block 0 written and verified through a clean handle
          local p = assert(kit.open(transport, IMG, PART, PROBE))
          local t = assert(p:attach())
          assert(t:otp_write(0, block))
          p:close()
        end
        local before = slurp(IMG)
        local p = assert(kit.open(transport, IMG, PART, PROBE, { fault = ("corrupt@%d:%d:1"):format(n_uid, at + 11) }))
        local t = assert(p:attach())
        assert.are_not.equal(uid, t.uid)
        local ok, msg, code = t:otp_lock(0, { expect = { [0] = block } })
        p:close()
        assert.same({ nil, "target" }, { ok, code })
        assert.matches("^target: the UID read differently", msg)
        assert.equal(before, slurp(IMG))
        assert.equal(string.rep("\xFF", 16), kit.image_locks(IMG))
      end)

      it("refuses a short reply to the UID read at attach, never zero-filled", function()
        fresh(IMG)
        local before = slurp(IMG)
        local p = assert(kit.open(transport, IMG, PART, PROBE, { fault = ("shortin@%d:%d"):format(n_uid, at + 8) }))
        local t, msg, code = p:attach()
        p:close()
        assert.same({ nil, "usb" }, { t, code })
        assert.matches("short reply", msg)
        assert.equal(before, slurp(IMG))
      end)
    end)
  end

  for _, bad in ipairs { "000000000000000000000000", "ffffffffffffffffffffffff" } do
    it("refuses at attach a UID that reads " .. bad:sub(1, 2) .. " throughout", function()
      fresh(IMG)
      spit(IMG, (slurp(IMG):gsub("\nuid %x+", "\nuid " .. bad)))
      local before = slurp(IMG)
      local p = assert(kit.open("sim", IMG, PART, PROBE))
      local t, msg, code = p:attach()
      p:close()
      assert.same({ nil, "target" }, { t, code })
      assert.matches("reads all " .. bad:sub(1, 2):upper(), msg)
      assert.matches("unreliable", msg)
      assert.equal(before, slurp(IMG))
    end)
  end

  it("lets a clean run through: the re-read UID agrees", function()
    fresh(IMG)
    local p = assert(kit.open("sim", IMG, PART, PROBE))
    local t = assert(p:attach())
    assert.is_true((t:otp_write(0, "\x01\x02")))
    assert.is_true((t:otp_lock(0)))
    p:close()
    assert.equal("\x01\x02", hexbytes(slurp(IMG):match("\notp 0000: (%x%x%x%x)")))
  end)

  describe("provision.lua", function()
    local dir = kit.TMP .. "/stotp-uid-misread-prov"
    setup(function() os.execute("rm -rf " .. dir .. " && mkdir -p " .. dir) end)
    teardown(function() os.execute("rm -rf " .. dir) end)

    local function sh(cmd)
      local ok, _, code = os.execute(
        "unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_FAULT VPROBE_QUIRKS VPROBE_VOLTAGE VPROBE_STATS; cd " ..
        ROOT .. " && " .. cmd .. " >" .. dir .. "/out 2>" .. dir .. "/err")
      return ok and 0 or code, slurp(dir .. "/out"), slurp(dir .. "/err")
    end

    for _, how in ipairs { "sim", "usb" } do
      it("exits 1 and burns and locks nothing when the UID read at attach is corrupted (" .. how .. ")", function()
        local img = dir .. "/board-" .. how .. ".img"
        fresh(img)
        local n, at_uid = uid_command(img)
        local fault = ("corrupt@%d:%d:0x80"):format(n, at_uid)
        local before = slurp(img)
        local env = "VPROBE_TARGET=" .. PART .. " VPROBE_PROBE=" .. PROBE .. " VPROBE_FAULT=" .. fault
        local cmd
        if how == "sim" then
          cmd = env .. " lua5.4 provision.lua examples/sensor-mac.cfg --sim " .. img ..
            " --journal " .. dir .. "/j-" .. how .. ".db --yes"
        else
          cmd = env .. " VPROBE_STATE=" .. img .. " LD_LIBRARY_PATH=" .. BUILD .. "/vprobe" ..
            " lua5.4 provision.lua examples/sensor-mac.cfg --journal " .. dir .. "/j-" .. how .. ".db --yes"
        end
        local code, out, err = sh(cmd)
        assert.equal(1, code, out .. err)
        assert.matches("UID read differently", out .. err)
        assert.equal(before, slurp(img))
        assert.equal(string.rep("\xFF", 16), kit.image_locks(img))
      end)
    end
  end)
end)
