-- A probe the user may not open, and a probe another program holds: the
-- two USB failures a station meets first. Both transports must name the
-- cause (and the udev rule for a permission failure) and touch nothing.
local kit = require("corekit")
local stotp = require("stotp")

local function fresh_image(name)
  local img = kit.TMP .. "/stotp-access-" .. name .. ".img"
  os.remove(img)
  os.remove(img .. ".lock")
  return img
end

for _, transport in ipairs({ "usb", "sim" }) do
  describe("stotp.open over " .. transport, function()
    it("reports a permission failure with the udev rule to install", function()
      local img = fresh_image("perm-" .. transport)
      assert(kit.open(transport, img, "stm32f407vg", "v2-1")):close() -- a board to refuse
      local before = kit.slurp(img)
      local p, msg, code = kit.open(transport, img, "stm32f407vg", "v2-1", { fault = "access" })
      assert.is_nil(p)
      assert.equal("permission", code)
      if transport == "usb" then
        assert.truthy(msg:find(stotp.udev_rule, 1, true), msg)
      else
        assert.truthy(msg:find("no access", 1, true), msg)
      end
      assert.equal(before, kit.slurp(img))
    end)

    it("refuses a probe another holder has claimed, then opens it once released", function()
      local img = fresh_image("busy-" .. transport)
      local holder = assert(kit.open("sim", img, "stm32f407vg", "v2-1"))
      local t = assert(holder:attach())
      assert(t:otp_write(0, "\x5A"))
      local p, msg, code = kit.open(transport, img, "stm32f407vg", "v2-1")
      assert.is_nil(p, "second open succeeded")
      assert.equal("busy", code)
      assert.truthy(msg:find("use", 1, true), msg)
      holder:close()
      p = assert(kit.open(transport, img, "stm32f407vg", "v2-1"))
      local t2 = assert(p:attach())
      assert.equal("\x5A", t2:otp_read():sub(1, 1))
      p:close()
    end)
  end)
end
