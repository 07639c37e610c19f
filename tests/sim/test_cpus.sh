#!/bin/bash
# hookd's [cpus] action against the simulated kernel: test_cpus.sh CASE (one ctest test per case).
# Fixture: sim-mkroot's gpu preset plus sim-mkroot-cpus (8 CPUs, siblings N/N+4; slices
# system.slice '' user.slice '0-7' init.scope ''; IRQs 0 1 9 16 24 25, 25 managed; governors
# schedutil, CPU 3 ondemand).
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_CPUS:?}"
UUID_A=7d2e5a10-1111-4c55-9d40-0d2d1b1b0a01
UUID_B=7d2e5a10-2222-4c55-9d40-0d2d1b1b0a02
CG=sys/fs/cgroup
SLICES="system.slice user.slice init.scope"
IRQS="0 1 9 16 24 25"

# setup [MKROOT_CPUS_OPTIONS...]: fresh root with the CPU fixture; dump.orig taken after it.
setup() {
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_CPUS" "$R" "$@"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	rm -rf "$T/hooks.d" "$T/state"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" \
		>"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
}

# ini VM LINES...: the VM's INI, one [cpus] section with these lines.
ini() {
	local vm=$1
	shift
	{ echo '[cpus]'; printf '%s\n' "$@"; } >"$T/hooks.d/$vm.ini"
	chmod 0644 "$T/hooks.d/$vm.ini"
}

# xml VM UUID VCPUPIN_CPUS [EMULATORPIN]: one <vcpupin> per CPU listed ("2 3"), vCPU i on the i-th.
xml() {
	local i=0 c pins=""
	for c in $3; do
		pins+="<vcpupin vcpu='$i' cpuset='$c'/>"
		i=$((i + 1))
	done
	[[ -n "${4:-}" ]] && pins+="<emulatorpin cpuset='$4'/>"
	cat >"$T/$1.xml" <<-EOX
		<domain type='kvm' id='1'>
		  <name>$1</name>
		  <uuid>$2</uuid>
		  <memory unit='KiB'>4194304</memory>
		  <vcpu placement='static'>$((i ? i : 2))</vcpu>
		  $([[ -n "$pins" ]] && echo "<cputune>$pins</cputune>")
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		</domain>
	EOX
}

run() { hookd run "$1" "$2" --xml "$T/$1.xml"; }
val() { cat "$R/$1"; }
expect_slices() { # WANT WHAT: every slice's cpuset.cpus and effective
	local s
	for s in $SLICES; do
		expect_eq "$(val $CG/$s/cpuset.cpus)" "$1" "$2: $s cpuset.cpus"
		expect_eq "$(val $CG/$s/cpuset.cpus.effective)" "$1" "$2: $s cpuset.cpus.effective"
	done
}
expect_irqs() { # WANT WHAT: every IRQ but the managed 25 (kept at 2)
	local i
	for i in $IRQS; do
		[[ $i == 25 ]] && continue
		expect_eq "$(val proc/irq/$i/smp_affinity_list)" "$1" "$2: IRQ $i affinity"
	done
	expect_eq "$(val proc/irq/25/smp_affinity_list)" 2 "$2: managed IRQ 25 left alone"
}
expect_no_state() {
	local left
	left=$(find "$T/state" -name '*.journal' -o -path '*/shared/*' -type f | tr '\n' ' ')
	expect_eq "$left" "" "no journal or shared baseline left"
}

case_host_cpuset_applied_and_restored() {
	setup
	xml win11 $UUID_A "2 3 6 7" 2
	ini win11 'host = auto'
	run win11 prepare
	expect_rc 0 prepare
	expect_slices 0-1,4-5 "host = auto, VM pinned to 2-3,6-7 + emulator 2"
	expect_eq "$(val $CG/cgroup.subtree_control)" "cpuset cpu io memory pids" "controller left as it was"
	run win11 release
	expect_rc 0 release
	expect_eq "$(val $CG/user.slice/cpuset.cpus)" 0-7 "user.slice back to its own 0-7"
	expect_eq "$(val $CG/system.slice/cpuset.cpus)" "" "system.slice back to empty"
	expect_no_state
	expect_same_tree "after release"
	# an explicit list, and no pins in the XML at all
	xml win11 $UUID_A ""
	ini win11 'host = 0,4'
	run win11 prepare
	expect_rc 0 "prepare host = 0,4"
	expect_slices 0,4 "host = 0,4"
	run win11 release
	expect_rc 0 "release host = 0,4"
	expect_same_tree "after the second release"
}

