#include "import_native.h"

void import_native_suggest(FILE *f, const struct import_vm *vm)
{
	(void)f, (void)vm;
}
