-- `stotp station CONFIG`: several probes provisioned at once, each taking
-- the next board once the last is taken away or swapped, through the
-- libusb drop-in (one virtual probe per image of VPROBE_STATE).
local testfiles = require("testfiles")
local station = require("station")
local pg_server = require("pg_server")
local dkjson = require("dkjson")
local proc = require("stotp").proc

local BUILD, quote = testfiles.build, testfiles.quote
local WAIT_S = 120 -- the longest a spec waits for the station (a bound, never asserted)

-- Board images a, b, c... in dir; the VPROBE_STATE that names them.
local function images(dir, n, prefix)
  local list = {}
  for i = 1, n do list[i] = dir .. "/" .. (prefix or "") .. string.char(96 + i) .. ".img" end
  return list, table.concat(list, ":")
end

local function env_of(state, extra)
  return "LD_LIBRARY_PATH=" .. BUILD .. "/vprobe VPROBE_STATE=" .. state .. " " .. (extra or "")
end

-- The station run to its end, the product name typed on stdin.
local function run_station(dir, cfg, args, env, answer)
  return station.run(string.format("cd %s && printf '%%s\\n' %s | env %s %s/bin/stotp station %s %s", quote(dir),
    quote(answer or "sensor-mac"), env, BUILD, quote(cfg), args), dir)
end

-- The station started in the background (its own session); its pid.
local function spawn_station(dir, cfg, args, env, name)
  testfiles.spit(dir .. "/answer", "sensor-mac\n")
  local cmd = string.format("%s cd %s && exec env %s %s/bin/stotp station %s %s <answer >%s.out 2>%s.err", station.CLEAN,
    quote(dir), env, BUILD, quote(cfg), args, name, name)
  return assert(proc.spawn({ "sh", "-c", cmd }, dir .. "/" .. name .. ".spawn"))
end

local function wait_exit(pid)
  for _ = 1, WAIT_S * 10 do
    local done, code = proc.wait(pid)
    if done then return code end
    proc.sleep(0.1)
  end
  proc.kill(pid, "KILL")
  error("the station did not end")
end

-- Waits until `path` holds `n` matches of `pattern`.
local function wait_for(path, pattern, n)
  for _ = 1, WAIT_S * 10 do
    local text = testfiles.slurp(path) or ""
    local seen = 0
    for _ in text:gmatch(pattern) do seen = seen + 1 end
    if seen >= n then return text end
    proc.sleep(0.1)
  end
  error("never saw " .. n .. " x " .. pattern .. " in " .. path)
end

-- The journal's boards: uid -> {serial, state, reason}.
local function boards(db)
  local env = require("luasql.sqlite3").sqlite3()
  local conn = assert(env:connect(db))
  local cur = assert(conn:execute("SELECT uid, serial, state, reason FROM stotp_boards"))
  local out, row = {}, cur:fetch({}, "a")
  while row do
    out[row.uid] = { serial = tonumber(row.serial), state = row.state, reason = row.reason }
    row = cur:fetch({}, "a")
  end
  cur:close()
  conn:close()
  env:close()
  return out
end

-- Every image's block 0 locked on the board and "locked" in the journal.
local function all_locked(dir, imgs)
  local j = boards(dir .. "/sensor-mac.db")
  for _, img in ipairs(imgs) do
    local b = station.readback(dir, img)
    assert.equal("1000000000000000", b.locks)
    assert.equal("locked", j[b.uid].state)
  end
end

local function new_board(dir, path)
  local code, _, err = station.run(string.format("lua5.4 -e %s", quote(string.format(
    "package.path = %q .. package.path; package.cpath = %q .. package.cpath; " ..
    "assert(require('stotp').open({ sim = %q })):close()", station.ROOT .. "/lua/?.lua;" .. station.ROOT ..
    "/lua/?/init.lua;", BUILD .. "/?.so;", path))), dir)
  assert(code == 0, err)
end

