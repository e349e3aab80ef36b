-- Seeded mutation harness: the recipe loader (stotp.recipe.load_string)
-- on arbitrary text and on arbitrary Lua that stays inside the sandbox.
-- Inputs: the example recipes and the malformed ones of
-- tests/support/bad_configs.lua, mutated at the byte level (flips,
-- deletions, repeats), at the token level (numbers, strings and snippets
-- of the recipe vocabulary swapped in), and whole recipes generated from
-- the vocabulary. The loader must answer every input with a recipe or
-- with nil and a message naming the file; raising, a message without the
-- file, or a file appearing in the recipe's folder is a finding.
--   lua5.4 tests/fuzz/recipe_fuzz.lua RUNS SEED OUTDIR
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local root = here .. "/../.."
local build = os.getenv("STOTP_BUILD") or "build"
package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. root .. "/tests/support/?.lua;" .. package.path
package.cpath = root .. "/" .. build .. "/?.so;" .. package.cpath

local recipe = require("stotp.recipe")
local bad = require("bad_configs")
local runs, seed, outdir = tonumber(arg[1] or 500), tonumber(arg[2] or 1), arg[3] or "/tmp"
local dir = (os.getenv("TMPDIR") or "/tmp") .. "/stotp-recipe-fuzz." .. seed
os.execute("rm -rf '" .. dir .. "' && mkdir -p '" .. dir .. "/keys' '" .. outdir .. "'")

