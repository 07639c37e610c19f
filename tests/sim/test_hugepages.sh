#!/bin/bash
# hookd's [hugepages] action against the simulated kernel: test_hugepages.sh CASE.
# Fixture: sim-mkroot (gpu preset) + sim-mkroot-hugepages (2 nodes of 8 GiB; pools per case).
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_MKROOT_HUGEPAGES:?}" "${SIM_MKROOT_ZFS:?}"
N0=sys/devices/system/node/node0/hugepages
N1=sys/devices/system/node/node1/hugepages
G=sys/kernel/mm/hugepages
TIMEOUT=2

# hp_root [sim-mkroot-hugepages options...]: fresh root with pools; keeps the dump to compare.
hp_root() {
	rm -rf "$R" "$T/state"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT_HUGEPAGES" "$R" "$@"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	mkdir -p "$T/hooks.d" "$T/state"
	cat >"$T/hookd.conf" <<-EOC
		root = $R
		hooks_dir = $T/hooks.d
		state_dir = $T/state
		timeout = $TIMEOUT
		log = none
	EOC
	chmod 0644 "$T/hookd.conf"
}

# vm NAME UUID MEMORY_KIB INI_BODY [XML inside <domain>]: the VM's INI and domain XML ($T/NAME.xml).
vm() {
	printf '[hugepages]\n%b' "$4" >"$T/hooks.d/$1.ini"
	chmod 0644 "$T/hooks.d/$1.ini"
	cat >"$T/$1.xml" <<-EOX
		<domain type='kvm'>
		  <name>$1</name>
		  <uuid>$2</uuid>
		  <memory unit='KiB'>$3</memory>
		  <vcpu placement='static'>2</vcpu>
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		  ${5:-<memoryBacking><hugepages/></memoryBacking>}
		</domain>
	EOX
}
UA=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0a UB=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a0b

