-- The README's transcripts of the stotp command stay true: each `$ stotp
-- ...` block of "## The stotp command" is run on a fresh virtual board and
-- its output compared line by line, with what varies from board to board
-- (UIDs and probe serials, times, payload hashes) masked on both sides, and
-- CSV's CRLF line ends read as the README's LF.
local testfiles = require("testfiles")
local station = require("station")

local function mask(text)
  return (text:gsub("\r\n", "\n"):gsub("%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x*", function(h)
    return #h == 64 and "<SHA256>" or #h == 24 and "<ID>" or h
  end):gsub("%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ", "<TIME>"))
end

-- { command = "stotp ...", output = "..." } in the order the README shows them.
local function transcripts()
  local readme = testfiles.slurp(station.ROOT .. "/README.md")
  local section = assert(readme:match("\n## The stotp command\n(.-)\n## "))
  local out = {}
  for block in (section .. "\n\n"):gmatch("(.-)\n\n") do
    block = block:gsub("^\n+", "")
    if not block:find("^    %$ stotp ") then goto next end
    local lines = {}
    for l in (block .. "\n"):gmatch("    ([^\n]*)\n") do lines[#lines + 1] = l end
    out[#out + 1] = { command = lines[1]:sub(3), output = table.concat(lines, "\n", 2) .. "\n" }
    ::next::
  end
  return out
end

describe("README transcripts of the stotp command", function()
  local dir
  setup(function()
    dir = testfiles.sandbox()
    station.copy_example(dir, "sensor-mac.cfg")
  end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("covers provision, read, report, journal copy, check and probes", function()
    local seen = {}
    for _, t in ipairs(transcripts()) do seen[t.command:match("^stotp (%a+)")] = true end
    assert.same({ provision = true, read = true, report = true, journal = true, check = true, probes = true }, seen)
  end)

  it("shows what each command prints", function()
    local list = transcripts()
    -- provision first: the others read the board it made
    table.sort(list, function(a, b) return (a.command:find("provision") and 0 or 1) < (b.command:find("provision") and 0 or 1) end)
    for _, t in ipairs(list) do
      local env = "VPROBE_STATE=board.img LD_LIBRARY_PATH=" .. testfiles.build .. "/vprobe "
      local code, out, err = station.run("cd " .. dir .. " && " .. (t.command:find("^stotp probes") and env or "") ..
        testfiles.build .. "/bin/" .. t.command, dir)
      assert.equal(0, code, t.command .. ": " .. err)
      assert.equal(mask(t.output), mask(out), t.command)
    end
  end)
end)
