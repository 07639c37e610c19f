/* How lines are read: one line at a time, after dropping what does not change its effect (a leading
 * `sudo`, `|| true`, output sent to /dev/null). A line maps only when it is one simple command of a
 * known shape with literal arguments: a variable, a `;` or `&&` chain, a command substitution or a
 * continued line is not guessed at and stays in its [exec] step. A mapped line inside an if/for/while
 * block is mapped with a note that it ran conditionally. In release scripts, a line that undoes a
 * native key of the prepare scripts (start the unit it stopped, load the module it unloaded, ...) is
 * the undo hookd does on release by itself. */
#include "import_native.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>

#include "util.h"

enum kind { K_NOOP, K_MAPPED, K_UNDO, K_DROPPED, K_UNMAPPED };

/* The native keys, in the order the INI lists them (the order prepare runs them in). */
enum nkey_id {
	N_STOP,
	N_VTCON,
	N_FB,
	N_UNLOAD,
	N_LOAD,
	N_DEVICES,
	N_HP_SIZE,
	N_HP_PAGES,
	N_HOST,
	N_IRQS,
	N_GOVERNOR,
	N_KEYS
};
static const struct {
	const char *section, *key;
	bool list;
} nkeys[N_KEYS] = {
	[N_STOP] = { "service", "stop", true },       [N_VTCON] = { "console", "vtconsoles", false },
	[N_FB] = { "console", "framebuffer", true },  [N_UNLOAD] = { "modules", "unload", true },
	[N_LOAD] = { "modules", "load", true },       [N_DEVICES] = { "vfio", "devices", true },
	[N_HP_SIZE] = { "hugepages", "size", false }, [N_HP_PAGES] = { "hugepages", "pages", false },
	[N_HOST] = { "cpus", "host", false },         [N_IRQS] = { "cpus", "irqs", false },
	[N_GOVERNOR] = { "cpus", "governor", false },
};

struct line_note {
	enum kind kind;
	int key; /* enum nkey_id for K_MAPPED and K_UNDO; -1 otherwise */
};

struct script_lines {
	const struct import_script *sc;
	struct line_note *notes;
	size_t n;
};

struct import_native {
	char *value[N_KEYS]; /* space-separated; NULL when no line set it */
	char *cites[N_KEYS]; /* one "; FILE:LINE: text" line each, newline-separated */
	char *dropped, *unmapped;
	struct script_lines *s;
	size_t n_s;
};

/* What one line does, in native terms. */
struct hit {
	int key;         /* enum nkey_id, or -1 */
	char *value;     /* the key's value (list keys: one or more words) */
	bool undo_form;  /* the opposite action: start, load, bind, reattach, restore */
	const char *why; /* K_DROPPED / K_UNMAPPED reason */
	enum kind kind;  /* K_DROPPED or K_NOOP when no key */
};

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static bool literal(const char *s)
{
	return !strchr(s, '$') && !strchr(s, '`');
}

/* "echo V > F", ">> F", "printf V > F", "echo V | tee [-a] F": the value and the file. */
static bool write_form(const struct import_words *ws, const char **value, const char **file)
{
	size_t i = 1;

	if (ws->n < 4 || (!is(ws->w[0], "echo") && !is(ws->w[0], "printf")))
		return false;
	while (i < ws->n && ws->w[i][0] == '-' && ws->w[i][1])
		i++;
	if (i + 2 == ws->n - 1 && (is(ws->w[i + 1], ">") || is(ws->w[i + 1], ">>"))) {
		*value = ws->w[i], *file = ws->w[i + 2];
		return true;
	}
	if (i + 3 < ws->n && is(ws->w[i + 1], "|") && is(ws->w[i + 2], "tee")) {
		size_t f = i + 3 + (is(ws->w[i + 3], "-a") && i + 4 < ws->n);

		if (f == ws->n - 1) {
			*value = ws->w[i], *file = ws->w[f];
			return true;
		}
	}
	return false;
}