run() { hookd run "$1" "$2" --xml "$T/$1.xml"; } # VM PHASE
val() { cat "$R/$1"; }
# pool KB: "global-nr/global-free node0-nr/node0-free node1-nr/node1-free"
pool() {
	local d=hugepages-$1kB
	echo "$(val $G/$d/nr_hugepages)/$(val $G/$d/free_hugepages)" \
		"$(val $N0/$d/nr_hugepages)/$(val $N0/$d/free_hugepages)" \
		"$(val $N1/$d/nr_hugepages)/$(val $N1/$d/free_hugepages)"
}
compactions() { cat "$R/.sim/hugepages/compactions" 2>/dev/null || echo 0; }
expect_no_journals() {
	local j
	j=$(ls "$T/state"/*.journal 2>/dev/null || true)
	[[ -z "$j" ]] && ok "no journal left" || fail "journals left: $j"
}

case_reserves_on_node_and_returns() {
	hp_root
	vm win11 $UA 1048576 'size = 2M\npages = auto\nnode = 0\n'
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(pool 2048)" "512/512 512/512 0/0" "512 x 2M on node 0 (global = sum)"
	expect_eq "$(compactions)" 1 "caches dropped and memory compacted once before allocating"
	expect_eq "$(val .sim/hugepages/dropped 2>/dev/null || echo none)" none "drop_caches came before compact_memory"
	run win11 release
	expect_rc 0 release
	expect_eq "$(pool 2048)" "0/0 0/0 0/0" "all 512 pages returned"
	expect_no_journals
	expect_same_tree "after release"
}

case_plan_shows_every_write_and_touches_nothing() {
	hp_root --pool 2048:0:4096:0:12
	vm win11 $UA 1048576 'size = 2048k\npages = auto\nnode = 0\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	echo "$OUT"
	expect_in "$OUT" "[hugepages] 2048kB pool of node 0: 512 pages (1 GiB) for this VM; 12 free, 0 needed by other VMs" "plan explains the numbers"
	expect_in "$OUT" "allocate 500 (nr_hugepages 12 -> 512)" "plan names the shortfall and the new count"
	expect_in "$OUT" "write $R/proc/sys/vm/drop_caches <- 3" "plan shows drop_caches"
	expect_in "$OUT" "write $R/proc/sys/vm/compact_memory <- 1" "plan shows compact_memory"
	expect_in "$OUT" "write $R/$N0/hugepages-2048kB/nr_hugepages <- 512" "plan shows the nr_hugepages write"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_rc 0 "plan --json"
	expect_in "$OUT" "\"value\": \"512\"" "plan --json carries the count"
	expect_eq "$(compactions)" 0 "plan compacted nothing"
	expect_eq "$(cat "$R/.sim/write_count")" 0 "plan made no kernel write"
	expect_same_tree "after plan"
}

case_bad_values_are_refused_with_file_line() {
	local kv line
	hp_root
	for kv in "size = 3M:3M" "pages = -1:-1" "node = x:'x'" "size = 0:'0'" "pages = 0:'0'" "colour = red:colour"; do
		vm win11 $UA 1048576 "; line 2 is a comment\n${kv%%:*}\n"
		hookd check win11
		expect_rc 2 "check with '${kv%%:*}'"
		expect_in "$ERR" "win11.ini:3" "'${kv%%:*}': file:line"
		expect_in "$ERR" "${kv#*:}" "'${kv%%:*}': names the value"
		run win11 prepare
		expect_rc 2 "prepare with '${kv%%:*}'"
	done
	vm win11 $UA 1048576 'size = 1G\npages = auto\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 1 "size = 1G for an XML without <page>: 1G is not the host default"
	expect_in "$ERR" "2048kB" "names the size the XML uses"
	vm win11 $UA 1048576 'node = 7\n'
	run win11 prepare
	expect_rc 1 "node = 7 on a 2-node host"
	expect_in "$ERR" "node 7" "names the missing node"
	vm win11 $UA 1048576 'size = 4M\npages = 3\n'
	run win11 prepare
	expect_rc 1 "a page size this host has no pool for"
	expect_in "$ERR" "4096kB" "names the size"
	vm win11 $UA 1048576 'pages = auto\n' '<!-- no memoryBacking -->'
	run win11 prepare
	expect_rc 1 "pages = auto without <hugepages/> in the XML"
	expect_in "$ERR" "memoryBacking" "says what the XML lacks"
	expect_same_tree "after the refusals"
	expect_no_journals
}

case_impossible_count_is_refused_before_any_change() {
	hp_root
	vm win11 $UA 1048576 'size = 1G\npages = 9\nnode = 0\n'
	run win11 prepare
	expect_rc 1 "9 x 1G on a node of 8 GiB"
	expect_in "$ERR" "impossible" "says impossible"
	expect_in "$ERR" "9 pages of 1048576kB" "names the count and size"
	expect_in "$ERR" "8 GiB" "names the node's memory"
	expect_in "$ERR" "win11.ini" "names the INI"
	vm win11 $UA 1048576 'size = 1G\npages = 17\nnode = any\n'
	run win11 prepare
	expect_rc 1 "17 x 1G on a host of 16 GiB"
	expect_in "$ERR" "16 GiB of memory this host has" "names the host's memory"
	expect_eq "$(compactions)" 0 "nothing compacted"
	expect_eq "$(cat "$R/.sim/write_count")" 0 "no kernel write at all"
	expect_same_tree "after the refusal"
	expect_no_journals
}

case_partial_allocation_rolls_back_to_the_exact_count() {
	hp_root --pool 2048:0:4096:0:10:4
	echo 100 >"$R/.sim/faults/hugepages_partial"
	vm win11 $UA 1048576 'size = 2M\npages = auto\nnode = 0\n'
	run win11 prepare
	expect_rc 1 "prepare with a partial allocation"
	echo "$ERR"
	expect_in "$ERR" "asked 506, got 100, free 106" "asked/got/free (10 in the pool, 4 of them in use)"
	expect_in "$ERR" "rolled back to nr_hugepages 10" "says it rolled back"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_eq "$(pool 2048)" "10/6 10/6 0/0" "pool back to exactly 10 (6 free)"
	expect_no_journals
	expect_same_tree "after the rollback"
}

case_short_memory_without_fragmentation_fails_cleanly() {
	hp_root --pool 1048576:0:2:0:1 --pool 2048:0:4096
	vm win11 $UA 4194304 'size = 1G\npages = auto\nnode = 0\n' \
		"<memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>"
	run win11 prepare
	expect_rc 1 "4 x 1G where memory allows 2"
	expect_in "$ERR" "asked 3, got 1, free 2" "asked/got/free"
	expect_eq "$(pool 1048576)" "1/1 1/1 0/0" "pool back to 1"
	expect_same_tree "after the rollback"
}

case_compaction_makes_room() {
	hp_root --pool 2048:0:2:600
	vm win11 $UA 1048576 'size = 2M\npages = auto\nnode = 0\n'
	run win11 prepare
	expect_rc 0 "prepare that needs compaction to succeed"
	expect_eq "$(pool 2048)" "512/512 512/512 0/0" "512 pages after compaction"
	expect_eq "$(val .sim/hugepages/2048/node0/fragmented)" 0 "fragmented memory was compacted"
	expect_eq "$(val .sim/hugepages/2048/node0/capacity)" 602 "capacity grew by the fragmented amount"
	run win11 release
	expect_rc 0 release
	expect_eq "$(pool 2048)" "0/0 0/0 0/0" "returned"
}

# openzfs#15140: kernels 6.3.1-6.7.4 crashed on drop_caches + compact_memory with ZFS loaded.
case_zfs_affected_kernel_is_not_compacted() {
	hp_root --pool 2048:0:600
	mkdir -p "$R/sys/module/zfs" "$R/proc/sys/kernel"
	echo 6.5.0-5-amd64 >"$R/proc/sys/kernel/osrelease"
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
	vm win11 $UA 1048576 'size = 2M\npages = auto\nnode = 0\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "drop caches, allocate 512 (nr_hugepages 0 -> 512) (not compacting: kernel 6.5.0-5-amd64 with ZFS loaded crashed on it, openzfs#15140)" "the plan says why it does not compact"
	expect_eq "$(grep -c compact_memory "$T/out")" 0 "no compact_memory write planned"
	run win11 prepare
	expect_rc 0 "prepare without compaction"
	expect_eq "$(compactions)" 0 "nothing compacted"
	run win11 release
	expect_rc 0 release
	echo 6.7.5 >"$R/proc/sys/kernel/osrelease"
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "drop caches, compact, allocate 512" "6.7.5 compacts again"
}

case_free_pages_count_toward_the_need() {
	hp_root --pool 2048:0:4096:0:600 --pool 2048:1:4096:0:300
	vm win11 $UA 1048576 'size = 2M\nnode = 0\n'
	run win11 prepare
	expect_rc 0 "prepare with 600 free pages for a need of 512"
	expect_eq "$(pool 2048)" "900/900 600/600 300/300" "nothing allocated"
	expect_eq "$(compactions)" 0 "nothing compacted"
	run win11 release
	expect_rc 0 release
	expect_same_tree "release changed nothing either"
	vm win11 $UA 1048576 'size = 2M\nnode = 1\n'
	run win11 prepare
	expect_rc 0 "prepare with 300 free pages on node 1"
	expect_eq "$(pool 2048)" "1112/1112 600/600 512/512" "only the shortfall of 212 allocated"
	run win11 release
	expect_rc 0 release
	expect_same_tree "after release"
}

case_auto_from_xml_default_size_and_numatune() {
	hp_root
	vm win11 $UA 1048576 '' "<memoryBacking><hugepages/></memoryBacking>
		  <numatune><memory mode='strict' nodeset='1'/></numatune>"
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "2048kB pool of node 1: 512 pages" "bare <hugepages/>: default size, node from numatune"
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(pool 2048)" "512/512 0/0 512/512" "512 x 2M on node 1"
	run win11 release
	expect_rc 0 release
	expect_same_tree "after release"
	vm win11 $UA 1048577 '' "<memoryBacking><hugepages/></memoryBacking>
		  <numatune><memory mode='strict' nodeset='0-1'/></numatune>"
	run win11 prepare
	expect_rc 0 "prepare over two numatune nodes"
	expect_eq "$(pool 2048)" "513/513 257/257 256/256" "1 GiB + 1 KiB = 513 pages split over nodes 0-1"
	run win11 release
	expect_rc 0 release
	expect_same_tree "after release"
}

case_auto_from_xml_page_size_1g() {
	hp_root
	vm win11 $UA 2097152 '' \
		"<memoryBacking><hugepages><page size='1' unit='G' nodeset='0'/></hugepages></memoryBacking>"
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "1048576kB pool: 2 pages (2 GiB)" "<page size='1' unit='G'>: 1G pages, global pool"
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(pool 1048576)" "2/2 1/1 1/1" "2 x 1G, interleaved over the nodes"
	expect_eq "$(pool 2048)" "0/0 0/0 0/0" "2M pool untouched"
	run win11 release
	expect_rc 0 release
	expect_same_tree "after release"
	vm win11 $UA 2097152 'size = 2M\n' \
		"<memoryBacking><hugepages><page size='1' unit='G'/></hugepages></memoryBacking>"
	run win11 prepare
	expect_rc 1 "size = 2M against an XML with 1G pages"
	expect_in "$ERR" "1048576kB" "names the XML's size"
}

# interleave ORDER POOLARGS INI_A INI_B: two VMs; ORDER is e.g. "A B A B" (prepare, prepare, release, release).
interleave() {
	local order=$1 who seen="" phase
	hp_root $2
	vm vma $UA 1048576 "$3"
	vm vmb $UB 524288 "$4"
	for who in $order; do
		if [[ $seen == *$who* ]]; then phase=release; else phase=prepare; fi
		seen+=$who
		run "vm${who,,}" $phase
		expect_rc 0 "$who $phase"
		echo "after $who $phase: 2M pool $(pool 2048)"
		POOLS+=("$(pool 2048)")
	done
	expect_no_journals
	expect_same_tree "order $order"
}

case_two_vms_interleaved_restore_exactly() {
	POOLS=()
	interleave "A B A B" "--pool 2048:0:4096:0:100" 'size = 2M\nnode = 0\n' 'size = 2M\nnode = 0\n'
	expect_eq "${POOLS[0]}" "512/512 512/512 0/0" "A: 100 free count, 412 added"
	expect_eq "${POOLS[1]}" "768/768 768/768 0/0" "B: A's free pages are not B's: 256 added"
	expect_eq "${POOLS[2]}" "356/356 356/356 0/0" "A released: exactly its 412 gone"
	POOLS=()
	interleave "A B B A" "--pool 2048:0:4096:0:100" 'size = 2M\nnode = 0\n' 'size = 2M\nnode = 0\n'
	expect_eq "${POOLS[2]}" "512/512 512/512 0/0" "B released: A keeps its 512"
	POOLS=()
	interleave "A B A B" "" 'size = 2M\nnode = any\n' 'size = 2M\nnode = any\n'
	expect_eq "${POOLS[1]}" "768/768 384/384 384/384" "global pool: 768 over both nodes"
	POOLS=()
	interleave "A B B A" "" 'size = 2M\nnode = any\n' 'size = 2M\nnode = any\n'
	expect_eq "${POOLS[2]}" "512/512 256/256 256/256" "global pool: B released, A keeps 512"
}

case_crash_after_each_write_then_release_restores() {
	local n=1 rc before
	while ((n <= 10)); do
		hp_root --pool 2048:0:300:400:10
		vm win11 $UA 1048576 'size = 2M\nnode = 0\n'
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
			((n > 3)) || fail "prepare made only $((n - 1)) kernel writes"
			return
		fi
		run win11 release
		expect_rc 0 "release after a crash at write $n"
		expect_eq "$(pool 2048)" "10/10 10/10 0/0" "crash at write $n: pool back to 10"
		expect_no_journals
		n=$((n + 1))
	done
	fail "prepare never finished within 10 writes"
}

# crash_run N VM PHASE|restore: the run killed right after its Nth kernel write; CRASHED=0 when it finished first.
crash_run() {
	local n=$1 vm=$2 what=$3 rc before args
	args=(run "$vm" "$what" --xml "$T/$vm.xml")
	[[ $what == restore ]] && args=(restore "$vm")
	before=$(cat "$R/.sim/write_count")
	echo $((before + n)) >"$R/.sim/faults/crash_at"
	set +e
	setsid env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" "$HOOKD_BIN" --conf "$T/hookd.conf" "${args[@]}" >"$T/out" 2>&1
	rc=$?
	set -e
	rm -f "$R/.sim/faults/crash_at"
	CRASHED=$((rc == 137))
	((rc == 0 || rc == 137)) || fail "$vm $what with a crash at write $n exited $rc: $(cat "$T/out")"
}

# each_crash_point VM PHASE MIN SETUP AFTER: for n = 1, 2, ...: SETUP, the run (VM PHASE) killed right
# after its nth kernel write, then AFTER n; once the run finishes uncrashed (it must have made at
# least MIN writes), AFTER 0.
each_crash_point() {
	local vm=$1 phase=$2 min=$3 setup=$4 after=$5 n=1
	while ((n <= 12)); do
		$setup
		crash_run $n "$vm" "$phase"
		if ((!CRASHED)); then
			ok "$phase makes $((n - 1)) kernel writes; every crash point covered"
			((n > min)) || fail "$phase made only $((n - 1)) kernel writes"
			$after 0
			return
		fi
		$after $n
		n=$((n + 1))
	done
	fail "$phase still crashing after 12 writes"
}

# A release killed after its nr_hugepages write, before the journal dropped the record: the
# restore that follows must not give the pages back a second time (10 pages reserved at boot stay).
boot_pages_prepared() {
	hp_root --pool 2048:0:300:400:10
	vm win11 $UA 1048576 'size = 2M\nnode = 0\n'
	run win11 prepare
	expect_rc 0 prepare
}
boot_pages_restored() {
	if (($1 == 0)); then
		expect_eq "$(pool 2048)" "10/10 10/10 0/0" "uncrashed release: pool back to 10"
		return
	fi
	hookd restore win11
	expect_rc 0 "restore after a release crashed at write $1"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "release crashed at write $1, then restore: pool back to 10"
	hookd restore win11
	expect_rc 0 "restore again"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "a second restore changes nothing"
	expect_no_journals
}
case_release_crash_then_restore_keeps_boot_pages() {
	each_crash_point win11 release 1 boot_pages_prepared boot_pages_restored
}

# VM a killed after its intent record, before it reserved anything; b then prepares 64 pages.
# a's record must not make b's pages its own.
case_interrupted_prepare_does_not_count_anothers_pages() {
	hp_root --pool 2048:0:4096:0:10
	vm a $UA 131072 'size = 2M\npages = 64\nnode = 0\n'
	vm b $UB 131072 'size = 2M\npages = 64\nnode = 0\n'
	crash_run 1 a prepare
	expect_eq "$CRASHED" 1 "a's prepare killed at its first write (drop_caches), before nr_hugepages"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "a reserved nothing"
	run b prepare
	expect_rc 0 "b prepare"
	hookd restore a
	expect_rc 0 "restore a"
	local after_a
	after_a=$(pool 2048)
	run b release
	expect_rc 0 "b release"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "restore a then release b: the 10 boot pages remain (after restore a: $after_a)"
	expect_no_journals

	hp_root --pool 2048:0:4096:0:10
	crash_run 1 a prepare
	run b prepare
	expect_rc 0 "b prepare"
	run a prepare
	expect_rc 0 "a prepared again"
	local nr
	nr=$(cat "$R/$N0/hugepages-2048kB/nr_hugepages")
	((nr >= 128)) && ok "a and b hold $nr pages: at least the 128 they need" ||
		fail "a and b hold $nr pages where they need 128"
	run a release
	run b release
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "both released: the 10 boot pages remain"
	expect_no_journals
}

# ---- zfs_arc_max: the ZFS ARC kept small while VMs run (sim-mkroot-zfs; 16 GiB of RAM, so
# OpenZFS 2.2's default maximum is 8 GiB and its minimum 512 MiB) ----
ARC=sys/module/zfs/parameters/zfs_arc_max
G4=4294967296 G6=6442450944 G8=8589934592
# arc: "<zfs_arc_max> <the ARC's maximum, arcstats c_max>"
arc() { echo "$(val $ARC) $(awk '$1 == "c_max" { print $3 }' "$R/proc/spl/kstat/zfs/arcstats")"; }
# zfs_root [sim-mkroot-hugepages options...]: hp_root with ZFS loaded ($ZFS_OPTS: sim-mkroot-zfs options).
zfs_root() {
	hp_root "$@"
	"$SIM_MKROOT_ZFS" "$R" ${ZFS_OPTS:-}
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
}
expect_no_baseline() {
	local b
	b=$(ls "$T/state/shared" 2>/dev/null || true)
	[[ -z "$b" ]] && ok "no baseline left" || fail "baselines left: $b"
}

case_zfs_arc_max_lowered_then_restored_exactly() {
	local version dflt
	for version in 2.2.2-1:$G8:8 2.3.0-1:16106127360:15; do
		dflt=${version#*:} dflt=${dflt%:*}
		ZFS_OPTS="--version ${version%%:*}" zfs_root
		expect_eq "$(arc)" "0 $dflt" "OpenZFS ${version%%:*}: zfs_arc_max 0, the default maximum"
		vm win11 $UA 1048576 'size = 2M\nnode = 0\nzfs_arc_max = 4G\n'
		hookd plan win11 --xml "$T/win11.xml"
		expect_rc 0 plan
		expect_in "$OUT" "1. [hugepages] ZFS ARC at most 4 GiB while this VM runs (other VMs: none; now ${version##*:} GiB): zfs_arc_max 0 -> $G4 (the ARC shrinks to it in the background)" "the ARC step comes first and names the write"
		expect_in "$OUT" "write $R/$ARC <- $G4" "plan shows the file"
		expect_in "$OUT" "2. [hugepages] 2048kB pool of node 0" "then the pool"
		: >"$R/.sim/write_log"
		run win11 prepare
		expect_rc 0 prepare
		expect_eq "$(arc)" "$G4 $G4" "zfs_arc_max and the ARC's maximum are 4 GiB"
		expect_eq "$(head -1 "$R/.sim/write_log")" "$R/$ARC <- $G4" "the ARC is lowered before the pool grows"
		expect_eq "$(pool 2048)" "512/512 512/512 0/0" "the pool"
		: >"$R/.sim/write_log"
		run win11 release
		expect_rc 0 release
		expect_eq "$(arc)" "0 $dflt" "back to 0 and the default maximum (OpenZFS ignores a written 0: the maximum first)"
		expect_eq "$(cat "$R/.sim/write_log")" "$R/$N0/hugepages-2048kB/nr_hugepages <- 0
$R/$ARC <- $dflt
$R/$ARC <- 0" "the pool is given back first, then the ARC's maximum, then 0"
		expect_no_journals
		expect_no_baseline
		expect_same_tree "after release"
	done
}

case_zfs_arc_max_two_vms_the_smallest_cap_applies() {
	zfs_root
	vm vma $UA 131072 'size = 2M\npages = 64\nnode = 0\nzfs_arc_max = 6G\n'
	vm vmb $UB 131072 'size = 2M\npages = 64\nnode = 0\nzfs_arc_max = 4G\n'
	run vma prepare
	expect_eq "$(arc)" "$G6 $G6" "a: 6 GiB"
	run vmb prepare
	expect_eq "$(arc)" "$G4 $G4" "b: its 4 GiB is the smallest cap"
	run vmb release
	expect_eq "$(arc)" "$G6 $G6" "b released: up to a's 6 GiB, no further"
	run vma release
	expect_eq "$(arc)" "0 $G8" "a released last: 0 and the default maximum again"
	expect_same_tree "order a b b a"
	run vmb prepare
	run vma prepare
	expect_rc 0 "a after b"
	expect_eq "$(arc)" "$G4 $G4" "a's 6 GiB never raises b's 4 GiB"
	run vma release
	expect_eq "$(arc)" "$G4 $G4" "a released: b's cap stays"
	run vmb release
	expect_eq "$(arc)" "0 $G8" "b released last"
	expect_no_journals
	expect_no_baseline
	expect_same_tree "order b a a b"
	ZFS_OPTS="--arc-max 2147483648" zfs_root
	run vma prepare
	expect_rc 0 "a on a host whose zfs_arc_max is 2 GiB"
	expect_eq "$(arc)" "2147483648 2147483648" "a host already lower keeps its own"
	run vma release
	expect_same_tree "after a on the 2 GiB host"
}

arc_vm_root() {
	zfs_root --pool 2048:0:300:400:10
	vm win11 $UA 1048576 'size = 2M\nnode = 0\nzfs_arc_max = 4G\n'
}
arc_vm_released() {
	(($1 == 0)) && return
	run win11 release
	expect_rc 0 "release after a crash at write $1"
	expect_eq "$(arc)" "0 $G8" "crash at write $1: zfs_arc_max 0, the default maximum"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "crash at write $1: pool back to 10"
	expect_no_journals
	expect_no_baseline
}
case_zfs_arc_max_crash_at_each_write_then_release_restores() {
	each_crash_point win11 prepare 4 arc_vm_root arc_vm_released
}

# Release writes nr_hugepages, the ARC's maximum, then 0; killed after each, then restore (twice).
arc_vm_prepared() {
	arc_vm_root
	run win11 prepare
	expect_rc 0 prepare
}
arc_vm_restored() {
	local n=$1 w
	if ((n == 0)); then
		expect_eq "$(arc)" "0 $G8" "uncrashed release restores the ARC"
		return
	fi
	: >"$R/.sim/write_log"
	hookd restore win11
	expect_rc 0 "restore after a release crashed at write $n"
	expect_eq "$(arc)" "0 $G8" "release crashed at write $n, then restore: the ARC as before"
	expect_eq "$(pool 2048)" "10/10 10/10 0/0" "and the pool"
	expect_eq "$(grep -c "$ARC" "$R/.sim/write_log")" $((n < 3 ? 3 - n : 0)) "restore writes only what the crash left undone"
	w=$(cat "$R/.sim/write_count")
	hookd restore win11
	expect_rc 0 "restore again"
	expect_eq "$(cat "$R/.sim/write_count")" "$w" "a second restore writes nothing"
	expect_no_journals
	expect_no_baseline
	expect_same_tree "release crashed at write $n, then restore"
}
case_zfs_arc_max_release_crash_then_restore_twice() {
	each_crash_point win11 release 3 arc_vm_prepared arc_vm_restored
}

case_zfs_arc_max_without_zfs_is_a_stated_noop() {
	hp_root
	vm win11 $UA 1048576 'size = 2M\nnode = 0\nzfs_arc_max = 4G\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "[hugepages] ZFS ARC at most 4 GiB while this VM runs: ZFS is not loaded (no /sys/module/zfs/parameters/zfs_arc_max): nothing to do" "the plan says why nothing happens"
	expect_eq "$(grep -c zfs_arc_max <(grep ' write ' "$T/out"))" 0 "no zfs_arc_max write planned"
	run win11 prepare
	expect_rc 0 prepare
	expect_eq "$(pool 2048)" "512/512 512/512 0/0" "the pool still grows"
	[[ ! -e "$R/$ARC" ]] && ok "no zfs_arc_max made up" || fail "zfs_arc_max created without ZFS"
	run win11 release
	expect_rc 0 release
	expect_no_journals
	expect_same_tree "after release"
}

case_zfs_arc_max_bad_values_are_refused() {
	local kv
	zfs_root
	for kv in "zfs_arc_max = 32M:below 64M" "zfs_arc_max = 8X:'8X'" "zfs_arc_max = -1:'-1'" "zfs_arc_max = 4Gx:'4Gx'"; do
		vm win11 $UA 1048576 "; line 2 is a comment\n${kv%%:*}\n"
		hookd check win11
		expect_rc 2 "check with '${kv%%:*}'"
		expect_in "$ERR" "win11.ini:3" "'${kv%%:*}': file:line"
		expect_in "$ERR" "${kv#*:}" "'${kv%%:*}': says why"
	done
	vm win11 $UA 1048576 'size = 2M\nzfs_arc_max = 16G\n'
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 1 "16 GiB on a host of 16 GiB"
	expect_in "$ERR" "win11.ini" "names the INI"
	expect_in "$ERR" "zfs_arc_max 16384 MiB is not below the 16384 MiB of RAM: OpenZFS would ignore it" "says why"
	vm win11 $UA 1048576 'size = 2M\nzfs_arc_max = 256M\n'
	run win11 prepare
	expect_rc 1 "256 MiB with an ARC minimum of 512 MiB"
	expect_in "$ERR" "zfs_arc_max 256 MiB is not above the ARC's minimum of 512 MiB (zfs_arc_min, arcstats c_min): OpenZFS would ignore it" "says why"
	expect_eq "$(cat "$R/.sim/write_count")" 0 "no kernel write"
	expect_no_journals
	expect_same_tree "after the refusals"
}

case=${1:?case}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
