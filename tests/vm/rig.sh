#!/usr/bin/env bash
# rig.sh - boot a throwaway QEMU guest (Debian kernel, busybox initramfs) with a GPU-like
# multifunction device behind a PCIe root port, run a guest test against its real /sys,
# and report the result. Nothing here touches the host's /sys, drivers or modules.
#
#   rig.sh --test FILE [--bin PATH[:GUESTPATH]]... [--file SRC:GUESTPATH]... [options]
#
# Guest hardware (q35, intel-iommu intremap=on):
#   00:1c.0 root port -> 01:00.0 VGA (bochs-drm) + 01:00.1 ich9-intel-hda (snd_hda_intel)
#   00:1c.1 root port -> 02:00.0 e1000e
# Options:
#   --test FILE       guest test (shell script run by dash as /hookd-test/test)
#   --bin P[:G]       executable + its ldd libraries; G defaults to /usr/local/bin/<name>
#   --file S:G        plain file copied to guest path G
#   --env K=V         line put into /hookd-test/env (the test may source it)
#   --stage FILE      bash file sourced while the initramfs is staged (after --bin/--file), with
#                     $STAGE (the guest's root) and put_bin SRC DEST (an executable + its ldd libs)
#   --append STR      more guest kernel command line (the guest test reads /proc/cmdline)
#   --require NAME    pass only if the guest printed "@@T PASS NAME" (repeatable)
#   --work DIR        where the initramfs and serial log go (default $CACHE/work)
#   --timeout SEC     host-side wall-clock limit for QEMU (default 300)
#   --accel A         auto (default: kvm if really usable, else tcg) | kvm | tcg
#   --no-install      never apt-get install missing host tools
# Environment: HOOKD_VM_CACHE (default ~/.cache/hookd-vm: kernel .deb + extracted tree),
#   HOOKD_VM_KERNEL (linux-image-* package, exact or a meta package such as
#   linux-image-6.12-amd64; default linux-image-amd64, bookworm's 6.1),
#   HOOKD_VM_ACCEL, HOOKD_VM_CPU (-cpu model under TCG, default max), HOOKD_VM_TIMEOUT, HOOKD_VM_MEM (default 1G), HOOKD_VM_SMP (default 2, or a
#   full -smp spec like 4,sockets=1,cores=2,threads=2), HOOKD_VM_NUMA (N: the vCPUs and memory
#   split evenly into N -numa nodes), HOOKD_VM_FIRMWARE (bios, the default: SeaBIOS | ovmf:
#   UEFI, so /sys/firmware/efi, efi-framebuffer.0 and fbcon are real), HOOKD_VM_APPEND (extra
#   kernel command line, e.g. modprobe.blacklist=bochs: coldplug honours modprobe's blacklist),
#   HOOKD_VM_EXTRA_MODULES (more modules in the initramfs), HOOKD_VM_QEMU_EXTRA (more QEMU
#   arguments, split on blanks: a -drive for bench/hugepages-frag.sh), HOOKD_VM_IOMMU (on, the
#   default | off: no intel-iommu device, so no DMAR table, as on a host whose firmware has VT-d
#   disabled; the kernel command line still says intel_iommu=on).
# Exit: 0 pass; 1 guest test failed; 2 no result from the guest; 3 timeout; 4 host setup error.
set -euo pipefail

CACHE=${HOOKD_VM_CACHE:-${HOME:-/root}/.cache/hookd-vm}
ACCEL=${HOOKD_VM_ACCEL:-auto}
TIMEOUT=${HOOKD_VM_TIMEOUT:-300}
MEM=${HOOKD_VM_MEM:-1G}
SMP=${HOOKD_VM_SMP:-2}
NUMA=${HOOKD_VM_NUMA:-0}
FIRMWARE=${HOOKD_VM_FIRMWARE:-bios}
APPEND=${HOOKD_VM_APPEND:-}
IOMMU=${HOOKD_VM_IOMMU:-on}
INSTALL=1
WORK=""
TEST=""
REQUIRE=()
BINS=()
FILES=()
ENVS=()
STAGES=()
# Modules the guest may load; their dependency closure (softdeps included) is added.
MODULES="vfio vfio_pci vfio_pci_core vfio_iommu_type1 iommufd irqbypass pci_stub \
bochs snd_hda_intel snd_hda_codec_generic e1000e ${HOOKD_VM_EXTRA_MODULES:-}"

