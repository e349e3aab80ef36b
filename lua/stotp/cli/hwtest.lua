-- stotp.cli.hwtest: `stotp hwtest`, the guarded hardware-write self-test
-- (issue 8 item 8) for anyone with a scratch board. Whether one memory
-- command may carry several program units while the flash is busy is
-- unconfirmed on silicon (RM0090 rev 4 §3.5.4 step 3 "Perform the data
-- write operation(s)"; OpenOCD 0.12.0 src/flash/nor/stm32f2x.c writes one
-- unit per BSY poll, Black Magic Probe src/target/stm32f4.c a whole buffer):
-- stotp bursts and falls back per unit. This command burns a fixed pattern
-- into one blank block as one burst and another into a second blank block
-- one unit at a time, with the command trace on, and writes a JSON report
-- of what the silicon did (SR flags, WAIT/FAULT, fallbacks, units the burst
-- lost, timings, round trips) for a bug report.
--
-- Safety: nothing is written until the operator types the board's whole
-- UID; a chosen block that is not blank or is locked is refused whole; the
-- blocks are never locked. Exit 0 both passes ended correct, 1 refused or a
-- pass failed (the report says how), 2 usage error.

local argparse = require("argparse")
local common = require("stotp.cli.common")
local after = require("stotp.cli.after")
local journal_mod = require("stotp.journal")

local M = {}
local OK, REFUSED, USAGE = common.OK, common.REFUSED, common.USAGE
-- every F2/F4/F7 OTP has 16 data blocks (RM0090 rev 11 §3.8; F7: OpenOCD
-- 0.12.0 src/flash/nor/stm32f2x.c, citing RM0410 §3.6)
local BLOCKS = 16

local function block_arg(name)
  return function(s)
    local n = math.tointeger(tonumber(s))
    if not n or n < 0 or n >= BLOCKS then
      return nil, string.format("%s %s is out of range: the OTP has blocks 0-%d", name, s, BLOCKS - 1)
    end
    return n
  end
end

local function parser(prog)
  local p = argparse(prog, "Guarded hardware-write self-test for a scratch board: after you type the board's UID, " ..
    "burns a fixed pattern into one blank OTP block as one burst and another into a second blank block one unit at " ..
    "a time, and writes a JSON report of what the silicon did. OTP can never be erased: use a board you can spare.")
    :add_help(false)
  p:mutex(
    p:option("--probe", "Use the ST-Link with this serial number, or a unique prefix of it."):argname("SERIAL"),
    p:option("--sim", "Use a virtual board kept in this image file (created when absent)."):argname("IMAGE"))
  p:option("--sim-part", "Part of a new --sim image, e.g. stm32f429zi."):argname("PART")
  p:option("--burst-block", "Block burned as one burst (default 15, the last)."):argname("N")
    :convert(block_arg("--burst-block")):default("15")
  p:option("--unit-block", "Block burned one unit at a time (default 14)."):argname("N")
    :convert(block_arg("--unit-block")):default("14")
  p:option("--width", "Widest program unit in bits (8, 16 or 32); it narrows what the supply allows."):argname("BITS")
    :choices({ "8", "16", "32" })
  p:option("--khz", "SWD clock to ask for in kHz (a fast clock makes a burst meet the busy flash sooner)."):argname("KHZ")
    :convert(function(s)
      local n = math.tointeger(tonumber(s))
      if not n or n < 1 then return nil, "--khz needs a positive integer, not " .. s end
      return n
    end)
  p:option("--report", "Where the JSON report goes (default stotp-hwtest.json)."):argname("PATH")
    :default("stotp-hwtest.json")
  after.option(p)
  return common.finish_parser(p, "Exit status: 0 both passes burned and read back correct; 1 refused (wrong UID, a " ..
    "block not blank or locked) or a pass failed; 2 usage error. The blocks are never locked.", true)
end

-- Fixed patterns: no byte is 0xFF (it would program nothing, so a lost unit
-- could not show) and neighbours differ (a unit landing in the wrong place
-- shows too).
local function pattern(n, mul, add, mask)
  local t = {}
  for i = 0, n - 1 do t[i + 1] = string.char((i * mul + add) % 256 & mask) end
  return table.concat(t)
end
M.BURST = function(n) return pattern(n, 0x1D, 0x35, 0xEF) end
M.UNIT = function(n) return pattern(n, 0x0B, 0x60, 0xF7) end

local function hex(s) return (s:gsub(".", function(c) return string.format("%02X", c:byte()) end)) end

