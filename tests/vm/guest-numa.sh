#!/bin/sh
# Guest test on a guest with SMT siblings and two NUMA nodes (run by rig.sh inside QEMU, as root:
# -smp 8,sockets=2,cores=2,threads=2 and HOOKD_VM_NUMA=2, node 0 = CPUs 0-3, node 1 = CPUs 4-7):
#   - [pin] map = auto keeps each vCPU pair on one core's two threads and the VM on one node (the
#     <numatune> node when there is one), off CPU 0's core (the host's);
#   - [hugepages] node = auto reserves on the <numatune> nodes, split evenly, and release gives
#     each node back its own count;
#   - two VMs share the host CPU set ([cpus]), node 0's 2M pool and a [modules] unload, prepared
#     and released interleaved (A, B, A, B): the first release keeps what the other still needs,
#     the last one puts every value back.
# Prints "@@T PASS|FAIL|INFO" lines and ends with "N passed, N failed".
. /hookd-test/lib.sh
T=/tmp/hookd-numa
CG=/sys/fs/cgroup
SLICES="system.slice user.slice init.scope"
NIC=0000:02:00.0
mkdir -p $T /run/libvirt/qemu
write_conf /etc/hookd/hookd.conf $T/hookd.log 30

NODE=/sys/devices/system/node
npool() { cat $NODE/node$1/hugepages/hugepages-2048kB/nr_hugepages; }
sib() { cat /sys/devices/system/cpu/cpu$1/topology/thread_siblings_list; }
node_of() { for n in $NODE/node[0-9]*; do [ -e $n/cpu$1 ] && { echo ${n##*/node}; return; }; done; echo '?'; }
# xml NAME UUID VCPUS MEMORY_KIB EXTRA: a domain ($T/NAME.xml)
xml() {
  cat >$T/$1.xml <<EOF
<domain type='kvm' id='3'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='KiB'>$4</memory>
  <vcpu placement='static'>$3</vcpu>
  $5
  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>
</domain>
EOF
}
ini() { printf '%b' "$2" >/etc/hookd/hooks.d/$1.ini; chmod 0644 /etc/hookd/hooks.d/$1.ini; }
run() { # VM PHASE: sets RC; stderr in $T/err
  timeout 120 $CLI run "$1" "$2" --xml $T/$1.xml >$T/out 2>$T/err
  RC=$?
  [ $RC = 0 ] || { info "$1 $2: exit $RC"; show $T/err; }
}

info "kernel $(uname -r); CPUs $(cat /sys/devices/system/cpu/online); nodes $(cat $NODE/online)"
info "siblings: $(for c in 0 1 2 3 4 5 6 7; do printf 'cpu%s=%s ' $c "$(sib $c)"; done)"
info "node cpus: $(for n in $NODE/node[0-9]*; do printf '%s=%s ' ${n##*/} "$(cat $n/cpulist)"; done)"
# [cpus] governor needs a cpufreq driver: intel_pstate is built in, acpi-cpufreq a module
modprobe acpi_cpufreq >$T/cpufreq 2>&1
info "cpufreq: modprobe acpi_cpufreq: $(tr '\n' ' ' <$T/cpufreq)policies: $(ls /sys/devices/system/cpu/cpufreq 2>&1 | tr '\n' ' ')cpu0: $(ls /sys/devices/system/cpu/cpu0/cpufreq 2>&1 | tr '\n' ' ')"
[ "$(sib 0)" = 0-1 ] && [ "$(cat $NODE/node1/cpulist 2>/dev/null)" = 4-7 ] ||
  fail "setup: want SMT pairs (cpu0 siblings 0-1) and node1 = CPUs 4-7"

# ---------------------------------------------------------------- [pin] map = auto
# pin-threads stands in for QEMU: threads "CPU n/KVM", found through libvirt's pid file
aff() { sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/$QPID/task/$1/status; }
tid_of() { for t in /proc/$QPID/task/*; do [ "$(cat $t/comm)" = "$1" ] && { basename $t; return; }; done; }
start_qemu() { # VM NVCPUS
  rm -f $T/ready
  pin-threads $2 >$T/ready &
  QPID=$!
  i=0; while ! grep -q ready $T/ready 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
  echo $QPID >/run/libvirt/qemu/$1.pid
}
stop_qemu() { kill -9 $QPID 2>/dev/null; wait $QPID 2>/dev/null; rm -f /run/libvirt/qemu/$1.pid; }
# pin_case NAME NVCPUS WANT_NODE NUMATUNE: every vCPU pair on one core, all on WANT_NODE, off core 0
pin_case() {
  xml pinvm 0a1b2c3d-0000-4000-8000-00000000a1a5 $2 1048576 "$4"
  ini pinvm '[pin]\nmap = auto\n'
  start_qemu pinvm $2
  run pinvm started
  got="" why=""
  i=0; while [ $i -lt $2 ]; do got="$got $(aff $(tid_of "CPU $i/KVM"))"; i=$((i+1)); done
  set -- $1 $2 $3 $got
  name=$1 n=$2 want=$3; shift 3
  while [ $# -ge 2 ]; do
    [ "$(sib $1)" = "$(sib $2)" ] && [ "$1" != "$2" ] || why="$why $1,$2 not siblings;"
    shift 2
  done
  for c in $got; do
    case "$c" in *[!0-9]*) why="$why vCPU on '$c';"; continue ;; esac
    [ "$(node_of $c)" = $want ] || why="$why cpu$c on node $(node_of $c);"
    [ "$(sib $c)" = "$(sib 0)" ] && why="$why cpu$c on the host's core;"
  done
  if [ $RC = 0 ] && [ -z "$why" ]; then pass "$name (vCPUs on$got)"; else fail "$name: vCPUs on$got:$why"; show $T/err; fi
  stop_qemu pinvm
  run pinvm release
}
pin_case vm_numa_pin_auto_pairs_siblings_on_one_node 4 1 ""
pin_case vm_numa_pin_auto_prefers_the_numatune_node 2 0 "<numatune><memory mode='strict' nodeset='0'/></numatune>"

# ---------------------------------------------------------------- [hugepages] node = auto, per node
B0=$(npool 0) B1=$(npool 1)
xml hpvm 4a0f7e0c-0000-4000-8000-0000000000c1 1 65536 \
  "<memoryBacking><hugepages/></memoryBacking><numatune><memory mode='strict' nodeset='0-1'/></numatune>"
ini hpvm '[hugepages]\nsize = 2M\nnode = auto\n'
run hpvm prepare
H0=$(npool 0) H1=$(npool 1)
if [ $RC = 0 ] && [ $((H0 - B0)) = 16 ] && [ $((H1 - B1)) = 16 ]; then
  pass "vm_numa_hugepages_auto_splits_over_the_numatune_nodes (node0 $B0->$H0, node1 $B1->$H1)"
else fail "vm_numa_hugepages_auto_splits_over_the_numatune_nodes: node0 $B0->$H0, node1 $B1->$H1 (want +16 each)"; fi
run hpvm release
[ $RC = 0 ] && [ "$(npool 0) $(npool 1)" = "$B0 $B1" ] &&
  pass "vm_numa_hugepages_release_restores_each_node ($(npool 0) $(npool 1))" ||
  fail "vm_numa_hugepages_release_restores_each_node: $(npool 0) $(npool 1), want $B0 $B1"

# ---------------------------------------------------------------- two VMs share cpus, a pool, a module
mkdir -p $CG
mountpoint -q $CG || mount -t cgroup2 none $CG || fail "setup: mount cgroup2"
for s in $SLICES; do mkdir -p $CG/$s; done
snapshot() {
  { for s in $SLICES; do echo "$s cpuset.cpus '$(cat $CG/$s/cpuset.cpus 2>/dev/null)'"; done
    echo "subtree_control '$(cat $CG/cgroup.subtree_control)'"
    echo "node0 $(npool 0) node1 $(npool 1) global $(cat /proc/sys/vm/nr_hugepages)"
    echo "e1000e $([ -e /sys/module/e1000e ] && echo loaded || echo absent) $NIC=$(drv $NIC)"
    echo "journals and shared records: $(ls /run/hookd/*.journal /run/hookd/shared/* 2>/dev/null | tr '\n' ' ')"
  } >"$1"
}
cpus_now() { for s in $SLICES; do printf '%s ' "$(cat $CG/$s/cpuset.cpus 2>/dev/null)"; done; }
mod_now() { [ -e /sys/module/e1000e ] && echo loaded || echo absent; }
SHARE='[cpus]\nhost = 0-1\n[hugepages]\nsize = 2M\nnode = auto\n[modules]\nunload = e1000e\n'
TUNE="<memoryBacking><hugepages/></memoryBacking><numatune><memory mode='strict' nodeset='0'/></numatune>"
xml vma 4a0f7e0c-0000-4000-8000-0000000000d1 2 16384 "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune>$TUNE"
xml vmb 4a0f7e0c-0000-4000-8000-0000000000d2 2 16384 "<cputune><vcpupin vcpu='0' cpuset='4'/><vcpupin vcpu='1' cpuset='5'/></cputune>$TUNE"
ini vma "$SHARE"; ini vmb "$SHARE"
snapshot $T/before
info "before:"; show $T/before
P0=$(npool 0)
step() { # NAME VM PHASE WANT_CPUS WANT_NODE0 WANT_MODULE
  run $2 $3
  got="$(cpus_now)/$(npool 0)/$(mod_now)"
  [ $RC = 0 ] && [ "$got" = "$4/$5/$6" ] && pass "$1 ($got)" || fail "$1: got '$got', want '$4/$5/$6'"
}
step vm_numa_share_a_prepared vma prepare "0-1 0-1 0-1 " $((P0 + 8)) absent
step vm_numa_share_b_adds_its_own_pages vmb prepare "0-1 0-1 0-1 " $((P0 + 16)) absent
step vm_numa_share_a_release_keeps_what_b_holds vma release "0-1 0-1 0-1 " $((P0 + 8)) absent
run vmb release
i=0; while [ "$(drv $NIC)" != e1000e ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
snapshot $T/after
if [ $RC = 0 ] && cmp -s $T/before $T/after && [ "$(drv $NIC)" = e1000e ]; then
  pass "vm_numa_share_last_release_restores_every_value"
else fail "vm_numa_share_last_release_restores_every_value: exit $RC"; diff $T/before $T/after | show; fi

echo "$P passed, $F failed"
[ $F = 0 ]
