#!/bin/bash
# [vfio] never takes a device the host depends on: test_hostdeps.sh CASE (one ctest test per case).
# The root: sim-mkroot (gpu preset) + sim-mkroot-hostdeps: 04:00.0 SATA has sda (sda1 mounted at /,
# sda2 swap), 03:00.0 USB has sdb (sdb1 under dm-0, mounted at /home), 02:00.0 is eno1 with the
# default route. The refusal comes from the plan, before any write: `run prepare` leaves the tree
# exactly as it was, and `plan` and `doctor` say the same.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_HOSTDEPS:?}" "${SIM_MKROOT_MODULES:?}"
UUID=7a1b4c52-4c1e-4c55-9d40-0d2d1b1b0a02

# setup INI-VFIO-BODY [sim-mkroot-hostdeps options...]
setup() {
	local body=$1
	shift
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_HOSTDEPS" "$R" "$@"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" \
		>"$T/hookd.conf"
	printf '[vfio]\n%s\n' "$body" >"$T/hooks.d/vm.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/vm.ini"
	printf "<domain type='kvm'><name>vm</name><uuid>%s</uuid><memory unit='GiB'>1</memory><devices/></domain>\n" \
		"$UUID" >"$T/vm.xml"
}
INI_AT="[vfio] ($T/hooks.d/vm.ini:1)"

# refused WHY ADDR: plan, run prepare and doctor all refuse ADDR with exactly WHY; nothing changes.
refused() {
	local line="$1 is in use by the host: $2; pass another device, or set force = $1 in [vfio] if the host can do without it"
	hookd plan vm --xml "$T/vm.xml"
	expect_rc 1 "plan refuses $1"
	expect_eq "$ERR" "hookd: vm: the prepare would fail: $INI_AT: $line" "plan names why"
	hookd run vm prepare --xml "$T/vm.xml"
	expect_rc 1 "prepare refuses $1"
	expect_in "$ERR" "$line" "prepare names why"
	expect_same_tree "refused before anything changed"
	hookd doctor vm --xml "$T/vm.xml"
	expect_in "$OUT" "FAIL vm plan: the prepare would fail: $INI_AT: $line" "doctor shows the refusal"
}

case_disk_with_mounted_root_and_swap_is_refused() {
	setup $'devices = 0000:04:00.0\ncompanions = no'
	refused 0000:04:00.0 "/ is mounted from sda1; swap is active on sda2"
}

case_usb_controller_under_a_dm_holder_is_refused() {
	setup $'devices = 0000:03:00.0\ncompanions = no'
	refused 0000:03:00.0 "/home is mounted from dm-0"
}

case_nic_with_the_default_route_is_refused() {
	setup 'devices = 0000:02:00.0'
	refused 0000:02:00.0 "network interface eno1 carries the default route"
}

case_gpu_held_open_names_pid_command_and_unit() {
	setup 'devices = 0000:01:00.0' --unit 4242:display-manager.service
	"$SIM_MKROOT_MODULES" "$R" --hold dri/card0
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	refused 0000:01:00.0 "pid 4242 (Xorg, unit display-manager.service) holds /dev/dri/card0 open"
}

case_force_takes_the_named_device() {
	setup $'devices = 0000:02:00.0\nforce = 0000:02:00.0'
	hookd plan vm --xml "$T/vm.xml"
	expect_rc 0 "force = ADDR plans"
	expect_in "$OUT" "0000:02:00.0" "the NIC is in the plan"
	setup $'devices = 0000:02:00.0\nforce = yes'
	hookd plan vm --xml "$T/vm.xml"
	expect_rc 0 "force = yes plans"
	setup $'devices = 0000:02:00.0\nforce = 0000:04:00.0'
	hookd plan vm --xml "$T/vm.xml"
	expect_rc 1 "force for another address does not cover the NIC"
	setup $'devices = 0000:02:00.0\nforce = maybe'
	hookd check vm
	expect_rc 2 "a bad force value"
	expect_in "$ERR" "vm.ini:3" "names file:line"
}

case_idle_devices_are_taken_and_given_back() {
	setup 'devices = 0000:02:00.0' --idle
	hookd run vm prepare --xml "$T/vm.xml"
	expect_rc 0 "an idle NIC is taken"
	expect_eq "$(driver 0000:02:00.0)" vfio-pci "eno1's NIC on vfio-pci"
	hookd run vm release --xml "$T/vm.xml"
	expect_rc 0 "release"
	expect_eq "$(driver 0000:02:00.0)" e1000e "back on e1000e"
}

"case_$1"
finish
