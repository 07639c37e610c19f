#!/bin/sh
# Guest test: hookd against the guest's real /sys (run by rig.sh inside QEMU, as root).
# Guest devices: 01:00.0 VGA (bochs-drm) + 01:00.1 HDA (snd_hda_intel) share one IOMMU
# group behind a root port; 02:00.0 e1000e is alone. Prints "@@T PASS|FAIL|INFO" lines and
# ends with "N passed, N failed"; exit status 0 only when nothing failed.
. /hookd-test/lib.sh
state() { echo "$GPU=$(drv $GPU)/$(ovr $GPU) $AUD=$(drv $AUD)/$(ovr $AUD) $NIC=$(drv $NIC)/$(ovr $NIC)"; }

GPU=0000:01:00.0 AUD=0000:01:00.1 NIC=0000:02:00.0
T=/tmp/hookd-test
mkdir -p $T

write_conf /etc/hookd/hookd.conf stderr

# vm_ini NAME DEVICES COMPANIONS
vm_ini() {
  printf '[vfio]\ndevices = %s\ncompanions = %s\n' "$2" "$3" >/etc/hookd/hooks.d/$1.ini
  chown 0:0 /etc/hookd/hooks.d/$1.ini; chmod 0644 /etc/hookd/hooks.d/$1.ini
}
# hook VM PHASE SUBPHASE XML: as libvirtd calls it (env LC_ALL, PATH, HOME only); sets RC
hook() {
  env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    timeout 60 $HOOK "$1" "$2" "$3" - <"$4" >$T/out 2>$T/err
  RC=$?
}

# ---------------------------------------------------------------- preconditions
for b in $HOOK $APPLY $CLI; do [ -x $b ] || { fail "setup: $b missing"; }; done
G=$(grp $GPU)
info "kernel $(uname -r); GPU group $G: $(ls /sys/kernel/iommu_groups/$G/devices | tr '\n' ' ')"
[ "$(grp $AUD)" = "$G" ] || fail "setup: $AUD not in the GPU's group $G (in $(grp $AUD))"
ORIG_GPU=$(drv $GPU) ORIG_AUD=$(drv $AUD) ORIG_NIC=$(drv $NIC)
VFIO_BEFORE=$([ -d /sys/module/vfio_pci ] && echo yes || echo no)
info "before: $(state); vfio_pci loaded: $VFIO_BEFORE"
case "$ORIG_GPU$ORIG_AUD" in *none*|*vfio*) fail "setup: expected host drivers on $GPU/$AUD, have $(state)" ;; esac

domain_xml gpuvm 6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1001 >$T/gpuvm.xml
vm_ini gpuvm auto yes
JOURNAL=/run/hookd/6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1001.journal

$CLI --conf /etc/hookd/hookd.conf plan gpuvm --xml $T/gpuvm.xml >$T/plan 2>&1
info "hookd plan gpuvm (rc=$?):"; show $T/plan

# ---------------------------------------------------------------- prepare
t0=$(cut -d' ' -f1 /proc/uptime)
hook gpuvm prepare begin $T/gpuvm.xml
info "prepare: rc=$RC in $(awk -v a=$t0 -v b=$(cut -d' ' -f1 /proc/uptime) 'BEGIN{printf "%.2f", b-a}')s; now $(state)"
[ -s $T/err ] && show $T/err
why=""
[ $RC = 0 ] || why="$why exit=$RC"
[ "$(drv $GPU)" = vfio-pci ] || why="$why $GPU on $(drv $GPU)"
[ "$(drv $AUD)" = vfio-pci ] || why="$why $AUD on $(drv $AUD)"
[ -c /dev/vfio/$G ] || why="$why no /dev/vfio/$G ($(ls /dev/vfio 2>&1 | tr '\n' ' '))"
[ "$VFIO_BEFORE" = no ] || why="$why vfio_pci was loaded before prepare (the rig must not preload it)"
[ -d /sys/module/vfio_pci ] || why="$why vfio_pci not loaded"
[ -f $JOURNAL ] || why="$why no $JOURNAL (/run/hookd: $(ls /run/hookd 2>&1 | tr '\n' ' '))"
[ -z "$why" ] && pass vm_prepare_moves_gpu_functions_to_vfio || fail "vm_prepare_moves_gpu_functions_to_vfio:$why"
[ "$(drv $NIC)" = "$ORIG_NIC" ] || fail "vm_prepare_leaves_other_devices: $NIC now on $(drv $NIC)"

$CLI --conf /etc/hookd/hookd.conf status >$T/status 2>&1
info "hookd status (rc=$?):"; show $T/status

# ---------------------------------------------------------------- the group is usable
if [ "$(drv $GPU)" = vfio-pci ] && [ "$(drv $AUD)" = vfio-pci ]; then
  if out=$(vfio-open $G $GPU 2>&1); then pass "vm_dev_vfio_group_usable: $out"
  else fail "vm_dev_vfio_group_usable: $out"; fi
