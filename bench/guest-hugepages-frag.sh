#!/bin/sh
# Guest side of bench/hugepages-frag.sh (runs inside the QEMU guest, as root): for 2M and 1G pages,
# three ways to get huge pages out of memory fragmented by page cache and anonymous memory, each
# from the same fragmented start (bench/frag.c): hookd's [hugepages] prepare, a naive single write
# to nr_hugepages, and the guides' loop (sync; drop_caches; compact_memory; write; up to 10 times).
# Prints "@@B" lines: size method asked got seconds. Not a test: figures only.
. /hookd-test/lib.sh
T=/tmp/bench
mkdir -p $T
write_conf /etc/hookd/hookd.conf $T/hookd.log 120
modprobe virtio_blk
i=0; while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
mi() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" /proc/meminfo; }
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a=$1 -v b=$(now) 'BEGIN{printf "%.2f", b-a}'; }
TOTAL_MB=$(( $(mi MemTotal) / 1024 * ${FRAG_PERCENT:-85} / 100 ))
info "kernel $(uname -r) MemTotal $(mi MemTotal) kB; fragmenting ${TOTAL_MB} MiB in ${FRAG_CHUNK_KIB:-1024} KiB chunks"

fragment() {
  rm -f $T/frag.out   # else the wait below can read the previous run's "ready" before the shell truncates it
  frag /dev/vda $TOTAL_MB ${FRAG_CHUNK_KIB:-1024} >$T/frag.out &
  FPID=$!
  while ! grep -q ready $T/frag.out 2>/dev/null; do sleep 0.5; done
  info "fragmented: $(cat $T/frag.out); MemFree $(mi MemFree) kB, Buffers (the disk's cache) $(mi Buffers) kB, Cached $(mi Cached) kB, AnonPages $(mi AnonPages) kB; buddyinfo Normal: $(grep Normal /proc/buddyinfo | tr -s ' ' | cut -d' ' -f5-)"
}
unfragment() { kill $FPID; wait $FPID 2>/dev/null; echo 3 >/proc/sys/vm/drop_caches; }
pool() { cat /sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages; }

for size in 2M 1G; do
  case $size in 2M) kb=2048 n=${PAGES_2M:-2048} ;; 1G) kb=1048576 n=${PAGES_1G:-4} ;; esac
  [ -d /sys/kernel/mm/hugepages/hugepages-${kb}kB ] || { info "no $size pages in this guest"; continue; }
  # naive: one write, whatever the kernel gives
  fragment; t=$(now)
  echo $n >/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages
  echo "@@B $size naive-write asked=$n got=$(pool $kb) seconds=$(since $t)"
  echo 0 >/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages; unfragment
  # guides: sync, drop caches, compact, write; again until the count is reached (10 tries)
  fragment; t=$(now); k=0
  while [ $k -lt 10 ] && [ "$(pool $kb)" -lt $n ]; do
    sync; echo 3 >/proc/sys/vm/drop_caches; echo 1 >/proc/sys/vm/compact_memory
    echo $n >/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages; k=$((k+1))
  done
  echo "@@B $size drop-compact-loop asked=$n got=$(pool $kb) seconds=$(since $t) tries=$k"
  echo 0 >/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages; unfragment
  # hookd: [hugepages] prepare (drops caches, compacts, allocates; all or nothing), then release
  printf '[hugepages]\nsize = %s\npages = %s\nnode = any\n' $size $n >/etc/hookd/hooks.d/hpbench.ini
  chmod 0644 /etc/hookd/hooks.d/hpbench.ini
  cat >$T/dom.xml <<XML
<domain type='kvm'><name>hpbench</name><uuid>4a0f7e0c-0000-4000-8000-0000000000be</uuid>
<memory unit='KiB'>$((n * kb))</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>
XML
  fragment; t=$(now)
  $CLI --conf /etc/hookd/hookd.conf run hpbench prepare --xml $T/dom.xml >$T/out 2>$T/err; rc=$?
  echo "@@B $size hookd asked=$n got=$(pool $kb) seconds=$(since $t) exit=$rc"
  [ $rc = 0 ] || show $T/err
  $CLI --conf /etc/hookd/hookd.conf run hpbench release --xml $T/dom.xml >/dev/null 2>&1; unfragment
done
echo "0 passed, 0 failed"
