-- A pure-Lua stand-in for stotp.core's probe and target, for the specs of
-- the provisioning layer (plan, cli) that must run without the C core.
-- It models only what that layer relies on: a UID, OTP data that programs
-- by AND (bits only go 1 -> 0, RM0090 §3.8), lock bytes (a locked block takes
-- no writes), and the API's nil, message, code failures. It is written
-- from the API contract in issue 4, not from the C core.

local M = {}

local PARTS = {
  stm32f429zi = { name = "STM32F427/429/437/439", family = "F4", block_size = 32, base = 0x1FFF7800, lock_base = 0x1FFF7A00 },
  stm32f407vg = { name = "STM32F405/407/415/417", family = "F4", block_size = 32, base = 0x1FFF7800, lock_base = 0x1FFF7A00 },
  stm32f205rg = { name = "STM32F205/207/215/217", family = "F2", block_size = 32, base = 0x1FFF7800, lock_base = 0x1FFF7A00 },
  stm32f767zi = { name = "STM32F765/767/769/777/779", family = "F7", block_size = 64, base = 0x1FF0F000, lock_base = 0x1FF0F400 },
}

local counter = 0

-- A board: { part=, uid_bytes=, otp=, locks=, log= }. opts.uid_bytes gives a
-- fixed UID; otherwise each board gets a distinct one.
function M.board(part, opts)
  opts = opts or {}
  part = part or "stm32f429zi"
  local p = assert(PARTS[part], "fake_target: unknown part " .. part)
  counter = counter + 1
  return {
    part = part, p = p,
    uid_bytes = opts.uid_bytes or string.pack(">I4I4I4", 0x00470031, 0x3133510D, counter),
    otp = ("\xFF"):rep(16 * p.block_size),
    locks = { false, false, false, false, false, false, false, false,
              false, false, false, false, false, false, false, false },
    log = {},
  }
end

function M.uid_hex(b)
  return (b.uid_bytes:gsub(".", function(c) return string.format("%02X", c:byte()) end))
end

local Target = {}
Target.__index = Target

-- board.unreadable: the board stopped answering (a power loss).
function Target:otp_read()
  if self.b.unreadable then return nil, "usb: the probe does not answer", "usb" end
  return self.b.otp
end

function Target:otp_locks()
  if self.b.unreadable then return nil, "usb: the probe does not answer", "usb" end
  local t = {}
  for i = 1, 16 do t[i] = self.b.locks[i] end
  return t
end