case_enables_cpuset_controller_and_disables_it_again() {
	setup --no-cpuset
	xml win11 $UUID_A "4 5"
	ini win11 'host = auto'
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(val $CG/cgroup.subtree_control)" "cpuset cpu io memory pids" "cpuset enabled in the root"
	expect_slices 0-3,6-7 "slices confined"
	run win11 release
	expect_rc 0 release
	expect_eq "$(val $CG/cgroup.subtree_control)" "cpu io memory pids" "cpuset disabled again"
	expect_nofile $CG/system.slice/cpuset.cpus
	expect_no_state
	expect_same_tree "after release"
}

# The kernel refuses to empty cpuset.cpus again in a cgroup with tasks (ENOSPC): init.scope, empty
# before, comes back as its parent's effective CPUs (the same set); the others exactly as they were.
case_populated_empty_cpuset_comes_back_as_parent_cpus() {
	setup --populated
	xml win11 $UUID_A "2 3"
	ini win11 'host = auto'
	run win11 prepare
	expect_rc 0 prepare
	expect_slices 0-1,4-7 "prepare"
	swrite $CG/init.scope/cpuset.cpus "" 2>/dev/null && fail "the simulator let a populated cgroup be emptied" ||
		ok "the simulator refuses to empty populated init.scope"
	hookd -v run win11 release --xml "$T/win11.xml"
	expect_rc 0 "release"
	expect_in "$ERR$OUT" "ENOSPC" "release says why init.scope gets a list"
	expect_eq "$(val $CG/init.scope/cpuset.cpus)" 0-7 "init.scope: the parent's effective CPUs"
	expect_eq "$(val $CG/init.scope/cpuset.cpus.effective)" 0-7 "init.scope: effective CPUs as before"
	expect_eq "$(val $CG/system.slice/cpuset.cpus)" "" "system.slice (no tasks) empty again"
	expect_no_state
	sed -i 's|^\(f [0-7]* sys/fs/cgroup/init.scope/cpuset.cpus \)\\n$|\10-7\\n|' "$T/dump.orig"
	grep -q '^f [0-7]* sys/fs/cgroup/init.scope/cpuset.cpus 0-7\\n$' "$T/dump.orig" && ok "expected tree adjusted" ||
		fail "could not adjust the expected tree"
	expect_same_tree "after release, but init.scope's listed CPUs"
}

case_irqs_moved_managed_skipped_and_restored() {
	setup
	xml win11 $UUID_A "2 3"
	ini win11 'host = 0-1' 'irqs = yes'
	run win11 prepare
	expect_rc 0 "prepare (managed IRQ 25 refuses: skipped, not a failure)"
	expect_irqs 0-1 "irqs = yes"
	expect_eq "$(val proc/irq/16/smp_affinity)" 03 "IRQ 16 mask follows the list"
	expect_eq "$(val proc/irq/default_smp_affinity)" 03 "default_smp_affinity"
	run win11 release
	expect_rc 0 release
	expect_eq "$(val proc/irq/16/smp_affinity_list)" 0-3 "IRQ 16 back to 0-3"
	expect_eq "$(val proc/irq/24/smp_affinity_list)" 5 "IRQ 24 back to 5"
	expect_eq "$(val proc/irq/default_smp_affinity)" ff "default_smp_affinity back to ff"
	expect_no_state
	expect_same_tree "after release"
}

case_workqueues_mask_applied_and_restored() {
	setup
	xml win11 $UUID_A "2 3 6 7"
	ini win11 'host = auto' 'workqueues = yes'
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(val sys/devices/virtual/workqueue/cpumask)" 33 "workqueue cpumask = CPUs 0-1,4-5"
	run win11 release
	expect_rc 0 release
	expect_eq "$(val sys/devices/virtual/workqueue/cpumask)" ff "workqueue cpumask back"
	expect_same_tree "after release"
}

case_governor_applied_and_restored() {
	setup
	xml win11 $UUID_A "2 3"
	ini win11 'governor = performance'
	run win11 prepare
	expect_rc 0 prepare
	local c
	for c in 2 3; do
		expect_eq "$(val sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor)" performance "CPU $c governor"
	done
	for c in 0 1 4 5 6 7; do
		expect_eq "$(val sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor)" schedutil "CPU $c untouched"
	done
	run win11 release
	expect_rc 0 release
	expect_eq "$(val sys/devices/system/cpu/cpu3/cpufreq/scaling_governor)" ondemand "CPU 3 back to ondemand"
	expect_eq "$(val sys/devices/system/cpu/cpu2/cpufreq/scaling_governor)" schedutil "CPU 2 back to schedutil"
	expect_no_state
	expect_same_tree "after release"
}

