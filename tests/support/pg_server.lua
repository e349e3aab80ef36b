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
    if sh(string.format("%s%s/pg_ctl -D %s/data -l %s/log -w -t 60 -o \"-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off\" start",
        as, bin, dir, dir, dir, s.port)) then
      s.url = string.format("postgresql://stotp@127.0.0.1:%d/postgres", s.port)
      return s
    end
  end
  M.stop(s)
  return nil, "pg_ctl start failed (see " .. dir .. "/log)"
end

function M.stop(s)
  if s.port then sh(string.format("%s%s/pg_ctl -D %s/data -m immediate -w stop", s.as, s.bin, s.dir)) end
  sh("rm -rf " .. s.dir)
end

return M
