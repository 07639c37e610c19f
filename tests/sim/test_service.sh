#!/bin/bash
# hookd's [service] action with a FAKE systemctl first in PATH: test_service.sh CASE.
# The fake records every call in $T/systemd/calls and keeps unit state in $T/systemd/units/<unit>.active;
# fault files next to it: <unit>.stopfail (stop exits 1), <unit>.hang (stop never returns),
# <unit>.comesback (stop exits 0 but the unit stays active). This machine's systemctl never runs.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}"
UUID=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a01
UUID2=6f1b4c52-4c1e-4c55-9d40-0d2d1b1b0a02
S=$T/systemd
FAKE_PATH=$T/bin:$PATH

fake_systemctl() {
	mkdir -p "$T/bin" "$S/units"
	cat >"$T/bin/systemctl" <<-EOF
		#!/bin/bash
		# fake systemctl (hookd sim test)
		S=$S
		printf '%s\n' "\$*" >>"\$S/calls"
		printf 'LC_ALL=%s LD_PRELOAD=%s HOOKD_SIM_ROOT=%s\n' "\${LC_ALL-}" "\${LD_PRELOAD-}" "\${HOOKD_SIM_ROOT-}" >>"\$S/env"
		verb=\$1; shift
		[[ \$verb == is-active && \${1-} == --quiet ]] && shift
		u=\$1
		case \$verb in
		is-active) [[ -e \$S/units/\$u.active ]] ;;
		stop)
			[[ -e \$S/units/\$u.hang ]] && exec sleep 1000
			if [[ -e \$S/units/\$u.stopfail ]]; then
				echo "Job for \$u failed because the control process exited with error code." >&2
				echo "See \"systemctl status \$u\" and \"journalctl -xeu \$u\" for details." >&2
				exit 1
			fi
			[[ -e \$S/units/\$u.comesback ]] || rm -f "\$S/units/\$u.active" ;;
		start) touch "\$S/units/\$u.active" ;;
		*) echo "fake systemctl: unexpected call: \$verb \$*" >&2; exit 2 ;;
		esac
	EOF
	chmod 0755 "$T/bin/systemctl"
	# Never go on if the real systemctl would be the one found.
	if [[ "$(PATH=$FAKE_PATH command -v systemctl)" != "$T/bin/systemctl" ]]; then
		echo "FATAL: the fake systemctl is not first in PATH" >&2
		exit 1
	fi
}

# setup "STOP VALUE" [ACTIVE UNITS...]: fresh root, hookd.conf, win11.ini, domain XMLs, fake systemd.
setup() {
	local stop=$1 u
	shift
	mkroot
	fake_systemctl
	mkdir -p "$T/hooks.d" "$T/state"
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 1\nlog = none\n' "$R" "$T/hooks.d" \
		"$T/state" >"$T/hookd.conf"
	printf '[service]\nstop = %s\n' "$stop" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hookd.conf" "$T/hooks.d/win11.ini"
	for u in "$@"; do touch "$S/units/$u.active"; done
	for vm in win11:$UUID other:$UUID2; do
		printf "<domain type='kvm'><name>%s</name><uuid>%s</uuid><memory unit='GiB'>1</memory><vcpu>1</vcpu><devices/></domain>\n" \
			"${vm%%:*}" "${vm#*:}" >"$T/${vm%%:*}.xml"
	done
}

# hookd ARGS...: the CLI under the simulator with the fake first in PATH; sets RC, OUT, ERR.
hookd() {
	set +e
	sim env PATH="$FAKE_PATH" "$HOOKD_BIN" --conf "$T/hookd.conf" "$@" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	OUT=$(cat "$T/out") ERR=$(cat "$T/err")
}
run() { hookd run "${2:-win11}" "$1" --xml "$T/${2:-win11}.xml"; }
calls() { cat "$S/calls" 2>/dev/null || true; }
reset_calls() { rm -f "$S/calls"; }
active_units() { (cd "$S/units" && ls -- *.active 2>/dev/null | sed 's/\.active$//' | tr '\n' ' ') || true; }

