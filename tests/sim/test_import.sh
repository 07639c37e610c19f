#!/bin/bash
# hookd import: a qemu.d/<vm>/<op>/<subop>/* tree becomes an INI whose [exec] steps run hookd's copies of
# the same scripts, with the same arguments and stdin, as the bash dispatcher (qemu-dispatcher.sh, the
# tests' own emulation of it) ran them, and the originals move out of the dispatcher's reach.
source "$SIM_LIB"
case_name=$1
mkroot
H=$T/hooks # libvirt's hooks directory: the dispatcher as `qemu`, its tree beside it
Q=$H/qemu.d
mkdir -p "$T/hooks.d" "$Q"
install -m 0755 "$(dirname "$SIM_LIB")/qemu-dispatcher.sh" "$H/qemu"
conf() { # [chain]
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = %s\nlog = none\n' "$R" "$T/hooks.d" "$T/state" \
		"${TIMEOUT:-5}" >"$T/hookd.conf"
	[[ -z "${1-}" ]] || printf 'chain = %s\n' "$1" >>"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
}
conf
UUID=4dea22b3-1d52-d8f3-2516-782e98ab3fa0
echo "<domain><name>win11</name><uuid>$UUID</uuid></domain>" >"$T/win11.xml"
# stub PATH [exit code] [id] [first line]: logs "ID ARGV xml=1" (1: the domain XML was on its stdin).
stub() {
	mkdir -p "$(dirname "$1")"
	printf '%s\nx=$(grep -c "<uuid>%s</uuid>" || true)\necho "%s $* xml=$x" >>%s/calls\nexit %s\n' \
		"${4-#!/bin/sh}" "$UUID" "${3:-$(basename "$1")}" "$T" "${2:-0}" >"$1"
	chmod 0755 "$1"
}
H() { sim "$HOOKD_BIN" --conf "$T/hookd.conf" "$@"; }
# cycle HOOK: libvirt's calls for a start and a stop (release alone after a failed prepare); prints the
# prepare's exit status. The calls the scripts logged are in $T/calls.
cycle() {
	local rc=0 op
	rm -f "$T/calls"
	sim env HOOKD_CONF="$T/hookd.conf" "$1" win11 prepare begin - <"$T/win11.xml" >/dev/null 2>>"$T/cycle.err" || rc=$?
	if ((rc == 0)); then
		for op in "start begin" "started begin" "stopped end"; do
			sim env HOOKD_CONF="$T/hookd.conf" "$1" win11 $op - <"$T/win11.xml" >/dev/null 2>>"$T/cycle.err" || true
		done
	fi
	sim env HOOKD_CONF="$T/hookd.conf" "$1" win11 release end - <"$T/win11.xml" >/dev/null 2>>"$T/cycle.err" || true
	touch "$T/calls"
	echo "$rc"
}
# The calls as a set; without xml=: the dispatcher's scripts share one stdin, so only the first
# that reads it gets the XML, where hookd gives each its own copy (see same_scripts_same_argv).
sorted() { sed 's/ xml=[01]//' "$1" | sort | tr '\n' '|'; }
# same_as_dispatcher WHAT: the dispatcher's cycle (on a copy of the tree), then import and hookd's
# cycle: the same calls (as a set: the dispatcher's order is readdir's), once each, and the same outcome.
same_as_dispatcher() {
	local want got
	want=$(cycle "$H/qemu"); mv "$T/calls" "$T/calls.dispatcher"
	hookd import "$Q"
	expect_rc 0 "$1: import"
	IMPORT_ERR=$ERR
	hookd check
	expect_rc 0 "$1: hookd check accepts the imported INI"
	got=$(cycle "$HOOKD_HOOK")
	expect_eq "$got" "$want" "$1: the prepare's exit status"
	expect_eq "$(sorted "$T/calls")" "$(sorted "$T/calls.dispatcher")" "$1: the same scripts ran with the same argv and stdin"
}