case_plan_shows_every_write_and_touches_nothing() {
	setup
	xml win11 $UUID_A "2 3 6 7"
	ini win11 'host = auto' 'irqs = yes' 'workqueues = yes' 'governor = performance'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	local w
	for w in $CG/system.slice/cpuset.cpus $CG/user.slice/cpuset.cpus $CG/init.scope/cpuset.cpus; do
		expect_in "$OUT" "write $R/$w <- 0-1,4-5" "plan writes $w"
	done
	for w in 0 1 9 16 24 25; do
		expect_in "$OUT" "write $R/proc/irq/$w/smp_affinity_list <- 0-1,4-5" "plan writes IRQ $w"
	done
	expect_in "$OUT" "write $R/proc/irq/default_smp_affinity <- 33" "plan writes default_smp_affinity"
	expect_in "$OUT" "write $R/sys/devices/virtual/workqueue/cpumask <- 33" "plan writes the workqueue mask"
	expect_in "$OUT" "write $R/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor <- performance" "plan: CPU 3 governor"
	expect_in "$OUT" "CPU 3 scaling governor: ondemand -> performance" "plan: governor from -> to"
	expect_in "$OUT" "system.slice cpuset.cpus: '' -> 0-1,4-5" "plan: cpuset from -> to"
	[[ "$OUT" != *"write $R/sys/devices/system/cpu/cpu0/cpufreq"* ]] && ok "no governor write for host CPU 0" ||
		fail "plan sets the governor of host CPU 0"
	[[ "$OUT" != *AllowedCPUs* ]] && ok "no systemd note without systemd" || fail "systemd note without systemd"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_rc 0 "plan --json"
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert any(s["action"]=="cpus" and s["writes"] for s in d["steps"])' \
		<<<"$OUT" && ok "plan --json parses with cpus writes" || fail "plan --json: $OUT"
	expect_no_state
	expect_same_tree "plan touches nothing"
}

case_plan_notes_systemd_allowedcpus() {
	setup --systemd
	xml win11 $UUID_A "2 3"
	ini win11 'host = 0-1'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "systemctl set-property --runtime <slice> AllowedCPUs=0-1" "plan names systemd's way"
	expect_in "$OUT" "writes the live file" "plan says the live file is written"
}

# refused before anything changes: same tree, no journal, file:line on stderr
expect_refused() { # WHAT NEEDLE...
	local what=$1
	shift
	expect_rc 1 "$what"
	local n
	for n in "$@"; do expect_in "$ERR" "$n" "$what: stderr names '$n'"; done
	expect_eq "$(wc -l <<<"$ERR")" 1 "$what: one line on stderr"
	expect_no_state
	expect_same_tree "$what: nothing changed"
}

case_host_outside_the_host_is_refused_with_file_line() {
	setup
	xml win11 $UUID_A "2 3"
	ini win11 'irqs = yes' 'host = 0-99'
	run win11 prepare
	expect_refused "host = 0-99" "win11.ini:1" "8-99" "do not exist" "possible: 0-7"
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 1 "plan host = 0-99"
	expect_in "$ERR" "win11.ini:1" "plan names the file and line"
	# an offline CPU is refused too
	echo 0-5 >"$R/sys/devices/system/cpu/online"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	ini win11 'host = 0-1,7'
	run win11 prepare
	expect_refused "host = 0-1,7 with CPUs 6-7 offline" "CPU 7 is offline" "online: 0-5"
}

case_pinned_cpus_outside_the_host_are_refused() {
	setup
	xml win11 $UUID_A "2 12"
	ini win11 'host = auto'
	run win11 prepare
	expect_refused "<vcpupin cpuset='12'> on an 8-CPU host" "win11.ini:1" "CPU 12 does not exist"
}

case_unknown_governor_is_refused_with_file_line() {
	setup
	xml win11 $UUID_A "2 3"
	ini win11 'host = auto' 'governor = warp'
	run win11 prepare
	expect_refused "governor = warp" "win11.ini:1" "warp" "not available" "performance"
}

case_bad_values_are_refused_with_file_line() {
	setup
	xml win11 $UUID_A "2 3"
	local bad
	for bad in 'host = two' 'irqs = maybe' 'workqueues = 2' 'governor = Warp Speed' 'color = red'; do
		ini win11 'host = auto' "$bad"
		hookd check win11
		expect_rc 2 "check '$bad'"
		expect_in "$ERR" "win11.ini:3" "'$bad': stderr names win11.ini:3"
		run win11 prepare
		[[ $RC != 0 ]] && ok "prepare with '$bad' fails ($RC)" || fail "prepare with '$bad' succeeded"
	done
	ini win11 'irqs = yes'
	hookd check win11
	expect_rc 2 "irqs = yes without host"
	expect_in "$ERR" "needs host" "stderr says irqs needs host"
	ini win11 'host = auto'
	xml win11 $UUID_A ""
	run win11 prepare
	expect_refused "host = auto without pins" "needs <vcpupin>"
}