log() { printf '[vm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 4; }

while [ $# -gt 0 ]; do
  case "$1" in
    --test) TEST=$2; shift 2 ;;
    --bin) BINS+=("$2"); shift 2 ;;
    --file) FILES+=("$2"); shift 2 ;;
    --env) ENVS+=("$2"); shift 2 ;;
    --stage) STAGES+=("$2"); shift 2 ;;
    --append) APPEND="$APPEND $2"; shift 2 ;;
    --require) REQUIRE+=("$2"); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --accel) ACCEL=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
[ -n "$TEST" ] && [ -f "$TEST" ] || die "--test FILE is required"
WORK=${WORK:-$CACHE/work}
mkdir -p "$CACHE/debs" "$CACHE/kernel" "$WORK"

# ------------------------------------------------------------------ host tools
host_tools() {
  local missing="" p
  for p in qemu-system-x86 busybox-static cpio kmod $([ "$FIRMWARE" = ovmf ] && echo ovmf); do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  [ "$INSTALL" = 1 ] || die "missing host packages:$missing (rerun without --no-install)"
  [ "$(id -u)" = 0 ] || die "missing host packages:$missing (need root to apt-get install)"
  log "apt-get install$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# ------------------------------------------------------------------ kernel
# Sets KROOT (extracted package), KVER, VMLINUZ. Reuses the cache; works offline once cached.
fetch_kernel() {
  local meta=${HOOKD_VM_KERNEL:-linux-image-amd64} pkg deb
  # a meta package (linux-image-amd64, linux-image-6.12-amd64) names the current exact one
  pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -z "$pkg" ] && ! apt-cache show "$meta" >/dev/null 2>&1; then   # no package lists yet
    [ "$(id -u)" = 0 ] && apt-get update -qq || true
    pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  fi
  if [ -z "$pkg" ] && apt-cache show "$meta" >/dev/null 2>&1; then pkg=$meta; fi  # an exact one
  if [ -z "$pkg" ]; then   # offline: the newest cached kernel of that series
    case "$meta" in
      linux-image-amd64) pkg=$(ls "$CACHE/kernel" 2>/dev/null | grep '^linux-image-6\.1\.' | sort -V | tail -1) ;;
      *) pkg=$(ls "$CACHE/kernel" 2>/dev/null | grep "^${meta%-amd64}" | sort -V | tail -1) ;;
    esac
  fi
  [ -n "$pkg" ] || die "cannot resolve a linux-image package (apt lists missing, nothing cached)"
  KROOT=$CACHE/kernel/$pkg
  exec 9>"$CACHE/.lock"; flock 9            # one download/extract at a time
  if [ ! -f "$KROOT/.ready" ]; then
    deb=$(ls "$CACHE/debs/${pkg}"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
      log "apt-get download $pkg -> $CACHE/debs"
      (cd "$CACHE/debs" && apt-get download "$pkg" 2>&1 | grep -v -e unsandboxed -e '^Get:' -e '^Fetched' >&2) || true
      deb=$(ls "$CACHE/debs/${pkg}"_*.deb 2>/dev/null | head -1 || true)
      [ -n "$deb" ] || die "apt-get download $pkg failed"
    fi
    rm -rf "$KROOT"; mkdir -p "$KROOT"
    dpkg-deb -x "$deb" "$KROOT"
    KVER=$(ls "$KROOT/lib/modules" | head -1)
    depmod -b "$KROOT" "$KVER"
    touch "$KROOT/.ready"
  fi
  flock -u 9
  KVER=$(ls "$KROOT/lib/modules" | head -1)
  VMLINUZ=$KROOT/boot/vmlinuz-$KVER
  [ -f "$VMLINUZ" ] || die "no $VMLINUZ in $pkg"
}

