#!/bin/bash
# The README's first command ends with `cmake --build build --target demo`: test_demo.sh CMAKE -D...
# runs the very command that target runs (cmake/demo.cmake, given the same definitions by
# CMakeLists.txt) into a temporary directory, and asserts what a newcomer reads: a dual-GPU host that
# matches hooks.d/win11.ini, doctor without a FAIL (exit 0) and the plan's three steps.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${DEMO_SCRIPT:?}" "${HOOKD_HOOK_PATH:?}"

set +e
"$@" -DDEMO_DIR="$T/demo" -P "$DEMO_SCRIPT" >"$T/out" 2>"$T/err"
RC=$?
set -e
OUT=$(cat "$T/out") ERR=$(cat "$T/err")
expect_rc 0 "the demo: check, doctor and plan all succeed"
D=$T/demo/root/sys/bus/pci/devices
expect_eq "$(cat "$D/0000:00:02.0/boot_vga")" 1 "the host's own GPU, the iGPU, is the boot VGA"
expect_eq "$(cat "$D/0000:01:00.0/boot_vga")" 0 "the VM's GPU is not"
expect_in "$OUT" "hooks.d/win11.ini: ok ([vfio])" "check passes"
expect_eq "$(grep -c '^FAIL' "$T/out")" 0 "doctor has no FAIL line"
expect_eq "$(grep -c '^warn' "$T/out")" 0 "nor a warning: the demo host has every fact doctor reads"
expect_line "ok   host iommu: 6 IOMMU groups"
expect_line "ok   host interrupt-remapping: on (IR- interrupt chips in /proc/interrupts)"
expect_line "ok   host cgroup: cgroup v2 with the cpuset controller"
expect_line "ok   host hugepages: pools hugepages-1048576kB: 16 (16 free), hugepages-2048kB: 0 (0 free)"
expect_line "ok   host hook: /etc/libvirt/hooks/qemu -> $HOOKD_HOOK_PATH"
expect_line "ok   win11 group: 0000:01:00.0 is in IOMMU group 2, viable: 0000:01:00.0 nvidia, 0000:01:00.1 snd_hda_intel"
expect_eq "$(grep -c 'boot-vga' "$T/out")" 0 "no boot-vga line: the passed GPU does not carry the host's console"
expect_line "ok   win11 reset: 0000:01:00.0 can do a function-level reset (FLR)"
expect_line "ok   win11 hugepages: needs 16 pages of 1048576 kB, the pool has 16 free"
expect_line "ok   win11 cpus: vCPUs on CPUs 4-7,12-15: online, whole cores"
expect_line "ok   win11 plan: the prepare plans 3 steps (hookd plan win11)"
expect_line "VM win11, phase prepare: 3 steps"
expect_line "  1. [vfio] load module vfio-pci through libkmod (already loaded: nothing to do) (kept on release)"
expect_line "  2. [vfio] 0000:01:00.0 NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]: nvidia -> vfio-pci"
expect_line "  3. [vfio] 0000:01:00.1 NVIDIA Corporation GA102 High Definition Audio Controller [10de:1aef]: snd_hda_intel -> vfio-pci"
finish
