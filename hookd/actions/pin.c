/* [pin]: at 'started', pin QEMU's vCPU threads ("CPU n/KVM", "CPU n/TCG") one by one and its other
 * threads (emulator, I/O) as a group. The map comes from the domain's <vcpupin> (map = xml) or from
 * the host's CPU topology (map = auto): SMT siblings together, one L3/NUMA domain first, host CPUs
 * avoided. QEMU is found through libvirt's pid file; each thread gets sched_setaffinity(2), read
 * back from /proc/<pid>/task/<tid>/status. Release puts back the affinity each thread had while
 * QEMU still runs (`hookd restore` of a live VM); a QEMU that is gone leaves nothing to undo.
 *
 * Keys: map = auto | xml (default: xml when the domain has <vcpupin>, else auto);
 * emulator = auto | no | CPUS (auto: the domain's <emulatorpin>, else the host CPUs);
 * host = auto | CPUS, the CPUs the auto map leaves to the host (auto: the CPUs system.slice is
 * confined to, as [cpus] sets its cpuset.cpus, when that is a proper part of the online CPUs;
 * else the first core, CPU 0 and its SMT siblings). */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "cputopo.h"
#include "plan.h"
#include "sysfs.h"

extern const struct action_ops action_pin;

#define QEMU_PIDFILE "/run/libvirt/qemu/%s.pid"
#define HOST_CGROUP "/sys/fs/cgroup/system.slice/cpuset.cpus"

enum map_kind { MAP_DEFAULT, MAP_AUTO, MAP_XML };
enum emu_kind { EMU_AUTO, EMU_NO, EMU_SET };

struct pin_conf {
	enum map_kind map;
	enum emu_kind emulator;
	struct cpuset emulator_cpus;
	bool host_set;
	struct cpuset host;
};

static void pin_init(void *data)
{
	struct pin_conf *c = data;

	*c = (struct pin_conf){ .map = MAP_DEFAULT, .emulator = EMU_AUTO };
}

static int parse_cpus(const char *v, struct cpuset *out)
{
	return cpuset_parse(v, out) < 0 || cpuset_empty(out) ? -EINVAL : 0;
}

static int pin_set(void *data, const char *key, const char *value, struct err *e)
{
	struct pin_conf *c = data;

	if (strcmp(key, "map") == 0) {
		if (strcmp(value, "auto") && strcmp(value, "xml"))
			return err_set(e, -EINVAL, "expected auto or xml, got '%s'", value);
		c->map = strcmp(value, "auto") == 0 ? MAP_AUTO : MAP_XML;
	} else if (strcmp(key, "emulator") == 0) {
		c->emulator = strcmp(value, "auto") == 0 ? EMU_AUTO : strcmp(value, "no") == 0 ? EMU_NO : EMU_SET;
		if (c->emulator == EMU_SET && parse_cpus(value, &c->emulator_cpus) < 0)
			return err_set(e, -EINVAL, "expected auto, no or a CPU list (e.g. 0-1,8-9), got '%s'", value);
	} else if (strcmp(key, "host") == 0) {
		c->host_set = strcmp(value, "auto") != 0;
		if (c->host_set && parse_cpus(value, &c->host) < 0)
			return err_set(e, -EINVAL, "expected auto or a CPU list (e.g. 0,8), got '%s'", value);
	} else {
		return -ENOENT;
	}
	return 0;
}

/* ---- the host's CPUs ---- */

/* The CPUs the host keeps (see the header comment). */
static void host_cpus(const char *root, const struct pin_conf *c, const struct cpuset *online, struct cpuset *out)
{
	if (c->host_set) {
		*out = c->host;
		return;
	}
	if (cpuset_read(root, HOST_CGROUP, out) == 0 && !cpuset_empty(out) && cpuset_subset(out, online) &&
	    !cpuset_equal(out, online))
		return;
	cputopo_siblings(root, cpuset_first(online), out);
}

/* ---- the map ---- */

