-- A throw-away PostgreSQL server for the journal specs: initdb + pg_ctl
-- from /usr/lib/postgresql/*/bin into a temporary directory, listening on
-- 127.0.0.1 only, trust authentication. PostgreSQL refuses to run as root,
-- so as root the server runs as the "postgres" (else "nobody") user, in a
-- directory owned by it. start() returns a server, or nil and the reason
-- the specs give when they mark themselves pending.

local M = {}

local function sh(cmd)
  local ok = os.execute(cmd .. " >/dev/null 2>&1")
  return ok == true
end

local function read(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local s = p:read("a")
  p:close()
  return (s:gsub("%s+$", ""))
end

local function ctl(s, action, extra)
  return sh(string.format("%s%s/pg_ctl -D %s/data -l %s/log -w -t 60 %s %s", s.as, s.bin, s.dir, s.dir, extra or "",
    action))
end

local function start_opts(s)
  return string.format("-o \"-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off\"", s.dir, s.port)
end

function M.start()
  local bin = read("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1")
  if bin == "" or not sh("test -x " .. bin .. "/initdb") then return nil, "the postgresql package is not installed" end
  if not pcall(require, "luasql.postgres") then return nil, "lua-sql-postgres is not installed" end
  local dir = read("mktemp -d /tmp/stotp-pg.XXXXXX")
  -- The server is not ours to sanitize: under `make check` LD_PRELOAD holds
  -- the ASan runtime, which PostgreSQL's processes must not inherit.
  local as = "env -u LD_PRELOAD "
  if read("id -u") == "0" then
    local user = sh("getent passwd postgres") and "postgres" or "nobody"
    if not sh("chown " .. user .. " " .. dir) then return nil, "cannot chown the server directory" end
    as = as .. "runuser -u " .. user .. " -- "
  end
  local s = { dir = dir, bin = bin, as = as }
  if not sh(as .. bin .. "/initdb -D " .. dir .. "/data -A trust -U stotp --no-sync") then
    M.stop(s)
    return nil, "initdb failed"
  end
  -- A port from the directory's random name, retried a few times if busy.
  local seed = 0
  for c in dir:gmatch(".") do seed = (seed * 31 + c:byte()) % 20000 end
  for i = 0, 4 do
    s.port = 30000 + (seed + i * 997) % 20000
    if ctl(s, "start", start_opts(s)) then
      s.url = string.format("postgresql://stotp@127.0.0.1:%d/postgres", s.port)
      return s
    end
  end
  M.stop(s)
  return nil, "pg_ctl start failed (see " .. dir .. "/log)"
end

-- The failures a station meets (issue 13 item 4), each between two of a
-- run's journal calls. halt: the server stops (fast shutdown: sessions are
-- ended, as a database restart or crash ends them), and stays down until
-- resume. restart: down and up again; every session of the old server is
-- gone. cut: the server stays, every other session on it is terminated
-- (pg_terminate_backend, as an administrator or a network cut would end
-- it). Each returns true when done.
function M.halt(s) return ctl(s, "stop", "-m fast") end
function M.resume(s) return ctl(s, "start", start_opts(s)) end
function M.running(s) return ctl(s, "status") end
function M.restart(s) return ctl(s, "restart", "-m fast " .. start_opts(s)) end

function M.cut(s)
  local env = require("luasql.postgres").postgres()
  local conn = assert(env:connect(s.url))
  local cur = assert(conn:execute("SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity " ..
    "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"))
  local n = tonumber(cur:fetch({}, "a").n)
  cur:close()
  conn:close()
  env:close()
  return n > 0
end

--- A new, empty database on the server: its URL.
function M.database(s, name)
  local env = require("luasql.postgres").postgres()
  local conn = assert(env:connect(s.url))
  assert(conn:execute("CREATE DATABASE " .. name))
  conn:close()
  env:close()
  return (s.url:gsub("/postgres$", "/" .. name))
end

function M.stop(s)
  if s.port then sh(string.format("%s%s/pg_ctl -D %s/data -m immediate -w stop", s.as, s.bin, s.dir)) end
  sh("rm -rf " .. s.dir)
end

return M
