-- The soak's invariants (issue 13 item 1), checked from the board images
-- and the journal's rows as they are, never from what a run printed.
--   board(img, rec, events_serial)  after every run on a board
--   final(img, rec, first_serial)   after a board's closing rerun
--   global(images, journal)         at the end, and every N boards
-- Each returns nil when it holds, else a sentence naming what broke.
local model = require("model")

local M = {}

local STATES = { reserved = true, burned = true, verified = true, locked = true, failed = true }

local function touched(img)
  return img.otp ~= ("\255"):rep(#img.otp) or img.lock ~= ("\255"):rep(16)
end

-- Only planned bits cleared: every 0 bit on the board is a 0 bit of the plan.
local function only_planned_bits(img, want)
  local n = #want
  for i = 1, #img.otp do
    local b, w = img.otp:byte(i), (i <= n) and want:byte(i) or 0xFF
    if b & w ~= w then return ("OTP byte %d is %02X: bits cleared that the plan (%02X) keeps"):format(i - 1, b, w) end
  end
  for blk = 0, 15 do
    local l = img.lock:byte(blk + 1)
    if l ~= 0xFF and blk ~= 0 then return ("lock byte %d is %02X: the plan locks only block 0"):format(blk, l) end
  end
  return nil
end

--- A board after any run: its OTP is a state a rerun completes.
function M.board(img, rec)
  if rec and not STATES[rec.state] then return "journal state '" .. tostring(rec.state) .. "' is none of stotp's" end
  if not touched(img) then
    if rec and (rec.state == "verified" or rec.state == "locked") then
      return "journal calls the board " .. rec.state .. " but its OTP is blank"
    end
    return nil
  end
  if not rec then return "OTP touched but the journal has no record of UID " .. img.uid end
  if not rec.serial then return "OTP touched but the journal's record has no serial" end
  local want = model.planned(rec.serial)
  local why = only_planned_bits(img, want)
  if why then return why .. " (serial " .. rec.serial .. ")" end
  local data_ok = img.otp:sub(1, #want) == want
  if img.lock:byte(1) ~= 0xFF and not data_ok then
    return "block 0 is locked (lock byte " .. ("%02X"):format(img.lock:byte(1)) .. ") but its data differs from the plan"
  end
  if (rec.state == "verified" or rec.state == "locked") and not data_ok then
    return "journal calls the board " .. rec.state .. " but block 0 differs from the plan"
  end
  if rec.state == "locked" and img.lock:byte(1) ~= 0x00 then
    return "journal calls the board locked but lock byte 0 is " .. ("%02X"):format(img.lock:byte(1))
  end
  return nil
end

--- A board after its closing rerun: complete, locked, recorded, same serial.
function M.final(img, rec, first_serial)
  local why = M.board(img, rec)
  if why then return why end
  if not rec then return "no journal record after the closing rerun" end
  if rec.state ~= "locked" then return "journal state after the closing rerun is " .. rec.state end
  if first_serial and rec.serial ~= first_serial then
    return ("rerun gave serial %d, the interrupted run had %d"):format(rec.serial, first_serial)
  end
  if img.otp:sub(1, 19) ~= model.planned(rec.serial) or img.lock:byte(1) ~= 0 then
    return "board not complete after the closing rerun"
  end
  return nil
end

--- Across every board and the whole journal: no serial or MAC on two UIDs,
--- every locked/verified record reads back as recorded.
--- images: uid -> img; rows: list of {uid, serial, state}; macs: list of {mac, uid}.
function M.global(images, rows, macs)
  local by_serial, by_mac = {}, {}
  for _, r in ipairs(rows) do
    if r.serial then
      if by_serial[r.serial] and by_serial[r.serial] ~= r.uid then
        return ("serial %d recorded for two UIDs: %s and %s"):format(r.serial, by_serial[r.serial], r.uid)
      end
      by_serial[r.serial] = r.uid
    end
    local img = images[r.uid]
    if not img then return "the journal has a record of UID " .. r.uid .. ", which is none of the soak's boards" end
    local why = M.board(img, r)
    if why then return "UID " .. r.uid .. ": " .. why end
  end
  for _, m in ipairs(macs) do
    if by_mac[m.mac] and by_mac[m.mac] ~= m.uid then
      return ("MAC %012X bound to two UIDs: %s and %s"):format(m.mac, by_mac[m.mac], m.uid)
    end
    by_mac[m.mac] = m.uid
  end
  -- What the chips themselves hold, whatever the journal says.
  local on_chip_s, on_chip_m = {}, {}
  for uid, img in pairs(images) do
    local s, mac = model.identity(img)
    if s then
      if on_chip_s[s] then return ("serial %d burned on two UIDs: %s and %s"):format(s, on_chip_s[s], uid) end
      if on_chip_m[mac] then return ("MAC %012X burned on two UIDs: %s and %s"):format(mac, on_chip_m[mac], uid) end
      on_chip_s[s], on_chip_m[mac] = uid, uid
    end
  end
  for s, uid in pairs(on_chip_s) do
    if by_serial[s] and by_serial[s] ~= uid then
      return ("serial %d is on chip %s but the journal gives it to %s"):format(s, uid, by_serial[s])
    end
  end
  return nil
end

return M