struct pin_map {
	unsigned n;          /* vCPUs */
	struct cpuset *vcpu; /* n sets; empty: leave that vCPU alone */
	bool has_emulator;
	struct cpuset emulator;
	char *how; /* one line: how the map was made */
};

static void map_free(struct pin_map *m)
{
	free(m->vcpu);
	free(m->how);
}

struct domain_cpus {
	struct cpuset cpus; /* still free in this domain */
	char *what;
	bool preferred; /* on a node of <numatune> */
};

static int cmp_domain(const void *a, const void *b, void *arg)
{
	const struct domain_cpus *x = a, *y = b;
	unsigned need = *(const unsigned *)arg, fx = cpuset_count(&x->cpus), fy = cpuset_count(&y->cpus);

	if (x->preferred != y->preferred)
		return x->preferred ? -1 : 1;
	if ((fx >= need) != (fy >= need))
		return fx >= need ? -1 : 1;
	if (fx != fy)
		return fx > fy ? -1 : 1;
	return cpuset_first(&x->cpus) < cpuset_first(&y->cpus) ? -1 : 1;
}

/* Splits the free CPUs into L3/NUMA domains, best first. */
static size_t split_domains(const char *root, const struct domain *dom, const struct cpuset *free_cpus, unsigned need,
			    struct domain_cpus **out)
{
	struct cpuset left = *free_cpus;
	struct domain_cpus *v = NULL;
	size_t n = 0;

	while (!cpuset_empty(&left)) {
		struct domain_cpus d;

		cputopo_domain(root, cpuset_first(&left), &d.cpus, &d.what);
		cpuset_and(&d.cpus, &left);
		cpuset_andnot(&left, &d.cpus);
		d.preferred =
			dom->has_numatune && cputopo_cpu_on_nodes(root, cpuset_first(&d.cpus), &dom->numatune_nodes);
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = d;
	}
	qsort_r(v, n, sizeof(*v), cmp_domain, &need);
	*out = v;
	return n;
}

/* Hands out one domain's CPUs core by core, whole free cores first: vCPUs 2k and 2k+1 land on the
 * two threads of one core, as the guest's own SMT topology pairs them. */
static void fill_domain(const char *root, const struct cpuset *cpus, struct pin_map *m, unsigned *next)
{
	for (int pass = 0; pass < 2; pass++) {
		struct cpuset left = *cpus;

		while (!cpuset_empty(&left) && *next < m->n) {
			struct cpuset core, avail;
			unsigned c = cpuset_first(&left);

			cputopo_siblings(root, c, &core);
			avail = core;
			cpuset_and(&avail, cpus);
			cpuset_andnot(&left, &core);
			if ((pass == 0) != cpuset_equal(&avail, &core))
				continue;
			for (unsigned t = 0; t < CPUSET_MAX && *next < m->n; t++)
				if (cpuset_has(&avail, t))
					cpuset_add(&m->vcpu[(*next)++], t);
		}
	}
}

static int map_auto(const char *root, const struct domain *dom, const struct cpuset *online, const struct cpuset *host,
		    struct pin_map *m, struct err *e)
{
	struct cpuset free_cpus = *online;
	struct domain_cpus *doms;
	_cleanup_free_ char *h = cpuset_to_list(host), *on = cpuset_to_list(online), *first = NULL;
	unsigned next = 0;
	size_t n;

	cpuset_andnot(&free_cpus, host);
	if (m->n > cpuset_count(&free_cpus))
		return err_set(
			e, -EINVAL,
			"the VM has %u vCPUs but only %u CPUs are left for it (online %s, host keeps %s): lower <vcpu> or the host set",
			m->n, cpuset_count(&free_cpus), on, h);
	n = split_domains(root, dom, &free_cpus, m->n, &doms);
	for (size_t i = 0; i < n; i++) {
		if (next < m->n)
			fill_domain(root, &doms[i].cpus, m, &next);
		if (i == 0) {
			_cleanup_free_ char *d = cpuset_to_list(&doms[i].cpus);

			first = xasprintf("%s %s", doms[i].what, d);
		}
		free(doms[i].what);
	}
	free(doms);
	m->how = xasprintf("auto: SMT siblings together, %s first, host CPUs %s avoided", first ? first : "-", h);
	return 0;
}

