/* hookd install: being written. */
#include "util.h"
