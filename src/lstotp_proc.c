/*
 * stotp.proc: the few process primitives `stotp station` needs to run one
 * worker process per probe (lua/stotp/cli/station.lua): start a worker in
 * a session of its own, reap it with the CPU time it used, signal it, and
 * sleep without a subprocess. POSIX only (fork, setsid, wait4).
 */
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lstotp.h"

static int proc_fail(lua_State *L, const char *what)
{
	lua_pushnil(L);
	st_error e;

	st_fail(&e, ST_EPROC, errno, "%s: %s", what, strerror(errno));
	return lstotp_fail(L, &e);
}

/* stotp.proc.sleep(seconds): true, or false when a signal cut it short
 * (a Ctrl-C then reaches Lua at once). */
static int proc_sleep(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	lua_Number s = luaL_checknumber(L, 1);
	luaL_argcheck(L, s >= 0 && s <= 3600, 1, "0 to 3600 seconds");
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - floor(s)) * 1e9) };
	lua_pushboolean(L, nanosleep(&ts, NULL) == 0);
	return 1;
}

/* stotp.proc.spawn(argv, logfile): pid. The child runs argv[1] (found on
 * PATH) with argv[2..] in a session of its own, so a terminal's Ctrl-C,
 * which goes to the foreground process group, does not reach it: the
 * station decides when a worker stops. Its stdin is /dev/null, its stdout
 * and stderr are appended to logfile. */
static int proc_spawn(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	luaL_checktype(L, 1, LUA_TTABLE);
	const char *log = luaL_checkstring(L, 2);
	lua_Integer n = luaL_len(L, 1);
	luaL_argcheck(L, n >= 1 && n < 4096, 1, "1 to 4095 strings");
	/* scratch userdata: a raise below leaks nothing */
	const char **argv =
		lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *argv, 0);
	for (lua_Integer i = 1; i <= n; i++) {
		lua_geti(L, 1, i);
		if (lua_type(L, -1) != LUA_TSTRING)
			return luaL_argerror(L, 1, "strings expected");
		argv[i - 1] =
			lua_tostring(L, -1); /* kept alive by argv's table */
		lua_pop(L, 1);
	}
	argv[n] = NULL;
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return proc_fail(L, log);
	pid_t pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);
		if (setsid() < 0 || nul < 0 || dup2(nul, 0) < 0
		    || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int saved = errno;
	close(fd);
	errno = saved;
	if (pid < 0)
		return proc_fail(L, "fork");
	lua_pushinteger(L, pid);
	return 1;
}

static lua_Number cpu_seconds(const struct rusage *ru)
{
	return (lua_Number)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec)
	       + (lua_Number)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec)
			 / 1e6;
}

/* stotp.proc.wait(pid [, block]): false while the child runs (block
 * false or absent); else true, its exit status (128 + N when signal N
 * ended it) and the CPU seconds (user + system) it used. */
static int proc_wait(lua_State *L)
{
	lstotp_check_nargs(L, 2);
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	if (!lua_isnoneornil(L, 2))
		luaL_checktype(L, 2, LUA_TBOOLEAN);
	int block = lua_toboolean(L, 2);
	int status;
	struct rusage ru;
	pid_t r;
	do
		r = wait4(pid, &status, block ? 0 : WNOHANG, &ru);
	while (r < 0 && errno == EINTR && block);
	if (r < 0)
		return proc_fail(L, "wait");
	if (r == 0) {
		lua_pushboolean(L, 0);
		return 1;
	}
	lua_pushboolean(L, 1);
	lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status)
					     : 128 + WTERMSIG(status));
	lua_pushnumber(L, cpu_seconds(&ru));
	return 3;
}

/* stotp.proc.kill(pid, "INT" | "TERM" | "KILL"): true, or nil, msg. */
static int proc_kill(lua_State *L)
{
	static const char *const names[] = { "INT", "TERM", "KILL", NULL };
	static const int sigs[] = { SIGINT, SIGTERM, SIGKILL };
	lstotp_check_nargs(L, 2);
	pid_t pid = (pid_t)luaL_checkinteger(L, 1);
	luaL_argcheck(L, pid > 0, 1, "a process id");
	int sig = sigs[luaL_checkoption(L, 2, NULL, names)];
	if (kill(pid, sig) != 0)
		return proc_fail(L, "kill");
	lua_pushboolean(L, 1);
	return 1;
}

/* stotp.proc.cpu(): CPU seconds (user + system) of this process and of
 * the children it has reaped. */
static int proc_cpu(lua_State *L)
{
	struct rusage self, kids;
	lstotp_check_nargs(L, 0);
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	lua_pushnumber(L, cpu_seconds(&self));
	lua_pushnumber(L, cpu_seconds(&kids));
	return 2;
}

/* stotp.proc.mkdir(path): true when this call made the directory, false
 * when something is there already, or nil, msg, "proc". mkdir(2) is
 * atomic (POSIX.1-2008 mkdir: EEXIST if the path exists), so of several
 * workers making one path exactly one gets true: a `stotp station
 * --boards N` ticket. In-process, because `os.execute("mkdir ...")` forks
 * a shell and mkdir(1) per board, which cost a worker more host CPU than
 * provisioning the board itself. */
static int proc_mkdir(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	const char *path = luaL_checkstring(L, 1);
	if (mkdir(path, 0777) == 0) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (errno == EEXIST) {
		lua_pushboolean(L, 0);
		return 1;
	}
	int saved = errno;
	lua_pushfstring(L, "mkdir %s", path);
	errno = saved; /* the push may allocate */
	return proc_fail(L, lua_tostring(L, -1));
}

/* stotp.proc.isatty(fd): whether the descriptor is a terminal (the
 * station redraws its status lines in place only there). */
static int proc_isatty(lua_State *L)
{
	lua_Integer fd = luaL_checkinteger(L, 1);
	lstotp_check_nargs(L, 1);
	lua_pushboolean(L, fd >= 0 && fd <= INT_MAX && isatty((int)fd) == 1);
	return 1;
}

void lstotp_open_proc(lua_State *L)
{
	static const luaL_Reg fns[] = {
		{ "sleep", proc_sleep }, { "spawn", proc_spawn },
		{ "wait", proc_wait },   { "kill", proc_kill },
		{ "cpu", proc_cpu },     { "isatty", proc_isatty },
		{ "mkdir", proc_mkdir }, { NULL, NULL }
	};
	luaL_newlib(L, fns);
	lua_setfield(L, -2, "proc");
}
