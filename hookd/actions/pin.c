/* [pin]: being written. */
#include "action.h"
