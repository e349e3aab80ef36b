-- The README's API table is the reference users read: every function the C
-- binding registers and every function init.lua adds must appear in it, so
-- a new binding cannot land undocumented (the luv practice).
local testfiles = require("testfiles")
local slurp = testfiles.slurp

local function binding_sources()
  local out = {}
  local p = assert(io.popen("ls src/lstotp*.c"))
  for path in p:lines() do out[#out + 1] = slurp(path) end
  p:close()
  return table.concat(out, "\n")
end

-- Names registered through luaL_Reg tables: { "name", c_function }.
local function registered_names(src)
  local names = {}
  for name, fn in src:gmatch('{%s*"([%a_][%w_]*)"%s*,%s*([%a_][%w_]*)%s*}') do
    if fn ~= "NULL" and not name:match("^__") then names[name] = true end
  end
  return names
end

describe("README API table", function()
  local readme = slurp("README.md")
  local api = readme:match("\n## Lua API\n(.-)\n## ")

  it("exists", function()
    assert.is_string(api)
  end)

  it("documents every function the C binding registers", function()
    local missing = {}
    for name in pairs(registered_names(binding_sources())) do
      if not api:find("[%.:]" .. name .. "[%(`]") then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("documents every function init.lua adds", function()
    local missing = {}
    for name in slurp("lua/stotp/init.lua"):gmatch("\nfunction stotp%.([%w_]+)") do
      if not api:find("stotp%." .. name .. "%(") then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)

  it("names every VPROBE_ variable the model reads", function()
    local missing = {}
    local p = assert(io.popen("cat src/vprobe/*.c"))
    local src = p:read("a")
    p:close()
    for var in src:gmatch('"(VPROBE_[A-Z_]+)"') do
      if not readme:find("`" .. var .. "`", 1, true) then missing[var] = true end
    end
    assert.same({}, missing)
  end)
end)
