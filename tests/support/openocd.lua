-- Test-only: run OpenOCD 0.12 (an independent ST-Link host) against a vprobe
-- board image through the drop-in libusb, and read back what it sees of the
-- OTP bank: the bytes (`flash read_bank`) and the per-block protection
-- (`flash info`, which reads the lock bytes).
--
-- OTP is flash bank 1 in target/stm32f2x.cfg, stm32f4x.cfg and stm32f7x.cfg
-- (their second `flash bank` line: 0x1FFF7800 on F2/F4, 0x1FF0F000 on F7).
-- `set WORKAREASIZE 0` keeps OpenOCD on its host-driven write path, as in
-- tests/vprobe_peers_spec.lua.
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local M = {}

local ROOT = assert(io.popen("pwd")):read("l")
M.BUILD = ROOT .. "/" .. (os.getenv("STOTP_BUILD") or "build")
M.EXE = "/usr/bin/openocd"
M.OTP_BANK = 1

-- The target config OpenOCD users pick for each part we provision.
M.CONFIG = {
  stm32f205rg = "target/stm32f2x.cfg",
  stm32f407vg = "target/stm32f4x.cfg",
  stm32f429zi = "target/stm32f4x.cfg",
  stm32f767zi = "target/stm32f7x.cfg",
}



local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

function M.available()
  return slurp(M.EXE) ~= nil
end

-- A scratch directory for OpenOCD's logs and bank files.
function M.tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. q(d)))
  return d
end

-- The shell prefix that makes a child see exactly `board`'s probe: other
-- specs may have left VPROBE_* in this process's environment (testenv).
function M.env(board)
  local parts = { "unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_VOLTAGE VPROBE_STATS",
                  "VPROBE_LATENCY_US VPROBE_FAULT;",
                  "LD_LIBRARY_PATH=" .. q(M.BUILD .. "/vprobe"),
                  "VPROBE_STATE=" .. q(board.image) }
  if board.part then parts[#parts + 1] = "VPROBE_TARGET=" .. board.part end
  if board.probe then parts[#parts + 1] = "VPROBE_PROBE=" .. board.probe end
  return table.concat(parts, " ")
end

-- "1" for each block OpenOCD lists as protected, "0" for "not protected",
-- in block order; nil when the listing is missing.
local function protection(out)
  local t = {}
  for n, state in out:gmatch("#%s*(%d+): 0x%x+ %(0x%x+ %d+kB%) (%a[%a ]*%a)") do
    t[tonumber(n) + 1] = state == "protected" and "1" or "0"
  end
  return #t > 0 and table.concat(t) or nil
end

-- Runs OpenOCD on board {image, part, probe, dir} with `commands` after
-- init and reset halt. With opts.read, then lists and reads the OTP bank.
-- Returns { ok, out, otp = bytes or nil, protected = "0101..." or nil };
-- out holds the command line and OpenOCD's whole log, for failure messages.
function M.run(board, commands, opts)
  opts = opts or {}
  local log, bin = board.dir .. "/openocd.log", board.dir .. "/otp-read.bin"
  os.remove(bin)
  local cmd = { M.EXE, "-f interface/stlink.cfg -c 'set WORKAREASIZE 0'",
                "-f " .. assert(M.CONFIG[board.part], board.part),
                "-c 'gdb_port disabled' -c 'tcl_port disabled' -c 'telnet_port disabled'",
                "-c init -c 'reset halt'" }
  for _, c in ipairs(commands) do cmd[#cmd + 1] = "-c " .. q(c) end
  if opts.read then
    cmd[#cmd + 1] = "-c " .. q("flash info " .. M.OTP_BANK)
    cmd[#cmd + 1] = "-c " .. q("flash read_bank " .. M.OTP_BANK .. " " .. bin)
  end
  cmd[#cmd + 1] = "-c shutdown"
  local line = M.env(board) .. " timeout 60 " .. table.concat(cmd, " ")
  local ok = os.execute(line .. " >" .. q(log) .. " 2>&1")
  local out = "$ " .. line .. "\n" .. (slurp(log) or "")
  local r = { ok = ok == true, out = out }
  if opts.read then
    r.otp = slurp(bin)
    r.protected = protection(out)
  end
  return r
end

-- What OpenOCD sees of the OTP bank: bytes and protection.
function M.read(board)
  return M.run(board, {}, { read = true })
end

-- OpenOCD writes `data` at byte `offset` of the OTP bank (even offsets:
-- stm32f2x.c writes half-words and refuses odd ones).
function M.write(board, offset, data)
  local bin = board.dir .. "/otp-write.bin"
  spit(bin, data)
  return M.run(board, { "stm32f2x otp " .. M.OTP_BANK .. " enable",
                        "flash write_bank " .. M.OTP_BANK .. " " .. bin .. " " .. offset })
end

-- Upper-case hex, so mismatches in assertion messages are readable.
function M.hex(s)
  if s == nil then return nil end
  return (s:gsub(".", function(c) return string.format("%02X", c:byte()) end))
end

return M
