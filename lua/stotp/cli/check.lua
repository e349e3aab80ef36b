-- stotp.cli.check: `stotp check CONFIG` (and `provision.lua CONFIG
-- --check`): the recipe's examples (its self-tests, stotp.selftest), with no
-- probe. Exit 0 all pass, 1 one fails, 2 usage or config error.
local argparse = require("argparse")
local common = require("stotp.cli.common")

local M = {}

function M.run(d, recipe)
  local results = require("stotp.selftest").run(recipe)
  local failed = 0
  for _, r in ipairs(results) do
    d.out:write(r.ok and "ok     " or "FAILED ", (r.where:gsub(":$", "")), "\n")
    for _, problem in ipairs(r.problems) do d.out:write("         ", problem, "\n") end
    if not r.ok then failed = failed + 1 end
  end
  d.out:write(string.format("%d example(s), %d failed\n", #results, failed))
  return failed == 0 and common.OK or common.REFUSED
end

local function main(d, argv)
  local p = argparse(d.prog, "Run a recipe's examples (its self-tests) with no probe."):add_help(false)
  p:argument("config", "The recipe (board.cfg).")
  common.finish_parser(p, "Exit status: 0 every example passes; 1 one fails; 2 usage or config error.")
  local args, code = common.args(d, p, argv, false)
  if not args then return code end
  local recipe
  recipe, code = require("stotp.cli.provision").load_recipe(d, args.config, false)
  if not recipe then return code end
  return M.run(d, recipe)
end

M.main = common.command(main)

return M
