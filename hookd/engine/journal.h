/* The per-VM write-ahead journal: what each step is about to change, and whether it finished. */
#ifndef HOOKD_JOURNAL_H
#define HOOKD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum rec_state { REC_INTENT, REC_DONE };

struct journal_rec {
	enum rec_state state;
	char *action; /* the action's name, to find its ops on revert */
	char *op;     /* what the step does, e.g. "bind" */
	char *target; /* what it acts on, e.g. "0000:01:00.0" */
	char *value;  /* what it sets, e.g. "vfio-pci" */
	char *saved;  /* what it found before acting, for revert */
};

struct journal {
	char *path;
	char *vm;
	char *uuid;
	struct journal_rec *recs;
	size_t n;
	char *unreadable; /* why it could not be read (it then has no records), or NULL */
};

/* "<state_dir>/<uuid or name>.journal"; the uuid when the domain has one. */
char *journal_path_for(const char *state_dir, const char *uuid, const char *vm);
struct journal *journal_new(const char *path, const char *vm, const char *uuid);
/* -ENOENT without a message when there is no journal. */
int journal_load(const char *path, struct journal **out, struct err *e);
/* Atomic replace: temp file, fsync, rename, fsync of the directory. */
int journal_save(const struct journal *j, struct err *e);
int journal_remove(const struct journal *j, struct err *e);
/* Appends a record (copies the strings); returns its index. */
size_t journal_append(struct journal *j, enum rec_state state, const char *action, const char *op, const char *target,
		      const char *value, const char *saved);
/* The record for action+target, or NULL. */
struct journal_rec *journal_find(const struct journal *j, const char *action, const char *target);
struct journal *journal_dup(const struct journal *j);
/* Temp files in state_dir left by a run killed while it saved a journal: reported, and removed
 * when remove is set (only under the lock: no one else saves then). */
int journal_leftovers(const char *state_dir, bool remove, void (*report)(const char *path, const char *why, void *arg),
		      void *arg);
void journal_free(struct journal *j);

#endif
