#!/bin/bash
# hookd check / hookd install and libvirt's AppArmor profile, on a fake root holding the kernel's list
# of loaded profiles (sys/kernel/security/apparmor/profiles) and the profiles' source: Debian 12's
# stock usr.sbin.libvirtd verbatim and upstream's usr.sbin.virtqemud (tests/unit/data/apparmor, where
# each file's header says where it comes from).
source "$SIM_LIB"
case_name=$1
AA_DATA=$(cd "$(dirname "$SIM_LIB")/../unit/data/apparmor" && pwd)
mkdir -p "$R/etc/libvirt/hooks" "$R/etc/apparmor.d" "$R/usr/sbin" "$R/usr/libexec/hookd" "$T/hooks.d"
cp -r "$AA_DATA/." "$R/etc/apparmor.d/"
printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
chmod 0644 "$T/hookd.conf"
for f in usr/sbin/hookd-qemu usr/sbin/hookd-apply usr/libexec/hookd/qemu usr/libexec/hookd/hookd-apply; do
	printf '#!/bin/sh\nexit 0\n' >"$R/$f"
	chmod 0755 "$R/$f"
done

# loaded NAME MODE...: what the kernel lists as loaded (apparmor=... enforce, complain)
loaded() {
	mkdir -p "$R/sys/kernel/security/apparmor"
	: >"$R/sys/kernel/security/apparmor/profiles"
	while (($#)); do
		echo "$1 ($2)" >>"$R/sys/kernel/security/apparmor/profiles"
		shift 2
	done
	echo "/usr/bin/man (enforce)" >>"$R/sys/kernel/security/apparmor/profiles"
}
hook_to() { ln -sfn "$1" "$R/etc/libvirt/hooks/qemu"; }
# 0.1.0's layout, reached through a second, relative link: AppArmor judges the end of the chain.
old_layout() {
	ln -sfn ../libexec/hookd/qemu "$R/usr/lib/hookd-qemu" 2>/dev/null || {
		mkdir -p "$R/usr/lib"
		ln -sfn ../libexec/hookd/qemu "$R/usr/lib/hookd-qemu"
	}
	hook_to /usr/lib/hookd-qemu
}
LIBVIRTD_FIX='add the rule `/usr/libexec/hookd/* PUx,` to /etc/apparmor.d/local/usr.sbin.libvirtd and run `apparmor_parser -r /etc/apparmor.d/usr.sbin.libvirtd`'

case "$case_name" in
old_layout_denied_under_enforce)
	loaded libvirtd enforce libvirtd//qemu_bridge_helper enforce
	old_layout
	hookd check
	expect_rc 2 "check of a hook the enforcing profile denies"
	expect_in "$ERR" "denies exec of /usr/libexec/hookd/qemu (what /etc/libvirt/hooks/qemu resolves to)" "names the resolved path"
	expect_in "$ERR" "no exec rule of /etc/apparmor.d/usr.sbin.libvirtd matches it" "says why"
	expect_in "$ERR" "every VM start fails" "says what the user sees"
	expect_in "$ERR" "reinstall hookd with its hook in /usr/sbin (/usr/sbin/hookd-qemu" "fix: what to reinstall"
	expect_in "$ERR" "$LIBVIRTD_FIX" "fix: the admin's exact local rule"
	# the fix it gives works: the admin's local rule makes the same layout pass
	echo '/usr/libexec/hookd/* PUx,' >"$R/etc/apparmor.d/local/usr.sbin.libvirtd"
	hookd check
	expect_rc 0 "check once the suggested local rule is in place"
	expect_in "$OUT" 'rule `/usr/libexec/hookd/* PUx,` (/etc/apparmor.d/local/usr.sbin.libvirtd:1) runs it unconfined' "the local rule is what allows it"
	;;
new_layout_allowed)
	loaded libvirtd enforce
	hook_to /usr/sbin/hookd-qemu
	hookd check
	expect_rc 0 "check of the /usr/sbin layout"
	expect_in "$OUT" '/etc/libvirt/hooks/qemu: ok: libvirtd'"'"'s AppArmor profile (enforce) lets libvirt exec /usr/sbin/hookd-qemu' "says it is allowed"
	expect_in "$OUT" 'rule `/usr/sbin/* PUx,` (/etc/apparmor.d/usr.sbin.libvirtd:92) runs it unconfined' "names the stock rule and its line"
	expect_eq "$ERR" "" "nothing on stderr"
	;;
complain_mode_warns)
	loaded libvirtd complain
	old_layout
	hookd check
	expect_rc 0 "a complaining profile does not fail check"
	expect_in "$ERR" "warning: /etc/libvirt/hooks/qemu: libvirtd's AppArmor profile is in complain mode: it would deny exec of /usr/libexec/hookd/qemu" "warns"
	expect_in "$ERR" "$LIBVIRTD_FIX" "with the fix"
	;;
no_apparmor)
	old_layout
	hookd check
	expect_rc 0 "check without AppArmor"
	expect_eq "$ERR" "" "nothing on stderr"
	[[ "$OUT" != *apparmor* && "$OUT" != *AppArmor* ]] && ok "nothing said by default" || fail "said: $OUT"
	hookd -v check
	expect_in "$OUT" "/etc/libvirt/hooks/qemu: not confined: AppArmor is not active" "-v says not confined"
	loaded
	hookd -v check
	expect_rc 0 "AppArmor without a libvirt profile"
	expect_in "$OUT" "not confined: AppArmor is active, but no libvirtd or virtqemud profile is loaded" "-v says so"
	loaded libvirtd unconfined
	hookd -v check
	expect_rc 0 "a profile in unconfined mode"
	expect_in "$OUT" "loaded in unconfined mode" "-v says so"
	;;
