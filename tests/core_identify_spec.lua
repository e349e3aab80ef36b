-- stotp.identify: DBGMCU_IDCODE (+ CPUID) -> part, without a probe.
local stotp = require("stotp.core")

describe("stotp.core identify", function()
  -- idcode, cpuid, family, line, revision, supported, otp base
  local rows = {
    { 0x20016411, 0, "F2", "STM32F20x/21x", "Y", true, 0x1FFF7800 },
    { 0x10076413, 0, "F4", "STM32F40x/41x", "1", true, 0x1FFF7800 },
    { 0x20016419, 0, "F4", "STM32F42xxx/43xxx", "3", true, 0x1FFF7800 },
    { 0x10006434, 0, "F4", "STM32F469/479", "A", true, 0x1FFF7800 },
    { 0x10006423, 0, "F4", "STM32F401xB/C", "A", true, 0x1FFF7800 },
    { 0x30006433, 0, "F4", "STM32F401xD/E", "C", true, 0x1FFF7800 },
    { 0x10006431, 0, "F4", "STM32F411xC/E", "A", true, 0x1FFF7800 },
    { 0x10006441, 0, "F4", "STM32F412", "A", true, 0x1FFF7800 },
    { 0x10006458, 0, "F4", "STM32F410", "A", true, 0x1FFF7800 },
    { 0x10006421, 0, "F4", "STM32F446", "A", true, 0x1FFF7800 },
    { 0x10006463, 0, "F4", "STM32F413/423", "A", true, 0x1FFF7800 },
    { 0x10016449, 0, "F7", "STM32F74x/75x", "Z", true, 0x1FF0F000 },
    { 0x10006451, 0, "F7", "STM32F76x/77x", "A", true, 0x1FF0F000 },
    { 0x10006452, 0, "F7", "STM32F72x/73x", "A", true, 0x1FF07800 },
    { 0x20056419, 0, "F4", "STM32F42xxx/43xxx", "0x2005", true, 0x1FFF7800 },
    -- errata: F4 rev A reads the F2's 0x411; a Cortex-M4 CPUID tells
    { 0x10000411, 0x410FC241, "F4", "STM32F40x/41x", "A", true, 0x1FFF7800 },
    { 0x10000411, 0x412FC230, "F2", "STM32F20x/21x", "A", true, 0x1FFF7800 },
    -- named and refused
    { 0x20036410, 0, "F1", "STM32F10x medium-density", "0x2003", false, nil },
    { 0x10006415, 0, "L4", "STM32L47x/L48x", "0x1000", false, nil },
    { 0x10036450, 0, "H7", "STM32H74x/H75x", "0x1003", false, nil },
    { 0x10000123, 0, "?", "unknown part", "0x1000", false, nil },
  }
  for _, r in ipairs(rows) do
    it(string.format("decodes IDCODE 0x%08X (CPUID 0x%08X) as %s", r[1], r[2], r[4]), function()
      local id = stotp.identify(r[1], r[2])
      assert.same({ r[3], r[4], r[5], r[6], r[7] },
                  { id.family, id.line, id.revision, id.supported, id.otp and id.otp.base })
    end)
  end

  it("gives the F74x-F77x 64-byte blocks and the F72x/F73x 32-byte ones", function()
    assert.same({ base = 0x1FF0F000, blocks = 16, block_size = 64, lock_base = 0x1FF0F400, size = 1024 },
                stotp.identify(0x10006451).otp)
    assert.same({ base = 0x1FF07800, blocks = 16, block_size = 32, lock_base = 0x1FF07A00, size = 512 },
                stotp.identify(0x10006452).otp)
  end)

  it("raises on a non-integer IDCODE", function()
    assert.has_error(function() stotp.identify("x") end)
  end)
end)
