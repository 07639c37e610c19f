#!/bin/sh
# Guest test for [pin] (run by rig.sh inside QEMU, as root, with HOOKD_VM_SMP=4 CPUs):
# pin-threads stands in for QEMU (threads "CPU 0/KVM", "CPU 1/KVM", "worker"), libvirt's pid file
# points at it, and hookd pins its threads with the real sched_setaffinity. Checked in
# /proc/PID/task/TID/status (Cpus_allowed_list). Prints "@@T PASS|FAIL|INFO" lines and ends with
# "N passed, N failed".
. /hookd-test/lib.sh
T=/tmp/hookd-pin
VM=pinvm
UUID=0a1b2c3d-0000-4000-8000-00000000f1a5
mkdir -p $T /run/libvirt/qemu
write_conf /etc/hookd/hookd.conf stderr

# ini BODY: the VM's [pin] section
ini() { printf '[pin]\n%b' "$1" >/etc/hookd/hooks.d/$VM.ini; chmod 0644 /etc/hookd/hooks.d/$VM.ini; }
# xml CPUTUNE: a running domain with 2 vCPUs
xml() {
  cat >$T/dom.xml <<EOF
<domain type='kvm' id='7'>
  <name>$VM</name>
  <uuid>$UUID</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  $1
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
</domain>
EOF
}
# hookd ARGS: sets RC; output in $T/out, $T/err
hookd() { $CLI "$@" >$T/out 2>$T/err; RC=$?; }
aff() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$QPID/task/$1/status; }
# tid_of NAME: the thread of $QPID with that comm
tid_of() {
  for t in /proc/$QPID/task/*; do
    [ "$(cat $t/comm)" = "$1" ] && { basename $t; return; }
  done
}
# start_qemu: pin-threads with 2 vCPU threads, and libvirt's pid file for it
start_qemu() {
  rm -f $T/ready
  pin-threads 2 >$T/ready &
  QPID=$!
  i=0
  while ! grep -q ready $T/ready 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  echo $QPID >/run/libvirt/qemu/$VM.pid
  V0=$(tid_of "CPU 0/KVM") V1=$(tid_of "CPU 1/KVM") W=$(tid_of worker)
  info "pin-threads pid $QPID: CPU 0/KVM=$V0 CPU 1/KVM=$V1 worker=$W; affinities $(aff $QPID)/$(aff $V0)/$(aff $V1)/$(aff $W)"
}
stop_qemu() { kill -9 $QPID 2>/dev/null; wait $QPID 2>/dev/null; rm -f /run/libvirt/qemu/$VM.pid; }
# check NAME WANT_MAIN WANT_V0 WANT_V1 WANT_WORKER
check() {
  got="$(aff $QPID) $(aff $V0) $(aff $V1) $(aff $W)"
  if [ "$got" = "$2 $3 $4 $5" ]; then pass "$1"; else fail "$1 (main vCPU0 vCPU1 worker: got '$got', want '$2 $3 $4 $5')"; show $T/err; fi
}

ONLINE=$(cat /sys/devices/system/cpu/online)
SIB0=$(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list)
info "kernel $(uname -r); CPUs $ONLINE; siblings: $(for c in /sys/devices/system/cpu/cpu[0-9]*; do printf '%s=%s ' ${c##*/} $(cat $c/topology/thread_siblings_list); done)"
info "L3: $(cat /sys/devices/system/cpu/cpu0/cache/index3/shared_cpu_list 2>/dev/null || echo none)"
[ "$ONLINE" = 0-3 ] || fail "setup: expected 4 CPUs (HOOKD_VM_SMP), have $ONLINE"
[ -x $CLI ] || fail "setup: $CLI missing"

# ---------------------------------------------------------------- map = xml
start_qemu
ini 'map = xml\n'
xml "<cputune><vcpupin vcpu='0' cpuset='3'/><vcpupin vcpu='1' cpuset='2'/><emulatorpin cpuset='0-1'/></cputune>"
hookd plan $VM --xml $T/dom.xml --phase started
if [ $RC = 0 ] && grep -q "<vcpupin vcpu='0' cpuset='3'/>" $T/out && grep -q "CPU 1/KVM" $T/out; then
  pass vm_pin_plan_shows_threads_and_cputune
else fail "vm_pin_plan_shows_threads_and_cputune (rc $RC)"; show $T/out; show $T/err; fi
hookd run $VM started --xml $T/dom.xml
[ $RC = 0 ] || { fail "run started (map = xml): rc $RC"; show $T/err; }
check vm_pin_xml_map_applied 0-1 3 2 0-1
hookd status
grep -q "vcpu0 $QPID/$V0 -> 3 (was '0-3')" $T/out && pass vm_pin_status_shows_pins || { fail vm_pin_status_shows_pins; show $T/out; }
hookd restore $VM
[ $RC = 0 ] || { fail "restore: rc $RC"; show $T/err; }
check vm_pin_restore_while_running 0-3 0-3 0-3 0-3
[ ! -e /run/hookd/$UUID.journal ] && pass vm_pin_restore_removes_journal || fail vm_pin_restore_removes_journal

# ---------------------------------------------------------------- map = auto
ini 'map = auto\n'
xml ""
hookd run $VM started --xml $T/dom.xml
[ $RC = 0 ] || { fail "run started (map = auto): rc $RC"; show $T/err; }
A0=$(aff $V0) A1=$(aff $V1)
info "auto map: vCPU0 -> $A0, vCPU1 -> $A1, emulator -> $(aff $QPID); host keeps CPU 0's core $SIB0"
S=$(cat /sys/devices/system/cpu/cpu$A0/topology/thread_siblings_list 2>/dev/null)
S1=$(cat /sys/devices/system/cpu/cpu$A1/topology/thread_siblings_list 2>/dev/null)
case "$A0$A1" in *[!0-9]*|"") ok=no ;; *) ok=yes ;; esac
# Off the host's core, one CPU each, emulator threads on the host's core; with SMT in the guest
# (KVM and -cpu host; TCG's -cpu max hides threads=2 without topoext) the two share a core.
if [ "$SIB0" = 0 ]; then
  info "the guest shows no SMT siblings: SMT pairing is checked in simulation only"
  S1=$S
fi
if [ $ok = yes ] && [ "$A0" != "$A1" ] && [ "$S" = "$S1" ] && [ "$S" != "$SIB0" ] &&
   [ "$(aff $QPID)" = "$SIB0" ] && [ "$(aff $W)" = "$SIB0" ]; then
  pass vm_pin_auto_map_siblings_off_host
else fail "vm_pin_auto_map_siblings_off_host (vCPUs on '$A0' '$A1', siblings '$S' '$S1', host $SIB0)"; show $T/err; fi
# ---------------------------------------------------------------- QEMU gone, then release
stop_qemu
hookd run $VM release
if [ $RC = 0 ] && [ ! -e /run/hookd/$UUID.journal ]; then pass vm_pin_release_after_exit
else fail "vm_pin_release_after_exit (rc $RC)"; show $T/err; fi
hookd run $VM started --xml $T/dom.xml
if [ $RC = 1 ] && grep -q "QEMU of VM '$VM' not found" $T/err; then pass vm_pin_no_qemu_is_a_clear_error
else fail "vm_pin_no_qemu_is_a_clear_error (rc $RC)"; show $T/err; fi

echo "$P passed, $F failed"
[ $F = 0 ]
