#!/bin/sh
# Guest test for [cpus] (run by rig.sh inside a 4-vCPU QEMU guest, as root): hookd confines the
# host's cgroup v2 slices with cpuset.cpus, moves IRQ affinity, default_smp_affinity and the
# workqueue cpumask to the host's CPUs, and release puts every live file back as it was.
# Prints "@@T PASS|FAIL|INFO" lines and ends with "N passed, N failed".
. /hookd-test/lib.sh

T=/tmp/hookd-cpus
CG=/sys/fs/cgroup
SLICES="system.slice user.slice init.scope"
WQ=/sys/devices/virtual/workqueue/cpumask
mkdir -p $T
write_conf /etc/hookd/hookd.conf /tmp/hookd.log

# domain_xml NAME UUID: 2 vCPUs pinned to CPUs 2 and 3
cat >$T/cpuvm.xml <<'EOF'
<domain type='kvm' id='1'>
  <name>cpuvm</name>
  <uuid>6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b2001</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune>
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
</domain>
EOF
ini() { { echo '[cpus]'; printf '%s\n' "$@"; } >/etc/hookd/hooks.d/cpuvm.ini; chmod 0644 /etc/hookd/hooks.d/cpuvm.ini; }
hook() {
  env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    timeout 60 $HOOK cpuvm "$1" "$2" - <$T/cpuvm.xml >$T/out 2>$T/err
  RC=$?
}
# snapshot FILE: every live value [cpus] may touch, one "path value" line each
snapshot() {
  { for s in $SLICES; do
      echo "$CG/$s/cpuset.cpus '$(cat $CG/$s/cpuset.cpus 2>/dev/null)'"
      echo "$CG/$s/cpuset.cpus.effective '$(cat $CG/$s/cpuset.cpus.effective 2>/dev/null)'"
    done
    echo "$CG/cgroup.subtree_control '$(cat $CG/cgroup.subtree_control)'"
    echo "/proc/irq/default_smp_affinity $(cat /proc/irq/default_smp_affinity)"
    echo "$WQ $(cat $WQ)"
    for d in /proc/irq/[0-9]*; do echo "$d/smp_affinity_list $(cat $d/smp_affinity_list)"; done
  } >"$1"
}
allowed() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$1/status; }

# ---------------------------------------------------------------- setup
info "kernel $(uname -r); online CPUs $(cat /sys/devices/system/cpu/online)"
[ "$(cat /sys/devices/system/cpu/online)" = 0-3 ] || fail "setup: want 4 online CPUs (HOOKD_VM_SMP=4), have $(cat /sys/devices/system/cpu/online)"
mkdir -p $CG
mount -t cgroup2 none $CG || fail "setup: mount cgroup2"
echo +cpuset >$CG/cgroup.subtree_control || fail "setup: enable cpuset in the root"
for s in $SLICES; do mkdir -p $CG/$s; done
sleep 600 &
SLEEPER=$!
echo $SLEEPER >$CG/system.slice/cgroup.procs || fail "setup: move a process into system.slice"
info "root subtree_control: $(cat $CG/cgroup.subtree_control); sleeper $SLEEPER allowed $(allowed $SLEEPER)"
snapshot $T/before
info "before:"; show $T/before

# ---------------------------------------------------------------- prepare
ini 'host = auto' 'irqs = yes' 'workqueues = yes'
$CLI --conf /etc/hookd/hookd.conf plan cpuvm --xml $T/cpuvm.xml >$T/plan 2>&1
info "hookd plan cpuvm (rc=$?):"; show $T/plan
hook prepare begin
info "prepare: rc=$RC"; [ -s $T/err ] && show $T/err
[ $RC = 0 ] && pass vm_cpus_prepare_succeeds || fail "vm_cpus_prepare_succeeds: exit $RC"

why=""
for s in $SLICES; do
  [ "$(cat $CG/$s/cpuset.cpus)" = 0-1 ] || why="$why $s cpuset.cpus='$(cat $CG/$s/cpuset.cpus)'"
  [ "$(cat $CG/$s/cpuset.cpus.effective)" = 0-1 ] || why="$why $s effective='$(cat $CG/$s/cpuset.cpus.effective)'"
done
[ "$(allowed $SLEEPER)" = 0-1 ] || why="$why sleeper in system.slice allowed $(allowed $SLEEPER)"
[ -z "$why" ] && pass "vm_cpus_cgroup_cpuset_applied (slices 0-1, a process in system.slice allowed $(allowed $SLEEPER))" ||
  fail "vm_cpus_cgroup_cpuset_applied:$why"