static bool key_hit(struct hit *h, int key, const char *value, bool undo_form)
{
	h->key = key;
	h->value = xstrdup(value);
	h->undo_form = undo_form;
	return true;
}

static bool dropped(struct hit *h, const char *why)
{
	h->kind = K_DROPPED;
	h->why = why;
	return true;
}

/* Writes to kernel files that a native key does. */
static bool rec_write(const struct import_words *ws, bool release, struct hit *h)
{
	const char *v, *f;
	unsigned long long kb;

	if (!write_form(ws, &v, &f))
		return false;
	if (!literal(v) || !literal(f))
		return false;
	if (fnmatch("/sys/class/vtconsole/vtcon*/bind", f, 0) == 0 && (is(v, "0") || is(v, "1")))
		return key_hit(h, N_VTCON, "yes", is(v, "1"));
	if (fnmatch("/sys/bus/platform/drivers/*/unbind", f, 0) == 0)
		return key_hit(h, N_FB, v, false);
	if (fnmatch("/sys/bus/platform/drivers/*/bind", f, 0) == 0)
		return key_hit(h, N_FB, v, true);
	if (fnmatch("/sys/devices/system/cpu/cpu*/cpufreq/scaling_governor", f, 0) == 0)
		return key_hit(h, N_GOVERNOR, v, release);
	if (is(f, "/proc/sys/vm/nr_hugepages"))
		return key_hit(h, N_HP_PAGES, v, is(v, "0"));
	if (sscanf(f, "/sys/kernel/mm/hugepages/hugepages-%llukB/nr_hugepages", &kb) == 1 && !is(v, "0")) {
		_cleanup_free_ char *size = xasprintf("%lluk", kb);

		key_hit(h, N_HP_SIZE, size, false);
		free(h->value);
		h->value = xasprintf("%s %s", size, v); /* both keys: split by the caller */
		return true;
	}
	if (strstr(f, "/nr_hugepages") && is(v, "0") && !strstr(f, "/node"))
		return key_hit(h, N_HP_PAGES, v, true);
	if (fnmatch("/proc/irq/*/smp_affinity*", f, 0) == 0 || is(f, "/proc/irq/default_smp_affinity"))
		return key_hit(h, N_IRQS, "yes", release);
	if (is(f, "/proc/sys/vm/drop_caches") || is(f, "/proc/sys/vm/compact_memory"))
		return dropped(h, "[hugepages] drops caches and compacts memory itself before it allocates");
	if (strncmp(f, "/var/log/", 9) == 0 || strncmp(f, "/tmp/", 5) == 0 || is(f, "/dev/kmsg"))
		return dropped(h, "a log line: hookd logs every step (journalctl -t hookd)");
	return false;
}

/* "pci_0000_01_00_0" -> "0000:01:00.0". */
static char *virsh_address(const char *dev)
{
	unsigned d, b, s, f;
	char tail;

	if (sscanf(dev, "pci_%4x_%2x_%2x_%1x%c", &d, &b, &s, &f, &tail) != 4)
		return NULL;
	return xasprintf("%04x:%02x:%02x.%x", d, b, s, f);
}

/* The words from i on that are not options, as one value; NULL when one is not literal. */
static char *args_from(const struct import_words *ws, size_t i)
{
	char *v = NULL;

	for (; i < ws->n; i++) {
		char *n;

		if (ws->w[i][0] == '-')
			continue;
		if (!literal(ws->w[i]) || is(ws->w[i], "|") || ws->w[i][0] == '>') {
			free(v);
			return NULL;
		}
		n = v ? xasprintf("%s %s", v, ws->w[i]) : xstrdup(ws->w[i]);
		free(v);
		v = n;
	}
	return v;
}

