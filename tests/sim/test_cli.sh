#!/bin/bash
# The CLI's usage contract: each command takes its own options; anything else is exit 2 with a message.
source "$SIM_LIB"
mkroot
printf 'root = %s\nstate_dir = %s/state\nhooks_dir = %s/hooks.d\nlog = none\n' "$R" "$T" "$T" >"$T/hookd.conf"
chmod 0644 "$T/hookd.conf"; mkdir -p "$T/hooks.d"
H() { "$HOOKD_BIN" --conf "$T/hookd.conf" "$@"; }
for bad in "check --json" "status --chain" "restore x --xml y" "devices --force" "run x prepare --json"; do
	rc=0; H $bad >"$T/out" 2>"$T/err" || rc=$?
	expect_eq "$rc" 2 "hookd $bad"
	opt=$(tr ' ' '\n' <<<"$bad" | grep -- '^--' | head -1)
	grep -q -- "$opt is not an option of this command" "$T/err" && ok "names $opt" || fail "$(cat "$T/err")"
done
rc=0; H status --json >"$T/out" 2>&1 || rc=$?
expect_eq "$rc" 0 "status --json still works"
expect_eq "$(cat "$T/out")" '{"vms": []}' "and prints the empty list"
rc=0; H frobnicate >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 2 "unknown command"
finish
