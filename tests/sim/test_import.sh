#!/bin/bash
# hookd import: a qemu.d/<vm>/<op>/<subop>/* tree becomes an INI whose [exec] steps run the same
# scripts, with the same arguments, in the same order as the common bash dispatcher did.
source "$SIM_LIB"
case_name=$1
mkroot
mkdir -p "$T/hooks.d"
cat >"$T/hookd.conf" <<CONF
root = $R
hooks_dir = $T/hooks.d
state_dir = $T/state
timeout = 5
log = none
CONF
chmod 0644 "$T/hookd.conf"
Q=$T/qemu.d
script() { # PATH [exit code]
	mkdir -p "$(dirname "$1")"
	printf '#!/bin/sh\necho "$(basename "$0") $*" >>%s/calls\nexit %s\n' "$T" "${2:-0}" >"$1"
	chmod 0755 "$1"
}
script "$Q/win11/prepare/begin/10-stop-dm.sh"
script "$Q/win11/prepare/begin/20-bind-vfio.sh"
script "$Q/win11/started/begin/50-pin.sh"
script "$Q/win11/release/end/10-unbind.sh"
script "$Q/win11/release/end/20-start-dm.sh"
script "$Q/win11/release/end/30-odd:name.sh" # ':' may not stand in a section name: the label maps it
script "$Q/win11/stopped/end/99-not-imported.sh"
printf 'notes\n' >"$Q/win11/prepare/begin/README" # not executable: the dispatcher skips it too
echo "<domain><name>win11</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid></domain>" >"$T/win11.xml"
H() { sim "$HOOKD_BIN" --conf "$T/hookd.conf" "$@"; }
# What the bash dispatcher runs for one hook call: every executable of qemu.d/VM/OP/SUBOP, in glob order.
dispatch() { for f in "$Q/$1/$2/$3"/*; do if [ -f "$f" ] && [ -x "$f" ]; then "$f" "$1" "$2" "$3" - || true; fi; done; }

case "$case_name" in
same_scripts_same_order)
	rc=0; H import "$Q" >"$T/out" 2>"$T/err" || rc=$?
	expect_eq "$rc" 0 "import exit code ($(cat "$T/err"))"
	grep -q "stopped/end: not imported" "$T/err" && ok "skipped point is named" || fail "no warning: $(cat "$T/err")"
	rc=0; H check win11 >/dev/null || rc=$?
	expect_eq "$rc" 0 "the imported INI passes hookd check"
	( dispatch win11 prepare begin; dispatch win11 started begin; dispatch win11 release end )
	mv "$T/calls" "$T/expected"
	for p in prepare started release; do H run win11 $p --xml "$T/win11.xml" >/dev/null; done
	if diff -u "$T/expected" "$T/calls"; then ok "same scripts, arguments and order:$(tr '\n' '|' <"$T/calls")"
	else fail "hookd ran them differently"; fi
	[[ ! -e "$T/state/4dea22b3-1d52-d8f3-2516-782e98ab3fa0.journal" ]] && ok "journal gone" || fail "journal left"
	;;
failed_prepare_runs_release_scripts)
	script "$Q/win11/prepare/begin/20-bind-vfio.sh" 1
	H import "$Q" >/dev/null 2>&1
	rc=0; H run win11 prepare --xml "$T/win11.xml" >/dev/null 2>"$T/err" || rc=$?
	expect_eq "$rc" 1 "a failing script fails the prepare"
	grep -q "20-bind-vfio.sh" "$T/err" && ok "the message names the script" || fail "$(cat "$T/err")"
	# libvirt answers a failed start with release end: the dispatcher ran the release scripts then
	mv "$T/calls" "$T/by-hookd"
	( dispatch win11 prepare begin; dispatch win11 release end ) >/dev/null 2>&1
	expect_eq "$(tr '\n' '|' <"$T/by-hookd")" "$(tr '\n' '|' <"$T/calls")" \
		"rollback ran what the dispatcher would have"
	;;
refuses_to_overwrite)
	printf '[vfio]\ndevices = auto\n' >"$T/hooks.d/win11.ini"; chmod 0644 "$T/hooks.d/win11.ini"
	rc=0; H import "$Q" >/dev/null 2>"$T/err" || rc=$?
	expect_eq "$rc" 2 "existing INI refused"
	expect_eq "$(head -1 "$T/hooks.d/win11.ini")" "[vfio]" "existing INI untouched"
	rc=0; H import "$Q" --stdout >"$T/out" 2>/dev/null || rc=$?
	expect_eq "$rc" 0 "--stdout prints instead"
	grep -q "^\[exec prepare/begin/10-stop-dm.sh\]" "$T/out" && ok "sections printed" || fail "$(cat "$T/out")"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
