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
local parts_mod = require("stotp.parts")
local sandbox_mod = require("stotp.sandbox")
local compute = require("stotp.compute")
local includes = require("stotp.includes")
local selftest = require("stotp.selftest")

local M = {}

M.BLOCKS = 16
local SETTINGS = { product = "string", parts = "table", journal = "string", serials = "table",
  strict_key_files = "boolean", escrow = "string" }

M.block_sizes = parts_mod.block_sizes
M.part_numbers = parts_mod.numbers_of
function M.accepts(recipe, name) return parts_mod.accepts(recipe.parts, name) end

local Fail = {}
local function fail(msg) error(setmetatable({ msg = msg }, Fail), 0) end

local function where(recipe, line, field, file)
  local s = (file or recipe.file) .. ":" .. (line or "?") .. ":"
  if field then s = s .. " field '" .. field .. "':" end
  return s
end

-- How a value looks in a message: "0" (a string), nil, 1.5.
local function shown(v)
  if type(v) == "string" then return string.format("%q (a string)", v) end
  return tostring(v)
end

-- A block or lock number: an integer 0..15 (a float with an integer value
-- is that integer; "1" is not a number here, whatever Lua would coerce).
local function block_number(v)
  local n = math.type(v) and math.tointeger(v)
  if n and n >= 0 and n < M.BLOCKS then return n end
  return nil
end

-- A Lua list with a nil in it loses entries without a word: with `rev`
-- nil, { "a", rev, "b" } has no [2] and # may well say 1. Every list a
-- recipe gives must hold exactly the positions 1..n. Returns a message
-- naming the first gap or stray key, or nil.
local function list_problem(t, what)
  local count, max = 0, 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then
      return string.format("%s is a list, but has the key %s", what, shown(k))
    end
    count, max = count + 1, math.max(max, k)
  end
  if count == max then return nil end
  local gap = 1
  while t[gap] ~= nil do gap = gap + 1 end
  return string.format("%s has no entry %d but has %d after it (a nil in the list: an undefined local?); " ..
    "every entry must have a value", what, gap, max)
end

local function check_list(t, what, level)
  local problem = list_problem(t, what)
  if problem then error(problem, level + 1) end
end

-- Where an earlier definition is, from a message about a later one in
-- file `here`: "line 5", or "base.cfg:5" in another file.
local function first_at(rec, here)
  if rec.file == here then return "line " .. rec.line end
  return rec.file .. ":" .. rec.line
end

local BOM = "\239\187\191"

