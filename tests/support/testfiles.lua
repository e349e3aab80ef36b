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
