#!/bin/bash
# hookd's [console] action against the simulated kernel: test_console.sh CASE.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_CONSOLE:?}"
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a05
VT=sys/class/vtconsole FB=sys/bus/platform/devices/efi-framebuffer.0

setup() { # INI_BODY
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset empty
	"$SIM_MKROOT_CONSOLE" "$R"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
	printf '%b' "$1" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	cat >"$T/win11.xml" <<-EOX
		<domain type='kvm'>
		  <name>win11</name>
		  <uuid>$UUID</uuid>
		  <memory unit='KiB'>1048576</memory>
		  <vcpu placement='static'>2</vcpu>
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		</domain>
	EOX
}

run() { hookd run win11 "$1" --xml "$T/win11.xml"; }
bind() { cat "$R/$VT/$1/bind" 2>/dev/null || echo gone; }
fbdrv() { local l; l=$(readlink "$R/$FB/driver" 2>/dev/null) || { echo ""; return 0; }; basename "$l"; }

ALL='[console]\nvtconsoles = yes\nframebuffer = efi-framebuffer.0\n'

case_unbinds_bound_consoles_and_framebuffer_and_restores() {
	setup "$ALL"
	run prepare
	expect_rc 0 prepare
	# as on the real kernel: fbcon's vtcon leaves with the last framebuffer, the dummy takes over
	expect_eq "$(bind vtcon0)" 1 "vtcon0 (dummy) holds the terminals"
	expect_eq "$(bind vtcon1)" gone "vtcon1 (fbcon) gone with the framebuffer"
	expect_eq "$(bind vtcon2)" 0 "vtcon2 unbound"
	expect_eq "$(fbdrv)" "" "efi-framebuffer.0 unbound"
	expect_nofile sys/bus/platform/drivers/efi-framebuffer/efi-framebuffer.0
	run release
	expect_rc 0 release
	expect_eq "$(bind vtcon0)" 0 "vtcon0 unbound again (it was)"
	expect_eq "$(bind vtcon1)$(bind vtcon2)" 11 "vtcon1 back bound with the framebuffer, vtcon2 bound again"
	expect_eq "$(fbdrv)" efi-framebuffer "efi-framebuffer.0 bound again"
	expect_same_tree "after release"
	finish
}

case_plan_shows_every_write_and_touches_nothing() {
	setup "$ALL"
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "1. [console] unbind vtcon1 (M) frame buffer device from the virtual terminals" "plan: vtcon1"
	expect_in "$OUT" "write $R/sys/class/vtconsole/vtcon1/bind <- 0" "plan: vtcon1 write"
	expect_in "$OUT" "2. [console] unbind vtcon2" "plan: vtcon2"
	expect_in "$OUT" "3. [console] unbind framebuffer efi-framebuffer.0 from efi-framebuffer" "plan: framebuffer"
	expect_in "$OUT" "write $R/sys/bus/platform/drivers/efi-framebuffer/unbind <- efi-framebuffer.0" "plan: fb write"
	if [[ "$OUT" == *vtcon0* ]]; then fail "plan names vtcon0, which is not bound"; else ok "vtcon0 not in plan"; fi
	expect_same_tree "after plan"
	finish
}

case_bad_values_are_refused_with_file_line() {
	local ini
	for ini in '[console]\nvtconsoles = maybe\n' '[console]\nframebuffer = ../efi\n' '[console]\nframebuffer =\n' \
		'[console]\nconsoles = yes\n'; do
		setup "$ini"
		hookd check win11
		expect_rc 2 "check refuses $(printf '%b' "$ini" | tr '\n' ' ')"
		expect_in "$ERR" "win11.ini:2: " "error names file:line"
		expect_in "$ERR" "[console]" "error names the section"
	done
	setup '[console]\nvtconsoles = maybe\n'
	hookd check win11
	expect_in "$ERR" "expected yes or no, got 'maybe'" "bad boolean: reason"
	finish
}

case_missing_framebuffer_is_not_an_error() {
	setup '[console]\nframebuffer = simple-framebuffer.0\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "framebuffer simple-framebuffer.0 is not present (gone already): nothing to do" "plan says it is gone"
	run prepare
	expect_rc 0 "prepare with a missing framebuffer"
	run release
	expect_rc 0 release
	expect_same_tree "after release"
	finish
}

case_framebuffer_gone_before_release_is_not_an_error() {
	setup "$ALL"
	run prepare
	expect_rc 0 prepare
	# vfio-pci (or any driver) took the boot GPU: the kernel unregisters the firmware framebuffer
	# for good (seen on 6.1 and 6.12, tests/vm/guest-console.sh), and fbcon's vtcon1 with it
	rm -rf "$R/sys/devices/platform/efi-framebuffer.0" "$R/$FB"
	sed -i 's/^log = none/log = stderr/' "$T/hookd.conf"
	run release
	expect_rc 0 "release with the framebuffer and its vtcon gone"
	expect_eq "$(bind vtcon1)" gone "vtcon1 cannot come back without a framebuffer"
	expect_eq "$(bind vtcon2)$(bind vtcon0)" 10 "vtcon2 bound again, the dummy released"
	expect_in "$ERR" "framebuffer efi-framebuffer.0 is gone: the kernel removed it" "the lost framebuffer is said"
	expect_in "$ERR" "vtcon1 is gone with its framebuffer" "the lost vtcon is said"
	expect_nofile "../state/$UUID.journal"
	finish
}

case_console_that_will_not_rebind_is_reported_and_kept() {
	setup "$ALL"
	run prepare
	expect_rc 0 prepare
	touch "$R/.sim/faults/vtcon2.no_rebind"
	run release
	expect_rc 1 "release when vtcon2 will not bind"
	expect_in "$ERR" "vtcon2: the kernel did not bind the console again" "the refusal is reported"
	expect_in "$ERR" "1 step still held" "the step stays in the journal"
	expect_eq "$(bind vtcon1)$(fbdrv)" 1efi-framebuffer "the other steps were undone"
	rm "$R/.sim/faults/vtcon2.no_rebind"
	hookd restore win11
	expect_rc 0 "restore once the console can bind"
	expect_same_tree "after restore"
	finish
}

case_vtconsoles_no_leaves_consoles_alone() {
	setup '[console]\nvtconsoles = no\n'
	run prepare
	expect_rc 0 prepare
	expect_eq "$(bind vtcon1)" 1 "vtcon1 untouched"
	run release
	expect_same_tree "after release"
	finish
}

"case_$1"
