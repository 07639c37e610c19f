/* hookd: the command line around the hook (check, inspect, plan, run, status, restore). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>

#include "cli_apparmor.h"
#include "cli_devices.h"
#include "cli_doctor.h"
#include "cli_edit.h"
#include "cli_import.h"
#include "cli_install.h"
#include "cli_new.h"
#include "cli_virt.h"
#include "domain.h"
#include "engine.h"
#include "journal.h"
#include "log.h"
#include "phase.h"
#include "plan.h"
#include "shared.h"
#include "sysfs.h"
#include "trust.h"
#include "vmconfig.h"

struct cli {
	const char *conf_path;
	const char *root;
	int verbose;
	struct hookd_conf conf;
	/* per-command options */
	const char *xml_path;
	const char *phase;
	bool json;
	struct install_opts install;
	struct import_opts import;
};

static const char usage_text[] =
	"Usage: hookd [--root DIR] [--conf FILE] [-v|-q] COMMAND ...\n"
	"Prepares a host for GPU-passthrough VMs: the libvirt hook's command line.\n"
	"\n"
	"Commands:\n"
	"  check [VM...]                     validate hookd.conf and per-VM INI files (all when none named),\n"
	"                                    and whether libvirt's AppArmor profile lets it run the hook\n"
	"  inspect VM [--xml FILE] [--json]  what hookd reads from the domain XML\n"
	"  plan VM [--xml FILE] [--phase PHASE] [--json]\n"
	"                                    dry run: every step and file write; touches nothing\n"
	"  run VM PHASE [--xml FILE]         run one phase as the hook would (prepare, started, release)\n"
	"  status [--json]                   what each VM holds now, from the journals\n"
	"  restore VM                        revert what VM's journal still holds\n"
	"  install [--chain] [--reload] [--hooks-dir DIR] [--hook PATH]\n"
	"                                    put /etc/libvirt/hooks/qemu in place (--chain keeps a\n"
	"                                    previous hook and runs it after hookd's steps)\n"
	"  import DIR [--vm VM] [--force] [--stdout] [--native]\n"
	"                                    turn a qemu.d/<vm>/<op>/<subop>/* script tree into INI\n"
	"                                    files whose [exec] steps run hookd's copies of the scripts\n"
	"                                    (--native: native sections for the lines it recognises)\n"
	"  devices [--json]                  PCI devices by IOMMU group: drivers, GPUs and companions,\n"
	"                                    which groups can be passed through as they are\n"
	"  doctor [VM...] [--xml FILE] [--json]\n"
	"                                    is this host, and each VM, ready? one ok/warn/FAIL line per\n"
	"                                    check, with the next step; read-only\n"
	"  new VM [--xml FILE] [--stdout]    write VM's INI from its domain XML and the host (never\n"
	"                                    over an existing one)\n"
	"  edit VM                           edit VM's INI in $VISUAL/$EDITOR; put in place only once\n"
	"                                    it passes check\n"
	"\n"
	"Options:\n"
	"  --conf FILE   global configuration (default " HOOKD_CONF_FILE ")\n"
	"  --root DIR    act on DIR/sys, DIR/proc, DIR/dev instead of the live system (tests, dry runs)\n"
	"  -v, -q        more, less output;  -h, --help;  --version\n"
	"Without --xml, the domain XML is fetched from libvirtd (qemu:///system).\n"
	"Exit status: 0 ok, 1 an action failed (rolled back), 2 usage or configuration error.\n"
	"See hookd(8), hookd.conf(5), hookd.ini(5).\n";