/* systemctl, modprobe/rmmod, virsh, cpupower, sysctl, sleep. */
static bool rec_command(const struct import_words *ws, bool release, struct hit *h)
{
	const char *c = ws->w[0];
	_cleanup_free_ char *args = ws->n > 1 ? args_from(ws, 1) : NULL;

	if (is(c, "sleep"))
		return dropped(h, "hookd waits for each step to take effect itself, bounded by its timeout");
	if (!args)
		return false;
	if (is(c, "systemctl") && ws->n > 2 && (is(ws->w[1], "stop") || is(ws->w[1], "start"))) {
		_cleanup_free_ char *units = args_from(ws, 2);
		char *v = NULL;

		for (char *save = NULL, *u = strtok_r(units, " ", &save); u; u = strtok_r(NULL, " ", &save)) {
			char *n = xasprintf("%s%s%s%s", v ? v : "", v ? " " : "", u, strchr(u, '.') ? "" : ".service");

			free(v);
			v = n;
		}
		key_hit(h, N_STOP, v ? v : "", is(ws->w[1], "start"));
		free(v);
		return v != NULL;
	}
	if (is(c, "systemctl") && ws->n > 2 && is(ws->w[1], "set-property"))
		for (size_t i = 2; i < ws->n; i++)
			if (strncmp(ws->w[i], "AllowedCPUs=", 12) == 0 && literal(ws->w[i]))
				return key_hit(h, N_HOST, ws->w[i] + 12, release);
	if (is(c, "rmmod") || (is(c, "modprobe") && (is(ws->w[1], "-r") || is(ws->w[1], "--remove"))))
		return key_hit(h, release ? N_LOAD : N_UNLOAD, args, release);
	if (is(c, "modprobe"))
		return key_hit(h, release ? N_UNLOAD : N_LOAD, args, release);
	if (is(c, "virsh") && ws->n == 3 && (is(ws->w[1], "nodedev-detach") || is(ws->w[1], "nodedev-reattach"))) {
		_cleanup_free_ char *a = virsh_address(ws->w[2]);

		return a && key_hit(h, N_DEVICES, a, is(ws->w[1], "nodedev-reattach"));
	}
	if (is(c, "cpupower") && ws->n == 4 && is(ws->w[1], "frequency-set") &&
	    (is(ws->w[2], "-g") || is(ws->w[2], "--governor")))
		return key_hit(h, N_GOVERNOR, ws->w[3], release);
	if (is(c, "sysctl") && strncmp(args, "vm.nr_hugepages=", 16) == 0 && !strchr(args, ' '))
		return key_hit(h, N_HP_PAGES, args + 16, is(args + 16, "0"));
	return false;
}

static void add_line(char **list, const char *line)
{
	char *joined = *list ? xasprintf("%s\n%s", *list, line) : xstrdup(line);

	free(*list);
	*list = joined;
}

/* "FILE:LINE: text note", control characters as '?', short enough for an INI line. */
static char *cite(const struct import_script *sc, unsigned line, const char *text, const char *note)
{
	char *c = xasprintf("%.50s:%u: %.60s%s%s", sc->rel, line, text + strspn(text, " \t"), note ? " " : "",
			    note ? note : "");

	if (strlen(c) > 170)
		strcpy(c + 166, "...");

	for (char *p = c; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = '?';
	return c;
}

static bool has_word(const char *list, const char *w)
{
	size_t l = strlen(w);

	for (const char *p = list; p && (p = strstr(p, w)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || !p[l]))
			return true;
	return false;
}

/* Adds a prepare line's value to its key; false when it conflicts with a value set before. */
static bool set_key(struct import_native *n, int key, const char *value)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;

	if (!nkeys[key].list) {
		if (n->value[key] && !is(n->value[key], value))
			return false;
		free(n->value[key]);
		n->value[key] = xstrdup(value);
		return true;
	}
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!has_word(n->value[key], w)) {
			char *v = n->value[key] ? xasprintf("%s %s", n->value[key], w) : xstrdup(w);

			free(n->value[key]);
			n->value[key] = v;
		}
	return true;
}

