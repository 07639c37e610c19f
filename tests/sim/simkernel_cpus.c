/* Part of libsimkernel.so (see simkernel.c): the CPU files, reacting to writes like the kernel.
 *   sys/fs/cgroup/.../cpuset.cpus        kernel/cgroup/cpuset.c: list must be within possible CPUs
 *                                        (EINVAL); emptying it in a cgroup with tasks is ENOSPC;
 *                                        cpuset.cpus.effective follows (parent's when empty)
 *   sys/fs/cgroup/.../cgroup.subtree_control   "+cpuset -io": only controllers the cgroup has
 *                                        (ENOENT); children get/lose their cpuset.* files; disabling
 *                                        one a child still enables below is EBUSY
 *   proc/irq/N/smp_affinity{,_list}      kernel/irq/proc.c: EIO for a managed IRQ (marked by
 *                                        .sim/irq_managed/N), EINVAL without an online CPU
 *   proc/irq/default_smp_affinity, sys/devices/virtual/workqueue/cpumask   hex masks
 *   sys/devices/system/cpu/cpuN/cpufreq/scaling_governor   EINVAL unless in scaling_available_governors;
 *                                        EBUSY with the fault .sim/faults/cpuN.refuse_governor
 * Files are rewritten whole, in the kernel's canonical form (a plain file would keep the tail of a
 * longer old value). Counts toward .sim/write_count and .sim/faults/crash_at like every store.
 * Up to 64 CPUs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

bool simkernel_cpus_write(const char *root, int fd, const void *buf, size_t n, ssize_t *ret);

static const char *R; /* the root, for the duration of one store */

static void rd(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* snprintf that never leaves a truncated string: too long gives "". */
static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(buf, size, f, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
}

static void __attribute__((format(printf, 2, 0))) rel_path(char *out, const char *format, va_list ap)
{
	char rel[PATH_MAX];
	vsnprintf(rel, sizeof(rel), format, ap);
	if (snprintf(out, PATH_MAX, "%s/%s", R, rel) >= PATH_MAX)
		out[0] = '\0'; /* never a truncated path */
}

/* Reads a small file below the root, without its trailing newline; "" when missing. */
static void rd(char *out, size_t size, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	rel_path(p, fmt, ap);
	va_end(ap);
	out[0] = '\0';
	int f = open(p, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return;
	ssize_t k = pread(f, out, size - 1, 0);
	close(f);
	out[k > 0 ? k : 0] = '\0';
	out[strcspn(out, "\n")] = '\0';
}

static void wr(const char *content, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wr(const char *content, const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;
	va_start(ap, fmt);
	rel_path(p, fmt, ap);
	va_end(ap);
	int f = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f < 0)
		return;
	if (pwrite(f, content, strlen(content), 0) < 0)
		perror(p);
	close(f);
}

/* ---- masks ---- */

static int parse_list(const char *s, uint64_t *out)
{
	uint64_t m = 0;
	while (*s == ' ')
		s++;
	while (*s && *s != '\n') {
		char *end;
		unsigned long lo = strtoul(s, &end, 10), hi = lo;
		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			hi = strtoul(s, &end, 10);
			if (end == s || hi < lo)
				return -EINVAL;
		}
		if (hi >= 64)
			return -EINVAL;
		for (unsigned long c = lo; c <= hi; c++)
			m |= UINT64_C(1) << c;
		s = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end && *end != '\n')
			return -EINVAL;
	}
	*out = m;
	return 0;
}

static void fmt_list(uint64_t m, char *out)
{
	out[0] = '\0';
	for (unsigned c = 0; c < 64; c++) {
		if (!(m >> c & 1))
			continue;
		unsigned hi = c;
		while (hi + 1 < 64 && (m >> (hi + 1) & 1))
			hi++;
		size_t l = strlen(out);
		if (hi == c)
			sprintf(out + l, "%s%u", l ? "," : "", c);
		else
			sprintf(out + l, "%s%u-%u", l ? "," : "", c, hi);
		c = hi;
	}
}