static int __attribute__((format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hookd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'hookd --help'.\n", stderr);
	return EXIT_CONFIG;
}

/* Parses the options that follow command name; only those whose letters are in `allowed` are
 * accepted (`hookd check --json` is refused, not silently ignored). */
static int parse_cmd_opts(struct cli *c, const char *name, const char *allowed, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xml", required_argument, NULL, 'x' },
		{ "phase", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "chain", no_argument, NULL, 'C' },
		{ "reload", no_argument, NULL, 'R' },
		{ "hooks-dir", required_argument, NULL, 'D' },
		{ "hook", required_argument, NULL, 'H' },
		{ "vm", required_argument, NULL, 'M' },
		{ "force", no_argument, NULL, 'F' },
		{ "stdout", no_argument, NULL, 'S' },
		{ "native", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o, idx;

	optind = 0; /* GNU getopt: 0 re-initialises, so options after positionals are found */
	while ((o = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
		if (o != 'h' && o != '?' && o != ':' && !strchr(allowed, o)) {
			usage_error("%s: --%s is not an option of this command", name, opts[idx].name);
			return -EINVAL;
		}
		switch (o) {
		case 'x': c->xml_path = optarg; break;
		case 'p': c->phase = optarg; break;
		case 'j': c->json = true; break;
		case 'C': c->install.chain = true; break;
		case 'R': c->install.reload = true; break;
		case 'D': c->install.hooks_dir = optarg; break;
		case 'H': c->install.hook = optarg; break;
		case 'M': c->import.only_vm = optarg; break;
		case 'F': c->import.force = true; break;
		case 'S': c->import.to_stdout = true; break;
		case 'N': c->import.native = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default: return -EINVAL;
		}
	}
	return 0;
}

static int read_xml(const struct cli *c, const char *vm, bool inactive, char **xml, size_t *len, struct err *e)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (!c->xml_path) {
		r = virt_domain_xml(vm, inactive, xml, e);
		if (r == 0)
			*len = strlen(*xml);
		return r;
	}
	fd = strcmp(c->xml_path, "-") == 0 ? dup(STDIN_FILENO) : open(c->xml_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", c->xml_path, strerror(errno));
	r = read_all_fd(fd, XML_MAX, xml, len);
	if (r < 0)
		return err_set(e, r, "%s: %s", c->xml_path, xml_read_strerror(r));
	return 0;
}

static int load_domain(const struct cli *c, const char *vm, bool inactive, struct domain **dom, struct err *e)
{
	_cleanup_free_ char *xml = NULL;
	size_t len = 0;
	int r = read_xml(c, vm, inactive, &xml, &len, e);

	if (r < 0)
		return r;
	r = domain_parse(xml, len, dom, e);
	if (r < 0)
		return err_prefix(e, r, "%s: ", c->xml_path ? c->xml_path : vm);
	for (size_t i = 0; i < (*dom)->n_warnings; i++)
		fprintf(stderr, "hookd: warning: %s: %s\n", c->xml_path ? c->xml_path : vm, (*dom)->warnings[i]);
	return 0;
}

static int check_one(const char *path)
{
	struct vm_config *cfg;
	struct err e;

	if (vmconfig_load(path, &cfg, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg[0] ? e.msg : path);
		return 1;
	}
	printf("%s: ok (", path);
	for (size_t i = 0; i < cfg->n_sections; i++)
		printf("%s[%s]", i ? " " : "", cfg->sections[i].ops->name);
	printf(")\n");
	vmconfig_free(cfg);
	return 0;
}

/* The per-VM INI files: those named, or every one in hooks_dir. Returns how many are bad. */
static int check_inis(struct cli *c, int argc, char **argv)
{
	_cleanup_strv_ struct strv vms = { 0 };
	int bad = 0, r;

	for (int i = 0; i < argc; i++) {
		_cleanup_free_ char *ini = conf_vm_ini_path(&c->conf, argv[i]);

		if (!ini || access(ini, F_OK) < 0) {
			fprintf(stderr, "%s: no INI file for VM '%s' (hookd does nothing for it)\n",
				ini ? ini : argv[i], argv[i]);
			bad++;
			continue;
		}
		bad += check_one(ini);
	}
	if (argc > 0)
		return bad;
	r = vmconfig_list_vms(c->conf.hooks_dir, &vms);
	if (r < 0) {
		fprintf(stderr, "%s: %s\n", c->conf.hooks_dir, strerror(-r));
		return r == -ENOENT ? 0 : 1;
	}
	for (size_t i = 0; i < vms.n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s.ini", c->conf.hooks_dir, vms.v[i]);

		bad += check_one(p);
	}
	return bad;
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	struct err e;
	int bad = 0;

	printf("%s: ok\n", c->conf.path ? c->conf.path : "(no hookd.conf: defaults)");
	if (c->conf.chain && trust_program(c->conf.chain, &e) < 0) {
		fprintf(stderr, "chain: the hook would refuse to run it: %s\n", e.msg);
		bad++;
	}
	bad += check_inis(c, argc, argv);
	/* libvirt's profile may refuse to exec the hook at all: then no INI file matters */
	if (cli_aa_check_hook(&c->conf, c->verbose) != EXIT_OK)
		bad++;
	return bad ? EXIT_CONFIG : EXIT_OK;
}

static int cmd_inspect(struct cli *c, int argc, char **argv)
{
	struct domain *dom;
	struct err e;

	if (argc < 1 && !c->xml_path)
		return usage_error("inspect: %s", "name a VM or give --xml FILE");
	if (load_domain(c, argc ? argv[0] : "", true, &dom, &e) < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		return EXIT_CONFIG;
	}
	if (c->json)
		domain_print_json(dom, stdout);
	else
		domain_print_text(dom, stdout);
	domain_free(dom);
	return EXIT_OK;
}

/* `plan --phase release`: what the journal holds, in the order release undoes it. */
static int plan_release(struct cli *c, const char *vm)
{
	_cleanup_free_ char *path = NULL;
	struct journal *j;
	struct err e;
	int r = journal_find_vm(c->conf.state_dir, vm, NULL, &path, &e);

	if (r == -ENOENT) {
		printf("VM %s, phase release: no journal, nothing to restore\n", vm);
		return EXIT_OK;
	}
	if (r < 0 || journal_load(path, &j, &e) < 0) {
		fprintf(stderr, "hookd: %s: the release would fail: %s\n", vm, e.msg);
		return EXIT_ACTION_FAILED;
	}
	printf("VM %s, phase release: %zu step%s to revert, newest first (journal %s)\n", vm, j->n,
	       j->n == 1 ? "" : "s", path);
	for (size_t i = j->n; i-- > 0;)
		printf("%3zu. [%s] undo %s %s (set '%s'; journal saved '%s')%s\n", j->n - i, j->recs[i].action,
		       j->recs[i].op, j->recs[i].target, j->recs[i].value, j->recs[i].saved,
		       j->recs[i].state == REC_INTENT ? " (interrupted)" : "");
	journal_free(j);
	return EXIT_OK;
}

static int cmd_plan(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ char *ini = NULL;
	struct vm_config *cfg = NULL;
	struct domain *dom = NULL;
	struct plan *plan = NULL;
	struct action_ctx ctx = { .conf = &c->conf, .describe = true };
	struct engine_view view;
	enum phase ph = PHASE_PREPARE;
	struct err e;
	int r, code = EXIT_OK;

	if (argc < 1)
		return usage_error("plan: %s", "name a VM");
	ctx.vm = argv[0];
	if (c->phase && phase_from_name(c->phase, &ph) < 0)
		return usage_error("plan: unknown phase '%s' (prepare, started, release, ...)", c->phase);
	if (ph == PHASE_RELEASE)
		return plan_release(c, argv[0]);
	ini = conf_vm_ini_path(&c->conf, argv[0]);
	r = ini ? vmconfig_load(ini, &cfg, &e) : -ENOENT;
	if (r == -ENOENT) {
		printf("VM %s: no INI file (%s): hookd does nothing for it\n", argv[0], ini ? ini : "bad name");
		return EXIT_OK;
	}
	if (r < 0 || load_domain(c, argv[0], true, &dom, &e) < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		vmconfig_free(cfg);
		return EXIT_CONFIG;
	}
	ctx.dom = dom;
	if (phase_plan(&ctx, cfg, ph, false, &view, &plan, &e) < 0) {
		fprintf(stderr, "hookd: %s: the %s would fail: %s\n", argv[0], phase_name(ph), e.msg);
		code = EXIT_ACTION_FAILED;
	} else {
		if (view.blind)
			fprintf(stderr,
				"hookd: warning: cannot read %s (run as root): this plan does not count what other running VMs hold\n",
				c->conf.state_dir);
		if (c->json)
			plan_print_json(plan, argv[0], stdout);
		else
			plan_print_text(plan, argv[0], stdout);
		engine_view_close(&view);
	}
	plan_free(plan);
	domain_free(dom);
	vmconfig_free(cfg);
	return code;
}

static int cmd_run(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ char *xml = NULL;
	struct err e = { "" };
	enum phase ph;
	size_t len = 0;
	int code;

	if (argc < 2)
		return usage_error("run: %s", "expected VM PHASE");
	if (phase_from_name(argv[1], &ph) < 0)
		return usage_error("run: unknown phase '%s' (prepare, started, release, ...)", argv[1]);
	if ((ph != PHASE_RELEASE || c->xml_path) && read_xml(c, argv[0], ph == PHASE_PREPARE, &xml, &len, &e) < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		return EXIT_CONFIG;
	}
	log_open(c->verbose > 0 ? LOG_TARGET_STDERR : c->conf.log, c->conf.log_file, argv[0], argv[1]);
	code = phase_run(&c->conf, argv[0], argv[1], xml, len, &e);
	if (code != EXIT_OK)
		fprintf(stderr, "hookd: %s %s: %s\n", argv[0], argv[1], e.msg);
	else if (c->verbose >= 0)
		printf("%s %s: ok\n", argv[0], argv[1]);
	return code;
}

struct status_out {
	bool json;
	int count;
	struct journal **all; /* every journal seen, for the stale baselines */
	size_t n_all;
	bool unreadable;
};

static void print_unreadable(struct status_out *s, const struct journal *j)
{
	s->unreadable = true;
	if (!s->json) {
		printf("UNREADABLE %s: %s (release and restore of its VM fail until it is fixed or removed)\n", j->path,
		       j->unreadable);
		return;
	}
	fputs(s->count ? ", {\"journal\": " : "{\"journal\": ", stdout);
	json_string(stdout, j->path);
	json_member(stdout, "error", j->unreadable);
	fputs("}", stdout);
}

static int print_status(struct journal *j, void *arg)
{
	struct status_out *s = arg;

	s->all = xrealloc(s->all, (s->n_all + 1) * sizeof(*s->all));
	s->all[s->n_all++] = journal_dup(j);
	if (j->unreadable)
		print_unreadable(s, j);
	else if (!s->json) {
		printf("%s%s%s: %zu step%s held (%s)\n", j->vm, j->uuid[0] ? " " : "", j->uuid, j->n,
		       j->n == 1 ? "" : "s", j->path);
		for (size_t i = 0; i < j->n; i++)
			printf("  %-6s [%s] %s %s -> %s (was '%s')\n", j->recs[i].state == REC_DONE ? "done" : "intent",
			       j->recs[i].action, j->recs[i].op, j->recs[i].target, j->recs[i].value, j->recs[i].saved);
	} else {
		fputs(s->count ? ", {\"vm\": " : "{\"vm\": ", stdout);
		json_string(stdout, j->vm);
		json_member(stdout, "uuid", j->uuid);
		json_member(stdout, "journal", j->path);
		fputs(", \"steps\": [", stdout);
		for (size_t i = 0; i < j->n; i++) {
			const struct journal_rec *r = &j->recs[i];

			printf("%s{\"state\": \"%s\"", i ? ", " : "", r->state == REC_DONE ? "done" : "intent");
			json_member(stdout, "action", r->action);
			json_member(stdout, "op", r->op);
			json_member(stdout, "target", r->target);
			json_member(stdout, "value", r->value);
			json_member(stdout, "saved", r->saved);
			fputc('}', stdout);
		}
		fputs("]}", stdout);
	}
	s->count++;
	return 0;
}

/* A file a killed run left in state_dir: the next run under the lock removes it. */
static void print_leftover(const char *path, const char *why, void *arg)
{
	struct status_out *s = arg;

	if (!s->json) {
		printf("leftover %s: %s (the next hookd run removes it)\n", path, why);
		return;
	}
	fputs(s->count++ ? ", {\"path\": " : ", \"leftovers\": [{\"path\": ", stdout);
	json_string(stdout, path);
	json_member(stdout, "why", why);
	fputs("}", stdout);
}

static int cmd_status(struct cli *c, int argc, char **argv)
{
	struct status_out s = { c->json, 0, NULL, 0, false };
	struct err e;
	int r;

	(void)argc, (void)argv;
	if (c->json)
		fputs("{\"vms\": [", stdout);
	r = journal_for_each(c->conf.state_dir, print_status, &s, &e);
	if (r == 0) {
		if (c->json)
			fputs("]", stdout);
		else if (!s.count)
			printf("No VM holds anything (no journal in %s).\n", c->conf.state_dir);
		s.count = 0;
		journal_leftovers(c->conf.state_dir, false, print_leftover, &s);
		if (!s.unreadable) { /* an unreadable journal may hold any baseline */
			_cleanup_free_ struct held_step *held = NULL;
			size_t n = 0;

			journal_held(s.all, s.n_all, NULL, &held, &n);
			shared_leftovers(&c->conf, held, n, false, print_leftover, &s);
		}
		if (c->json)
			fputs(s.count ? "]}\n" : "}\n", stdout);
	}
	for (size_t i = 0; i < s.n_all; i++)
		journal_free(s.all[i]);
	free(s.all);
	if (r < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		return EXIT_CONFIG;
	}
	return s.unreadable ? EXIT_ACTION_FAILED : EXIT_OK;
}

static int cmd_restore(struct cli *c, int argc, char **argv)
{
	_cleanup_free_ char *path = NULL;
	struct action_ctx ctx = { .conf = &c->conf };
	struct err e;
	int r;

	if (argc < 1)
		return usage_error("restore: %s", "name a VM");
	ctx.vm = argv[0];
	r = journal_find_vm(c->conf.state_dir, argv[0], NULL, &path, &e);
	if (r == -ENOENT) {
		printf("%s: nothing to restore (no journal in %s)\n", argv[0], c->conf.state_dir);
		return EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "hookd: restore %s: %s\n", argv[0], e.msg);
		return EXIT_ACTION_FAILED;
	}
	log_open(c->verbose > 0 ? LOG_TARGET_STDERR : c->conf.log, c->conf.log_file, argv[0], "restore");
	if (engine_revert(&ctx, action_table, path, &e) < 0) {
		fprintf(stderr, "hookd: restore %s: %s\n", argv[0], e.msg);
		return EXIT_ACTION_FAILED;
	}
	printf("%s: restored\n", argv[0]);
	return EXIT_OK;
}

static int cmd_install(struct cli *c, int argc, char **argv)
{
	struct install_opts o = c->install;

	(void)argv;
	if (argc > 0)
		return usage_error("install: %s", "takes no arguments");
	if (!o.hooks_dir)
		o.hooks_dir = "/etc/libvirt/hooks";
	if (!o.hook)
		o.hook = HOOKD_HOOK_PATH;
	o.legacy = HOOKD_LEGACY_HOOK_PATH;
	o.conf_path = c->conf_path ? c->conf_path : HOOKD_CONF_FILE;
	return install_run(&c->conf, &o);
}

static int cmd_devices(struct cli *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 0)
		return usage_error("devices: %s", "takes no arguments");
	return devices_print(&c->conf, c->json, stdout) < 0 ? EXIT_CONFIG : EXIT_OK;
}

static int doctor_load(void *arg, const char *vm, struct domain **dom, struct err *e)
{
	return load_domain(arg, vm, true, dom, e);
}

static int cmd_doctor(struct cli *c, int argc, char **argv)
{
	if (c->xml_path && argc != 1)
		return usage_error("doctor: %s", "--xml FILE goes with exactly one VM");
	return doctor_run(&c->conf, argv, (size_t)argc, doctor_load, c, c->json);
}

static int cmd_new(struct cli *c, int argc, char **argv)
{
	struct domain *dom;
	struct err e;
	int code;

	if (argc != 1)
		return usage_error("new: %s", "name one VM");
	if (load_domain(c, argv[0], true, &dom, &e) < 0) {
		fprintf(stderr, "hookd: %s\n", e.msg);
		return EXIT_CONFIG;
	}
	code = new_run(&c->conf, argv[0], dom, c->import.to_stdout);
	domain_free(dom);
	return code;
}

static int cmd_edit(struct cli *c, int argc, char **argv)
{
	if (argc != 1)
		return usage_error("edit: %s", "name one VM");
	return edit_run(&c->conf, argv[0]);
}

static int cmd_import(struct cli *c, int argc, char **argv)
{
	struct import_opts o = c->import;

	if (argc != 1)
		return usage_error("import: %s", "expected the qemu.d directory, e.g. /etc/libvirt/hooks/qemu.d");
	o.dir = argv[0];
	return import_run(&c->conf, &o);
}

static const struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *opts; /* the option letters of parse_cmd_opts it takes */
	int vm_args;      /* how many leading arguments are VM names (-1: all) */
} commands[] = {
	{ "check", cmd_check, "", -1 },        { "inspect", cmd_inspect, "xj", 1 },
	{ "plan", cmd_plan, "xpj", 1 },        { "run", cmd_run, "x", 1 },
	{ "status", cmd_status, "j", 0 },      { "restore", cmd_restore, "", 1 },
	{ "install", cmd_install, "CRDH", 0 }, { "import", cmd_import, "MFSN", 0 },
	{ "devices", cmd_devices, "j", 0 },    { "doctor", cmd_doctor, "xj", -1 },
	{ "new", cmd_new, "xS", 1 },           { "edit", cmd_edit, "", 1 },
};

