-- stotp.includes: product lines as recipes that include a base.
--
--   include "base.cfg"          -- the base's settings, blocks, fields, locks
--   model = ...                 -- then override or add
--
-- An included file lies inside the top recipe's own folder (no absolute
-- path, no "..", no symlink out of it): a recipe cannot read the station's
-- files by including them. No file is included twice, so there are no
-- cycles. A file may replace what the files it includes (directly or not)
-- defined: a block, a field (override), the lock list; never what a
-- sibling or the file itself defined, which stays an error.

local M = {}

local Includes = {}
Includes.__index = Includes

-- top: the recipe file as given; dir: its folder ("./" or ".../").
function M.new(top, dir)
  return setmetatable({ top = top, dir = dir, parent = {}, stack = { top } }, Includes)
end

-- The folder's real path, or nil: includes are checked against it.
local function real_dir(dir)
  local info = require("stotp.core").file_info(dir)
  return info and info.kind == "directory" and info.real
end

-- Checks `path` (as written after include) from file `from`; returns the
-- path to read, or nil and why.
function Includes:resolve(path, from)
  if type(path) ~= "string" or path == "" then return nil, "include needs a file name, e.g. include \"base.cfg\"" end
  local up = false
  for part in ("/" .. path):gmatch("/([^/]*)") do up = up or part == ".." end
  if path:sub(1, 1) == "/" or up then
    return nil, string.format("include \"%s\": an included file must lie inside the recipe's folder (%s), " ..
      "without \"..\" or an absolute path", path, self.dir)
  end
  local full = self.dir .. path
  local info, err = require("stotp.core").file_info(full)
  if not info then return nil, string.format("include \"%s\": %s", path, (err:gsub("^notfound: ", ""))) end
  if info.kind ~= "file" then return nil, string.format("include \"%s\": is a %s, not a file", path, info.kind) end
  local root = real_dir(self.dir)
  if not root or info.real:sub(1, #root + 1) ~= root .. "/" then
    return nil, string.format("include \"%s\": resolves to %s, outside the recipe's folder %s", path, info.real,
      tostring(root))
  end
  for _, f in ipairs(self.stack) do
    if f == full then
      return nil, string.format("include \"%s\": include cycle (%s -> %s)", path, table.concat(self.stack, " -> "), full)
    end
  end
  if self.parent[full] then
    return nil, string.format("include \"%s\": already included by %s; a file is included once", path,
      self.parent[full])
  end
  self.parent[full] = from
  return full
end

function Includes:enter(full) self.stack[#self.stack + 1] = full end
function Includes:leave() self.stack[#self.stack] = nil end

-- May file `by` replace a definition made in file `of`? Only when `by`
-- included `of`, directly or through other includes.
function Includes:may_replace(by, of)
  local f = self.parent[of]
  while f do
    if f == by then return true end
    f = self.parent[f]
  end
  return false
end

-- A file as the plan names it: relative to the recipe's folder.
function Includes:short(file)
  if file and file:sub(1, #self.dir) == self.dir then return file:sub(#self.dir + 1) end
  return file
end

return M
