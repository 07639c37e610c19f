#!/bin/bash
# hookd's [exec] action: user commands per phase, no shell, bounded: test_exec.sh CASE.
# Test commands live in $T/bin (first in PATH); `rec` appends "VM|PHASE|GPU driver now|[arg]..." to
# $T/exec.log and says hello on its stdout and stderr.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${HOOKD_HOOK:?}"
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a01
GPU=0000:01:00.0 HDA=0000:01:00.1
XPATH=$T/bin:$PATH

commands() {
	mkdir -p "$T/bin"
	cat >"$T/bin/rec" <<-EOF
		#!/bin/bash
		drv=\$(readlink "$R/sys/bus/pci/devices/$GPU/driver" || true)
		printf '%s|%s|%s|' "\${HOOKD_VM-}" "\${HOOKD_PHASE-}" "\${drv##*/}" >>"$T/exec.log"
		printf '[%s]' "\$@" >>"$T/exec.log"
		echo >>"$T/exec.log"
		echo "rec says hello on stdout"
		echo "rec says hello on stderr" >&2
	EOF
	cat >"$T/bin/fail3" <<-'EOF'
		#!/bin/bash
		echo "on stdout, not in the message"
		echo "first complaint" >&2
		echo "disk on fire" >&2
		exit 3
	EOF
	cat >"$T/bin/hang" <<-EOF
		#!/bin/bash
		sleep 1000 &
		echo \$! >"$T/bg.pid"
		echo \$\$ >"$T/fg.pid"
		exec sleep 1000
	EOF
	chmod 0755 "$T/bin/rec" "$T/bin/fail3" "$T/bin/hang"
}

# setup INI_TEXT [LOG]: fresh root, hookd.conf (log none or stderr), win11.ini, domain XML with the GPU.
setup() {
	mkroot
	commands
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 5\nlog = %s\n' "$R" "$T/hooks.d" "$T/state" \
		"${2:-none}" >"$T/hookd.conf"
	printf '%b' "$1" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	cat >"$T/win11.xml" <<-EOX
		<domain type='kvm'><name>win11</name><uuid>$UUID</uuid><memory unit='GiB'>4</memory><vcpu>2</vcpu>
		<devices><hostdev mode='subsystem' type='pci' managed='yes'><source>
		<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices></domain>
	EOX
}

# hookd ARGS...: the CLI under the simulator with $T/bin first in PATH; sets RC, OUT, ERR.
hookd() {
	set +e
	sim env PATH="$XPATH" "$HOOKD_BIN" --conf "$T/hookd.conf" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}
run() { hookd run win11 "$1" --xml "$T/win11.xml"; }
execlog() { cat "$T/exec.log" 2>/dev/null || true; }

expect_nojournal() {
	if [[ ! -e "$T/state/$UUID.journal" ]]; then ok "journal gone"; else fail "journal still present"; fi
}
# dead PID: gone, or a zombie waiting for its reaper (PID 1 here reaps late), within 3 s.
dead() {
	local i state
	for ((i = 0; i < 300; i++)); do
		[[ -e /proc/$1 ]] || return 0
		state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 0
		[[ "$state" == Z || -z "$state" ]] && return 0
		sleep 0.01
	done
	return 1
}

