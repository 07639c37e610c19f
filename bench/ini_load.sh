#!/bin/bash
# INI loading cost against the number of sections (issue 8 item 10: duplicate detection was quadratic,
# 40,000 sections took ~4 s). Prints `hookd check` wall time for INI files of growing size, up to the
# 1 MiB a config file may hold. usage: ini_load.sh HOOKD
set -euo pipefail
hookd=$1
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
mkdir "$w/hooks.d"
printf 'hooks_dir = %s\nstate_dir = %s/state\nlog = none\n' "$w/hooks.d" "$w" >"$w/hookd.conf"
echo "INI load: hookd check of N [exec sN] sections"
for n in 1000 4000 16000 32000; do
	for ((i = 0; i < n; i++)); do printf '[exec s%d]\nprepare=/bin/true\n' "$i"; done >"$w/hooks.d/big.ini"
	printf '  %6d sections (%7d bytes): ' "$n" "$(stat -c %s "$w/hooks.d/big.ini")"
	TIMEFORMAT='%3R s wall, %3U s user, %3S s system'
	{ time "$hookd" --conf "$w/hookd.conf" check big >/dev/null; } 2>&1
done