-- A config file's text as a chunk over env, or nil and why.
local function compile(text, file, env)
  if text:sub(1, 1) == "\27" then
    return nil, file .. ": is precompiled Lua (bytecode); a recipe must be Lua source text"
  end
  -- lua5.4's own file loader skips a UTF-8 byte-order mark (lauxlib
  -- skipBOM); editors on some systems write one.
  if text:sub(1, 3) == BOM then text = text:sub(4) end
  local chunk, err = load(text, "@" .. file, "t", env)
  if not chunk then return nil, "syntax error: " .. err end
  return chunk
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
  for k, f in pairs(sandbox_mod.library()) do v[k] = f end
  local function line() return debug.getinfo(3, "l").currentline end
  -- The file a definition is in: the recipe or one it includes.
  local function file() return debug.getinfo(3, "S").source:sub(2) end
  -- A recipe's functions run again at plan time; the layout is fixed by
  -- then, so the words that build it only work while the config loads.
  local function loading(word)
    if recipe.sealed then error(word .. " can only be used while the config loads, not from a value function", 3) end
  end

  function v.field(name)
    loading("field")
    if type(name) ~= "string" or not name:find("^[%a_][%w_]*$") then
      error("field name must be an identifier, e.g. field \"serial\" { u32le, serial }", 2)
    end
    local at, src = line(), file()
    return function(spec)
      if type(spec) ~= "table" then error("field '" .. name .. "' needs a table: { encoder, value }", 2) end
      local f = { name = name, spec = spec, line = at, file = src }
      made[f] = true
      return f
    end
  end

  -- A block is defined once: block(n) itself claims the number, and the
  -- function it returns takes one list (a second call would replace it).
  function v.block(n)
    loading("block")
    local at, src, num = line(), file(), block_number(n)
    if not num then error(string.format("block number must be an integer 0..%d, not %s", M.BLOCKS - 1, shown(n)), 2) end
    local old = recipe.blocks[num]
    if old and not recipe.includes:may_replace(src, old.file) then
      error(string.format("block %d is defined twice (first at %s)", num, first_at(old, src)), 2)
    end
    local block = { n = num, line = at, file = src }
    recipe.blocks[num] = block
    return function(list)
      if block.list then
        error(string.format("block(%d) is given a field list twice (first at line %d)", num, block.list_line), 2)
      end
      if type(list) ~= "table" then error("block(" .. num .. ") needs a list of fields", 2) end
      check_list(list, "block(" .. num .. ")", 2)
      block.list, block.list_line = list, line()
    end
  end

  -- A recipe-defined encoder (stotp.compute.encoder), checked on its
  -- samples here, at load.
  function v.encoder(def)
    loading("encoder")
    local enc, samples = compute.encoder(def)
    if not enc then error(samples, 2) end
    check_list(samples, "encoder " .. def.name .. ": samples", 2)
    for _, sample in ipairs(samples) do
      local ok, err = compute.round_trip(enc, sample)
      if not ok then error("encoder " .. def.name .. ": sample " .. string.format("%q", sample) .. ": " .. err, 2) end
    end
    recipe.has_code = true
    return enc
  end

  function v.lock(list)
    loading("lock")
    local src = file()
    if type(list) ~= "table" then error("lock needs a list of block numbers, e.g. lock { 0, 1 }", 2) end
    if recipe.lock_line and not recipe.includes:may_replace(src, recipe.lock_file) then
      error(string.format("lock is given twice (first at %s)", first_at({ line = recipe.lock_line,
        file = recipe.lock_file }, src)), 2)
    end
    check_list(list, "lock", 2)
    for i, n in ipairs(list) do
      if not block_number(n) then
        error(string.format("lock: entry %d is %s; block numbers are integers 0..%d", i, shown(n), M.BLOCKS - 1), 2)
      end
    end
    recipe.lock_line, recipe.lock_file, recipe.lock_list = line(), src, list
  end

  -- include "base.cfg": the base's definitions, which this file may then
  -- replace (stotp.includes). Runs in this sandbox, on this budget.
  function v.include(path)
    loading("include")
    local full, err = recipe.includes:resolve(path, file())
    if not full then error(err, 2) end
    local f = assert(io.open(full, "rb"))
    local text = f:read("a")
    f:close()
    recipe.inputs[#recipe.inputs + 1] = { path = full, text = text }
    local chunk, cerr = compile(text, full, recipe.env)
    if not chunk then error(cerr, 0) end
    recipe.includes:enter(full)
    chunk()
    recipe.includes:leave()
  end

  -- example { serial =, uid =, fields = { ... }, bytes = { ... } }: a
  -- self-test (stotp.selftest), run with no probe by --check.
  function v.example(spec)
    loading("example")
    local problem = selftest.check_shape(spec)
    if problem then error(problem, 2) end
    recipe.examples[#recipe.examples + 1] = { spec = spec, line = line(), file = file() }
  end

  -- override "name" { encoder, value }: a field of an included file, in
  -- its place, with another encoder or value.
  function v.override(name)
    loading("override")
    if type(name) ~= "string" then error("override needs a field name, e.g. override \"model\" { ascii(12), \"X\" }", 2) end
    local at, src = line(), file()
    return function(spec)
      if type(spec) ~= "table" then error("override '" .. name .. "' needs a table: { encoder, value }", 2) end
      if recipe.overrides[name] then
        error(string.format("field '%s' is overridden twice (first at %s)", name, first_at(recipe.overrides[name], src)), 2)
      end
      recipe.overrides[name] = { name = name, spec = spec, line = at, file = src }
    end
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
      error(string.format("'%s' is not part of the recipe vocabulary%s", tostring(k), require("stotp.words").hint(k, vocab)), 2)
    end,
    __newindex = function(_, k, val)
      if recipe.sealed then error("the config's settings cannot change after it has loaded", 2) end
      if vocab[k] ~= nil then error(string.format("'%s' is recipe vocabulary and cannot be redefined", k), 2) end
      if not SETTINGS[k] then
        error(string.format("unknown setting '%s'%s (settings: product, parts, journal, serials, escrow, "
          .. "strict_key_files; "
          .. "use local for helpers)", tostring(k), require("stotp.words").hint(k, SETTINGS)), 2)
      end
      if type(val) ~= SETTINGS[k] then error(string.format("%s must be a %s", k, SETTINGS[k]), 2) end
      local at = debug.getinfo(2, "Sl")
      settings[k] = { value = val, line = at.currentline, file = at.source:sub(2) }
    end,
  })
