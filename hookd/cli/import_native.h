/* Beyond a faithful copy: the lines of imported scripts that do what a native hookd section does
 * (unload the GPU driver, detach it for vfio, free the console, stop the display manager, set the
 * governor, keep the host off the VM's CPUs, move IRQs, reserve huge pages), recognised one by one,
 * each native key citing the script file:line it came from. What is not recognised is never guessed:
 * it stays in an [exec] step. */
#ifndef HOOKD_IMPORT_NATIVE_H
#define HOOKD_IMPORT_NATIVE_H

#include <stdbool.h>
#include <stdio.h>

#include "import_scan.h"

struct import_native;

/* Reads every line of vm's steps (prepare and started first, then release, whose lines may be the
 * undo of a native key). */
struct import_native *import_native_new(const struct import_vm *vm);
void import_native_free(struct import_native *n);
/* Does sc keep lines that no native section does (so it stays an [exec] step)? */
bool import_native_keeps(const struct import_native *n, const struct import_script *sc);
/* sc's text with each recognised line turned into a `:` no-op that names the native key, or NULL when
 * none was recognised. Caller frees. */
char *import_native_rest(const struct import_native *n, const struct import_script *sc);
/* The native sections, each line after prefix ("" to write them, "; " to show them as comments),
 * then the lines that stay in [exec] steps. false when nothing was recognised. */
bool import_native_put(FILE *f, const struct import_native *n, const char *prefix);

#endif
