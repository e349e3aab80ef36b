-- stotp.cli: the `stotp` command. `stotp SUBCOMMAND ARGS...` hands over to
-- the subcommand's module (lua/stotp/cli/NAME.lua); each checks its own
-- arguments and config before it opens a probe. provision.lua is
-- `stotp provision` under its old name.

local common = require("stotp.cli.common")

local M = {}

M.VERSION = common.VERSION

-- name, module, one line of help. The order is the order of `stotp --help`.
M.COMMANDS = {
  { "provision", "Provision one board from a recipe (CONFIG): plan, confirm, burn, verify, lock, record." },
  { "station", "Provision boards on several probes at once; each probe takes the next board once the last is taken away." },
  { "check", "Run a recipe's examples (its self-tests) with no probe." },
  { "read", "Read a board back in a recipe's terms: every field decoded, the block map, the journal's record." },
  { "probes", "List the ST-Link probes connected (and the part and UID of each target that answers)." },
  { "report", "Export a journal as CSV or JSON." },
  { "journal", "Journal tools: `stotp journal copy FROM TO`." },
  { "repl", "An interactive Lua prompt with stotp loaded." },
  { "hwtest", "Guarded self-test for a scratch board: burns two blank OTP blocks (burst, per unit), reports as JSON." },
}

local function names()
  local t = {}
  for i, c in ipairs(M.COMMANDS) do t[i] = c[1] end
  return t
end

local function help()
  local lines = { "Usage: stotp SUBCOMMAND [ARGS]...", "", "Provision and inspect the OTP memory of STM32F2/F4/F7 " ..
    "boards through ST-Link probes.", "", "Subcommands:" }
  for _, c in ipairs(M.COMMANDS) do lines[#lines + 1] = string.format("   %-10s %s", c[1], c[2]) end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "`stotp SUBCOMMAND --help` shows each one's options. `stotp --version` prints the version."
  lines[#lines + 1] = "Exit status 2: a usage or config error (nothing was opened or written)."
  return table.concat(lines, "\n")
end

--- argv: the arguments after `stotp`. Returns the exit status.
function M.main(argv, deps)
  local d = common.defaults(deps)
  local name = argv[1]
  if name == "-h" or name == "--help" or name == "help" then
    d.out:write(help(), "\n")
    return common.OK
  end
  if name == "--version" then
    d.out:write(common.VERSION, "\n")
    return common.OK
  end
  local found
  for _, c in ipairs(M.COMMANDS) do if c[1] == name then found = c end end
  if not found then
    if name == nil then
      d.err:write(help(), "\n")
      return common.early(d, false, common.USAGE, "usage error", "a subcommand is needed")
    end
    local near = common.nearest(name, names())
    return common.early(d, false, common.USAGE, "usage error", string.format("unknown subcommand '%s'%s; the " ..
      "subcommands are %s", name, near and " (did you mean '" .. near .. "'?)" or "", table.concat(names(), ", ")))
  end
  deps = setmetatable({ prog = (deps and deps.prog or "stotp") .. " " .. name }, { __index = deps })
  return require("stotp.cli." .. name).main({ table.unpack(argv, 2) }, deps)
end

return M
