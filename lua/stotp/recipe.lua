-- stotp.recipe: board.cfg -> a checked recipe (product, accepted parts,
-- journal, serial pool, OTP layout of named fields, blocks to lock).
--
-- A board.cfg is Lua, evaluated in a sandbox that holds only the recipe
-- vocabulary (encoders, sources, block/field/lock): no io, os, require,
-- load, no globals of the station. Text only (no bytecode), and a bounded
-- number of instructions, so a config cannot run code on the station nor
-- hang it. Every error names the file and line, and the field when there is
-- one; everything is checked here, before any probe is opened.

local fields = require("stotp.fields")
local sources = require("stotp.sources")
local keys = require("stotp.keys")

local M = {}

-- OTP block size per part-name prefix (facts §6.1): F2/F4 and F72x/F73x
-- have 16 x 32 bytes; F74x-F77x have 16 x 64 bytes.
local BLOCK_SIZE = {
  stm32f2 = 32, stm32f4 = 32, stm32f72 = 32, stm32f73 = 32,
  stm32f74 = 64, stm32f75 = 64, stm32f76 = 64, stm32f77 = 64,
}
M.BLOCKS = 16
local MAX_INSTRUCTIONS = 1000000
local SETTINGS = { product = "string", parts = "table", journal = "string", serials = "table" }

