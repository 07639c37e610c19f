#!/bin/bash
# package_bash_completion: the installed completion (data/bash-completion-hookd) completes
# hookd's commands and options, VM names from hooks_dir and from virsh, and phases.
#   completion.sh COMPLETION_FILE HOOKD_BINARY
set -uo pipefail
COMP=$1 HOOKD=$2
W=$(mktemp -d /tmp/hookd-completion.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
# shellcheck disable=SC1090
source "$COMP" || { echo "FAIL cannot source $COMP"; exit 1; }

# complete LINE -> sorted candidates, one a line (the word under the cursor is the last one)
complete_line() {
	local line=$1
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line COMP_POINT=${#line}
	COMPREPLY=()
	_hookd hookd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
expect() { # LINE EXPECTED-WORDS...
	local line=$1 got want; shift
	got=$(complete_line "$line" | tr '\n' ' ')
	want=$( (($#)) && printf '%s\n' "$@" | sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then echo "PASS '$line' -> $got"; pass=$((pass + 1))
	else echo "FAIL '$line' -> '$got', want '$want'"; fail=$((fail + 1)); fi
}
contains() { # LINE WORD
	if complete_line "$1" | grep -qx -- "$2"; then echo "PASS '$1' offers $2"; pass=$((pass + 1))
	else echo "FAIL '$1' does not offer $2"; fail=$((fail + 1)); fi
}

mkdir -p "$W/hooks.d" "$W/bin"
printf 'hooks_dir = %s  ; per-VM files\n' "$W/hooks.d" >"$W/hookd.conf"
: >"$W/hooks.d/win11.ini"; : >"$W/hooks.d/gaming.ini"; : >"$W/hooks.d/notes.txt"
cat >"$W/bin/virsh" <<'VIRSH'
#!/bin/sh
# what the completion must ask: a read-only connection to the system daemon
[ "$*" = "-r -c qemu:///system list --all --name" ] || exit 1
printf 'libvirt-only\nwin11\n\n'
VIRSH
chmod +x "$W/bin/virsh"
C="hookd --conf $W/hookd.conf"

PATH=$W/bin:/usr/bin:/bin
unset LIBVIRT_DEFAULT_URI
expect "hookd " check inspect plan run status restore devices install import doctor new edit
expect "hookd pl" plan
expect "hookd --co" --conf
expect "$C plan " gaming libvirt-only win11
expect "$C plan g" gaming
expect "$C check win11 " gaming libvirt-only win11
expect "$C -v run win11 " prepare started release
expect "$C run win11 prepare " 
expect "$C plan win11 --phase " prepare started release
expect "$C plan win11 --phase rel" release
expect "$C plan --" --xml --phase --json --help
expect "hookd status --" --json --help
expect "hookd doctor --" --xml --json --help
expect "hookd new --" --xml --stdout --help
expect "$C new win11 " 
expect "$C edit " gaming libvirt-only win11
expect "hookd edit --" --help
expect "$C doctor win11 " gaming libvirt-only win11
expect "hookd install --" --chain --reload --hooks-dir --hook --help
expect "hookd install --hooks-dir /nonexistent-dir-x" 
expect "hookd restore x " 
PATH=/usr/bin:/bin
if ! command -v virsh >/dev/null; then
	expect "$C restore " gaming win11 # no virsh: INI names only
fi
# hooks_dir default when hookd.conf has none
printf '; nothing\n' >"$W/empty.conf"
out=$(_hookd_hooks_dir_test() { COMP_WORDS=(hookd --conf "$W/empty.conf" plan ""); _hookd_hooks_dir; }; _hookd_hooks_dir_test)
if [ "$out" = /etc/hookd/hooks.d ]; then echo "PASS default hooks_dir"; pass=$((pass + 1))
else echo "FAIL default hooks_dir: $out"; fail=$((fail + 1)); fi

# Everything hookd --help lists is completed: commands, global options, command options.
help=$("$HOOKD" --help)
cmds=$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "FAIL no commands found in hookd --help"; fail=$((fail + 1)); }
for c in $cmds; do contains "hookd " "$c"; done
for o in $(printf '%s\n' "$help" | sed -n '/^Options:/,$p' | grep '^  -' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	contains "hookd -" "$o"
done
for c in $cmds; do
	for o in $(printf '%s\n' "$help" | grep -E "^  $c( |$)" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		contains "hookd $c -" "$o"
	done
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
