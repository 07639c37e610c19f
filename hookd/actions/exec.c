/* [exec]: being written. */
#include "action.h"