moved=0 kept=0 why=""
while read -r f v; do
  case "$f" in /proc/irq/[0-9]*) ;; *) continue ;; esac
  now=$(cat "$f" 2>/dev/null) || continue
  if [ "$now" = 0-1 ]; then moved=$((moved+1))
  elif [ "$now" = "$v" ]; then kept=$((kept+1)); info "IRQ $f kept at $v (refused by the kernel: managed or per-CPU)"
  else why="$why $f=$now(was $v)"; fi
done <$T/before
grep -H . /proc/irq/[0-9]*/smp_affinity_list | sed 's|/proc/irq/||; s|/smp_affinity_list:|=|' | tr '\n' ' ' >$T/irqs
info "IRQ affinity now: $(cat $T/irqs)"
[ -z "$why" ] && [ $moved -gt 0 ] && pass "vm_cpus_irq_affinity_moved ($moved moved to 0-1, $kept refused and kept)" ||
  fail "vm_cpus_irq_affinity_moved: moved=$moved kept=$kept wrong:$why"
d=$(cat /proc/irq/default_smp_affinity) w=$(cat $WQ)
[ "$d" = 3 ] && [ "$w" = 3 ] && pass "vm_cpus_default_affinity_and_workqueues (default_smp_affinity $d, workqueue cpumask $w)" ||
  fail "vm_cpus_default_affinity_and_workqueues: default_smp_affinity $d, workqueue cpumask $w (want 3)"

# ---------------------------------------------------------------- release
hook release end
info "release: rc=$RC"; [ -s $T/err ] && show $T/err
snapshot $T/after
# system.slice holds the sleeper: the kernel refuses to empty its cpuset.cpus again (ENOSPC), so
# hookd writes the parent's effective CPUs (0-3, the same set); everything else exactly as before.
sed "s|^$CG/system.slice/cpuset.cpus ''\$|$CG/system.slice/cpuset.cpus '0-3'|" $T/before >$T/expected
if [ $RC = 0 ] && cmp -s $T/expected $T/after; then
  pass "vm_cpus_release_restores_everything (slices, controller, every IRQ, default, workqueues; populated system.slice as 0-3)"
else
  fail "vm_cpus_release_restores_everything: exit $RC; expected/after differ:"; diff $T/expected $T/after | show
fi
# the hook's stderr carries only a failure line; its step log (log = /tmp/hookd.log) says why
grep -q ENOSPC /tmp/hookd.log && pass "vm_cpus_release_explains_populated_slice" || fail "vm_cpus_release_explains_populated_slice: $(grep cpuset /tmp/hookd.log | tail -3)"
[ "$(allowed $SLEEPER)" = 0-3 ] && pass "vm_cpus_process_gets_all_cpus_back" || fail "vm_cpus_process_gets_all_cpus_back: $(allowed $SLEEPER)"
[ ! -e /run/hookd/6a1c5b0e-0d2b-4c5e-9a59-2f0c7a3b2001.journal ] && [ -z "$(ls /run/hookd/shared 2>/dev/null)" ] &&
  pass vm_cpus_no_state_left || fail "vm_cpus_no_state_left: $(ls -R /run/hookd)"

# ---------------------------------------------------------------- controller not enabled: hookd enables it, and disables it again
echo "$SLEEPER" >$CG/cgroup.procs
if echo -cpuset >$CG/cgroup.subtree_control; then
  snapshot $T/before2
  ini 'host = 0'
  hook prepare begin
  r1=$RC; [ -s $T/err ] && show $T/err
  ctl=$(cat $CG/cgroup.subtree_control) sys=$(cat $CG/system.slice/cpuset.cpus 2>&1)
  hook release end
  [ -s $T/err ] && show $T/err
  snapshot $T/after2
  if [ $r1 = 0 ] && [ $RC = 0 ] && [ "$sys" = 0 ] && cmp -s $T/before2 $T/after2 && [ ! -e $CG/system.slice/cpuset.cpus ]; then
    pass "vm_cpus_enables_cpuset_controller_and_disables_it_again (while held: '$ctl', system.slice $sys)"
  else
    fail "vm_cpus_enables_cpuset_controller_and_disables_it_again: prepare $r1, release $RC, while held '$ctl' system.slice '$sys'"
    diff $T/before2 $T/after2 | show
  fi
else
  fail "vm_cpus_enables_cpuset_controller_and_disables_it_again: setup could not disable cpuset"
fi

# ---------------------------------------------------------------- a CPU the guest does not have
ini 'host = 0-9'
snapshot $T/before3
hook prepare begin
snapshot $T/after3
if [ $RC = 1 ] && grep -q '4-9' $T/err && cmp -s $T/before3 $T/after3; then pass "vm_cpus_refuses_cpus_outside_the_host: $(cat $T/err)"
else fail "vm_cpus_refuses_cpus_outside_the_host: exit $RC: $(cat $T/err)"; fi
hook release end

kill $SLEEPER 2>/dev/null
echo "$P passed, $F failed"
[ $F -eq 0 ]
