#!/bin/bash
# package_deb_cycle: build hookd_<version>_amd64.deb with CPack, install it with dpkg on THIS
# machine, run the installed hookd, then remove and purge it (issue 4 item 6).
#   deb-cycle.sh BUILD_DIR VERSION
# It changes /usr and /etc of this machine (hookd's own files only), so it refuses to start when
# anything of hookd is already there (package, files, a libvirt hook of any kind), and on exit
# purges the package and removes any hook link pointing at hookd's hook (this layout's or 0.1.0's):
# it never leaves a hook installed. Needs root and dpkg; exit 77 (skipped) without them.
# It also upgrades from a package shaped exactly like 0.1.0's (hook in /usr/libexec/hookd, which
# libvirtd's AppArmor profile denies; its maintainer scripts as shipped, in legacy-0.1.0/).
set -uo pipefail
BUILD=$1 VERSION=$2
HOOK=/usr/sbin/hookd-qemu APPLY=/usr/sbin/hookd-apply LINK=/etc/libvirt/hooks/qemu CONF=/etc/hookd/hookd.conf
LEGACY=/usr/libexec/hookd/qemu
HERE=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
not() { ! "$@"; }
empty_dir() { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }
known_to_dpkg() { # installed, half-installed, config-files...: anything but not-installed
	local st
	st=$(dpkg-query -W -f='${db:Status-Status}' hookd 2>/dev/null) && [ -n "$st" ] && [ "$st" != not-installed ]
}
refuse() { echo "refusing to run: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "skipped: needs root (dpkg -i)"; exit 77; }
command -v dpkg >/dev/null && command -v cpack >/dev/null || { echo "skipped: needs dpkg and cpack"; exit 77; }

# ---- refuse unless nothing of hookd is on this machine ------------------------------------
known_to_dpkg && refuse "package hookd is known to dpkg: remove it first (dpkg --purge hookd)"
for p in /usr/sbin/hookd "$HOOK" "$APPLY" /usr/libexec/hookd /etc/hookd /usr/lib/tmpfiles.d/hookd.conf \
	/usr/share/bash-completion/completions/hookd; do
	[ -e "$p" ] || [ -L "$p" ] && refuse "$p exists (hookd installed by something else?)"
done
for p in "$LINK" "$LINK.before-hookd"; do
	if [ -e "$p" ] || [ -L "$p" ]; then
		refuse "$p exists ($(readlink "$p" || echo 'a foreign hook')): this test installs and removes that hook"
	fi
done
ls /run/hookd/*.journal >/dev/null 2>&1 && refuse "/run/hookd holds VM journals"
had_run_hookd=no; [ -d /run/hookd ] && had_run_hookd=yes
had_hooks_dir=no; [ -d /etc/libvirt/hooks ] && had_hooks_dir=yes

W=$(mktemp -d /tmp/hookd-deb.XXXXXX)
cleanup() {
	if known_to_dpkg; then
		dpkg --purge hookd >>"$W/cleanup.log" 2>&1 || echo "cleanup: dpkg --purge hookd failed" >&2
	fi
	# never leave a hook: ours (this layout's or 0.1.0's link) or the foreign one this test made
	if [ -L "$LINK" ] && { [ "$(readlink "$LINK")" = "$HOOK" ] || [ "$(readlink "$LINK")" = "$LEGACY" ]; }; then
		rm -f "$LINK"
	fi
	for p in "$LINK" "$LINK.before-hookd"; do
		if [ -f "$p" ] && [ ! -L "$p" ] && grep -q 'hookd-deb-test-foreign-hook' "$p"; then rm -f "$p"; fi
	done
	[ "$had_hooks_dir" = no ] && rmdir /etc/libvirt/hooks 2>/dev/null
	[ "$had_run_hookd" = no ] && rmdir /run/hookd 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# legacy_deb DIR OUT: a package shaped like hookd 0.1.0's: same name, version 0.1.0, the hook and
# worker in /usr/libexec/hookd, /usr/sbin/hookd, the conffile, and 0.1.0's maintainer scripts
# (tests/package/legacy-0.1.0). The binaries are this build's: an upgrade is about paths and scripts.
legacy_deb() {
	local d=$1
	mkdir -p "$d/DEBIAN" "$d/usr/libexec/hookd" "$d/usr/sbin" "$d/etc/hookd/hooks.d"
	install -m 755 "$BUILD/hookd-qemu" "$d/usr/libexec/hookd/qemu"
	install -m 755 "$BUILD/hookd-apply" "$d/usr/libexec/hookd/hookd-apply"
	install -m 755 "$BUILD/hookd" "$d/usr/sbin/hookd"
	install -m 644 "$HERE/../../conf/hookd.conf" "$d$CONF"
	install -m 755 "$HERE"/legacy-0.1.0/{postinst,prerm,postrm} "$d/DEBIAN/"
	echo "$CONF" >"$d/DEBIAN/conffiles"
	printf 'Package: hookd\nVersion: 0.1.0\nArchitecture: amd64\nMaintainer: hookd <hookd@localhost>\nDescription: hookd 0.1.0 layout (test)\n' \
		>"$d/DEBIAN/control"
	dpkg-deb --root-owner-group --build "$d" "$2" >/dev/null
}

# ---- build the package --------------------------------------------------------------------
if ! cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$W/out" >"$W/cpack.log" 2>&1; then
	cat "$W/cpack.log"; ko "cpack -G DEB"; echo "$pass passed, $fail failed"; exit 1
fi
DEB=$W/out/hookd_${VERSION}_amd64.deb
check "cpack made hookd_${VERSION}_amd64.deb" [ -f "$DEB" ]
[ -f "$DEB" ] || { ls -l "$W/out"; echo "$pass passed, $fail failed"; exit 1; }
field() { dpkg-deb -f "$DEB" "$1"; }
check "Package: hookd" [ "$(field Package)" = hookd ]
check "Version: $VERSION" [ "$(field Version)" = "$VERSION" ]
check "Architecture: amd64" [ "$(field Architecture)" = amd64 ]
deps=$(field Depends)
echo "Depends: $deps"
# every shared library the executables link directly (NEEDED) comes from a declared package
for exe in "$BUILD/hookd" "$BUILD/hookd-apply" "$BUILD/hookd-qemu"; do
	needed=$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for so in $(ldd "$exe" 2>/dev/null | awk -v n=" $(echo $needed) " 'index(n, " " $1 " ") && $3 ~ /^\// { print $3 }'); do
		pkg=$(dpkg-query -S "$(readlink -f "$so")" 2>/dev/null | head -n1 | cut -d: -f1) ||
			pkg=$(dpkg-query -S "$so" 2>/dev/null | head -n1 | cut -d: -f1)
		[ -n "$pkg" ] || { ko "${exe##*/}: $so belongs to no package"; continue; }
		echo "$deps" | tr ',' '\n' | sed 's/^ *//; s/[ (].*//' | grep -qx "$pkg" ||
			ko "${exe##*/} loads $so from $pkg, not in Depends"
	done