static int map_xml(const struct domain *dom, const struct cpuset *online, struct pin_map *m, struct err *e)
{
	_cleanup_free_ char *on = cpuset_to_list(online);

	if (dom->n_vcpupins == 0)
		return err_set(e, -EINVAL, "map = xml but the domain XML has no <cputune><vcpupin>");
	for (size_t i = 0; i < dom->n_vcpupins; i++) {
		const struct domain_vcpupin *p = &dom->vcpupins[i];

		if (p->vcpu >= m->n)
			return err_set(e, -EINVAL, "<vcpupin vcpu='%u'>: the VM has only %u vCPUs", p->vcpu, m->n);
		if (!cpuset_subset(&p->cpus, online)) {
			_cleanup_free_ char *s = cpuset_to_list(&p->cpus);

			return err_set(e, -EINVAL,
				       "<vcpupin vcpu='%u' cpuset='%s'>: not all of these CPUs are online (online: %s)",
				       p->vcpu, s, on);
		}
		m->vcpu[p->vcpu] = p->cpus;
	}
	m->how = xstrdup("xml: the domain's <vcpupin>");
	return 0;
}

static int map_build(const struct action_ctx *ctx, const struct pin_conf *c, struct pin_map *m, struct err *e)
{
	const char *root = ctx->conf->root;
	const struct domain *dom = ctx->dom;
	struct cpuset online, host;
	int r = cputopo_online(root, &online);

	if (r < 0 || cpuset_empty(&online))
		return err_set(e, r < 0 ? r : -EIO, "cannot read the online CPUs (%s%s)", root, CPUTOPO_ONLINE);
	host_cpus(root, c, &online, &host);
	*m = (struct pin_map){ .n = dom->has_vcpus ? dom->vcpus : 1 };
	m->vcpu = xcalloc(m->n, sizeof(*m->vcpu));
	if (c->map == MAP_XML || (c->map == MAP_DEFAULT && dom->n_vcpupins))
		r = map_xml(dom, &online, m, e);
	else
		r = map_auto(root, dom, &online, &host, m, e);
	if (r < 0)
		return r;
	m->has_emulator = c->emulator != EMU_NO;
	m->emulator = c->emulator == EMU_SET ? c->emulator_cpus : dom->has_emulatorpin ? dom->emulatorpin : host;
	if (m->has_emulator && !cpuset_subset(&m->emulator, &online)) {
		_cleanup_free_ char *s = cpuset_to_list(&m->emulator), *on = cpuset_to_list(&online);

		return err_set(e, -EINVAL, "emulator CPUs %s are not all online (online: %s)", s, on);
	}
	return 0;
}

/* The map as the journal keeps it: "0:4 1:12 emulator:0,8". */
static char *map_value(const struct pin_map *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&buf, &len);

	for (unsigned i = 0; i < m->n; i++) {
		_cleanup_free_ char *s = cpuset_to_list(&m->vcpu[i]);

		if (s[0])
			fprintf(f, "%s%u:%s", ftell(f) ? " " : "", i, s);
	}
	if (m->has_emulator) {
		_cleanup_free_ char *s = cpuset_to_list(&m->emulator);

		fprintf(f, "%semulator:%s", ftell(f) ? " " : "", s);
	}
	fclose(f);
	return buf;
}

