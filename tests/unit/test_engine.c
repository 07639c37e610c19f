/* The engine, the rollback core, against fake actions that fail where they are told to: every
 * outcome is read from the fake kernel (world[]), the order of the calls and the journal on disk. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "fixture.h"
#include "journal.h"
#include "test.h"

#define N_TARGETS 4

/* The fake kernel: one value per target "t0".."t3", "orig" until a step changes it. */
static char world[N_TARGETS][16];
/* Fault injection: the Nth call (counted from 1 since fake_reset) of each op fails; 0: none. */
static unsigned fail_observe_at, fail_apply_at, fail_revert_at;
static unsigned n_observe, n_apply, n_revert;
/* The targets reverted, in call order ("t2 t1 t0 "), failed calls included. */
static char reverted[256];

static int target_index(const char *target)
{
	return target[0] == 't' && target[1] >= '0' && target[1] < '0' + N_TARGETS && !target[2] ? target[1] - '0' : -1;
}

static int fake_observe(const struct action_ctx *ctx, const struct step *st, char **saved, struct err *e)
{
	(void)ctx;
	if (++n_observe == fail_observe_at)
		return err_set(e, -EIO, "cannot read %s", st->target);
	*saved = xstrdup(world[target_index(st->target)]);
	return 0;
}

/* A failing apply changes the kernel first: the worst case, which only a revert can undo. */
static int fake_apply(const struct action_ctx *ctx, const struct step *st, const char *saved, struct err *e)
{
	(void)ctx, (void)saved;
	snprintf(world[target_index(st->target)], sizeof(world[0]), "%s", st->value);
	if (++n_apply == fail_apply_at)
		return err_set(e, -EIO, "%s did not take", st->target);
	return 0;
}

/* Sets the saved value whatever the kernel holds now: safe to run again. */
static int fake_revert(const struct action_ctx *ctx, const struct step_record *rec, struct err *e)
{
	(void)ctx;
	strncat(reverted, rec->target, sizeof(reverted) - strlen(reverted) - 2);
	strcat(reverted, " ");
	if (++n_revert == fail_revert_at)
		return err_set(e, -EBUSY, "%s is busy", rec->target);
	snprintf(world[target_index(rec->target)], sizeof(world[0]), "%s", rec->saved);
	return 0;
}

static const struct action_ops fake_ops = {
	.name = "fake",
	.observe = fake_observe,
	.apply = fake_apply,
	.revert = fake_revert,
};
static const struct action_ops *const fake_table[] = { &fake_ops, NULL };

static struct hookd_conf conf;
static char *journal_a, *journal_b;

static void fake_reset(void)
{
	for (size_t i = 0; i < N_TARGETS; i++)
		snprintf(world[i], sizeof(world[0]), "orig");
	fail_observe_at = fail_apply_at = fail_revert_at = 0;
	n_observe = n_apply = n_revert = 0;
	reverted[0] = '\0';
	unlink(journal_a);
	unlink(journal_b);
}

static bool world_is_orig(void)
{
	for (size_t i = 0; i < N_TARGETS; i++)
		if (strcmp(world[i], "orig") != 0)
			return false;
	return true;
}

/* A plan of n steps: ti <- "vi". */
static struct plan *fake_plan(size_t n)
{
	struct plan *p = xcalloc(1, sizeof(*p));

	for (size_t i = 0; i < n; i++) {
		char target[24], value[24]; /* "t" and any size_t: no truncation warning */
		struct step *st;

		snprintf(target, sizeof(target), "t%zu", i);
		snprintf(value, sizeof(value), "v%zu", i);
		st = plan_add(p, &fake_ops, "set", target, value, xasprintf("set %s", target));
		st->revertible = true;
	}
	return p;
}

static struct action_ctx ctx_for(const char *vm)
{
	return (struct action_ctx){ .conf = &conf, .vm = vm };
}

static size_t journal_records(const char *path)
{
	struct journal *j;
	struct err e;
	size_t n;

	if (journal_load(path, &j, &e) < 0)
		return (size_t)-1;
	n = j->n;
	journal_free(j);
	return n;
}