done
for pkg in libxml2 libpci3 libkmod2 libvirt0; do
	check "Depends names $pkg" grep -qE "(^|, )$pkg( |,|$)" <<<"$deps"
done
check "conffiles: $CONF" [ "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles)" = "$CONF" ]
dpkg-deb -c "$DEB" | awk '{ print $6 }' >"$W/contents"
check "package does not ship the hook link (postinst makes it)" not grep -q '^\./etc/libvirt' "$W/contents"
check "package ships no INI into /etc/hookd/hooks.d" not grep -q '^\./etc/hookd/hooks\.d/.' "$W/contents"
check "package ships the examples" grep -q '^\./usr/share/doc/hookd/examples/.*\.ini$' "$W/contents"
check "package has no /usr/local" not grep -q '^\./usr/local' "$W/contents"
check "package ships the hook as .$HOOK" grep -qx ".$HOOK" "$W/contents"
check "package ships nothing under /usr/libexec (libvirtd's AppArmor profile may not exec there)" \
	not grep -q '^\./usr/libexec' "$W/contents"

# ---- install ------------------------------------------------------------------------------
if ! dpkg -i "$DEB" </dev/null >"$W/dpkg-i.log" 2>&1; then
	# runtime libraries missing: let apt resolve them, as `apt-get install -f` does
	apt-get install -f -y --no-install-recommends </dev/null >>"$W/dpkg-i.log" 2>&1
fi
cat "$W/dpkg-i.log"
check "dpkg -i: installed" [ "$(dpkg-query -W -f='${db:Status-Status}' hookd 2>/dev/null)" = installed ]
check "dpkg --verify hookd" dpkg --verify hookd
for p in /usr/sbin/hookd "$HOOK" "$APPLY"; do
	check "$p 755 root" [ "$(stat -c '%a %U' "$p" 2>/dev/null)" = "755 root" ]
