#!/bin/bash
# hookd's [vfio] action against the simulated kernel: test_vfio.sh CASE (one ctest test per case).
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}"
D=sys/bus/pci/drivers
GPU=0000:01:00.0 HDA=0000:01:00.1
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a01
TIMEOUT=2

# setup HOSTDEV [INI_DEVICES]: fresh root, hookd.conf, win11.ini and the domain XML.
setup() {
	local bus=${1%%:*} rest=${1#*:}
	mkroot
	mkdir -p "$T/hooks.d" "$T/state"
	cat >"$T/hookd.conf" <<-EOC
		root = $R
		hooks_dir = $T/hooks.d
		state_dir = $T/state
		timeout = $TIMEOUT
		log = none
	EOC
	printf '[vfio]\ndevices = %s\ncompanions = yes\n' "${2:-auto}" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	cat >"$T/win11.xml" <<-EOX
		<domain type='kvm' id='1'>
		  <name>win11</name>
		  <uuid>$UUID</uuid>
		  <memory unit='KiB'>4194304</memory>
		  <vcpu placement='static'>4</vcpu>
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		  <devices>
		    <hostdev mode='subsystem' type='pci' managed='yes'>
		      <source><address domain='0x0000' bus='0x$bus' slot='0x${rest%%.*}' function='0x${rest#*.}'/></source>
		    </hostdev>
		  </devices>
		</domain>
	EOX
}

run() { hookd run win11 "$1" --xml "$T/win11.xml"; }

expect_journal() {
	if [[ -e "$T/state/$UUID.journal" ]]; then ok "journal present"; else fail "journal $UUID.journal missing"; fi
}
expect_nojournal() {
	if [[ ! -e "$T/state/$UUID.journal" ]]; then ok "journal gone"; else fail "journal still present"; fi
}
expect_on_vfio() {
	local b
	for b in "$@"; do
		expect_eq "$(driver "$b")" vfio-pci "$b on vfio-pci"
		expect_eq "$(override "$b")" vfio-pci "$b driver_override"
	done
}
expect_gpu_home() {
	expect_eq "$(driver $GPU)" nvidia "$GPU back on nvidia"
	expect_eq "$(driver $HDA)" snd_hda_intel "$HDA back on snd_hda_intel"
	expect_eq "$(override $GPU)" "(null)" "$GPU driver_override cleared"
	expect_eq "$(override $HDA)" "(null)" "$HDA driver_override cleared"
}

case_moves_gpu_and_companion_and_restores() {
	setup 01:00.0
	run prepare
	expect_rc 0 prepare
	expect_on_vfio $GPU $HDA
	expect_file dev/vfio/2
	expect_journal
	for p in 0000:02:00.0=e1000e 0000:03:00.0=xhci_hcd 0000:05:00.0=vfio-pci; do
		expect_eq "$(driver "${p%%=*}")" "${p#*=}" "${p%%=*} untouched"
	done
	hookd status
	expect_rc 0 status
	[[ "$OUT" == *win11* || "$OUT" == *$UUID* ]] && ok "status names the VM" || fail "status does not name win11: $OUT"
	run release
	expect_rc 0 release
	expect_gpu_home
	expect_nofile dev/vfio/2
	expect_nojournal
	expect_same_tree "after release"
}

case_refuses_non_viable_group() {
	setup 03:00.0 0000:03:00.0
	run prepare
	expect_rc 1 prepare
	[[ "$ERR" == *0000:04:00.0* ]] && ok "stderr names 0000:04:00.0" || fail "stderr does not name 0000:04:00.0: $ERR"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_eq "$(driver 0000:03:00.0)" xhci_hcd "03:00.0 untouched"
	expect_same_tree "after the refusal"
}

case_stuck_unbind_times_out_and_rolls_back() {
	setup 01:00.0
	touch "$R/.sim/faults/$HDA.stuck_unbind"
	local start=$SECONDS
	set +e
	timeout -s KILL 60 setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
		"$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" >"$T/out" 2>"$T/err" &
	local pid=$!
	BG_PIDS+=("$pid")
	wait "$pid"
	RC=$?
	set -e
	local took=$((SECONDS - start)) ERR
	ERR=$(cat "$T/err")
	expect_rc 1 "prepare with a stuck unbind"
	((took <= TIMEOUT + 4)) && ok "gave up after ${took}s (timeout ${TIMEOUT}s)" || fail "took ${took}s for a ${TIMEOUT}s timeout"
	[[ "$ERR" == *$HDA* ]] && ok "stderr names $HDA" || fail "stderr does not name $HDA: $ERR"
	[[ "$ERR" =~ [0-9]+\ ?(ms|s|seconds)|time ]] && ok "stderr mentions the timeout" ||
		fail "stderr does not mention the timeout: $ERR"
	rm "$R/.sim/faults/$HDA.stuck_unbind"
	expect_gpu_home
	expect_nofile dev/vfio/2
	expect_same_tree "after the rollback"
	local left
	left=$(ps -o pid=,args= -g "$pid" 2>/dev/null || true)
	[[ -z "$left" ]] || echo "note: processes left behind in hookd's process group: $left"
}

# One prepare killed right after its Nth kernel write, for every N; then recovery by REC (release|restore).
crash_loop() {
	local rec=$1 n=1 rc
	while ((n <= 30)); do
		setup 01:00.0
		local before
		before=$(cat "$R/.sim/write_count")
		echo $((before + n)) >"$R/.sim/faults/crash_at"
		set +e
		setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
			"$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" >"$T/out" 2>&1
		rc=$?
		set -e
		rm -f "$R/.sim/faults/crash_at"
		if ((rc == 0)); then
			ok "prepare makes $((n - 1)) kernel writes; every crash point covered"
			[[ $n -gt 1 ]] || fail "prepare made no kernel write at all"
			return
		fi
		if ((rc != 137)); then
			fail "crash at write $n: prepare exited $rc, not killed: $(cat "$T/out")"
		fi
		if [[ $rec == release ]]; then run release; else hookd restore win11; fi
		expect_rc 0 "$rec after a crash at write $n"
		expect_same_tree "$rec after a crash at write $n"
		expect_nojournal
		n=$((n + 1))
	done
	fail "prepare still crashing after 30 writes"
}
case_crash_after_each_write_then_release_restores() { crash_loop release; }
case_crash_after_each_write_then_restore_restores() { crash_loop restore; }

case_second_prepare_is_harmless() {
	setup 01:00.0
	run prepare
	expect_rc 0 "first prepare"
	run prepare
	expect_rc 0 "second prepare"
	expect_on_vfio $GPU $HDA
	expect_journal
	run release
	expect_rc 0 release
	expect_gpu_home
	expect_nojournal
	expect_same_tree "after prepare, prepare, release"
}

case_release_after_libvirt_reattached_is_success() {
	setup 01:00.0
	run prepare
	expect_rc 0 prepare
	# libvirt's managed reattach of the hostdev (virPCIDeviceReattach): unbind, clear override, probe
	swrite $D/vfio-pci/unbind $GPU
	swrite sys/bus/pci/devices/$GPU/driver_override $'\n'
	swrite sys/bus/pci/drivers_probe $GPU
	expect_eq "$(driver $GPU)" nvidia "libvirt gave $GPU back to nvidia"
	run release
	expect_rc 0 "release after libvirt's reattach"
	expect_gpu_home
	expect_nojournal
	expect_same_tree "after release"
}

case_already_on_vfio_is_noop() {
	setup 05:00.0
	local w0
	w0=$(cat "$R/.sim/write_count")
	run prepare
	expect_rc 0 prepare
	expect_eq "$(driver 0000:05:00.0)" vfio-pci "05:00.0 still on vfio-pci"
	expect_eq "$(driver 0000:05:00.1)" vfio-pci "05:00.1 still on vfio-pci"
	expect_file dev/vfio/5
	echo "note: prepare made $(($(cat "$R/.sim/write_count") - w0)) kernel writes"
	run release
	expect_rc 0 release
	expect_eq "$(driver 0000:05:00.0)" vfio-pci "release leaves 05:00.0 on vfio-pci (not amdgpu)"
	expect_eq "$(driver 0000:05:00.1)" vfio-pci "release leaves 05:00.1 on vfio-pci"
	expect_nojournal
	expect_same_tree "after prepare and release"
}

case_plan_touches_nothing() {
	setup 01:00.0
	local w0
	w0=$(cat "$R/.sim/write_count")
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	[[ "$OUT" == *$GPU* && "$OUT" == *$HDA* ]] && ok "plan names both functions" || fail "plan output: $OUT"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_rc 0 "plan --json"
	[[ "$OUT" == \{* || "$OUT" == \[* ]] && ok "plan --json prints JSON" || fail "plan --json output: $OUT"
	expect_eq "$(cat "$R/.sim/write_count")" "$w0" "plan made no kernel write"
	expect_nojournal
	expect_same_tree "after plan"
}

case=${1:?usage: test_vfio.sh CASE}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
