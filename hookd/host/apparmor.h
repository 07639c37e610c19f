/* Can libvirt exec hookd's hook under the AppArmor profile that confines it?
 *
 * Debian and Ubuntu load an enforcing profile for libvirtd (usr.sbin.libvirtd) and upstream ships one
 * for virtqemud. AppArmor checks exec on the *resolved* path, so /etc/libvirt/hooks/qemu is judged by
 * what its symlinks lead to. This module reads, under a root prefix (never the live /sys when a root
 * is given): <root>/sys/kernel/security/apparmor/profiles (which profiles are loaded, in which mode)
 * and the profile's source in <root>/etc/apparmor.d with its includes, and decides as the kernel
 * would: a matching `deny` x rule refuses; otherwise an x rule must match (an exact path wins over a
 * glob). A transition (Px, Ux, Cx, PUx...) runs the hook outside libvirtd's profile; `ix` runs it
 * inside, so hookd-apply, which the hook execs from beside its resolved self, is judged too.
 * Assumes what the package guarantees: libvirtd runs as root and hookd's files are root's (so `owner`
 * rules apply and `other` rules do not). Nothing is ever written: the profile belongs to the admin. */
#ifndef HOOKD_APPARMOR_H
#define HOOKD_APPARMOR_H

#include <stddef.h>

/* From harmless to fatal: a report's worst verdict is the highest. */
enum hookd_aa_verdict {
	HOOKD_AA_NOT_CONFINED, /* no AppArmor, no libvirtd/virtqemud profile loaded, or one in unconfined mode */
	HOOKD_AA_ALLOWED,      /* the profile lets libvirt exec the hook (and the hook its worker) */
	HOOKD_AA_UNKNOWN,      /* a profile is loaded but its source cannot be read: cannot verify */
	HOOKD_AA_COMPLAIN,     /* would be denied, but the profile is in complain mode: only logged */
	HOOKD_AA_DENIED,       /* an enforcing profile refuses the exec: every VM start fails */
};

/* The verdict of one loaded profile. Strings are owned by the result; NULL where not applicable. */
struct hookd_aa_result {
	enum hookd_aa_verdict verdict;
	char *profile;     /* "libvirtd", "virtqemud" (the name the kernel lists) */
	char *mode;        /* "enforce", "complain", "kill", "unconfined", ... */
	char *source;      /* the profile file read, e.g. /etc/apparmor.d/usr.sbin.libvirtd (inside root) */
	char *hook;        /* the path judged, as given (e.g. /etc/libvirt/hooks/qemu) */
	char *resolved;    /* what AppArmor checks: hook with every symlink resolved inside root */
	char *denied_path; /* DENIED/COMPLAIN: the path whose exec is refused (the hook or its worker) */
	char *rule;        /* the deciding rule as written ("/usr/sbin/virtlogd pix,"); NULL when none matched */
	char *rule_file;   /* where that rule is written (inside root), and its line */
	unsigned rule_line;
	char *message; /* one sentence for the user: what happens and why */
	char *fix;     /* DENIED/COMPLAIN: what to do (reinstall, or the admin's local rule); else NULL */
};

struct hookd_aa_report {
	struct hookd_aa_result *results; /* one per loaded libvirtd/virtqemud profile; at least one */
	size_t n;
	size_t worst; /* index of the highest verdict */
};

/* Judges hook (an absolute path inside root, e.g. "/etc/libvirt/hooks/qemu" or the target that
 * `hookd install` is about to link) under every loaded libvirtd and virtqemud profile. Never fails:
 * what cannot be read becomes a verdict with its reason. Free with hookd_aa_report_free. */
void hookd_aa_check(const char *root, const char *hook, struct hookd_aa_report *out);
void hookd_aa_report_free(struct hookd_aa_report *r);
/* "not confined", "allowed", "cannot verify", "complain", "denied". */
const char *hookd_aa_verdict_name(enum hookd_aa_verdict v);

#endif
