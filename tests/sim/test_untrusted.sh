#!/bin/bash
# What hookd refuses to trust or to hang on (issue 8, items 6-13): state it did not write, VM names that
# leave its directories, programs and files others can change, config files that are not text or not
# regular files, and input that would break the hook's one stderr line. One case per call.
source "${SIM_LIB:-$(dirname "$0")/lib.sh}"
: "${HOOKD_BIN:?}" "${HOOKD_HOOK:?}"
case_name=$1
UUID=4dea22b3-1d52-d8f3-2516-782e98ab3fa0
GPU=0000:01:00.0

# setup INI_TEXT: fresh root, hookd.conf, hooks.d/win11.ini, win11.xml (with the GPU) and $T/bin/mark,
# which records that it ran in $T/marked.
setup() {
	mkroot
	mkdir -p "$T/hooks.d" "$T/bin"
	write_conf
	printf '%b' "$1" >"$T/hooks.d/win11.ini"
	chmod 0644 "$T/hooks.d/win11.ini"
	printf '#!/bin/sh\necho "$@" >>%s/marked\n' "$T" >"$T/bin/mark"
	chmod 0755 "$T/bin/mark"
	cat >"$T/win11.xml" <<-EOX
		<domain type='kvm'><name>win11</name><uuid>$UUID</uuid><memory unit='GiB'>4</memory><vcpu>2</vcpu>
		<devices><hostdev mode='subsystem' type='pci' managed='yes'><source>
		<address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices></domain>
	EOX
}
write_conf() { # [EXTRA LINE]
	printf 'root = %s\nhooks_dir = %s\nstate_dir = %s\ntimeout = 2\nlog = none\n%s' "$R" "$T/hooks.d" \
		"$T/state" "${1:+$1$'\n'}" >"$T/hookd.conf"
	chmod 0644 "$T/hookd.conf"
}
hook() { # VM OP SUBOP [EXTRA] < xml : sets RC, sets ERR to its stderr
	set +e
	sim env HOOKD_CONF="$T/hookd.conf" timeout 60 "$HOOKD_HOOK" "$@" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	set -e
	ERR=$(cat "$T/stderr") OUT=$(cat "$T/stdout")
}
marked() { cat "$T/marked" 2>/dev/null || true; }
exec_ini="[exec]\nprepare = /bin/true\nrelease = $T/bin/mark undone\n"

case_state_dir_writable_by_others_is_refused() {
	setup "$exec_ini"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_rc 0 prepare
	chmod 0777 "$T/state" # anyone could have planted this journal: its [exec] undo must not run as root
	hookd run win11 release --xml "$T/win11.xml"
	expect_rc 1 "release with a world-writable state_dir"
	expect_in "$ERR" "$T/state: refusing a directory writable by group or others" "says why"
	hook win11 release end - <"$T/win11.xml"
	expect_rc 1 "the hook's release too"
	hookd status
	expect_rc 2 "status"
	expect_in "$ERR" "writable by group or others" "status says why"
	chmod 0700 "$T/state"
	chown 65534 "$T/state/$UUID.journal"
	hookd run win11 release --xml "$T/win11.xml"
	expect_rc 1 "release of a journal owned by another user"
	expect_in "$ERR" "$UUID.journal: refusing a file not owned by root" "says why"
	expect_eq "$(marked)" "" "no planted undo ran"
	chown 0 "$T/state/$UUID.journal"
	hookd run win11 release --xml "$T/win11.xml"
	expect_rc 0 "release once the journal is root's"
	expect_eq "$(marked)" "undone" "its undo ran once"
}

case_symlinks_in_state_dir_are_not_followed() {
	setup "$exec_ini"
	mkdir -m 0700 "$T/state"
	echo precious >"$T/victim"
	ln -s "$T/victim" "$T/state/$UUID.journal.tmp"
	ln -s "$T/created" "$T/state/lock"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_rc 1 "prepare with a symlink for the lock"
	expect_in "$ERR" "$T/state/lock: refusing a symlink" "says why"
	[[ ! -e "$T/created" ]] && ok "the lock symlink created nothing" || fail "the lock symlink created $T/created"
	rm "$T/state/lock"
	hookd run win11 prepare --xml "$T/win11.xml"
	expect_rc 0 "prepare once the lock is a file"
	expect_eq "$(cat "$T/victim")" precious "the .journal.tmp symlink's target is untouched"
	[[ -f "$T/state/$UUID.journal" && ! -L "$T/state/$UUID.journal" ]] && ok "journal written as a file" \
		|| fail "no journal file"
	mv "$T/state/$UUID.journal" "$T/journal.real"
	ln -s "$T/journal.real" "$T/state/$UUID.journal"
	hookd run win11 release --xml "$T/win11.xml"
	expect_rc 1 "release through a journal symlink"
	expect_in "$ERR" "refusing a symlink in the state directory" "says why"
	expect_eq "$(marked)" "" "no undo ran through the symlink"
}

