/* The per-VM write-ahead journal: what each step is about to change, and whether it finished.
 * Found (journal_find_vm, journal_for_each), read (journal_load) and changed on disk one record at
 * a time (journal_intent, journal_done, journal_drop) only through here; actions see its records
 * as struct step_record and struct held_step (action.h), never this file. */
#ifndef HOOKD_JOURNAL_H
#define HOOKD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "action.h"
#include "journal_files.h"
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

struct journal *journal_new(const char *path, const char *vm, const char *uuid);
/* -ENOENT without a message when there is no journal. */
int journal_load(const char *path, struct journal **out, struct err *e);
/* Atomic replace: temp file, fsync, rename, fsync of the directory. */
int journal_save(const struct journal *j, struct err *e);
int journal_remove(const struct journal *j, struct err *e);

/* The write-ahead steps, each saved before it returns. An intent record of a step about to act
 * (the strings are copied; *idx: its index); */
int journal_intent(struct journal *j, const char *action, const char *op, const char *target, const char *value,
		   const char *saved, size_t *idx, struct err *e);
/* record idx's step finished; */
int journal_done(struct journal *j, size_t idx, struct err *e);
/* record idx was reverted: it leaves the journal. The last one leaves the file to journal_remove (a
 * journal is never saved empty in place of one that holds a step). */
int journal_drop(struct journal *j, size_t idx, struct err *e);

/* Appends a record in memory only (copies the strings); returns its index. */
size_t journal_append(struct journal *j, enum rec_state state, const char *action, const char *op, const char *target,
		      const char *value, const char *saved);
/* The index of the record for action+target, or -1. */
ssize_t journal_index(const struct journal *j, const char *action, const char *target);
/* Record idx as the actions see it (pointing into j). */
struct step_record journal_step(const struct journal *j, size_t idx);
/* Appends to *v (*n long) every record of journals[0..n_journals) but except_path's (NULL: none),
 * in order, pointing into them: what those VMs hold. Unreadable journals hold no record. */
void journal_held(struct journal *const *journals, size_t n_journals, const char *except_path, struct held_step **v,
		  size_t *n);
struct journal *journal_dup(const struct journal *j);
void journal_free(struct journal *j);

/* Calls fn for every journal in state_dir (sorted by file name); one that cannot be read comes
 * with j->unreadable set and no records (one bad journal must not hide the others). fn must not
 * keep j (journal_dup it). */
int journal_for_each(const char *state_dir, int (*fn)(struct journal *j, void *arg), void *arg, struct err *e);
/* The journal that names the VM vm (for `restore VM` without domain XML). -ENOENT when there is
 * none; -EBADMSG (e->msg says why) when none names it but an unreadable one may be its own: without
 * uuid, any; with it, the one named by the VM's name. */
int journal_find_vm(const char *state_dir, const char *vm, const char *uuid, char **path, struct err *e);
/* The journal of the VM vm: journal_path_for's when it exists, else journal_find_vm's. */
int journal_of_vm(const char *state_dir, const char *vm, const char *uuid, char **path, struct err *e);
/* Temp files in state_dir left by a run killed while it saved a journal: reported, and removed
 * when remove is set (only under the lock: no one else saves then). */
int journal_leftovers(const char *state_dir, bool remove, void (*report)(const char *path, const char *why, void *arg),
		      void *arg);

#endif
