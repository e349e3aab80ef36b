/*
 * stotp.core.run_bounded(fn, max_bytes, max_ms): run recipe code where it
 * can neither exhaust the station's memory nor hang it.
 *
 * A recipe is Lua in a sandbox with an instruction budget (lua/stotp/
 * recipe.lua), but the count hook only runs between Lua instructions: one
 * call into C (("x"):rep(2^30), a pattern such as ".-.-.-.-b" that
 * string.find takes O(n^k) steps to fail on) escapes it. So the code is
 * first run in a forked child: its Lua allocator refuses to hold more than
 * max_bytes beyond what the state held at the fork (Lua then raises "not
 * enough memory", lua_Alloc contract, Lua 5.4 manual §4.6), and it ends
 * itself once it has used max_ms of CPU time (ITIMER_PROF, POSIX
 * setitimer: process CPU time, so a loaded machine does not end a recipe
 * that would finish; a sanitized `make check` on a busy CI host did). The
 * parent kills a child that has not finished after BACKSTOP times max_ms of
 * wall time (one blocked without using CPU). A recipe is deterministic
 * (no io, os, time or random in its sandbox), so once the child finishes
 * within budget the parent may run the same code itself.
 *
 * Returns true, or false, why ("memory", "time", "error", "crash") and a
 * message: fn's own error message for "error".
 *
 * stotp.core.file_info(path): what a path a recipe names is, before it is
 * opened: a FIFO blocks the reader for ever, a device may never end, so a
 * key file is checked for being a regular file of sane size first.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lstotp.h"

/* The child's exit status once its CPU time is spent; the wall-time
 * backstop as a multiple of max_ms. */
#define CPU_SPENT 124
#define BACKSTOP  10

typedef struct budget {
	lua_Alloc inner;
	void *inner_ud;
	size_t used, limit;
} budget;

/* The lua_Alloc of the child: counts what the state holds and refuses
 * growth past the limit; frees and shrinks always go through. */
static void *bounded_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	budget *b = ud;
	size_t old = ptr != NULL ? osize : 0;
	void *p;

	if (nsize > old && b->used - old + nsize > b->limit)
		return NULL;
	p = b->inner(b->inner_ud, ptr, osize, nsize);
	if (p != NULL || nsize == 0)
		b->used = b->used - old + nsize;
	return p;
}

static void write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void cpu_spent(int sig)
{
	(void)sig;
	_exit(CPU_SPENT); /* async-signal-safe */
}

/* SIGPROF once the child has used max_ms of CPU time. */
static void arm_cpu_budget(lua_Integer max_ms)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 },
				{ (time_t)(max_ms / 1000),
				  (suseconds_t)(max_ms % 1000) * 1000 } };

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = cpu_spent;
	sigaction(SIGPROF, &sa, NULL);
	setitimer(ITIMER_PROF, &it, NULL);
}

/* In the child: fn under the memory and CPU budgets; the verdict goes to
 * fd as one letter ('o' ok, 'm' memory, 'e' error) and the message. */