expect_nojournal() {
	if [[ ! -e "$T/state/$UUID.journal" ]]; then ok "journal gone"; else fail "journal still present"; fi
	if [[ -z "$(ls -A "$T/state/shared" 2>/dev/null)" ]]; then ok "no shared baseline left"; else
		fail "baseline left: $(ls "$T/state/shared")"; fi
}

case_stops_running_units_and_starts_them_again() {
	setup "a.service b.service, c.service" a.service c.service
	run prepare
	expect_rc 0 prepare
	expect_eq "$(calls)" "is-active --quiet a.service
stop a.service
is-active --quiet a.service
is-active --quiet b.service
is-active --quiet c.service
stop c.service
is-active --quiet c.service" "prepare: only the running units are stopped, in order"
	expect_eq "$(active_units)" "" "no unit active while the VM runs"
	hookd plan win11 --phase release
	expect_in "$OUT" "undo stop c.service (set 'inactive'; journal saved 'active')" "journal records c.service as running"
	expect_in "$OUT" "undo stop b.service (set 'inactive'; journal saved 'inactive')" "journal records b.service as not running"
	reset_calls
	run release
	expect_rc 0 release
	expect_eq "$(calls)" "start c.service
start a.service" "release starts only the units that ran, newest first"
	expect_eq "$(active_units)" "a.service c.service " "a and c active again, b still not"
	expect_nojournal
	expect_eq "$(sort -u "$S/env")" "LC_ALL=C LD_PRELOAD= HOOKD_SIM_ROOT=" "systemctl's environment is hookd's own (LC_ALL=C, nothing inherited)"
	expect_same_tree "after release"
}

case_plan_shows_commands_and_touches_nothing() {
	setup "a.service b.service" a.service
	hookd plan win11 --xml "$T/win11.xml"
	expect_rc 0 plan
	expect_in "$OUT" "[service] a.service is running: \`$T/bin/systemctl stop a.service\` (up to 1000 ms); on release \`$T/bin/systemctl start a.service\`" "plan shows the stop and start commands"
	expect_in "$OUT" "[service] b.service is not running: nothing to stop, and not started on release" "plan says b is left alone"
	expect_eq "$(calls)" "is-active --quiet a.service
is-active --quiet b.service" "plan only asks"
	expect_eq "$(active_units)" "a.service " "plan stopped nothing"
	[[ ! -e "$T/state/$UUID.journal" ]] && ok "plan wrote no journal" || fail "plan wrote a journal"
	hookd plan win11 --xml "$T/win11.xml" --json
	expect_in "$OUT" '"action": "service", "op": "stop", "target": "a.service", "value": "inactive"' "JSON plan"
}

case_unit_that_fails_to_stop_rolls_back() {
	setup "a.service b.service c.service" a.service b.service c.service
	touch "$S/units/b.service.stopfail"
	run prepare
	expect_rc 1 "prepare with a unit that fails to stop"
	expect_eq "$(wc -l <<<"$ERR")" 1 "one line on stderr"
	expect_in "$ERR" "[service] \`systemctl stop b.service\` failed: exit code 1: See \"systemctl status b.service\" and \"journalctl -xeu b.service\" for details." "stderr names the unit, the exit code and systemctl's last line"
	expect_in "$ERR" "rolled back" "stderr says it was rolled back"
	expect_in "$(calls)" "start a.service" "a.service, stopped before, is started again"
	[[ "$(calls)" != *"stop c.service"* ]] && ok "c.service after it was never stopped" || fail "c.service was stopped: $(calls)"
	expect_eq "$(active_units)" "a.service b.service c.service " "every unit runs again"
	expect_nojournal
}

