/* journal.c: round trip of every field, atomic replace, and refusal of files that are not journals. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fixture.h"
#include "journal.h"
#include "test.h"
#include "trust.h"

static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	if (read_all_fd(fd, 1 << 20, &buf, NULL) < 0)
		buf = NULL;
	close(fd);
	return buf;
}

/* Names in test_tmpdir ending in suffix. */
static int count_suffix(const char *suffix)
{
	DIR *d = opendir(test_tmpdir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name), s = strlen(suffix);

		n += l >= s && strcmp(de->d_name + l - s, suffix) == 0;
	}
	if (d)
		closedir(d);
	return n;
}

static void test_path_for(void)
{
	char *p = journal_path_for("/run/hookd", "c7a5fdbd-cdaf-9455-926a-d65c16db1809", "win11");

	CHECK_STR(p, "/run/hookd/c7a5fdbd-cdaf-9455-926a-d65c16db1809.journal");
	free(p);
	p = journal_path_for("/run/hookd", NULL, "win11");
	CHECK_STR(p, "/run/hookd/win11.journal");
	free(p);
	p = journal_path_for("/run/hookd", "", "win11");
	CHECK_STR(p, "/run/hookd/win11.journal");
	free(p);
}

static void test_round_trip(void)
{
	static const char *const odd[] = { "tab\there", "line\nbreak", "100% %25 %", "", "%0a%09", "trail\t", "\n" };
	_cleanup_free_ char *path = xasprintf("%s/vm.journal", test_tmpdir);
	struct journal *j = journal_new(path, "win 11\tname%", "uuid-1");
	struct journal *l = NULL;
	struct err e = { "" };
	size_t n = ARRAY_SIZE(odd);

	CHECK(journal_append(j, REC_INTENT, "vfio", "load-module", "vfio-pci", NULL, NULL) == 0);
	for (size_t i = 0; i < n; i++)
		CHECK(journal_append(j, i % 2 ? REC_DONE : REC_INTENT, odd[i], odd[(i + 1) % n], odd[(i + 2) % n],
				     odd[(i + 3) % n], odd[(i + 4) % n]) == i + 1);
	CHECK(j->n == n + 1);
	CHECK_STR(j->recs[0].value, "");
	CHECK_STR(j->recs[0].saved, "");
	CHECK(journal_save(j, &e) == 0);
	CHECK(count_suffix(".tmp") == 0);

	CHECK(journal_load(path, &l, &e) == 0);
	if (!l) {
		journal_free(j);
		return;
	}
	CHECK_STR(l->path, path);
	CHECK_STR(l->vm, "win 11\tname%");
	CHECK_STR(l->uuid, "uuid-1");
	CHECK(l->n == j->n);
	for (size_t i = 0; i < l->n && i < j->n; i++) {
		CHECK(l->recs[i].state == j->recs[i].state);
		CHECK_STR(l->recs[i].action, j->recs[i].action);
		CHECK_STR(l->recs[i].op, j->recs[i].op);
		CHECK_STR(l->recs[i].target, j->recs[i].target);
		CHECK_STR(l->recs[i].value, j->recs[i].value);
		CHECK_STR(l->recs[i].saved, j->recs[i].saved);
	}
	CHECK(l->recs[0].state == REC_INTENT && l->recs[2].state == REC_DONE);

	/* find: by action + target. */
	CHECK(journal_index(l, "vfio", "vfio-pci") == 0);
	CHECK(journal_index(l, "vfio", "0000:01:00.0") == -1);
	CHECK(journal_index(l, odd[1], odd[3]) == 2);
	journal_free(l);

	/* The file: magic first, mode 0600, one line per record and two header lines. */
	{
		_cleanup_free_ char *text = slurp(path);
		struct stat st;
		size_t lines = 0;

		CHECK(text && strncmp(text, "hookd-journal 1\n", 16) == 0);
		for (const char *s = text; s && *s; s++)
			lines += *s == '\n';
		CHECK(lines == 3 + j->n);
		CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0);
	}

	/* A save replaces, never appends: fewer records after a second save. */
	journal_free(j);
	j = journal_new(path, "win11", NULL);
	journal_append(j, REC_DONE, "vfio", "bind", "0000:01:00.0", "vfio-pci", "nvidia;");
	CHECK(journal_save(j, &e) == 0);
	CHECK(count_suffix(".tmp") == 0);
	CHECK(journal_load(path, &l, &e) == 0);
	if (l) {
		CHECK(l->n == 1);
		CHECK_STR(l->vm, "win11");
		CHECK_STR(l->uuid, "");
		CHECK(l->n == 1 && l->recs[0].state == REC_DONE && strcmp(l->recs[0].saved, "nvidia;") == 0);
		journal_free(l);
	}

	/* An empty journal (no records) round-trips too. */
	journal_free(j);
	j = journal_new(path, "", "");
	CHECK(journal_save(j, &e) == 0);
	CHECK(journal_load(path, &l, &e) == 0);
	if (l) {
		CHECK(l->n == 0);
		CHECK_STR(l->vm, "");
		journal_free(l);
	}

	/* remove: gone, and removing again is fine; loading it is -ENOENT without a message. */
	CHECK(journal_remove(j, &e) == 0);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	CHECK(journal_remove(j, &e) == 0);
	e.msg[0] = '\0';
	l = NULL;
	CHECK(journal_load(path, &l, &e) == -ENOENT);
	CHECK(e.msg[0] == '\0');
	CHECK(l == NULL);
	journal_free(j);
}

