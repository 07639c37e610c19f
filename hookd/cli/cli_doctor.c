/* hookd doctor: is this host ready for passthrough, and is each named VM? Read-only, under the root.
 * One line per check (ok, warn, FAIL); every warn and FAIL says the next step. */
#include "cli_doctor.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "apparmor.h"
#include "cli_apparmor.h"
#include "cli_install.h"
#include "doctor.h"
#include "kmod.h"
#include "sysfs.h"
#include "zfs.h"

#define LIBVIRT_HOOK CLI_AA_HOOK

void doctor_add(struct doctor *d, enum doctor_level level, const char *scope, const char *check, const char *fmt, ...)
{
	struct doctor_line *l;
	va_list ap;

	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	l = &d->v[d->n++];
	*l = (struct doctor_line){ level, xstrdup(scope), xstrdup(check), NULL };
	va_start(ap, fmt);
	if (vasprintf(&l->msg, fmt, ap) < 0)
		abort();
	va_end(ap);
}

void doctor_free(struct doctor *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].scope);
		free(d->v[i].check);
		free(d->v[i].msg);
	}
	free(d->v);
}

size_t doctor_count(const struct doctor *d, enum doctor_level level)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].level == level;
	return n;
}

static const char *const level_names[] = { "ok", "warn", "FAIL" };

void doctor_print_text(const struct doctor *d, FILE *out)
{
	size_t f = doctor_count(d, DOCTOR_FAIL), w = doctor_count(d, DOCTOR_WARN);

	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%-4s %s %s: %s\n", level_names[d->v[i].level], d->v[i].scope, d->v[i].check, d->v[i].msg);
	fprintf(out, "%zu check%s: %zu failed, %zu warning%s\n", d->n, d->n == 1 ? "" : "s", f, w, w == 1 ? "" : "s");
}

void doctor_print_json(const struct doctor *d, FILE *out)
{
	static const char *const json_levels[] = { "ok", "warn", "fail" };

	fputs("{\"checks\": [", out);
	for (size_t i = 0; i < d->n; i++) {
		fprintf(out, "%s\n  {\"level\": \"%s\"", i ? "," : "", json_levels[d->v[i].level]);
		json_member(out, "scope", d->v[i].scope);
		json_member(out, "check", d->v[i].check);
		json_member(out, "message", d->v[i].msg);
		fputc('}', out);
	}
	fprintf(out, "],\n \"failed\": %zu, \"warnings\": %zu}\n", doctor_count(d, DOCTOR_FAIL),
		doctor_count(d, DOCTOR_WARN));
}

/* ---- host ---- */

/* Is word (e.g. "intel_iommu=on") one of the blank-separated words of s? */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; (p = strstr(p, word)); p += n)
		if ((p == s || p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n') &&
		    (!p[n] || p[n] == ' ' || p[n] == '\t' || p[n] == '\n'))
			return true;
	return false;
}

/* "intel", "amd" or NULL, from /proc/cpuinfo's vendor_id. */
static const char *cpu_vendor(const char *root)
{
	_cleanup_free_ char *s = NULL;

	if (sysfs_read(root, "/proc/cpuinfo", &s) < 0)
		return NULL;
	if (strstr(s, "GenuineIntel"))
		return "intel";
	if (strstr(s, "AuthenticAMD"))
		return "amd";
	return NULL;
}