static int parse_mask(const char *s, uint64_t *out)
{
	uint64_t m = 0;
	unsigned bit = 0;
	size_t len = strcspn(s, "\n");
	if (!len)
		return -EINVAL;
	for (size_t i = len; i-- > 0;) {
		char c = s[i];
		if (c == ',')
			continue;
		unsigned v = c >= '0' && c <= '9'                     ? (unsigned)(c - '0')
			     : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (unsigned)((c | 0x20) - 'a' + 10)
								      : 99;
		if (v == 99)
			return -EINVAL;
		if (bit >= 64 && v)
			return -EINVAL;
		if (bit < 64)
			m |= (uint64_t)v << bit;
		bit += 4;
	}
	*out = m;
	return 0;
}

static uint64_t cpus_file(const char *name)
{
	char s[256];
	uint64_t m = 0;
	rd(s, sizeof(s), "sys/devices/system/cpu/%s", name);
	parse_list(s, &m);
	return m;
}

/* The kernel's "%*pb" of nr_cpu_ids bits (8 CPUs: "ff"; 4 bits a digit, no 32-bit groups needed here). */
static void fmt_mask(uint64_t m, char *out)
{
	uint64_t possible = cpus_file("possible");
	unsigned nbits = possible ? 64 - (unsigned)__builtin_clzll(possible) : 1;
	int digits = (int)((nbits + 3) / 4);
	if (nbits > 32)
		sprintf(out, "%0*llx,%08llx", digits - 8, (unsigned long long)(m >> 32),
			(unsigned long long)(m & 0xffffffffu));
	else
		sprintf(out, "%0*llx", digits, (unsigned long long)m);
}

/* ---- the files ---- */

/* cgroup_is_populated(): tasks in the cgroup or (one level down is enough here) in a child. */
static bool populated(const char *dir)
{
	char s[64], p[PATH_MAX];
	rd(s, sizeof(s), "%s/cgroup.procs", dir);
	if (s[0])
		return true;
	fmt(p, sizeof(p), "%s/%s", R, dir);
	DIR *d = opendir(p);
	struct dirent *e;
	bool yes = false;
	while (d && !yes && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			rd(s, sizeof(s), "%s/%s/cgroup.procs", dir, e->d_name);
			yes = s[0] != '\0';
		}
	if (d)
		closedir(d);
	return yes;
}

static int store_cpuset(const char *dir, const char *val)
{
	uint64_t m, parent = 0;
	char s[256], pdir[PATH_MAX], out[512];
	if (parse_list(val, &m) < 0 || (m & ~cpus_file("possible")))
		return -EINVAL;
	rd(s, sizeof(s), "%s/cpuset.cpus", dir);
	if (!m && s[0] && populated(dir))
		return -ENOSPC; /* validate_change(): a cgroup with tasks cannot lose all its CPUs */
	fmt(pdir, sizeof(pdir), "%s", dir);
	*strrchr(pdir, '/') = '\0';
	rd(s, sizeof(s), "%s/cpuset.cpus.effective", pdir);
	parse_list(s, &parent);
	fmt_list(m, out);
	strcat(out, "\n");
	wr(out, "%s/cpuset.cpus", dir);
	fmt_list(m && (m & parent) ? m & parent : parent, out);
	strcat(out, "\n");
	wr(out, "%s/cpuset.cpus.effective", dir);
	return 0;
}

static const char *const ctrl_order[] = { "cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc" };

