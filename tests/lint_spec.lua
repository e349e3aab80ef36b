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
