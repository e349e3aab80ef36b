-- Interoperability with OpenOCD 0.12 on the same board image: what stotp
-- writes and locks, OpenOCD reads and respects; what OpenOCD writes, stotp
-- reads. OpenOCD runs as a subprocess on the drop-in libusb
-- (tests/support/openocd.lua); stotp runs in this process, both in process
-- (stotp.open{sim = image}) and through the drop-in (VPROBE_STATE).
local testfiles = require("testfiles")
local oocd = require("openocd")

-- OTP geometry per part (CMSIS FLASH_OTP_BASE): 16 blocks of 32 bytes on F2/F4
-- (PM0059 §2.7, RM0090 §3.8), of 64 bytes on the F76x/F77x (RM0410 §3.6);
-- OpenOCD shows the same as 16 "sectors" of its OTP bank (OOCD stm32f2x.c).
local PARTS = {
  { part = "stm32f407vg", bs = 32 },
  { part = "stm32f429zi", bs = 32 },
  { part = "stm32f205rg", bs = 32 },
  { part = "stm32f767zi", bs = 64 },
}
local PROBES = { "v2", "v3" }
local TRANSPORTS = { sim = "in process", usb = "through the drop-in" }

local hex = oocd.hex
local FF = function(n) return ("\255"):rep(n) end

