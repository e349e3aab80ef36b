-- `stotp repl` and stotp.help/stotp.show, in-process over a virtual board.
local testfiles = require("testfiles")
local cli = require("stotp.cli")

local buffer = require("buffer")

describe("stotp repl", function()
  local dir
  before_each(function() dir = testfiles.sandbox() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  local function repl(lines)
    local out = buffer()
    local code = cli.main({ "repl" }, { input = buffer(lines), out = out, err = out, interactive = false,
      getenv = function() return nil end })
    return code, out.text
  end

  it("lists the API one line each with stotp.help()", function()
    local code, out = repl({ "stotp.help()" })
    assert.equal(0, code)
    for _, f in ipairs({ "stotp.probes()", "stotp.open([opts])", "stotp.connect([opts])", "stotp.hex(s)",
      "stotp.locked_blocks(target)", "stotp.help([obj])", "stotp.show(v)" }) do
      assert.truthy(out:find("\n  " .. f:gsub("%p", "%%%0") .. " +%S"), f)
    end
  end)

  it("describes a target and its methods, prints OTP data a block a row and addresses in hex", function()
    local code, out = repl({ ("p = stotp.open{ sim = %q, sim_part = \"stm32f429zi\" }"):format(dir .. "/a.img"), "t = p:attach()",
      "stotp.help(t)", "t.otp", "t:otp_read()", "t:otp_check(0, '\\0')" })
    assert.equal(0, code)
    assert.truthy(out:find("stotp.Target: STM32F427/429/437/439", 1, true))
    assert.truthy(out:find("\n  target:otp_read%(%) +all OTP data bytes"), out)
    assert.truthy(out:find("base = 0x1FFF7800", 1, true), out)
    assert.truthy(out:find("lock_base = 0x1FFF7A00", 1, true))
    assert.truthy(out:find("512 bytes, one OTP block a row:\n  block  0  FF FF", 1, true), out)
    assert.truthy(out:find("block 15  FF", 1, true))
    assert.truthy(out:find("new = 0x00", 1, true))
    assert.falsy(out:find("table: 0x", 1, true))
  end)

  it("says a target whose probe is closed was closed", function()
    local _, out = repl({ ("p = stotp.open{ sim = %q, sim_part = \"stm32f429zi\" }"):format(dir .. "/a.img"), "t = p:attach()", "p:close()",
      "t:otp_read()" })
    assert.truthy(out:find('"closed: the probe of this target was closed"', 1, true), out)
  end)

  it("continues an unfinished statement and keeps going after an error", function()
    local code, out = repl({ "x = 0", "for i = 1, 3 do", "x = x + i", "end", "nil + 1", "x" })
    assert.equal(0, code)
    assert.truthy(out:find("error: stdin:1: attempt to perform arithmetic on a nil value", 1, true), out)
    assert.truthy(out:find("\n6\n$"), out)
  end)
end)