# ------------------------------------------------------------------ initramfs
# put_bin SRC DEST: an executable (or a shared object) and the libraries ldd reports (interpreter included).
put_bin() {
  local src=$1 dst=$2 lib
  [ -f "$src" ] || die "no such file: $src"   # executables and dlopen()ed .so files alike
  mkdir -p "$STAGE$(dirname "$dst")"
  # never write through a link in the stage: the busybox applet links are absolute (/bin/busybox)
  # and, followed on this machine, would overwrite its own /bin/busybox
  rm -f "$STAGE$dst"
  cp -L "$src" "$STAGE$dst"
  for lib in $(ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^[ \t]*\//{print $1}'); do
    [ -e "$STAGE$lib" ] || [ -L "$STAGE$lib" ] && continue
    mkdir -p "$STAGE$(dirname "$lib")"
    cp -L "$lib" "$STAGE$lib"
  done
}

put_modules() {
  local m out f n=0
  for m in $MODULES; do
    if ! out=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null) || [ -z "$out" ]; then
      log "note: module $m not in $KVER, skipped"; continue
    fi
    while read -r _ f _; do
      case "$f" in /*.ko*) f=${f#$KROOT}; mkdir -p "$STAGE$(dirname "$f")"
                           [ -e "$STAGE$f" ] || { cp "$KROOT$f" "$STAGE$f"; n=$((n+1)); } ;; esac
    done <<<"$(grep '^insmod ' <<<"$out")"
  done
  cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$STAGE/lib/modules/$KVER/" 2>/dev/null || true
  depmod -b "$STAGE" "$KVER"
  log "initramfs: $n module files"
}

write_init() {
  cat >"$STAGE/init" <<'EOF'
#!/bin/sh
# PID 1: mount the pseudo filesystems, load drivers the way udev would (modalias), run the
# test, print its exit code on the serial console, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
echo /sbin/modprobe >/proc/sys/kernel/modprobe
echo "@@VM:INIT uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
# coldplug: every PCI device's modalias; vfio-pci has no such alias, so it stays unloaded
# (-b as udev does: modprobe.blacklist= on the kernel command line keeps a driver out)
for d in /sys/bus/pci/devices/*; do modprobe -q -b "$(cat "$d/modalias")"; done
sleep 1   # snd_hda_intel and drm probe asynchronously
tmo=$(sed -n 's/.*hookd_vm.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
cd /hookd-test
timeout -s KILL "${tmo:-240}" /hookd-test/test; rc=$?
echo "@@VM:RESULT rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
echo o >/proc/sysrq-trigger
EOF
  chmod 755 "$STAGE/init"
}

build_initramfs() {
  STAGE=$WORK/stage
  rm -rf "$STAGE"
  mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,run,tmp,etc/modprobe.d,root,hookd-test,lib/modules/$KVER}
  cp /bin/busybox "$STAGE/bin/busybox"
  local a x
  for a in $(/bin/busybox --list-full); do
    [ -e "$STAGE/$a" ] || ln -s /bin/busybox "$STAGE/$a"
  done
  # an empty applet list (busybox failed to run: a fork refused on a loaded host) boots a guest
  # whose /init finds no mount, cut or poweroff: say so here instead
  [ -L "$STAGE/bin/mount" ] || die "busybox --list-full gave no applets"
  # Debian's static busybox ash prefers its own applets (its "modprobe" ignores softdeps):
  # /bin/sh is dash and modprobe & co. are real kmod, so libkmod and the shell agree.
  rm -f "$STAGE/bin/sh"
  put_bin "$(readlink -f /bin/dash)" /bin/sh
  put_bin /usr/bin/kmod /bin/kmod
  for a in modprobe insmod rmmod lsmod modinfo depmod; do
    rm -f "$STAGE/sbin/$a" "$STAGE/bin/$a"; ln -s /bin/kmod "$STAGE/sbin/$a"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$STAGE/etc/passwd"
  echo 'root:x:0:' >"$STAGE/etc/group"
  [ "$(id -u)" = 0 ] && mknod -m 600 "$STAGE/dev/console" c 5 1
  put_modules
  write_init
  cp "$TEST" "$STAGE/hookd-test/test"; chmod 755 "$STAGE/hookd-test/test"
  for x in ${ENVS[@]+"${ENVS[@]}"}; do printf '%s=%q\n' "${x%%=*}" "${x#*=}"; done >"$STAGE/hookd-test/env"
  for x in ${BINS[@]+"${BINS[@]}"}; do
    case "$x" in *:*) put_bin "${x%%:*}" "${x#*:}" ;; *) put_bin "$x" "/usr/local/bin/$(basename "$x")" ;; esac
  done
  for x in ${FILES[@]+"${FILES[@]}"}; do
    [ -e "${x%%:*}" ] || die "no such file: ${x%%:*}"
    mkdir -p "$STAGE$(dirname "${x#*:}")"; rm -f "$STAGE${x#*:}"; cp -L "${x%%:*}" "$STAGE${x#*:}"
  done
  for x in ${STAGES[@]+"${STAGES[@]}"}; do
    # shellcheck source=/dev/null
    . "$x" || die "staging $x failed"
  done
  INITRD=$WORK/initrd.cpio.gz
  (cd "$STAGE" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -1 >"$INITRD"
  rm -rf "$STAGE"
  log "initramfs $(du -h "$INITRD" | cut -f1), kernel $KVER"
}

# ------------------------------------------------------------------ QEMU
QPID=""
cleanup() {
  if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
    kill -TERM "$QPID" 2>/dev/null; sleep 1; kill -KILL "$QPID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# KVM only when it can run a stock kernel: kvm_pvm (no VT-x/AMD-V underneath) cannot.
kvm_usable() {
  [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
  if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ]; then
    log "/dev/kvm is kvm_pvm: stock kernels do not boot on it"; return 1
  fi
  echo quit | timeout 20 qemu-system-x86_64 -accel kvm -M q35 -cpu host,-arch-capabilities \
    -nodefaults -display none -monitor stdio -S >/dev/null 2>&1
}

# numa_args: HOOKD_VM_NUMA=N splits the vCPUs and RAM evenly into N nodes (sets numa[]).
numa_args() {
  [ "$NUMA" -gt 1 ] 2>/dev/null || return 0
  local cpus=${SMP%%,*} mb i per
  mb=$(numfmt --from=iec "${MEM}" 2>/dev/null); mb=$(( ${mb:-1073741824} / 1048576 / NUMA ))
  per=$(( cpus / NUMA ))
  for ((i = 0; i < NUMA; i++)); do
    numa+=(-object "memory-backend-ram,id=m$i,size=${mb}M"
           -numa "node,nodeid=$i,memdev=m$i,cpus=$((i * per))-$((i * per + per - 1))")
  done
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }

# boot ACCEL [INIT_DEADLINE]: 0 result seen, 3 timeout, 5 no @@VM:INIT before the deadline
boot() {
  local accel=$1 init_deadline=${2:-0} cpu acc kargs=
  case "$accel" in
    kvm) cpu=host,-arch-capabilities; acc=kvm ;;
    # TCG's timer is too slow for the kernel's IO-APIC check: 6.12 (and 6.1 on a loaded host)
    # panics "timer doesn't work through Interrupt-remapped IO-APIC" without no_timer_check
    tcg) cpu=${HOOKD_VM_CPU:-max}; acc=tcg,thread=multi; kargs="no_timer_check" ;;
    *) die "bad accel $accel" ;;
  esac
  LOG=$WORK/serial-$accel.log
  : >"$LOG"
  local fw=() numa=() iommu=(-device intel-iommu,intremap=on)
  [ "$IOMMU" = off ] && iommu=()
  if [ "$FIRMWARE" = ovmf ]; then   # UEFI: OVMF boots -kernel itself and hands its GOP to efifb
    cp /usr/share/OVMF/OVMF_VARS_4M.fd "$WORK/ovmf-vars.fd"
    fw=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
        -drive if=pflash,format=raw,file="$WORK/ovmf-vars.fd")
  fi
  numa_args
  local cmd=(qemu-system-x86_64 -accel "$acc" -M q35,kernel-irqchip=split -cpu "$cpu"
    -m "$MEM" -smp "$SMP" -no-user-config -nodefaults -display none -monitor none
    -chardev "file,id=ser0,path=$LOG" -serial chardev:ser0
    "${fw[@]}" "${numa[@]}"
    -audiodev none,id=noaudio
    "${iommu[@]}"
    -device pcie-root-port,id=rp1,bus=pcie.0,addr=0x1c.0,chassis=1,slot=1,multifunction=on
    -device VGA,id=gpu,bus=rp1,addr=0x0.0,multifunction=on
    -device ich9-intel-hda,id=gpuaudio,bus=rp1,addr=0x0.1
    -device hda-duplex,bus=gpuaudio.0,audiodev=noaudio
    -device pcie-root-port,id=rp2,bus=pcie.0,addr=0x1c.1,chassis=2,slot=2
    -device e1000e,id=nic,bus=rp2,addr=0x0
    ${HOOKD_VM_QEMU_EXTRA:-}
    -kernel "$VMLINUZ" -initrd "$INITRD" -no-reboot
    -append "console=ttyS0,115200 intel_iommu=on iommu=pt panic=-1 loglevel=4 hookd_vm.timeout=$((TIMEOUT > 60 ? TIMEOUT - 30 : TIMEOUT / 2)) $kargs $APPEND")
  echo "${cmd[*]}" >"$LOG.cmd"
  log "boot accel=$accel firmware=$FIRMWARE kernel=$KVER mem=$MEM smp=$SMP numa=$NUMA timeout=${TIMEOUT}s serial=$LOG"
  T0=$(date +%s.%N); T_INIT=""; T_RES=""
  local pre=()
  setpriv --help 2>/dev/null | grep -q pdeathsig && pre=(setpriv --pdeathsig KILL --)
  "${pre[@]}" "${cmd[@]}" </dev/null >"$LOG.qemu" 2>&1 &
  QPID=$!
  local now end; end=$(( ${T0%.*} + TIMEOUT ))
  while kill -0 "$QPID" 2>/dev/null; do
    now=$(date +%s.%N)
    [ -z "$T_INIT" ] && grep -qa '@@VM:INIT' "$LOG" && T_INIT=$now
    [ -z "$T_RES" ] && grep -qa '@@VM:RESULT' "$LOG" && T_RES=$now
    if { [ "$init_deadline" -gt 0 ] && [ -z "$T_INIT" ] && [ $(( ${now%.*} - ${T0%.*} )) -ge "$init_deadline" ]; } ||
       [ "${now%.*}" -ge "$end" ]; then
      log "killing QEMU (pid $QPID) after $(secs "$T0" "$now")s: $([ -z "$T_INIT" ] && echo 'guest never reached /init' || echo 'host-side timeout')"
      kill -TERM "$QPID" 2>/dev/null; sleep 2; kill -KILL "$QPID" 2>/dev/null || true
      wait "$QPID" 2>/dev/null || true; QPID=""
      sed 's/^/  qemu: /' "$LOG.qemu" >&2
      [ -z "$T_INIT" ] && [ "$init_deadline" -gt 0 ] && return 5
      return 3
    fi
    sleep 0.2
  done
  wait "$QPID" 2>/dev/null || true; QPID=""
  T1=$(date +%s.%N)
  [ -z "$T_INIT" ] && grep -qa '@@VM:INIT' "$LOG" && T_INIT=$T1
  [ -z "$T_RES" ] && grep -qa '@@VM:RESULT' "$LOG" && T_RES=$T1
  grep -v 'has no peer' "$LOG.qemu" | sed 's/^/  qemu: /' >&2 || true
  local up_init up_res
  up_init=$(sed -n 's/.*@@VM:INIT uptime=\([0-9.]*\).*/\1/p' "$LOG" | head -1)
  up_res=$(sed -n 's/.*@@VM:RESULT rc=[0-9]* uptime=\([0-9.]*\).*/\1/p' "$LOG" | head -1)
  log "TIMING accel=$accel: qemu start -> /init $([ -n "$T_INIT" ] && secs "$T0" "$T_INIT" || echo NA)s," \
      "-> result $([ -n "$T_RES" ] && secs "$T0" "$T_RES" || echo NA)s, total wall $(secs "$T0" "$T1")s" \
      "(guest uptime at /init ${up_init:-NA}s, at result ${up_res:-NA}s)"
  return 0
}

