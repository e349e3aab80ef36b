-- vprobe is faithful when programs written by other people against real
-- probes work on it unchanged: st-info (stlink-tools 1.7) and OpenOCD 0.12,
-- run with the drop-in libusb (LD_LIBRARY_PATH=build/vprobe).
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local vb = require "vprobe_board"

local root = assert(io.popen("pwd")):read("l")
local shim_dir = root .. "/" .. (os.getenv("STOTP_BUILD") or "build") .. "/vprobe"
local tmp = testfiles.scratch("p")

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end



-- run a command line with the VPROBE_* variables of env; returns ok, output
local function run(env, cmdline)
  local parts = { "LD_LIBRARY_PATH=" .. shim_dir }
  for k, v in pairs(env) do parts[#parts + 1] = k .. "='" .. v .. "'" end
  local log = tmp .. "/run.log"
  local ok = os.execute(table.concat(parts, " ") .. " timeout 60 " .. cmdline .. " >" .. log .. " 2>&1")
  return ok == true, slurp(log)
end

-- the OTP data bytes of a board image ("otp 0000: <hex>" lines)
local function image_otp(path)
  local bytes = {}
  for off, hex in slurp(path):gmatch("otp (%x+): (%x+)") do
    local base = tonumber(off, 16)
    for i = 1, #hex // 2 do bytes[base + i] = tonumber(hex:sub(2 * i - 1, 2 * i), 16) end
  end
  return bytes
end

local function fill(n, byte) return string.rep(string.char(byte), n) end

local function bytes_of(s)
  local t = {}
  for i = 1, #s do t[i] = s:byte(i) end
  return t
end

describe("vprobe.peers", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  describe("st-info", function()
    if not exists("/usr/bin/st-info") then
      pending("st-info is not installed (stlink-tools)")
      return
    end
    -- chip id = DBGMCU_IDCODE DEV_ID (CMSIS, OOCD stm32f2x.c); flash from the
    -- part's flash-size register; SRAM as st-info's chip table gives it
    local rows = {
      { target = "stm32f429zi", chipid = "0x0419", flash = 2097152, sram = 262144 },
      { target = "stm32f407vg", chipid = "0x0413", flash = 1048576, sram = 196608 },
    }
    for _, row in ipairs(rows) do
      it("lists a " .. row.target .. " with its chip id, flash and SRAM", function()
        local env = { VPROBE_STATE = tmp .. "/" .. row.target .. ".img", VPROBE_TARGET = row.target }
        local ok, out = run(env, "st-info --probe")
        assert.is_true(ok, out)
        assert.same({ "1", row.chipid, tostring(row.flash), tostring(row.sram) }, {
          out:match("Found (%d+) stlink"), out:match("chipid:%s+(%S+)"),
          out:match("flash:%s+(%d+)"), out:match("sram:%s+(%d+)") })
        local b <close> = assert(vb.open{ state = env.VPROBE_STATE })
        local serial = b:usb().serial
        b:close()
        local results = {}
        for _, opt in ipairs{ "--serial", "--chipid", "--flash" } do
          local ok2, o = run(env, "st-info " .. opt)
          assert.is_true(ok2, o)
          results[#results + 1] = o:match("(%S+)")
        end
        assert.same({ serial, row.chipid, string.format("0x%x", row.flash) }, results)
      end)
    end

    it("lists one probe per image of VPROBE_STATE, each with its own serial", function()
      local a, c = tmp .. "/multi-a.img", tmp .. "/multi-b.img"
      local ok, out = run({ VPROBE_STATE = a .. ":" .. c }, "st-info --probe")
      assert.is_true(ok, out)
      local serials = {}
      for s in out:gmatch("serial:%s+(%S+)") do serials[#serials + 1] = s end
      assert.same(2, #serials)
      assert.are_not.equal(serials[1], serials[2])
    end)
  end)

  describe("OpenOCD", function()
    if not exists("/usr/bin/openocd") then
      pending("openocd is not installed")
      return
    end

    -- OpenOCD's two ST-Link drivers: hla (interface/stlink.cfg: memory
    -- commands) and st-link (interface/stlink-dap.cfg, needs J24+: DAP
    -- register commands, and RW_MISC_OUT/IN on V2 J32+ / V3 J2+, OOCD
    -- stlink_usb_misc_rw_segment)
    local IFACE = {
      hla = "-f interface/stlink.cfg",
      dap = "-f interface/stlink-dap.cfg -c 'transport select dapdirect_swd'",
    }

    -- bank 1 of target/stm32f4x.cfg is the OTP bank at 0x1FFF7800 (OOCD
    -- stm32f2x.c)
    local function openocd_via(iface, env, ...)
      local parts = { "openocd " .. IFACE[iface] .. " -c 'set WORKAREASIZE 0'",
                      "-f target/stm32f4x.cfg",
                      "-c 'gdb_port disabled' -c 'tcl_port disabled' -c 'telnet_port disabled'",
                      "-c init -c 'reset halt'" }
      for _, c in ipairs{ ... } do parts[#parts + 1] = "-c '" .. c .. "'" end
      parts[#parts + 1] = "-c shutdown"
      return run(env, table.concat(parts, " "))
    end
    local function openocd(env, ...) return openocd_via("hla", env, ...) end

    local RUNS = {
      { "hla", "v2" }, { "hla", "v2-1" }, { "hla", "v3" },
      { "dap", "v2:J25" }, { "dap", "v2:J37" }, { "dap", "v2-1:J40M27" }, { "dap", "v3:J7M3" },
    }
    for _, r in ipairs(RUNS) do
      local iface, probe = r[1], r[2]
      local function run_oocd(env, ...) return openocd_via(iface, env, ...) end
      it("reads, writes (AND) and respects OTP locks through a " .. probe .. " probe, OpenOCD " .. iface, function()
        local img = tmp .. "/oocd-" .. iface .. "-" .. probe:gsub(":", "_") .. ".img"
        local env = { VPROBE_STATE = img, VPROBE_TARGET = "stm32f429zi", VPROBE_PROBE = probe }
        local inb, in2, outb = tmp .. "/in.bin", tmp .. "/in2.bin", tmp .. "/out.bin"
        spit(inb, fill(512, 0x55))
        spit(in2, fill(512, 0x33))
        local ok, out = run_oocd(env, "flash info 1", "flash read_bank 1 " .. outb,
                                "stm32f2x otp 1 enable", "flash write_bank 1 " .. inb .. " 0")
        assert.is_true(ok, out)
        assert.truthy(out:find("flash size = 512 bytes", 1, true), out)
        assert.same(fill(512, 0xFF), slurp(outb))      -- a fresh part reads erased
        assert.same(bytes_of(fill(512, 0x55)), image_otp(img))
        ok, out = run_oocd(env, "stm32f2x otp 1 enable", "flash write_bank 1 " .. in2 .. " 0")
        assert.is_true(ok, out)
        assert.same(bytes_of(fill(512, 0x55 & 0x33)), image_otp(img))
        -- lock block 0 in the image: LOCKB0 = 0x00 (RM0090 §3.8)
        spit(img, (slurp(img):gsub("\nlock ff", "\nlock 00")))
        spit(inb, fill(32, 0x00))
        ok, out = run_oocd(env, "flash info 1", "stm32f2x otp 1 enable", "flash write_bank 1 " .. inb .. " 0")
        assert.is_false(ok, out)
        assert.truthy(out:find("#  0: 0x00000000 (0x20 0kB) protected", 1, true), out)
        assert.truthy(out:find("Error: error writing to flash", 1, true), out)
        assert.same(bytes_of(fill(512, 0x11)), image_otp(img))
      end)
    end

    it("fails the write on V2 J24, which lacks 16-bit memory commands (OOCD)", function()
      local img = tmp .. "/oocd-j24.img"
      local env = { VPROBE_STATE = img, VPROBE_TARGET = "stm32f407vg", VPROBE_PROBE = "v2:J24" }
      spit(tmp .. "/in.bin", fill(32, 0x00))
      local ok, out = openocd(env, "stm32f2x otp 1 enable", "flash write_bank 1 " .. tmp .. "/in.bin 0")
      assert.is_false(ok, out)
      assert.truthy(out:find("STLINK V2J24S7", 1, true), out)
      assert.same(bytes_of(fill(512, 0xFF)), image_otp(img))
    end)
  end)
end)
