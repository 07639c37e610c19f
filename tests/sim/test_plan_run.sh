#!/bin/bash
# What `hookd plan --json` prints is what `hookd run` does, with another VM holding shared resources:
# test_plan_run.sh CASE (one ctest test per case).
#
# VM a runs prepare first and holds what its INI takes. Then, for VM b: `plan b --json` (a dry run,
# with a's journal seen as the hook sees it) and `run b prepare` with the simulator's write trace on
# ($R/.sim/write_log). Asserted: b's journal records (action, op, target, value) are exactly the
# plan's revertible steps, in order; the kernel writes of the run are exactly the plan's writes, in
# order; and a plan that fails fails with the message the run fails with.
#
# The root: sim-mkroot (gpu preset: 01:00.0 GPU + 01:00.1 audio in group 2), sim-mkroot-modules
# (sim_* modules), sim-mkroot-cpus (8 CPUs; slices, IRQs, governors), sim-mkroot-hugepages (one node);
# [service] asks a fake systemctl first in PATH.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${SIM_JSONFLAT:?}" "${SIM_MKROOT_MODULES:?}" "${SIM_MKROOT_CPUS:?}" "${SIM_MKROOT_HUGEPAGES:?}"
: "${SIM_MKROOT_ZFS:?}"
UA=5a0c7e21-0000-4c55-9d40-00000000000a UB=5a0c7e21-0000-4c55-9d40-00000000000b
S=$T/systemd

setup() {
	mkroot
	"$SIM_MKROOT_MODULES" "$R"
	"$SIM_MKROOT_CPUS" "$R"
	"$SIM_MKROOT_HUGEPAGES" "$R" --nodes 1 --memtotal 16777216
	mkdir -p "$T/hooks.d" "$T/state" "$T/bin" "$S/units"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" \
		"$T/state" >"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
	cat >"$T/bin/systemctl" <<-EOS
		#!/bin/bash
		# fake systemctl (hookd sim test): units are files in $S/units
		[[ \$1 == is-active && \$2 == --quiet ]] && set -- "\$1" "\$3"
		case \$1 in
		is-active) [[ -e $S/units/\$2.active ]] ;;
		stop) rm -f "$S/units/\$2.active" ;;
		start) touch "$S/units/\$2.active" ;;
		*) exit 2 ;;
		esac
	EOS
	chmod 0755 "$T/bin/systemctl"
	[[ "$(PATH=$T/bin:$PATH command -v systemctl)" == "$T/bin/systemctl" ]] || { echo "FATAL: fake systemctl not first" >&2; exit 1; }
	touch "$S/units/display-manager.service.active"
	local vm
	for vm in a:$UA b:$UB; do
		cat >"$T/${vm%%:*}.xml" <<-EOX
			<domain type='kvm'><name>${vm%%:*}</name><uuid>${vm#*:}</uuid>
			  <memory unit='MiB'>1024</memory><vcpu>2</vcpu><memoryBacking><hugepages/></memoryBacking>
			</domain>
		EOX
	done
}

# ini VM BODY: the VM's INI file (printf %b).
ini() {
	printf '%b' "$2" >"$T/hooks.d/$1.ini"
	chmod 0644 "$T/hooks.d/$1.ini"
}

hookd() {
	RC=0
	sim env PATH="$T/bin:$PATH" "$HOOKD_BIN" --conf "$T/hookd.conf" "$@" >"$T/out" 2>"$T/err" || RC=$?
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}

# plan_files: from `plan --json` in $T/out, $T/plan.recs (revertible steps: action op target value,
# tab-separated) and $T/plan.writes ("PATH <- VALUE").
plan_files() {
	"$SIM_JSONFLAT" <"$T/out" >"$T/flat" || { fail "plan --json is not valid JSON"; return; }
	awk -F= '
		function unq(s) { sub(/^"/, "", s); sub(/"$/, "", s); return s }
		{ key = $1; val = substr($0, length($1) + 2) }
		key ~ /^\.steps\[[0-9]+\]\.(action|op|target|value)$/ { split(key, k, "."); f[k[3]] = unq(val) }
		key ~ /^\.steps\[[0-9]+\]\.revert_on_release$/ && val == "true" {
			printf "%s\t%s\t%s\t%s\n", f["action"], f["op"], f["target"], f["value"] > recs }
		key ~ /\.writes\[[0-9]+\]\.path$/ { path = unq(val) }
		key ~ /\.writes\[[0-9]+\]\.value$/ { printf "%s <- %s\n", path, unq(val) > writes }
	' recs="$T/plan.recs" writes="$T/plan.writes" "$T/flat"
	touch "$T/plan.recs" "$T/plan.writes"
}

# run_recs UUID: the journal's records (action op target value), tab-separated, in order.
run_recs() { awk -F'\t' '$1 == "step" { printf "%s\t%s\t%s\t%s\n", $3, $4, $5, $6 }' "$T/state/$1.journal"; }

