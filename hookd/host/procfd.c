#include "procfd.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

#define NAMED_MAX 8

static bool all_digits(const char *s)
{
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The first node that pid holds open and match accepts, or NULL. */
static char *process_node(const char *root, const char *pid, procfd_match_fn match, void *arg)
{
	_cleanup_free_ char *fddir = xasprintf("/proc/%s/fd", pid);
	char **fds = NULL, *found = NULL;
	size_t n = 0;

	if (sysfs_list(root, fddir, &fds, &n) < 0)
		return NULL;
	for (size_t i = 0; i < n && !found; i++) {
		_cleanup_free_ char *fd = xasprintf("/proc/%s/fd/%s", pid, fds[i]), *target = NULL;

		if (sysfs_readlink(root, fd, &target) < 0 || !target[0])
			continue;
		if (match(root, target, arg))
			found = xstrdup(target);
	}
	sysfs_list_free(fds, n);
	return found;
}

/* The systemd unit (service or scope) of pid's cgroup v2 path, or NULL. */
static char *process_unit(const char *root, const char *pid)
{
	_cleanup_free_ char *path = xasprintf("/proc/%s/cgroup", pid), *s = NULL;
	char *line, *unit = NULL;

	if (sysfs_read(root, path, &s) < 0 || !(line = strstr(s, "0::/")))
		return NULL;
	line[strcspn(line, "\n")] = '\0';
	for (char *save = NULL, *c = strtok_r(line + 4, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		size_t l = strlen(c);

		if ((l > 8 && !strcmp(c + l - 8, ".service")) || (l > 6 && !strcmp(c + l - 6, ".scope")))
			unit = c; /* the innermost unit */
	}
	return unit ? xstrdup(unit) : NULL;
}

void procfd_holders(const char *root, procfd_match_fn match, void *arg, char **who)
{
	char **pids = NULL, *buf = NULL;
	size_t n = 0, len = 0;
	unsigned count = 0;
	FILE *out = xopen_memstream(&buf, &len);

	if (sysfs_list(root, "/proc", &pids, &n) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *node = NULL, *comm = NULL, *cpath = NULL, *unit = NULL;

		if (!all_digits(pids[i]) || !(node = process_node(root, pids[i], match, arg)))
			continue;
		cpath = xasprintf("/proc/%s/comm", pids[i]);
		if (sysfs_read(root, cpath, &comm) < 0)
			comm = xstrdup("?");
		unit = process_unit(root, pids[i]);
		if (count < NAMED_MAX)
			fprintf(out, "%spid %s (%s%s%s) holds %s open", count ? ", " : "", pids[i], comm,
				unit ? ", unit " : "", unit ? unit : "", node);
		count++;
	}
	if (count > NAMED_MAX)
		fprintf(out, " and %u more processes", count - NAMED_MAX);
	sysfs_list_free(pids, n);
	fclose(out);
	if (!count) {
		free(buf);
		buf = NULL;
	}
	*who = buf;
}
