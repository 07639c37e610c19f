/* Where the journals are: their file names in state_dir. The one piece of the journal the hook front
 * needs to decide whether a call has work; header-only, so the front (static, benchmarked, linked to
 * base/ alone) carries no more than it uses. journal.c reads and writes the files. */
#ifndef HOOKD_JOURNAL_FILES_H
#define HOOKD_JOURNAL_FILES_H

#include <dirent.h>
#include <stdbool.h>
#include <string.h>

#include "util.h"

#define JOURNAL_SUFFIX ".journal"

/* "<state_dir>/<uuid or name>.journal"; the uuid when the domain has one. */
static inline char *journal_path_for(const char *state_dir, const char *uuid, const char *vm)
{
	return xasprintf("%s/%s" JOURNAL_SUFFIX, state_dir, uuid && uuid[0] ? uuid : vm);
}

/* Is name (a file name in state_dir) a journal's: "<something>.journal"? */
static inline bool journal_file_name(const char *name)
{
	size_t n = strlen(name), s = sizeof(JOURNAL_SUFFIX) - 1;

	return n > s && strcmp(name + n - s, JOURNAL_SUFFIX) == 0;
}

/* Does state_dir hold a journal? false when it cannot be read. */
static inline bool journal_any(const char *state_dir)
{
	DIR *d = opendir(state_dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = journal_file_name(de->d_name);
	closedir(d);
	return found;
}

#endif