case "$case_name" in
same_scripts_same_argv)
	stub "$Q/win11/prepare/begin/10-stop-dm.sh"
	stub "$Q/win11/prepare/begin/20-bind-vfio.sh"
	stub "$Q/win11/started/begin/50-pin.sh"
	stub "$Q/win11/release/end/10-unbind.sh"
	stub "$Q/win11/release/end/20-start-dm.sh"
	stub "$Q/win11/release/end/30-odd:name.sh"
	same_as_dispatcher "a numbered tree"
	expect_eq "$(grep -o '^[a-z0-9-]*\.sh win11 [a-z]* [a-z]*' "$T/calls" | tr '\n' '|')" \
		"10-stop-dm.sh win11 prepare begin|20-bind-vfio.sh win11 prepare begin|50-pin.sh win11 started begin|10-unbind.sh win11 release end|20-start-dm.sh win11 release end|" \
		"hookd ran them in name order"
	grep -q "30-odd:name.sh win11 release end - xml=1" "$T/calls" && ok "a ':' in a name" || fail "$(cat "$T/calls")"
	expect_eq "$(grep -c 'xml=1$' "$T/calls")" 6 "under hookd every script read the domain XML on its stdin"
	[[ ! -e "$T/state/$UUID.journal" ]] && ok "journal gone" || fail "journal left"
	;;
failed_prepare_runs_release_scripts)
	stub "$Q/win11/prepare/begin/10-stop-dm.sh"
	stub "$Q/win11/prepare/begin/20-bind-vfio.sh" 1
	stub "$Q/win11/release/end/10-unbind.sh"
	same_as_dispatcher "a failing prepare script"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_in "$ERR" "20-bind-vfio.sh" "the message names the script"
	;;
refuses_to_overwrite)
	stub "$Q/win11/prepare/begin/10-stop-dm.sh"
	printf '[vfio]\ndevices = auto\n' >"$T/hooks.d/win11.ini"; chmod 0644 "$T/hooks.d/win11.ini"
	hookd import "$Q"
	expect_rc 2 "existing INI refused"
	expect_eq "$(head -1 "$T/hooks.d/win11.ini")" "[vfio]" "existing INI untouched"
	[[ -x "$Q/win11/prepare/begin/10-stop-dm.sh" ]] && ok "the original stays" || fail "original moved"
	hookd import "$Q" --stdout
	expect_rc 0 "--stdout prints instead"
	expect_in "$OUT" "[exec prepare/begin/10-stop-dm.sh]" "sections printed"
	[[ -x "$Q/win11/prepare/begin/10-stop-dm.sh" && ! -e "$T/hooks.d/win11.d" ]] && ok "--stdout touches nothing" \
		|| fail "--stdout changed files"
	;;
# 1. Executables without #! run as the dispatcher's bash ran them.
scripts_without_shebang)
	stub "$Q/win11/prepare/begin/10-debug.sh" 0 "" "#debugging"
	stub "$Q/win11/prepare/begin/20-bash.sh" 0 "" "# uses bash: [[ ]]"
	sed -i '2i [[ -n "$BASH_VERSION" ]] || exit 9' "$Q/win11/prepare/begin/20-bash.sh"
	mkdir -p "$Q/win11/release/end"; touch "$Q/win11/release/end/00-placeholder.sh" # touch + chmod +x
	chmod +x "$Q/win11/release/end/00-placeholder.sh"
	stub "$Q/win11/release/end/10-unbind.sh"
	same_as_dispatcher "scripts without #!"
	expect_eq "$(head -1 "$T/hooks.d/win11.d/prepare/begin/10-debug.sh")" "#!/bin/bash" "the copy names bash"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "It has no #! line: the dispatcher's bash ran it as a bash script" "the INI says why"
	;;
# 2. Imported steps get a timeout that fits what the scripts do, and the INI says why.
timeouts_fit_the_scripts)
	TIMEOUT=1 conf
	stub "$Q/win11/prepare/begin/10-wait.sh"
	sed -i '2i sleep 2' "$Q/win11/prepare/begin/10-wait.sh"
	stub "$Q/win11/release/end/10-undo.sh"
	same_as_dispatcher "a script that sleeps longer than hookd.conf's timeout"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "timeout = 64: it sleeps 2 s in all (line 2: sleep 2)" "the INI says why"
	hookd plan win11 --xml "$T/win11.xml"
	expect_in "$OUT" "up to 64000 ms" "the plan shows the bound"
	expect_in "$OUT" "up to 60000 ms" "a script that does not sleep gets a minute"
	;;
