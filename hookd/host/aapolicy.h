/* Reads an AppArmor profile's source text (as apparmor_parser would, through its includes) far enough
 * to know its exec rules: the rules of one named profile's own body (nested profiles and hats are
 * skipped) whose permissions contain x, and every @{VAR} definition met on the way (tunables too). */
#ifndef HOOKD_AAPOLICY_H
#define HOOKD_AAPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "aaglob.h"
#include "util.h"

/* One file rule with an exec permission, e.g. `/usr/bin/foo PUx,` or `audit deny /x rwxl,`. */
struct aarule {
	char *pattern; /* the path glob, unquoted */
	char *perms;   /* "PUx", "rmix", "ixr" */
	char *target;  /* the transition's named profile (`-> NAME`), or NULL */
	char *text;    /* the whole rule as written (one line, blanks folded), for messages */
	char *file;    /* where it is written (path inside the root) */
	unsigned line;
	bool deny, audit, owner, other;
};

struct aapolicy {
	char *profile; /* the profile asked for */
	bool found;    /* its block was found */
	struct aarule *rules;
	size_t n_rules;
	struct aaglob_vars vars;
	char **missing; /* `include` files (not `include if exists`) that could not be read */
	size_t n_missing;
};

/* Parses <dir>/<file> under root (dir is absolute inside root, e.g. "/etc/apparmor.d"), following
 * includes relative to dir, and keeps profile's exec rules. -errno with e->msg when the file itself
 * cannot be read; a profile missing from it is not an error (found = false). */
int aapolicy_load(const char *root, const char *dir, const char *file, const char *profile, struct aapolicy **out,
		  struct err *e);
void aapolicy_free(struct aapolicy *p);

#endif
