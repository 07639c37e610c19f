#!/bin/bash
# `hookd edit VM`: test_edit.sh CASE. EDITOR is a script that plays the user: on its Nth call it
# copies $T/edit.N over the file it is given (or leaves the file alone when there is none). EDITOR
# carries an option (--wait) as users' "code --wait" does: hookd splits it into words.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}"
ORIG=$'[vfio]\ndevices = auto ; the domain\'s hostdevs'

setup() {
	mkroot
	mkdir -p "$T/hooks.d" "$T/state" "$T/bin"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
	printf '%s\n' "$ORIG" >"$T/hooks.d/vm.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/vm.ini"
	cat >"$T/bin/fake-editor" <<-EOS
		#!/bin/bash
		n=\$(( \$(cat "$T/calls" 2>/dev/null || echo 0) + 1 ))
		echo "\$n" >"$T/calls"
		[[ \$1 == --wait ]] || { echo "fake editor: EDITOR's words not passed: \$*" >&2; exit 3; }
		f=\${@: -1}
		echo "\$f" >"$T/edited-path"
		[[ -e "$T/edit.\$n" ]] && cp "$T/edit.\$n" "\$f"
		exit 0
	EOS
	chmod 0755 "$T/bin/fake-editor"
}
# edit [ANSWERS]: hookd edit vm with the fake editor, ANSWERS on stdin
edit() {
	set +e
	printf '%s' "${1:-}" | env -u VISUAL EDITOR="$T/bin/fake-editor --wait" "$HOOKD_BIN" --conf "$T/hookd.conf" edit vm >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}
expect_ini() { expect_eq "$(cat "$T/hooks.d/vm.ini")" "$1" "$2"; }
expect_no_tmp() { expect_eq "$(ls "$T/hooks.d")" "vm.ini" "no temporary copy left"; }

case_valid_edit_replaces_the_ini() {
	setup
	printf '[vfio]\ndevices = auto\ncompanions = no\n' >"$T/edit.1"
	edit
	expect_rc 0 "a valid edit"
	expect_ini $'[vfio]\ndevices = auto\ncompanions = no' "the INI holds the edit"
	expect_eq "$(stat -c '%a %u' "$T/hooks.d/vm.ini")" "644 0" "root's, 0644"
	expect_in "$OUT" "$T/hooks.d/vm.ini replaced: it passes check." "says so"
	expect_in "$(cat "$T/edited-path")" "$T/hooks.d/vm.ini.edit-" "the editor worked on a copy beside the INI"
	expect_no_tmp
}

case_invalid_edit_shows_file_line_and_edits_again() {
	setup
	printf '[vfio]\ndevices = auto\ncompanion = no\n' >"$T/edit.1"
	printf '[vfio]\ndevices = auto\ncompanions = no\n' >"$T/edit.2"
	edit $'e\n'
	expect_rc 0 "fixed on the second edit"
	expect_in "$ERR" "$T/hooks.d/vm.ini:3" "the error names the INI's file:line"
	expect_in "$OUT" "What now? (e)dit again, e(x)it without saving" "offers to edit again"
	expect_eq "$(cat "$T/calls")" 2 "the editor ran twice"
	expect_ini $'[vfio]\ndevices = auto\ncompanions = no' "the fixed INI is in place"
	expect_no_tmp
}

case_invalid_edit_abandoned_is_never_put_in_place() {
	setup
	printf '[vfio]\ndevices = not-an-address\n' >"$T/edit.1"
	edit $'x\n'
	expect_rc 1 "abandoned"
	expect_in "$OUT" "Abandoned: $T/hooks.d/vm.ini is unchanged." "says so"
	expect_ini "$ORIG" "the INI is unchanged"
	expect_no_tmp
	edit ""
	expect_ini "$ORIG" "end of input abandons too"
}

case_running_vm_is_told_next_start() {
	setup
	printf "<domain type='kvm'><name>vm</name><uuid>7a1b4c52-4c1e-4c55-9d40-0d2d1b1b0a03</uuid><memory unit='GiB'>1</memory><devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source></hostdev><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></source></hostdev></devices></domain>\n" >"$T/vm.xml"
	hookd run vm prepare --xml "$T/vm.xml"
	expect_rc 0 "the VM is prepared (its journal holds the USB and SATA controllers)"
	printf '[vfio]\ndevices = auto\ncompanions = no\n' >"$T/edit.1"
	edit
	expect_rc 0 "edit"
	expect_in "$OUT" "VM vm is running: the change applies at its next start (release follows its journal)." "a running VM is told"
	hookd run vm release --xml "$T/vm.xml"
	expect_rc 0 "release follows the journal"
	expect_eq "$(driver 0000:04:00.0)" ahci "SATA back on ahci"
}

case_no_change_and_no_ini() {
	setup
	edit
	expect_rc 0 "no change"
	expect_in "$OUT" "No change to $T/hooks.d/vm.ini." "says so"
	rm "$T/hooks.d/vm.ini"
	edit
	expect_rc 2 "no INI"
	expect_in "$ERR" "\`hookd new vm\` writes one" "points to hookd new"
}

"case_$1"
finish
