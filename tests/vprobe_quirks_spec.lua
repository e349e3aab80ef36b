-- VPROBE_QUIRKS (src/vprobe/quirks.h): the switch that picks the model's
-- reading of a behaviour the sources leave UNCONFIRMED. The effect of each
-- value is specified where it acts: vprobe_otp_spec.lua (busy_write,
-- rdp1_otp), vprobe_flash_spec.lua (eop, tprog). Here: the syntax, the
-- errors, and that both the option and the environment variable reach it.
local vb = require "vprobe_board"
local vm = require "vprobe_model"

local tmp, img = require("testfiles").scratch("q")

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- What the drop-in libusb does with these VPROBE_* variables: libusb_init's
-- code and the child's stderr (shim_child.lua)
local function shim_init(env) return require("shim_child").init(tmp, env) end

-- every name=value pair listed in the valid string
local function all_pairs()
  local t = {}
  for name, values in vm.quirks_valid():gmatch("([%w_]+)=([%w|]+)") do
    for v in values:gmatch("%w+") do t[#t + 1] = name .. "=" .. v end
  end
  return t
end

describe("vprobe.quirks", function()
  teardown(function() os.execute("rm -rf " .. tmp) end)

  it("lists busy_write, rdp1_otp, eop, tprog, dcache and sticky with their values, default first", function()
    assert.equal("busy_write=stall|drop|pgserr, rdp1_otp=readable|fault, eop=always|eopie, tprog=typ|max, " ..
                 "dcache=stale|coherent, sticky=kept|cleared", vm.quirks_valid())
  end)

  for _, q in ipairs(all_pairs()) do
    it("accepts " .. q .. " in the board option and the model", function()
      local b = assert(vb.open{ state = img(), quirks = q })
      b:close()
      local m = assert(vm.open{ image = img(), quirks = q })
      m:close()
    end)
  end

  it("accepts several quirks, comma separated, and the empty string", function()
    for _, q in ipairs{ "busy_write=pgserr,rdp1_otp=fault,eop=eopie,tprog=max", "" } do
      local b = assert(vb.open{ state = img(), quirks = q })
      b:close()
    end
  end)

  local valid = "(valid: busy_write=stall|drop|pgserr, rdp1_otp=readable|fault, eop=always|eopie, tprog=typ|max, " ..
    "dcache=stale|coherent, sticky=kept|cleared)"
  local bad = {
    { "busy_write", "VPROBE_QUIRKS: bad item 'busy_write' (want name=value; valid: " },
    { "busy_write=", "VPROBE_QUIRKS: bad value '' for busy_write " .. valid },
    { "busy_write=stal", "VPROBE_QUIRKS: bad value 'stal' for busy_write " .. valid },
    { "busy_write=STALL", "VPROBE_QUIRKS: bad value 'STALL' for busy_write " .. valid },
    { "busy_write=stall ", "VPROBE_QUIRKS: bad value 'stall ' for busy_write " .. valid },
    { "eop=eopie=1", "VPROBE_QUIRKS: bad value 'eopie=1' for eop " .. valid },
    { "Busy_write=stall", "VPROBE_QUIRKS: unknown quirk 'Busy_write' " .. valid },
    { " eop=eopie", "VPROBE_QUIRKS: unknown quirk ' eop' " .. valid },
    { "=stall", "VPROBE_QUIRKS: unknown quirk '' " .. valid },
    { "bogus=1", "VPROBE_QUIRKS: unknown quirk 'bogus' " .. valid },
    { "busy_write=stall,busy_write=drop", "VPROBE_QUIRKS: busy_write given twice" },
    { "eop=eopie,", "VPROBE_QUIRKS: bad item '' (want name=value; valid: " },
    { "eop=eopie,,tprog=max", "VPROBE_QUIRKS: bad item '' (want name=value; valid: " },
    { "tprog=" .. string.rep("x", 80), "VPROBE_QUIRKS: bad item 'tprog=xxx" },
  }
  for _, row in ipairs(bad) do
    it("refuses '" .. row[1]:sub(1, 24) .. "' at open, naming the valid quirks, and makes no image", function()
      local path = img()
      local b, err = vb.open{ state = path, quirks = row[1] }
      assert.is_nil(b)
      assert.equal(row[2], err:sub(1, #row[2]))
      assert.is_false(exists(path))
      local m, merr = vm.open{ image = path, quirks = row[1] }
      assert.same({ nil, err }, { m, merr })
    end)
  end

  it("is read from VPROBE_QUIRKS by the drop-in libusb, which refuses a bad one at libusb_init", function()
    local rc, err = shim_init{ VPROBE_STATE = img(), VPROBE_QUIRKS = "busy_write=maybe" }
    assert.equal(-99, rc) -- LIBUSB_ERROR_OTHER
    assert.equal("vprobe: VPROBE_QUIRKS: bad value 'maybe' for busy_write " .. valid .. "\n", err)
    rc, err = shim_init{ VPROBE_STATE = img(), VPROBE_QUIRKS = "busy_write=drop,tprog=max" }
    assert.same({ 0, "" }, { rc, err })
  end)
end)