static bool word_in(const char *list, const char *w)
{
	char copy[512], *save;
	fmt(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		if (strcmp(t, w) == 0)
			return true;
	return false;
}

/* Gives the children of dir their cpuset files, or takes them away. */
static int children_cpuset(const char *dir, bool on)
{
	char p[PATH_MAX], eff[256], s[512];
	fmt(p, sizeof(p), "%s/%s", R, dir);
	DIR *d = opendir(p);
	if (!d)
		return 0;
	rd(eff, sizeof(eff), "%s/cpuset.cpus.effective", dir);
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) && r == 0) {
		struct stat st;
		fmt(p, sizeof(p), "%s/%s/%s", R, dir, e->d_name);
		if (e->d_name[0] == '.' || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		rd(s, sizeof(s), "%s/%s/cgroup.subtree_control", dir, e->d_name);
		if (!on && word_in(s, "cpuset")) {
			r = -EBUSY;
			break;
		}
		fmt(p, sizeof(p), "%s/%s/%s/cpuset.cpus", R, dir, e->d_name);
		if (on) {
			wr("\n", "%s/%s/cpuset.cpus", dir, e->d_name);
			fmt(s, sizeof(s), "%s\n", eff);
			wr(s, "%s/%s/cpuset.cpus.effective", dir, e->d_name);
		} else {
			unlink(p);
			strcat(p, ".effective");
			unlink(p);
		}
	}
	closedir(d);
	return r;
}