# plan_equals_run: a holds its resources; b's plan --json equals b's prepare (records and writes).
plan_equals_run() {
	hookd run a prepare --xml "$T/a.xml"
	expect_rc 0 "a prepares"
	hookd plan b --json --xml "$T/b.xml"
	expect_rc 0 "plan b"
	plan_files
	: >"$R/.sim/write_log"
	hookd run b prepare --xml "$T/b.xml"
	expect_rc 0 "run b prepare"
	[[ -s "$T/plan.recs" ]] || [[ -s "$T/plan.writes" ]] || fail "the plan has neither records nor writes: nothing compared"
	if diff -u "$T/plan.recs" <(run_recs "$UB") >"$T/diff"; then ok "b's journal records are the plan's steps ($(wc -l <"$T/plan.recs"))"; else
		fail "b's journal differs from its plan:"$'\n'"$(cat "$T/diff")"
	fi
	if diff -u "$T/plan.writes" "$R/.sim/write_log" >"$T/diff"; then ok "b's kernel writes are the plan's writes ($(wc -l <"$T/plan.writes"))"; else
		fail "b's kernel writes differ from its plan:"$'\n'"$(cat "$T/diff")"
	fi
	hookd run b release --xml "$T/b.xml"
	expect_rc 0 "b releases"
	hookd run a release --xml "$T/a.xml"
	expect_rc 0 "a releases"
}

# plan_fails_as_run_does WANT: b's plan and b's prepare both fail, saying WANT.
plan_fails_as_run_does() {
	hookd run a prepare --xml "$T/a.xml"
	expect_rc 0 "a prepares"
	hookd plan b --json --xml "$T/b.xml"
	expect_rc 1 "plan b refuses"
	local plan_msg=${ERR#*would fail: }
	expect_in "$plan_msg" "$1" "plan says why"
	: >"$R/.sim/write_log"
	hookd run b prepare --xml "$T/b.xml"
	expect_rc 1 "run b refuses"
	expect_in "$ERR" "$plan_msg" "the run fails with the plan's message"
	expect_eq "$(cat "$R/.sim/write_log")" "" "the refused run wrote nothing"
}

case_hugepages() {
	setup
	ini a '[hugepages]\nsize = 2M\npages = 512\nnode = 0\n'
	ini b '[hugepages]\nsize = 2M\npages = 256\nnode = 0\n'
	plan_equals_run
	expect_in "$(cat "$T/flat")" "256 pages (512 MiB) for this VM; 512 free, 512 needed by other VMs: drop caches, compact, allocate 256 (nr_hugepages 512 -> 768)" "plan counts a's 512 pages"
}

case_zfs_arc_max() {
	setup
	"$SIM_MKROOT_ZFS" "$R"
	ini a '[hugepages]\nsize = 2M\npages = 64\nnode = 0\nzfs_arc_max = 6G\n'
	ini b '[hugepages]\nsize = 2M\npages = 64\nnode = 0\nzfs_arc_max = 4G\n'
	plan_equals_run
	expect_in "$(cat "$T/plan.writes")" "$R/sys/module/zfs/parameters/zfs_arc_max <- 4294967296" "b's plan lowers a's 6 GiB to its 4 GiB"
	expect_in "$(cat "$T/flat")" "(other VMs: 6 GiB; now 6 GiB): zfs_arc_max 6442450944 -> 4294967296" "the plan counts a's cap"
}

case_cpus() {
	setup
	ini a '[cpus]\nhost = 0-3\nirqs = yes\nworkqueues = yes\ngovernor = performance\n'
	ini b '[cpus]\nhost = 0-1,4-5\nirqs = yes\nworkqueues = yes\ngovernor = performance\n'
	plan_equals_run
	expect_in "$(cat "$T/plan.writes")" "system.slice/cpuset.cpus <- 0-1" "b's plan writes what both VMs leave to the host"
}

case_modules() {
	setup
	ini a '[modules]\nunload = sim_snd\n'
	ini b '[modules]\nunload = sim_snd\nload = sim_extra\n'
	plan_equals_run
}

case_service() {
	setup
	ini a '[service]\nstop = display-manager.service\n'
	ini b '[service]\nstop = display-manager.service\n'
	plan_equals_run
}

case_everything_shared() {
	setup
	ini a '[service]\nstop = display-manager.service\n[modules]\nunload = sim_snd\n[hugepages]\nsize = 2M\npages = 100\nnode = 0\n[cpus]\nhost = 0-5\n'
	ini b '[service]\nstop = display-manager.service\n[modules]\nunload = sim_snd\n[hugepages]\nsize = 2M\npages = 100\nnode = 0\n[cpus]\nhost = 2-7\n'
	plan_equals_run
}

case_vfio_device_held_by_another_vm() {
	setup
	ini a '[vfio]\ndevices = 0000:01:00.0\n'
	ini b '[vfio]\ndevices = 0000:01:00.1\ncompanions = no\n'
	plan_fails_as_run_does "IOMMU group 2 of 0000:01:00.1 is not viable: 0000:01:00.0 is held by VM 'a'"
}

case=${1:?usage: test_plan_run.sh CASE}
declare -F "case_$case" >/dev/null || { echo "unknown case $case" >&2; exit 2; }
"case_$case"
finish