# ------------------------------------------------------------------ main
host_tools
for t in qemu-system-x86_64 cpio depmod dpkg-deb ldd; do command -v $t >/dev/null || die "missing $t"; done
[ -x /bin/busybox ] || die "missing /bin/busybox (busybox-static)"
t=$(date +%s.%N)
fetch_kernel
build_initramfs
log "prepared in $(secs "$t" "$(date +%s.%N)")s"

set +e
rc=5
case "$ACCEL" in
  auto) if kvm_usable; then boot kvm 60; rc=$?; fi
        if [ $rc = 5 ]; then log "using TCG"; boot tcg; rc=$?; fi ;;
  kvm)  boot kvm 60; rc=$? ;;
  tcg)  boot tcg; rc=$? ;;
  *)    die "bad --accel $ACCEL" ;;
esac
# A kernel that panics before /init ran no test at all (6.12 under TCG did, once in ~10 boots,
# "Fatal exception in interrupt" at 1.3 s): that boot is kept as $LOG.panic and done once more.
if [ $rc = 0 ] && ! grep -qa '@@VM:INIT' "$LOG" && grep -qa 'Kernel panic' "$LOG"; then
  log "the guest kernel panicked before /init: $(grep -a -m1 'Kernel panic' "$LOG" | tr -d '\r'); booting once more"
  mv "$LOG" "$LOG.panic"
  case "$LOG" in *-kvm.log) boot kvm 60; rc=$? ;; *) boot tcg; rc=$? ;; esac
