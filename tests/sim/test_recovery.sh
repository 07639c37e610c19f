#!/bin/bash
# Crash recovery and journal robustness across actions: test_recovery.sh CASE.
#
# The simulated host: sim-mkroot (gpu preset), sim-mkroot-console, sim-mkroot-cpus (8 CPUs, one
# node, cgroup v2, IRQs, governors) and sim-mkroot-hugepages (one node, 10 pages of 2M reserved at
# boot). VM a holds [console], [vfio] (the NVIDIA GPU and its audio), [hugepages] and [cpus]; VM b
# holds [hugepages] and [cpus] of the same pools and files. The simulator's crash_at kills a run
# (its whole process group, like kill -9) right after its Nth kernel write; the loops crash
# prepare, release and restore at every write they make, with one VM and with two interleaved, and
# after the follow-up release/restore every file of the root must equal the original and
# state_dir must hold no journal, temp file or baseline.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_CONSOLE:?}" "${SIM_MKROOT_CPUS:?}" "${SIM_MKROOT_HUGEPAGES:?}"
UA=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0a UB=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0b
GPU=0000:01:00.0 HDA=0000:01:00.1
POOL=sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

INI_A='[console]
vtconsoles = yes
framebuffer = efi-framebuffer.0
[vfio]
devices = 0000:01:00.0
companions = yes
[hugepages]
size = 2M
pages = 64
node = any
[cpus]
host = 0-3
irqs = yes
workqueues = yes
governor = performance
'
INI_B='[hugepages]
size = 2M
pages = 64
node = any
[cpus]
host = 0-5
governor = performance
'

