-- A clone must explain itself (issue 9 item 4): no file of the tree points
-- at a document outside it (the facts file, the design and style notes the
-- project started from, a path on the machine it was written on), and
-- every source a comment cites by id is explained in README's "Sources".
local testfiles = require("testfiles")

local ROOT = testfiles.root

-- Tracked text files, as { path = text }; nil when this is not a git tree.
local function tracked()
  local p = io.popen("cd " .. testfiles.quote(ROOT) .. " && git ls-files -z 2>/dev/null")
  local list = p:read("a")
  p:close()
  if list == "" then return nil end
  local files = {}
  for path in list:gmatch("([^%z]+)") do
    local text = testfiles.slurp(ROOT .. "/" .. path)
    if text and not text:find("%z") then files[path] = text end
  end
  return files
end

-- Written in pieces so this file does not match itself.
local OUTSIDE = {
  "facts" .. " §", "stlink-otp" .. "-facts", "shared" .. "/facts", "../" .. "shared",
  "/wo" .. "rk/", "DESIGN" .. ".md", "STYLE" .. ".md", "DESIGN" .. " rule", "STYLE" .. " §",
}

-- Source ids a comment may cite: document numbers, then the peers.
local ID_PATTERNS = { "%f[%w]RM%d%d%d%d%f[%W]", "%f[%w]PM%d%d%d%d%f[%W]", "%f[%w]UM%d%d%d%d?%f[%W]",
  "%f[%w]AN%d%d%d%d?%f[%W]", "%f[%w]DS%d%d%d%d%d?%f[%W]" }
local PEERS = { "OpenOCD", "OOCD", "pyOCD", "PYO", "stlink-org", "STL", "st-flash", "probe-rs", "PRS",
  "Black Magic Probe", "BMP", "CMSIS", "HAL", "ARMv7-M", "ADIv5" }

local function legend(readme)
  return readme:match("\n## Sources\n(.-)\n## ")
end

describe("sources inside the repository", function()
  local files = tracked()
  if not files then
    pending("not a git work tree: nothing to list")
    return
  end

  it("refers to no file outside the tree", function()
    local found = {}
    for path, text in pairs(files) do
      for _, needle in ipairs(OUTSIDE) do
        local at = text:find(needle, 1, true)
        if at then
          local line = select(2, text:sub(1, at):gsub("\n", "")) + 1
          found[#found + 1] = ("%s:%d: %s"):format(path, line, needle)
        end
      end
    end
    table.sort(found)
    assert.equal("", table.concat(found, "\n"))
  end)

  it("has a Sources legend in the README", function()
    assert.is_string(legend(files["README.md"] or ""), "README.md needs a '## Sources' section")
  end)

  it("explains every source id a file cites in the README's Sources", function()
    local sources = legend(files["README.md"] or "") or ""
    local missing, seen = {}, {}
    local function need(id, path)
      if not seen[id] and not sources:find(id, 1, true) then
        seen[id] = true
        missing[#missing + 1] = id .. " (first in " .. path .. ")"
      end
    end
    local paths = {}
    for path in pairs(files) do paths[#paths + 1] = path end
    table.sort(paths)
    for _, path in ipairs(paths) do
      local text = files[path]
      for _, pat in ipairs(ID_PATTERNS) do
        for id in text:gmatch(pat) do need(id, path) end
      end
      for _, peer in ipairs(PEERS) do
        if text:find("%f[%w]" .. peer:gsub("%-", "%%-") .. "%f[%W]") then need(peer, path) end
      end
    end
    table.sort(missing)
    assert.equal("", table.concat(missing, "\n"))
  end)
end)
