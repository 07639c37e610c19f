/* [cpus]: keep the host off the VM's CPUs while it runs, and give everything back on release.
 * The host's cgroup v2 slices get `cpuset.cpus` (Documentation/admin-guide/cgroup-v2.rst), IRQs
 * their affinity (Documentation/core-api/irq/irq-affinity.rst), unbound workqueues their cpumask;
 * the VM's CPUs get a scaling governor. Every file here is shared by all running VMs: the value
 * written is the intersection of every holder's host set, the first holder keeps the original
 * (shared_baseline) and the last one restores it exactly, read back from the live file. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "plan.h"
#include "shared.h"
#include "sysfs.h"

extern const struct action_ops action_cpus;

#define CGROUP "/sys/fs/cgroup"
#define SUBTREE CGROUP "/cgroup.subtree_control"
#define IRQ_DEFAULT "/proc/irq/default_smp_affinity"
#define WQ_MASK "/sys/devices/virtual/workqueue/cpumask"

static const char *const host_cgroups[] = { "system.slice", "user.slice", "init.scope" };

/* Step ops: what kind of file the target is. */
#define OP_CONTROLLER "controller" /* cgroup.subtree_control: "+cpuset" */
#define OP_LIST "cpulist"          /* "0-3,8" files: cpuset.cpus, smp_affinity_list */
#define OP_MASK "cpumask"          /* hex masks: default_smp_affinity, workqueue cpumask */
#define OP_GOVERNOR "governor"

struct cpus_conf {
	bool has_host, host_auto;
	struct cpuset host;
	bool irqs, workqueues;
	char *governor;
};

static void cpus_init(void *data)
{
	(void)data; /* all off: zeroed by the loader */
}

static void cpus_free(void *data)
{
	free(((struct cpus_conf *)data)->governor);
}

static int cpus_set(void *data, const char *key, const char *value, struct err *e)
{
	struct cpus_conf *c = data;

	if (!strcmp(key, "irqs"))
		return parse_bool(value, &c->irqs, e);
	if (!strcmp(key, "workqueues"))
		return parse_bool(value, &c->workqueues, e);
	if (!strcmp(key, "governor")) {
		if (!value[0] || strlen(value) > 32 ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(value))
			return err_set(e, -EINVAL, "'%s' is not a governor name (e.g. performance, schedutil)", value);
		free(c->governor);
		c->governor = xstrdup(value);
		return 0;
	}
	if (strcmp(key, "host") != 0)
		return -ENOENT;
	c->has_host = true;
	c->host_auto = !strcmp(value, "auto");
	if (!c->host_auto && (cpuset_parse(value, &c->host) < 0 || cpuset_empty(&c->host)))
		return err_set(e, -EINVAL, "'%s' is not a CPU list (e.g. 0-1,8-9) or auto", value);
	return 0;
}

static int cpus_finish(void *data, struct err *e)
{
	const struct cpus_conf *c = data;

	if ((c->irqs || c->workqueues) && !c->has_host)
		return err_set(e, -EINVAL, "%s = yes needs host = (the CPUs to move them to)",
			       c->irqs ? "irqs" : "workqueues");
	return 0;
}

/* ---- CPU sets and their two text forms ---- */

/* Number of bits the kernel prints masks with: nr_cpu_ids, the highest possible CPU + 1. */
static unsigned mask_bits(const char *root)
{
	_cleanup_free_ char *s = NULL;
	struct cpuset possible;
	unsigned n = 0;

	if (sysfs_read(root, "/sys/devices/system/cpu/possible", &s) == 0 && cpuset_parse(s, &possible) == 0)
		for (unsigned c = 0; c < CPUSET_MAX; c++)
			if (cpuset_has(&possible, c))
				n = c + 1;
	return n;
}

static bool is_mask_op(const char *op)
{
	return !strcmp(op, OP_MASK);
}

static int parse_any(const char *op, const char *s, struct cpuset *out)
{
	return is_mask_op(op) ? cpuset_parse_mask(s, out) : cpuset_parse(s, out);
}

/* ---- planning ---- */

static int read_set(const char *root, const char *abs, struct cpuset *out, struct err *e)
{
	_cleanup_free_ char *s = NULL;
	int r = sysfs_read(root, abs, &s);

	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", abs, strerror(-r));
	if (cpuset_parse(s, out) < 0)
		return err_set(e, -EINVAL, "%s: unexpected content '%s'", abs, s);
	return 0;
}

