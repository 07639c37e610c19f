/* spawn.c: exit codes, signals, the timeout (process group killed), captured and redirected output,
 * argv passed untouched (no shell), the explicit environment, and the argv splitter. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "fixture.h"
#include "spawn_prog.h"
#include "test.h"

static char *prog(const char *name)
{
	char *p = NULL;

	if (spawn_find_program(name, getenv("PATH"), &p) < 0) {
		fprintf(stderr, "%s not found in PATH\n", name);
		exit(2);
	}
	return p;
}

/* Runs argv (argv[0] looked up in PATH) with env {A=1}, captured, timeout_ms. */
static int run(const char *const *args, unsigned timeout_ms, struct spawn_result *res)
{
	char *argv[16] = { prog(args[0]) };
	char *env[] = { "A=1", NULL };
	struct err e = { "" };
	int r;

	for (size_t i = 1; args[i] && i < 15; i++)
		argv[i] = (char *)args[i];
	r = spawn_run(argv, env, SPAWN_CAPTURE, timeout_ms, res, &e);
	if (r < 0)
		fprintf(stderr, "spawn_run: %s\n", e.msg);
	free(argv[0]);
	return r;
}

static void test_exit_codes_and_signals(void)
{
	struct spawn_result res;
	_cleanup_free_ char *st = NULL;

	CHECK(run((const char *[]){ "true", NULL }, 5000, &res) == 0);
	CHECK(spawn_ok(&res) && res.exit_code == 0 && res.signal == 0 && !res.timed_out);
	spawn_result_free(&res);
	CHECK(run((const char *[]){ "sh", "-c", "echo out; echo first >&2; echo 'the last line' >&2; exit 3", NULL },
		  5000, &res) == 0);
	CHECK(!spawn_ok(&res) && res.exit_code == 3 && res.signal == 0);
	CHECK_STR(res.out, "out\n");
	CHECK_STR(res.err, "first\nthe last line\n");
	st = spawn_status(&res);
	CHECK_STR(st, "exit code 3");
	free(st);
	st = spawn_last_line(res.err);
	CHECK_STR(st, "the last line");
	spawn_result_free(&res);
	CHECK(run((const char *[]){ "sh", "-c", "kill -TERM $$", NULL }, 5000, &res) == 0);
	CHECK(!spawn_ok(&res) && res.signal == SIGTERM && res.exit_code == -1 && !res.timed_out);
	free(st);
	st = spawn_status(&res);
	CHECK_CONTAINS(st, "killed by signal 15");
	spawn_result_free(&res);
}

static bool reaped_killed(pid_t pid)
{
	long long deadline = now_ms() + 5000;
	int status;

	while (now_ms() < deadline) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		if (r < 0)
			return false;
		usleep(10000);
	}
	return false;
}

/* The child and what it started in its process group die at the timeout. As a subreaper, this test
 * inherits the orphaned grandchild and can see how it ended. */
