#!/bin/sh
# Guest-side self-check of the rig alone (no hookd behaviour): the devices, IOMMU groups,
# drivers and kmod that guest-test.sh relies on. Run: rig.sh --test guest-env.sh
P=0; F=0
pass() { P=$((P+1)); echo "@@T PASS $*"; }
fail() { F=$((F+1)); echo "@@T FAIL $*"; }
info() { echo "@@T INFO $*"; }
dev() { echo /sys/bus/pci/devices/$1; }
drv() { if [ -e "$(dev $1)/driver" ]; then basename "$(readlink "$(dev $1)/driver")"; else echo none; fi; }
grp() { basename "$(readlink "$(dev $1)/iommu_group")" 2>/dev/null; }
GPU=0000:01:00.0 AUD=0000:01:00.1 NIC=0000:02:00.0

for g in $(ls /sys/kernel/iommu_groups | sort -n); do
  info "group $g: $(for d in /sys/kernel/iommu_groups/$g/devices/*; do b=${d##*/}; printf '%s[%s %s] ' $b "$(cut -c3-6 $(dev $b)/class)" "$(drv $b)"; done)"
done

check_dev() {  # bdf class-prefix driver
  c=$(cat "$(dev $1)/class" 2>/dev/null)
  case "$c" in "$2"*) pass "env_device_$1 class $c driver $(drv $1)" ;; *) fail "env_device_$1 class '$c' (want $2*)" ;; esac
  [ "$(drv $1)" = "$3" ] && pass "env_driver_$1 is $3" || fail "env_driver_$1 is $(drv $1), want $3"
}
check_dev $GPU 0x0300 bochs-drm
check_dev $AUD 0x0403 snd_hda_intel
check_dev $NIC 0x0200 e1000e

g=$(grp $GPU)
if [ -n "$g" ] && [ "$g" = "$(grp $AUD)" ] && [ "$g" != "$(grp $NIC)" ]; then
  pass "env_iommu_group: $GPU and $AUD share group $g ($(ls /sys/kernel/iommu_groups/$g/devices | tr '\n' ' ')), $NIC in $(grp $NIC)"
else
  fail "env_iommu_group: gpu=$(grp $GPU) audio=$(grp $AUD) nic=$(grp $NIC)"
fi

[ ! -d /sys/module/vfio_pci ] && pass "env_vfio_pci_not_preloaded" || fail "env_vfio_pci_not_preloaded: already loaded"
modinfo -F filename vfio-pci >/dev/null 2>&1 && pass "env_vfio_pci_available $(modinfo -F filename vfio-pci)" || fail "env_vfio_pci_available"
if modprobe vfio-pci && [ -d /sys/module/vfio_pci ] && [ -d /sys/module/vfio_iommu_type1 ] && [ -c /dev/vfio/vfio ]; then
  pass "env_kmod_modprobe_vfio_pci (softdep vfio_iommu_type1 loaded, /dev/vfio/vfio present)"
else
  fail "env_kmod_modprobe_vfio_pci: $(lsmod | awk 'NR>1{print $1}' | tr '\n' ' ')"
fi
modprobe -r vfio-pci vfio_iommu_type1 2>/dev/null

for b in /usr/sbin/hookd /usr/sbin/hookd-qemu /usr/sbin/hookd-apply; do
  if [ -x $b ]; then
    out=$($b </dev/null 2>&1); rc=$?
    case "$out" in *"error while loading shared libraries"*) fail "env_binary $b: $out" ;;
                   *) pass "env_binary $b runs (rc=$rc)" ;; esac
  else
    info "no $b in this initramfs"
  fi
done
[ -s /usr/share/misc/pci.ids ] && pass "env_pci_ids present" || fail "env_pci_ids missing"

echo "$P passed, $F failed"
[ $F -eq 0 ]