describe("stotp station", function()
  local dir, cfg
  before_each(function()
    dir = testfiles.sandbox()
    cfg = station.copy_example(dir, "sensor-mac.cfg")
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("provisions boards on several probes in parallel, with distinct serials", function()
    local imgs, state = images(dir, 3)
    local code, out, err = run_station(dir, cfg, "--boards 3 --json --log " .. dir .. "/s.log",
      env_of(state, "VPROBE_REALTIME=1 VPROBE_LATENCY_US=30000"))
    assert.equal(0, code, err)
    local r = dkjson.decode(out)
    assert.equal("done", r.status)
    assert.same({ provisioned = 3, already = 0, failed = 0 }, r.totals)
    local serials = {}
    for _, b in ipairs(r.boards) do serials[#serials + 1] = b.serial end
    table.sort(serials)
    assert.same({ 100000, 100001, 100002 }, serials)
    all_locked(dir, imgs)
    -- in parallel: every channel was burning before the first board was done
    local log = testfiles.slurp(dir .. "/s.log")
    local first_ok = log:find("%] OK serial")
    local burning = 0
    for pos in log:gmatch("()%] burning UID") do if pos < first_ok then burning = burning + 1 end end
    assert.equal(3, burning, log)
  end)

  it("reports the host CPU of starting up apart from the CPU per board, in the --json summary", function()
    local _, state = images(dir, 2)
    local code, out, err = run_station(dir, cfg, "--boards 2 --json --log " .. dir .. "/s.log", env_of(state))
    assert.equal(0, code, err)
    local s = dkjson.decode(out).summary
    assert.equal(2, s.handled)
    -- the interpreter and modules of the station and of both workers
    assert.is_true(s.startup_cpu_s > 0 and s.startup_cpu_s < s.cpu_s, out)
    assert.is_true(s.cpu_per_board_steady_s > 0 and s.cpu_per_board_steady_s < s.cpu_per_board_s, out)
    assert.near(s.cpu_s, s.startup_cpu_s + 2 * s.cpu_per_board_steady_s, 1e-6)
  end)

  it("redraws one status line per probe and the totals in place on a terminal, the log scrolling above", function()
    local _, state = images(dir, 2)
    -- util-linux script(1) gives the station a pseudo-terminal
    testfiles.spit(dir .. "/answer", "sensor-mac\n")
    local inner = string.format("env %s %s/bin/stotp station %s --boards 2 <%s", env_of(state), BUILD, quote(cfg),
      quote(dir .. "/answer"))
    local code, _, err = station.run(string.format("cd %s && script -qec %s %s", quote(dir), quote(inner),
      quote(dir .. "/tty.out")), dir)
    assert.equal(0, code, err)
    local tty = testfiles.slurp(dir .. "/tty.out")
    assert.truthy(tty:find("\27[3A", 1, true), "no cursor-up over the 3-line block")
    assert.truthy(tty:find("\27[2K  totals: 2 provisioned, 0 already, 0 failed", 1, true), tty)
    assert.is_nil(tty:find("status: ", 1, true)) -- no status line scrolls by
    -- through a pipe, the same session prints status lines instead
    local code2, out2 = run_station(dir, cfg, "--boards 2", env_of(select(2, images(dir, 2, "p"))))
    assert.equal(0, code2)
    assert.is_nil(out2:find("\27[", 1, true))
    assert.truthy(out2:find("status: ", 1, true))
  end)

  it("provisions a swapped board next, and never burns an unchanged board twice", function()
    local imgs, state = images(dir, 1)
    local pid = spawn_station(dir, cfg, "--boards 2 --json --log s.log", env_of(state), "st")
    local log = wait_for(dir .. "/s.log", "%] OK serial", 1)
    proc.sleep(1) -- several looks at the unchanged board
    -- (the station holds the probe while it waits: the UID from its log)
    local first = log:match("%] OK serial 100000 %(UID (%x+)%)")
    new_board(dir, dir .. "/spare.img")
    assert(os.rename(dir .. "/spare.img", imgs[1]))
    assert.equal(0, wait_exit(pid), testfiles.slurp(dir .. "/st.err"))
    local r = dkjson.decode(testfiles.slurp(dir .. "/st.out"))
    assert.equal(2, #r.boards, log)
    assert.same({ "provisioned", first, 100000 }, { r.boards[1].status, r.boards[1].uid, r.boards[1].serial })
    local second = station.readback(dir, imgs[1]).uid
    assert.are_not.equal(first, second)
    assert.same({ "provisioned", second, 100001 }, { r.boards[2].status, r.boards[2].uid, r.boards[2].serial })
    local j = boards(dir .. "/sensor-mac.db")
    assert.same({ 100000, "locked" }, { j[first].serial, j[first].state })
    assert.same({ 100001, "locked" }, { j[second].serial, j[second].state })
  end)

  it("reports a board that is already provisioned, and burns nothing", function()
    local imgs, state = images(dir, 1)
    local code, _, err = station.stotp(dir, "provision " .. cfg .. " --yes", env_of(state))
    assert.equal(0, code, err)
    local before = testfiles.slurp(imgs[1])
    local scode, out, serr = run_station(dir, cfg, "--boards 1 --json --log s.log", env_of(state))
    assert.equal(0, scode, serr)
    local r = dkjson.decode(out)
    assert.same({ "already provisioned", 100000 }, { r.boards[1].status, r.boards[1].serial })
    assert.equal(before, testfiles.slurp(imgs[1]))
  end)

  it("keeps the other channels running when one probe is unplugged and another board is faulty", function()
    local imgs, state = images(dir, 3)
    -- probe 2 is unplugged in the middle of its burn; board 3 has an OTP
    -- cell that does not program (verify fails): bit 2 of the magic 0x43
    local code, out, err = run_station(dir, cfg, "--boards 3 --json --log s.log",
      env_of(state, "VPROBE_FAULT_2=unplug@18 VPROBE_FAULT_3=stuck@0:0x04"))
    assert.equal(1, code, err)
    local r = dkjson.decode(out)
    assert.same({ provisioned = 1, already = 0, failed = 2 }, r.totals)
    local by_probe, serials = {}, {}
    for _, b in ipairs(r.boards) do by_probe[b.probe] = b end
    for i, ch in ipairs(r.probes) do serials[i] = ch.serial end
    local uids = {}
    for i, img in ipairs(imgs) do uids[i] = station.readback(dir, img).uid end
    local j = boards(dir .. "/sensor-mac.db")
    local results = {}
    for _, b in pairs(by_probe) do results[b.uid] = b end
    assert.equal("provisioned", results[uids[1]].status)
    assert.equal("locked", j[uids[1]].state)
    assert.equal("failed", results[uids[2]].status)
    assert.truthy(results[uids[2]].reason:find("unplugged", 1, true), results[uids[2]].reason)
    assert.equal("failed", j[uids[2]].state)
    assert.equal("failed", results[uids[3]].status)
    assert.equal("failed", j[uids[3]].state)
    assert.equal(3, #serials)
  end)

  it("lets boards in progress finish on Ctrl-C, with every record complete", function()
    local imgs, state = images(dir, 2)
    local pid = spawn_station(dir, cfg, "--json --log s.log", env_of(state, "VPROBE_REALTIME=1 VPROBE_LATENCY_US=30000"),
      "st")
    wait_for(dir .. "/s.log", "%] burning UID", 2)
    assert(proc.kill(pid, "INT"))
    assert.equal(130, wait_exit(pid))
    local r = dkjson.decode(testfiles.slurp(dir .. "/st.out"))
    assert.equal("interrupted", r.status)
    assert.same({ provisioned = 2, already = 0, failed = 0 }, r.totals)
    all_locked(dir, imgs)
    assert.truthy(testfiles.slurp(dir .. "/s.log"):find("stopping (Ctrl-C)", 1, true))
  end)

  -- One row per bad input: the message, exit 2, and no probe opened (no
  -- image made).
  local BAD = {
    { "--boards 0", "option '--boards' wants a whole number of boards, 1 or more, not '0'" },
    { "--boards x", "option '--boards' wants a whole number" },
    { "--probes NOSUCH", "--probes: NOSUCH names no probe connected" },
    { "--jsn", "unknown option '--jsn'" },
  }
  for _, row in ipairs(BAD) do
    it("refuses " .. row[1] .. " with exit 2, writing nothing", function()
      local imgs, state = images(dir, 1)
      local code, _, err = run_station(dir, cfg, row[1] .. " --log s.log", env_of(state))
      assert.equal(2, code, err)
      assert.truthy(err:find(row[2], 1, true), err)
      if row[1] ~= "--probes NOSUCH" then assert.is_nil(testfiles.slurp(imgs[1])) end
      assert.is_nil(testfiles.slurp(dir .. "/sensor-mac.db"))
    end)
  end

  it("refuses a bad config before any probe is opened", function()
    local imgs, state = images(dir, 1)
    testfiles.spit(dir .. "/bad.cfg", "product = 'x'\nfield { name = 'a' }\n")
    local code, _, err = station.run(string.format("cd %s && echo x | env %s %s/bin/stotp station bad.cfg", quote(dir),
      env_of(state), BUILD), dir)
    assert.equal(2, code, err)
    assert.truthy(err:find("config error", 1, true), err)
    assert.is_nil(testfiles.slurp(imgs[1]))
  end)

  it("starts nothing when the product name is not typed", function()
    local imgs, state = images(dir, 1)
    local code, _, err = run_station(dir, cfg, "--log s.log", env_of(state), "sensor")
    assert.equal(1, code)
    assert.truthy(err:find("not confirmed", 1, true), err)
    assert.equal(("\xFF"):rep(19), station.readback(dir, imgs[1]).otp:sub(1, 19))
    assert.is_nil(testfiles.slurp(dir .. "/sensor-mac.db"))
  end)

  describe("with a PostgreSQL journal and two stations at once", function()
    local server, reason = pg_server.start()
    if not server then
      pending("PostgreSQL station spec skipped: " .. reason)
      return
    end
    teardown(function() pg_server.stop(server) end)

    it("gives every board of both stations its own serial, every record complete", function()
      local a_imgs, a_state = images(dir, 2, "a")
      local b_imgs, b_state = images(dir, 2, "b")
      local args = "--boards 2 --json --journal " .. quote(server.url) .. " --log s.log"
      local pa = spawn_station(dir, cfg, args .. " --station line-a", env_of(a_state), "a")
      local pb = spawn_station(dir, cfg, args .. " --station line-b", env_of(b_state), "b")
      assert.equal(0, wait_exit(pa), testfiles.slurp(dir .. "/a.err"))
      assert.equal(0, wait_exit(pb), testfiles.slurp(dir .. "/b.err"))
      local serials = {}
      for _, name in ipairs({ "a", "b" }) do
        for _, b in ipairs(dkjson.decode(testfiles.slurp(dir .. "/" .. name .. ".out")).boards) do
          serials[#serials + 1] = b.serial
        end
      end
      table.sort(serials)
      assert.same({ 100000, 100001, 100002, 100003 }, serials)
      local code, out, err = station.stotp(dir, "report --journal " .. quote(server.url) .. " --format json", "")
      assert.equal(0, code, err)
      local rows = dkjson.decode(out)
      assert.equal(4, #rows)
      for _, row in ipairs(rows) do assert.equal("locked", row.state) end
      for _, img in ipairs({ a_imgs[1], a_imgs[2], b_imgs[1], b_imgs[2] }) do
        assert.equal("1000000000000000", station.readback(dir, img).locks)
      end
    end)
  end)
end)