static void test_save_fails_cleanly(void)
{
	_cleanup_free_ char *path = xasprintf("%s/no-such-dir/vm.journal", test_tmpdir);
	struct journal *j = journal_new(path, "vm", "u");
	struct err e = { "" };

	journal_append(j, REC_INTENT, "vfio", "bind", "0000:01:00.0", "vfio-pci", "");
	CHECK(journal_save(j, &e) == -ENOENT);
	CHECK_CONTAINS(e.msg, "no-such-dir/vm.journal");
	journal_free(j);
}

/* Loads path's records as "state:target " pairs, in order ("" when it cannot be read). */
static void on_disk(const char *path, char *out, size_t size)
{
	struct journal *j = NULL;
	struct err e;

	out[0] = '\0';
	if (journal_load(path, &j, &e) < 0)
		return;
	for (size_t i = 0; i < j->n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s:%s ",
			 j->recs[i].state == REC_DONE ? "done" : "intent", j->recs[i].target);
	journal_free(j);
}

/* The write-ahead operations the engine goes through: each is on disk when it returns. */
static void test_intent_done_drop(void)
{
	_cleanup_free_ char *path = xasprintf("%s/wal.journal", test_tmpdir);
	struct journal *j = journal_new(path, "vm", "");
	char disk[256];
	struct err e = { "" };
	size_t a = 9, b = 9, c = 9;

	CHECK(journal_intent(j, "fake", "set", "ta", "va", "sa", &a, &e) == 0 && a == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "intent:ta ");
	CHECK(journal_done(j, a, &e) == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "done:ta ");
	CHECK(journal_intent(j, "fake", "set", "tb", NULL, NULL, &b, &e) == 0 && b == 1);
	CHECK(journal_intent(j, "fake", "set", "tc", "vc", "sc", &c, &e) == 0 && c == 2);
	CHECK(journal_done(j, c, &e) == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "done:ta intent:tb done:tc ");
	CHECK(journal_index(j, "fake", "tc") == 2 && journal_index(j, "fake", "td") == -1);

	/* A record from the middle leaves; the others keep their order and their fields. */
	CHECK(journal_drop(j, 1, &e) == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "done:ta done:tc ");
	CHECK(j->n == 2 && journal_index(j, "fake", "tc") == 1);
	CHECK_STR(journal_step(j, 1).saved, "sc");
	CHECK(journal_drop(j, 1, &e) == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "done:ta ");
	/* The last one: the file keeps it until journal_remove, never saved empty in its place. */
	CHECK(journal_drop(j, 0, &e) == 0);
	CHECK(j->n == 0);
	on_disk(path, disk, sizeof(disk));
	CHECK_STR(disk, "done:ta ");
	CHECK(journal_remove(j, &e) == 0);
	CHECK(access(path, F_OK) < 0 && errno == ENOENT);
	journal_free(j);
}

