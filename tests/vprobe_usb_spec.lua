-- The USB face of vprobe: identities per probe kind (facts §1.1), packet
-- framing (facts §1.2), and the drop-in libusb-1.0 driven through dlopen
-- as a host would drive it.
local vb = require "vprobe_board"
local testenv = require "testenv"

local root = assert(io.popen("pwd")):read("l")
local shim = root .. "/" .. (os.getenv("STOTP_BUILD") or "build") .. "/vprobe/libusb-1.0.so.0"
local tmp = os.tmpname()
os.remove(tmp)
os.execute("mkdir -p " .. tmp)
local n_img = 0

local function img()
  n_img = n_img + 1
  return tmp .. "/u" .. n_img .. ".img"
end

local function cmd(fmt, ...)
  local s = string.pack(fmt, ...)
  return s .. string.rep("\0", 16 - #s)
end

local VARS = { "VPROBE_STATE", "VPROBE_PROBE", "VPROBE_TARGET", "VPROBE_FAULT", "VPROBE_STATS" }

-- run the libusb scenario of vprobe_board with these VPROBE_* variables
local function scenario(env, sends)
  for _, k in ipairs(VARS) do testenv.setenv(k, env[k]) end
  local ok, r = pcall(vb.libusb_scenario, shim, sends)
  for _, k in ipairs(VARS) do testenv.setenv(k, nil) end
  assert(ok, r)
  return r
end

local function hex_bytes(hex)
  return (hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

describe("vprobe.usb", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  describe("identities", function()
    -- { probe, pid, ep_out, ep_in, ep_trace, max_packet, interfaces, product } (facts §1.1)
    local rows = {
      { "v2", 0x3748, 0x02, 0x81, 0x83, 64, 1, "STM32 STLink" },
      { "v2-1", 0x374B, 0x01, 0x81, 0x82, 64, 4, "STM32 STLink" },
      { "v2-1@3752", 0x3752, 0x01, 0x81, 0x82, 64, 3, "STM32 STLink" },
      { "v3", 0x374E, 0x01, 0x81, 0x82, 512, 3, "STLINK-V3" },
      { "v3@374f", 0x374F, 0x01, 0x81, 0x82, 512, 5, "STLINK-V3" },
      { "v3@3753", 0x3753, 0x01, 0x81, 0x82, 512, 6, "STLINK-V3" },
      { "v3@3754", 0x3754, 0x01, 0x81, 0x82, 512, 3, "STLINK-V3" },
    }
    for _, row in ipairs(rows) do
      it("presents " .. row[1] .. " as VID 0483 PID " .. string.format("%04X", row[2]), function()
        local b <close> = assert(vb.open{ state = img(), probe = row[1] })
        local u = b:usb()
        assert.same({ 0x0483, row[2], row[3], row[4], row[5], row[6], row[7], "STMicroelectronics", row[8] },
                    { u.vid, u.pid, u.ep_out, u.ep_in, u.ep_trace, u.max_packet, u.num_interfaces,
                      u.manufacturer, u.product })
      end)
    end

    it("gives an old V2 a 12-raw-byte serial descriptor (bLength 26)", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2" })
      local u = b:usb()
      local raw = hex_bytes(u.serial)
      assert.same(26, #u.serial_desc)
      assert.same("\26\3" .. raw:gsub(".", "%0\0"), u.serial_desc)
    end)

    it("gives V2-1 and V3 24 hex characters in UTF-16 (bLength 50)", function()
      for _, probe in ipairs{ "v2-1", "v3" } do
        local b <close> = assert(vb.open{ state = img(), probe = probe })
        local u = b:usb()
        assert.same(24, #u.serial)
        assert.is_truthy(u.serial:match("^%x+$"))
        assert.same("\50\3" .. u.serial:gsub(".", "%0\0"), u.serial_desc)
      end
    end)

    it("keeps a board's serial across opens and gives another board another", function()
      local path = img()
      local function serial_of(p)
        local b <close> = assert(vb.open{ state = p })
        return b:usb().serial
      end
      local first, again, other = serial_of(path), serial_of(path), serial_of(img())
      assert.same(first, again)
      assert.are_not.equal(first, other)
    end)
  end)

  describe("framing", function()
    it("times out an IN with no reply pending", function()
      local b <close> = assert(vb.open{ state = img() })
      assert.same({ nil, "timeout", -7 }, { b:in_(b:usb().ep_in, 64) })
    end)

    it("stalls transfers on endpoints the probe lacks, and times out the trace endpoint", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2" })
      local u = b:usb()
      assert.same({ nil, "pipe", -9 }, { b:out(0x01, cmd("B", 0xF1)) })
      assert.same({ nil, "pipe", -9 }, { b:in_(0x82, 64) })
      assert.same({ nil, "timeout", -7 }, { b:in_(u.ep_trace, 64) })
    end)

    it("stalls a command packet longer than 16 bytes", function()
      local b <close> = assert(vb.open{ state = img() })
      assert.same({ nil, "pipe", -9 }, { b:out(b:usb().ep_out, cmd("B", 0xF1) .. "\0") })
    end)

    it("hands a long reply out in whole packets when the buffer is a packet multiple", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2-1:J40M27" })
      local u = b:usb()
      assert(b:out(u.ep_out, cmd("BB", 0xF2, 0x56)))  -- GET_BOARD_IDENTIFIERS: 128 bytes
      local a, c = b:in_(u.ep_in, 64), b:in_(u.ep_in, 64)
      assert.same({ 64, 64, 0x80 }, { #a, #c, a:byte(1) })
      assert.same({ nil, "timeout", -7 }, { b:in_(u.ep_in, 64) })
    end)

    it("drops an unread reply when the next command arrives", function()
      local b <close> = assert(vb.open{ state = img(), probe = "v2-1" })
      local u = b:usb()
      assert(b:out(u.ep_out, cmd("B", 0xF1)))
      assert(b:out(u.ep_out, cmd("B", 0xF5)))
      assert.same("\1\0", b:in_(u.ep_in, 64))
    end)
  end)

  describe("drop-in libusb", function()
    it("lists one device per image with the identity and descriptors of its board", function()
      local a, c = img(), img()
      local r = scenario{ VPROBE_STATE = a .. ":" .. c, VPROBE_PROBE = "v2-1" }
      assert.same(0, r.init)
      assert.same(2, #r.devices)
      for i, path in ipairs{ a, c } do
        local b <close> = assert(vb.open{ state = path, probe = "v2-1", index = i - 1 })
        local u = b:usb()
        local d = r.devices[i]
        assert.same({ u.vid, u.pid, u.bus, u.address, u.num_interfaces, 0xFF, { 0x81, 0x01, 0x82 }, 64,
                      u.serial, u.serial_desc, u.product },
                    { d.vid, d.pid, d.bus, d.address, d.interfaces, d.class, d.endpoints, d.max_packet,
                      d.serial_ascii, d.serial_desc, d.product })
      end
      assert.are_not.equal(r.devices[1].address, r.devices[2].address)
    end)

    it("shows a V2's raw serial bytes as libusb's ASCII conversion does ('?' above 0x7F)", function()
      local path = img()
      local r = scenario{ VPROBE_STATE = path, VPROBE_PROBE = "v2" }
      local b <close> = assert(vb.open{ state = path, probe = "v2" })
      local raw = hex_bytes(b:usb().serial)
      assert.same(raw:gsub("[\128-\255]", "?"), r.devices[1].serial_ascii)
      assert.same(b:usb().serial_desc, r.devices[1].serial_desc)
    end)

    it("runs async transfers in submission order and delivers callbacks from handle_events", function()
      local r = scenario{ VPROBE_STATE = img(), VPROBE_PROBE = "v3" }
      local COMPLETED, TIMED_OUT, CANCELLED = 0, 2, 3  -- enum libusb_transfer_status
      assert.same(0, r.claim)
      assert.same({ { status = COMPLETED, actual = 16 }, { status = COMPLETED, actual = 6 },
                    { status = TIMED_OUT, actual = 0 }, { status = CANCELLED, actual = 0 } },
                  { r.async[1], r.async[2], r.async[3], r.async[4] })
      assert.same({ "1234", 0 }, { r.async.order, r.async.cancel_rc })
      assert.same(string.pack("<I2I2", 0x0483, 0x374E), r.async.reply:sub(3, 6))
    end)

    it("fails every call with NO_DEVICE after an unplug and drops the device from the list", function()
      -- packet 1 is the async GET_VERSION; round trips 2 and 3 work, the 4th is unplugged
      local r = scenario({ VPROBE_STATE = img(), VPROBE_FAULT = "unplug@4" }, 10)
      assert.same({ 2, -4, -4, 0 }, { r.round_trips, r.error, r.claim_after, r.devices_after })
    end)

    it("writes the summed stats as JSON at libusb_exit", function()
      local stats = tmp .. "/shim-stats.json"
      scenario({ VPROBE_STATE = img(), VPROBE_STATS = stats }, 3)
      local f = assert(io.open(stats))
      local text = f:read("a")
      f:close()
      -- 1 async GET_VERSION + 3 GET_CURRENT_MODE round trips
      assert.same({ "4", "64", tostring(6 + 3 * 2) },
                  { text:match('"transactions": (%d+)'), text:match('"bytes_out": (%d+)'),
                    text:match('"bytes_in": (%d+)') })
    end)

    it("refuses to initialise on a bad VPROBE_FAULT", function()
      local r = scenario{ VPROBE_STATE = img(), VPROBE_FAULT = "unplug@0" }
      assert.same(-99, r.init)  -- LIBUSB_ERROR_OTHER
    end)
  end)
end)
