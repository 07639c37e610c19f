#!/bin/bash
# The examples of hooks.d/: test_examples.sh HOOKS_D
#
# 1. `hookd check` (no VM named: every *.ini of hooks_dir) accepts every example, and names each.
# 2. `hookd plan EXAMPLE --phase prepare|started` (text and --json) succeeds for every example and
#    touches nothing. The domain XML is hooks.d/<example>.domain.xml when there is one, else
#    hooks.d/win11.domain.xml (the GPU examples all pass the GPU 0000:01:00.0 of that XML).
#
# The simulated host: sim-mkroot (gpu preset: NVIDIA GPU + HDMI audio at 01:00, AMD GPU + audio at
# 05:00 on vfio-pci), then sim-mkroot-modules (a sim_* module tree; the NVIDIA GPU on sim_nvidia),
# sim-mkroot-console (vtcon1/vtcon2 bound, efi-framebuffer.0), sim-mkroot-cpus (8 CPUs, one node,
# cgroup v2, IRQs, governors), sim-mkroot-hugepages --nodes 1 (one node, as sim-mkroot-cpus has,
# with 16 GiB so that isolate.domain.xml's 8 GiB fit). [service] asks a fake systemctl, first in
# PATH, that answers is-active (running) and fails every other verb.
#
# What is NOT planned as it is: nvidia-single.ini unloads the real NVIDIA modules (nvidia_drm,
# nvidia_modeset, nvidia_uvm, nvidia). The gpu preset shows `nvidia` loaded (/sys/module/nvidia)
# but the simulated module tree only has sim_* modules (sim-mkroot-modules cannot write other
# names), and [modules] refuses, before anything changes, to unload a module it could not load
# again. The test asserts exactly that refusal on the composed root, then plans the unchanged
# example on a plan-only copy of it without /sys/module/nvidia (the GPU there is driven by
# sim_nvidia, so that directory has no device behind it): [modules] then reports each module as
# "not loaded: nothing to do", and every other section renders as on a real single-GPU host.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_MODULES:?}" "${SIM_MKROOT_CONSOLE:?}" "${SIM_MKROOT_CPUS:?}"
: "${SIM_MKROOT_HUGEPAGES:?}"
HOOKS_D=${1:?usage: test_examples.sh HOOKS_D}
SYS=$T/systemd

