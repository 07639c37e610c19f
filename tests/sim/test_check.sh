#!/bin/bash
# `hookd check` names the file and line of a configuration error.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}"
mkroot
mkdir -p "$T/hooks.d" "$T/state"
printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
printf '[vfio]\ndevices = auto\nbogus = 1\ncompanions = yes\n' >"$T/hooks.d/win11.ini"
chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"

check() {
	set +e
	sim "$HOOKD_BIN" --conf "$T/hookd.conf" check "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
}
check win11
expect_eq "$RC" 2 "check of a bad INI exits 2"
[[ "$ERR" == *"win11.ini:3"* ]] && ok "names win11.ini:3" || fail "stderr lacks win11.ini:3: $ERR"
[[ "$ERR" == *bogus* ]] && ok "names the key" || fail "stderr lacks the key 'bogus': $ERR"
check
expect_eq "$RC" 2 "check of all VMs exits 2"
[[ "$ERR" == *"win11.ini:3"* ]] && ok "check without a VM also finds it" || fail "stderr lacks win11.ini:3: $ERR"

printf '[vfio]\ndevices = auto\ncompanions = yes\n' >"$T/hooks.d/win11.ini"
check win11
expect_eq "$RC" 0 "a good INI checks clean (stderr: $ERR)"

printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeotu = 2\n' "$R" "$T/hooks.d" "$T/state" >"$T/hookd.conf"
check
expect_eq "$RC" 2 "check of a bad hookd.conf exits 2"
[[ "$ERR" == *"hookd.conf:4"* ]] && ok "names hookd.conf:4" || fail "stderr lacks hookd.conf:4: $ERR"
expect_same_tree "check touches nothing"
finish