static void iommu_off(struct doctor *d)
{
	const char *root = d->conf->root, *vendor = cpu_vendor(root);
	_cleanup_free_ char *cmdline = NULL;

	if (sysfs_read(root, "/proc/cmdline", &cmdline) < 0)
		cmdline = xstrdup("");
	if (vendor && !strcmp(vendor, "intel") && has_word(cmdline, "intel_iommu=on"))
		doctor_add(
			d, DOCTOR_FAIL, "host", "iommu",
			"no IOMMU groups although the kernel runs with intel_iommu=on (Intel CPU): enable VT-d in the firmware setup and reboot");
	else if (vendor && !strcmp(vendor, "intel"))
		doctor_add(
			d, DOCTOR_FAIL, "host", "iommu",
			"no IOMMU groups (Intel CPU): enable VT-d in the firmware setup, add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run update-grub and reboot");
	else if (vendor && (has_word(cmdline, "amd_iommu=off") || has_word(cmdline, "iommu=off")))
		doctor_add(
			d, DOCTOR_FAIL, "host", "iommu",
			"no IOMMU groups (AMD CPU): the kernel command line turns the IOMMU off; remove amd_iommu=off / iommu=off from /etc/default/grub, run update-grub and reboot");
	else if (vendor)
		doctor_add(
			d, DOCTOR_FAIL, "host", "iommu",
			"no IOMMU groups (AMD CPU): enable the IOMMU (AMD-Vi, often \"IOMMU\" next to \"SVM\") in the firmware setup and reboot; the kernel turns it on by itself");
	else
		doctor_add(
			d, DOCTOR_FAIL, "host", "iommu",
			"no IOMMU groups: enable VT-d (Intel) or AMD-Vi (AMD) in the firmware setup; on Intel also boot with intel_iommu=on");
}

/* Returns whether the IOMMU is on. */
static bool check_iommu(struct doctor *d)
{
	char **names;
	size_t n = 0;

	if (sysfs_list(d->conf->root, "/sys/kernel/iommu_groups", &names, &n) == 0)
		sysfs_list_free(names, n);
	if (!n) {
		iommu_off(d);
		return false;
	}
	doctor_add(d, DOCTOR_OK, "host", "iommu", "%zu IOMMU group%s", n, n == 1 ? "" : "s");
	return true;
}

/* The kernel names remapped interrupt chips IR-PCI-MSI, IR-IO-APIC: their presence is the proof. */
static void check_irq_remapping(struct doctor *d)
{
	_cleanup_free_ char *s = NULL;

	if (sysfs_read(d->conf->root, "/proc/interrupts", &s) < 0)
		doctor_add(d, DOCTOR_WARN, "host", "interrupt-remapping", "cannot read /proc/interrupts: not checked");
	else if (strstr(s, " IR-"))
		doctor_add(d, DOCTOR_OK, "host", "interrupt-remapping", "on (IR- interrupt chips in /proc/interrupts)");
	else
		doctor_add(
			d, DOCTOR_FAIL, "host", "interrupt-remapping",
			"off (no IR- interrupt chip in /proc/interrupts): vfio refuses devices without it; enable interrupt remapping / x2APIC in the firmware setup (the unsafe way out: options vfio_iommu_type1 allow_unsafe_interrupts=1)");
}

static void check_module(struct doctor *d, const char *name, const char *config)
{
	struct err e;

	switch (hkmod_state(d->conf->root, name)) {
	case HKMOD_LOADED: doctor_add(d, DOCTOR_OK, "host", "vfio", "module %s is loaded", name); return;
	case HKMOD_BUILTIN: doctor_add(d, DOCTOR_OK, "host", "vfio", "%s is built into the kernel", name); return;
	case HKMOD_ABSENT: break;
	}
	if (hkmod_find(d->conf->root, name, &e) == 0)
		doctor_add(d, DOCTOR_OK, "host", "vfio", "module %s is available ([vfio] loads it)", name);
	else
		doctor_add(d, DOCTOR_FAIL, "host", "vfio",
			   "module %s is neither loaded, built in nor installed: install a kernel built with %s", name,
			   config);
}

static void check_cgroup(struct doctor *d)
{
	_cleanup_free_ char *s = NULL;

	if (sysfs_read(d->conf->root, "/sys/fs/cgroup/cgroup.controllers", &s) < 0)
		doctor_add(
			d, DOCTOR_WARN, "host", "cgroup",
			"no cgroup v2 at /sys/fs/cgroup (a v1 or hybrid layout): [cpus] needs it; boot with systemd.unified_cgroup_hierarchy=1");
	else if (!has_word(s, "cpuset"))
		doctor_add(
			d, DOCTOR_WARN, "host", "cgroup",
			"cgroup v2 without the cpuset controller (/sys/fs/cgroup/cgroup.controllers): [cpus] needs it; use a kernel with CONFIG_CPUSETS");
	else
		doctor_add(d, DOCTOR_OK, "host", "cgroup", "cgroup v2 with the cpuset controller");
}