static void child_run(lua_State *L, int fd, lua_Integer max_bytes,
		      lua_Integer max_ms)
{
	budget b;
	const char *msg = "";
	size_t len = 0;
	char verdict = 'o';
	int rc;

	b.inner = lua_getallocf(L, &b.inner_ud);
	b.used = (size_t)lua_gc(L, LUA_GCCOUNT) * 1024
		 + (size_t)lua_gc(L, LUA_GCCOUNTB);
	b.limit = b.used + (size_t)max_bytes;
	lua_setallocf(L, bounded_alloc, &b);
	arm_cpu_budget(max_ms);
	lua_pushvalue(L, 1);
	rc = lua_pcall(L, 0, 0, 0);
	if (rc != LUA_OK) {
		verdict = rc == LUA_ERRMEM ? 'm' : 'e';
		msg = lua_tolstring(L, -1, &len);
		if (msg == NULL) {
			msg = "(error object is not a string)";
			len = strlen(msg);
		}
	}
	write_all(fd, &verdict, 1);
	write_all(fd, msg, len);
	close(fd);
	_exit(0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the child's verdict until EOF or the deadline; 0 at EOF, -1 on
 * timeout. */
static int read_verdict(int fd, long long deadline, luaL_Buffer *out)
{
	char chunk[512];

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		if (left <= 0)
			return -1;
		if (poll(&p, 1, (int)(left > 1000 ? 1000 : left)) < 0
		    && errno != EINTR)
			return 0;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		luaL_addlstring(out, chunk, (size_t)r);
	}
}

static int push_verdict(lua_State *L, const char *why, const char *msg,
			size_t len)
{
	lua_pushboolean(L, 0);
	lua_pushstring(L, why);
	lua_pushlstring(L, msg, len);
	return 3;
}

static int l_run_bounded(lua_State *L)
{
	lstotp_check_nargs(L, 3);
	lua_Integer max_bytes, max_ms;
	int fds[2], status = 0, timed_out;
	luaL_Buffer out;
	pid_t pid;
	const char *got;
	size_t len;

	luaL_checktype(L, 1, LUA_TFUNCTION);
	max_bytes = luaL_checkinteger(L, 2);
	max_ms = luaL_checkinteger(L, 3);
	luaL_argcheck(L, max_bytes > 0, 2, "a positive number of bytes");
	luaL_argcheck(L, max_ms > 0 && max_ms <= 24 * 3600 * 1000, 3,
		      "a positive number of milliseconds");
	if (pipe(fds) != 0)
		return luaL_error(L, "run_bounded: pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return luaL_error(L, "run_bounded: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		close(fds[0]);
		child_run(L, fds[1], max_bytes, max_ms);
	}
	close(fds[1]);
	luaL_buffinit(L, &out);
	timed_out =
		read_verdict(fds[0], now_ms() + BACKSTOP * max_ms, &out) != 0;
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	luaL_pushresult(&out);
	got = lua_tolstring(L, -1, &len);
	if (timed_out
	    || (len == 0 && WIFEXITED(status)
		&& WEXITSTATUS(status) == CPU_SPENT))
		return push_verdict(L, "time", "", 0);
	if (len == 0) {
		char why[64];
		snprintf(why, sizeof why, "the checker died (%s %d)",
			 WIFSIGNALED(status) ? "signal" : "status",
			 WIFSIGNALED(status) ? WTERMSIG(status)
					     : WEXITSTATUS(status));
		return push_verdict(L, "crash", why, strlen(why));
	}
	if (got[0] == 'o') {
		lua_pushboolean(L, 1);
		return 1;
	}
	return push_verdict(L, got[0] == 'm' ? "memory" : "error", got + 1,
			    len - 1);
}

static const char *file_kind(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	if (S_ISSOCK(m))
		return "socket";
	return "special file";
}

/* { kind = "file"|"directory"|"fifo"|..., size = bytes, mode = permission
 * bits, real = the path with every symlink resolved } after following
 * symlinks, or nil, message, "notfound" (or "permission": a directory on
 * the way cannot be searched). */
static int l_file_info(lua_State *L)
{
	lstotp_check_nargs(L, 1);
	const char *path = luaL_checkstring(L, 1);
	struct stat st;
	char *real;

	if (stat(path, &st) != 0) {
		/* A path a search cannot enter is not a missing file. */
		int code = errno == EACCES || errno == EPERM ? ST_EPERMISSION
			   : errno == ENOMEM                 ? ST_ENOMEM
							     : ST_ENOTFOUND;
		st_error e;

		st_fail(&e, code, errno, "%s: %s", path, strerror(errno));
		return lstotp_fail(L, &e);
	}
	lua_createtable(L, 0, 4);
	lua_pushstring(L, file_kind(st.st_mode));
	lua_setfield(L, -2, "kind");
	lua_pushinteger(L, (lua_Integer)st.st_size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
	lua_setfield(L, -2, "mode");
	real = realpath(path, NULL);
	if (real != NULL) {
		lua_pushstring(L, real);
		lua_setfield(L, -2, "real");
		free(real);
	}
	return 1;
}

void lstotp_open_sandbox(lua_State *L)
{
	static const luaL_Reg fns[] = { { "run_bounded", l_run_bounded },
					{ "file_info", l_file_info },
					{ NULL, NULL } };

	luaL_setfuncs(L, fns, 0);
}
