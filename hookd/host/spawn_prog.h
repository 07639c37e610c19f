/* spawn_prog.h (not spawn.h: that name is POSIX's <spawn.h>, which hookd/ would shadow).
 * The one way hookd runs external programs (systemctl, [exec] commands): posix_spawn with an argv
 * array, never a shell; an explicit environment; stdin from /dev/null or given bytes; output captured
 * or sent to hookd's stderr, never to its stdout (libvirt reads the hook's stdout for migrate and
 * restore); a timeout after which the child and its process group are killed. */
#ifndef HOOKD_SPAWN_PROG_H
#define HOOKD_SPAWN_PROG_H

#include <poll.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util.h"

/* Bytes kept of each captured stream: the last ones, where the error usually is. */
#define SPAWN_CAPTURE_MAX 8192

enum spawn_output {
	SPAWN_CAPTURE,   /* stdout and stderr into res->out and res->err */
	SPAWN_TO_STDERR, /* both onto hookd's own stderr */
};

struct spawn_result {
	bool timed_out; /* hookd killed it (and its process group) after timeout_ms */
	int exit_code;  /* its exit code when it exited; -1 otherwise */
	int signal;     /* the signal that ended it; 0 when it exited */
	unsigned timeout_ms;
	char *out, *err;       /* SPAWN_CAPTURE: the tail of each stream, NUL-terminated; else NULL */
	bool out_cut, err_cut; /* more than SPAWN_CAPTURE_MAX bytes came: the start was dropped */
};

/* Runs argv[0] (a path; no PATH search) with env, a NULL-terminated "NAME=value" list, in its own
 * process group with cwd "/". Returns 0 once the child has ended, whatever its status (see res);
 * -errno with e->msg when it could not be started. */
int spawn_run(char *const argv[], char *const env[], enum spawn_output out, unsigned timeout_ms,
	      struct spawn_result *res, struct err *e);
/* The same, with input (len bytes; NULL: /dev/null) as the child's stdin. */
int spawn_run_input(char *const argv[], char *const env[], const char *input, size_t input_len, enum spawn_output out,
		    unsigned timeout_ms, struct spawn_result *res, struct err *e);
bool spawn_ok(const struct spawn_result *res);

/* Most fds spawn_wait watches besides the child. */
#define SPAWN_WAIT_MAX_FDS 4
/* The one wait for a child with a deadline (spawn_run's commands, sysfs_write_bounded's writer):
 * until pid ends or deadline (now_ms()'s monotonic clock) passes; a signal (EINTR) does not end it.
 * It sleeps in poll() on the child's pidfd and on fds (may be NULL; an fd < 0 is skipped) and calls
 * woke(arg), when given, after each wake-up (which may change fds). 0 with *status once the child is
 * reaped; -ETIMEDOUT at the deadline, the child left running; -errno when waitpid fails (not our child). */
int spawn_wait(pid_t pid, long long deadline, struct pollfd *fds, size_t n_fds, void (*woke)(void *arg), void *arg,
	       int *status);
/* "exit code 3", "killed by signal 9 (Killed)", "timed out after 500 ms (killed with its process
 * group)". Caller frees. */
char *spawn_status(const struct spawn_result *res);
/* The last non-empty line of s (trailing white space removed), or "" when none. Caller frees. */
char *spawn_last_line(const char *s);
void spawn_result_free(struct spawn_result *res);

/* The environment hookd gives every program: LC_ALL=C, hookd's PATH (or a default), HOME when set,
 * then extra (NULL-terminated, may be NULL). Free with spawn_strv_free. */
char **spawn_env_new(const char *const extra[]);
/* The program name found in path (a PATH value): the first executable regular file in an absolute
 * directory. A name with a '/' is taken as it is. -ENOENT when there is none. */
int spawn_find_program(const char *name, const char *path, char **out);

/* A command line into words: split on white space; '...' and "..." quote literally (no escapes, no
 * expansion); quoted and plain pieces next to each other make one word. -EINVAL with e->msg for an
 * unterminated quote or no word at all. */
int spawn_argv_split(const char *line, char ***argv, struct err *e);
/* The inverse: words joined with spaces, quoted where needed so spawn_argv_split gives them back. */
char *spawn_argv_join(char *const argv[]);
void spawn_strv_free(char **v);

#endif