static unsigned long long read_ull(const char *root, const char *abs)
{
	_cleanup_free_ char *s = NULL;
	unsigned long long v = 0;

	if (sysfs_read(root, abs, &s) == 0)
		(void)parse_uint(s, &v);
	return v;
}

static void check_pools(struct doctor *d)
{
	const char *root = d->conf->root;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	char **names;
	size_t n;
	FILE *out;

	if (sysfs_list(root, "/sys/kernel/mm/hugepages", &names, &n) < 0 || !n) {
		doctor_add(d, DOCTOR_WARN, "host", "hugepages",
			   "no /sys/kernel/mm/hugepages: this kernel has no huge pages (CONFIG_HUGETLBFS)");
		return;
	}
	out = xopen_memstream(&buf, &len);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *nr = xasprintf("/sys/kernel/mm/hugepages/%s/nr_hugepages", names[i]);
		_cleanup_free_ char *fr = xasprintf("/sys/kernel/mm/hugepages/%s/free_hugepages", names[i]);

		fprintf(out, "%s%s: %llu (%llu free)", i ? ", " : "", names[i], read_ull(root, nr), read_ull(root, fr));
	}
	fclose(out);
	sysfs_list_free(names, n);
	doctor_add(d, DOCTOR_OK, "host", "hugepages", "pools %s", buf);
}

/* /proc/buddyinfo: free blocks per order and zone. The largest order (4 MiB with 4 KiB pages) is as
 * far as the buddy allocator sees; a 1 GiB page needs 256 of them side by side. */
static void check_fragmentation(struct doctor *d)
{
	_cleanup_free_ char *s = NULL;
	unsigned long long total = 0, top = 0, page_kib = (unsigned long long)sysconf(_SC_PAGESIZE) / 1024;
	int top_order = 0;

	if (sysfs_read(d->conf->root, "/proc/buddyinfo", &s) < 0) {
		doctor_add(d, DOCTOR_WARN, "host", "fragmentation", "cannot read /proc/buddyinfo: not checked");
		return;
	}
	for (char *save = NULL, *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "zone");
		int order = 0;

		if (!p || !(p = strchr(p + 4, ' ')))
			continue;
		while (*p == ' ' && p[1] == ' ')
			p++; /* the zone name follows, padded */
		p = strchr(p + 1, ' ');
		for (char *end; p && *p; p = end, order++) {
			unsigned long long c = strtoull(p, &end, 10);

			if (end == p)
				break;
			total += c * (page_kib << order);
			if (order >= top_order) {
				top = order > top_order ? 0 : top;
				top_order = order;
				top += c * (page_kib << order);
			}
		}
	}
	if (top < 1024 * 1024)
		doctor_add(
			d, DOCTOR_WARN, "host", "fragmentation",
			"%llu MiB of %llu MiB free memory is in %llu MiB blocks: not one 1 GiB page without compaction; for 1 GiB pages reserve them at boot (hugepagesz=1G hugepages=N on the kernel command line)",
			top / 1024, total / 1024, (page_kib << top_order) / 1024);
	else
		doctor_add(d, DOCTOR_OK, "host", "fragmentation",
			   "%llu MiB of %llu MiB free memory is in %llu MiB blocks", top / 1024, total / 1024,
			   (page_kib << top_order) / 1024);
}

/* When process pid started, in seconds since the epoch (/proc/stat btime + /proc/PID/stat field 22). */
static int process_start(const char *root, unsigned long long pid, long long *out)
{
	_cleanup_free_ char *path = xasprintf("/proc/%llu/stat", pid), *stat = NULL, *sys = NULL;
	unsigned long long ticks;
	const char *p, *bt;
	long hz = sysconf(_SC_CLK_TCK);

	if (sysfs_read(root, path, &stat) < 0 || sysfs_read(root, "/proc/stat", &sys) < 0 || hz <= 0)
		return -ENOENT;
	p = strrchr(stat, ')'); /* the command may hold blanks and parentheses */
	bt = strstr(sys, "btime ");
	if (!p || !bt)
		return -EINVAL;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &ticks) != 1)
		return -EINVAL;
	*out = atoll(bt + 6) + (long long)(ticks / (unsigned long long)hz);
	return 0;
}