# setup: a fresh root (generated once, then copied: the loops need one per crash point).
setup() {
	rm -rf "$R" "$T/state"
	if [[ ! -d $T/root.orig ]]; then
		"$SIM_MKROOT" "$R" --preset gpu
		"$SIM_MKROOT_CONSOLE" "$R"
		"$SIM_MKROOT_CPUS" "$R"
		"$SIM_MKROOT_HUGEPAGES" "$R" --nodes 1 --memtotal 16777216 --pool 2048:0:4096:0:10
		"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
		cp -a "$R" "$T/root.orig"
	else
		cp -a "$T/root.orig" "$R"
	fi
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" \
		"$T/state" >"$T/hookd.conf"
	printf '%s' "$INI_A" >"$T/hooks.d/a.ini"
	printf '%s' "$INI_B" >"$T/hooks.d/b.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d"/*.ini
	domain_xml a $UA >"$T/a.xml"
	domain_xml b $UB >"$T/b.xml"
}

run() { hookd run "$1" "$2" --xml "$T/$1.xml"; } # VM PHASE
must() { # VM PHASE|restore: a run that must succeed
	if [[ $2 == restore ]]; then hookd restore "$1"; else run "$1" "$2"; fi
	expect_rc 0 "$1 $2 ($3)"
}

# crash N VM PHASE|restore: the run, killed right after its Nth kernel write; CRASHED=0 when it
# made fewer writes and finished.
crash() {
	local n=$1 vm=$2 what=$3 rc before
	before=$(cat "$R/.sim/write_count")
	echo $((before + n)) >"$R/.sim/faults/crash_at"
	local args=(run "$vm" "$what" --xml "$T/$vm.xml")
	[[ $what == restore ]] && args=(restore "$vm")
	set +e
	setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" \
		"$HOOKD_BIN" --conf "$T/hookd.conf" "${args[@]}" >"$T/out" 2>&1
	rc=$?
	set -e
	rm -f "$R/.sim/faults/crash_at"
	CRASHED=1
	if ((rc == 0)); then
		CRASHED=0
	elif ((rc != 137)); then
		fail "$vm $what with a crash at write $n exited $rc, not killed: $(cat "$T/out")"
		CRASHED=0
	fi
}

# settled WHAT: the root as it was before anything ran, and nothing left in state_dir.
settled() {
	local left
	expect_same_tree "$1"
	left=$(find "$T/state" -type f ! -name lock | tr '\n' ' ')
	expect_eq "$left" "" "$1: no journal, temp file or baseline left"
}

# loop NAME BEFORE CRASH... -- AFTER...: for n = 1, 2, ...: fresh root, the BEFORE function, the
# CRASH run killed at its nth write, then the AFTER runs (each must succeed); until CRASH finishes.
loop() {
	local name=$1 before=$2 n=1 crash_args=() after=()
	shift 2
	while [[ $1 != -- ]]; do crash_args+=("$1"); shift; done
	shift
	after=("$@")
	while ((n <= 80)); do
		setup
		$before
		crash "$n" "${crash_args[@]}"
		if ((!CRASHED)); then
			((n > 2)) && ok "$name: ${crash_args[*]} makes $((n - 1)) kernel writes; every crash point covered" ||
				fail "$name: ${crash_args[*]} made only $((n - 1)) kernel writes"
			return
		fi
		local step
		for step in "${after[@]}"; do
			must ${step} "$name, crash at write $n"
		done
		settled "$name, crash at write $n"
		n=$((n + 1))
	done
	fail "$name: ${crash_args[*]} still crashing after 80 writes"
}

nothing() { :; }
prepare_a() { must a prepare setup; }
release_a_crashed_first() {
	must a prepare setup
	crash 1 a release
	((CRASHED)) || fail "release of a made no kernel write"
}

case_one_vm_prepare_crash_then_release() { loop "one VM" nothing a prepare -- "a release"; }
case_one_vm_release_crash_then_restore() { loop "one VM" prepare_a a release -- "a restore"; }
case_one_vm_restore_crash_then_restore() { loop "one VM" release_a_crashed_first a restore -- "a restore"; }

# Two VMs: the other VM runs between the crash and the recovery, so every revert must reckon with
# what the other holds now, not only with what it held when the crash happened.
case_two_vms_prepare_crash_other_prepares() { loop "two VMs" nothing a prepare -- "b prepare" "a restore" "b release"; }
case_two_vms_release_crash_other_prepares() {
	loop "two VMs" prepare_a a release -- "b prepare" "a restore" "b release"
}
case_two_vms_restore_crash_other_prepares() {
	loop "two VMs" release_a_crashed_first a restore -- "b prepare" "a restore" "b release"
}

# ---- journals that cannot be read, leftovers, the lock ----

UC=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0c
# bad_journal KIND: a journal of a third VM (c) that cannot be read: written by a newer hookd, or garbage.
bad_journal() {
	case $1 in
	newer) printf 'hookd-journal 2\nvm\tc\nuuid\t%s\nstep\tdone\tvfio\tbind\t0000:05:00.0\tvfio-pci\tamdgpu\n' $UC ;;
	garbage) printf 'hookd-journal 1\nvm\tc\n%%%%%% not a record\n' ;;
	esac >"$T/state/$UC.journal"
}
gpu_on_vfio() { expect_eq "$(driver $GPU) $(driver $HDA)" "vfio-pci vfio-pci" "$1"; }
gpu_home() { expect_eq "$(driver $GPU) $(driver $HDA)" "nvidia snd_hda_intel" "$1"; }

# One unreadable journal is reported and kept, and every other VM still prepares, plans its
# release, releases (with and without its uuid) and restores what it holds.
bad_journal_leaves_others_alone() {
	setup
	must a prepare setup
	bad_journal "$1"
	hookd status
	expect_rc 1 "status with an unreadable journal"
	expect_in "$OUT" "UNREADABLE $T/state/$UC.journal" "status names the unreadable journal"
	expect_in "$OUT" "a $UA: " "status still lists a"
	hookd plan a --phase release
	expect_rc 0 "plan a --phase release"
	expect_in "$OUT" "[vfio] undo bind $GPU" "plan --phase release lists a's steps"
	must b prepare "$1 journal present"
	must b release "$1 journal present"
	hookd restore a
	expect_rc 0 "restore a with another VM's $1 journal present"
	gpu_home "restore a: GPU and audio back on their drivers"
	must a prepare again
	hookd run a release
	expect_rc 0 "release a without its uuid (no XML)"
	gpu_home "release a without XML: GPU and audio back on their drivers"
	hookd restore c
	expect_rc 1 "restore c, whose journal may be the unreadable one"
	expect_in "$ERR" "$UC.journal" "restore c names the unreadable journal"
	[[ -e $T/state/$UC.journal ]] && ok "the unreadable journal is kept" || fail "the unreadable journal was removed"
	rm "$T/state/$UC.journal"
	must b prepare "bad journal gone" # the next run under the lock drops the baselines a held
	must b release "bad journal gone"
	settled "after removing the bad journal"
}
case_newer_journal_leaves_others_alone() { bad_journal_leaves_others_alone newer; }
case_garbage_journal_leaves_others_alone() { bad_journal_leaves_others_alone garbage; }

# own_journal_broken HOW: a's own journal, damaged; release must fail loudly and keep it.
own_journal_broken() {
	local j=$T/state/$UA.journal what=$1
	setup
	must a prepare setup
	case $what in
	nul) # a NUL byte at the start of the first step record: the records after it must not vanish
		python3 - "$j" <<-'PY'
			import sys
			p = sys.argv[1]; b = open(p, 'rb').read(); i = b.index(b'\nstep') + 1
			open(p, 'wb').write(b[:i] + b'\0' + b[i:])
		PY
		;;
	cut) truncate -s -3 "$j" ;;
	esac
	run a release
	expect_rc 1 "release with a journal $what"
	expect_in "$ERR" "journal" "stderr says the journal is the problem"
	expect_in "$ERR" "kept" "stderr says the journal is kept"
	[[ -e $j ]] && ok "the damaged journal is kept" || fail "the damaged journal was removed"
	gpu_on_vfio "nothing was reverted from a journal that cannot be read whole"
	hookd restore a
	expect_rc 1 "restore with a journal $what"
}
case_nul_in_own_journal_is_never_done() { own_journal_broken nul; }
case_cut_own_journal_is_never_done() { own_journal_broken cut; }

# Temp files of a killed run and baselines no journal holds: shown by status, removed by the next
# run under the lock.
case_leftovers_shown_then_cleaned() {
	setup
	must a prepare setup
	printf 'hookd-journal 1\nvm\ta\n' >"$T/state/$UA.journal.tmp"
	printf '77' >"$T/state/shared/hugepages:4096kB"
	printf "0-7" >"$T/state/shared/cpus:x.tmp"
	hookd status
	expect_rc 0 status
	expect_in "$OUT" "leftover $T/state/$UA.journal.tmp" "status shows the journal temp file"
	expect_in "$OUT" "leftover $T/state/shared/hugepages:4096kB" "status shows the stale baseline"
	expect_in "$OUT" "leftover $T/state/shared/cpus:x.tmp" "status shows the baseline temp file"
	expect_eq "$(grep -c leftover <<<"$OUT")" 3 "and nothing else: a's live baselines are not leftovers"
	must b prepare "with leftovers"
	hookd status
	expect_eq "$(grep -c leftover <<<"$OUT")" 0 "the next run under the lock removed them"
	must b release x
	must a release x
	settled "after the leftovers"
}

# The lock: a release waits as long as the holder's step may take ([exec] with its own timeout,
# far over hookd.conf's timeout x 10), then completes; a holder past its announced bound is given
# up on, with a message that names it.
case_release_waits_for_a_slow_exec_step() {
	setup
	sed -i 's/^timeout = .*/timeout = 300ms/' "$T/hookd.conf" # other runs used to give up after 3 s
	mkdir -p "$T/bin"
	printf '#!/bin/sh\ntouch "%s/slow.started"\nsleep 5\n' "$T" >"$T/bin/slow"
	chmod 0755 "$T/bin/slow"
	printf '[exec]\nprepare = %s/bin/slow\ntimeout = 30\n' "$T" >"$T/hooks.d/x.ini"
	chmod 0644 "$T/hooks.d/x.ini"
	domain_xml x 6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0d >"$T/x.xml"
	must b prepare setup
	sim "$HOOKD_BIN" --conf "$T/hookd.conf" run x prepare --xml "$T/x.xml" >"$T/x.out" 2>&1 &
	local pid=$!
	BG_PIDS+=("$pid")
	while [[ ! -e $T/slow.started ]]; do sleep 0.05; done
	hookd -v run b release --xml "$T/b.xml"
	expect_rc 0 "release while x's [exec] step (5 s, bound 30 s) holds the lock"
	expect_in "$ERR" "held by x applying [exec]" "the wait says for whom it waits"
	expect_eq "$(cat "$R/$POOL")" 10 "release completed: the pool is back to its 10 pages"
	wait "$pid"
	expect_eq "$?" 0 "x prepare finished"
	must x release x
	settled "after the wait"
}

case_lock_holder_past_its_bound_is_given_up() {
	setup
	must a prepare setup
	# a holder that announced a step due long ago (CLOCK_MONOTONIC ms 1) and hangs
	setsid flock "$T/state/lock" sleep 60 &
	local pid=$!
	BG_PIDS+=("$pid")
	while flock -n "$T/state/lock" true; do sleep 0.05; done
	printf '%s 1 z applying [exec] run prepare\n' "$pid" >"$T/state/lock"
	run a release
	expect_rc 1 "release behind a hung holder"
	expect_in "$ERR" "held by z applying [exec] run prepare (pid $pid) past the bound of its step" "names the holder"
	gpu_on_vfio "nothing reverted while the lock is held"
	kill -KILL -- "-$pid"
	wait "$pid" 2>/dev/null || true
	must a release "after the holder is gone"
	settled "after the hung holder"
}

case=${1:?case}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