/* Refuses CPUs this host does not have (not possible, or offline), naming them, before anything changes. */
static int check_on_host(const struct cpuset *s, const struct cpuset *possible, const struct cpuset *online,
			 const char *what, struct err *e)
{
	bool gone = false;
	struct cpuset bad = *s;

	cpuset_andnot(&bad, possible);
	if (cpuset_empty(&bad)) {
		bad = *s;
		cpuset_andnot(&bad, online);
	} else {
		gone = true;
	}
	if (cpuset_empty(&bad))
		return 0;
	bool many = cpuset_count(&bad) > 1;
	_cleanup_free_ char *b = cpuset_to_list(&bad), *have = cpuset_to_list(gone ? possible : online);

	if (gone)
		return err_set(e, -EINVAL, "%s: CPU%s %s do%s not exist on this host (possible: %s)", what,
			       many ? "s" : "", b, many ? "" : "es", have);
	return err_set(e, -EINVAL, "%s: CPU%s %s %s offline (online: %s)", what, many ? "s" : "", b,
		       many ? "are" : "is", have);
}

struct topo {
	struct cpuset online, possible, pinned, host, vm;
	bool has_pins;
};

/* The host's CPUs and the VM's: host = the listed ones, or (auto) the online ones the XML does not pin to. */
static int resolve_cpus(const struct action_ctx *ctx, const struct cpus_conf *c, struct topo *t, struct err *e)
{
	const char *root = ctx->conf->root;
	const struct domain *d = ctx->dom;
	int r = read_set(root, "/sys/devices/system/cpu/online", &t->online, e);

	if (r == 0)
		r = read_set(root, "/sys/devices/system/cpu/possible", &t->possible, e);
	if (r < 0)
		return r;
	cpuset_clear(&t->pinned);
	for (size_t i = 0; d && i < d->n_vcpupins; i++)
		for (unsigned k = 0; k < CPUSET_MAX / 64; k++)
			t->pinned.bits[k] |= d->vcpupins[i].cpus.bits[k];
	t->vm = t->pinned;
	for (unsigned k = 0; d && d->has_emulatorpin && k < CPUSET_MAX / 64; k++)
		t->pinned.bits[k] |= d->emulatorpin.bits[k];
	t->has_pins = !cpuset_empty(&t->pinned);
	r = check_on_host(&t->pinned, &t->possible, &t->online, "the domain XML pins to", e);
	if (r < 0 || !c->has_host)
		return r;
	if (c->host_auto) {
		if (!t->has_pins)
			return err_set(
				e, -EINVAL,
				"host = auto needs <vcpupin>/<emulatorpin> in the domain XML; or list the host's CPUs (host = 0-1)");
		t->host = t->online;
		cpuset_andnot(&t->host, &t->pinned);
		if (cpuset_empty(&t->host))
			return err_set(
				e, -EINVAL,
				"host = auto leaves no CPU to the host: the XML pins the VM to every online CPU");
	} else {
		_cleanup_free_ char *l = cpuset_to_list(&c->host), *what = xasprintf("host = %s", l);

		t->host = c->host;
		r = check_on_host(&t->host, &t->possible, &t->online, what, e);
		if (r < 0)
			return r;
	}
	if (cpuset_empty(&t->vm)) {
		t->vm = t->online;
		cpuset_andnot(&t->vm, &t->host);
	}
	return 0;
}

struct meet {
	const char *op;
	struct cpuset set;
	const char *value; /* a governor another VM holds */
};

static void meet_other(const struct held_step *h, void *arg)
{
	struct meet *m = arg;
	struct cpuset s;

	m->value = h->rec.value;
	if (strcmp(m->op, OP_GOVERNOR) != 0 && cpuset_parse(h->rec.value, &s) == 0)
		cpuset_and(&m->set, &s);
}

/* One shared step on a CPU-set file; `now` is its live content, shown in the description. The
 * journal keeps this VM's set (the step's value); the file gets what every running VM leaves to
 * the host, the intersection with the other VMs' sets, exactly as cpus_apply computes it, and no
 * write when it holds that already (write_set skips it too). */
