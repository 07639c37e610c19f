#!/bin/bash
# hookd's [pin] action against the simulated kernel: test_pin.sh CASE (one ctest test per case).
# Fixture (sim-mkroot-pin): 16 CPUs = 2 nodes x 4 cores x 2 threads, siblings N and N+8, node0 =
# 0-3,8-11, node1 = 4-7,12-15, one L3 per node; QEMU pid 4242 with threads 4242 (main), 4243
# (IO), 4244.. "CPU n/KVM", and a "worker" after them.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_PIN:?}"
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a03
PID=4242

# setup VCPUS INI_BODY [CPUTUNE_XML] [TOPOLOGY_ARGS...]: fresh root with topology and a running QEMU.
setup() {
	local vcpus=$1 ini=$2 cputune=${3:-}
	shift 3 || shift $#
	mkroot
	"$SIM_MKROOT_PIN" "$R" topology "$@"
	"$SIM_MKROOT_PIN" "$R" qemu win11 $PID "$vcpus" ${QEMU_ARGS:-}
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	rm -rf "$T/state"
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" \
		>"$T/hookd.conf"
	printf '[pin]\n%b' "$ini" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	cat >"$T/win11.xml" <<-EOX
		<domain type='kvm' id='1'>
		  <name>win11</name>
		  <uuid>$UUID</uuid>
		  <memory unit='KiB'>4194304</memory>
		  <vcpu placement='static'>$vcpus</vcpu>
		  $cputune
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		</domain>
	EOX
}

