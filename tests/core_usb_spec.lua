-- stotp.core over the libusb drop-in: listing, choosing a probe by serial.
local env = require("testenv")
local stotp = require("stotp.core")

local TMP = require("corekit").TMP
local A, B = TMP .. "/stotp-core-usb-a.img", TMP .. "/stotp-core-usb-b.img"

local function boards(state, probe)
  env.setenv("VPROBE_FAULT", nil)
  env.setenv("VPROBE_VOLTAGE", nil)
  env.setenv("VPROBE_STATS", nil)
  env.setenv("VPROBE_TARGET", "stm32f407vg")
  env.setenv("VPROBE_PROBE", probe or "v2-1:J40M27")
  env.setenv("VPROBE_STATE", state)
end

-- The serial st-info (stlink-tools) prints for the first probe.
local function st_info_serial()
  local f = io.popen("st-info --probe 2>/dev/null")
  local out = f:read("a")
  f:close()
  return out:match("serial:%s*(%x+)")
end

describe("stotp.core usb", function()
  after_each(function() env.setenv("VPROBE_STATE", nil) end)

  for _, probe in ipairs { "v2:J25", "v2:J37", "v2-1:J40M27", "v3:J7M3" } do
    it("lists a " .. probe .. " with kind, firmware and the serial st-info shows", function()
      os.remove(A)
      boards(A, probe)
      local list = assert(stotp.probes())
      assert.equal(1, #list)
      local want_kind = ({ ["v2:J25"] = "V2", ["v2:J37"] = "V2", ["v2-1:J40M27"] = "V2-1", ["v3:J7M3"] = "V3" })[probe]
      assert.equal(want_kind, list[1].kind)
      assert.matches("^V%dJ%d+", list[1].firmware)
      assert.equal(0x0483, list[1].vid)
      assert.matches("^%x+$", list[1].serial)
      assert.equal(24, #list[1].serial)
      local theirs = st_info_serial()
      if theirs then assert.equal(theirs:upper(), list[1].serial) end
    end)
  end

  it("refuses to guess between two probes and names both serials", function()
    os.remove(A)
    os.remove(B)
    boards(A .. ":" .. B)
    local list = assert(stotp.probes())
    assert.equal(2, #list)
    local r = { stotp.open() }
    assert.same({ nil, string.format("ambiguous: 2 ST-Link probes attached (%s, %s): name one with serial",
                                     list[1].serial, list[2].serial), "ambiguous" }, r)
  end)

  it("opens the probe named by serial, in any letter case", function()
    boards(A .. ":" .. B)
    local list = assert(stotp.probes())
    local p = assert(stotp.open { serial = list[2].serial:lower() })
    assert.equal(list[2].serial, p.serial)
    p:close()
  end)

  it("lists probes without opening them with {open = false}: a probe in use elsewhere keeps working", function()
    boards(A .. ":" .. B)
    local serials = {}
    for i, pr in ipairs(assert(stotp.probes())) do serials[i] = pr.serial end
    local held = assert(stotp.open { serial = serials[1] })
    local opened = assert(stotp.probes())
    assert.equal("busy", opened[1].code) -- the brief open hits the claim
    local list = assert(stotp.probes { open = false })
    assert.same(serials, { list[1].serial, list[2].serial })
    assert.same({ nil, nil, nil }, { list[1].kind, list[1].firmware, list[1].error })
    assert.is_truthy(held:attach())
    held:close()
  end)

  it("refuses a probes option it does not know, and a non-boolean open", function()
    boards(A)
    assert.has_error(function() stotp.probes { opne = false } end)
    assert.has_error(function() stotp.probes { open = "no" } end, "bad argument #1 to 'probes' (option 'open' must be a boolean, got string)")
  end)

  it("returns notfound for a serial no probe has", function()
    boards(A)
    local r = { stotp.open { serial = "000000000000000000000000" } }
    assert.same({ nil, "notfound: no ST-Link with serial 000000000000000000000000 is attached", "notfound" }, r)
  end)
end)