static int plan_file(const struct action_ctx *ctx, struct plan *p, const char *op, const char *abs,
		     const struct cpuset *host, const char *what, const char *note, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *now = NULL, *list = cpuset_to_list(host), *path = sysfs_path(root, "%s", abs);
	_cleanup_free_ char *val = NULL;
	struct meet m = { op, *host, NULL };
	struct cpuset cur;
	struct step *st;
	bool same;

	shared_for_each(ctx, action_cpus.name, abs, meet_other, &m);
	if (cpuset_empty(&m.set))
		return err_set(e, -EBUSY,
			       "%s: no CPU left to the host: this VM leaves %s, the other running VMs take the rest",
			       abs, list);
	val = is_mask_op(op) ? cpuset_to_mask(&m.set, mask_bits(root)) : cpuset_to_list(&m.set);
	if (sysfs_read(root, abs, &now) < 0)
		now = xstrdup("(not there yet)");
	same = parse_any(op, now, &cur) == 0 && cpuset_equal(&cur, &m.set);
	st = plan_add(p, &action_cpus, op, abs, list,
		      xasprintf("%s: '%s' -> %s%s%s", what, now, val,
				cpuset_equal(&m.set, host) ? "" : " (what the other running VMs leave too)",
				same   ? " (already so: nothing to write)"
				: note ? note
				       : ""));
	st->shared = true;
	if (!same)
		step_add_write(st, path, val);
	return 0;
}

static int plan_cgroups(const struct action_ctx *ctx, const struct topo *t, struct plan *p, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *ctrl = NULL, *sub = NULL, *subpath = sysfs_path(root, SUBTREE);
	_cleanup_free_ char *note = NULL, *hl = cpuset_to_list(&t->host);
	bool any = false, enabled, systemd;
	struct step *st;
	int r;

	if (sysfs_read(root, CGROUP "/cgroup.controllers", &ctrl) < 0)
		return err_set(e, -ENOENT,
			       "no cgroup v2 hierarchy at %s (cgroup.controllers missing): host = needs cgroup v2",
			       CGROUP);
	if (!strstr(ctrl, "cpuset"))
		return err_set(
			e, -ENOTSUP,
			"the cpuset controller is not available in cgroup v2 (%s/cgroup.controllers: %s); is it bound to a cgroup v1 hierarchy?",
			CGROUP, ctrl);
	if (sysfs_read(root, SUBTREE, &sub) < 0)
		sub = xstrdup("");
	enabled = strstr(sub, "cpuset") != NULL;
	/* Every holder journals the controller, so the first VM out does not disable it under another. */
	st = plan_add(p, &action_cpus, OP_CONTROLLER, SUBTREE, "cpuset",
		      xasprintf("cgroup v2: cpuset controller for the host's slices%s",
				enabled ? " already enabled: nothing to do"
					: " (enabled now, disabled again by the last VM out)"));
	st->shared = true;
	if (!enabled)
		step_add_write(st, subpath, "+cpuset");
	systemd = sysfs_exists(root, "/run/systemd/system");
	note = xasprintf(
		" (the host's CPUs; while other VMs run, only those all of them leave to the host. Release writes back"
		" the old value; an empty one, which a cgroup with tasks cannot get back, as its parent's effective CPUs)%s%s%s",
		systemd ? "; systemd runs here: its way is `systemctl set-property --runtime <slice> AllowedCPUs=" : "",
		systemd ? hl : "", systemd ? "`, but hookd writes the live file, which is what takes effect" : "");
	for (size_t i = 0; i < ARRAY_SIZE(host_cgroups); i++) {
		_cleanup_free_ char *dir = xasprintf("%s/%s", CGROUP, host_cgroups[i]);
		_cleanup_free_ char *file = xasprintf("%s/cpuset.cpus", dir),
				    *what = xasprintf("%s cpuset.cpus", host_cgroups[i]);

		if (!sysfs_exists(root, dir))
			continue;
		r = plan_file(ctx, p, OP_LIST, file, &t->host, what, any ? NULL : note, e);
		if (r < 0)
			return r;
		any = true;
	}
	if (!any)
		return err_set(e, -ENOENT,
			       "none of system.slice, user.slice, init.scope exists in %s: no host cgroup to confine",
			       CGROUP);
	return 0;
}

