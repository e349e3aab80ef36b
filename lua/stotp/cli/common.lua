-- stotp.cli.common: what every subcommand shares: exit codes, the process
-- environment a run sees (`deps`, replaced in specs), one error prefix,
-- --json output (exactly one object), the journal a command uses, and the
-- checks made before any probe is opened.

local journal_mod = require("stotp.journal")

local M = {}

M.OK, M.REFUSED, M.USAGE, M.INTERRUPTED = 0, 1, 2, 130

-- The process environment a command sees; `deps` replaces any part in
-- tests. `step` is the test seam: a spec (or tests/support/crash_launcher)
-- injects a function called after each step of a provisioning run; the
-- station's code path has none.
function M.defaults(deps)
  deps = deps or {}
  return {
    stotp = deps.stotp or function() return require("stotp") end,
    out = deps.out or io.stdout, err = deps.err or io.stderr, input = deps.input or io.stdin,
    getenv = deps.getenv or os.getenv,
    random = deps.random or require("stotp.keys").random,
    journal = deps.journal or journal_mod,
    step = deps.step,
    prog = deps.prog or "stotp",
    interactive = deps.interactive,
    clock = deps.clock or os.time,
    -- a station worker's memo of its recipe's last load (stotp.recipe.load_string)
    recipes = deps.recipes,
  }
end

-- The one version string (stotp._VERSION, the journal's tool_version), read
-- without loading the C core, so `--version` works where the core is missing.
M.VERSION = require("stotp.version")

-- Lua 5.4's SIGINT handler (lua.c laction) makes the next Lua instruction
-- raise "interrupted!".
function M.interrupted(err) return tostring(err):find("interrupted!$") ~= nil end

-- d.emitted: the one object is out; nothing may follow it (a Ctrl-C that
-- lands after it must not add a second one).
function M.json_line(d, obj, keyorder)
  if d.emitted then return end
  d.emitted = true
  d.out:write(require("dkjson").encode(obj, { keyorder = keyorder }), "\n")
end

-- One prefix per message ("stotp read: config error: ..."): a reason that
-- already starts with the status is not prefixed twice.
function M.message(d, status, reason)
  local text = tostring(reason)
  if text:sub(1, #status + 2) ~= status .. ": " then text = status .. ": " .. text end
  d.err:write(d.prog, ": ", text, "\n")
end

-- The `code` of a result that is not a success (README "Error codes"): a
-- station wrapper branches on it, never on the English of `reason`. A
-- failure stotp.core reported keeps the core's code ("usb", "locked", ...);
-- the others are named by their status.
local STATUS_CODES = {
  ["usage error"] = "usage", ["config error"] = "config", refused = "refused", ["not confirmed"] = "unconfirmed",
  ["pool exhausted"] = "pool", ["journal not updated"] = "journal", ["internal error"] = "internal",
  interrupted = "interrupted",
}
function M.result_code(status, code)
  return code or STATUS_CODES[status] or "internal"
end

-- A result before there is a run (usage, config, help): text on stderr,
-- and with --json the one object on stdout.
function M.early(d, json, code, status, reason)
  if reason then M.message(d, status, reason) end
  if json then M.json_line(d, { status = status, reason = reason, code = code ~= M.OK and M.result_code(status) or nil }) end
  return code
end

-- Seconds since boot, to 10 ms (/proc/uptime): a run's duration that a
-- clock step cannot distort; os.clock() where there is no /proc.
function M.uptime()
  local f = io.open("/proc/uptime")
  local s = f and f:read("n")
  if f then f:close() end
  return s or os.clock()
end

-- A field's bytes decoded as a person reads them (the encoder's decode;
-- unixtime as ISO 8601 UTC), or nil when they do not decode.
function M.decoded(encoder, bytes)
  local ok, v = pcall(encoder.decode, encoder, bytes)
  if not ok then return nil end
  if encoder.name == "unixtime" and math.type(v) == "integer" then return os.date("!%Y-%m-%dT%H:%M:%SZ", v) end
  return v
end

function M.station_name(d, args)
  if args.station then return args.station end
  local s = d.getenv("STOTP_STATION")
  if s and s ~= "" then return s end
  local f = io.open("/etc/hostname")
  local h = f and f:read("l")
  if f then f:close() end
  return h or "station"
end

-- A --sim run without --journal keeps its own journal next to the image:
-- a simulated board must not take a production serial, nor put a
-- virtual UID into the audit record. Returns the path and whether it is
-- the image's own.
function M.journal_path(args, recipe)
  if args.journal then return args.journal end
  if args.sim then return args.sim .. ".journal.db", true end
  return recipe.journal
end

M.nearest = require("stotp.words").nearest

-- An argparse parser's result, its "did you mean" (argparse finds the
-- nearest option) kept on the error's one line.
function M.parse(p, argv)
  local ok, args = p:pparse(argv)
  if ok then return true, args end
  return false, (tostring(args):gsub("\nDid you mean", "; did you mean"))
