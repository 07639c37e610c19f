#!/bin/bash
# hookd install against a scratch libvirt hooks directory, and a chained foreign hook at run time.
source "$SIM_LIB"
case_name=$1
mkroot
H=$T/etc-libvirt-hooks
mkdir -p "$T/hooks.d"
cat >"$T/hookd.conf" <<CONF
root = $R
hooks_dir = $T/hooks.d
state_dir = $T/state
timeout = 2
log = none
CONF
chmod 0644 "$T/hookd.conf"
printf '[vfio]\ndevices = auto\n' >"$T/hooks.d/win11.ini"
chmod 0644 "$T/hooks.d/win11.ini"
cat >"$T/win11.xml" <<'XML'
<domain type='kvm'><name>win11</name><uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid><devices>
<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>
</devices></domain>
XML
install_cmd() { "$HOOKD_BIN" --conf "$T/hookd.conf" install --hooks-dir "$H" --hook "$HOOKD_HOOK" "$@"; }
# The common bash dispatcher many users have: records how it was called, and what it saw.
foreign() {
	mkdir -p "$H"
	cat >"$H/qemu" <<SH
#!/bin/bash
echo "\$*" >>"$T/foreign.calls"
cat >"$T/foreign.stdin.\$2"
readlink "$R/sys/bus/pci/devices/0000:01:00.0/driver" | xargs basename >"$T/foreign.driver.\$2"
[ "\$2" = migrate ] && echo "<domain>from the old hook</domain>"
exit 0
SH
	chmod 0755 "$H/qemu"
}

case "$case_name" in
fresh_install_and_again)
	rc=0; install_cmd >"$T/out" 2>&1 || rc=$?
	expect_eq "$rc" 0 "install exit code"
	expect_eq "$(readlink "$H/qemu")" "$HOOKD_HOOK" "symlink points at the hook"
	grep -q "SIGHUP" "$T/out" && ok "tells about SIGHUP" || fail "no SIGHUP hint: $(cat "$T/out")"
	rc=0; install_cmd >"$T/out" 2>&1 || rc=$?
	expect_eq "$rc" 0 "second install exit code"
	grep -q "already runs hookd" "$T/out" && ok "second install says so" || fail "$(cat "$T/out")"
	;;
upgrade_repoints_the_0_1_0_link)
	# hookd 0.1.0 linked /etc/libvirt/hooks/qemu to /usr/libexec/hookd/qemu, which libvirtd's
	# AppArmor profile does not let it exec: that link is hookd's own, repointed (never refused)
	mkdir -p "$H"; ln -s /usr/libexec/hookd/qemu "$H/qemu"
	rc=0; install_cmd >"$T/out" 2>&1 || rc=$?
	expect_eq "$rc" 0 "install exit code"
	expect_eq "$(readlink "$H/qemu")" "$HOOKD_HOOK" "0.1.0 link repointed at the hook"
	expect_in "$(cat "$T/out")" "AppArmor" "says why it replaced the link"
	;;
foreign_hook_is_refused)
	foreign
	sum=$(md5sum <"$H/qemu")
	rc=0; install_cmd >"$T/out" 2>&1 || rc=$?
	expect_eq "$rc" 2 "refused exit code"
	expect_eq "$(md5sum <"$H/qemu")" "$sum" "foreign hook untouched"
	grep -q -- "--chain" "$T/out" && ok "suggests --chain" || fail "$(cat "$T/out")"
	;;
chained_hook_runs_after_hookd)
	foreign
	rc=0; install_cmd --chain >"$T/out" 2>&1 || rc=$?
	expect_eq "$rc" 0 "install --chain exit code"
	[[ -x "$H/qemu.before-hookd" ]] && ok "old hook kept" || fail "old hook not kept"
	grep -q "^chain = $H/qemu.before-hookd" "$T/hookd.conf" && ok "chain recorded" || fail "no chain line"
	hook() { sim env HOOKD_CONF="$T/hookd.conf" "$H/qemu" "$@"; }
	rc=0; hook win11 prepare begin - <"$T/win11.xml" >"$T/stdout" 2>"$T/stderr" || rc=$?
	expect_eq "$rc" 0 "prepare exit code ($(cat "$T/stderr"))"
	expect_eq "$(driver 0000:01:00.0)" vfio-pci "hookd's step done"
	expect_eq "$(cat "$T/foreign.driver.prepare")" vfio-pci "old hook ran after hookd's steps"
	cmp -s "$T/win11.xml" "$T/foreign.stdin.prepare" && ok "old hook got the same stdin" || fail "stdin differs"
	expect_eq "$(cat "$T/foreign.calls")" "win11 prepare begin -" "old hook got the same argv"
	rc=0; hook win11 migrate begin - <"$T/win11.xml" >"$T/stdout" 2>"$T/stderr" || rc=$?
	expect_eq "$rc" 0 "migrate exit code"
	expect_eq "$(cat "$T/stdout")" "<domain>from the old hook</domain>" "old hook's stdout passed through"
	hook win11 release end - <"$T/win11.xml" >/dev/null
	expect_eq "$(driver 0000:01:00.0)" nvidia "release restored the device"
	expect_eq "$(tail -1 "$T/foreign.calls")" "win11 release end -" "old hook saw release too"
	;;
*) fail "unknown case $case_name" ;;
esac
finish
