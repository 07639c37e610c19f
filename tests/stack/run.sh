#!/bin/bash
# run.sh - the full-stack layer, host side: build hookd's .deb (CPack) from BUILD_DIR and boot the
# tests/vm guest with Debian's real libvirt stack under its stock AppArmor profiles
# (tests/stack/stage.sh), where guest-stack.sh installs the .deb with dpkg and drives libvirtd.
# Nothing on this machine is started, loaded or written outside WORK and the rig's kernel cache;
# host packages it needs (libvirt-daemon-system, qemu-system-x86, apparmor, ...) are installed
# with every service start refused (policy-rc.d), as they are only copied into the guest.
#   run.sh BUILD_DIR WORK [rig.sh options...]       e.g. --append stack.bench=3 (bench/)
# Exit: rig.sh's (0 pass, 1 a case failed, 2 no result, 3 timeout, 4 setup error).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd) WORK=$2
shift 2
mkdir -p "$WORK"

need=""
for p in libvirt-daemon-system libvirt-clients qemu-system-x86 apparmor busybox-static cpio kmod; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
  [ "$(id -u)" = 0 ] || { echo "stack: missing packages:$need (need root to install)" >&2; exit 4; }
  # the packages' maintainer scripts must not start libvirtd, virtlogd or AppArmor here
  own_policy=""
  if ! { [ -x /usr/sbin/policy-rc.d ] && { /usr/sbin/policy-rc.d >/dev/null 2>&1; [ $? = 101 ]; }; }; then
    [ -e /usr/sbin/policy-rc.d ] && { echo "stack: /usr/sbin/policy-rc.d allows service starts; install$need first" >&2; exit 4; }
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=yes
  fi
  echo "stack: apt-get install$need" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

# the package exactly as users get it
rm -rf "$WORK/deb"
cpack -G DEB --config "$BUILD/CPackConfig.cmake" -B "$WORK/deb" >"$WORK/cpack.log" 2>&1 ||
  { cat "$WORK/cpack.log" >&2; echo "stack: cpack failed" >&2; exit 4; }
DEB=$(ls "$WORK"/deb/hookd_*_amd64.deb)
echo "stack: $(basename "$DEB") ($(du -h "$DEB" | cut -f1))" >&2

export HOOKD_STACK_DEB=$DEB HOOKD_STACK_BUILD=$BUILD
export HOOKD_VM_MEM=${HOOKD_VM_MEM:-3G}
exec "$HERE/../vm/rig.sh" --no-install --work "$WORK/rig" --timeout "${HOOKD_STACK_TIMEOUT:-600}" \
  --test "$HERE/guest-stack.sh" --stage "$HERE/stage.sh" \
  --file "$HERE/../vm/guest-lib.sh:/hookd-test/lib.sh" \
  --file "$HERE/../../bench/stack-bench.sh:/hookd-test/bench.sh" "$@"