/* The neutral views the actions get: a record as a step_record, and every record of the other
 * journals (intent ones included) with its VM's name, the caller's own journal left out. */
static void test_step_and_held(void)
{
	struct journal *a = journal_new("/s/a.journal", "vm-a", "");
	struct journal *b = journal_new("/s/b.journal", "vm-b", "");
	struct journal *bad = journal_new("/s/c.journal", "", "");
	struct journal *all[] = { a, bad, b };
	struct held_step *v = NULL;
	struct step_record r;
	size_t n = 0;

	bad->unreadable = xstrdup("corrupt");
	journal_append(a, REC_DONE, "vfio", "bind", "0000:01:00.0", "vfio-pci", "nvidia;");
	journal_append(b, REC_DONE, "hugepages", "reserve", "2048kB", "512", "0+512");
	journal_append(b, REC_INTENT, "vfio", "bind", "0000:02:00.0", "vfio-pci", "");
	r = journal_step(a, 0);
	CHECK_STR(r.action, "vfio");
	CHECK_STR(r.op, "bind");
	CHECK_STR(r.target, "0000:01:00.0");
	CHECK_STR(r.value, "vfio-pci");
	CHECK_STR(r.saved, "nvidia;");
	CHECK(r.done && !journal_step(b, 1).done);

	journal_held(all, ARRAY_SIZE(all), "/s/a.journal", &v, &n);
	CHECK(n == 2);
	if (n == 2) {
		CHECK_STR(v[0].vm, "vm-b");
		CHECK_STR(v[0].journal, "/s/b.journal");
		CHECK_STR(v[0].rec.target, "2048kB");
		CHECK_STR(v[1].rec.target, "0000:02:00.0");
		CHECK(v[0].rec.done && !v[1].rec.done);
	}
	journal_held(all, ARRAY_SIZE(all), NULL, &v, &n); /* appends: a's record now too */
	CHECK(n == 5 && !strcmp(v[2].vm, "vm-a") && !strcmp(v[4].rec.target, "0000:02:00.0"));
	free(v);
	journal_free(a), journal_free(b), journal_free(bad);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Discovery, the one rule the hook front and the worker share: which files are journals, and
 * which one is a VM's. */
static void test_discovery(void)
{
	_cleanup_free_ char *dir = xasprintf("%s/state", test_tmpdir);
	_cleanup_free_ char *by_uuid = xasprintf("%s/u-1.journal", dir), *bad = xasprintf("%s/b.journal", dir);
	struct journal *j = journal_new(by_uuid, "win11", "u-1");
	char *path = NULL;
	struct err e = { "" };

	CHECK(journal_file_name("win11.journal") && journal_file_name("u-1.journal"));
	CHECK(!journal_file_name(".journal") && !journal_file_name("a.journal.tmp") && !journal_file_name("a.ini"));
	CHECK(!journal_any(dir)); /* no directory yet */
	CHECK(mkdir(dir, 0700) == 0);
	CHECK(!journal_any(dir));
	CHECK(journal_find_vm(dir, "win11", NULL, &path, &e) == -ENOENT);
	write_file(bad, "not a journal\n");
	CHECK(journal_any(dir));
	/* Only an unreadable journal: it may be win11's (no uuid), but not when win11 has one and the
	 * file is not named after it. */
	CHECK(journal_find_vm(dir, "win11", NULL, &path, &e) == -EBADMSG);
	CHECK_CONTAINS(e.msg, "b.journal");
	CHECK(journal_find_vm(dir, "win11", "u-1", &path, &e) == -ENOENT);
	CHECK(journal_find_vm(dir, "b", "u-2", &path, &e) == -EBADMSG);

	CHECK(journal_save(j, &e) == 0);
	CHECK(journal_find_vm(dir, "win11", NULL, &path, &e) == 0);
	CHECK_STR(path, by_uuid);
	free(path), path = NULL;
	/* journal_of_vm: the path by uuid when it is there, else the journal that names the VM. */
	CHECK(journal_of_vm(dir, "win11", "u-1", &path, &e) == 0);
	CHECK_STR(path, by_uuid);
	free(path), path = NULL;
	CHECK(journal_of_vm(dir, "win11", "u-renamed", &path, &e) == 0);
	CHECK_STR(path, by_uuid);
	free(path), path = NULL;
	CHECK(journal_of_vm(dir, "win10", "u-3", &path, &e) == -ENOENT);
	CHECK(path == NULL);
	unlink(bad);
	journal_remove(j, &e);
	journal_free(j);
	rmdir(dir);
}

/* trust_replace_state, the one atomic replace (journals, shared baselines, `hookd edit`'s INI): the
 * content whole, 0600, no temp file left; a rename that fails leaves what was there and no temp file; a
 * symlink planted at the temp name is replaced, never written through. */
static void test_replace_state(void)
{
	_cleanup_free_ char *path = xasprintf("%s/state-file", test_tmpdir);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path), *victim = test_put_file("victim", "keep", 0600);
	_cleanup_free_ char *got = NULL, *kept = NULL;
	_cleanup_free_ char *dir = xasprintf("%s/a-dir", test_tmpdir), *inside = xasprintf("%s/x", dir);
	struct stat st;
	struct err e = { "" };
	mode_t old_mask;

	CHECK(symlink(victim, tmp) == 0);
	CHECK(trust_replace_state(path, "one\ntwo\n", 8, &e) == 0);
	got = slurp(path);
	CHECK_STR(got, "one\ntwo\n");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(access(tmp, F_OK) < 0 && errno == ENOENT);
	kept = slurp(victim);
	CHECK_STR(kept, "keep");

	CHECK(mkdir(dir, 0700) == 0 && mkdir(inside, 0700) == 0);
	CHECK(trust_replace_state(dir, "x", 1, &e) < 0);
	CHECK_CONTAINS(e.msg, "a-dir");
	CHECK(stat(inside, &st) == 0 && S_ISDIR(st.st_mode));
	CHECK(count_suffix(".tmp") == 0);
	rmdir(inside);
	rmdir(dir);

	/* trust_replace_file: the same with the mode asked for (`hookd edit`'s INI: 0644, whatever the umask),
	 * root's when hookd runs as root */
	old_mask = umask(0077);
	CHECK(trust_replace_file(path, "[vfio]\n", 7, 0644, &e) == 0);
	umask(old_mask);
	free(got);
	got = slurp(path);
	CHECK_STR(got, "[vfio]\n");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644 && st.st_uid == geteuid());
	CHECK(geteuid() != 0 || (st.st_uid == 0 && st.st_gid == 0));
	CHECK(count_suffix(".tmp") == 0);
}

