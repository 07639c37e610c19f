/* The global lock that serialises every hookd run, and what its holder is doing: a waiter waits as
 * long as the holder's current step may take, and says for whom it waits. */
#ifndef HOOKD_LOCK_H
#define HOOKD_LOCK_H

#include "conf.h"
#include "util.h"

/* The bound of a step that announces none: it makes a few waits bounded by hookd.conf's timeout. */
unsigned lock_default_bound_ms(const struct hookd_conf *conf);
/* Takes <state_dir>/lock, waiting while the holder is within the bound it announced. exclusive (a
 * run): creates state_dir and the lock, and announces `vm what` for the default bound. Shared (a
 * dry run): creates nothing (-ENOENT without a message when there is no state_dir or lock yet).
 * -ETIMEDOUT (e->msg names the holder) when the holder overruns its bound. */
int lock_take(const struct hookd_conf *conf, bool exclusive, const char *vm, const char *what, int *fd, struct err *e);
/* Tells waiters what the holder does now and how long it may take at most. */
void lock_announce(int fd, const char *vm, const char *what, unsigned bound_ms);

#endif