fi
set -e
# the guest's own lines, without the kernel's noise
grep -a -e '^@@' -e '^[0-9]* passed, [0-9]* failed' "$LOG" | tr -d '\r' | grep -v '^@@VM:INIT' || true
[ $rc = 5 ] && { log "RESULT: guest never booted"; tail -n 20 "$LOG" >&2; exit 2; }
[ $rc = 3 ] && { log "RESULT: TIMEOUT"; tail -n 20 "$LOG" >&2; exit 3; }
res=$(grep -a -o '@@VM:RESULT rc=[0-9]*' "$LOG" | head -1)
if [ -z "$res" ]; then log "RESULT: no result from the guest (boot or /init failure)"; tail -n 30 "$LOG" >&2; exit 2; fi
summary=$(grep -a -o '^[0-9]* passed, [0-9]* failed' "$LOG" | tail -1)
nfail=$(echo "$summary" | awk '{print $3}')
if [ "${res##*=}" != 0 ] || [ "${nfail:-1}" != 0 ]; then
  log "RESULT: FAIL (guest rc=${res##*=}, summary '${summary:-none}')"; exit 1
fi
for t in ${REQUIRE[@]+"${REQUIRE[@]}"}; do
  grep -aq "^@@T PASS $t\b" "$LOG" || { log "RESULT: FAIL (required test $t did not pass)"; exit 1; }
done
log "RESULT: PASS ($summary)"
