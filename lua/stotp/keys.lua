-- stotp.keys: random keys, per-device keys derived from a master key, and
-- fingerprints. Key bytes leave this module only towards the OTP encoder;
-- everything that is printed, journalled or sent as JSON is a fingerprint
-- (README, "Keys in output": keys never appear in output, logs or journals).
--
-- Crypto comes from luaossl (Debian lua-luaossl): openssl.rand, .digest,
-- .hmac.

local rand = require("openssl.rand")
local digest = require("openssl.digest")
local hmac = require("openssl.hmac")
local cipher = require("openssl.cipher")

local M = {}

M.MASTER_KEY_BYTES = 32 -- HMAC-SHA256 key: one hash output (RFC 2104 §3)

function M.sha256(s)
  return digest.new("sha256"):final(s)
end

function M.sha256_hex(s)
  return (M.sha256(s):gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- "sha256:" and the first 8 bytes of SHA-256(key) in hex: enough to tell
-- keys apart in a journal, far too little to help guess a 128-bit key.
function M.fingerprint(key)
  return "sha256:" .. M.sha256_hex(key):sub(1, 16)
end

function M.random(n)
  return rand.bytes(n)
end

function M.hmac_sha256(key, msg)
  return hmac.new(key, "sha256"):final(msg)
end

-- Per-device key: HMAC-SHA256(master, label || 0x00 || UID), truncated to
-- `n` (at most 32) bytes. The label separates keys derived from one master
-- for different purposes; the NUL keeps "ab"+"c" apart from "a"+"bc".
function M.derive(master, label, uid_bytes, n)
  assert(n >= 1 and n <= 32, "a derived key is at most 32 bytes")
  return M.hmac_sha256(master, label .. "\0" .. uid_bytes):sub(1, n)
end

-- AES-256 key wrap with padding (RFC 5649; OpenSSL "id-aes256-wrap-pad"
-- through luaossl) under a 32-byte key-encryption key, behind a tag:
-- HMAC-SHA256(KEK, "stotp escrow" || wrapped), first 16 bytes. The wrap
-- has an integrity check of its own, but luaossl's error path when that
-- check fails reads freed memory (heap-use-after-free under
-- AddressSanitizer, lua-luaossl 20220711); with the tag checked first, a
-- wrong KEK or changed bytes are refused before OpenSSL is asked, and the
-- unwrap only ever sees what this code wrapped under this KEK.
local TAG_BYTES = 16

local function tag(kek, wrapped)
  return M.hmac_sha256(kek, "stotp escrow" .. wrapped):sub(1, TAG_BYTES)
end

function M.wrap(kek, key)
  local c = cipher.new("id-aes256-wrap-pad")
  c:encrypt(kek)
  local wrapped = c:final(key)
  return tag(kek, wrapped) .. wrapped
end

-- The key, or nil when kek is not the key it was wrapped with (or the
-- bytes were changed).
function M.unwrap(kek, sealed)
  local t, wrapped = sealed:sub(1, TAG_BYTES), sealed:sub(TAG_BYTES + 1)
  if #wrapped < 16 or t ~= tag(kek, wrapped) then return nil end
  local c = cipher.new("id-aes256-wrap-pad")
  c:decrypt(kek)
  return c:final(wrapped)
end

-- Largest master key file read: 64 hex digits with comments fit many
-- times over; anything bigger is not a key file (a disk image, /dev/zero).
M.MASTER_FILE_MAX = 4096

-- What a key file path is, checked before it is opened: a FIFO would block
-- the station for ever, a device may never end. Returns info or nil, msg.
local function key_file_info(path)
  local info, err = require("stotp.core").file_info(path)
  if not info then return nil, "cannot read key file " .. path .. ": " .. (err:match(": ([^:]*)$") or err) end
  if info.kind ~= "file" then
    return nil, string.format("key file %s is a %s, not a regular file", path, info.kind)
  end
  if info.size > M.MASTER_FILE_MAX then
    return nil, string.format("key file %s is %d bytes; a master key file is 32 raw bytes or 64 hex digits " ..
      "(at most %d bytes with comments)", path, info.size, M.MASTER_FILE_MAX)
  end
  return info
end

-- A master key others may read is a leaked key; one others may write can
-- be swapped for a key the writer knows. nil when the mode is private.
function M.exposure(path, mode)
  if mode & 0x3F == 0 then return nil end
  local who = mode & 0x12 ~= 0 and "written" or "read"
  return string.format("key file %s can be %s by other users (mode %04o): chmod 600 %s", path, who, mode, path)
end

-- A master key file holds exactly 32 bytes: either raw, or as 64 hex digits
-- (whitespace allowed; lines starting with '#' are comments, so a demo key
-- can say that it is one). Returns the key and a warning (nil when the
-- file is private), or nil and a message that never quotes the file's
-- content.
function M.load_master(path)
  local info, ierr = key_file_info(path)
  if not info then return nil, ierr end
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot read key file " .. path .. ": " .. (err:match(": (.*)$") or err) end
  local data, rerr = f:read(M.MASTER_FILE_MAX + 1)
  f:close()
  if not data and rerr then
    return nil, "cannot read key file " .. path .. ": " .. (tostring(rerr):match(": (.*)$") or tostring(rerr))
  end
  data = data or ""
  if #data > M.MASTER_FILE_MAX then return nil, string.format("key file %s grew past %d bytes while read", path,
    M.MASTER_FILE_MAX) end
  local warning = M.exposure(path, info.mode)
  if #data == M.MASTER_KEY_BYTES and not data:find("^[%x%s#]*$") then return data, warning end
  local text = data:gsub("#[^\n]*", ""):gsub("%s", "")
  if text:find("[^%x]") then
    return nil, string.format("key file %s is neither %d raw bytes nor %d hex digits", path,
      M.MASTER_KEY_BYTES, 2 * M.MASTER_KEY_BYTES)
  end
  if #text ~= 2 * M.MASTER_KEY_BYTES then
    return nil, string.format("key file %s has the wrong length: %d hex digits, a master key is %d bytes (%d hex digits)",
      path, #text, M.MASTER_KEY_BYTES, 2 * M.MASTER_KEY_BYTES)
  end
  return (text:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)), warning
end

return M
