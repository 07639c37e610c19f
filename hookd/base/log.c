#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <syslog.h>

static enum log_target log_target = LOG_TARGET_NONE;
static char log_prefix[256];
static FILE *log_fp;

/* Appends to file, never through a symlink, and only to a regular file (a FIFO would block). */
static FILE *open_log(const char *file)
{
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0640);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "a"))) {
		close(fd);
		return NULL;
	}
	return f;
}

void log_open(enum log_target target, const char *file, const char *vm, const char *phase)
{
	log_target = target;
	snprintf(log_prefix, sizeof(log_prefix), "%s %s", vm, phase);
	if (target == LOG_TARGET_SYSLOG)
		openlog("hookd", LOG_PID, LOG_DAEMON);
	if (target == LOG_TARGET_FILE) {
		/* line-buffered appends: lines of concurrent hooks for different VMs never interleave */
		log_fp = file ? open_log(file) : NULL;
		if (log_fp)
			setvbuf(log_fp, NULL, _IOLBF, 0);
		else
			log_target = LOG_TARGET_NONE;
	}
}

static void __attribute__((format(printf, 2, 0))) log_v(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	if (log_target == LOG_TARGET_NONE)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == LOG_TARGET_SYSLOG)
		syslog(prio, "%s: %s", log_prefix, msg);
	else
		fprintf(log_target == LOG_TARGET_FILE ? log_fp : stderr, "hookd: %s: %s\n", log_prefix, msg);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_INFO, fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_v(LOG_ERR, fmt, ap);
	va_end(ap);
}