/* libvirtd reads the hook directory when it starts or gets SIGHUP: a hook newer than the daemon is
 * one it has not seen. */
static void check_daemon_noticed(struct doctor *d, const struct stat *hook)
{
	const char *root = d->conf->root;

	for (size_t i = 0; i < INSTALL_N_DAEMONS; i++) {
		const char *pidfile = install_daemon_pidfiles[i], *name = strrchr(pidfile, '/') + 1;
		_cleanup_free_ char *s = NULL;
		unsigned long long pid;
		long long started;

		if (sysfs_read(root, pidfile, &s) < 0 || parse_uint(s, &pid) < 0 || pid < 2)
			continue;
		if (process_start(root, pid, &started) < 0)
			continue; /* a stale pid file */
		if (started < hook->st_mtime)
			doctor_add(
				d, DOCTOR_FAIL, "host", "hook-noticed",
				"%.*s (pid %llu) started %lld s before %s was installed: it has not noticed the hook; run `hookd install --reload`",
				(int)(strlen(name) - 4), name, pid, (long long)hook->st_mtime - started, LIBVIRT_HOOK);
		else
			doctor_add(d, DOCTOR_OK, "host", "hook-noticed",
				   "%.*s (pid %llu) started after the hook was installed", (int)(strlen(name) - 4),
				   name, pid);
		return;
	}
	doctor_add(
		d, DOCTOR_WARN, "host", "hook-noticed",
		"neither libvirtd nor virtqemud runs (no live pid in /run/libvirtd.pid, /run/libvirt/virtqemud.pid): start it; it reads the hook when it starts");
}

/* The same judgement as `hookd check`: would libvirt's confining profile let it exec the hook? */
static void check_apparmor(struct doctor *d)
{
	static const enum doctor_level levels[] = {
		[HOOKD_AA_NOT_CONFINED] = DOCTOR_OK, [HOOKD_AA_ALLOWED] = DOCTOR_OK,  [HOOKD_AA_UNKNOWN] = DOCTOR_WARN,
		[HOOKD_AA_COMPLAIN] = DOCTOR_WARN,   [HOOKD_AA_DENIED] = DOCTOR_FAIL,
	};
	struct hookd_aa_report rep;

	hookd_aa_check(d->conf->root, LIBVIRT_HOOK, &rep);
	for (size_t i = 0; i < rep.n; i++) {
		const struct hookd_aa_result *res = &rep.results[i];

		doctor_add(d, levels[res->verdict], "host", "apparmor", "%s%s%s", res->message,
			   res->fix ? "; fix: " : "", res->fix ? res->fix : "");
	}
	hookd_aa_report_free(&rep);
}

static void check_hook(struct doctor *d)
{
	_cleanup_free_ char *path = sysfs_path(d->conf->root, "%s", LIBVIRT_HOOK), *target = NULL, *rooted = NULL;
	struct stat st;

	if (lstat(path, &st) < 0) {
		doctor_add(d, DOCTOR_FAIL, "host", "hook", "no libvirt hook (%s): run `hookd install --reload`",
			   LIBVIRT_HOOK);
		return;
	}
	check_apparmor(d);
	if (sysfs_readlink(d->conf->root, LIBVIRT_HOOK, &target) == 0 && strcmp(target, HOOKD_LEGACY_HOOK_PATH) == 0) {
		doctor_add(
			d, DOCTOR_FAIL, "host", "hook",
			"%s -> %s, where hookd 0.1.0 put it: libvirtd's AppArmor profile denies exec there; run `hookd install --reload` to repoint it to %s",
			LIBVIRT_HOOK, target, HOOKD_HOOK_PATH);
		return;
	}
	if (!target || strcmp(target, HOOKD_HOOK_PATH) != 0) {
		_cleanup_free_ char *what = target ? xasprintf(" (a link to %s)", target) : xstrdup("");

		doctor_add(
			d, DOCTOR_FAIL, "host", "hook",
			"%s is another hook%s, so hookd never runs: `hookd install --chain --reload` keeps it and runs it after hookd's steps",
			LIBVIRT_HOOK, what);
		return;
	}
	rooted = sysfs_path(d->conf->root, "%s", target);
	if (access(rooted, X_OK) < 0) {
		doctor_add(d, DOCTOR_FAIL, "host", "hook",
			   "%s -> %s, which is missing or not executable: reinstall hookd", LIBVIRT_HOOK, target);
		return;
	}
	doctor_add(d, DOCTOR_OK, "host", "hook", "%s -> %s", LIBVIRT_HOOK, target);
	check_daemon_noticed(d, &st);
}

