#!/bin/bash
# package_install_tree: `cmake --install` into a DESTDIR, checked path by path (issue 4 item 1).
#   install-tree.sh BUILD_DIR SOURCE_DIR VERSION
# Cases: prefix /usr (the layout of the issue), prefix /opt/hookd (/etc stays /etc), and a second
# install over a tree holding a user's hookd.conf, a user's INI and a foreign libvirt hook.
# Writes only under a temp dir: every install has a non-empty DESTDIR.
set -uo pipefail
BUILD=$1 SRC=$2 VERSION=$3
W=$(mktemp -d /tmp/hookd-install-tree.XXXXXX)
trap 'rm -rf "$W"' EXIT
pass=0 fail=0
ok() { echo "PASS $*"; pass=$((pass + 1)); }
ko() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else ko "$what"; fi; }

do_install() { # DESTDIR PREFIX -> log in $W/install.log
	[ -n "$1" ] || { echo "refusing an install without DESTDIR" >&2; exit 1; }
	DESTDIR=$1 cmake --install "$BUILD" --prefix "$2" >"$W/install.log" 2>&1
}
mode_is() { [ "$(stat -c %a "$1" 2>/dev/null)" = "$2" ]; }
# path type mode
expect() {
	local p=$1 type=$2 mode=$3 t=""
	[ -L "$p" ] && t=link || { [ -f "$p" ] && t=file; } || { [ -d "$p" ] && t=dir; }
	if [ "$t" != "$type" ]; then ko "$p is a $type (found: ${t:-nothing})"; return; fi
	[ "$type" = link ] && { ok "$p is a link"; return; }
	if mode_is "$p" "$mode"; then ok "$p $type $mode"; else ko "$p mode $(stat -c %a "$p"), want $mode"; fi
}

layout() { # DESTDIR PREFIX
	local D=$1 P=$2
	expect "$D$P/sbin/hookd-qemu" file 755
	expect "$D$P/sbin/hookd-apply" file 755
	expect "$D$P/sbin/hookd" file 755
	check "nothing under $P/libexec (libvirtd's AppArmor profile may not exec there)" [ ! -e "$D$P/libexec" ]
	expect "$D/etc/hookd/hookd.conf" file 644
	expect "$D/etc/hookd/hooks.d" dir 755
	expect "$D/etc/libvirt/hooks/qemu" link -
	check "hook link -> $P/sbin/hookd-qemu" [ "$(readlink "$D/etc/libvirt/hooks/qemu")" = "$P/sbin/hookd-qemu" ]
	for m in man8/hookd.8 man8/hookd-qemu.8 man8/hookd-apply.8 man5/hookd.conf.5 man5/hookd.ini.5; do
		expect "$D$P/share/man/$m" file 644
	done
	check "man page has the version" grep -q "$VERSION" "$D$P/share/man/man8/hookd.8"
	for ex in "$SRC"/hooks.d/*.ini "$SRC"/hooks.d/*.xml; do
		expect "$D$P/share/doc/hookd/examples/${ex##*/}" file 644
		check "example ${ex##*/} is the source's" cmp -s "$ex" "$D$P/share/doc/hookd/examples/${ex##*/}"
	done
	expect "$D$P/share/bash-completion/completions/hookd" file 644
	expect "$D$P/lib/tmpfiles.d/hookd.conf" file 644
	check "tmpfiles entry for /run/hookd" grep -qx 'd /run/hookd 0700 root root -' "$D$P/lib/tmpfiles.d/hookd.conf"
	check "hookd.conf is conf/hookd.conf" cmp -s "$SRC/conf/hookd.conf" "$D/etc/hookd/hookd.conf"
	check "no example in /etc/hookd/hooks.d" [ -z "$(ls -A "$D/etc/hookd/hooks.d")" ]
	check "nothing but etc/ and ${P#/}/ in DESTDIR" [ "$(cd "$D" && ls -A | sort | tr '\n' ' ')" = "$(printf '%s\n' etc "$(echo "${P#/}" | cut -d/ -f1)" | sort -u | tr '\n' ' ')" ]
	check "no /etc under the prefix" [ ! -e "$D$P/etc" ]
	check "installed hookd runs: --version" [ "$("$D$P/sbin/hookd" --version)" = "hookd $VERSION" ]
}