static void test_timeout_kills_process_group(void)
{
	struct spawn_result res;
	long long t0 = now_ms(), took;
	unsigned long long bg = 0;
	_cleanup_free_ char *st = NULL, *pidfile = xasprintf("%s/bg.pid", test_tmpdir);
	_cleanup_free_ char *script = xasprintf("sleep 100 & echo $! >%s; exec sleep 100", pidfile);
	char *pidtxt = NULL;
	int fd;

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	CHECK(run((const char *[]){ "sh", "-c", script, NULL }, 300, &res) == 0);
	took = now_ms() - t0;
	CHECK(res.timed_out && !spawn_ok(&res));
	CHECK(took >= 300 && took < 2500);
	st = spawn_status(&res);
	CHECK_STR(st, "timed out after 300 ms (killed with its process group)");
	fd = open(pidfile, O_RDONLY);
	CHECK(fd >= 0 && read_all_fd(fd, 64, &pidtxt, NULL) == 0);
	if (fd >= 0)
		close(fd);
	CHECK(pidtxt && parse_uint(strstrip(pidtxt), &bg) == 0 && bg > 1);
	if (bg > 1)
		CHECK(reaped_killed((pid_t)bg)); /* the background sleep got SIGKILL, not just the shell */
	free(pidtxt);
	spawn_result_free(&res);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

struct wake_reader {
	int fd;
	size_t got;
};

/* What a woke callback does: read what woke the wait (the fd is non-blocking). */
static void read_wake(void *arg)
{
	struct wake_reader *w = arg;
	char c;

	while (read(w->fd, &c, 1) == 1)
		w->got++;
}

/* spawn_wait, the one wait with a deadline: a child that ends first is reaped with its status; at the
 * deadline it returns -ETIMEDOUT and leaves the child running; a signal in between (EINTR, no
 * SA_RESTART) does not end the wait; another process's pid is an error at once, not a wait. */
static void test_wait_deadline(void)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval every = { { 0, 20000 }, { 0, 20000 } }, off = { 0 };
	struct wake_reader wr = { -1, 0 };
	int status = 0, p[2];
	struct pollfd fds[1];
	pid_t pid;

	pid = fork();
	if (pid == 0)
		_exit(7);
	CHECK(spawn_wait(pid, now_ms() + 60000, NULL, 0, NULL, NULL, &status) == 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK(spawn_wait(pid, now_ms() + 100, NULL, 0, NULL, NULL, &status) == -ETIMEDOUT);
	CHECK(kill(pid, 0) == 0); /* not reaped, still there */
	kill(pid, SIGKILL);
	CHECK(spawn_wait(pid, now_ms() + 60000, NULL, 0, NULL, NULL, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* signals every 20 ms while the child sleeps 300 ms: the wait goes on until it exits */
	CHECK(pipe2(p, O_NONBLOCK) == 0);
	wr.fd = p[0];
	fds[0] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	sigaction(SIGALRM, &sa, &old);
	alarms = 0;
	pid = fork();
	if (pid == 0) {
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		usleep(300000);
		_exit(3);
	}
	close(p[1]);
	setitimer(ITIMER_REAL, &every, NULL);
	CHECK(spawn_wait(pid, now_ms() + 60000, fds, 1, read_wake, &wr, &status) == 0);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old, NULL);
	CHECK(alarms > 0 && wr.got == 1); /* the pipe woke it and woke() read it */
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	close(p[0]);

	CHECK(spawn_wait(getppid(), now_ms() + 60000, NULL, 0, NULL, NULL, &status) == -ECHILD);
}

/* Words go through as they are: no splitting, no ';', '$', '`' or glob interpretation. */
static void test_argv_untouched(void)
{
	struct spawn_result res;

	CHECK(run((const char *[]){ "printf", "[%s]", "two words", "a;b", "$HOME", "`id`", "*", "", NULL }, 5000,
		  &res) == 0);
	CHECK_STR(res.out, "[two words][a;b][$HOME][`id`][*][]");
	spawn_result_free(&res);
	/* stdin is /dev/null: cat ends at once. The environment is exactly what was given. */
	CHECK(run((const char *[]){ "cat", NULL }, 5000, &res) == 0);
	CHECK(spawn_ok(&res));
	CHECK_STR(res.out, "");
	spawn_result_free(&res);
	CHECK(run((const char *[]){ "env", NULL }, 5000, &res) == 0);
	CHECK_STR(res.out, "A=1\n");
	spawn_result_free(&res);
	CHECK(run((const char *[]){ "pwd", NULL }, 5000, &res) == 0);
	CHECK_STR(res.out, "/\n");
	spawn_result_free(&res);
}

static void test_capture_is_bounded(void)
{
	struct spawn_result res;
	long long t0 = now_ms();

	/* a child that never stops writing still meets its timeout */
	CHECK(run((const char *[]){ "yes", NULL }, 300, &res) == 0);
	CHECK(res.timed_out && res.out_cut && now_ms() - t0 < 2500);
	CHECK(strlen(res.out) == SPAWN_CAPTURE_MAX);
	spawn_result_free(&res);

	CHECK(run((const char *[]){ "sh", "-c",
				    "i=0; while [ $i -lt 3000 ]; do echo 0123456789; i=$((i+1)); done; echo END",
				    NULL },
		  10000, &res) == 0);
	CHECK(spawn_ok(&res) && res.out_cut && !res.err_cut);
	CHECK(strlen(res.out) == SPAWN_CAPTURE_MAX);
	CHECK(strlen(res.out) >= 15 && strcmp(res.out + strlen(res.out) - 15, "0123456789\nEND\n") == 0);
	spawn_result_free(&res);
}

/* SPAWN_TO_STDERR: the child's stdout lands on our stderr, never on our stdout. */
static void test_to_stderr_never_stdout(void)
{
	_cleanup_free_ char *outf = xasprintf("%s/out", test_tmpdir), *errf = xasprintf("%s/err", test_tmpdir);
	_cleanup_free_ char *sh = prog("sh"), *out = NULL, *err = NULL;
	char *argv[] = { sh, "-c", "echo to-stdout; echo to-stderr >&2", NULL };
	char *env[] = { NULL };
	int save1 = dup(1), save2 = dup(2), fo, fe;
	struct spawn_result res;
	struct err e;

	fflush(stdout), fflush(stderr);
	fo = open(outf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fe = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fo, 1), dup2(fe, 2);
	CHECK(spawn_run(argv, env, SPAWN_TO_STDERR, 5000, &res, &e) == 0);
	dup2(save1, 1), dup2(save2, 2);
	close(fo), close(fe), close(save1), close(save2);
	CHECK(spawn_ok(&res) && !res.out && !res.err);
	fo = open(outf, O_RDONLY), fe = open(errf, O_RDONLY);
	CHECK(read_all_fd(fo, 4096, &out, NULL) == 0 && read_all_fd(fe, 4096, &err, NULL) == 0);
	close(fo), close(fe);
	CHECK_STR(out, "");
	CHECK_STR(err, "to-stdout\nto-stderr\n");
}

static void test_errors(void)
{
	char *argv[] = { "/nonexistent/hookd-test-prog", NULL };
	char *env[] = { NULL };
	struct spawn_result res;
	struct err e = { "" };
	char *p = NULL;

	CHECK(spawn_run(argv, env, SPAWN_CAPTURE, 1000, &res, &e) == -ENOENT);
	CHECK_CONTAINS(e.msg, "/nonexistent/hookd-test-prog");
	spawn_result_free(&res);
	CHECK(spawn_find_program("hookd-no-such-program", "/usr/bin:/bin", &p) == -ENOENT);
	/* relative PATH entries are never searched (hookd runs as root) */
	CHECK(spawn_find_program("sh", "bin:.:", &p) == -ENOENT);
	CHECK(spawn_find_program("sh", "/nonexistent:/bin", &p) == 0);
	CHECK_STR(p, "/bin/sh");
	free(p);
	/* a file that is not executable is skipped */
	_cleanup_free_ char *nx = test_put_file("notexec", "#!/bin/sh\n", 0644);
	CHECK(spawn_find_program(nx, NULL, &p) == -ENOENT);
}

static void check_split(const char *line, const char *const *want)
{
	char **v = NULL;
	struct err e = { "" };
	size_t n = 0;

	CHECK(spawn_argv_split(line, &v, &e) == 0);
	for (; v && v[n] && want[n]; n++)
		CHECK_STR(v[n], want[n]);
	CHECK(v && !v[n] && !want[n]);
	if (v) { /* and back: join then split gives the same words */
		_cleanup_free_ char *joined = spawn_argv_join(v);
		char **again = NULL;

		CHECK(spawn_argv_split(joined, &again, &e) == 0);
		for (size_t i = 0; again && i < n; i++)
			CHECK_STR(again[i], v[i]);
		CHECK(again && !again[n]);
		spawn_strv_free(again);
	}
	spawn_strv_free(v);
}

static void test_split_and_join(void)
{
	struct err e = { "" };
	char **v = NULL;
	char *w[] = { "/bin/x", "plain", "two words", "it's", "say \"hi\" it's", "", "a;b$c", NULL };
	_cleanup_free_ char *j = spawn_argv_join(w);

	check_split("/usr/bin/foo  a\tb ", (const char *const[]){ "/usr/bin/foo", "a", "b", NULL });
	check_split("x 'two words' \"it's\" a'b'\"c\" '' \"\"",
		    (const char *const[]){ "x", "two words", "it's", "abc", "", "", NULL });
	check_split("x a;b $HOME `id` \\n", (const char *const[]){ "x", "a;b", "$HOME", "`id`", "\\n", NULL });
	CHECK_STR(j, "/bin/x plain 'two words' 'it'\"'\"'s' 'say \"hi\" it'\"'\"'s' '' a;b$c");
	check_split(j, (const char *const[]){ "/bin/x", "plain", "two words", "it's", "say \"hi\" it's", "", "a;b$c",
					      NULL });
	CHECK(spawn_argv_split("x 'open", &v, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "unterminated ' quote");
	CHECK(spawn_argv_split("   ", &v, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "expected a command");
}

static void test_env(void)
{
	const char *const extra[] = { "HOOKD_VM=win11", NULL };
	char **env;

	setenv("PATH", "/usr/bin:/bin", 1);
	setenv("HOME", "/root", 1);
	setenv("LD_PRELOAD", "/nonexistent.so", 1); /* never passed on */
	env = spawn_env_new(extra);
	CHECK_STR(env[0], "LC_ALL=C");
	CHECK_STR(env[1], "PATH=/usr/bin:/bin");
	CHECK_STR(env[2], "HOME=/root");
	CHECK_STR(env[3], "HOOKD_VM=win11");
	CHECK(env[4] == NULL);
	spawn_strv_free(env);
	unsetenv("LD_PRELOAD");
	unsetenv("PATH");
	unsetenv("HOME");
	env = spawn_env_new(NULL);
	CHECK_CONTAINS(env[1], "PATH=/usr/local/sbin:");
	CHECK(env[2] == NULL);
	spawn_strv_free(env);
}

int main(void)
{
	test_tmpdir_create("spawn");
	test_exit_codes_and_signals();
	test_timeout_kills_process_group();
	test_wait_deadline();
	test_argv_untouched();
	test_capture_is_bounded();
	test_to_stderr_never_stdout();
	test_errors();
	test_split_and_join();
	test_env(); /* last: it changes PATH */
	test_tmpdir_remove();
	return TEST_DONE();
}