case_vm_name_cannot_escape() {
	setup "$exec_ini"
	cp "$T/hooks.d/win11.ini" "$T/hooks.d/evil.ini"
	sed "s/win11/evil/; s#<uuid>[^<]*</uuid>##" "$T/win11.xml" >"$T/evil.xml"
	hookd run evil prepare --xml "$T/evil.xml"
	expect_rc 0 "prepare of evil (journal named by the VM: no uuid)"
	mv "$T/state/evil.journal" "$T/evil.journal" # = state_dir/../evil.journal
	for cmd in "run ../evil release" "restore ../evil" "plan ../evil --phase release" "check ../evil" "inspect ../evil --xml $T/evil.xml"; do
		# shellcheck disable=SC2086
		hookd $cmd
		expect_rc 2 "hookd $cmd"
		expect_in "$ERR" "refusing the VM name '../evil'" "hookd $cmd says why"
	done
	hook ../evil release end - <"$T/evil.xml"
	expect_rc 1 "the hook refuses ../evil"
	expect_eq "$(wc -l <"$T/stderr")" 1 "one line on stderr"
	hook $'win\n11' prepare begin - <"$T/win11.xml"
	expect_rc 1 "the hook refuses a name with a newline"
	expect_eq "$(wc -l <"$T/stderr")" 1 "still one line on stderr"
	hook "$(printf 'x%.0s' {1..201})" release end - <"$T/win11.xml"
	expect_rc 1 "the hook refuses a 201-byte name"
	expect_eq "$(marked)" "" "nothing outside state_dir was reverted"
	[[ -f "$T/evil.journal" ]] && ok "state_dir/../evil.journal is still there" || fail "state_dir/../evil.journal deleted"
	hook other stopped end - <"$T/win11.xml"
	expect_rc 0 "an operation hookd does not act on is still a no-op"
}

case_chain_must_be_trusted() {
	setup "[vfio]\ndevices = auto\n"
	write_conf "chain = $T/chain"
	printf '#!/bin/sh\necho "$@" >>%s/marked\n' "$T" >"$T/chain"
	chmod 0777 "$T/chain"
	hook win11 started begin - <"$T/win11.xml"
	expect_rc 1 "a world-writable chained hook"
	expect_in "$ERR" "refusing to run the chained hook: $T/chain: refusing a file writable by group or others" "says why"
	chmod 0755 "$T/chain"
	chown 65534 "$T/chain"
	hook win11 started begin - <"$T/win11.xml"
	expect_rc 1 "a chained hook owned by another user"
	expect_in "$ERR" "not owned by root" "says why"
	expect_eq "$(marked)" "" "the untrusted chained hook never ran"
	chown 0 "$T/chain"
	hook win11 started begin - <"$T/win11.xml"
	expect_rc 0 "a root-owned 0755 chained hook"
	expect_eq "$(marked)" "win11 started begin -" "it ran"
}

case_log_symlink_is_not_followed() {
	setup "[vfio]\ndevices = auto\n"
	write_conf "log = $T/hookd.log"
	sed -i '/^log = none$/d' "$T/hookd.conf"
	echo precious >"$T/victim"
	ln -s "$T/victim" "$T/hookd.log"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_rc 0 prepare
	hook win11 release end - <"$T/win11.xml"
	expect_rc 0 release
	expect_eq "$(cat "$T/victim")" precious "the log symlink's target is untouched"
	rm "$T/hookd.log"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_in "$(cat "$T/hookd.log")" "applied" "a real log file is written"
}

case_ini_directories_are_checked() {
	setup "[vfio]\ndevices = auto\n"
	mkdir -m 0777 "$T/elsewhere"
	mv "$T/hooks.d/win11.ini" "$T/elsewhere/win11.ini"
	ln -s "$T/elsewhere/win11.ini" "$T/hooks.d/win11.ini"
	hookd check win11
	expect_rc 2 "an INI reached through a symlink into a world-writable directory"
	expect_in "$ERR" "directory $T/elsewhere can be changed by a user other than root" "says why"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_rc 1 "the hook refuses it"
	expect_eq "$(driver $GPU)" nvidia "nothing done"
	chmod 0755 "$T/elsewhere"
	hookd check win11
	expect_rc 0 "the same INI once its directory is root's"
	chmod 0777 "$T/hooks.d"
	hookd check win11
	expect_rc 2 "a world-writable hooks_dir"
	expect_in "$ERR" "directory $T/hooks.d can be changed" "says why"
}

