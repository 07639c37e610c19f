/* A VM's INI file: its sections, in file order, each parsed by its action. */
#ifndef HOOKD_VMCONFIG_H
#define HOOKD_VMCONFIG_H

#include "action.h"

struct vm_section {
	const struct action_ops *ops;
	unsigned line; /* of the [section] header */
	char *label;   /* LABEL of [action LABEL], or NULL */
	void *data;    /* the action's settings */
};

struct vm_config {
	char *path;
	struct vm_section *sections;
	size_t n_sections;
};

/* The VMs that have an INI in hooks_dir ("NAME.ini"), sorted; -errno when it cannot be read. */
int vmconfig_list_vms(const char *hooks_dir, struct strv *vms);
/* Loads path; -ENOENT (no message) when it does not exist. Errors name file:line. */
int vmconfig_load(const char *path, struct vm_config **out, struct err *e);
void vmconfig_free(struct vm_config *c);

#endif
