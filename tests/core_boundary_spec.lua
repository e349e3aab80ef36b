-- The C/Lua boundary (issue 9 item 1, the c-periphery gpio.h /
-- gpio_internal.h split): the binding (src/lstotp*.c) sees the C core's
-- handles only through the public headers, where they are incomplete
-- types, so the compiler keeps it out of the core's internals. These rows
-- check the headers keep it so and no binding file reaches around them.
local testfiles = require("testfiles")

local CC = os.getenv("CC") or "cc"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return ok == true, out
end

local function binding_files()
  local files = {}
  local p = assert(io.popen("ls src/lstotp*.c src/lstotp*.h"))
  for f in p:lines() do files[#files + 1] = f end
  p:close()
  return files
end

local function cflags()
  local _, lua = sh("pkg-config --cflags lua5.4")
  local _, usb = sh("pkg-config --cflags libusb-1.0")
  return (lua .. " " .. usb):gsub("\n", " ") .. " -Isrc -Isrc/vprobe -std=c11 -D_DEFAULT_SOURCE"
end

describe("the C/Lua boundary", function()
  it("finds the binding's files", function()
    assert.is_true(#binding_files() >= 5)
  end)

  it("includes no *_internal.h in a binding file, directly or through a header", function()
    local bad = {}
    for _, f in ipairs(binding_files()) do
      if f:match("%.c$") then
        local ok, deps = sh(string.format("%s %s -MM %s", CC, cflags(), f))
        assert(ok, deps)
        for h in deps:gmatch("[%w_/%.]+_internal%.h") do bad[#bad + 1] = f .. " -> " .. h end
      end
    end
    assert.same({}, bad)
  end)

  it("includes no other binding file's private header", function()
    local bad = {}
    for _, f in ipairs(binding_files()) do
      for h in testfiles.slurp(f):gmatch('#include%s+"([^"]+)"') do
        if h:match("^lstotp.+%.h$") or h:match("_internal%.h$") then bad[#bad + 1] = f .. ": " .. h end
      end
    end
    assert.same({}, bad)
  end)

  -- The patterns of the old binding: p->st->link->ops->stats(...),
  -- t->st->err, s->trace_n = 0.
  it("dereferences no core struct in the binding", function()
    local bad = {}
    for _, f in ipairs(binding_files()) do
      local n = 0
      for line in testfiles.slurp(f):gmatch("[^\n]*") do
        n = n + 1
        for _, pat in ipairs({ "%->st%f[%W]", "%->link%f[%W]", "%->ops%f[%W]", "%->trace", "%->ver%f[%W]" }) do
          if line:find(pat) then bad[#bad + 1] = string.format("%s:%d: %s", f, n, line) end
        end
      end
    end
    assert.same({}, bad)
  end)

  -- Compiled against lstotp.h (every public header the binding gets), a
  -- use of a handle's inside must not compile; the same use with the
  -- internal header must (so the failure is the boundary, not a typo).
  local handles = {
    { "struct stlink", "stlink_internal.h" },
    { "struct target", "target_internal.h" },
    { "struct st_link", "link_internal.h" },
    { "struct probe", nil }, -- defined in probe.c alone
  }
  for _, h in ipairs(handles) do
    it("leaves " .. h[1] .. " an incomplete type to the binding", function()
      local dir = testfiles.tmpdir("stotp-boundary")
      local src = dir .. "/use.c"
      local function try(extra)
        testfiles.spit(src, '#include "lstotp.h"\n' .. (extra and ('#include "' .. extra .. '"\n') or "") ..
          "unsigned long n_bytes(void);\nunsigned long n_bytes(void) { return sizeof(" .. h[1] .. "); }\n")
        return sh(string.format("%s %s -fsyntax-only %s", CC, cflags(), src))
      end
      local ok, out = try(nil)
      local ctl_ok, ctl_out = true, ""
      if h[2] then ctl_ok, ctl_out = try(h[2]) end
      os.execute("rm -rf " .. dir)
      assert.is_false(ok, "the binding can see inside " .. h[1])
      assert.matches("incomplete", out)
      assert.is_true(ctl_ok, ctl_out)
    end)
  end
end)
