-- Static checks of the Lua code (luacheck with .luacheckrc): unused and
-- undefined variables, accidental globals, shadowing.
describe("luacheck", function()
  if not os.execute("command -v luacheck >/dev/null 2>&1") then
    pending("luacheck is not installed (.ci/deps installs lua-check)")
    return
  end

  it("finds nothing in lua/, provision.lua and tests/", function()
    local p = assert(io.popen("luacheck --no-color --formatter plain lua provision.lua tests 2>&1"))
    local out = p:read("a")
    local ok = p:close()
    assert(ok, out)
    assert.equal("", out)
  end)
end)

-- One C dialect (.clang-format, issue 9): a file that drifts from it is named
-- with the first lines clang-format would change.
describe("clang-format", function()
  if not os.execute("command -v clang-format >/dev/null 2>&1") then
    pending("clang-format is not installed (.ci/deps installs clang-format)")
    return
  end

  it("finds every C file of src/ and tests/support/ in the house layout", function()
    local list = assert(io.popen("git ls-files 'src/*.c' 'src/*.h' 'tests/support/*.c' 2>/dev/null"))
    local files = {}
    for f in list:lines() do files[#files + 1] = f end
    list:close()
    assert.is_true(#files > 40, "git ls-files found only " .. #files .. " C files")
    local drifted = {}
    for _, f in ipairs(files) do
      local p = assert(io.popen("clang-format --dry-run " .. f .. " 2>&1 | head -4"))
      local out = p:read("a")
      p:close()
      if out ~= "" then drifted[#drifted + 1] = out end
    end
    assert.equal("", table.concat(drifted, "\n"), "run `make format`")
  end)
end)
