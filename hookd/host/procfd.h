/* Which host processes hold a device node open (/proc/PID/fd), named for a refusal. */
#ifndef HOOKD_PROCFD_H
#define HOOKD_PROCFD_H

#include <stdbool.h>

/* Whether a device node, as /proc/PID/fd shows it ("/dev/dri/card0"), is one the caller asks about. */
typedef bool (*procfd_match_fn)(const char *root, const char *node, void *arg);

/* "pid N (comm, unit U) holds NODE open, ..." for every process under root holding a node that
 * match accepts (the first 8 named, then "and K more processes"); *who is NULL when none does.
 * The unit is the systemd unit of the process's cgroup (/proc/PID/cgroup), when it has one. */
void procfd_holders(const char *root, procfd_match_fn match, void *arg, char **who);

#endif