static void test_apply_and_revert(void)
{
	struct plan *p = fake_plan(N_TARGETS);
	struct action_ctx ctx = ctx_for("a");
	struct err e;

	fake_reset();
	CHECK(engine_apply(&ctx, fake_table, p, journal_a, &e) == 0);
	CHECK_STR(world[0], "v0");
	CHECK_STR(world[3], "v3");
	CHECK(journal_records(journal_a) == N_TARGETS);
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == 0);
	CHECK(world_is_orig());
	CHECK_STR(reverted, "t3 t2 t1 t0 ");
	CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);
	plan_free(p);
}

/* Apply fails at step k, for every k: everything is rolled back, newest first (the failing step
 * too: it was journaled before it ran), and no journal is left. */
static void test_apply_fails_at_every_step(void)
{
	struct plan *p = fake_plan(N_TARGETS);
	struct action_ctx ctx = ctx_for("a");

	for (unsigned k = 1; k <= N_TARGETS; k++) {
		char want[64] = "";
		struct err e = { "" };

		fake_reset();
		fail_apply_at = k;
		CHECK(engine_apply(&ctx, fake_table, p, journal_a, &e) == -EIO);
		CHECK_CONTAINS(e.msg, "did not take");
		CHECK_CONTAINS(e.msg, "everything done was rolled back");
		for (unsigned i = k; i-- > 0;)
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "t%u ", i);
		CHECK_STR(reverted, want);
		CHECK(world_is_orig());
		CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);
	}
	plan_free(p);
}

/* Observe fails at step k: that step is neither journaled nor applied, the earlier ones roll back. */
static void test_observe_fails(void)
{
	struct plan *p = fake_plan(N_TARGETS);
	struct action_ctx ctx = ctx_for("a");
	struct err e = { "" };

	fake_reset();
	fail_observe_at = 3;
	CHECK(engine_apply(&ctx, fake_table, p, journal_a, &e) == -EIO);
	CHECK_CONTAINS(e.msg, "cannot read t2");
	CHECK(n_apply == 2);
	CHECK_STR(reverted, "t1 t0 ");
	CHECK(world_is_orig());
	CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);
	plan_free(p);
}

/* A revert that fails keeps its record (the others leave the journal); restore finishes the job,
 * touching only what is still held; a third run finds nothing to do and changes nothing. */
static void test_revert_fails_then_restore(void)
{
	struct plan *p = fake_plan(N_TARGETS);
	struct action_ctx ctx = ctx_for("a");
	struct err e = { "" };

	fake_reset();
	CHECK(engine_apply(&ctx, fake_table, p, journal_a, &e) == 0);
	fail_revert_at = 2; /* t2 */
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == -EBUSY);
	CHECK_CONTAINS(e.msg, "t2 is busy");
	CHECK_CONTAINS(e.msg, "1 step still held");
	CHECK_STR(reverted, "t3 t2 t1 t0 ");
	CHECK_STR(world[2], "v2");
	CHECK(journal_records(journal_a) == 1);

	fail_revert_at = 0;
	reverted[0] = '\0';
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == 0);
	CHECK_STR(reverted, "t2 ");
	CHECK(world_is_orig());
	CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);

	reverted[0] = '\0';
	snprintf(world[1], sizeof(world[1]), "changed since");
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == 0);
	CHECK_STR(reverted, "");
	CHECK_STR(world[1], "changed since");
	plan_free(p);
}

/* A crash between a step's intent and its done record: the revert still undoes it (the change may
 * have reached the kernel), with what observe saved. */
static void test_intent_without_done_is_reverted(void)
{
	struct journal *j = journal_new(journal_a, "a", "");
	struct action_ctx ctx = ctx_for("a");
	struct err e = { "" };

	fake_reset();
	journal_append(j, REC_DONE, "fake", "set", "t0", "v0", "orig");
	journal_append(j, REC_INTENT, "fake", "set", "t1", "v1", "orig");
	CHECK(journal_save(j, &e) == 0);
	journal_free(j);
	snprintf(world[0], sizeof(world[0]), "v0");
	snprintf(world[1], sizeof(world[1]), "v1");
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == 0);
	CHECK_STR(reverted, "t1 t0 ");
	CHECK(world_is_orig());
	CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);
}