-- Block sizes of the parts a pattern accepts ("stm32f7" -> {32, 64}).
function M.block_sizes(pattern)
  local sizes = {}
  for prefix, size in pairs(BLOCK_SIZE) do
    if prefix:sub(1, #pattern) == pattern or pattern:sub(1, #prefix) == prefix then sizes[size] = true end
  end
  return sizes
end

-- The part numbers a target's name covers. A chip tells its line by DEV_ID
-- only (facts §5.1), so stotp.core names it by line: "STM32F427/429/437/439",
-- "STM32F401xD/E" -> { "stm32f427", "stm32f429", ... }, { "stm32f401" }.
function M.part_numbers(name)
  local out = {}
  local rest = name:lower():match("^stm32f(.*)$")
  for item in (rest or ""):gmatch("[^/]+") do
    local digits = item:match("^%d+")
    if digits then out[#out + 1] = "stm32f" .. digits end
  end
  return out
end

-- Does the target (by its line name) match an accepted pattern? A pattern
-- may be wider ("stm32f4") or narrower ("stm32f767zi") than a part number;
-- parts of one line (F765 and F767) cannot be told apart on the wire.
function M.accepts(recipe, name)
  for _, number in ipairs(M.part_numbers(name)) do
    for _, p in ipairs(recipe.parts) do
      if number:sub(1, #p) == p or p:sub(1, #number) == number then return true end
    end
  end
  return false
end

local Fail = {}
local function fail(msg) error(setmetatable({ msg = msg }, Fail), 0) end

local function where(recipe, line, field)
  local s = recipe.file .. ":" .. (line or "?") .. ":"
  if field then s = s .. " field '" .. field .. "':" end
  return s
end

-- The vocabulary: fresh per load, so one config cannot leak into the next.
-- Encoders and sources are read-only objects (fields.read_only), so no
-- config can change what they compute for itself or for a later config;
-- field records are known by identity, so a hand-made { is_field = true }
-- table is not a field.
local function vocabulary(recipe)
  local v = {}
  local made = setmetatable({}, { __mode = "k" })
  recipe.is_field = function(f) return made[f] == true end
  for _, n in ipairs(fields.vocabulary) do v[n] = fields[n] end
  for _, n in ipairs(sources.vocabulary) do v[n] = sources[n] end
  local function line() return debug.getinfo(3, "l").currentline end

  function v.field(name)
    if type(name) ~= "string" or not name:find("^[%a_][%w_]*$") then
      error("field name must be an identifier, e.g. field \"serial\" { u32le, serial }", 2)
    end
    local at = line()
    return function(spec)
      if type(spec) ~= "table" then error("field '" .. name .. "' needs a table: { encoder, value }", 2) end
      local f = { name = name, spec = spec, line = at }
      made[f] = true
      return f
    end
  end

  function v.block(n)
    local at = line()
    if not math.tointeger(n) or n < 0 or n >= M.BLOCKS then
      error(string.format("block number must be 0..%d", M.BLOCKS - 1), 2)
    end
    if recipe.blocks[n] then error(string.format("block %d is defined twice (first at line %d)", n, recipe.blocks[n].line), 2) end
    return function(list)
      if type(list) ~= "table" then error("block(" .. n .. ") needs a list of fields", 2) end
      recipe.blocks[n] = { n = n, line = at, list = list }
    end
  end

  function v.lock(list)
    if type(list) ~= "table" then error("lock needs a list of block numbers, e.g. lock { 0, 1 }", 2) end
    if recipe.lock_line then error("lock is given twice", 2) end
    recipe.lock_line, recipe.lock_list = line(), list
  end
  return v
end

local function sandbox(recipe)
  local vocab, settings = vocabulary(recipe), {}
  recipe.settings = settings
  return setmetatable({}, {
    __index = function(_, k)
      if vocab[k] ~= nil then return vocab[k] end
      if settings[k] ~= nil then return settings[k].value end
      error(string.format("'%s' is not part of the recipe vocabulary", tostring(k)), 2)
    end,
    __newindex = function(_, k, val)
      if vocab[k] ~= nil then error(string.format("'%s' is recipe vocabulary and cannot be redefined", k), 2) end
      if not SETTINGS[k] then
        error(string.format("unknown setting '%s' (settings: product, parts, journal, serials; "
          .. "use local for helpers)", tostring(k)), 2)
      end
      if type(val) ~= SETTINGS[k] then error(string.format("%s must be a %s", k, SETTINGS[k]), 2) end
      settings[k] = { value = val, line = debug.getinfo(2, "l").currentline }
    end,
  })
end

-- Run the chunk in its own coroutine, with an instruction budget.
local function run(chunk)
  local co = coroutine.create(chunk)
  debug.sethook(co, function() error("the config runs too long (a loop?)", 2) end, "", MAX_INSTRUCTIONS)
  local ok, err = coroutine.resume(co)
  if not ok then return nil, tostring(err) end
  if coroutine.status(co) ~= "dead" then return nil, "the config must not yield" end
  return true
end

local function setting_line(recipe, k)
  return recipe.settings[k] and recipe.settings[k].line
end

local function check_settings(recipe)
  local s = recipe.settings
  for _, k in ipairs({ "product", "parts", "journal" }) do
    if not s[k] then fail(recipe.file .. ": " .. k .. " is not set") end
  end
  recipe.product = s.product.value
  if not recipe.product:find("^[%w][%w%._%-]*$") then
    fail(where(recipe, s.product.line) .. " product must be a name of letters, digits, '.', '_' or '-'")
  end
  recipe.parts = {}
  recipe.block_size = math.huge
  for i, p in ipairs(s.parts.value) do
    if type(p) ~= "string" then fail(where(recipe, s.parts.line) .. " parts[" .. i .. "] must be a part name") end
    local sizes = M.block_sizes(p:lower())
    if not next(sizes) then
      fail(where(recipe, s.parts.line) .. " unknown part '" .. p .. "' (stotp knows stm32f2, stm32f4, stm32f7 parts)")
    end
    for size in pairs(sizes) do recipe.block_size = math.min(recipe.block_size, size) end
    recipe.parts[i] = p:lower()
  end
  if #recipe.parts == 0 then fail(where(recipe, s.parts.line) .. " parts is empty") end
  local j = s.journal.value
  if j == "" or j:sub(-1) == "/" then
    fail(where(recipe, s.journal.line) .. " journal must name an SQLite file or a postgresql:// URL")
  end
  if j:find("^postgresql://") or j:find("^postgres://") or j:sub(1, 1) == "/" then recipe.journal = j
  else recipe.journal = recipe.dir .. j end
  if s.serials then
    local first, last = s.serials.value.first, s.serials.value.last
    if not math.tointeger(first) or not math.tointeger(last) or first < 0 or last < first then
      fail(where(recipe, s.serials.line) .. " serials needs integers first <= last, both >= 0")
    end
    recipe.serials = { first = math.tointeger(first), last = math.tointeger(last) }
  end
end

-- One field: encoder, value source (or literal), place in its block.
local function check_field(recipe, block, f, next_at)
  local enc, value = f.spec[1], f.spec[2]
  local here = where(recipe, f.line, f.name)
  if enc == fields.ascii or enc == fields.bytes or enc == fields.bcd then
    fail(here .. " this encoder needs its length, e.g. bytes(16)")
  end
  if not fields.is_encoder(enc) then
    fail(here .. " the first entry must be an encoder (u8, u32le, mac, bytes(n), crc32, ...)")
  end
  for k in pairs(f.spec) do
    if k ~= 1 and k ~= 2 and k ~= "at" and k ~= "over" then fail(here .. " unknown key '" .. tostring(k) .. "'") end
  end
  local at = f.spec.at or next_at
  if math.type(at) ~= "integer" or at < 0 then fail(here .. " at must be a byte offset >= 0") end
  -- at > size - n, not at + n > size: a huge `at` must not wrap around.
  if at > recipe.block_size - enc.size then
    fail(string.format("%s %s at offset %d does not fit in a %d-byte OTP block of %s", here, enc.name, at,
      recipe.block_size, table.concat(recipe.parts, "/")))
  end
  local fd = { name = f.name, block = block.n, at = at, size = enc.size, encoder = enc, line = f.line }
  if enc.takes == "crc" then
    if value ~= nil then fail(here .. " a CRC takes no value, only over = { field names }") end
    if type(f.spec.over) ~= "table" or #f.spec.over == 0 then fail(here .. " a CRC needs over = { field names }") end
    fd.over = f.spec.over
  elseif f.spec.over ~= nil then
    fail(here .. " only CRC fields take over")
  elseif value == nil then
    fail(here .. " no value: { " .. enc.name .. ", value or source }")
  elseif sources.is_source(value) then
    local ok, err = value:check(enc, recipe)
    if not ok then fail(here .. " " .. err) end
    fd.source = value
  else
    local bytes, err = enc:encode(value)
    if not bytes then fail(here .. " " .. err) end
    fd.literal = bytes
  end
  return fd
end

local function check_layout(recipe)
  local order = {}
  for n in pairs(recipe.blocks) do order[#order + 1] = n end
  table.sort(order)
  for _, n in ipairs(order) do
    local block, next_at, taken = recipe.blocks[n], 0, {}
    for i, f in ipairs(block.list) do
      if not recipe.is_field(f) then
        fail(where(recipe, block.line) .. " block(" .. n .. ") entry " .. i .. " is not a field \"name\" { ... }")
      end
      if recipe.by_name[f.name] then
        fail(where(recipe, f.line, f.name) .. " name already used at line " .. recipe.by_name[f.name].line)
      end
      recipe.checking = { f.line, f.name }
      local fd = check_field(recipe, block, f, next_at)
      for b = fd.at, fd.at + fd.size - 1 do
        if taken[b] then
          fail(string.format("%s overlaps field '%s' at byte %d of block %d", where(recipe, f.line, f.name),
            taken[b], b, n))
        end
        taken[b] = f.name
      end
      next_at = fd.at + fd.size
      recipe.fields[#recipe.fields + 1], recipe.by_name[f.name] = fd, fd
    end
  end
  if #recipe.fields == 0 then fail(recipe.file .. ": the config defines no field (block(n) { field ... })") end
end

local function check_crcs(recipe)
  for _, fd in ipairs(recipe.fields) do
    if fd.over then
      for _, name in ipairs(fd.over) do
        local target = recipe.by_name[name]
        if not target then fail(where(recipe, fd.line, fd.name) .. " over names unknown field '" .. tostring(name) .. "'") end
        if target.over then fail(where(recipe, fd.line, fd.name) .. " a CRC cannot cover another CRC ('" .. name .. "')") end
      end
    end
  end
end

local function check_locks(recipe)
  recipe.locks = {}
  local seen = {}
  for _, n in ipairs(recipe.lock_list or {}) do
    local here = where(recipe, recipe.lock_line)
    if not math.tointeger(n) or n < 0 or n >= M.BLOCKS then fail(here .. " lock: block numbers are 0..15") end
    if not recipe.blocks[n] then fail(string.format("%s lock: block %d is not in the layout", here, n)) end
    if not seen[n] then recipe.locks[#recipe.locks + 1], seen[n] = n, true end
  end
  table.sort(recipe.locks)
end

-- Key files are read now, so a missing or short key stops the run before
-- any probe is opened. Paths are relative to the config's directory.
local function load_keys(recipe)
  recipe.master_keys = {}
  for _, fd in ipairs(recipe.fields) do
    local src = fd.source
    recipe.checking = { fd.line, fd.name }
    if src and src.kind == "derived_key" and not recipe.master_keys[src.file] then
      local path = src.file:sub(1, 1) == "/" and src.file or recipe.dir .. src.file
      local key, err = keys.load_master(path)
      if not key then fail(where(recipe, fd.line, fd.name) .. " " .. err) end
      recipe.master_keys[src.file] = key
    end
  end
end

-- Load and check a config from `text` (read from `file` by load_file).
function M.load_string(text, file)
  local recipe = { file = file, dir = file:match("^(.*/)") or "./", blocks = {}, fields = {}, by_name = {} }
  local chunk, err = load(text, "@" .. file, "t", sandbox(recipe))
  if not chunk then return nil, "syntax error: " .. err end
  local ok, rerr = run(chunk)
  if not ok then return nil, rerr end
  local ok2, e = pcall(function()
    check_settings(recipe)
    check_layout(recipe)
    check_crcs(recipe)
    check_locks(recipe)
    load_keys(recipe)
  end)
  if not ok2 then
    if getmetatable(e) == Fail then return nil, e.msg end
    -- A check tripped over a value nobody foresaw: still the config's
    -- fault, so a placed message (exit 2), never a traceback.
    local at = recipe.checking or {}
    return nil, string.format("%s cannot check this value: %s", where(recipe, at[1], at[2]), tostring(e))
  end
  recipe.settings, recipe.lock_list, recipe.checking, recipe.is_field = nil, nil, nil, nil
  return recipe
end

function M.load_file(file)
  local f, err = io.open(file, "rb")
  if not f then return nil, "cannot read config: " .. err end
  local text = f:read("a")
  f:close()
  return M.load_string(text, file)
end

M.setting_line = setting_line
return M
