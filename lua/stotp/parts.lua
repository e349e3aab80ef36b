-- stotp.parts: the STM32F2/F4/F7 part numbers a recipe may name, and the
-- OTP block size of each. A recipe's `parts` entry is a prefix of a part
-- number ("stm32f4", "stm32f42") or a full ordering code ("stm32f407vg");
-- anything else is a typo that would otherwise accept no chip at all
-- ("stm32f4O7" with a letter O) or the wrong ones.

local M = {}

-- Part numbers per family, from the DEV_ID lines stotp.core identifies
-- (RM0033 §32.6.1, RM0090 §38.6.1, RM0368/RM0383/RM0390/RM0402/RM0430/
-- RM0386 DBGMCU chapters, RM0385/RM0410/RM0431 §40.6.1: one DEV_ID per line,
-- the lines' part numbers in the datasheets' ordering information).
M.NUMBERS = {
  "205", "207", "215", "217",
  "401", "405", "407", "410", "411", "412", "413", "415", "417", "423", "427", "429", "437", "439", "446",
  "469", "479",
  "722", "723", "730", "732", "733", "745", "746", "750", "756", "765", "767", "769", "777", "779",
}

-- OTP block size by the first digits of the part number (RM0033 §2.3.3,
-- RM0090 §3.8, RM0431 §3.3.9: 16 x 32 bytes; RM0385 §3.3.7, RM0410 §3.3.7:
-- 16 x 64 bytes on the F74x-F77x).
local function block_size(number)
  local n = tonumber(number:sub(1, 2))
  if n >= 74 then return 64 end
  return 32
end

-- The part numbers (as "stm32fNNN") a recipe pattern covers, or nil and
-- why the pattern names no part. Case-insensitive.
function M.covered(pattern)
  if type(pattern) ~= "string" then return nil, "a part is a string such as \"stm32f4\" or \"stm32f407vg\"" end
  local p = pattern:lower()
  local digits, suffix = p:match("^stm32f(%d*)(.*)$")
  if not digits or digits == "" then
    return nil, string.format("'%s' is not an STM32F part (stotp knows stm32f2, stm32f4, stm32f7 parts, " ..
      "e.g. \"stm32f4\" or \"stm32f407vg\")", pattern)
  end
  -- An ordering code's suffix (pin count, flash size: "vg", "zi") comes
  -- after the full three-digit number.
  if suffix ~= "" and (#digits ~= 3 or not suffix:find("^%a[%a%d]?$")) then
    return nil, string.format("'%s' is not a part number: after \"stm32f\" come three digits and at most a " ..
      "two-character suffix (\"stm32f407vg\"); letters and digits mixed up (O for 0)?", pattern)
  end
  local out = {}
  for _, n in ipairs(M.NUMBERS) do
    if n:sub(1, #digits) == digits then out[#out + 1] = "stm32f" .. n end
  end
  if #out == 0 then
    return nil, string.format("unknown part '%s' (stotp knows stm32f2, stm32f4, stm32f7 parts: %s)", pattern,
      table.concat(M.NUMBERS, ", "))
  end
  return out
end

-- Block sizes of the parts a pattern accepts ("stm32f7" -> {32, 64}); an
-- empty set for a pattern that names no part.
function M.block_sizes(pattern)
  local sizes = {}
  for _, number in ipairs(M.covered(pattern) or {}) do sizes[block_size(number:sub(7))] = true end
  return sizes
end

-- The part numbers a target's name covers. A chip tells its line by DEV_ID
-- only (RM0090 §38.6.1), so stotp.core names it by line:
-- "STM32F427/429/437/439", "STM32F401xD/E" -> { "stm32f427", ... }, { "stm32f401" }.
function M.numbers_of(name)
  local out = {}
  local rest = name:lower():match("^stm32f(.*)$")
  for item in (rest or ""):gmatch("[^/]+") do
    local digits = item:match("^%d+")
    if digits then out[#out + 1] = "stm32f" .. digits end
  end
  return out
end

-- Does a target (by its line name) match one of the accepted patterns? A
-- pattern may be wider ("stm32f4") or narrower ("stm32f767zi") than a part
-- number; parts of one line (F765 and F767) cannot be told apart on the wire.
function M.accepts(patterns, name)
  for _, number in ipairs(M.numbers_of(name)) do
    for _, p in ipairs(patterns) do
      if number:sub(1, #p) == p or p:sub(1, #number) == number then return true end
    end
  end
  return false
end

return M
