/* [console]: being written. */
#include "action.h"