else
  fail "vm_dev_vfio_group_usable: not tried, group $G is not on vfio-pci"
fi

# ---------------------------------------------------------------- release
# Only meaningful when prepare moved something: otherwise "restored" would be vacuous.
moved=$(drv $GPU)/$(drv $AUD)
hook gpuvm release end $T/gpuvm.xml
sleep 0.5   # snd_hda_intel probes asynchronously
info "release: rc=$RC; now $(state)"
[ -s $T/err ] && show $T/err
why=""
[ "$moved" = vfio-pci/vfio-pci ] || why="$why nothing to restore (after prepare: $moved)"
[ $RC = 0 ] || why="$why exit=$RC"
[ "$(drv $GPU)" = "$ORIG_GPU" ] || why="$why $GPU on $(drv $GPU) (was $ORIG_GPU)"
[ "$(drv $AUD)" = "$ORIG_AUD" ] || why="$why $AUD on $(drv $AUD) (was $ORIG_AUD)"
[ "$(ovr $GPU)" = "(null)" ] || why="$why $GPU driver_override='$(ovr $GPU)'"
[ "$(ovr $AUD)" = "(null)" ] || why="$why $AUD driver_override='$(ovr $AUD)'"
[ ! -e $JOURNAL ] || why="$why $JOURNAL still there"
[ -z "$why" ] && pass vm_release_restores_original_drivers || fail "vm_release_restores_original_drivers:$why"

# ---------------------------------------------------------------- non-viable group
# Only function 0, companions off: 01:00.1 stays on snd_hda_intel, so the group could never
# be used by QEMU. hookd must refuse, name the culprit, and leave everything as it was.
domain_xml gpuvm2 6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1002 >$T/gpuvm2.xml
vm_ini gpuvm2 $GPU no
before=$(state)
hook gpuvm2 prepare begin $T/gpuvm2.xml
sleep 0.5
info "prepare gpuvm2: rc=$RC, stderr $(wc -l <$T/err) line(s); now $(state)"
[ -s $T/err ] && show $T/err
why=""
case "$before" in *"$AUD=$ORIG_AUD/(null)"*) ;; *) why="$why precondition: $AUD not on $ORIG_AUD before the call" ;; esac
[ $RC = 1 ] || why="$why exit=$RC (want 1)"
grep -q "$AUD" $T/err || why="$why stderr does not name $AUD"
[ "$(wc -l <$T/err)" = 1 ] || why="$why stderr has $(wc -l <$T/err) lines (want 1)"
[ "$(state)" = "$before" ] || why="$why state changed: $before -> $(state)"
[ ! -e /run/hookd/6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1002.journal ] || why="$why journal left behind"
[ -z "$why" ] && pass vm_prepare_refuses_non_viable_group || fail "vm_prepare_refuses_non_viable_group:$why"

# ---------------------------------------------------------------- hookd run (CLI) round trip
$CLI --conf /etc/hookd/hookd.conf run gpuvm prepare --xml $T/gpuvm.xml >$T/out 2>$T/err; r1=$?
s1="$(drv $GPU)/$(drv $AUD)"
$CLI --conf /etc/hookd/hookd.conf run gpuvm release --xml $T/gpuvm.xml >>$T/out 2>>$T/err; r2=$?
sleep 0.5
if [ $r1 = 0 ] && [ $r2 = 0 ] && [ "$s1" = vfio-pci/vfio-pci ] && [ "$(drv $GPU)/$(drv $AUD)" = "$ORIG_GPU/$ORIG_AUD" ]; then
  pass vm_cli_run_prepare_release
else
  fail "vm_cli_run_prepare_release: prepare rc=$r1 -> $s1, release rc=$r2 -> $(drv $GPU)/$(drv $AUD)"; show $T/err
fi

# ---------------------------------------------------------------- hookd restore
hook gpuvm prepare begin $T/gpuvm.xml; r1=$RC
s1="$(drv $GPU)/$(drv $AUD)"
$CLI --conf /etc/hookd/hookd.conf restore gpuvm >$T/out 2>$T/err; r2=$?
sleep 0.5
if [ $r1 = 0 ] && [ "$s1" = vfio-pci/vfio-pci ] && [ $r2 = 0 ] && [ "$(state)" = "$before" ] && [ ! -e $JOURNAL ]; then
  pass vm_cli_restore_reverts_journal
else
  fail "vm_cli_restore_reverts_journal: prepare rc=$r1 -> $s1, restore rc=$r2 -> $(state), journal $([ -e $JOURNAL ] && echo left || echo gone)"
  show $T/out $T/err
  hook gpuvm release end $T/gpuvm.xml   # leave the devices as the next tests expect
fi