local function slurp(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function spit(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

-- The recipes' folder: the examples (an include finds base.cfg) and keys.
os.execute(("cp -r '%s/examples/sensor-line' '%s/' && cp '%s/examples/keys/master.key' '%s/keys/k.key' && " ..
  "cp '%s/examples/keys/master.key' '%s/keys/' && chmod 600 '%s'/keys/*"):format(root, dir, root, dir, root, dir, dir))
local seeds = {}
for _, name in ipairs({ "sensor-mac.cfg", "keyed-node.cfg", "f7-gateway.cfg", "sensor-line/base.cfg",
  "sensor-line/indoor.cfg", "sensor-line/outdoor.cfg" }) do
  seeds[#seeds + 1] = slurp(root .. "/examples/" .. name)
end
for _, row in ipairs(bad.rows) do seeds[#seeds + 1] = bad.HEADER .. row[2] end

local function pick(t) return t[math.random(#t)] end

local NUMBERS = { "0", "-1", "1", "15", "16", "31", "32", "63", "64", "255", "256", "65535", "2^31", "2^32", "2^53",
  "2^63", "9223372036854775807", "-9223372036854775808", "1e308", "-1e308", "0/0", "1/0", "math.huge", "0.5",
  "-0.0", "0x7FFFFFFF", "0xFFFFFFFFFFFFFFFF", "1e-300" }
local STRINGS = { '""', '"x"', '("x"):rep(100)', '("00"):rep(64)', '"\\0"', '"%"', '"%s%d%n"', '"\\n"',
  '"../etc/passwd"', '"/dev/zero"', '"keys/k.key"', '"keys"', '"base.cfg"', '"sensor-line/base.cfg"',
  '"02:80:E1:00:00:00"', '"ZZ:ZZ"', '"stm32f4"', '"stm32f767"', '"stm32"', '"DEADBEEF"', '"DEADBEE"',
  '"postgresql://x"', '":memory:"', '"\\xff\\xfe"' }
local SNIPPETS = {
  'block(0) { field "z" { u8, 1 } }', 'block(15) { field "z" { bytes(32), ("00"):rep(32) } }',
  'lock { 0 }', 'lock { 0, 1, 2 }', 'lock {}', 'lock { nil }', 'include "base.cfg"', 'include "sensor-line/base.cfg"',
  'include "../x.cfg"', 'override "model" { ascii(8), "X" }', 'serials = { first = 1, last = 0 }',
  'serials = { first = -5, last = 5 }', 'parts = {}', 'parts = { "stm32f4", "stm32f7" }', 'product = nil',
  'product = ("p"):rep(1000)', 'escrow = "keys/k.key"', 'strict_key_files = true',
  'example { serial = 1, uid = "11005E00114F343835383134", fields = {} }',
  'encoder { name = "e", size = 1, encode = function(v) return v end, decode = function(b) return b end, samples = { "a" } }',
  'encoder { name = "e", size = 2 }', 'local t = {} for i = 1, 100 do t[i] = i end',
  'local s = ("x"):rep(1000):gsub("x", "yy")', 'error("boom")', 'error()', 'error({})', 'assert(false)',
  'local function f(n) return n > 0 and f(n - 1) or 0 end f(100)', 'string.rep("x", 2^40)',
  'table.concat({ 1, 2, {} })', 'utf8.char(0x7FFFFFFF)', 'math.floor(1e308)', 'select(-1)',
  'tostring(block)', 'string.format("%p", 1)', 'setmetatable({}, {})', 'field "x" { u8, 1 }',
  'block(0) { field "f" { ascii(8), function(b) return b.serail end } }',
  'block(0) { field "f" { ascii(8), function(b) return b.fields.nope end } }',
  'block(0) { field "f" { u16be, function(b) return b.serial * 1000 end } }',
  'block(1) { field "k" { bytes(16), derived_key("keys/k.key", "x") } }',
  'block(2) { field "r" { bytes(16), random_key } }', 'block(3) { field "c" { crc16_ccitt, over = {} } }',
  'block(0) { field "t" { unixtime, now } }', 'block(0) { field "u" { uuid, "00000000-0000-0000-0000-000000000000" } }',
  'block(0) { field "b" { bcd(3), "123456" } }', 'block(0) { field "m" { mac, from_serial("02:80:E1:00:00:00", 1) } }',
}

local function mutate_bytes(s)
  local n = #s
  if n == 0 then return string.char(math.random(0, 255)) end
  local i = math.random(n)
  local r = math.random(4)
  if r == 1 then return s:sub(1, i - 1) .. string.char(math.random(0, 255)) .. s:sub(i + 1) end
  if r == 2 then return s:sub(1, i - 1) .. s:sub(i + math.random(1, 16)) end
  if r == 3 then
    local j = math.min(n, i + math.random(0, 40))
    return s:sub(1, j) .. s:sub(i, j) .. s:sub(j + 1)
  end
  return s:sub(1, i - 1) .. pick({ "{", "}", "(", ")", ",", '"', "=", "\n", "--", "[[", "]]", "..", "#" }) .. s:sub(i)
end

-- The kth match of `pattern` (k drawn from 1..20) replaced by one of `pool`.
local function replace_one(s, pattern, pool)
  local k, count = math.random(1, 20), 0
  return (s:gsub(pattern, function(m)
    count = count + 1
    if count == k then return pick(pool) end
    return m
  end))
end

local function mutate_tokens(s)
  local r = math.random(5)
  if r == 1 then return replace_one(s, "%f[%w]%d+%f[^%w]", NUMBERS) end
  if r == 2 then return replace_one(s, '"[^"\n]*"', STRINGS) end
  local lines = {}
  for l in (s .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = l end
  local i = math.random(#lines + 1)
  if r == 3 then
    table.insert(lines, math.min(i, #lines + 1), pick(SNIPPETS))
  elseif r == 4 and #lines > 1 then
    table.remove(lines, math.min(i, #lines))
  else
    local other = pick(seeds)
    local ol = {}
    for l in (other .. "\n"):gmatch("([^\n]*)\n") do ol[#ol + 1] = l end
    table.insert(lines, math.min(i, #lines + 1), ol[math.random(#ol)])
  end
  return table.concat(lines, "\n")
end

local SOURCES = { "serial", "uid", "now", "random_key", "1", '"A1"', '"00FF"', "function(b) return b.fields.f0 end",
  "function(b) return b.serail end", "function(b) return nil end", "function(b) return {} end" }

-- A whole recipe from the vocabulary: an encoder with a source that fits
-- it (so most generated recipes load and the checks behind the syntax get
-- exercised), value functions that compute inside the sandbox, CRCs over
-- earlier fields, locks; one field in five gets a wild offset or source.
local TYPED = {
  { "u8", { "3", "255", "function(b) return b.serial % 256 end", "function(b) return #b.uid_bytes end" } },
  { "u16le", { "serial", "65535", "function(b) return (b.serial * 7) % 65536 end" } },
  { "u32be", { "serial", "now", "0xFFFFFFFF", "function(b) return b.now end" } },
  { "u64le", { "serial", "now", "function(b) return b.serial << 40 end" } },
  { "ascii(8)", { '"KN-200"', 'function(b) return ("SL-%05d"):format(b.serial % 100000) end',
    'function(b) return b.uid:sub(1, 8) end', 'function(b) return b.product:upper():sub(1, 8) end',
    'function(b) local s = "" for i = 1, 8 do s = s .. string.char(65 + (b.serial + i) % 26) end return s end' } },
  { "bytes(16)", { "random_key", 'derived_key("keys/k.key", "lbl")', '("AB"):rep(16)',
    'function(b) return ("%032X"):format(b.serial) end' } },
  { "bytes(12)", { "uid", "function(b) return b.uid end" } },
  { "bcd(5)", { "now", '"1234567890"', 'function(b) return ("%010d"):format(b.serial) end' } },
  { "mac", { 'from_serial("02:80:E1:00:00:00", 1)', '"02:80:E1:00:00:01"' } },
  { "uuid", { '"123e4567-e89b-12d3-a456-426614174000"' } },
  { "unixtime", { "now", "0", "function(b) return b.now end" } },
}
local function generate()
  local t = { bad.HEADER }
  local nf = 0
  local blocks = math.random(1, 4)
  for blk = 0, blocks - 1 do
    local fields, used, names = {}, 0, {}
    for _ = 1, math.random(1, 4) do
      local ty = pick(TYPED)
      local enc, val = ty[1], pick(ty[2])
      local size = ({ u8 = 1, u16le = 2, u32be = 4, u64le = 8, mac = 6, uuid = 16, unixtime = 4 })[enc] or
        tonumber(enc:match("%((%d+)")) or 4
      if #names > 0 and math.random(4) == 1 then enc, val, size = pick({ "crc32", "crc16_ccitt" }), nil, 4 end
      if used + size > 32 then break end
      local extra = ""
      if math.random(5) == 1 then
        if math.random(2) == 1 then extra = ", at = " .. pick(NUMBERS) else val = pick(SOURCES) end
      end
      local body = val and (enc .. ", " .. val) or (enc .. ', over = { "' .. pick(names) .. '" }')
      fields[#fields + 1] = ('  field "f%d" { %s%s },'):format(nf, body, extra)
      if val then names[#names + 1] = "f" .. nf end
      used, nf = used + size, nf + 1
    end
    t[#t + 1] = ("block(%d) {\n%s\n}"):format(blk, table.concat(fields, "\n"))
  end
  if math.random(2) == 1 then t[#t + 1] = ("lock { %d }"):format(math.random(0, blocks - 1)) end
  return table.concat(t, "\n") .. "\n"
end
local function input()
  local r = math.random(10)
  if r <= 2 then return generate() end
  local s = pick(seeds)
  for _ = 1, math.random(1, 4) do s = (math.random(2) == 1 and mutate_bytes or mutate_tokens)(s) end
  return s
end

local function listing()
  local p = io.popen("cd '" .. dir .. "' && find . | sort")
  local s = p:read("a")
  p:close()
  return s
end

spit(dir .. "/fuzz.cfg", "")
local before = listing()
local findings, tried, loaded = 0, 0, 0
local seen = {}
for i = 1, runs do
  math.randomseed(seed, i)
  local text = input()
  local file = dir .. "/fuzz.cfg"
  spit(file, text)
  tried = tried + 1
  local ok, r, msg = pcall(recipe.load_string, text, file)
  local why
  if not ok then
    why = "load_string raised: " .. tostring(r)
  elseif r then
    loaded = loaded + 1
  elseif type(msg) ~= "string" then
    why = "load_string failed with no message"
  elseif not msg:find("fuzz.cfg", 1, true) and not msg:find("base.cfg", 1, true) then
    why = "a message that names no file: " .. msg
  end
  if i % 50 == 0 or i == runs then
    local after = listing()
    if after ~= before then why = why or ("the recipe's folder changed:\n" .. after) end
  end
  if why then
    local key = why:gsub("%d+", "N"):sub(1, 120)
    if not seen[key] then
      seen[key] = true
      findings = findings + 1
      spit(("%s/recipe-%d.cfg"):format(outdir, findings), "-- seed " .. seed .. " run " .. i .. ": " ..
        why:gsub("\n", " ") .. "\n" .. text)
      print(("recipe_fuzz: finding %d (run %d): %s"):format(findings, i, why))
    end
  end
end
os.execute("rm -rf '" .. dir .. "'")
print(("recipe_fuzz: %d recipes tried (%d loaded), %d distinct finding(s)"):format(tried, loaded, findings))
os.exit(findings == 0 and 0 or 1)