end

-- Help or version asked anywhere in argv: the text, and the one JSON object.
function M.help_or_version(d, p, argv, json)
  for _, a in ipairs(argv) do
    if a == "-h" or a == "--help" then
      (json and d.err or d.out):write(p:get_help(), "\n")
      return M.early(d, json, M.OK, "help")
    end
    if a == "--version" then
      (json and d.err or d.out):write(M.VERSION, "\n")
      return M.early(d, json, M.OK, M.VERSION)
    end
  end
end

function M.wants_json(argv)
  for _, a in ipairs(argv) do if a == "--json" then return true end end
  return false
end

-- What a run will write besides the board, checked before any probe is
-- opened: a journal that persists (issue 7 item 3) in a directory it can
-- write, and a --sim image it can save (item 14). readonly: only the name.
function M.check_files(args, recipe, readonly)
  local path = M.journal_path(args, recipe)
  local ok, err = journal_mod.check_name(path)
  if ok and not readonly then ok, err = journal_mod.check_writable(path) end
  if ok and args.sim then
    ok, err = journal_mod.check_writable(args.sim, "the --sim image " .. args.sim .. " cannot be saved there")
  end
  return ok, err
end

-- stotp.open, where --probe may name a unique prefix of a serial (as
-- `pyocd list` users expect): an ambiguous prefix lists the candidates.
-- The list comes from the USB descriptors alone: opening every probe to
-- read its firmware would take, for a moment, the probes other processes
-- (a station's other channels) are using.
function M.open_probe(stotp, opts)
  local want = opts.serial
  if want and stotp.probes then
    local list = stotp.probes({ open = false }) or {}
    local hits = {}
    for _, pr in ipairs(list) do
      if pr.serial == want then hits = { pr.serial }; break end
      if pr.serial and pr.serial:sub(1, #want) == want then hits[#hits + 1] = pr.serial end
    end
    if #hits > 1 then
      return nil, string.format("--probe %s matches %d probes (%s): give more of the serial, --probe SERIAL", want,
        #hits, table.concat(hits, ", ")), "ambiguous"
    end
    if hits[1] then opts.serial = hits[1] end
  end
  return stotp.open(opts)
end

-- The flags every subcommand has (--json where it prints a result), and
-- its exit statuses; returns the parser.
function M.finish_parser(p, epilog, json)
  if json then p:flag("--json", "Print the result as one JSON object on stdout.") end
  p:flag("--version", "Print the tool version and exit.")
  p:flag("-h --help", "Show this help and exit.")
  p:epilog(epilog)
  return p
end

-- The parsed arguments, or nil and the exit status once help, the version
-- or a usage error is shown (extra(args) may add a usage error).
function M.args(d, p, argv, json, extra)
  local shown = M.help_or_version(d, p, argv, json)
  if shown then return nil, shown end
  local ok, args = M.parse(p, argv)
  if ok and extra then
    local why = extra(args)
    if why then ok, args = false, why end
  end
  if ok then return args end
  d.err:write(p:get_usage(), "\n")
  return nil, M.early(d, json, M.USAGE, "usage error", args)
end

-- A subcommand's `main(argv, deps)` from `run(d, argv, json)`: with
-- --json, stdout gets exactly one JSON object whatever happens.
function M.command(run)
  return function(argv, deps)
    local d = M.defaults(deps)
    local json = M.wants_json(argv)
    return M.protect(d, json, run, argv, json)
  end
end

-- Runs `fn(d)` so that a raised error or a Ctrl-C still gives a status
-- (and, with --json, the one object).
function M.protect(d, json, fn, ...)
  local ok, code = pcall(fn, d, ...)
  if ok then return code end
  if M.interrupted(code) then return M.early(d, json, M.INTERRUPTED, "interrupted", "interrupted (Ctrl-C); nothing written") end
  return M.early(d, json, M.REFUSED, "internal error", tostring(code))
end

return M