/* The map in one line, and as the <cputune> a user can paste into the domain XML instead. */
static char *map_describe(const struct pin_map *m, const char *note)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = xopen_memstream(&buf, &len);

	fprintf(f, "vCPU map (%s):", m->how);
	for (unsigned i = 0; i < m->n; i++) {
		_cleanup_free_ char *s = cpuset_to_list(&m->vcpu[i]);

		fprintf(f, " %u->%s", i, s[0] ? s : "(unpinned)");
	}
	if (m->has_emulator) {
		_cleanup_free_ char *s = cpuset_to_list(&m->emulator);

		fprintf(f, "; emulator threads->%s", s);
	}
	fprintf(f, "%s\n       the same as domain XML (paste it instead of [pin]):\n       <cputune>\n", note);
	for (unsigned i = 0; i < m->n; i++) {
		_cleanup_free_ char *s = cpuset_to_list(&m->vcpu[i]);

		if (s[0])
			fprintf(f, "         <vcpupin vcpu='%u' cpuset='%s'/>\n", i, s);
	}
	if (m->has_emulator) {
		_cleanup_free_ char *s = cpuset_to_list(&m->emulator);

		fprintf(f, "         <emulatorpin cpuset='%s'/>\n", s);
	}
	fputs("       </cputune>", f);
	fclose(f);
	return buf;
}

/* ---- QEMU's threads ---- */

struct qthread {
	unsigned tid;
	int vcpu; /* -1: an emulator (or I/O) thread */
	char comm[32];
};

/* The Cpus_allowed_list of a thread, from its status file. */
static int thread_affinity(const char *root, unsigned pid, unsigned tid, struct cpuset *out)
{
	_cleanup_free_ char *p = xasprintf("/proc/%u/task/%u/status", pid, tid), *st = NULL;
	const char *l;
	int r = sysfs_read(root, p, &st);

	if (r < 0)
		return r;
	l = strstr(st, "\nCpus_allowed_list:");
	if (!l)
		return -EIO;
	l += strlen("\nCpus_allowed_list:");
	_cleanup_free_ char *v = strndup(l, strcspn(l, "\n"));
	return cpuset_parse(v, out);
}

