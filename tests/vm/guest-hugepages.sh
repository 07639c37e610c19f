#!/bin/sh
# Guest test for [hugepages] against the guest's real kernel (run by rig.sh inside QEMU, as root).
# HP_MODE (from /hookd-test/env): 2m (default: 2M pages, two VMs interleaved, a partial allocation
# rolled back, an impossible count) or 1g (1G pages; needs a guest of >= 6 GiB).
# Prints "@@T PASS|FAIL|INFO" lines and ends with "N passed, N failed".
. /hookd-test/lib.sh
check() { # NAME GOT WANT
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi
}

MODE=${HP_MODE:-2m}
T=/tmp/hookd-hp
mkdir -p $T
write_conf $T/hookd.conf stderr 30

meminfo() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" /proc/meminfo; }
pool() { cat /sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages; }
free_pages() { cat /sys/kernel/mm/hugepages/hugepages-$1kB/free_hugepages; }
# vm NAME UUID MEMORY_KIB INI_BODY PAGE_XML: the VM's INI and domain XML ($T/NAME.xml)
vm() {
  printf '[hugepages]\n%b' "$4" >/etc/hookd/hooks.d/$1.ini
  chown 0:0 /etc/hookd/hooks.d/$1.ini; chmod 0644 /etc/hookd/hooks.d/$1.ini
  cat >$T/$1.xml <<EOF
<domain type='kvm'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='KiB'>$3</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <memoryBacking><hugepages>$5</hugepages></memoryBacking>
</domain>
EOF
}
run() { # VM PHASE: sets RC; stderr in $T/err
  timeout 120 $CLI --conf $T/hookd.conf run "$1" "$2" --xml $T/$1.xml >$T/out 2>$T/err
  RC=$?
  [ $RC = 0 ] || show $T/err
}
UA=4a0f7e0c-0000-4000-8000-00000000000a UB=4a0f7e0c-0000-4000-8000-00000000000b

[ -x $CLI ] || fail "setup: $CLI missing"
info "kernel $(uname -r); MemTotal $(meminfo MemTotal) kB; Hugepagesize $(meminfo Hugepagesize) kB; sizes: $(ls /sys/kernel/mm/hugepages | tr '\n' ' ')"

if [ "$MODE" = 2m ]; then
  T0=$(meminfo HugePages_Total)
  info "before: HugePages_Total $T0, free $(meminfo HugePages_Free)"
  vm hpa $UA 65536 'size = 2M\npages = auto\nnode = any\n' ''
  vm hpb $UB 32768 'size = 2M\nnode = any\n' ''

  # A prepare, B prepare, A release, B release
  run hpa prepare; check vm_hugepages_2m_prepare_a_exit "$RC" 0
  check vm_hugepages_2m_reserved_for_a "$(meminfo HugePages_Total)" $((T0 + 32))
  check vm_hugepages_2m_read_back_matches "$(pool 2048)" "$(meminfo HugePages_Total)"
  run hpb prepare; check vm_hugepages_2m_prepare_b_exit "$RC" 0
  check vm_hugepages_2m_b_adds_its_own "$(meminfo HugePages_Total)" $((T0 + 48))
  run hpa release; check vm_hugepages_2m_release_a_exit "$RC" 0
  check vm_hugepages_2m_a_returns_only_its_pages "$(meminfo HugePages_Total)" $((T0 + 16))
  run hpb release; check vm_hugepages_2m_release_b_exit "$RC" 0
  check vm_hugepages_2m_abab_ends_at_original "$(meminfo HugePages_Total)" "$T0"

  # A prepare, B prepare, B release, A release
  run hpa prepare; run hpb prepare
  check vm_hugepages_2m_abba_both_held "$(meminfo HugePages_Total)" $((T0 + 48))
  run hpb release
  check vm_hugepages_2m_b_release_keeps_a "$(meminfo HugePages_Total)" $((T0 + 32))
  run hpa release
  check vm_hugepages_2m_abba_ends_at_original "$(meminfo HugePages_Total)" "$T0"
  check vm_hugepages_2m_no_journal_left "$(ls /run/hookd/*.journal 2>/dev/null)" ""

  # More than the guest can give, but less than MemTotal: the kernel allocates part of it.
  N=$(( $(meminfo MemTotal) / 2048 - 8 ))
  vm hpa $UA 65536 "size = 2M\npages = $N\nnode = any\n" ''
  run hpa prepare
  check vm_hugepages_2m_partial_fails "$RC" 1
  if grep -q "asked $N, got [0-9]*, free [0-9]*" $T/err && grep -q "rolled back to nr_hugepages $T0" $T/err; then
    pass vm_hugepages_2m_partial_message_has_asked_got_free
  else fail vm_hugepages_2m_partial_message_has_asked_got_free; fi
  check vm_hugepages_2m_partial_rolled_back_exactly "$(meminfo HugePages_Total)" "$T0"
  check vm_hugepages_2m_partial_no_journal "$(ls /run/hookd/*.journal 2>/dev/null)" ""

  vm hpa $UA 65536 'size = 2M\npages = 100000000\nnode = any\n' ''
  run hpa prepare
  check vm_hugepages_2m_impossible_refused "$RC" 1
  grep -q impossible $T/err && pass vm_hugepages_2m_impossible_says_so || fail vm_hugepages_2m_impossible_says_so
  check vm_hugepages_2m_impossible_changes_nothing "$(meminfo HugePages_Total)" "$T0"
else
  D=/sys/kernel/mm/hugepages/hugepages-1048576kB
  if [ ! -d $D ]; then
    fail "vm_hugepages_1g_pool_exists ($D missing: no pdpe1gb on this CPU?)"
  else
    G0=$(pool 1048576)
    H0=$(meminfo Hugetlb)
    info "before: 1G nr_hugepages $G0, Hugetlb $H0 kB"
    vm hp1g $UA 2097152 '' "<page size='1' unit='G'/>"
    $CLI --conf $T/hookd.conf plan hp1g --xml $T/hp1g.xml >$T/plan 2>&1; show $T/plan
    run hp1g prepare; check vm_hugepages_1g_prepare_exit "$RC" 0
    check vm_hugepages_1g_reserved "$(pool 1048576)" $((G0 + 2))
    check vm_hugepages_1g_free "$(free_pages 1048576)" $((G0 + 2))
    check vm_hugepages_1g_meminfo_hugetlb "$(meminfo Hugetlb)" $((H0 + 2 * 1048576))
    run hp1g release; check vm_hugepages_1g_release_exit "$RC" 0
    check vm_hugepages_1g_returned "$(pool 1048576)" "$G0"
    check vm_hugepages_1g_meminfo_back "$(meminfo Hugetlb)" "$H0"
  fi
fi
echo "$P passed, $F failed"
[ $F = 0 ]