/* Expects name with text (len bytes) refused with "PATH<want>". */
static void check_refused(const char *name, const char *text, size_t len, const char *want_tail)
{
	_cleanup_free_ char *path = test_put_file(name, "", 0600);
	_cleanup_free_ char *want = xasprintf("%s%s", path, want_tail);
	struct journal *j = NULL;
	struct err e = { "" };
	FILE *f = fopen(path, "w");
	int r;

	CHECK(f && fwrite(text, 1, len, f) == len && fclose(f) == 0);
	r = journal_load(path, &j, &e);
	CHECK(r == -EINVAL);
	if (r == 0) {
		fprintf(stderr, "accepted as a journal: %s\n", name);
		journal_free(j);
		return;
	}
	CHECK_STR(e.msg, want);
}

/* Expects name with text refused with "PATH:LINE: corrupt journal record" (line 0: "not a hookd journal"). */
static void check_corrupt(const char *name, const char *text, unsigned line)
{
	_cleanup_free_ char *tail =
		line ? xasprintf(":%u: corrupt journal record", line) : xstrdup(": not a hookd journal");

	check_refused(name, text, strlen(text), tail);
}

static void test_refuses_corrupt(void)
{
	static const char nul_first[] =
		"hookd-journal 1\nvm\tx\n\0step\tdone\tvfio\tbind\t0000:01:00.0\tvfio-pci\tnvidia\n";
	static const char nul_inside[] =
		"hookd-journal 1\nvm\tx\nstep\tdone\tvfio\tbind\t0000:01:00.0\tvfio\0-pci\tnvidia\n";

	check_corrupt("journal-empty", "", 0);
	check_corrupt("journal-text", "just some text\n", 0);
	check_corrupt("journal-kind", "hookd-journal 1\nvm\tx\nuuid\ty\nwhat\tever\n", 4);
	check_corrupt("journal-short", "hookd-journal 1\nvm\tx\nstep\tdone\tvfio\tbind\t0000:01:00.0\n", 3);
	check_corrupt("journal-state", "hookd-journal 1\nstep\tmaybe\tvfio\tbind\tt\tv\ts\n", 2);
	/* A header line without its value must not leave vm or uuid NULL. */
	check_corrupt("journal-novm", "hookd-journal 1\nvm\nuuid\tu\n", 2);
	check_corrupt("journal-nouuid", "hookd-journal 1\nvm\tx\nuuid\n", 3);
	/* The line number counts blank lines too. */
	check_corrupt("journal-blank", "hookd-journal 1\nvm\tx\n\nbogus\n", 4);
	/* A journal cut short, or with a NUL byte anywhere, never reads as a shorter valid one. */
	check_refused("journal-truncated", "hookd-journal 1\nvm\tx\nstep\tdone\tvfio\tbi", 37,
		      ":3: journal cut short (no newline at its end)");
	check_refused("journal-nul-first", nul_first, sizeof(nul_first) - 1,
		      ": a NUL byte at offset 21: corrupt journal");
	check_refused("journal-nul-inside", nul_inside, sizeof(nul_inside) - 1,
		      ": a NUL byte at offset 58: corrupt journal");
	/* Another version's journal says so. */
	check_refused(
		"journal-magic", "hookd-journal 2\nvm\tx\n", 21,
		": journal format '2', this hookd reads '1': written by another hookd version; restore it with that version");
}