static int cmp_thread(const void *a, const void *b)
{
	const struct qthread *x = a, *y = b;

	if ((x->vcpu < 0) != (y->vcpu < 0))
		return x->vcpu < 0 ? 1 : -1;
	if (x->vcpu != y->vcpu)
		return x->vcpu < y->vcpu ? -1 : 1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* QEMU's pid from libvirt's pid file; -ESRCH with a message when it is not running. */
static int qemu_pid(const struct action_ctx *ctx, unsigned *pid, struct err *e)
{
	_cleanup_free_ char *pf = xasprintf(QEMU_PIDFILE, ctx->vm), *v = NULL, *proc = NULL;
	unsigned long long n;
	int r = sysfs_read(ctx->conf->root, pf, &v);

	if (r < 0)
		return err_set(
			e, -ESRCH,
			"QEMU of VM '%s' not found: cannot read libvirt's pid file %s%s: %s (is the VM running?)",
			ctx->vm, ctx->conf->root, pf, strerror(-r));
	if (parse_uint(strstrip(v), &n) < 0 || n == 0 || n > 4194304)
		return err_set(e, -EINVAL, "%s%s: not a pid: '%s'", ctx->conf->root, pf, v);
	proc = xasprintf("/proc/%llu/task", n);
	if (!sysfs_exists(ctx->conf->root, proc))
		return err_set(e, -ESRCH,
			       "QEMU of VM '%s' not found: pid %llu from %s%s is not running (stale pid file)", ctx->vm,
			       n, ctx->conf->root, pf);
	*pid = (unsigned)n;
	return 0;
}

static int qemu_threads(const char *root, unsigned pid, struct qthread **out, size_t *n_out, struct err *e)
{
	_cleanup_free_ char *dir = xasprintf("/proc/%u/task", pid);
	struct qthread *v = NULL;
	size_t n = 0, n_vcpu = 0;
	char **names;
	size_t cnt;
	int r = sysfs_list(root, dir, &names, &cnt);

	if (r < 0)
		return err_set(e, r, "QEMU pid %u: cannot list %s%s: %s", pid, root, dir, strerror(-r));
	for (size_t i = 0; i < cnt; i++) {
		_cleanup_free_ char *cp = xasprintf("%s/%s/comm", dir, names[i]), *comm = NULL;
		unsigned long long tid;
		unsigned idx;
		int used = 0;

		if (parse_uint(names[i], &tid) < 0 || sysfs_read(root, cp, &comm) < 0)
			continue; /* a thread that ended while we looked */
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n] = (struct qthread){ .tid = (unsigned)tid, .vcpu = -1 };
		snprintf(v[n].comm, sizeof(v[n].comm), "%s", comm);
		if (sscanf(comm, "CPU %u/%*[A-Za-z]%n", &idx, &used) == 1 && used > 0 && comm[used] == '\0') {
			v[n].vcpu = (int)idx;
			n_vcpu++;
		}
		n++;
	}
	sysfs_list_free(names, cnt);
	if (!n_vcpu) {
		free(v);
		return err_set(e, -ESRCH, "QEMU pid %u has no vCPU threads (named 'CPU n/KVM' or 'CPU n/TCG')", pid);
	}
	qsort(v, n, sizeof(*v), cmp_thread);
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- plan / observe / apply / revert ---- */

static void plan_thread(const char *root, unsigned pid, const struct qthread *t, const struct cpuset *cpus,
			struct plan *p)
{
	_cleanup_free_ char *target = xasprintf("%u/%u", pid, t->tid), *want = cpuset_to_list(cpus);
	_cleanup_free_ char *op = t->vcpu >= 0 ? xasprintf("vcpu%d", t->vcpu) : xstrdup("emulator");
	_cleanup_free_ char *was = NULL;
	struct cpuset cur;

	was = thread_affinity(root, pid, t->tid, &cur) == 0 ? cpuset_to_list(&cur) : xstrdup("?");
	plan_add(p, &action_pin, op, target, want,
		 xasprintf("%s thread %u '%s' of QEMU %u: CPUs %s -> %s (sched_setaffinity)",
			   t->vcpu >= 0 ? "vCPU" : "emulator", t->tid, t->comm, pid, was, want));
}

static int pin_plan(const struct action_ctx *ctx, const void *data, enum phase phase, struct plan *p, struct err *e)
{
	const struct pin_conf *c = data;
	struct pin_map m;
	struct qthread *th = NULL;
	size_t n = 0;
	unsigned pid = 0;
	int r;

	if (phase != PHASE_STARTED)
		return 0;
	r = map_build(ctx, c, &m, e);
	if (r == 0) {
		struct err qe;
		int q = qemu_pid(ctx, &pid, &qe);

		if (q == 0)
			q = qemu_threads(ctx->conf->root, pid, &th, &n, &qe);
		if (q < 0 && !ctx->describe)
			r = err_set(e, q, "%s", qe.msg);
		/* The dry run still shows the map (and its <cputune>) before the VM runs. */
		_cleanup_free_ char *note =
			q < 0 ? xasprintf("\n       (%s; its threads are found at 'started')", qe.msg) : xstrdup("");
		if (r == 0) {
			_cleanup_free_ char *value = map_value(&m);

			plan_add(p, &action_pin, "map", ctx->vm, value, map_describe(&m, note));
		}
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct cpuset *want = th[i].vcpu < 0 ? (m.has_emulator ? &m.emulator : NULL)
					    : (unsigned)th[i].vcpu < m.n && !cpuset_empty(&m.vcpu[th[i].vcpu])
						    ? &m.vcpu[th[i].vcpu]
						    : NULL;

		if (want)
			plan_thread(ctx->conf->root, pid, &th[i], want, p);
	}
	free(th);
	map_free(&m);
	return r;
}

static int parse_target(const char *target, unsigned *pid, unsigned *tid)
{
	int used = 0;

	return sscanf(target, "%u/%u%n", pid, tid, &used) == 2 && target[used] == '\0' ? 0 : -EINVAL;
}

/* saved = the thread's CPU list before the step. */
static int pin_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	unsigned pid, tid;
	struct cpuset cur;
	int r;

	if (strcmp(st->op, "map") == 0) {
		*saved = xstrdup("");
		return 0;
	}
	if (parse_target(st->target, &pid, &tid) < 0)
		return err_set(e, -EINVAL, "bad thread '%s'", st->target);
	r = thread_affinity(ctx->conf->root, pid, tid, &cur);
	if (r < 0)
		return err_set(e, r, "QEMU thread %u (pid %u): cannot read its affinity: %s", tid, pid, strerror(-r));
	*saved = cpuset_to_list(&cur);
	return 0;
}