end

local function setting_line(recipe, k)
  return recipe.settings[k] and recipe.settings[k].line
end

-- serials = { first = F, last = L }: integers, nothing else (a misspelt
-- key such as `frist` must not leave the pool to a default).
local function check_serials(recipe, setting)
  local here, t = where(recipe, setting.line, nil, setting.file), setting.value
  for k in pairs(t) do
    if k ~= "first" and k ~= "last" then fail(here .. " serials: unknown key " .. shown(k) .. " (keys: first, last)") end
  end
  for _, k in ipairs({ "first", "last" }) do
    if math.type(t[k]) ~= "integer" then
      fail(string.format("%s serials.%s must be an integer, not %s", here, k, shown(t[k])))
    end
  end
  if t.first < 0 or t.last < t.first then fail(here .. " serials needs integers first <= last, both >= 0") end
  return { first = t.first, last = t.last }
end

local function check_settings(recipe)
  local s = recipe.settings
  for _, k in ipairs({ "product", "parts", "journal" }) do
    if not s[k] then fail(recipe.file .. ": " .. k .. " is not set") end
  end
  recipe.product = s.product.value
  if not recipe.product:find("^[%w][%w%._%-]*$") then
    fail(where(recipe, s.product.line, nil, s.product.file) .. " product must be a name of letters, digits, '.', '_' or '-'")
  end
  recipe.parts = {}
  recipe.block_size = math.huge
  local here = where(recipe, s.parts.line, nil, s.parts.file)
  local problem = list_problem(s.parts.value, "parts")
  if problem then fail(here .. " " .. problem) end
  for i, p in ipairs(s.parts.value) do
    local _, err = parts_mod.covered(p)
    if err then fail(string.format("%s parts[%d]: %s", here, i, err)) end
    for size in pairs(M.block_sizes(p)) do recipe.block_size = math.min(recipe.block_size, size) end
    recipe.parts[i] = p:lower()
  end
  if #recipe.parts == 0 then fail(where(recipe, s.parts.line, nil, s.parts.file) .. " parts is empty") end
  local j = s.journal.value
  if j == "" or j:sub(-1) == "/" then
    fail(where(recipe, s.journal.line, nil, s.journal.file) .. " journal must name an SQLite file or a postgresql:// URL")
  end
  if j:find("^postgresql://") or j:find("^postgres://") or j:sub(1, 1) == "/" then recipe.journal = j
  else recipe.journal = recipe.dir .. j end
  if s.serials then recipe.serials = check_serials(recipe, s.serials) end
end

-- A CRC's `over`: a list of distinct field names, without holes (a nil
-- name would silently shrink what the CRC covers).
local function check_over(over, here)
  if type(over) ~= "table" or next(over) == nil then fail(here .. " a CRC needs over = { field names }") end
  local problem = list_problem(over, "over")
  if problem then fail(here .. " " .. problem) end
  local seen = {}
  for i, name in ipairs(over) do
    if type(name) ~= "string" then fail(string.format("%s over: entry %d is %s, not a field name", here, i, shown(name))) end
    if seen[name] then fail(string.format("%s over names '%s' twice", here, name)) end
    seen[name] = true
  end
  return over
