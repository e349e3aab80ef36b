-- stotp.cli.probes: `stotp probes`, every ST-Link connected, one line each
-- (as `pyocd list` and STM32CubeProgrammer's `-l` show them): kind,
-- firmware, serial, target voltage, and the part and UID of the target
-- when one answers. Reads only. Exit 0 one or more probes, 1 none (or the
-- USB list failed), 2 usage error.

local argparse = require("argparse")
local common = require("stotp.cli.common")

local function parser(prog)
  local p = argparse(prog, "List the ST-Link probes connected, and the part and UID of each target that answers.")
    :add_help(false)
  return common.finish_parser(p, "Exit status: 0 one or more probes listed; 1 none found; 2 usage error.", true)
end

-- One probe, opened for the look and closed again: what answers.
local function look(stotp, info)
  local row = { kind = info.kind, firmware = info.firmware, serial = info.serial, bus = info.bus,
    address = info.address }
  local probe, err = stotp.open({ serial = info.serial })
  if not probe then row.error = tostring(err); return row end
  local v = probe:voltage()
  row.voltage = v and math.floor(v * 100 + 0.5) / 100 or nil
  local t, terr = probe:attach()
  if t then
    row.part, row.uid = t.name, t.uid
    pcall(t.close, t)
  else
    row.target = tostring(terr)
  end
  pcall(probe.close, probe)
  return row
end

local function line(r)
  local target = r.part and string.format("%s, UID %s", r.part, r.uid) or r.error and "cannot open: " .. r.error
    or "no target: " .. tostring(r.target)
  return string.format("ST-Link/%s  %-9s  %-24s  %s  %s", tostring(r.kind), tostring(r.firmware), tostring(r.serial),
    r.voltage and string.format("%.2f V", r.voltage) or "?   V", target)
end

local function main(d, argv, json)
  local args, code = common.args(d, parser(d.prog), argv, json)
  if not args then return code end
  local stotp = d.stotp()
  local list, err = stotp.probes()
  if not list then return common.early(d, json, common.REFUSED, "failed", "listing USB devices: " .. tostring(err)) end
  local rows = {}
  for i, info in ipairs(list) do rows[i] = look(stotp, info) end
  if json then
    common.json_line(d, { status = #rows > 0 and "ok" or "none", probes = setmetatable(rows, { __jsontype = "array" }) })
  else
    for _, r in ipairs(rows) do d.out:write(line(r), "\n") end
    if #rows == 0 then d.err:write(d.prog, ": no ST-Link probe found (is it plugged in, and may this user open it?)\n") end
  end
  return #rows > 0 and common.OK or common.REFUSED
end

return { main = common.command(main) }
