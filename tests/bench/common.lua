-- Shared by the make bench sections (tests/bench/*.lua): the checkout's
-- root, a scratch directory, and a command run on a fresh virtual board
-- through the libusb drop-in, counted by the model (VPROBE_STATS: round
-- trips and simulated time from the program's libusb_init to its exit).
local M = {}

M.ROOT = (arg[0]:match("^(.*)tests/bench/[^/]*$") or "./"):gsub("/$", "")
if M.ROOT == "" then M.ROOT = "." end
M.BUILD = os.getenv("STOTP_BUILD") or (M.ROOT .. "/build")

function M.scratch()
  return assert(io.popen("mktemp -d /tmp/stotp-bench.XXXXXX")):read("l")
end

-- `cmd` (a shell command) with VPROBE_* set for a new board image in dir
-- (part, probe). Returns { transactions, sim_ms } or raises with the
-- command's output.
function M.counted(dir, part, probe, cmd)
  local img, stats, log = dir .. "/board.img", dir .. "/stats.json", dir .. "/log.txt"
  os.remove(img)
  os.remove(stats)
  local line = string.format("cd %q && env -u VPROBE_FAULT -u VPROBE_QUIRKS -u VPROBE_LATENCY_US VPROBE_STATE=%s " ..
    "VPROBE_TARGET=%s VPROBE_PROBE=%s VPROBE_STATS=%s LD_LIBRARY_PATH=%s/vprobe %s >%s 2>&1",
    M.ROOT, img, part, probe, stats, M.BUILD, cmd, log)
  if not os.execute(line) then
    local f = io.open(log)
    error("bench command failed: " .. line .. "\n" .. (f and f:read("a") or ""))
  end
  local s = assert(io.open(stats)):read("a")
  return { transactions = tonumber(s:match('"transactions"%s*:%s*(%d+)')),
           sim_ms = tonumber(s:match('"sim_us"%s*:%s*(%d+)')) / 1000 }
end

return M
