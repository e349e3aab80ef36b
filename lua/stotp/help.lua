-- stotp.help: the API in one line per function (stotp.help()), a probe's
-- or target's methods (stotp.help(obj)), and stotp.show(v), the printer
-- the REPL uses: byte strings in hex, OTP data as a map of its blocks,
-- addresses in hex, lists and records one per line. The one-liners are
-- README.md's API table, shortened.

local M = {}

M.API = {
  { "stotp.probes()", "list of connected ST-Links: {kind, firmware, serial, vid, pid, bus, address}" },
  { "stotp.open([opts])", "a probe; opts: serial, freq_khz, sim (board image), sim_part, sim_probe, sim_voltage, ..." },
  { "stotp.connect([opts])", "target, probe (open + attach)" },
  { "stotp.identify(idcode [, cpuid])", "what a DBGMCU_IDCODE names" },
  { "stotp.hex(s)", "upper-case hex of a byte string" },
  { "stotp.locked_blocks(target)", "sorted list of locked block numbers" },
  { "stotp.udev_rule", "path of the udev rule stotp ships" },
  { "stotp.file_info(path)", "{kind, size, mode, real} of a file after links" },
  { "stotp.run_bounded(fn, max_bytes, max_ms)", "runs fn in a child with a memory and CPU-time budget" },
  { "stotp.show(v)", "prints v as the REPL does (hex bytes, OTP maps, addresses in hex)" },
  { "stotp.help([obj])", "this list; with a probe or target, its methods" },
}

M.METHODS = {
  ["stotp.Probe"] = {
    { "probe:version()", "{hw, jtag, msd, swim, string, kind, pid}" },
    { "probe:voltage()", "target supply in volts" },
    { "probe:attach()", "target (SWD entered, core halted, part identified)" },
    { "probe:stats()", "USB round trips and bytes so far" },
    { "probe:trace([on])", "the commands sent since recording started (with each batch's register accesses)" },
    { "probe:close()", "idempotent; also <close> and __gc" },
    { "probe.serial", "the probe's serial number" },
  },
  ["stotp.Target"] = {
    { "target.uid, target.uid_bytes", "24 hex digits; 12 raw bytes" },
    { "target.name, .family, .line, .revision, .flash_kib, .rdp", "identification" },
    { "target.otp", "{base, blocks, block_size, lock_base, size}" },
    { "target:read(addr, n), :read32(addr), :write32(addr, v)", "memory access" },
    { "target:otp_read()", "all OTP data bytes" },
    { "target:otp_locks()", "16 booleans, true = locked (index 1 = block 0)" },
    { "target:otp_check(offset, bytes)", "what a write would do: {ok, same, program, bits, locked, bytes}" },
    { "target:otp_write(offset, bytes [, opts])", "programs OTP (cannot be undone); refuses the whole write first" },
    { "target:otp_lock(block, ... [, {expect = ...}])", "locks blocks (cannot be undone)" },
    { "target:close()", "idempotent; a target keeps its probe alive" },
  },
}

local function lines(list)
  local w = 0
  for _, e in ipairs(list) do w = math.max(w, #e[1]) end
  local out = {}
  for i, e in ipairs(list) do out[i] = string.format("  %-" .. w .. "s  %s", e[1], e[2]) end
  return table.concat(out, "\n")
end

local function type_name(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__name") or nil
end

--- The help text: the API, or what a probe or target is and its methods.
function M.text(obj)
  if obj == nil then return "stotp " .. require("stotp.version"):gsub("^stotp ", "") .. ": the Lua API\n" ..
    lines(M.API) .. "\nstotp.help(probe) and stotp.help(target) list their methods." end
  local list = M.METHODS[type_name(obj)]
  if not list then return "stotp.help: " .. tostring(obj) .. " is not a stotp probe or target" end
  return tostring(obj) .. "\n" .. lines(list)
end

local ADDRESS_KEYS = { base = true, lock_base = true, addr = true, address = true }
local BYTE_KEYS = { old = true, new = true }

local function printable(s) return not s:find("[^\32-\126]") end

-- A byte string: text quoted, short binary as hex, OTP-sized data as a map
-- of rows of `width` bytes with their offsets (the blocks' rows).
local function bytes_text(s, indent)
  if printable(s) then return string.format("%q", s) end
  if #s <= 32 then return '"' .. s:gsub(".", function(c) return string.format("%02X", c:byte()) end) .. '" (hex)' end
  -- OTP data (16 blocks of 32 or 64 bytes) a row per block; else offsets.
  local width = #s == 1024 and 64 or 32
  local otp = #s == 512 or #s == 1024
  local out = { string.format("%d bytes%s:", #s, otp and ", one OTP block a row" or "") }
  for off = 0, #s - 1, width do
    local row = s:sub(off + 1, off + width)
    out[#out + 1] = string.format("%s  %s  %s", indent, otp and string.format("block %2d", off // width) or
      string.format("+%04X", off), (row:gsub(".", function(c)
      return string.format("%02X ", c:byte()) end):gsub(" $", "")))
  end
  return table.concat(out, "\n")
end

local function show(v, indent, key, seen)
  local t = type(v)
  if t == "string" then return bytes_text(v, indent) end
  if math.type(v) == "integer" and (ADDRESS_KEYS[key] or (key == nil and v > 0xFFFF)) then
    return string.format("0x%08X", v)
  end
  if math.type(v) == "integer" and BYTE_KEYS[key] and v >= 0 and v <= 0xFF then return string.format("0x%02X", v) end
  if t ~= "table" then return tostring(v) end
  if seen[v] then return "<cycle>" end
  seen[v] = true
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) == "number"
  end)
  if #keys == 0 then return "{}" end
  local out, inner = {}, indent .. "  "
  for _, k in ipairs(keys) do
    local label = math.type(k) == "integer" and string.format("[%d]", k) or tostring(k)
    out[#out + 1] = inner .. label .. " = " .. show(v[k], inner, k, seen)
  end
  return "{\n" .. table.concat(out, "\n") .. "\n" .. indent .. "}"
end

--- v as text a person reads (what the REPL prints).
function M.show(v) return show(v, "", nil, {}) end

return M