run() { hookd run win11 "$1" --xml "$T/win11.xml"; }
expect_nojournal() {
	if [[ ! -e "$T/state/$UUID.journal" ]]; then ok "journal gone"; else fail "journal still present"; fi
}
# aff TID: the thread's Cpus_allowed_list in the fixture
aff() { sed -n 's/^Cpus_allowed_list:\t//p' "$R/proc/$PID/task/$1/status"; }
vcpu_tid() { echo $((PID + 2 + $1)); }
# expect_vcpus CPU...: vCPU i on the i-th CPU list given
expect_vcpus() {
	local i=0 c
	for c in "$@"; do
		expect_eq "$(aff "$(vcpu_tid $i)")" "$c" "vCPU $i thread on CPUs $c"
		i=$((i + 1))
	done
}
expect_emulator() { # CPUS VCPUS
	local t
	for t in $PID $((PID + 1)) $((PID + 2 + $2)); do
		expect_eq "$(aff $t)" "$1" "emulator thread $t ($(cat "$R/proc/$PID/task/$t/comm")) on CPUs $1"
	done
}
qemu_exits() { rm -rf "${R:?}/proc/$PID" "$R/run/libvirt/qemu/win11.pid"; }
# in_list N LIST: is CPU N in the kernel-style list?
in_list() {
	local item lo hi
	IFS=, read -ra items <<<"$2"
	for item in "${items[@]}"; do
		lo=${item%-*} hi=${item#*-}
		((lo <= $1 && $1 <= hi)) && return 0
	done
	return 1
}

CPUTUNE="<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='10'/><vcpupin vcpu='2' cpuset='3'/><vcpupin vcpu='3' cpuset='11'/><emulatorpin cpuset='0,8'/></cputune>"

case_pins_per_vcpupin_and_emulatorpin() {
	setup 4 "" "$CPUTUNE"
	run started
	expect_rc 0 started
	expect_vcpus 2 10 3 11
	expect_emulator 0,8 4
	expect_eq "$(sed -n 's/^Cpus_allowed:\t//p' "$R/proc/$PID/task/$(vcpu_tid 1)/status")" 0400 "hex mask follows"
	hookd status
	expect_in "$OUT" "[pin] vcpu1 $PID/$(vcpu_tid 1) -> 10 (was '0-15')" "status shows the pinned thread and its old CPUs"
	expect_in "$OUT" "[pin] emulator $PID/$PID -> 0,8" "status shows the emulator thread"
	qemu_exits
	run release
	expect_rc 0 "release after QEMU exited"
	expect_nojournal
}

case_auto_keeps_siblings_together_in_one_node() {
	setup 4 "map = auto\n"
	run started
	expect_rc 0 "started, 4 vCPUs"
	# host keeps CPU 0's core (0,8); node1 has the most free CPUs and holds all four
	expect_vcpus 4 12 5 13
	local k a b
	for k in 0 2; do
		a=$(aff "$(vcpu_tid $k)") b=$(aff "$(vcpu_tid $((k + 1)))")
		in_list "$b" "$(cat "$R/sys/devices/system/cpu/cpu$a/topology/thread_siblings_list")" &&
			ok "vCPUs $k,$((k + 1)) on SMT siblings $a,$b" || fail "vCPUs $k,$((k + 1)) on $a,$b: not siblings"
		in_list "$a" "$(cat "$R/sys/devices/system/node/node1/cpulist")" && ok "CPU $a on node1" || fail "CPU $a not on node1"
	done
	expect_emulator 0,8 4
	# 10 vCPUs: node1 whole first, then the rest from node0 still by sibling pairs, never 0 or 8
	setup 10 "map = auto\n"
	run started
	expect_rc 0 "started, 10 vCPUs"
	expect_vcpus 4 12 5 13 6 14 7 15 1 9
}

case_auto_prefers_numatune_node_and_avoids_host() {
	setup 4 "map = auto\nhost = 1,9\n" "<numatune><memory mode='strict' nodeset='0'/></numatune>"
	run started
	expect_rc 0 started
	expect_vcpus 0 8 2 10
	expect_emulator 1,9 4
}

case_auto_host_follows_confined_system_slice() {
	setup 4 "map = auto\n" "<numatune><memory mode='strict' nodeset='0'/></numatune>"
	mkdir -p "$R/sys/fs/cgroup/system.slice"
	echo 0-1,8-9 >"$R/sys/fs/cgroup/system.slice/cpuset.cpus" # what [cpus] host = 0-1,8-9 leaves
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	run started
	expect_rc 0 started
	expect_vcpus 2 10 3 11
	expect_emulator 0-1,8-9 4
}

case_auto_without_l3_or_nodes_uses_packages() {
	setup 4 "map = auto\n" "" --no-l3 --no-nodes
	hookd plan win11 --xml "$T/win11.xml" --phase started
	expect_in "$OUT" "package 1 die 0 4-7,12-15 first" "plan names the package it fills"
	run started
	expect_rc 0 started
	expect_vcpus 4 12 5 13
	setup 4 "map = auto\n" "" --no-l3
	hookd plan win11 --xml "$T/win11.xml" --phase started
	expect_in "$OUT" "node1 4-7,12-15 first" "without L3 the NUMA node is the domain"
}

case_emulator_cpus_and_no() {
	setup 2 "map = auto\nemulator = 2-3\n"
	run started
	expect_rc 0 "emulator = 2-3"
	expect_emulator 2-3 2
	expect_vcpus 4 12
	setup 2 "map = auto\nemulator = no\n"
	run started
	expect_rc 0 "emulator = no"
	expect_emulator 0-15 2
	expect_vcpus 4 12
	hookd plan win11 --xml "$T/win11.xml" --phase started
	[[ "$OUT" != *emulatorpin* ]] && ok "no <emulatorpin> with emulator = no" || fail "plan shows emulatorpin: $OUT"
}

case_tcg_thread_names() {
	QEMU_ARGS=--tcg setup 2 "" "<cputune><vcpupin vcpu='0' cpuset='6'/><vcpupin vcpu='1' cpuset='14'/></cputune>"
	expect_eq "$(cat "$R/proc/$PID/task/$(vcpu_tid 0)/comm")" "CPU 0/TCG" "fixture names TCG threads"
	run started
	expect_rc 0 started
	expect_vcpus 6 14
	expect_emulator 0,8 2
}

case_too_many_vcpus_refused() {
	setup 15 "map = auto\n"
	run started
	expect_rc 1 "15 vCPUs on 14 free CPUs"
	expect_in "$ERR" "15 vCPUs but only 14 CPUs" "stderr gives the numbers"
	expect_in "$ERR" "win11.ini" "stderr names the INI file"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_same_tree "after the refusal"
	expect_nojournal
	setup 14 "map = auto\n"
	run started
	expect_rc 0 "14 vCPUs fit"
}

case_qemu_not_found_is_a_clear_error() {
	QEMU_ARGS=--no-pidfile setup 2 "map = auto\n"
	run started
	expect_rc 1 "started without a pid file"
	expect_in "$ERR" "QEMU of VM 'win11' not found" "stderr says QEMU is not found"
	expect_in "$ERR" "$R/run/libvirt/qemu/win11.pid" "stderr names the pid file"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_same_tree "nothing changed"
	mkdir -p "$R/run/libvirt/qemu"
	echo 999999 >"$R/run/libvirt/qemu/win11.pid"
	run started
	expect_rc 1 "started with a stale pid file"
	expect_in "$ERR" "pid 999999" "stderr names the stale pid"
	expect_in "$ERR" "stale pid file" "stderr says the pid file is stale"
	printf '[pin]\n' >"$T/hooks.d/win11.ini"
	mkdir -p "$R/proc/$PID/task/77777" && echo "bash" >"$R/proc/$PID/task/77777/comm"
	rm -rf "$R/proc/$PID/task/$((PID + 2))" "$R/proc/$PID/task/$((PID + 3))"
	echo $PID >"$R/run/libvirt/qemu/win11.pid"
	run started
	expect_rc 1 "a process without vCPU threads"
	expect_in "$ERR" "no vCPU threads" "stderr says there are no vCPU threads"
}

case_vcpupin_outside_online_cpus_refused() {
	setup 2 "map = xml\n" "<cputune><vcpupin vcpu='0' cpuset='40'/><vcpupin vcpu='1' cpuset='3'/></cputune>"
	run started
	expect_rc 1 "vcpupin on CPU 40 of 16"
	expect_in "$ERR" "<vcpupin vcpu='0' cpuset='40'>" "stderr quotes the vcpupin"
	expect_in "$ERR" "online: 0-15" "stderr gives the online CPUs"
	expect_same_tree "nothing changed"
	setup 2 "map = xml\n"
	run started
	expect_rc 1 "map = xml without <vcpupin>"
	expect_in "$ERR" "no <cputune><vcpupin>" "stderr says the XML has no vcpupin"
	setup 2 "emulator = 16-17\n"
	run started
	expect_rc 1 "emulator CPUs not online"
	expect_in "$ERR" "emulator CPUs 16-17" "stderr names the emulator CPUs"
}

case_plan_prints_map_and_cputune_and_touches_nothing() {
	setup 4 "map = auto\n"
	local w0
	w0=$(cat "$R/.sim/write_count")
	hookd plan win11 --xml "$T/win11.xml" --phase started
	expect_rc 0 plan
	expect_in "$OUT" "0->4 1->12 2->5 3->13; emulator threads->0,8" "plan prints the map"
	expect_in "$OUT" "<vcpupin vcpu='0' cpuset='4'/>" "plan prints <vcpupin> for vCPU 0"
	expect_in "$OUT" "<vcpupin vcpu='3' cpuset='13'/>" "plan prints <vcpupin> for vCPU 3"
	expect_in "$OUT" "<emulatorpin cpuset='0,8'/>" "plan prints <emulatorpin>"
	expect_in "$OUT" "</cputune>" "plan closes <cputune>"
	expect_in "$OUT" "vCPU thread $((PID + 5)) 'CPU 3/KVM' of QEMU $PID: CPUs 0-15 -> 13" "plan names each vCPU thread"
	expect_in "$OUT" "emulator thread $((PID + 6)) 'worker' of QEMU $PID: CPUs 0-15 -> 0,8" "plan names emulator threads"
	expect_eq "$(grep -c '^ *[0-9]*\. \[pin\]' <<<"$OUT")" 8 "map + 4 vCPU + 3 emulator steps"
	hookd plan win11 --xml "$T/win11.xml" --phase started --json
	expect_rc 0 "plan --json"
	python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["steps"]) == 8 and "<cputune>" in d["steps"][0]["description"]' \
		<<<"$OUT" && ok "plan --json is JSON with the <cputune>" || fail "plan --json: $OUT"
	qemu_exits
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	hookd plan win11 --xml "$T/win11.xml" --phase started
	expect_rc 0 "plan while QEMU is not running"
	expect_in "$OUT" "<vcpupin vcpu='1' cpuset='12'/>" "plan still prints the <cputune>"
	expect_in "$OUT" "not found" "plan says QEMU is not running"
	expect_eq "$(cat "$R/.sim/write_count")" "$w0" "plan made no kernel write"
	expect_nojournal
	expect_same_tree "after plan"
}

