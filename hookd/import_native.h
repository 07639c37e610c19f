/* Beyond a faithful copy: the lines of imported scripts that do what a native hookd section does
 * (unload the GPU driver, detach it for vfio, free the console, stop the display manager, set the
 * governor, keep the host off the VM's CPUs, reserve huge pages), recognised one by one. */
#ifndef HOOKD_IMPORT_NATIVE_H
#define HOOKD_IMPORT_NATIVE_H

#include <stdio.h>

#include "import_scan.h"

/* Appends to an imported INI, as comments, the native sections that would do what the recognised
 * lines do, each key citing the script file:line it came from, and what stays an [exec] step. */
void import_native_suggest(FILE *f, const struct import_vm *vm);

#endif