/* ZFS's ARC is not page cache: drop_caches does not free it and its default maximum is half of RAM,
 * so huge pages and the ARC can exhaust the host (openzfs#10048); and drop_caches + compact_memory
 * crashed kernels 6.3.1 to 6.7.4 with ZFS loaded (openzfs#15140). */
static void check_zfs(struct doctor *d)
{
	const char *root = d->conf->root;
	_cleanup_free_ char *release = NULL, *share = NULL;
	unsigned long long arc = 0, total = 0;
	struct zfs_arc a = { 0 };

	if (!zfs_loaded(root))
		return;
	arc = read_ull(root, "/sys/module/zfs/parameters/zfs_arc_max");
	(void)sysfs_meminfo_field(root, "/proc/meminfo", "MemTotal:", &total);
	if (zfs_arc_present(root))
		(void)zfs_arc_read(root, &a, NULL);
	/* OpenZFS 2.3 raised the default from half of the RAM (openzfs#15437) */
	share = zfs_arc_default_max(a.version, total << 10) == (total << 10) / 2
			? xstrdup("half")
			: xasprintf("%llu MiB", zfs_arc_default_max(a.version, total << 10) >> 20);
	if (arc == 0)
		doctor_add(
			d, DOCTOR_WARN, "host", "zfs",
			"ZFS is loaded and zfs_arc_max is 0 (the default: the ARC may take %s of the %llu MiB of RAM, and drop_caches does not free it); VMs with huge pages need that memory: set options zfs zfs_arc_max=BYTES in /etc/modprobe.d/zfs.conf (or write /sys/module/zfs/parameters/zfs_arc_max)",
			share, total / 1024);
	else
		doctor_add(d, DOCTOR_OK, "host", "zfs", "ZFS is loaded; zfs_arc_max is %llu MiB of %llu MiB of RAM",
			   arc >> 20, total / 1024);
	if (zfs_compaction_unsafe(root, &release))
		doctor_add(
			d, DOCTOR_WARN, "host", "zfs-kernel",
			"kernel %s with ZFS loaded: drop_caches with compact_memory crashed kernels 6.3.1 to 6.7.4 (openzfs#15140), so [hugepages] does not compact here; update the kernel past 6.7.4, or reserve huge pages at boot",
			release);
}

void doctor_host(struct doctor *d)
{
	if (check_iommu(d))
		check_irq_remapping(d);
	check_module(d, "vfio_pci", "CONFIG_VFIO_PCI");
	check_module(d, "vfio_iommu_type1", "CONFIG_VFIO_IOMMU_TYPE1");
	check_cgroup(d);
	check_pools(d);
	check_fragmentation(d);
	check_zfs(d);
	check_hook(d);
}

int doctor_run(const struct hookd_conf *conf, char **vms, size_t n_vms, doctor_load_fn load, void *arg, bool json)
{
	struct doctor d = { .conf = conf };
	struct doctor_memory mem = { 0 };
	int code;

	doctor_host(&d);
	for (size_t i = 0; i < n_vms; i++) {
		struct domain *dom = NULL;
		struct err e = { "" };

		if (load(arg, vms[i], &dom, &e) < 0)
			dom = NULL;
		doctor_vm(&d, vms[i], dom, e.msg);
		doctor_memory_count(&mem, conf, vms[i], dom);
		domain_free(dom);
	}
	if (!n_vms)
		doctor_memory_hooks_dir(&mem, conf);
	doctor_zfs_memory(&d, &mem);
	doctor_memory_free(&mem);
	if (json)
		doctor_print_json(&d, stdout);
	else
		doctor_print_text(&d, stdout);
	code = doctor_count(&d, DOCTOR_FAIL) ? 1 : 0;
	doctor_free(&d);
	return code;
}
