-- stotp.cli.burnlog: what a provisioning run has burned. The target is
-- wrapped so that every otp_write and otp_lock it makes is logged (the
-- fields in a write's range, the blocks of its `lock` option, an
-- otp_lock's block); a run that did not finish reports what it burned by
-- reading the board back, else, when the board cannot be read, by that
-- log (a write under way when the run stopped counts as burned: it may be
-- in part). log.touched: a write or lock that failed had sent a program
-- command (stotp.core's fourth result), so the chip may hold part of it.
local M = {}

local function in_range(fields, off, n)
  local names = {}
  for _, e in ipairs(fields) do
    if e.offset >= off and e.offset < off + n then names[#names + 1] = e.name end
  end
  return names
end

local function lock_blocks(opts)
  local blocks = {}
  for b in pairs(opts and opts.lock or {}) do blocks[#blocks + 1] = b end
  table.sort(blocks)
  return blocks
end

-- The log and the wrapped target for `plan`. hooks.before(): an error
-- that stops any write before it goes out (nil: go on); hooks.written():
-- after each successful write.
function M.new(t, plan, hooks)
  local log = { fields = {}, blocks = {} }
  local function logged(names, blocks, ...)
    log.at = { fields = names, blocks = blocks }
    local r = table.pack(...)
    if r[1] then
      table.move(names, 1, #names, #log.fields + 1, log.fields)
      table.move(blocks, 1, #blocks, #log.blocks + 1, log.blocks)
      log.at = nil
    elseif r[4] then
      log.touched = true
    end
    return table.unpack(r, 1, r.n)
  end
  local wrapped = setmetatable({
    otp_write = function(_, off, bytes, opts)
      local stop = hooks.before()
      if stop then return nil, stop, "journal" end
      local r = table.pack(logged(in_range(plan.fields, off, #bytes), lock_blocks(opts), t:otp_write(off, bytes, opts)))
      if r[1] then hooks.written() end
      return table.unpack(r, 1, r.n)
    end,
    otp_lock = function(_, blocks, opts) return logged({}, { blocks[1] }, t:otp_lock(blocks, opts)) end,
  }, { __index = function(_, k)
    local v = t[k]
    if type(v) == "function" then return function(_, ...) return v(t, ...) end end
    return v
  end })
  return log, wrapped
end

-- Fields and blocks burned, and how that is known: "read-back", "write
-- log", or "nothing" (no write was tried).
function M.burned(log, t, plan)
  if not log then return {}, {}, "nothing" end
  local fields, blocks = {}, {}
  local ok, otp = pcall(t.otp_read, t)
  local lok, locks = pcall(t.otp_locks, t)
  if ok and otp and lok and locks then
    for _, e in ipairs(plan.fields) do
      if e.status == "write" and otp:sub(e.offset + 1, e.offset + e.size) ~= e.old then fields[#fields + 1] = e.name end
    end
    for _, l in ipairs(plan.locks) do
      if l.status == "lock" and locks[l.block + 1] then blocks[#blocks + 1] = l.block end
    end
    return fields, blocks, "read-back"
  end
  local at = log.at or { fields = {}, blocks = {} }
  for _, list in ipairs({ log.fields, at.fields }) do table.move(list, 1, #list, #fields + 1, fields) end
  for _, list in ipairs({ log.blocks, at.blocks }) do table.move(list, 1, #list, #blocks + 1, blocks) end
  return fields, blocks, "write log"
end

return M