case_runs_each_phase_with_vm_and_phase() {
	setup "[exec]\nprepare = rec p1 'two words' a;b \$HOME\nstarted = $T/bin/rec s1\nrelease = rec r1 \"it's\"\n"
	run prepare
	expect_rc 0 prepare
	expect_eq "$(execlog)" "win11|prepare|nvidia|[p1][two words][a;b][\$HOME]" "prepare command ran once, argv untouched"
	run started
	expect_rc 0 started
	run release
	expect_rc 0 release
	expect_eq "$(execlog)" "win11|prepare|nvidia|[p1][two words][a;b][\$HOME]
win11|started|nvidia|[s1]
win11|release|nvidia|[r1][it's]" "each phase ran its command with HOOKD_VM and HOOKD_PHASE"
	expect_nojournal
	expect_same_tree "after release"
}

case_environment_is_explicit() {
	setup "[exec]\nprepare = env\n" stderr
	HOME=/root run prepare
	expect_rc 0 prepare
	local names
	names=$(grep -o '\[exec\] prepare: /[^:]*/env: [A-Z_]*=' "$T/err" | sed 's/.*: //; s/=$//' | sort | tr '\n' ' ')
	expect_eq "$names" "HOME HOOKD_PHASE HOOKD_VM LC_ALL PATH " "the command sees exactly LC_ALL, PATH, HOME, HOOKD_VM, HOOKD_PHASE"
	expect_in "$ERR" "/env: HOOKD_VM=win11" "HOOKD_VM=win11"
	expect_in "$ERR" "/env: HOOKD_PHASE=prepare" "HOOKD_PHASE=prepare"
	expect_in "$ERR" "/env: LC_ALL=C" "LC_ALL=C"
	expect_in "$ERR" "/env: PATH=$XPATH" "hookd's PATH"
	[[ "$ERR" != *LD_PRELOAD* && "$ERR" != *HOOKD_SIM_ROOT* ]] && ok "nothing else inherited" || fail "inherited: $ERR"
	expect_eq "$OUT" "win11 prepare: ok" "the command's output is not on stdout"
}

case_failure_rolls_back_earlier_steps() {
	setup "[vfio]\ndevices = auto\n[exec]\nprepare = fail3 x\nrelease = rec undo\n"
	run prepare
	expect_rc 1 "prepare with a command exiting 3"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_in "$ERR" "[exec] prepare command \`$T/bin/fail3 x\` failed: exit code 3: disk on fire" "stderr: command, exit code, last stderr line"
	expect_in "$ERR" "rolled back" "stderr says it was rolled back"
	expect_eq "$(driver $GPU)" nvidia "$GPU back on nvidia"
	expect_eq "$(driver $HDA)" snd_hda_intel "$HDA back on snd_hda_intel"
	# the release command is the undo of this section: it runs in the rollback, before [vfio]'s undo
	expect_eq "$(execlog)" "win11|release|vfio-pci|[undo]" "release command ran during the rollback, before [vfio] was undone"
	expect_nojournal
	expect_same_tree "after the rollback"
}

# A repeatable section's failure names it as the INI does: [exec NAME], not just [exec].
case_failure_names_the_labelled_section() {
	setup "[exec]\nprepare = rec first\n[exec backup]\nprepare = fail3 x\nrelease = rec undo\n"
	run prepare
	expect_rc 1 "prepare with the labelled section's command exiting 3"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_in "$ERR" "[exec backup] prepare command \`$T/bin/fail3 x\` failed: exit code 3: disk on fire" "stderr names [exec backup]"
	expect_in "$ERR" "rolled back" "stderr says it was rolled back"
	expect_nojournal
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "1. [exec] run" "the plan names the unlabelled section [exec]"
	expect_in "$OUT" "3. [exec backup] run" "the plan names the labelled one [exec backup], as the INI does"
}

case_release_runs_in_reverse_section_order() {
	setup "[exec]\nrelease = rec undo\n[vfio]\ndevices = auto\n"
	run prepare
	expect_rc 0 prepare
	expect_eq "$(execlog)" "" "nothing runs at prepare without prepare ="
	hookd plan win11 --phase release
	expect_in "$OUT" "1. [vfio]" "release plan undoes [vfio] first"
	expect_in "$OUT" "[exec] undo on-release release" "release plan lists the [exec] command"
	run release
	expect_rc 0 release
	expect_eq "$(execlog)" "win11|release|nvidia|[undo]" "release command ran after [vfio] (above it in the INI) was undone"
	expect_nojournal
	expect_same_tree "after release"
}

case_timeout_kills_process_group() {
	setup "[exec]\ntimeout = 1\nprepare = hang\nrelease = rec undo\n"
	local start=$SECONDS took
	run prepare
	took=$((SECONDS - start))
	expect_rc 1 "prepare with a command that hangs"
	((took <= 4)) && ok "gave up after ${took}s (timeout 1s)" || fail "took ${took}s for a 1s timeout"
	expect_in "$ERR" "[exec] prepare command \`$T/bin/hang\` failed: timed out after 1000 ms (killed with its process group)" "stderr says it timed out"
	dead "$(cat "$T/fg.pid")" && ok "the command is dead" || fail "the command still runs"
	dead "$(cat "$T/bg.pid")" && ok "what it started in its process group is dead" || fail "its background child still runs"
	expect_eq "$(execlog)" "win11|release|nvidia|[undo]" "release command ran in the rollback"
	expect_nojournal
}

case_plan_says_when_commands_run() {
	setup "[exec]\ntimeout = 7\nprepare = rec p1 'two words'\nstarted = rec s1\nrelease = rec r1 \"it's\"\n"
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "1. [exec] on release run \`$T/bin/rec r1 'it'\"'\"'s'\` (HOOKD_PHASE=release, up to 7000 ms): it runs when this step is undone, in reverse section order, also during a rollback if this section's prepare command or a later step fails" "plan: when the release command runs"
	expect_in "$OUT" "2. [exec] run \`$T/bin/rec p1 'two words'\` (HOOKD_PHASE=prepare, up to 7000 ms; a non-zero exit or the timeout fails the prepare)" "plan: the prepare command"
	hookd plan win11 --xml "$T/win11.xml" --phase started
	expect_in "$OUT" "[exec] run \`$T/bin/rec s1\` (HOOKD_PHASE=started" "started plan: the started command"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_in "$OUT" "\"op\": \"on-release\", \"target\": \"release\", \"value\": \"timeout=7000ms $T/bin/rec r1 'it'\\\"'\\\"'s'\"" "JSON: the journaled command"
	expect_eq "$(execlog)" "" "plan ran nothing"
	[[ ! -e "$T/state/$UUID.journal" ]] && ok "plan wrote no journal" || fail "plan wrote a journal"
}

case_bad_values_name_file_and_line() {
	setup "[exec]\nprepare = rec\n"
	while IFS='|' read -r ini want; do
		printf '%b' "$ini" >"$T/hooks.d/win11.ini"
		hookd check win11
		expect_rc 2 "check refuses: $want"
		expect_in "$ERR" "$want" "message for $want"
	done <<-'EOF'
		[exec]\nprepare = ./x\n|win11.ini:2: [exec] prepare: './x': give an absolute path, or a bare name found in PATH
		[exec]\nrelease = bin/x\n|win11.ini:2: [exec] release: 'bin/x': give an absolute path
		[exec]\nstarted = x 'open\n|win11.ini:2: [exec] started: unterminated ' quote
		[exec]\nprepare = ''\n|win11.ini:2: [exec] prepare: expected a command, got an empty program name
		[exec]\nprepare = \n|win11.ini:2: [exec] prepare: expected a command (a program
		[exec]\nprepare = x\ntimeout = 0\n|win11.ini:3: [exec] timeout: expected whole seconds from 1 to 3600, got '0'
		[exec]\nprepare = x\ntimeout = 1.5\n|win11.ini:3: [exec] timeout: expected whole seconds
		[exec]\nprepare = x\nstopped = y\n|win11.ini:3: unknown key 'stopped' in [exec]
		\n\n[exec]\n|win11.ini:3: [exec]: expected at least one of prepare, started, release
	EOF
	printf '[exec]\nprepare = rec\nrelease = no-such-command-hookd\n' >"$T/hooks.d/win11.ini"
	run prepare
	expect_rc 1 "prepare with a release command not in PATH"
	expect_in "$ERR" "win11.ini:1): release: 'no-such-command-hookd' not found in PATH" "the missing command is named with file:line"
	expect_eq "$(execlog)" "" "nothing ran: the plan failed first"
}

# libvirt gives the hook the domain XML on stdin; every [exec] command gets it too, on each phase.
case_commands_read_domain_xml_on_stdin() {
	setup "[exec]\nprepare = $T/bin/xmlin p\nstarted = $T/bin/xmlin s\nrelease = $T/bin/xmlin r\n"
	printf '#!/bin/bash\nprintf "%%s %%s|" "$1" "$(grep -o "<uuid>[^<]*" | cut -c7-)" >>%s/exec.log\n' "$T" >"$T/bin/xmlin"
	chmod 0755 "$T/bin/xmlin"
	for p in prepare started; do run $p; expect_rc 0 $p; done
	set +e
	sim env PATH="$XPATH" HOOKD_CONF="$T/hookd.conf" "$HOOKD_HOOK" win11 release end - <"$T/win11.xml" >/dev/null 2>&1
	set -e
	expect_eq "$(execlog)" "p $UUID|s $UUID|r $UUID|" "prepare, started and release each read the domain XML"
	run prepare
	hookd restore win11
	expect_rc 0 "restore without XML"
	expect_in "$(execlog)" "|p $UUID|r |" "restore has no XML: the release command reads an empty stdin"
}

# An executable without #! (a script written for bash's ENOEXEC fallback, or an empty `touch`ed
# placeholder) runs through /bin/sh, as execvp does, and the plan says so; check refuses what cannot run.
case_file_without_shebang_runs_by_shell() {
	setup "[exec]\nprepare = $T/bin/noshebang p\nrelease = $T/bin/empty\n"
	printf '# debugging\necho "noshebang $1" >>%s/exec.log\n' "$T" >"$T/bin/noshebang"
	: >"$T/bin/empty"
	chmod 0755 "$T/bin/noshebang" "$T/bin/empty"
	hookd check win11
	expect_rc 0 "check accepts files without #!"
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "run \`/bin/sh $T/bin/noshebang p\` (no #! line: run by /bin/sh" "the plan names the interpreter"
	run prepare
	expect_rc 0 "prepare runs a script without #!"
	run release
	expect_rc 0 "release runs an empty placeholder"
	expect_eq "$(execlog)" "noshebang p" "the script ran once"
	expect_nojournal
}

case_check_refuses_what_will_not_run() {
	setup "[exec]\nprepare = rec\n"
	printf '#!/bin/no-such-shell\n' >"$T/bin/badint"
	printf '#!/bin/bash\r\necho\r\n' >"$T/bin/dos"
	printf '#!/bin/sh\n' >"$T/bin/gw" >"$T/bin/noexec"
	chmod 0755 "$T/bin/badint" "$T/bin/dos"; chmod 0775 "$T/bin/gw"; chmod 0644 "$T/bin/noexec"
	mkdir -m 0777 "$T/open"; printf '#!/bin/sh\n' >"$T/open/ok"; chmod 0755 "$T/open/ok"   # a file anyone could rename another over
	while IFS='|' read -r ini want; do
		printf '%b' "$ini" >"$T/hooks.d/win11.ini"
		hookd check win11
		expect_rc 2 "check refuses: $want"
		expect_in "$ERR" "$want" "message for $want"
	done <<-EOF
		[exec]\nprepare = $T/qemu.d/gone.sh x\n|win11.ini:1: [exec]: prepare: '$T/qemu.d/gone.sh': No such file
		[exec]\nrelease = $T/bin/badint\n|release: '$T/bin/badint': its #! line names '/bin/no-such-shell', which is not an executable file
		[exec]\nprepare = $T/bin/dos\n|its #! line ends in a carriage return (DOS line ends): dos2unix it
		[exec]\nprepare = $T/bin/gw\n|refusing a file writable by group or others
		[exec]\nprepare = $T/bin/noexec\n|is not executable
		[exec]\nprepare = $T/open/ok\n|prepare: $T/open/ok: refusing it: directory $T/open can be changed by a user other than root (chown root, chmod go-w)
	EOF
}

# Through the hook executable as libvirtd runs it: the commands' output never reaches the hook's stdout.
case_hook_never_writes_stdout() {
	setup "[exec]\nprepare = rec p\nstarted = rec s\nrelease = rec r\n" stderr
	local op rc
	for op in "prepare begin -" "start begin -" "started begin -" "stopped end -" "release end -"; do
		rc=0
		sim env PATH="$XPATH" HOOKD_CONF="$T/hookd.conf" "$HOOKD_HOOK" win11 $op <"$T/win11.xml" \
			>"$T/stdout" 2>"$T/stderr" || rc=$?
		expect_eq "$rc" 0 "hook $op"
		expect_eq "$(wc -c <"$T/stdout")" 0 "no stdout for '$op'"
		# the hook's stderr is what virsh shows: nothing on success (its log goes to syslog)
		expect_eq "$(wc -c <"$T/stderr")" 0 "no stderr from the hook for '$op'"
	done
	expect_eq "$(execlog | cut -d'|' -f1,2)" "win11|prepare
win11|started
win11|release" "the three commands ran"
	printf '[exec]\nprepare = fail3\n' >"$T/hooks.d/win11.ini"
	rc=0
	sim env PATH="$XPATH" HOOKD_CONF="$T/hookd.conf" "$HOOKD_HOOK" win11 prepare begin - <"$T/win11.xml" \
		>"$T/stdout" 2>"$T/stderr" || rc=$?
	expect_eq "$rc" 1 "hook prepare with a failing command"
	expect_eq "$(wc -c <"$T/stdout")" 0 "no stdout from a failing command either"
	expect_eq "$(wc -l <"$T/stderr")" 1 "one line on the hook's stderr"
	expect_in "$(cat "$T/stderr")" "exit code 3: disk on fire" "that line is the failure"
	# the CLI honours log = stderr: there the commands' output is in the log
	printf '[exec]\nprepare = rec p\n' >"$T/hooks.d/win11.ini"
	sim env PATH="$XPATH" "$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" \
		>"$T/stdout" 2>"$T/stderr" || true
	grep -q "rec says hello on stdout" "$T/stderr" && ok "hookd run logs the command's stdout on stderr" \
		|| fail "command output not in the log: $(cat "$T/stderr")"
}

"case_$1"
finish
