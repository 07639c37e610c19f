/* [cpus]: being written. */
#include "action.h"