/* A '%' escape cut short ("%a" at the end of a field) must not read or write past the field.
 * Run in a child: under ASan an overflow aborts it, and the parent reports it as one failed check. */
static void test_short_escape_is_safe(void)
{
	static const char *const texts[] = {
		"hookd-journal 1\nvm\tx\nstep\tdone\tvfio\tbind\t%a\tvfio-pci-and-a-long-value\tsaved-value-that-is-long\n",
		"hookd-journal 1\nvm\t%a\nuuid\tu\n",
		"hookd-journal 1\nvm\tx\nstep\tdone\tvfio\tbind\tt\tv\t%",
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		_cleanup_free_ char *name = xasprintf("journal-escape-%zu", i);
		_cleanup_free_ char *path = test_put_file(name, texts[i], 0600);
		int status = 0;
		pid_t pid;

		fflush(stderr);
		pid = fork();
		if (pid == 0) {
			struct journal *j = NULL;
			struct err e = { "" };

			if (journal_load(path, &j, &e) == 0)
				journal_free(j);
			_exit(0);
		}
		CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fprintf(stderr, "journal_load crashed on %s\n", name);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

int main(void)
{
	test_tmpdir_create("journal");
	test_path_for();
	test_round_trip();
	test_save_fails_cleanly();
	test_intent_done_drop();
	test_step_and_held();
	test_discovery();
	test_replace_state();
	test_refuses_corrupt();
	test_short_escape_is_safe();
	test_tmpdir_remove();
	return TEST_DONE();
}
