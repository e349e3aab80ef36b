-- Small file and shell helpers the specs share.
local M = {}

-- `make check` builds into build-san and says so in STOTP_BUILD.
M.root = assert(io.popen("pwd")):read("l")
M.build = M.root .. "/" .. (os.getenv("STOTP_BUILD") or "build")

--- Whole file as a string, or nil when it does not exist.
function M.slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.spit(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

--- Single-quoted for sh.
function M.quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

--- A fresh temporary directory.
function M.tmpdir(prefix)
  local p = assert(io.popen("mktemp -d /tmp/" .. (prefix or "stotp") .. ".XXXXXX"))
  local d = p:read("l")
  p:close()
  return d
end

--- A fresh directory (os.tmpname's name) with an empty keys/ in it, the
--- sandbox a board.cfg names its key files in; the spec removes it.
function M.sandbox()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. d .. "/keys"))
  return d
end

--- A scratch directory (os.tmpname's name; the spec removes it with
--- `rm -rf` in a teardown) and a function that names a new image file in
--- it on each call: <dir>/<letter><n>.img.
function M.scratch(letter)
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir)
  local n = 0
  return dir, function()
    n = n + 1
    return dir .. "/" .. letter .. n .. ".img"
  end
end

--- A function that names a fresh temporary file on each call (os.tmpname's
--- name, not created), and one that removes every file so named: for a
--- teardown.
function M.tmpnames()
  local paths = {}
  local function tmp()
    local p = os.tmpname()
    os.remove(p)
    paths[#paths + 1] = p
    return p
  end
  return tmp, function()
    for _, p in ipairs(paths) do os.remove(p) end
  end
end

-- CRC-32 (zlib polynomial), table driven: written apart from stotp.fields'
-- bitwise one so that a shared mistake cannot pass a spec.
local CRC_TABLE = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do c = (c & 1 == 1) and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  CRC_TABLE[i] = c
end

function M.crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = CRC_TABLE[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

return M