/* Does a release line undo what a prepare line's key does? */
static bool undoes(const struct import_native *n, int key, const char *value)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *save = NULL;
	bool all = n->value[key] != NULL;

	if (!nkeys[key].list || !all)
		return all;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		all &= has_word(n->value[key], w);
	return all;
}

static bool noop_line(const struct import_words *ws)
{
	static const char *const noops[] = { "set",  "true", ":",    "source", ".", "fi", "done",
					     "esac", "else", "then", "do",     "{", "}",  "exit" };
	const char *c = ws->w[0];
	bool redirect = false;

	for (size_t i = 1; i < ws->n; i++)
		redirect |= is(ws->w[i], "|") || ws->w[i][0] == '>';
	if (is(c, "exit"))
		return ws->n == 1 || is(ws->w[1], "0");
	for (size_t i = 0; i < ARRAY_SIZE(noops); i++)
		if (is(c, noops[i]))
			return !redirect;
	if ((is(c, "echo") || is(c, "printf")) && !redirect)
		return !ws->compound;
	if (is(c, "export") && ws->n == 2)
		c = ws->w[1];
	else if (ws->n != 1)
		return false;
	return strchr(c, '=') && c[0] != '=' && !ws->compound && literal(strchr(c, '=')) &&
	       strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
		       (size_t)(strchr(c, '=') - c);
}

/* The kind of a line that a recogniser read as key = value. */
static enum kind judge(struct import_native *n, const struct hit *h, bool release, const char **why)
{
	if (!release && !h->undo_form) {
		if (h->key == N_HP_SIZE) { /* "SIZE PAGES": both [hugepages] keys */
			_cleanup_free_ char *size = xstrdup(h->value);
			char *pages = strchr(size, ' ');

			*pages++ = '\0';
			if (set_key(n, N_HP_SIZE, size) && set_key(n, N_HP_PAGES, pages))
				return K_MAPPED;
		} else if (set_key(n, h->key, h->value)) {
			return K_MAPPED;
		}
		*why = "(not mapped: another line sets a different value)";
		return K_UNMAPPED;
	}
	if (release && h->undo_form && undoes(n, h->key, h->value))
		return K_UNDO;
	*why = release && h->undo_form ? "(not mapped: it undoes what no prepare line does)"
	       : release               ? "(not mapped: a release line that acts like a prepare step)"
				       : "(not mapped: a prepare line that undoes a step)";
	return K_UNMAPPED;
}

static enum kind classify(struct import_native *n, const char *text, bool release, bool started, int *key,
			  const char **why)
{
	struct import_words ws;
	struct hit h = { .key = -1, .kind = K_NOOP };
	enum kind k = K_UNMAPPED;

	import_split_words(text, &ws);
	if (ws.n == 0 || noop_line(&ws))
		k = K_NOOP;
	else if (ws.compound)
		*why = "(not mapped: more than one command, a variable or a substitution)";
	else if (rec_command(&ws, release, &h) || rec_write(&ws, release, &h))
		k = h.key < 0 ? h.kind : started ? K_UNMAPPED : judge(n, &h, release, why);
	else if (strchr(text, '$'))
		*why = "(not mapped: a variable, whose value is known only when the script runs)";
	if (h.key < 0 && h.kind == K_DROPPED)
		*why = h.why;
	else if (started && h.key >= 0)
		*why = "(not mapped: native sections act at prepare, this ran at started)";
	*key = k == K_MAPPED || k == K_UNDO ? h.key : -1;
	free(h.value);
	import_words_free(&ws);
	return k;
}

/* Blocks (if/for/while/case ... fi/done/esac) the line opens or closes, for the "ran conditionally" note. */
static int block_change(const char *text)
{
	const char *t = text + strspn(text, " \t");
	static const char *const open_kw[] = { "if ", "for ", "while ", "until ", "case " };
	static const char *const close_kw[] = { "fi", "done", "esac" };

	for (size_t i = 0; i < ARRAY_SIZE(open_kw); i++)
		if (strncmp(t, open_kw[i], strlen(open_kw[i])) == 0)
			return strstr(t, "; fi") || strstr(t, "; done") || strstr(t, "esac") ? 0 : 1;
	for (size_t i = 0; i < ARRAY_SIZE(close_kw); i++)
		if (strncmp(t, close_kw[i], strlen(close_kw[i])) == 0 &&
		    !isalnum((unsigned char)t[strlen(close_kw[i])]))
			return -1;
	return 0;
}

