-- provision.lua: the station's command, run from the source tree:
--   lua5.4 provision.lua board.cfg [--sim board.img | --probe SERIAL] ...
-- It is `stotp provision` under its old name: a thin launcher that puts this
-- checkout's Lua modules (lua/) and C core (build/, or $STOTP_BUILD such as
-- build-san) first on the search paths, then hands over to stotp.cli.
-- `--help` lists every option.

local script = arg and arg[0] or "provision.lua"
local root = script:match("^(.*)/[^/]*$") or "."
local build = os.getenv("STOTP_BUILD") or "build"
if build:sub(1, 1) ~= "/" then build = root .. "/" .. build end

package.path = root .. "/lua/?.lua;" .. root .. "/lua/?/init.lua;" .. package.path
package.cpath = build .. "/?.so;" .. package.cpath

os.exit(require("stotp.cli.provision").main({ table.unpack(arg, 1, #arg) }, { prog = "provision.lua" }), true)