case_restore_while_running_puts_affinities_back() {
	setup 4 "" "$CPUTUNE"
	run started
	expect_rc 0 started
	expect_vcpus 2 10 3 11
	hookd plan win11 --phase release
	expect_in "$OUT" "[pin] undo vcpu0 $PID/$(vcpu_tid 0) (set '2'; journal saved '0-15')" "plan --phase release lists the pins"
	hookd restore win11
	expect_rc 0 "restore while QEMU runs"
	expect_vcpus 0-15 0-15 0-15 0-15
	expect_emulator 0-15 4
	expect_nojournal
	expect_same_tree "after restore"
}

case_release_after_qemu_exit_is_success() {
	setup 2 "map = auto\n"
	run started
	expect_rc 0 started
	"$SIM_MKROOT" --dump "$R" >"$T/dump.pinned"
	local w0
	w0=$(cat "$R/.sim/write_count")
	rm -rf "${R:?}/proc/$PID/task/$(vcpu_tid 0)" # one thread gone, the rest too below
	qemu_exits
	run release
	expect_rc 0 "release after QEMU exited"
	expect_nojournal
	expect_eq "$(cat "$R/.sim/write_count")" "$w0" "release called no sched_setaffinity"
}

case_failing_thread_rolls_back_earlier_ones() {
	setup 4 "" "$CPUTUNE"
	touch "$R/.sim/faults/$(vcpu_tid 2).refuse_affinity"
	run started
	expect_rc 1 "started with a thread that refuses"
	expect_in "$ERR" "thread $(vcpu_tid 2)" "stderr names the thread"
	expect_in "$ERR" "rolled back" "stderr says it was rolled back"
	expect_vcpus 0-15 0-15 0-15 0-15
	expect_same_tree "after the rollback"
	expect_nojournal
}