/* VM b's journal holds recs; a's plan of N_TARGETS steps is refused before anything is touched, the
 * error naming want (journal by journal: the first step of the plan that journal holds). */
struct b_rec {
	enum rec_state state;
	const char *target;
};

static void check_conflict(const struct b_rec *recs, size_t n, const char *want)
{
	struct journal *other = journal_new(journal_b, "b", "");
	struct action_ctx ctx = ctx_for("a");
	struct plan *p = fake_plan(N_TARGETS);
	struct engine_view view;
	struct err e = { "" };

	fake_reset();
	for (size_t i = 0; i < n; i++)
		journal_append(other, recs[i].state, "fake", "set", recs[i].target, "vb", "orig");
	CHECK(journal_save(other, &e) == 0);
	journal_free(other);
	CHECK(engine_view_open(&conf, journal_a, true, &view, &e) == 0);
	CHECK(view.others.n == n);
	ctx.others = view.others.v;
	ctx.n_others = view.others.n;
	CHECK(engine_check_conflicts(&ctx, p, &e) == -EBUSY);
	CHECK_CONTAINS(e.msg, want);
	engine_view_close(&view);
	CHECK(n_observe == 0 && n_apply == 0 && world_is_orig());
	CHECK(access(journal_a, F_OK) < 0 && errno == ENOENT);
	CHECK(journal_records(journal_b) == n);
	plan_free(p);
}

/* A step may not take what another VM's journal holds. */
static void test_conflict_with_another_vm(void)
{
	static const struct b_rec recs[] = { { REC_DONE, "t2" } };

	check_conflict(recs, 1, "t2 is held by VM 'b'");
}

/* Another VM's intent record holds its target too (its change may have happened). */
static void test_conflict_with_an_intent(void)
{
	static const struct b_rec recs[] = { { REC_DONE, "t3" }, { REC_INTENT, "t1" } };

	check_conflict(recs, 2, "t1 is held by VM 'b'");
}

/* A record whose action the table does not know is kept, and said so. */
static void test_unknown_action_is_kept(void)
{
	static const struct action_ops *const empty_table[] = { NULL };
	struct journal *j = journal_new(journal_a, "a", "");
	struct action_ctx ctx = ctx_for("a");
	struct err e = { "" };

	fake_reset();
	journal_append(j, REC_DONE, "fake", "set", "t0", "v0", "orig");
	CHECK(journal_save(j, &e) == 0);
	journal_free(j);
	CHECK(engine_revert(&ctx, empty_table, journal_a, &e) == -EINVAL);
	CHECK_CONTAINS(e.msg, "unknown action 'fake'");
	CHECK(journal_records(journal_a) == 1);
	CHECK(engine_revert(&ctx, fake_table, journal_a, &e) == 0);
	CHECK_STR(reverted, "t0 ");
}

int main(void)
{
	test_tmpdir_create("engine");
	conf = (struct hookd_conf){ .root = (char *)"/", .timeout_ms = 1000, .log = LOG_TARGET_NONE };
	conf.state_dir = xasprintf("%s/state", test_tmpdir);
	journal_a = xasprintf("%s/a.journal", conf.state_dir);
	journal_b = xasprintf("%s/b.journal", conf.state_dir);
	CHECK(mkdir(conf.state_dir, 0700) == 0);

	test_apply_and_revert();
	test_apply_fails_at_every_step();
	test_observe_fails();
	test_revert_fails_then_restore();
	test_intent_without_done_is_reverted();
	test_unknown_action_is_kept();
	test_conflict_with_another_vm();
	test_conflict_with_an_intent();

	free(journal_a), free(journal_b), free(conf.state_dir);
	test_tmpdir_remove();
	return TEST_DONE();
}
