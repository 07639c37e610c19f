/* [modules]: being written. */
#include "action.h"