done
check "$CONF 644 root" [ "$(stat -c '%a %U' "$CONF" 2>/dev/null)" = "644 root" ]
check "/etc/hookd/hooks.d empty dir" empty_dir /etc/hookd/hooks.d
check "hook link $LINK -> $HOOK" [ "$(readlink "$LINK")" = "$HOOK" ]
check "postinst told about libvirtd" grep -q "SIGHUP\|libvirtd reloaded" "$W/dpkg-i.log"
check "/run/hookd 700" [ "$(stat -c %a /run/hookd 2>/dev/null)" = 700 ]
check "dpkg lists $CONF as conffile" grep -q "^ $CONF [0-9a-f]\{32\}" <(dpkg-query -W -f='${Conffiles}\n' hookd)
check "man hookd(8) installed" [ -f /usr/share/man/man8/hookd.8 ]
check "man hookd-qemu(8) opens hookd(8)" [ "$(zcat -f /usr/share/man/man8/hookd-qemu.8* 2>/dev/null)" = ".so man8/hookd.8" ]
printf '<domain><name>novm</name></domain>' >"$W/novm.xml"
"$LINK" novm prepare begin - <"$W/novm.xml" >"$W/hook.out" 2>&1; rc=$?
check "the installed hook runs through $LINK for a VM without INI (exit 0, silent)" test $rc = 0 -a ! -s "$W/hook.out"
v=$(/usr/sbin/hookd --version 2>&1)
check "/usr/sbin/hookd --version = hookd $VERSION ($v)" [ "$v" = "hookd $VERSION" ]
/usr/sbin/hookd check >"$W/check.out" 2>&1; rc=$?
cat "$W/check.out"
check "/usr/sbin/hookd check exits 0" [ $rc = 0 ]
check "hookd check read $CONF" grep -q "^$CONF: ok" "$W/check.out"
# the installed hookd links the installed hook (its compiled-in path is the package's)
/usr/sbin/hookd install --hooks-dir "$W/hooks" >"$W/install.out" 2>&1; rc=$?
cat "$W/install.out"
check "installed 'hookd install --hooks-dir' exits 0" [ $rc = 0 ]
check "installed 'hookd install' links $HOOK" [ "$(readlink "$W/hooks/qemu")" = "$HOOK" ]
# the installed example passes check once copied into hooks.d (what the README tells users)
cp /usr/share/doc/hookd/examples/win11.ini /etc/hookd/hooks.d/
/usr/sbin/hookd check win11 >"$W/check.out" 2>&1; rc=$?
cat "$W/check.out"
check "installed example passes hookd check" [ $rc = 0 ]
rm -f /etc/hookd/hooks.d/win11.ini

# reinstall over an edited conffile: kept, no prompt
echo "; edited by the admin" >>"$CONF"
cp "$CONF" "$W/edited.conf"
dpkg -i "$DEB" </dev/null >"$W/dpkg-i2.log" 2>&1; rc=$?
check "reinstall over an edited conffile" [ $rc = 0 ]
check "edited conffile kept" cmp -s "$W/edited.conf" "$CONF"
check "hook link still ours after reinstall" [ "$(readlink "$LINK")" = "$HOOK" ]

# ---- remove: binaries and hook go, the conffile stays --------------------------------------
dpkg -r hookd </dev/null >"$W/dpkg-r.log" 2>&1; rc=$?
cat "$W/dpkg-r.log"
check "dpkg -r hookd" [ $rc = 0 ]
check "after remove: no $LINK" absent "$LINK"
check "after remove: no /usr/libexec/hookd" [ ! -e /usr/libexec/hookd ]
check "after remove: no /usr/sbin/hookd" [ ! -e /usr/sbin/hookd ]
check "after remove: conffile kept (config-files state)" cmp -s "$W/edited.conf" "$CONF"
check "after remove: status config-files" [ "$(dpkg-query -W -f='${db:Status-Status}' hookd)" = config-files ]

