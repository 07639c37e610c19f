#!/bin/bash
# `hookd doctor [VM...]` on simulated hosts: test_doctor.sh CASE (one ctest test per case).
# The root: sim-mkroot (gpu preset: 01:00.0 NVIDIA boot VGA + audio in group 2; 03:00.0 USB and 04:00.0
# SATA share group 4; 05:00.0 AMD GPU + audio on vfio-pci in group 5), sim-mkroot-cpus (8 CPUs,
# siblings N and N+4, cgroup v2), sim-mkroot-hugepages --nodes 1, sim-mkroot-doctor (a healthy host:
# IOMMU, interrupt remapping, hook installed before libvirtd started, FLR on both GPUs) with one
# option per case that breaks exactly one check. Each case asserts that check's exact line.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_DOCTOR:?}" "${SIM_MKROOT_CPUS:?}" "${SIM_MKROOT_HUGEPAGES:?}" "${HOOKD_HOOK_PATH:?}" "${HOOKD_LEGACY_HOOK_PATH:?}"
: "${SIM_JSONFLAT:?}" "${SIM_MKROOT_ZFS:?}"

# setup [sim-mkroot-doctor options...]
setup() {
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_CPUS" "$R"
	"$SIM_MKROOT_HUGEPAGES" "$R" --nodes 1 --pool 2048:0:4096:0:1024 --pool 1048576:0:4
	"$SIM_MKROOT_DOCTOR" "$R" --hook-path "$HOOKD_HOOK_PATH" "$@"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
}

# domain NAME [HOSTDEV-BUS...]: a domain XML with a hostdev per bus (function 0), 2 GiB of 2 MiB
# pages, vCPUs pinned to 2,6 and 3,7 (whole cores), into $T/NAME.xml.
domain() {
	local name=$1 bus hd=""
	shift
	for bus in "$@"; do
		hd+="<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x$bus' slot='0x00' function='0x0'/></source></hostdev>"
	done
	cat >"$T/$name.xml" <<-EOX
		<domain type='kvm'><name>$name</name><memory unit='GiB'>2</memory>
		<memoryBacking><hugepages><page size='2' unit='MiB'/></hugepages></memoryBacking>
		<vcpu placement='static'>4</vcpu>
		<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='6'/><vcpupin vcpu='2' cpuset='3'/><vcpupin vcpu='3' cpuset='7'/></cputune>
		<devices>$hd</devices></domain>
	EOX
}
# ini NAME TEXT: the VM's INI file.
ini() { printf '%s\n' "$2" >"$T/hooks.d/$1.ini"; chmod 0644 "$T/hooks.d/$1.ini"; }

expect_untouched() { expect_same_tree "doctor is read-only"; }

LIBVIRT_HOOK_LINE="ok   host hook: /etc/libvirt/hooks/qemu -> $HOOKD_HOOK_PATH"

case_healthy_host_and_vm_pass() {
	setup
	domain amd 05
	ini amd $'[hugepages]\n[vfio]\ndevices = auto'
	hookd doctor amd --xml "$T/amd.xml"
	expect_rc 0 "a ready host and VM"
	expect_line "ok   host iommu: 6 IOMMU groups"
	expect_line "ok   host interrupt-remapping: on (IR- interrupt chips in /proc/interrupts)"
	expect_line "ok   host vfio: module vfio_pci is loaded"
	expect_line "ok   host vfio: module vfio_iommu_type1 is loaded"
	expect_line "ok   host cgroup: cgroup v2 with the cpuset controller"
	expect_line "ok   host hugepages: pools hugepages-1048576kB: 0 (0 free), hugepages-2048kB: 1024 (1024 free)"
	expect_line "ok   host fragmentation: 2048 MiB of 2251 MiB free memory is in 4 MiB blocks"
	expect_line "$LIBVIRT_HOOK_LINE"
	expect_in "$(grep '^ok   host apparmor: ' "$T/out")" "apparmor" "no AppArmor: an ok apparmor line"
	expect_line "ok   host hook-noticed: libvirtd (pid 777) started after the hook was installed"
	expect_line "ok   amd ini: $T/hooks.d/amd.ini passes check"
	expect_line "ok   amd group: 0000:05:00.0 is in IOMMU group 5, viable: 0000:05:00.0 vfio-pci, 0000:05:00.1 vfio-pci"
	expect_line "ok   amd reset: 0000:05:00.0 can do a function-level reset (FLR)"
	expect_line "ok   amd hugepages: needs 1024 pages of 2048 kB, the pool has 1024 free"
	expect_line "ok   amd cpus: vCPUs on CPUs 2-3,6-7: online, whole cores"
	expect_line "ok   amd plan: the prepare plans 4 steps (hookd plan amd)"
	expect_eq "$(grep -c '^FAIL' "$T/out")" 0 "no FAIL line"
	expect_untouched
}

