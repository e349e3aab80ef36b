-- Issue 7 item 10: a board whose image cannot be saved is a dead board.
-- The probe refuses to open, or fails the transfer that programmed and
-- every later one, loudly; never a run that reports success while the
-- image stays blank. A symlinked image is followed, and its claim lock
-- belongs to the real file.
local kit = require("corekit")
local testfiles = require("testfiles")
local slurp = testfiles.slurp

local ROOT = testfiles.root
local BUILD = testfiles.build
local PART, PROBE = "stm32f429zi", "v2-1:J40M27"

local function pid()
  return assert(slurp("/proc/self/stat"):match("^(%d+)"))
end

local function sh(cmd, dir)
  local ok, _, code = os.execute("unset VPROBE_STATE VPROBE_TARGET VPROBE_PROBE VPROBE_FAULT VPROBE_QUIRKS " ..
    "VPROBE_VOLTAGE VPROBE_STATS; cd " .. ROOT .. " && " .. cmd .. " >" .. dir .. "/out 2>" .. dir .. "/err")
  return ok and 0 or code, slurp(dir .. "/out") .. slurp(dir .. "/err")
end

local function is_root() return io.popen("id -u"):read("l") == "0" end

describe("a board image that cannot be saved", function()
  local dir
  before_each(function() dir = testfiles.tmpdir("stotp-save") end)
  after_each(function() os.execute("chmod -R u+w " .. dir .. "; rm -rf " .. dir) end)

  for _, transport in ipairs { "usb", "sim" } do
    it("fails the transfer that programmed and every later one (" .. transport .. ")", function()
      local img = dir .. "/board.img"
      local p = assert(kit.open(transport, img, PART, PROBE))
      local t = assert(p:attach())
      local before = slurp(img)
      -- the temporary vp_image_save writes is taken by a directory: the
      -- save fails whatever the user's privileges (root included)
      assert(os.execute("mkdir " .. img .. ".tmp." .. pid()))
      local ok, msg, code = t:otp_write(0, "\x12\x34\x56\x78")
      assert.is_nil(ok)
      assert.equal("usb", code, msg)
      local again = { t:otp_read() }
      assert.is_nil(again[1])
      p:close()
      os.execute("rmdir " .. img .. ".tmp." .. pid())
      -- nothing claims success, and the image says what the board holds
      assert.equal(before, slurp(img))
    end)
  end

  it("refuses to open a board in a directory it cannot write (provision.lua exits non-zero)", function()
    local img = dir .. "/ro/board.img"
    os.execute("mkdir " .. dir .. "/ro " .. dir .. "/j && chmod 777 " .. dir .. "/j")
    do
      local p = assert(kit.open("sim", img, PART, PROBE))
      p:close()
    end
    os.execute("chmod 555 " .. dir .. "/ro && chmod 755 " .. dir)
    local before = slurp(img)
    -- root writes anywhere: run as nobody so the permissions hold
    local as = is_root() and "setpriv --reuid=65534 --regid=65534 --clear-groups " or ""
    for _, how in ipairs { "--sim " .. img, "" } do
      local env = how == "" and ("VPROBE_STATE=" .. img .. " LD_LIBRARY_PATH=" .. BUILD .. "/vprobe ") or ""
      local code, out = sh(env .. as .. "lua5.4 provision.lua examples/sensor-mac.cfg " .. how ..
        " --journal " .. dir .. "/j/j.db --yes", dir)
      assert.are_not.equal(0, code, out)
      assert.matches("cannot be saved", out)
      assert.is_nil(out:match("provisioned"), out)
      assert.equal(before, slurp(img))
    end
  end)

  it("follows a symlinked image instead of replacing it; the claim lock is the real file's", function()
    os.execute("mkdir " .. dir .. "/real")
    local real, link = dir .. "/real/board.img", dir .. "/link.img"
    assert(os.execute("ln -s real/board.img " .. link))
    assert(kit.open("sim", real, PART, PROBE)):close()
    local p = assert(kit.open("sim", link, PART, PROBE))
    local t = assert(p:attach())
    assert.is_true((t:otp_write(0, "\xA5")))
    assert.is_truthy(io.open(real .. ".lock"))
    assert.is_nil(io.open(link .. ".lock"))
    -- a second holder by the other name is kept out
    assert.same({ nil, "busy" }, (function() local a, _, c = kit.open("sim", real, PART, PROBE) return { a, c } end)())
    p:close()
    assert.equal("link", io.popen("stat -c %F " .. link):read("l"):match("symbolic (link)"))
    assert.matches("\notp 0000: a5ff", slurp(real))
  end)

  it("refuses a symlink to nothing, creating nothing", function()
    local link = dir .. "/dangling.img"
    assert(os.execute("ln -s nowhere/board.img " .. link))
    local p, msg = kit.open("sim", link, PART, PROBE)
    assert.is_nil(p)
    assert.matches("symlink", msg)
    assert.equal("link", io.popen("stat -c %F " .. link):read("l"):match("symbolic (link)"))
  end)
end)
