-- stotp.cli.provision: `stotp provision CONFIG ...` (and `lua5.4
-- provision.lua CONFIG ...`), the station's command. One run provisions one
-- board: check the config, attach, bind a serial to the chip's UID in the
-- journal, plan, show the diff, confirm, burn, verify, lock, record. Exit
-- status: 0 provisioned (or already was), 1 plan refused or burn failed (or
-- no board / not confirmed), 2 usage or config error, 130 interrupted. With
-- --json, stdout gets exactly one JSON object.
--
-- Steps (`d.step`, the test seam: nil on a station): attached, reserved,
-- planned, confirmed, recorded, write:<field>, burned, verified,
-- lock:<block>, locked.

local argparse = require("argparse")
local recipe_mod = require("stotp.recipe")
local plan_mod = require("stotp.plan")
local common = require("stotp.cli.common")
local burnlog = require("stotp.cli.burnlog")
local after = require("stotp.cli.after")
local parts_mod = require("stotp.parts")
local escrow_mod = require("stotp.escrow")

local M = {}

local OK, REFUSED, USAGE, INTERRUPTED = common.OK, common.REFUSED, common.USAGE, common.INTERRUPTED
local KEYORDER = { "status", "product", "uid", "serial", "part", "fields_planned", "blocks_planned", "fields_written",
  "blocks_locked", "fields_burned", "burned_by", "values", "macs", "probe_serial", "station", "duration_ms", "after",
  "payload_sha256", "key_fingerprints", "code", "reason" }

local function parser(prog)
  local p = argparse(prog, "Provision the OTP memory of one STM32F2/F4/F7 board from a recipe (board.cfg).")
    :add_help(false)
  p:argument("config", "The product line's recipe (board.cfg).")
  p:mutex(
    p:option("--probe", "Use the ST-Link with this serial number (default: the only one connected)."):argname("SERIAL"),
    p:option("--sim", "Use a virtual board kept in this image file (created when absent). Without --journal, "
      .. "the run uses a journal of its own, IMAGE.journal.db: simulated boards never take production serials."
      ):argname("IMAGE"))
  p:option("--sim-part", "Part of a new --sim image, e.g. stm32f429zi, stm32f767zi."):argname("PART")
  p:option("--journal", "Journal to use instead of the recipe's (or, with --sim, instead of IMAGE.journal.db): "
    .. "an SQLite file or postgresql://... URL."):argname("PATH")
  p:option("--station", "Station name recorded in the journal (default: $STOTP_STATION, else the host name)."):argname("NAME")
  p:option("--width", "Widest program unit in bits: 8, 16 or 32. It narrows what the measured supply allows, never " ..
    "widens it (for a station that knows its supply, or a probe whose voltage reading cannot be trusted)."):argname("BITS")
    :choices({ "8", "16", "32" })
  p:option("--connect", "normal, or under-reset: hold NRST while attaching, for firmware that turns SWD off or sleeps " ..
    "soon after reset."):choices({ "normal", "under-reset" }):default("normal")
  p:flag("--dry-run", "Show the plan and stop: nothing is burned, nothing is reserved.")
  p:option("--after", "What the board does once the run is recorded: reset (starts as after power-up), run (the " ..
    "core resumes where it was halted) or halt (stays halted)."):choices(after.CHOICES):default("reset")
  p:flag("--check", "Run the recipe's examples (its self-tests) with no probe, and exit: 0 all pass, 1 one fails.")
  p:flag("--yes", "Burn without asking to type the product name.")
  p:flag("--after-cut", "Burn a blank chip whose UID the journal holds only as 'cut' (a write that went out " ..
    "and was never read back, e.g. a power loss): only for the very board of that cut run, kept apart since.")
  p:flag("--json", "Print the result as one JSON object on stdout (the diff goes to stderr).")
  p:flag("--version", "Print the tool version and exit.")
  p:flag("-h --help", "Show this help and exit.")
  p:epilog("Exit status: 0 provisioned or already provisioned; 1 plan refused, burn failed, no board or not confirmed;\n" ..
    "2 usage or config error; 130 interrupted (Ctrl-C). Keys are shown only as fingerprints.")
  return p
