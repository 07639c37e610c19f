#include "apparmor.h"

#include <errno.h>
#include <string.h>

#include "aapolicy.h"
#include "sysfs.h"

#define AA_PROFILES "/sys/kernel/security/apparmor/profiles"
#define AA_POLICY_DIR "/etc/apparmor.d"
#define AA_WORKER "hookd-apply" /* what the hook execs, from beside its resolved self */
#define MAX_LINKS 40            /* the kernel's own bound on symlinks in one lookup */

/* A profile the kernel lists: "libvirtd (enforce)". */
struct loaded {
	char *name, *mode;
};

struct loaded_list {
	struct loaded *v;
	size_t n;
};

/* What a profile's rules do with an exec of one path. */
enum xmode {
	X_DENIED,        /* no x rule matches, or a deny rule does */
	X_NEEDS_PROFILE, /* Px/Cx without fallback, and no profile of that name is loaded: fails */
	X_INHERIT,       /* ix: runs inside the same profile */
	X_UNCONFINED,    /* ux, or PUx/CUx without a profile to go to */
	X_PROFILE,       /* px/cx to a loaded profile */
};

struct judgement {
	enum xmode mode;
	const struct aarule *rule; /* the deciding rule; NULL when none matched */
};

static void loaded_free(struct loaded_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].mode);
	}
	free(l->v);
}

/* Parses <root>/sys/kernel/security/apparmor/profiles; -ENOENT when AppArmor is not active. */
static int read_loaded(const char *root, struct loaded_list *out)
{
	_cleanup_free_ char *text = NULL;
	char *line, *rest;
	int r = sysfs_read(root, AA_PROFILES, &text);

	*out = (struct loaded_list){ 0 };
	if (r < 0)
		return r;
	for (rest = text; (line = strsep(&rest, "\n"));) {
		char *open = strrchr(line, '('), *close = open ? strchr(open, ')') : NULL;

		if (!open || !close || open == line || open[-1] != ' ')
			continue;
		open[-1] = *close = '\0';
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = (struct loaded){ xstrdup(line), xstrdup(open + 1) };
	}
	return 0;
}