virtqemud_profile)
	loaded virtqemud enforce
	old_layout
	hookd check
	expect_rc 2 "virtqemud's profile denies the old layout"
	expect_in "$ERR" "virtqemud's AppArmor profile (enforce) denies exec of /usr/libexec/hookd/qemu" "names virtqemud"
	expect_in "$ERR" 'add the rule `/usr/libexec/hookd/* PUx,` to /etc/apparmor.d/local/usr.sbin.virtqemud and run `apparmor_parser -r /etc/apparmor.d/usr.sbin.virtqemud`' "virtqemud's local file"
	hook_to /usr/sbin/hookd-qemu
	hookd check
	expect_rc 0 "virtqemud's profile allows /usr/sbin"
	# both daemons' profiles loaded: each is judged
	loaded libvirtd enforce virtqemud enforce
	hookd check
	expect_rc 0 "both profiles allow /usr/sbin"
	expect_in "$OUT" "libvirtd's AppArmor" "libvirtd judged"
	expect_in "$OUT" "virtqemud's AppArmor" "virtqemud judged"
	;;
copied_front_worker_denied)
	loaded libvirtd enforce
	cp "$R/usr/sbin/hookd-qemu" "$R/etc/libvirt/hooks/qemu"
	ln -s /usr/libexec/hookd/hookd-apply "$R/etc/libvirt/hooks/hookd-apply"
	hookd check
	expect_rc 2 "a front in hooks/ with its worker in /usr/libexec"
	expect_in "$ERR" "denies exec of /usr/libexec/hookd/hookd-apply, hookd's worker" "names the worker"
	expect_in "$ERR" 'rule `/etc/libvirt/hooks/** rmix,` (/etc/apparmor.d/usr.sbin.libvirtd:115) runs the hook /etc/libvirt/hooks/qemu inside libvirtd'"'"'s profile' "explains the inherit"
	expect_in "$ERR" "every start of a VM with an INI file fails" "says what fails"
	expect_in "$ERR" "$LIBVIRTD_FIX" "the local rule is for the worker's directory"
	ln -sfn /usr/sbin/hookd-apply "$R/etc/libvirt/hooks/hookd-apply"
	hookd check
	expect_rc 0 "the same front with its worker in /usr/sbin"
	expect_in "$OUT" 'and rule `/usr/sbin/* PUx,` (/etc/apparmor.d/usr.sbin.libvirtd:92) runs hookd'"'"'s worker /usr/sbin/hookd-apply unconfined' "worker judged"
	;;
deny_rule)
	loaded libvirtd enforce
	hook_to /usr/sbin/hookd-qemu
	printf '# site policy\naudit deny /usr/sbin/hookd-* x,\n' >"$R/etc/apparmor.d/local/usr.sbin.libvirtd"
	hookd check
	expect_rc 2 "a deny rule wins over /usr/sbin/* PUx"
	expect_in "$ERR" 'rule `audit deny /usr/sbin/hookd-* x,` (/etc/apparmor.d/local/usr.sbin.libvirtd:2) forbids it' "names the deny rule"
	expect_in "$ERR" "no local rule can override a deny rule" "does not suggest a rule that cannot work"
	;;
source_missing_cannot_verify)
	loaded libvirtd enforce
	old_layout
	rm "$R/etc/apparmor.d/usr.sbin.libvirtd"
	hookd check
	expect_rc 0 "a loaded profile without its source"
	expect_in "$ERR" "warning: /etc/libvirt/hooks/qemu: libvirtd's AppArmor profile (enforce) is loaded, but /etc/apparmor.d/usr.sbin.libvirtd: No such file or directory: cannot verify" "warns cannot verify"
	;;
install_refuses_denied_target)
	loaded libvirtd enforce
	H=$T/libvirt-hooks
	hookd install --hooks-dir "$H" --hook "$R/usr/libexec/hookd/qemu"
	expect_rc 2 "install of a target the profile denies"
	[[ ! -e "$H/qemu" && ! -L "$H/qemu" ]] && ok "no link made" || fail "a link was made: $(ls -l "$H" 2>&1)"
	expect_in "$ERR" "/usr/libexec/hookd/qemu: libvirtd's AppArmor profile (enforce) denies exec of /usr/libexec/hookd/qemu" "says why"
	expect_in "$ERR" "$LIBVIRTD_FIX" "with the fix"
	expect_in "$ERR" "refusing to install a hook that libvirt cannot run: nothing was changed" "says it refused"
	hookd install --hooks-dir "$H" --hook "$R/usr/sbin/hookd-qemu"
	expect_rc 0 "install of a /usr/sbin target"
	expect_eq "$(readlink "$H/qemu")" "$R/usr/sbin/hookd-qemu" "link made"
	expect_in "$OUT" 'rule `/usr/sbin/* PUx,`' "says which rule allows it"
	loaded libvirtd complain
	rm "$H/qemu"
	hookd install --hooks-dir "$H" --hook "$R/usr/libexec/hookd/qemu"
	expect_rc 0 "install under a complaining profile"
	expect_in "$ERR" "installing anyway" "warns loudly"
	expect_eq "$(readlink "$H/qemu")" "$R/usr/libexec/hookd/qemu" "link made"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