/* sched_setaffinity, then the kernel's word for what the thread may use now. */
static int set_affinity(const struct action_ctx *ctx, unsigned pid, unsigned tid, const char *list, struct err *e)
{
	const char *root = ctx->conf->root;
	struct cpuset want, got;
	cpu_set_t *set;
	size_t size = CPU_ALLOC_SIZE(CPUSET_MAX);
	int r;

	if (cpuset_parse(list, &want) < 0)
		return err_set(e, -EINVAL, "thread %u: bad CPU list '%s'", tid, list);
	if (!sysfs_kernel_calls_allowed(root))
		return err_set(
			e, -EPERM,
			"thread %u: refusing sched_setaffinity for root %s (a simulated root the test simulator does not serve)",
			tid, root);
	set = CPU_ALLOC(CPUSET_MAX);
	CPU_ZERO_S(size, set);
	for (unsigned c = 0; c < CPUSET_MAX; c++)
		if (cpuset_has(&want, c))
			CPU_SET_S(c, size, set);
	r = sched_setaffinity((pid_t)tid, size, set) < 0 ? -errno : 0;
	CPU_FREE(set);
	if (r == -ESRCH)
		return err_set(e, r, "QEMU thread %u (pid %u) is gone", tid, pid);
	if (r < 0)
		return err_set(e, r,
			       "QEMU thread %u (pid %u): sched_setaffinity(%s): %s (outside the VM's cgroup cpuset?)",
			       tid, pid, list, strerror(-r));
	r = thread_affinity(root, pid, tid, &got);
	if (r == 0 && !cpuset_equal(&got, &want)) {
		_cleanup_free_ char *s = cpuset_to_list(&got);

		return err_set(
			e, -EIO,
			"QEMU thread %u (pid %u): asked for CPUs %s, the kernel allows %s (a cgroup cpuset limits it?)",
			tid, pid, list, s);
	}
	return 0;
}

static int pin_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	unsigned pid, tid;

	(void)saved;
	if (strcmp(st->op, "map") == 0)
		return 0;
	if (parse_target(st->target, &pid, &tid) < 0)
		return err_set(e, -EINVAL, "bad thread '%s'", st->target);
	return set_affinity(ctx, pid, tid, st->value, e);
}

/* Gives a live thread back the CPUs it had; a thread that is gone (QEMU exited) needs nothing. */
static int pin_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	_cleanup_free_ char *task = NULL;
	struct cpuset cur, saved;
	unsigned pid, tid;

	if (strcmp(rec->op, "map") == 0 || parse_target(rec->target, &pid, &tid) < 0)
		return 0;
	task = xasprintf("/proc/%u/task/%u", pid, tid);
	if (!sysfs_exists(ctx->conf->root, task) || thread_affinity(ctx->conf->root, pid, tid, &cur) < 0)
		return 0;
	if (cpuset_parse(rec->saved, &saved) < 0 || cpuset_empty(&saved) || cpuset_equal(&cur, &saved))
		return 0;
	return set_affinity(ctx, pid, tid, rec->saved, e);
}

const struct action_ops action_pin = {
	.name = "pin",
	.data_size = sizeof(struct pin_conf),
	.init = pin_init,
	.set = pin_set,
	.plan = pin_plan,
	.observe = pin_observe,
	.apply = pin_apply,
	.revert = pin_revert,
};
