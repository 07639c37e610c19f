/* spawn.c: running external programs without a shell, bounded by a timeout (being written). */
#include "util.h"