/* IRQs in numeric order; names that are not numbers last. */
static int cmp_irq(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	size_t lx = strspn(x, "0123456789"), ly = strspn(y, "0123456789");

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

static int plan_irqs(const struct action_ctx *ctx, const struct topo *t, struct plan *p, struct err *e)
{
	const char *root = ctx->conf->root;
	char **names;
	size_t n;
	int r = sysfs_list(root, "/proc/irq", &names, &n);

	if (r < 0)
		return err_set(e, r, "cannot list /proc/irq: %s", strerror(-r));
	r = plan_file(ctx, p, OP_MASK, IRQ_DEFAULT, &t->host, "default IRQ affinity",
		      " (then every IRQ's; managed and per-CPU IRQs refuse with EIO and stay as they are)", e);
	qsort(names, n, sizeof(*names), cmp_irq);
	for (size_t i = 0; r == 0 && i < n; i++) {
		_cleanup_free_ char *abs = xasprintf("/proc/irq/%s/smp_affinity_list", names[i]);
		_cleanup_free_ char *what = xasprintf("IRQ %s affinity", names[i]);

		if (strspn(names[i], "0123456789") != strlen(names[i]) || !sysfs_exists(root, abs))
			continue;
		r = plan_file(ctx, p, OP_LIST, abs, &t->host, what, NULL, e);
	}
	sysfs_list_free(names, n);
	return r;
}

static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *s = strstr(list, word); s; s = strstr(s + 1, word))
		if ((s == list || s[-1] == ' ') && (s[n] == '\0' || s[n] == ' ' || s[n] == '\n'))
			return true;
	return false;
}

/* As cpus_apply: refused when another running VM keeps another governor there; no write when the
 * CPU has it already. */
static int plan_one_governor(const struct action_ctx *ctx, const char *gov, unsigned cpu, const char *abs,
			     const char *now, struct plan *p, struct err *e)
{
	_cleanup_free_ char *path = sysfs_path(ctx->conf->root, "%s", abs);
	struct meet m = { OP_GOVERNOR, { { 0 } }, NULL };
	struct step *st;

	shared_for_each(ctx, action_cpus.name, abs, meet_other, &m);
	if (m.value && strcmp(m.value, gov) != 0)
		return err_set(e, -EBUSY, "%s: another running VM keeps governor %s there, this VM wants %s", abs,
			       m.value, gov);
	st = plan_add(p, &action_cpus, OP_GOVERNOR, abs, gov,
		      xasprintf("CPU %u scaling governor: %s -> %s%s", cpu, now, gov,
				strcmp(now, gov) ? "" : " (already so: nothing to write)"));
	st->shared = true;
	if (strcmp(now, gov) != 0)
		step_add_write(st, path, gov);
	return 0;
}

static int plan_governor(const struct action_ctx *ctx, const struct cpus_conf *c, const struct topo *t, struct plan *p,
			 struct err *e)
{
	const char *root = ctx->conf->root;

	if (cpuset_empty(&t->vm))
		return err_set(e, -EINVAL,
			       "governor = %s: which CPUs are the VM's? pin vCPUs in the XML (<vcpupin>) or set host =",
			       c->governor);
	for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) {
		_cleanup_free_ char *abs = xasprintf("/sys/devices/system/cpu/cpu%u/cpufreq/scaling_governor", cpu);
		_cleanup_free_ char *avail = NULL, *now = NULL;
		_cleanup_free_ char *availp =
			xasprintf("/sys/devices/system/cpu/cpu%u/cpufreq/scaling_available_governors", cpu);
		int r;

		if (!cpuset_has(&t->vm, cpu))
			continue;
		if (sysfs_read(root, abs, &now) < 0 || sysfs_read(root, availp, &avail) < 0)
			return err_set(e, -ENOENT, "governor = %s: CPU %u has no cpufreq governor (%s missing)",
				       c->governor, cpu, abs);
		if (!has_word(avail, c->governor))
			return err_set(e, -EINVAL, "governor = %s is not available on CPU %u (available: %s)",
				       c->governor, cpu, avail);
		r = plan_one_governor(ctx, c->governor, cpu, abs, now, p, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cpus_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct cpus_conf *c = data;
	struct topo t;
	int r;

	if (phase != PHASE_PREPARE)
		return 0;
	r = resolve_cpus(ctx, c, &t, e);
	if (r == 0 && c->has_host)
		r = plan_cgroups(ctx, &t, p, e);
	if (r == 0 && c->irqs)
		r = plan_irqs(ctx, &t, p, e);
	if (r == 0 && c->workqueues)
		r = plan_file(ctx, p, OP_MASK, WQ_MASK, &t.host, "unbound workqueue cpumask", NULL, e);
	if (r == 0 && c->governor)
		r = plan_governor(ctx, c, &t, p, e);
	return r;
}

/* ---- acting ---- */

static int cpus_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	int r = sysfs_read(ctx->conf->root, st->target, saved);

	if (r == -ENOENT && !strncmp(st->target, "/proc/irq/", 10)) {
		*saved = xstrdup(""); /* the IRQ went away since the plan: nothing to save */
		return 0;
	}
	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", st->target, strerror(-r));
	return 0;
}