static void note_line(struct import_native *n, const struct import_script *sc, unsigned line, const char *text,
		      enum kind k, int key, const char *why, int depth)
{
	_cleanup_free_ char *c = NULL, *drop = why && k == K_DROPPED ? xasprintf("(not needed: %s)", why) : NULL;

	if (k == K_MAPPED || k == K_UNDO)
		c = cite(sc, line, text,
			 k == K_UNDO ? "(its undo: hookd does it on release by itself)"
			 : depth > 0 ? "(inside a block: it ran only under its condition)"
				     : NULL);
	else if (k == K_DROPPED || k == K_UNMAPPED)
		c = cite(sc, line, text, k == K_DROPPED ? drop : why);
	if (k == K_MAPPED || k == K_UNDO)
		add_line(&n->cites[key], c);
	else if (k == K_DROPPED)
		add_line(&n->dropped, c);
	else if (k == K_UNMAPPED)
		add_line(&n->unmapped, c);
}

static void read_script(struct import_native *n, const struct import_script *sc, enum import_point p)
{
	struct script_lines *sl;
	unsigned line = 0;
	int depth = 0;

	n->s = xrealloc(n->s, (n->n_s + 1) * sizeof(*n->s));
	sl = &n->s[n->n_s++];
	*sl = (struct script_lines){ .sc = sc };
	for (const char *l = sc->text; *l; l += strcspn(l, "\n"), l += *l == '\n') {
		_cleanup_free_ char *text = strndup(l, strcspn(l, "\n"));
		const char *why = NULL;
		int key = -1;
		enum kind k = line == 0 && strncmp(text, "#!", 2) == 0
				      ? K_NOOP
				      : classify(n, text, p == IMPORT_RELEASE, p == IMPORT_STARTED, &key, &why);

		line++;
		sl->notes = xrealloc(sl->notes, line * sizeof(*sl->notes));
		sl->notes[line - 1] = (struct line_note){ .kind = k, .key = key };
		note_line(n, sc, line, text, k, key, why, depth);
		depth += block_change(text);
		sl->n = line;
	}
}

struct import_native *import_native_new(const struct import_vm *vm)
{
	static const enum import_point order[] = { IMPORT_PREPARE, IMPORT_STARTED, IMPORT_RELEASE };
	struct import_native *n = xcalloc(1, sizeof(*n));

	for (size_t o = 0; o < ARRAY_SIZE(order); o++)
		for (size_t i = 0; i < vm->n[order[o]]; i++)
			if (!vm->scripts[order[o]][i].sourced_by)
				read_script(n, &vm->scripts[order[o]][i], order[o]);
	/* [cpus] irqs needs host: without it the IRQ lines are not mapped after all */
	if (n->value[N_IRQS] && !n->value[N_HOST]) {
		for (size_t i = 0; i < n->n_s; i++)
			for (size_t l = 0; l < n->s[i].n; l++)
				if (n->s[i].notes[l].key == N_IRQS)
					n->s[i].notes[l] = (struct line_note){ .kind = K_UNMAPPED, .key = -1 };
		add_line(&n->unmapped, "(the IRQ affinity lines: [cpus] irqs = yes needs host =, which no line sets)");
		free(n->value[N_IRQS]), free(n->cites[N_IRQS]);
		n->value[N_IRQS] = n->cites[N_IRQS] = NULL;
	}
	return n;
}