# 3. One migration path: hookd runs its own root-owned copies, the originals leave the dispatcher's
# tree, so a chained dispatcher never runs a script twice; check verifies the copies.
chained_migration_runs_each_script_once)
	stub "$Q/win11/prepare/begin/10-stop-dm.sh"
	stub "$Q/win11/started/begin/10-pin.sh"
	stub "$Q/win11/release/end/10-start-dm.sh"
	stub "$Q/win11/stopped/end/10-log.sh" # hookd has no [exec] at stopped: it stays with the dispatcher
	want=$(cycle "$H/qemu"); mv "$T/calls" "$T/calls.dispatcher"
	mv "$H/qemu" "$H/qemu.before-hookd"; conf "$H/qemu.before-hookd" # as `hookd install --chain` leaves it
	hookd import "$Q"
	expect_rc 0 import
	expect_in "$ERR" "stopped/end: not imported" "the script at stopped/end is named"
	[[ ! -e "$Q/win11/prepare/begin/10-stop-dm.sh" && -x "$Q.imported/win11/prepare/begin/10-stop-dm.sh" ]] \
		&& ok "the original moved to qemu.d.imported" || fail "original not moved: $(find "$Q" "$Q.imported" 2>&1)"
	[[ -x "$Q/win11/stopped/end/10-log.sh" ]] && ok "what was not imported stays" || fail "stopped/end script moved"
	expect_eq "$(stat -c %U:%a "$T/hooks.d/win11.d/prepare/begin/10-stop-dm.sh")" "root:755" "the copy is root's, 0755"
	got=$(cycle "$HOOKD_HOOK")
	expect_eq "$got" "$want" "prepare exit status"
	expect_eq "$(sorted "$T/calls")" "$(sorted "$T/calls.dispatcher")" "hookd + chained dispatcher ran each script once"
	rm -rf "$Q.imported"
	hookd check win11
	expect_rc 0 "check: the INI does not depend on the original tree"
	chmod g+w "$T/hooks.d/win11.d/started/begin/10-pin.sh"
	hookd check win11
	expect_rc 2 "check refuses a group-writable copy"
	rm -rf "$T/hooks.d/win11.d"
	hookd check win11
	expect_rc 2 "check refuses an INI whose copies are gone"
	expect_in "$ERR" "win11.d/release/end/10-start-dm.sh': No such file" "and names the missing script"
	;;
# 4. The dispatcher's order is the directory's; hookd's is the names': import warns where they differ.
warns_when_names_say_no_order)
	stub "$Q/win11/prepare/begin/stop_dm.sh"
	stub "$Q/win11/prepare/begin/bind_vfio.sh"
	stub "$Q/win11/release/end/10-a.sh"
	stub "$Q/win11/release/end/20-b.sh"
	same_as_dispatcher "unnumbered scripts"
	expect_in "$IMPORT_ERR" "prepare/begin: 2 of its 2 scripts have names that do not start with a number, so they do not say an order" "warned"
	[[ "$IMPORT_ERR" != *"release/end: "*"do not say an order"* ]] && ok "numbered names: no warning" || fail "$IMPORT_ERR"
	expect_eq "$(head -2 "$T/calls" | cut -d' ' -f1 | tr '\n' ' ')" "bind_vfio.sh stop_dm.sh " "hookd runs them in name order"
	;;
# 5. qemu.d/VM/OP/SUBOP may itself be the script.
subop_that_is_a_file)
	stub "$Q/win11/prepare/begin"
	stub "$Q/win11/release/end/10-undo.sh"
	stub "$Q/win11/release/end/20-undo.sh"
	same_as_dispatcher "prepare/begin is the script"
	expect_in "$(cat "$T/hooks.d/win11.ini")" "[exec prepare/begin]" "imported as [exec prepare/begin]"
	;;
