#!/bin/bash
# Hook start-up cost, measured as libvirtd pays it. The configured VM uses a simulated root whose
# GPU is already on vfio-pci, so the figure is hookd's own cost (parse, plan, journal, lock) with
# no kernel work in it. The journal is on tmpfs, as /run is in production. usage: run.sh BENCH_HOOK BARE HOOK SIM_MKROOT [N]
set -euo pipefail
bench=$1 bare=$2 hook=$3 mkroot=$4 n=${5:-300}
w=$(mktemp -d); trap 'rm -rf "$w" /dev/shm/hookd-bench.$$' EXIT
"$mkroot" "$w/root" >/dev/null
mkdir -p "$w/hooks.d"
cat >"$w/hookd.conf" <<CONF
root = $w/root
hooks_dir = $w/hooks.d
state_dir = /dev/shm/hookd-bench.$$
log = none
CONF
printf '[vfio]\ndevices = 0000:05:00.0\ncompanions = yes\n' >"$w/hooks.d/bench.ini"
cat >"$w/dom.xml" <<XML
<domain type='kvm'><name>bench</name><uuid>00000000-0000-4000-8000-000000000001</uuid>
<memory unit='GiB'>8</memory><vcpu>4</vcpu><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
XML
echo "hookd hook benchmark ($(nproc) CPUs, $(uname -r))"
"$bench" "$n" "$w/dom.xml" "$bare" "$hook" "$w/hookd.conf" bench
