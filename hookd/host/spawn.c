#include "spawn_prog.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* After SIGKILL a process dies at once unless it is stuck in the kernel: bound that wait too. */
#define REAP_AFTER_KILL_MS 2000

struct capture {
	int fd; /* read end; -1 once at EOF or not capturing */
	char *buf;
	size_t len;
	bool cut;
};

static void capture_append(struct capture *c, const char *data, size_t n)
{
	if (!c->buf)
		c->buf = xmalloc(SPAWN_CAPTURE_MAX + 4096 + 1);
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	if (c->len > SPAWN_CAPTURE_MAX) {
		memmove(c->buf, c->buf + c->len - SPAWN_CAPTURE_MAX, SPAWN_CAPTURE_MAX);
		c->len = SPAWN_CAPTURE_MAX;
		c->cut = true;
	}
}

/* Reads what is there without blocking, at most 64 KiB a call (a child that floods its output must
 * not keep the caller from its deadline); closes the pipe at EOF. */
static void capture_drain(struct capture *c)
{
	char tmp[4096];
	ssize_t n;

	for (int chunks = 0; c->fd >= 0 && chunks < 16; chunks++) {
		n = read(c->fd, tmp, sizeof(tmp));
		if (n > 0) {
			capture_append(c, tmp, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		close(c->fd);
		c->fd = -1;
	}
}

static char *capture_take(struct capture *c)
{
	char *s = c->buf ? c->buf : xmalloc(1);

	s[c->len] = '\0';
	if (c->fd >= 0)
		close(c->fd);
	*c = (struct capture){ .fd = -1 };
	return s;
}

static int open_pipe(int p[2], struct capture *c)
{
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	fcntl(p[0], F_SETFL, O_NONBLOCK); /* only our end: the child writes blocking, as usual */
	c->fd = p[0];
	return 0;
}

/* The child has its copies: ours must go, or the pipes never reach EOF. */
static void close_write_ends(int outp[2], int errp[2])
{
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	outp[1] = errp[1] = -1;
}

static int pidfd_of(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/* Sleeps in poll() until the child, one of fds or the deadline wakes us. Without a pidfd (kernel < 5.3)
 * nothing wakes us when the child exits: ticks of 1 ms doubling up to 16 ms then. */
static void sleep_until(int pidfd, struct pollfd *fds, size_t n_fds, long long left, int *tick)
{
	struct pollfd p[SPAWN_WAIT_MAX_FDS + 1];
	nfds_t n = 0;

	if (pidfd >= 0)
		p[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	for (size_t i = 0; i < n_fds && i < SPAWN_WAIT_MAX_FDS; i++)
		p[n++] = (struct pollfd){ .fd = fds[i].fd, .events = fds[i].events };
	if (pidfd < 0) {
		left = left < *tick ? left : *tick;
		*tick = *tick < 16 ? *tick * 2 : 16;
	}
	(void)poll(p, n, (int)left); /* EINTR, or any wake-up: the caller looks again */
}

int spawn_wait(pid_t pid, long long deadline, struct pollfd *fds, size_t n_fds, void (*woke)(void *arg), void *arg,
	       int *status)
{
	int pidfd = pidfd_of(pid), tick = 1, r;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);
		long long left = deadline - now_ms();

		if (w == pid || (w < 0 && errno != EINTR)) {
			r = w == pid ? 0 : -errno;
			break;
		}
		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		sleep_until(pidfd, fds, n_fds, left, &tick);
		if (woke)
			woke(arg);
	}
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

/* spawn_wait's wake-ups drain the output pipes, which capture_drain closes at EOF. */
struct capture_wait {
	struct capture *cap;
	struct pollfd fds[2];
};

static void capture_woke(void *arg)
{
	struct capture_wait *w = arg;

	for (int i = 0; i < 2; i++) {
		capture_drain(&w->cap[i]);
		w->fds[i].fd = w->cap[i].fd;
	}
}

/* Waits for pid until deadline, reading the captures meanwhile. */
static int wait_child(pid_t pid, struct capture cap[2], long long deadline, int *status)
{
	struct capture_wait w = { cap,
				  { { .fd = cap[0].fd, .events = POLLIN }, { .fd = cap[1].fd, .events = POLLIN } } };

	return spawn_wait(pid, deadline, w.fds, 2, capture_woke, &w, status);
}

static void spawn_attrs(posix_spawnattr_t *at)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_init(at);
	/* Own process group (so a timeout kills what it started too), default signals, none blocked. */
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &all);
}

static void spawn_files(posix_spawn_file_actions_t *fa, int in, const int outp[2], const int errp[2])
{
	posix_spawn_file_actions_init(fa);
	posix_spawn_file_actions_adddup2(fa, in, STDIN_FILENO);
	if (outp[1] >= 0) {
		posix_spawn_file_actions_adddup2(fa, outp[1], STDOUT_FILENO);
		posix_spawn_file_actions_adddup2(fa, errp[1], STDERR_FILENO);
	} else {
		posix_spawn_file_actions_adddup2(fa, STDERR_FILENO, STDOUT_FILENO);
	}
	posix_spawn_file_actions_addchdir_np(fa, "/");
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	/* The global lock and any fd leaked by a library stay with hookd, not with a daemon a command starts. */
	posix_spawn_file_actions_addclosefrom_np(fa, STDERR_FILENO + 1);
#endif
}

/* Kills the child's process group after a timeout and reaps the child. */
static int kill_and_reap(pid_t pid, struct capture cap[2], int *status, struct err *e)
{
	int r;

	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	r = wait_child(pid, cap, now_ms() + REAP_AFTER_KILL_MS, status);
	if (r == -ETIMEDOUT)
		return err_set(e, r, "process %d did not die within %d ms of SIGKILL (stuck in the kernel?)", (int)pid,
			       REAP_AFTER_KILL_MS);
	if (r < 0)
		return err_set(e, r, "cannot wait for process %d: %s", (int)pid, strerror(-r));
	return 0;
}

/* The child's stdin: /dev/null, or a memory file holding input, read from its start. A file, not a
 * pipe: a child that never reads it cannot block us on a full pipe, and it may read it twice. */
static int open_input(const char *input, size_t len, struct err *e)
{
	int fd;

	if (!input)
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	else
		fd = memfd_create("hookd-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "cannot open the command's stdin: %s", strerror(errno));
	for (size_t done = 0; input && done < len;) {
		ssize_t n = write(fd, input + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int r = n < 0 ? -errno : -EIO;

			close(fd);
			return err_set(e, r, "cannot write the command's stdin: %s", strerror(-r));
		}
		done += (size_t)n;
	}
	if (input && lseek(fd, 0, SEEK_SET) < 0) {
		int r = -errno;

		close(fd);
		return err_set(e, r, "cannot rewind the command's stdin: %s", strerror(-r));
	}
	return fd;
}

int spawn_run(char *const argv[], char *const env[], enum spawn_output out, unsigned timeout_ms,
	      struct spawn_result *res, struct err *e)
{
	return spawn_run_input(argv, env, NULL, 0, out, timeout_ms, res, e);
}

int spawn_run_input(char *const argv[], char *const env[], const char *input, size_t input_len, enum spawn_output out,
		    unsigned timeout_ms, struct spawn_result *res, struct err *e)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, r = 0;
	struct capture cap[2] = { { .fd = -1 }, { .fd = -1 } };
	_cleanup_close_ int in = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;

	*res = (struct spawn_result){ .exit_code = -1, .timeout_ms = timeout_ms };
	in = open_input(input, input_len, e);
	if (in < 0)
		return in;
	if (out == SPAWN_CAPTURE && ((r = open_pipe(outp, &cap[0])) < 0 || (r = open_pipe(errp, &cap[1])) < 0)) {
		err_set(e, r, "cannot create a pipe: %s", strerror(-r));
		close_write_ends(outp, errp);
		goto out;
	}
	spawn_files(&fa, in, outp, errp);
	spawn_attrs(&at);
	r = -posix_spawn(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close_write_ends(outp, errp);
	if (r < 0) {
		err_set(e, r, "cannot run %s: %s", argv[0], strerror(-r));
		goto out;
	}
	r = wait_child(pid, cap, now_ms() + timeout_ms, &status);
	if (r == -ETIMEDOUT) {
		res->timed_out = true;
		r = kill_and_reap(pid, cap, &status, e);
	} else if (r < 0) {
		err_set(e, r, "cannot wait for %s: %s", argv[0], strerror(-r));
	}
	for (int i = 0; i < 2; i++)
		capture_drain(&cap[i]); /* what is left; a grandchild holding the pipe open is not waited for */
	if (!res->timed_out && WIFEXITED(status))
		res->exit_code = WEXITSTATUS(status);
	else if (!res->timed_out && WIFSIGNALED(status))
		res->signal = WTERMSIG(status);
out:
	res->out_cut = cap[0].cut, res->err_cut = cap[1].cut;
	if (out == SPAWN_CAPTURE) {
		res->out = capture_take(&cap[0]);
		res->err = capture_take(&cap[1]);
	}
	return r;
}

bool spawn_ok(const struct spawn_result *res)
{
	return !res->timed_out && res->signal == 0 && res->exit_code == 0;
}

char *spawn_status(const struct spawn_result *res)
{
	if (res->timed_out)
		return xasprintf("timed out after %u ms (killed with its process group)", res->timeout_ms);
	if (res->signal)
		return xasprintf("killed by signal %d (%s)", res->signal, strsignal(res->signal));
	return xasprintf("exit code %d", res->exit_code);
}

char *spawn_last_line(const char *s)
{
	const char *end = s ? s + strlen(s) : s, *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	return s ? strndup(start, (size_t)(end - start)) : xstrdup("");
}

void spawn_result_free(struct spawn_result *res)
{
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
}

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

char **spawn_env_new(const char *const extra[])
{
	const char *path = getenv("PATH"), *home = getenv("HOME");
	char **v = NULL;
	size_t n = 0;

	strv_push(&v, &n, xstrdup("LC_ALL=C"));
	strv_push(&v, &n, xasprintf("PATH=%s", path && path[0] ? path : DEFAULT_PATH));
	if (home && home[0])
		strv_push(&v, &n, xasprintf("HOME=%s", home));
	for (size_t i = 0; extra && extra[i]; i++)
		strv_push(&v, &n, xstrdup(extra[i]));
	return v;
}

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int spawn_find_program(const char *name, const char *path, char **out)
{
	_cleanup_free_ char *copy = xstrdup(path && path[0] ? path : DEFAULT_PATH);
	char *save = NULL;

	if (strchr(name, '/')) {
		if (!is_executable_file(name))
			return -ENOENT;
		*out = xstrdup(name);
		return 0;
	}
	/* Relative directories (and the empty entry, meaning ".") are skipped: hookd runs as root. */
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *p = NULL;

		if (dir[0] != '/')
			continue;
		p = xasprintf("%s/%s", dir, name);
		if (is_executable_file(p)) {
			*out = p;
			p = NULL;
			return 0;
		}
	}
	return -ENOENT;
}

int spawn_argv_split(const char *line, char ***argv, struct err *e)
{
	char **v = NULL, *word = xmalloc(strlen(line) + 1);
	size_t n = 0, len = 0;
	bool in_word = false;

	for (const char *s = line;; s++) {
		if (*s == '\'' || *s == '"') {
			const char *close = strchr(s + 1, *s);

			if (!close) {
				spawn_strv_free(v);
				free(word);
				return err_set(e, -EINVAL, "unterminated %c quote in '%s'", *s, line);
			}
			memcpy(word + len, s + 1, (size_t)(close - s - 1));
			len += (size_t)(close - s - 1);
			in_word = true;
			s = close;
		} else if (*s == '\0' || *s == ' ' || *s == '\t' || *s == '\n') {
			if (in_word)
				strv_push(&v, &n, strndup(word, len));
			in_word = false, len = 0;
			if (!*s)
				break;
		} else {
			word[len++] = *s;
			in_word = true;
		}
	}
	free(word);
	if (n == 0)
		return err_set(e, -EINVAL, "expected a command (a program and its arguments)");
	*argv = v;
	return 0;
}

/* Appends w quoted for spawn_argv_split: single quotes, with each ' itself in double quotes. */
static void quote_word(FILE *f, const char *w)
{
	bool open = false;

	if (w[0] && !strpbrk(w, " \t\n'\"")) {
		fputs(w, f);
		return;
	}
	if (!w[0])
		fputs("''", f);
	for (const char *s = w; *s; s++) {
		if (*s == '\'') {
			fputs(open ? "'\"'\"" : "\"'\"", f);
			open = false;
			continue;
		}
		if (!open)
			fputc('\'', f);
		open = true;
		fputc(*s, f);
	}
	if (open)
		fputc('\'', f);
}

char *spawn_argv_join(char *const argv[])
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = xopen_memstream(&buf, &size);

	for (size_t i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', f);
		quote_word(f, argv[i]);
	}
	if (fclose(f) != 0)
		abort();
	return buf;
}

void spawn_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
