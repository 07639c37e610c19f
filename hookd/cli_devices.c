/* hookd devices: being written. */
#include "util.h"
