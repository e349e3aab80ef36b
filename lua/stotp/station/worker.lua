-- stotp.station.worker: one channel of `stotp station`, a process of its
-- own per probe (lua/stotp/cli/station.lua says why). It waits for a
-- board on its probe's fixture, provisions it through `stotp provision`'s
-- own code (stotp.cli.provision.main, with --probe, --yes and --json: the
-- operator confirmed once for the whole station), reports, then waits
-- until that board is taken away or swapped (the target stops answering or
-- its UID changes) before it takes the next. It reports one JSON object a
-- line on stdout, which the station reads.
--
-- It stops, between boards, when the station's stop file appears, when the
-- station process is gone, or when the --boards tickets are all taken. A
-- board being provisioned is always finished first: the worker runs in a
-- session of its own (stotp.proc.spawn), so Ctrl-C never reaches it.

local dkjson = require("dkjson")

local M = {}

local function emit(ev)
  io.stdout:write(dkjson.encode(ev), "\n")
  io.stdout:flush()
end

local function exists(path)
  local f = io.open(path)
  if f then f:close() end
  return f ~= nil
end

-- A stream provision's --json result is written to.
local function buffer()
  local b = { parts = {} }
  function b:write(...)
    for _, s in ipairs({ ... }) do self.parts[#self.parts + 1] = tostring(s) end
    return self
  end
  function b.flush() end
  function b.read() return nil end
  function b:text() return table.concat(self.parts) end
  return b
end

local Worker = {}
Worker.__index = Worker

function Worker:stopping()
  return exists(self.o.stop) or not exists("/proc/" .. self.o.parent) or self:tickets_gone()
end

-- --boards N: ticket k is the directory TICKETS/k, made by whichever
-- worker takes it first (mkdir is atomic), so N boards are handled in all.
function Worker:tickets_gone()
  local n = self.o.boards
  return n ~= nil and exists(self.o.tickets .. "/" .. n)
end

-- A ticket is never given back, so this worker's scan goes on from the
-- last one it tried: one mkdir per board, not one look per ticket taken
-- so far (which grew with the batch: board 10,000 of a long one looked at
-- 10,000 directories first). stotp.proc.mkdir, not os.execute("mkdir"):
-- a shell and mkdir(1) per board cost 17 ms of host CPU, more than the
-- board's own provisioning.
function Worker:take_ticket()
  local n = self.o.boards
  if not n then return true end
  for k = self.next_ticket or 1, n do
    self.next_ticket = k + 1
    if self.proc.mkdir(self.o.tickets .. "/" .. k) then return true end
  end
  return false
end

-- What is on the fixture: the board's UID, or nil and why not ("probe"
-- when the probe itself does not answer). The probe stays open between
-- looks (one USB open per board, not per look); each look connects
-- afresh, which is what shows a swapped board (vprobe slot.h). The board
-- is left running its firmware, as provision's --after reset left it.
function Worker:look()
  if not self.probe then
    local probe, err = self.stotp.open({ serial = self.o.serial })
    if not probe then return nil, tostring(err), "probe" end
    self.probe = probe
  end
  local t, terr, tcode = self.probe:attach()
  if not t then
    if tcode ~= "target" then self:release() end
    return nil, tostring(terr), tcode == "target" and "target" or "probe"
  end
  local uid = t.uid
  if self.o.after ~= "halt" then pcall(t.run, t) end
  pcall(t.close, t)
  return uid
end

-- The probe handed over (provision opens it itself) or given up.
function Worker:release()
  if self.probe then pcall(self.probe.close, self.probe) end
  self.probe = nil
end

-- One board through provision's own code path (nothing forked here).
function Worker:provision(uid)
  local o = self.o
  local argv = { o.config, "--probe", o.serial, "--yes", "--json", "--station", o.station, "--after", o.after }
  if o.journal then
    argv[#argv + 1] = "--journal"
    argv[#argv + 1] = o.journal
  end
  local out, err = buffer(), buffer()
  -- The serial is exact, so provision needs no probe list to resolve a
  -- prefix (a list opens no probe since stotp.probes{open = false}, but
  -- none is needed at all).
  local stotp = setmetatable({ probes = false }, { __index = self.stotp })
  -- recipes: the recipe is loaded for every board, as provision does, but
  -- checked in the bounded child only when it changed (stotp.recipe)
  local code = self.provision_cli.main(argv, { out = out, err = err, prog = "stotp station",
    stotp = function() return stotp end, recipes = self.recipes })
  local r = dkjson.decode(out:text()) or {}
  return { ev = "result", code = code, status = r.status or "failed", uid = r.uid or uid, serial = r.serial,
    reason = r.reason or (code ~= 0 and err:text():gsub("\n+$", "") or nil), part = r.part,
    duration_ms = r.duration_ms }
end

function Worker:run()
  local handled, last = 0, nil
  -- the CPU of this worker's start (interpreter, modules): the station
  -- reports it apart from the CPU per board
  emit({ ev = "start", serial = self.o.serial, cpu_s = os.clock() })
  while not self:stopping() do
    local uid, why, where = self:look()
    if not uid then
      if self.state ~= where then emit({ ev = where == "probe" and "probe gone" or "waiting", reason = why }) end
      self.state, last = where, nil
    elseif uid ~= last then
      if not self:take_ticket() then break end
      self.state = "burning"
      emit({ ev = "burning", uid = uid })
      self:release()
      local r = self:provision(uid)
      emit(r)
      handled = handled + 1
      last = r.uid
      self.state = "done"
    end
    if not self:stopping() then self.proc.sleep(self.o.poll) end
  end
  self:release()
  emit({ ev = "exit", handled = handled })
  return 0
end

--- o: config, serial, station, after, poll (seconds), stop (a path),
--- tickets (a directory), boards (or nil), parent (pid), journal (or nil).
function M.main(o)
  local stotp = require("stotp")
  -- loaded before the start event, whose CPU time is then the whole start-up
  local w = setmetatable({ o = o, stotp = stotp, proc = stotp.proc, recipes = {},
    provision_cli = require("stotp.cli.provision") }, Worker)
  return w:run()
end

return M