case_crash_after_each_pin_then_restore_restores() {
	local n=1 rc before
	while ((n <= 20)); do
		setup 2 "map = auto\n"
		before=$(cat "$R/.sim/write_count")
		echo $((before + n)) >"$R/.sim/faults/crash_at"
		set +e
		setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
			"$HOOKD_BIN" --conf "$T/hookd.conf" run win11 started --xml "$T/win11.xml" >"$T/out" 2>&1
		rc=$?
		set -e
		rm -f "$R/.sim/faults/crash_at"
		if ((rc == 0)); then
			expect_eq "$((n - 1))" 5 "started made 5 sched_setaffinity calls (2 vCPUs, 3 emulator); every crash point covered"
			return
		fi
		((rc == 137)) || fail "crash at call $n: started exited $rc, not killed: $(cat "$T/out")"
		hookd restore win11
		expect_rc 0 "restore after a crash at call $n"
		expect_same_tree "restore after a crash at call $n"
		expect_nojournal
		n=$((n + 1))
	done
	fail "started still crashing after 20 calls"
}

case_refused_for_a_root_the_simulator_does_not_serve() {
	setup 2 "map = auto\n"
	mkdir -p "$T/other"
	set +e
	env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$T/other" "$HOOKD_BIN" --conf "$T/hookd.conf" \
		run win11 started --xml "$T/win11.xml" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	expect_rc 1 "started for a root the simulator does not serve"
	expect_in "$ERR" "refusing sched_setaffinity" "stderr says why"
	expect_same_tree "nothing changed"
}

case_bad_values_are_refused_with_file_line() {
	local kv
	for kv in "map = sometimes:expected auto or xml" "emulator = 1-x:expected auto, no or a CPU list" \
		"host = :expected auto or a CPU list" "host = 3-1:expected auto or a CPU list" "pin = auto:pin"; do
		setup 2 "${kv%%:*}\n"
		run started
		expect_rc 2 "'${kv%%:*}'"
		expect_in "$ERR" "win11.ini:2" "'${kv%%:*}': stderr names win11.ini:2"
		expect_in "$ERR" "${kv#*:}" "'${kv%%:*}': stderr says what is expected"
	done
	expect_same_tree "nothing changed"
}

case=${1:?usage: test_pin.sh CASE}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