static bool irq_refused(const char *target, int r)
{
	return !strncmp(target, "/proc/irq/", 10) && (r == -EIO || r == -ENOENT);
}

static int write_set(const struct action_ctx *ctx, const char *op, const char *target, const struct cpuset *want,
		     const char *text, struct err *e);

/* An empty cpuset.cpus (follow the parent) cannot be written back while the cgroup has tasks: the
 * kernel refuses with ENOSPC (cpuset.c validate_change), which is also why resetting systemd's
 * AllowedCPUs= can leave the live file as it is. The nearest value is the parent's effective CPUs:
 * the same CPUs, listed. */
static int restore_empty_cpuset(const struct action_ctx *ctx, const char *target, struct err *e)
{
	_cleanup_free_ char *dir = xstrdup(target), *parent = NULL, *list = NULL;
	struct cpuset want;
	int r;

	*strrchr(dir, '/') = '\0'; /* the cgroup */
	*strrchr(dir, '/') = '\0'; /* its parent */
	parent = xasprintf("%s/cpuset.cpus.effective", dir);
	r = read_set(ctx->conf->root, parent, &want, e);
	if (r < 0)
		return r;
	list = cpuset_to_list(&want);
	log_info(
		"%s was empty (the parent's CPUs) and the kernel refuses to empty it while the cgroup has tasks (ENOSPC): set to the parent's effective CPUs %s, the same set",
		target, list);
	return write_set(ctx, OP_LIST, target, &want, NULL, e);
}

/* Writes a CPU set in the file's own form and reads it back: the live file is the truth. */
static int write_set(const struct action_ctx *ctx, const char *op, const char *target, const struct cpuset *want,
		     const char *text, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *val = text             ? xstrdup(text)
				   : is_mask_op(op) ? cpuset_to_mask(want, mask_bits(root))
						    : cpuset_to_list(want);
	_cleanup_free_ char *back = NULL, *wl = NULL;
	struct cpuset got;
	int r;

	if (sysfs_read(root, target, &back) == 0 && parse_any(op, back, &got) == 0 && cpuset_equal(&got, want))
		return 0; /* already so (a rollback of a write that never happened): no write */
	free(back), back = NULL;
	r = sysfs_write(root, target, val[0] ? val : "\n");

	if (irq_refused(target, r))
		return 0;
	if (r == -ENOSPC && cpuset_empty(want) && strstr(target, "/cpuset.cpus"))
		return restore_empty_cpuset(ctx, target, e);
	if (r < 0)
		return err_set(e, r, "cannot write '%s' to %s: %s", val, target, strerror(-r));
	r = sysfs_read(root, target, &back);
	if (r < 0)
		return err_set(e, r, "cannot read back %s: %s", target, strerror(-r));
	if (parse_any(op, back, &got) < 0 || !cpuset_equal(&got, want))
		return wl = cpuset_to_list(want),
		       err_set(e, -EIO, "%s reads '%s' after writing '%s' (CPUs %s)", target, back, val, wl);
	return 0;
}

static int write_gov(const struct action_ctx *ctx, const char *target, const char *gov, struct err *e)
{
	_cleanup_free_ char *back = NULL;
	int r;

	if (sysfs_read(ctx->conf->root, target, &back) == 0 && !strcmp(back, gov))
		return 0;
	free(back), back = NULL;
	r = sysfs_write(ctx->conf->root, target, gov);

	if (r < 0)
		return err_set(e, r, "cannot set %s to %s: %s", target, gov, strerror(-r));
	r = sysfs_read(ctx->conf->root, target, &back);
	if (r < 0)
		return err_set(e, r, "cannot read back %s: %s", target, strerror(-r));
	if (strcmp(back, gov) != 0)
		return err_set(e, -EIO, "%s reads '%s' after writing '%s'", target, back, gov);
	return 0;
}

static int apply_controller(const struct action_ctx *ctx, const struct step *st, struct err *e)
{
	_cleanup_free_ char *now = NULL, *base = NULL;
	int r = sysfs_read(ctx->conf->root, st->target, &now);

	if (r == 0)
		r = shared_baseline(ctx, action_cpus.name, st->target, now, &base, e);
	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", st->target, strerror(-r));
	if (has_word(now, "cpuset"))
		return 0;
	r = sysfs_write(ctx->conf->root, st->target, "+cpuset");
	free(now), now = NULL;
	if (r == 0)
		r = sysfs_read(ctx->conf->root, st->target, &now);
	if (r < 0 || !has_word(now, "cpuset"))
		return err_set(e, r < 0 ? r : -EIO, "cannot enable the cpuset controller in %s: %s", st->target,
			       r < 0 ? strerror(-r) : "not listed after writing +cpuset");
	return 0;
}

