/* Where hookd reports what it did: syslog (journald shows it under "hookd"), stderr, or nowhere.
 * The one line libvirt shows the user on failure is printed by the caller, always on stderr. */
#ifndef HOOKD_LOG_H
#define HOOKD_LOG_H

#include "conf.h"

/* Every later line is prefixed with the VM and the phase. file: for LOG_TARGET_FILE (appended to). */
void log_open(enum log_target target, const char *file, const char *vm, const char *phase);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
