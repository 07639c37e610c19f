#include "phase.h"

#include <errno.h>
#include <string.h>

#include "domain.h"
#include "engine.h"
#include "journal.h"
#include "log.h"
#include "plan.h"
#include "vmconfig.h"

static int run_release(const struct action_ctx *ctx, struct err *e)
{
	_cleanup_free_ char *path = NULL;
	int r = journal_of_vm(ctx->conf->state_dir, ctx->vm, ctx->dom ? ctx->dom->uuid : NULL, &path, e);

	if (r == -ENOENT)
		return EXIT_OK;
	if (r == 0)
		r = engine_revert(ctx, action_table, path, e);
	return r < 0 ? EXIT_ACTION_FAILED : EXIT_OK;
}

int phase_plan(struct action_ctx *ctx, const struct vm_config *cfg, enum phase ph, bool exclusive,
	       struct engine_view *view, struct plan **plan, struct err *e)
{
	_cleanup_free_ char *path = journal_path_for(ctx->conf->state_dir, ctx->dom->uuid, ctx->vm);
	int r = engine_view_open(ctx->conf, path, exclusive, view, e);

	*plan = NULL;
	if (r < 0)
		return r;
	view->others.own_path = NULL; /* path is ours, and freed here */
	ctx->others = view->others.v;
	ctx->n_others = view->others.n;
	r = plan_build(ctx, cfg, ph, plan, e);
	if (r == 0)
		r = engine_check_conflicts(ctx, *plan, e);
	if (r < 0) {
		plan_free(*plan);
		*plan = NULL;
		engine_view_close(view);
		ctx->others = NULL;
		ctx->n_others = 0;
	}
	return r;
}

static int run_apply(struct action_ctx *ctx, enum phase ph, struct err *e)
{
	_cleanup_free_ char *ini = conf_vm_ini_path(ctx->conf, ctx->vm);
	_cleanup_free_ char *path = NULL;
	struct vm_config *cfg = NULL;
	struct engine_view view;
	struct plan *plan = NULL;
	int r;

	if (!ini)
		return EXIT_OK;
	r = vmconfig_load(ini, &cfg, e);
	if (r == -ENOENT)
		return EXIT_OK;
	if (r < 0)
		return EXIT_CONFIG;
	r = phase_plan(ctx, cfg, ph, true, &view, &plan, e);
	if (r == 0 && (ph == PHASE_PREPARE || plan->n)) {
		path = journal_path_for(ctx->conf->state_dir, ctx->dom->uuid, ctx->vm);
		r = engine_apply(ctx, action_table, plan, path, e);
	}
	if (plan)
		engine_view_close(&view);
	plan_free(plan);
	vmconfig_free(cfg);
	return r < 0 ? EXIT_ACTION_FAILED : EXIT_OK;
}

int phase_run(const struct hookd_conf *conf, const char *vm, const char *phase, const char *xml, size_t len,
	      struct err *e)
{
	struct action_ctx ctx = { .conf = conf, .vm = vm, .xml = xml, .xml_len = xml ? len : 0 };
	struct domain *dom = NULL;
	enum phase ph;
	int code;

	if (phase_from_name(phase, &ph) < 0 || ph == PHASE_NONE)
		return EXIT_OK;
	if (conf_vm_name_check(vm, e) < 0)
		return EXIT_CONFIG;
	if (xml && domain_parse(xml, len, &dom, e) < 0) {
		if (ph != PHASE_RELEASE) {
			err_prefix(e, 0, "domain XML of %s: ", vm);
			return EXIT_CONFIG;
		}
		dom = NULL; /* release still finds the journal by the VM's name */
	}
	if (!dom && ph != PHASE_RELEASE) {
		err_set(e, -EINVAL, "%s: the %s phase needs the domain XML", vm, phase);
		return EXIT_CONFIG;
	}
	for (size_t i = 0; dom && i < dom->n_warnings; i++)
		log_warning("domain XML: %s", dom->warnings[i]);
	ctx.dom = dom;
	code = ph == PHASE_RELEASE ? run_release(&ctx, e) : run_apply(&ctx, ph, e);
	domain_free(dom);
	return code;
}
