#!/bin/sh
# hookd doctor and [vfio]'s host-dependency refusals against a real kernel (run by rig.sh, as root).
# Guest: 01:00.0 VGA + 01:00.1 HDA (one IOMMU group), 02:00.0 e1000e, and for this case alone a
# sparse virtio disk at 03:00.0 behind its own root port (stage-disk.sh, doctor.cmake).
# DOCTOR_MODE=noiommu: the guest has no VT-d (no intel-iommu device: no DMAR table, as when the
# firmware setup has it disabled) though it boots with intel_iommu=on: doctor must fail and say so.
# Every expected line is computed from the guest's own /sys and /proc, not from hookd.
. /hookd-test/lib.sh
GPU=0000:01:00.0 AUD=0000:01:00.1 NIC=0000:02:00.0 DISK=0000:03:00.0
T=/tmp/doctor; mkdir -p $T
CONF=/etc/hookd/hookd.conf
write_conf $CONF stderr
hookd() { $CLI --conf $CONF "$@" >$T/out 2>$T/err; RC=$?; }
# hook VM PHASE SUBPHASE XML: as libvirtd calls it; sets RC
hook() {
  env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    timeout 60 $HOOK "$1" "$2" "$3" - <"$4" >$T/out 2>$T/err
  RC=$?
}
# vm NAME UUID-SUFFIX INI-BODY BDF...: domain XML $T/NAME.xml with those hostdevs, and its INI
vm() {
  name=$1 uuid=6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b30$2 body=$3; shift 3
  { echo "<domain type='kvm'><name>$name</name><uuid>$uuid</uuid><memory unit='KiB'>65536</memory>"
    echo "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>"
    for a in "$@"; do
      b=${a#*:}
      echo "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x${b%%:*}' slot='0x$(echo $b | cut -d: -f2 | cut -d. -f1)' function='0x${a##*.}'/></source></hostdev>"
    done
    echo "</devices></domain>"; } >$T/$name.xml
  printf "$body" >/etc/hookd/hooks.d/$name.ini; chmod 0644 /etc/hookd/hooks.d/$name.ini
}
journal() { ls /run/hookd/*.journal 2>/dev/null | tr '\n' ' '; }
# has LINE: the doctor output in $T/out holds that exact line (or starts it, with a trailing *)
has() { grep -qxF -- "$1" $T/out || { case "$1" in *'*') grep -qF -- "${1%\*}" $T/out ;; *) false ;; esac; }; }

# byte BDF OFFSET: one byte of the function's config space, as the kernel exposes it
byte() { od -An -tu1 -j"$2" -N1 "$(dev $1)/config" | tr -d ' '; }
# flr BDF: 1 when the PCIe capability's Device Capabilities has Function Level Reset (bit 28), else 0
flr() {
  [ $(( $(byte $1 6) & 16 )) = 0 ] && { echo 0; return; }    # status: no capability list
  pos=$(( $(byte $1 52) & 252 )) hops=0
  while [ $pos -ge 64 ] && [ $hops -lt 48 ]; do
    if [ "$(byte $1 $pos)" = 16 ]; then echo $(( ($(byte $1 $((pos + 7))) >> 4) & 1 )); return; fi
    pos=$(( $(byte $1 $((pos + 1))) & 252 )) hops=$((hops + 1))
  done
  echo 0
}
# reset_line VM BDF: sets RESET, the reset line doctor must print, from config space and reset_method
reset_line() {
  f=$(flr $2) rm=""
  [ -r "$(dev $2)/reset_method" ] && rm=$(cat "$(dev $2)/reset_method")
  info "$2 [$(cut -c3- $(dev $2)/vendor):$(cut -c3- $(dev $2)/device)] FLR in DevCap: $f; reset_method: '${rm:-(none)}'"
  if [ -n "$rm" ]; then   # the kernel lists flr exactly when DevCap says so (no quirk on these)
    case " $rm " in *" flr "*) k=1 ;; *) k=0 ;; esac
    [ $k = $f ] || fail "vm_doctor_reset_method_agrees_with_config_space $2: DevCap FLR $f, reset_method '$rm'"
  fi
  if [ $f = 1 ]; then RESET="ok   $1 reset: $2 can do a function-level reset (FLR)${rm:+; reset_method: $rm}"
  elif [ -n "$rm" ]; then RESET="warn $1 reset: $2 has no function-level reset (no FLR in its PCIe capability; reset_method: $rm): the kernel can only reset it with $rm*"
  else RESET="warn $1 reset: $2 has no function-level reset (no FLR in its PCIe capability): the kernel can only reset it with a bus reset of its slot*"; fi
}
# group_line VM BDF: "ok VM group: BDF is in IOMMU group G, viable: member driver, ..."
group_line() {
  g=$(grp $2) m=""
  for d in $(ls /sys/kernel/iommu_groups/$g/devices); do m="$m${m:+, }$d $(drv $d)"; done
  echo "ok   $1 group: $2 is in IOMMU group $g, viable: $m"
}

grep -q " /sys/fs/cgroup " /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /etc/libvirt/hooks; ln -sfn "${HOOKD_HOOK_PATH:-$HOOK}" /etc/libvirt/hooks/qemu
NGROUPS=$(ls /sys/kernel/iommu_groups | wc -l)
info "kernel $(uname -r); cmdline: $(cat /proc/cmdline)"
info "$NGROUPS IOMMU groups; cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

# ================================================================ VT-d off in the firmware: a real FAIL
if [ "${DOCTOR_MODE:-}" = noiommu ]; then
  vm nicvm 01 '[vfio]\ndevices = auto\n' $NIC
  hookd doctor nicvm --xml $T/nicvm.xml
  info "hookd doctor nicvm: rc=$RC"; show $T/out $T/err
  why=""
  grep -qw intel_iommu=on /proc/cmdline || why="$why precondition: the kernel runs without intel_iommu=on"
  [ "$NGROUPS" = 0 ] || why="$why precondition: $NGROUPS IOMMU groups"
  grep -q GenuineIntel /proc/cpuinfo || why="$why precondition: not an Intel CPU"
  [ $RC = 1 ] || why="$why exit $RC (want 1)"
  has "FAIL host iommu: no IOMMU groups although the kernel runs with intel_iommu=on (Intel CPU): enable VT-d in the firmware setup and reboot" ||
    why="$why no iommu FAIL line"
  has "FAIL nicvm group: $NIC has no IOMMU group: turn the IOMMU on (see the host iommu line)" || why="$why no group FAIL line"
  [ -z "$why" ] && pass "vm_doctor_without_vtd_fails_saying_what_to_enable: $(grep 'FAIL host iommu' $T/out | cut -c1-120)..." ||
    fail "vm_doctor_without_vtd_fails_saying_what_to_enable:$why"
  hookd doctor --json
  grep -qF '{"level": "fail", "scope": "host", "check": "iommu", "message": "no IOMMU groups although the kernel runs with intel_iommu=on (Intel CPU)' $T/out &&
    grep -qF '"failed": 1,' $T/out && [ $RC = 1 ] &&
    pass "vm_doctor_json_without_vtd: the iommu check is \"fail\", 1 failed, exit 1" ||
    { fail "vm_doctor_json_without_vtd: rc=$RC"; show $T/out; }
  echo "$P passed, $F failed"
  [ $F -eq 0 ]; exit
fi

# ================================================================ doctor on the real host facts
# The NIC's VM: nothing here fails on this guest, so doctor exits 0.
vm nicvm 01 '[vfio]\ndevices = auto\n' $NIC
hookd doctor nicvm --xml $T/nicvm.xml
info "hookd doctor nicvm: rc=$RC"; show $T/out $T/err
why=""
[ "$NGROUPS" -gt 0 ] || why="$why precondition: no IOMMU groups"
[ $RC = 0 ] || why="$why exit $RC"
has "ok   host iommu: $NGROUPS IOMMU groups" || why="$why no 'ok host iommu: $NGROUPS IOMMU groups'"
grep -q ' IR-' /proc/interrupts && { has "ok   host interrupt-remapping: on (IR- interrupt chips in /proc/interrupts)" || why="$why interrupt-remapping not ok"; }
has "ok   host vfio: module vfio_pci is available ([vfio] loads it)" || why="$why vfio_pci not available"
has "ok   host vfio: module vfio_iommu_type1 is available ([vfio] loads it)" || why="$why vfio_iommu_type1 not available"
has "$(group_line nicvm $NIC)" || why="$why no '$(group_line nicvm $NIC)'"
has "ok   nicvm plan: the prepare plans *" || why="$why plan not ok"
grep -q '^[0-9]* checks: 0 failed' $T/out || why="$why summary: $(tail -n 1 $T/out)"
[ -z "$why" ] && pass "vm_doctor_real_host_iommu_groups_and_nic_group_ok: $NGROUPS groups; $(group_line nicvm $NIC | cut -c6-)" ||
  fail "vm_doctor_real_host_iommu_groups_and_nic_group_ok:$why"

why=""
grep -qw cpuset /sys/fs/cgroup/cgroup.controllers || why="$why precondition: no cpuset in cgroup.controllers"
has "ok   host cgroup: cgroup v2 with the cpuset controller" || why="$why no cgroup ok line"
[ -z "$why" ] && pass "vm_doctor_cgroup_v2_cpuset_ok" || fail "vm_doctor_cgroup_v2_cpuset:$why"

# the reset line of each emulated device, against its config space (an e1000e and the VGA)
reset_line nicvm $NIC; NICRESET=$RESET
has "$NICRESET" && pass "vm_doctor_reset_e1000e_matches_config_space: $NICRESET" ||
  fail "vm_doctor_reset_e1000e_matches_config_space: want '$NICRESET'"

# The GPU's VM: its group is viable with the HDA companion; it is the boot VGA driving the host's
# console (driver bochs-drm) and the INI lacks the single-GPU sections: a real FAIL, exit 1.
vm gpuvm 02 '[vfio]\ndevices = auto\ncompanions = yes\n' $GPU
hookd doctor gpuvm --xml $T/gpuvm.xml
info "hookd doctor gpuvm: rc=$RC"; show $T/out $T/err
reset_line gpuvm $GPU; GPURESET=$RESET
has "$GPURESET" && pass "vm_doctor_reset_vga_matches_config_space: $GPURESET" ||
  fail "vm_doctor_reset_vga_matches_config_space: want '$GPURESET'"
why=""
[ "$(grp $GPU)" = "$(grp $AUD)" ] || why="$why precondition: $AUD not in the GPU's group"
has "$(group_line gpuvm $GPU)" || why="$why no '$(group_line gpuvm $GPU)'"
[ -z "$why" ] && pass "vm_doctor_gpu_group_viable_with_companion: $(group_line gpuvm $GPU | cut -c6-)" ||
  fail "vm_doctor_gpu_group_viable_with_companion:$why"
why=""
[ "$(cat $(dev $GPU)/boot_vga)" = 1 ] || why="$why precondition: boot_vga is $(cat $(dev $GPU)/boot_vga)"
[ $RC = 1 ] || why="$why exit $RC (want 1)"
has "FAIL gpuvm boot-vga: $GPU is the boot VGA: the host's console and display run on it (driver $(drv $GPU)); the INI lacks [service] [console] [modules] before [vfio] (\`hookd new gpuvm --stdout\` shows them)" ||
  why="$why no boot-vga FAIL line"
[ "$(grep -c '^FAIL' $T/out)" = 1 ] || why="$why $(grep -c '^FAIL' $T/out) FAIL lines (want 1)"
[ -z "$why" ] && pass "vm_doctor_boot_vga_without_single_gpu_sections_fails" || fail "vm_doctor_boot_vga_without_single_gpu_sections_fails:$why"

# A group another VM holds is not viable: gpuvm prepared (its journal names the group's functions),
# a second VM passing the same GPU is told which VM holds it; gpuvm itself still sees it viable.
vm gpuvm2 04 '[vfio]\ndevices = auto\ncompanions = yes\n' $GPU
hook gpuvm prepare begin $T/gpuvm.xml; r1=$RC
held="$(drv $GPU)/$(drv $AUD)"
hookd doctor gpuvm2 --xml $T/gpuvm2.xml; r2=$RC; cp $T/out $T/doctor2
hookd doctor gpuvm --xml $T/gpuvm.xml; r3=$RC; cp $T/out $T/doctor1
hook gpuvm release end $T/gpuvm.xml; r4=$RC
sleep 0.5
why="" g=$(grp $GPU)
[ $r1 = 0 ] && [ "$held" = vfio-pci/vfio-pci ] || why="$why prepare gpuvm: exit $r1, $held"
[ $r2 = 1 ] || why="$why doctor gpuvm2 exit $r2"
grep -qxF "FAIL gpuvm2 group: IOMMU group $g of $GPU is not viable: $GPU is held by VM 'gpuvm' ($GPU vfio-pci, $AUD vfio-pci); stop that VM first" $T/doctor2 ||
  { why="$why no held-by line"; show $T/doctor2; }
grep -qxF "ok   gpuvm group: $GPU is in IOMMU group $g, viable: $GPU vfio-pci, $AUD vfio-pci" $T/doctor1 ||
  { why="$why gpuvm's own group"; show $T/doctor1; }
[ $r4 = 0 ] && [ -z "$(journal)" ] && [ "$(drv $GPU)" = bochs-drm ] || why="$why release gpuvm: exit $r4, $(drv $GPU), journal '$(journal)'"
[ -z "$why" ] && pass "vm_doctor_group_held_by_another_vm_not_viable: $(grep 'FAIL gpuvm2 group' $T/doctor2 | cut -c1-100)..." ||
  fail "vm_doctor_group_held_by_another_vm_not_viable:$why"

hookd doctor nicvm --xml $T/nicvm.xml --json
why=""
[ $RC = 0 ] || why="$why exit $RC"
grep -qF "{\"level\": \"ok\", \"scope\": \"host\", \"check\": \"iommu\", \"message\": \"$NGROUPS IOMMU groups\"}" $T/out || why="$why no iommu object"
grep -qF '{"level": "ok", "scope": "host", "check": "cgroup", "message": "cgroup v2 with the cpuset controller"}' $T/out || why="$why no cgroup object"
grep -qF "\"message\": \"$(echo "$NICRESET" | cut -d: -f2- | cut -c2- | tr -d '*')" $T/out || why="$why no reset message"
grep -qF '"failed": 0,' $T/out || why="$why not 0 failed"
[ -z "$why" ] && pass "vm_doctor_json_real_host" || { fail "vm_doctor_json_real_host:$why"; show $T/out; }

# ================================================================ [vfio] never takes what the host uses
# refused NAME VM XML WHY: plan, the hook's prepare and `hookd run prepare` all refuse BDF naming WHY;
# the device stays on its driver and no journal is left.
refused() {
  name=$1 vmn=$2 xml=$3 bdf=$4 reason=$5 before=$(drv $4) why=""
  line="$bdf is in use by the host: $reason; pass another device, or set force = $bdf in [vfio] if the host can do without it"
  hookd plan $vmn --xml $xml
  [ $RC = 1 ] || why="$why plan exit $RC"
  grep -qF -- "$line" $T/err || { why="$why plan stderr"; show $T/err; }
  hook $vmn prepare begin $xml
  [ $RC = 1 ] || why="$why hook exit $RC"
  grep -qF -- "$line" $T/err || { why="$why hook stderr"; show $T/err; }
  [ "$(wc -l <$T/err)" = 1 ] || why="$why hook stderr has $(wc -l <$T/err) lines"
  hookd run $vmn prepare --xml $xml
  [ $RC = 1 ] || why="$why run exit $RC"
  grep -qF -- "$line" $T/err || { why="$why run stderr"; show $T/err; }
  [ "$(drv $bdf)" = "$before" ] || why="$why $bdf now on $(drv $bdf) (was $before)"
  [ -z "$(journal)" ] || why="$why journal left: $(journal)"
  [ -z "$why" ] && pass "$name: $(grep -F "$bdf is in use" $T/err | sed 's/; pass another.*//' | cut -c1-160); still on $(drv $bdf)" ||
    fail "$name:$why"
}
# round_trip NAME VM XML BDF: prepare moves BDF to vfio-pci, release gives it back, no journal left
round_trip() {
  before=$(drv $4) why=""
  hook $2 prepare begin $3
  [ $RC = 0 ] || { why="$why prepare exit $RC"; show $T/err; }
  [ "$(drv $4)" = vfio-pci ] || why="$why after prepare on $(drv $4)"
  moved=$(drv $4)
  hook $2 release end $3
  [ $RC = 0 ] || { why="$why release exit $RC"; show $T/err; }
  sleep 0.5
  [ "$(drv $4)" = "$before" ] || why="$why after release on $(drv $4) (was $before)"
  [ -z "$(journal)" ] || why="$why journal left: $(journal)"
  [ -z "$why" ] && pass "$1: $before -> $moved -> $(drv $4)" || fail "$1:$why"
}

# --- the e1000e with an address and the default route
IF=$(ls $(dev $NIC)/net 2>/dev/null | head -n 1)
info "NIC $NIC: interface '${IF:-none}', driver $(drv $NIC)"
ip link set "$IF" up && ip addr add 192.0.2.10/24 dev "$IF" && ip route add default via 192.0.2.1 dev "$IF" ||
  fail "setup: ip on $IF"
info "routes: $(ip route | tr '\n' ';') /proc/net/route: $(awk 'NR>1{print $1, $2}' /proc/net/route | tr '\n' ';')"
refused vm_vfio_refuses_nic_with_default_route nicvm $T/nicvm.xml $NIC "network interface $IF carries the default route"
hookd doctor nicvm --xml $T/nicvm.xml
[ $RC = 1 ] && has "FAIL nicvm plan: the prepare would fail: [vfio] (/etc/hookd/hooks.d/nicvm.ini:1): $NIC is in use by the host: network interface $IF carries the default route*" &&
  pass "vm_doctor_fails_on_nic_with_default_route" || { fail "vm_doctor_fails_on_nic_with_default_route: rc=$RC"; show $T/out; }
ip route del default
refused vm_vfio_refuses_nic_with_address nicvm $T/nicvm.xml $NIC "network interface $IF has addresses in use"
vm nicvm 01 "[vfio]\ndevices = auto\nforce = $NIC\n" $NIC
round_trip vm_vfio_force_takes_nic_and_release_gives_it_back nicvm $T/nicvm.xml $NIC
ip addr flush dev "$IF" 2>/dev/null; ip link set "$IF" down 2>/dev/null

# --- a disk with a mounted filesystem, then with active swap
modprobe virtio_blk; modprobe ext4
i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
info "disk $DISK: driver $(drv $DISK), group $(grp $DISK) ($(ls /sys/kernel/iommu_groups/$(grp $DISK)/devices | tr '\n' ' ')), block: $(ls /sys/class/block | tr '\n' ' ')"
[ "$(grp $DISK)" != "$(grp $GPU)" ] && [ "$(grp $DISK)" != "$(grp $NIC)" ] || fail "setup: the disk shares a group with the GPU or NIC"
vm diskvm 03 '[vfio]\ndevices = auto\n' $DISK
# virtio behind a PCIe root port has FLR in its PCIe capability: the "ok" side of the reset check
hookd doctor diskvm --xml $T/diskvm.xml
reset_line diskvm $DISK
has "$RESET" && pass "vm_doctor_reset_virtio_disk_matches_config_space: $RESET" ||
  { fail "vm_doctor_reset_virtio_disk_matches_config_space: want '$RESET'"; show $T/out; }
mkdir -p /mnt/disk
if mke2fs -q /dev/vda >$T/mkfs 2>&1 && mount -t ext2 /dev/vda /mnt/disk 2>>$T/mkfs; then
  info "mounted: $(grep ' /mnt/disk ' /proc/self/mountinfo)"
  refused vm_vfio_refuses_disk_with_mounted_filesystem diskvm $T/diskvm.xml $DISK "/mnt/disk is mounted from vda"
  grep -q ' /mnt/disk ' /proc/mounts || fail "vm_vfio_refuses_disk_with_mounted_filesystem: /mnt/disk no longer mounted"
  umount /mnt/disk
else
  fail "setup: mke2fs/mount /dev/vda"; show $T/mkfs
fi
# swap on a partition: the partition's /sys/class/block link runs through the function too
printf 'o\nn\np\n1\n\n\nt\n82\nw\n' | fdisk /dev/vda >$T/fdisk 2>&1
i=0; while [ ! -b /dev/vda1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/vda1 ] && mkswap /dev/vda1 >$T/mkswap 2>&1 && swapon /dev/vda1 2>>$T/mkswap; then
  info "swaps: $(tail -n +2 /proc/swaps | tr '\n' ';')"
  refused vm_vfio_refuses_disk_with_swap_on_a_partition diskvm $T/diskvm.xml $DISK "swap is active on vda1"
  swapoff /dev/vda1
else
  fail "setup: fdisk/mkswap/swapon /dev/vda1"; show $T/fdisk $T/mkswap
fi
round_trip vm_vfio_takes_disk_once_unused_and_gives_it_back diskvm $T/diskvm.xml $DISK
i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -b /dev/vda ] && pass "vm_vfio_disk_block_device_back_after_release" || fail "vm_vfio_disk_block_device_back_after_release: no /dev/vda"


# --- the GPU's DRM node held open by a host process in a service's cgroup (a compositor, say)
if [ -e /dev/dri/card0 ]; then
  mkdir -p /sys/fs/cgroup/system.slice/display-manager.service
  sleep 600 </dev/dri/card0 &
  HOLDER=$!
  echo $HOLDER >/sys/fs/cgroup/system.slice/display-manager.service/cgroup.procs
  refused vm_vfio_refuses_gpu_whose_drm_node_is_held_open gpuvm $T/gpuvm.xml $GPU \
    "pid $HOLDER (sleep, unit display-manager.service) holds /dev/dri/card0 open"
  [ "$(drv $AUD)" = snd_hda_intel ] || fail "vm_vfio_refuses_gpu_whose_drm_node_is_held_open: $AUD now on $(drv $AUD)"
  kill $HOLDER; wait $HOLDER 2>/dev/null
  round_trip vm_vfio_takes_gpu_once_its_drm_node_is_closed gpuvm $T/gpuvm.xml $GPU
else
  fail "vm_vfio_refuses_gpu_whose_drm_node_is_held_open: no /dev/dri/card0 in the guest"
fi

echo "$P passed, $F failed"
[ $F -eq 0 ]
