#!/bin/bash
# The hook executable as libvirtd runs it: `qemu VM OP SUBOP EXTRA`, domain XML on stdin, config from
# $HOOKD_CONF (libvirtd passes no environment, so only tests can set it). One case per call.
source "$SIM_LIB"
case_name=$1
mkroot
mkdir -p "$T/hooks.d"
cat >"$T/hookd.conf" <<CONF
root = $R
hooks_dir = $T/hooks.d
state_dir = $T/state
timeout = 2
log = none
CONF
printf '[vfio]\ndevices = auto\ncompanions = yes\n' >"$T/hooks.d/win11.ini"
chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
cat >"$T/win11.xml" <<'XML'
<domain type='kvm'><name>win11</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
<memory unit='GiB'>4</memory><vcpu>2</vcpu><devices>
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
</devices></domain>
XML
sed 's/win11/other/; /uuid/d' "$T/win11.xml" >"$T/other.xml"
hook() { # VM OP SUBOP EXTRA < xml : stdout to $T/stdout, stderr to $T/stderr, returns the exit code
	local rc=0
	sim env HOOKD_CONF="$T/hookd.conf" "$HOOKD_HOOK" "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	return $rc
}
journal="$T/state/4dea22b3-1d52-d8f3-2516-782e98ab3fa0.journal"

case "$case_name" in
full_cycle_moves_and_restores)
	rc=0; hook win11 prepare begin - <"$T/win11.xml" || rc=$?
	expect_eq "$rc" 0 "prepare exit code"
	expect_eq "$(driver 0000:01:00.0)" vfio-pci "01:00.0 driver after prepare"
	expect_eq "$(driver 0000:01:00.1)" vfio-pci "01:00.1 driver after prepare"
	[[ -f "$journal" ]] && ok "journal exists while running" || fail "no journal after prepare"
	for op in "start begin -" "started begin -" "stopped end -"; do
		rc=0; hook win11 $op <"$T/win11.xml" || rc=$?
		expect_eq "$rc" 0 "$op exit code"
	done
	expect_eq "$(driver 0000:01:00.0)" vfio-pci "01:00.0 still on vfio-pci before release"
	# libvirt >= 9.x may pass a shutoff reason instead of '-' on release
	rc=0; hook win11 release end destroyed <"$T/win11.xml" || rc=$?
	expect_eq "$rc" 0 "release exit code"
	expect_eq "$(driver 0000:01:00.0)" nvidia "01:00.0 back on nvidia"
	expect_eq "$(driver 0000:01:00.1)" snd_hda_intel "01:00.1 back on snd_hda_intel"
	[[ ! -e "$journal" ]] && ok "journal removed" || fail "journal left after release"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.now"
	diff -u "$T/dump.orig" "$T/dump.now" >/dev/null && ok "tree identical" || fail "tree differs after the cycle"
	;;
never_writes_stdout)
	# migrate and restore: libvirt reads stdout as a replacement XML; empty means unchanged
	for op in "migrate begin -" "restore begin -" "prepare begin -" "release end -" "reconnect begin -" "attach begin -"; do
		hook win11 $op <"$T/win11.xml" || true
		expect_eq "$(wc -c <"$T/stdout")" 0 "no stdout for '$op'"
	done
	;;
unconfigured_vm_is_left_alone)
	rc=0; hook other prepare begin - <"$T/other.xml" || rc=$?
	expect_eq "$rc" 0 "prepare of a VM without INI"
	expect_eq "$(wc -c <"$T/stderr")" 0 "nothing on stderr"
	[[ ! -e "$T/state" ]] && ok "no state written" || fail "state dir created for an unconfigured VM"
	rc=0; hook win11 frobnicate begin - <"$T/win11.xml" || rc=$?
	expect_eq "$rc" 0 "unknown operation"
	expect_eq "$(driver 0000:01:00.0)" nvidia "unknown operation changed nothing"
	;;
bad_input_is_one_line_exit_1)
	printf '<domain><name>win11</name><devices><hostdev' >"$T/trunc.xml"
	rc=0; hook win11 prepare begin - <"$T/trunc.xml" || rc=$?
	[[ $rc -ne 0 ]] && ok "truncated XML refused (exit $rc)" || fail "truncated XML accepted"
	expect_eq "$(wc -l <"$T/stderr")" 1 "one line on stderr"
	grep -q 'line' "$T/stderr" && ok "message says the line: $(cat "$T/stderr")" || fail "no line in: $(cat "$T/stderr")"
	expect_eq "$(driver 0000:01:00.0)" nvidia "nothing changed"
	printf '[vfio]\ndevices = 01:00.0\nbogus = 1\n' >"$T/hooks.d/win11.ini"
	rc=0; hook win11 prepare begin - <"$T/win11.xml" || rc=$?
	[[ $rc -ne 0 ]] && ok "bad INI refused (exit $rc)" || fail "bad INI accepted"
	grep -q "win11.ini:3: unknown key 'bogus'" "$T/stderr" && ok "file:line in: $(cat "$T/stderr")" \
		|| fail "no file:line in: $(cat "$T/stderr")"
	rc=0; sim env HOOKD_CONF="$T/hookd.conf" "$HOOKD_HOOK" win11 >"$T/stdout" 2>"$T/stderr" </dev/null || rc=$?
	expect_eq "$rc" 2 "missing arguments: usage error"
	;;
release_without_ini_uses_journal)
	hook win11 prepare begin - <"$T/win11.xml"
	rm "$T/hooks.d/win11.ini" # the user deletes the INI while the VM runs
	rc=0; hook win11 release end - <"$T/win11.xml" || rc=$?
	expect_eq "$rc" 0 "release exit code"
	expect_eq "$(driver 0000:01:00.0)" nvidia "01:00.0 back on nvidia without the INI"
	[[ ! -e "$journal" ]] && ok "journal removed" || fail "journal left"
	;;
device_held_by_another_vm_is_refused)
	hook win11 prepare begin - <"$T/win11.xml"
	sed 's/<name>win11</<name>other</; s/4dea22b3/5dea22b3/' "$T/win11.xml" >"$T/other2.xml"
	printf '[vfio]\ndevices = auto\n' >"$T/hooks.d/other.ini"; chmod 0644 "$T/hooks.d/other.ini"
	rc=0; hook other prepare begin - <"$T/other2.xml" || rc=$?
	expect_eq "$rc" 1 "second VM asking for the same GPU"
	grep -q "0000:01:00.0 is held by VM 'win11'" "$T/stderr" && ok "names the holder: $(cat "$T/stderr")" \
		|| fail "no holder in: $(cat "$T/stderr")"
	[[ ! -e "$T/state/5dea22b3-1d52-d8f3-2516-782e98ab3fa0.journal" ]] && ok "no journal for the refused VM" \
		|| fail "journal left for the refused VM"
	hook other release end - <"$T/other2.xml"
	expect_eq "$(driver 0000:01:00.0)" vfio-pci "the refused VM's release leaves win11's GPU alone"
	hook win11 release end - <"$T/win11.xml"
	expect_eq "$(driver 0000:01:00.0)" nvidia "win11's release restores it"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