void import_native_free(struct import_native *n)
{
	if (!n)
		return;
	for (size_t k = 0; k < N_KEYS; k++)
		free(n->value[k]), free(n->cites[k]);
	for (size_t i = 0; i < n->n_s; i++)
		free(n->s[i].notes);
	free(n->s);
	free(n->dropped);
	free(n->unmapped);
	free(n);
}

static const struct script_lines *lines_of(const struct import_native *n, const struct import_script *sc)
{
	for (size_t i = 0; i < n->n_s; i++)
		if (n->s[i].sc == sc)
			return &n->s[i];
	return NULL;
}

bool import_native_keeps(const struct import_native *n, const struct import_script *sc)
{
	const struct script_lines *sl = lines_of(n, sc);

	for (size_t l = 0; sl && l < sl->n; l++)
		if (sl->notes[l].kind == K_UNMAPPED)
			return true;
	return !sl;
}

char *import_native_rest(const struct import_native *n, const struct import_script *sc)
{
	const struct script_lines *sl = lines_of(n, sc);
	char *buf = NULL;
	size_t size = 0, line = 0;
	bool changed = false;
	FILE *f = xopen_memstream(&buf, &size);

	for (const char *l = sc->text; *l; l += strcspn(l, "\n"), l += *l == '\n', line++) {
		int len = (int)strcspn(l, "\n");
		const struct line_note *ln = sl && line < sl->n ? &sl->notes[line] : NULL;

		if (ln && (ln->kind == K_MAPPED || ln->kind == K_UNDO)) {
			fprintf(f, ": # now [%s] %s (hookd import --native): %.*s\n", nkeys[ln->key].section,
				nkeys[ln->key].key, len, l);
			changed = true;
		} else {
			fprintf(f, "%.*s%s", len, l, l[len] ? "\n" : "");
		}
	}
	if (fclose(f) != 0)
		abort();
	if (!changed) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void put_lines(FILE *f, const char *prefix, const char *lead, const char *lines)
{
	_cleanup_free_ char *copy = xstrdup(lines);
	char *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		fprintf(f, "%s%s%s\n", prefix, lead, l);
}

/* Where the native key does not do exactly what the lines did: said, never left to be found out. */
static const char *const key_notes[N_KEYS] = {
	[N_DEVICES] = "hookd binds them to vfio-pci itself: a hook must not call libvirt (virsh can deadlock there)",
	[N_HP_PAGES] = "the pages the VM needs (free ones count), of size = auto: the XML's page size, else the "
		       "host's default; release gives back exactly what prepare added",
	[N_HOST] = "hookd confines system.slice, user.slice and init.scope to them",
	[N_IRQS] = "hookd moves every IRQ and default_smp_affinity to the host's CPUs",
	[N_GOVERNOR] = "on the VM's CPUs (its <vcpupin>, else those outside host), not all; release restores "
		       "what it found",
};

bool import_native_put(FILE *f, const struct import_native *n, const char *prefix)
{
	const char *section = NULL;
	bool any = false;

	for (size_t k = 0; k < N_KEYS; k++) {
		if (!n->value[k])
			continue;
		if (!section || !is(section, nkeys[k].section))
			fprintf(f, "%s\n%s[%s]\n", any ? prefix : "", prefix, nkeys[k].section);
		section = nkeys[k].section;
		any = true;
		put_lines(f, prefix, "; ", n->cites[k]);
		if (key_notes[k] && (k != N_HP_PAGES || !n->value[N_HP_SIZE]))
			fprintf(f, "%s; note: %s\n", prefix, key_notes[k]);
		fprintf(f, "%s%s = %s\n", prefix, nkeys[k].key, n->value[k]);
	}
	if (n->dropped) {
		fprintf(f, "%s\n%s; Lines that need no step:\n", prefix, prefix);
		put_lines(f, prefix, ";   ", n->dropped);
	}
	if (n->unmapped) {
		fprintf(f, "%s\n%s; Lines that stay in [exec] steps (nothing native does them):\n", prefix, prefix);
		put_lines(f, prefix, ";   ", n->unmapped);
	}
	return any;
}
