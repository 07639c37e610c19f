/* The one list of action types. A new action is one file in actions/ and one row here. */
#include <string.h>

#include "action.h"

extern const struct action_ops action_vfio;
extern const struct action_ops action_modules;
extern const struct action_ops action_console;
extern const struct action_ops action_service;
extern const struct action_ops action_exec;
extern const struct action_ops action_hugepages;
extern const struct action_ops action_cpus;
extern const struct action_ops action_pin;

const struct action_ops *const action_table[] = {
	&action_vfio,    &action_modules, &action_console,
	&action_service, &action_exec,    &action_hugepages,
	&action_cpus,    &action_pin,     NULL,
};

const struct action_ops *action_find_in(const struct action_ops *const *table, const char *name)
{
	for (size_t i = 0; table[i]; i++)
		if (strcmp(table[i]->name, name) == 0)
			return table[i];
	return NULL;
}

const struct action_ops *action_find(const char *name)
{
	return action_find_in(action_table, name);
}