static const struct loaded *loaded_find(const struct loaded_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

/* libvirt runs QEMU hooks from libvirtd (monolithic) or virtqemud (modular); their profiles are
 * named "libvirtd" / "virtqemud" (or, in older versions, by path). Child profiles ("a//b") are not. */
static const char *daemon_of(const char *name)
{
	const char *base = strrchr(name, '/');

	if (strstr(name, "//"))
		return NULL;
	base = base ? base + 1 : name;
	return strcmp(base, "libvirtd") == 0 || strcmp(base, "virtqemud") == 0 ? base : NULL;
}

/* abs with every symlink resolved inside root: an absolute target starts again at root, as the
 * host behind that root would see it. A component that does not exist ends the resolution (the rest
 * is kept as written): AppArmor judges the path whatever exists. */
static char *resolve_in_root(const char *root, const char *abs)
{
	_cleanup_free_ char *todo = xstrdup(abs);
	char *done = xstrdup(""), *rest = todo;
	unsigned links = 0;

	while (*(rest += strspn(rest, "/"))) {
		size_t len = strcspn(rest, "/");
		_cleanup_free_ char *cand = NULL, *target = NULL;

		if (len == 1 && rest[0] == '.') {
			rest += len;
			continue;
		}
		if (len == 2 && strncmp(rest, "..", 2) == 0) {
			char *slash = strrchr(done, '/');

			if (slash)
				*slash = '\0';
			rest += len;
			continue;
		}
		cand = xasprintf("%s/%.*s", done, (int)len, rest);
		rest += len;
		if (links < MAX_LINKS && sysfs_readlink(root, cand, &target) == 0) {
			char *next = xasprintf("%s/%s", target, rest);

			links++;
			if (target[0] == '/')
				done[0] = '\0';
			free(todo);
			rest = todo = next;
			continue;
		}
		free(done);
		done = cand;
		cand = NULL;
	}
	if (!done[0]) {
		free(done);
		done = xstrdup("/");
	}
	return done;
}

/* The rule that decides an exec of path: any matching deny rule; else the matching allow rule,
 * an exact path before a glob (AppArmor lets an exact rule's x mode override a glob's). */
static void find_rule(const struct aapolicy *pol, const char *path, const struct aarule **deny,
		      const struct aarule **allow)
{
	*deny = *allow = NULL;
	for (size_t i = 0; i < pol->n_rules; i++) {
		const struct aarule *r = &pol->rules[i];

		if (r->other || !aaglob_match(r->pattern, path, &pol->vars))
			continue;
		if (r->deny) {
			if (!*deny)
				*deny = r;
		} else if (!*allow || (aaglob_is_literal(r->pattern) && !aaglob_is_literal((*allow)->pattern))) {
			*allow = r;
		}
	}
}

/* The transition an allow rule gives: P and C go to a profile when one of that name is loaded
 * (the `-> NAME`, else the path itself; a child is "<profile>//NAME"), else to their fallback
 * (i: inherit, u/U: unconfined, none: the exec fails). */
static enum xmode rule_mode(const struct aarule *r, const char *profile, const char *path,
			    const struct loaded_list *loaded)
{
	bool to_profile = strpbrk(r->perms, "pP"), to_child = strpbrk(r->perms, "cC");
	bool unconfined = strpbrk(r->perms, "uU"), inherit = strchr(r->perms, 'i');

	if (to_profile || to_child) {
		const char *name = r->target ? r->target : path;
		_cleanup_free_ char *child = xasprintf("%s//%s", profile, name);

		if (loaded_find(loaded, to_child ? child : name))
			return X_PROFILE;
		return inherit ? X_INHERIT : unconfined ? X_UNCONFINED : X_NEEDS_PROFILE;
	}
	return unconfined ? X_UNCONFINED : X_INHERIT;
}

static struct judgement judge(const struct aapolicy *pol, const char *profile, const char *path,
			      const struct loaded_list *loaded)
{
	const struct aarule *deny, *allow;

	find_rule(pol, path, &deny, &allow);
	if (deny)
		return (struct judgement){ X_DENIED, deny };
	if (!allow)
		return (struct judgement){ X_DENIED, NULL };
	return (struct judgement){ rule_mode(allow, profile, path, loaded), allow };
}

static void set_rule(struct hookd_aa_result *res, const struct aarule *r)
{
	free(res->rule);
	free(res->rule_file);
	res->rule = r ? xstrdup(r->text) : NULL;
	res->rule_file = r ? xstrdup(r->file) : NULL;
	res->rule_line = r ? r->line : 0;
}

/* "`RULE,` (FILE:LINE)", as messages cite a rule. */
static char *rule_ref(const struct aarule *r)
{
	return xasprintf("`%s` (%s:%u)", r->text, r->file, r->line);
}

/* Why exec of path fails, for the message: the deny rule, the rule that needs a profile, or none. */
static char *why_denied(const struct judgement *j, const char *source)
{
	_cleanup_free_ char *ref = j->rule ? rule_ref(j->rule) : NULL;

	if (!j->rule)
		return xasprintf("no exec rule of %s matches it", source);
	if (j->mode == X_NEEDS_PROFILE)
		return xasprintf("rule %s sends it to a profile of its own, and none is loaded", ref);
	return xasprintf("rule %s forbids it", ref);
}

static const char *how_runs(enum xmode m)
{
	switch (m) {
	case X_UNCONFINED: return "unconfined";
	case X_PROFILE: return "under its own profile";
	default: return "inside libvirt's profile";
	}
}

/* What to do: move the hook where the stock rules allow it, or (the admin's call, never ours: the
 * file is theirs) a local rule for the refused path's directory. A deny rule no local rule overrides. */
static char *fix_text(const struct hookd_aa_result *res, bool deny_rule)
{
	_cleanup_free_ char *dir = xstrdup(res->denied_path);
	_cleanup_free_ char *esc = xmalloc(2 * strlen(dir) + 1);
	const char *base = strrchr(res->source, '/') + 1;
	char *slash = strrchr(dir, '/'), *o = esc;

	*slash = '\0';
	for (const char *p = dir; *p; p++) {
		if (strchr("*?[]{}@\\,", *p))
			*o++ = '\\';
		*o++ = *p;
	}
	*o = '\0';
	if (deny_rule)
		return xstrdup(
			"reinstall hookd with its hook in /usr/sbin (/usr/sbin/hookd-qemu beside /usr/sbin/hookd-apply, "
			"which the stock rule `/usr/sbin/* PUx,` allows) and run `hookd install --reload`; "
			"no local rule can override a deny rule");
	return xasprintf(
		"reinstall hookd with its hook in /usr/sbin (/usr/sbin/hookd-qemu beside /usr/sbin/hookd-apply, "
		"which the stock rule `/usr/sbin/* PUx,` allows) and run `hookd install --reload`; or, as the "
		"administrator, add the rule `%s/* PUx,` to " AA_POLICY_DIR "/local/%s and run "
		"`apparmor_parser -r %s`",
		esc, base, res->source);
}

/* The exec of path is refused (or, in complain mode, would be): verdict, message and fix. */
static void set_denied(struct hookd_aa_result *res, const char *path, const struct judgement *j, const char *what,
		       const char *effect)
{
	bool complain = strcmp(res->mode, "complain") == 0;
	_cleanup_free_ char *why = why_denied(j, res->source);

	res->verdict = complain ? HOOKD_AA_COMPLAIN : HOOKD_AA_DENIED;
	res->denied_path = xstrdup(path);
	set_rule(res, j->rule);
	if (complain)
		res->message = xasprintf("%s's AppArmor profile is in complain mode: it would deny exec of %s%s (%s); "
					 "it only logs that now, and %s once it enforces",
					 res->profile, path, what, why, effect);
	else
		res->message = xasprintf("%s's AppArmor profile (%s) denies exec of %s%s: %s; %s", res->profile,
					 res->mode, path, what, why, effect);
	res->fix = fix_text(res, j->rule && j->rule->deny);
}

/* ix ran the hook inside the profile: hookd-apply, beside the resolved hook, must be allowed too. */
static void judge_worker(struct hookd_aa_result *res, const struct aapolicy *pol, const struct loaded_list *loaded,
			 const char *root, const char *front_ref)
{
	_cleanup_free_ char *dir = xstrdup(res->resolved), *worker = NULL, *wres = NULL, *what = NULL, *ref = NULL;
	struct judgement w;

	*strrchr(dir, '/') = '\0';
	worker = xasprintf("%s/" AA_WORKER, dir);
	wres = resolve_in_root(root, worker);
	if (!sysfs_exists(root, wres)) {
		/* not hookd's front (a foreign hook, or hookd without its worker): nothing more to judge */
		res->verdict = HOOKD_AA_ALLOWED;
		res->message = xasprintf("%s's AppArmor profile (%s) lets libvirt exec %s: rule %s runs it inside the "
					 "profile (there is no %s beside it to judge)",
					 res->profile, res->mode, res->resolved, front_ref, AA_WORKER);
		return;
	}
	w = judge(pol, res->profile, wres, loaded);
	if (w.mode == X_DENIED || w.mode == X_NEEDS_PROFILE) {
		what = xasprintf(", hookd's worker (rule %s runs the hook %s inside %s's profile, which then judges "
				 "what the hook execs)",
				 front_ref, res->resolved, res->profile);
		set_denied(res, wres, &w, what, "every start of a VM with an INI file fails");
		return;
	}
	ref = rule_ref(w.rule);
	res->verdict = HOOKD_AA_ALLOWED;
	res->message = xasprintf("%s's AppArmor profile (%s) lets libvirt exec %s: rule %s runs it inside the profile, "
				 "and rule %s runs hookd's worker %s %s",
				 res->profile, res->mode, res->resolved, front_ref, ref, wres, how_runs(w.mode));
}

static void judge_hook(struct hookd_aa_result *res, const struct aapolicy *pol, const struct loaded_list *loaded,
		       const char *root)
{
	struct judgement j = judge(pol, res->profile, res->resolved, loaded);
	_cleanup_free_ char *what = NULL, *ref = NULL;

	if (strcmp(res->hook, res->resolved) != 0)
		what = xasprintf(" (what %s resolves to)", res->hook);
	if (j.mode == X_DENIED || j.mode == X_NEEDS_PROFILE) {
		set_denied(res, res->resolved, &j, what ? what : "", "every VM start fails with \"Permission denied\"");
		return;
	}
	set_rule(res, j.rule);
	ref = rule_ref(j.rule);
	if (j.mode == X_INHERIT) {
		judge_worker(res, pol, loaded, root, ref);
		return;
	}
	res->verdict = HOOKD_AA_ALLOWED;
	res->message = xasprintf("%s's AppArmor profile (%s) lets libvirt exec %s%s: rule %s runs it %s", res->profile,
				 res->mode, res->resolved, what ? what : "", ref, how_runs(j.mode));
}

/* Lists what the verdict may have missed: includes that could not be read. */
static void note_missing(struct hookd_aa_result *res, const struct aapolicy *pol)
{
	char *m;

	if (pol->n_missing == 0 || res->verdict < HOOKD_AA_COMPLAIN)
		return;
	m = xasprintf("%s (not read: %s%s)", res->message, pol->missing[0], pol->n_missing > 1 ? ", ..." : "");
	free(res->message);
	res->message = m;
}

static void check_profile(const char *root, const struct loaded *lp, const struct loaded_list *loaded,
			  struct hookd_aa_result *res)
{
	_cleanup_free_ char *file = xasprintf("usr.sbin.%s", daemon_of(lp->name));
	struct aapolicy *pol = NULL;
	struct err e;

	res->profile = xstrdup(lp->name);
	res->mode = xstrdup(lp->mode);
	res->source = xasprintf(AA_POLICY_DIR "/%s", file);
	if (strcmp(lp->mode, "unconfined") == 0) {
		res->verdict = HOOKD_AA_NOT_CONFINED;
		res->message =
			xasprintf("%s's AppArmor profile is loaded in unconfined mode: it confines nothing", lp->name);
		return;
	}
	if (aapolicy_load(root, AA_POLICY_DIR, file, lp->name, &pol, &e) < 0 || !pol->found) {
		res->verdict = HOOKD_AA_UNKNOWN;
		res->message =
			xasprintf("%s's AppArmor profile (%s) is loaded, but %s: cannot verify that libvirt may "
				  "exec %s",
				  lp->name, lp->mode, pol ? "its source does not define it" : e.msg, res->resolved);
		aapolicy_free(pol);
		return;
	}
	judge_hook(res, pol, loaded, root);
	note_missing(res, pol);
	aapolicy_free(pol);
}

/* The single result when no daemon profile is loaded: why nothing confines the hook. */
static void nothing_loaded(struct hookd_aa_result *res, int r, const char *root)
{
	if (r == -ENOENT) {
		res->verdict = HOOKD_AA_NOT_CONFINED;
		res->message = xstrdup("not confined: AppArmor is not active (no " AA_PROFILES ")");
	} else if (r < 0) {
		res->verdict = HOOKD_AA_UNKNOWN;
		res->message = xasprintf("cannot read %s%s: %s: cannot verify that AppArmor lets libvirt exec %s",
					 strcmp(root, "/") ? root : "", AA_PROFILES, strerror(-r), res->resolved);
	} else {
		res->verdict = HOOKD_AA_NOT_CONFINED;
		res->message =
			xstrdup("not confined: AppArmor is active, but no libvirtd or virtqemud profile is loaded");
	}
}

/* Appends a result about hook to the report. */
static struct hookd_aa_result *result_new(struct hookd_aa_report *rep, const char *root, const char *hook)
{
	struct hookd_aa_result *res;

	rep->results = xrealloc(rep->results, (rep->n + 1) * sizeof(*rep->results));
	res = &rep->results[rep->n++];
	*res = (struct hookd_aa_result){ .hook = xstrdup(hook), .resolved = resolve_in_root(root, hook) };
	return res;
}

void hookd_aa_check(const char *root, const char *hook, struct hookd_aa_report *out)
{
	struct loaded_list loaded;
	int r = read_loaded(root, &loaded);

	*out = (struct hookd_aa_report){ 0 };
	for (size_t i = 0; i < loaded.n; i++)
		if (daemon_of(loaded.v[i].name))
			check_profile(root, &loaded.v[i], &loaded, result_new(out, root, hook));
	if (out->n == 0)
		nothing_loaded(result_new(out, root, hook), r, root);
	for (size_t i = 0; i < out->n; i++)
		if (out->results[i].verdict > out->results[out->worst].verdict)
			out->worst = i;
	loaded_free(&loaded);
}

void hookd_aa_report_free(struct hookd_aa_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct hookd_aa_result *res = &r->results[i];

		free(res->profile);
		free(res->mode);
		free(res->source);
		free(res->hook);
		free(res->resolved);
		free(res->denied_path);
		free(res->rule);
		free(res->rule_file);
		free(res->message);
		free(res->fix);
	}
	free(r->results);
	*r = (struct hookd_aa_report){ 0 };
}

const char *hookd_aa_verdict_name(enum hookd_aa_verdict v)
{
	static const char *const names[] = {
		[HOOKD_AA_NOT_CONFINED] = "not confined",
		[HOOKD_AA_ALLOWED] = "allowed",
		[HOOKD_AA_UNKNOWN] = "cannot verify",
		[HOOKD_AA_COMPLAIN] = "complain",
		[HOOKD_AA_DENIED] = "denied",
	};

	return (size_t)v < ARRAY_SIZE(names) ? names[v] : "?";
}