# ---- a foreign hook is never clobbered, nor removed ----------------------------------------
mkdir -p /etc/libvirt/hooks
printf '#!/bin/bash\n# hookd-deb-test-foreign-hook: a qemu.d dispatcher\nexit 0\n' >"$LINK"
chmod 755 "$LINK"; cp "$LINK" "$W/foreign"
dpkg -i "$DEB" </dev/null >"$W/dpkg-i3.log" 2>&1; rc=$?
cat "$W/dpkg-i3.log"
check "install beside a foreign hook" [ $rc = 0 ]
check "foreign hook untouched by postinst" cmp -s "$W/foreign" "$LINK"
check "postinst points to hookd install --chain" grep -q "hookd install --chain" "$W/dpkg-i3.log"
dpkg --purge hookd </dev/null >"$W/purge1.log" 2>&1
check "foreign hook untouched by purge" cmp -s "$W/foreign" "$LINK"

# ---- chained: `hookd install --chain` keeps it aside; removal puts it back ------------------
dpkg -i "$DEB" </dev/null >"$W/dpkg-i5.log" 2>&1
/usr/sbin/hookd install --chain >"$W/chain.out" 2>&1; rc=$?
cat "$W/chain.out"
check "hookd install --chain exits 0" [ $rc = 0 ]
check "chained: $LINK -> $HOOK" [ "$(readlink "$LINK")" = "$HOOK" ]
check "chained: foreign hook kept as qemu.before-hookd" cmp -s "$W/foreign" "$LINK.before-hookd"
dpkg --purge hookd </dev/null >"$W/purge2.log" 2>&1; rc=$?
cat "$W/purge2.log"
check "purge of a chained install" [ $rc = 0 ]
check "after purge: the foreign hook is back in place" cmp -s "$W/foreign" "$LINK"
check "after purge: no qemu.before-hookd" absent "$LINK.before-hookd"
check "after purge: the foreign hook is a file again" not test -L "$LINK"
rm -f "$LINK"

# ---- upgrade from 0.1.0 (hook in /usr/libexec/hookd): the link is repointed, nothing dangles ----
legacy_deb "$W/legacy" "$W/hookd_0.1.0_amd64.deb"
dpkg -i "$W/hookd_0.1.0_amd64.deb" </dev/null >"$W/dpkg-legacy.log" 2>&1; rc=$?
cat "$W/dpkg-legacy.log"
check "0.1.0 installed" [ $rc = 0 ]
check "0.1.0: $LINK -> $LEGACY" [ "$(readlink "$LINK")" = "$LEGACY" ]
echo "; kept across the upgrade" >>"$CONF"; cp "$CONF" "$W/legacy.conf"
dpkg -i "$DEB" </dev/null >"$W/dpkg-up.log" 2>&1; rc=$?
cat "$W/dpkg-up.log"
check "upgrade 0.1.0 -> $VERSION" [ $rc = 0 ]
check "upgraded: version $VERSION" [ "$(dpkg-query -W -f='${Version}' hookd)" = "$VERSION" ]
check "upgraded: $LINK repointed to $HOOK" [ "$(readlink "$LINK")" = "$HOOK" ]
check "upgraded: the link does not dangle" [ -x "$LINK" ]
check "upgraded: postinst said it repointed the link" grep -q "repointed the libvirt hook" "$W/dpkg-up.log"
check "upgraded: no /usr/libexec/hookd left" absent /usr/libexec/hookd
check "upgraded: edited conffile kept" cmp -s "$W/legacy.conf" "$CONF"
"$LINK" novm prepare begin - <"$W/novm.xml" >"$W/hook.out" 2>&1; rc=$?
check "upgraded: the hook runs (exit 0)" [ $rc = 0 ]
dpkg --purge hookd </dev/null >"$W/purge3.log" 2>&1
check "purge after upgrade: no $LINK" absent "$LINK"

# ---- install again and purge: nothing left ------------------------------------------------
dpkg -i "$DEB" </dev/null >"$W/dpkg-i4.log" 2>&1
check "installed again: hook link ours" [ "$(readlink "$LINK")" = "$HOOK" ]
dpkg --purge hookd </dev/null >"$W/purge.log" 2>&1; rc=$?
cat "$W/purge.log"
check "dpkg --purge hookd" [ $rc = 0 ]
check "after purge: unknown to dpkg" not known_to_dpkg
for p in "$LINK" /etc/hookd /usr/libexec/hookd /usr/sbin/hookd "$HOOK" "$APPLY" /usr/lib/tmpfiles.d/hookd.conf \
	/usr/share/doc/hookd /usr/share/bash-completion/completions/hookd /usr/share/man/man8/hookd.8; do
	check "after purge: no $p" absent "$p"
done
[ "$had_run_hookd" = no ] && check "after purge: no /run/hookd" [ ! -e /run/hookd ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
