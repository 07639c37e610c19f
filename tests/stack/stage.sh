# stage.sh - sourced by tests/vm/rig.sh (--stage) while it stages the guest's initramfs.
# Puts Debian's real libvirt stack into the guest, as a stock Debian 12 host has it:
#   libvirtd + virtlogd + virsh + virt-aa-helper and the libvirt modules it dlopen()s (ldd cannot
#   see those); qemu-system-x86_64 with its modules (Debian's QEMU 7.2 builds even the TCG
#   accelerator as a module, accel-tcg-x86_64.so) and firmware; apparmor_parser and the stock
#   /etc/apparmor.d profiles (usr.sbin.libvirtd, virt-aa-helper, the per-VM TEMPLATE.qemu);
#   /etc/libvirt as the package ships it, with only socket auth, logging and user = root added;
#   dpkg, so that the guest installs hookd's .deb ($HOOKD_STACK_DEB) exactly as a user does.
# Needs: $STAGE, put_bin (rig.sh), HOOKD_STACK_DEB and HOOKD_STACK_BUILD (for the libraries the
# package's programs link) in the environment. Writes only under $STAGE.

stack_copy_tree() { # SRC [DEST]: a directory, symlinks dereferenced
  local src=$1 dst=${2:-$1}
  [ -d "$src" ] || die "stack: no $src on this machine"
  mkdir -p "$STAGE$(dirname "$dst")"
  cp -rL "$src" "$STAGE$dst"
}

stack_stage() {
  local f
  [ -f "${HOOKD_STACK_DEB:-}" ] || die "stack: HOOKD_STACK_DEB is not a file"
  # libvirt
  for f in /usr/sbin/libvirtd /usr/sbin/virtlogd /usr/bin/virsh /usr/lib/libvirt/virt-aa-helper \
    /usr/lib/libvirt/libvirt_iohelper /usr/lib/x86_64-linux-gnu/libvirt/*/*.so; do
    put_bin "$f" "$f"
  done
  stack_copy_tree /usr/share/libvirt
  # QEMU
  put_bin /usr/bin/qemu-system-x86_64 /usr/bin/qemu-system-x86_64
  for f in /usr/lib/x86_64-linux-gnu/qemu/*.so; do put_bin "$f" "$f"; done
  stack_copy_tree /usr/share/qemu
  stack_copy_tree /usr/share/seabios
  # AppArmor: the parser and the distribution's stock profiles, nothing of this machine's per-VM ones
  put_bin /usr/sbin/apparmor_parser /sbin/apparmor_parser
  ln -sf /sbin/apparmor_parser "$STAGE/usr/sbin/apparmor_parser"
  stack_copy_tree /etc/apparmor.d
  stack_copy_tree /etc/apparmor
  stack_copy_tree /usr/share/apparmor-features
  rm -f "$STAGE"/etc/apparmor.d/libvirt/libvirt-[0-9a-f]*
  # /etc/libvirt from the package: no hooks, domains or autostarted networks of this machine
  stack_copy_tree /etc/libvirt
  rm -rf "$STAGE"/etc/libvirt/hooks "$STAGE"/etc/libvirt/qemu/*.xml \
    "$STAGE"/etc/libvirt/qemu/networks/autostart "$STAGE"/etc/libvirt/storage/autostart
  cat >>"$STAGE/etc/libvirt/libvirtd.conf" <<'EOF'

# tests/stack (guest only): root may use the socket without polkit; a log to read
unix_sock_group = "root"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
  cat >>"$STAGE/etc/libvirt/qemu.conf" <<'EOF'

# tests/stack (guest only): the AppArmor driver as Debian enables it; QEMU as root (no
# libvirt-qemu home or /dev/vfio ownership to arrange in an initramfs)
security_driver = "apparmor"
user = "root"
group = "root"
EOF
  echo 'libvirt-qemu:x:64055:993:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin' >>"$STAGE/etc/passwd"
  printf 'kvm:x:993:libvirt-qemu\nlibvirt:x:994:\nlibvirt-qemu:x:64055:\n' >>"$STAGE/etc/group"
  mkdir -p "$STAGE"/var/lib/libvirt/qemu "$STAGE"/var/cache/libvirt/qemu "$STAGE"/var/log/libvirt/qemu
  ln -sfn /run "$STAGE/var/run"
  # dpkg, with an empty database: the guest installs hookd's package with it
  # (dpkg-split and GNU tar: dpkg runs them; busybox has no dpkg-split and its dpkg applet is not dpkg)
  for f in /usr/bin/dpkg /usr/bin/dpkg-deb /usr/bin/dpkg-query /usr/bin/dpkg-split /usr/bin/tar \
    /usr/sbin/ldconfig /usr/sbin/start-stop-daemon; do
    put_bin "$f" "$f"
  done
  mkdir -p "$STAGE"/var/lib/dpkg/{info,updates,triggers,alternatives} "$STAGE"/etc/dpkg/dpkg.cfg.d "$STAGE"/var/log
  : >"$STAGE/var/lib/dpkg/status"
  : >"$STAGE/var/lib/dpkg/available"
  cp "$HOOKD_STACK_DEB" "$STAGE/hookd-test/hookd.deb"
  # bash and GNU find, for bench/stack-bench.sh's qemu.d dispatcher (users' hooks are bash)
  put_bin /bin/bash /bin/bash
  put_bin /usr/bin/find /usr/bin/find
  # the libraries hookd's programs link (the package Depends on them; the guest has no apt)
  for f in hookd hookd-apply hookd-qemu; do
    put_bin "$HOOKD_STACK_BUILD/$f" "/tmp/stack-libs/$f"
  done
  rm -rf "$STAGE/tmp/stack-libs"
}
stack_stage