end

-- One field: encoder, value source (or literal), place in its block.
local function check_field(recipe, block, f, next_at)
  local enc, value = f.spec[1], f.spec[2]
  local here = where(recipe, f.line, f.name, f.file)
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
  local fd = { name = f.name, block = block.n, at = at, size = enc.size, encoder = enc, line = f.line, file = f.file }
  if enc.takes == "crc" then
    if value ~= nil then fail(here .. " a CRC takes no value, only over = { field names }") end
    fd.over = check_over(f.spec.over, here)
  elseif f.spec.over ~= nil then
    fail(here .. " only CRC fields take over")
  elseif value == nil then
    fail(here .. " no value: { " .. enc.name .. ", value or source }")
  elseif type(value) == "function" then
    fd.compute = value
    recipe.has_code = true
  elseif type(value) == "table" and not sources.is_source(value) then
    fail(here .. " the value is a table, but not a source (serial, from_serial(...), random_key, " ..
      "derived_key(...), uid, now): sources cannot be made by hand")
  elseif sources.is_source(value) then
    local ok, err = value:check(enc, recipe)
    if not ok then fail(here .. " " .. err) end
    fd.source = value
  else
    local bytes, err = enc:encode(value)
    if not bytes then fail(here .. " " .. err) end
    if enc.custom then
      local ok, rerr = compute.round_trip(enc, value)
      if not ok then fail(here .. " " .. rerr) end
    end
    fd.literal, fd.literal_value = bytes, value
  end
  return fd
end

-- A field of an included file that an including file overrides: the
-- override's spec in the field's place.
local function overridden(recipe, f)
  local o = recipe.overrides[f.name]
  if not o then return f end
  if not recipe.includes:may_replace(o.file, f.file) then
    fail(string.format("%s override: field '%s' is defined in %s, which %s does not include",
      where(recipe, o.line, nil, o.file), f.name, f.file, o.file))
  end
  o.used = true
  return o
end

