-- The flash-controller program sequence (RM0090 §3.5.4, CMSIS) as the
-- specs of the target model drive it over the model's bus (vprobe_model).
local M = {}

local KEYR, CR = 0x40023C04, 0x40023C10
local PG = 0x1
-- CR[9:8] PSIZE for a width in bytes: x8 00, x16 01, x32 10 (CMSIS)
M.PSIZE = { [1] = 0, [2] = 1 << 8, [4] = 2 << 8 }

--- The two-key unlock of FLASH_CR.
function M.unlock(m)
  assert(m:write(KEYR, 4, 0x45670123))
  assert(m:write(KEYR, 4, 0xCDEF89AB))
end

--- CR = PG | PSIZE(psize or size), one write, then wait tprog out;
--- returns the write's answer.
function M.program(m, addr, size, value, psize)
  assert(m:write(CR, 4, PG | M.PSIZE[psize or size]))
  local ok, why = m:write(addr, size, value)
  m:advance(1000)
  return ok, why
end

return M
