/* [hugepages]: being written. */
#include "action.h"
