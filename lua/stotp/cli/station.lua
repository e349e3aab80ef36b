-- stotp.cli.station: `stotp station CONFIG`, the production line's loop over
-- N probes at once. The operator confirms once (types the product name);
-- then every probe has a worker process of its own (stotp.station.worker)
-- that waits for a board, provisions it through `stotp provision`'s code,
-- and waits until the board is taken away or swapped before the next. This
-- process starts the workers, shows their status and running totals, keeps
-- the session log, and stops them between boards on Ctrl-C or --boards N.
--
-- One process per probe (README "The station"): a fault, a crash or a hung
-- USB transfer on one channel cannot stop or slow the others; each channel
-- has its own libusb context, so the probes' transfers really run in
-- parallel on several cores; and each board goes through exactly the code
-- and journal transactions of `stotp provision`.
--
-- Exit status: 0 every board handled is provisioned (or already was); 1 a
-- board failed or was refused, or the operator did not confirm; 2 usage or
-- config error (nothing opened); 130 stopped by Ctrl-C (boards in progress
-- finished first).

local argparse = require("argparse")
local dkjson = require("dkjson")
local common = require("stotp.cli.common")
local provision = require("stotp.cli.provision")

local M = {}

local OK, REFUSED, USAGE, INTERRUPTED = common.OK, common.REFUSED, common.USAGE, common.INTERRUPTED
local POLL = 0.2 -- seconds between two looks at a fixture, and between two status reads

local function parser(prog)
  local p = argparse(prog, "Provision boards on several probes at once, as a production line does: each probe " ..
    "takes the next board once the last one is taken away or swapped."):add_help(false)
  p:argument("config", "The product line's recipe (board.cfg).")
  p:option("--probes", "all (every probe connected at start), or serials (or unique prefixes) separated by commas.")
    :argname("all|S1,S2,..."):default("all")
  p:option("--boards", "Stop after this many boards have been handled (provisioned, found done, or failed)."):argname("N")
  p:option("--journal", "Journal to use instead of the recipe's: an SQLite file or postgresql://... URL."):argname("PATH")
  p:option("--log", "Session log, appended to."):argname("FILE"):default("stotp-station.log")
  p:option("--station", "Station name recorded in the journal (default: $STOTP_STATION, else the host name)."):argname("NAME")
  p:option("--after", "What each board does once recorded: reset, run or halt (as for provision)."):choices({ "reset",
    "run", "halt" }):default("reset")
  return common.finish_parser(p, "Exit status: 0 every board handled is provisioned; 1 a board failed or was refused, " ..
    "or not confirmed;\n2 usage or config error; 130 stopped by Ctrl-C (boards in progress finish first).", true)
end

local function boards_arg(a)
  if a.boards == nil then return nil end
  local n = math.tointeger(tonumber(a.boards))
  if not n or n < 1 then return "option '--boards' wants a whole number of boards, 1 or more, not '" .. a.boards .. "'" end
  a.boards = n
end