end

local Run = {}
Run.__index = Run

function Run:say(fmt, ...)
  local s = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  local stream = self.args.json and self.d.err or self.d.out
  stream:write(s, "\n")
end

function Run:step(name)
  if self.d.step then
    self.d.out:flush()
    self.d.step(name)
  end
end

local function serial_text(serial)
  return serial and tostring(serial) or "none (the recipe draws no serials)"
end

local function board_text(serial, uid)
  return serial and string.format("serial %d on UID %s", serial, uid) or "UID " .. uid .. " (no serial)"
end

local function json_line(d, obj) common.json_line(d, obj, KEYORDER) end

-- Issue 7 item 2: once a field is in OTP, the journal notes "burning"
-- before the next is written, so a burn cut short and recorded only as
-- failed still refuses a blank twin. Never before the first write: a run
-- killed then leaves a blank chip its rerun must complete. A journal that
-- cannot take the note stops the burn before the next field.
function Run:began()
  if self.burning ~= nil then return end
  local ok, err = self.journal:note(self.uid, "burning")
  self.burning = ok and true or false
  if not ok then
    self.began_err = string.format("not written: the journal did not take the record that the burn of %s began (%s); " ..
      "nothing more is burned without it: %s, and the rerun completes the board", board_text(self.result.serial, self.uid),
      tostring(err), self:next_step())
  end
end

-- A write went out and the board could not be read back: it may hold any
-- part of the record. The note makes a blank chip with this UID a
-- refusal (Run:twin) that only --after-cut lifts. Returns nil, or what
-- the run's message adds when the journal did not take the note.
function Run:cut()
  local ok, err = self.journal:note(self.uid, "cut")
  if ok then return nil end
  return string.format("and the journal did not take the note that a write to %s went out and was not read back (%s): " ..
    "keep this board apart", board_text(self.result.serial, self.uid), tostring(err))
end

-- Issue 13 item 4: what the operator does when the journal fails a run.
function Run:next_step()
  return string.format("run this board again once journal %s answers (server up, network, disk space, file writable)",
    self.journal.where)
end

-- The target as plan.burn/plan.lock see it, and what a run that did not
-- finish had burned (stotp.cli.burnlog).
function Run:tracked()
  local log
  self.log, log = burnlog.new(self.target, self.plan, {
    before = function() return self.began_err end,
    written = function() self:began() end,
  })
  return log
end

function Run:burned_so_far() return burnlog.burned(self.log, self.target, self.plan) end

-- Each field's value as planned, decoded as a person reads it (a key as
-- its fingerprint; a CRC over a key not at all, plan.show), and the MACs.
function M.values(p)
  local values, macs = {}, {}
  for _, e in ipairs(p.fields) do
    if e.secret == "key" then values[e.name] = p.key_fingerprints[e.name]
    elseif not e.secret and e.new then
      local v = common.decoded(e.fd.encoder, e.new)
      values[e.name] = v
      if e.fd.encoder.name == "mac" then macs[e.name] = v end
    end
  end
  return setmetatable(values, { __jsontype = "object" }), setmetatable(macs, { __jsontype = "object" })
end