static int store_subtree(const char *dir, const char *val)
{
	char have[512], cur[512], copy[512], *save, out[512] = "";
	bool want[8];
	rd(have, sizeof(have), "%s/cgroup.controllers", dir);
	rd(cur, sizeof(cur), "%s/cgroup.subtree_control", dir);
	for (size_t i = 0; i < 8; i++)
		want[i] = word_in(cur, ctrl_order[i]);
	fmt(copy, sizeof(copy), "%s", val);
	for (char *t = strtok_r(copy, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
		size_t i = 0;
		if ((t[0] != '+' && t[0] != '-') || !word_in(have, t + 1))
			return t[0] == '+' || t[0] == '-' ? -ENOENT : -EINVAL;
		while (strcmp(ctrl_order[i], t + 1) != 0)
			i++;
		if (i == 0 && want[0] != (t[0] == '+')) {
			int r = children_cpuset(dir, t[0] == '+');
			if (r < 0)
				return r;
		}
		want[i] = t[0] == '+';
	}
	for (size_t i = 0; i < 8; i++)
		if (want[i])
			sprintf(out + strlen(out), "%s%s", out[0] ? " " : "", ctrl_order[i]);
	strcat(out, "\n");
	wr(out, "%s/cgroup.subtree_control", dir);
	return 0;
}

static int store_irq(const char *irq, const char *val, bool list)
{
	char p[PATH_MAX], out[512];
	uint64_t m;
	fmt(p, sizeof(p), "%s/.sim/irq_managed/%s", R, irq);
	if (access(p, F_OK) == 0)
		return -EIO; /* irq_can_set_affinity_usr(): managed and per-CPU IRQs refuse */
	if ((list ? parse_list(val, &m) : parse_mask(val, &m)) < 0 || !(m & cpus_file("online")))
		return -EINVAL;
	fmt_list(m, out);
	strcat(out, "\n");
	wr(out, "proc/irq/%s/smp_affinity_list", irq);
	fmt_mask(m, out);
	strcat(out, "\n");
	wr(out, "proc/irq/%s/smp_affinity", irq);
	return 0;
}

static int store_mask(const char *rel, const char *val, uint64_t must_meet)
{
	char out[512];
	uint64_t m;
	if (parse_mask(val, &m) < 0 || !(m & must_meet))
		return -EINVAL;
	fmt_mask(m & cpus_file("possible"), out);
	strcat(out, "\n");
	wr(out, "%s", rel);
	return 0;
}

static int store_governor(const char *dir, const char *val)
{
	char avail[512], name[64];
	fmt(name, sizeof(name), "%.*s", (int)strcspn(val, " \n"), val);
	char p[PATH_MAX];
	fmt(p, sizeof(p), "%s/.sim/faults/%.*s.refuse_governor", R, (int)strcspn(dir + 23, "/"), dir + 23);
	if (access(p, F_OK) == 0)
		return -EBUSY; /* fault: cpuN.refuse_governor */
	rd(avail, sizeof(avail), "%s/scaling_available_governors", dir);
	if (!name[0] || !word_in(avail, name))
		return -EINVAL;
	strcat(name, "\n");
	wr(name, "%s/scaling_governor", dir);
	return 0;
}

static bool ends_with(const char *s, const char *suffix, size_t *dirlen)
{
	size_t a = strlen(s), b = strlen(suffix);
	if (a < b || strcmp(s + a - b, suffix) != 0)
		return false;
	*dirlen = a - b;
	return true;
}

/* -1 when rel is none of ours; else 0 with val NULL (a look only), or 0/-errno of the store. */
static int dispatch(const char *rel, const char *val)
{
	char dir[PATH_MAX], irq[32];
	size_t dl;
	if (!strncmp(rel, "sys/fs/cgroup/", 14) && ends_with(rel, "/cpuset.cpus", &dl))
		return !val ? 0 : (fmt(dir, sizeof(dir), "%.*s", (int)dl, rel), store_cpuset(dir, val));
	if (!strncmp(rel, "sys/fs/cgroup", 13) && ends_with(rel, "/cgroup.subtree_control", &dl))
		return !val ? 0 : (fmt(dir, sizeof(dir), "%.*s", (int)dl, rel), store_subtree(dir, val));
	if (!strcmp(rel, "proc/irq/default_smp_affinity"))
		return !val ? 0 : store_mask(rel, val, cpus_file("online"));
	if (!strcmp(rel, "sys/devices/virtual/workqueue/cpumask"))
		return !val ? 0 : store_mask(rel, val, cpus_file("possible"));
	if (sscanf(rel, "proc/irq/%31[0-9]/", irq) == 1 && ends_with(rel, "/smp_affinity_list", &dl))
		return !val ? 0 : store_irq(irq, val, true);
	if (sscanf(rel, "proc/irq/%31[0-9]/", irq) == 1 && ends_with(rel, "/smp_affinity", &dl))
		return !val ? 0 : store_irq(irq, val, false);
	if (!strncmp(rel, "sys/devices/system/cpu/cpu", 26) && ends_with(rel, "/cpufreq/scaling_governor", &dl))
		return !val ? 0 : (fmt(dir, sizeof(dir), "%.*s/cpufreq", (int)dl, rel), store_governor(dir, val));
	return -1;
}

bool simkernel_cpus_write(const char *root, int fd, const void *buf, size_t n, ssize_t *ret)
{
	char link[64], path[PATH_MAX], val[4096], cnt[32], p[PATH_MAX];
	size_t rl = strlen(root);
	fmt(link, sizeof(link), "/proc/self/fd/%d", fd); /* read-only look at our own fd */
	ssize_t k = readlink(link, path, sizeof(path) - 1);
	if (k <= 0 || n >= sizeof(val))
		return false;
	path[k] = '\0';
	if (strncmp(path, root, rl) != 0 || path[rl] != '/')
		return false;
	memcpy(val, buf, n);
	val[n] = '\0';
	R = root;
	/* Only our files take the lock: another part of the simulator may write its own files under
	 * the root while it holds it (flock on a second open of .sim/lock would wait for ever). */
	if (dispatch(path + rl + 1, NULL) < 0)
		return false;
	fmt(p, sizeof(p), "%s/.sim/lock", root);
	int lock = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock >= 0)
		flock(lock, LOCK_EX);
	int r = dispatch(path + rl + 1, val);
	rd(cnt, sizeof(cnt), ".sim/write_count");
	long count = strtol(cnt, NULL, 10) + 1;
	fmt(cnt, sizeof(cnt), "%ld\n", count);
	wr(cnt, ".sim/write_count");
	rd(cnt, sizeof(cnt), ".sim/faults/crash_at");
	long crash_at = strtol(cnt, NULL, 10);
	if (lock >= 0)
		close(lock);
	if (crash_at > 0 && count == crash_at)
		kill(0, SIGKILL);
	if (r < 0) {
		errno = -r;
		*ret = -1;
	} else {
		*ret = (ssize_t)n;
	}
	return true;
}
