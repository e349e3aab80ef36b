-- A hostile probe (issue 13 item 3; VPROBE_HOSTILE, src/vprobe/hostile.h):
-- replies too short or too long, a status no firmware defines, a command its
-- own version refuses, a target whose DBGMCU_IDCODE changes mid-session.
-- Each kind is swept over every command packet of a full burn and lock and
-- of a small write: nothing outside the planned bytes changes, no unplanned
-- lock byte, no false success, no OTP write after the reply it did not
-- expect, an error that names what the probe did, and, with the probe
-- healthy again, a rerun that completes the board.
local kit = require("corekit")
local env = require("testenv")

local IMG = kit.TMP .. "/stotp-hostile.img"
local PART, PROBE = "stm32f429zi", "v2-1:J40M27"
local INFO = kit.PARTS[PART]

local PLANS = {
  ["512 bytes and 16 locks"] = { offset = 0, data = kit.pattern(512, 5, 9, 0xEF), blocks = kit.all_blocks() },
  ["a small write and its lock"] = { offset = 6 * 32 + 4, data = "\x21\x43\x65", blocks = { 6 } },
}

-- What the error must say, per kind: the probe's misbehaviour, by name.
local SAYS = {
  short = { "short reply to " },
  -- A reply longer than a command that answers whole 64-byte packets (an
  -- RW_MISC_IN of 8 items) ends that transfer on the packet boundary, and
  -- the rest is what the next IN gets (USB 2.0 §5.8.3): the host sees the
  -- next command's reply short.
  long = { "the probe misbehaves: its reply to .* is longer than the %d+ bytes", "short reply to " },
  status = { "the probe misbehaves: .* answered status 0x37, which no ST%-Link firmware defines",
    "the probe misbehaves: GET_CURRENT_MODE answered status 0x37, a mode no ST%-Link firmware has" },
  refuse = { "refused a command its version has", "the probe misbehaves: it stalled the data phase of",
    "a mode no ST%-Link firmware has" },
  idcode = { "DBGMCU_IDCODE reads 0x%x+ now, 0x%x+ at attach", "DBGMCU_IDCODE 0x%x+ names an .* but CPUID" },
}

local function says(kind, msg)
  for _, pat in ipairs(SAYS[kind]) do
    if msg:find(pat) then return true end
  end
  return false
end

-- A write into the OTP data or lock bytes: a memory write, or a register
-- write (WRITEDEBUGREG or an RW_MISC batch item: a 32-bit bus write).
local function otp_write_at(w)
  local addr, n = w.addr or w.reg, w.n or 4
  return addr < INFO.lock + 16 and addr + n > INFO.base
end

-- One run: open with `hostile` set, burn and lock the plan, traced from
-- the first command after open. Returns the result, the trace and the
-- number of the command before its first entry.
local function run(transport, plan, hostile)
  env.setenv("VPROBE_HOSTILE", hostile)
  local p, msg, code = kit.open(transport, IMG, PART, PROBE)
  env.setenv("VPROBE_HOSTILE", nil)
  if not p then return { nil, msg, code }, {}, 0 end
  local before = p:stats().commands
  p:trace(true)
  local t
  t, msg, code = p:attach()
  local r = { nil, msg, code }
  if t then
    r = { t:otp_write(plan.offset, plan.data) }
    if r[1] then r = { t:otp_lock(table.unpack(plan.blocks)) } end
  end
  local trace = p:trace(false)
  p:close()
  return r, trace, before
end

