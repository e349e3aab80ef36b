-- stotp.proc, the process primitives of `stotp station`: the ones a
-- worker calls per board, where a subprocess would cost more host CPU
-- than the board's own work.
local testfiles = require("testfiles")
local proc = require("stotp").proc

describe("stotp.proc.mkdir", function()
  local dir
  before_each(function() dir = testfiles.tmpdir("stotp-proc") end)
  after_each(function() os.execute("rm -rf " .. testfiles.quote(dir)) end)

  local function entries(path)
    local p = assert(io.popen("ls -A " .. testfiles.quote(path)))
    local s = p:read("a")
    p:close()
    return s
  end

  it("makes a directory once: true for the call that made it, false for every later one", function()
    local ticket = dir .. "/1"
    assert.same({ true }, { proc.mkdir(ticket) })
    assert.same({ false }, { proc.mkdir(ticket) })
    assert.equal("1\n", entries(dir))
    assert.equal("", entries(ticket))
  end)

  it("takes each path for exactly one of several processes racing for it", function()
    local script = dir .. "/race.lua"
    testfiles.spit(script, string.format("package.path = %q; package.cpath = %q\n", package.path, package.cpath) ..
      "local proc = require('stotp').proc\nlocal won = 0\n" ..
      "for k = 1, 50 do if proc.mkdir(arg[1] .. '/' .. k) then won = won + 1 end end\nprint(won)\n")
    local cmd = string.format("cd %s && for i in 1 2 3 4; do lua5.4 %s %s & done; wait", testfiles.quote(testfiles.root),
      testfiles.quote(script), testfiles.quote(dir .. "/t"))
    assert(os.execute("mkdir " .. testfiles.quote(dir .. "/t")))
    local p = assert(io.popen(cmd))
    local total = 0
    for line in p:lines() do total = total + assert(tonumber(line)) end
    p:close()
    assert.equal(50, total)
  end)

  it("refuses a path whose parent is missing with the reason, making nothing", function()
    local r = { proc.mkdir(dir .. "/no/such") }
    assert.equal(3, #r)
    assert.is_nil(r[1])
    assert.equal("proc: mkdir " .. dir .. "/no/such: No such file or directory", r[2])
    assert.equal("proc", r[3])
    assert.equal("", entries(dir))
  end)

  it("refuses a path where a file already is with the reason, leaving the file", function()
    testfiles.spit(dir .. "/f", "x")
    local r = { proc.mkdir(dir .. "/f/sub") }
    assert.same({ nil, "proc: mkdir " .. dir .. "/f/sub: Not a directory", "proc" }, r)
    assert.equal("x", testfiles.slurp(dir .. "/f"))
  end)
end)