static int cpus_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	const char *root = ctx->conf->root;
	_cleanup_free_ char *now = NULL, *base = NULL;
	struct meet m = { st->op, { { 0 } }, NULL };
	int r;

	(void)saved;
	if (!strcmp(st->op, OP_CONTROLLER))
		return apply_controller(ctx, st, e);
	r = sysfs_read(root, st->target, &now);
	if (irq_refused(st->target, r))
		return 0;
	if (r == 0)
		r = shared_baseline(ctx, action_cpus.name, st->target, now, &base, e);
	if (r < 0)
		return err_set(e, r, "cannot read %s: %s", st->target, strerror(-r));
	if (!strcmp(st->op, OP_GOVERNOR)) {
		shared_for_each(ctx, action_cpus.name, st->target, meet_other, &m);
		if (m.value && strcmp(m.value, st->value) != 0)
			return err_set(e, -EBUSY, "%s: another running VM keeps governor %s there, this VM wants %s",
				       st->target, m.value, st->value);
		return write_gov(ctx, st->target, st->value, e);
	}
	if (cpuset_parse(st->value, &m.set) < 0)
		return err_set(e, -EINVAL, "bad CPU list '%s' in step", st->value);
	shared_for_each(ctx, action_cpus.name, st->target, meet_other, &m);
	if (cpuset_empty(&m.set))
		return err_set(e, -EBUSY,
			       "%s: no CPU left to the host: this VM leaves %s, the other running VMs take the rest",
			       st->target, st->value);
	return write_set(ctx, st->op, st->target, &m.set, NULL, e);
}

static int revert_controller(const struct action_ctx *ctx, const char *target, const char *base, struct err *e)
{
	_cleanup_free_ char *now = NULL;
	int r;

	if (has_word(base, "cpuset") || sysfs_read(ctx->conf->root, target, &now) < 0 || !has_word(now, "cpuset"))
		return 0;
	r = sysfs_write(ctx->conf->root, target, "-cpuset");
	if (r < 0)
		return err_set(e, r, "cannot disable the cpuset controller again in %s: %s%s", target, strerror(-r),
			       r == -EBUSY ? " (a cgroup below uses it)" : "");
	return 0;
}

static int cpus_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	_cleanup_free_ char *base = NULL;
	struct meet m = { rec->op, { { 0 } }, NULL };
	struct cpuset s;
	int r;

	if (shared_held_by_others(ctx, action_cpus.name, rec->target)) {
		if (!strcmp(rec->op, OP_CONTROLLER))
			return 0;
		memset(m.set.bits, 0xff, sizeof(m.set.bits));
		shared_for_each(ctx, action_cpus.name, rec->target, meet_other, &m);
		if (!strcmp(rec->op, OP_GOVERNOR))
			return write_gov(ctx, rec->target, m.value, e);
		return write_set(ctx, rec->op, rec->target, &m.set, NULL, e);
	}
	/* The last holder: back to what the first one found (or, when it never recorded, to what we found). */
	r = shared_baseline(ctx, action_cpus.name, rec->target, rec->saved, &base, e);
	if (r < 0)
		return r;
	if (!strcmp(rec->op, OP_CONTROLLER))
		r = revert_controller(ctx, rec->target, base, e);
	else if (!strcmp(rec->op, OP_GOVERNOR))
		r = base[0] ? write_gov(ctx, rec->target, base, e) : 0;
	else if (parse_any(rec->op, base, &s) < 0)
		r = err_set(e, -EINVAL, "%s: bad saved value '%s'", rec->target, base);
	else if (base[0] || strncmp(rec->target, "/proc/irq/", 10) != 0)
		r = write_set(ctx, rec->op, rec->target, &s, base, e);
	return r; /* the baseline goes once the journal no longer holds this record (shared_leftovers) */
}

const struct action_ops action_cpus = {
	.name = "cpus",
	.data_size = sizeof(struct cpus_conf),
	.init = cpus_init,
	.set = cpus_set,
	.finish = cpus_finish,
	.free_data = cpus_free,
	.plan = cpus_plan,
	.observe = cpus_observe,
	.apply = cpus_apply,
	.revert = cpus_revert,
};