-- The board holds erased bytes or planned ones, lock bytes of planned
-- blocks only (and only 00 or FF); true when the plan is complete.
local function board_ok(transport, plan, what)
  local back, locks = kit.read_back(transport, IMG, PART, PROBE)
  local complete = back:sub(plan.offset + 1, plan.offset + #plan.data) == plan.data
  for i = 1, #back do
    local at = i - 1 - plan.offset
    local want = at >= 0 and at < #plan.data and plan.data:byte(at + 1) or nil
    assert(back:byte(i) == 0xFF or back:byte(i) == want,
      string.format("%s: OTP byte %d is 0x%02X, planned %s", what, i - 1, back:byte(i), tostring(want)))
  end
  local planned = {}
  for _, b in ipairs(plan.blocks) do planned[b + 1] = true end
  for b = 1, 16 do
    assert(not locks[b] or planned[b], what .. ": unplanned lock of block " .. (b - 1))
    if planned[b] then complete = complete and locks[b] end
  end
  for _, c in ipairs({ kit.image_locks(IMG):byte(1, -1) }) do
    assert(c == 0x00 or c == 0xFF, what .. ": a lock byte is neither 00 nor FF")
  end
  return complete
end

-- A read of DBGMCU_IDCODE: READDEBUGREG or an RW_MISC batch's READ item
-- (the batch runs at its RW_MISC_OUT, whose trace index it has), or a
-- READMEM_32BIT that covers it.
local function reads_idcode(r)
  local IDCODE = 0xE0042000
  if r.op == "regread" then return r.reg == IDCODE end
  return r.op == "read" and r.width == 4 and r.addr <= IDCODE and r.addr + r.n > IDCODE
end

-- No OTP write went out after command n (the hostile one; for idcode, the
-- first read of DBGMCU_IDCODE from n on).
local function nothing_written_after(kind, trace, before, n, what)
  local from = n
  if kind == "idcode" then
    from = math.huge
    for _, r in ipairs(kit.decode(trace)) do
      if before + r.index >= n and reads_idcode(r) then from = math.min(from, before + r.index) end
    end
  end
  for _, w in ipairs(kit.writes(trace)) do
    assert(not (before + w.index > from and otp_write_at(w)),
      string.format("%s: an OTP write (0x%08X) went out as command %d, after the reply of command %d", what,
        w.addr or w.reg, before + w.index, from))
  end
end

local function sweep(transport, plan, kind)
  os.remove(IMG)
  local clean, trace, before = run(transport, plan, nil)
  assert.is_true(clean[1] == true, tostring(clean[2]))
  local total = before + #trace + 1 -- and DEBUG_EXIT at close
  local failed = 0
  for n = 1, total do
    local hostile = kind .. "@" .. n
    os.remove(IMG)
    local r, tr, bf = run(transport, plan, hostile)
    local complete = board_ok(transport, plan, hostile)
    if r[1] then
      assert.is_true(complete, hostile .. ": success, but the board is not as planned")
    else
      failed = failed + 1
      assert.is_string(r[2], hostile)
      assert.equal(r[3] .. ":", r[2]:match("^%w+:"), hostile)
      assert.is_true(says(kind, r[2]), hostile .. ": the error does not name what the probe did: " .. r[2])
      nothing_written_after(kind, tr, bf, n, hostile)
    end
    local again = run(transport, plan, nil)
    assert.is_true(again[1] == true, hostile .. " then a healthy rerun: " .. tostring(again[2]))
    assert.is_true(board_ok(transport, plan, hostile .. " then rerun"), hostile .. ": the rerun did not complete it")
  end
  assert.is_true(failed > 0, kind .. ": the sweep never hit")
end

for _, transport in ipairs { "usb", "sim" } do
  describe("stotp.core with a hostile probe (" .. transport .. ")", function()
    teardown(function() env.setenv("VPROBE_HOSTILE", nil) end)
    for _, kind in ipairs { "short", "long", "status", "refuse", "idcode" } do
      for name, plan in pairs(PLANS) do
        it(string.format("refuses clearly and burns nothing unplanned when %s@N hits any command, writing %s", kind,
          name), function()
          sweep(transport, plan, kind)
        end)
      end
    end

    it("refuses a VPROBE_HOSTILE it cannot read, naming the item (on stderr through libusb)", function()
      os.remove(IMG)
      env.setenv("VPROBE_HOSTILE", "short@1,loud@3")
      local p, msg = kit.open(transport, IMG, PART, PROBE)
      env.setenv("VPROBE_HOSTILE", nil)
      if p then p:close() end
      assert.is_nil(p)
      if transport == "sim" then assert.matches("VPROBE_HOSTILE: bad item 'loud@3'", msg, 1, true) end
    end)
  end)
end
