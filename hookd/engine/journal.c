#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "sysfs.h"
#include "trust.h"

#define JOURNAL_MAGIC "hookd-journal 1"
#define JOURNAL_MAX (1 << 20)

struct journal *journal_new(const char *path, const char *vm, const char *uuid)
{
	struct journal *j = xcalloc(1, sizeof(*j));

	j->path = xstrdup(path);
	j->vm = xstrdup(vm);
	j->uuid = xstrdup(uuid ? uuid : "");
	return j;
}

/* Fields are tab-separated; '%', tab and newline inside a field are %-escaped. */
static void put_field(FILE *f, const char *s)
{
	_cleanup_free_ char *esc = pct_escape(s ? s : "", "\t\n");

	fputc('\t', f);
	fputs(esc, f);
}

/* Takes the next tab-separated field from *cursor, %-decoded; NULL when there is none or it is
 * malformed (a '%' not followed by two hex digits). */
static char *get_field(char **cursor)
{
	char *s = *cursor, *end, *out;

	if (!s)
		return NULL;
	end = strchr(s, '\t');
	if (end) {
		*end = '\0';
		*cursor = end + 1;
	} else
		*cursor = NULL;
	out = xstrdup(s);
	if (pct_unescape(out) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

size_t journal_append(struct journal *j, enum rec_state state, const char *action, const char *op, const char *target,
		      const char *value, const char *saved)
{
	struct journal_rec *r;

	j->recs = xrealloc(j->recs, (j->n + 1) * sizeof(*j->recs));
	r = &j->recs[j->n];
	r->state = state;
	r->action = xstrdup(action);
	r->op = xstrdup(op);
	r->target = xstrdup(target);
	r->value = xstrdup(value ? value : "");
	r->saved = xstrdup(saved ? saved : "");
	return j->n++;
}

ssize_t journal_index(const struct journal *j, const char *action, const char *target)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->recs[i].action, action) == 0 && strcmp(j->recs[i].target, target) == 0)
			return (ssize_t)i;
	return -1;
}

struct step_record journal_step(const struct journal *j, size_t idx)
{
	const struct journal_rec *r = &j->recs[idx];

	return (struct step_record){ r->action, r->op, r->target, r->value, r->saved, r->state == REC_DONE };
}

void journal_held(struct journal *const *journals, size_t n_journals, const char *except_path, struct held_step **v,
		  size_t *n)
{
	for (size_t k = 0; k < n_journals; k++) {
		const struct journal *j = journals[k];

		if (except_path && strcmp(j->path, except_path) == 0)
			continue;
		*v = xrealloc(*v, (*n + j->n + 1) * sizeof(**v));
		for (size_t i = 0; i < j->n; i++)
			(*v)[(*n)++] = (struct held_step){ j->vm, j->path, journal_step(j, i) };
	}
}

/* One line of the journal: "vm\tNAME", "uuid\tUUID" or "step\tSTATE\tACTION\tOP\tTARGET\tVALUE\tSAVED". */
static int parse_line(struct journal *j, char *line)
{
	char *cur = line, *f[7] = { 0 };
	int r = -EINVAL, want;

	f[0] = get_field(&cur);
	want = f[0] && strcmp(f[0], "step") == 0 ? 7 : 2;
	for (int i = 1; i < want; i++)
		f[i] = get_field(&cur);
	for (int i = 0; i < want; i++)
		if (!f[i])
			goto out; /* a missing or malformed field */
	if (cur)
		goto out; /* an extra field */
	if (strcmp(f[0], "vm") == 0 || strcmp(f[0], "uuid") == 0) {
		char **dst = f[0][0] == 'v' ? &j->vm : &j->uuid;

		free(*dst);
		*dst = f[1];
		f[1] = NULL;
		r = 0;
	} else if (want == 7 && (strcmp(f[1], "intent") == 0 || strcmp(f[1], "done") == 0)) {
		journal_append(j, strcmp(f[1], "done") == 0 ? REC_DONE : REC_INTENT, f[2], f[3], f[4], f[5], f[6]);
		r = 0;
	}
out:
	for (int i = 0; i < 7; i++)
		free(f[i]);
	return r;
}