# 6. An empty VM directory is skipped, with a word; the others are imported, exit 0.
empty_vm_directory)
	mkdir -p "$Q/empty" "$Q/also-empty/prepare/begin"
	stub "$Q/win11/prepare/begin/10-a.sh"
	hookd import "$Q"
	expect_rc 0 "import with empty VM directories"
	expect_in "$ERR" "empty: no scripts under prepare/begin, started/begin or release/end: skipped" "the empty one is named"
	[[ -e "$T/hooks.d/win11.ini" && ! -e "$T/hooks.d/empty.ini" ]] && ok "win11.ini written, no empty.ini" || fail "$(ls "$T/hooks.d")"
	hookd import "$Q" --vm empty
	expect_rc 2 "--vm naming only an empty directory: nothing imported"
	;;
# 7. Names the INI cannot hold as they are still give an INI that check accepts and that runs them.
hostile_names_round_trip)
	long=$(printf 'x%.0s' {1..200})
	stub "$Q/win11/prepare/begin/10 ;semicolon.sh" 0 id-semicolon
	stub "$Q/win11/prepare/begin/20-a:b.sh" 0 id-colon
	stub "$Q/win11/prepare/begin/20-a-b.sh" 0 id-dash
	stub "$Q/win11/prepare/begin/30-quotes'\"both.sh" 0 id-quotes
	stub "$Q/win11/prepare/begin/40-new
line.sh" 0 id-newline
	stub "$Q/win11/prepare/begin/50-$long.sh" 0 id-long
	stub "$Q/win11/prepare/begin/60-tab	]#[x.sh" 0 id-tab
	stub "$Q/win11/release/end/10 ;undo.sh" 0 id-undo
	same_as_dispatcher "hostile names"
	expect_eq "$(grep -c '^\[exec' "$T/hooks.d/win11.ini")" 8 "eight sections"
	;;
# 9. What is not imported is said, with the reason.
says_what_was_skipped)
	stub "$Q/win11/prepare/begin/10-start.sh"
	printf 'GPU=from-helper\n' >"$Q/win11/prepare/begin/00-vars.sh"; chmod 0755 "$Q/win11/prepare/begin/00-vars.sh"
	sed -i '2i . "$(dirname "$0")/00-vars.sh"' "$Q/win11/prepare/begin/10-start.sh"
	sed -i 's/xml=\$x/xml=$x gpu=$GPU/' "$Q/win11/prepare/begin/10-start.sh"
	printf '#!/bin/sh\nexit 0\n' >"$Q/win11/prepare/begin/20-gpu.sh"; chmod 0644 "$Q/win11/prepare/begin/20-gpu.sh"
	stub "$Q/win11/release/end/10-undo.sh"
	sed -i "2i test -x $Q/win11/prepare/begin/20-gpu.sh || true" "$Q/win11/release/end/10-undo.sh"
	ln -s release "$Q/win11/stopped"
	hookd import "$Q" --stdout
	expect_in "$ERR" "20-gpu.sh: not executable: not imported (the dispatcher skips it too" "a non-executable file is named"
	expect_in "$ERR" "00-vars.sh: sourced by prepare/begin/10-start.sh:2: copied as a helper, not imported as a step" "a sourced helper is named"
	expect_in "$ERR" "win11/stopped: a link to release: not imported again" "a linked directory is explained"
	expect_in "$ERR" "10-undo.sh: line 2 names the VM's directory by its absolute path" "an absolute path into the tree is named"
	[[ "$OUT" != *"[exec prepare/begin/00-vars.sh]"* ]] && ok "the helper is no step" || fail "$OUT"
	hookd import "$Q"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_rc 0 "prepare"
	expect_in "$(cat "$T/calls")" "10-start.sh win11 prepare begin - xml=1 gpu=from-helper" "the copy sources the copied helper"
	hookd run win11 release --xml "$T/win11.xml"
	rm -f "$T/calls"
	hookd import "$Q.imported" --force # importing again from where the originals went
	expect_rc 0 "import from qemu.d.imported"
	[[ -x "$Q.imported/win11/prepare/begin/10-start.sh" ]] && ok "importing from there moves nothing" || fail "moved"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_in "$(cat "$T/calls")" "gpu=from-helper" "the helper came along to qemu.d.imported"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