-- opts (strict) = { mode, width, lock = { [n] = the whole block's bytes
-- after the write } }: the blocks of `lock` are locked once the write is
-- in place and each reads back as given (stotp.core checks that before
-- writing anything; the fake checks it before as well).
function Target:otp_write(offset, bytes, opts)
  local b = self.b
  for k in pairs(opts or {}) do
    if k ~= "mode" and k ~= "width" and k ~= "lock" then error("otp_write: unknown option '" .. tostring(k) .. "'", 2) end
  end
  -- A flash error is reported after a program command went out: touched.
  if b.fail_write then
    if b.unreadable_after_fail then b.unreadable = true end
    return nil, b.fail_write, "flash", true
  end
  local lock = opts and opts.lock
  if lock and not next(lock) then lock = nil end
  if offset < 0 or offset + #bytes > #b.otp then return nil, "outside OTP", "range" end
  for i = 1, #bytes do
    local off = offset + i - 1
    local old, new = b.otp:byte(off + 1), bytes:byte(i)
    if b.locks[off // b.p.block_size + 1] and old ~= new then return nil, "block locked", "locked" end
    if new & ~old ~= 0 then return nil, "bit 0 -> 1", "bits" end
  end
  local merged = {}
  for i = 1, #bytes do merged[i] = string.char(b.otp:byte(offset + i) & bytes:byte(i)) end
  local before = b.otp
  b.otp = b.otp:sub(1, offset) .. table.concat(merged) .. b.otp:sub(offset + #bytes + 1)
  if lock then
    local bs = b.p.block_size
    for n, want in pairs(lock) do
      if b.otp:sub(n * bs + 1, (n + 1) * bs) ~= want then
        b.otp = before
        return nil, string.format("lock: block %d would differ from the given bytes; nothing written", n), "verify"
      end
    end
  end
  b.log[#b.log + 1] = { op = "write", offset = offset, bytes = bytes }
  if b.corrupt_after_write then b.otp = b.otp:sub(1, offset) .. "\0" .. b.otp:sub(offset + 2); return true end
  local blocks = {}
  for n in pairs(lock or {}) do blocks[#blocks + 1] = n end
  table.sort(blocks)
  for _, n in ipairs(blocks) do
    if not b.locks[n + 1] then
      b.locks[n + 1] = true
      b.log[#b.log + 1] = { op = "lock", block = n, expect = lock[n] }
    end
  end
  return true
end

-- otp_lock(n [, opts]) or otp_lock({ n, ... } [, opts]); opts (strict) =
-- { expect = { [n] = the whole block's bytes } }. stotp.core locks a block
-- that this handle did not write and verify only against `expect`; the
-- fake keeps no handle history, so it demands `expect` for every block.
function Target:otp_lock(blocks, opts)
  if type(blocks) ~= "table" then blocks = { blocks } end
  for k in pairs(opts or {}) do
    if k ~= "expect" and k ~= "width" then error("otp_lock: unknown option '" .. tostring(k) .. "'", 2) end
  end
  local expect, b = opts and opts.expect or {}, self.b
  local bs = b.p.block_size
  for _, n in ipairs(blocks) do
    if math.type(n) ~= "integer" or n < 0 or n > 15 then return nil, "no such block", "range" end
    if expect[n] == nil then return nil, string.format("block %d: no expect given; nothing locked", n), "verify" end
    if b.otp:sub(n * bs + 1, (n + 1) * bs) ~= expect[n] then
      return nil, string.format("block %d differs from expect; nothing locked", n), "verify"
    end
  end
  for _, n in ipairs(blocks) do
    b.locks[n + 1] = true
    b.log[#b.log + 1] = { op = "lock", block = n, expect = expect[n] }
  end
  return true
end

-- Issue 10 item 9, the API contract still to come in stotp.core:
-- target:reset([{halt = true}]) and target:run(). The fake notes each in
-- board.released (not in board.log: they program nothing).
function Target:reset(opts)
  self.b.released = self.b.released or {}
  table.insert(self.b.released, opts and opts.halt and "reset-halt" or "reset")
  return true
end

function Target:run()
  self.b.released = self.b.released or {}
  table.insert(self.b.released, "run")
  return true
end

function Target:close() self.closed = true end

local function target(b)
  return setmetatable({
    b = b, uid = M.uid_hex(b), uid_bytes = b.uid_bytes, family = b.p.family, name = b.p.name, rdp = 0,
    otp = { base = b.p.base, blocks = 16, block_size = b.p.block_size, lock_base = b.p.lock_base,
            size = 16 * b.p.block_size },
  }, Target)
end

-- A fake `stotp` module over a table of boards: `sim` and `serial` options
-- pick boards[path]; a missing sim board is created (as vprobe does).
-- `opened` counts stotp.open calls (specs check that bad configs open none).
function M.core(boards)
  local core = { opened = 0, _VERSION = "fake" }
  function core.open(opts)
    core.opened = core.opened + 1
    local key = opts.sim or opts.serial or next(boards)
    if not key then return nil, "no ST-Link found", "notfound" end
    if not boards[key] then
      if not opts.sim then return nil, "no probe " .. tostring(key), "notfound" end
      boards[key] = M.board(opts.sim_part)
    end
    local b = boards[key]
    return {
      serial = key,
      attach = function() return target(b) end,
      close = function() end,
      version = function() return { string = "V2J40M27", kind = "V2-1" } end,
    }
  end
  return core
end

return M