/* The first line: this format, or a clear word on what it is instead. */
static int check_magic(const char *path, const char *buf, struct err *e)
{
	static const char prefix[] = "hookd-journal ";

	if (strncmp(buf, JOURNAL_MAGIC "\n", sizeof(JOURNAL_MAGIC)) == 0)
		return 0;
	if (strncmp(buf, prefix, sizeof(prefix) - 1) == 0) {
		const char *v = buf + sizeof(prefix) - 1;
		int n = (int)strcspn(v, "\n");

		return err_set(
			e, -EINVAL,
			"%s: journal format '%.*s', this hookd reads '%s': written by another hookd version; restore it with that version",
			path, n > 20 ? 20 : n, v, &JOURNAL_MAGIC[sizeof(prefix) - 1]);
	}
	return err_set(e, -EINVAL, "%s: not a hookd journal", path);
}

/* Every line ends in a newline and parses: a journal is always saved whole. A NUL byte, a cut
 * tail or a bad line means the journal cannot say everything that was done. */
static int parse_body(struct journal *j, char *line, const char *end, struct err *e)
{
	unsigned lineno = 1;

	for (char *next; line < end; line = next + 1) {
		lineno++;
		next = memchr(line, '\n', (size_t)(end - line));
		if (!next)
			return err_set(e, -EINVAL, "%s:%u: journal cut short (no newline at its end)", j->path, lineno);
		*next = '\0';
		if (line[0] && parse_line(j, line) < 0)
			return err_set(e, -EINVAL, "%s:%u: corrupt journal record", j->path, lineno);
	}
	return 0;
}

int journal_load(const char *path, struct journal **out, struct err *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct journal *j;
	const char *nul;
	size_t len = 0;
	int r = trust_open_state(path, O_RDONLY, &fd, e);

	if (r < 0)
		return r;
	r = read_all_fd(fd, JOURNAL_MAX, &buf, &len);
	if (r < 0)
		return err_set(e, r == -EFBIG ? -EINVAL : r, "%s: %s", path,
			       r == -EFBIG ? "larger than any journal hookd writes" : strerror(-r));
	nul = memchr(buf, '\0', len);
	if (nul)
		return err_set(e, -EINVAL, "%s: a NUL byte at offset %zu: corrupt journal", path, (size_t)(nul - buf));
	r = check_magic(path, buf, e);
	if (r < 0)
		return r;
	j = journal_new(path, "", "");
	r = parse_body(j, buf + sizeof(JOURNAL_MAGIC), buf + len, e);
	if (r < 0) {
		journal_free(j);
		return r;
	}
	*out = j;
	return 0;
}

int journal_save(const struct journal *j, struct err *e)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return err_set(e, -ENOMEM, "cannot write journal %s: out of memory", j->path);
	fputs(JOURNAL_MAGIC "\n", f);
	fputs("vm", f);
	put_field(f, j->vm);
	fputs("\nuuid", f);
	put_field(f, j->uuid);
	fputc('\n', f);
	for (size_t i = 0; i < j->n; i++) {
		const struct journal_rec *rec = &j->recs[i];

		fputs("step", f);
		put_field(f, rec->state == REC_DONE ? "done" : "intent");
		put_field(f, rec->action);
		put_field(f, rec->op);
		put_field(f, rec->target);
		put_field(f, rec->value);
		put_field(f, rec->saved);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return err_set(e, -ENOMEM, "cannot write journal %s: out of memory", j->path);
	return trust_replace_state(j->path, text, len, e);
}

int journal_intent(struct journal *j, const char *action, const char *op, const char *target, const char *value,
		   const char *saved, size_t *idx, struct err *e)
{
	*idx = journal_append(j, REC_INTENT, action, op, target, value, saved);
	return journal_save(j, e);
}

int journal_done(struct journal *j, size_t idx, struct err *e)
{
	j->recs[idx].state = REC_DONE;
	return journal_save(j, e);
}

static void rec_free(struct journal_rec *r)
{
	free(r->action);
	free(r->op);
	free(r->target);
	free(r->value);
	free(r->saved);
}

int journal_drop(struct journal *j, size_t idx, struct err *e)
{
	rec_free(&j->recs[idx]);
	memmove(&j->recs[idx], &j->recs[idx + 1], (j->n - idx - 1) * sizeof(*j->recs));
	j->n--;
	return j->n ? journal_save(j, e) : 0;
}