echo "== prefix /usr"
do_install "$W/usr" /usr || { cat "$W/install.log"; ko "cmake --install --prefix /usr"; }
layout "$W/usr" /usr

echo "== prefix /opt/hookd"
do_install "$W/opt" /opt/hookd || { cat "$W/install.log"; ko "cmake --install --prefix /opt/hookd"; }
layout "$W/opt" /opt/hookd

echo "== again over a user's files"
D=$W/usr
echo "; edited by the user" >>"$D/etc/hookd/hookd.conf"
cp "$D/etc/hookd/hookd.conf" "$W/user.conf"
printf '[vfio]\ndevices = auto\n' >"$D/etc/hookd/hooks.d/myvm.ini"
rm "$D/etc/libvirt/hooks/qemu"
printf '#!/bin/bash\n# foreign dispatcher\n' >"$D/etc/libvirt/hooks/qemu"
cp "$D/etc/libvirt/hooks/qemu" "$W/foreign"
do_install "$D" /usr || { cat "$W/install.log"; ko "second cmake --install"; }
check "user's hookd.conf kept" cmp -s "$W/user.conf" "$D/etc/hookd/hookd.conf"
check "install says it kept hookd.conf" grep -q "Kept (exists): $D/etc/hookd/hookd.conf" "$W/install.log"
check "user's INI kept, no example added" [ "$(ls -A "$D/etc/hookd/hooks.d")" = myvm.ini ]
check "foreign hook not clobbered" cmp -s "$W/foreign" "$D/etc/libvirt/hooks/qemu"
check "foreign hook is still a file" [ ! -L "$D/etc/libvirt/hooks/qemu" ]
check "install points to hookd install --chain" grep -q "another hook.*hookd install --chain" "$W/install.log"

echo "== again over our own link (reinstall)"
do_install "$W/opt" /opt/hookd || ko "reinstall"
check "own link left as it is" grep -q "Up-to-date: $W/opt/etc/libvirt/hooks/qemu -> /opt/hookd/sbin/hookd-qemu" "$W/install.log"
check "own link still ours" [ "$(readlink "$W/opt/etc/libvirt/hooks/qemu")" = /opt/hookd/sbin/hookd-qemu ]

echo "== upgrade over a 0.1.0 install (hook in libexec/hookd, which libvirtd's AppArmor profile denies)"
D=$W/up
mkdir -p "$D/etc/libvirt/hooks" "$D/usr/libexec/hookd"
cp "$BUILD/hookd-qemu" "$D/usr/libexec/hookd/qemu"; cp "$BUILD/hookd-apply" "$D/usr/libexec/hookd/hookd-apply"
ln -s /usr/libexec/hookd/qemu "$D/etc/libvirt/hooks/qemu"
do_install "$D" /usr || { cat "$W/install.log"; ko "cmake --install over 0.1.0"; }
check "0.1.0 link repointed to /usr/sbin/hookd-qemu" [ "$(readlink "$D/etc/libvirt/hooks/qemu")" = /usr/sbin/hookd-qemu ]
check "install says it repointed the link" grep -q "Repointed: $D/etc/libvirt/hooks/qemu -> /usr/sbin/hookd-qemu" "$W/install.log"
check "0.1.0's libexec/hookd removed" [ ! -e "$D/usr/libexec/hookd" ]

echo "== a dangling foreign symlink is foreign too"
D=$W/dangle
mkdir -p "$D/etc/libvirt/hooks" && ln -s /nowhere/qemu "$D/etc/libvirt/hooks/qemu"
do_install "$D" /usr || ko "install over a dangling link"
check "dangling foreign link kept" [ "$(readlink "$D/etc/libvirt/hooks/qemu")" = /nowhere/qemu ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
