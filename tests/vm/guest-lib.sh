# Sourced by every guest test (rig.sh stages it as /hookd-test/lib.sh; see hookd_vm_test in
# CMakeLists.txt): result lines, where hookd is in the guest, and a hookd.conf for the live guest.
P=0; F=0
pass() { P=$((P+1)); echo "@@T PASS $*"; }
fail() { F=$((F+1)); echo "@@T FAIL $*"; }
info() { echo "@@T INFO $*"; }
show() { sed 's/^/@@T INFO   | /' "$@"; }   # quote a file (stderr of a run, ...) into the log
# PCI function BDF: its sysfs directory, its driver (or none), driver_override, IOMMU group
dev() { echo /sys/bus/pci/devices/$1; }
drv() { if [ -e "$(dev $1)/driver" ]; then basename "$(readlink "$(dev $1)/driver")"; else echo none; fi; }
ovr() { cat "$(dev $1)/driver_override"; }
grp() { basename "$(readlink "$(dev $1)/iommu_group")"; }

SBIN=/usr/sbin
HOOK=$SBIN/hookd-qemu
APPLY=$SBIN/hookd-apply
CLI=$SBIN/hookd
mkdir -p /etc/hookd/hooks.d
# rig.sh passes the paths compiled into this build (HOOKD_CONF_FILE, HOOKD_HOOK_PATH) and any
# --env of the test; a build configured with other paths is led to the same files.
[ -f /hookd-test/env ] && . /hookd-test/env
if [ -n "${HOOKD_CONF_FILE:-}" ] && [ "$HOOKD_CONF_FILE" != /etc/hookd/hookd.conf ]; then
  mkdir -p "$(dirname "$HOOKD_CONF_FILE")"; ln -sf /etc/hookd/hookd.conf "$HOOKD_CONF_FILE"
fi
if [ -n "${HOOKD_HOOK_PATH:-}" ] && [ "$HOOKD_HOOK_PATH" != $HOOK ] && [ ! -e "$HOOKD_HOOK_PATH" ]; then
  mkdir -p "$(dirname "$HOOKD_HOOK_PATH")"; ln -s $HOOK "$HOOKD_HOOK_PATH"
fi

# write_conf FILE LOG [TIMEOUT_S]: hookd.conf acting on the guest's real /sys (root = /)
write_conf() {
  cat >"$1" <<CONF
root = /
hooks_dir = /etc/hookd/hooks.d
state_dir = /run/hookd
timeout = ${3:-5}
log = $2
CONF
}

# domain_xml NAME UUID: an inactive domain with one PCI hostdev, the GPU's function 0
domain_xml() {
  cat <<EOF
<domain type='kvm' id='1'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
  <devices>
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source>
    </hostdev>
  </devices>
</domain>
EOF
}