int journal_remove(const struct journal *j, struct err *e)
{
	if (unlink(j->path) < 0 && errno != ENOENT)
		return err_set(e, -errno, "cannot remove journal %s: %s", j->path, strerror(errno));
	(void)trust_sync_dir_of(j->path);
	return 0;
}

struct journal *journal_dup(const struct journal *src)
{
	struct journal *j = journal_new(src->path, src->vm, src->uuid);

	for (size_t i = 0; i < src->n; i++) {
		const struct journal_rec *r = &src->recs[i];

		journal_append(j, r->state, r->action, r->op, r->target, r->value, r->saved);
	}
	j->unreadable = src->unreadable ? xstrdup(src->unreadable) : NULL;
	return j;
}

static const char *journal_tmp(char *name, void *ctx)
{
	static const char suffix[] = ".journal.tmp";
	size_t len = strlen(name);

	(void)ctx;
	if (len < sizeof(suffix) || strcmp(name + len - sizeof(suffix) + 1, suffix) != 0)
		return NULL;
	return "temp file of a run killed while it saved a journal";
}

int journal_leftovers(const char *state_dir, bool remove, void (*report)(const char *path, const char *why, void *arg),
		      void *arg)
{
	return dir_leftovers(state_dir, journal_tmp, NULL, remove, report, arg);
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		rec_free(&j->recs[i]);
	free(j->recs);
	free(j->path);
	free(j->vm);
	free(j->uuid);
	free(j->unreadable);
	free(j);
}

int journal_for_each(const char *state_dir, int (*fn)(struct journal *j, void *arg), void *arg, struct err *e)
{
	char **names;
	size_t n;
	int r = trust_state_dir(state_dir, e);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = sysfs_list("", state_dir, &names, &n);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return err_set(e, r, "%s: %s", state_dir, strerror(-r));
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *path = NULL;
		struct journal *j;
		struct err le;

		if (!journal_file_name(names[i]))
			continue;
		path = xasprintf("%s/%s", state_dir, names[i]);
		r = journal_load(path, &j, &le);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0) {
			j = journal_new(path, "", "");
			j->unreadable = xstrdup(le.msg);
		}
		r = fn(j, arg);
		journal_free(j);
	}
	sysfs_list_free(names, n);
	return r;
}

struct find_vm {
	const char *vm, *uuid;
	char *path;
	char *why; /* why a journal that may be this VM's cannot be read */
};

/* A journal is named by its domain's uuid, else by the VM's name. */
static bool may_be_vm(const struct journal *j, const struct find_vm *f)
{
	const char *base = strrchr(j->path, '/');
	_cleanup_free_ char *by_name = xasprintf("/%s.journal", f->vm);

	return !f->uuid || !strcmp(base, by_name);
}

static int match_vm(struct journal *j, void *arg)
{
	struct find_vm *f = arg;

	if (j->unreadable && !f->why && may_be_vm(j, f))
		f->why = xstrdup(j->unreadable);
	else if (!j->unreadable && strcmp(j->vm, f->vm) == 0 && !f->path)
		f->path = xstrdup(j->path);
	return 0;
}

int journal_find_vm(const char *state_dir, const char *vm, const char *uuid, char **path, struct err *e)
{
	struct find_vm f = { vm, uuid && uuid[0] ? uuid : NULL, NULL, NULL };
	int r = journal_for_each(state_dir, match_vm, &f, e);

	if (r == 0 && f.path) {
		free(f.why);
		*path = f.path;
		return 0;
	}
	if (r == 0 && f.why)
		r = err_set(e, -EBADMSG,
			    "no readable journal names VM %s, and one that cannot be read may be its own: %s", vm,
			    f.why);
	free(f.why);
	free(f.path);
	return r < 0 ? r : -ENOENT;
}

int journal_of_vm(const char *state_dir, const char *vm, const char *uuid, char **path, struct err *e)
{
	*path = journal_path_for(state_dir, uuid, vm);
	if (access(*path, F_OK) == 0)
		return 0;
	free(*path);
	*path = NULL;
	return journal_find_vm(state_dir, vm, uuid, path, e);
}