local function check_block(recipe, block)
  local n, next_at, taken = block.n, 0, {}
  local here = where(recipe, block.line, nil, block.file)
  if not block.list then fail(string.format("%s block(%d) has no field list: block(%d) { field ... }", here, n, n)) end
  for i, listed in ipairs(block.list) do
    if not recipe.is_field(listed) then fail(here .. " block(" .. n .. ") entry " .. i .. " is not a field \"name\" { ... }") end
    local f = overridden(recipe, listed)
    if recipe.by_name[f.name] then
      fail(where(recipe, f.line, f.name, f.file) .. " name already used at " .. first_at(recipe.by_name[f.name], f.file))
    end
    recipe.checking = { f.line, f.name, f.file }
    local fd = check_field(recipe, block, f, next_at)
    if f.file ~= recipe.file then fd.from = recipe.includes:short(f.file) end
    for b = fd.at, fd.at + fd.size - 1 do
      if taken[b] then
        fail(string.format("%s overlaps field '%s' at byte %d of block %d", where(recipe, f.line, f.name, f.file),
          taken[b], b, n))
      end
      taken[b] = f.name
    end
    next_at = fd.at + fd.size
    recipe.fields[#recipe.fields + 1], recipe.by_name[f.name] = fd, fd
  end
end

local function check_layout(recipe)
  local order = {}
  for n in pairs(recipe.blocks) do order[#order + 1] = n end
  table.sort(order)
  for _, n in ipairs(order) do check_block(recipe, recipe.blocks[n]) end
  for name, o in pairs(recipe.overrides) do
    if not o.used then
      fail(string.format("%s override: no field '%s' in the files this one includes", where(recipe, o.line, nil, o.file),
        name))
    end
  end
  if #recipe.fields == 0 then fail(recipe.file .. ": the config defines no field (block(n) { field ... })") end
end

local function check_examples(recipe)
  for _, ex in ipairs(recipe.examples) do
    ex.where = where(recipe, ex.line, nil, ex.file)
    local problem = selftest.check_names(recipe, ex.spec)
    if problem then fail(ex.where .. " " .. problem) end
  end
end

local function check_crcs(recipe)
  for _, fd in ipairs(recipe.fields) do
    if fd.over then
      for _, name in ipairs(fd.over) do
        local target = recipe.by_name[name]
        local here = where(recipe, fd.line, fd.name, fd.file)
        if not target then fail(here .. " over names unknown field '" .. tostring(name) .. "'") end
        if target.over then fail(here .. " a CRC cannot cover another CRC ('" .. name .. "')") end
      end
    end
  end
end

local function check_locks(recipe)
  recipe.locks = {}
  local seen = {}
  for _, n in ipairs(recipe.lock_list or {}) do
    local here = where(recipe, recipe.lock_line, nil, recipe.lock_file)
    if not math.tointeger(n) or n < 0 or n >= M.BLOCKS then fail(here .. " lock: block numbers are 0..15") end
    if not recipe.blocks[n] then fail(string.format("%s lock: block %d is not in the layout", here, n)) end
    if not seen[n] then recipe.locks[#recipe.locks + 1], seen[n] = n, true end
  end
  table.sort(recipe.locks)
end

-- A key file (master key or escrow KEK), relative to the config's folder.
-- A key file other users can reach is a warning (recipe.warnings), or a
-- refusal with strict_key_files = true.
local function load_key_file(recipe, file, place)
  local strict = recipe.settings.strict_key_files and recipe.settings.strict_key_files.value
  local path = file:sub(1, 1) == "/" and file or recipe.dir .. file
  local key, err = keys.load_master(path)
  if not key then fail(place .. " " .. err) end
  recipe.inputs[#recipe.inputs + 1] = { path = path, key = key }
  if err and strict then fail(place .. " " .. err .. " (strict_key_files is set)") end
  if err then recipe.warnings[#recipe.warnings + 1] = place .. " " .. err end
  return key, path
end

-- Key files are read now, so a missing or short key stops the run before
-- any probe is opened.
local function load_keys(recipe)
  recipe.master_keys, recipe.warnings = {}, {}
  local random = false
  for _, fd in ipairs(recipe.fields) do
    local src = fd.source
    recipe.checking = { fd.line, fd.name, fd.file }
    random = random or (src and src.random) or false
    if src and src.kind == "derived_key" and not recipe.master_keys[src.file] then
      recipe.master_keys[src.file] = load_key_file(recipe, src.file, where(recipe, fd.line, fd.name, fd.file))
    end
  end
  local e = recipe.settings.escrow
  if e then
    local place = where(recipe, e.line, nil, e.file)
    if not random then fail(place .. " escrow is set, but no field is a random_key: nothing to escrow") end
    local kek, path = load_key_file(recipe, e.value, place .. " escrow:")
    recipe.escrow = { kek = kek, path = path }
  end
end

-- A board no chip has, for trying the recipe's functions at load: the
-- pool's first serial, UID 00 01 .. 0B, time 0, the first part accepted.
local function sample_board(recipe)
  return { serial = recipe.serials and recipe.serials.first, uid_bytes = "\0\1\2\3\4\5\6\7\8\9\10\11", now = 0,
    product = recipe.product, part = recipe.parts[1], station = "(load)",
    master = function(path) return recipe.master_keys[path] end,
    random_key = function(fd) return ("\0"):rep(fd.size) end }
end

-- Every computed field once on the sample board, so that a function that
-- fails, is not deterministic or gives what its encoder cannot take stops
-- the config at load, before any probe is opened.
local function check_computed(recipe)
  if not recipe.has_code then return end
  local board, earlier = sample_board(recipe), {}
  -- (custom encoders alone need no sample board, but their fields may be
  -- computed from earlier ones, so every field is resolved in order)
  for _, fd in ipairs(recipe.fields) do
    recipe.checking = { fd.line, fd.name, fd.file }
    if not fd.over then
      local value, extra = compute.resolve(fd, board, earlier)
      local here = where(recipe, fd.line, fd.name, fd.file)
      if fd.compute and value == nil then fail(here .. " " .. extra) end
      if fd.compute then
        local check = fd.encoder.custom and compute.round_trip or function(enc, v) return enc:encode(v) end
        local _, err = check(fd.encoder, value)
        if err then fail(string.format("%s on a sample board (serial %s) the function gives %q: %s", here,
          tostring(board.serial), tostring(value), err)) end
      end
      compute.remember(earlier, fd, value)
    end
  end
end

-- Load and check a config; returns the recipe or nil, message.
local function load_checked(text, file)
  local recipe = { file = file, dir = file:match("^(.*/)") or "./", blocks = {}, fields = {}, by_name = {},
    overrides = {}, examples = {}, inputs = {} }
  recipe.includes = includes.new(file, recipe.dir)
  recipe.env = sandbox(recipe)
  local chunk, err = compile(text, file, recipe.env)
  if not chunk then return nil, err end
  local ok, rerr = sandbox_mod.counted(chunk)
  -- A memory error has no line: Lua raises it without a position.
  if not ok and rerr:sub(1, #file + 1) ~= file .. ":" then rerr = file .. ": " .. rerr end
  if not ok then return nil, rerr end
  recipe.sealed = true
  local ok2, e = pcall(function()
    check_settings(recipe)
    check_layout(recipe)
    check_crcs(recipe)
    check_locks(recipe)
    load_keys(recipe)
    check_computed(recipe)
    check_examples(recipe)
  end)
  if not ok2 then
    if getmetatable(e) == Fail then return nil, e.msg end
    -- A check tripped over a value nobody foresaw: still the config's
    -- fault, so a placed message (exit 2), never a traceback.
    local at = recipe.checking or {}
    return nil, string.format("%s cannot check this value: %s", where(recipe, at[1], at[2], at[3]), tostring(e))
  end
  recipe.settings, recipe.lock_list, recipe.checking, recipe.is_field = nil, nil, nil, nil
  return recipe
end

-- Whether the files a load read (recipe.inputs: included texts, master
-- keys as loaded) still hold what it read.
local function same_inputs(inputs)
  for _, i in ipairs(inputs) do
    if i.key then
      if keys.load_master(i.path) ~= i.key then return false end
    else
      local f = io.open(i.path, "rb")
      local text = f and f:read("a")
      if f then f:close() end
      if text ~= i.text then return false end
    end
  end
  return true
end

-- Load and check a config from `text` (read from `file` by load_file),
-- within the memory, time and instruction budgets of stotp.sandbox.
--
-- memo (a table the caller keeps; a station worker's, one per process):
-- when the last load of `file` through it passed with this very text and
-- its included files and master keys are unchanged, the bounded child is
-- skipped: recipe code sees no clock, files or randomness (stotp.sandbox),
-- so the same inputs compute the same, and these ran to the end here
-- already. The recipe is still loaded and checked here, afresh (a new
-- table, key file permissions and warnings read again), under the
-- instruction budget. A child costs a fork and 10 ms of host CPU, a
-- station's largest cost per board after the board itself.
function M.load_string(text, file, memo)
  local last = memo and memo[file]
  if last and last.text == text and same_inputs(last.inputs) then return load_checked(text, file) end
  local r, err = sandbox_mod.bounded(function() return load_checked(text, file) end, file)
  if memo then memo[file] = r and { text = text, inputs = r.inputs } or nil end
  return r, err
end

function M.load_file(file, memo)
  local f, err = io.open(file, "rb")
  if not f then return nil, "cannot read config: " .. err end
  local text = f:read("a")
  f:close()
  return M.load_string(text, file, memo)
end

M.setting_line = setting_line
return M