-- The probes the station drives: every one listed, or those --probes
-- names (a serial or a unique prefix of one). nil, why when one is
-- unknown or ambiguous.
local function choose_probes(list, want)
  local all = {}
  for _, p in ipairs(list) do all[#all + 1] = p.serial end
  if want == "all" then return all end
  local out = {}
  for s in want:gmatch("[^,]+") do
    local hits = {}
    for _, serial in ipairs(all) do
      if serial == s then hits = { serial }; break end
      if serial:sub(1, #s) == s then hits[#hits + 1] = serial end
    end
    if #hits ~= 1 then
      return nil, string.format("--probes: %s %s (connected: %s)", s, #hits == 0 and "names no probe connected" or
        "matches " .. #hits .. " probes: give more of the serial", #all > 0 and table.concat(all, ", ") or "none")
    end
    out[#out + 1] = hits[1]
  end
  return out
end

local function lua_literal(v)
  if type(v) == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = string.format("[%q] = %s", k, lua_literal(x)) end
    return "{ " .. table.concat(parts, ", ") .. " }"
  end
  return type(v) == "string" and string.format("%q", v) or tostring(v)
end

-- This interpreter, to run the workers with (PATH's lua5.4 otherwise).
local function interpreter()
  local p = io.popen("readlink /proc/$PPID/exe 2>/dev/null")
  local exe = p and p:read("l")
  if p then p:close() end
  return exe and exe ~= "" and exe or "lua5.4"
end

local Station = {}
Station.__index = Station

-- A line of the session log (the file, when there is one), and on the
-- screen unless `screen` is false. On a terminal the probes' status block
-- stays under the scrolling log: it is erased (cursor up, erase to the end
-- of the screen: ECMA-48 CUU and ED), the line printed, the block drawn
-- again.
function Station:say(screen, fmt, ...)
  local line = string.format(fmt, ...)
  if self.logf then
    self.logf:write(os.date("!%Y-%m-%dT%H:%M:%SZ "), line, "\n")
    self.logf:flush()
  end
  if self.args.json or screen == false then return end
  local out = self.d.out
  if self.live and self.drawn > 0 then out:write(string.format("\27[%dA\27[J", self.drawn)) end
  out:write(line, "\n")
  if self.live and self.drawn > 0 then self:draw(true) end
  out:flush()
end

function Station:log(fmt, ...) return self:say(true, fmt, ...) end

function Station:totals_text()
  local t = self.totals
  return string.format("totals: %d provisioned, %d already, %d failed", t.provisioned, t.already, t.failed)
end

function Station:status_line()
  local parts = {}
  for _, ch in ipairs(self.channels) do parts[#parts + 1] = ch.serial .. " " .. ch.state end
  return string.format("status: %s | %s", table.concat(parts, " | "), self:totals_text())
end

-- The status block of a terminal: one line per probe and the totals,
-- redrawn in place (cursor up over the last drawing, each line erased
-- first: ECMA-48 CUU, EL).
function Station:draw(fresh)
  local out = self.d.out
  if not fresh and self.drawn > 0 then out:write(string.format("\27[%dA", self.drawn)) end
  for _, ch in ipairs(self.channels) do out:write("\27[2K  ", ch.serial, "  ", ch.state, "\n") end
  out:write("\27[2K  ", self:totals_text(), "\n")
  self.drawn = #self.channels + 1
  out:flush()
end

-- The channels' states changed: in the log file always; on a terminal as
-- the block redrawn, elsewhere (a pipe, a file) as a line.
function Station:show_status()
  self:say(not self.live, "%s", self:status_line())
  if self.live and not self.args.json then self:draw() end
end

function Station:spawn(ch)
  local a = self.args
  local o = { config = a.config, serial = ch.serial, station = self.name, after = a.after, poll = POLL,
    stop = self.dir .. "/stop", tickets = self.dir .. "/tickets", boards = a.boards, parent = self.pid,
    journal = a.journal }
  local code = string.format("package.path = %q; package.cpath = %q; os.exit(require('stotp.station.worker')" ..
    ".main(%s), true)", package.path, package.cpath, lua_literal(o))
  ch.file = self.dir .. "/" .. ch.serial .. ".out"
  local pid, err = self.proc.spawn({ self.lua, "-e", code }, ch.file)
  if not pid then return nil, err end
  ch.pid, ch.offset, ch.state = pid, 0, "starting"
  return true
end

local STATE_OF = { provisioned = "OK", ["already provisioned"] = "already provisioned" }

-- One event from a worker: the channel's state, the totals, the log.
function Station:event(ch, ev)
  local tag = "[" .. ch.serial .. "]"
  if ev.ev == "start" then
    self.startup_cpu = self.startup_cpu + (tonumber(ev.cpu_s) or 0)
    return
  elseif ev.ev == "waiting" then
    ch.state = "waiting"
    self:log("%s waiting for a board", tag)
  elseif ev.ev == "probe gone" then
    ch.state = "probe gone"
    self:log("%s probe does not answer: %s", tag, tostring(ev.reason))
  elseif ev.ev == "burning" then
    self.t_first = self.t_first or common.uptime()
    ch.state = "burning"
    self:log("%s burning UID %s", tag, tostring(ev.uid))
  elseif ev.ev == "result" then
    ev.probe = ch.serial
    self.t_last = common.uptime()
    self.results[#self.results + 1] = ev
    local t = self.totals
    if ev.status == "provisioned" then t.provisioned = t.provisioned + 1
    elseif ev.status == "already provisioned" then t.already = t.already + 1
    else t.failed = t.failed + 1 end
    local serial = ev.serial and " serial " .. tostring(ev.serial) or ""
    if STATE_OF[ev.status] then
      ch.state = STATE_OF[ev.status] .. serial
      self:log("%s %s%s (UID %s)", tag, STATE_OF[ev.status], serial, tostring(ev.uid))
    else
      ch.state = "FAILED " .. tostring(ev.status)
      self:log("%s FAILED (%s)%s UID %s: %s", tag, tostring(ev.status), serial, tostring(ev.uid),
        tostring(ev.reason))
    end
  else
    return
  end
  self:show_status()
end

-- New whole lines of a worker's output.
function Station:read(ch)
  local f = io.open(ch.file, "rb")
  if not f then return end
  f:seek("set", ch.offset)
  local data = f:read("a") or ""
  f:close()
  local consumed = 0
  for line, stop in data:gmatch("([^\n]*)\n()") do
    consumed = stop - 1
    local ev = dkjson.decode(line)
    if type(ev) == "table" then self:event(ch, ev)
    elseif line ~= "" then self:log("[%s] %s", ch.serial, line) end
  end
  ch.offset = ch.offset + consumed
end

function Station:stop_workers(why)
  if self.stopping then return end
  self.stopping = why
  local f = io.open(self.dir .. "/stop", "w")
  if f then f:close() end
  self:log("stopping (%s): boards being burned finish first", why)
end

-- Until every worker has exited. A Ctrl-C raises "interrupted!" here
-- (lua.c); the caller catches it, stops the workers and calls again.
function Station:loop()
  while true do
    local running = 0
    for _, ch in ipairs(self.channels) do
      if ch.pid then
        self:read(ch)
        local done, code = self.proc.wait(ch.pid)
        if done then
          self:read(ch)
          ch.pid, ch.exit = nil, code
          if code ~= 0 then self:log("[%s] worker ended with status %d", ch.serial, code) end
        else
          running = running + 1
        end
      end
    end
    if running == 0 then return end
    self.proc.sleep(POLL / 2)
  end
end

function Station:run()
  local t0 = common.uptime()
  repeat
    local ok, err = pcall(self.loop, self)
    if not ok then
      if not common.interrupted(err) then
        self:stop_workers("internal error: " .. tostring(err))
        error(err, 0)
      end
      self.interrupted = true
      self:stop_workers("Ctrl-C")
    end
  until ok
  local _, children = self.proc.cpu()
  local t = self.totals
  local handled = t.provisioned + t.already + t.failed
  local wall = common.uptime() - t0
  -- production: from the first board started to the last one done
  local prod = self.t_first and self.t_last and self.t_last - self.t_first
  local own = self.proc.cpu()
  -- start-up (the station's until its workers run, each worker's own):
  -- paid once per station, so apart from what each board costs
  local cpu = own + children
  self.summary = { handled = handled, wall_s = wall, production_s = prod, cpu_s = cpu,
    cpu_per_board_s = handled > 0 and cpu / handled or nil, startup_cpu_s = self.startup_cpu,
    cpu_per_board_steady_s = handled > 0 and (cpu - self.startup_cpu) / handled or nil,
    boards_per_minute = prod and prod > 0 and handled * 60 / prod or nil }
  self:log("station done: %d board(s) handled (%d provisioned, %d already, %d failed) in %.1f s; host CPU %.2f s",
    handled, t.provisioned, t.already, t.failed, wall, own + children)
end

function Station:finish()
  local t = self.totals
  local code = self.interrupted and INTERRUPTED or t.failed > 0 and REFUSED or OK
  if self.args.json then
    local probes = {}
    for i, ch in ipairs(self.channels) do probes[i] = { serial = ch.serial, state = ch.state, exit = ch.exit } end
    common.json_line(self.d, { status = self.interrupted and "interrupted" or "done", product = self.recipe.product,
      station = self.name, totals = t, probes = probes, boards = setmetatable(self.results, { __jsontype = "array" }),
      summary = self.summary }, { "status", "product", "station", "totals", "summary", "probes", "boards" })
  end
  return code
end

local function confirm(d, json, recipe, serials)
  local stream = json and d.err or d.out
  stream:write(string.format("%s: %d probe(s): %s\nBurning OTP cannot be undone. Type the product name (%s) to " ..
    "start the station: ", recipe.product, #serials, table.concat(serials, ", "), recipe.product))
  stream:flush()
  local answer = d.input:read("l")
  return answer ~= nil and answer:gsub("%s+$", "") == recipe.product
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json, boards_arg)
  if not args then return code end
  local recipe
  recipe, code = provision.load_recipe(d, args.config, json)
  if not recipe then return code end
  local fok, ferr = common.check_files(args, recipe)
  if fok then fok, ferr = require("stotp.journal").check_writable(args.log, "the session log " .. args.log ..
    " cannot be written there") end
  if not fok then return common.early(d, json, USAGE, "config error", ferr) end
  local stotp = d.stotp()
  -- from the USB descriptors: opening each probe would take, for a
  -- moment, the probes another station on this host is using
  local list, lerr = stotp.probes({ open = false })
  if not list then return common.early(d, json, REFUSED, "failed", "listing USB devices: " .. tostring(lerr)) end
  local serials, perr = choose_probes(list, args.probes)
  if not serials then return common.early(d, json, USAGE, "usage error", perr) end
  if #serials == 0 then return common.early(d, json, REFUSED, "no probe", "no ST-Link probe found") end
  if not confirm(d, json, recipe, serials) then
    return common.early(d, json, REFUSED, "not confirmed", "the product name was not typed; nothing written")
  end
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. string.format("%q", dir .. "/tickets")), "cannot make " .. dir)
  local live = d.tty
  if live == nil then live = d.out == io.stdout and stotp.proc.isatty ~= nil and stotp.proc.isatty(1) end
  local st = setmetatable({ d = d, args = args, recipe = recipe, proc = stotp.proc, dir = dir, channels = {},
    results = {}, totals = { provisioned = 0, already = 0, failed = 0 }, name = common.station_name(d, args),
    lua = interpreter(), logf = io.open(args.log, "a"), live = live and not args.json, drawn = 0 }, Station)
  local p = io.open("/proc/self/stat")
  st.pid = p and p:read("n")
  if p then p:close() end
  st:log("station %s: %s on %d probe(s): %s%s", st.name, recipe.product, #serials, table.concat(serials, ", "),
    args.boards and string.format(" (%d board(s))", args.boards) or "")
  for _, s in ipairs(serials) do
    local ch = { serial = s, state = "starting" }
    st.channels[#st.channels + 1] = ch
    local ok, err = st:spawn(ch)
    if not ok then st:log("[%s] worker not started: %s", s, tostring(err)) end
  end
  local own, kids = stotp.proc.cpu()
  st.startup_cpu = own + kids
  local ok, err = pcall(st.run, st)
  if st.logf then st.logf:close() end
  os.execute("rm -rf " .. string.format("%q", dir))
  if not ok then error(err, 0) end
  return st:finish()
end

-- argv: the arguments after `station`. Returns the exit status.
M.main = common.command(main)

return M
