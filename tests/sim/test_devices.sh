#!/bin/bash
# `hookd devices [--json]` against the gpu preset: test_devices.sh CASE (one ctest test per case).
# Preset: group 2 = 01:00.0 NVIDIA GPU (nvidia, boot VGA) + 01:00.1 HDMI audio; group 4 = 03:00.0 USB
# + 04:00.0 SATA (ahci), two slots; group 5 = 05:00.0 AMD GPU + 05:00.1 audio, both on vfio-pci.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_JSONFLAT:?}"

setup() {
	mkroot
	cat >"$T/hookd.conf" <<-EOC
		root = $R
		hooks_dir = $T/hooks.d
		state_dir = $T/state
		log = none
	EOC
	chmod 0644 "$T/hookd.conf"
}

# PATTERN is literal text except '*', which matches anything.
glob_lit() { local p=${1//\\/\\\\}; p=${p//[/\\[}; p=${p//]/\\]}; p=${p//\?/\\?}; printf '%s' "$p"; }
# expect_in TEXT PATTERN WHAT: PATTERN occurs somewhere in TEXT.
expect_in() {
	local p
	p=$(glob_lit "$2")
	if [[ "$1" == *$p* ]]; then ok "$3"; else fail "$3: no '$2' in:"$'\n'"$1"; fi
}
expect_not_in() {
	local p
	p=$(glob_lit "$2")
	if [[ "$1" != *$p* ]]; then ok "$3"; else fail "$3: unexpected '$2' in:"$'\n'"$1"; fi
}
# libpci names devices from pci.ids (Debian: package pci.ids); without it, ids alone.
HAVE_IDS=0
[[ -r /usr/share/misc/pci.ids || -r /usr/share/hwdata/pci.ids ]] && HAVE_IDS=1
# block N: the text output's "IOMMU group N:" paragraph.
block() { awk -v h="IOMMU group $1:" '$0 == h { on = 1 } on && $0 == "" { exit } on' "$T/out"; }
# line ADDR: the text output's device line for ADDR.
line() { grep -E "^  [*+ ] $1 " "$T/out" || true; }

# devices_json: runs --json, checks it parses and flattens it into $T/flat.
devices_json() {
	hookd devices --json
	expect_rc 0 "devices --json"
	if "$SIM_JSONFLAT" <"$T/out" >"$T/flat" 2>"$T/jerr"; then ok "--json output is valid JSON"; else
		fail "--json output is not valid JSON: $(cat "$T/jerr")"
		return
	fi
	if command -v python3 >/dev/null; then
		python3 -m json.tool <"$T/out" >/dev/null && ok "python3 json.tool agrees" || fail "python3 rejects the JSON"
	fi
}
# jget PATH: the flattened value at PATH ("" when absent).
jget() { awk -v p="$1=" 'index($0, p) == 1 { print substr($0, length(p) + 1); exit }' "$T/flat"; }
# gpath N: ".groups[i]" for IOMMU group N.
gpath() { sed -n "s|^\(\.groups\[[0-9]*\]\)\.group=$1\$|\1|p" "$T/flat"; }
# dpath ADDR: ".groups[i].devices[j]" of the device ADDR.
dpath() { sed -n "s|^\(\.groups\[[0-9]*\]\.devices\[[0-9]*\]\)\.address=\"$1\"\$|\1|p" "$T/flat"; }
expect_j() { # PATH WANT
	expect_eq "$(jget "$1")" "$2" "json $1"
}

case_text_lists_groups_with_verdicts() {
	setup
	local w0 b
	w0=$(cat "$R/.sim/write_count")
	hookd devices
	expect_rc 0 devices
	expect_eq "$(grep -cE '^  [*+ ] 0000:' "$T/out")" 9 "all 9 preset devices listed"
	expect_eq "$(grep -c '^IOMMU group [0-9]*:$' "$T/out")" 6 "6 IOMMU groups"
	b=$(block 2)
	expect_in "$(line 0000:01:00.0)" "[10de:2204], driver nvidia  <- GPU, boot VGA" "01:00.0 GPU, ids, driver, boot VGA"
	((HAVE_IDS)) && expect_in "$(line 0000:01:00.0)" ": NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]" "01:00.0 name from pci.ids"
	expect_in "$(line 0000:01:00.0)" "VGA compatible controller [0300]" "01:00.0 class"
	expect_eq "$(line 0000:01:00.0 | cut -c3)" "*" "GPU line marked *"
	expect_in "$(line 0000:01:00.1)" "Audio device [0403]:*[10de:1aef], driver snd_hda_intel  <- companion of 0000:01:00.0" "01:00.1 companion of the GPU"
	expect_eq "$(line 0000:01:00.1 | cut -c3)" "+" "companion line marked +"
	expect_in "$b" "=> passable as it is; these move together:" "group 2 passable, members move together"
	expect_in "$b" "[vfio] devices = 0000:01:00.0, companions = yes" "group 2 suggests the [vfio] lines"
	b=$(block 4)
	expect_in "$b" "0000:03:00.0*0000:04:00.0" "group 4 holds 03:00.0 and 04:00.0"
	expect_in "$b" "=> NOT passable as it is: 0000:03:00.0 shares the group with 1 device that the host" "group 4 not passable"
	expect_in "$b" "0000:04:00.0 SATA controller, bound to ahci" "group 4 names the SATA controller on ahci"
	expect_not_in "$b" "[vfio] devices" "no [vfio] suggestion for group 4"
	b=$(block 5)
	expect_in "$b" "[vfio] devices = 0000:05:00.0, companions = yes  (already on vfio-pci)" "group 5 already on vfio-pci"
	expect_in "$(line 0000:05:00.0)" "driver vfio-pci  <- GPU" "05:00.0 GPU on vfio-pci"
	expect_not_in "$(line 0000:05:00.0)" "boot VGA" "05:00.0 not boot VGA"
	expect_in "$(block 1)" "bridges only: nothing to pass through" "group 1 (root port) bridges only"
	expect_in "$(block 3)" "[vfio] devices = 0000:02:00.0" "group 3 (NIC alone) passable"
	expect_in "$OUT" "GPU 0000:01:00.0: group 2, passable as it is, driver nvidia, boot VGA" "GPU summary for 01:00.0"
	expect_in "$OUT" "GPU 0000:05:00.0: group 5, passable as it is, driver vfio-pci" "GPU summary for 05:00.0"
	expect_in "$OUT" "warning: 0000:01:00.0 is the boot VGA*[console], [modules] and [service]" "boot VGA warning"
	expect_not_in "$OUT" "only GPU" "two GPUs: no only-GPU warning"
	expect_eq "$ERR" "" "nothing on stderr"
	expect_eq "$(cat "$R/.sim/write_count")" "$w0" "devices made no kernel write"
	expect_same_tree "after devices"
}

case_json_parses_with_expected_values() {
	setup
	devices_json
	local g d
	expect_j .iommu true
	expect_eq "$(grep -c '^\.groups\[[0-9]*\]\.group=' "$T/flat")" 6 "json: 6 groups"
	expect_eq "$(grep -c '^\.groups\[[0-9]*\]\.devices\[[0-9]*\]\.address=' "$T/flat")" 9 "json: 9 devices"
	g=$(gpath 2)
	expect_j "$g.passable" true
	expect_j "$g.vfio_devices" '"0000:01:00.0"'
	expect_j "$g.move_together[0]" '"0000:01:00.0"'
	expect_j "$g.move_together[1]" '"0000:01:00.1"'
	expect_j "$g.blockers" '[]'
	d=$(dpath 0000:01:00.0)
	expect_eq "${d%%.devices*}" "$g" "json: 01:00.0 is in group 2"
	expect_j "$d.vendor_id" '"10de"'
	expect_j "$d.device_id" '"2204"'
	expect_j "$d.class" '"0300"'
	expect_j "$d.driver" '"nvidia"'
	expect_j "$d.boot_vga" true
	expect_j "$d.gpu" true
	expect_j "$d.companion_of" null
	if ((HAVE_IDS)); then expect_j "$d.name" '"NVIDIA Corporation GA102 [GeForce RTX 3090]"'; else expect_j "$d.name" null; fi
	d=$(dpath 0000:01:00.1)
	expect_j "$d.companion_of" '"0000:01:00.0"'
	expect_j "$d.gpu" false
	expect_j "$d.driver" '"snd_hda_intel"'
	g=$(gpath 4)
	expect_j "$g.passable" false
	expect_j "$g.vfio_devices" null
	expect_j "$g.blockers[0]" '"0000:04:00.0"'
	expect_j "$g.blockers[1]" ""
	expect_j "$(dpath 0000:04:00.0).driver" '"ahci"'
	expect_j "$(dpath 0000:04:00.0).class_name" '"SATA controller"'
	g=$(gpath 5)
	expect_j "$g.passable" true
	expect_j "$g.all_vfio" true
	expect_j "$(dpath 0000:05:00.1).companion_of" '"0000:05:00.0"'
	expect_j "$(dpath 0000:05:00.0).boot_vga" false
	expect_j "$(gpath 1).passable" false
	expect_j "$(dpath 0000:00:01.0).bridge" true
	expect_j "$(dpath 0000:00:00.0).driver" null
	expect_in "$(jget '.warnings[0]')" "0000:01:00.0 is the boot VGA" "json: boot VGA warning"
}

case_gpu_in_shared_group_names_what_blocks_it() {
	setup
	local f
	for f in 0000:05:00.0 0000:05:00.1; do # the AMD card behind the chipset: in group 4 with USB and SATA
		ln -sfn "$R/sys/kernel/iommu_groups/4" "$(readlink -f "$R/sys/bus/pci/devices/$f")/iommu_group"
		mv "$R/sys/kernel/iommu_groups/5/devices/$f" "$R/sys/kernel/iommu_groups/4/devices/"
	done
	rm -r "$R/sys/kernel/iommu_groups/5"
	hookd devices
	expect_rc 0 devices
	local b
	b=$(block 4)
	expect_in "$b" "NOT passable as it is: 0000:05:00.0 shares the group with 2 devices that the host" "GPU named as the group's subject"
	expect_in "$b" "0000:03:00.0 USB controller, bound to xhci_hcd" "names the USB controller"
	expect_in "$b" "0000:04:00.0 SATA controller, bound to ahci" "names the SATA controller on ahci"
	expect_in "$OUT" "GPU 0000:05:00.0: group 4, NOT passable as it is" "GPU summary says not passable"
	devices_json
	local g
	g=$(gpath 4)
	expect_j "$g.passable" false
	expect_j "$g.blockers[0]" '"0000:03:00.0"'
	expect_j "$g.blockers[1]" '"0000:04:00.0"'
	expect_j "$g.blockers[2]" ""
	expect_j "$g.move_together[3]" '"0000:05:00.1"'
	expect_j "$g.move_together[4]" ""
}

case_single_gpu_boot_vga_is_the_only_gpu() {
	setup
	chmod u+w "$R/sys/bus/pci/devices/0000:05:00.0/class"
	echo 0x020000 >"$R/sys/bus/pci/devices/0000:05:00.0/class" # the AMD card is now a NIC
	hookd devices
	expect_rc 0 devices
	expect_in "$OUT" "warning: 0000:01:00.0 is the boot VGA*the host's only GPU" "only-GPU boot VGA warning"
	expect_in "$(line 0000:05:00.0)" "Ethernet controller [0200]" "05:00.0 now shown as a NIC"
	expect_not_in "$(line 0000:05:00.1)" "companion" "05:00.1 no longer a GPU companion"
}

case_chipset_group_is_flagged() {
	setup
	chmod u+w "$R/sys/bus/pci/devices/0000:05:00.1/class"
	echo 0x060100 >"$R/sys/bus/pci/devices/0000:05:00.1/class" # an LPC (ISA) bridge in the AMD card's slot
	hookd devices
	expect_rc 0 devices
	expect_in "$(block 5)" "caution: the group holds the chipset's ISA bridge (0000:05:00.1): the host itself needs it" "group 5 flags the ISA bridge"
	expect_not_in "$(block 2)" "caution" "group 2 has no caution"
	devices_json
	expect_j "$(gpath 5).chipset" true
	expect_j "$(gpath 2).chipset" false
	expect_j "$(gpath 5).passable" true
}

case_no_iommu_says_how_to_enable_and_still_lists() {
	setup
	rm -r "$R/sys/kernel/iommu_groups"/*
	find "$R/sys/devices" -name iommu_group -type l -delete
	hookd devices
	expect_rc 0 "devices without IOMMU"
	expect_in "$OUT" "No IOMMU: $R/sys/kernel/iommu_groups is empty" "says there is no IOMMU"
	expect_in "$OUT" "intel_iommu=on" "says how to enable it"
	expect_eq "$(grep -cE '^  [*+ ] 0000:' "$T/out")" 9 "still lists all 9 devices"
	expect_eq "$(grep -c '^IOMMU group' "$T/out")" 0 "no group headers"
	expect_in "$(line 0000:01:00.0)" "<- GPU, boot VGA" "GPU still marked"
	expect_in "$OUT" "GPU 0000:01:00.0: no IOMMU group" "GPU summary says no group"
	devices_json
	expect_j .iommu false
	expect_j '.groups[0].group' null
	expect_j '.groups[0].passable' false
	expect_j '.groups[1].group' ""
	expect_eq "$(grep -c '^\.groups\[0\]\.devices\[[0-9]*\]\.address=' "$T/flat")" 9 "json: 9 devices in the null group"
	expect_in "$(jget '.warnings[0]')" "no IOMMU" "json: no-IOMMU warning"
}

# [vfio] and `hookd devices` judge groups by one rule (iommu_group_judge): an unbound device in another
# slot does not block (the kernel allows it), a device another VM's journal holds does (libvirt refuses).
case_one_viability_rule_with_vfio() {
	setup
	mkdir -p "$T/hooks.d" "$T/state"
	printf '[vfio]\ndevices = 0000:03:00.0\n' >"$T/hooks.d/usb.ini"
	chmod 0644 "$T/hooks.d/usb.ini"
	echo "<domain type='kvm'><name>usb</name></domain>" >"$T/usb.xml"
	swrite sys/bus/pci/drivers/ahci/unbind 0000:04:00.0 # group 4: USB 03:00.0 + SATA 04:00.0, now unbound
	hookd devices
	expect_rc 0 devices
	expect_in "$(block 4)" "=> passable as it is; these move together:" "group 4 passable with 04:00.0 unbound"
	expect_in "$(block 4)" "[vfio] devices = 0000:03:00.0" "group 4 suggests [vfio]"
	hookd plan usb --xml "$T/usb.xml"
	expect_rc 0 "[vfio] accepts the same group"
	devices_json
	expect_j "$(gpath 4).passable" true
	expect_j "$(gpath 4).blockers" '[]'
	# Another VM holds 04:00.0 (its journal bound it to vfio-pci).
	printf 'hookd-journal 1\nvm\tother\nuuid\t\nstep\tdone\tvfio\tbind\t0000:04:00.0\tvfio-pci\tahci;\n' \
		>"$T/state/other.journal"
	hookd devices
	expect_rc 0 "devices with another VM's journal"
	expect_in "$(block 4)" "NOT passable as it is: 0000:03:00.0 shares the group with 1 device" "group 4 held by another VM"
	expect_in "$(block 4)" "0000:04:00.0 SATA controller, no driver, held by VM other" "names the VM holding 04:00.0"
	devices_json
	expect_j "$(gpath 4).passable" false
	expect_j "$(gpath 4).blockers[0]" '"0000:04:00.0"'
}

case_bad_root_or_argument_is_exit_2() {
	setup
	hookd devices extra
	expect_rc 2 "devices with an argument"
	expect_in "$ERR" "devices: takes no arguments" "says why"
	hookd --root "$T/nowhere" devices
	expect_rc 2 "devices under a root without PCI"
	expect_in "$ERR" "no PCI bus at $T/nowhere/sys/bus/pci" "names the missing bus"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_eq "$OUT" "" "nothing on stdout"
}

case=${1:?usage: test_devices.sh CASE}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