-- FLASH_SR bits (CMSIS cmsis_device_f4 stm32f429xx.h FLASH_SR_*_Pos;
-- cmsis_device_f7 stm32f767xx.h names bit 7 ERSERR).
local SR_BITS = { { 0, "EOP" }, { 1, "OPERR" }, { 4, "WRPERR" }, { 5, "PGAERR" }, { 6, "PGPERR" }, { 7, "PGSERR" },
  { 8, "RDERR" }, { 16, "BSY" } }

function M.sr_flags(sr, family)
  local out = {}
  for _, b in ipairs(SR_BITS) do
    if sr & (1 << b[1]) ~= 0 then out[#out + 1] = (b[1] == 7 and family == "F7") and "ERSERR" or b[2] end
  end
  return setmetatable(out, { __jsontype = "array" })
end

-- Writes in a command trace (ST-Link packet layout: F2, then
-- WRITEMEM_8BIT 0D / 16BIT 48 / 32BIT 08, address u32 LE at [2], length
-- u16 LE at [6]; OpenOCD 0.12.0 src/jtag/drivers/stlink_usb.c). Register
-- writes are 32-bit bus writes too and count as such wherever they land:
-- WRITEDEBUGREG (35: address at [2], value at [6]) and each WRITE item of
-- an RW_MISC_OUT (51: items u32 at [2]; its data phase, which the trace
-- keeps after the command, holds one op byte per item padded to 4, then a
-- u32 per item, a WRITE's address in the ADDRESS item before it; same
-- file, stlink_usb_misc_rw_segment).
local WRITES = { [0x0D] = 1, [0x48] = 2, [0x08] = 4 }
local MISC_ADDRESS, MISC_WRITE = 1, 2

local function misc_writes(c, out)
  local items = string.unpack("<I4", c, 3)
  local vals = 16 + (items + 3) // 4 * 4
  local addr
  for k = 1, math.min(items, (#c - vals) // 4) do
    local opc = c:byte(16 + k)
    if opc == MISC_ADDRESS then
      addr = string.unpack("<I4", c, vals + 4 * k - 3)
    elseif opc == MISC_WRITE and addr then
      out[#out + 1] = { addr = addr, n = 4, width = 4 }
    end
  end
end

local function trace_writes(trace)
  local out = {}
  for _, c in ipairs(trace) do
    local b0, b1, addr, n = string.unpack("<BBI4I2", c)
    if b0 == 0xF2 and WRITES[b1] then
      out[#out + 1] = { addr = addr, n = n, width = WRITES[b1] }
    elseif b0 == 0xF2 and b1 == 0x35 then
      out[#out + 1] = { addr = addr, n = 4, width = 4 }
    elseif b0 == 0xF2 and b1 == 0x51 then
      misc_writes(c, out)
    end
  end
  return out
end
M.trace_writes = trace_writes

-- Offsets (in the block) that single-unit writes programmed: after a burst
-- these are the bytes it lost (or that WAIT, FAULT or an SR error cut).
local function written_singly(writes, lo, hi)
  local seen, list = {}, {}
  for _, w in ipairs(writes) do
    if w.n == w.width and w.addr >= lo and w.addr < hi then
      for a = w.addr, w.addr + w.n - 1 do
        if not seen[a] then seen[a], list[#list + 1] = true, a - lo end
      end
    end
  end
  table.sort(list)
  return setmetatable(list, { __jsontype = "array" })
end

-- What the silicon did with the burst, in one word a report reader can
-- compare: complete (every unit programmed), wait, fault, flash error,
-- dropped (no error, units missing), or the error code of another failure.
local function burst_outcome(st)
  if not st.fell_back then return "complete" end
  return ({ wait = "wait", target = "fault", flash = "flash error", ok = "dropped" })[st.burst_code] or st.burst_code
end

local function stat(p, k)
  local s = p:stats()
  return s[k]
end

-- One pass: `data` into `block` in `mode`, traced. Returns its record.
local function run_pass(board, name, block, data, mode, width)
  local p, t = board.probe, board.target
  local bs, base = t.otp.block_size, t.otp.base
  local rec = { name = name, block = block, address = string.format("0x%08X", base + block * bs), pattern = hex(data),
    mode = mode }
  local waits0, sim0, wall0 = stat(p, "wait_retries"), stat(p, "sim_us"), common.uptime()
  p:trace(true)
  local ok, st, code = t:otp_write(block * bs, data, { mode = mode, width = width })
  local trace = p:trace(false)
  rec.wall_ms = math.floor((common.uptime() - wall0) * 1000 + 0.5)
  rec.sim_us = sim0 and stat(p, "sim_us") - sim0 or nil
  rec.wait_retries = stat(p, "wait_retries") - waits0
  rec.trace_dropped = trace.dropped
  rec.ok = ok == true
  if ok then
    rec.round_trips, rec.units, rec.width_bits, rec.volts = st.commands, st.units, st.width * 8, st.volts
    rec.mode_used, rec.fell_back = st.mode, st.fell_back
    if mode == "burst" then rec.burst = burst_outcome(st) end
    if st.fell_back then
      rec.burst_error = st.burst_error
      if st.burst_code == "flash" then
        rec.sr = string.format("0x%08X", st.burst_sys)
        rec.sr_flags = M.sr_flags(st.burst_sys, t.family)
      elseif st.burst_code == "wait" or st.burst_code == "target" then
        rec.status = string.format("0x%02X", st.burst_sys)
      end
    end
  else
    rec.error, rec.error_code = tostring(st), code
  end
  local lo = base + block * bs
  rec.written_singly = written_singly(trace_writes(trace), lo, lo + bs)
  if mode == "burst" then rec.burst_lost_bytes = #rec.written_singly end
  local back = t:otp_read()
  local diffs = {}
  if back then
    back = back:sub(block * bs + 1, (block + 1) * bs)
    for i = 1, bs do
      if back:byte(i) ~= data:byte(i) then
        diffs[#diffs + 1] = { offset = i - 1, want = string.format("%02X", data:byte(i)),
          got = string.format("%02X", back:byte(i)) }
      end
    end
  else
    rec.readback_error = "the block could not be read back"
  end
  rec.readback_differences = setmetatable(diffs, { __jsontype = "array" })
  return rec
end

local function probe_info(d, probe)
  local v = probe:version() or {}
  local info = { kind = v.kind, firmware = v.string, serial = probe.serial, pid = v.pid and string.format("0x%04X", v.pid),
    virtual = probe.sim or nil }
  -- a run on the drop-in libusb says what the model was set to
  local env = {}
  for _, k in ipairs({ "VPROBE_PROBE", "VPROBE_TARGET", "VPROBE_QUIRKS", "VPROBE_FAULT" }) do
    local val = d.getenv(k)
    if val and val ~= "" then env[k] = val end
  end
  if next(env) then info.vprobe = env end
  return info
end

local function open_board(d, args)
  local stotp = d.stotp()
  local opts = args.sim and { sim = args.sim, sim_part = args.sim_part } or { serial = args.probe }
  opts.freq_khz = args.khz
  local probe, perr = common.open_probe(stotp, opts)
  if not probe then return nil, "no probe: " .. tostring(perr) end
  local board = { probe = probe, report = { probe = probe_info(d, probe) } }
  local volts, verr = probe:voltage()
  board.report.voltage = volts and math.floor(volts * 1000 + 0.5) / 1000 or nil
  board.report.voltage_error = not volts and tostring(verr) or nil
  local t, terr = probe:attach()
  if not t then return nil, "cannot attach to the target: " .. tostring(terr), board end
  board.target = t
  board.report.part = { name = t.name, line = t.line, family = t.family, dev_id = string.format("0x%03X", t.dev_id),
    rev_id = string.format("0x%04X", t.rev_id), revision = t.revision, flash_kib = t.flash_kib, rdp = t.rdp,
    uid = t.uid, otp_base = t.otp and string.format("0x%08X", t.otp.base), block_size = t.otp and t.otp.block_size }
  return board
end

-- A chosen block must be blank (every byte 0xFF) and unlocked: nil, or why not.
local function check_blocks(t, blocks)
  local otp, oerr = t:otp_read()
  if not otp then return "reading the OTP: " .. tostring(oerr) end
  local locks, lerr = t:otp_locks()
  if not locks then return "reading the lock bytes: " .. tostring(lerr) end
  local bs = t.otp.block_size
  for _, b in ipairs(blocks) do
    if locks[b + 1] then return string.format("block %d is locked; choose blank, unlocked blocks", b) end
    local data = otp:sub(b * bs + 1, (b + 1) * bs)
    local at = data:find("[^\xFF]")
    if at then
      return string.format("block %d is not blank (byte +%d is 0x%02X): the self-test only burns blank blocks; " ..
        "choose others with --burst-block/--unit-block", b, at - 1, data:byte(at))
    end
  end
end

-- The operator types the board's whole UID: the one guard before OTP is
-- burned for good.
local function confirm(d, t, args)
  d.err:write(string.format("%s, UID %s\nThis burns OTP blocks %d (one burst) and %d (one unit at a time) for " ..
    "good; they can never be erased or used again.\nType the board's UID (24 hex digits) to go on: ", t.name, t.uid,
    args.burst_block, args.unit_block))
  local typed = d.input:read("l")
  d.err:write("\n")
  typed = typed and typed:gsub("%s", ""):upper() or ""
  if typed == t.uid:upper() then return true end
  return nil, typed == "" and "no UID typed; nothing written" or
    string.format("the UID typed (%s) is not this board's (%s); nothing written", typed, t.uid)
end

local function close(board)
  if not board then return end
  if board.target then pcall(board.target.close, board.target) end
  pcall(board.probe.close, board.probe)
end

local function save(path, report)
  local f, err = io.open(path, "w")
  if not f then return nil, err end
  f:write(require("dkjson").encode(report, { indent = true }), "\n")
  f:close()
  return true
end

local function summary(d, report)
  local o = d.out
  o:write(string.format("%s %s (%s), %s, UID %s, %s V\n", tostring(report.probe.kind), tostring(report.probe.firmware),
    tostring(report.probe.serial), tostring(report.part.name), tostring(report.part.uid), tostring(report.voltage)))
  for _, r in ipairs(report.passes) do
    o:write(string.format("  %-5s block %2d  %s  %s%s, %s round trips, %d WAIT retried, %d byte(s) written one unit " ..
      "at a time, %d byte(s) differ\n", r.name, r.block, r.ok and "ok" or "FAILED", r.burst and ("burst " .. r.burst) or r.mode,
      r.sr_flags and " (SR " .. table.concat(r.sr_flags, " ") .. ")" or r.status and " (status " .. r.status .. ")" or "",
      tostring(r.round_trips or "?"), r.wait_retries, #r.written_singly, #r.readback_differences))
    if r.error then o:write("        ", r.error, "\n") end
  end
end

local function run(d, args, board)
  local t = board.target
  if not t.otp then return REFUSED, "refused", "this part has no OTP stotp knows" end
  local why = check_blocks(t, { args.burst_block, args.unit_block })
  if why then return REFUSED, "refused", why .. "; nothing written" end
  local ok, cerr = confirm(d, t, args)
  if not ok then return REFUSED, "refused", cerr end
  local width = args.width and math.tointeger(tonumber(args.width))
  local bs = t.otp.block_size
  local report = board.report
  report.passes = setmetatable({}, { __jsontype = "array" })
  local rec = run_pass(board, "burst", args.burst_block, M.BURST(bs), "burst", width)
  report.passes[1] = rec
  -- a first pass that failed stops the test: nothing more is burned on a
  -- set-up that misbehaves
  if rec.ok and #rec.readback_differences == 0 then
    report.passes[2] = run_pass(board, "unit", args.unit_block, M.UNIT(bs), "unit", width)
  end
  local good = #report.passes == 2
  for _, r in ipairs(report.passes) do good = good and r.ok and #r.readback_differences == 0 end
  if good then return OK, "ok" end
  return REFUSED, "failed", "a pass failed: see the report"
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json, function(a)
    if a.burst_block == a.unit_block then return "--burst-block and --unit-block must name two different blocks" end
    if a.sim_part and not a.sim then return "--sim-part needs --sim" end
  end)
  if not args then return code end
  local wok, werr = journal_mod.check_writable(args.report, "the report " .. args.report .. " cannot be written there")
  if not wok then return common.early(d, json, USAGE, "usage error", werr) end
  local board, berr, partial = open_board(d, args)
  if not board then
    close(partial)
    return common.early(d, json, REFUSED, "no board", berr)
  end
  local report = board.report
  report.tool = common.VERSION
  report.time = os.date("!%Y-%m-%dT%H:%M:%SZ", d.clock())
  report.blocks = { burst = args.burst_block, unit = args.unit_block }
  local rc, status, reason = run(d, args, board)
  report.status, report.reason = status, reason
  local warning
  report.after, warning = after.release(board.target, args.after)
  if warning then d.err:write(d.prog, ": ", warning, "\n") end
  close(board)
  if report.passes then
    local sok, serr = save(args.report, report)
    if not sok then
      d.err:write(d.prog, ": warning: the report could not be written to ", args.report, ": ", tostring(serr), "\n")
    end
    if not json then
      summary(d, report)
      d.out:write("report written to ", args.report, "\n")
    end
  end
  if reason then common.message(d, status, reason) end
  if json then common.json_line(d, report) end
  return rc
end

M.main = common.command(main)

return M