-- The final result, as text or as one JSON object (exactly one per run).
-- A result other than success lists what the run in fact burned, and has
-- a `code` (ecode: the failing call's, else named by the status).
function Run:finish(code, status, reason, ecode)
  local r = self.result
  r.status, r.reason = status, reason
  if code ~= OK then r.code = common.result_code(status, ecode) end
  r.probe_serial, r.station = self.probe_serial, self.station
  r.duration_ms = math.floor((common.uptime() - self.started) * 1000 + 0.5)
  if self.plan then r.values, r.macs = M.values(self.plan) end
  if code ~= OK then
    local burned, locked, by = self:burned_so_far()
    r.fields_burned, r.burned_by = setmetatable(burned, { __jsontype = "array" }), by
    r.fields_written, r.blocks_locked = burned, setmetatable(locked, { __jsontype = "array" })
    if reason and #burned + #locked > 0 then
      reason = string.format("%s\nthis run burned field(s) %s and locked block(s) %s", reason,
        #burned > 0 and table.concat(burned, ", ") or "none", #locked > 0 and table.concat(locked, ", ") or "none")
    end
  end
  if self.emitted then return code end
  r.after = self:release()
  self.emitted = true
  if self.args.json then json_line(self.d, r)
  elseif reason then
    common.message(self.d, status, reason)
  end
  return code
end

-- The targets vprobe models (src/vprobe/parts.c, its table of parts), in
-- the order a new --sim image picks one for a recipe's part.
local SIM_MODELS = { "stm32f429zi", "stm32f407vg", "stm32f405rg", "stm32f439zi", "stm32f401re", "stm32f411re",
  "stm32f446re", "stm32f205rg", "stm32f207zg", "stm32f767zi", "stm32f746zg", "stm32f722ze" }

--- The part of a new --sim image: a model of the first of the recipe's
--- parts that vprobe has one of (an ordering code names its own), or nil.
function M.sim_part(recipe)
  for _, pattern in ipairs(recipe.parts) do
    local want = pattern:lower()
    for _, model in ipairs(SIM_MODELS) do
      if model == want then return model end
    end
    for _, model in ipairs(SIM_MODELS) do
      for _, number in ipairs(parts_mod.covered(pattern) or {}) do
        if model:sub(1, #number) == number then return model end
      end
    end
  end
end

-- --sim-part names the part of a new image: against an image of another
-- part it is an error that names the image's part (nothing is written).
function Run:check_sim_part(target)
  local want = self.args.sim_part
  if not want or not self.image_existed or parts_mod.accepts({ want }, target.name) then return true end
  return nil, string.format("the --sim image %s holds a %s board, not a %s: --sim-part only names the part of a new " ..
    "image (leave it out, or give a new image file)", self.args.sim, target.name, want)
end

-- The board released as --after says, once the journal record is complete
-- (every record is committed before finish is called; issue 10 item 9).
function Run:release()
  if not self.target then return nil end
  local left, warning = after.release(self.target, self.args.after or "reset")
  if warning then self:say("%s", warning) end
  return left
end

function Run:open_target()
  local stotp = self.d.stotp()
  local opts = { connect = self.args.connect ~= "normal" and self.args.connect or nil }
  if self.args.sim then opts.sim, opts.sim_part = self.args.sim, self.args.sim_part or M.sim_part(self.recipe)
  elseif self.args.probe then opts.serial = self.args.probe end
  local probe, err, code = common.open_probe(stotp, opts)
  if not probe then return nil, "no probe: " .. tostring(err), code end
  self.probe = probe
  self.tool_version = common.VERSION
  -- A virtual board is marked in the journal ("sim:"): a --sim run
  -- recorded in a shared journal is told apart from production boards.
  self.probe_serial = (self.args.sim and "sim:" or "") .. (probe.serial or self.args.probe or "unknown")
  local target, terr, tcode = probe:attach()
  if not target then return nil, "cannot attach to the target: " .. tostring(terr), tcode end
  self.target = target
  local ok, serr = self:check_sim_part(target)
  if not ok then return nil, serr, "sim_part" end
  return target
end

function Run:journal_path() return common.journal_path(self.args, self.recipe) end

function Run:open_journal()
  local path, sim = self:journal_path()
  if sim then self:say("journal %s (a --sim run's own; give --journal to share one)", path) end
  local j, err = self.d.journal.open(path, { product = self.recipe.product, serials = self.recipe.serials,
    station = self.station, readonly = self.args.dry_run })
  if not j then return nil, err end
  if j.ephemeral then
    self:say("journal %s does not exist yet: the dry run reads an empty journal in memory and saves nothing", path)
  end
  self.journal = j
  return j
end

-- The board's record, or, for a UID the journal has not seen, what it
-- would get (the next free serial, peeked: nothing reserved yet, so a
-- board whose plan is refused never holds a serial: Run:reserve comes
-- after the plan). nil, msg, code on failure.
function Run:bind_serial(uid)
  local j = self.journal
  local rec, err = j:find(uid)
  if rec == nil then return nil, err end
  if rec then return rec end
  local serial, perr, pcode = j:peek()
  if serial == nil then return nil, perr, pcode end
  return { serial = serial or nil, created_at = os.time(), key_fingerprints = {}, fresh = true }
end

-- A fresh board's serial reserved (committed) once its plan is accepted,
-- with the time the plan used. Another station may have taken the peeked
-- serial meanwhile: then the plan is made again with the one reserved.
-- Returns the record and plan, or nil, msg, code.
function Run:reserve(rec, p)
  local r, rerr, rcode = self.journal:reserve(self.uid, { part = self.target.name, probe_serial = self.probe_serial,
    tool_version = self.tool_version, now = rec.created_at })
  if rcode == "journal" then
    rerr = string.format("nothing written: no serial was reserved for UID %s: %s; nothing is burned without a " ..
      "committed reservation: %s", self.uid, tostring(rerr), self:next_step())
  end
  if not r then return nil, rerr, rcode end
  if r.serial == rec.serial and r.created_at == rec.created_at then return r, p end
  local p2, perr, pcode = self:make_plan(r)
  if not p2 then return nil, perr, pcode end
  return r, p2
end

-- With a recipe's escrow, the keys an earlier run of this board escrowed
-- (stotp.escrow): a rerun burns those, not fresh ones.
function Run:open_escrow()
  local e = self.recipe.escrow
  if not e then return true end
  self.escrow = escrow_mod.new(self.journal, e.kek, e.path, self.uid)
  local kept, err = self.escrow:load()
  if not kept then return nil, err end
  self.escrowed = kept
  return true
end

function Run:make_plan(rec)
  local t, recipe = self.target, self.recipe
  local eok, eerr = self:open_escrow()
  if not eok then return nil, eerr, "journal" end
  local ctx = {
    serial = rec.serial, uid_bytes = t.uid_bytes, recorded_payload = rec.payload_sha256,
    now = rec.created_at, key_fingerprints = rec.key_fingerprints,
    master = function(path) return recipe.master_keys[path] end,
    random_key = function(fd)
      local kept = self.escrowed and self.escrowed[fd.name]
      if kept then return kept, true end
      return self.d.random(fd.size)
    end,
  }
  local otp, err, code = t:otp_read()
  if not otp then return nil, "reading OTP: " .. tostring(err), code end
  -- otp_locks: the booleans and the raw bytes (a lock cut short shows as
  -- it is), or nil and why.
  local locks, raw_or_err, lcode = t:otp_locks()
  if not locks then return nil, "reading lock bytes: " .. tostring(raw_or_err), lcode end
  local p = plan_mod.build(recipe, ctx, { otp = otp, locks = locks, block_size = t.otp.block_size,
    lock_bytes = type(raw_or_err) == "string" and raw_or_err or nil })
  p.width = self.args.width and tonumber(self.args.width)
  return p
end

-- Issue 7 item 2: a chip whose UID this journal saw burned can never be
-- blank again. A blank one is a second chip with that UID (a counterfeit),
-- a UID read wrong, or another product line's journal: burning it would
-- put one serial and MAC on two boards. Returns a reason, or nil.
function Run:twin(p, rec)
  if rec.fresh and self.args.dry_run then return nil end
  for _, e in ipairs(p.fields) do
    if e.old:find("[^\xFF]") then return nil end
  end
  local state, err = self.journal:burned_state(self.uid)
  if state == nil then return "reading the journal's events: " .. tostring(err) end
  if not state or (state == "cut" and self.args.after_cut) then return nil end
  if state == "cut" then
    return string.format("UID %s is noted in journal %s as cut (%s): a write to it went out and the board could not " ..
      "be read back, so that chip may hold its record or nothing, and this chip's OTP fields are all blank. If this " ..
      "is the very board of that cut run (kept apart since), run it again with --after-cut; if not, it is a second " ..
      "chip with that UID (a counterfeit), a misread UID or the wrong journal; nothing written", self.uid,
      self.journal.where, rec.serial and "serial " .. rec.serial or "no serial")
  end
  return string.format("UID %s is recorded in journal %s as %s (%s), but this chip's OTP fields are all blank: a chip " ..
    "with that UID can never be blank again. Check for a counterfeit chip (a copied UID), a misread UID (probe, cable, " ..
    "reread) or the wrong journal; nothing written", self.uid, self.journal.where, state,
    rec.serial and "serial " .. rec.serial or "no serial")
end

function Run:show_plan(p, rec)
  local t = self.target
  self:say("%s: %s (%s), UID %s, OTP %d x %d bytes", self.recipe.product, t.name, t.family, t.uid,
    t.otp.blocks or 16, t.otp.block_size)
  self:say("serial %s%s", serial_text(rec.serial), self.args.dry_run and rec.fresh and rec.serial and
    " (next free now; a dry run reserves nothing, and another station may take it first)" or "")
  for _, line in ipairs(plan_mod.diff_lines(p)) do self:say("%s", line) end
end

function Run:confirm()
  if self.args.yes then return true end
  local stream = self.args.json and self.d.err or self.d.out
  stream:write(string.format("Burning OTP cannot be undone. Type the product name (%s) to go on: ", self.recipe.product))
  stream:flush()
  local answer = self.d.input:read("l")
  return answer ~= nil and answer:gsub("%s+$", "") == self.recipe.product
end

function Run:record(t)
  local ok, err = self.journal:update(self.uid, t)
  if not ok then return nil, err end
  return true
end

-- A burn/verify/lock failure: record it, report it, exit 1. code: the
-- failing call's ("journal" when it was the journal's).
function Run:failed(msg, code)
  -- A first write that failed part-way: bytes the board reads back changed
  -- are evidence as good as a write that succeeded. A board that cannot be
  -- read back after a program command went out (a power loss) may hold
  -- the record or nothing: noted "cut". A write that failed before any
  -- program command (a swap the guard caught) leaves no note.
  local burned, _, by = self:burned_so_far()
  if by == "read-back" and #burned > 0 then
    self:began()
  elseif by == "write log" and self.log.touched and self.burning == nil then
    local note_err = self:cut()
    if note_err then msg = msg .. "; " .. note_err end
  end
  local ok, err = self:record({ state = "failed", reason = msg })
  if not ok then msg = msg .. "; and the journal was not updated: " .. tostring(err) end
  return self:finish(REFUSED, "failed", msg, code)
end

-- The board changed but its record did not: the journal is behind the
-- board. A rerun brings it level (the plan finds the bytes in place).
function Run:unrecorded(what, err)
  return self:finish(REFUSED, "journal not updated", string.format("board %s but the journal was not updated: %s; " ..
    "keep %s apart and %s: the rerun finds its bytes in place and completes the record", what, tostring(err),
    board_text(self.result.serial, self.uid), self:next_step()))
end

-- Fresh random keys go into the escrow, committed, before any is burned.
function Run:escrow_keys(p)
  local fresh = plan_mod.fresh_keys(p)
  if not self.escrow or not next(fresh) then return true end
  return self.escrow:store(fresh)
end

-- The keys verified whole in OTP: their wrapped copies are not kept.
function Run:forget_keys()
  if not self.escrow then return end
  local ok, err = self.escrow:forget()
  if not ok then self:say("warning: the escrowed keys of this board were not deleted: %s", tostring(err)) end
end

function Run:execute(p)
  local step = function(name) self:step(name) end
  local target = self:tracked()
  local ok, err = self:escrow_keys(p)
  local code
  if not ok then return self:failed("nothing written: escrow: " .. tostring(err), "journal") end
  ok, err = self:record({ payload_sha256 = p.payload_sha256, key_fingerprints = p.key_fingerprints,
    part = self.target.name, probe_serial = self.probe_serial, tool_version = self.tool_version, macs = p.macs })
  if not ok then
    return self:failed(string.format("nothing written: %s; %s keeps its reservation: %s", tostring(err),
      board_text(self.result.serial, self.uid), self:next_step()), "journal")
  end
  self:step("recorded")
  ok, err, code = plan_mod.burn(target, p, step)
  if not ok then return self:failed(err, code) end
  ok, err = self:record({ state = "burned" })
  if not ok then return self:unrecorded("burned", err) end
  self:step("burned")
  ok, err, code = plan_mod.verify(self.target, p)
  if not ok then return self:failed(err, code) end
  ok, err = self:record({ state = "verified" })
  if not ok then return self:unrecorded("burned and verified", err) end
  self:forget_keys()
  self:step("verified")
  if #p.locks > 0 then
    ok, err, code = plan_mod.lock(target, p, step)
    if not ok then return self:failed(err, code) end
    ok, err = self:record({ state = "locked" })
    if not ok then return self:unrecorded("locked", err) end
    self:step("locked")
  end
  return nil
end

local function written(p)
  local names, blocks = {}, {}
  for _, e in ipairs(p.fields) do if e.status == "write" then names[#names + 1] = e.name end end
  for _, n in ipairs(plan_mod.pending_locks(p)) do blocks[#blocks + 1] = n end
  return names, blocks
end

-- A board whose OTP already holds the whole recipe: make the journal say
-- so (a rerun after a crash between the last write and the last record).
function Run:already(p, rec)
  local final = #p.locks > 0 and "locked" or "verified"
  if rec.state ~= final and not self.args.dry_run then
    local ok, err = self:record({ state = final, payload_sha256 = p.payload_sha256, key_fingerprints = p.key_fingerprints,
      macs = p.macs })
    if not ok then return self:unrecorded("provisioned", err) end
    self:forget_keys()
  end
  self:say("already provisioned: %s; nothing to burn", board_text(rec.serial, self.uid))
  return self:finish(OK, "already provisioned")
end

-- A plan refused before any byte is burned. A board the journal knew
-- records the failure; a fresh one reserved nothing (it keeps no serial)
-- and leaves only an event, with no serial, for the audit trail.
function Run:refused(p, rec)
  local why = "plan refused, nothing written: " .. table.concat(p.reasons, "; ")
  local reason = "plan refused: " .. table.concat(p.reasons, "; ")
  local ok, werr = true, nil
  if self.args.dry_run then
    ok = true
  elseif rec.fresh then
    ok, werr = self.journal:event(self.uid, nil, "failed", reason, os.time())
  elseif rec.state == "reserved" or rec.state == "failed" then
    ok, werr = self:record({ state = "failed", reason = reason })
  end
  if not ok then why = why .. "; and the journal was not updated: " .. tostring(werr) end
  if p.config_error then return self:finish(USAGE, "config error", why) end
  return self:finish(REFUSED, "refused", why)
end

function Run:provision()
  local t, err, ecode = self:open_target()
  if ecode == "sim_part" then return self:finish(USAGE, "usage error", err) end
  if not t then return self:finish(REFUSED, "no board", err, ecode) end
  self.uid = t.uid
  self.result.uid, self.result.part = t.uid, t.name
  self:step("attached")
  if not recipe_mod.accepts(self.recipe, t.name) then
    return self:finish(REFUSED, "refused", string.format("part %s is not one this recipe accepts (%s)", t.name,
      table.concat(self.recipe.parts, ", ")))
  end
  local j, jerr = self:open_journal()
  if not j then return self:finish(REFUSED, "failed", jerr, "journal") end
  local rec, rerr, rcode = self:bind_serial(t.uid)
  if not rec then return self:finish(REFUSED, rcode == "pool" and "pool exhausted" or "failed", rerr, rcode or "journal") end
  self.result.serial = rec.serial
  local p, perr, pcode = self:make_plan(rec)
  if not p then return self:finish(REFUSED, "failed", perr, pcode) end
  local twin = self:twin(p, rec)
  if twin then return self:finish(REFUSED, "refused", twin) end
  if rec.fresh and not p.refused and not self.args.dry_run then
    rec, p, rcode = self:reserve(rec, p)
    if not rec then
      return self:finish(REFUSED, rcode == "pool" and "pool exhausted" or "failed", p, rcode or "journal")
    end
    self.result.serial = rec.serial
  end
  self.plan = p
  self:step("reserved")
  self.result.payload_sha256 = p.payload_sha256
  self.result.key_fingerprints = setmetatable(p.key_fingerprints, { __jsontype = "object" })
  self:show_plan(p, rec)
  self:step("planned")
  if p.refused then return self:refused(p, rec) end
  if p.complete then return self:already(p, rec) end
  if self.args.dry_run then
    self:say("dry run: nothing written")
    self.result.fields_planned, self.result.blocks_planned = written(p)
    self.result.fields_written, self.result.blocks_locked = nil, nil
    return self:finish(OK, "dry-run")
  end
  if not self:confirm() then return self:finish(REFUSED, "not confirmed", "the product name was not typed; nothing written") end
  self:step("confirmed")
  local code = self:execute(p)
  if code then return code end
  self.result.fields_written, self.result.blocks_locked = written(p)
  self:say("provisioned: %s (%d field(s) written, %d block(s) locked)", board_text(rec.serial, self.uid),
    #self.result.fields_written, #self.result.blocks_locked)
  return self:finish(OK, "provisioned")
end

function Run:close()
  if self.journal then pcall(self.journal.close, self.journal) end
  if self.target then pcall(self.target.close, self.target) end
  if self.probe then pcall(self.probe.close, self.probe) end
end

-- A run stopped by Ctrl-C: the journal says what happened to a board whose
-- burn had begun (a transaction the signal cut is rolled back, so the
-- record is whole), and the result says what was burned.
function Run:interrupted()
  local why = "interrupted (Ctrl-C)"
  if self.journal and self.log then
    self.journal:abort()
    local burned = self:burned_so_far()
    local ok, err = self:record({ state = "failed", reason = why .. "; burned: " ..
      (#burned > 0 and table.concat(burned, ", ") or "nothing") })
    if not ok then why = why .. "; and the journal was not updated: " .. tostring(err) end
  elseif not self.log then
    why = why .. "; nothing written"
  end
  return self:finish(INTERRUPTED, "interrupted", why)
end

-- The recipe, loaded and checked (and its warnings shown), or nil after
-- the usage/config error is reported: nothing here opens a probe.
function M.load_recipe(d, path, json)
  local recipe, err = recipe_mod.load_file(path, d.recipes)
  if not recipe then return nil, common.early(d, json, USAGE, "config error", err) end
  for _, w in ipairs(recipe.warnings) do d.err:write(d.prog, ": warning: ", w, "\n") end
  return recipe
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json, function(a)
    if a.sim_part and not a.sim then return "option '--sim-part' needs '--sim' (it names the part of a new virtual board)" end
  end)
  if not args then return code end
  local recipe
  recipe, code = M.load_recipe(d, args.config, json)
  if not recipe then return code end
  if args.check then return require("stotp.cli.check").run(d, recipe) end
  local fok, err = common.check_files(args, recipe, args.dry_run)
  if not fok then return common.early(d, json, USAGE, "config error", err) end
  local run = setmetatable({ d = d, args = args, recipe = recipe, result = { product = recipe.product,
    fields_written = {}, blocks_locked = {} } }, Run)
  run.station, run.started = common.station_name(d, args), common.uptime()
  local image = args.sim and io.open(args.sim, "rb")
  run.image_existed = image and image:close() and true or false
  local okr
  okr, code = pcall(run.provision, run)
  if not okr then
    if common.interrupted(code) then code = run:interrupted()
    else code = run:finish(REFUSED, "internal error", tostring(code)) end
  end
  pcall(run.close, run)
  return code
end

-- argv: the arguments after `provision`. Returns the exit status.
M.main = common.command(main)

return M
