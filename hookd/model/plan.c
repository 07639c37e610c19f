#include "plan.h"

#include <errno.h>
#include <string.h>

static const char *const phase_names[] = {
	[PHASE_PREPARE] = "prepare",
	[PHASE_STARTED] = "started",
	[PHASE_RELEASE] = "release",
	[PHASE_NONE] = "none",
};

int phase_from_name(const char *name, enum phase *out)
{
	static const char *const stepless[] = { "start", "stopped", "reconnect", "migrate", "restore", "attach" };

	for (int p = PHASE_PREPARE; p < PHASE_NONE; p++)
		if (strcmp(name, phase_names[p]) == 0) {
			*out = (enum phase)p;
			return 0;
		}
	for (size_t i = 0; i < ARRAY_SIZE(stepless); i++)
		if (strcmp(name, stepless[i]) == 0) {
			*out = PHASE_NONE;
			return 0;
		}
	return -EINVAL;
}

const char *phase_name(enum phase p)
{
	return phase_names[p];
}

struct step *plan_add(struct plan *p, const struct action_ops *ops, const char *op, const char *target,
		      const char *value, char *desc)
{
	struct step *st;

	p->steps = xrealloc(p->steps, (p->n + 1) * sizeof(*p->steps));
	st = &p->steps[p->n++];
	*st = (struct step){ .ops = ops,
			     .op = xstrdup(op),
			     .target = p->label ? xasprintf("%s:%s", p->label, target) : xstrdup(target),
			     .label = p->label ? xstrdup(p->label) : NULL,
			     .section = p->label ? xasprintf("[%s %s]", ops->name, p->label)
						 : xasprintf("[%s]", ops->name),
			     .value = xstrdup(value ? value : ""),
			     .desc = desc,
			     .revertible = true };
	return st;
}

void step_add_write(struct step *st, const char *path, const char *value)
{
	st->writes = xrealloc(st->writes, (st->n_writes + 1) * sizeof(*st->writes));
	st->writes[st->n_writes++] = xasprintf("%s <- %s", path, value);
}

int plan_build(const struct action_ctx *ctx, const struct vm_config *cfg, enum phase phase, struct plan **out,
	       struct err *e)
{
	struct plan *p = xcalloc(1, sizeof(*p));

	p->phase = phase;
	for (size_t i = 0; cfg && phase != PHASE_NONE && i < cfg->n_sections; i++) {
		const struct vm_section *s = &cfg->sections[i];
		int r;

		p->label = s->label;
		r = s->ops->plan(ctx, s->data, phase, p, e);
		p->label = NULL;
		if (r < 0) {
			plan_free(p);
			return err_prefix(e, r, "[%s%s%s] (%s:%u): ", s->ops->name, s->label ? " " : "",
					  s->label ? s->label : "", cfg->path, s->line);
		}
	}
	*out = p;
	return 0;
}

void plan_print_text(const struct plan *p, const char *vm, FILE *out)
{
	fprintf(out, "VM %s, phase %s: %zu step%s\n", vm, phase_name(p->phase), p->n, p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];

		fprintf(out, "%3zu. %s %s%s\n", i + 1, st->section, st->desc,
			st->revertible ? "" : " (kept on release)");
		for (size_t w = 0; w < st->n_writes; w++)
			fprintf(out, "       write %s\n", st->writes[w]);
	}
	if (p->phase == PHASE_PREPARE && p->n)
		fprintf(out, "On release these steps are undone in reverse order, from the journal.\n");
}

void plan_print_json(const struct plan *p, const char *vm, FILE *out)
{
	fputs("{\"vm\": ", out);
	json_string(out, vm);
	fprintf(out, ", \"phase\": \"%s\", \"steps\": [", phase_name(p->phase));
	for (size_t i = 0; i < p->n; i++) {
		const struct step *st = &p->steps[i];

		fputs(i ? ", {\"action\": " : "{\"action\": ", out);
		json_string(out, st->ops->name);
		json_member(out, "op", st->op);
		json_member(out, "target", st->target);
		json_member(out, "value", st->value);
		json_member(out, "description", st->desc);
		fprintf(out, ", \"revert_on_release\": %s, \"writes\": [", st->revertible ? "true" : "false");
		for (size_t w = 0; w < st->n_writes; w++) {
			const char *sep = strstr(st->writes[w], " <- ");

			_cleanup_free_ char *path = strndup(st->writes[w], (size_t)(sep - st->writes[w]));

			fputs(w ? ", {\"path\": " : "{\"path\": ", out);
			json_string(out, path);
			json_member(out, "value", sep + 4);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

void plan_free(struct plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		struct step *st = &p->steps[i];

		free(st->op);
		free(st->target);
		free(st->label);
		free(st->section);
		free(st->value);
		free(st->desc);
		for (size_t w = 0; w < st->n_writes; w++)
			free(st->writes[w]);
		free(st->writes);
	}
	free(p->steps);
	free(p);
}
