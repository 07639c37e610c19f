/* What `hookd import` reads in one qemu.d/VM directory: the scripts the bash dispatcher runs at each
 * lifecycle point hookd has [exec] steps for, and per script the facts the INI must reflect (a #!
 * line or not, how long it sleeps, whether another script sources it). What is not imported is said
 * on stderr, with the reason, as it is found. */
#ifndef HOOKD_IMPORT_SCAN_H
#define HOOKD_IMPORT_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The lifecycle points hookd runs [exec] commands at, as the dispatcher's directories name them. */
enum import_point { IMPORT_PREPARE, IMPORT_STARTED, IMPORT_RELEASE, N_IMPORT_POINTS };

struct import_point_info {
	const char *dir; /* "prepare/begin" */
	const char *key; /* the [exec] key: "prepare" */
	const char *op, *subop;
};
extern const struct import_point_info import_points[N_IMPORT_POINTS];

struct import_script {
	char *path;       /* the original file */
	char *rel;        /* relative to the VM directory: "prepare/begin/10-x.sh", or "prepare/begin" itself */
	char *text;       /* its content (at most IMPORT_SCRIPT_MAX bytes) */
	bool shebang;     /* starts with #! or is an ELF file: runs without bash's ENOEXEC fallback */
	unsigned sleep_s; /* the literal `sleep N` lines, added up */
	char *sleeps;     /* where they are: "3: sleep 5, 9: sleep 10" (NULL when none) */
	char *sourced_by; /* "20-y.sh:4" when another script of the VM sources it: a helper, not a step */
};

struct import_vm {
	char *dir;  /* the real path of qemu.d/VM */
	char *name; /* VM */
	struct import_script *scripts[N_IMPORT_POINTS];
	size_t n[N_IMPORT_POINTS];
};

#define IMPORT_SCRIPT_MAX (1u << 20)

/* A line as words, after the noise a mapping does not depend on; NULL words end it. */
struct import_words {
	char *w[24];
	size_t n;
	bool compound; /* ; && || $( ` or a trailing \ outside quotes: not one simple command */
};
/* Splits a shell line into words: blanks separate, quotes group and are dropped, |, >, >> stand
 * alone, an unquoted # ends it; a leading sudo, `|| true` and output sent to /dev/null are dropped. */
void import_split_words(const char *line, struct import_words *ws);
void import_words_free(struct import_words *ws);

/* Finds the scripts of vmdir (already a real path) in name order, reads them, marks helpers and warns
 * (stderr) about everything the dispatcher would run that the INI will not, and about directories
 * whose names do not say an order. */
void import_scan_vm(const char *vmdir, const char *name, struct import_vm *vm);
/* Steps of the VM: scripts that are not sourced helpers. */
size_t import_vm_steps(const struct import_vm *vm);
void import_vm_free(struct import_vm *vm);

#endif
