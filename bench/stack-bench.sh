# bench/stack-bench.sh - sourced by tests/stack/guest-stack.sh when the guest boots with
# stack.bench=N (cmake --build build --target bench-stack). Prints figures, asserts nothing timed.
# Same guest, same libvirtd under its stock AppArmor profile, same managed='no' GPU domain; N
# start/destroy cycles each with:
#   hookd       /etc/libvirt/hooks/qemu -> /usr/sbin/hookd-qemu, [vfio] devices = auto, companions = yes
#   dispatcher  /etc/libvirt/hooks/qemu = a PassthroughPOST-style bash dispatcher running
#               qemu.d/gpuvm/prepare/begin/*.sh and release/end/*.sh, which do the same vfio steps
#               (modprobe, driver_override, unbind, drivers_probe) the way users' scripts do
# Figures: `virsh start` wall time (until it returns: the domain runs) and `virsh destroy` until
# both GPU functions are back on their host drivers.

bench_dispatcher() {
  mkdir -p /etc/libvirt/hooks/qemu.d/gpuvm/prepare/begin /etc/libvirt/hooks/qemu.d/gpuvm/release/end
  cat >/etc/libvirt/hooks/qemu.bench-dispatcher <<'EOF'
#!/bin/bash
# the common dispatcher: every executable under qemu.d/<vm>/<op>/<subop>/ runs, with the same argv
GUEST_NAME="$1" HOOK_NAME="$2" STATE_NAME="$3"
BASEDIR="$(dirname "$0")"
HOOKPATH="$BASEDIR/qemu.d/$GUEST_NAME/$HOOK_NAME/$STATE_NAME"
set -e
if [ -f "$HOOKPATH" ]; then
  eval \""$HOOKPATH"\" "$@"
elif [ -d "$HOOKPATH" ]; then
  while read -r file; do
    eval \""$file"\" "$@"
  done <<< "$(find -L "$HOOKPATH" -maxdepth 1 -type f -executable -print;)"
fi
EOF
  cat >/etc/libvirt/hooks/qemu.d/gpuvm/prepare/begin/10-vfio.sh <<'EOF'
#!/bin/bash
set -e
modprobe vfio-pci
modprobe vfio_iommu_type1
for d in 0000:01:00.0 0000:01:00.1; do
  echo vfio-pci > /sys/bus/pci/devices/$d/driver_override
  [ -e /sys/bus/pci/devices/$d/driver ] && echo $d > /sys/bus/pci/devices/$d/driver/unbind
  echo $d > /sys/bus/pci/drivers_probe
done
EOF
  cat >/etc/libvirt/hooks/qemu.d/gpuvm/release/end/10-vfio.sh <<'EOF'
#!/bin/bash
for d in 0000:01:00.0 0000:01:00.1; do
  echo > /sys/bus/pci/devices/$d/driver_override
  [ -e /sys/bus/pci/devices/$d/driver ] && echo $d > /sys/bus/pci/devices/$d/driver/unbind
  echo $d > /sys/bus/pci/drivers_probe
done
EOF
  chmod 0755 /etc/libvirt/hooks/qemu.bench-dispatcher /etc/libvirt/hooks/qemu.d/gpuvm/*/*/*.sh
}

# bench_run KIND N: N cycles; prints one line per cycle and the medians
bench_run() {
  local kind=$1 n=$2 i=1 starts="" destroys=""
  while [ $i -le "$n" ]; do
    start gpuvm
    if [ $RC != 0 ] || [ "$(drv $GPU)" != vfio-pci ]; then
      fail "bench $kind cycle $i: start rc=$RC $(echo "$OUT" | tail -n 1)"; diag gpuvm; return
    fi
    s=$DT
    destroy gpuvm
    on_host || { fail "bench $kind cycle $i: GPU not back ($(drv $GPU)/$(drv $AUD))"; return; }
    info "BENCH $kind cycle $i: virsh start ${s} ms, virsh destroy -> GPU on host ${DT} ms"
    starts="$starts $s" destroys="$destroys $DT"
    i=$((i + 1))
  done
  info "BENCH $kind: median of $n: virsh start $(med $starts) ms, destroy -> GPU on host $(med $destroys) ms (starts:$starts; destroys:$destroys)"
  pass "bench_$kind: $n cycles"
}

# bench_hook_alone KIND N: the hook by itself, called as libvirtd calls it (env LC_ALL, PATH, HOME
# only; the inactive XML on stdin), prepare then release, N times: what the hook adds to a start
# and to a stop, without libvirt's own ~20-30 s of TCG start-up around it
bench_hook_alone() {
  local kind=$1 n=$2 i=1 t p r ps="" rs=""
  while [ $i -le "$n" ]; do
    t=$(ms); env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ /etc/libvirt/hooks/qemu gpuvm prepare begin - <$T/gpuvm.xml
    p=$(( $(ms) - t ))
    [ "$(drv $GPU)" = vfio-pci ] || { fail "bench $kind hook alone: prepare left $GPU on $(drv $GPU)"; return; }
    t=$(ms); env -i LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ /etc/libvirt/hooks/qemu gpuvm release end - <$T/gpuvm.xml
    r=$(( $(ms) - t ))
    on_host || { fail "bench $kind hook alone: release left $(drv $GPU)/$(drv $AUD)"; return; }
    ps="$ps $p" rs="$rs $r"; i=$((i + 1))
  done
  info "BENCH $kind hook alone: median of $n: prepare $(med $ps) ms, release $(med $rs) ms (prepare:$ps; release:$rs)"
}
med() { echo $* | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

domain gpuvm 6c2f6a43-6f0e-4c5b-9d55-000000000501 no
ini gpuvm '[vfio]\ndevices = auto\ncompanions = yes\n'
bench_run hookd "$BENCH"
bench_hook_alone hookd $((BENCH * 3))
rm -f /etc/hookd/hooks.d/gpuvm.ini
bench_dispatcher
ln -sfn /etc/libvirt/hooks/qemu.bench-dispatcher /etc/libvirt/hooks/qemu
bench_run dispatcher "$BENCH"
bench_hook_alone dispatcher $((BENCH * 3))
ln -sfn /usr/sbin/hookd-qemu /etc/libvirt/hooks/qemu