/* Every VM name is checked once, here, before any command builds a path from it. */
static int check_vm_args(const struct command *cmd, const struct cli *c, int argc, char **argv)
{
	struct err e;
	int n = cmd->vm_args < 0 || cmd->vm_args > argc ? argc : cmd->vm_args;

	for (int i = 0; i < n; i++)
		if (conf_vm_name_check(argv[i], &e) < 0)
			return usage_error("%s: %s", cmd->name, e.msg);
	if (c->import.only_vm && conf_vm_name_check(c->import.only_vm, &e) < 0)
		return usage_error("%s --vm: %s", cmd->name, e.msg);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "conf", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct cli c = { 0 };
	struct err e;
	int o, code;

	std_fds_ensure();
	while ((o = getopt_long(argc, argv, "+vqh", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c.root = optarg; break;
		case 'c': c.conf_path = optarg; break;
		case 'v': c.verbose++; break;
		case 'q': c.verbose--; break;
		case 'h': fputs(usage_text, stdout); return 0;
		case 'V': puts("hookd " HOOKD_VERSION); return 0;
		default: return usage_error("bad option");
		}
	}
	if (optind >= argc)
		return usage_error("no command given");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		int cargc = argc - optind;
		char **cargv = argv + optind;

		if (parse_cmd_opts(&c, commands[i].name, commands[i].opts, cargc, cargv) < 0 ||
		    check_vm_args(&commands[i], &c, cargc - optind, cargv + optind) != 0)
			return EXIT_CONFIG;
		if (conf_load(c.conf_path, c.conf_path != NULL, &c.conf, &e) < 0) {
			fprintf(stderr, "hookd: %s\n", e.msg);
			return EXIT_CONFIG;
		}
		if (c.root)
			conf_set_root(&c.conf, c.root);
		code = commands[i].fn(&c, cargc - optind, cargv + optind);
		conf_free(&c.conf);
		return code;
	}
	return usage_error("unknown command '%s'", argv[optind]);
}
