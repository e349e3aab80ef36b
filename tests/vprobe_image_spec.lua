-- The board image file (src/vprobe/image.c): creation, round trip, atomic
-- save, and rejection of bad lines with file:line.
local testfiles = require("testfiles")
local slurp, spit = testfiles.slurp, testfiles.spit
local vm = require "vprobe_model"

local tmp, remove_tmps = testfiles.tmpnames()



-- A valid F4 image as lines, to be damaged one line at a time.
local function good_lines()
  local t = { "# vprobe board image", "part stm32f407vg", "uid 3a0028001951363036383438", "rdp aa",
              "sr_at_reset 00000000" }
  for off = 0, 511, 32 do t[#t + 1] = string.format("otp %04x: %s", off, string.rep("ff", 32)) end
  t[#t + 1] = "lock " .. string.rep("ff", 16)
  return t
end

local function uid_of(m)
  return string.format("%08x%08x%08x", m:read(0x1FFF7A10, 4), m:read(0x1FFF7A14, 4), m:read(0x1FFF7A18, 4))
end

teardown(remove_tmps)

describe("vprobe.image", function()
  it("creates a missing image: part, random UID, OTP and locks 0xFF, RDP level 0", function()
    local p = tmp()
    local m = assert(vm.open{ image = p, part = "stm32f446re" })
    local text = slurp(p)
    assert.truthy(text:find("\npart stm32f446re\n", 1, true))
    assert.truthy(text:find("\nrdp aa\n", 1, true))
    assert.truthy(text:find("\nlock " .. string.rep("ff", 16) .. "\n", 1, true))
    local _, n = text:gsub("\notp %x%x%x%x: " .. string.rep("ff", 32), "")
    assert.equal(16, n)
    local uid = text:match("\nuid (%x+)\n")
    assert.equal(24, #uid)
    -- lot number: one letter and six digits in ASCII (bytes 5..11)
    local letter = tonumber(uid:sub(11, 12), 16)
    assert.is_true(letter >= 0x41 and letter <= 0x5A)
    assert.truthy(uid:sub(13):match("^3%d3%d3%d3%d3%d3%d$"))
    m:close()
  end)

  it("gives each new board a different UID", function()
    local a = assert(vm.open{ image = tmp(), part = "stm32f407vg" })
    local b = assert(vm.open{ image = tmp(), part = "stm32f407vg" })
    assert.are_not.equal(uid_of(a), uid_of(b))
  end)

  it("writes 32 OTP lines for the 1024-byte F767 OTP", function()
    local p = tmp()
    vm.open{ image = p, part = "stm32f767zi" }:close()
    local _, n = slurp(p):gsub("\notp ", "")
    assert.equal(32, n)
  end)

  it("round-trips: load then save gives the same text", function()
    local p = tmp()
    local lines = good_lines()
    lines[7] = "otp 0020: " .. string.rep("a5", 16) .. string.rep("ff", 16)
    lines[#lines] = "lock 00ff" .. string.rep("ff", 14)
    spit(p, table.concat(lines, "\n") .. "\n")
    local m = assert(vm.open{ image = p })
    assert.equal(0xA5A5A5A5, m:read(0x1FFF7820, 4))
    assert.equal(0xFFFFFF00, m:read(0x1FFF7A00, 4))
    assert(m:save())
    local out = slurp(p)
    local want = table.concat(lines, "\n", 2) .. "\n"
    assert.equal(want, out:gsub("^#[^\n]*\n", ""))
  end)

  it("reads the UID from the image at the part's UID address", function()
    local p = tmp()
    spit(p, table.concat(good_lines(), "\n") .. "\n")
    local m = assert(vm.open{ image = p })
    assert.equal("0028003a3036511938343836", uid_of(m))
  end)

  it("saves atomically: no temporary file left behind", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local m = assert(vm.open{ image = dir .. "/board.img", part = "stm32f429zi" })
    assert(m:save())
    m:close()
    local ls = io.popen("ls -A " .. dir):read("a")
    assert.equal("board.img\n", ls)
    os.execute("rm -rf " .. dir)
  end)

  it("keeps the old image and removes its temporary when the rename fails", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir " .. dir))
    local m = assert(vm.open{ image = dir .. "/board.img", part = "stm32f429zi" })
    os.remove(dir .. "/board.img")
    assert(os.execute("mkdir " .. dir .. "/board.img"))  -- rename onto a directory fails
    local ok, err = m:save()
    assert.is_nil(ok)
    assert.truthy(err:find(dir .. "/board.img: cannot save", 1, true))
    assert.equal("board.img\n", io.popen("ls -A " .. dir):read("a"))
    m:close()
    os.execute("rm -rf " .. dir)
  end)

  it("names the known parts when a new image asks for an unknown one", function()
    local p = tmp()
    local ok, err = vm.open{ image = p, part = "stm32f999zz" }
    assert.is_nil(ok)
    assert.equal(p .. ": unknown target 'stm32f999zz' for a new image (known: " .. vm.part_names() .. ")", err)
    assert.is_nil(io.open(p))
  end)

  local NOT_SHOWN = " (line not shown)"

  -- A key file given as a board image (issue 7 item 7): the message names
  -- file:line and shows no byte of the file, through the model and through
  -- provision.lua --sim.
  it("never echoes a key file given as an image, naming only its line", function()
    local key = "examples/keys/master.key"
    local hex = assert(slurp(key):match("\n(%x+)\n"))
    local before = slurp(key)
    local ok, err = vm.open{ image = key }
    assert.is_nil(ok)
    assert.equal(key .. ":4: not a 'key value' line" .. NOT_SHOWN, err)
    local out = testfiles.tmpdir("stotp-keyimg")
    local code = select(3, os.execute("unset VPROBE_FAULT VPROBE_STATE; lua5.4 provision.lua examples/sensor-mac.cfg " ..
      "--sim " .. key .. " --journal " .. out .. "/j.db --yes >" .. out .. "/o 2>" .. out .. "/e"))
    local text = slurp(out .. "/o") .. slurp(out .. "/e")
    os.execute("rm -rf " .. out)
    assert.are_not.equal(0, code)
    assert.truthy(text:find(key .. ":4:", 1, true), text)
    for i = 1, #hex - 5 do -- no run of 6 hex digits of the key
      assert.is_nil(text:find(hex:sub(i, i + 5), 1, true), text)
    end
    assert.equal(before, slurp(key))
  end)

  -- One row per bad image: which line is replaced (or appended), and the
  -- message after "file:line: ".
  local bad = {
    { 2, "part stm32f999zz", "unknown part name (known: " .. vm.part_names() .. ")" .. NOT_SHOWN },
    { 3, "uid 3a00280019513630363834", "uid: want exactly 12 bytes as hex" },
    { 3, "uid 3a0028001951363036383g38", "uid: want exactly 12 bytes as hex" },
    { 4, "rdp a", "rdp: want one byte as hex (aa = level 0)" },
    { 5, "sr_at_reset c0", "sr_at_reset: want a 32-bit value as 8 hex digits" },
    { 6, "otp 0000: " .. string.rep("ff", 31), "otp 0000: want exactly 32 bytes as hex" },
    { 6, "otp 0001: " .. string.rep("ff", 32), "otp offset 0001 is not a multiple of 32 below 0200" },
    { 6, "otp 0200: " .. string.rep("ff", 32), "otp offset 0200 is not a multiple of 32 below 0200" },
    { 7, "otp 0000: " .. string.rep("ff", 32), "otp offset 0000 given twice" },
    { 6, "otp 0000 " .. string.rep("ff", 32), "otp line must be 'otp OOOO: <32 hex bytes>'" },
    { 22, "lock " .. string.rep("ff", 15), "lock: want exactly 16 bytes as hex" },
    { 23, "colour blue", "unknown key (keys: part, uid, rdp, sr_at_reset, otp, lock)" .. NOT_SHOWN },
    { 23, "rdp aa", "'rdp' given twice" },
    { 23, "nonsense", "not a 'key value' line" .. NOT_SHOWN },
    { 4, "rdp aa\0junk", "holds a byte that is not printable text" .. NOT_SHOWN },
    { 2, "part stm32f407vg\0\xff\xfe", "holds a byte that is not printable text" .. NOT_SHOWN },
    { 1, "# caf\xc3\xa9", "holds a byte that is not printable text" .. NOT_SHOWN },
    { 3, "uid\t3a0028001951363036383438", "holds a byte that is not printable text" .. NOT_SHOWN },
  }
  for _, row in ipairs(bad) do
    it("rejects line " .. row[1] .. " '" .. row[2]:sub(1, 30):gsub("[^\32-\126]", "?") .. "' with file:line", function()
      local p = tmp()
      local lines = good_lines()
      lines[row[1]] = row[2]
      spit(p, table.concat(lines, "\n") .. "\n")
      local before = slurp(p)
      assert.same({ nil, p .. ":" .. row[1] .. ": " .. row[3] }, { vm.open{ image = p } })
      assert.equal(before, slurp(p))
    end)
  end

  it("rejects otp lines before the part line", function()
    local p = tmp()
    local lines = good_lines()
    table.remove(lines, 2)
    table.insert(lines, "part stm32f407vg")
    spit(p, table.concat(lines, "\n") .. "\n")
    assert.same({ nil, p .. ":5: otp before part" }, { vm.open{ image = p } })
  end)

  for _, row in ipairs{ { 3, "uid" }, { 22, "lock" }, { 2, "part" }, { 4, "rdp" } } do
    it("rejects an image without its '" .. row[2] .. "' line", function()
      local p = tmp()
      local lines = good_lines()
      lines[row[1]] = "# removed"
      spit(p, table.concat(lines, "\n") .. "\n")
      local ok, err = vm.open{ image = p }
      assert.is_nil(ok)
      if row[2] == "part" then
        assert.equal(p .. ":6: otp before part", err)
      else
        assert.equal(p .. ": no '" .. row[2] .. "' line", err)
      end
    end)
  end

  it("rejects an image with an OTP line missing", function()
    local p = tmp()
    local lines = good_lines()
    lines[10] = "# removed"
    spit(p, table.concat(lines, "\n") .. "\n")
    assert.same({ nil, p .. ": no 'otp 0080:' line" }, { vm.open{ image = p } })
  end)

  it("accepts an image without sr_at_reset, as 0", function()
    local p = tmp()
    local lines = good_lines()
    table.remove(lines, 5)
    spit(p, table.concat(lines, "\n") .. "\n")
    local m = assert(vm.open{ image = p })
    assert.equal(0, m:read(0x40023C0C, 4))
  end)

  -- a part without the F2/F4/F7 OTP layout (parts.c): 1 KiB of OTP, no locks
  describe("of stm32l476rg", function()
    local function l4_lines()
      local t = { "part stm32l476rg", "uid 3a0028001951363036383438", "rdp aa", "sr_at_reset 00000000" }
      for off = 0, 1023, 32 do t[#t + 1] = string.format("otp %04x: %s", off, string.rep("ff", 32)) end
      return t
    end

    it("is created with 32 OTP lines and no lock line", function()
      local p = tmp()
      vm.open{ image = p, part = "stm32l476rg" }:close()
      local text = slurp(p)
      local _, n = text:gsub("\notp %x%x%x%x: " .. string.rep("ff", 32), "")
      assert.same({ 32, nil }, { n, text:find("\nlock ", 1, true) })
    end)

    it("round-trips, its OTP readable at 0x1FFF7000 and its UID at 0x1FFF7590", function()
      local p = tmp()
      local lines = l4_lines()
      lines[5 + 31] = "otp 03e0: " .. string.rep("ff", 28) .. "11223344"
      spit(p, table.concat(lines, "\n") .. "\n")
      local m = assert(vm.open{ image = p })
      assert.equal(0x44332211, m:read(0x1FFF73FC, 4))
      assert.equal(0x0028003A, m:read(0x1FFF7590, 4))
      assert(m:save())
      assert.equal(table.concat(lines, "\n") .. "\n", slurp(p):gsub("^#[^\n]*\n", ""))
    end)

    it("refuses a lock line, naming the part", function()
      local p = tmp()
      local lines = l4_lines()
      lines[#lines + 1] = "lock " .. string.rep("ff", 16)
      spit(p, table.concat(lines, "\n") .. "\n")
      assert.same({ nil, p .. ": a 'lock' line, but stm32l476rg has no OTP lock bytes" }, { vm.open{ image = p } })
    end)

    it("refuses a missing OTP line as on any part", function()
      local p = tmp()
      local lines = l4_lines()
      table.remove(lines, 5 + 20)
      spit(p, table.concat(lines, "\n") .. "\n")
      assert.same({ nil, p .. ": no 'otp 0280:' line" }, { vm.open{ image = p } })
    end)
  end)
end)
