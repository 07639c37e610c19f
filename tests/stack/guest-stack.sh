#!/bin/sh
# Guest side of the full-stack layer (tests/stack/run.sh boots it through tests/vm/rig.sh).
# A stock Debian host in miniature: Debian's kernel with AppArmor active, Debian's libvirtd 9.0 and
# virtlogd under the stock profiles in enforce mode, hookd installed from its .deb with dpkg, and
# libvirt's QEMU driver launching a nested TCG qemu-system-x86_64 (no guest OS: a running QEMU is
# enough). Every case asserts what the user sees: virsh's exit code and error, the drivers the
# GPU's functions are bound to, the fds QEMU holds, hookd's journal, AppArmor's denials.
# Kernel command line knobs (rig.sh --append): stack.bench=N (run the start/destroy benchmark N
# times with hookd and with a bash qemu.d dispatcher instead of the cases).
# Result lines: "@@T PASS|FAIL|INFO ..." (guest-lib.sh), then "N passed, N failed".
. /hookd-test/lib.sh
set -u
ms() { awk '{printf "%d", $1*1000}' /proc/uptime; }
denied() { dmesg | grep -c 'apparmor="DENIED"'; }
GPU=0000:01:00.0 AUD=0000:01:00.1
T=/tmp/stack; mkdir -p $T
BENCH=$(sed -n 's/.*stack\.bench=\([0-9]*\).*/\1/p' /proc/cmdline)

# ---------------------------------------------------------------- host setup, as a distro boots
grep -q " /sys/kernel/security " /proc/mounts || mount -t securityfs securityfs /sys/kernel/security
mkdir -p /dev/shm /dev/mqueue /dev/pts
grep -q " /dev/shm " /proc/mounts || mount -t tmpfs -o mode=1777 tmpfs /dev/shm
grep -q " /dev/mqueue " /proc/mounts || mount -t mqueue mqueue /dev/mqueue
grep -q " /dev/pts " /proc/mounts || mount -t devpts devpts /dev/pts
grep -q " /sys/fs/cgroup " /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /run/libvirt
info "kernel $(uname -r), LSMs $(cat /sys/kernel/security/lsm); $(libvirtd --version)"
for p in usr.sbin.libvirtd usr.lib.libvirt.virt-aa-helper; do
  apparmor_parser -r /etc/apparmor.d/$p >$T/aa.out 2>&1 || { fail "apparmor_parser -r $p"; show $T/aa.out; }
done
if grep -q '^libvirtd (enforce)' /sys/kernel/security/apparmor/profiles &&
   grep -q '^virt-aa-helper (enforce)' /sys/kernel/security/apparmor/profiles; then
  pass "stack_stock_profiles_enforce: Debian's libvirtd and virt-aa-helper profiles loaded in enforce mode"
else
  fail "stack_stock_profiles_enforce: $(tr '\n' ';' </sys/kernel/security/apparmor/profiles)"
fi

# hookd's package, installed with dpkg as a user does (Depends are this guest's staged libraries)
dpkg --force-depends -i /hookd-test/hookd.deb >$T/dpkg.out 2>&1; rc=$?
show $T/dpkg.out
if [ $rc = 0 ] && [ "$(readlink /etc/libvirt/hooks/qemu)" = /usr/sbin/hookd-qemu ] && [ -x /usr/sbin/hookd-apply ]; then
  pass "stack_deb_installs_hook: dpkg -i: /etc/libvirt/hooks/qemu -> $(readlink /etc/libvirt/hooks/qemu)"
else
  fail "stack_deb_installs_hook: dpkg rc=$rc, hook link '$(readlink /etc/libvirt/hooks/qemu)'"
fi
# hookd check judges the installed hook against the profile the kernel has loaded
hookd check >$T/check.out 2>&1; rc=$?
case "$rc:$(cat $T/check.out)" in
  0:*"/etc/libvirt/hooks/qemu: ok:"*) pass "stack_check_says_hook_allowed: $(grep 'hooks/qemu: ok' $T/check.out)" ;;
  *) fail "stack_check_says_hook_allowed: rc=$rc"; show $T/check.out ;;
esac
B0=$(drv $GPU) B1=$(drv $AUD) G=$(grp $GPU)
info "GPU $GPU=$B0 $AUD=$B1, IOMMU group $G: $(ls /sys/kernel/iommu_groups/$G/devices | tr '\n' ' ')"