# Two VMs: A pins 2-3 (host 0-1,4-7), B pins 4-5 (host 0-3,6-7); both running: host 0-1,6-7.
two_vms() {
	setup
	xml vma $UUID_A "2 3"
	xml vmb $UUID_B "4 5"
	ini vma 'host = auto' 'irqs = yes' 'workqueues = yes' 'governor = performance'
	ini vmb 'host = auto' 'irqs = yes' 'workqueues = yes' 'governor = performance'
	run vma prepare
	expect_rc 0 "A prepare"
	expect_slices 0-1,4-7 "A alone"
	expect_irqs 0-1,4-7 "A alone"
	run vmb prepare
	expect_rc 0 "B prepare"
	expect_slices 0-1,6-7 "A and B: the intersection"
	expect_irqs 0-1,6-7 "A and B"
	expect_eq "$(val proc/irq/default_smp_affinity)" c3 "A and B: default_smp_affinity"
	expect_eq "$(val sys/devices/virtual/workqueue/cpumask)" c3 "A and B: workqueue cpumask"
	local c
	for c in 2 3 4 5; do
		expect_eq "$(val sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor)" performance "A and B: CPU $c governor"
	done
}

case_two_vms_intersect_and_restore_interleaved() {
	two_vms
	run vma release
	expect_rc 0 "A release while B runs"
	expect_slices 0-3,6-7 "B alone keeps its host set"
	expect_irqs 0-3,6-7 "B alone"
	expect_eq "$(val proc/irq/default_smp_affinity)" cf "B alone: default_smp_affinity"
	expect_eq "$(val sys/devices/system/cpu/cpu3/cpufreq/scaling_governor)" ondemand "A's CPU 3 back to ondemand"
	expect_eq "$(val sys/devices/system/cpu/cpu4/cpufreq/scaling_governor)" performance "B's CPU 4 kept"
	run vmb release
	expect_rc 0 "B release"
	expect_no_state
	expect_same_tree "A, B started; A, B released"
}

case_two_vms_released_in_start_order_restore() {
	two_vms
	run vmb release
	expect_rc 0 "B release while A runs"
	expect_slices 0-1,4-7 "A alone again"
	expect_eq "$(val sys/devices/virtual/workqueue/cpumask)" f3 "A alone: workqueue cpumask"
	run vma release
	expect_rc 0 "A release"
	expect_no_state
	expect_same_tree "A, B started; B, A released"
}

case_failing_later_step_rolls_back() {
	setup --no-cpuset
	xml win11 $UUID_A "2 3"
	ini win11 'host = auto' 'irqs = yes' 'workqueues = yes' 'governor = performance'
	touch "$R/.sim/faults/cpu3.refuse_governor"
	run win11 prepare
	expect_rc 1 "prepare with CPU 3 refusing its governor"
	expect_in "$ERR" "cpu3/cpufreq/scaling_governor" "stderr names the file"
	expect_in "$ERR" "rolled back" "stderr says it rolled back"
	rm "$R/.sim/faults/cpu3.refuse_governor"
	expect_no_state
	expect_same_tree "after the rollback"
}

case_crash_after_each_write_then_release_restores() {
	local n=1 rc before
	while ((n <= 40)); do
		setup --no-cpuset
		xml win11 $UUID_A "2 3"
		ini win11 'host = auto' 'irqs = yes' 'workqueues = yes' 'governor = performance'
		before=$(cat "$R/.sim/write_count")
		echo $((before + n)) >"$R/.sim/faults/crash_at"
		set +e
		setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
			"$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" >"$T/out" 2>&1
		rc=$?
		set -e
		rm -f "$R/.sim/faults/crash_at"
		if ((rc == 0)); then
			((n > 10)) && ok "prepare makes $((n - 1)) kernel writes; every crash point covered" ||
				fail "prepare made only $((n - 1)) kernel writes"
			return
		fi
		((rc == 137)) || fail "crash at write $n: prepare exited $rc, not killed: $(cat "$T/out")"
		run win11 release
		expect_rc 0 "release after a crash at write $n"
		expect_no_state
		expect_same_tree "release after a crash at write $n"
		n=$((n + 1))
	done
	fail "prepare still crashing after 40 writes"
}

"case_$1"
finish
