-- stotp.cli.repl: `stotp repl`, a Lua prompt with stotp loaded (the global
-- `stotp`), line editing and history through lua-readline when it is
-- installed (history in ~/.stotp_history), and results printed by
-- stotp.show: bytes in hex, OTP data a block a row, addresses in hex.
-- An expression is evaluated as `return <line>`; an unfinished statement
-- continues on the next line. Exit 0 at end of input.

local argparse = require("argparse")
local common = require("stotp.cli.common")

local function parser(prog)
  local p = argparse(prog, "An interactive Lua prompt with stotp loaded: stotp.help() lists the API."):add_help(false)
  return common.finish_parser(p, "Type Lua; an expression's value is printed. Ctrl-D leaves.")
end

-- A line reader: lua-readline on a terminal, else plain lines from d.input.
local function reader(d, interactive)
  local ok, rl = pcall(require, "readline")
  if interactive and ok then
    local home = d.getenv("HOME")
    pcall(rl.set_options, { histfile = home and home .. "/.stotp_history" or "", keeplines = 500, completion = false })
    return function(prompt)
      local line = rl.readline(prompt)
      if line and line:find("%S") then rl.add_history(line) end
      return line
    end, function() pcall(rl.save_history) end
  end
  return function(prompt)
    if interactive then d.out:write(prompt); d.out:flush() end
    return d.input:read("l")
  end, function() end
end

local function show_results(d, show, r)
  for i = 1, r.n do d.out:write(show(r[i]), "\n") end
end

local function main(d, argv)
  local args, code = common.args(d, parser(d.prog), argv, false)
  if not args then return code end
  local stotp = d.stotp()
  local show = require("stotp.help").show
  local help = require("stotp.help")
  -- print, stotp.help and stotp.show write where the REPL does (d.out).
  local function say(...)
    local t = table.pack(...)
    for i = 1, t.n do t[i] = tostring(t[i]) end
    d.out:write(table.concat(t, "\t", 1, t.n), "\n")
  end
  local env = setmetatable({ print = say, stotp = setmetatable({
    help = function(obj) say(help.text(obj)) end,
    show = function(v) say(show(v)) end,
  }, { __index = stotp }) }, { __index = _G })
  local interactive = d.interactive
  if interactive == nil then interactive = os.execute("test -t 0") == true end
  local read, done = reader(d, interactive)
  d.out:write(stotp._VERSION or common.VERSION, ": stotp.help() lists the API; Ctrl-D leaves\n")
  local pending = nil
  while true do
    local line = read(pending and ">> " or "stotp> ")
    if not line then break end
    local src = pending and pending .. "\n" .. line or line
    local fn, err = load("return " .. src, "=stdin", "t", env)
    if not fn then fn, err = load(src, "=stdin", "t", env) end
    if not fn and err:find("<eof>$") then
      pending = src
    else
      pending = nil
      if not fn then d.out:write(err, "\n")
      else
        local r = table.pack(xpcall(fn, function(e) return tostring(e) end))
        if r[1] then show_results(d, show, table.pack(table.unpack(r, 2, r.n)))
        else d.out:write("error: ", r[2], "\n") end
      end
    end
  end
  done()
  return common.OK
end

return { main = common.command(main) }
