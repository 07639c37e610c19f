#!/bin/bash
# Huge pages under fragmentation, on a real kernel: boots a QEMU guest (tests/vm/rig.sh) of
# HOOKD_VM_MEM (default 8G) with a sparse virtio disk whose reads fill the page cache, fragments
# its memory with page cache and anonymous memory (frag.c), and times three ways to get 2M and 1G
# pages (guest-hugepages-frag.sh). Prints figures; not a test.
#   usage: hugepages-frag.sh FRAG HOOKD HOOK HOOKD_APPLY   (cmake --build build --target bench-hugepages)
# Environment: PAGES_2M (default 2048), PAGES_1G (4), FRAG_PERCENT (85), FRAG_CHUNK_KIB (1024).
set -euo pipefail
frag=$1 hookd=$2 hook=$3 apply=$4
here=$(cd "$(dirname "$0")" && pwd)
w=$(mktemp -d); trap 'rm -rf "$w"' EXIT
truncate -s 8G "$w/disk.raw"
export HOOKD_VM_MEM=${HOOKD_VM_MEM:-8G} HOOKD_VM_EXTRA_MODULES="virtio_blk virtio_pci"
export HOOKD_VM_QEMU_EXTRA="-drive file=$w/disk.raw,format=raw,if=none,id=d0,cache=unsafe -device virtio-blk-pci,drive=d0,bus=pcie.0,addr=0x6"
env_args=()
for v in PAGES_2M PAGES_1G FRAG_PERCENT FRAG_CHUNK_KIB; do [ -n "${!v:-}" ] && env_args+=(--env "$v=${!v}"); done
"$here/../tests/vm/rig.sh" --test "$here/guest-hugepages-frag.sh" --work "$w/work" --timeout 1500 \
  --bin "$hookd:/usr/sbin/hookd" --bin "$hook:/usr/sbin/hookd-qemu" --bin "$apply:/usr/sbin/hookd-apply" \
  --bin "$frag:/usr/local/bin/frag" --file "$here/../tests/vm/guest-lib.sh:/hookd-test/lib.sh" \
  ${env_args[@]+"${env_args[@]}"} 2>&1 | grep -e '^@@B' -e 'INFO' -e 'RESULT' -e TIMING | sed 's/^@@B //'