case_no_iommu_says_what_to_enable() {
	setup --cmdline "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet"
	rm -r "$R/sys/kernel/iommu_groups"/*
	find "$R/sys/devices" -name iommu_group -type l -delete
	hookd doctor
	expect_rc 1 "no IOMMU fails"
	expect_line "FAIL host iommu: no IOMMU groups (Intel CPU): enable VT-d in the firmware setup, add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run update-grub and reboot"
	setup --cpu amd
	rm -r "$R/sys/kernel/iommu_groups"/*
	hookd doctor
	expect_line "FAIL host iommu: no IOMMU groups (AMD CPU): enable the IOMMU (AMD-Vi, often \"IOMMU\" next to \"SVM\") in the firmware setup and reboot; the kernel turns it on by itself"
	setup
	rm -r "$R/sys/kernel/iommu_groups"/*
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	hookd doctor
	expect_line "FAIL host iommu: no IOMMU groups although the kernel runs with intel_iommu=on (Intel CPU): enable VT-d in the firmware setup and reboot"
	expect_untouched
}

case_no_interrupt_remapping_fails() {
	setup --no-ir
	hookd doctor
	expect_rc 1 "no interrupt remapping"
	expect_line "FAIL host interrupt-remapping: off (no IR- interrupt chip in /proc/interrupts): vfio refuses devices without it; enable interrupt remapping / x2APIC in the firmware setup (the unsafe way out: options vfio_iommu_type1 allow_unsafe_interrupts=1)"
}

case_group_not_viable_fails_with_the_vfio_rule() {
	setup
	domain usb 03
	hookd doctor usb --xml "$T/usb.xml"
	expect_rc 1 "without an INI, the group is judged by the same rule"
	expect_line "FAIL usb group: IOMMU group 4 of 0000:03:00.0 is not viable: 0000:04:00.0 stays on ahci (0000:03:00.0 xhci_hcd, 0000:04:00.0 ahci); pass it to the VM too, bind it to vfio-pci, or use another slot"
	domain usb 03
	ini usb $'[vfio]\ndevices = auto\ncompanions = no'
	hookd doctor usb --xml "$T/usb.xml"
	expect_rc 1 "a group shared with a host device"
	expect_line "FAIL usb group: IOMMU group 4 of 0000:03:00.0 is not viable: 0000:04:00.0 stays on ahci (0000:03:00.0 xhci_hcd, 0000:04:00.0 ahci); pass it to the VM too, bind it to vfio-pci, or use another slot"
	expect_in "$OUT" "FAIL usb plan: the prepare would fail: [vfio] ($T/hooks.d/usb.ini:1): IOMMU group 4 of 0000:03:00.0 is not viable: 0000:04:00.0 " "the plan line carries [vfio]'s refusal"
	expect_untouched
}

# The group line asks [vfio] which devices it moves, with the INI's own settings: it agrees with the
# plan line, whatever companions= and devices= say.
case_group_follows_companions_no() {
	setup
	domain win 01
	ini win $'[vfio]\ndevices = auto\ncompanions = no'
	hookd doctor win --xml "$T/win.xml"
	expect_rc 1 "the slot's audio function stays on the host"
	expect_line "FAIL win group: IOMMU group 2 of 0000:01:00.0 is not viable: 0000:01:00.1 stays on snd_hda_intel (0000:01:00.0 nvidia, 0000:01:00.1 snd_hda_intel); pass it to the VM too, bind it to vfio-pci, or use another slot"
	expect_in "$OUT" "FAIL win plan: the prepare would fail: [vfio] ($T/hooks.d/win.ini:1): IOMMU group 2 of 0000:01:00.0 is not viable: 0000:01:00.1 " "the plan refuses the same group"
	ini win $'[vfio]\ndevices = auto\ncompanions = yes'
	hookd doctor win --xml "$T/win.xml"
	expect_line "ok   win group: 0000:01:00.0 is in IOMMU group 2, viable: 0000:01:00.0 nvidia, 0000:01:00.1 snd_hda_intel"
	expect_untouched
}

case_group_follows_explicit_devices() {
	setup
	domain win 01
	ini win $'[vfio]\ndevices = 0000:01:00.0\ncompanions = no'
	hookd doctor win --xml "$T/win.xml"
	expect_rc 1 "devices = lists the GPU alone"
	expect_line "FAIL win group: IOMMU group 2 of 0000:01:00.0 is not viable: 0000:01:00.1 stays on snd_hda_intel (0000:01:00.0 nvidia, 0000:01:00.1 snd_hda_intel); pass it to the VM too, bind it to vfio-pci, or use another slot"
	expect_in "$OUT" "FAIL win plan: the prepare would fail: [vfio] ($T/hooks.d/win.ini:1): IOMMU group 2 of 0000:01:00.0 is not viable: 0000:01:00.1 " "the plan refuses the same group"
	ini win $'[vfio]\ndevices = 0000:01:00.0 0000:01:00.1\ncompanions = no'
	hookd doctor win --xml "$T/win.xml"
	expect_line "ok   win group: 0000:01:00.0 is in IOMMU group 2, viable: 0000:01:00.0 nvidia, 0000:01:00.1 snd_hda_intel"
	expect_in "$OUT" "ok   win plan: the prepare plans " "and so does the plan"
	expect_untouched
}

case_hook_not_noticed_says_reload() {
	setup --daemon-before-hook
	hookd doctor
	expect_rc 1 "libvirtd older than the hook"
	expect_line "$LIBVIRT_HOOK_LINE"
	expect_line "FAIL host hook-noticed: libvirtd (pid 777) started 300 s before /etc/libvirt/hooks/qemu was installed: it has not noticed the hook; run \`hookd install --reload\`"
}

case_missing_or_foreign_hook_fails() {
	setup --hook none
	hookd doctor
	expect_rc 1 "no hook"
	expect_line "FAIL host hook: no libvirt hook (/etc/libvirt/hooks/qemu): run \`hookd install --reload\`"
	setup --hook foreign
	hookd doctor
	expect_rc 1 "foreign hook"
	expect_line "FAIL host hook: /etc/libvirt/hooks/qemu is another hook, so hookd never runs: \`hookd install --chain --reload\` keeps it and runs it after hookd's steps"
}

case_legacy_hook_path_says_repoint() {
	setup --hook-path "$HOOKD_LEGACY_HOOK_PATH"
	hookd doctor
	expect_rc 1 "hook at the 0.1.0 path"
	expect_line "FAIL host hook: /etc/libvirt/hooks/qemu -> $HOOKD_LEGACY_HOOK_PATH, where hookd 0.1.0 put it: libvirtd's AppArmor profile denies exec there; run \`hookd install --reload\` to repoint it to $HOOKD_HOOK_PATH"
}

case_apparmor_denial_is_a_failure_with_the_fix() {
	setup --hook-path "$HOOKD_LEGACY_HOOK_PATH"
	mkdir -p "$R/etc/apparmor.d" "$R/sys/kernel/security/apparmor"
	cp -r "$(dirname "$SIM_LIB")/../unit/data/apparmor/." "$R/etc/apparmor.d/"
	echo "libvirtd (enforce)" >"$R/sys/kernel/security/apparmor/profiles"
	hookd doctor
	expect_rc 1 "a hook the enforcing profile denies"
	expect_in "$(grep '^FAIL host apparmor: ' "$T/out")" "every VM start fails" "the apparmor line says what the user sees"
	expect_in "$(grep '^FAIL host apparmor: ' "$T/out")" "; fix: " "and the fix"
	echo "libvirtd (complain)" >"$R/sys/kernel/security/apparmor/profiles"
	hookd doctor
	expect_eq "$(grep -c '^warn host apparmor: ' "$T/out")" 1 "complain mode is a warning"
}

case_zfs_arc_and_affected_kernels_warn() {
	setup --kernel 6.5.0-5-amd64
	"$SIM_MKROOT_ZFS" "$R"
	hookd doctor
	expect_rc 0 "ZFS findings are warnings"
	expect_line "warn host zfs: ZFS is loaded and zfs_arc_max is 0 (the default: the ARC may take half of the 8192 MiB of RAM, and drop_caches does not free it); VMs with huge pages need that memory: set options zfs zfs_arc_max=BYTES in /etc/modprobe.d/zfs.conf (or write /sys/module/zfs/parameters/zfs_arc_max)"
	expect_line "warn host zfs-kernel: kernel 6.5.0-5-amd64 with ZFS loaded: drop_caches with compact_memory crashed kernels 6.3.1 to 6.7.4 (openzfs#15140), so [hugepages] does not compact here; update the kernel past 6.7.4, or reserve huge pages at boot"
	"$SIM_MKROOT_ZFS" "$R" --version 2.3.0-1
	hookd doctor
	expect_line "warn host zfs: ZFS is loaded and zfs_arc_max is 0 (the default: the ARC may take 7168 MiB of the 8192 MiB of RAM, and drop_caches does not free it); VMs with huge pages need that memory: set options zfs zfs_arc_max=BYTES in /etc/modprobe.d/zfs.conf (or write /sys/module/zfs/parameters/zfs_arc_max)"
	setup --kernel 6.7.5
	"$SIM_MKROOT_ZFS" "$R" --arc-max 2147483648
	hookd doctor
	expect_line "ok   host zfs: ZFS is loaded; zfs_arc_max is 2048 MiB of 8192 MiB of RAM"
	expect_eq "$(grep -c 'zfs-kernel' "$T/out")" 0 "6.7.5 is past the affected range"
	setup
	hookd doctor
	expect_eq "$(grep -c ' zfs' "$T/out")" 0 "no ZFS, no zfs line"
}

# 8 GiB of RAM: OpenZFS 2.2's ARC may take 4096 MiB; a and b ask for 2048 MiB of huge pages each.
case_zfs_arc_against_the_vms_hugepages() {
	setup
	"$SIM_MKROOT_ZFS" "$R"
	ini a $'[hugepages]\nsize = 2M\npages = 1024'
	ini b $'[hugepages]\nsize = 2M\npages = 1024\nnode = 0'
	ini c $'[hugepages]\npages = auto'
	ini d $'[vfio]\ndevices = auto'
	hookd doctor
	expect_rc 0 "a warning"
	expect_line "warn host zfs-hugepages: the ARC may grow to 4096 MiB (zfs_arc_max 0: the default of OpenZFS 2.2.2-1, half of the RAM) while the huge pages of a, b take 4096 MiB: with 1024 MiB for the host that is 9216 MiB, more than the 8192 MiB of RAM; set zfs_arc_max = 3072M in their [hugepages], or options zfs zfs_arc_max=3221225472 in /etc/modprobe.d/zfs.conf; not counted: c (pages = auto needs its domain XML: hookd doctor c)"
	hookd doctor --json
	"$SIM_JSONFLAT" <"$T/out" >"$T/flat" || fail "doctor --json is not valid JSON"
	expect_in "$(cat "$T/flat")" '.message="the ARC may grow to 4096 MiB (zfs_arc_max 0: the default of OpenZFS 2.2.2-1, half of the RAM) while the huge pages of a, b take 4096 MiB' "--json carries the line"
	ini a $'[hugepages]\nsize = 2M\npages = 1024\nzfs_arc_max = 3G'
	hookd doctor
	expect_line "ok   host zfs-hugepages: the ARC at most 3072 MiB (zfs_arc_max = 3072M in their [hugepages]) and the huge pages of a, b (4096 MiB), with 1024 MiB for the host, fit in the 8192 MiB of RAM; not counted: c (pages = auto needs its domain XML: hookd doctor c)"
	domain c
	hookd doctor c --xml "$T/c.xml"
	expect_line "ok   host zfs-hugepages: the ARC at most 4096 MiB (zfs_arc_max 0: the default of OpenZFS 2.2.2-1, half of the RAM) and the huge pages of c (2048 MiB), with 1024 MiB for the host, fit in the 8192 MiB of RAM"
	"$SIM_MKROOT_ZFS" "$R" --version 2.3.0-1
	hookd doctor c --xml "$T/c.xml"
	expect_line "warn host zfs-hugepages: the ARC may grow to 7168 MiB (zfs_arc_max 0: the default of OpenZFS 2.3.0-1, the larger of RAM - 1 GiB and 5/8 of it) while the huge pages of c take 2048 MiB: with 1024 MiB for the host that is 10240 MiB, more than the 8192 MiB of RAM; set zfs_arc_max = 5120M in their [hugepages], or options zfs zfs_arc_max=5368709120 in /etc/modprobe.d/zfs.conf"
	rm -r "$R/sys/module/zfs"
	hookd doctor
	expect_eq "$(grep -c zfs-hugepages "$T/out")" 0 "no ZFS, no zfs-hugepages line"
}

case_boot_gpu_needs_single_gpu_sections() {
	setup
	domain win 01
	ini win $'[hugepages]\n[vfio]\ndevices = auto'
	hookd doctor win --xml "$T/win.xml"
	expect_rc 1 "boot GPU without the single-GPU sections"
	expect_line "FAIL win boot-vga: 0000:01:00.0 is the boot VGA: the host's console and display run on it (driver nvidia); the INI lacks [service] [console] [modules] before [vfio] (\`hookd new win --stdout\` shows them)"
}

case_no_flr_warns() {
	setup --no-flr
	domain win 01
	hookd doctor win --xml "$T/win.xml"
	expect_line "warn win reset: 0000:01:00.0 has no function-level reset (no FLR in its PCIe capability): the kernel can only reset it with a bus reset of its slot; if the VM fails its second start, the device needs a host reboot in between"
	expect_line "warn win ini: no INI file ($T/hooks.d/win.ini): hookd does nothing for it; \`hookd new win\` writes one"
	echo "flr bus" >"$R/sys/bus/pci/devices/0000:01:00.0/reset_method"
	hookd doctor win --xml "$T/win.xml"
	expect_line "ok   win reset: 0000:01:00.0 can do a function-level reset (FLR); reset_method: flr bus"
}

case_fragmented_memory_warns() {
	setup --fragmented
	hookd doctor
	expect_rc 0 "fragmentation is a warning"
	expect_line "warn host fragmentation: 64 MiB of 267 MiB free memory is in 4 MiB blocks: not one 1 GiB page without compaction; for 1 GiB pages reserve them at boot (hugepagesz=1G hugepages=N on the kernel command line)"
}

case_hugepages_and_cpus_against_the_host() {
	setup
	domain amd 05
	sed -i "s|<page size='2' unit='MiB'/>|<page size='1' unit='GiB'/>|; s|cpuset='7'|cpuset='9'|" "$T/amd.xml"
	hookd doctor amd --xml "$T/amd.xml"
	expect_rc 1 "pool and pinning"
	expect_line "FAIL amd hugepages: needs 2 pages of 1048576 kB, the pool has 0 free and the INI has no [hugepages]: add [hugepages] (pages = auto) or reserve them at boot"
	expect_line "FAIL amd cpus: <cputune> pins to CPUs 9, which this host does not have online (0-7): fix it with virsh edit amd"
	sed -i "s|cpuset='9'|cpuset='1'|" "$T/amd.xml"
	hookd doctor amd --xml "$T/amd.xml"
	expect_line "warn amd cpus: vCPUs on CPUs 1-3,6, but their SMT siblings 5,7 are not the VM's: the host shares those cores; pin both threads of each core (virsh edit amd)"
}

case_json_parses() {
	setup --no-flr
	domain win 01
	hookd doctor win --xml "$T/win.xml" --json
	expect_rc 1 "json, boot VGA fails"
	if "$SIM_JSONFLAT" <"$T/out" >"$T/flat" 2>"$T/jerr"; then ok "--json is valid JSON"; else fail "--json: $(cat "$T/jerr")"; fi
	expect_in "$(cat "$T/flat")" '.failed=1' "one failure counted"
	expect_in "$(cat "$T/flat")" '"boot-vga"' "the boot-vga check is listed"
	expect_in "$(cat "$T/flat")" '.level="fail"' "with level fail"
}

"case_$1"
finish