# ---------------------------------------------------------------- libvirt
LVPID=""
start_libvirtd() {
  local t i=0
  [ -s /run/virtlogd.pid ] && kill -0 "$(cat /run/virtlogd.pid)" 2>/dev/null || virtlogd -d
  t=$(ms)
  libvirtd -d || { fail "libvirtd -d failed"; return 1; }
  while ! virsh -q version >$T/version.out 2>&1; do
    i=$((i + 1)); [ $i -gt 600 ] && { fail "libvirtd never answered"; show $T/version.out; return 1; }
    sleep 0.2
  done
  LVPID=$(cat /run/libvirtd.pid)
  info "libvirtd pid $LVPID ($(cat /proc/$LVPID/attr/current)) ready in $(( $(ms) - t )) ms"
}
stop_libvirtd() {
  local i=0
  [ -n "$LVPID" ] || return 0
  kill "$LVPID" 2>/dev/null
  while kill -0 "$LVPID" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  LVPID=""
}
# domain NAME UUID [MANAGED]: a disk-less TCG domain; with MANAGED, one PCI hostdev: the GPU's function 0
domain() {
  hd=""
  [ -n "${3:-}" ] && hd="<hostdev mode='subsystem' type='pci' managed='$3'><source><address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></source></hostdev>"
  cat >$T/$1.xml <<EOF
<domain type='qemu'><name>$1</name><uuid>$2</uuid><memory unit='MiB'>64</memory>
<vcpu placement='static'>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><controller type='usb' model='none'/>
<video><model type='none'/></video><memballoon model='none'/>$hd</devices></domain>
EOF
  virsh -q define $T/$1.xml >$T/define.out 2>&1 || { fail "define $1"; show $T/define.out; }
}
ini() { # NAME CONTENT: /etc/hookd/hooks.d/NAME.ini, root-owned 0644 as hookd requires
  printf "$2" >/etc/hookd/hooks.d/$1.ini; chmod 0644 /etc/hookd/hooks.d/$1.ini
}
start() { # VM: sets RC, OUT, DT (ms)
  local t; t=$(ms); OUT=$(virsh -q start "$1" 2>&1); RC=$?; DT=$(( $(ms) - t ))
}
destroy() { # VM: sets RC, OUT, DT (ms: until the GPU is back on its host drivers, at most 10 s)
  local t i=0; t=$(ms); OUT=$(virsh -q destroy "$1" 2>&1); RC=$?
  while { [ "$(drv $GPU)" != "$B0" ] || [ "$(drv $AUD)" != "$B1" ]; } && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  DT=$(( $(ms) - t ))
}
qemu_pid() { cat /run/libvirt/qemu/$1.pid 2>/dev/null; }
on_host() { [ "$(drv $GPU)" = "$B0" ] && [ "$(drv $AUD)" = "$B1" ]; }
journal() { ls /run/hookd/*.journal 2>/dev/null | tr '\n' ' '; }
diag() {
  info "diagnostics: libvirtd.log"; tail -n 15 /var/log/libvirt/libvirtd.log | show
  [ -f /var/log/libvirt/qemu/$1.log ] && { info "qemu log"; tail -n 10 /var/log/libvirt/qemu/$1.log | show; }
  dmesg | grep 'apparmor="DENIED"' | tail -n 5 | show
}

# the hook's view: on the gpu VM's start it must run unconfined (PUx), not as libvirtd
start_libvirtd || { echo "$P passed, $((F + 1)) failed"; exit 1; }
D0=$(denied)

if [ -n "$BENCH" ]; then
  . /hookd-test/bench.sh
  stop_libvirtd
  echo "$P passed, $F failed"
  [ $F = 0 ]; exit
fi

# ---------------------------------------------------------------- 1. a VM without INI
domain plainvm 6c2f6a43-6f0e-4c5b-9d55-000000000101
start plainvm
if [ $RC = 0 ] && [ "$(virsh -q domstate plainvm)" = running ]; then
  pass "stack_vm_without_ini_starts: virsh start plainvm exit 0 in $DT ms"
else fail "stack_vm_without_ini_starts: rc=$RC $OUT"; diag plainvm; fi
destroy plainvm
[ $RC = 0 ] && pass "stack_vm_without_ini_stops: virsh destroy exit 0" || fail "stack_vm_without_ini_stops: rc=$RC $OUT"

# ---------------------------------------------------------------- 2. GPU VM, managed='no'
domain gpuvm 6c2f6a43-6f0e-4c5b-9d55-000000000501 no
ini gpuvm '[vfio]\ndevices = auto\ncompanions = yes\n'
gpu_cycle() { # CYCLE RESTART(yes|no)
  start gpuvm
  if [ $RC != 0 ]; then fail "stack_gpu_vm_starts ($1): rc=$RC $OUT"; diag gpuvm; return; fi
  pass "stack_gpu_vm_starts ($1): virsh start gpuvm exit 0 in $DT ms"
  [ "$(drv $GPU)" = vfio-pci ] && [ "$(drv $AUD)" = vfio-pci ] &&
    pass "stack_gpu_functions_on_vfio ($1): $GPU and $AUD on vfio-pci while gpuvm runs" ||
    fail "stack_gpu_functions_on_vfio ($1): $GPU=$(drv $GPU) $AUD=$(drv $AUD)"
  Q=$(qemu_pid gpuvm)
  ls -l /proc/$Q/fd 2>/dev/null | grep -q " /dev/vfio/$G\$" &&
    pass "stack_qemu_holds_vfio_group ($1): qemu pid $Q holds /dev/vfio/$G open" ||
    fail "stack_qemu_holds_vfio_group ($1): qemu pid '$Q' fds: $(ls -l /proc/$Q/fd 2>&1 | grep -c vfio) vfio"
  label=$(cat /proc/$Q/attr/current 2>/dev/null)
  case "$label" in libvirt-6c2f6a43-6f0e-4c5b-9d55-000000000501*enforce*)
    pass "stack_qemu_confined ($1): qemu runs under virt-aa-helper's per-VM profile: $label" ;;
    *) fail "stack_qemu_confined ($1): qemu label '$label'" ;; esac
  [ -n "$(journal)" ] && info "journal while running: $(journal)" || fail "stack_journal_while_running ($1): none"
  if [ "$2" = yes ]; then
    stop_libvirtd; start_libvirtd
    [ "$(virsh -q domstate gpuvm)" = running ] && [ "$(drv $GPU)" = vfio-pci ] &&
      pass "stack_libvirtd_restart_keeps_vm: gpuvm still running on vfio-pci after libvirtd restarted" ||
      fail "stack_libvirtd_restart_keeps_vm: state $(virsh -q domstate gpuvm), $GPU=$(drv $GPU)"
  fi
  destroy gpuvm
  if [ $RC = 0 ] && on_host && [ -z "$(journal)" ]; then
    pass "stack_gpu_vm_destroy_restores ($1): virsh destroy exit 0; $GPU=$(drv $GPU) $AUD=$(drv $AUD) after $DT ms; journal gone"
  else
    fail "stack_gpu_vm_destroy_restores ($1): rc=$RC $OUT; $GPU=$(drv $GPU) $AUD=$(drv $AUD); journal '$(journal)'"; diag gpuvm
  fi
}
gpu_cycle first no
gpu_cycle restart yes

# ---------------------------------------------------------------- 3. an invalid INI
domain badvm 6c2f6a43-6f0e-4c5b-9d55-000000000601 no
ini badvm '[vfio]\ndevices = auto\ncolour = blue\n'
start badvm
case "$RC:$OUT" in
  1:*"/etc/hookd/hooks.d/badvm.ini:3"*) pass "stack_invalid_ini_refused: virsh start fails with hookd's file:line: $(echo "$OUT" | tail -n 1)" ;;
  *) fail "stack_invalid_ini_refused: rc=$RC $OUT" ;;
esac
on_host && [ -z "$(journal)" ] && pass "stack_invalid_ini_changes_nothing: GPU on $B0/$B1, no journal" ||
  fail "stack_invalid_ini_changes_nothing: $GPU=$(drv $GPU) $AUD=$(drv $AUD) journal '$(journal)'"

# ---------------------------------------------------------------- 4. prepare fails part-way
domain failvm 6c2f6a43-6f0e-4c5b-9d55-000000000701 no
ini failvm '[vfio]\ndevices = auto\ncompanions = yes\n\n[exec refuse]\nprepare = /bin/false\n'
start failvm
[ $RC = 1 ] && case "$OUT" in *"Hook script execution failed"*"/bin/false"*"rolled back"*) true ;; *) false ;; esac &&
  pass "stack_failed_prepare_refused: virsh start fails naming the step: $(echo "$OUT" | tail -n 1)" ||
  fail "stack_failed_prepare_refused: rc=$RC $(echo "$OUT" | tail -n 1)"
on_host && [ -z "$(journal)" ] && pass "stack_failed_prepare_rolled_back: GPU back on $B0/$B1, no journal" ||
  fail "stack_failed_prepare_rolled_back: $GPU=$(drv $GPU) $AUD=$(drv $AUD) journal '$(journal)'"

# ---------------------------------------------------------------- 5. managed='yes': libvirt and hookd both move the device
domain mgdvm 6c2f6a43-6f0e-4c5b-9d55-000000000801 yes
ini mgdvm '[vfio]\ndevices = auto\ncompanions = yes\n'
start mgdvm
if [ $RC = 0 ]; then
  pass "stack_managed_yes_starts: virsh start exit 0 in $DT ms ($GPU=$(drv $GPU) $AUD=$(drv $AUD))"
  destroy mgdvm
  on_host && [ -z "$(journal)" ] &&
    pass "stack_managed_yes_destroy_restores: $GPU=$(drv $GPU) $AUD=$(drv $AUD) after $DT ms, journal gone" ||
    { fail "stack_managed_yes_destroy_restores: $GPU=$(drv $GPU) $AUD=$(drv $AUD) journal '$(journal)'"; diag mgdvm; }
else
  fail "stack_managed_yes_starts: rc=$RC $OUT"; diag mgdvm
fi

# ---------------------------------------------------------------- 6. AppArmor said no to nothing
n=$(( $(denied) - D0 ))
if [ "$n" = 0 ] && [ "$(denied)" = 0 ]; then
  pass "stack_no_apparmor_denials: 0 apparmor=\"DENIED\" lines (libvirtd, the hook, per-VM QEMU profiles)"
else
  fail "stack_no_apparmor_denials: $(denied) DENIED"; dmesg | grep 'apparmor="DENIED"' | sort | uniq -c | head -n 10 | show
fi
# ---------------------------------------------------------------- 7. control: hookd 0.1.0's layout is denied
# The layer must see a broken install: with the hook where 0.1.0 put it (/usr/libexec/hookd), the
# stock profile denies libvirtd the exec and even a VM without INI cannot start.
mkdir -p /usr/libexec/hookd
cp /usr/sbin/hookd-qemu /usr/libexec/hookd/qemu; cp /usr/sbin/hookd-apply /usr/libexec/hookd/hookd-apply
ln -sfn /usr/libexec/hookd/qemu /etc/libvirt/hooks/qemu
start plainvm
case "$RC:$OUT" in
  1:*"cannot execute binary /etc/libvirt/hooks/qemu: Permission denied"*)
    dmesg | grep -q 'apparmor="DENIED" operation="exec".*name="/usr/libexec/hookd/qemu"' &&
      pass "stack_control_legacy_layout_denied: 0.1.0's layout fails every start: $(echo "$OUT" | tail -n 1 | sed 's/.*: libvirt: *//')" ||
      fail "stack_control_legacy_layout_denied: start failed but no exec denial in dmesg" ;;
  *) fail "stack_control_legacy_layout_denied: rc=$RC $(echo "$OUT" | tail -n 1)"; virsh -q destroy plainvm >/dev/null 2>&1 ;;
esac
rm -f /etc/hookd/hooks.d/badvm.ini   # its own error would make check exit 2 too
hookd check >$T/check.out 2>&1; rc=$?
[ $rc = 2 ] && grep -q "^hookd: /etc/libvirt/hooks/qemu: .*/usr/libexec/hookd/qemu" $T/check.out && grep -q "Fix:" $T/check.out &&
  pass "stack_check_says_legacy_layout_denied: hookd check exit 2: $(grep '^hookd: /etc/libvirt/hooks/qemu' $T/check.out | cut -c1-200)" ||
  { fail "stack_check_says_legacy_layout_denied: rc=$rc"; show $T/check.out; }
ln -sfn /usr/sbin/hookd-qemu /etc/libvirt/hooks/qemu; rm -rf /usr/libexec/hookd
info "hook runs: $(grep -c . /var/log/libvirt/libvirtd.log 2>/dev/null) libvirtd.log lines; errors: $(grep -c ' error ' /var/log/libvirt/libvirtd.log 2>/dev/null)"
stop_libvirtd
echo "$P passed, $F failed"
[ $F = 0 ]