-- Bytes 0x01..0xFF (never 0x00, so a later 0x00 write is a real change),
-- with some 0xFF; different for each seed.
local function pattern(n, seed)
  local t = {}
  for i = 0, n - 1 do
    t[#t + 1] = string.char(i % 9 == 4 and 0xFF or (i * 37 + seed * 11) % 255 + 1)
  end
  return table.concat(t)
end

local function open_stotp(transport, board)
  local stotp = require("stotp")
  if transport == "sim" then
    return stotp.open { sim = board.image, sim_part = board.part, sim_probe = board.probe }
  end
  local env = require("testenv")
  for _, k in ipairs { "VPROBE_FAULT", "VPROBE_STATS", "VPROBE_VOLTAGE", "VPROBE_LATENCY_US" } do
    env.setenv(k, nil)
  end
  env.setenv("VPROBE_STATE", board.image)
  env.setenv("VPROBE_TARGET", board.part)
  env.setenv("VPROBE_PROBE", board.probe)
  return stotp.open()
end

-- Runs fn(target) on a stotp connection to the board; the probe is closed
-- (and the image saved) before OpenOCD runs on it.
local function with_stotp(transport, board, fn)
  local p <close> = assert(open_stotp(transport, board))
  local t = assert(p:attach())
  return fn(t)
end

local function locks_of(t)
  local l = {}
  for i, locked in ipairs(assert(t:otp_locks())) do l[i] = locked and "1" or "0" end
  return table.concat(l)
end

describe("interop with OpenOCD", function()
  if not oocd.available() then
    pending("OpenOCD interop skipped: " .. oocd.EXE .. " is not installed")
    return
  end

  local dir
  before_each(function() dir = oocd.tmpdir() end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  for _, info in ipairs(PARTS) do
    for _, probe in ipairs(PROBES) do
      local bs, size = info.bs, 16 * info.bs
      local function board()
        return { image = dir .. "/board.img", part = info.part, probe = probe, dir = dir }
      end

      describe(string.format("(%s, %s probe, %s)", info.part, probe, oocd.CONFIG[info.part]), function()
        for _, transport in ipairs { "sim", "usb" } do
          local how = TRANSPORTS[transport]

          it("OpenOCD reads back exactly the bytes stotp wrote " .. how .. ", no block protected", function()
            local b, off = board(), bs // 2 + 1
            local data = pattern(size - bs, #info.part + #probe)
            with_stotp(transport, b, function(t)
              assert.is_true((t:otp_write(off, data)))
            end)
            local r = oocd.read(b)
            assert.is_true(r.ok, r.out)
            assert.equal(hex(FF(off) .. data .. FF(size - off - #data)), hex(r.otp), r.out)
            assert.equal(("0"):rep(16), r.protected, r.out)
          end)

          it("stotp reads " .. how .. " exactly the bytes OpenOCD wrote", function()
            local b, off = board(), bs + 2
            local data = pattern(2 * bs + 6, 7)
            local w = oocd.write(b, off, data)
            assert.is_true(w.ok, w.out)
            with_stotp(transport, b, function(t)
              assert.equal(hex(FF(off) .. data .. FF(size - off - #data)), hex(t:otp_read()), w.out)
              assert.equal(("0"):rep(16), locks_of(t), w.out)
            end)
          end)

          it("a block stotp locks " .. how .. " is protected in OpenOCD, which cannot write it; otp_check says locked",
            function()
              local b = board()
              local data = pattern(3 * bs, 5)
              with_stotp(transport, b, function(t)
                assert.is_true((t:otp_write(0, data)))
                -- Block 15 was never written by this handle: lock it against
                -- its known (blank) contents.
                assert.is_true((t:otp_lock({ 0, 2, 15 }, { expect = { [15] = FF(bs) } })))
              end)
              local expected = hex(data .. FF(size - #data))
              local r = oocd.read(b)
              assert.is_true(r.ok, r.out)
              assert.equal("1010000000000001", r.protected, r.out)
              assert.equal(expected, hex(r.otp), r.out)

              local w = oocd.write(b, 2 * bs, "\0\0")
              assert.is_false(w.ok, w.out)
              -- WRPERR, as OpenOCD's stm32x_wait_status_busy words it (RM0090
              -- §3.8)
              assert.truthy(w.out:find("Error: stm32x device protected", 1, true), w.out)
              assert.truthy(w.out:find("error writing to flash", 1, true), w.out)
              r = oocd.read(b)
              assert.is_true(r.ok, r.out)
              assert.equal(expected, hex(r.otp), w.out .. "\n" .. r.out)

              -- the unlocked block between them still takes OpenOCD's write
              local w1 = oocd.write(b, bs, "\0\0")
              assert.is_true(w1.ok, w1.out)
              with_stotp(transport, b, function(t)
                local c = t:otp_check(2 * bs, "\0\0")
                assert.same({ ok = false, locked = 2, program = 0, bits = 0, actions = { "locked", "locked" } },
                  { ok = c.ok, locked = c.locked, program = c.program, bits = c.bits,
                    actions = { c.bytes[1].action, c.bytes[2].action } })
                local ok, _, code = t:otp_write(2 * bs, "\0\0")
                assert.same({ nil, "locked" }, { ok, code })
                local want = data:sub(1, bs) .. "\0\0" .. data:sub(bs + 3) .. FF(size - #data)
                assert.equal(hex(want), hex(t:otp_read()), w1.out)
                assert.equal("1010000000000001", locks_of(t))
              end)
            end)
        end
      end)
    end
  end
end)

-- examples/sensor-mac.cfg block 0, computed here from the recipe's text
-- and fields.lua's documented encodings, not by calling stotp:
--   magic u32le 0x53454E43, serial u32le, hw_rev u8 3,
--   mac = 02:80:E1:00:00:00 + (serial - first), 6 bytes network order,
--   crc32 (zlib) over those 15 bytes, u32le.
local FIRST_SERIAL, MAGIC, HW_REV, MAC_BASE = 100000, 0x53454E43, 3, 0x0280E1000000

local crc32 = testfiles.crc32

local function sensor_otp(serial)
  local rec = string.pack("<I4I4B", MAGIC, serial, HW_REV) .. string.pack(">I6", MAC_BASE + serial - FIRST_SERIAL)
  rec = rec .. string.pack("<I4", crc32(rec))
  return rec .. ("\255"):rep(512 - #rec)
end

describe("provisioning sensor-mac.cfg, read back through OpenOCD", function()
  if not oocd.available() then
    pending("OpenOCD interop skipped: " .. oocd.EXE .. " is not installed")
    return
  end

  local ROOT = assert(io.popen("pwd")):read("l")
  local dir
  before_each(function() dir = oocd.tmpdir() end)
  after_each(function() os.execute("rm -rf '" .. dir .. "'") end)

  it("checks its own CRC-32 against the standard check value", function()
    assert.equal(0xCBF43926, crc32("123456789"))
  end)

  local CASES = {
    { name = "--sim images", probe = nil },
    { name = "the drop-in as a V3 probe", probe = "v3", dropin = true },
  }
  for _, case in ipairs(CASES) do
    it("gives two fresh F4 boards (" .. case.name .. ") consecutive serials; OpenOCD reads exactly the planned bytes and lock",
      function()
        local journal = dir .. "/journal.db"
        local boards = {
          { image = dir .. "/a.img", part = "stm32f407vg", probe = case.probe, dir = dir },
          { image = dir .. "/b.img", part = "stm32f429zi", probe = case.probe, dir = dir },
        }
        local serials, logs = {}, {}
        for i, b in ipairs(boards) do
          local args = " --journal '" .. journal .. "' --yes"
          local prefix = oocd.env(b)
          if not case.dropin then
            args = args .. " --sim '" .. b.image .. "' --sim-part " .. b.part
            prefix = "unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE;"
          end
          local log = dir .. "/provision" .. i .. ".log"
          local cmd = prefix .. " lua5.4 " .. ROOT .. "/provision.lua " .. ROOT .. "/examples/sensor-mac.cfg" .. args
          local ok = os.execute(cmd .. " >'" .. log .. "' 2>&1")
          local f = assert(io.open(log))
          logs[i] = "$ " .. cmd .. "\n" .. f:read("a")
          f:close()
          assert.is_true(ok == true, logs[i])
          serials[i] = tonumber(logs[i]:match("provisioned: serial (%d+)"))
        end
        assert.same({ FIRST_SERIAL, FIRST_SERIAL + 1 }, serials, table.concat(logs, "\n"))
        local jf = io.open(journal)
        assert.truthy(jf, "no journal at the --journal path " .. journal)
        jf:close()
        for i, b in ipairs(boards) do
          local r = oocd.read(b)
          assert.is_true(r.ok, r.out)
          assert.equal(hex(sensor_otp(FIRST_SERIAL + i - 1)), hex(r.otp), r.out)
          assert.equal("1000000000000000", r.protected, r.out)
        end
      end)
  end
end)