# Every example, as its own file: a changed hooks.d/ is tested as it is.
mapfile -t EXAMPLES < <(cd "$HOOKS_D" && ls -- *.ini | sed 's/\.ini$//' | sort)
if ((${#EXAMPLES[@]} < 4)); then
	fail "expected at least 4 examples in $HOOKS_D, found: ${EXAMPLES[*]}"
fi

setup() {
	mkroot_composed
	mkdir -p "$T/hooks.d" "$T/state" "$T/bin" "$SYS"
	cp "$HOOKS_D"/*.ini "$T/hooks.d/"
	chmod 0644 "$T/hooks.d"/*.ini
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" \
		"$T/state" >"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
	cat >"$T/bin/systemctl" <<-EOS
		#!/bin/bash
		# fake systemctl (hookd sim test): every unit runs; nothing may be stopped by a plan
		printf '%s\n' "\$*" >>"$SYS/calls"
		[[ \$1 == is-active ]] && exit 0
		echo "fake systemctl: a plan must not call: \$*" >&2
		exit 2
	EOS
	chmod 0755 "$T/bin/systemctl"
	if [[ "$(PATH=$T/bin:$PATH command -v systemctl)" != "$T/bin/systemctl" ]]; then
		echo "FATAL: the fake systemctl is not first in PATH" >&2
		exit 1
	fi
}

# hookd ARGS...: with the simulated kernel and the fake systemctl; fills OUT, ERR, RC.
hookd() {
	RC=0
	sim env PATH="$T/bin:$PATH" "$HOOKD_BIN" --conf "$T/hookd.conf" "$@" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

expect_in() { # TEXT NEEDLE WHAT
	if [[ "$1" == *"$2"* ]]; then ok "$3"; else
		fail "$3: '$2' not in:"
		printf '%s\n' "$1" | head -40 >&2
	fi
}

xml_of() {
	if [[ -f "$HOOKS_D/$1.domain.xml" ]]; then echo "$HOOKS_D/$1.domain.xml"; else echo "$HOOKS_D/win11.domain.xml"; fi
}

# plan_ok VM: both phases, text and JSON, exit 0, at least one step over both phases.
plan_ok() {
	local vm=$1 ph steps=0 n
	for ph in prepare started; do
		hookd plan "$vm" --xml "$(xml_of "$vm")" --phase "$ph"
		expect_eq "$RC" 0 "plan $vm --phase $ph exits 0${ERR:+ ($ERR)}"
		expect_in "$OUT" "VM $vm, phase $ph:" "plan $vm --phase $ph: header"
		n=$(grep -c '^ *[0-9][0-9]*\. \[' "$T/out" || true)
		steps=$((steps + n))
		hookd plan "$vm" --xml "$(xml_of "$vm")" --phase "$ph" --json
		expect_eq "$RC" 0 "plan $vm --phase $ph --json exits 0${ERR:+ ($ERR)}"
	done
	if ((steps > 0)); then ok "plan $vm: $steps steps"; else fail "plan $vm: no step at all"; fi
}

setup

# ---- 1. check ----
hookd check
expect_eq "$RC" 0 "hookd check of every example exits 0${ERR:+ ($ERR)}"
ALL=$OUT
for vm in "${EXAMPLES[@]}"; do
	expect_in "$ALL" "$T/hooks.d/$vm.ini: ok (" "check names $vm.ini ok"
	hookd check "$vm"
	expect_eq "$RC" 0 "hookd check $vm exits 0${ERR:+ ($ERR)}"
done
hookd check nvidia-single
expect_in "$OUT" "ok ([service] [console] [modules] [vfio])" "nvidia-single: service, console, modules, vfio in this order"
hookd check isolate
expect_in "$OUT" "ok ([hugepages] [cpus] [pin])" "isolate: hugepages, cpus, pin"
hookd check amd-gpu
expect_in "$OUT" "ok ([vfio])" "amd-gpu: vfio"

# ---- 2. plan, on the composed root ----
for vm in "${EXAMPLES[@]}"; do
	[[ $vm == nvidia-single ]] && continue
	plan_ok "$vm"
done
hookd plan win11 --xml "$(xml_of win11)"
expect_in "$OUT" "0000:01:00.0 NVIDIA Corporation GA102 [GeForce RTX 3090] [10de:2204]: sim_nvidia -> vfio-pci" \
	"win11: the NVIDIA GPU moves to vfio-pci"
expect_in "$OUT" "0000:01:00.1 NVIDIA Corporation GA102 High Definition Audio Controller" "win11: with its audio"
hookd plan amd-gpu --xml "$(xml_of amd-gpu)"
expect_in "$OUT" "[1002:73bf]: already on vfio-pci, nothing to do" "amd-gpu: the listed Radeon"
expect_in "$OUT" "[1002:ab28]: already on vfio-pci, nothing to do" "amd-gpu: and its audio"
hookd plan isolate --xml "$(xml_of isolate)"
expect_in "$OUT" "2048kB pool: 4096 pages (8 GiB) for this VM" "isolate: 8 GiB of 2 MiB pages from <memory>"
expect_in "$OUT" "system.slice cpuset.cpus: '' -> 0,4" "isolate: host keeps CPUs 0,4"
expect_in "$OUT" "unbound workqueue cpumask: 'ff' -> 11" "isolate: workqueues"
expect_in "$OUT" "CPU 7 scaling governor: schedutil -> performance" "isolate: governor of a VM CPU"
hookd plan isolate --xml "$(xml_of isolate)" --phase started
expect_in "$OUT" "0->2 1->6 2->3 3->7; emulator threads->1,5" "isolate: [pin] map from <vcpupin>"

# nvidia-single on the composed root: refused for the module tree, and for nothing else.
hookd plan nvidia-single --xml "$(xml_of nvidia-single)"
expect_eq "$RC" 1 "nvidia-single on the sim_* module tree: refused"
expect_in "$ERR" "[modules] (" "refused by [modules]"
expect_in "$ERR" "module nvidia not found in $R/lib/modules/" "because nvidia is not in the simulated tree"
expect_eq "$(cat "$SYS/calls" 2>/dev/null | grep -v '^is-active' || true)" "" "plans called systemctl is-active only"
expect_same_tree "after every plan"

# ---- 3. nvidia-single on the plan-only root (see the header) ----
rm -rf "$R/sys/module/nvidia"
"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
plan_ok nvidia-single
hookd plan nvidia-single --xml "$(xml_of nvidia-single)"
expect_in "$OUT" "1. [service] display-manager.service is running: \`$T/bin/systemctl stop display-manager.service\`" \
	"nvidia-single: 1. the display manager stops"
expect_in "$OUT" "[console] unbind vtcon1" "nvidia-single: console vtcon1 unbound"
expect_in "$OUT" "[console] unbind framebuffer efi-framebuffer.0 from efi-framebuffer" "nvidia-single: EFI framebuffer"
for m in nvidia_drm nvidia_modeset nvidia_uvm nvidia; do
	expect_in "$OUT" "[modules] module $m is not loaded: nothing to do" "nvidia-single: $m in [modules]"
done
expect_in "$OUT" "sim_nvidia -> vfio-pci" "nvidia-single: the GPU moves to vfio-pci"
# the order is the file's: service, console, modules, vfio
order=$(grep -o '^ *[0-9]*\. \[[a-z]*\]' "$T/out" | sed 's/.*\[//; s/\]//' | uniq | tr '\n' ' ')
expect_eq "$order" "service console modules vfio " "nvidia-single: sections in file order"
expect_same_tree "after the nvidia-single plans"
expect_eq "$(ls -A "$T/state")" "" "no journal written by any plan"

finish
