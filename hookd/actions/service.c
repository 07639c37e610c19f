/* [service]: being written. */
#include "action.h"
