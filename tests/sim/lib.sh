# Sourced by tests/sim/test_*.sh: a private temp root, the shim, and assertions.
# CMake passes SIM_MKROOT, SIM_SHIM, SIM_PCILIST, HOOKD_BIN, HOOKD_HOOK, HOOKD_APPLY.
set -euo pipefail

: "${SIM_MKROOT:?run through ctest (SIM_MKROOT unset)}"
: "${SIM_SHIM:?run through ctest (SIM_SHIM unset)}"

T=$(mktemp -d /tmp/hookd-sim.XXXXXX)
R=$T/root
BG_PIDS=()
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() { echo "ok: $*"; }
finish() {
	if ((FAILS)); then
		echo "$FAILS check(s) failed" >&2
		exit 1
	fi
	echo "all checks passed"
}

# Fresh fixture root; keeps its canonical dump in $T/dump.orig.
mkroot() {
	rm -rf "$R"
	"$SIM_MKROOT" "$R" --preset gpu
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
}

# A whole host (the examples' and hookd new's): the gpu preset, then sim-mkroot-modules (the GPU on
# sim_nvidia), -console, -cpus and -hugepages (one node with 16 GiB); keeps the dump in $T/dump.orig.
mkroot_composed() {
	mkroot
	"$SIM_MKROOT_MODULES" "$R"
	"$SIM_MKROOT_CONSOLE" "$R"
	"$SIM_MKROOT_CPUS" "$R"
	"$SIM_MKROOT_HUGEPAGES" "$R" --nodes 1 --memtotal 16777216
	"$SIM_MKROOT" --dump "$R" >"$T/dump.orig"
}

# Runs a command with the simulated kernel in front of it.
sim() { env LD_PRELOAD="$SIM_SHIM" HOOKD_SIM_ROOT="$R" "$@"; }

# swrite REL VALUE: one open+write+close of VALUE to $R/REL, as the kernel would see it.
# (bash's own printf goes through stdio, whose writes an LD_PRELOAD shim cannot see.)
swrite() { sim "$SIM_WRITE" "$R/$1" "$2"; }

# driver BDF: the driver a device is bound to ("" when unbound).
driver() {
	local l
	l=$(readlink "$R/sys/bus/pci/devices/$1/driver" 2>/dev/null) || { echo ""; return 0; }
	basename "$l"
}
override() { cat "$R/sys/bus/pci/devices/$1/driver_override"; }

expect_eq() { # GOT WANT WHAT
	if [[ "$1" == "$2" ]]; then ok "$3"; else fail "$3: got '$1', want '$2'"; fi
}
expect_file() { if [[ -e "$R/$1" ]]; then ok "$1 exists"; else fail "$1 missing"; fi; }
expect_nofile() { if [[ ! -e "$R/$1" ]]; then ok "$1 absent"; else fail "$1 should not exist"; fi; }
expect_same_tree() { # WHAT
	"$SIM_MKROOT" --dump "$R" >"$T/dump.now"
	if diff -u "$T/dump.orig" "$T/dump.now" >"$T/dump.diff"; then
		ok "$1: tree identical to the original"
	else
		fail "$1: tree differs from the original:"
		head -40 "$T/dump.diff" >&2
	fi
}

# hookd ARGS...: the CLI under the simulator with $T/hookd.conf; sets RC, OUT, ERR (never exits).
hookd() {
	set +e
	sim "$HOOKD_BIN" --conf "$T/hookd.conf" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}
expect_rc() { # WANT WHAT: the exit code of the last hookd call
	if [[ "$RC" == "$1" ]]; then ok "$2: exit $1"; else fail "$2: exit $RC, want $1; stderr: $ERR; stdout: $OUT"; fi
}
expect_line() { # LINE: exactly this line is in the last hookd call's stdout ($T/out)
	if grep -qxF -- "$1" "$T/out"; then ok "line: $1"; else fail "no line '$1' in:"$'\n'"$OUT"; fi
}
expect_in() { # HAYSTACK NEEDLE WHAT
	if [[ "$1" == *"$2"* ]]; then ok "$3"; else fail "$3: '$2' not in: $1"; fi
}

# domain_xml NAME UUID: a minimal domain XML (1 GiB, 2 vCPUs, no devices) on stdout.
domain_xml() {
	cat <<-EOX
		<domain type='kvm'>
		  <name>$1</name>
		  <uuid>$2</uuid>
		  <memory unit='KiB'>1048576</memory>
		  <vcpu placement='static'>2</vcpu>
		  <os><type arch='x86_64' machine='q35'>hvm</type></os>
		</domain>
	EOX
}