case_conf_text_is_not_echoed() {
	setup "[vfio]\n"
	printf 'root:$6$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n' >"$T/shadow"
	chmod 0640 "$T/shadow"
	set +e
	sim "$HOOKD_BIN" --conf "$T/shadow" check >"$T/out" 2>"$T/err"
	RC=$?
	set -e
	ERR=$(cat "$T/err")
	expect_rc 2 "--conf of a shadow-like file"
	expect_in "$ERR" "$T/shadow:1:" "names the file and line"
	[[ "$ERR" != *SECRETHASH* ]] && ok "its content is not echoed" || fail "content echoed: $ERR"
}

case_fifo_config_does_not_block() {
	setup "[vfio]\ndevices = auto\n"
	rm "$T/hooks.d/win11.ini"
	mkfifo -m 0644 "$T/hooks.d/win11.ini"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_rc 1 "prepare with a FIFO INI"
	expect_in "$ERR" "win11.ini: refusing a FIFO: not a regular file" "says why"
	hookd check win11
	expect_rc 2 "check of a FIFO INI"
	mv "$T/hookd.conf" "$T/hookd.conf.real"
	mkfifo -m 0644 "$T/hookd.conf"
	hook other prepare begin - <"$T/win11.xml"
	expect_rc 1 "any VM's hook with a FIFO hookd.conf"
	expect_in "$ERR" "hookd.conf: refusing a FIFO" "says why"
}

case_oversized_ini_is_refused() {
	setup "[vfio]\ndevices = auto\n"
	{
		printf '[vfio]\ndevices = auto\n'
		head -c 2000000 /dev/zero | tr '\0' ';'
		printf '\n'
	} >"$T/hooks.d/win11.ini"
	hookd check win11
	expect_rc 2 "check of a 2 MB INI"
	expect_in "$ERR" "win11.ini: refusing a config file of $(stat -c %s "$T/hooks.d/win11.ini") bytes (at most 1048576)" "says why"
}

case_nul_and_bom_in_config() {
	setup "[vfio]\ndevices = auto\n"
	# a NUL in a comment used to hide the rest of the line from inih, and a key after column 199
	{ printf '[exec]\nprepare = /bin/true\n; x\0'; printf '%*s' 200 ''; printf '\nrelease = /bin/false\n'; } >"$T/hooks.d/win11.ini"
	hookd check win11
	expect_rc 2 "check of an INI with a NUL byte"
	expect_in "$ERR" "win11.ini:3: refusing a NUL byte" "names file:line"
	printf 'root = %s\0\n' "$R" >"$T/hookd.conf"
	hookd check
	expect_rc 2 "check of a hookd.conf with a NUL byte"
	expect_in "$ERR" "hookd.conf:1: refusing a NUL byte" "names file:line"
	write_conf
	printf '\xef\xbb\xbf[vfio]\ndevices = auto\n' >"$T/hooks.d/win11.ini"
	hookd check win11
	expect_rc 0 "an INI with a UTF-8 BOM"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_rc 0 "and the hook runs it"
	expect_eq "$(driver $GPU)" vfio-pci "GPU on vfio-pci"
}

case_libxml2_errors_are_one_line() {
	setup "[vfio]\ndevices = auto\n"
	printf '<?xml version="1.0" encoding="ISO-2022-JP"?>\n<domain><name>win11\033$B$"\033(B\377\376</name></domain>\n' >"$T/jp.xml"
	printf '<domain><name>win11</name><devices>\n<hostdev>\n</dev\033[31mices></domain>\n' >"$T/mismatch.xml"
	for x in jp mismatch; do
		hook win11 prepare begin - <"$T/$x.xml"
		expect_rc 1 "prepare with $x.xml"
		expect_eq "$(wc -l <"$T/stderr")" 1 "$x.xml: one line on stderr ($ERR)"
		LC_ALL=C grep -q '[^[:print:]]' "$T/stderr" && fail "$x.xml: raw bytes on stderr: $(cat -A "$T/stderr")" \
			|| ok "$x.xml: printable ASCII only"
	done
	expect_eq "$(driver $GPU)" nvidia "nothing done"
}

case_release_with_stdin_closed() {
	setup "[vfio]\ndevices = auto\n"
	hook win11 prepare begin - <"$T/win11.xml"
	expect_rc 0 prepare
	hook win11 release end - <&-
	expect_rc 0 "release with stdin closed"
	expect_eq "$ERR" "" "nothing on stderr"
	expect_eq "$(driver $GPU)" nvidia "GPU back on nvidia"
	hook win11 prepare begin - <&-
	expect_rc 1 "prepare with stdin closed"
	expect_in "$ERR" "needs the domain XML" "says what it misses"
}

"case_$case_name"
finish