case_stop_that_does_not_stick_fails() {
	setup "a.service b.service" a.service b.service
	touch "$S/units/b.service.comesback"
	run prepare
	expect_rc 1 "prepare with a unit that comes back"
	expect_in "$ERR" "b.service is active again after \`systemctl stop\`" "stderr says b came back"
	expect_eq "$(active_units)" "a.service b.service " "a.service started again by the rollback"
	expect_nojournal
}

case_stop_timeout_is_bounded() {
	setup "a.service b.service" a.service b.service
	touch "$S/units/b.service.hang"
	local start=$SECONDS took
	run prepare
	took=$((SECONDS - start))
	expect_rc 1 "prepare with a stop that hangs"
	((took <= 4)) && ok "gave up after ${took}s (timeout 1s)" || fail "took ${took}s for a 1s timeout"
	expect_in "$ERR" "\`systemctl stop b.service\` failed: timed out after 1000 ms (killed with its process group)" "stderr says it timed out"
	expect_in "$(active_units)" "a.service" "a.service started again by the rollback"
	expect_nojournal
}

case_bad_values_name_file_and_line() {
	setup "a.service"
	local bad
	while IFS='|' read -r ini want; do
		printf '%b' "$ini" >"$T/hooks.d/win11.ini"
		hookd check win11
		expect_rc 2 "check refuses: $want"
		expect_in "$ERR" "$want" "message for $want"
	done <<-'EOF'
		[service]\nstop = -now\n|win11.ini:2: [service] stop: '-now' is not a systemd unit name
		[service]\nstop = a.service;reboot\n|win11.ini:2: [service] stop: 'a.service;reboot' is not a systemd unit name
		[service]\nstop = a.service a.service\n|win11.ini:2: [service] stop: a.service is listed twice
		[service]\nstop = ,\n|win11.ini:2: [service] stop: expected one or more unit names
		[service]\nstop = a.service\nrestart = yes\n|win11.ini:3: unknown key 'restart' in [service]
		\n[service]\n|win11.ini:2: [service]: expected stop = UNIT...
	EOF
	expect_eq "$(calls)" "" "systemctl never ran"
}

case_refused_outside_the_simulator() {
	setup "a.service" a.service
	# root is the temp tree, not /, and nothing declares it simulated: systemd is this machine's.
	set +e
	env PATH="$FAKE_PATH" "$HOOKD_BIN" --conf "$T/hookd.conf" run win11 prepare --xml "$T/win11.xml" >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	expect_rc 1 "prepare under a root that is not /"
	expect_in "$ERR" "refusing to run systemctl with root = $R" "stderr explains the refusal"
	expect_eq "$(calls)" "" "no systemctl ran, not even the fake"
	expect_eq "$(active_units)" "a.service " "a.service untouched"
}

case_shared_unit_started_by_last_vm() {
	setup "a.service" a.service
	cp "$T/hooks.d/win11.ini" "$T/hooks.d/other.ini"
	local first second
	for order in "win11 other" "other win11"; do
		read -r first second <<<"$order"
		touch "$S/units/a.service.active"
		run prepare win11
		expect_rc 0 "win11 prepare"
		run prepare other
		expect_rc 0 "other prepare"
		expect_eq "$(active_units)" "" "a.service stopped while both run"
		reset_calls
		run release "$first"
		expect_rc 0 "$first release"
		expect_eq "$(active_units)" "" "a.service still stopped: $second still runs"
		[[ "$(calls)" != *start* ]] && ok "no start while $second holds it" || fail "started while held: $(calls)"
		run release "$second"
		expect_rc 0 "$second release"
		expect_eq "$(active_units)" "a.service " "a.service started by the last VM out ($second)"
		expect_eq "$(calls | grep -c start)" 1 "started once"
		expect_nojournal
		[[ ! -e "$T/state/$UUID2.journal" ]] && ok "other's journal gone" || fail "other's journal left"
	done
}

"case_$1"
finish