# ---------------------------------------------------------------- libvirt's full call order
# A successful start, then a destroy: prepare, start, started ... stopped, release.
why=""
for ph in "prepare begin" "start begin" "started begin"; do
  hook gpuvm $ph $T/gpuvm.xml
  [ $RC = 0 ] || why="$why $ph exit=$RC"
  [ "$(drv $GPU)/$(drv $AUD)" = vfio-pci/vfio-pci ] || why="$why after $ph: $(drv $GPU)/$(drv $AUD)"
done
hook gpuvm stopped end $T/gpuvm.xml
[ $RC = 0 ] || why="$why stopped exit=$RC"
[ "$(drv $GPU)/$(drv $AUD)" = vfio-pci/vfio-pci ] || why="$why after stopped: $(drv $GPU)/$(drv $AUD) (release, not stopped, gives devices back)"
hook gpuvm release end $T/gpuvm.xml
[ $RC = 0 ] || why="$why release exit=$RC"
sleep 0.5
[ "$(state)" = "$before" ] || why="$why after release: $(state)"
[ ! -e $JOURNAL ] || why="$why journal left"
[ -z "$why" ] && pass vm_hook_libvirt_start_destroy_sequence || { fail "vm_hook_libvirt_start_destroy_sequence:$why"; show $T/err; }

# ---------------------------------------------------------------- a VM without an INI
domain_xml plainvm 6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1003 >$T/plainvm.xml
hook plainvm prepare begin $T/plainvm.xml
if [ $RC = 0 ] && [ ! -s $T/err ] && [ "$(state)" = "$before" ] && ! ls /run/hookd 2>/dev/null | grep -q 1003; then
  pass vm_hook_without_ini_changes_nothing
else
  fail "vm_hook_without_ini_changes_nothing: exit=$RC, $(state)"; show $T/err
fi

# ---------------------------------------------------------------- a NIC alone in its group
cat >$T/nicvm.xml <<'XML'
<domain type='kvm'><name>nicvm</name><uuid>6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1004</uuid>
  <memory unit='KiB'>1048576</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os>
  <devices><hostdev mode='subsystem' type='pci' managed='yes'>
    <source><address domain='0x0000' bus='0x02' slot='0x00' function='0x0'/></source>
  </hostdev></devices></domain>
XML
vm_ini nicvm auto yes
hook nicvm prepare begin $T/nicvm.xml; r1=$RC
s1="$(drv $NIC) $(drv $GPU)/$(drv $AUD)"
hook nicvm release end $T/nicvm.xml; r2=$RC
sleep 0.5
if [ $r1 = 0 ] && [ "$s1" = "vfio-pci $ORIG_GPU/$ORIG_AUD" ] && [ $r2 = 0 ] && [ "$(state)" = "$before" ]; then
  pass vm_nic_round_trip
else
  fail "vm_nic_round_trip: prepare rc=$r1 -> $s1, release rc=$r2 -> $(state)"; show $T/err
fi

# ---------------------------------------------------------------- failure part-way: rollback
# vfio-pci refuses bridges (its probe fails for a non-type-0 header), so listing root port
# 00:1c.1 after the GPU's functions makes a real kernel step fail after others succeeded.
# Whatever step fails, the promise is the same: exit 1, one line, everything as before.
RP=0000:00:1c.1
vm_ini rbvm "$GPU, $AUD, $RP" no
domain_xml rbvm 6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1005 >$T/rbvm.xml
rp_before=$(drv $RP)/$(ovr $RP)
$CLI --conf /etc/hookd/hookd.conf plan rbvm --xml $T/rbvm.xml >$T/plan 2>&1
info "hookd plan rbvm (rc=$?), steps: $(grep -c '^ *[0-9]*\. ' $T/plan)"; grep '^ *[0-9]*\. ' $T/plan | show
hook rbvm prepare begin $T/rbvm.xml
sleep 0.5
info "prepare rbvm: rc=$RC, stderr $(wc -l <$T/err) line(s); now $(state) $RP=$(drv $RP)/$(ovr $RP)"
[ -s $T/err ] && show $T/err
why=""
[ $RC = 1 ] || why="$why exit=$RC (want 1)"
[ "$(wc -l <$T/err)" = 1 ] || why="$why stderr has $(wc -l <$T/err) lines (want 1)"
[ "$(state)" = "$before" ] || why="$why state changed: $before -> $(state)"
[ "$(drv $RP)/$(ovr $RP)" = "$rp_before" ] || why="$why $RP: $rp_before -> $(drv $RP)/$(ovr $RP)"
[ ! -e /run/hookd/6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b1005.journal ] || why="$why journal left behind"
[ -z "$why" ] && pass vm_prepare_failure_rolls_back || fail "vm_prepare_failure_rolls_back:$why"

info "vfio modules after all releases: $(lsmod | awk 'NR>1{print $1}' | grep -e vfio -e irqbypass | tr '\n' ' ')"
echo "$P passed, $F failed"
[ $F -eq 0 ]
