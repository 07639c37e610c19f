#include "vmconfig.h"

#include <errno.h>
#include <ini.h>
#include <string.h>

struct vm_parse {
	struct vm_config *c;
	struct err *e;
	FILE *f;
	unsigned line;
	int failed;
};

static int section_start(struct vm_parse *p, const char *header)
{
	struct vm_config *c = p->c;
	const struct action_ops *ops;
	char name[128];
	const char *end = strchr(header, ']');
	size_t n;

	if (!end)
		return err_set(p->e, -EINVAL, "%s:%u: unterminated section header", c->path, p->line);
	n = (size_t)(end - header);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, header, n);
	name[n] = '\0';
	strstrip(name);
	ops = action_find(name);
	if (!ops) {
		char known[256] = "";

		for (size_t i = 0; action_table[i]; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s[%s]", i ? ", " : "",
				 action_table[i]->name);
		return err_set(p->e, -EINVAL, "%s:%u: unknown section [%s] (known: %s)", c->path, p->line, name,
			       known);
	}
	for (size_t i = 0; i < c->n_sections; i++)
		if (c->sections[i].ops == ops)
			return err_set(p->e, -EINVAL, "%s:%u: duplicate section [%s] (first at line %u)", c->path,
				       p->line, name, c->sections[i].line);
	c->sections = xrealloc(c->sections, (c->n_sections + 1) * sizeof(*c->sections));
	c->sections[c->n_sections] = (struct vm_section){ .ops = ops, .line = p->line,
							  .data = xcalloc(1, ops->data_size) };
	ops->init(c->sections[c->n_sections].data);
	c->n_sections++;
	return 0;
}

/* Reads one line for inih, counting lines and registering section headers in file order. */
static char *vm_reader(char *str, int num, void *stream)
{
	struct vm_parse *p = stream;
	char *s = fgets(str, num, p->f);
	const char *t;

	if (!s || p->failed)
		return NULL;
	p->line++;
	t = s + strspn(s, " \t");
	if (*t == '[' && section_start(p, t + 1) < 0) {
		p->failed = 1;
		return NULL;
	}
	return s;
}

static int vm_handler(void *user, const char *section, const char *name, const char *value)
{
	struct vm_parse *p = user;
	struct vm_config *c = p->c;
	struct vm_section *s;
	int r;

	if (!section[0] || c->n_sections == 0) {
		err_set(p->e, -EINVAL, "%s:%u: '%s' outside of any section", c->path, p->line, name);
		return 0;
	}
	s = &c->sections[c->n_sections - 1];
	r = s->ops->set(s->data, name, value, p->e);
	if (r == -ENOENT) {
		err_set(p->e, -EINVAL, "%s:%u: unknown key '%s' in [%s]", c->path, p->line, name, s->ops->name);
		return 0;
	}
	if (r < 0) {
		err_prefix(p->e, r, "%s:%u: [%s] %s: ", c->path, p->line, s->ops->name, name);
		return 0;
	}
	return 1;
}

static int vm_finish(struct vm_config *c, struct err *e)
{
	for (size_t i = 0; i < c->n_sections; i++) {
		struct vm_section *s = &c->sections[i];
		int r = s->ops->finish ? s->ops->finish(s->data, e) : 0;

		if (r < 0)
			return err_prefix(e, r, "%s:%u: [%s]: ", c->path, s->line, s->ops->name);
	}
	return 0;
}

int vmconfig_load(const char *path, struct vm_config **out, struct err *e)
{
	struct vm_config *c;
	struct vm_parse p = { .e = e };
	int r = conf_open(path, &p.f, e);

	if (r < 0)
		return r;
	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	p.c = c;
	e->msg[0] = '\0';
	r = ini_parse_stream(vm_reader, &p, vm_handler, &p);
	fclose(p.f);
	if (r != 0 || p.failed) {
		if (!e->msg[0])
			err_set(e, -EINVAL, "%s:%d: syntax error (expected [section] or 'key = value')", path,
				r > 0 ? r : (int)p.line);
		vmconfig_free(c);
		return -EINVAL;
	}
	r = vm_finish(c, e);
	if (r < 0) {
		vmconfig_free(c);
		return r;
	}
	*out = c;
	return 0;
}

void vmconfig_free(struct vm_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_sections; i++) {
		if (c->sections[i].ops->free_data)
			c->sections[i].ops->free_data(c->sections[i].data);
		free(c->sections[i].data);
	}
	free(c->sections);
	free(c->path);
	free(c);
}
